"""Expansion of a valid model entry: schema defaults applied and every derived field made explicit.

The derivations here (GPUs from parallelism, rollout strategy, weight-cache mode) are the ones
``docs/architecture.md`` states; the chart derives the same when a field is absent.
"""

from __future__ import annotations

import copy
from typing import Any

from . import autoscaling
from .lora import with_limits
from .schema import apply_defaults, model_default, model_schema, whole_number

SHARED = "shared"
PER_REPLICA = "per-replica"
RWX = "ReadWriteMany"
# The chart ignores these; the generator consumes them and leaves them out of the values.
GENERATOR_ONLY_KEYS = ("preflight",)


def _int(value: object, default: int) -> int:
    found = whole_number(value)
    return default if found is None else found


def parallelism(entry: dict[str, Any]) -> tuple[int | None, int]:
    """(tensorParallelSize as written or None, pipelineParallelSize or 1)."""
    config = entry.get("vllmConfig")
    config = config if isinstance(config, dict) else {}
    tp = config.get("tensorParallelSize")
    return whole_number(tp), _int(config.get("pipelineParallelSize"), 1)


def gpus(entry: dict[str, Any]) -> int:
    """GPUs per replica: ``requestGPU`` when written, else tensor times pipeline parallel size, else 1."""
    written = whole_number(entry.get("requestGPU"))
    if written is not None:
        return written
    tp, pp = parallelism(entry)
    return (tp or 1) * pp


def tensor_parallel_size(entry: dict[str, Any]) -> int:
    """``tensorParallelSize`` as written, else the GPUs per replica left after pipeline parallelism."""
    tp, pp = parallelism(entry)
    return tp if tp is not None else max(gpus(entry) // pp, 1)


def gpus_per_node(entry: dict[str, Any]) -> int:
    """GPUs one node gives the model (``gpusPerNode``, else the schema's default)."""
    return max(_int(entry.get("gpusPerNode"), model_default("gpusPerNode")), 1)


def nodes(entry: dict[str, Any]) -> int:
    """Nodes one replica spans: 1 when its GPUs fit one node, else ``GPUs / gpusPerNode`` (rounded up;
    the checks reject a count that does not divide exactly)."""
    count, per_node = gpus(entry), gpus_per_node(entry)
    return 1 if count <= per_node else -(-count // per_node)


def pod_gpus(entry: dict[str, Any]) -> int:
    """GPUs each pod requests: all of the replica's on one node, else ``gpusPerNode``."""
    return gpus(entry) if nodes(entry) == 1 else gpus_per_node(entry)


def replicas(entry: dict[str, Any]) -> int:
    """Replica count (default 1)."""
    return _int(entry.get("replicaCount"), 1)


def top_replicas(entry: dict[str, Any]) -> int:
    """The most replicas the model may run: ``autoscaling.maxReplicas`` when autoscaled, else
    ``replicaCount``. Caches, GPUs and placement are sized for it."""
    top = autoscaling.max_replicas(entry)
    return top if top is not None else replicas(entry)


def top_pods(entry: dict[str, Any]) -> int:
    """The most engine pods the model may run: every node of every replica, each loading the weights."""
    return top_replicas(entry) * nodes(entry)


def default_cache_mode(entry: dict[str, Any]) -> str:
    """``per-replica`` when several pods would share a volume that only one node may mount."""
    if entry.get("existingClaim") or entry.get("pvcAccessMode") == RWX or top_pods(entry) <= 1:
        return SHARED
    return PER_REPLICA


def cache_mode(entry: dict[str, Any]) -> str:
    """The weight-cache mode as written, else as derived."""
    written = entry.get("cacheMode")
    return written if isinstance(written, str) else default_cache_mode(entry)


def served_name(entry: dict[str, Any]) -> str:
    """``--served-model-name``: ``servedModelName`` or the model's name."""
    value = entry.get("servedModelName") or entry.get("name")
    return str(value)


def effective_model(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry with the schema's defaults applied and the derived fields (served name, GPUs, tensor
    parallel size, strategy, cache mode, autoscaling target, LoRA limits) explicit, generator-only keys
    kept: what the preflight reads.

    Total on any mapping, because the preflight's public API takes entries nobody validated; only a valid
    entry's result means anything.
    """
    out = apply_defaults(entry, model_schema())
    out.setdefault("servedModelName", out.get("name"))
    gpu_count = gpus(entry)
    out["requestGPU"] = gpu_count
    if parallelism(entry)[0] is None and gpu_count > 0 and isinstance(out["vllmConfig"], dict):
        out["vllmConfig"]["tensorParallelSize"] = tensor_parallel_size(entry)
    out.setdefault("strategy", "Recreate" if gpu_count > 0 else "RollingUpdate")
    out["cacheMode"] = cache_mode(entry)
    if "autoscaling" in out:
        out["autoscaling"] = autoscaling.effective(out)
    return with_limits(out)


def expand_model(entry: dict[str, Any], storage_class: str | None = None) -> dict[str, Any]:
    """A valid entry with defaults applied and derived fields explicit, ready for the chart.

    ``storage_class`` (from VLLM_STORAGE_CLASS) applies to models that create their own cache and
    name no StorageClass themselves.
    """
    out = effective_model(entry)
    for key in GENERATOR_ONLY_KEYS:
        out.pop(key, None)
    if storage_class and "storageClass" not in out and "existingClaim" not in out:
        out["storageClass"] = storage_class
    return out


def expand_models(models: list[dict[str, Any]], storage_class: str | None = None) -> list[dict[str, Any]]:
    """Every model expanded, in input order."""
    return [expand_model(copy.deepcopy(m), storage_class) for m in models]
