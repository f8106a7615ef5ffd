"""The models schema (``schemas/models.schema.json``, shipped as package data) and its defaults.

Defaults come only from the schema's ``default`` keywords, so the schema stays the one source.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators  # type: ignore[import-untyped]

JSON = dict[str, Any]


@cache
def models_schema() -> JSON:
    """The whole schema (a list of models)."""
    text = resources.files("vllm_models").joinpath("data/models.schema.json").read_text(encoding="utf-8")
    loaded: JSON = json.loads(text)
    return loaded


def validator(schema: JSON) -> Any:
    """A Draft 2020-12 validator whose `pattern` means what it means for JSON Schema (ECMA-262) and for
    Helm's validator: `$` ends the text. Python's `$` also matches before a final newline, so a model
    named "llama\\n" would pass here and fail at `helm template`. Numbers are finite."""
    return _EcmaPatternValidator(schema)


def _pattern(validator: Any, pattern: str, instance: Any, schema: JSON) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _ecma(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _ecma(pattern: str) -> re.Pattern[str]:
    """`pattern` with every `$` that is an anchor (not escaped, not in a class) made `\\Z`."""
    out, escaped, in_class = [], False, False
    for c in pattern:
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "$" and not in_class:
            c = r"\Z"
        out.append(c)
    return re.compile("".join(out))


def _finite_number(checker: Any, instance: Any) -> bool:
    """YAML's .nan and .inf are floats but no JSON number: no quantity, size or price can be one."""
    return bool(Draft202012Validator.TYPE_CHECKER.is_type(instance, "number")) and math.isfinite(instance)


_EcmaPatternValidator = validators.extend(
    Draft202012Validator,
    {"pattern": _pattern},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("number", _finite_number),
)


def whole_number(value: object) -> int | None:
    """``value`` when it is a JSON integer (a YAML boolean is not one), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def model_schema() -> JSON:
    """The schema of one model entry (``$defs.model``)."""
    model: JSON = models_schema()["$defs"]["model"]
    return model


def resolve(schema: JSON) -> JSON:
    """Follow a local ``$ref`` (``#/$defs/...``) one level, keeping the referencing schema's keywords."""
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    target: Any = models_schema()
    for part in ref[2:].split("/"):
        target = target[part]
    merged = dict(target)
    merged.update({k: v for k, v in schema.items() if k != "$ref"})
    return merged


def model_keys() -> list[str]:
    """Every key a model entry may have, in schema order."""
    return list(model_schema()["properties"])


def apply_defaults(value: dict[str, Any], schema: JSON) -> dict[str, Any]:
    """A copy of ``value`` with every missing property that has a schema ``default`` filled in,
    recursing into object properties that are present (or were just defaulted)."""
    out = copy.deepcopy(value)
    properties: dict[str, JSON] = schema.get("properties", {})
    for key, sub in properties.items():
        sub = resolve(sub)
        if key not in out and "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
        if isinstance(out.get(key), dict) and "properties" in sub:
            out[key] = apply_defaults(out[key], sub)
    return out


def describe(path: list[str]) -> str:
    """The description of a model key (``["vllmConfig", "maxModelLen"]``), or ``""``."""
    schema: JSON = model_schema()
    for part in path:
        schema = resolve(schema.get("properties", {}).get(part, {}))
    description = schema.get("description", "")
    return description if isinstance(description, str) else ""


def model_default(key: str) -> Any:
    """The schema's default of a model key (None when it has none)."""
    return resolve(model_schema()["properties"][key]).get("default")
