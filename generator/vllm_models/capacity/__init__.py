"""Capacity preflight: will each model fit its GPUs, its pod's host RAM and its weight cache?

Public API::

    reports = preflight(models, source_file="models.yaml")   # list[ModelReport]
    text = render_table(reports)                              # for the CLI
    records = [report_record(r) for r in reports]             # for its JSON output
    problems = check(models, source_file="models.yaml")       # list[errors.Problem] for validate/generate

Modules: ``arithmetic`` (vLLM's KV-cache and memory formulas, the overhead estimate), ``catalog``
(bundled model catalog and GPU table), ``hfconfig``/``sources`` (where an architecture comes from),
``settings`` (what is read of one entry, once), ``report``/``advice`` (figures, findings and fixes for one
model), ``render`` (text and JSON output).
"""

from __future__ import annotations

from .api import check, findings, preflight
from .records import Architecture, GpuSpec, ModelReport
from .render import render_table, report_record

__all__ = [
    "Architecture",
    "GpuSpec",
    "ModelReport",
    "check",
    "findings",
    "preflight",
    "render_table",
    "report_record",
]
