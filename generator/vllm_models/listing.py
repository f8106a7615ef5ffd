"""The ``list-models`` table: one row per model with its effective (defaulted, derived) settings, for
people (scripts read ``list-models -o json``, the expanded models, never the table). An autoscaled
model shows its replica range and the GPUs and caches it needs at ``maxReplicas``."""

from __future__ import annotations

from typing import Any

from . import autoscaling
from .expand import PER_REPLICA, expand_model, nodes, pod_gpus, top_pods

COLUMNS = ("NAME", "MODEL", "GPUS", "REPLICAS", "MAX LEN", "CACHE")


def cache_cell(model: dict[str, Any]) -> str:
    """The CACHE cell: ``50Gi (shared)``, ``50Gi <times>2 (per replica)``, ``claim x (shared)``, ...; an
    autoscaled model's per-replica caches counted at its maxReplicas."""
    count = top_pods(model)
    if model.get("existingClaim"):
        return f"claim {model['existingClaim']} (shared)"
    size = str(model["pvcStorage"])
    if model["cacheMode"] == PER_REPLICA:
        return f"{size} \u00d7{count} (per {'pod' if nodes(model) > 1 else 'replica'})"
    access = model.get("pvcAccessMode", "ReadWriteOnce")
    return f"{size} (shared)" if access == "ReadWriteOnce" or count <= 1 else f"{size} (shared, {access})"


def rows(models: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """Table rows (without the header) for valid models."""
    out: list[tuple[str, ...]] = []
    for entry in models:
        model = expand_model(entry)
        gpus = str(model["requestGPU"])
        if model.get("gpuProduct"):
            gpus += f" {model['gpuProduct']}"
        if nodes(model) > 1:
            gpus += f" ({nodes(model)} nodes \u00d7 {pod_gpus(model)})"
        replicas = str(model["replicaCount"])
        top = autoscaling.max_replicas(model)
        if top is not None:
            replicas = f"{autoscaling.min_replicas(model)}-{top} (autoscaled)"
            gpus += f" ({model['requestGPU'] * top} at max)"
        max_len = model["vllmConfig"].get("maxModelLen")
        out.append(
            (
                model["name"],
                model["modelURL"],
                gpus,
                replicas,
                str(max_len) if max_len is not None else "model default",
                cache_cell(model),
            )
        )
    return out


def table(models: list[dict[str, Any]]) -> str:
    """An aligned plain-text table with a header line; a note when there are no models."""
    body = rows(models)
    if not body:
        return "no models configured (add one with: vllm-models add-model)\n"
    widths = [max(len(r[i]) for r in [COLUMNS, *body]) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in [COLUMNS, *body]]
    return "\n".join(lines) + "\n"
