"""Stopping the local processes the e2e tier and the local endpoint start (vllm_models/local/processes.py)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from vllm_models.local.processes import Proc

pytestmark = pytest.mark.unit


def test_a_process_that_ends_on_sigterm_is_stopped_at_once(tmp_path: Path) -> None:
    """Its group is gone as soon as the leader, our child, is reaped: no wait for the SIGTERM grace and the
    SIGKILL after it (10 s per engine and router, when the unreaped leader counted as a member)."""
    proc = Proc(
        "sleeper", [sys.executable, "-c", "import time; time.sleep(60)"], {}, tmp_path / "sleeper.log"
    )
    proc.start()
    started = time.monotonic()
    proc.stop()
    assert time.monotonic() - started < 2
    assert not proc.alive()
