"""The e2e tier's rendering: `helm template` of the chart with the tier's values, parsed into a Release.

Running what the chart renders on loopback (engines, routers, address rewrites) is
vllm_models.local, which the quickstart's local endpoint uses too.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from vllm_models.local.manifest import Release

from tests.support import REPO_ROOT

VALUES = Path(__file__).with_name("values.yaml")
# vllm-router 0.1.17 can neither check client keys nor reach engines that require one: the chart refuses
# both (test_router.py asserts the refusals), so its release runs with auth off and open engines.
VLLM_ROUTER_SETS = ("router.engine=vllm-router", "router.auth.enabled=false", "engineApiKey.value=")
CHART = REPO_ROOT / "charts" / "vllm-models"
VENV_BIN = REPO_ROOT / ".venv" / "bin"
RELEASE = "vllm-models"
NAMESPACE = "vllm"


def helm_template(helm: str, values: list[Path], *sets: str) -> Release:
    cmd = [helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    for v in values:
        cmd += ["-f", str(v)]
    for s in sets:
        cmd += ["--set", s]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"helm template failed: {proc.stderr}")
    return Release.parse(proc.stdout)


def without_lora_adapters(tmp: Path) -> Path:
    """The tier's values without LoRA adapters: vllm-router's pod discovery cannot route them, so the chart
    refuses them with it (test_lora_adapters.py shows why, against vllm-router itself)."""
    values = yaml.safe_load(VALUES.read_text(encoding="utf-8"))
    for model in values["models"]:
        model.pop("loraAdapters", None)
    path = tmp / "values-without-lora-adapters.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    return path
