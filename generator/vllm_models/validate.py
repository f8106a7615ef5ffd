"""Validation of a whole models.yaml: schema problems and cross-field problems, all at once."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .autoscaling import DEFAULT_PROVIDER
from .checks import cross_field_problems
from .errors import InvalidInput, PathPart, Problem
from .loader import EXAMPLE_ENTRY, parse_yaml, read_text
from .schema_errors import schema_problems


def _non_finite(value: Any, path: tuple[PathPart, ...] = ()) -> Iterator[Problem]:
    """YAML's .inf and .nan are numbers to JSON Schema, but neither Helm nor Kubernetes can take them."""
    if isinstance(value, float) and not math.isfinite(value):
        yield Problem(path, f"must be a finite number, got {value}")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, (*path, index))


def problems_of(data: Any, text: str | None = None, provider: str = DEFAULT_PROVIDER) -> list[Problem]:
    """Every problem of parsed models.yaml data (``text``: its source, to word an empty file;
    ``provider``: the chart's ``autoscaling.provider``)."""
    if data is None:
        what = "the file is empty" if text is None or not text.strip() else "the file has only comments"
        return [Problem((), f"{what}; expected a list of models such as {EXAMPLE_ENTRY}")]
    problems = schema_problems(data)
    # where the schema expects a number it words the problem itself (a quantity, a size); elsewhere this
    reported = {p.path for p in problems}
    problems += [p for p in _non_finite(data) if p.path not in reported]
    if isinstance(data, list):
        problems += cross_field_problems(data, provider)
    return problems


def check(
    data: Any, display: str, text: str | None = None, provider: str = DEFAULT_PROVIDER
) -> list[dict[str, Any]]:
    """The data as a list of models when valid; InvalidInput with every problem otherwise."""
    problems = problems_of(data, text, provider)
    if problems:
        raise InvalidInput(display, problems)
    models: list[dict[str, Any]] = data
    return models


def validate_text(text: str, display: str, provider: str = DEFAULT_PROVIDER) -> list[dict[str, Any]]:
    """Parse and validate models.yaml text."""
    return check(parse_yaml(text, display), display, text, provider)


def validate_file(
    path: Path, display: str | None = None, provider: str = DEFAULT_PROVIDER
) -> list[dict[str, Any]]:
    """Read, parse and validate a models file; the valid list of models, or InvalidInput."""
    name = display if display is not None else str(path)
    return validate_text(read_text(path, name), name, provider)


def require_models(models: list[dict[str, Any]], display: str) -> None:
    """An empty list is a valid file but nothing to deploy: the chart needs at least one model."""
    if not models:
        raise InvalidInput(
            display,
            [
                Problem(
                    (),
                    "no models to deploy (the chart needs at least one): add one with "
                    "'vllm-models add-model', or remove the release with 'just vllm::uninstall'",
                )
            ],
        )


def capacity_problems(models: list[dict[str, Any]], display: str) -> list[Problem]:
    """The capacity preflight's errors (a model that cannot start, unless ``preflight.allowUnfit``) and
    warnings (``capacity.check``). A failure inside the preflight itself becomes a warning: the preflight is
    advice, and its own bug must not block a deploy."""
    try:
        from .capacity import check as capacity_check

        return capacity_check(models, source_file=display)
    except Exception as e:
        return [Problem((), f"capacity preflight skipped ({type(e).__name__}: {e})", "warning", display)]
