"""Reading models.yaml: text to Python data, with YAML syntax errors and duplicate keys as Problems.

Validation reads with PyYAML's safe loader (fast, no code execution); editing uses ruamel.yaml's
round-trip mode elsewhere (see ``edit``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from .errors import InvalidInput, PathPart, Problem

# Far above any real models.yaml (a pool of 1000 models is ~100 KB and ~12 000 values), low enough that
# the pure-Python parser, the schema check and the chart values of the largest accepted file take seconds.
MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 20_000


class _TooLarge(Exception):
    """The document nests too deep or its aliases expand too far; stops composing where it happens."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class _Loader(yaml.SafeLoader):  # type: ignore[misc]
    """PyYAML's safe loader, plus YAML 1.2's exponent floats (``2e-7``) that Helm reads as numbers.

    Composing is bounded: PyYAML recurses once per nesting level (deep nesting would end in a
    RecursionError) and aliases share nodes that every later walk expands (a few lines of "billion
    laughs" aliases are 10^9 values), so depth and the expanded value count are limited as the nodes are
    built, and the error names the path where the limit was crossed.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[PathPart] = []
        self._depth = 0  # not len(_path): keys nest too (`? [..]`) and are not path parts
        self._expanded = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if isinstance(index, yaml.ScalarNode):
            part: PathPart | None = index.value
        elif isinstance(index, int) and isinstance(parent, yaml.SequenceNode):
            part = index
        else:  # the document root, or a mapping key (reported at its mapping)
            part = None
        if part is not None:
            self._path.append(part)
        try:
            return self._compose_bounded(parent, index)
        finally:
            if part is not None:
                self._path.pop()

    def _compose_bounded(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            node: yaml.Node = super().compose_node(parent, index)
            # an alias of a node still being composed is recursive: _duplicate_keys reports it
            self._count(self._sizes.get(id(node), 1), mark)
            return node
        if self._depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise _TooLarge(
                Problem(
                    tuple(self._path),
                    f"nested deeper than {MAX_DEPTH} levels at {_mark(mark)}; models.yaml needs a few",
                )
            )
        before = self._expanded
        self._count(1, self.peek_event().start_mark)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        self._sizes[id(node)] = self._expanded - before
        return node

    def _count(self, values: int, mark: Any) -> None:
        self._expanded += values
        if self._expanded > MAX_NODES:
            raise _TooLarge(
                Problem(
                    tuple(self._path),
                    f"more than {MAX_NODES} values at {_mark(mark)} (aliases count once per use); "
                    "models.yaml holds far fewer",
                )
            )


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)

EXAMPLE_ENTRY = "'- name: llama3' / '  modelURL: meta-llama/Llama-3.2-3B-Instruct'"


def read_text(path: Path, display: str) -> str:
    """The file's text; a missing or unreadable file is an InvalidInput naming what to do."""
    try:
        with path.open("rb") as handle:  # bytes, decoded whole: CRLF stays, edits must not change it
            data = handle.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise InvalidInput(
                display,
                [Problem((), f"larger than {MAX_BYTES // 1024 // 1024} MiB; models.yaml is far smaller")],
            )
        return data.decode("utf-8")
    except FileNotFoundError as e:
        raise InvalidInput(
            display,
            [
                Problem(
                    (),
                    "file not found; create it with 'cp models.example.yaml models.yaml' "
                    "or 'vllm-models add-model'",
                )
            ],
        ) from e
    except IsADirectoryError as e:
        raise InvalidInput(display, [Problem((), "is a directory, expected a models.yaml file")]) from e
    except UnicodeDecodeError as e:
        raise InvalidInput(display, [Problem((), f"not UTF-8 text ({e.reason} at byte {e.start})")]) from e
    except OSError as e:
        raise InvalidInput(display, [Problem((), f"cannot read: {e.strerror or e}")]) from e


def _mark(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _syntax_message(error: yaml.MarkedYAMLError) -> str:
    where = f" at {_mark(error.problem_mark)}" if error.problem_mark is not None else ""
    what = error.problem or "invalid YAML"
    if "another document" in what:
        return f"YAML syntax error{where}: a second document ('---'); models.yaml is one list of models"
    context = ""
    if error.context and error.context_mark is not None:
        context = f" ({error.context} that starts at {_mark(error.context_mark)})"
    hint = ""
    if "\\t" in what or "\t" in what:
        hint = "; indent with spaces, not tabs"
    elif "expected <block end>" in what or "mapping values are not allowed" in what:
        hint = "; check the indentation"
    return f"YAML syntax error{where}: {what}{context}{hint}"


_TEXT_KEY_TAGS = ("tag:yaml.org,2002:str", "tag:yaml.org,2002:merge")
_KEY_KINDS = {
    "int": "a number",
    "float": "a number",
    "bool": "a boolean",
    "null": "null",
    "timestamp": "a date",
}


def _duplicate_keys(
    node: yaml.Node, path: tuple[PathPart, ...], ancestors: frozenset[int] = frozenset()
) -> list[Problem]:
    """Duplicate keys, keys that are not text and recursive aliases (a node inside itself), which YAML
    allows and we refuse: Helm values and Kubernetes objects have text keys only."""
    problems: list[Problem] = []
    if id(node) in ancestors:
        return [Problem(path, f"recursive alias at {_mark(node.start_mark)}: a value cannot contain itself")]
    ancestors = ancestors | {id(node)}
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                problems.append(
                    Problem(
                        path, f"a key at {_mark(key_node.start_mark)} is a list or mapping; keys are text"
                    )
                )
            elif key_node.tag not in _TEXT_KEY_TAGS:
                kind = key_node.tag.rsplit(":", 1)[-1]
                kind = _KEY_KINDS.get(kind, f"a {kind}")
                problems.append(
                    Problem(
                        (*path, key),
                        f"key at {_mark(key_node.start_mark)} reads as {kind}, not text; quote it: '{key}'",
                    )
                )
            if key is not None and key in seen:
                problems.append(
                    Problem(
                        (*path, key),
                        f"duplicate key at {_mark(key_node.start_mark)} "
                        f"(first at {_mark(seen[key].start_mark)}); YAML keeps only the last, remove one",
                    )
                )
            elif key is not None:
                seen[key] = key_node
            problems.extend(_duplicate_keys(value_node, (*path, key if key is not None else "?"), ancestors))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems.extend(_duplicate_keys(item, (*path, index), ancestors))
    return problems


def _character_message(text: str, error: yaml.reader.ReaderError) -> str:
    line = text.count("\n", 0, error.position) + 1
    column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
    character = error.character if isinstance(error.character, int) else ord(error.character)
    return (
        f"YAML syntax error at line {line}, column {column}: character U+{character:04X} is not allowed "
        "in YAML; remove it"
    )


def parse_yaml(text: str, display: str) -> Any:
    """Parse one YAML document; syntax errors name line and column, duplicate keys are errors."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except _TooLarge as e:
        raise InvalidInput(display, [e.problem]) from e
    except yaml.MarkedYAMLError as e:
        raise InvalidInput(display, [Problem((), _syntax_message(e))]) from e
    except yaml.reader.ReaderError as e:  # its text spans lines and gives a character offset
        raise InvalidInput(display, [Problem((), _character_message(text, e))]) from e
    except yaml.YAMLError as e:
        raise InvalidInput(display, [Problem((), f"YAML syntax error: {' '.join(str(e).split())}")]) from e
    if node is None:
        return None
    duplicates = _duplicate_keys(node, ())
    if duplicates:
        raise InvalidInput(display, duplicates)
    loader = _Loader("")
    try:
        return loader.construct_document(node)
    except yaml.constructor.ConstructorError as e:
        where = f" at {_mark(e.problem_mark)}" if e.problem_mark is not None else ""
        raise InvalidInput(display, [Problem((), f"YAML error{where}: {e.problem}")]) from e
    finally:
        loader.dispose()


def json_documents(text: str, display: str, count: int = 2) -> list[Any]:
    """`count` JSON documents written one after another (what `kubectl get ... -o json; kubectl get ...`
    prints), or InvalidInput saying what was expected."""
    decoder, docs, index = json.JSONDecoder(), [], 0
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        try:
            doc, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError as e:
            raise InvalidInput(display, [Problem((), f"not JSON at character {e.pos}: {e.msg}")]) from e
        docs.append(doc)
    if len(docs) != count or not all(isinstance(d, dict) for d in docs):
        raise InvalidInput(
            display, [Problem((), f"expected {count} JSON objects, got {len(docs)} document(s)")]
        )
    return docs
