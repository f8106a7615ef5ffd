"""What `vllm-models generate` writes renders with the chart (the contract in docs/architecture.md)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from render_helpers import CHART, REPO_ROOT, engine_container, load_fixture

pytestmark = pytest.mark.render

CLI = REPO_ROOT / ".venv" / "bin" / "vllm-models"


def test_generated_values_render(render, tmp_path: Path) -> None:
    if not CLI.exists():
        pytest.skip("the vllm-models CLI is not installed: run ./hack/bootstrap")
    models = load_fixture("llama3-qwen-models-list.yaml")["models"]
    models[1]["replicaCount"] = 2  # per-replica caches
    (tmp_path / "models.yaml").write_text(yaml.safe_dump(models), encoding="utf-8")
    out = tmp_path / "values.yaml"
    proc = subprocess.run(
        [
            str(CLI),
            "generate",
            "-f",
            str(tmp_path / "models.yaml"),
            "-o",
            str(out),
            "--hf-token-secret",
            "vllm-hf-token",
            "--router-master-key-secret",
            "vllm-api-key",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    values = yaml.safe_load(out.read_text(encoding="utf-8"))
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    errors = [
        f"{e.json_path}: {e.message}" for e in jsonschema.Draft202012Validator(schema).iter_errors(values)
    ]
    assert not errors, "\n".join(errors)
    r = render(out)
    assert r.returncode == 0, r.stderr
    assert r.workload("llama3")["kind"] == "Deployment"
    assert r.workload("qwen")["kind"] == "StatefulSet"
    assert engine_container(r.workload("qwen"))["args"][:2] == [
        "Qwen/Qwen2.5-7B-Instruct",
        "--served-model-name=qwen",
    ]
