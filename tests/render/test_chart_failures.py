"""Missing or contradictory input fails `helm template` with a message that names the value to set."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.render

ROUTER_OFF = {"router": {"enabled": False}}


def model(**kw: object) -> dict:
    return {"name": "m", "modelURL": "org/model", **kw}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param({"models": []}, ["`models` must list at least one model"], id="no-models"),
        pytest.param({}, ["`models` must list at least one model"], id="defaults-only"),
        pytest.param({"models": [{"name": "m"}]}, ["/models/0", "modelURL"], id="no-modelURL"),
        pytest.param({"models": [{"modelURL": "org/m"}]}, ["/models/0", "name"], id="no-name"),
        pytest.param(
            {"models": [model(), model()]}, ['models[1].name "m" is used twice'], id="duplicate-name"
        ),
        pytest.param(
            {"models": [model(vllmConfig={"maxModelLn": 8})]}, ["maxModelLn"], id="typo-in-vllmConfig"
        ),
        pytest.param({"models": [model(replicas=2)]}, ["replicas"], id="typo-in-model"),
        pytest.param(
            {"models": [model()], "modelDefaults": {"modelURL": "org/x"}},
            ["/modelDefaults", "modelURL"],
            id="modelURL-in-defaults",
        ),
        pytest.param({"models": [model(name="Llama_3")]}, ["/models/0/name"], id="name-not-a-dns-label"),
        pytest.param({"models": [model(name="x" * 41)]}, ["/models/0/name"], id="name-too-long"),
        pytest.param({"models": [model()], "imge": {}}, ["imge"], id="typo-at-top-level"),
        pytest.param(
            {"models": [model(requestGPU=1, vllmConfig={"tensorParallelSize": 2})]},
            ["requestGPU is 1", "tensorParallelSize"],
            id="too-few-gpus",
        ),
        pytest.param(
            {"models": [model(replicaCount=2, cacheMode="shared")]},
            ["cacheMode: per-replica", "ReadWriteMany"],
            id="shared-rwo-cache",
        ),
        pytest.param(
            {"models": [model(vllmConfig={"tensorParallelSize": 4, "pipelineParallelSize": 3})]},
            ["needs 12 GPUs per replica", "gpusPerNode 8", "not a multiple of 8"],
            id="multi-node-gpus-not-whole-nodes",
        ),
        pytest.param(
            {
                "models": [
                    model(
                        vllmConfig={"tensorParallelSize": 8, "pipelineParallelSize": 2},
                        autoscaling={"enabled": True, "maxReplicas": 2},
                    )
                ]
            },
            ["spans 2 nodes", "does not autoscale"],
            id="multi-node-autoscaled",
        ),
        pytest.param(
            {
                "models": [model(vllmConfig={"tensorParallelSize": 16})],
                "router": {"engine": "vllm-router", "auth": {"enabled": False}},
            },
            ["discovery=kubernetes cannot serve model", "spans 2 nodes", "headless workers"],
            id="multi-node-behind-vllm-router-discovery",
        ),
        pytest.param(
            {"models": [model(gpusPerNode=4, cacheMode="shared", vllmConfig={"tensorParallelSize": 8})]},
            ["2 pods cannot share one ReadWriteOnce", "cacheMode: per-replica"],
            id="multi-node-shared-rwo-cache",
        ),
        pytest.param(
            {"models": [model(cacheMode="per-replica", existingClaim="c")]},
            ["per-replica cannot use existingClaim"],
            id="per-replica-with-claim",
        ),
        pytest.param(
            {"models": [model()], "hfToken": {"existingSecret": "s", "value": "v"}},
            ["hfToken.existingSecret", "hfToken.value"],
            id="hf-token-twice",
        ),
        pytest.param(
            {"models": [model()], "engineApiKey": {"existingSecret": "s", "value": "v"}},
            ["engineApiKey.existingSecret", "engineApiKey.value"],
            id="api-key-twice",
        ),
        pytest.param(
            {"models": [model(autoscaling={"enabled": True, "minReplicas": 3, "maxReplicas": 2})]},
            ["models[0] (m): autoscaling.minReplicas 3 is above maxReplicas 2"],
            id="autoscaling-min-above-max",
        ),
        pytest.param(
            {
                "models": [model(autoscaling={"enabled": True, "minReplicas": 0, "maxReplicas": 2})],
                "autoscaling": {"provider": "hpa"},
            },
            ["autoscaling.minReplicas 0 (scale to zero) needs autoscaling.provider keda", "HPAScaleToZero"],
            id="autoscaling-zero-with-hpa",
        ),
        pytest.param(
            {"models": [model(autoscaling={"enabled": True})]},
            ["autoscaling.maxReplicas is required"],
            id="autoscaling-without-max",
        ),
        pytest.param(
            {"models": [model(autoscaling={"enabled": True, "maxReplicas": 2})]},
            ["autoscaling.prometheus.serverAddress is required with autoscaling.provider keda"],
            id="autoscaling-keda-without-prometheus",
        ),
        pytest.param(
            {
                "models": [
                    model(
                        autoscaling={"enabled": True, "maxReplicas": 2, "metric": "vllm:num_requests_running"}
                    )
                ],
                "autoscaling": {"provider": "hpa"},
            },
            ["autoscaling.target is required with metric vllm:num_requests_running"],
            id="autoscaling-running-without-target",
        ),
        pytest.param(
            {
                "models": [
                    model(
                        autoscaling={
                            "enabled": True,
                            "maxReplicas": 2,
                            "metric": "vllm:kv_cache_usage_perc",
                            "target": 80,
                        }
                    )
                ],
                "autoscaling": {"provider": "hpa"},
            },
            ["autoscaling.target 80 is above 1"],
            id="autoscaling-kv-target-percent",
        ),
        pytest.param(
            {"models": [model(autoscaling={"enabled": True, "maxReplicas": 2, "minReplicas": -1})]},
            ["/models/0/autoscaling/minReplicas"],
            id="autoscaling-negative-min",
        ),
        pytest.param(
            {"models": [model()], "autoscaling": {"provider": "knative"}},
            ["/autoscaling/provider"],
            id="autoscaling-unknown-provider",
        ),
    ],
)
def test_fails_naming_the_value(render, values: dict, expected: list[str]) -> None:
    r = render({**ROUTER_OFF, **values})
    assert r.returncode != 0, "rendered although the input is wrong"
    for fragment in expected:
        assert fragment in r.stderr, f"{fragment!r} not in: {r.stderr}"


def test_wrong_model_id_fails_in_the_init_container_not_the_engine(render) -> None:
    """A wrong Hugging Face id: the engine crash-looped on RepositoryNotFoundError. The staging step
    fails first, with the hub's message as the termination message, and the engine runs offline."""
    r = render({**ROUTER_OFF, "models": [model(modelURL="openai/llama-3-3-70b", revision="main")]})
    assert r.returncode == 0, r.stderr
    pod = r.workload("m")["spec"]["template"]["spec"]
    (stage,) = pod["initContainers"]
    script = stage["command"][2]
    assert "snapshot_download(repo, revision=revision)" in script
    assert "sys.exit(1)" in script and 'open(os.environ["TERMINATION_MESSAGE_PATH"], "w")' in script
    assert stage["terminationMessagePolicy"] == "FallbackToLogsOnError"
    env = {e["name"]: e.get("value") for e in stage["env"]}
    assert env["TERMINATION_MESSAGE_PATH"] == stage["terminationMessagePath"] == "/dev/termination-log"
    assert env["MODEL_ID"] == "openai/llama-3-3-70b" and env["MODEL_REVISION"] == "main"
    engine = pod["containers"][0]
    assert {e["name"]: e.get("value") for e in engine["env"]}["HF_HUB_OFFLINE"] == "1"
    assert "--revision=main" in engine["args"]


def test_local_path_model_skips_staging(render) -> None:
    r = render({**ROUTER_OFF, "models": [model(modelURL="/models/my-finetune", existingClaim="weights")]})
    assert r.returncode == 0, r.stderr
    pod = r.workload("m")["spec"]["template"]["spec"]
    assert "initContainers" not in pod
    assert pod["containers"][0]["args"][0] == "/models/my-finetune"
    assert not r.of_kind("PersistentVolumeClaim")  # the existing claim is used, none is created


def test_secrets_only_from_explicit_values(render) -> None:
    r = render({**ROUTER_OFF, "models": [model()]})
    assert r.returncode == 0, r.stderr
    assert not r.of_kind("Secret")
    r = render(
        {**ROUTER_OFF, "models": [model()], "hfToken": {"value": "hf_abc"}, "engineApiKey": {"value": "sk"}}
    )
    assert r.returncode == 0, r.stderr
    names = sorted(s["metadata"]["name"] for s in r.of_kind("Secret"))
    assert names == ["vllm-models-engine-api-key", "vllm-models-hf-token"]
    engine = r.workload("m")["spec"]["template"]["spec"]["containers"][0]
    key = {e["name"]: e for e in engine["env"]}["VLLM_API_KEY"]
    assert key["valueFrom"]["secretKeyRef"] == {"name": "vllm-models-engine-api-key", "key": "api-key"}


def test_without_staging_the_engine_downloads_online(render) -> None:
    r = render(
        {
            **ROUTER_OFF,
            "models": [model()],
            "engine": {"stageWeights": {"enabled": False}},
            "hfToken": {"existingSecret": "hf"},
        }
    )
    assert r.returncode == 0, r.stderr
    pod = r.workload("m")["spec"]["template"]["spec"]
    assert "initContainers" not in pod
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert "HF_HUB_OFFLINE" not in env
    assert env["HF_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "hf", "key": "token"}
