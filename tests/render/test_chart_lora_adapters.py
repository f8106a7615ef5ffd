"""LoRA adapters as the chart renders them: the engine's LoRA flags with paths at the staged copies, the
stage-weights container's adapter list, one LiteLLM model per adapter at its base model's Service, the
limits the generator derives, and the refusals. vLLM's parser checks the flags (test_engine_args.py, via
the llama3-lora-adapters golden and ci/all-options); the staged copies are the e2e tier's
(test_stage_weights_hub.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from render_helpers import CHART, FIXTURES, REPO_ROOT, Rendered, checksum, engine_container

pytestmark = pytest.mark.render

CLI = REPO_ROOT / ".venv" / "bin" / "vllm-models"
EXAMPLE = FIXTURES / "llama3-lora-adapters.yaml"
LORA_DIR = "/cache/huggingface/vllm-models-lora"
BASE_URL = "http://vllm-models-llama3.vllm.svc.cluster.local:8000/v1"


def stage_env(r: Rendered, model: str) -> dict[str, str]:
    (stage,) = r.workload(model)["spec"]["template"]["spec"]["initContainers"]
    assert stage["name"] == "stage-weights"
    return {e["name"]: e["value"] for e in stage["env"] if "value" in e}


def litellm_models(r: Rendered) -> list[dict[str, Any]]:
    (config_map,) = [c for c in r.of_kind("ConfigMap") if "config.yaml" in c["data"]]
    entries: list[dict[str, Any]] = yaml.safe_load(config_map["data"]["config.yaml"])["model_list"]
    return entries


def test_engine_serves_each_adapter_from_its_staged_copy(render) -> None:
    r = render(EXAMPLE)
    assert r.returncode == 0, r.stderr
    args = engine_container(r.workload("llama3"))["args"]
    lora = args[args.index("--enable-lora") :]
    assert lora == [
        "--enable-lora",
        "--max-loras=2",  # one slot per adapter
        "--max-lora-rank=64",  # the declared rank 64
        "--lora-modules",
        f"llama3-sql={LORA_DIR}/llama3-sql",  # the link stage-weights points at the pinned snapshot
        "llama3-support=/adapters/support",  # a local path, as written
    ]
    env = stage_env(r, "llama3")
    assert env["MODEL_ID"] == "meta-llama/Llama-3.1-8B-Instruct"
    assert json.loads(env["LORA_ADAPTERS"]) == [
        {
            "name": "llama3-sql",
            "source": "acme/llama3-sql-lora",
            "revision": "8d5a2c3f1b6e4d7a9c0b1e2f3a4b5c6d7e8f9a0b",
            "path": f"{LORA_DIR}/llama3-sql",
        }
    ]


def test_litellm_lists_each_adapter_at_its_base_models_engine(render) -> None:
    r = render(EXAMPLE)
    entries = {e["model_name"]: e["litellm_params"] for e in litellm_models(r)}
    assert list(entries) == ["llama3", "llama3-sql", "llama3-support"]
    for adapter in ("llama3-sql", "llama3-support"):
        params = entries[adapter]
        # the engine is asked for the adapter by its own name, at the base model's address and prices
        assert params["model"] == f"hosted_vllm/{adapter}"
        assert params["api_base"] == BASE_URL
        assert params["input_cost_per_token"] == entries["llama3"]["input_cost_per_token"]
        assert params["output_cost_per_token"] == entries["llama3"]["output_cost_per_token"]


def test_a_local_base_model_stages_only_its_hub_adapters(render) -> None:
    values = {
        "models": [
            {
                "name": "local",
                "modelURL": "/models/base",
                "loraAdapters": [{"name": "local-hub", "source": "acme/hub-lora"}],
            }
        ],
        "router": {"enabled": False},
    }
    r = render(values)
    assert r.returncode == 0, r.stderr
    env = stage_env(r, "local")
    assert "MODEL_ID" not in env and "MODEL_REVISION" not in env
    assert [a["name"] for a in json.loads(env["LORA_ADAPTERS"])] == ["local-hub"]


def test_without_staging_vllm_fetches_a_hub_adapter_itself(render) -> None:
    values = {
        "models": [{"name": "m", "modelURL": "org/m", "loraAdapters": [{"name": "a", "source": "acme/a"}]}],
        "engine": {"stageWeights": {"enabled": False}},
        "router": {"enabled": False},
    }
    r = render(values)
    assert r.returncode == 0, r.stderr
    assert "initContainers" not in r.workload("m")["spec"]["template"]["spec"]
    assert engine_container(r.workload("m"))["args"][-2:] == ["--lora-modules", "a=acme/a"]


def test_a_model_without_adapters_renders_no_lora_flag(render) -> None:
    r = render({"models": [{"name": "m", "modelURL": "org/m"}], "router": {"enabled": False}})
    assert r.returncode == 0, r.stderr
    assert not [a for a in engine_container(r.workload("m"))["args"] if "lora" in a]
    assert "LORA_ADAPTERS" not in stage_env(r, "m")


def _adapters(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"name": "m", "modelURL": "org/m", "loraAdapters": list(entries)}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(
            {"models": [_adapters({"name": "q", "source": "acme/a"}), {"name": "q", "modelURL": "org/q"}]},
            'models[0].loraAdapters[0].name "q" is already the model id of models[1].name',
            id="adapter-named-like-a-model",
        ),
        pytest.param(
            {
                "models": [
                    _adapters({"name": "a", "source": "acme/a"}),
                    {**_adapters({"name": "a", "source": "acme/b"}), "name": "other"},
                ]
            },
            'models[1].loraAdapters[0].name "a" is used twice (first at models[0].loraAdapters[0])',
            id="adapter-name-twice",
        ),
        pytest.param(
            {"models": [_adapters({"name": "a", "source": "/adapters/a", "revision": "main"})]},
            'revision pins a Hugging Face repo id, but source "/adapters/a" is a local path',
            id="revision-with-local-path",
        ),
        pytest.param(
            {
                "models": [_adapters({"name": "a", "source": "acme/a", "revision": "v1"})],
                "engine": {"stageWeights": {"enabled": False}},
            },
            "engine.stageWeights.enabled=false leaves the download to vLLM",
            id="pinned-revision-without-staging",
        ),
        pytest.param(
            {"models": [_adapters({"name": "a b", "source": "acme/a"})]},
            "/models/0/loraAdapters/0/name",
            id="name-with-a-space",
        ),
        pytest.param(
            {"models": [_adapters({"name": "a", "source": "/adapters/x,y"})]},
            "/models/0/loraAdapters/0/source",
            id="source-vllm-cannot-split",
        ),
    ],
)
def test_chart_refuses_adapters_it_cannot_serve(render, values: dict[str, Any], expected: str) -> None:
    r = render({**values, "router": {"enabled": False}})
    assert r.returncode != 0
    assert expected in r.stderr, r.stderr


def test_generated_values_render_the_same_engine_as_the_raw_models(render, tmp_path: Path) -> None:
    """`generate` writes the derived LoRA limits; the chart derives the same from the raw models, so both
    render the same pod (same checksum: no restart when a user switches between them)."""
    if not CLI.exists():
        pytest.skip("the vllm-models CLI is not installed: run ./hack/bootstrap")
    fixture = REPO_ROOT / "tests" / "fixtures" / "models" / "valid" / "lora-adapters.yaml"
    out = tmp_path / "values.yaml"
    proc = subprocess.run(
        [str(CLI), "generate", "-f", str(fixture), "-o", str(out), "--no-preflight"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    router_off = {"router": {"enabled": False}}
    generated = render({**yaml.safe_load(out.read_text(encoding="utf-8")), **router_off})
    raw = render({"models": yaml.safe_load(fixture.read_text(encoding="utf-8")), **router_off})
    assert generated.returncode == raw.returncode == 0, generated.stderr + raw.stderr
    for model in ("llama3", "qwen"):
        assert checksum(generated.workload(model)) == checksum(raw.workload(model))
        assert engine_container(generated.workload(model)) == engine_container(raw.workload(model))
    assert "--max-loras=1" in engine_container(raw.workload("qwen"))["args"]
    assert "--max-lora-rank=32" in engine_container(raw.workload("qwen"))["args"]


def test_chart_schema_names_the_adapter_keys() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    assert set(schema["$defs"]["loraAdapter"]["properties"]) == {"name", "source", "revision", "rank"}
