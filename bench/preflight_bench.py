"""Benchmark: capacity preflight of 100 catalog-backed models, no network (target: well under 1 s).

Run: .venv/bin/python bench/preflight_bench.py [--models N] [--repeat R]
Prints the wall time of the first run (bundled catalog and GPU table parsed on the way) and the best of
the repeats, plus the table rendering. Exits 1 when the first run takes 1 s or more.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from vllm_models.capacity import preflight, render_table
from vllm_models.capacity.catalog import gpu_table, model_catalog

GPUS = [
    "NVIDIA-H100-80GB-HBM3",
    "NVIDIA-H200",
    "NVIDIA-A100-SXM4-80GB",
    "NVIDIA-L4",
    "NVIDIA-L40S",
    "NVIDIA-B200",
]
REPOS = [
    "nvidia/Llama-3.3-70B-Instruct-FP8",
    "meta-llama/Llama-3.1-8B-Instruct",
    "Qwen/Qwen2.5-7B-Instruct",
    "Qwen/Qwen3-32B",
    "Qwen/Qwen3-30B-A3B",
    "mistralai/Mixtral-8x7B-Instruct-v0.1",
    "google/gemma-3-27b-it",
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B",
    "openai/gpt-oss-20b",
    "openai/gpt-oss-120b",
    "mistralai/Mistral-7B-Instruct-v0.3",
    "meta-llama/Llama-3.2-3B-Instruct",
]


def synthetic_models(count: int) -> list[dict[str, Any]]:
    """``count`` model entries cycling through catalog models, GPUs, TP sizes and settings."""
    combos = itertools.cycle(itertools.product(REPOS, GPUS, (1, 2, 4), (None, 8192, 32768), ("auto", "fp8")))
    models: list[dict[str, Any]] = []
    for i, (repo, gpu, tp, max_len, kv) in zip(range(count), combos, strict=False):
        vllm: dict[str, Any] = {"tensorParallelSize": tp, "kvCacheDtype": kv}
        if max_len:
            vllm["maxModelLen"] = max_len
        models.append(
            {
                "name": f"m{i}",
                "modelURL": repo,
                "gpuProduct": gpu,
                "requestGPU": tp,
                "requestMemory": "64Gi",
                "pvcStorage": "200Gi",
                "vllmConfig": vllm,
                "preflight": {"reportedKVCacheGiB": 5.11} if i % 10 == 0 else {},
            }
        )
    return models


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    models = synthetic_models(args.models)
    with tempfile.TemporaryDirectory() as empty:  # no local HF cache: catalog-backed on every machine
        hf_cache = Path(empty)
        model_catalog.cache_clear()
        gpu_table.cache_clear()
        start = time.perf_counter()
        reports = preflight(models, allow_network=False, hf_cache=hf_cache)
        first = time.perf_counter() - start
        runs = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            preflight(models, allow_network=False, hf_cache=hf_cache)
            runs.append(time.perf_counter() - start)
        start = time.perf_counter()
        render_table(reports)
        render = time.perf_counter() - start
    unfit = sum(1 for r in reports if r.fits is False)
    print(
        f"preflight of {len(models)} models (no network, {unfit} unfit): first run {first * 1000:.1f} ms "
        f"(includes parsing the bundled catalog), best of {args.repeat} {min(runs) * 1000:.1f} ms, "
        f"median {sorted(runs)[len(runs) // 2] * 1000:.1f} ms; render_table {render * 1000:.1f} ms"
    )
    return 0 if first < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
