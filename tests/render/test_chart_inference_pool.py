"""inferencePool: the Gateway API Inference Extension path, as the chart renders it.

Off by default; on, per chosen model an InferencePool that selects exactly that model's engine pods on the
engine port, an HTTPRoute from the user's Gateway to the pool, and an endpoint picker whose Service, flags
and RBAC fit the pool. Every object validates strictly: built-in kinds against Kubernetes' OpenAPI, the
pool and the route against the vendored InferencePool and HTTPRoute CRDs. Admission by a real API server
is the cluster tier's (tests/cluster/test_inference_pool.py).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from render_helpers import K8S_VERSIONS, NAMESPACE, Rendered, strict_errors

pytestmark = pytest.mark.render

MODELS = [
    # two replicas on a ReadWriteOnce cache: a StatefulSet
    {"name": "alpha", "modelURL": "org/alpha", "replicaCount": 2},
    {"name": "beta", "modelURL": "org/beta", "servedModelName": "org/beta-instruct"},
]
GATEWAY = {"name": "inference-gateway", "namespace": "gateway-system"}
BASE: dict[str, Any] = {
    "models": MODELS,
    "router": {"auth": {"masterKey": {"existingSecret": "vllm-api-key"}}},
}
ON: dict[str, Any] = {
    **BASE,
    "inferencePool": {"enabled": True, "httpRoute": {"parentRefs": [GATEWAY], "timeout": "600s"}},
}
COMPONENTS = ("inference-pool", "epp")
WORKLOADS = ("Deployment", "StatefulSet")


def pool_objects(r: Rendered) -> list[dict[str, Any]]:
    return [
        o
        for o in r.objects
        if (o["metadata"].get("labels") or {}).get("app.kubernetes.io/component") in COMPONENTS
    ]


def of_model(r: Rendered, kind: str, model: str) -> dict[str, Any]:
    (found,) = [
        o
        for o in pool_objects(r)
        if o["kind"] == kind and o["metadata"]["labels"]["vllm-models.io/model"] == model
    ]
    return found


def selects(match_labels: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in match_labels.items())


def engine_workload(r: Rendered, model: str) -> dict[str, Any]:
    """The model's engine Deployment or StatefulSet (its endpoint picker carries the model label too)."""
    (found,) = [
        o
        for o in r.objects
        if o["kind"] in WORKLOADS
        and o["metadata"]["labels"].get("vllm-models.io/model") == model
        and o["metadata"]["labels"]["app.kubernetes.io/component"] == "engine"
    ]
    return found


def pod_templates(r: Rendered) -> list[tuple[str, dict[str, str]]]:
    """(workload, pod labels) of every pod template the release renders, whatever its component."""
    return [
        (f"{o['kind']}/{o['metadata']['name']}", o["spec"]["template"]["metadata"]["labels"])
        for o in r.objects
        if o["kind"] in WORKLOADS
    ]


def test_off_by_default_renders_nothing_of_the_pool_path(render) -> None:
    r = render(BASE)
    assert r.returncode == 0, r.stderr
    assert pool_objects(r) == []
    assert "inference.networking" not in r.stdout
    assert not r.of_kind("HTTPRoute")


def test_enabled_renders_pool_route_and_picker_per_model(render) -> None:
    r = render(ON)
    assert r.returncode == 0, r.stderr
    names = sorted((o["kind"], o["metadata"]["name"]) for o in pool_objects(r))
    expected = []
    for model in ("alpha", "beta"):
        base = f"vllm-models-{model}"
        expected += [("HTTPRoute", base), ("InferencePool", base)]
        expected += [
            (k, f"{base}-epp") for k in ("ConfigMap", "Deployment", "Role", "RoleBinding", "Service")
        ]
        expected += [("ServiceAccount", f"{base}-epp")]
    assert names == sorted(expected)


@pytest.mark.parametrize("model", ["alpha", "beta"])
def test_pool_selects_exactly_its_models_engine_pods_on_the_engine_port(render, model: str) -> None:
    r = render(ON)
    assert r.returncode == 0, r.stderr
    pool = of_model(r, "InferencePool", model)
    chosen = [
        name for name, labels in pod_templates(r) if selects(pool["spec"]["selector"]["matchLabels"], labels)
    ]
    workload = engine_workload(r, model)
    assert chosen == [f"{workload['kind']}/{workload['metadata']['name']}"]
    engine = workload["spec"]["template"]["spec"]["containers"]
    ports = [
        p["containerPort"] for c in engine if c["name"] == "vllm" for p in c["ports"] if p["name"] == "http"
    ]
    assert pool["spec"]["targetPorts"] == [{"number": p} for p in ports]
    # selector labels only: a user label on the model must not widen or break the selection
    assert "helm.sh/chart" not in pool["spec"]["selector"]["matchLabels"]


def test_user_labels_never_enter_the_pool_selector(render) -> None:
    labelled = [{**MODELS[0], "labels": {"team": "search"}}, MODELS[1]]
    r = render({**ON, "models": labelled, "commonLabels": {"cost-center": "42"}})
    assert r.returncode == 0, r.stderr
    selector = of_model(r, "InferencePool", "alpha")["spec"]["selector"]["matchLabels"]
    assert not {"team", "cost-center"} & selector.keys()
    assert of_model(r, "InferencePool", "alpha")["metadata"]["labels"]["team"] == "search"


@pytest.mark.parametrize("model", ["alpha", "beta"])
def test_picker_serves_the_pool_it_is_named_in(render, model: str) -> None:
    r = render(ON)
    assert r.returncode == 0, r.stderr
    pool = of_model(r, "InferencePool", model)
    ref = pool["spec"]["endpointPickerRef"]
    service = r.get("Service", ref["name"])
    (port,) = [p for p in service["spec"]["ports"] if p["port"] == ref["port"]["number"]]
    assert port["appProtocol"] == "kubernetes.io/h2c"
    deployment = r.get("Deployment", ref["name"])
    pod = deployment["spec"]["template"]
    assert selects(service["spec"]["selector"], pod["metadata"]["labels"])
    assert selects(deployment["spec"]["selector"]["matchLabels"], pod["metadata"]["labels"])
    # the picker's pods are no engine pods: no pool may select them
    assert not selects(pool["spec"]["selector"]["matchLabels"], pod["metadata"]["labels"])
    (epp,) = pod["spec"]["containers"]
    assert port["targetPort"] in {p["name"] for p in epp["ports"]}
    assert {p["name"]: p["containerPort"] for p in epp["ports"]}[port["targetPort"]] == ref["port"]["number"]
    args = epp["args"]
    assert f"--pool-name={pool['metadata']['name']}" in args
    assert f"--pool-namespace={NAMESPACE}" in args
    assert "--pool-group=inference.networking.k8s.io" in args
    assert f"--grpc-port={ref['port']['number']}" in args
    config = r.get("ConfigMap", ref["name"])
    (volume,) = [v for v in pod["spec"]["volumes"] if v["name"] == "config"]
    assert volume["configMap"]["name"] == config["metadata"]["name"]
    assert "--config-file=/config/config.yaml" in args and "config.yaml" in config["data"]
    assert "prefix-cache-scorer" in config["data"]["config.yaml"]


@pytest.mark.parametrize("model", ["alpha", "beta"])
def test_picker_rbac_covers_what_it_watches(render, model: str) -> None:
    r = render(ON)
    assert r.returncode == 0, r.stderr
    deployment = of_model(r, "Deployment", model)
    account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    assert r.get("ServiceAccount", account)["metadata"]["namespace"] == NAMESPACE
    granted: set[tuple[str, str, str]] = set()
    for binding in r.of_kind("RoleBinding"):
        if {"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE} in binding["subjects"]:
            role = r.get(binding["roleRef"]["kind"], binding["roleRef"]["name"])
            for rule in role["rules"]:
                granted |= {
                    (g, res, v) for g in rule["apiGroups"] for res in rule["resources"] for v in rule["verbs"]
                }
    needed = {
        (group, resource, verb)
        for group, resource in [
            ("", "pods"),
            ("inference.networking.k8s.io", "inferencepools"),
            ("inference.networking.x-k8s.io", "inferenceobjectives"),
            ("inference.networking.x-k8s.io", "inferencemodelrewrites"),
        ]
        for verb in ("get", "list", "watch")
    }
    assert needed <= granted, f"missing: {sorted(needed - granted)}"
    # read-only, namespaced: nothing cluster-wide and no writes
    assert not r.of_kind("ClusterRole") and not r.of_kind("ClusterRoleBinding")
    assert {v for _, _, v in granted} == {"get", "list", "watch"}


@pytest.mark.parametrize(("model", "served"), [("alpha", "alpha"), ("beta", "org/beta-instruct")])
def test_route_sends_the_models_requests_from_the_gateway_to_its_pool(
    render, model: str, served: str
) -> None:
    r = render(ON)
    assert r.returncode == 0, r.stderr
    route = of_model(r, "HTTPRoute", model)
    assert route["spec"]["parentRefs"] == [GATEWAY]
    (rule,) = route["spec"]["rules"]
    assert rule["backendRefs"] == [
        {"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": f"vllm-models-{model}"}
    ]
    (match,) = rule["matches"]
    assert match["headers"] == [{"type": "Exact", "name": "X-Gateway-Model-Name", "value": served}]
    assert rule["timeouts"] == {"request": "600s"}


def test_without_the_model_header_a_route_takes_every_request(render) -> None:
    values = {**ON, "inferencePool": {**ON["inferencePool"], "models": ["beta"]}}
    values["inferencePool"]["httpRoute"] = {"parentRefs": [GATEWAY], "matchModelHeader": False}
    r = render(values)
    assert r.returncode == 0, r.stderr
    (route,) = r.of_kind("HTTPRoute")
    assert route["spec"]["rules"][0]["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    assert {o["metadata"]["labels"]["vllm-models.io/model"] for o in pool_objects(r)} == {"beta"}


def test_engines_admit_the_pickers_that_scrape_them(render) -> None:
    r = render(ON)
    assert r.returncode == 0, r.stderr
    (policy,) = [p for p in r.of_kind("NetworkPolicy") if p["metadata"]["name"] == "vllm-models-engines"]
    sources = [
        s["podSelector"]["matchLabels"] for s in policy["spec"]["ingress"][0]["from"] if "podSelector" in s
    ]
    for model in ("alpha", "beta"):
        pod = of_model(r, "Deployment", model)["spec"]["template"]["metadata"]["labels"]
        assert any(selects(s, pod) for s in sources)
    off = render(BASE)
    (policy,) = [p for p in off.of_kind("NetworkPolicy") if p["metadata"]["name"] == "vllm-models-engines"]
    assert len(policy["spec"]["ingress"][0]["from"]) == 1


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_pool_objects_validate_strictly(render, version: str) -> None:
    r = render(ON)
    assert r.returncode == 0, r.stderr
    objects = pool_objects(r)
    assert {o["kind"] for o in objects} >= {"InferencePool", "HTTPRoute", "Deployment", "Role"}
    errors = strict_errors(objects, version)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize(
    ("pool", "message"),
    [
        ({"enabled": True}, "inferencePool.httpRoute.parentRefs is empty"),
        (
            {"enabled": True, "models": ["gamma"], "httpRoute": {"parentRefs": [GATEWAY]}},
            'inferencePool.models names "gamma", which is not a model of this release (models: alpha, beta)',
        ),
        ({"enabled": True, "failureMode": "Ignore", "httpRoute": {"parentRefs": [GATEWAY]}}, "failureMode"),
    ],
)
def test_bad_pool_values_fail_with_what_to_fix(render, pool: dict[str, Any], message: str) -> None:
    r = render({**BASE, "inferencePool": pool})
    assert r.returncode != 0
    assert message in r.stderr


def test_longest_names_keep_every_pool_object_within_63(render) -> None:
    longest = "m" * 40  # the longest model name the models schema allows
    values = {
        **ON,
        "models": [{"name": longest, "modelURL": "org/one"}, {"name": longest[:-1] + "y", "modelURL": "o/t"}],
    }
    values["nameOverride"] = "a-rather-long-chart-name-override-for-testing"
    r = render(values, release="r" * 53)  # Helm's longest release name
    assert r.returncode == 0, r.stderr
    objects = pool_objects(r)
    assert len(objects) == 16
    for obj in objects:
        assert len(obj["metadata"]["name"]) <= 63, f"{obj['kind']}/{obj['metadata']['name']}"
    # the distinguishing part survives the cut: two models, two pools, two pickers
    assert len({(o["kind"], o["metadata"]["name"]) for o in r.objects}) == len(r.objects)
    assert {o["metadata"]["name"][-3:] for o in r.of_kind("InferencePool")} == {"mmm", "mmy"}


def litellm_models(r: Rendered) -> dict[str, dict[str, Any]]:
    config = yaml.safe_load(r.get("ConfigMap", "vllm-models-router")["data"]["config.yaml"])
    return {e["model_name"]: e["litellm_params"] for e in config["model_list"]}


def test_router_sends_pooled_models_to_the_gateway_with_the_routes_header(render) -> None:
    adapters = {**MODELS[1], "loraAdapters": [{"name": "beta-sql", "source": "org/beta-sql"}]}
    pool = {**ON["inferencePool"], "models": ["beta"], "routerGatewayURL": "http://gw.gateway-system.svc/"}
    r = render({**ON, "models": [MODELS[0], adapters], "inferencePool": pool})
    assert r.returncode == 0, r.stderr
    entries = litellm_models(r)
    (route,) = r.of_kind("HTTPRoute")
    (header,) = route["spec"]["rules"][0]["matches"][0]["headers"]
    # the model and its adapter (served by the same engines) go through the Gateway, named as the route
    # expects; the model without a pool keeps its Service
    for name in ("beta", "beta-sql"):
        assert entries[name]["api_base"] == "http://gw.gateway-system.svc/v1"
        assert entries[name]["extra_headers"] == {header["name"]: header["value"]}
    assert entries["alpha"]["api_base"] == f"http://vllm-models-alpha.{NAMESPACE}.svc.cluster.local:8000/v1"
    assert "extra_headers" not in entries["alpha"]
    # without routerGatewayURL the router keeps calling every Service
    plain = litellm_models(render(ON))
    assert all(e["api_base"].endswith(".svc.cluster.local:8000/v1") for e in plain.values())


def test_router_via_gateway_needs_litellm(render) -> None:
    pool = {**ON["inferencePool"], "routerGatewayURL": "http://gw.gateway-system.svc"}
    values = {**ON, "inferencePool": pool, "router": {"engine": "vllm-router", "auth": {"enabled": False}}}
    values["engineApiKey"] = {"value": ""}
    r = render(values)
    assert r.returncode != 0
    assert "inferencePool.routerGatewayURL needs router.engine=litellm" in r.stderr
