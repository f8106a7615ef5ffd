"""The GitHub workflow, which cannot run here (its kind job needs Docker), is at least checked here:
actionlint finds nothing, and every `just` recipe and repository script it calls exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import REPO_ROOT, require_tool

pytestmark = pytest.mark.render

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.y*ml"))
JUST = REPO_ROOT / ".venv" / "bin" / "just"


def run_lines(workflow: Path) -> list[str]:
    doc: dict[str, Any] = yaml.safe_load(workflow.read_text())
    return [
        line
        for job in doc["jobs"].values()
        for step in job.get("steps", [])
        for line in str(step.get("run", "")).splitlines()
    ]


def test_there_is_a_workflow_to_check() -> None:
    assert WORKFLOWS, "no workflow under .github/workflows"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_is_clean(workflow: Path) -> None:
    proc = subprocess.run(
        [require_tool("actionlint"), "-no-color", str(workflow)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_recipe_and_script_the_workflow_calls_exists(workflow: Path) -> None:
    summary = subprocess.run(
        [str(JUST), "--summary"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    lines = run_lines(workflow)
    recipes = {m for line in lines for m in re.findall(r"\bjust\s+([a-z][\w:-]*)", line)}
    scripts = {m for line in lines for m in re.findall(r"(?:^|\s)\./((?:hack|\.ci)/[\w./-]+)", line)}
    assert recipes, f"{workflow.name} calls no just recipe: the pattern no longer matches its steps"
    assert not recipes - set(summary), (
        f"{workflow.name} calls missing recipes {sorted(recipes - set(summary))}"
    )
    missing = sorted(s for s in scripts if not (REPO_ROOT / s).is_file())
    assert not missing, f"{workflow.name} calls missing scripts {missing}"


def test_the_recipe_check_notices_a_missing_recipe(tmp_path: Path) -> None:
    broken = tmp_path / "ci.yaml"
    broken.write_text(
        yaml.safe_dump(
            {"jobs": {"x": {"runs-on": "ubuntu-24.04", "steps": [{"run": "just no-such-recipe"}]}}}
        )
    )
    with pytest.raises(AssertionError, match="no-such-recipe"):
        test_every_recipe_and_script_the_workflow_calls_exists(broken)
