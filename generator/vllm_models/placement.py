"""Placement check against a live cluster: can some node hold each model's replicas right now?

Reads what `kubectl get nodes -o json` and `kubectl get pods -A -o json` print (no client library, no
network of its own) and answers, per model, whether one replica and all replicas fit: allocatable GPUs,
CPU and memory minus what other pods already request, the model's GPU product and node selector, and
the nodes' taints against the model's tolerations. Pods of the release's own model are left out of the
used resources, since an upgrade replaces them. This is the scheduler's arithmetic in brief, to say in
seconds what `helm upgrade --wait` would otherwise find out at its timeout.

A model wider than one node (``gpusPerNode``) places each replica as its group of pods, one per node,
each with ``gpusPerNode`` GPUs: a replica counts as placed when all of its pods are.

An autoscaled model must fit with the replicas the upgrade waits for: its `minReplicas`, at least one
(a new workload without `replicas` starts with one). Its replicas above that up to `maxReplicas` are
tried on what is left, without taking it from the next models (they come and go with load): when they
do not fit now, the verdict says so as a warning, since the autoscaler would leave them Pending.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from . import autoscaling
from .expand import expand_model, nodes, pod_gpus
from .names import COMPONENT_LABEL, ENGINE_COMPONENT, INSTANCE_LABEL, MODEL_LABEL
from .quantity import parse_quantity

GPU = "nvidia.com/gpu"
PRODUCT_LABEL = "nvidia.com/gpu.product"
# What the chart gives every GPU-requesting engine pod by default (engine.gpuTolerations).
GPU_TOLERATIONS = [{"key": GPU, "operator": "Exists", "effect": "NoSchedule"}]
RESOURCES = ("cpu", "memory", GPU)


@dataclass
class Node:
    name: str
    labels: dict[str, str]
    taints: list[dict[str, Any]]
    free: dict[str, Decimal]
    ready: bool


@dataclass
class Verdict:
    model: str
    replicas: int
    one_fits: bool
    all_fit: bool
    reasons: list[str] = field(default_factory=list)
    top: int | None = None  # an autoscaled model's maxReplicas
    top_placed: int = 0  # how many of them fit now
    top_reasons: list[str] = field(default_factory=list)
    nodes: int = 1  # pods (nodes) per replica
    pod_gpus: int = 0

    @property
    def top_fits(self) -> bool:
        return self.top is None or self.top_placed >= self.top

    def line(self) -> str:
        line = self._line()
        if self.nodes > 1:
            head, _, rest = line.partition(": ")
            return f"{head} ({self.nodes} nodes \u00d7 {self.pod_gpus} GPUs per replica): {rest}"
        return line

    def _line(self) -> str:
        if self.all_fit and self.top is not None:
            if self.top_fits:
                return f"{self.model}: fits ({self.replicas} replica(s) now, up to {self.top} autoscaled)"
            return (
                f"{self.model}: fits ({self.replicas} replica(s) now), but only {self.top_placed} of "
                f"maxReplicas {self.top} would fit: " + "; ".join(self.top_reasons)
            )
        if self.all_fit:
            return f"{self.model}: fits ({self.replicas} replica(s))"
        if self.one_fits:
            return f"{self.model}: one replica fits, not all {self.replicas}: " + "; ".join(self.reasons)
        return f"{self.model}: no node can hold a replica: " + "; ".join(self.reasons)


def _quantity(value: object) -> Decimal:
    return parse_quantity(str(value)) if value is not None else Decimal(0)


def _requests(container: dict[str, Any]) -> dict[str, Decimal]:
    resources = container.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    # An extended resource (the GPU) given only as a limit is requested at that limit.
    return {r: _quantity(requests.get(r, limits.get(r) if r == GPU else None)) for r in RESOURCES}


def _pod_requests(pod: dict[str, Any]) -> dict[str, Decimal]:
    spec = pod.get("spec") or {}
    total = {r: Decimal(0) for r in RESOURCES}
    for c in spec.get("containers") or []:
        for r, v in _requests(c).items():
            total[r] += v
    for c in spec.get("initContainers") or []:  # init containers run one at a time, before the rest
        for r, v in _requests(c).items():
            total[r] = max(total[r], v)
    return total


def nodes_from(
    nodes: dict[str, Any], pods: dict[str, Any], release: tuple[str, str], models: set[str]
) -> list[Node]:
    """The cluster's nodes with what is free on each, leaving out the pods of the release's own models
    (`release` is (namespace, name): releases of the same name elsewhere still count)."""
    used: dict[str, dict[str, Decimal]] = {}
    for pod in pods.get("items") or []:
        meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
        labels = meta.get("labels") or {}
        own = (meta.get("namespace", ""), labels.get(INSTANCE_LABEL)) == release
        if own and labels.get(COMPONENT_LABEL) == ENGINE_COMPONENT and labels.get(MODEL_LABEL) in models:
            continue
        if status.get("phase") in ("Succeeded", "Failed") or not spec.get("nodeName"):
            continue
        on_node = used.setdefault(spec["nodeName"], {r: Decimal(0) for r in RESOURCES})
        for r, v in _pod_requests(pod).items():
            on_node[r] += v
    out = []
    for n in nodes.get("items") or []:
        meta, spec, status = n["metadata"], n.get("spec") or {}, n.get("status") or {}
        allocatable = status.get("allocatable") or {}
        conditions = {c["type"]: c["status"] for c in status.get("conditions") or []}
        free = {
            r: _quantity(allocatable.get(r)) - used.get(meta["name"], {}).get(r, Decimal(0))
            for r in RESOURCES
        }
        out.append(
            Node(
                meta["name"],
                meta.get("labels") or {},
                spec.get("taints") or [],
                free,
                conditions.get("Ready") == "True" and not spec.get("unschedulable"),
            )
        )
    return out


def _tolerates(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> bool:
    if taint.get("effect") not in ("NoSchedule", "NoExecute"):
        return True  # PreferNoSchedule only steers
    for t in tolerations:
        if t.get("effect") not in (None, "", taint.get("effect")):
            continue
        if t.get("operator") == "Exists" and t.get("key") in (None, "", taint.get("key")):
            return True
        if t.get("key") == taint.get("key") and t.get("value", "") == taint.get("value", ""):
            return True
    return False


def _why_not(node: Node, want: dict[str, Decimal], selector: dict[str, str], tolerations: list[Any]) -> str:
    """'' when the node can take one replica now, else the first reason it cannot."""
    if not node.ready:
        return "not Ready or cordoned"
    for key, value in selector.items():
        if node.labels.get(key) != value:
            return f"{key}={node.labels.get(key, '(unset)')}, model needs {value}"
    for taint in node.taints:
        if not _tolerates(tolerations, taint):
            return f"taint {taint.get('key')}:{taint.get('effect')} not tolerated"
    for r in RESOURCES:
        if want[r] > node.free[r]:
            return f"{r}: {node.free[r].normalize():f} free, {want[r].normalize():f} requested"
    return ""


def check(entries: list[dict[str, Any]], cluster: list[Node]) -> list[Verdict]:
    """Per model, in order, whether one and all replicas fit; each model's replicas are placed before the
    next model's, on what the earlier ones left (first fit, as a scheduler filling nodes would)."""
    verdicts = []
    for entry in entries:
        model = expand_model(entry)
        want = {
            "cpu": _quantity(model["requestCPU"]),
            "memory": _quantity(model["requestMemory"]),
            GPU: Decimal(pod_gpus(model)),
        }
        width = nodes(model)
        selector = dict(model.get("nodeSelector") or {})
        if model.get("gpuProduct"):
            selector[PRODUCT_LABEL] = str(model["gpuProduct"])
        tolerations = list(model.get("tolerations") or []) + (GPU_TOLERATIONS if want[GPU] > 0 else [])
        top = autoscaling.max_replicas(model)
        replicas = max(autoscaling.min_replicas(model), 1) if top is not None else int(model["replicaCount"])
        placed, reasons = _place(cluster, replicas * width, want, selector, tolerations)
        placed //= width
        verdict = Verdict(
            model["name"],
            replicas,
            one_fits=placed >= 1 or replicas == 0,
            all_fit=placed == replicas,
            reasons=_listed(reasons) if placed < replicas else [],
            nodes=width,
            pod_gpus=pod_gpus(model),
        )
        if top is not None:
            spare = [replace(n, free=dict(n.free)) for n in cluster]
            extra, top_reasons = _place(spare, max(top - replicas, 0) * width, want, selector, tolerations)
            extra //= width
            verdict.top, verdict.top_placed = top, placed + extra
            verdict.top_reasons = _listed(top_reasons) if not verdict.top_fits else []
        verdicts.append(verdict)
    return verdicts


def _listed(reasons: dict[str, str]) -> list[str]:
    return [f"{n}: {why}" for n, why in sorted(reasons.items())]


def _place(
    nodes: list[Node], count: int, want: dict[str, Decimal], selector: dict[str, str], tolerations: list[Any]
) -> tuple[int, dict[str, str]]:
    """Place up to ``count`` replicas first fit, taking their resources from ``nodes``; (placed, why each
    node refused)."""
    placed, reasons = 0, {}
    for _ in range(count):
        node = None
        for n in nodes:
            why = _why_not(n, want, selector, tolerations)
            if not why:
                node = n
                break
            reasons[n.name] = why
        if node is None:
            break
        for r in RESOURCES:
            node.free[r] -= want[r]
        placed += 1
    return placed, reasons
