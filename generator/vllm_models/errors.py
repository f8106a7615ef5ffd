"""Domain errors: every problem found in an input file carries the file, a JSON path and a message.

The CLI prints them as ``FILE::$.path: message``; the core never prints or exits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PathPart = str | int
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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
    """One thing wrong with an input, at a path inside it."""

    path: tuple[PathPart, ...]
    message: str

    @property
    def json_path(self) -> str:
        return format_path(self.path)


class VllmModelsError(Exception):
    """Base of every error the core raises on purpose."""


class InvalidInput(VllmModelsError):
    """An input file has one or more problems; all of them, in document order."""

    def __init__(self, file: str, problems: Iterable[Problem]) -> None:
        unique = sorted(set(problems), key=lambda p: (_sort_key(p.path), p.message))
        self.file = file
        self.problems: tuple[Problem, ...] = tuple(unique)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """``FILE::$.path: message``, one per problem; a value quoted in a message cannot break its line."""
        return [f"{self.file}::{p.json_path}: {_one_line(p.message)}" for p in self.problems]


class UsageProblem(VllmModelsError):
    """The command line itself is wrong (exit status 2): a bad option value, an unknown model name."""
