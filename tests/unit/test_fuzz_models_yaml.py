"""Hostile models.yaml documents end cleanly through the real CLI: accepted with values the chart schema
accepts, or refused with every problem located as FILE::$path; never a traceback, a hang or a half-written
output file (the contract: tests/fuzz_strategies.py). Seeded, so a failure reproduces; the bench runs the
same properties with 100 times the examples (bench/fuzz_bench.py)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, seed
from hypothesis import strategies as st

from tests.fuzz_strategies import (
    RANDOM_BYTES,
    RUN_SECONDS,
    SEED,
    YAML_FEATURES,
    billion_laughs,
    check_document,
    deep_nesting,
    examples,
    huge_file,
    mutated_documents,
    non_utf8,
    schema_documents,
)
from tests.support import REPO_ROOT

pytestmark = pytest.mark.unit


def _refused(content: bytes, kind: str, wording: str) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        outcome = check_document(content, Path(tmp), kind)
    assert not outcome.accepted, f"{kind} was accepted"
    assert wording in outcome.stderr, outcome.stderr


@seed(SEED)
@examples(60)
@given(schema_documents(wild=True) | schema_documents(wild=False))
def test_schema_shaped_documents_are_accepted_or_refused_with_located_messages(content: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        check_document(content, Path(tmp), "schema-shaped")


@seed(SEED)
@examples(60)
@given(mutated_documents())
def test_mutated_fixtures_are_accepted_or_refused_with_located_messages(content: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        check_document(content, Path(tmp), "mutated fixture")


@seed(SEED)
@examples(40)
@given(RANDOM_BYTES)
def test_random_bytes_end_in_a_value_or_a_located_message(content: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        check_document(content, Path(tmp), "random bytes")


@seed(SEED)
@examples(5)
@given(st.integers(6, 12), st.integers(5, 12))
def test_billion_laughs_is_refused_with_a_located_message(levels: int, width: int) -> None:
    _refused(billion_laughs(levels, width), "billion laughs", "values")


@seed(SEED)
@examples(5)
@given(st.integers(65, 50_000), st.booleans())
def test_deep_nesting_is_refused_with_a_located_message(depth: int, flow: bool) -> None:
    _refused(deep_nesting(depth, flow), "deep nesting", "nested deeper")


@seed(SEED)
@examples(3)
@given(st.sampled_from(["comment", "models", "scalar"]), st.integers(3, 6))
def test_huge_file_is_refused_with_a_located_message(filler: str, megabytes: int) -> None:
    _refused(huge_file(filler, megabytes), "huge file", "MiB")


@seed(SEED)
@examples(10)
@given(
    st.sampled_from(
        [p.read_bytes() for p in (REPO_ROOT / "tests/fixtures/models/valid").glob("*.yaml")]
    ).flatmap(non_utf8)
)
def test_non_utf8_text_is_refused_with_a_located_message(content: bytes) -> None:
    _refused(content, "not UTF-8", "UTF-8")


@seed(SEED)
@examples(18)
@given(YAML_FEATURES)
def test_anchors_merge_keys_tabs_and_duplicate_keys_end_in_a_value_or_a_located_message(
    content: bytes,
) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        check_document(content, Path(tmp), "YAML feature")


@pytest.mark.parametrize(
    ("content", "located"),
    [
        pytest.param(billion_laughs(9, 9), "::$[0].labels.", id="billion-laughs"),
        pytest.param(deep_nesting(100_000, flow=True), "::$[0].extraArgs[0]", id="deep-nesting"),
        pytest.param(huge_file("models", 5), "::$: larger than", id="huge-file"),
        pytest.param(b"\xff\xfe\x00- name", "::$: not UTF-8", id="not-utf8"),
    ],
)
def test_the_real_process_refuses_hostile_documents_in_bounded_time(
    content: bytes, located: str, tmp_path: Path
) -> None:
    models, out = tmp_path / "models.yaml", tmp_path / "values.yaml"
    models.write_bytes(content)
    out.write_text("old\n")
    entry = "from vllm_models.cli import main; main()"
    for command in (["validate", "-f", str(models)], ["generate", "-f", str(models), "-o", str(out)]):
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", entry, *command, "--no-preflight"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert time.perf_counter() - start < RUN_SECONDS + 2, f"{command[0]} took too long"
        assert proc.returncode == 1, proc.stderr
        assert proc.stdout == "" and "Traceback" not in proc.stderr, proc.stderr
        lines = proc.stderr.splitlines()
        assert lines and all(line.startswith(f"{models}::$") for line in lines), proc.stderr
        assert located in proc.stderr, proc.stderr
    assert out.read_text() == "old\n"
