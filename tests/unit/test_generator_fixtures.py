"""Every fixture file is a test case: valid ones validate and generate chart values that pass the
chart's own schema; invalid ones produce exactly the errors their ``# expect:`` header states."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from vllm_models.cli import cli

from .helpers import CHART_SCHEMA, INVALID, VALID, expected_lines, fixture_env

pytestmark = pytest.mark.unit


def test_enough_distinct_invalid_cases() -> None:
    assert len(INVALID) >= 25
    messages = {tuple(expected_lines(p)) for p in INVALID}
    assert len(messages) == len(INVALID), "two invalid fixtures expect the same errors"


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_fixture_validates(path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "-f", str(path)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_fixture_reports_exactly_its_expected_errors(path: Path, tmp_path: Path) -> None:
    expected = expected_lines(path)
    assert expected, f"{path.name} has no '# expect:' header"
    out = tmp_path / "values.yaml"
    for command in (["validate", "-f", str(path)], ["generate", "-f", str(path), "-o", str(out)]):
        result = CliRunner(env=fixture_env(path)).invoke(cli, command)
        assert result.exit_code == 1, result.output
        assert result.stdout == ""
        assert result.stderr.splitlines() == [f"{path}::{line}" for line in expected]
        assert "Traceback" not in result.output
    assert not out.exists(), "generate wrote a file for invalid input"


def _generate(path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner(env=env).invoke(cli, ["generate", "-f", str(path), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


DEPLOYABLE = [p for p in VALID if p.name != "empty-list.yaml"]


@pytest.mark.parametrize("path", DEPLOYABLE, ids=lambda p: p.name)
def test_generate_is_deterministic(path: Path) -> None:
    assert _generate(path) == _generate(path)


FULL_ENV = {
    "VLLM_MODEL_IMAGE": "registry.example/vllm-openai",
    "VLLM_MODEL_TAG": "v0.32.0",
    "VLLM_STORAGE_CLASS": "fast-ssd",
    "VLLM_ROUTER_ENABLED": "true",
    "VLLM_ROUTER_REPLICAS": "2",
    "VLLM_ROUTER_REQUEST_CPU": "200m",
    "VLLM_ROUTER_REQUEST_MEMORY": "512Mi",
    "VLLM_ROUTER_LIMIT_MEMORY": "1Gi",
    "VLLM_HF_TOKEN_SECRET": "vllm-hf-token",
    "VLLM_ROUTER_MASTER_KEY_SECRET": "vllm-api-key",
}


@pytest.mark.parametrize("env", [{}, FULL_ENV], ids=["no-env", "all-env"])
@pytest.mark.parametrize("path", DEPLOYABLE, ids=lambda p: p.name)
def test_generated_values_pass_the_chart_schema(path: Path, env: dict[str, str]) -> None:
    if not CHART_SCHEMA.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHART_SCHEMA} is missing")
        pytest.skip(f"{CHART_SCHEMA} not generated yet")
    schema = json.loads(CHART_SCHEMA.read_text())
    values = yaml.safe_load(_generate(path, env=env))
    errors = sorted(Draft202012Validator(schema).iter_errors(values), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
