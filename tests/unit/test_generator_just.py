"""The Justfile and the vllm module: listed, wired to the CLI, and safe before any cluster is touched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

from .helpers import FIXTURES

pytestmark = pytest.mark.unit

JUST = Path(sys.executable).with_name("just")
VLLM_RECIPES = {
    "install", "upgrade", "uninstall", "add-model", "remove-model", "list-models", "validate", "status",
    "logs", "router-logs", "list-api-models", "test-completions", "port-forward", "set-api-key",
    "get-api-key", "delete-api-key", "set-hf-token", "get-hf-token", "delete-hf-token",
}  # fmt: skip
ROOT_RECIPES = {
    "setup", "test", "test-unit", "test-render", "test-e2e", "test-cluster", "lint", "generate", "verify",
    "cluster-up", "cluster-down", "kind-up", "kind-down",
}  # fmt: skip


def just(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO_ROOT
) -> subprocess.CompletedProcess[str]:
    if not JUST.exists():
        pytest.fail(f"{JUST} missing: install the dev extras (rust-just)")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VLLM_")}
    return subprocess.run(
        [str(JUST), *args],
        cwd=cwd,
        env={**environment, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


def recipes(*args: str) -> set[str]:
    result = just("--dump", "--dump-format", "json", *args)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout)["recipes"])


def test_root_and_module_recipes_exist() -> None:
    listing = just("--list")
    assert listing.returncode == 0, listing.stderr
    assert recipes() >= ROOT_RECIPES
    module = just("--list", "vllm")
    assert module.returncode == 0, module.stderr
    listed = {
        line.split()[0]
        for line in module.stdout.splitlines()[1:]
        if line.strip() and not line.strip().startswith("#")
    }
    assert listed >= VLLM_RECIPES


def test_list_models_through_just(tmp_path: Path) -> None:
    models = tmp_path / "models.yaml"
    models.write_text((FIXTURES / "valid" / "replicas-rwo-per-replica-cache.yaml").read_text())
    result = just("vllm::list-models", env={"VLLM_MODELS_FILE": str(models)})
    assert result.returncode == 0, result.stderr
    assert "50Gi \u00d72 (per replica)" in result.stdout


def test_add_and_remove_model_through_just(tmp_path: Path) -> None:
    models = tmp_path / "models.yaml"
    original = (FIXTURES / "valid" / "models-list-unchanged.yaml").read_text()
    models.write_text(original)
    env = {"VLLM_MODELS_FILE": str(models)}
    added = just(
        "vllm::add-model", "--yes", "--name", "phi", "--model-url", "microsoft/phi-4", "--gpus", "1", env=env
    )
    assert added.returncode == 0, added.stderr
    assert "- name: phi" in models.read_text()
    removed = just("vllm::remove-model", "phi", "--yes", env=env)
    assert removed.returncode == 0, removed.stderr
    assert models.read_text() == original


def test_upgrade_stops_on_invalid_models_before_touching_a_cluster(tmp_path: Path) -> None:
    models = tmp_path / "models.yaml"
    models.write_text("- name: llama3\n  modelURL: meta-llama/Llama-3.2-3B-Instruct\n  replicaCont: 2\n")
    values = REPO_ROOT / "values.generated.yaml"
    before = values.read_bytes() if values.exists() else None
    result = just(
        "vllm::upgrade", env={"VLLM_MODELS_FILE": str(models), "KUBECONFIG": str(tmp_path / "none")}
    )
    assert result.returncode != 0
    assert f"{models}::$[0].replicaCont: unknown key; did you mean 'replicaCount'?" in result.stderr
    assert (values.read_bytes() if values.exists() else None) == before


def test_status_formats_placement_and_the_schedulers_reason() -> None:
    pod = {
        "metadata": {"name": "vllm-models-huge-0", "labels": {"vllm-models.io/model": "huge"}},
        "spec": {"containers": [{"resources": {"limits": {"nvidia.com/gpu": "16"}}}]},
        "status": {
            "phase": "Pending",
            "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                 "message": "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."},
            ],
        },
    }  # fmt: skip
    running = {
        "metadata": {"name": "vllm-models-llama3-abc", "labels": {"vllm-models.io/model": "llama3"}},
        "spec": {"nodeName": "gpu-h100", "containers": [{"resources": {"limits": {"nvidia.com/gpu": "1"}}}]},
        "status": {"phase": "Running", "containerStatuses": [{"ready": True, "state": {"running": {}}}]},
    }
    nodes = {
        "items": [{"metadata": {"name": "gpu-h100", "labels": {"nvidia.com/gpu.product": "NVIDIA-H100"}}}]
    }
    stdin = json.dumps({"items": [pod, running]}) + "\n" + json.dumps(nodes)
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "just" / "status.py")],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["MODEL", "POD", "READY", "STATUS", "NODE", "GPUS", "GPU", "PRODUCT"]
    assert lines[1].split() == ["huge", "vllm-models-huge-0", "0/1", "Pending", "-", "16", "-"]
    assert lines[2].split() == [
        "llama3",
        "vllm-models-llama3-abc",
        "1/1",
        "Running",
        "gpu-h100",
        "1",
        "NVIDIA-H100",
    ]
    assert (
        "vllm-models-huge-0: Unschedulable: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
        in result.stdout
    )
