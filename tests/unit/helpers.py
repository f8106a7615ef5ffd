"""Shared paths and helpers of the generator's unit tests."""

from __future__ import annotations

from pathlib import Path

from tests.support import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "models"
VALID = [*sorted((FIXTURES / "valid").glob("*.yaml")), REPO_ROOT / "models.example.yaml"]
INVALID = sorted((FIXTURES / "invalid").glob("*.yaml"))
CHART_SCHEMA = REPO_ROOT / "charts" / "vllm-models" / "values.schema.json"
EXPECT = "# expect: "


def expected_lines(path: Path) -> list[str]:
    """The ``# expect: $.path: message`` lines of an invalid fixture (or of its ``.expect`` sidecar,
    for the one fixture that must stay empty)."""
    sidecar = path.with_name(path.name + ".expect")
    source = sidecar if sidecar.exists() else path
    return [line[len(EXPECT) :] for line in source.read_text().splitlines() if line.startswith(EXPECT)]
