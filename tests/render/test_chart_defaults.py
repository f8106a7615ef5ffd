"""The chart alone and `vllm-models generate` start from the same defaults and apply the same rules:
models written by hand render exactly as the generator's expansion of them."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from render_helpers import CHART, NAMESPACE, RELEASE, REPO_ROOT
from vllm_models import schema
from vllm_models.expand import expand_models
from vllm_models.validate import problems_of
from vllm_models.values import ChartOptions, chart_values

pytestmark = pytest.mark.render

# what every release sets beside its models (the router's key, the Prometheus of KEDA's triggers), the
# same on both sides
CHART_WIDE = {
    "router": {"auth": {"masterKey": {"existingSecret": "router-master-key"}}},
    "autoscaling": {"prometheus": {"serverAddress": "http://prometheus:9090"}},
}
VALID_MODELS = sorted((REPO_ROOT / "tests" / "fixtures" / "models" / "valid").glob("*.yaml"))


def models_of(path: Path) -> list[dict[str, Any]]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded if isinstance(loaded, list) else []


@pytest.mark.parametrize("path", [p for p in VALID_MODELS if models_of(p)], ids=lambda p: p.stem)
def test_raw_and_generated_models_render_the_same_objects(render, path: Path) -> None:
    models = models_of(path)
    raw = render({**CHART_WIDE, "models": models})
    generated = render({**CHART_WIDE, **chart_values(models, ChartOptions())})
    assert raw.returncode == 0, raw.stderr
    assert generated.returncode == 0, generated.stderr
    assert raw.objects == generated.objects


SIZES = (None, 0, 1, 2, 4)


def parallelism_case(request: int | None, tp: int | None, pp: int | None) -> dict[str, Any]:
    model: dict[str, Any] = {"name": "m", "modelURL": "org/m", "vllmConfig": {}}
    if request is not None:
        model["requestGPU"] = request
    for key, value in (("tensorParallelSize", tp), ("pipelineParallelSize", pp)):
        if value is not None:
            model["vllmConfig"][key] = value
    return model


def test_chart_and_generator_accept_the_same_parallelism(helm: str, tmp_path: Path) -> None:
    """For every requestGPU x tensorParallelSize x pipelineParallelSize, the chart renders exactly the
    shapes the generator accepts, and with the same GPUs and sizes."""
    cases = [
        parallelism_case(r, t, p)
        for r, t, p in itertools.product(SIZES, SIZES[:1] + SIZES[2:], SIZES[:1] + SIZES[2:4])
    ]
    disagreements = []
    for number, model in enumerate(cases):
        values = tmp_path / f"case-{number}.yaml"
        values.write_text(yaml.safe_dump({**CHART_WIDE, "models": [model]}), encoding="utf-8")
        proc = subprocess.run(
            [
                helm,
                "template",
                RELEASE,
                str(CHART),
                "-n",
                NAMESPACE,
                "-f",
                str(values),
                "-s",
                "templates/model/deployment.yaml",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        generator_accepts = not problems_of([model])
        if (proc.returncode == 0) != generator_accepts:
            disagreements.append(
                f"{model}: chart {'renders' if proc.returncode == 0 else 'fails'}, "
                f"generator {'accepts' if generator_accepts else 'refuses'}: {proc.stderr.strip()}"
            )
            continue
        if generator_accepts:
            deployment = yaml.safe_load(proc.stdout)
            container = deployment["spec"]["template"]["spec"]["containers"][-1]
            expanded = expand_models([model])[0]
            gpus = container["resources"].get("requests", {}).get("nvidia.com/gpu", "0")
            tp_flags = [a for a in container["args"] if a.startswith("--tensor-parallel-size=")]
            expected_tp = expanded["vllmConfig"].get("tensorParallelSize")
            if int(gpus) != expanded["requestGPU"] or tp_flags != (
                [f"--tensor-parallel-size={expected_tp}"] if expected_tp else []
            ):
                disagreements.append(f"{model}: chart {gpus} GPUs {tp_flags}, generator {expanded}")
    assert not disagreements, "\n".join(disagreements)


def test_a_schema_default_reaches_chart_and_generator_together(
    helm: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Change one default in schemas/models.schema.json, regenerate: the chart's PVC and the
    generator's values both carry the new size."""
    for part in ("charts", "schemas", "hack/lib"):
        shutil.copytree(REPO_ROOT / part, tmp_path / part)
    shutil.copy(REPO_ROOT / "hack" / "generate-chart-schema", tmp_path / "hack")
    models_schema = json.loads((tmp_path / "schemas" / "models.schema.json").read_text(encoding="utf-8"))
    models_schema["$defs"]["model"]["properties"]["pvcStorage"]["default"] = "77Gi"
    (tmp_path / "schemas" / "models.schema.json").write_text(json.dumps(models_schema), encoding="utf-8")
    regenerate = subprocess.run(
        [sys.executable, str(tmp_path / "hack" / "generate-chart-schema")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert regenerate.returncode == 0, regenerate.stderr
    model = {"name": "llama3", "modelURL": "meta-llama/Llama-3.2-3B-Instruct"}
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({**CHART_WIDE, "models": [model]}), encoding="utf-8")
    proc = subprocess.run(
        [
            helm,
            "template",
            RELEASE,
            str(tmp_path / "charts" / "vllm-models"),
            "-n",
            NAMESPACE,
            "-f",
            str(values),
            "-s",
            "templates/model/pvc.yaml",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert yaml.safe_load(proc.stdout)["spec"]["resources"]["requests"]["storage"] == "77Gi"
    monkeypatch.setattr(schema, "models_schema", lambda: models_schema)
    assert expand_models([model])[0]["pvcStorage"] == "77Gi"


def test_default_litellm_runs_one_worker_per_requested_cpu(render) -> None:
    """LiteLLM is CPU-bound (bench/router_overhead.py): a CPU request below its worker count throttles
    the workers, one above it pays for idle CPUs. A worker that imports LiteLLM on a busy node must not
    be killed by uvicorn's 5 s health check, which restarts it forever."""
    r = render({"models": [{"name": "llama3", "modelURL": "meta-llama/Llama-3.2-3B-Instruct"}], **CHART_WIDE})
    assert r.returncode == 0, r.stderr
    (router,) = [
        d
        for d in r.of_kind("Deployment")
        if d["metadata"]["labels"]["app.kubernetes.io/component"] == "router"
    ]
    (container,) = router["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    workers = int(args[args.index("--num_workers") + 1])
    assert workers > 1, "a single worker serves one request's Python at a time"
    assert float(container["resources"]["requests"]["cpu"]) == workers
    assert int(args[args.index("--timeout_worker_healthcheck") + 1]) >= 30


@pytest.mark.parametrize(
    ("cpu", "workers", "warned"), [("2", 2, False), ("1500m", 2, True), ("500m", 1, True), ("4", 2, False)]
)
def test_notes_warn_when_litellm_has_fewer_cpus_than_workers(
    helm: str, tmp_path: Path, cpu: str, workers: int, warned: bool
) -> None:
    values = {
        "models": [{"name": "llama3", "modelURL": "meta-llama/Llama-3.2-3B-Instruct"}],
        "router": {
            **CHART_WIDE["router"],
            "litellm": {"numWorkers": workers},
            "resources": {"requests": {"cpu": cpu}},
        },
    }
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    proc = subprocess.run(
        [helm, "install", RELEASE, str(CHART), "-n", NAMESPACE, "--dry-run=client", "-f", str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    notes = proc.stdout.split("NOTES:", 1)[1]
    assert (f"runs {workers} LiteLLM worker(s) on a request of {cpu} CPU" in notes) is warned, notes


def test_litellm_without_metrics_drops_the_prometheus_callback_and_its_service_monitor(render) -> None:
    models = [{"name": "llama3", "modelURL": "meta-llama/Llama-3.2-3B-Instruct"}]
    for metrics in (True, False):
        router = {**CHART_WIDE["router"], "litellm": {"metrics": metrics}}
        r = render({"models": models, "router": router, "serviceMonitor": {"enabled": True}})
        assert r.returncode == 0, r.stderr
        (config,) = [cm for cm in r.of_kind("ConfigMap") if "config.yaml" in cm.get("data", {})]
        callbacks = yaml.safe_load(config["data"]["config.yaml"])["litellm_settings"]["callbacks"]
        # the hooks that make unknown models 404 and unreachable engines 503 stay either way
        assert callbacks[-2:] == [
            "vllm_models_hooks.unknown_model_guard",
            "vllm_models_hooks.engine_failure_status",
        ]
        assert ("prometheus" in callbacks) is metrics
        monitors = [m["metadata"]["name"] for m in r.of_kind("ServiceMonitor")]
        assert ("vllm-models-router" in monitors) is metrics, monitors
        assert "vllm-models-llama3" in monitors, "the engines' metrics are vLLM's own"
