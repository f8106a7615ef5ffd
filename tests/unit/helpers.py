"""Shared paths and helpers of the generator's unit tests."""

from __future__ import annotations

from pathlib import Path

from tests.support import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "models"
VALID = [*sorted((FIXTURES / "valid").glob("*.yaml")), REPO_ROOT / "models.example.yaml"]
INVALID = sorted((FIXTURES / "invalid").glob("*.yaml"))
CHART_SCHEMA = REPO_ROOT / "charts" / "vllm-models" / "values.schema.json"
EXPECT = "# expect: "
ENV = "# env: "


def expected_lines(path: Path) -> list[str]:
    """The ``# expect: $.path: message`` lines of an invalid fixture (or of its ``.expect`` sidecar,
    for the one fixture that must stay empty)."""
    sidecar = path.with_name(path.name + ".expect")
    source = sidecar if sidecar.exists() else path
    return [line[len(EXPECT) :] for line in source.read_text().splitlines() if line.startswith(EXPECT)]


def fixture_env(path: Path) -> dict[str, str]:
    """The ``# env: NAME=value`` lines of a fixture: the environment the CLI runs it with (chart-wide
    settings such as VLLM_AUTOSCALING_PROVIDER that models.yaml does not hold)."""
    lines = [line[len(ENV) :] for line in path.read_text().splitlines() if line.startswith(ENV)]
    return dict(line.split("=", 1) for line in lines)
