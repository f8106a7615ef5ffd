"""A measured run reproduced: Llama 3.3 70B FP8 with fp8 KV cache on one H100 80GB.

Every expected figure is computed here from that run's raw numbers, not by the capacity package.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from vllm_models.capacity import check, preflight, render_table

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _no_local_hf_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hermetic: a Hugging Face cache on the test machine must not change the figures."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path_factory.mktemp("empty-hf-cache")))


FIXTURE = Path(__file__).parent.parent / "fixtures" / "capacity" / "llama70b-fp8-h100.yaml"
GIB = 1024**3

# config.json of nvidia/Llama-3.3-70B-Instruct-FP8 and that run's engine log
LAYERS, KV_HEADS, HEAD_DIM, FP8 = 80, 8, 128, 1
BYTES_PER_TOKEN = 2 * LAYERS * KV_HEADS * HEAD_DIM * FP8  # 163,840
H100_TOTAL_GIB = 79.19  # what the CUDA driver reports for an H100 80GB HBM3
WEIGHTS_GIB = 67.7  # "Model loading took 67.7 GiB memory"
REPORTED_GIB = 5.11  # "Available KV cache memory: 5.11 GiB"
ENGINE_TOKENS = 33_504  # "GPU KV cache size: 33,504 tokens"


@pytest.fixture(scope="module")
def models() -> list[dict[str, object]]:
    data = yaml.safe_load(FIXTURE.read_text())
    assert isinstance(data, list)
    return data


def test_bytes_per_token_and_20_gib_for_the_default_context(models: list[dict[str, object]]) -> None:
    assert BYTES_PER_TOKEN == 163_840
    (report, _) = preflight(models, source_file=str(FIXTURE))
    assert report.kv_bytes_per_token == BYTES_PER_TOKEN
    assert report.kv_bytes_per_token_per_gpu == BYTES_PER_TOKEN
    assert report.max_model_len == 131_072 and report.max_model_len_is_default
    assert report.kv_needed_gib == pytest.approx(131_072 * BYTES_PER_TOKEN / GIB)
    assert f"{report.kv_needed_gib:.1f}" == "20.0"  # vLLM's "20.0 GiB KV cache is needed"


def test_default_context_does_not_fit_one_h100_and_says_why(models: list[dict[str, object]]) -> None:
    (report, _) = preflight(models, source_file=str(FIXTURE))
    assert report.fits is False
    assert report.kv_source.startswith("reported")
    assert report.kv_available_gib == REPORTED_GIB
    errors = [f for f in report.findings if f.severity == "error"]
    assert [f.path for f in errors] == ["$[0].vllmConfig.maxModelLen"]
    assert "20.00 GiB" in errors[0].message and "5.11 GiB" in errors[0].message
    assert str(errors[0]).startswith(f"{FIXTURE}::$[0].vllmConfig.maxModelLen: ")


def test_reported_memory_holds_about_33500_tokens(models: list[dict[str, object]]) -> None:
    (_, fixed) = preflight(models)
    # vLLM: whole 16-token blocks of available // (16 x bytes per token). 5.11 is the engine's figure
    # rounded to 0.01 GiB, i.e. +-0.005 GiB = +-33 tokens, so we land within a block or two of 33,504.
    expected = int(REPORTED_GIB * GIB // (16 * BYTES_PER_TOKEN)) * 16
    assert expected == 33_488
    assert fixed.capacity_tokens == expected
    assert abs(fixed.capacity_tokens - ENGINE_TOKENS) <= 2 * 16
    assert fixed.largest_context == expected


def test_concurrency_at_32000_tokens(models: list[dict[str, object]]) -> None:
    (_, fixed) = preflight(models)
    assert fixed.fits is True
    assert fixed.concurrency == pytest.approx(33_488 / 32_000)
    assert f"{fixed.concurrency:.2f}" == "1.05"  # "Maximum concurrency for 32,000 tokens per request: 1.05x"
    assert fixed.ok


def test_suggested_max_model_len_fits(models: list[dict[str, object]]) -> None:
    (report, _) = preflight(models)
    suggested = report.suggested_max_model_len
    assert suggested is not None
    assert suggested * BYTES_PER_TOKEN <= REPORTED_GIB * GIB  # fits the reported memory
    assert suggested >= 32_000  # at least what the operator found by hand
    assert any(f"maxModelLen: {suggested}" in fix for fix in report.fixes)
    # and the suggestion, fed back, passes
    entry = dict(models[0])
    entry["vllmConfig"] = {**entry["vllmConfig"], "maxModelLen": suggested}  # type: ignore[dict-item]
    (again,) = preflight([entry])
    assert again.fits is True and again.ok


def test_fixes_name_more_gpus_and_the_operators_lower_max_num_seqs(models: list[dict[str, object]]) -> None:
    (report, _) = preflight(models)
    assert any("tensorParallelSize: 2" in fix for fix in report.fixes)
    # the operator settled on max-num-seqs 8: 33,488 tokens // 4,096-token requests = 8
    assert any("maxNumSeqs from 1024 to 8" in fix for fix in report.fixes)


# --- our own estimate against the engine's 5.11 GiB ---------------------------------------------------
# Overhead model (arithmetic.py): max(T*(2H + 3I/tp)*2 B, T*H*2 B + S*V*8 B) + 0.75 GiB non-torch.
# That run used max-num-batched-tokens 8192 and max-num-seqs 8 (T, S), Llama 70B H=8192, I=28672.
OVERHEAD_GIB = max(8192 * (2 * 8192 + 3 * 28672) * 2, 8192 * 8192 * 2 + 8 * 128256 * 8) / GIB + 0.75
MARGIN_GIB = 0.25


def _estimate(models: list[dict[str, object]], utilization: float) -> float:
    entry = dict(models[1])
    entry["vllmConfig"] = {**entry["vllmConfig"], "gpuMemoryUtilization": utilization}  # type: ignore[dict-item]
    entry["preflight"] = {}
    (report,) = preflight([entry])
    assert report.kv_source.startswith("estimated")
    assert report.kv_available_gib is not None
    return report.kv_available_gib


def test_overhead_estimate_is_what_the_docs_say(models: list[dict[str, object]]) -> None:
    assert pytest.approx(2.3125) == OVERHEAD_GIB
    expected = H100_TOTAL_GIB * 0.9 - WEIGHTS_GIB - OVERHEAD_GIB
    assert _estimate(models, 0.9) == pytest.approx(expected)


def test_estimate_within_margin_of_reported_at_the_utilization_the_log_implies(
    models: list[dict[str, object]],
) -> None:
    # At vLLM's default 0.9 the budget after weights is 79.19 x 0.9 - 67.7 = 3.57 GiB *before* any
    # activation or runtime memory, already below the 5.11 GiB the engine reported: that run's engine
    # must have run with a higher utilization. 0.95 leaves 7.53 GiB, i.e. 2.42 GiB of measured overhead.
    assert H100_TOTAL_GIB * 0.9 - WEIGHTS_GIB < REPORTED_GIB
    implied_overhead = H100_TOTAL_GIB * 0.95 - WEIGHTS_GIB - REPORTED_GIB
    assert implied_overhead == pytest.approx(2.42, abs=0.01)
    estimate = _estimate(models, 0.95)
    assert abs(estimate - REPORTED_GIB) <= MARGIN_GIB  # 5.22 GiB: +0.11 GiB


def test_estimate_at_default_utilization_is_conservative(models: list[dict[str, object]]) -> None:
    # Under the stated default (0.9) the estimate is 1.26 GiB: 3.85 GiB below the reported figure, on
    # the safe side (it would reject 32,000 tokens the engine in fact accepted at its setting).
    estimate = _estimate(models, 0.9)
    assert estimate < REPORTED_GIB
    assert REPORTED_GIB - estimate == pytest.approx(3.85, abs=MARGIN_GIB)


def test_render_names_the_figure_used(models: list[dict[str, object]]) -> None:
    text = render_table(preflight(models))
    assert "5.11 GiB (rep.)" in text
    assert "reported by the engine (preflight.reportedKVCacheGiB); own estimate" in text
    assert "33,488" in text and "1.05x" in text


def test_check_fails_the_unfit_model_only(models: list[dict[str, object]]) -> None:
    problems = check(models, source_file="models.yaml")
    errors = [f for f in problems if f.severity == "error"]
    assert [f.path for f in errors] == ["$[0].vllmConfig.maxModelLen"]


def test_allow_unfit_downgrades_to_a_warning(models: list[dict[str, object]]) -> None:
    entry = dict(models[0])
    entry["preflight"] = {**entry["preflight"], "allowUnfit": True}  # type: ignore[dict-item]
    (report,) = preflight([entry])
    assert report.fits is False and report.ok
    assert any("allowed by preflight.allowUnfit" in f.message for f in report.findings)
