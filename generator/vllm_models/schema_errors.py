"""JSON Schema errors turned into Problems a person can act on: the path, what is wrong, what is expected.

``jsonschema`` finds the errors (all of them); this module only words them. For ``anyOf``/``oneOf``
it reports the best-matching branch, and for quantities the expected form.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Callable
from typing import Any

from jsonschema.exceptions import ValidationError, best_match  # type: ignore[import-untyped]

from .errors import PathPart, Problem
from .quantity import QuantityError, parse_quantity
from .schema import JSON, models_schema
from .schema import validator as schema_validator

_PATTERN_MESSAGES = {
    "name": "must be a DNS label: lower-case letters, digits and '-', starting and ending with a letter "
    "or digit (it names Kubernetes objects)",
    "modelURL": "expected a Hugging Face repo id 'org/name' (e.g. Qwen/Qwen2.5-7B-Instruct) or an "
    "absolute local path such as /models/llama",
}
# An adapter's keys, at `$[i].loraAdapters[j].key`.
_ADAPTER_PATTERN_MESSAGES = {
    "name": "must be letters, digits, '.', '_' and '-', starting and ending with a letter or digit (clients "
    "send it as the model id)",
    "source": "expected a Hugging Face repo id 'org/name' (e.g. org/sql-lora) or an absolute local path "
    "such as /adapters/sql-lora (no spaces or ',': vLLM's --lora-modules reads an item with a ',' as JSON)",
}
_MODEL_EXAMPLE = "a mapping with at least 'name' and 'modelURL'"


def json_type(value: object) -> str:
    """The JSON Schema type name of a parsed YAML value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, datetime.date):
        return "date"
    return type(value).__name__


_TYPE_WORDS = {"object": "mapping", "array": "list", "null": "null (empty value)"}


def _word(type_name: str) -> str:
    return _TYPE_WORDS.get(type_name, type_name)


def _show(value: object) -> str:
    if isinstance(value, dict | list) or value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime.date) else repr(value)
    return " " + (text if len(text) <= 60 else text[:57] + "...")


def _type_message(error: ValidationError, path: tuple[PathPart, ...]) -> str:
    expected = error.validator_value
    names = [expected] if isinstance(expected, str) else list(expected)
    got = json_type(error.instance)
    if not path and "array" in names:
        if got == "object":
            return (
                "expected a list of models, got a mapping; models.yaml is a top-level list, each model "
                "starting with '- name: ...'"
            )
        return f"expected a list of models, got {_word(got)}{_show(error.instance)}"
    if len(path) == 1 and "object" in names:
        return f"expected a model ({_MODEL_EXAMPLE}), got {_word(got)}{_show(error.instance)}"
    message = f"expected {' or '.join(_word(n) for n in names)}, got {_word(got)}{_show(error.instance)}"
    if names == ["string"] and isinstance(error.instance, int | float | datetime.date):
        shown = error.instance.isoformat() if isinstance(error.instance, datetime.date) else error.instance
        message += f" (quote it: '{str(shown).lower()}')"
    if isinstance(error.instance, str) and ("integer" in names or "number" in names):
        try:
            float(error.instance)
        except ValueError:
            pass
        else:
            message += " (write the number without quotes)"
    return message


def _unknown_keys(error: ValidationError, path: tuple[PathPart, ...]) -> list[Problem]:
    allowed = list(error.schema.get("properties", {}))
    problems = []
    instance = error.instance if isinstance(error.instance, dict) else {}
    for key in instance:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        close = close or [a for a in allowed if a.lower().startswith(str(key).lower())][:1]
        if close:
            hint = f"did you mean {close[0]!r}?"
        elif len(allowed) <= 12:
            hint = "expected one of " + ", ".join(allowed)
        else:
            hint = "see docs/models-yaml.md for the keys"
        problems.append(Problem((*path, str(key)), f"unknown key; {hint}"))
    return problems


def _enum_message(error: ValidationError) -> str:
    options = [str(o) for o in error.validator_value]
    message = f"expected one of {', '.join(options)}, got{_show(error.instance)}"
    if isinstance(error.instance, str):
        lowered = error.instance.lower()
        close = [o for o in options if o.lower() == lowered]
        close = close or [o for o in options if lowered and o.lower().startswith(lowered)]
        close = close or difflib.get_close_matches(error.instance, options, n=1, cutoff=0.6)
        if close:
            message += f"; did you mean {close[0]!r}?"
    return message


def _is_quantity_schema(schema: JSON) -> bool:
    return bool(schema.get("anyOf") == models_schema()["$defs"]["quantity"]["anyOf"])


def _last_key(path: tuple[PathPart, ...]) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return ""


def translate(error: ValidationError, prefix: tuple[PathPart, ...] = ()) -> list[Problem]:
    """Problems for one jsonschema error (several for ``required``/``additionalProperties``);
    ``prefix`` locates an instance validated on its own (a prompt's answer)."""
    path = (*prefix, *error.absolute_path)
    kind = error.validator
    value: Any = error.validator_value
    if kind == "additionalProperties":
        return _unknown_keys(error, path)
    if kind == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        return [Problem((*path, key), "missing required key") for key in value if key not in instance]
    if kind in ("anyOf", "oneOf"):
        if _is_quantity_schema(error.schema):
            try:
                parse_quantity(error.instance)
            except QuantityError as e:
                return [Problem(path, str(e))]
        best = best_match(error.context or [])
        if best is None:  # pragma: no cover - anyOf always has context
            return [Problem(path, error.message)]
        problems = translate(best, prefix)
        description = error.schema.get("description")
        if isinstance(description, str):
            problems = [Problem(p.parts, f"{p.message} (expected: {description})") for p in problems]
        return problems
    messages = {
        "type": lambda: _type_message(error, path),
        "enum": lambda: _enum_message(error),
        "const": lambda: f"expected {value!r}, got{_show(error.instance)}",
        "pattern": lambda: _pattern_message(path, value, error.instance, error.schema.get("description")),
        "minLength": lambda: "must not be empty" if value == 1 else f"must be at least {value} characters",
        "maxLength": lambda: f"must be at most {value} characters, got {len(error.instance)}",
        "minimum": lambda: f"must be at least {value}, got {error.instance}",
        "exclusiveMinimum": lambda: f"must be greater than {value}, got {error.instance}",
        "maximum": lambda: f"must be at most {value}, got {error.instance}" + _hint(path, error.instance),
        "exclusiveMaximum": lambda: f"must be less than {value}, got {error.instance}",
        "minItems": lambda: f"must have at least {value} items",
        "uniqueItems": lambda: "items must be unique",
        "not": lambda: _not_message(value),
    }
    word: Callable[[], str] | None = messages.get(str(kind))
    return [Problem(path, word() if word is not None else str(error.message))]


def _pattern_message(path: tuple[PathPart, ...], pattern: str, instance: object, description: object) -> str:
    """The model key's own wording (a model's key sits at `$[i].key`, or alone when asked interactively);
    else, for a shared definition (a Kubernetes object name, a Secret key), the definition's description,
    which says what is allowed; else the pattern itself."""
    fallback = f"must be {description[0].lower()}{description[1:]}" if isinstance(description, str) else ""
    own = _PATTERN_MESSAGES.get(_last_key(path)) if len(path) <= 2 else None
    if len(path) == 4 and path[1] == "loraAdapters":
        own = _ADAPTER_PATTERN_MESSAGES.get(_last_key(path))
    message = (own or fallback.rstrip(".") or f"must match {pattern}") + f", got{_show(instance)}"
    if _last_key(path) in ("modelURL", "source") and isinstance(instance, str):
        for prefix in ("https://huggingface.co/", "http://huggingface.co/", "hf://"):
            if instance.startswith(prefix):
                repo = "/".join(instance[len(prefix) :].split("/")[:2])
                message += f"; did you mean {repo!r}?"
    return message


def _hint(path: tuple[PathPart, ...], instance: object) -> str:
    """``95`` for a GPU memory fraction is almost always meant as 95%."""
    if _last_key(path) != "gpuMemoryUtilization" or isinstance(instance, bool):
        return ""
    if isinstance(instance, int | float) and 1 < instance <= 100:
        return f" (a fraction: write {instance / 100:g} for {instance:g}%)"
    return ""


def _not_message(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("required"), list):
        keys = " and ".join(repr(k) for k in value["required"])
        return f"set only one of {keys}, not both"
    return "this combination is not allowed"


def schema_problems(data: Any) -> list[Problem]:
    """Every schema violation of a parsed models.yaml, worded for people."""
    validator = schema_validator(models_schema())
    problems: list[Problem] = []
    for error in validator.iter_errors(data):
        problems.extend(translate(error))
    return problems
