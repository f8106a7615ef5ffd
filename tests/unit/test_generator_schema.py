"""The hand-edited schema stays well formed, documented and the one source of defaults and docs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from vllm_models.quantity import is_quantity
from vllm_models.schema import apply_defaults, model_schema, models_schema

from tests.support import REPO_ROOT

pytestmark = pytest.mark.unit


def _properties(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for key, sub in schema.get("properties", {}).items():
        yield f"{path}{key}", sub
        yield from _properties(sub, f"{path}{key}.")
        items = sub.get("items")
        if isinstance(items, dict):
            yield from _properties(items, f"{path}{key}[].")


def test_schema_is_valid_2020_12() -> None:
    Draft202012Validator.check_schema(models_schema())


def test_packaged_schema_is_the_repository_schema() -> None:
    source = json.loads((REPO_ROOT / "schemas" / "models.schema.json").read_text())
    assert models_schema() == source


def test_every_field_has_a_description() -> None:
    missing = [path for path, sub in _properties(model_schema()) if not sub.get("description")]
    assert not missing


def test_every_object_is_closed() -> None:
    open_objects = [
        path
        for path, sub in _properties(model_schema())
        if "properties" in sub and sub.get("additionalProperties") is not False
    ]
    assert not open_objects


def test_defaults_come_from_the_schema() -> None:
    entry = apply_defaults({"name": "a", "modelURL": "o/a", "vllmConfig": {"maxModelLen": 8}}, model_schema())
    assert entry["replicaCount"] == 1 and entry["requestCPU"] == 6 and entry["requestMemory"] == "16Gi"
    assert entry["vllmConfig"] == {"maxModelLen": 8, "pipelineParallelSize": 1, "extraArgs": []}
    assert "preflight" not in entry and "podDisruptionBudget" not in entry


@pytest.mark.parametrize(
    "text",
    [
        "16Gi",
        "500Mi",
        "500m",
        "8",
        "+2",
        "1.5Ti",
        "80G",
        "16GB",
        "16gi",
        "1e9",
        "-1Gi",
        "1.",
        ".5",
        "16 Gi",
        "",
    ],
)
def test_quantity_parser_agrees_with_the_schema_pattern(text: str) -> None:
    """vllm_models.quantity restates the schema's quantity pattern as a parser; the two never drift."""
    pattern = models_schema()["$defs"]["quantity"]["anyOf"][0]["pattern"]
    by_schema = Draft202012Validator({"type": "string", "pattern": pattern}).is_valid(text)
    assert by_schema == is_quantity(text)
