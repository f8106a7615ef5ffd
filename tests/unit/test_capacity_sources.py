"""Where an architecture comes from: models.yaml, a local HF cache (faked in tmp_path), the hub (a fake
fetcher, with its disk cache), then the bundled catalog; and the parsing of config.json and safetensors."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from vllm_models.capacity import preflight
from vllm_models.capacity.catalog import lookup_gpu, lookup_model, model_catalog
from vllm_models.capacity.hfconfig import architecture_from_config, safetensors_header

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _no_local_hf_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hermetic: a Hugging Face cache on the test machine must not change the figures."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path_factory.mktemp("empty-hf-cache")))


GIB = 1024**3
TINY_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "num_hidden_layers": 4,
    "num_attention_heads": 8,
    "num_key_value_heads": 2,
    "hidden_size": 512,
    "intermediate_size": 1024,
    "vocab_size": 1000,
    "max_position_embeddings": 4096,
    "torch_dtype": "bfloat16",
}


def _fake_cache(hub: Path, repo: str, commit: str, config: dict[str, object], total_size: int) -> Path:
    root = hub / ("models--" + repo.replace("/", "--"))
    snap = root / "snapshots" / commit
    snap.mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps(config))
    index = {"metadata": {"total_size": total_size}, "weight_map": {}}
    (snap / "model.safetensors.index.json").write_text(json.dumps(index))
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(commit)
    return snap


def _entry(repo: str, **extra: object) -> dict[str, object]:
    return {"name": "m", "modelURL": repo, "gpuProduct": "NVIDIA-L4", **extra}


def test_local_hf_cache_is_read(tmp_path: Path) -> None:
    _fake_cache(tmp_path / "hub", "acme/tiny", "a" * 40, TINY_CONFIG, 3 * GIB)
    (r,) = preflight([_entry("acme/tiny")], hf_cache=tmp_path)  # an HF_HOME: hub/ below it
    assert r.architecture.num_layers == 4
    assert r.kv_bytes_per_token == 2 * 4 * 2 * 64 * 2
    assert r.weights_gib == pytest.approx(3.0)
    assert r.max_model_len == 4096
    assert "HF cache snapshot aaaaaaaaaaaa" in r.architecture.sources["num_layers"]
    assert "total_size" in r.architecture.sources["weights_gib"]
    assert not [f for f in r.findings if f.path.endswith("modelURL")]


def test_hub_directory_also_accepted_and_revision_pins_the_snapshot(tmp_path: Path) -> None:
    _fake_cache(tmp_path, "acme/tiny", "b" * 40, TINY_CONFIG, GIB)
    old = tmp_path / "models--acme--tiny" / "snapshots" / ("c" * 40)
    old.mkdir()
    (old / "config.json").write_text(json.dumps({**TINY_CONFIG, "num_hidden_layers": 2}))
    (r,) = preflight([_entry("acme/tiny")], hf_cache=tmp_path)
    assert r.architecture.num_layers == 4  # refs/main
    (pinned,) = preflight([_entry("acme/tiny", revision="c" * 40)], hf_cache=tmp_path)
    assert pinned.architecture.num_layers == 2
    (missing,) = preflight([_entry("acme/tiny", revision="v9")], hf_cache=tmp_path)
    assert missing.architecture.num_layers is None  # a pinned revision never falls back to another snapshot


def test_models_yaml_wins_over_cache_and_cache_over_catalog(tmp_path: Path) -> None:
    repo = "Qwen/Qwen2.5-7B-Instruct"
    _fake_cache(tmp_path / "hub", repo, "d" * 40, {**TINY_CONFIG, "num_hidden_layers": 30}, 20 * GIB)
    entry = _entry(repo, preflight={"architecture": {"numKVHeads": 1}})
    (r,) = preflight([entry], hf_cache=tmp_path)
    assert r.architecture.num_kv_heads == 1  # models.yaml
    assert r.architecture.num_layers == 30  # cache
    assert r.architecture.params_b == 7.62  # catalog fills what the others lack
    assert r.architecture.sources["num_kv_heads"] == "models.yaml preflight.architecture"
    assert r.architecture.sources["params_b"].startswith("bundled catalog")


def test_local_path_with_single_safetensors_file(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(TINY_CONFIG))
    header = {
        "w": {"dtype": "BF16", "shape": [1024, 512], "data_offsets": [0, 1024 * 512 * 2]},
        "__metadata__": {"format": "pt"},
    }
    blob = json.dumps(header).encode()
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", len(blob)) + blob + b"\0" * 16)
    (r,) = preflight([_entry(str(tmp_path))])
    assert r.weights_gib == pytest.approx(1024 * 512 * 2 / GIB)
    assert r.architecture.params_b == pytest.approx(1024 * 512 / 1e9)


class FakeHub:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.calls: list[tuple[str, str, str]] = []

    def __call__(self, repo: str, filename: str, revision: str) -> bytes | None:
        self.calls.append((repo, filename, revision))
        return self.files.get(f"{repo}/{filename}")


def test_hub_only_with_network_allowed_and_cached(tmp_path: Path) -> None:
    hub = FakeHub(
        {
            "acme/remote/config.json": json.dumps(TINY_CONFIG).encode(),
            "acme/remote/model.safetensors.index.json": json.dumps(
                {"metadata": {"total_size": 2 * GIB}}
            ).encode(),
        }
    )
    cache = tmp_path / "cache"
    (offline,) = preflight([_entry("acme/remote")], hf_cache=tmp_path, fetch=hub, cache_dir=cache)
    assert hub.calls == [] and offline.architecture.num_layers is None
    assert any(f.path == "$[0].modelURL" and f.severity == "warning" for f in offline.findings)
    (online,) = preflight(
        [_entry("acme/remote")], hf_cache=tmp_path, allow_network=True, fetch=hub, cache_dir=cache
    )
    assert online.architecture.num_layers == 4 and online.weights_gib == pytest.approx(2.0)
    assert online.architecture.sources["num_layers"] == "config.json (hub acme/remote@main)"
    assert len(hub.calls) == 2
    (again,) = preflight(
        [_entry("acme/remote")], hf_cache=tmp_path, allow_network=True, fetch=hub, cache_dir=cache
    )
    assert again.architecture.num_layers == 4 and len(hub.calls) == 2  # served from the disk cache


def test_hub_absent_files_and_failures_are_notes_not_crashes(tmp_path: Path) -> None:
    def down(repo: str, filename: str, revision: str) -> bytes | None:
        raise OSError("connection refused")

    (r,) = preflight(
        [_entry("acme/remote")], hf_cache=tmp_path, allow_network=True, fetch=down, cache_dir=tmp_path / "c"
    )
    assert any("hub lookup failed" in n for n in r.notes)
    empty = FakeHub({})
    (r2,) = preflight(
        [_entry("acme/none")], hf_cache=tmp_path, allow_network=True, fetch=empty, cache_dir=tmp_path / "c"
    )
    assert r2.architecture.num_layers is None
    preflight(
        [_entry("acme/none")], hf_cache=tmp_path, allow_network=True, fetch=empty, cache_dir=tmp_path / "c"
    )
    assert len(empty.calls) == 1  # the 404 is cached too


def test_hub_not_asked_when_catalog_suffices_locally(tmp_path: Path) -> None:
    hub = FakeHub({})
    preflight(
        [
            _entry(
                "Qwen/Qwen2.5-7B-Instruct",
                preflight={
                    "architecture": {"numLayers": 28, "numKVHeads": 4, "headDim": 128, "weightsGiB": 14.2}
                },
            )
        ],
        hf_cache=tmp_path,
        allow_network=True,
        fetch=hub,
    )
    assert hub.calls == []


def test_config_parsing_multimodal_moe_sliding_and_quantized() -> None:
    gemma = {
        "model_type": "gemma3",
        "text_config": {
            "num_hidden_layers": 62,
            "num_attention_heads": 32,
            "num_key_value_heads": 16,
            "head_dim": 128,
            "hidden_size": 5376,
            "sliding_window": 1024,
            "sliding_window_pattern": 6,
            "max_position_embeddings": 131072,
        },
        "torch_dtype": "bfloat16",
    }
    a = architecture_from_config(gemma, "x")
    assert (a.num_layers, a.num_kv_heads, a.head_dim, a.sliding_window, a.sliding_layers) == (
        62,
        16,
        128,
        1024,
        52,
    )
    oss = {
        "num_hidden_layers": 4,
        "num_attention_heads": 64,
        "num_key_value_heads": 8,
        "head_dim": 64,
        "hidden_size": 2880,
        "intermediate_size": 2880,
        "experts_per_token": 4,
        "sliding_window": 128,
        "layer_types": ["sliding_attention", "full_attention"] * 2,
        "quantization_config": {"quant_method": "mxfp4"},
    }
    b = architecture_from_config(oss, "x")
    assert (b.sliding_layers, b.intermediate_size, b.weight_dtype) == (2, 4 * 2880, "mxfp4")
    qwen = {
        **TINY_CONFIG,
        "sliding_window": 4096,
        "use_sliding_window": False,
        "quantization_config": {"quant_method": "awq", "bits": 4},
    }
    c = architecture_from_config(qwen, "x")
    assert c.sliding_window is None and c.weight_dtype == "int4"
    no_head_dim = {k: v for k, v in TINY_CONFIG.items() if k != "num_key_value_heads"}
    d = architecture_from_config(no_head_dim, "x")
    assert d.head_dim == 512 // 8 and d.num_kv_heads == 8  # MHA: KV heads = attention heads


def test_safetensors_header_rejects_garbage() -> None:
    assert safetensors_header(b"") is None
    assert safetensors_header(struct.pack("<Q", 5) + b"{bad}") is None


def test_catalog_covers_the_families_the_issue_names_with_sources() -> None:
    repos = set(model_catalog())
    for needle in (
        "llama-3.3-70b-instruct-fp8",
        "qwen2.5-",
        "qwen3-",
        "mistral-",
        "mixtral-",
        "gemma-3-",
        "deepseek-r1-distill",
        "gpt-oss-",
    ):
        assert any(needle in repo for repo in repos), needle
    for repo, arch in model_catalog().items():
        assert not arch.missing(), repo
        assert arch.total_weights_gib() is not None, repo
        assert arch.max_position_embeddings, repo
        assert {"num_layers", "num_kv_heads", "head_dim"} <= set(arch.sources), repo
    assert lookup_model("https://huggingface.co/NVIDIA/llama-3.3-70b-instruct-fp8") is not None


@pytest.mark.parametrize(
    ("label", "total"),
    [
        ("NVIDIA-H100-80GB-HBM3", 79.19),
        ("NVIDIA-H200", 139.94),
        ("NVIDIA-A100-SXM4-40GB", 39.54),
        ("NVIDIA-A100-SXM4-80GB", 79.54),
        ("NVIDIA-L4", 22.03),
        ("NVIDIA-L40S", 44.53),
        ("NVIDIA-A10G", 22.06),
        ("NVIDIA-B200", 178.6),
        ("H100", 79.19),
        ("NVIDIA-L4-SHARED", 22.03),
    ],
)
def test_gpu_table(label: str, total: float) -> None:
    gpu, _ = lookup_gpu(label)
    assert gpu is not None and gpu.total_gib == pytest.approx(total, abs=0.01)
    assert gpu.source


def test_gpu_mig_and_unknown() -> None:
    mig, notes = lookup_gpu("NVIDIA-A100-SXM4-40GB-MIG-3g.20gb")
    assert mig is not None and mig.estimated and 17 < mig.total_gib < 19 and notes
    assert lookup_gpu("NVIDIA-Z9000")[0] is None
