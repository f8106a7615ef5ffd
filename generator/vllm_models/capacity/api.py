"""The preflight's entry points for the CLI and for validate/generate: pure, no printing, no exiting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import Problem, Severity
from .records import ModelReport
from .report import Options, build_report
from .settings import ModelSettings
from .sources import Fetcher


def preflight(
    models: list[dict[str, Any]],
    *,
    source_file: str = "models.yaml",
    allow_network: bool = False,
    hf_cache: Path | None = None,
    fetch: Fetcher | None = None,
    cache_dir: Path | None = None,
) -> list[ModelReport]:
    """One :class:`ModelReport` per model entry, in order.

    ``models`` is the parsed models.yaml list (raw or with defaults applied). ``source_file`` names the
    file in findings. The hub is consulted only with ``allow_network`` (through ``fetch``, default
    HTTPS to huggingface.co, answers cached under ``cache_dir``). ``hf_cache`` is an ``HF_HOME`` or hub
    directory; None means the usual environment variables.
    """
    options = Options(
        source_file=source_file,
        allow_network=allow_network,
        hf_cache=hf_cache,
        fetch=fetch,
        cache_dir=cache_dir,
    )
    return [
        build_report(ModelSettings.of(i, entry if isinstance(entry, dict) else {}), options)
        for i, entry in enumerate(models)
    ]


def findings(reports: list[ModelReport], *, minimum: Severity = "warning") -> list[Problem]:
    """All findings of all reports at or above ``minimum`` severity (``error``, ``warning`` or ``info``)."""
    rank: dict[Severity, int] = {"info": 0, "warning": 1, "error": 2}
    return [f for r in reports for f in r.findings if rank[f.severity] >= rank[minimum]]


def check(
    models: list[dict[str, Any]],
    *,
    source_file: str = "models.yaml",
    allow_network: bool = False,
    hf_cache: Path | None = None,
) -> list[Problem]:
    """What validate/generate call: errors (cannot fit, unless ``preflight.allowUnfit``) and warnings."""
    return findings(
        preflight(models, source_file=source_file, allow_network=allow_network, hf_cache=hf_cache)
    )
