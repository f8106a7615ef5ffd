"""A real request path on kind: router pod → engine Service → simulated engine pod."""

from __future__ import annotations

import subprocess
import time

import pytest
import requests
from vllm_models.local.processes import free_port

from tests.cluster.release import Release, extra_values
from tests.support import REPO_ROOT, require_tool

pytestmark = pytest.mark.kind

SIM_VALUES = REPO_ROOT / "hack" / "kind" / "engine-sim-values.yaml"
MODELS = [
    {
        "name": "alpha",
        "modelURL": "Qwen/Qwen2.5-0.5B-Instruct",
        "requestCPU": "100m",
        "requestMemory": "256Mi",
        "pvcStorage": "1Gi",
        "gpuProduct": "NVIDIA-H100-80GB-HBM3",
    },
    {
        "name": "beta",
        "modelURL": "Qwen/Qwen2.5-1.5B-Instruct",
        "requestCPU": "100m",
        "requestMemory": "256Mi",
        "pvcStorage": "1Gi",
        "gpuProduct": "NVIDIA-L4",
    },
]


def test_requests_reach_each_model_through_the_router(
    kind_kubeconfig: str, kind_namespace: str, tmp_path: object
) -> None:
    release = Release(kubeconfig=kind_kubeconfig, namespace=kind_namespace, workdir=tmp_path)  # type: ignore[arg-type]
    extra = [] if extra_values() else ["-f", str(SIM_VALUES)]
    result = release.upgrade(MODELS, *extra, timeout="600s")
    assert result.returncode == 0, result.stderr

    port = free_port()
    forward = subprocess.Popen(
        [
            require_tool("kubectl"),
            "--kubeconfig",
            kind_kubeconfig,
            "-n",
            kind_namespace,
            "port-forward",
            "svc/vllm-models-router",
            f"{port}:http",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": "Bearer sk-cluster-test"}
        deadline = time.monotonic() + 120
        while True:
            try:
                listed = requests.get(f"{base}/v1/models", headers=headers, timeout=10)
                if listed.status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the router never answered /v1/models"
            time.sleep(2)
        assert {m["id"] for m in listed.json()["data"]} >= {"alpha", "beta"}

        for name in ("alpha", "beta"):
            answer = requests.post(
                f"{base}/v1/chat/completions",
                headers=headers,
                timeout=60,
                json={"model": name, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 8},
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["choices"][0]["message"]["content"]
        unknown = requests.post(
            f"{base}/v1/chat/completions",
            headers=headers,
            timeout=60,
            json={"model": "nope", "messages": [{"role": "user", "content": "x"}]},
        )
        assert 400 <= unknown.status_code < 500
    finally:
        forward.terminate()
        forward.wait(timeout=10)
