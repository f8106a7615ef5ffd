"""One model entry -> one :class:`ModelReport`: read the entry, resolve model and GPU, do the arithmetic.

The judgement (findings and suggested fixes) lives in :mod:`.advice`; this module only gathers figures.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..expand import parallelism, tensor_parallel_size
from . import arithmetic as ar
from .advice import advise
from .catalog import lookup_gpu
from .records import Architecture, GpuSpec, ModelReport
from .settings import as_dict, estimate_available, gpu_product, kv_element, pos_float, pos_int
from .sources import Fetcher, resolve_architecture
from .units import GiB, QuantityError, gib

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


def resolve_gpu(entry: dict[str, Any], preflight: dict[str, Any]) -> tuple[GpuSpec | None, list[str]]:
    """The GPU of a model: ``preflight.gpuMemoryGiB`` wins, else the bundled table by product label."""
    product = gpu_product(entry)
    override = pos_float(preflight.get("gpuMemoryGiB"))
    if override is not None:
        return GpuSpec(product or "custom", override, "models.yaml preflight.gpuMemoryGiB"), []
    if product is None:
        return None, []
    return lookup_gpu(product)


def _quantity(entry: dict[str, Any], key: str, default: str | None = None) -> float | None:
    value = entry.get(key, default)
    if value is None:
        return None
    try:
        return gib(value)
    except QuantityError:
        return None


def build_report(index: int, entry: dict[str, Any], options: Options) -> ModelReport:
    """Every figure for one model entry (``entry`` as in models.yaml, defaults not yet applied)."""
    vc = as_dict(entry.get("vllmConfig"))
    pf = as_dict(entry.get("preflight"))
    url = str(entry.get("modelURL", ""))
    # The same derivation generate writes for the chart, so preflight checks the shape that deploys.
    tp, pp = tensor_parallel_size(entry), parallelism(entry)[1]
    util = pos_float(vc.get("gpuMemoryUtilization")) or ar.DEFAULT_GPU_MEMORY_UTILIZATION
    gpu, gpu_notes = resolve_gpu(entry, pf)
    arch, arch_notes = resolve_architecture(
        url,
        str(entry["revision"]) if entry.get("revision") else None,
        as_dict(pf.get("architecture")),
        hf_cache=options.hf_cache,
        allow_network=options.allow_network,
        fetch=options.fetch,
        cache_dir=options.cache_dir,
    )
    kv_dtype = str(vc.get("kvCacheDtype") or "auto")
    report = ModelReport(
        index=index,
        name=str(entry.get("name", f"#{index}")),
        model_url=url,
        source_file=options.source_file,
        gpu=gpu,
        tensor_parallel=tp,
        pipeline_parallel=pp,
        gpu_memory_utilization=util,
        architecture=arch,
        kv_cache_dtype=kv_dtype,
        kv_reported_gib=pos_float(pf.get("reportedKVCacheGiB")),
        notes=tuple(gpu_notes + arch_notes),
    )
    report = _weights(report, vc)
    report = _kv(report, vc, pf)
    report = _host_and_pvc(report, entry, pf)
    return advise(report, entry)


def _weights(report: ModelReport, vc: dict[str, Any]) -> ModelReport:
    total = report.architecture.total_weights_gib()
    if total is None:
        return report
    on_gpu, notes = total, list(report.notes)
    if str(vc.get("quantization") or "").lower() == "fp8" and report.architecture.weight_dtype in (
        "bfloat16",
        "float16",
        None,
    ):
        on_gpu = total / 2
        notes.append("quantization fp8 on a 16-bit checkpoint: GPU weights taken as half the stored size")
    gpus = report.tensor_parallel * report.pipeline_parallel
    return replace(report, weights_gib=total, weights_per_gpu_gib=on_gpu / gpus, notes=tuple(notes))


def _kv(report: ModelReport, vc: dict[str, Any], pf: dict[str, Any]) -> ModelReport:
    arch: Architecture = report.architecture
    max_len = pos_int(vc.get("maxModelLen"))
    is_default = max_len is None
    max_len = max_len or arch.max_position_embeddings
    report = replace(report, max_model_len=max_len, max_model_len_is_default=is_default)
    if arch.missing():
        return report
    tp, pp = report.tensor_parallel, report.pipeline_parallel
    elem = kv_element(report, vc)
    report = replace(
        report,
        kv_bytes_per_token=ar.kv_bytes_per_token(arch, elem),
        kv_bytes_per_token_per_gpu=ar.kv_bytes_per_token(arch, elem, tp, pp),
        kv_needed_gib=ar.kv_bytes_for_context(arch, elem, max_len, tp, pp) / GiB if max_len else None,
    )
    estimate, overhead = estimate_available(report, vc, pf, tp, report.gpu_memory_utilization)
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


def _host_and_pvc(report: ModelReport, entry: dict[str, Any], pf: dict[str, Any]) -> ModelReport:
    if report.weights_gib is None:
        return report
    gpus = report.tensor_parallel * report.pipeline_parallel
    need = report.weights_gib + HOST_BASE_GIB + HOST_PER_EXTRA_GPU_GIB * (gpus - 1)
    limits: list[tuple[float, str]] = []
    for key, label in (("limitMemory", "limitMemory"), ("requestMemory", "requestMemory")):
        value = _quantity(entry, key, "16Gi" if key == "requestMemory" else None)
        if value is not None:
            limits.append((value, label))
            break  # the limit when set, else the request
    node = _quantity(pf, "nodeMemory")
    if node is not None:
        limits.append((node, "preflight.nodeMemory"))
    limit, source = min(limits) if limits else (None, "")
    pvc = None if entry.get("existingClaim") else _quantity(entry, "pvcStorage", "50Gi")
    return replace(
        report,
        host_need_gib=need,
        host_limit_gib=limit,
        host_limit_source=source,
        host_headroom_gib=None if limit is None else limit - need,
        pvc_gib=pvc,
        pvc_headroom_gib=None if pvc is None else pvc - report.weights_gib,
    )


def _capped(tokens: int, arch: Architecture) -> int:
    """A context length is never more than the model's own limit (``max_position_embeddings``)."""
    return min(tokens, arch.max_position_embeddings) if arch.max_position_embeddings else tokens
