"""Validation of a whole models.yaml: schema problems and cross-field problems, all at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .checks import cross_field_problems
from .errors import InvalidInput, Problem
from .loader import EXAMPLE_ENTRY, load_models, parse_yaml
from .schema_errors import schema_problems


def problems_of(data: Any) -> list[Problem]:
    """Every problem of parsed models.yaml data; empty when it is valid."""
    if data is None:
        return [Problem((), f"the file is empty; expected a list of models such as {EXAMPLE_ENTRY}")]
    problems = schema_problems(data)
    if isinstance(data, list):
        problems += cross_field_problems(data)
    return problems


def check(data: Any, display: str) -> list[dict[str, Any]]:
    """The data as a list of models when valid; InvalidInput with every problem otherwise."""
    problems = problems_of(data)
    if problems:
        raise InvalidInput(display, problems)
    models: list[dict[str, Any]] = data
    return models


def validate_text(text: str, display: str) -> list[dict[str, Any]]:
    """Parse and validate models.yaml text."""
    return check(parse_yaml(text, display), display)


def validate_file(path: Path, display: str | None = None) -> list[dict[str, Any]]:
    """Read, parse and validate a models file; the valid list of models, or InvalidInput."""
    name = display if display is not None else str(path)
    return check(load_models(path, name), name)
