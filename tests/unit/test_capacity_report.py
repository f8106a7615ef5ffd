"""Reports as people read them: the table, the fixes, severities, and the API validate/generate use."""

from __future__ import annotations

import pytest
from vllm_models.capacity import check, findings, preflight, render_table
from vllm_models.capacity.settings import ModelSettings
from vllm_models.capacity.units import QuantityError, gib, parse_quantity
from vllm_models.expand import expand_models
from vllm_models.schema import model_schema

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _no_local_hf_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hermetic: a Hugging Face cache on the test machine must not change the figures."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path_factory.mktemp("empty-hf-cache")))


LLAMA_L4 = {"name": "llama3", "modelURL": "meta-llama/Llama-3.2-3B-Instruct", "gpuProduct": "NVIDIA-L4"}


def test_table_has_one_row_per_model_and_a_verdict() -> None:
    reports = preflight([LLAMA_L4, {"name": "x", "modelURL": "acme/x"}])
    text = render_table(reports)
    header, rule, row1, row2 = text.splitlines()[:4]
    assert header.split()[0] == "model" and set(rule) <= {"-", " "}
    assert row1.startswith("llama3") and row1.rstrip().endswith("FAIL")
    assert row2.startswith("x") and row2.rstrip().endswith("UNKNOWN")
    assert "131,072*" in row1  # the model default, flagged


def test_unfit_model_gets_concrete_fixes_that_each_work() -> None:
    (r,) = preflight([LLAMA_L4])
    assert r.fits is False
    text = "\n".join(r.fixes)
    assert f"vllmConfig.maxModelLen: {r.suggested_max_model_len}" in text
    assert "kvCacheDtype: fp8" in text and "fits" in text
    assert "tensorParallelSize: 2" in text
    for change in ({"maxModelLen": r.suggested_max_model_len}, {"kvCacheDtype": "fp8"}):
        (fixed,) = preflight([{**LLAMA_L4, "vllmConfig": change}])
        assert fixed.fits is True, change
    (more,) = preflight([{**LLAMA_L4, "requestGPU": 2, "vllmConfig": {"tensorParallelSize": 2}}])
    assert more.fits is True


def test_weights_that_do_not_fit_at_all() -> None:
    entry = {
        "name": "big",
        "modelURL": "Qwen/Qwen2.5-72B-Instruct",
        "gpuProduct": "NVIDIA-H100-80GB-HBM3",
        "requestMemory": "200Gi",
        "pvcStorage": "200Gi",
        "vllmConfig": {"maxModelLen": 8192},
    }
    (r,) = preflight([entry])
    assert r.kv_available_gib is not None and r.kv_available_gib < 0
    assert [f.path for f in r.findings if f.severity == "error"] == ["$[0].vllmConfig.tensorParallelSize"]
    # 135.4 GiB of bf16 weights: two H100s leave 79.19 x 0.9 - 67.7 - 2.1 = about 1.3 GiB each
    assert [fix for fix in r.fixes if "tensorParallelSize" in fix] == [
        "use vllmConfig.tensorParallelSize: 2 with requestGPU: 2 (about 1.3 GiB KV cache per GPU; "
        "1.01 requests of 8,192 tokens)"
    ]
    assert not any("kvCacheDtype" in fix for fix in r.fixes)


def test_request_memory_without_limit_is_a_warning_not_an_error() -> None:
    entry = {
        "name": "q",
        "modelURL": "Qwen/Qwen2.5-7B-Instruct",
        "gpuProduct": "NVIDIA-L4",
        "vllmConfig": {"maxModelLen": 8192},
    }  # requestMemory default 16Gi < 14.2 + 4 GiB
    (r,) = preflight([entry])
    assert r.host_need_gib == pytest.approx(7.62e9 * 2 / 1024**3 + 4.0)
    assert [(f.severity, f.path) for f in r.findings if "host RAM" in f.message] == [
        ("warning", "$[0].requestMemory")
    ]
    assert r.ok


def test_pvc_tight_is_a_warning_and_existing_claim_is_not_checked() -> None:
    base = {
        "name": "q",
        "modelURL": "Qwen/Qwen2.5-7B-Instruct",
        "gpuProduct": "NVIDIA-L4",
        "requestMemory": "32Gi",
        "vllmConfig": {"maxModelLen": 8192},
    }
    (tight,) = preflight([{**base, "pvcStorage": "15Gi"}])
    assert [(f.severity, f.path) for f in tight.findings if "cache" in f.message] == [
        ("warning", "$[0].pvcStorage")
    ]
    (claim,) = preflight([{**base, "pvcStorage": "1Gi", "existingClaim": "shared-weights"}])
    assert claim.pvc_gib is None and claim.ok


def test_high_utilization_warns_about_cuda_graph_headroom() -> None:
    (r,) = preflight([{**LLAMA_L4, "vllmConfig": {"gpuMemoryUtilization": 0.98, "maxModelLen": 8192}}])
    assert any(f.path == "$[0].vllmConfig.gpuMemoryUtilization" for f in r.findings)


def test_max_model_len_beyond_the_model_warns() -> None:
    (r,) = preflight([{**LLAMA_L4, "vllmConfig": {"maxModelLen": 200_000}}])
    assert any(f.severity == "warning" and "max_position_embeddings" in f.message for f in r.findings)


def test_findings_filter_and_check() -> None:
    reports = preflight([LLAMA_L4, {**LLAMA_L4, "vllmConfig": {"maxModelLen": 8192}}])
    assert [f.severity for f in findings(reports, minimum="error")] == ["error"]
    assert {f.severity for f in findings(reports, minimum="info")} >= {"error"}
    errors = [str(f) for f in check([LLAMA_L4], source_file="m.yaml") if f.severity == "error"]
    assert len(errors) == 1
    prefix = "m.yaml::$[0].vllmConfig.maxModelLen: maxModelLen 131,072 (model default) needs"
    assert errors[0].startswith(prefix)


def test_garbage_entries_do_not_crash() -> None:
    reports = preflight(
        [
            {},
            {
                "name": "n",
                "modelURL": 5,
                "vllmConfig": "x",
                "preflight": [],
                "requestMemory": "lots",
                "requestGPU": True,
            },
        ]
    )  # type: ignore[list-item]
    assert len(reports) == 2
    render_table(reports)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("16Gi", 16 * 2**30),
        ("80G", 80 * 10**9),
        ("512Mi", 2**29),
        (1024, 1024),
        ("1.5Ti", int(1.5 * 2**40)),
    ],
)
def test_quantities(text: object, value: int) -> None:
    assert parse_quantity(text) == value


def test_bad_quantity() -> None:
    with pytest.raises(QuantityError, match="16Gi"):
        parse_quantity("sixteen")


def test_cpu_only_model_is_not_an_unknown_gpu() -> None:
    (r,) = preflight([{"name": "c", "modelURL": "Qwen/Qwen2.5-1.5B-Instruct", "requestGPU": 0}])
    assert [(f.severity, f.path) for f in r.findings] == [("info", "$[0].requestGPU")]


def test_largest_context_never_exceeds_the_model_limit() -> None:
    entry = {"name": "g", "modelURL": "google/gemma-3-27b-it", "gpuProduct": "NVIDIA-H100-80GB-HBM3"}
    (r,) = preflight([entry])
    assert r.largest_context == 131_072  # memory would hold more: 10 of 62 layers keep every token
    assert r.capacity_tokens is not None and r.capacity_tokens < r.largest_context


def test_short_by_less_than_the_estimates_uncertainty_is_a_warning() -> None:
    # Llama 3.2 3B on an L4: 22.03 x 0.9 - 5.98 - 1.01 = 12.84 GiB; 125,000 tokens x 114,688 B = 13.35 GiB
    entry = {**LLAMA_L4, "vllmConfig": {"maxModelLen": 125_000}}
    (r,) = preflight([entry])
    assert r.fits is False and r.kv_needed_gib is not None and r.kv_available_gib is not None
    assert 0 < r.kv_needed_gib - r.kv_available_gib <= 1.0
    (finding,) = [f for f in r.findings if f.path == "$[0].vllmConfig.maxModelLen"]
    assert finding.severity == "warning" and "uncertainty" in finding.message
    # the same shortfall against the engine's own figure is an error
    (measured,) = preflight([{**entry, "preflight": {"reportedKVCacheGiB": r.kv_available_gib}}])
    assert [f.severity for f in measured.findings if f.path == "$[0].vllmConfig.maxModelLen"] == ["error"]


def test_parallelism_derived_like_generate() -> None:
    """requestGPU 4 with pipelineParallelSize 2 is tensor parallel 2, as `generate` writes it."""
    entry = {
        "name": "pp",
        "modelURL": "meta-llama/Llama-3.1-70B-Instruct",
        "gpuProduct": "NVIDIA-H100-80GB-HBM3",
        "requestGPU": 4,
        "vllmConfig": {"pipelineParallelSize": 2, "maxModelLen": 8192},
    }
    (r,) = preflight([entry])
    assert (r.tensor_parallel, r.pipeline_parallel) == (2, 2)
    (expanded,) = expand_models([entry])
    assert expanded["vllmConfig"]["tensorParallelSize"] == r.tensor_parallel


def test_settings_take_their_defaults_from_the_schema() -> None:
    settings = ModelSettings.of(3, {"name": "q", "modelURL": "o/q", "requestGPU": 2})
    properties = model_schema()["properties"]
    assert settings.request_memory_gib == gib(properties["requestMemory"]["default"])
    assert settings.pvc_gib == gib(properties["pvcStorage"]["default"])
    assert (settings.index, settings.gpus, settings.tensor_parallel, settings.pipeline_parallel) == (
        3,
        2,
        2,
        1,
    )
    assert settings.limit_memory_gib is None and settings.max_model_len is None and not settings.allow_unfit


def test_gpu_product_from_the_node_selector_is_found_there() -> None:
    selector = {**LLAMA_L4, "nodeSelector": {"nvidia.com/gpu.product": LLAMA_L4["gpuProduct"]}}
    del selector["gpuProduct"]
    (by_field,), (by_label,) = preflight([LLAMA_L4]), preflight([selector])
    assert by_label.gpu == by_field.gpu and by_label.kv_available_gib == by_field.kv_available_gib
    assert ModelSettings.of(0, selector).gpu_product_parts == ("nodeSelector", "nvidia.com/gpu.product")
