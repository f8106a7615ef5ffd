"""Per-model autoscaling as rendered: KEDA ScaledObjects valid for KEDA's published CRD schema, HPAs valid
for Kubernetes (strict), both aimed at the model's own workload, and workloads that leave `replicas` to
their autoscaler."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest
from render_helpers import K8S_VERSIONS, checksum, strict_errors
from vllm_models.expand import expand_models
from vllm_models.validate import problems_of

from tests.support import crd_errors

pytestmark = pytest.mark.render

PROMETHEUS = "http://prometheus-operated.monitoring.svc:9090"
ROUTER_KEY = {"router": {"auth": {"masterKey": {"existingSecret": "vllm-api-key"}}}}


def release(provider: str, *models: dict[str, Any]) -> dict[str, Any]:
    chart: dict[str, Any] = {"provider": provider}
    if provider == "keda":
        chart["prometheus"] = {"serverAddress": PROMETHEUS}
    return {**ROUTER_KEY, "autoscaling": chart, "models": list(models)}


def model(name: str, **kw: Any) -> dict[str, Any]:
    return {"name": name, "modelURL": f"org/{name}", **kw}


def autoscaled(name: str, **autoscaling: Any) -> dict[str, Any]:
    return model(name, autoscaling={"enabled": True, "maxReplicas": 3, **autoscaling})


def test_scaled_objects_pass_kedas_published_schema_and_aim_at_their_model(render) -> None:
    r = render(
        release(
            "keda",
            autoscaled("chat", minReplicas=0),
            {**autoscaled("qwen", metric="vllm:kv_cache_usage_perc"), "servedModelName": "qwen2.5-7b"},
            model("fixed", replicaCount=2, pvcAccessMode="ReadWriteMany"),
        )
    )
    assert r.returncode == 0, r.stderr
    scaled = {o["metadata"]["labels"]["vllm-models.io/model"]: o for o in r.of_kind("ScaledObject")}
    assert sorted(scaled) == ["chat", "qwen"], "only autoscaled models get a ScaledObject"
    for name, obj in scaled.items():
        errors = crd_errors(obj)
        assert errors == [], errors  # None would mean no vendored schema checked it
        workload = r.workload(name)
        assert obj["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": workload["kind"],
            "name": workload["metadata"]["name"],
        }
        (trigger,) = obj["spec"]["triggers"]
        assert (trigger["type"], trigger["metricType"]) == ("prometheus", "AverageValue")
        assert trigger["metadata"]["serverAddress"] == PROMETHEUS
    chat = scaled["chat"]["spec"]
    assert (chat["minReplicaCount"], chat["maxReplicaCount"]) == (0, 3)
    assert chat["triggers"][0]["metadata"]["query"] == (
        'sum(vllm:num_requests_waiting{namespace="vllm",model_name="chat"})'
    )
    assert chat["triggers"][0]["metadata"]["threshold"] == "5"
    qwen = scaled["qwen"]["spec"]["triggers"][0]["metadata"]
    assert qwen["query"] == 'sum(vllm:kv_cache_usage_perc{namespace="vllm",model_name="qwen2.5-7b"})'
    assert qwen["threshold"] == "0.8"
    assert not r.of_kind("HorizontalPodAutoscaler"), "KEDA makes its own HPA; the chart renders none"


def test_kedas_schema_catches_a_typo_in_a_scaled_object(render) -> None:
    """The check above would be worthless if the vendored schema let a misspelled field through."""
    r = render(release("keda", autoscaled("chat")))
    (obj,) = r.of_kind("ScaledObject")
    bad = copy.deepcopy(obj)
    bad["spec"]["minReplicaCont"] = bad["spec"].pop("minReplicaCount")
    assert any("minReplicaCont" in e for e in crd_errors(bad) or []), crd_errors(bad)
    bad = copy.deepcopy(obj)
    del bad["spec"]["triggers"][0]["type"]
    assert crd_errors(bad), "a trigger without a type passed"


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_hpas_validate_strictly_and_scale_their_models_workload(render, version: str) -> None:
    r = render(
        release(
            "hpa",
            autoscaled("chat"),
            autoscaled("kv", minReplicas=2, maxReplicas=6, metric="vllm:kv_cache_usage_perc", target=0.7),
        )
    )
    assert r.returncode == 0, r.stderr
    hpas = {o["metadata"]["labels"]["vllm-models.io/model"]: o for o in r.of_kind("HorizontalPodAutoscaler")}
    assert sorted(hpas) == ["chat", "kv"]
    assert not r.of_kind("ScaledObject")
    errors = strict_errors(list(hpas.values()), version)
    assert not errors, "\n".join(errors)
    for name, hpa in hpas.items():
        workload = r.workload(name)
        assert hpa["spec"]["scaleTargetRef"]["kind"] == workload["kind"] == "StatefulSet"
        assert hpa["spec"]["scaleTargetRef"]["name"] == workload["metadata"]["name"]
    assert hpas["kv"]["spec"]["metrics"] == [
        {
            "type": "Pods",
            "pods": {
                "metric": {"name": "vllm:kv_cache_usage_perc"},
                "target": {"type": "AverageValue", "averageValue": "0.7"},
            },
        }
    ]
    assert (hpas["kv"]["spec"]["minReplicas"], hpas["kv"]["spec"]["maxReplicas"]) == (2, 6)


@pytest.mark.parametrize("provider", ["keda", "hpa"])
def test_an_autoscaled_workload_leaves_replicas_to_its_autoscaler(render, provider: str) -> None:
    """A rendered `replicas` would be applied on every upgrade and undo what the autoscaler set (Helm's
    three-way merge and server-side apply both write it back); without it the live count stays."""
    r = render(
        release(
            provider,
            {**autoscaled("chat", minReplicas=2), "replicaCount": 5},
            model("fixed", replicaCount=2, pvcAccessMode="ReadWriteMany"),
        )
    )
    assert r.returncode == 0, r.stderr
    assert "replicas" not in r.workload("chat")["spec"], "replicaCount is ignored while autoscaled"
    assert r.workload("fixed")["spec"]["replicas"] == 2


def test_caches_are_sized_for_max_replicas_and_scaling_settings_restart_nothing(render) -> None:
    one = render(release("keda", autoscaled("chat", maxReplicas=2)))
    more = render(release("keda", autoscaled("chat", maxReplicas=4, minReplicas=0, target=2)))
    shared = render(release("keda", {**autoscaled("chat"), "pvcAccessMode": "ReadWriteMany"}))
    single = render(release("keda", autoscaled("chat", maxReplicas=1)))
    # several replicas on a ReadWriteOnce cache: one cache each, whatever replicaCount says
    assert one.workload("chat")["kind"] == more.workload("chat")["kind"] == "StatefulSet"
    assert shared.workload("chat")["kind"] == single.workload("chat")["kind"] == "Deployment"
    assert checksum(one.workload("chat")) == checksum(more.workload("chat")), "a scaling change restarted"


# (minReplicas, maxReplicas, metric, target) written or not: every shape the two rules must agree on
GRID_MIN = (None, 0, 3)
GRID_MAX = (None, 2)
GRID_METRIC_TARGET = (
    (None, None),
    ("vllm:num_requests_running", None),
    ("vllm:num_requests_running", 4),
    ("vllm:kv_cache_usage_perc", 80),
    ("vllm:kv_cache_usage_perc", 0.5),
)


def grid_case(low: int | None, high: int | None, metric: str | None, target: float | None) -> dict[str, Any]:
    settings: dict[str, Any] = {"enabled": True}
    for key, value in (("minReplicas", low), ("maxReplicas", high), ("metric", metric), ("target", target)):
        if value is not None:
            settings[key] = value
    return model("m", autoscaling=settings)


def test_chart_and_generator_accept_the_same_autoscaling(render) -> None:
    """Over a grid of written and unwritten settings and both providers, the chart renders exactly what
    the generator accepts, with the generator's target and cache mode."""
    cases = [
        ("keda", grid_case(*c[:2], *c[2])) for c in itertools.product(GRID_MIN, GRID_MAX, GRID_METRIC_TARGET)
    ]
    cases += [("hpa", grid_case(low, 2, None, None)) for low in GRID_MIN]
    disagreements = []
    for provider, entry in cases:
        template = "scaledobject" if provider == "keda" else "hpa"
        r = render(release(provider, entry), "-s", f"templates/model/{template}.yaml")
        accepts = not problems_of([entry], provider=provider)
        if (r.returncode == 0) != accepts:
            verdict = "renders" if r.returncode == 0 else "fails"
            disagreements.append(f"{provider} {entry['autoscaling']}: chart {verdict}, generator "
                                 f"{'accepts' if accepts else 'refuses'}: {r.stderr.strip()}")  # fmt: skip
            continue
        if not accepts:
            continue
        (obj,) = r.objects
        expanded = expand_models([entry])[0]
        target = expanded["autoscaling"]["target"]
        rendered_target = (
            obj["spec"]["triggers"][0]["metadata"]["threshold"]
            if provider == "keda"
            else obj["spec"]["metrics"][0]["pods"]["target"]["averageValue"]
        )
        kind = {"shared": "Deployment", "per-replica": "StatefulSet"}[expanded["cacheMode"]]
        if float(rendered_target) != float(target) or obj["spec"]["scaleTargetRef"]["kind"] != kind:
            disagreements.append(f"{entry}: chart {obj['spec']}, generator {expanded}")
    assert not disagreements, "\n".join(disagreements)
