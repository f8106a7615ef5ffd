"""How problems are reported: one line format for people, one JSON document for scripts (``-o json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from vllm_models.cli import cli
from vllm_models.errors import InvalidInput, Problem, problem_line, problem_record
from vllm_models.validate import validate_text

pytestmark = pytest.mark.unit

LLAMA70B = Path(__file__).parent.parent / "fixtures" / "capacity" / "llama70b-fp8-h100.yaml"
PRODUCT = "$[0].nodeSelector['nvidia.com/gpu.product']"


@pytest.fixture(autouse=True)
def _no_local_hf_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hermetic: a Hugging Face cache on the test machine must not change the figures."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path_factory.mktemp("empty-hf-cache")))


def _json(*args: str) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(cli, [*args, "-o", "json"])
    return result.exit_code, json.loads(result.stdout), result.stderr


FITS = """\
- name: qwen
  modelURL: Qwen/Qwen2.5-7B-Instruct
  gpuProduct: NVIDIA-L4
  requestMemory: 24Gi
  vllmConfig: {maxModelLen: 16384}
"""


@pytest.fixture
def invalid(tmp_path: Path) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text("- name: x\n  nodeSelector: {nvidia.com/gpu.product: 5}\n")
    return path


def test_problem_line_says_the_level_below_error() -> None:
    error = Problem((0, "vllmConfig", "maxModelLen"), "too long", file="m.yaml")
    assert problem_line(error) == "m.yaml::$[0].vllmConfig.maxModelLen: too long"
    assert str(error) == problem_line(error)
    warning = Problem((0, "pvcStorage"), "tight", "warning", "m.yaml")
    assert problem_line(warning) == "m.yaml::$[0].pvcStorage: warning: tight"


def test_schema_problem_quotes_a_key_that_is_not_an_identifier(invalid: Path) -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_text(invalid.read_text(), "m.yaml")
    assert raised.value.lines() == [
        "m.yaml::$[0].modelURL: missing required key",
        f"m.yaml::{PRODUCT}: expected string, got integer 5 (quote it: '5')",
    ]


def test_capacity_problem_quotes_the_node_selector_key(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text("- name: a\n  modelURL: o/a\n  nodeSelector: {nvidia.com/gpu.product: NVIDIA-X}\n")
    result = CliRunner().invoke(cli, ["preflight", "-f", str(path)])
    assert f"{path}::{PRODUCT}: warning: unknown GPU product 'NVIDIA-X'" in result.stderr


def test_problem_record_has_path_parts_and_severity() -> None:
    record = problem_record(Problem((0, "nodeSelector", "nvidia.com/gpu.product"), "m", "info", "f.yaml"))
    assert record == {
        "file": "f.yaml",
        "path": PRODUCT,
        "parts": [0, "nodeSelector", "nvidia.com/gpu.product"],
        "severity": "info",
        "message": "m",
    }


def test_validate_json_of_an_invalid_file_lists_every_problem(invalid: Path) -> None:
    code, doc, err = _json("validate", "-f", str(invalid))
    assert code == 1 and doc["ok"] is False and doc["file"] == str(invalid)
    assert "model_count" not in doc  # no result for a file that is not valid
    paths = {p["path"] for p in doc["problems"]}
    assert PRODUCT in paths
    (product,) = [p for p in doc["problems"] if p["path"] == PRODUCT]
    assert product["parts"] == [0, "nodeSelector", "nvidia.com/gpu.product"]
    assert product["severity"] == "error" and product["file"] == str(invalid)
    assert f"{invalid}::{PRODUCT}: " in err  # people still read the lines


def test_validate_json_names_the_unfit_model() -> None:
    code, doc, _ = _json("validate", "-f", str(LLAMA70B))
    assert code == 1 and doc["ok"] is False and "model_count" not in doc
    errors = [p for p in doc["problems"] if p["severity"] == "error"]
    assert [p["parts"] for p in errors] == [[0, "vllmConfig", "maxModelLen"]]
    assert errors[0]["path"] == "$[0].vllmConfig.maxModelLen" and "needs 20.00 GiB" in errors[0]["message"]


def test_validate_json_of_a_valid_file_counts_its_models(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(FITS + FITS.replace("name: qwen", "name: qwen-2"))
    code, doc, _ = _json("validate", "-f", str(path))
    assert (code, doc["ok"], doc["model_count"], doc["problems"]) == (0, True, 2, [])


def test_preflight_json_names_the_unfit_model() -> None:
    code, doc, err = _json("preflight", "-f", str(LLAMA70B))
    assert code == 1 and doc["ok"] is False and doc["file"] == str(LLAMA70B)
    unfit, fixed = doc["models"]
    assert unfit["name"] == "llama-3-3-70b" and unfit["fits"] is False and unfit["verdict"] == "FAIL"
    assert unfit["max_model_len"] == 131_072 and unfit["max_model_len_is_default"] is True
    assert unfit["kv_available_gib"] == 5.11 and unfit["kv_source"].startswith("reported")
    assert unfit["largest_context"] == 33_488 and unfit["suggested_max_model_len"] == 32_768
    assert unfit["gpu"]["product"] == "NVIDIA-H100-80GB-HBM3" and unfit["tensor_parallel"] == 1
    assert "findings" not in unfit  # they are the document's problems, by index
    assert (fixed["fits"], fixed["verdict"], fixed["concurrency"] > 1) == (True, "ok", True)
    (error,) = [p for p in doc["problems"] if p["severity"] == "error"]
    assert error["parts"] == [unfit["index"], "vllmConfig", "maxModelLen"]
    assert f"{LLAMA70B}::$[0].vllmConfig.maxModelLen: maxModelLen 131,072" in err


def test_preflight_json_of_a_fitting_model_is_ok(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(FITS)
    code, doc, _ = _json("preflight", "-f", str(path))
    (model,) = doc["models"]
    assert (code, doc["ok"], model["fits"], model["verdict"]) == (0, True, True, "ok")
    assert {p["severity"] for p in doc["problems"]} <= {"info"}


def test_preflight_json_of_an_invalid_file_has_only_problems(invalid: Path) -> None:
    code, doc, _ = _json("preflight", "-f", str(invalid))
    assert code == 1 and doc["ok"] is False and "models" not in doc and doc["problems"]


def test_list_models_json_of_an_invalid_file_has_its_problems(invalid: Path) -> None:
    code, doc, _ = _json("list-models", "-f", str(invalid))
    assert code == 1 and doc["ok"] is False and "models" not in doc
    assert PRODUCT in {p["path"] for p in doc["problems"]}
