"""Every benchmark under bench/ still starts and prints its figures, with a workload small enough for CI.

The figures themselves are for bench runs on a quiet machine (README); here only that each bench runs to
the end and reports what it measures, so none can rot unnoticed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

BENCH = REPO_ROOT / "bench"


def run_bench(script: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, f"bench/{script} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.unit
def test_every_bench_has_a_smoke_run() -> None:
    smoked = {"fuzz_bench.py", "preflight_bench.py", "render_bench.py", "router_overhead.py"}
    assert {p.name for p in BENCH.glob("*.py")} == smoked, "a new bench needs a smoke run here"


@pytest.mark.unit
def test_preflight_bench_prints_its_timings() -> None:
    out = run_bench("preflight_bench.py", "--models", "5", "--repeat", "2")
    assert "first run" in out and "best of 2" in out and "render_table" in out, out


@pytest.mark.unit
def test_fuzz_bench_prints_its_figures() -> None:
    out = run_bench("fuzz_bench.py", "--scale", "0.05", "--seed", "7")
    for figure in ("documents tried:", "rejected with a located message:", "tracebacks: 0", "peak memory:"):
        assert figure in out, out


@pytest.mark.render
def test_render_bench_prints_per_model_costs() -> None:
    out = run_bench("render_bench.py", "--sizes", "1,3", "--repeat", "1")
    assert "   1 models: generate" in out and "   3 models: generate" in out and "ms per model" in out, out


@pytest.mark.e2e
def test_router_bench_prints_every_candidates_figures_and_properties(tmp_path: Path) -> None:
    table = tmp_path / "routers.md"
    out = run_bench("router_overhead.py", "--requests", "10", "--output", str(table))
    rows = {line.split(" | ")[0].lstrip("| "): line for line in out.splitlines() if line.startswith("| ")}
    for name in ("direct", "litellm", "vllm-router", "vllm-router+caddy", "sglang-router"):
        assert name in rows, out
    header = rows["router"]
    assert "CPU ms/request" in header and "req/s c=64" in header and "added p50 c=8 (ms)" in header, out
    for name in ("litellm", "vllm-router", "vllm-router+caddy", "sglang-router"):
        cells = rows[name].strip("| ").split(" | ")
        assert float(cells[1]) > 0, f"{name}: no router CPU measured: {rows[name]}"
        assert all(c.startswith(("yes", "no")) for c in cells[7:]), (
            f"{name}: a property unchecked: {rows[name]}"
        )
    assert "Machine: " in out and "Holds every property: " in out, out
    assert table.read_text() == out[out.index("Machine: ") :], "--output writes what the bench prints"
