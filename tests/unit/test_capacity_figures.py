"""The preflight's figures, fixes and findings for every example model, against a recorded copy.

A change to how the preflight reads its input must leave every figure as it was; a change to the
arithmetic or the advice shows up as a reviewable diff of tests/fixtures/capacity/figures.json. Rewrite
that file with ``python -m tests.unit.test_capacity_figures`` (from the repository root), then review it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from vllm_models.capacity import preflight, report_record

from .helpers import VALID

pytestmark = pytest.mark.unit

CAPACITY = Path(__file__).parent.parent / "fixtures" / "capacity"
RECORDED = CAPACITY / "figures.json"


def _inputs() -> dict[str, list[dict[str, Any]]]:
    """Every models list the tests know: the valid fixtures, the example, the capacity fixtures."""
    files = [*VALID, CAPACITY / "llama70b-fp8-h100.yaml"]
    lists = {p.name: yaml.safe_load(p.read_text()) or [] for p in files}
    for case in yaml.safe_load((CAPACITY / "matrix.yaml").read_text()):
        lists[f"matrix:{case['id']}"] = [case["entry"]]
    return lists


def _rounded(value: Any) -> Any:
    """Floats to 6 decimals: figures are shown to 2, and summation order may move the last bits."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def current() -> dict[str, Any]:
    """What the preflight says now about each input, without a Hugging Face cache or network."""
    out: dict[str, Any] = {}
    for name, models in _inputs().items():
        reports = preflight(models, source_file="models.yaml")
        out[name] = [
            {
                **_rounded(report_record(r)),
                "findings": [[f.severity, f.path, f.message] for f in r.findings],
            }
            for r in reports
        ]
    return out


@pytest.fixture(autouse=True)
def _no_local_hf_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hermetic: a Hugging Face cache on the test machine must not change the figures."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path_factory.mktemp("empty-hf-cache")))


def test_every_example_models_figures_are_as_recorded() -> None:
    recorded = json.loads(RECORDED.read_text())
    now = json.loads(json.dumps(current()))  # tuples as lists, like the recording
    assert now.keys() == recorded.keys()
    for name in recorded:
        assert now[name] == recorded[name], name


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as empty:
        os.environ["HF_HUB_CACHE"] = empty
        RECORDED.write_text(json.dumps(current(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {RECORDED}")
