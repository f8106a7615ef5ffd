"""Reading a model entry's settings the preflight needs, and the estimate that depends on them.

Shared by :mod:`.report` (which gathers figures) and :mod:`.advice` (which tries alternatives).
"""

from __future__ import annotations

from typing import Any

from . import arithmetic as ar
from .records import ModelReport


def as_dict(value: object) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one (validation reports the wrong type)."""
    return value if isinstance(value, dict) else {}


def pos_int(value: object) -> int | None:
    """A positive int, else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def pos_float(value: object) -> float | None:
    """A positive number as float, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)


def gpu_product(entry: dict[str, Any]) -> str | None:
    """``gpuProduct``, else the ``nvidia.com/gpu.product`` node selector."""
    product = entry.get("gpuProduct") or as_dict(entry.get("nodeSelector")).get("nvidia.com/gpu.product")
    return str(product) if product else None


def kv_element(report: ModelReport, vc: dict[str, Any]) -> int:
    """Bytes of one KV element for this model's settings."""
    dtype = str(vc.get("dtype") or "") or ("float32" if report.architecture.weight_dtype == "float32" else "")
    return ar.kv_element_bytes(report.kv_cache_dtype, dtype)


def estimate_available(
    report: ModelReport, vc: dict[str, Any], pf: dict[str, Any], tp: int, util: float
) -> tuple[float | None, float | None]:
    """(estimated available KV GiB per GPU, overhead GiB) at tensor parallel size ``tp`` and ``util``."""
    gpu = report.gpu
    if gpu is None or report.weights_per_gpu_gib is None:
        return None, None
    tokens, seqs = ar.default_batching(gpu.total_gib, gpu.product)
    tokens = pos_int(vc.get("maxNumBatchedTokens")) or tokens
    seqs = pos_int(vc.get("maxNumSeqs")) or seqs
    given = pos_float(as_dict(pf).get("overheadGiB"))
    overhead = (
        given
        if given is not None
        else ar.overhead_gib(report.architecture, tp, report.pipeline_parallel, tokens, seqs)
    )
    per_gpu = report.weights_per_gpu_gib * report.tensor_parallel / tp
    return ar.available_kv_gib(gpu.total_gib, util, per_gpu, overhead), overhead
