"""Harness-wide policy: a skip in CI is a failure; the pinned helm for every tier that renders; the fuzz
summary line.

Each tier's own conftest starts and stops what that tier needs; shared helpers live in tests/support.py.
"""

from __future__ import annotations

import signal
import sys

import pytest

from tests.support import in_ci, require_tool


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    # Engines, routers and control planes run in process groups of their own, stopped by fixture
    # teardown. SIGTERM (a CI time limit, `timeout`) would end pytest without teardown and leave them
    # running; as an interrupt, pytest still tears every fixture down.
    signal.signal(signal.SIGTERM, _interrupt)


@pytest.fixture(scope="session")
def helm() -> str:
    return require_tool("helm")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    # In CI a tier that silently skips for a missing tool would look green while testing nothing.
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped in CI, which counts as a failure: {reason}"
    return outcome


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # The seed and the counts of the fuzz (tests/fuzz_strategies.py), when this run imported it.
    fuzz = sys.modules.get("tests.fuzz_strategies")
    if fuzz is not None and fuzz.TALLY.documents + fuzz.TALLY.renders:
        terminalreporter.write_line(fuzz.TALLY.line())
