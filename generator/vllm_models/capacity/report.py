"""One model's :class:`~.settings.ModelSettings` -> one :class:`ModelReport`: resolve model and GPU, do
the arithmetic.

The judgement (findings and suggested fixes) lives in :mod:`.advice`; this module only gathers figures.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from . import arithmetic as ar
from .advice import advise
from .catalog import lookup_gpu
from .records import Architecture, GpuSpec, ModelReport
from .settings import ModelSettings, estimate_available, kv_element
from .sources import Fetcher, resolve_architecture
from .units import GiB

HOST_BASE_GIB = 4.0  # Python, torch, CUDA host allocations of the engine's first process
HOST_PER_EXTRA_GPU_GIB = 1.0  # each further tensor/pipeline-parallel worker process


@dataclass(frozen=True)
class Options:
    """How to look things up; shared by every model of one run."""

    source_file: str = "models.yaml"
    allow_network: bool = False
    hf_cache: Path | None = None
    fetch: Fetcher | None = None
    cache_dir: Path | None = None


def resolve_gpu(settings: ModelSettings) -> tuple[GpuSpec | None, list[str]]:
    """The GPU of a model: ``preflight.gpuMemoryGiB`` wins, else the bundled table by product label."""
    product = settings.gpu_product
    if settings.gpu_memory_gib is not None:
        return GpuSpec(product or "custom", settings.gpu_memory_gib, "models.yaml preflight.gpuMemoryGiB"), []
    if product is None:
        return None, []
    return lookup_gpu(product)


def build_report(settings: ModelSettings, options: Options) -> ModelReport:
    """Every figure for one model."""
    gpu, gpu_notes = resolve_gpu(settings)
    arch, arch_notes = resolve_architecture(
        settings.model_url,
        settings.revision,
        settings.architecture,
        hf_cache=options.hf_cache,
        allow_network=options.allow_network,
        fetch=options.fetch,
        cache_dir=options.cache_dir,
    )
    report = ModelReport(
        index=settings.index,
        name=settings.name,
        model_url=settings.model_url,
        source_file=options.source_file,
        gpu=gpu,
        tensor_parallel=settings.tensor_parallel,
        pipeline_parallel=settings.pipeline_parallel,
        gpu_memory_utilization=settings.gpu_memory_utilization,
        architecture=arch,
        kv_cache_dtype=settings.kv_cache_dtype,
        kv_reported_gib=settings.reported_kv_gib,
        notes=tuple(gpu_notes + arch_notes + _node_notes(settings)),
        replicas=settings.replicas,
        min_replicas=settings.min_replicas,
        nodes=settings.nodes,
        gpus_total=settings.gpus * settings.replicas,
        pvc_total_gib=_caches_gib(settings),
    )
    report = _weights(report, settings)
    report = _kv(report, settings)
    report = _host_and_pvc(report, settings)
    return advise(report, settings)


def _weights(report: ModelReport, settings: ModelSettings) -> ModelReport:
    total = report.architecture.total_weights_gib()
    if total is None:
        return report
    on_gpu, notes = total, list(report.notes)
    if settings.quantization == "fp8" and report.architecture.weight_dtype in ("bfloat16", "float16", None):
        on_gpu = total / 2
        notes.append("quantization fp8 on a 16-bit checkpoint: GPU weights taken as half the stored size")
    gpus = report.tensor_parallel * report.pipeline_parallel
    return replace(report, weights_gib=total, weights_per_gpu_gib=on_gpu / gpus, notes=tuple(notes))


def _kv(report: ModelReport, settings: ModelSettings) -> ModelReport:
    arch: Architecture = report.architecture
    is_default = settings.max_model_len is None
    max_len = settings.max_model_len or arch.max_position_embeddings
    report = replace(report, max_model_len=max_len, max_model_len_is_default=is_default)
    if arch.missing():
        return report
    tp, pp = report.tensor_parallel, report.pipeline_parallel
    elem = kv_element(report, settings)
    report = replace(
        report,
        kv_bytes_per_token=ar.kv_bytes_per_token(arch, elem),
        kv_bytes_per_token_per_gpu=ar.kv_bytes_per_token(arch, elem, tp, pp),
        kv_needed_gib=ar.kv_bytes_for_context(arch, elem, max_len, tp, pp) / GiB if max_len else None,
    )
    estimate, overhead = estimate_available(report, settings, tp, report.gpu_memory_utilization)
    report = replace(report, kv_estimate_gib=estimate, overhead_gib=overhead)
    if report.kv_reported_gib is not None:
        available, source = report.kv_reported_gib, "reported by the engine (preflight.reportedKVCacheGiB)"
    elif estimate is not None:
        available, source = estimate, "estimated (GPU x utilization - weights - overhead)"
    else:
        return report
    avail_bytes = available * GiB
    fits = None
    if max_len is not None:
        fits = available > 0 and ar.kv_bytes_for_context(arch, elem, max_len, tp, pp) <= avail_bytes
    return replace(
        report,
        kv_available_gib=available,
        kv_source=source,
        capacity_tokens=ar.capacity_tokens(avail_bytes, report.kv_bytes_per_token_per_gpu or 0),
        largest_context=_capped(ar.largest_context(arch, elem, avail_bytes, tp, pp), arch),
        concurrency=ar.concurrency(arch, elem, avail_bytes, max_len, tp, pp) if max_len else None,
        fits=fits,
    )


def _host_and_pvc(report: ModelReport, settings: ModelSettings) -> ModelReport:
    if report.weights_gib is None:
        return report
    # A replica over several nodes: each pod stages the whole checkpoint in its own cache, but loads
    # through its host RAM only its own share, with its own engine processes.
    gpus = report.tensor_parallel * report.pipeline_parallel // report.nodes
    need = report.weights_gib / report.nodes + HOST_BASE_GIB + HOST_PER_EXTRA_GPU_GIB * (gpus - 1)
    limits: list[tuple[float, str]] = []
    # The pod's limit when set, else its request: what the kubelet holds the pod to while it loads.
    if settings.limit_memory_gib is not None:
        limits.append((settings.limit_memory_gib, "limitMemory"))
    elif settings.request_memory_gib is not None:
        limits.append((settings.request_memory_gib, "requestMemory"))
    if settings.node_memory_gib is not None:
        limits.append((settings.node_memory_gib, "preflight.nodeMemory"))
    limit, source = min(limits) if limits else (None, "")
    pvc = settings.pvc_gib
    return replace(
        report,
        host_need_gib=need,
        host_limit_gib=limit,
        host_limit_source=source,
        host_headroom_gib=None if limit is None else limit - need,
        pvc_gib=pvc,
        pvc_headroom_gib=None if pvc is None else pvc - report.weights_gib,
    )


def _node_notes(settings: ModelSettings) -> list[str]:
    """Where a replica wider than one node goes: how many nodes, and what each of its pods needs."""
    if settings.nodes <= 1:
        return []
    return [
        f"{settings.gpus} GPUs per replica span {settings.nodes} nodes of {settings.gpus // settings.nodes} "
        f"GPUs (gpusPerNode): a LeaderWorkerSet of {settings.nodes} pods per replica, each requesting "
        f"{settings.gpus // settings.nodes} GPUs and holding a copy of the weights"
    ]


def _caches_gib(settings: ModelSettings) -> float | None:
    """Weight-cache storage at the most replicas: one cache per pod (each node of each replica), or the
    one shared cache."""
    if settings.pvc_gib is None:
        return None
    return settings.pvc_gib * (settings.replicas * settings.nodes if settings.per_replica_cache else 1)


def _capped(tokens: int, arch: Architecture) -> int:
    """A context length is never more than the model's own limit (``max_position_embeddings``)."""
    return min(tokens, arch.max_position_embeddings) if arch.max_position_embeddings else tokens
