"""Per-model autoscaling: the effective settings of a model's ``autoscaling`` (the target each metric
defaults to) and the checks JSON Schema cannot express (min above max, scale to zero without KEDA, a
target that the metric cannot reach).

The chart applies the same rules (``vllm-models.model.autoscaling`` in ``_helpers.tpl``) for values
written without the generator.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .errors import Problem
from .schema import whole_number

KEDA = "keda"
HPA = "hpa"
PROVIDERS = (KEDA, HPA)
DEFAULT_PROVIDER = KEDA  # the chart's `autoscaling.provider` default
WAITING = "vllm:num_requests_waiting"
RUNNING = "vllm:num_requests_running"
KV_CACHE = "vllm:kv_cache_usage_perc"
DEFAULT_METRIC = WAITING
# Per replica: a queue of 5 is a few seconds of waiting on a busy engine; 80% of the KV cache leaves
# room for the requests already admitted. Running requests depend on maxNumSeqs: no default.
DEFAULT_TARGETS: dict[str, int | float] = {WAITING: 5, KV_CACHE: 0.8}


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def settings(entry: dict[str, Any]) -> dict[str, Any]:
    """The model's ``autoscaling`` mapping as written (empty when absent or not a mapping)."""
    value = entry.get("autoscaling")
    return value if isinstance(value, dict) else {}


def enabled(entry: dict[str, Any]) -> bool:
    """Whether an autoscaler scales this model."""
    return settings(entry).get("enabled") is True


def max_replicas(entry: dict[str, Any]) -> int | None:
    """``autoscaling.maxReplicas`` of an autoscaled model, else None."""
    return whole_number(settings(entry).get("maxReplicas")) if enabled(entry) else None


def min_replicas(entry: dict[str, Any]) -> int:
    """``autoscaling.minReplicas`` (default 1)."""
    value = whole_number(settings(entry).get("minReplicas"))
    return 1 if value is None else value


def effective(entry: dict[str, Any]) -> dict[str, Any]:
    """The written ``autoscaling`` with the metric's default target made explicit (what ``generate``
    writes); unchanged when autoscaling is off or the target cannot be derived."""
    out = dict(settings(entry))
    metric = out.get("metric", DEFAULT_METRIC)
    if enabled(entry) and "target" not in out and metric in DEFAULT_TARGETS:
        out["target"] = DEFAULT_TARGETS[metric]
    return out


def _model_problems(index: int, entry: dict[str, Any], provider: str) -> Iterator[Problem]:
    if not enabled(entry):
        return
    written = settings(entry)
    here: tuple[int, str] = (index, "autoscaling")
    low, high = min_replicas(entry), whole_number(written.get("maxReplicas"))
    if high is None and "maxReplicas" not in written:
        yield Problem(
            here, "maxReplicas is required when enabled: the most replicas (GPUs and caches are sized for it)"
        )
    if high is not None and low > high:
        yield Problem((*here, "minReplicas"), f"{low} is above maxReplicas {high}")
    if low == 0 and provider != KEDA:
        yield Problem(
            (*here, "minReplicas"),
            f"0 (scale to zero) needs the chart's autoscaling.provider {KEDA}, not {provider}: a "
            "HorizontalPodAutoscaler cannot scale to 0 without the HPAScaleToZero feature gate; "
            "set minReplicas 1 or use keda",
        )
    metric = written.get("metric", DEFAULT_METRIC)
    target = _number(written.get("target"))
    if "target" not in written and isinstance(metric, str) and metric not in DEFAULT_TARGETS:
        yield Problem(
            here,
            f"target is required with metric {metric}: the running requests per replica to aim for, "
            "e.g. 3/4 of vllmConfig.maxNumSeqs",
        )
    if metric == KV_CACHE and target is not None and target > 1:
        yield Problem(
            (*here, "target"),
            f"{written['target']} is above 1: {KV_CACHE} is a fraction (0.8 = 80% of the KV cache)",
        )


def problems(models: list[Any], provider: str = DEFAULT_PROVIDER) -> list[Problem]:
    """Every autoscaling problem of a list of (possibly partly invalid) model entries."""
    return [
        p
        for index, entry in enumerate(models)
        if isinstance(entry, dict)
        for p in _model_problems(index, entry, provider)
    ]
