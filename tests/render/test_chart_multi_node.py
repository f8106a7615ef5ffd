"""A model wider than one node as the chart renders it: one LeaderWorkerSet whose leader and workers each
take `gpusPerNode` GPUs and start vLLM's native multi-node launch, the model's Service and the router on
the leader only, a weight cache per pod, and a NetworkPolicy that lets the group's pods reach each other.

The LeaderWorkerSet is validated against the vendored LWS CRD (test_chart_validate.py), its leader and
worker commands by vLLM 0.32.0's parser (test_engine_args.py, via the llama405b-two-nodes golden), and its
admission by a real API server (tests/cluster/test_multi_node.py). The connection questions are answered
by kube-network-policies' own evaluator (hack/tools/netpol-eval), as in test_network_policy_meaning.py.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
import yaml
from engine_args import LWS_ENV, expand_references
from render_helpers import FIXTURES, NAMESPACE, Rendered, checksum, engine_container
from vllm_models.local.manifest import Release, service_targets

from tests.support import find_tool

pytestmark = pytest.mark.render

EXAMPLE = FIXTURES / "llama405b-two-nodes.yaml"
BIG = "llama-3-1-405b"
MASTER_PORT = 29501  # vLLM's default --master-port, which the workers dial on the leader


def lws(r: Rendered, model: str) -> dict[str, Any]:
    (found,) = [
        o for o in r.of_kind("LeaderWorkerSet") if o["metadata"]["labels"]["vllm-models.io/model"] == model
    ]
    return found


def templates(group: dict[str, Any]) -> dict[str, dict[str, Any]]:
    lwt = group["spec"]["leaderWorkerTemplate"]
    return {"leader": lwt["leaderTemplate"], "worker": lwt["workerTemplate"]}


def vllm(template: dict[str, Any]) -> dict[str, Any]:
    return engine_container({"spec": {"template": template}})


def big_model(**extra: Any) -> dict[str, Any]:
    entry = {
        "name": "big",
        "modelURL": "org/big",
        "vllmConfig": {"tensorParallelSize": 8, "pipelineParallelSize": 2},
    }
    return {"models": [{**entry, **extra}], "router": {"auth": {"masterKey": {"value": "m"}}}}


def test_sixteen_gpus_on_eight_gpu_nodes_is_one_leader_and_one_worker(render) -> None:
    r = render(EXAMPLE)
    assert r.returncode == 0, r.stderr
    group = lws(r, BIG)
    assert group["spec"]["leaderWorkerTemplate"]["size"] == 2
    assert group["spec"]["replicas"] == 1
    # no Deployment or StatefulSet runs the big model beside its LeaderWorkerSet
    assert not [
        o
        for o in r.of_kind("Deployment") + r.of_kind("StatefulSet")
        if o["metadata"]["labels"].get("vllm-models.io/model") == BIG
    ]
    for role, template in templates(group).items():
        resources = vllm(template)["resources"]
        assert resources["requests"]["nvidia.com/gpu"] == "8", role
        assert resources["limits"]["nvidia.com/gpu"] == "8", role
        assert template["spec"]["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}


def test_each_pod_starts_with_its_node_rank_and_the_leaders_address(render) -> None:
    """The args as the kubelet runs them, with the environment the LeaderWorkerSet controller injects."""
    r = render(EXAMPLE)
    leader, worker = (vllm(t) for t in templates(lws(r, BIG)).values())

    def launched(container: dict[str, Any], index: int) -> list[str]:
        env = {**LWS_ENV, "LWS_WORKER_INDEX": str(index)}
        return [expand_references(a, env) for a in container["args"]]

    multi_node = [
        "--tensor-parallel-size=8",
        "--pipeline-parallel-size=2",
        "--distributed-executor-backend=mp",
        "--nnodes=2",
    ]
    leader_args, worker_args = launched(leader, 0), launched(worker, 1)
    for args in (leader_args, worker_args):
        assert all(a in args for a in multi_node), args
        assert f"--master-addr={LWS_ENV['LWS_LEADER_ADDRESS']}" in args
    assert "--node-rank=0" in leader_args and "--headless" not in leader_args
    assert "--node-rank=1" in worker_args and worker_args[-1] == "--headless"


def test_only_the_leader_serves_the_api_and_the_router_points_at_it(render) -> None:
    r = render(EXAMPLE)
    tpl = templates(lws(r, BIG))
    service = r.get("Service", f"vllm-models-{BIG}")
    selector = service["spec"]["selector"]

    def selected(template: dict[str, Any]) -> bool:
        labels = template["metadata"]["labels"]
        return all(labels.get(k) == v for k, v in selector.items())

    assert selected(tpl["leader"]) and not selected(tpl["worker"])
    leader, worker = vllm(tpl["leader"]), vllm(tpl["worker"])
    assert [p["name"] for p in leader["ports"]] == ["http"]
    assert leader["readinessProbe"]["httpGet"]["path"] == "/health"
    # a headless worker has no API server: no port to route to, no /health to probe
    assert "ports" not in worker and "readinessProbe" not in worker and "startupProbe" not in worker
    (config_map,) = [c for c in r.of_kind("ConfigMap") if "config.yaml" in c["data"]]
    entries = yaml.safe_load(config_map["data"]["config.yaml"])["model_list"]
    (entry,) = [e for e in entries if e["model_name"] == BIG]
    assert (
        entry["litellm_params"]["api_base"]
        == f"http://vllm-models-{BIG}.{NAMESPACE}.svc.cluster.local:8000/v1"
    )


def test_every_pod_gets_a_weight_cache_of_its_own_and_keeps_it(render) -> None:
    r = render(EXAMPLE)
    group = lws(r, BIG)
    lwt = group["spec"]["leaderWorkerTemplate"]
    (claim,) = lwt["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "cache"
    assert claim["spec"]["resources"]["requests"]["storage"] == "500Gi"
    assert lwt["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    for role, template in templates(group).items():
        mounts = {m["name"] for c in template["spec"]["containers"] for m in c["volumeMounts"]}
        assert "cache" in mounts, role
        # the claim template provides the volume; a claim volume of the same name would shadow nothing
        assert "cache" not in {v["name"] for v in template["spec"]["volumes"]}, role
        # each pod stages its own copy before the engine starts offline
        assert [c["name"] for c in template["spec"]["initContainers"]] == ["stage-weights"], role
    assert not [p for p in r.of_kind("PersistentVolumeClaim") if BIG in p["metadata"]["name"]]


def test_a_readwritemany_cache_is_one_claim_for_every_pod(render) -> None:
    r = render(big_model(pvcAccessMode="ReadWriteMany"))
    assert r.returncode == 0, r.stderr
    group = lws(r, "big")
    assert "volumeClaimTemplates" not in group["spec"]["leaderWorkerTemplate"]
    (pvc,) = r.of_kind("PersistentVolumeClaim")
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    for template in templates(group).values():
        (cache,) = [v for v in template["spec"]["volumes"] if v["name"] == "cache"]
        assert cache["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]


def test_smaller_nodes_mean_more_pods_with_fewer_gpus(render) -> None:
    r = render(big_model(gpusPerNode=4))
    assert r.returncode == 0, r.stderr
    group = lws(r, "big")
    assert group["spec"]["leaderWorkerTemplate"]["size"] == 4
    for template in templates(group).values():
        assert vllm(template)["resources"]["requests"]["nvidia.com/gpu"] == "4"
        assert "--nnodes=4" in vllm(template)["args"]


def test_a_model_that_fits_one_node_is_not_restarted_by_gpus_per_node(render) -> None:
    """gpusPerNode shapes nothing of a one-node model: its pods keep their checksum (no restart)."""
    base = {"name": "m", "modelURL": "org/m", "requestGPU": 2, "cacheMode": "shared"}
    values = {"router": {"auth": {"masterKey": {"value": "m"}}}}
    plain = render({**values, "models": [base]})
    wide = render({**values, "models": [{**base, "gpusPerNode": 4}]})
    assert plain.returncode == 0 and wide.returncode == 0, plain.stderr + wide.stderr
    assert checksum(plain.workload("m")) == checksum(wide.workload("m"))
    assert not wide.of_kind("LeaderWorkerSet")


def _allowed(
    netpol_eval: str, r: Rendered, pods: list[dict[str, Any]], src: str, dst: str, port: int
) -> bool:
    query = {"name": "q", "from": {"pod": f"{NAMESPACE}/{src}"}, "to": {"pod": f"{NAMESPACE}/{dst}"}}
    world = {
        "policies": r.of_kind("NetworkPolicy"),
        "namespaces": [{"name": NAMESPACE}],
        "pods": pods,
        "queries": [{**query, "port": port, "protocol": "TCP"}],
    }
    proc = subprocess.run([netpol_eval], input=json.dumps(world), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return bool(json.loads(proc.stdout)["verdicts"][0]["allowed"])


def test_the_group_reaches_its_leader_and_strangers_do_not(render) -> None:
    tool = find_tool("netpol-eval")
    if tool is None:
        pytest.skip("netpol-eval is not built: run ./hack/bootstrap netpol-eval")
    values = {**big_model(), "networkPolicy": {"enabled": True}}
    values["models"].append({"name": "small", "modelURL": "org/small"})
    r = render(values)
    assert r.returncode == 0, r.stderr
    tpl = templates(lws(r, "big"))
    router = r.get("Deployment", "vllm-models-router")["spec"]["template"]
    small = r.workload("small")["spec"]["template"]

    def pod(name: str, template: dict[str, Any], ip: int) -> dict[str, Any]:
        labels = template["metadata"]["labels"]
        containers = template["spec"]["containers"]
        return {
            "name": name,
            "namespace": NAMESPACE,
            "labels": labels,
            "ip": f"10.244.0.{ip}",
            "containers": containers,
        }

    pods = [
        pod("leader", tpl["leader"], 10),
        pod("worker", tpl["worker"], 11),
        pod("router", router, 12),
        pod("small", small, 13),
        {"name": "curl", "namespace": NAMESPACE, "labels": {"app": "curl"}, "ip": "10.244.1.1"},
    ]
    assert _allowed(tool, r, pods, "worker", "leader", MASTER_PORT)
    assert _allowed(tool, r, pods, "leader", "worker", 40000)  # NCCL picks its own ports
    assert _allowed(tool, r, pods, "router", "leader", 8000)
    assert not _allowed(tool, r, pods, "curl", "leader", MASTER_PORT)
    assert not _allowed(tool, r, pods, "curl", "worker", 8000)
    # the group's opening is its own: another model's engine and the group do not gain ports on each other
    assert not _allowed(tool, r, pods, "small", "leader", MASTER_PORT)
    assert not _allowed(tool, r, pods, "leader", "small", MASTER_PORT)
    assert not _allowed(tool, r, pods, "router", "worker", MASTER_PORT)


def test_a_long_model_name_leaves_room_for_the_worker_pods_revision_label(render) -> None:
    """LWS names a group's workers `<name>-<group>` and labels their pods `<name>-<group>-<10-char hash>`:
    the LeaderWorkerSet's name stays at 48 characters so that label fits in 63."""
    name = "m" * 40  # the longest model name the schema allows
    r = render({**big_model(name=name), "fullnameOverride": "f" * 63})
    assert r.returncode == 0, r.stderr
    group = lws(r, name)
    assert len(group["metadata"]["name"]) <= 48
    assert group["metadata"]["name"].endswith(name)
    assert len(f"{group['metadata']['name']}-999-{'h' * 10}") <= 63


def test_the_local_endpoint_runs_a_wide_model_as_its_leader(render) -> None:
    """`vllm-models local-endpoint` (the quickstart's simulated engines) reads the release: a
    LeaderWorkerSet model is one engine, its leader, and the model's Service reaches it."""
    r = render(EXAMPLE)
    release = Release(r.objects)
    workloads = release.engine_workloads()
    assert set(workloads) == {BIG, "llama-3-2-3b"}
    assert "--headless" not in vllm(workloads[BIG]["spec"]["template"])["args"]
    targets = service_targets(release, {BIG: 8000, "llama-3-2-3b": 8000})
    assert targets[(f"vllm-models-{BIG}", NAMESPACE, 8000)] == BIG
