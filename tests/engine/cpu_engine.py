"""How the engine tier turns the chart's rendered engine container into a vLLM process on this CPU.

Everything rendered is kept except what `cpu_args` drops and the few substitutions `engine_command`
and `engine_env` document; tests/engine/test_real_engine.py tests the rule itself too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from vllm_models.local.processes import Proc


# Rendered flags vLLM's CPU backend rejects or cannot honour, each with why. Decided by what vllm-cpu
# 0.32.0 does, not by guess:
# - --kv-cache-dtype=fp8*: v1/attention/backends/cpu_attn.py raises "FP8 KV cache on CPU requires x86
#   with AVX-512 or AMX." (this host and most CI runners: AVX2 only).
# - --tensor-parallel-size / --pipeline-parallel-size above 1: one CPU rank per GPU the chart sizes the
#   pod for; the tier has 2 cores. Size 1 is kept (it is what vLLM CPU runs anyway, and proves the flag).
# --gpu-memory-utilization is kept: vLLM CPU accepts it at start (it sizes the KV cache by
# VLLM_CPU_KVCACHE_SPACE instead).
def _drop(flag: str, value: str | None) -> str | None:
    if flag == "--kv-cache-dtype" and value is not None and value.startswith("fp8"):
        return "FP8 KV cache needs AVX-512 or AMX on CPU"
    if flag in ("--tensor-parallel-size", "--pipeline-parallel-size") and value not in (None, "1"):
        return "more than one rank: one CPU rank per GPU"
    return None


def cpu_args(args: list[str]) -> tuple[list[str], list[str]]:
    """(args for the CPU engine, the dropped flags with why). `--flag=value` and `--flag value` both."""
    kept, dropped, i = [], [], 0
    while i < len(args):
        a = args[i]
        if a.startswith("--") and "=" in a:
            flag, value, width = *a.split("=", 1), 1
        elif a.startswith("--") and i + 1 < len(args) and not args[i + 1].startswith("--"):
            flag, value, width = a, args[i + 1], 2
        else:
            flag, value, width = a, None, 1
        why = _drop(flag, value) if flag.startswith("--") else None
        if why:
            dropped.append(f"{' '.join(args[i : i + width])}: {why}")
        else:
            kept += args[i : i + width]
        i += width
    return kept, dropped


def engine_command(command: list[str], python: str) -> list[str]:
    """The rendered command run by the engine venv's python.

    `vllm` is the image's console script, i.e. vllm.entrypoints.cli.main; the venv's own console scripts
    hard-code the temp dir it was built in (hack/engine-venv), so the module is run instead.
    """
    if command[:1] == ["vllm"]:
        return [python, "-m", "vllm.entrypoints.cli.main", *command[1:]]
    if command[:2] in (["python3", "-m"], ["python", "-m"]):
        return [python, *command[1:]]
    raise ValueError(f"unknown engine command {command}")


# What the CPU engine needs beyond the rendered environment, each with why.
CPU_ENV = {
    # pick vLLM's CPU platform (PyPI's torch is a CUDA build, with stub CUDA libraries)
    "VLLM_TARGET_DEVICE": "cpu",
    "VLLM_CPU_KVCACHE_SPACE": "1",  # GiB of KV cache; vLLM CPU's own default sizes it from free memory
    "VLLM_NO_USAGE_STATS": "1",  # no usage report to the internet from a test
}


def engine_env(rendered: Mapping[str, str], hf_home: Path, cache_root: Path) -> dict[str, str]:
    """The rendered env (HF_HOME pointed at the tier's cache: it is the pod's cache mount), plus CPU_ENV."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update(rendered)
    env["HF_HOME"] = str(hf_home)
    env.update(CPU_ENV)
    env["VLLM_CACHE_ROOT"] = str(cache_root)  # torch.compile cache: per test run, not ~/.cache/vllm
    return env


@dataclass
class RealEngine:
    url: str
    served_name: str
    api_key: str
    args: list[str]
    dropped: list[str]
    proc: Proc
    start_seconds: float
    notes: list[str] = field(default_factory=list)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
