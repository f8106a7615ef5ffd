"""The quickstart's local endpoint: the release installed on the local control plane, served on loopback.

The local control plane's nodes are simulated, so no engine pod really runs there. This starts the
release's router exactly as the cluster holds it (`helm get manifest`, plus the Secrets it references)
in front of one simulated engine per model, as detached process groups, and records them in a state
file so that `down` can stop them from another process.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from vllm_models.atomic import write_atomic
from vllm_models.local.manifest import LocalRunError, Release
from vllm_models.local.processes import Proc, free_port, stop_group
from vllm_models.local.stack import Engine, start_router

STATE_FILE = "endpoint.json"


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def group_of(p: Proc | Engine) -> dict[str, Any]:
    """What `down` needs to stop a process group, and to recognise it: its leader's command line."""
    proc = p.proc if isinstance(p, Engine) else p
    if proc is None:
        raise LocalRunError(f"{p.engine_id if isinstance(p, Engine) else p} never started")
    return {"pgid": proc.pgid, "argv": proc.argv}


def is_leader_of(pgid: int, argv: list[str]) -> bool:
    """Whether `pgid` still names the process that was started (and not a later one reusing the id).
    A script's command line starts with its interpreter, so its arguments and name are compared."""
    try:
        raw = Path(f"/proc/{pgid}/cmdline").read_bytes()
    except OSError:
        return False
    cmdline = [c.decode(errors="replace") for c in raw.split(b"\0") if c]
    args = argv[1:]
    name = Path(argv[0]).name
    return cmdline[len(cmdline) - len(args) :] == args and any(Path(c).name == name for c in cmdline)


def up(release: Release, state_dir: Path, bin_dir: Path, port: int) -> dict[str, Any]:
    """Replace a running local endpoint with one for `release`; the router listens on `port` when free
    (else on a free port, which the returned state names)."""
    down(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    procs: list[Proc | Engine] = []
    try:
        router = start_router(release, state_dir, procs, bin_dir, port if port_is_free(port) else free_port())
    except BaseException:
        for p in reversed(procs):
            p.stop()
        raise
    groups = [group_of(p) for p in procs]
    state = {
        "url": router.url,
        "router": router.engine,
        "models": {m: e.served_name for m, e in router.engines.items()},
        "process_groups": groups,
        "logs": str(state_dir),
    }
    write_atomic(state_dir / STATE_FILE, json.dumps(state, indent=2) + "\n")
    return state


def read_state(state_dir: Path) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads((state_dir / STATE_FILE).read_text())
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as e:
        raise LocalRunError(f"{state_dir / STATE_FILE}: not a local endpoint state file ({e})") from e
    return state


def running(state_dir: Path) -> bool:
    """Whether every process group of the recorded endpoint still runs (a reboot leaves a stale file)."""
    state = read_state(state_dir)
    return state is not None and all(
        is_leader_of(int(g["pgid"]), list(g["argv"])) for g in state.get("process_groups", [])
    )


def down(state_dir: Path) -> int:
    """Stop the local endpoint recorded in `state_dir`; returns how many process groups were stopped."""
    state = read_state(state_dir)
    if state is None:
        return 0
    stopped = 0
    for group in reversed(state.get("process_groups", [])):
        if is_leader_of(int(group["pgid"]), list(group["argv"])):
            stop_group(int(group["pgid"]))
            stopped += 1
    (state_dir / STATE_FILE).unlink()
    return stopped
