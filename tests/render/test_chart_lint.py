"""`helm lint --strict` per scenario and chart-testing's `ct lint` are clean."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from render_helpers import CHART, FIXTURES, REPO_ROOT

from tests.support import find_tool

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


def test_object_names_come_from_the_names_helper() -> None:
    """Every object name is an `include` of a define in templates/_names.tpl, never inline: one place
    decides names and their 63-character budget."""
    names_tpl = (CHART / "templates" / "_names.tpl").read_text(encoding="utf-8")
    offenders = []
    for path in sorted((CHART / "templates").rglob("*.yaml")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines[:-1]):
            if line.strip() != "metadata:":
                continue
            indent = len(line) - len(line.lstrip())
            nxt = lines[i + 1]
            if nxt.strip().startswith("name:") and len(nxt) - len(nxt.lstrip()) == indent + 2:
                value = nxt.split("name:", 1)[1]
                var = re.fullmatch(r"\s*\{\{-?\s*(\$\w+)\s*-?\}\}\s*", value)
                if var:  # `name: {{ $name }}` after `$name := include "..."` in the same file
                    assigned = re.search(
                        re.escape(var.group(1)) + r'\s*:?=\s*include\s+"([^"]+)"', "\n".join(lines)
                    )
                    value = f'include "{assigned.group(1)}"' if assigned else value
                define = value.split('include "', 1)[1].split('"', 1)[0] if 'include "' in value else ""
                if not define or f'define "{define}"' not in names_tpl:
                    offenders.append(f"{path.relative_to(CHART)}:{i + 2}: {nxt.strip()}")
    assert not offenders, "names built outside templates/_names.tpl:\n" + "\n".join(offenders)


def test_every_define_is_unique() -> None:
    """Helm lets a later `define` silently replace an earlier one: one definition per name."""
    seen: dict[str, str] = {}
    duplicates = []
    for path in sorted((CHART / "templates").rglob("*")):
        if path.is_file():
            for name in re.findall(r'define\s+"([^"]+)"', path.read_text(encoding="utf-8")):
                where = str(path.relative_to(CHART))
                if name in seen:
                    duplicates.append(f"{name}: {seen[name]} and {where}")
                seen.setdefault(name, where)
    assert not duplicates, "\n".join(duplicates)
