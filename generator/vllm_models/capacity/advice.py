"""Judging a :class:`ModelReport`: findings (error/warning/info, by JSON path) and concrete fixes.

An error means vLLM will refuse to start or the pod will be killed while loading; ``preflight.allowUnfit:
true`` turns the model's errors into warnings. Unknown model or GPU is always a warning, never a pass.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import PathPart, Problem, Severity
from . import arithmetic as ar
from .records import ModelReport
from .settings import ModelSettings, estimate_available, kv_element
from .units import GiB

PVC_MARGIN = 0.10  # keep 10% of the weights free on the cache volume (partial downloads, tokenizer files)
TP_CHOICES = (2, 4, 8)


class _Findings:
    """Collects one model's findings; errors become warnings under ``preflight.allowUnfit``."""

    def __init__(self, report: ModelReport, allow_unfit: bool) -> None:
        self.index, self.file, self.allow_unfit = report.index, report.source_file, allow_unfit
        self.items: list[Problem] = []

    def add(self, severity: Severity, path: tuple[PathPart, ...], message: str) -> None:
        if severity == "error" and self.allow_unfit:
            severity, message = "warning", message + " (allowed by preflight.allowUnfit)"
        self.items.append(Problem((self.index, *path), message, severity, self.file))


def advise(report: ModelReport, settings: ModelSettings) -> ModelReport:
    """The report with findings and fixes filled in."""
    out = _Findings(report, settings.allow_unfit)
    _inputs(report, settings, out)
    _kv_cache(report, out)
    fixes: list[str] = []
    if report.fits is False or (report.kv_available_gib is not None and report.kv_available_gib <= 0):
        fixes = _fixes(report, settings, kv_element(report, settings))
    fixes += _host_ram(report, out) + _weight_cache(report, out)
    return replace(
        report, findings=tuple(out.items), fixes=tuple(fixes), suggested_max_model_len=_suggested(report)
    )


def _inputs(report: ModelReport, settings: ModelSettings, out: _Findings) -> None:
    """Unknown model or GPU, an estimated GPU, settings vLLM itself would refuse."""
    arch = report.architecture
    if arch.missing():
        out.add(
            "warning",
            ("modelURL",),
            f"unknown model {report.model_url!r}: no {', '.join(arch.missing())} in models.yaml, the "
            "local Hugging Face cache or the bundled catalog; KV cache not checked. Add "
            "preflight.architecture (numLayers, numKVHeads, headDim, weightsGiB) or allow network",
        )
    product = settings.gpu_product
    if report.gpu is None and settings.gpus == 0:
        out.add("info", ("requestGPU",), "requestGPU is 0: no GPU, GPU memory not checked")
    elif report.gpu is None and product is None:
        out.add(
            "warning",
            settings.gpu_product_parts,
            "unknown GPU: set gpuProduct to a nvidia.com/gpu.product value from the bundled table "
            "(e.g. NVIDIA-H100-80GB-HBM3) or preflight.gpuMemoryGiB; GPU memory not checked",
        )
    elif report.gpu is None:
        out.add(
            "warning",
            settings.gpu_product_parts,
            f"unknown GPU product {product!r}: not in the bundled table; set preflight.gpuMemoryGiB; "
            "GPU memory not checked",
        )
    elif report.gpu.estimated:
        out.add(
            "info",
            settings.gpu_product_parts,
            f"GPU memory {report.gpu.total_gib:.2f} GiB is {report.gpu.source}",
        )
    # requestGPU against tensorParallelSize x pipelineParallelSize is the generator's cross-field check.
    max_pos, max_len = arch.max_position_embeddings, report.max_model_len
    if not report.max_model_len_is_default and max_pos and max_len and max_len > max_pos:
        out.add(
            "warning",
            ("vllmConfig", "maxModelLen"),
            f"maxModelLen {max_len:,} exceeds the model's max_position_embeddings {max_pos:,}; "
            "vLLM refuses it unless VLLM_ALLOW_LONG_MAX_MODEL_LEN=1",
        )
    if report.gpu is not None:
        headroom = (1 - report.gpu_memory_utilization) * report.gpu.total_gib
        if headroom < ar.CUDA_GRAPH_HEADROOM_GIB:
            out.add(
                "warning",
                ("vllmConfig", "gpuMemoryUtilization"),
                f"only {headroom:.2f} GiB per GPU left outside gpuMemoryUtilization for the CUDA context "
                "and CUDA graphs; expect out-of-memory at start",
            )


def _kv_cache(report: ModelReport, out: _Findings) -> None:
    """Does one request of maxModelLen tokens fit the KV memory left after weights and overhead?"""
    if report.kv_available_gib is not None and report.kv_available_gib <= 0:
        out.add(
            "error",
            ("vllmConfig", "tensorParallelSize"),
            f"weights ({report.weights_per_gpu_gib or 0:.2f} GiB per GPU) and runtime overhead leave no "
            f"memory for the KV cache ({report.kv_available_gib:.2f} GiB, {report.kv_source})",
        )
    elif report.fits is False:
        message = (
            f"maxModelLen {report.max_model_len:,}"
            f"{' (model default)' if report.max_model_len_is_default else ''} "
            f"needs {report.kv_needed_gib or 0:.2f} GiB of KV cache per GPU, more than the "
            f"{report.kv_available_gib:.2f} GiB available ({report.kv_source}); the largest that fits is "
            f"{report.largest_context or 0:,} tokens"
        )
        if _borderline(report):
            message += (
                f"; within the estimate's {ar.ESTIMATE_UNCERTAINTY_GIB:g} GiB uncertainty, so it may still "
                "start: put the engine's 'Available KV cache memory' in preflight.reportedKVCacheGiB"
            )
            out.add("warning", ("vllmConfig", "maxModelLen"), message)
        else:
            out.add("error", ("vllmConfig", "maxModelLen"), message)
    elif report.fits is True and report.max_model_len_is_default:
        out.add(
            "info",
            ("vllmConfig", "maxModelLen"),
            f"maxModelLen not set: vLLM uses the model's {report.max_model_len:,}; set it explicitly",
        )


def _host_ram(report: ModelReport, out: _Findings) -> list[str]:
    """Weights staged through host RAM against the pod's limit (else request) and the node."""
    if report.host_headroom_gib is None or report.host_headroom_gib >= 0:
        return []
    message = (
        f"weights are staged through host RAM: about {report.host_need_gib or 0:.1f} GiB needed "
        f"({report.weights_gib or 0:.1f} GiB weights + engine processes), {report.host_limit_source} "
        f"allows {report.host_limit_gib or 0:.1f} GiB"
    )
    key = report.host_limit_source
    if key == "requestMemory":
        out.add("warning", ("requestMemory",), message + "; without limitMemory the node must have it free")
    else:
        out.add("error", tuple(key.split(".")), message + "; the pod would be OOM-killed while loading")
    return [
        f"set requestMemory/limitMemory to at least {_ceil_gi(report.host_need_gib)} (and a node "
        "with that much RAM)"
    ]


def _weight_cache(report: ModelReport, out: _Findings) -> list[str]:
    """Weights against the weight-cache volume (pvcStorage)."""
    if report.pvc_headroom_gib is None or report.weights_gib is None:
        return []
    if report.pvc_headroom_gib < 0:
        out.add(
            "error",
            ("pvcStorage",),
            f"weights ({report.weights_gib:.1f} GiB) do not fit the weight cache "
            f"({report.pvc_gib or 0:.1f} GiB)",
        )
        return [f"set pvcStorage to at least {_ceil_gi(report.weights_gib * (1 + PVC_MARGIN))}"]
    if report.pvc_headroom_gib < report.weights_gib * PVC_MARGIN:
        out.add(
            "warning",
            ("pvcStorage",),
            f"only {report.pvc_headroom_gib:.1f} GiB left on the weight cache after {report.weights_gib:.1f} "
            "GiB of weights (repos often carry extra files)",
        )
    return []


def _borderline(report: ModelReport) -> bool:
    """Short of memory by less than the estimate's uncertainty (never for an engine-reported figure)."""
    if report.kv_reported_gib is not None or report.kv_available_gib is None or report.kv_needed_gib is None:
        return False
    return report.kv_needed_gib - report.kv_available_gib <= ar.ESTIMATE_UNCERTAINTY_GIB


def _ceil_gi(value: float | None) -> str:
    return f"{int(-(-(value or 0) // 1))}Gi"


def _suggested(report: ModelReport) -> int | None:
    if report.largest_context is None or report.fits is not False:
        return None
    limit = min(report.largest_context, report.architecture.max_position_embeddings or report.largest_context)
    best = ar.nice_floor(limit)
    return best if best >= 1024 else None


def _fixes(report: ModelReport, settings: ModelSettings, elem: int) -> list[str]:
    """Concrete changes, each with the figure it buys."""
    arch, tp, pp = report.architecture, report.tensor_parallel, report.pipeline_parallel
    avail = report.kv_available_gib or 0.0
    fixes: list[str] = []
    suggested = _suggested(report)
    if suggested is not None:
        cap = ar.concurrency(arch, elem, avail * GiB, suggested, tp, pp)
        fixes.append(
            f"set vllmConfig.maxModelLen: {suggested} (fits; {cap:.2f} requests of that length at once)"
        )
        seqs = _num_seqs(report, settings)
        if seqs is not None:
            fixes.append(seqs)
    if elem == 2 and report.max_model_len and avail > 0:
        fp8 = ar.largest_context(arch, 1, avail * GiB, tp, pp)
        verdict = "fits" if fp8 >= report.max_model_len else f"still short; fits {fp8:,} tokens"
        fixes.append(
            f"set vllmConfig.kvCacheDtype: fp8 (halves KV cache; "
            f"maxModelLen {report.max_model_len:,} {verdict})"
        )
    # What more GPUs buy: the estimate at the new TP, corrected by how far the reported figure was from it.
    delta = (
        report.kv_reported_gib - report.kv_estimate_gib
        if report.kv_reported_gib is not None and report.kv_estimate_gib is not None
        else 0.0
    )
    heads = arch.num_attention_heads or arch.num_kv_heads or 1
    for new_tp in TP_CHOICES:
        if new_tp <= tp or heads % new_tp:
            continue
        est, _ = estimate_available(report, settings, new_tp, report.gpu_memory_utilization)
        if est is None or report.max_model_len is None:
            break
        kv = est + delta
        need = ar.kv_bytes_for_context(arch, elem, report.max_model_len, new_tp, pp) / GiB
        if kv > 0 and need <= kv:
            cap = ar.concurrency(arch, elem, kv * GiB, report.max_model_len, new_tp, pp)
            fixes.append(
                f"use vllmConfig.tensorParallelSize: {new_tp} with requestGPU: {new_tp * pp} "
                f"(about {kv:.1f} GiB KV cache per GPU; "
                f"{cap:.2f} requests of {report.max_model_len:,} tokens)"
            )
            break
    util = report.gpu_memory_utilization
    if util < 0.95 and report.kv_reported_gib is None and report.gpu is not None:
        est, _ = estimate_available(report, settings, tp, 0.95)
        if est is not None and est > 0 and report.max_model_len:
            longest = ar.largest_context(arch, elem, est * GiB, tp, pp)
            longest = min(longest, arch.max_position_embeddings or longest)
            fixes.append(
                f"raise vllmConfig.gpuMemoryUtilization to 0.95 (about {est:.2f} GiB KV cache, "
                f"{longest:,} tokens)"
            )
    return fixes


TYPICAL_REQUEST_TOKENS = 4096


def _num_seqs(report: ModelReport, settings: ModelSettings) -> str | None:
    """A ``maxNumSeqs`` the cache can actually hold (requests of about 4K tokens), when lower than now."""
    gpu, tokens = report.gpu, report.capacity_tokens
    if gpu is None or not tokens:
        return None
    current = settings.max_num_seqs or ar.default_batching(gpu.total_gib, gpu.product)[1]
    fitting = max(1, tokens // TYPICAL_REQUEST_TOKENS)
    if fitting >= current:
        return None
    return (
        f"lower vllmConfig.maxNumSeqs from {current} to {fitting}: the {tokens:,}-token cache holds "
        f"{fitting} requests of {TYPICAL_REQUEST_TOKENS:,} tokens; a smaller batch needs less sampler memory"
    )
