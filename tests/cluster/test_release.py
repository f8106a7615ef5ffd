"""The chart in a real control plane: install, upgrade, rollback, uninstall, GPU placement, rollouts.

The scheduler is the real kube-scheduler, so GPU requests and node selectors are checked for real on the
simulated nodes (gpu-h100: 8 GPUs, gpu-l4: 1 GPU). Tests run one after another and each waits for its
namespace to be gone, because the single L4 GPU is shared by all of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from typing import Any

import pytest
import yaml
from pytest_helm_charts.clusters import Cluster
from pytest_helm_charts.k8s.deployment import wait_for_deployments_to_run

from tests.cluster.release import Release, nodes_with_product, running_on, unschedulable_reason
from tests.support import REPO_ROOT, wait_for

pytestmark = pytest.mark.cluster

H100 = "NVIDIA-H100-80GB-HBM3"
L4 = "NVIDIA-L4"


def model(name: str, **fields: Any) -> dict[str, Any]:
    """A small model entry; the engines are simulated, so only scheduling inputs matter."""
    return {
        "name": name,
        "modelURL": "Qwen/Qwen2.5-0.5B-Instruct",
        "requestCPU": 1,
        "requestMemory": "2Gi",
        "pvcStorage": "10Gi",
        **fields,
    }


def h100_model(name: str, **fields: Any) -> dict[str, Any]:
    engine = {"tensorParallelSize": 2, **fields.pop("vllmConfig", {})}
    return model(name, gpuProduct=H100, requestGPU=2, vllmConfig=engine, **fields)


def l4_model(name: str, **fields: Any) -> dict[str, Any]:
    return model(name, gpuProduct=L4, **fields)


def ready_pods(release: Release, name: str, count: int = 1) -> list[dict[str, Any]]:
    def ready() -> list[dict[str, Any]] | None:
        pods = release.pods(name)
        ok = [
            p
            for p in pods
            if any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))
        ]
        return ok if len(ok) == count and len(pods) == count else None

    result: list[dict[str, Any]] = wait_for(ready, f"{count} ready pod(s) of model {name}")
    return result


def pod_uids(release: Release, name: str) -> set[str]:
    return {p["metadata"]["uid"] for p in release.pods(name)}


def test_install_places_models_on_their_gpus_and_binds_caches(
    release: Release, kube_cluster: Cluster
) -> None:
    result = release.upgrade([h100_model("alpha"), l4_model("beta")])
    assert result.returncode == 0, result.stderr
    assert kube_cluster.kube_client is not None
    deployments = wait_for_deployments_to_run(
        kube_cluster.kube_client, ["vllm-models-alpha", "vllm-models-beta"], release.namespace, timeout_sec=60
    )
    assert len(deployments) == 2

    assert running_on(ready_pods(release, "alpha")) == nodes_with_product(release.kubeconfig, H100)
    assert running_on(ready_pods(release, "beta")) == nodes_with_product(release.kubeconfig, L4)
    claims = release.objects("pvc")
    assert len(claims) == 2
    assert all(c["status"]["phase"] == "Bound" for c in claims)
    services = {s["metadata"]["name"] for s in release.objects("service")}
    assert {"vllm-models-alpha", "vllm-models-beta"} <= services


def test_upgrade_rollback_uninstall_keeps_weight_caches(release: Release) -> None:
    first = release.upgrade([h100_model("alpha"), l4_model("beta", vllmConfig={"maxModelLen": 4096})])
    assert first.returncode == 0, first.stderr
    second = release.upgrade([h100_model("alpha"), l4_model("beta", vllmConfig={"maxModelLen": 2048})])
    assert second.returncode == 0, second.stderr
    assert "--max-model-len=2048" in engine_args(release, "beta")

    release.helm("rollback", release.name, "1", "--wait", "--timeout", "120s")
    assert "--max-model-len=4096" in engine_args(release, "beta")
    ready_pods(release, "beta")

    caches_before = {c["metadata"]["name"] for c in release.objects("pvc")}
    release.helm("uninstall", release.name, "--wait", "--timeout", "120s")
    assert release.objects("deployment") == []
    assert release.objects("service") == []
    assert {c["metadata"]["name"] for c in release.objects("pvc")} == caches_before


def engine_args(release: Release, name: str) -> list[str]:
    (workload,) = release.objects("deployment", f"vllm-models.io/model={name}")
    containers = workload["spec"]["template"]["spec"]["containers"]
    engine = next(c for c in containers if c["name"] == "vllm")
    return list(engine.get("command", [])) + list(engine.get("args", []))


def test_removing_a_model_keeps_its_cache(release: Release) -> None:
    assert release.upgrade([h100_model("alpha"), l4_model("beta")]).returncode == 0
    beta_claims = {c["metadata"]["name"] for c in release.objects("pvc", "vllm-models.io/model=beta")}
    assert beta_claims

    assert release.upgrade([h100_model("alpha")]).returncode == 0
    assert release.objects("deployment", "vllm-models.io/model=beta") == []
    wait_for(lambda: release.pods("beta") == [], "beta's pods to go")
    assert {c["metadata"]["name"] for c in release.objects("pvc")} >= beta_claims


def test_config_change_restarts_only_that_model(release: Release) -> None:
    """Through `just vllm::upgrade`, as a user runs it, observed in the cluster."""
    models_file = release.workdir / "models.yaml"

    def just_upgrade(alpha_len: int) -> None:
        models = [
            h100_model("alpha", vllmConfig={"maxModelLen": alpha_len}),
            l4_model("beta"),
        ]
        models_file.write_text(yaml.safe_dump(models, sort_keys=False))
        run_just(release, "vllm::upgrade")

    just_upgrade(8192)
    alpha_before, beta_before = pod_uids(release, "alpha"), pod_uids(release, "beta")
    assert alpha_before and beta_before

    just_upgrade(4096)
    wait_for(lambda: pod_uids(release, "alpha").isdisjoint(alpha_before), "alpha's pods to be replaced")
    ready_pods(release, "alpha")
    assert pod_uids(release, "beta") == beta_before


def just(release: Release, *recipe: str, helm_timeout: str = "120s") -> subprocess.CompletedProcess[str]:
    """A `just` recipe as a user runs it, against the test's namespace, with its files in the workdir."""
    env = {
        **os.environ,
        "KUBECONFIG": release.kubeconfig,
        "VLLM_NAMESPACE": release.namespace,
        "VLLM_MODELS_FILE": str(release.workdir / "models.yaml"),
        "VLLM_VALUES_FILE": str(release.workdir / "values.generated.yaml"),
        "VLLM_API_KEY": "sk-cluster-test",
        "VLLM_HELM_TIMEOUT": helm_timeout,
    }
    return subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "just"), *recipe],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def run_just(release: Release, *recipe: str) -> str:
    result = just(release, *recipe)
    assert result.returncode == 0, f"just {' '.join(recipe)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_unplaceable_model_is_refused_before_anything_is_applied(release: Release) -> None:
    """Two L4 GPUs on a cluster whose one L4 node has one: refused in seconds with each node's reason,
    instead of `helm upgrade --wait` waiting out its timeout; nothing is created in the namespace."""
    (release.workdir / "models.yaml").write_text(
        "- name: big\n  modelURL: org/model\n  requestGPU: 2\n  gpuProduct: NVIDIA-L4\n"
    )
    started = time.monotonic()
    result = just(release, "vllm::upgrade")
    assert result.returncode != 0
    assert time.monotonic() - started < 60
    assert "big: no node can hold a replica:" in result.stderr
    assert "gpu-l4: nvidia.com/gpu: 1 free, 2 requested" in result.stderr, result.stderr
    assert "nothing was applied" in result.stderr
    assert release.helm("list", "-q").stdout.strip() == ""
    for kind in ("secrets", "persistentvolumeclaims", "deployments", "configmaps"):
        names = [
            o["metadata"]["name"]
            for o in release.objects(kind)
            if o["metadata"]["name"] != "kube-root-ca.crt"
        ]
        assert names == [], f"{kind} created although the upgrade was refused: {names}"


def test_failed_upgrade_rolls_back_and_the_previous_pods_keep_serving(release: Release) -> None:
    """An upgrade whose new pod can never schedule (checked only by the scheduler: the placement check is
    skipped): `just vllm::upgrade` names the model and the scheduler's reason, rolls back, and the pods
    and weight caches of the revision before are the ones still running."""
    models_file = release.workdir / "models.yaml"
    # no GPU and a cache any node can mount: the new pod surges beside the old one, which keeps serving
    # (a GPU or ReadWriteOnce model replaces its pod first, and the rollback brings the old revision back)
    web = model("web", requestGPU=0, pvcAccessMode="ReadWriteMany")
    cpu_models = [web, model("chat", requestGPU=0)]
    models_file.write_text(yaml.safe_dump(cpu_models, sort_keys=False))
    run_just(release, "vllm::upgrade")
    pods_before = {name: pod_uids(release, name) for name in ("web", "chat")}
    caches_before = {c["metadata"]["uid"] for c in release.objects("pvc")}

    unschedulable = {**web, "nodeSelector": {"pool": "nowhere"}}
    models_file.write_text(yaml.safe_dump([unschedulable, cpu_models[1]], sort_keys=False))
    result = just(release, "vllm::upgrade", "--no-cluster-check", helm_timeout="30s")

    assert result.returncode != 0
    assert "web: pod vllm-models-web-" in result.stderr, result.stderr
    assert "Pending: Unschedulable: 0/3 nodes are available" in result.stderr
    assert "didn't match Pod's node affinity/selector" in result.stderr
    assert "rolled back to revision 1, which keeps serving" in result.stderr
    assert "chat: pod" not in result.stderr
    history = json.loads(release.helm("history", release.name, "-o", "json").stdout)
    assert [r["status"] for r in history] == ["superseded", "failed", "deployed"]
    wait_for(lambda: all(p.get("spec", {}).get("nodeSelector", {}).get("pool") is None
                         for p in release.pods("web")) or None, "the unschedulable pod to go")  # fmt: skip
    assert {name: pod_uids(release, name) for name in ("web", "chat")} == pods_before
    ready_pods(release, "web")
    assert {c["metadata"]["uid"] for c in release.objects("pvc")} == caches_before


def test_model_larger_than_any_node_stays_pending_with_the_schedulers_reason(release: Release) -> None:
    # one pod of 16 GPUs (gpusPerNode says the nodes have 16; the cluster's largest has 8)
    huge = model(
        "huge", gpuProduct=H100, requestGPU=16, gpusPerNode=16, vllmConfig={"tensorParallelSize": 16}
    )
    assert release.upgrade([huge], wait=False).returncode == 0

    # the scheduler may first report the cache claim the volume controller has not bound yet
    reason = wait_for(
        lambda: next(
            (r for p in release.pods("huge") if "nvidia.com/gpu" in (r := unschedulable_reason(p) or "")),
            None,
        ),
        "the scheduler to give up on the 16-GPU pod for its GPUs",
    )
    assert "Insufficient nvidia.com/gpu" in reason
    status = run_just(release, "vllm::status")
    assert "huge" in status
    assert "Insufficient nvidia.com/gpu" in status


def test_single_gpu_rollout_recreate_does_not_deadlock(release: Release) -> None:
    assert release.upgrade([l4_model("solo", vllmConfig={"maxModelLen": 4096})]).returncode == 0
    before = pod_uids(release, "solo")

    result = release.upgrade([l4_model("solo", vllmConfig={"maxModelLen": 2048})])
    assert result.returncode == 0, f"Recreate rollout on the only L4 did not finish: {result.stderr}"
    after = ready_pods(release, "solo")
    assert {p["metadata"]["uid"] for p in after}.isdisjoint(before)
    assert running_on(after) == nodes_with_product(release.kubeconfig, L4)


def test_rolling_update_with_surge_would_deadlock_on_a_single_gpu(release: Release) -> None:
    """The counterfactual of the default: Kubernetes' own RollingUpdate (maxSurge 1, maxUnavailable 0),
    as a hand-written manifest gets it, starts a new pod that waits forever for the GPU its predecessor
    holds. (The chart's RollingUpdate for GPU models is maxSurge 0, so even that override cannot do this.)"""
    assert release.upgrade([l4_model("solo")]).returncode == 0
    (old,) = ready_pods(release, "solo")
    (workload,) = release.objects("deployment", "vllm-models.io/model=solo")
    name = workload["metadata"]["name"]

    surge = {
        "spec": {
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": {"annotations": {"vllm-models.io/test-change": "1"}}},
        }
    }
    release.kubectl("patch", "deployment", name, "--type=strategic", "-p", json.dumps(surge))
    rollout = release.kubectl("rollout", "status", f"deployment/{name}", "--timeout=20s", check=False)
    assert rollout.returncode != 0, "the surge rollout finished although the only L4 GPU was taken"

    pods = release.pods("solo")
    pending = [p for p in pods if p["metadata"]["uid"] != old["metadata"]["uid"]]
    assert pending, "no surge pod was created"
    assert "Insufficient nvidia.com/gpu" in (unschedulable_reason(pending[0]) or "")
    assert old["metadata"]["uid"] in {p["metadata"]["uid"] for p in pods}, (
        "the old pod must still hold the GPU"
    )


def test_replicas_with_a_readwriteonce_cache_each_get_their_own(release: Release) -> None:
    """`replicaCount: 2` on a ReadWriteOnce cache: no volume shared across nodes, so no Multi-Attach error."""
    assert release.upgrade([h100_model("pair", replicaCount=2)]).returncode == 0
    pods = ready_pods(release, "pair", count=2)
    claims_per_pod = [
        {
            v["persistentVolumeClaim"]["claimName"]
            for v in p["spec"]["volumes"]
            if "persistentVolumeClaim" in v
        }
        for p in pods
    ]
    assert all(len(c) == 1 for c in claims_per_pod)
    assert claims_per_pod[0] != claims_per_pod[1]


@pytest.mark.parametrize("fixture", ["models-list-unchanged.yaml", "replicas-rwo-per-replica-cache.yaml"])
def test_users_models_yaml_deploys_unchanged(release: Release, fixture: str) -> None:
    """Users' models.yaml files, byte for byte, through `just vllm::upgrade`: every model's pods run on a
    GPU node, and the two replicas of a ReadWriteOnce cache each get their own claim (no Multi-Attach)."""
    source = REPO_ROOT / "tests" / "fixtures" / "models" / "valid" / fixture
    models = yaml.safe_load(source.read_text())
    (release.workdir / "models.yaml").write_bytes(source.read_bytes())
    run_just(release, "vllm::upgrade")

    for entry in models:
        pods = ready_pods(release, entry["name"], count=entry.get("replicaCount", 1))
        assert running_on(pods) <= nodes_with_gpus(release.kubeconfig)
        claims = {
            v["persistentVolumeClaim"]["claimName"]
            for p in pods
            for v in p["spec"]["volumes"]
            if "persistentVolumeClaim" in v
        }
        assert len(claims) == len(pods)


def nodes_with_gpus(kubeconfig: str) -> set[str]:
    return nodes_with_product(kubeconfig, H100) | nodes_with_product(kubeconfig, L4)
