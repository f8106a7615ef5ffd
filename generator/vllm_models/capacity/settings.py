"""What the preflight reads of one model entry, read once: :class:`ModelSettings`, and the estimate that
depends on it (shared by :mod:`.report`, which gathers figures, and :mod:`.advice`, which tries
alternatives).

The settings come from the effective entry (``expand.effective_model``): the schema's defaults applied
and GPUs and parallelism derived as ``generate`` writes them, so the preflight checks the shape that
deploys and restates no default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import autoscaling
from ..errors import PathPart
from ..expand import PER_REPLICA, effective_model, nodes, parallelism, tensor_parallel_size, top_replicas
from . import arithmetic as ar
from .records import ModelReport
from .units import QuantityError, gib

GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"


@dataclass(frozen=True)
class ModelSettings:
    """One model entry as the preflight needs it; ``None`` means not set (the engine decides)."""

    index: int
    name: str
    model_url: str
    revision: str | None
    gpus: int  # requestGPU, as generate writes it
    gpu_product: str | None
    gpu_product_parts: tuple[PathPart, ...]  # where the product is (or should be) set, for findings
    tensor_parallel: int
    pipeline_parallel: int
    gpu_memory_utilization: float
    max_model_len: int | None
    kv_cache_dtype: str
    dtype: str | None
    quantization: str | None
    max_num_batched_tokens: int | None
    max_num_seqs: int | None
    request_memory_gib: float | None
    limit_memory_gib: float | None
    pvc_gib: float | None  # None with an existingClaim: its size is not ours to check
    allow_unfit: bool
    reported_kv_gib: float | None
    gpu_memory_gib: float | None
    node_memory_gib: float | None
    overhead_gib: float | None
    architecture: dict[str, Any]  # preflight.architecture as written
    replicas: int = 1  # the most replicas: autoscaling.maxReplicas when autoscaled, else replicaCount
    min_replicas: int | None = None  # autoscaling.minReplicas when autoscaled
    per_replica_cache: bool = False  # each replica its own weight cache (cacheMode per-replica)
    nodes: int = 1  # nodes (pods) one replica spans: requestGPU / gpusPerNode when above one node

    @classmethod
    def of(cls, index: int, entry: dict[str, Any]) -> ModelSettings:
        """The settings of the entry at ``index`` (as in models.yaml; defaults not yet applied)."""
        model = effective_model(entry)
        vc, pf = _mapping(model.get("vllmConfig")), _mapping(model.get("preflight"))
        selector = _mapping(model.get("nodeSelector"))
        from_selector = not model.get("gpuProduct") and bool(selector.get(GPU_PRODUCT_LABEL))
        product = selector.get(GPU_PRODUCT_LABEL) if from_selector else model.get("gpuProduct")
        # The schema leaves these unset so the chart passes no flag; the figures are vLLM's defaults.
        utilization = _positive(vc.get("gpuMemoryUtilization")) or ar.DEFAULT_GPU_MEMORY_UTILIZATION
        kv_cache_dtype = str(vc.get("kvCacheDtype") or "auto")
        return cls(
            index=index,
            name=str(model.get("name", f"#{index}")),
            model_url=str(model.get("modelURL", "")),
            revision=str(model["revision"]) if model.get("revision") else None,
            gpus=model["requestGPU"],
            gpu_product=str(product) if product else None,
            gpu_product_parts=("nodeSelector", GPU_PRODUCT_LABEL) if from_selector else ("gpuProduct",),
            tensor_parallel=tensor_parallel_size(model),
            pipeline_parallel=parallelism(model)[1],
            gpu_memory_utilization=utilization,
            kv_cache_dtype=kv_cache_dtype,
            max_model_len=_count(vc.get("maxModelLen")),
            dtype=str(vc["dtype"]) if vc.get("dtype") else None,
            quantization=str(vc["quantization"]).lower() if vc.get("quantization") else None,
            max_num_batched_tokens=_count(vc.get("maxNumBatchedTokens")),
            max_num_seqs=_count(vc.get("maxNumSeqs")),
            request_memory_gib=_gib(model.get("requestMemory")),
            limit_memory_gib=_gib(model.get("limitMemory")),
            pvc_gib=None if model.get("existingClaim") else _gib(model.get("pvcStorage")),
            allow_unfit=pf.get("allowUnfit") is True,
            reported_kv_gib=_positive(pf.get("reportedKVCacheGiB")),
            gpu_memory_gib=_positive(pf.get("gpuMemoryGiB")),
            node_memory_gib=_gib(pf.get("nodeMemory")),
            overhead_gib=_positive(pf.get("overheadGiB")),
            architecture=_mapping(pf.get("architecture")),
            replicas=top_replicas(model),
            min_replicas=autoscaling.min_replicas(model) if autoscaling.enabled(model) else None,
            per_replica_cache=model.get("cacheMode") == PER_REPLICA,
            nodes=nodes(model),
        )


# Readers for the one place entries are read: a valid entry passes them unchanged, while an invalid one
# (the public API takes unvalidated entries) reads as "not set" instead of crashing.
def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _positive(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)


def _gib(value: object) -> float | None:
    if value is None:
        return None
    try:
        return gib(value)
    except QuantityError:
        return None


def kv_element(report: ModelReport, settings: ModelSettings) -> int:
    """Bytes of one KV element for this model's settings."""
    float32 = "float32" if report.architecture.weight_dtype == "float32" else None
    return ar.kv_element_bytes(report.kv_cache_dtype, settings.dtype or float32)


def estimate_available(
    report: ModelReport, settings: ModelSettings, tp: int, util: float
) -> tuple[float | None, float | None]:
    """(estimated available KV GiB per GPU, overhead GiB) at tensor parallel size ``tp`` and ``util``."""
    gpu = report.gpu
    if gpu is None or report.weights_per_gpu_gib is None:
        return None, None
    tokens, seqs = ar.default_batching(gpu.total_gib, gpu.product)
    tokens = settings.max_num_batched_tokens or tokens
    seqs = settings.max_num_seqs or seqs
    overhead = (
        settings.overhead_gib
        if settings.overhead_gib is not None
        else ar.overhead_gib(report.architecture, tp, report.pipeline_parallel, tokens, seqs)
    )
    per_gpu = report.weights_per_gpu_gib * report.tensor_parallel / tp
    return ar.available_kv_gib(gpu.total_gib, util, per_gpu, overhead), overhead
