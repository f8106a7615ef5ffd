"""Editing models.yaml in place: add or remove one model, keeping every other byte of the file.

Edits are made on the text, using ruamel.yaml's round-trip positions to find each model's lines, so
comments, blank lines, quoting and key order of the other models never change. A model's lines are its
own header comments (directly above its ``-``, no more indented than it), its content, and the blank
lines after it. Adding then removing a model gives back the original file byte for byte.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedSeq
from ruamel.yaml.error import YAMLError

from .errors import InvalidInput, Problem, UsageProblem
from .loader import parse_yaml
from .validate import problems_of, validate_text

# The order add-model writes keys in: the order of the models.yaml files users already keep, then the rest.
ENTRY_ORDER = (
    "name",
    "modelURL",
    "servedModelName",
    "revision",
    "replicaCount",
    "requestCPU",
    "limitCPU",
    "requestMemory",
    "limitMemory",
    "requestGPU",
    "gpuProduct",
    "pvcStorage",
    "storageClass",
    "pvcAccessMode",
    "vllmConfig",
)


def _round_trip() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=2, offset=0)
    yaml.width = 4096
    return yaml


def render_entry(entry: dict[str, Any], indent: int = 0) -> str:
    """One model as a block-sequence item (``- name: ...``), indented by ``indent`` spaces."""
    ordered = {k: entry[k] for k in ENTRY_ORDER if k in entry}
    ordered.update({k: v for k, v in entry.items() if k not in ordered})
    stream = io.StringIO()
    _round_trip().dump([ordered], stream)
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in stream.getvalue().splitlines(True))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_comment(line: str) -> bool:
    return line.lstrip(" ").startswith("#")


class _Layout:
    """Line spans of the top-level items of a block-sequence document."""

    def __init__(self, text: str, seq: CommentedSeq) -> None:
        self.lines = text.splitlines(True)
        self.dashes: list[tuple[int, int]] = []  # (line, column) of each item's '-'
        for index in range(len(seq)):
            line, column = seq.lc.item(index)
            while "-" not in self.lines[line][: column + 1] and line > 0:
                line, column = line - 1, len(self.lines[line - 1])
            self.dashes.append((line, self.lines[line].index("-")))

    def header_start(self, index: int) -> int:
        line, column = self.dashes[index]
        while line > 0 and _is_comment(self.lines[line - 1]) and _indent(self.lines[line - 1]) <= column:
            line -= 1
        return line

    def content_end(self, index: int) -> int:
        line, column = self.dashes[index]
        end = line + 1
        scan = end
        while scan < len(self.lines):
            current = self.lines[scan]
            if current.strip() and _indent(current) <= column:
                break
            scan += 1
            if current.strip():
                end = scan
        return end

    def without(self, index: int) -> str:
        start = self.header_start(index)
        if index + 1 < len(self.dashes):
            end = self.header_start(index + 1)
        else:
            end = self.content_end(index)
            while start > 0 and not self.lines[start - 1].strip():
                start -= 1
        return "".join(self.lines[:start] + self.lines[end:])


def _load_round_trip(text: str, display: str) -> Any:
    try:
        return _round_trip().load(text)
    except YAMLError as e:  # PyYAML accepted it; ruamel is stricter in rare cases
        raise InvalidInput(display, [Problem((), f"YAML error: {e}")]) from e


def _checked_list(text: str, display: str) -> list[Any]:
    data = parse_yaml(text, display)
    if data is None:
        return []
    if not isinstance(data, list):
        raise InvalidInput(display, problems_of(data))
    return data


def add_model(text: str, entry: dict[str, Any], display: str) -> str:
    """The file's text with ``entry`` appended as the last model; validated (a name already taken is a
    duplicate there), or InvalidInput."""
    models = _checked_list(text, display)
    seq = _load_round_trip(text, display) if models else None
    if isinstance(seq, CommentedSeq) and seq.fa.flow_style():
        seq.fa.set_block_style()
        seq.append(entry)
        stream = io.StringIO()
        _round_trip().dump(seq, stream)
        result = stream.getvalue()
    else:
        indent = _Layout(text, seq).dashes[0][1] if isinstance(seq, CommentedSeq) else 0
        newline = "\r\n" if "\r\n" in text else "\n"
        prefix = text if not text or text.endswith("\n") else text + newline
        if prefix.strip() and not prefix.endswith(("\n\n", "\r\n\r\n")):
            prefix += newline
        result = prefix + render_entry(entry, indent).replace("\n", newline)
    validate_text(result, display)
    return result


def remove_model(text: str, name: str, display: str) -> str:
    """The file's text without the model called ``name``; UsageProblem when there is none."""
    models = _checked_list(text, display)
    names = [m.get("name") for m in models if isinstance(m, dict)]
    if name not in names:
        known = ", ".join(str(n) for n in names) or "none"
        raise UsageProblem(f"no model named {name!r} in {display} (models: {known})")
    index = next(i for i, m in enumerate(models) if isinstance(m, dict) and m.get("name") == name)
    seq = _load_round_trip(text, display)
    if seq.fa.flow_style():
        del seq[index]
        stream = io.StringIO()
        _round_trip().dump(seq, stream)
        result = stream.getvalue()
    else:
        result = _Layout(text, seq).without(index)
    if parse_yaml(result, display) is None:  # the last model went: keep a valid, empty list
        result = (result if result.endswith("\n") or not result else result + "\n") + "[]\n"
    validate_text(result, display)
    return result
