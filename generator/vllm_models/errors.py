"""Domain errors and the one problem type: every problem found in an input file carries the file, a
JSON path, a severity and a message, and is printed by :func:`problem_line` (people) or
:func:`problem_record` inside a :func:`json_document` (scripts) only.

The core never prints or exits; the CLI prints what these functions return.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

PathPart = str | int
Severity = Literal["error", "warning", "info"]
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")  # \Z: a key ending in a newline is quoted


def format_path(parts: Sequence[PathPart]) -> str:
    """``$[0].vllmConfig.maxModelLen``; keys that are not identifiers are quoted: ``$[0].labels['a/b']``."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.match(part):
            out += f".{part}"
        else:
            out += "[" + repr(part) + "]"
    return out


def _one_line(message: str) -> str:
    """Control characters and line separators (a user's value in the message) as escapes like ``\\r``."""
    return "".join(
        c.encode("unicode_escape").decode("ascii") if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c
        for c in message
    )


def _sort_key(parts: Sequence[PathPart]) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in parts)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, at a path inside it: ``parts`` ``(0, "vllmConfig", "maxModelLen")``
    is ``path`` ``$[0].vllmConfig.maxModelLen``. ``file`` is filled in by :class:`InvalidInput` when the
    code that found the problem did not know the file's name."""

    parts: tuple[PathPart, ...]
    message: str
    severity: Severity = "error"
    file: str = ""

    @property
    def path(self) -> str:
        """The JSON path, ``$[0].vllmConfig.maxModelLen``."""
        return format_path(self.parts)

    def __str__(self) -> str:
        return problem_line(self)


def problem_line(problem: Problem) -> str:
    """``FILE::$.path: message``; below error severity the level is said: ``FILE::$.path: warning: ...``.
    One line always: a value quoted in a message cannot break it."""
    level = "" if problem.severity == "error" else f"{problem.severity}: "
    return f"{problem.file}::{problem.path}: {level}{_one_line(problem.message)}"


def problem_record(problem: Problem) -> dict[str, Any]:
    """The JSON form: ``{"file", "path", "parts", "severity", "message"}``."""
    return {
        "file": problem.file,
        "path": problem.path,
        "parts": list(problem.parts),
        "severity": problem.severity,
        "message": problem.message,
    }


def json_document(file: str, problems: Iterable[Problem], **result: object) -> str:
    """What a command found, for scripts: ``{"file", "ok", "problems": [...]}`` plus the command's result.

    ``ok`` is false exactly when a problem is an error, which is when the exit status is 1.
    """
    found = list(problems)
    body = {"file": file, "ok": not has_errors(found), "problems": [problem_record(p) for p in found]}
    return json.dumps({**body, **result}, indent=2, sort_keys=True) + "\n"


def has_errors(problems: Iterable[Problem]) -> bool:
    """Whether any problem is an error (what makes the exit status 1)."""
    return any(p.severity == "error" for p in problems)


def in_order(file: str, problems: Iterable[Problem]) -> tuple[Problem, ...]:
    """The problems of ``file``, each once, in document order (file filled in where unknown)."""
    unique = {replace(p, file=p.file or file) for p in problems}
    return tuple(sorted(unique, key=lambda p: (_sort_key(p.parts), p.message, p.severity)))


class VllmModelsError(Exception):
    """Base of every error the core raises on purpose."""


class InvalidInput(VllmModelsError):
    """An input file has one or more errors; all of its problems (warnings too), in document order."""

    def __init__(self, file: str, problems: Iterable[Problem]) -> None:
        self.file = file
        self.problems = in_order(file, problems)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """``FILE::$.path: message``, one per problem."""
        return [problem_line(p) for p in self.problems]


class UsageProblem(VllmModelsError):
    """The command line itself is wrong (exit status 2): a bad option value, an unknown model name."""
