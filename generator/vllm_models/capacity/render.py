"""Rendering of preflight reports: for people one table row per model, then per-model details and fixes;
for scripts one JSON-ready record per model."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .records import ModelReport
from .units import fmt_gib, fmt_int

_COLUMNS = (
    "model",
    "GPU x n",
    "replicas",
    "GPUs",
    "weights/GPU",
    "KV B/token/GPU",
    "KV avail",
    "max len",
    "KV need",
    "largest",
    "conc.",
    "host RAM",
    "PVC",
    "verdict",
)


def _verdict(report: ModelReport) -> str:
    if not report.ok:
        return "FAIL"
    if any(f.severity == "warning" for f in report.findings):
        return "WARN" if report.fits is not None else "UNKNOWN"
    return "ok"


def report_record(r: ModelReport) -> dict[str, Any]:
    """Every figure of a report and the table's verdict. Its findings are left out: they are problems of
    the whole document, each with the model's index as the first part of its path."""
    record = asdict(r)
    del record["findings"]
    return {**record, "ok": r.ok, "verdict": _verdict(r)}


def _row(r: ModelReport) -> tuple[str, ...]:
    gpu = f"{r.gpu.product} x{r.tensor_parallel * r.pipeline_parallel}" if r.gpu else "? (unknown)"
    if r.nodes > 1:
        gpu += f" ({r.nodes} nodes)"
    avail = fmt_gib(r.kv_available_gib)
    if r.kv_available_gib is not None:
        avail += " (rep.)" if r.kv_source.startswith("reported") else " (est.)"
    return (
        r.name,
        gpu,
        str(r.replicas) if r.min_replicas is None else f"{r.min_replicas}-{r.replicas} auto",
        str(r.gpus_total),
        fmt_gib(r.weights_per_gpu_gib),
        fmt_int(r.kv_bytes_per_token_per_gpu),
        avail,
        fmt_int(r.max_model_len) + ("*" if r.max_model_len_is_default and r.max_model_len else ""),
        fmt_gib(r.kv_needed_gib),
        fmt_int(r.largest_context),
        "-" if r.concurrency is None else f"{r.concurrency:.2f}x",
        "-" if r.host_headroom_gib is None else f"{r.host_headroom_gib:+.1f} GiB",
        "-" if r.pvc_headroom_gib is None else f"{r.pvc_headroom_gib:+.1f} GiB",
        _verdict(r),
    )


def render_table(reports: list[ModelReport]) -> str:
    """A fixed-width table (one row per model) followed by each model's findings, fixes and sources."""
    rows = [_COLUMNS, *(_row(r) for r in reports)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(
        "* model default (maxModelLen not set); GPUs: all replicas at the most (maxReplicas when "
        "autoscaled); KV avail: rep. = engine-reported, est. = estimate; host RAM and PVC: headroom"
    )
    for r in reports:
        details = _details(r)
        if details:
            lines.append("")
            lines.append(f"{r.name} ({r.model_url}):")
            lines.extend(f"  {line}" for line in details)
    return "\n".join(lines) + "\n"


def _details(r: ModelReport) -> list[str]:
    out: list[str] = []
    if r.min_replicas is not None:
        caches = "" if r.pvc_total_gib is None else f", weight caches {r.pvc_total_gib:.0f} GiB in all"
        out.append(
            f"autoscaled {r.min_replicas}-{r.replicas} replicas: at maxReplicas {r.gpus_total} GPUs{caches}"
        )
    if r.kv_available_gib is not None:
        line = f"KV cache memory used: {r.kv_available_gib:.2f} GiB per GPU, {r.kv_source}"
        if r.kv_reported_gib is not None and r.kv_estimate_gib is not None:
            line += f"; own estimate {r.kv_estimate_gib:.2f} GiB"
        elif r.overhead_gib is not None and r.gpu is not None:
            line += (
                f" = {r.gpu.total_gib:.2f} x {r.gpu_memory_utilization} - {r.weights_per_gpu_gib or 0:.2f}"
                f" weights - {r.overhead_gib:.2f} overhead"
            )
        out.append(line)
        out.append(f"GPU KV cache size: {fmt_int(r.capacity_tokens)} tokens")
    out.extend(f"{f.severity}: {f.message}" for f in r.findings)
    out.extend(f"fix: {fix}" for fix in r.fixes)
    out.extend(f"note: {note}" for note in r.notes)
    if r.architecture.sources and any(f.severity != "info" for f in r.findings):
        out.extend(f"source: {line}" for line in sources_summary(r))
    return out


_LABELS = {
    "num_layers": "layers",
    "num_kv_heads": "KV heads",
    "head_dim": "head_dim",
    "max_position_embeddings": "context",
    "weights_gib": "weights",
    "params_b": "parameters",
}


def sources_summary(r: ModelReport) -> list[str]:
    """``"layers, KV heads, head_dim, context: <source>"`` lines, one per distinct source."""
    by_source: dict[str, list[str]] = {}
    for name, label in _LABELS.items():
        source = r.architecture.sources.get(name)
        if source is not None:
            by_source.setdefault(source, []).append(label)
    lines = [f"{', '.join(labels)}: {source}" for source, labels in by_source.items()]
    arch = r.architecture
    if "weights_gib" not in arch.sources and arch.params_b is not None:
        lines.append(f"weights: derived, parameters x bytes of {arch.weight_dtype or 'bfloat16'}")
    return lines
