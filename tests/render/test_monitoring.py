"""The Grafana dashboard and the PrometheusRule: off by default; when on, every rule group loads in
Prometheus' own rule loader and every dashboard query parses with its PromQL parser (hack/tools/promrules,
the pinned Prometheus), the PrometheusRule passes the Prometheus Operator's published CRD schema, every
metric name is one the pinned components exported (tests/fixtures/metrics/), and the alerts fire on
series that break their threshold for their `for:` and stay quiet on healthy ones, evaluated by
Prometheus' rule manager."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from render_helpers import CHART, NAMESPACE, Rendered

from tests.monitoring import (
    PROMETHEUS_SERIES,
    RECORDED,
    dashboard_exprs,
    dashboard_of,
    monitoring_values,
    recorded,
)
from tests.support import crd_errors, find_tool, vendored_crd

pytestmark = pytest.mark.render

MODELS: list[dict[str, Any]] = [
    {"name": "llama3", "modelURL": "meta-llama/Llama-3.2-3B-Instruct"},
    {
        "name": "qwen",
        "modelURL": "Qwen/Qwen2.5-7B-Instruct",
        "servedModelName": "qwen2.5-7b-instruct",
        "replicaCount": 2,
        "pvcAccessMode": "ReadWriteMany",
    },
    {"name": "idle", "modelURL": "org/idle", "replicaCount": 0},
]
JOBS = {m["name"]: f"vllm-models-{m['name']}" for m in MODELS}  # each model's Service: its `job`
ROUTER_JOB = "vllm-models-router"
ROUTERS = ("litellm", "vllm-router")
# What Grafana puts in place of its variables: the model variable's "All" is the alternation of its
# values; $__rate_interval is at least four scrape intervals.
GRAFANA_VARIABLES = {"$__rate_interval": "2m", "$model": "(" + "|".join(JOBS.values()) + ")"}


def values(engine: str = "litellm", **extra: Any) -> dict[str, Any]:
    v = monitoring_values(engine)
    v["models"] = MODELS
    if engine == "litellm":
        v["router"]["auth"] = {"masterKey": {"value": "m"}}
    for key, sub in extra.items():
        v[key] = {**v.get(key, {}), **sub}
    return v


@pytest.fixture(scope="module")
def promrules() -> str:
    tool = find_tool("promrules")
    if tool is None:
        pytest.skip("promrules is not built: run ./hack/bootstrap promrules")
    return tool


def run(tool: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
    proc = subprocess.run(
        [tool, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, proc.stdout


def rendered(render: Callable[..., Rendered], v: dict[str, Any]) -> Rendered:
    r = render(v)
    assert r.returncode == 0, r.stderr
    return r


def rule_file(r: Rendered, tmp_path: Path) -> Path:
    """The PrometheusRule's spec, which is a Prometheus rule file (`groups:`), as Prometheus reads it."""
    (rule,) = r.of_kind("PrometheusRule")
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(rule["spec"], sort_keys=False), encoding="utf-8")
    return path


def interpolate(expr: str) -> str:
    for var, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(var, value)
    return expr


def check_names(used: set[str]) -> list[str]:
    """Names no pinned component was seen to export (or with no recorded list at all)."""
    unknown = []
    for name in sorted(used - PROMETHEUS_SERIES):
        prefix = next((p for p in RECORDED if name.startswith(p)), None)
        if prefix is None or name not in recorded(prefix):
            unknown.append(name)
    return unknown


# --- off by default ---------------------------------------------------------------------------------


def test_monitoring_is_off_by_default(render: Callable[..., Rendered]) -> None:
    r = rendered(
        render,
        {
            "models": MODELS,
            "router": {"auth": {"masterKey": {"value": "m"}}},
            "serviceMonitor": {"enabled": True},
        },
    )
    assert not r.of_kind("PrometheusRule")
    assert not [o for o in r.of_kind("ConfigMap") if "grafana_dashboard" in o["metadata"]["labels"]]
    assert r.of_kind("ServiceMonitor"), "the ServiceMonitors stay their own switch"


# --- PrometheusRule ----------------------------------------------------------------------------------


@pytest.mark.parametrize("router", ROUTERS)
def test_prometheus_rule_passes_the_operators_published_schema(
    render: Callable[..., Rendered], router: str
) -> None:
    r = rendered(render, values(router))
    for kind in ("PrometheusRule", "ServiceMonitor"):
        assert vendored_crd("monitoring.coreos.com", kind)["source"].startswith(
            "github.com/prometheus-operator/prometheus-operator@"
        )
        for obj in r.of_kind(kind):
            errors = crd_errors(obj)
            assert not errors, (kind, obj["metadata"]["name"], errors)


@pytest.mark.parametrize("router", ROUTERS)
def test_every_rule_group_loads_in_prometheus(
    render: Callable[..., Rendered], promrules: str, router: str, tmp_path: Path
) -> None:
    r = rendered(render, values(router))
    code, out = run(promrules, "check-rules", str(rule_file(r, tmp_path)))
    (result,) = json.loads(out)
    assert code == 0 and result["errors"] == [], result["errors"]
    alerts = [(rule["group"].rsplit(".", 1)[1], rule["alert"]) for rule in result["rules"]]
    assert alerts == [
        ("engines", "VLLMTimeToFirstTokenHigh"),
        ("engines", "VLLMRequestQueueHigh"),
        ("engines", "VLLMKVCacheUsageHigh"),
        ("engines", "VLLMEngineDown"),  # llama3
        ("engines", "VLLMEngineDown"),  # qwen; idle has no replica to be down
        ("router", "VLLMRouterErrorsHigh"),
    ]
    used = {name for rule in result["rules"] for name in rule["metrics"]}
    assert not check_names(used), check_names(used)
    assert any(n.startswith("litellm_" if router == "litellm" else "vllm_router_") for n in used), used


def test_a_broken_expression_is_refused_by_the_loader(promrules: str, tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: sum(vllm:num_requests_waiting\n")
    code, out = run(promrules, "check-rules", str(path))
    assert code == 1 and "parse error" in json.loads(out)[0]["errors"][0]


def test_each_alert_can_be_switched_off_and_the_router_group_follows_the_router(
    render: Callable[..., Rendered],
) -> None:
    off = {k: {"enabled": False} for k in ("ttft", "queue", "kvCache", "engineDown")}
    r = rendered(render, values(prometheusRule=off))
    (rule,) = r.of_kind("PrometheusRule")
    assert [[x["alert"] for x in g["rules"]] for g in rule["spec"]["groups"]] == [["VLLMRouterErrorsHigh"]]
    no_router = rendered(render, values(router={"enabled": False}))
    (rule,) = no_router.of_kind("PrometheusRule")
    assert [g["name"] for g in rule["spec"]["groups"]] == ["vllm-models.engines"]


def test_thresholds_durations_and_labels_come_from_values(render: Callable[..., Rendered]) -> None:
    v = values(
        prometheusRule={
            "labels": {"release": "prometheus"},
            "rateWindow": "10m",
            "queue": {"threshold": 3, "for": "2m", "severity": "page", "enabled": True},
        }
    )
    (rule,) = rendered(render, v).of_kind("PrometheusRule")
    assert rule["metadata"]["labels"]["release"] == "prometheus"
    rules = {x["alert"]: x for g in rule["spec"]["groups"] for x in g["rules"]}
    queue = rules["VLLMRequestQueueHigh"]
    assert queue["expr"].endswith(" > 3") and queue["for"] == "2m" and queue["labels"] == {"severity": "page"}
    assert "[10m]" in rules["VLLMTimeToFirstTokenHigh"]["expr"]


@pytest.mark.parametrize(
    ("key", "sub", "path"),
    [
        ("prometheusRule", {"queue": {"for": "5 minutes"}}, "/prometheusRule/queue/for"),
        ("prometheusRule", {"kvCache": {"threshold": 90}}, "/prometheusRule/kvCache/threshold"),
        ("grafanaDashboard", {"label": "grafana dashboard"}, "/grafanaDashboard/label"),
        ("grafanaDashboard", {"labelValue": "yes please"}, "/grafanaDashboard/labelValue"),
    ],
)
def test_a_value_prometheus_or_kubernetes_cannot_take_is_refused_at_render(
    render: Callable[..., Rendered], key: str, sub: dict[str, Any], path: str
) -> None:
    r = render(values(**{key: sub}))
    assert r.returncode != 0 and path in r.stderr, r.stderr


# --- Alerts evaluated over series -------------------------------------------------------------------


def series(name: str, values_: str, **labels: str) -> dict[str, str]:
    body = ", ".join(f'{k}="{v}"' for k, v in {"namespace": NAMESPACE, **labels}.items())
    return {"series": f"{name}{{{body}}}", "values": values_}


def unit_test(promrules: str, rules: Path, tests: list[dict[str, Any]]) -> str:
    """Run promtool-format alert tests through Prometheus' rule manager; the failures, if any."""
    path = rules.with_name("tests.yaml")
    doc = {"rule_files": [rules.name], "evaluation_interval": "1m", "tests": tests}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    code, out = run(promrules, "test", str(path))
    return "" if code == 0 else out


def test_a_queue_over_the_threshold_fires_after_its_for_and_a_healthy_one_does_not(
    render: Callable[..., Rendered], promrules: str, tmp_path: Path
) -> None:
    rules = rule_file(rendered(render, values()), tmp_path)
    llama, qwen = JOBS["llama3"], JOBS["qwen"]
    queue = [
        # llama3: 25 waiting from minute 0 (threshold 10, for 5m); qwen: 2 waiting on each of 2 replicas.
        series("vllm:num_requests_waiting", "25x20", job=llama, model_name="llama3", pod="llama3-0"),
        series("vllm:num_requests_waiting", "2x20", job=qwen, model_name="qwen2.5-7b-instruct", pod="qwen-0"),
        series("vllm:num_requests_waiting", "2x20", job=qwen, model_name="qwen2.5-7b-instruct", pod="qwen-1"),
    ]
    fired = {
        "exp_labels": {"severity": "warning", "namespace": NAMESPACE, "job": llama, "model_name": "llama3"},
        "exp_annotations": {
            "summary": "Model llama3: more than 10 requests waiting",
            "description": f"Model llama3 (job {llama}, namespace {NAMESPACE}) has had 25 requests waiting "
            "for an engine slot, more than 10 for 5m: add replicas or lower the load.",
        },
    }

    def queue_test(*expected: dict[str, Any]) -> str:
        return unit_test(
            promrules,
            rules,
            [{"name": "queue", "interval": "1m", "input_series": queue, "alert_rule_test": list(expected)}],
        )

    failures = queue_test(
        {"eval_time": "4m", "alertname": "VLLMRequestQueueHigh", "exp_alerts": []},  # pending
        {"eval_time": "6m", "alertname": "VLLMRequestQueueHigh", "exp_alerts": [fired]},
    )
    assert not failures, failures
    # The same test fails when the expectation is wrong: the evaluation is real, not an echo.
    failures = queue_test({"eval_time": "6m", "alertname": "VLLMRequestQueueHigh", "exp_alerts": []})
    assert "want []" in failures and 'model_name="llama3"' in failures, failures


def test_slow_first_tokens_a_full_kv_cache_and_router_5xx_fire_for_their_model_only(
    render: Callable[..., Rendered], promrules: str, tmp_path: Path
) -> None:
    rules = rule_file(rendered(render, values()), tmp_path)
    llama, qwen = JOBS["llama3"], JOBS["qwen"]
    ttft = "vllm:time_to_first_token_seconds_bucket"
    slow = dict(job=llama, model_name="llama3")
    fast = dict(job=qwen, model_name="qwen2.5-7b-instruct")
    inputs = [
        # llama3: every first token between 0.5 s and 5 s; qwen: every one under 0.5 s.
        series(ttft, "0x30", le="0.5", **slow),
        series(ttft, "0+10x30", le="5", **slow),
        series(ttft, "0+10x30", le="+Inf", **slow),
        series(ttft, "0+10x30", le="0.5", **fast),
        series(ttft, "0+10x30", le="5", **fast),
        series(ttft, "0+10x30", le="+Inf", **fast),
        series("vllm:kv_cache_usage_perc", "0.95x30", pod="llama3-0", **slow),
        series("vllm:kv_cache_usage_perc", "0.5x30", pod="qwen-0", **fast),
        # The router: half of llama3's requests answered 500, none of qwen's.
        series(
            "litellm_proxy_total_requests_metric_total",
            "0+60x30",
            job=ROUTER_JOB,
            requested_model="llama3",
            status_code="200",
        ),
        series(
            "litellm_proxy_total_requests_metric_total",
            "0+60x30",
            job=ROUTER_JOB,
            requested_model="llama3",
            status_code="500",
        ),
        series(
            "litellm_proxy_total_requests_metric_total",
            "0+60x30",
            job=ROUTER_JOB,
            requested_model="qwen",
            status_code="200",
        ),
    ]
    where = f"job {llama}, namespace {NAMESPACE}"
    ttft_description = (
        f"The p95 time to first token of model llama3 ({where}) has been 4.775s over the last 5m, "
        "above 2s for 10m."
    )
    kv_description = (
        f"The KV cache of model llama3 (pod llama3-0, namespace {NAMESPACE}) has been 95% full, "
        "above 90% for 10m: expect preemptions and queueing."
    )
    router_description = (
        f"The router ({ROUTER_JOB}, namespace {NAMESPACE}) answered 50% of the requests for model llama3 "
        "with a 5xx over the last 5m, above 5% for 5m."
    )
    tests = [
        {
            "name": "ttft, kv cache, router",
            "interval": "1m",
            "input_series": inputs,
            "alert_rule_test": [
                {
                    "eval_time": "15m",
                    "alertname": "VLLMTimeToFirstTokenHigh",
                    "exp_alerts": [
                        {
                            "exp_labels": {"severity": "warning", "namespace": NAMESPACE, **slow},
                            "exp_annotations": {
                                "summary": "Model llama3: p95 time to first token above 2s",
                                "description": ttft_description,
                            },
                        }
                    ],
                },
                {
                    "eval_time": "15m",
                    "alertname": "VLLMKVCacheUsageHigh",
                    "exp_alerts": [
                        {
                            "exp_labels": {
                                "severity": "warning",
                                "namespace": NAMESPACE,
                                "pod": "llama3-0",
                                **slow,
                            },
                            "exp_annotations": {
                                "summary": "Model llama3: KV cache above 90% full",
                                "description": kv_description,
                            },
                        }
                    ],
                },
                {
                    "eval_time": "15m",
                    "alertname": "VLLMRouterErrorsHigh",
                    "exp_alerts": [
                        {
                            "exp_labels": {
                                "severity": "critical",
                                "namespace": NAMESPACE,
                                "requested_model": "llama3",
                            },
                            "exp_annotations": {
                                "summary": "Model llama3: router answers 5xx to more than 5% of requests",
                                "description": router_description,
                            },
                        }
                    ],
                },
            ],
        }
    ]
    failures = unit_test(promrules, rules, tests)
    assert not failures, failures


def test_vllm_router_errors_fire_on_unavailable_engines_not_on_answers_for_unknown_models(
    render: Callable[..., Rendered], promrules: str, tmp_path: Path
) -> None:
    rules = rule_file(rendered(render, values("vllm-router")), tmp_path)
    errors = "vllm_router_request_errors_total"
    requests = [
        series("vllm_router_requests_total", "0+100x30", job=ROUTER_JOB, route="/v1/chat/completions")
    ]
    # What vllm-router 0.1.17 recorded here: an engine's 404 (unknown model) as non_retryable_error, a
    # model with no healthy engine as no_available_workers.
    unknown_models = [series(errors, "0+50x30", job=ROUTER_JOB, route="/v1/chat/completions",
                             error_type="non_retryable_error")]  # fmt: skip
    engines_gone = [series(errors, "0+20x30", job=ROUTER_JOB, route="/v1/chat/completions",
                           error_type="no_available_workers")]  # fmt: skip

    def fired(share: str) -> dict[str, Any]:
        description = (
            f"vllm-router {ROUTER_JOB} (namespace {NAMESPACE}) failed {share} of its requests over the "
            "last 5m, above 5% for 5m (no engine available, retries exhausted; vllm-router labels errors "
            "by type, not by model)."
        )
        return {
            "exp_labels": {"severity": "critical", "namespace": NAMESPACE},
            "exp_annotations": {
                "summary": f"Router {ROUTER_JOB}: errors on more than 5% of requests",
                "description": description,
            },
        }

    at_15m = {"eval_time": "15m", "alertname": "VLLMRouterErrorsHigh"}
    failures = unit_test(promrules, rules, [
        {"name": "unknown models only", "input_series": requests + unknown_models,
         "alert_rule_test": [{**at_15m, "exp_alerts": []}]},
        # 20 of 170 requests a second (100 succeeded, 70 failed): vllm_router_requests_total counts
        # successes only, so every error is added to it.
        {"name": "engines gone", "input_series": requests + unknown_models + engines_gone,
         "alert_rule_test": [{**at_15m, "exp_alerts": [fired("11.76%")]}]},
        {"name": "no request ever succeeded", "input_series": engines_gone,
         "alert_rule_test": [{**at_15m, "exp_alerts": [fired("100%")]}]},
    ])  # fmt: skip
    assert not failures, failures


def test_an_engine_down_or_missing_fires_naming_its_model(
    render: Callable[..., Rendered], promrules: str, tmp_path: Path
) -> None:
    rules = rule_file(rendered(render, values()), tmp_path)
    llama, qwen = JOBS["llama3"], JOBS["qwen"]

    def down(model: str, job: str, **labels: str) -> dict[str, Any]:
        return {
            "exp_labels": {
                "severity": "critical",
                "model": model,
                "namespace": NAMESPACE,
                "job": job,
                **labels,
            },
            "exp_annotations": {
                "summary": f"Model {model}: engine down",
                "description": f"Prometheus has not scraped the engine of model {model} (job {job}, "
                f"namespace {NAMESPACE}) for 5m: its target is down or missing. Check the pods with "
                f"`kubectl -n {NAMESPACE} get pods -l vllm-models.io/model={model}`.",
            },
        }

    scraped_fine = [
        series("up", "1x20", job=llama, instance="10.0.0.1:8000"),
        series("up", "1x20", job=qwen, instance="10.0.0.2:8000"),
        series("up", "1x20", job=qwen, instance="10.0.0.3:8000"),
    ]
    one_down_one_gone = [series("up", "0x20", job=llama, instance="10.0.0.1:8000")]
    failures = unit_test(
        promrules,
        rules,
        [
            {
                "name": "healthy",
                "input_series": scraped_fine,
                "alert_rule_test": [{"eval_time": "10m", "alertname": "VLLMEngineDown", "exp_alerts": []}],
            },
            {
                "name": "llama3 down, qwen never scraped",
                "input_series": one_down_one_gone,
                "alert_rule_test": [
                    {
                        "eval_time": "10m",
                        "alertname": "VLLMEngineDown",
                        "exp_alerts": [down("llama3", llama, instance="10.0.0.1:8000"), down("qwen", qwen)],
                    }
                ],
            },
        ],
    )
    assert not failures, failures


# --- Grafana dashboard -------------------------------------------------------------------------------


@pytest.mark.parametrize("router", ROUTERS)
def test_every_dashboard_query_parses_in_prometheus_and_uses_exported_metrics(
    render: Callable[..., Rendered], promrules: str, router: str
) -> None:
    dashboard = dashboard_of(rendered(render, values(router)).objects)
    exprs = dashboard_exprs(dashboard)
    code, out = run(promrules, "parse-exprs", stdin=json.dumps([interpolate(e) for e in exprs]))
    results = json.loads(out)
    errors = [(e, r["error"]) for e, r in zip(exprs, results, strict=True) if "error" in r]
    assert code == 0 and not errors, errors
    used = {name for r in results for name in r["metrics"]}
    assert not check_names(used), check_names(used)
    wanted = {
        "vllm:num_requests_running",
        "vllm:num_requests_waiting",
        "vllm:kv_cache_usage_perc",
        "vllm:time_to_first_token_seconds_bucket",
        "vllm:e2e_request_latency_seconds_bucket",
        "vllm:generation_tokens_total",
        "vllm:num_preemptions_total",
    }
    assert wanted <= used, wanted - used
    router_names = {n for n in used if n.startswith(("litellm_", "vllm_router_"))}
    assert router_names and all(
        n.startswith("litellm_" if router == "litellm" else "vllm_router_") for n in router_names
    ), router_names


def test_dashboard_has_grafanas_shape(render: Callable[..., Rendered]) -> None:
    r = rendered(render, values())
    dashboard = dashboard_of(r.objects)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert (
        variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    )
    options = [o.split(" : ") for o in variables["model"]["query"].split(", ")]
    assert options == [[m["name"], JOBS[m["name"]]] for m in MODELS]
    assert variables["model"]["includeAll"] and variables["model"]["multi"]
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    assert [p["title"] for p in panels if p["type"] == "row"] == ["Engines", "Router (LiteLLM)"]
    graphs = [p for p in panels if p["type"] != "row"]
    for p in graphs:
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]
        assert p["targets"] and all(t["datasource"] == p["datasource"] and t["expr"] for t in p["targets"])
        assert len({t["refId"] for t in p["targets"]}) == len(p["targets"])
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24 and g["h"] > 0, p["title"]
    cells = [(p["gridPos"]["x"], p["gridPos"]["y"]) for p in panels]
    assert len(set(cells)) == len(cells), "two panels in one place"
    assert 0 < len(dashboard["uid"]) <= 40


def test_dashboard_configmap_carries_the_sidecars_label_and_folder(render: Callable[..., Rendered]) -> None:
    default = rendered(render, values())
    (cm,) = [o for o in default.of_kind("ConfigMap") if o["metadata"]["name"] == "vllm-models-dashboard"]
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert "annotations" not in cm["metadata"]
    custom = rendered(
        render,
        values(
            grafanaDashboard={
                "label": "dashboards",
                "labelValue": "vllm",
                "folder": "LLM serving",
                "folderAnnotation": "k8s-sidecar-target-directory",
                "labels": {"team": "ml"},
            }
        ),
    )
    (cm,) = [o for o in custom.of_kind("ConfigMap") if o["metadata"]["name"] == "vllm-models-dashboard"]
    assert cm["metadata"]["labels"]["dashboards"] == "vllm" and cm["metadata"]["labels"]["team"] == "ml"
    assert "grafana_dashboard" not in cm["metadata"]["labels"]
    assert cm["metadata"]["annotations"] == {"k8s-sidecar-target-directory": "LLM serving"}


def test_two_releases_get_two_dashboards(render: Callable[..., Rendered]) -> None:
    one = dashboard_of(rendered(render, values()).objects)
    other = render(values(), release="other")
    assert other.returncode == 0, other.stderr
    two = dashboard_of(other.objects)
    assert one["uid"] != two["uid"] and one["title"] != two["title"]


def test_notes_warn_when_monitoring_is_on_without_the_service_monitors(helm: str, tmp_path: Path) -> None:
    def notes(v: dict[str, Any]) -> str:
        path = tmp_path / "values.yaml"
        path.write_text(yaml.safe_dump(v))
        cmd = [
            helm,
            "install",
            "vllm-models",
            str(CHART),
            "-n",
            NAMESPACE,
            "--dry-run=client",
            "-f",
            str(path),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split("NOTES:", 1)[1]

    warning = "serviceMonitor.enabled is off"
    assert warning in notes(values(serviceMonitor={"enabled": False}))
    allow = {"allowNamespaces": ["monitoring"]}
    assert "Warning" not in notes(values(networkPolicy=allow))
    assert warning not in notes({"models": MODELS, "router": {"auth": {"masterKey": {"value": "m"}}}})
