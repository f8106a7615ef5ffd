"""The live-cluster placement check: from kubectl's JSON to a verdict per model, with the reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from vllm_models.cli import cli

pytestmark = pytest.mark.unit

L4, H100 = "NVIDIA-L4", "NVIDIA-H100-80GB-HBM3"
GPU_TAINT = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]


def node(name: str, gpus: int, product: str | None, cpu: str = "32", memory: str = "256Gi") -> dict[str, Any]:
    labels = {"nvidia.com/gpu.product": product} if product else {}
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {"taints": GPU_TAINT if gpus else []},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "nvidia.com/gpu": str(gpus)},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


# The local control plane's nodes: one L4 GPU, eight H100s, a CPU node.
NODES = {"items": [node("gpu-l4", 1, L4), node("gpu-h100", 8, H100), node("cpu-0", 0, None, cpu="8")]}


def pod(node_name: str, gpus: int, labels: dict[str, str] | None = None, ns: str = "vllm") -> dict[str, Any]:
    return {
        "metadata": {"name": f"p-{node_name}", "namespace": ns, "labels": labels or {}},
        "spec": {
            "nodeName": node_name,
            "containers": [
                {"resources": {"requests": {"cpu": "1"}, "limits": {"nvidia.com/gpu": str(gpus)}}}
            ],
        },
        "status": {"phase": "Running"},
    }


def place(tmp_path: Path, models: str, pods: list[dict[str, Any]]) -> tuple[int, str, str]:
    models_file = tmp_path / "models.yaml"
    models_file.write_text(models)
    stdin = json.dumps(NODES) + "\n" + json.dumps({"items": pods})
    result = CliRunner().invoke(cli, ["placement", "-f", str(models_file)], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_two_l4_gpus_on_a_one_gpu_l4_node_is_refused_with_the_reason(tmp_path: Path) -> None:
    code, _, err = place(
        tmp_path, "- name: big\n  modelURL: org/m\n  requestGPU: 2\n  gpuProduct: NVIDIA-L4\n", []
    )
    assert code == 1
    assert f"{tmp_path / 'models.yaml'}::$[0]: big: no node can hold a replica:" in err
    assert "gpu-l4: nvidia.com/gpu: 1 free, 2 requested" in err
    assert "gpu-h100: nvidia.com/gpu.product=NVIDIA-H100-80GB-HBM3, model needs NVIDIA-L4" in err


def engine_labels(release: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/instance": release,
        "app.kubernetes.io/component": "engine",
        "vllm-models.io/model": "llama3",
    }


def test_gpus_held_by_another_release_count_but_the_models_own_pods_do_not(tmp_path: Path) -> None:
    models = "- name: llama3\n  modelURL: org/m\n  gpuProduct: NVIDIA-L4\n"
    other = pod("gpu-l4", 1, engine_labels("someone-else"))
    code, _, err = place(tmp_path, models, [other])
    assert code == 1 and "gpu-l4: nvidia.com/gpu: 0 free, 1 requested" in err
    own = pod("gpu-l4", 1, engine_labels("vllm-models"))
    code, out, _ = place(tmp_path, models, [own])  # an upgrade replaces it: its GPU is free for the new pod
    assert code == 0 and out == "llama3: fits (1 replica(s))\n"
    namesake = pod("gpu-l4", 1, engine_labels("vllm-models"), "team-b")
    code, _, err = place(tmp_path, models, [namesake])  # the same release name in another namespace counts
    assert code == 1 and "gpu-l4: nvidia.com/gpu: 0 free, 1 requested" in err
    picker = pod("gpu-l4", 1, {**engine_labels("vllm-models"), "app.kubernetes.io/component": "epp"})
    code, _, err = place(tmp_path, models, [picker])  # not the model's engine: an upgrade keeps it
    assert code == 1 and "gpu-l4: nvidia.com/gpu: 0 free, 1 requested" in err


def test_one_replica_fits_but_not_all(tmp_path: Path) -> None:
    models = (
        "- name: qwen\n  modelURL: org/m\n  requestGPU: 4\n  replicaCount: 3\n"
        "  gpuProduct: NVIDIA-H100-80GB-HBM3\n"
    )
    code, _, err = place(tmp_path, models, [])
    assert code == 1 and "qwen: one replica fits, not all 3" in err


def test_a_cpu_model_stays_off_tainted_gpu_nodes_and_fits_the_cpu_node(tmp_path: Path) -> None:
    models = "- name: embed\n  modelURL: org/m\n  requestGPU: 0\n  requestCPU: 2\n  requestMemory: 4Gi\n"
    code, out, _ = place(tmp_path, models, [])
    assert code == 0 and out == "embed: fits (1 replica(s))\n"
    big = "- name: embed\n  modelURL: org/m\n  requestGPU: 0\n  requestCPU: 16\n"
    code, _, err = place(tmp_path, big, [])
    assert code == 1
    assert (
        "gpu-l4: taint nvidia.com/gpu:NoSchedule not tolerated" in err
        and "cpu-0: cpu: 8 free, 16 requested" in err
    )


def test_unreadable_cluster_state_is_invalid_input(tmp_path: Path) -> None:
    models_file = tmp_path / "models.yaml"
    models_file.write_text("- name: a\n  modelURL: org/m\n")
    result = CliRunner().invoke(cli, ["placement", "-f", str(models_file)], input="{}")
    assert result.exit_code == 1
    assert "expected 2 JSON objects, got 1 document(s)" in result.stderr


def test_an_autoscaled_model_must_fit_its_minimum_and_is_warned_when_its_maximum_would_not(
    tmp_path: Path,
) -> None:
    """The upgrade waits for minReplicas (at least one, which a scale-to-zero model starts with); replicas
    up to maxReplicas are tried on what is left without holding it from the next model."""
    autoscaled = (
        "- name: chat\n  modelURL: org/m\n  gpuProduct: NVIDIA-H100-80GB-HBM3\n  requestGPU: 4\n"
        "  autoscaling: {enabled: true, minReplicas: %d, maxReplicas: %d}\n"
        "- name: next\n  modelURL: org/n\n  gpuProduct: NVIDIA-H100-80GB-HBM3\n  requestGPU: 4\n"
    )
    code, out, err = place(tmp_path, autoscaled % (0, 2), [])
    assert code == 0, err
    assert out.splitlines()[0] == "chat: fits (1 replica(s) now, up to 2 autoscaled)"
    assert out.splitlines()[1] == "next: fits (1 replica(s))", "the spare replica took no GPUs from the next"
    code, out, err = place(tmp_path, autoscaled % (1, 3), [])
    assert code == 0, "a maximum that does not fit now is a warning, not a refusal"
    assert "::$[0]: warning: chat: fits (1 replica(s) now), but only 2 of maxReplicas 3 would fit:" in err
    assert "gpu-h100: nvidia.com/gpu: 0 free, 4 requested" in err
    code, _, err = place(tmp_path, autoscaled % (3, 3), [])
    assert code == 1 and "chat: one replica fits, not all 3" in err


MULTI_NODE = (
    "- name: llama-405b\n  modelURL: org/m\n  gpuProduct: NVIDIA-H100-80GB-HBM3\n  requestMemory: 64Gi\n"
    "  vllmConfig: {tensorParallelSize: 8, pipelineParallelSize: 2}\n"
)


def test_a_sixteen_gpu_model_needs_two_eight_gpu_nodes_not_one_sixteen_gpu_node(tmp_path: Path) -> None:
    # one 8-GPU H100 node holds the leader, the worker finds no second node: no replica, and why
    code, _, err = place(tmp_path, MULTI_NODE, [])
    assert code == 1
    assert "llama-405b (2 nodes \u00d7 8 GPUs per replica): no node can hold a replica" in err
    assert "gpu-h100: nvidia.com/gpu: 0 free, 8 requested" in err
    two = {"items": [*NODES["items"], node("gpu-h100-b", 8, H100)]}
    models_file = tmp_path / "models.yaml"
    stdin = json.dumps(two) + "\n" + json.dumps({"items": []})
    result = CliRunner().invoke(cli, ["placement", "-f", str(models_file)], input=stdin)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "llama-405b (2 nodes \u00d7 8 GPUs per replica): fits (1 replica(s))\n"
