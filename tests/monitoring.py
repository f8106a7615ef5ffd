"""The chart's monitoring objects (Grafana dashboard ConfigMap, PrometheusRule) and the metric names the
pinned components export, shared by the render tier (names checked against the recorded lists) and the
tiers that run the real components (names checked against their live /metrics)."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.support import REPO_ROOT

METRICS = REPO_ROOT / "tests" / "fixtures" / "metrics"
# The recorded /metrics sample names of each component, by the prefix of the names it owns.
RECORDED = {
    "vllm:": METRICS / "vllm-0.32.0.txt",
    "litellm_": METRICS / "litellm-1.108.7.txt",
    "vllm_router_": METRICS / "vllm-router-0.1.17.txt",
}
# Prometheus' own series, not a component's.
PROMETHEUS_SERIES = {"up"}
_NAME = re.compile(r"(vllm:[a-z0-9_:]+|litellm_[a-z0-9_]+|vllm_router_[a-z0-9_]+)")


def monitoring_values(router_engine: str = "litellm") -> dict[str, Any]:
    """Both monitoring objects on, with the ServiceMonitors whose `job` labels their queries select."""
    values: dict[str, Any] = {
        "serviceMonitor": {"enabled": True},
        "grafanaDashboard": {"enabled": True},
        "prometheusRule": {"enabled": True},
        "router": {"engine": router_engine},
    }
    if router_engine == "vllm-router":
        values["router"]["auth"] = {"enabled": False}
    return values


def dashboard_of(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (cm,) = [o for o in objects if o["kind"] == "ConfigMap" and "vllm-models.json" in o.get("data", {})]
    return dict(json.loads(cm["data"]["vllm-models.json"]))


def dashboard_exprs(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def rule_exprs(objects: list[dict[str, Any]]) -> list[str]:
    return [
        str(r["expr"])
        for o in objects
        if o["kind"] == "PrometheusRule"
        for g in o["spec"]["groups"]
        for r in g["rules"]
    ]


def names_in(exprs: list[str]) -> set[str]:
    """Component metric names written in PromQL text (the render tier gets them from Prometheus' own
    parser; this is for tiers without it)."""
    return {n for e in exprs for n in _NAME.findall(e)}


def recorded(prefix: str) -> set[str]:
    """The component's own names in its recorded list (which also holds its HTTP server's and Python
    runtime's, present only after such requests)."""
    lines = RECORDED[prefix].read_text(encoding="utf-8").splitlines()
    return {line for line in lines if line.startswith(prefix)}


def exported(exposition: str) -> set[str]:
    """Sample names in a Prometheus text exposition."""
    return {m.group(1) for m in re.finditer(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", exposition, re.M)}
