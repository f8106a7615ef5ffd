"""The model entry add-model writes: flags first, then questions for what is missing, in the order a
hand-run add-model script asks them.

Answers are checked against the schema as they are typed, so a bad answer is asked again. This is the
one core module that talks to the user, and only through ``click.prompt``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from .errors import UsageProblem
from .quantity import QuantityError, parse_quantity
from .schema import model_schema, resolve
from .schema import validator as schema_validator
from .schema_errors import translate

# (option name, entry path, question, default offered when asking)
QUESTIONS: tuple[tuple[str, tuple[str, ...], str, object], ...] = (
    ("name", ("name",), "Model name (API id, lower-case, e.g. llama3)", None),
    ("model_url", ("modelURL",), "Hugging Face model id (org/name) or local path", None),
    ("gpus", ("requestGPU",), "GPUs per replica", 1),
    ("memory", ("requestMemory",), "Memory per replica", "16Gi"),
    ("storage", ("pvcStorage",), "Weight cache size (larger than the weights)", "50Gi"),
    ("max_model_len", ("vllmConfig", "maxModelLen"), "Max model length in tokens (empty: model default)", ""),
)
# Options never asked for: written only when given.
OPTIONAL = (
    ("replicas", ("replicaCount",)),
    ("cpu", ("requestCPU",)),
    ("served_model_name", ("servedModelName",)),
    ("gpu_product", ("gpuProduct",)),
    ("tensor_parallel_size", ("vllmConfig", "tensorParallelSize")),
)


def _field_schema(path: tuple[str, ...]) -> dict[str, Any]:
    schema = model_schema()
    for part in path:
        schema = resolve(schema["properties"][part])
    return schema


def checker(path: tuple[str, ...]) -> Callable[[str], object]:
    """A click ``value_proc``: the typed answer converted and checked, or a UsageError to ask again."""
    schema = _field_schema(path)

    def convert(text: str) -> object:
        text = text.strip()
        if path[-1] == "maxModelLen" and text == "":
            return None
        value: object = text
        if schema.get("type") == "integer":
            try:
                value = int(text)
            except ValueError as e:
                raise click.UsageError(f"expected a whole number, got {text!r}") from e
        elif "anyOf" in schema:  # a quantity
            try:
                parse_quantity(text)
            except QuantityError as e:
                raise click.UsageError(str(e)) from e
            value = int(text) if text.isdigit() else text
        errors = list(schema_validator(schema).iter_errors(value))
        if errors:
            raise click.UsageError(translate(errors[0], path)[0].message)
        return value

    return convert


def _put(entry: dict[str, Any], path: tuple[str, ...], value: object) -> None:
    for key in path[:-1]:
        entry = entry.setdefault(key, {})
    entry[path[-1]] = value


def collect_entry(fields: dict[str, Any], interactive: bool) -> dict[str, Any]:
    """The new model entry from option values, asking for missing ones when ``interactive``."""
    entry: dict[str, Any] = {}
    for option, path, question, default in QUESTIONS:
        value = fields.get(option)
        if value is None and interactive:
            value = click.prompt(question, default=default, value_proc=checker(path), err=True)
        elif value is not None:
            value = checker(path)(str(value))
        if value is None and option in ("name", "model_url"):
            raise UsageProblem(f"--{option.replace('_', '-')} is required with --yes")
        if value is not None:
            _put(entry, path, value)
    for option, path in OPTIONAL:
        if fields.get(option) is not None:
            _put(entry, path, checker(path)(str(fields[option])))
    return entry
