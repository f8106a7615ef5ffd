"""Child processes in process groups of their own, and waiting for them to answer.

A process group is the unit of start and stop: a router that forks workers is stopped with all of them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vllm_models.local.manifest import LocalRunError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether GET `url` returns a 2xx status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError):
        return False


def stop_group(pgid: int, grace: float = 5.0, leader: subprocess.Popen[bytes] | None = None) -> None:
    """SIGTERM the group, then SIGKILL what is still there after `grace` seconds. `leader`: the group's
    leader when this process started it, reaped here, since a zombie still counts as a group member."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if leader is not None:
                leader.poll()
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


@dataclass
class Proc:
    """A child process leading its own process group, stopped with everything it started."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    cwd: Path | None = None
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        with self.log.open("ab") as logf:
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdout=logf,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    @property
    def pgid(self) -> int:
        if self.popen is None:
            raise LocalRunError(f"{self.name} was never started")
        return self.popen.pid  # start_new_session: the child leads its own group

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self) -> None:
        if self.popen is None:
            return
        stop_group(self.pgid, leader=self.popen)
        self.popen.wait(timeout=5)
        self.popen = None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def wait_until(what: str, check: Callable[[], bool], timeout: float, proc: Proc | None = None) -> None:
    """Poll `check` until it holds; fail early, with the log's tail, when `proc` exits meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise LocalRunError(f"{proc.name} exited while waiting for {what}:\n{proc.tail()}")
        if check():
            return
        time.sleep(0.1)
    tail = f"\n{proc.name} log:\n{proc.tail()}" if proc else ""
    raise LocalRunError(f"timed out after {timeout}s waiting for {what}{tail}")
