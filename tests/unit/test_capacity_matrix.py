"""Model x GPU combinations (tests/fixtures/capacity/matrix.yaml), expected figures computed here.

The expectations re-derive vLLM's arithmetic from the raw config.json figures in the fixture; the
capacity package is only asked for its answer, never for the expectation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from vllm_models.capacity import preflight

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _no_local_hf_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hermetic: a Hugging Face cache on the test machine must not change the figures."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path_factory.mktemp("empty-hf-cache")))


GIB = 1024**3
CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent.parent / "fixtures" / "capacity" / "matrix.yaml").read_text()
)


def _expected(raw: dict[str, Any], entry: dict[str, Any]) -> dict[str, float]:
    tp, gpus = raw["tp"], raw["gpus"]
    per_token = 2 * raw["layers"] * max(1, raw["kvHeads"] // tp) * raw["headDim"] * raw["kvBytes"]
    weights_per_gpu = raw["weightsGiB"] / gpus
    layer = raw["T"] * (2 * raw["hidden"] + 3 * raw["inter"] / tp) * 2
    sampler = raw["T"] * raw["hidden"] * 2 + raw["S"] * raw["vocab"] * 8
    overhead = max(layer, sampler) / GIB + 0.75 + (0.25 if gpus > 1 else 0)
    util = entry.get("vllmConfig", {}).get("gpuMemoryUtilization", 0.9)
    avail = raw["gpuGiB"] * util - weights_per_gpu - overhead
    max_len = entry.get("vllmConfig", {}).get("maxModelLen") or raw["maxLen"]
    blocks = int(avail * GIB // (16 * per_token))
    return {
        "per_token": per_token,
        "weights_per_gpu": weights_per_gpu,
        "overhead": overhead,
        "avail": avail,
        "need": -(-max_len // 16) * 16 * per_token / GIB,
        "tokens": blocks * 16,
        "concurrency": blocks * 16 / max_len,
    }


@pytest.mark.parametrize("case", [c for c in CASES if "raw" in c], ids=lambda c: c["id"])
def test_figures(case: dict[str, Any]) -> None:
    exp = _expected(case["raw"], case["entry"])
    (r,) = preflight([case["entry"]])
    assert r.kv_bytes_per_token_per_gpu == exp["per_token"]
    assert r.weights_per_gpu_gib == pytest.approx(exp["weights_per_gpu"], abs=0.01)
    assert r.overhead_gib == pytest.approx(exp["overhead"], abs=1e-6)
    assert r.kv_available_gib == pytest.approx(exp["avail"], abs=0.01)
    assert r.kv_needed_gib == pytest.approx(exp["need"], abs=1e-6)
    assert r.capacity_tokens == pytest.approx(exp["tokens"], abs=32)
    assert r.concurrency == pytest.approx(exp["concurrency"], rel=0.01)
    assert r.fits is (exp["need"] <= exp["avail"])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_verdict_and_findings(case: dict[str, Any]) -> None:
    (r,) = preflight([case["entry"]], source_file="models.yaml")
    expect = case["expect"]
    assert r.fits is expect["fits"]
    for severity in ("error", "warning"):
        wanted = {p.replace("$", "$[0]", 1) for p in expect.get(severity, [])}
        got = {f.path for f in r.findings if f.severity == severity}
        if severity == "error":
            assert got == wanted, [str(f) for f in r.findings]
        else:
            assert wanted <= got, [str(f) for f in r.findings]
    assert r.ok is (not expect.get("error"))


def test_tensor_parallel_splits_kv_heads_and_replicates_below_one() -> None:
    by_id = {c["id"]: c for c in CASES}
    (tp4,) = preflight([by_id["qwen25-3b-tp4-replicated-kv-heads"]["entry"]])
    # 2 KV heads over 4 ranks: vLLM replicates to 1 head per rank, not half a head.
    assert tp4.kv_bytes_per_token == 2 * 36 * 2 * 128 * 2
    assert tp4.kv_bytes_per_token_per_gpu == 2 * 36 * 1 * 128 * 2
    (tp2,) = preflight([by_id["llama70b-bf16-tp2-h200"]["entry"]])
    assert tp2.kv_bytes_per_token_per_gpu == 2 * 80 * 4 * 128 * 2


def test_gqa_is_what_makes_qwen_small() -> None:
    (r,) = preflight([{"name": "q", "modelURL": "Qwen/Qwen2.5-7B-Instruct", "gpuProduct": "NVIDIA-L4"}])
    # 28 query heads share 4 KV heads: 7x less KV cache than multi-head attention would need.
    assert r.kv_bytes_per_token == 2 * 28 * 4 * 128 * 2 == 57_344


def test_sliding_window_layers_hold_only_the_window() -> None:
    # gemma-3-27b-it: 62 layers, 52 of them with a 1024-token window, 16 KV heads x 128, bf16.
    entry = {
        "name": "g",
        "modelURL": "google/gemma-3-27b-it",
        "gpuProduct": "NVIDIA-H100-80GB-HBM3",
        "vllmConfig": {"maxModelLen": 131072},
    }
    (r,) = preflight([entry])
    per_layer_token = 2 * 16 * 128 * 2
    need = per_layer_token * (10 * 131072 + 52 * (1024 + 16))
    assert r.kv_needed_gib == pytest.approx(need / GIB)
    assert r.kv_bytes_per_token == 62 * per_layer_token  # the all-layers figure vLLM prints per token
    assert r.fits is True


def test_pipeline_parallel_splits_layers() -> None:
    entry = {
        "name": "l",
        "modelURL": "meta-llama/Llama-3.1-70B-Instruct",
        "gpuProduct": "NVIDIA-H100-80GB-HBM3",
        "requestGPU": 4,
        "vllmConfig": {"tensorParallelSize": 2, "pipelineParallelSize": 2, "maxModelLen": 8192},
    }
    (r,) = preflight([entry])
    assert r.kv_bytes_per_token_per_gpu == 2 * 40 * 4 * 128 * 2
    assert r.weights_per_gpu_gib == pytest.approx(70.55e9 * 2 / GIB / 4)


def test_paths_use_the_entry_index() -> None:
    entries = [c["entry"] for c in CASES if c["id"] in ("unknown-model", "pvc-too-small")]
    reports = preflight(entries)
    assert "$[0].modelURL" in {f.path for f in reports[0].findings}
    assert "$[1].pvcStorage" in {f.path for f in reports[1].findings}
    assert (1, "pvcStorage") in {f.parts for f in reports[1].findings}  # for the generator's Problem
