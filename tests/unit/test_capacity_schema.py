"""The `preflight` object of schemas/models.schema.json and what the capacity package reads agree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from vllm_models.capacity import preflight
from vllm_models.capacity.catalog import ARCH_KEYS

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _no_local_hf_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hermetic: a Hugging Face cache on the test machine must not change the figures."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path_factory.mktemp("empty-hf-cache")))


SCHEMA: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas" / "models.schema.json").read_text(encoding="utf-8")
)
PREFLIGHT = SCHEMA["$defs"]["model"]["properties"]["preflight"]
FULL = {
    "allowUnfit": False,
    "reportedKVCacheGiB": 5.11,
    "gpuMemoryGiB": 79.19,
    "nodeMemory": "256Gi",
    "overheadGiB": 2.3,
    "architecture": {
        "numLayers": 80,
        "numKVHeads": 8,
        "headDim": 128,
        "maxPositionEmbeddings": 131072,
        "paramsBillions": 70.55,
        "weightsGiB": 67.7,
        "weightDtype": "fp8",
        "numAttentionHeads": 64,
        "hiddenSize": 8192,
        "intermediateSize": 28672,
        "vocabSize": 128256,
        "slidingWindow": 4096,
        "slidingWindowLayers": 0,
    },
}


def test_every_key_the_preflight_reads_is_in_the_schema() -> None:
    assert set(FULL) == set(PREFLIGHT["properties"])
    assert set(ARCH_KEYS) == set(PREFLIGHT["properties"]["architecture"]["properties"])


def test_strict_and_documented() -> None:
    for node in (PREFLIGHT, PREFLIGHT["properties"]["architecture"]):
        assert node["additionalProperties"] is False
        for key, sub in node["properties"].items():
            assert sub.get("description"), key


def test_a_full_preflight_object_is_valid_and_used() -> None:
    entry = {"name": "llama", "modelURL": "nvidia/Llama-3.3-70B-Instruct-FP8", "preflight": FULL}
    assert [e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors([entry])] == []
    (r,) = preflight([entry])
    assert r.overhead_gib == 2.3 and r.gpu is not None and r.gpu.total_gib == 79.19
    assert r.kv_available_gib == 5.11


def test_a_typo_is_rejected() -> None:
    entry = {"name": "x", "modelURL": "a/b", "preflight": {"reportedKvCacheGiB": 5}}
    errors = jsonschema.Draft202012Validator(SCHEMA).iter_errors([entry])
    assert any("reportedKvCacheGiB" in str(e) for e in errors)
