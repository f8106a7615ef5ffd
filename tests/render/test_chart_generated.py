"""Derived files are up to date, and the generated schema accepts what users and the generator write."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from render_helpers import CHART, FIXTURES, REPO_ROOT
from vllm_models.expand import expand_models

from tests.support import require_tool

pytestmark = pytest.mark.render

SCHEMA = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
MODELS_SCHEMA = json.loads((REPO_ROOT / "schemas" / "models.schema.json").read_text(encoding="utf-8"))
VALUES = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=300)


@pytest.mark.parametrize("script", sorted(p.name for p in (REPO_ROOT / "hack").glob("generate-*")))
def test_derived_files_are_current(script: str, helm: str) -> None:
    if script == "generate-chart-readme":
        require_tool("helm-docs")
    proc = run(sys.executable, f"hack/{script}", "--check")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]


def leaves(node: Any, prefix: str = "") -> list[str]:
    if isinstance(node, dict) and node:
        return [leaf for k, v in node.items() for leaf in leaves(v, f"{prefix}.{k}" if prefix else k)]
    return [prefix]


def test_every_values_key_is_documented() -> None:
    """helm-docs `# --` comments: the README's table has a description for every key of values.yaml."""
    readme = (CHART / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in readme.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("Key", "-----"):
            rows[cells[0]] = cells[3]

    # helm-docs lists a commented map (e.g. `resources`) as one row; its children need no row of their own
    def documented(key: str) -> bool:
        parts = key.split(".")
        return any(rows.get(".".join(parts[:i])) for i in range(len(parts), 0, -1))

    missing = [key for key in leaves(VALUES) if not documented(key)]
    assert not missing, f"values.yaml keys without a `# --` comment: {missing}"


def validator() -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    return jsonschema.Draft202012Validator(SCHEMA)


VALUE_FILES = (
    sorted(FIXTURES.glob("*.yaml")) + sorted((CHART / "ci").glob("*-values.yaml")) + [CHART / "values.yaml"]
)


@pytest.mark.parametrize("path", VALUE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_values_files_match_the_schema(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [f"{e.json_path}: {e.message}" for e in validator().iter_errors(data)]
    assert not errors, "\n".join(errors)


def test_schema_accepts_the_generator_output() -> None:
    """The models list with every default applied (what `generate` writes) passes the chart schema,
    also inline in an Argo CD Application's `helm.values`."""
    entries = [
        {"name": "llama3", "modelURL": "meta-llama/Llama-3.2-3B-Instruct"},
        {
            "name": "qwen",
            "modelURL": "Qwen/Qwen2.5-7B-Instruct",
            "replicaCount": 2,
            "cacheMode": "per-replica",
            "vllmConfig": {"tensorParallelSize": 2},
            "podDisruptionBudget": {"enabled": True},
            "preflight": {},
        },
    ]
    values = {
        "models": expand_models(entries),
        "image": {"repository": "vllm/vllm-openai", "tag": "v0.32.0"},
        "hfToken": {"existingSecret": "hf"},
        "router": {"enabled": True, "replicaCount": 2},
    }
    assert (
        values["models"][0]["pvcStorage"] == "50Gi" and values["models"][0]["vllmConfig"]["extraArgs"] == []
    )
    errors = [f"{e.json_path}: {e.message}" for e in validator().iter_errors(values)]
    assert not errors, "\n".join(errors)
    # Argo CD: the same values as a string inside an Application's spec.source.helm.values
    app = {"spec": {"source": {"helm": {"values": yaml.safe_dump(values)}}}}
    inline = yaml.safe_load(yaml.safe_load(yaml.safe_dump(app))["spec"]["source"]["helm"]["values"])
    assert not list(validator().iter_errors(inline))


def test_model_defaults_is_the_model_without_required_and_identity() -> None:
    defs = SCHEMA["$defs"]
    assert defs["model"] == MODELS_SCHEMA["$defs"]["model"]
    assert "required" not in defs["modelDefaults"]
    assert set(defs["model"]["properties"]) - set(defs["modelDefaults"]["properties"]) == {"name", "modelURL"}
    assert SCHEMA["properties"]["models"]["items"] == {"$ref": "#/$defs/model"}


def schema_leaves(schema: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted paths of every leaf key the chart schema defines (through `$ref`s)."""
    if "$ref" in schema:
        schema = SCHEMA["$defs"][schema["$ref"].split("/")[-1]]
    props = schema.get("properties")
    if not props:
        return [prefix]
    return [leaf for k, v in props.items() for leaf in schema_leaves(v, f"{prefix}.{k}" if prefix else k)]


def test_all_options_scenario_sets_every_option() -> None:
    """ci/all-options-values.yaml sets every key of the chart schema, every model key and every
    vllmConfig key at least once."""
    data = yaml.safe_load((CHART / "ci" / "all-options-values.yaml").read_text(encoding="utf-8"))
    model_keys = set(MODELS_SCHEMA["$defs"]["model"]["properties"])
    used = {k for m in data["models"] for k in m}
    assert model_keys - used == set(), f"no model sets {sorted(model_keys - used)}"
    vllm_keys = set(MODELS_SCHEMA["$defs"]["model"]["properties"]["vllmConfig"]["properties"])
    used_vllm = {k for m in data["models"] for k in m.get("vllmConfig", {})}
    assert vllm_keys - used_vllm == set(), f"no model sets vllmConfig.{sorted(vllm_keys - used_vllm)}"
    chart = {k: v for k, v in SCHEMA["properties"].items() if k not in ("global", "models", "modelDefaults")}
    wanted = [leaf for k, v in chart.items() for leaf in schema_leaves(v, k)]
    set_keys = set(leaves(data))
    # image tags are pins: they live in values.yaml alone, so a bump is one edit
    missing = [
        k
        for k in wanted
        if not k.endswith("image.tag") and not any(s == k or s.startswith(k + ".") for s in set_keys)
    ]
    assert not missing, f"ci/all-options-values.yaml does not set {missing}"
