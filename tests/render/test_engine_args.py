"""Every engine argument the chart renders is accepted by the pinned vLLM's parser, and none is deprecated.

Inputs: every golden render (tests/golden/*.yaml) and every chart scenario
(charts/vllm-models/ci/*-values.yaml, rendered here). All invocations go through one subprocess of
the engine venv (hack/engine-venv, built on first use), because importing vLLM costs ~15 s.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from engine_args import check_invocations, engine_invocations, problems
from render_helpers import CHART

from tests.support import REPO_ROOT

pytestmark = pytest.mark.render

GOLDEN = sorted((REPO_ROOT / "tests" / "golden").glob("*.yaml"))
SCENARIOS = sorted((CHART / "ci").glob("*-values.yaml"))
# A flag no vLLM has: proves the check rejects what it should, so a pass is not vacuous.
CANARY_SOURCE = "canary"
CANARY_FLAG = "--max-model-lenn"


@pytest.fixture(scope="session")
def engine_checks(render: Any) -> dict[str, list[dict[str, Any]]]:
    """Source (golden file or scenario) -> one parse result per engine container, from one subprocess."""
    invocations: list[dict[str, Any]] = []
    for path in GOLDEN:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
        invocations += engine_invocations(docs, f"golden/{path.name}")
    for path in SCENARIOS:
        r = render(path)
        assert r.returncode == 0, f"{path.name} does not render: {r.stderr}"
        invocations += engine_invocations(r.objects, f"ci/{path.name}")
    invocations.append(
        {
            "source": CANARY_SOURCE,
            "model": "canary",
            "command": ["vllm", "serve"],
            "args": ["/models/x", f"{CANARY_FLAG}=8", "--port=8000"],
        }
    )
    by_source: dict[str, list[dict[str, Any]]] = {}
    for result in check_invocations(invocations):
        by_source.setdefault(result["source"], []).append(result)
    return by_source


def _sources() -> list[str]:
    return [f"golden/{p.name}" for p in GOLDEN] + [f"ci/{p.name}" for p in SCENARIOS]


@pytest.mark.parametrize("source", _sources())
def test_engine_flags_parse_and_are_current(
    engine_checks: dict[str, list[dict[str, Any]]], source: str
) -> None:
    results = engine_checks.get(source, [])
    assert results, f"{source} renders no engine container (Deployment/StatefulSet component=engine, 'vllm')"
    found = [line for r in results for line in problems(r)]
    assert not found, "vLLM's parser rejects or deprecates:\n" + "\n".join(found)


@pytest.mark.parametrize("source", _sources())
def test_engine_command_is_current(engine_checks: dict[str, list[dict[str, Any]]], source: str) -> None:
    found = [
        f"{source}: model {r['model']}: {r['command_deprecated']}"
        for r in engine_checks.get(source, [])
        if r["command_deprecated"]
    ]
    assert not found, "the engine command is deprecated:\n" + "\n".join(found)


def test_misspelled_flag_is_rejected_by_name(engine_checks: dict[str, list[dict[str, Any]]]) -> None:
    (canary,) = engine_checks[CANARY_SOURCE]
    assert [e["flag"] for e in canary["errors"]] == [CANARY_FLAG], canary
    assert CANARY_FLAG in problems(canary)[0]
