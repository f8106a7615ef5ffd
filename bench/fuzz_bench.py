"""Benchmark: the fuzz of tests/unit/test_fuzz_models_yaml.py (and, with --chart, of
tests/render/test_fuzz_chart_values.py) with many more examples than a test run.

Run: .venv/bin/python bench/fuzz_bench.py [--scale 100] [--seed S] [--chart]
Runs the same property tests through pytest with VLLM_FUZZ_SCALE times their bounded examples, then prints
documents tried, rejected with a located message, accepted, tracebacks (must be 0), the slowest run and
the peak memory of the process. Exit 1 when a property fails.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=100, help="examples per property, times the bounded run's")
    ap.add_argument("--seed", type=int, default=20260)
    ap.add_argument("--chart", action="store_true", help="also the chart properties (helm template each)")
    args = ap.parse_args()
    # read by tests/fuzz_strategies at import, so set before pytest imports it
    os.environ["VLLM_FUZZ_SCALE"] = str(args.scale)
    os.environ["VLLM_FUZZ_SEED"] = str(args.seed)
    sys.path.insert(0, str(ROOT))
    import pytest

    tests = ["tests/unit/test_fuzz_models_yaml.py"]
    if args.chart:
        tests.append("tests/render/test_fuzz_chart_values.py")
    start = time.perf_counter()
    # the properties only: the subprocess checks of the test run prove the real process, not volume
    properties = ["-k", "not real_process"]
    status = pytest.main([*tests, *properties, "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT)])
    elapsed = time.perf_counter() - start
    from tests.fuzz_strategies import TALLY

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"documents tried: {TALLY.documents}\nrejected with a located message: {TALLY.rejected}\n"
        f"accepted: {TALLY.accepted}\ntracebacks: {TALLY.tracebacks}\nhelm renders: {TALLY.renders}\n"
        f"max CPU seconds per run: {TALLY.max_seconds:.2f}\npeak memory: {peak:.0f} MiB\n"
        f"total: {elapsed:.1f} s (seed {args.seed}, scale {args.scale})"
    )
    return 0 if status == 0 and TALLY.tracebacks == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
