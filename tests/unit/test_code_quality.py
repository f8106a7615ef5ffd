"""The house style as a gate: ruff (lint and format) on all Python, mypy --strict on the package."""

from __future__ import annotations

import subprocess

import pytest

from tests.support import REPO_ROOT

pytestmark = pytest.mark.unit

VENV_BIN = REPO_ROOT / ".venv" / "bin"


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check"],  # what it covers: [tool.ruff] include in pyproject.toml
        ["ruff", "format", "--check"],
        ["mypy"],  # strict, on generator/vllm_models (pyproject.toml)
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_static_checks_pass(command: list[str]) -> None:
    result = subprocess.run(
        [str(VENV_BIN / command[0]), *command[1:]],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}{result.stderr}"
