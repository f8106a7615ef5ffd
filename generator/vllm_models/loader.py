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


class _Loader(yaml.SafeLoader):  # type: ignore[misc]
    """PyYAML's safe loader, plus YAML 1.2's exponent floats (``2e-7``) that Helm reads as numbers."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)

EXAMPLE_ENTRY = "'- name: llama3' / '  modelURL: meta-llama/Llama-3.2-3B-Instruct'"


def read_text(path: Path, display: str) -> str:
    """The file's text; a missing or unreadable file is an InvalidInput naming what to do."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:  # keep CRLF: edits must not change it
            return handle.read()
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


def _duplicate_keys(
    node: yaml.Node, path: tuple[PathPart, ...], ancestors: frozenset[int] = frozenset()
) -> list[Problem]:
    """Duplicate keys and recursive aliases (a node inside itself), which YAML allows and we refuse."""
    problems: list[Problem] = []
    if id(node) in ancestors:
        return [Problem(path, f"recursive alias at {_mark(node.start_mark)}: a value cannot contain itself")]
    ancestors = ancestors | {id(node)}
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
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


def parse_yaml(text: str, display: str) -> Any:
    """Parse one YAML document; syntax errors name line and column, duplicate keys are errors."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        raise InvalidInput(display, [Problem((), _syntax_message(e))]) from e
    except yaml.YAMLError as e:
        raise InvalidInput(display, [Problem((), f"YAML syntax error: {e}")]) from e
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
