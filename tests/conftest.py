"""Harness-wide policy: where the pinned tools live, and why a skip in CI is a failure.

Each tier's own conftest starts and stops what that tier needs; this file holds only what every tier
shares.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def find_tool(name: str) -> str | None:
    """The pinned tool under .tools/bin first, then whatever PATH offers."""
    pinned = TOOLS_BIN / name
    if pinned.is_file() and os.access(pinned, os.X_OK):
        return str(pinned)
    return shutil.which(name)


def require_tool(name: str) -> str:
    """Path of a tool, or a skip naming the command that installs it (a failure in CI, see below)."""
    path = find_tool(name)
    if path is None:
        pytest.skip(f"missing tool {name!r}: run ./hack/bootstrap")
    return path


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
