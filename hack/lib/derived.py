"""What every hack/generate-* script shares: the project's Python, the pinned tools, and one way to hold a
derived file against what its sources say (``--check``: print the diff, exit 1) or to rewrite it.

A generator computes ``{path: text}`` for the files it owns and calls :func:`main`; files it owned
before and no longer produces are listed in ``stale`` and removed (or reported under ``--check``).
"""

from __future__ import annotations

import difflib
import os
import shutil
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"


def reexec_in_project_venv(script: str) -> None:
    """Run ``script`` again with the project's venv (PyYAML, the vllm_models package) when the Python
    that started it lacks them; returns only when already in that venv or when there is none."""
    if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != VENV_PYTHON.parent.parent.resolve():
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), script, *sys.argv[1:]])


def tool(name: str) -> str:
    """The pinned build from hack/bootstrap (``.tools/bin``), else one on PATH."""
    pinned = ROOT / ".tools" / "bin" / name
    if pinned.exists() and os.access(pinned, os.X_OK):
        return str(pinned)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: run ./hack/bootstrap {name}")
    return found


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _diff(path: Path, current: str, text: str) -> Iterable[str]:
    name = str(path.relative_to(ROOT))
    return difflib.unified_diff(
        current.splitlines(keepends=True),
        text.splitlines(keepends=True),
        f"{name} (committed)",
        f"{name} (generated)",
        n=2,
    )


def sync(outputs: dict[Path, str], *, check: bool, command: str, stale: Iterable[Path] = ()) -> int:
    """Compare (``check``) or rewrite every output; 1 when ``check`` finds any drift."""
    drift = False
    for path in sorted(set(stale) - outputs.keys()):
        drift = True
        if check:
            print(f"{path.relative_to(ROOT)}: nothing generates it any more", file=sys.stderr)
        else:
            path.unlink()
            print(f"removed {path.relative_to(ROOT)}")
    for path, text in outputs.items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current == text:
            continue
        drift = True
        if check:
            sys.stderr.writelines(_diff(path, current, text))
        else:
            _write_atomically(path, text)
            print(f"wrote {path.relative_to(ROOT)}")
    if check and drift:
        print(f"derived files are out of date: run {command} and review the diff", file=sys.stderr)
        return 1
    return 0


def main(
    argv: list[str], command: str, outputs: Callable[[], dict[Path, str]], stale: Iterable[Path] = ()
) -> int:
    """The command line every generator has: no argument writes, ``--check`` verifies."""
    if argv not in ([], ["--check"]):
        print(f"usage: {command} [--check]", file=sys.stderr)
        return 2
    return sync(outputs(), check=argv == ["--check"], command=command, stale=stale)
