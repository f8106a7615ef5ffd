"""Options of ci/all-options-values.yaml and ci/per-replica-values.yaml land where they should."""

from __future__ import annotations

import pytest
from render_helpers import CHART, Rendered, engine_container

pytestmark = pytest.mark.render

ALL = CHART / "ci" / "all-options-values.yaml"
PER_REPLICA = CHART / "ci" / "per-replica-values.yaml"


@pytest.fixture
def everything(render) -> Rendered:
    r = render(ALL)
    assert r.returncode == 0, r.stderr
    return r


def test_engine_pod_settings(everything: Rendered) -> None:
    sts = everything.get("StatefulSet", "ai-serving-llama-3-3-70b")
    pod = sts["spec"]["template"]["spec"]
    engine = engine_container(sts)
    assert engine["image"] == "vllm/vllm-openai:v0.32.0"  # the model's own image beats the chart's
    assert engine["command"] == ["vllm", "serve"]
    assert pod["imagePullSecrets"] == [{"name": "registry-credentials"}]
    assert pod["runtimeClassName"] == "nvidia-cdi" and pod["priorityClassName"] == "inference-high"
    assert pod["nodeSelector"] == {
        "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3",
        "topology.kubernetes.io/zone": "eu-west-1a",
    }
    # engine.gpuTolerations first (the pod requests GPUs), then the model's own
    assert pod["tolerations"] == [
        {"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"},
        {"effect": "NoSchedule", "key": "gpu-pool", "operator": "Equal", "value": "inference"},
        {"key": "dedicated", "operator": "Equal", "value": "llm", "effect": "NoSchedule"},
    ]
    assert "podAntiAffinity" in pod["affinity"]
    assert pod["terminationGracePeriodSeconds"] == 120
    assert pod["automountServiceAccountToken"] is False
    # a Service named like VLLM_* would otherwise inject VLLM_PORT=tcp://... into the engine
    assert pod["enableServiceLinks"] is False
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in pod["containers"] + pod["initContainers"]:
        ctx = container["securityContext"]
        assert ctx["allowPrivilegeEscalation"] is False and ctx["capabilities"] == {"drop": ["ALL"]}
    assert engine["resources"] == {
        "requests": {"cpu": "7500m", "memory": "96Gi", "nvidia.com/gpu": "2"},
        "limits": {"cpu": "16", "memory": "128Gi", "nvidia.com/gpu": "2"},
    }
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["dshm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "32Gi"}
    env = {e["name"]: e for e in engine["env"]}
    assert env["HF_HOME"]["value"] == "/models-cache"
    assert env["VLLM_API_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "llama-engine-key", "key": "key"}
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    stage_env = {e["name"]: e for e in pod["initContainers"][0]["env"]}
    assert stage_env["HF_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "llama-hf-token", "key": "token"}
    assert sts["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert engine["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]


def test_probes(everything: Rendered) -> None:
    engine = engine_container(everything.get("StatefulSet", "ai-serving-llama-3-3-70b"))
    startup, ready, live = engine["startupProbe"], engine["readinessProbe"], engine["livenessProbe"]
    assert {p["httpGet"]["path"] for p in (startup, ready, live)} == {"/health"}
    # startupTimeoutSeconds 5400 at a 15 s period
    assert startup["periodSeconds"] == 15 and startup["failureThreshold"] == 360
    assert (ready["periodSeconds"], ready["failureThreshold"]) == (5, 6)
    assert (live["periodSeconds"], live["timeoutSeconds"], live["failureThreshold"]) == (20, 10, 9)


def test_model_defaults_merge(everything: Rendered) -> None:
    dep = everything.get("Deployment", "ai-serving-coder-chat")
    pod = dep["spec"]["template"]["spec"]
    engine = engine_container(dep)
    assert engine["image"] == "registry.example.com/vllm/vllm-openai:v0.32.0"
    assert engine["imagePullPolicy"] == "Always"
    assert engine["resources"]["requests"]["cpu"] == "4"  # from modelDefaults
    assert pod["runtimeClassName"] == "nvidia"
    assert pod["tolerations"][0]["key"] == "nvidia.com/gpu"
    # modelDefaults.vllmConfig merges key by key with the model's vllmConfig
    assert "--gpu-memory-utilization=0.92" in engine["args"] and "--enable-prefix-caching" in engine["args"]
    assert "--quantization=awq_marlin" in engine["args"]
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "coder-chat-model-cache"
    # chart-created secrets for models that name none
    env = {e["name"]: e for e in engine["env"]}
    assert env["VLLM_API_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "ai-serving-engine-api-key",
        "key": "engine-key",
    }


def test_per_replica_cache_statefulset(everything: Rendered) -> None:
    sts = everything.get("StatefulSet", "ai-serving-llama-3-3-70b")
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["storageClassName"] == "premium-rwo"
    assert claim["spec"]["resources"]["requests"]["storage"] == "150Gi"
    assert claim["metadata"]["labels"]["vllm-models.io/model"] == "llama-3-3-70b"
    assert sts["spec"]["serviceName"] == "ai-serving-llama-3-3-70b"


def test_pdbs(everything: Rendered) -> None:
    llama = everything.get("PodDisruptionBudget", "ai-serving-llama-3-3-70b")
    assert llama["spec"]["maxUnavailable"] == 1
    coder = everything.get("PodDisruptionBudget", "ai-serving-coder-chat")
    assert coder["spec"]["minAvailable"] == "50%"
    assert coder["spec"]["selector"]["matchLabels"]["vllm-models.io/model"] == "coder-chat"
    engine_pdbs = [
        p
        for p in everything.of_kind("PodDisruptionBudget")
        if p["metadata"]["labels"]["app.kubernetes.io/component"] == "engine"
    ]
    assert len(engine_pdbs) == 2  # embeddings did not ask for one


def test_network_policy(everything: Rendered) -> None:
    np = everything.get("NetworkPolicy", "ai-serving-engines")
    assert np["metadata"]["name"] == "ai-serving-engines"
    assert np["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "engine"
    (rule,) = np["spec"]["ingress"]
    sources = rule["from"]
    assert sources[0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "router"
    # inferencePool is on: its endpoint pickers scrape the engines
    assert sources[1]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "epp"
    assert [s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for s in sources[2:]] == [
        "monitoring",
        "ingress-nginx",
    ]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]


def test_inference_pool_options(everything: Rendered) -> None:
    (pool,) = everything.of_kind("InferencePool")
    assert pool["metadata"]["name"] == "ai-serving-coder-chat"
    assert pool["spec"]["endpointPickerRef"]["failureMode"] == "FailClose"
    route = everything.get("HTTPRoute", "ai-serving-coder-chat")
    assert route["spec"]["hostnames"] == ["inference.example.com"]
    assert route["spec"]["rules"][0]["timeouts"] == {"request": "600s"}
    epp = everything.get("Deployment", "ai-serving-coder-chat-epp")["spec"]["template"]["spec"]
    assert epp["tolerations"][0]["value"] == "routing"
    assert "--v=3" in epp["containers"][0]["args"]


def test_open_webui_options(everything: Rendered) -> None:
    np = everything.get("NetworkPolicy", "ai-serving-open-webui")
    # the extra egress rule comes after the chart's own two (the router, DNS)
    assert np["spec"]["egress"][2]["to"] == [{"ipBlock": {"cidr": "198.51.100.0/24"}}]
    deployment = everything.get("Deployment", "ai-serving-open-webui")
    pod = deployment["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    env = {e["name"]: e for e in c["env"]}
    assert env["WEBUI_SECRET_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "open-webui-secret",
        "key": "webui-secret-key",
    }
    assert env["OPENAI_API_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "router-master-key",
        "key": "master-key",
    }
    assert env["OPENAI_API_BASE_URL"]["value"] == "http://ai-serving-router.vllm.svc.cluster.local:8080/v1"
    assert c["env"][-1] == {"name": "ENABLE_SIGNUP", "value": "False"}
    assert c["resources"]["limits"] == {"memory": "3Gi"}
    assert pod["securityContext"]["fsGroup"] == 0
    assert pod["nodeSelector"] == {"node-role.example.com/system": "true"}
    assert pod["imagePullSecrets"] == [{"name": "registry-credentials"}]
    assert deployment["spec"]["template"]["metadata"]["annotations"] == {"example.com/team": "ml-platform"}
    pvc = everything.get("PersistentVolumeClaim", "ai-serving-open-webui-data")
    assert pvc["spec"]["storageClassName"] == "fast-ssd"
    assert pvc["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert everything.get("Service", "ai-serving-open-webui")["spec"]["ports"][0]["port"] == 8080


def test_service_monitors(everything: Rendered) -> None:
    monitors = [
        m for m in everything.of_kind("ServiceMonitor") if m["metadata"]["labels"].get("vllm-models.io/model")
    ]
    assert len(monitors) == 3
    for m in monitors:
        assert m["metadata"]["labels"]["release"] == "prometheus"
        (endpoint,) = m["spec"]["endpoints"]
        assert endpoint == {"port": "http", "path": "/metrics", "interval": "15s", "scrapeTimeout": "10s"}


def test_secrets_from_values(everything: Rendered) -> None:
    import base64

    secrets = {s["metadata"]["name"]: s for s in everything.of_kind("Secret")}
    assert base64.b64decode(secrets["ai-serving-hf-token"]["data"]["hf-token"]) == b"hf_exampletokenvalue"
    assert (
        base64.b64decode(secrets["ai-serving-engine-api-key"]["data"]["engine-key"]) == b"sk-engine-example"
    )


def test_cpu_model_rolls_with_surge_on_a_shared_cache(everything: Rendered) -> None:
    dep = everything.get("Deployment", "ai-serving-embeddings")
    assert dep["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    assert "initContainers" not in dep["spec"]["template"]["spec"]  # local path: nothing to stage
    assert "nvidia.com/gpu" not in engine_container(dep)["resources"]["requests"]
    pvc = everything.get("PersistentVolumeClaim", "ai-serving-embeddings-cache")
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]


def test_per_replica_scenario(render) -> None:
    r = render(PER_REPLICA)
    assert r.returncode == 0, r.stderr
    kinds = {
        m: r.workload(m)["kind"]
        for m in ("llama3", "qwen-shared", "local-weights", "cpu-embed", "llama3-70b")
    }
    assert kinds == {
        "llama3": "StatefulSet",
        "qwen-shared": "Deployment",
        "local-weights": "Deployment",
        "cpu-embed": "Deployment",
        "llama3-70b": "Deployment",
    }
    big = engine_container(r.workload("llama3-70b"))
    assert big["resources"]["limits"]["nvidia.com/gpu"] == "4"  # TP 2 x PP 2
    assert "--tensor-parallel-size=2" in big["args"] and "--pipeline-parallel-size=2" in big["args"]
    shared = r.workload("qwen-shared")
    assert shared["spec"]["replicas"] == 3 and shared["spec"]["strategy"] == {"type": "Recreate"}
    assert (
        r.get("PersistentVolumeClaim", "vllm-models-qwen-shared-cache")["spec"]["storageClassName"] == "nfs"
    )
    assert not [p for p in r.of_kind("PersistentVolumeClaim") if "local-weights" in p["metadata"]["name"]]
    cpu = r.workload("cpu-embed")
    # a RWO cache cannot follow a surge pod to another node: RollingUpdate without surge
    assert cpu["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    assert engine_container(cpu)["resources"]["requests"] == {"cpu": "500m", "memory": "2Gi"}


def test_only_gpu_pods_tolerate_the_gpu_taint(render) -> None:
    """GPU node pools are tainted; a CPU-only model must not take their slots, a GPU model must fit."""
    rendered = render(
        {
            "models": [
                {"name": "gpu", "modelURL": "org/a"},
                {"name": "cpu", "modelURL": "org/b", "requestGPU": 0},
            ],
            "router": {"auth": {"masterKey": {"value": "sk-test"}}},
        }
    )
    pods = {
        d["metadata"]["labels"]["vllm-models.io/model"]: d["spec"]["template"]["spec"]
        for d in rendered.of_kind("Deployment")
        if "vllm-models.io/model" in d["metadata"]["labels"]
    }
    assert pods["gpu"]["tolerations"] == [
        {"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"}
    ]
    assert "tolerations" not in pods["cpu"]
