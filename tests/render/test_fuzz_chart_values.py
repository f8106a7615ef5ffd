"""The chart on fuzzed values: what `generate` accepts renders strictly valid Kubernetes objects, and
mutated CI values either fail `helm template` with a message or render strictly valid objects. Seeded and
bounded (a `helm template` is ~0.15 s): the strategies are tests/fuzz_strategies.py's."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, seed
from render_helpers import K8S_VERSIONS, strict_errors

from tests.fuzz_strategies import (
    SEED,
    TALLY,
    check_document,
    examples,
    mutated_chart_values,
    mutated_documents,
    schema_documents,
)

pytestmark = pytest.mark.render


def _render_checked(render: Any, values: Path | dict[str, Any]) -> Any:
    TALLY.renders += 1
    r = render(values)
    assert "panic" not in r.stderr and "goroutine" not in r.stderr, r.stderr
    if r.returncode == 0:
        assert r.objects, "rendered nothing"
        errors = [e for version in K8S_VERSIONS for e in strict_errors(r.objects, version)]
        assert not errors, "\n".join(errors[:10])
    return r


@seed(SEED)
@examples(12)
@given(schema_documents(wild=False) | mutated_documents())
def test_values_generate_accepts_render_strictly_valid_objects(render: Any, content: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        outcome = check_document(content, Path(tmp), "rendered document")
        assume(outcome.accepted)
        # the file generate wrote, not a re-dump of it: how it quotes text is part of what is tested
        r = _render_checked(render, Path(tmp) / "values.yaml")
    assert r.returncode == 0, f"values generate accepted fail helm template:\n{r.stderr}"


@seed(SEED)
@examples(25)
@given(mutated_chart_values())
def test_mutated_ci_values_fail_with_a_message_or_render_strictly_valid_objects(
    render: Any, values: dict[str, Any]
) -> None:
    r = _render_checked(render, values)
    if r.returncode != 0:
        assert r.stderr.strip(), "helm template failed without a message"
