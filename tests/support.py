"""Helpers every tier shares: where the pinned tools are and their pins, and polling with a
message that says what never happened."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
    """Path of a tool, or a skip naming the command that installs it (a failure in CI, see conftest)."""
    path = find_tool(name)
    if path is None:
        pytest.skip(f"missing tool {name!r}: run ./hack/bootstrap")
    return path


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 90, interval: float = 0.5) -> Any:
    """Poll until predicate() is truthy and return its value; fail naming what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def pinned_versions() -> dict[str, str]:
    """The pins of hack/lib/versions.sh (NAME=value lines), the one place the tools' versions live."""
    text = (REPO_ROOT / "hack" / "lib" / "versions.sh").read_text()
    return dict(re.findall(r"^([A-Z][A-Z0-9_]*)=([^\s$]+)$", text, flags=re.MULTILINE))
