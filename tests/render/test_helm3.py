"""Users still on Helm 3 get the same release: Helm 3 renders every scenario into the same objects as the
pinned Helm 4, and lints it clean."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from render_helpers import CHART, FIXTURES, NAMESPACE, RELEASE, Rendered

from tests.support import require_tool

pytestmark = pytest.mark.render

SCENARIOS = sorted((CHART / "ci").glob("*-values.yaml")) + sorted(FIXTURES.glob("*.yaml"))


def helm3(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("helm3"), *args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("values", SCENARIOS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_helm3_renders_the_objects_helm4_renders(values: Path, render: Callable[..., Rendered]) -> None:
    helm4 = render(values)
    assert helm4.returncode == 0, helm4.stderr
    proc = helm3("template", RELEASE, str(CHART), "--namespace", NAMESPACE, "-f", str(values))
    assert proc.returncode == 0, proc.stderr
    assert [d for d in yaml.safe_load_all(proc.stdout) if d] == helm4.objects


def test_helm3_lints_the_chart_clean() -> None:
    proc = helm3("lint", "--strict", str(CHART), "-f", str(CHART / "ci" / "all-options-values.yaml"))
    assert proc.returncode == 0 and "[WARNING]" not in proc.stdout, proc.stdout + proc.stderr
