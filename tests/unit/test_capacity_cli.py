"""``vllm-models preflight``: the table on stdout, errors on stderr, exit 1 when a model cannot fit."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from vllm_models.cli import cli

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _no_local_hf_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hermetic: a Hugging Face cache on the test machine must not change the figures."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path_factory.mktemp("empty-hf-cache")))


LLAMA70B = Path(__file__).parent.parent / "fixtures" / "capacity" / "llama70b-fp8-h100.yaml"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["preflight", *args])
    return result.exit_code, result.stdout, result.stderr


def test_unfit_model_exits_1_with_its_path(tmp_path: Path) -> None:
    code, out, err = _run("-f", str(LLAMA70B), "--hf-cache", str(tmp_path))
    assert code == 1
    assert "llama-3-3-70b " in out and "FAIL" in out and "5.11 GiB (rep.)" in out
    expected = f"{LLAMA70B}::$[0].vllmConfig.maxModelLen: maxModelLen 131,072 (model default) needs 20.00 GiB"
    assert expected in err


def test_fitting_models_exit_0(tmp_path: Path) -> None:
    models = tmp_path / "models.yaml"
    models.write_text(
        "- name: qwen\n"
        "  modelURL: Qwen/Qwen2.5-7B-Instruct\n"
        "  gpuProduct: NVIDIA-L4\n"
        "  requestMemory: 24Gi\n"
        "  vllmConfig: {maxModelLen: 16384}\n"
    )
    code, out, err = _run("-f", str(models), "--hf-cache", str(tmp_path))
    assert code == 0, err
    assert out.splitlines()[2].startswith("qwen") and out.splitlines()[2].rstrip().endswith("ok")


def test_allow_unfit_exits_0_with_a_warning(tmp_path: Path) -> None:
    reported = "    reportedKVCacheGiB: 5.11\n"
    text = LLAMA70B.read_text().replace(reported, reported + "    allowUnfit: true\n", 1)
    models = tmp_path / "models.yaml"
    models.write_text(text)
    code, _, err = _run("-f", str(models), "--hf-cache", str(tmp_path))
    assert code == 0
    assert "allowed by preflight.allowUnfit" in err


def test_invalid_file_is_reported_like_validate(tmp_path: Path) -> None:
    models = tmp_path / "models.yaml"
    models.write_text("- name: x\n")
    code, _, err = _run("-f", str(models))
    assert code == 1 and "::$[0]" in err
