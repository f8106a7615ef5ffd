"""What `networkPolicy.enabled` means, not how its YAML reads: who can open a connection to an engine.

The chart is rendered for two releases in one namespace, its pods are made from the rendered pod
templates (their labels and named container ports), and every question "may A connect to B on port P?"
is answered by hack/tools/netpol-eval: sigs.k8s.io/kube-network-policies' own packet evaluator
(`(*Controller).evaluatePacket`, the function that decides every new connection in that NetworkPolicy
implementation), fed the rendered NetworkPolicies of both releases. Nothing here matches a selector.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import pytest
import yaml
from render_helpers import CHART, NAMESPACE, RELEASE, Rendered, engine_container

from tests.support import find_tool

pytestmark = pytest.mark.render

OTHER_RELEASE = "other"  # a second install of the chart in the same namespace
MONITORING = "monitoring"  # the namespace networkPolicy.allowNamespaces lets in
UNLISTED = "default"  # a namespace it does not
# Stands for huggingface.co (the hub the engines stage weights from): any address outside the cluster.
HUB_IP = "203.0.113.10"
HTTPS = 443
VALUES: dict[str, Any] = {
    "models": [
        {"name": "alpha", "modelURL": "org/alpha"},
        {"name": "beta", "modelURL": "org/beta"},
    ],
    "networkPolicy": {"enabled": True, "allowNamespaces": [MONITORING]},
    # the chart's own answer to "where are the engines' metrics scraped": its ServiceMonitors
    "serviceMonitor": {"enabled": True},
    "router": {"auth": {"masterKey": {"value": "m"}}},
}
MODELS = ("alpha", "beta")


def _pods_of(r: Rendered, release: str, ips: Iterator[int]) -> dict[str, dict[str, Any]]:
    """One running pod per rendered workload, labelled and with ports as its pod template says."""
    pods = {}
    for w in r.objects:
        if w["kind"] not in ("Deployment", "StatefulSet"):
            continue
        template = w["spec"]["template"]
        labels = template["metadata"]["labels"]
        role = labels.get("vllm-models.io/model") or labels["app.kubernetes.io/component"]
        pods[f"{release}/{role}"] = {
            "name": f"{w['metadata']['name']}-0",
            "namespace": NAMESPACE,
            "labels": labels,
            "ip": f"10.244.0.{next(ips)}",
            "containers": template["spec"]["containers"],
        }
    return pods


@dataclass
class World:
    """The rendered objects, the pods made from them, and the evaluator that judges connections."""

    ours: Rendered
    pods: dict[str, dict[str, Any]]
    policies: list[dict[str, Any]]
    netpol_eval: str
    engine_port: int  # the engine container's API port (vLLM --port), named `http`

    def allowed(self, src: str, dst: str, port: int, protocol: str = "TCP") -> bool:
        """kube-network-policies' verdict on a new connection from src to dst (pod keys or IPs)."""

        def endpoint(name: str) -> dict[str, str]:
            if name in self.pods:
                return {"pod": f"{self.pods[name]['namespace']}/{self.pods[name]['name']}"}
            return {"ip": name}

        query = {"name": "q", "from": endpoint(src), "to": endpoint(dst), "port": port, "protocol": protocol}
        world = {
            "policies": self.policies,
            "namespaces": [{"name": n} for n in (NAMESPACE, MONITORING, UNLISTED)],
            "pods": list(self.pods.values()),
            "queries": [query],
        }
        proc = subprocess.run(
            [self.netpol_eval],
            input=json.dumps(world),
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        (verdict,) = json.loads(proc.stdout)["verdicts"]
        return bool(verdict["allowed"])


@pytest.fixture(scope="module")
def world(render) -> World:
    # Without the tool nothing here can be decided; in CI the skip counts as a failure (tests/conftest.py).
    tool = find_tool("netpol-eval")
    if tool is None:
        pytest.skip("netpol-eval is not built: run ./hack/bootstrap netpol-eval")
    ours, theirs = render(VALUES), render(VALUES, release=OTHER_RELEASE)
    assert ours.returncode == 0, ours.stderr
    assert theirs.returncode == 0, theirs.stderr
    ips = count(10)
    pods = {**_pods_of(ours, RELEASE, ips), **_pods_of(theirs, OTHER_RELEASE, ips)}
    # Pods the chart does not make: a client in the release's namespace, a scraper in the listed
    # namespace and the same scraper in a namespace that is not listed.
    pods["curl"] = {"name": "curl", "namespace": NAMESPACE, "labels": {"app": "curl"}, "ip": "10.244.1.1"}
    pods["prometheus"] = {
        "name": "prometheus-0",
        "namespace": MONITORING,
        "labels": {"app.kubernetes.io/name": "prometheus"},
        "ip": "10.244.2.1",
    }
    pods["unlisted-prometheus"] = {**pods["prometheus"], "namespace": UNLISTED, "ip": "10.244.3.1"}
    # The engine's API port, by the name the engine Service targets (not read from the policy: the
    # policy is what is being judged).
    engine = engine_container(ours.workload("alpha"))
    (engine_port,) = [p["containerPort"] for p in engine["ports"] if p["name"] == "http"]
    # Both releases' policies are in force at once, as they would be in the namespace.
    policies = ours.of_kind("NetworkPolicy") + theirs.of_kind("NetworkPolicy")
    return World(ours, pods, policies, tool, engine_port)


def engines(release: str = RELEASE) -> list[str]:
    return [f"{release}/{m}" for m in MODELS]


def test_the_router_reaches_every_engine_on_the_engine_port(world: World) -> None:
    # (a) the router is the engines' one client: it must get through to each model, on vLLM's port.
    assert world.engine_port == 8000
    for engine in engines():
        assert world.allowed(f"{RELEASE}/router", engine, world.engine_port), engine


def test_other_pod_in_the_namespace_cannot_reach_an_engine(world: World) -> None:
    # (b) sharing the namespace grants nothing: without this release's router labels, no way in.
    for engine in engines():
        assert not world.allowed("curl", engine, world.engine_port), engine


def test_the_router_of_another_release_cannot_reach_this_releases_engines(world: World) -> None:
    # (e) two installs of the chart in one namespace: each router reaches its own engines only,
    # because the router selector includes app.kubernetes.io/instance.
    for ours, theirs in zip(engines(), engines(OTHER_RELEASE), strict=True):
        assert not world.allowed(f"{OTHER_RELEASE}/router", ours, world.engine_port), ours
        assert not world.allowed(f"{RELEASE}/router", theirs, world.engine_port), theirs
        # ...while each release's own router still gets through: one policy does not shadow the other
        assert world.allowed(f"{OTHER_RELEASE}/router", theirs, world.engine_port), theirs


def test_monitoring_namespace_scrapes_the_engines_metrics_port(world: World) -> None:
    # (c) where the chart scrapes an engine: its ServiceMonitor's endpoint names a Service port whose
    # targetPort is the engine container's `http`, the port the policy opens. vLLM serves /metrics on
    # its API port, so that port is what a listed namespace needs, and it gets it.
    monitors = [
        m for m in world.ours.of_kind("ServiceMonitor") if "vllm-models.io/model" in m["metadata"]["labels"]
    ]
    assert len(monitors) == len(MODELS)
    for sm in monitors:
        (endpoint,) = sm["spec"]["endpoints"]
        assert endpoint["path"] == "/metrics"
        service = world.ours.get("Service", sm["metadata"]["name"])
        (target,) = [p["targetPort"] for p in service["spec"]["ports"] if p["name"] == endpoint["port"]]
        assert target == "http", sm["metadata"]["name"]
    for engine in engines():
        assert world.allowed("prometheus", engine, world.engine_port), engine


def test_monitoring_namespace_gets_no_other_port(world: World) -> None:
    # (c) the listed namespace is let in on the engine port only, not every port: any other TCP port,
    # and UDP on the engine port, stay closed. (What NetworkPolicy cannot do: tell /metrics from
    # /v1/* on the same port; the API itself is behind engineApiKey when that is set.)
    for engine in engines():
        for port, proto in ((world.engine_port + 1, "TCP"), (9090, "TCP"), (world.engine_port, "UDP")):
            assert not world.allowed("prometheus", engine, port, proto), (engine, port, proto)


def test_a_namespace_not_listed_cannot_reach_an_engine(world: World) -> None:
    # allowNamespaces names namespaces: the same scraper elsewhere is a stranger.
    for engine in engines():
        assert not world.allowed("unlisted-prometheus", engine, world.engine_port), engine


def test_engines_reach_the_hub_to_stage_weights(world: World) -> None:
    # (d) the policy is ingress-only (policyTypes [Ingress]), so engine egress is not restricted:
    # the weight-staging init container and the engine reach the hub over HTTPS.
    for engine in engines():
        assert world.allowed(engine, HUB_IP, HTTPS), engine
    (policy,) = world.ours.of_kind("NetworkPolicy")
    assert policy["spec"]["policyTypes"] == ["Ingress"]


def test_clients_still_reach_the_router(world: World) -> None:
    # The policy isolates the engines only: the gateway in front of them stays open to its clients.
    router = world.pods[f"{RELEASE}/router"]
    (port,) = [p["containerPort"] for c in router["containers"] for p in c.get("ports", [])]
    assert world.allowed("curl", f"{RELEASE}/router", port)


def install_notes(helm: str, tmp_path: Path, values: dict[str, Any]) -> str:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    proc = subprocess.run(
        [helm, "install", "vllm-models", str(CHART), "-n", "vllm", "--dry-run=client", "-f", str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split("NOTES:", 1)[1]


def test_notes_warn_when_the_default_policy_would_block_prometheus(helm: str, tmp_path: Path) -> None:
    models = [{"name": "llama3", "modelURL": "meta-llama/Llama-3.2-3B-Instruct"}]
    base = {"models": models, "router": {"auth": {"masterKey": {"existingSecret": "k"}}}}
    blocked = install_notes(helm, tmp_path, {**base, "serviceMonitor": {"enabled": True}})
    assert "a Prometheus in another\nnamespace cannot scrape them" in blocked
    allowed = {
        **base,
        "serviceMonitor": {"enabled": True},
        "networkPolicy": {"allowNamespaces": ["monitoring"]},
    }
    assert "Warning" not in install_notes(helm, tmp_path, allowed)
    no_router = install_notes(helm, tmp_path, {"models": models, "router": {"enabled": False}})
    assert "only pods in networkPolicy.allowNamespaces\n(none) can reach the engines" in no_router
