"""The vllm-models CLI through click's runner (and once as the installed console script)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from vllm_models.cli import cli

from tests.support import REPO_ROOT

from .helpers import FIXTURES
from .helpers import VALID as VALID_FIXTURES

pytestmark = pytest.mark.unit

MODELS_LIST = FIXTURES / "valid" / "models-list-unchanged.yaml"
COMMENTED = """\
# Our models. Keep this comment: a blank line separates it from the first model's own comment.

# Llama first (gated)
- name: llama3
  modelURL: meta-llama/Llama-3.2-3B-Instruct   # the small one
  replicaCount: 1
  requestGPU: 1
  # limitMemory: 32Gi  (commented out on purpose)

# Qwen second
- name: qwen
  modelURL: "Qwen/Qwen2.5-7B-Instruct"
  requestMemory: 32Gi
  vllmConfig: {maxModelLen: 8192, dtype: bfloat16}

# trailing notes stay where they are
"""


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner(env=env).invoke(cli, list(args), input=input)


@pytest.fixture
def models_file(tmp_path: Path) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(COMMENTED)
    return path


def test_validate_default_file_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(MODELS_LIST, "models.yaml")
    result = run("validate")
    assert result.exit_code == 0
    assert result.stdout == "models.yaml: 2 model(s), valid\n"


def test_validate_file_from_env(tmp_path: Path) -> None:
    result = run("validate", env={"VLLM_MODELS_FILE": str(MODELS_LIST)})
    assert result.exit_code == 0, result.output


def test_missing_file_is_invalid_input_with_a_hint(tmp_path: Path) -> None:
    missing = tmp_path / "models.yaml"
    result = run("validate", "-f", str(missing))
    assert result.exit_code == 1
    assert result.stderr == (
        f"{missing}::$: file not found; create it with 'cp models.example.yaml models.yaml' "
        "or 'vllm-models add-model'\n"
    )


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\x00garbage", b"- name: [unclosed\n", b"!!python/object:os.system ls\n", b"- &a [*a]\n"],
    ids=["binary", "unclosed", "python-tag", "alias"],
)
def test_no_traceback_for_any_input(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "models.yaml"
    path.write_bytes(content)
    for command in ("validate", "generate", "list-models"):
        result = run(command, "-f", str(path))
        assert result.exit_code == 1, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert result.stderr.startswith(f"{path}::$"), result.stderr


def test_directory_is_invalid_input(tmp_path: Path) -> None:
    result = run("validate", "-f", str(tmp_path))
    assert result.exit_code == 2  # click refuses a directory for a file option: a usage error


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--nope"],
        ["generate", "--router-replicas", "-1"],
        ["frobnicate"],
        ["add-model", "--gpus", "x"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_bad_env_value_is_a_usage_error() -> None:
    result = run("generate", "-f", str(MODELS_LIST), env={"VLLM_ROUTER_REQUEST_MEMORY": "256MB"})
    assert result.exit_code == 2
    assert "VLLM_ROUTER_REQUEST_MEMORY" in result.stderr
    assert "'MB' is not a Kubernetes unit" in result.stderr


def test_generate_applies_defaults_and_derived_fields() -> None:
    values = yaml.safe_load(run("generate", "-f", str(FIXTURES / "valid" / "pipeline-parallel.yaml")).stdout)
    (model,) = values["models"]
    assert model["requestGPU"] == 8
    assert model["vllmConfig"]["tensorParallelSize"] == 4
    assert model["strategy"] == "Recreate"
    assert model["servedModelName"] == "big"
    assert model["cacheMode"] == "shared"
    assert model["requestCPU"] == 6 and model["requestMemory"] == "16Gi" and model["shmSize"] == "8Gi"
    assert set(values) == {"models"}


def test_generate_multiple_replicas_gets_per_replica_caches() -> None:
    values = yaml.safe_load(
        run("generate", "-f", str(FIXTURES / "valid" / "replicas-rwo-per-replica-cache.yaml")).stdout
    )
    assert values["models"][0]["cacheMode"] == "per-replica"
    assert values["models"][0]["replicaCount"] == 2


def test_generate_cpu_only_rolls_and_has_no_tensor_parallelism() -> None:
    values = yaml.safe_load(
        run("generate", "-f", str(FIXTURES / "valid" / "cpu-only-local-path.yaml")).stdout
    )
    model = values["models"][0]
    assert model["strategy"] == "RollingUpdate"
    assert "tensorParallelSize" not in model["vllmConfig"]


def test_generate_maps_environment_to_chart_values() -> None:
    env = {
        "VLLM_MODEL_IMAGE": "registry.example/vllm",
        "VLLM_MODEL_TAG": "v0.32.0",
        "VLLM_STORAGE_CLASS": "fast",
        "VLLM_ROUTER_ENABLED": "false",
        "VLLM_ROUTER_REPLICAS": "3",
        "VLLM_ROUTER_REQUEST_CPU": "250m",
        "VLLM_ROUTER_REQUEST_MEMORY": "300Mi",
        "VLLM_ROUTER_LIMIT_MEMORY": "1Gi",
        "VLLM_HF_TOKEN_SECRET": "vllm-hf-token",
        "VLLM_ROUTER_MASTER_KEY_SECRET": "vllm-api-key",
    }
    values = yaml.safe_load(run("generate", "-f", str(MODELS_LIST), env=env).stdout)
    assert values["image"] == {"repository": "registry.example/vllm", "tag": "v0.32.0"}
    assert values["hfToken"] == {"existingSecret": "vllm-hf-token", "secretKey": "token"}
    assert values["router"] == {
        "enabled": False,
        "replicaCount": 3,
        "resources": {"requests": {"cpu": "250m", "memory": "300Mi"}, "limits": {"memory": "1Gi"}},
        "auth": {"masterKey": {"existingSecret": "vllm-api-key", "secretKey": "master-key"}},
    }
    assert {m["storageClass"] for m in values["models"]} == {"fast"}


def test_storage_class_env_never_overrides_a_model_or_an_existing_claim() -> None:
    env = {"VLLM_STORAGE_CLASS": "fast"}
    rwx = yaml.safe_load(
        run("generate", "-f", str(FIXTURES / "valid" / "rwx-shared-replicas.yaml"), env=env).stdout
    )
    assert rwx["models"][0]["storageClass"] == "nfs"
    claim = yaml.safe_load(
        run("generate", "-f", str(FIXTURES / "valid" / "existing-claim-rwx.yaml"), env=env).stdout
    )
    assert all("storageClass" not in m for m in claim["models"])


def test_empty_env_values_leave_chart_defaults() -> None:
    values = yaml.safe_load(
        run("generate", "-f", str(MODELS_LIST), env={"VLLM_MODEL_TAG": "", "VLLM_STORAGE_CLASS": ""}).stdout
    )
    assert "image" not in values
    assert all("storageClass" not in m for m in values["models"])


def test_generate_output_file_is_replaced_atomically_and_kept_on_error(tmp_path: Path) -> None:
    out = tmp_path / "values.generated.yaml"
    out.write_text("old\n")
    result = run("generate", "-f", str(MODELS_LIST), "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text() == run("generate", "-f", str(MODELS_LIST)).stdout
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left behind
    bad = tmp_path / "bad.yaml"
    bad.write_text("- name: Bad\n")
    before = out.read_text()
    assert run("generate", "-f", str(bad), "-o", str(out)).exit_code == 1
    assert out.read_text() == before


def test_add_then_remove_round_trips_byte_for_byte(models_file: Path) -> None:
    original = models_file.read_bytes()
    added = run(
        "add-model", "-f", str(models_file), "--yes", "--name", "phi", "--model-url", "microsoft/phi-4",
        "--gpus", "1", "--memory", "24Gi", "--storage", "40Gi", "--max-model-len", "16384", "--replicas", "2",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    text = models_file.read_text()
    assert text.startswith(COMMENTED)
    assert text.endswith(
        "\n- name: phi\n  modelURL: microsoft/phi-4\n  replicaCount: 2\n  requestMemory: 24Gi\n"
        "  requestGPU: 1\n  pvcStorage: 40Gi\n  vllmConfig:\n    maxModelLen: 16384\n"
    )
    removed = run("remove-model", "-f", str(models_file), "phi", "--yes")
    assert removed.exit_code == 0, removed.output
    assert models_file.read_bytes() == original


def test_remove_keeps_the_other_models_comments(models_file: Path) -> None:
    assert run("remove-model", "-f", str(models_file), "llama3", "--yes").exit_code == 0
    assert models_file.read_text() == COMMENTED.replace(
        COMMENTED[COMMENTED.index("# Llama") : COMMENTED.index("# Qwen")], ""
    )


def test_remove_the_last_model_leaves_an_empty_list(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text("- name: a\n  modelURL: org/a\n")
    assert run("remove-model", "-f", str(path), "a", "--yes").exit_code == 0
    assert path.read_text() == "[]\n"
    assert run("validate", "-f", str(path)).exit_code == 0


def test_add_refuses_a_duplicate_name_and_writes_nothing(models_file: Path) -> None:
    before = models_file.read_bytes()
    result = run(
        "add-model", "-f", str(models_file), "--yes", "--name", "qwen", "--model-url", "Qwen/Qwen3-8B"
    )
    assert result.exit_code == 1
    assert result.stderr == f"{models_file}::$[2].name: duplicate model name 'qwen' (first at $[1])\n"
    assert models_file.read_bytes() == before


def test_add_validates_the_result(models_file: Path) -> None:
    flags = ["--name", "big", "--model-url", "a/b", "--gpus", "1", "--tensor-parallel-size", "2"]
    result = run("add-model", "-f", str(models_file), "--yes", *flags)
    assert result.exit_code == 1
    assert "$[2].requestGPU: requestGPU is 1 but vllmConfig.tensorParallelSize" in result.stderr


def test_add_with_yes_needs_name_and_url(models_file: Path) -> None:
    result = run("add-model", "-f", str(models_file), "--yes", "--name", "x")
    assert result.exit_code == 2
    assert "--model-url is required with --yes" in result.stderr


def test_add_interactive_asks_again_after_a_bad_answer(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    answers = "Bad_Name\nmistral\nmistralai/Mistral-7B-Instruct-v0.3\n2\n24GB\n24Gi\n\n8192\ny\n"
    result = run("add-model", "-f", str(path), input=answers)
    assert result.exit_code == 0, result.output
    assert "must be a DNS label" in result.stderr
    assert "'GB' is not a Kubernetes unit" in result.stderr
    assert yaml.safe_load(path.read_text()) == [
        {
            "name": "mistral",
            "modelURL": "mistralai/Mistral-7B-Instruct-v0.3",
            "requestMemory": "24Gi",
            "requestGPU": 2,
            "pvcStorage": "50Gi",
            "vllmConfig": {"maxModelLen": 8192},
        }
    ]


def test_add_declined_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    result = run("add-model", "-f", str(path), "--name", "a", "--model-url", "o/a", input="\n\n\n\nn\n")
    assert result.exit_code == 1  # click's Abort
    assert not path.exists()


def test_add_creates_models_yaml_from_the_example(tmp_path: Path) -> None:
    shutil.copy(REPO_ROOT / "models.example.yaml", tmp_path / "models.example.yaml")
    path = tmp_path / "models.yaml"
    result = run("add-model", "-f", str(path), "--yes", "--name", "phi", "--model-url", "microsoft/phi-4")
    assert result.exit_code == 0, result.output
    assert "created from models.example.yaml" in result.stderr
    assert path.read_text().startswith((REPO_ROOT / "models.example.yaml").read_text())
    assert [m["name"] for m in yaml.safe_load(path.read_text())] == ["llama3", "qwen", "phi"]


def test_init_copies_an_example_once_and_never_overwrites(tmp_path: Path, models_file: Path) -> None:
    created = tmp_path / "elsewhere" / "models.yaml"
    created.parent.mkdir()
    example = REPO_ROOT / "models.example.yaml"
    result = run("init", "-f", str(created), "--example", str(example))
    assert result.exit_code == 0, result.output
    assert created.read_text() == example.read_text()
    assert f"created {created} from {example}" in result.stderr
    before = models_file.read_text()
    assert run("init", "-f", str(models_file), "--example", str(example)).exit_code == 0
    assert models_file.read_text() == before


def test_init_without_an_example_starts_an_empty_list(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    assert run("init", "-f", str(path)).exit_code == 0
    assert yaml.safe_load(path.read_text()) == []


def test_names_are_shell_assignments_the_recipes_can_eval() -> None:
    result = run("names", "--release", "team a")
    assert result.exit_code == 0, result.output
    script = 'eval "$1"; printf "%s|%s|%s" "$ROUTER_MASTER_KEY_SECRET" "$INSTANCE_SELECTOR" "$MODEL_LABEL"'
    shown = subprocess.run(
        ["bash", "-c", script, "-", result.stdout], capture_output=True, text=True, check=True
    ).stdout
    assert shown == "vllm-api-key|app.kubernetes.io/instance=team a|vllm-models.io/model"


def test_remove_unknown_model_is_a_usage_error(models_file: Path) -> None:
    result = run("remove-model", "-f", str(models_file), "nope", "--yes")
    assert result.exit_code == 2
    assert "no model named 'nope'" in result.stderr and "llama3, qwen" in result.stderr


def test_remove_interactive_choice(models_file: Path) -> None:
    result = run("remove-model", "-f", str(models_file), input="qwen\ny\n")
    assert result.exit_code == 0, result.output
    assert [m["name"] for m in yaml.safe_load(models_file.read_text())] == ["llama3"]


def test_list_models_table() -> None:
    result = run("list-models", "-f", str(FIXTURES / "valid" / "replicas-rwo-per-replica-cache.yaml"))
    assert result.stdout.splitlines() == [
        "NAME    MODEL                             GPUS  REPLICAS  MAX LEN        CACHE",
        "llama3  meta-llama/Llama-3.2-3B-Instruct  1     2         model default  50Gi \u00d72 (per replica)",
    ]


def test_list_models_shows_an_autoscaled_models_range_and_what_it_needs_at_the_top() -> None:
    result = run("list-models", "-f", str(FIXTURES / "valid" / "autoscaling-keda-scale-to-zero.yaml"))
    rows = [line.split("  ") for line in result.stdout.splitlines()[1:]]
    cells = [[c.strip() for c in row if c.strip()] for row in rows]
    assert cells[0][2:4] == ["1 NVIDIA-L4 (4 at max)", "1-4 (autoscaled)"]
    assert cells[0][-1] == "50Gi \u00d74 (per replica)"
    assert cells[1][2:4] == ["1 NVIDIA-L4 (2 at max)", "0-2 (autoscaled)"]


def test_preflight_counts_gpus_and_caches_at_max_replicas() -> None:
    path = FIXTURES / "valid" / "autoscaling-keda-scale-to-zero.yaml"
    result = run("preflight", "-f", str(path), "-o", "json")
    llama3, coder = json.loads(result.stdout)["models"]
    assert (llama3["replicas"], llama3["min_replicas"], llama3["gpus_total"]) == (4, 1, 4)
    assert llama3["pvc_total_gib"] == 200.0, "one 50Gi cache per replica at maxReplicas"
    assert (coder["replicas"], coder["min_replicas"], coder["gpus_total"]) == (2, 0, 2)
    table = run("preflight", "-f", str(path)).stdout
    assert "autoscaled 1-4 replicas: at maxReplicas 4 GPUs, weight caches 200 GiB in all" in table


def test_list_models_and_preflight_say_how_many_nodes_a_wide_model_needs() -> None:
    path = FIXTURES / "valid" / "multi-node-two-h100-nodes.yaml"
    listed = run("list-models", "-f", str(path))
    cells = [c.strip() for c in listed.stdout.splitlines()[1].split("  ") if c.strip()]
    assert cells[2] == "16 NVIDIA-H100-80GB-HBM3 (2 nodes \u00d7 8)"
    assert cells[-1] == "500Gi \u00d72 (per pod)", "the leader and the worker each hold the weights"
    result = run("preflight", "-f", str(path), "-o", "json")
    assert result.exit_code == 0, result.output
    (model,) = json.loads(result.stdout)["models"]
    assert (model["nodes"], model["gpus_total"], model["pvc_total_gib"]) == (2, 16, 1000.0)
    table = run("preflight", "-f", str(path)).stdout
    assert "NVIDIA-H100-80GB-HBM3 x16 (2 nodes)" in table
    assert "16 GPUs per replica span 2 nodes of 8 GPUs (gpusPerNode)" in table


def test_generate_writes_the_autoscaling_provider_and_prometheus_and_checks_the_provider(
    tmp_path: Path,
) -> None:
    path = FIXTURES / "valid" / "autoscaling-keda-scale-to-zero.yaml"
    url = "http://prometheus-operated.monitoring.svc:9090"
    result = run("generate", "-f", str(path), "--no-preflight", env={"VLLM_PROMETHEUS_URL": url})
    values = yaml.safe_load(result.stdout)
    assert values["autoscaling"] == {"prometheus": {"serverAddress": url}}
    assert values["models"][0]["autoscaling"] == {
        "enabled": True,
        "maxReplicas": 4,
        "metric": "vllm:num_requests_waiting",
        "minReplicas": 1,
        "target": 5,
    }, "defaults and the metric's target written out"
    refused = run("generate", "-f", str(path), "--no-preflight", "--autoscaling-provider", "hpa")
    assert refused.exit_code == 1 and "$[1].autoscaling.minReplicas: 0 (scale to zero)" in refused.stderr


def test_list_models_json_has_the_effective_settings_scripts_read() -> None:
    result = run(
        "list-models", "-f", str(FIXTURES / "valid" / "replicas-rwo-per-replica-cache.yaml"), "-o", "json"
    )
    (model,) = json.loads(result.stdout)["models"]
    assert (model["name"], model["replicaCount"], model["cacheMode"]) == ("llama3", 2, "per-replica")
    assert model["servedModelName"] == "llama3" and model["requestGPU"] == 1  # defaults applied


def test_list_models_cache_modes() -> None:
    shared = run("list-models", "-f", str(FIXTURES / "valid" / "rwx-shared-replicas.yaml")).stdout
    assert "40Gi (shared, ReadWriteMany)" in shared
    claim = run("list-models", "-f", str(FIXTURES / "valid" / "existing-claim-rwx.yaml")).stdout
    assert "claim shared-weights (shared)" in claim


def test_console_script_runs_as_a_subprocess(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("vllm-models")
    if not script.exists():
        pytest.fail(f"{script} missing: install the package (pip install -e .)")
    ok = subprocess.run([script, "validate", "-f", MODELS_LIST], capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and ok.stdout.endswith("2 model(s), valid\n")
    bad = tmp_path / "models.yaml"
    bad.write_text("models: []\n")
    result = subprocess.run([script, "generate", "-f", bad], capture_output=True, text=True, check=False,
                            env={**os.environ, "VLLM_MODELS_FILE": ""})  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"{bad}::$: expected a list of models, got a mapping")
    assert "Traceback" not in result.stderr


def test_capacity_preflight_errors_and_escape_hatches(tmp_path: Path) -> None:
    source = (FIXTURES / "valid" / "llama70b-fp8-h100-hopper-recipe.yaml").read_text()
    estimated = source.replace("  preflight:\n    reportedKVCacheGiB: 5.11\n", "")
    path = tmp_path / "models.yaml"
    path.write_text(estimated)
    out = tmp_path / "values.yaml"
    for command in ("validate", "generate"):
        result = (
            run(command, "-f", str(path), "-o", str(out))
            if command == "generate"
            else run(command, "-f", str(path))
        )
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(f"{path}::$[0].vllmConfig.maxModelLen: ")
    assert not out.exists()
    assert run("validate", "-f", str(path), "--no-preflight").exit_code == 0
    assert run("validate", "-f", str(path), env={"VLLM_PREFLIGHT": "false"}).exit_code == 0
    path.write_text(estimated + "  preflight:\n    allowUnfit: true\n")
    result = run("validate", "-f", str(path))
    assert result.exit_code == 0, result.output
    assert f"{path}::$[0].vllmConfig.maxModelLen: warning: " in result.stderr


ROUND_TRIP = {
    **{p.name: p.read_text() for p in VALID_FIXTURES if p.name != "empty-list.yaml"},  # flow style: rewritten
    "crlf": "# models\r\n- name: a\r\n  modelURL: o/a\r\n",
    "indented-dashes": "---\n# models\n\n  - name: a\n    modelURL: o/a   # note\n",
}


@pytest.mark.parametrize("text", ROUND_TRIP.values(), ids=ROUND_TRIP.keys())
def test_add_then_remove_round_trips_every_style(tmp_path: Path, text: str) -> None:
    path = tmp_path / "models.yaml"
    path.write_bytes(text.encode())
    flags = ["--name", "zz-new", "--model-url", "o/new", "--max-model-len", "4096"]
    assert run("add-model", "-f", str(path), "--yes", *flags).exit_code == 0
    assert run("validate", "-f", str(path), "--no-preflight").exit_code == 0
    assert run("remove-model", "-f", str(path), "zz-new", "--yes").exit_code == 0
    assert path.read_bytes() == text.encode()


def test_generate_refuses_an_empty_list(tmp_path: Path) -> None:
    empty = FIXTURES / "valid" / "empty-list.yaml"
    assert run("validate", "-f", str(empty)).exit_code == 0
    result = run("generate", "-f", str(empty))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{empty}::$: no models to deploy (the chart needs at least one)")


@pytest.mark.parametrize("name", ["n", "y", "1e3", "0o17"])
def test_generated_values_quote_names_helm_would_read_as_booleans_or_numbers(
    name: str, tmp_path: Path
) -> None:
    """Helm's YAML reader takes a bare `n` for false and `1e3` for 1000; the chart wants the name as text."""
    models = tmp_path / "models.yaml"
    models.write_text(f"- name: '{name}'\n  modelURL: org/model\n")
    result = CliRunner().invoke(cli, ["generate", "-f", str(models), "--no-preflight"])
    assert result.exit_code == 0, result.output
    assert f"- name: '{name}'\n" in result.stdout and f"  servedModelName: '{name}'\n" in result.stdout
