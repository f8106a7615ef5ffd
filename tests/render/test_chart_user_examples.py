"""Users' examples render to the objects and engine arguments their teams configured by hand."""

from __future__ import annotations

import pytest
import yaml
from render_helpers import FIXTURES, Rendered, checksum, engine_container, load_fixture

pytestmark = pytest.mark.render


def args_of(r: Rendered, model: str) -> list[str]:
    return list(engine_container(r.workload(model))["args"])


def test_llama70b_fp8_on_h100(render) -> None:
    r = render(FIXTURES / "llama70b-fp8-h100.yaml")
    assert r.returncode == 0, r.stderr
    dep = r.get("Deployment", "vllm-models-llama-3-3-70b")
    assert args_of(r, "llama-3-3-70b") == [
        "nvidia/Llama-3.3-70B-Instruct-FP8",
        "--served-model-name=llama-3-3-70b",
        "--port=8000",
        "--max-model-len=32000",
        "--tensor-parallel-size=1",
        "--pipeline-parallel-size=1",
        "--kv-cache-dtype=fp8",
        "--max-num-seqs=8",
        "--max-num-batched-tokens=8192",
        "--no-enable-prefix-caching",
        "--async-scheduling",
    ]
    pod = dep["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}
    res = engine_container(dep)["resources"]
    assert res["requests"]["nvidia.com/gpu"] == "1" and res["limits"]["nvidia.com/gpu"] == "1"
    # one GPU, no surge slot: the old pod must go before the new one can start
    assert dep["spec"]["strategy"] == {"type": "Recreate"}
    pvc = r.get("PersistentVolumeClaim", "vllm-models-llama-3-3-70b-cache")
    assert pvc["spec"]["resources"]["requests"]["storage"] == "150Gi"
    assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    # the startup budget (default 1800 s) covers a 70 GB load; liveness waits for startup by design
    probes = engine_container(dep)
    assert probes["startupProbe"]["periodSeconds"] * probes["startupProbe"]["failureThreshold"] >= 1800
    assert probes["livenessProbe"]["httpGet"]["path"] == "/health"


def test_llama70b_config_change_is_a_pod_template_change(render) -> None:
    """A config change that did not restart the pod."""
    values = load_fixture("llama70b-fp8-h100.yaml")
    before = render(values)
    values["models"][0]["vllmConfig"]["maxModelLen"] = 16000
    after = render(values)
    assert before.returncode == after.returncode == 0, after.stderr
    old, new = before.workload("llama-3-3-70b"), after.workload("llama-3-3-70b")
    assert checksum(old) != checksum(new)
    assert "--max-model-len=16000" in engine_container(new)["args"]


def test_coder_awq_l4_scale_to_zero(render) -> None:
    r = render(FIXTURES / "coder-awq-l4-scale-to-zero.yaml")
    assert r.returncode == 0, r.stderr
    dep = r.get("Deployment", "vllm-models-coder-chat")
    assert dep["spec"]["replicas"] == 0  # a new GPU model starts at $0 idle
    assert dep["spec"]["strategy"] == {"type": "Recreate"}
    assert args_of(r, "coder-chat") == [
        "Qwen/Qwen2.5-Coder-3B-Instruct-AWQ",
        "--served-model-name=qwen2.5-coder-3b-instruct",
        "--port=8000",
        "--max-model-len=16384",
        "--quantization=awq_marlin",
        "--tensor-parallel-size=1",
        "--pipeline-parallel-size=1",
        "--gpu-memory-utilization=0.9",
    ]
    pod = dep["spec"]["template"]["spec"]
    engine = engine_container(dep)
    env = {e["name"]: e for e in engine["env"]}
    assert env["HF_HUB_OFFLINE"]["value"] == "1"
    assert env["VLLM_API_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "vllm-api-key", "key": "api-key"}
    # the weights are pre-staged by an init container with the same image, into the same cache
    (stage,) = pod["initContainers"]
    assert stage["image"] == engine["image"] == "vllm/vllm-openai:v0.32.0"
    assert stage["command"][:2] == ["python3", "-c"] and "snapshot_download" in stage["command"][2]
    assert {e["name"]: e.get("value") for e in stage["env"]}[
        "MODEL_ID"
    ] == "Qwen/Qwen2.5-Coder-3B-Instruct-AWQ"
    assert stage["volumeMounts"] == [m for m in engine["volumeMounts"] if m["name"] == "cache"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-L4"}
    svc = r.get("Service", "vllm-models-coder-chat")
    assert svc["spec"]["type"] == "ClusterIP"
    assert svc["spec"]["ports"] == [{"name": "http", "port": 8000, "targetPort": "http", "protocol": "TCP"}]


def test_coder_prices_reach_the_router_as_numbers(render) -> None:
    """Without a price every call costs $0 and budgets never bind."""
    r = render(FIXTURES / "coder-awq-l4-scale-to-zero.yaml")
    assert r.returncode == 0, r.stderr
    configs = [
        cm
        for cm in r.of_kind("ConfigMap")
        if cm["metadata"]["labels"].get("app.kubernetes.io/component") == "router"
        and "config.yaml" in cm["data"]
    ]
    if not configs:
        pytest.skip("the router templates render no LiteLLM config.yaml yet")
    # PyYAML reads `5e-07` (no dot) as a string; LiteLLM loads its config with PyYAML.
    config = yaml.safe_load(configs[0]["data"]["config.yaml"])
    (entry,) = [e for e in config["model_list"] if e["model_name"] == "coder-chat"]
    params = entry["litellm_params"]
    assert params["model"] == "hosted_vllm/qwen2.5-coder-3b-instruct"
    assert params["input_cost_per_token"] == pytest.approx(0.0000005)
    assert params["output_cost_per_token"] == pytest.approx(0.0000015)


def test_llama3_and_qwen_unchanged_format(render) -> None:
    r = render(FIXTURES / "llama3-qwen-models-list.yaml")
    assert r.returncode == 0, r.stderr
    for model, cpu, memory in (("llama3", "6", "16Gi"), ("qwen", "8", "32Gi")):
        dep = r.get("Deployment", f"vllm-models-{model}")
        res = engine_container(dep)["resources"]
        assert res["requests"] == {"cpu": cpu, "memory": memory, "nvidia.com/gpu": "1"}
        assert res["limits"] == {"nvidia.com/gpu": "1"}
        assert dep["spec"]["replicas"] == 1
        assert r.get("PersistentVolumeClaim", f"vllm-models-{model}-cache")["spec"]["resources"] == {
            "requests": {"storage": "50Gi"}
        }
        volumes = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
        assert volumes["cache"]["persistentVolumeClaim"]["claimName"] == f"vllm-models-{model}-cache"
        assert volumes["dshm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "8Gi"}
        stage = dep["spec"]["template"]["spec"]["initContainers"][0]
        token = {e["name"]: e for e in stage["env"]}["HF_TOKEN"]
        assert token["valueFrom"]["secretKeyRef"] == {"name": "vllm-hf-token", "key": "token"}
    assert args_of(r, "qwen")[:2] == ["Qwen/Qwen2.5-7B-Instruct", "--served-model-name=qwen"]
    # secrets only by reference: no Secret is created from an existingSecret
    assert r.of_kind("Secret") == [] or all(
        s["metadata"]["labels"].get("app.kubernetes.io/component") == "router" for s in r.of_kind("Secret")
    )


def test_two_replicas_get_a_cache_each(render) -> None:
    """ "Each replica its own PVC": one RWO volume cannot attach on two nodes."""
    values = load_fixture("llama3-qwen-models-list.yaml")
    values["models"][0]["replicaCount"] = 2
    r = render(values)
    assert r.returncode == 0, r.stderr
    sts = r.get("StatefulSet", "vllm-models-llama3")
    assert sts["spec"]["replicas"] == 2
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    assert sts["spec"]["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "cache"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert {v["name"] for v in sts["spec"]["template"]["spec"]["volumes"]} == {"dshm"}
    assert not [
        p for p in r.of_kind("PersistentVolumeClaim") if p["metadata"]["name"] == "vllm-models-llama3-cache"
    ]
    assert r.get("Deployment", "vllm-models-qwen")  # the other model is untouched


def test_argocd_inline_values(render) -> None:
    r = render(FIXTURES / "argocd-inline-values.yaml")
    assert r.returncode == 0, r.stderr
    assert {d["metadata"]["name"] for d in r.of_kind("Deployment")} >= {
        "vllm-models-dialogpt-medium",
        "vllm-models-llama2-7b-chat",
    }
    assert args_of(r, "dialogpt-medium")[0] == "microsoft/DialoGPT-medium"
    assert args_of(r, "llama2-7b-chat")[0] == "meta-llama/Llama-2-7b-chat-hf"
    sizes = {
        p["metadata"]["name"]: p["spec"]["resources"]["requests"]["storage"]
        for p in r.of_kind("PersistentVolumeClaim")
    }
    assert sizes == {"vllm-models-dialogpt-medium-cache": "10Gi", "vllm-models-llama2-7b-chat-cache": "20Gi"}
    # Argo CD re-renders on every sync: the output must not change between renders
    again = render(load_fixture("argocd-inline-values.yaml"))
    assert again.stdout == r.stdout
