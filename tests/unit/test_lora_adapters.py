"""LoRA adapters in models.yaml: the engine limits `generate` derives from them, and what stays as written.

The errors (names shared with models, sources, revisions, ranks, flags) are fixtures under
tests/fixtures/models/invalid/lora-*.yaml; the chart's rendering of the same is the render tier's.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from vllm_models.cli import cli
from vllm_models.expand import expand_model
from vllm_models.local.simengine import parse_args
from vllm_models.lora import LORA_RANKS, default_max_lora_rank

from .helpers import FIXTURES

pytestmark = pytest.mark.unit

LLAMA = {"name": "llama3", "modelURL": "meta-llama/Llama-3.1-8B-Instruct"}


def adapter(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "source": f"acme/{name}", **extra}


def test_generate_writes_the_lora_limits_derived_from_the_adapters() -> None:
    result = CliRunner().invoke(cli, ["generate", "-f", str(FIXTURES / "valid" / "lora-adapters.yaml")])
    assert result.exit_code == 0, result.output
    llama, qwen = yaml.safe_load(result.stdout)["models"]
    # three adapters, the largest declared rank 64: every adapter fits one batch, rank 64 loads
    assert llama["vllmConfig"]["maxLoras"] == 3 and llama["vllmConfig"]["maxLoraRank"] == 64
    assert [a["name"] for a in llama["loraAdapters"]] == ["llama3-sql", "llama3-support", "llama3-legal"]
    assert llama["loraAdapters"][0]["revision"] == "8d5a2c3f1b6e4d7a9c0b1e2f3a4b5c6d7e8f9a0b"
    # written limits stay as written
    assert qwen["vllmConfig"]["maxLoras"] == 1 and qwen["vllmConfig"]["maxLoraRank"] == 32


@pytest.mark.parametrize(
    ("ranks", "expected"),
    [
        ((), 16),
        ((8,), 8),
        ((9,), 16),
        ((16, 4), 16),
        ((17,), 32),
        ((300,), 320),
        ((321,), 512),
        ((512,), 512),
    ],
)
def test_max_lora_rank_is_the_smallest_vllm_size_holding_every_rank(
    ranks: tuple[int, ...], expected: int
) -> None:
    entry = {
        **LLAMA,
        "loraAdapters": [adapter(f"a{i}", rank=r) for i, r in enumerate(ranks)] or [adapter("a")],
    }
    assert default_max_lora_rank(entry) == expected
    assert expected in LORA_RANKS


def test_a_model_without_adapters_gets_no_lora_limits() -> None:
    config = expand_model(dict(LLAMA))["vllmConfig"]
    assert "maxLoras" not in config and "maxLoraRank" not in config


def test_one_adapter_without_a_rank_gets_vllm_defaults_explicitly() -> None:
    config = expand_model({**LLAMA, "loraAdapters": [adapter("sql")]})["vllmConfig"]
    assert (config["maxLoras"], config["maxLoraRank"]) == (1, 16)


def test_simulated_engine_takes_lora_modules_in_both_of_vllms_forms() -> None:
    args = ["--port", "1", "--model", "m", "--lora-modules", "a=/x", '{"name": "b", "path": "/y"}']
    assert parse_args(args).lora == {"a": "/x", "b": "/y"}
    assert parse_args(["--port", "1", "--model", "m"]).lora == {}
    with pytest.raises(SystemExit):
        parse_args(["--port", "1", "--model", "m", "--lora-modules", "no-path"])
