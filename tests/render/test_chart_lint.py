"""`helm lint --strict` per scenario and chart-testing's `ct lint` are clean."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from render_helpers import CHART, FIXTURES, REPO_ROOT, find_tool

pytestmark = pytest.mark.render

SCENARIOS = sorted((CHART / "ci").glob("*-values.yaml")) + sorted(FIXTURES.glob("*.yaml"))


@pytest.mark.parametrize("values", SCENARIOS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_helm_lint_strict(helm: str, values: Path) -> None:
    proc = subprocess.run(
        [helm, "lint", "--strict", str(CHART), "-f", str(values)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[WARNING]" not in proc.stdout and "[ERROR]" not in proc.stdout, proc.stdout


def test_helm_lint_strict_on_the_chart_defaults(helm: str) -> None:
    """The defaults lint clean; lint mode reports the missing `models` instead of failing on it."""
    proc = subprocess.run([helm, "lint", "--strict", str(CHART)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "`models` must list at least one model" in proc.stdout + proc.stderr


def test_ct_lint(helm: str) -> None:
    ct = find_tool("ct")
    if ct is None:
        pytest.skip("missing tool 'ct': run ./hack/bootstrap")
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(
        [str(Path(helm).parent), str(REPO_ROOT / ".venv" / "bin"), env.get("PATH", "")]
    )
    proc = subprocess.run(
        [ct, "lint", "--config", "ct.yaml", "--charts", "charts/vllm-models"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]


def test_chart_metadata() -> None:
    import yaml

    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    assert chart["apiVersion"] == "v2" and chart["version"] == "0.1.0"
    assert chart["kubeVersion"] == ">=1.30.0-0"
    # appVersion is the engine image the chart pins
    assert chart["appVersion"] == values["image"]["tag"]
    assert values["image"]["repository"] == "vllm/vllm-openai"
