"""Start a rendered release on loopback: one simulated engine per model, then the rendered router.

Per model, the engine pod as rendered (served model name, API port, engine API key) runs as one
simulated engine (simengine.py) on a free loopback port. The router container runs as the real router
binary (installed from PyPI at the version its image runs) with its rendered arguments, environment and
ConfigMap files; only addresses are rewritten (manifest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from vllm_models.local.manifest import (
    LocalRunError,
    Release,
    expand,
    replace_flag,
    selects,
    service_targets,
    take_flag,
    to_loopback,
)
from vllm_models.local.processes import Proc, answers, free_port, wait_until
from vllm_models.names import ROUTER_COMPONENT

STARTUP_TIMEOUT = 90.0
# What a router process may inherit from the caller's environment; everything else comes from the chart.
INHERITED_ENV = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE")


@dataclass
class Engine:
    """One model's engine pod, as rendered, run as a simulated engine on a loopback port."""

    model: str
    served_name: str
    container_port: int
    api_key: str
    port: int
    log_dir: Path
    proc: Proc | None = None
    token_interval: float = 0.0  # seconds between streamed tokens: shows whether a router buffers
    lora_modules: list[str] = field(default_factory=list)  # rendered `--lora-modules` items, name=path

    @property
    def engine_id(self) -> str:
        return f"sim-{self.model}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def adapters(self) -> list[str]:
        """The LoRA adapter names the engine serves besides its model."""
        return [m.split("=", 1)[0] for m in self.lora_modules]

    def start(self) -> None:
        argv = [sys.executable, "-m", "vllm_models.local.simengine", "--port", str(self.port)]
        argv += ["--model", self.served_name, "--engine-id", self.engine_id]
        if self.api_key:
            argv += ["--api-key", self.api_key]
        if self.token_interval:
            argv += ["--token-interval", str(self.token_interval)]
        if self.lora_modules:
            argv += ["--lora-modules", *self.lora_modules]
        log = self.log_dir / f"{self.engine_id}.log"
        # Known to the caller before it runs: an interrupt right after the start still stops it.
        self.proc = Proc(self.engine_id, argv, base_env(), log)
        self.proc.start()
        wait_until(f"{self.engine_id} /health", lambda: answers(f"{self.url}/health", 1), 15, self.proc)

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()

    def set_delay(self, seconds: float) -> None:
        """Make every completion wait `seconds` before it answers (0: at once), while the engine runs."""
        request = urllib.request.Request(
            f"{self.url}/sim/delay",
            data=json.dumps({"seconds": seconds}).encode(),
            headers={"Content-Type": "application/json"},
            method="PUT",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()


@dataclass
class Router:
    engine: str  # the router's binary: litellm, vllm-router (or sglang-router, in the router bench)
    url: str
    key: str  # the key clients send ("" when auth is off)
    proc: Proc
    engines: dict[str, Engine]
    release: Release
    notes: dict[str, Any] = field(default_factory=dict)
    readiness_command: list[str] = field(default_factory=list)  # the rendered exec probe, run locally

    def probe_readiness(self) -> subprocess.CompletedProcess[str]:
        """Run the router's rendered readiness exec probe as the kubelet would (exit 0: Ready)."""
        if not self.readiness_command:
            raise LocalRunError("the router's readiness probe is not an exec probe")
        return subprocess.run(self.readiness_command, capture_output=True, text=True, timeout=60, check=False)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}

    def model_id(self, model: str) -> str:
        """The id a client sends: the model's `name` for LiteLLM (its model_list maps it to the engine's
        served name); the served name for vllm-router, which routes by what each engine reports on
        /v1/models and has no aliases."""
        return model if self.engine == "litellm" else self.engines[model].served_name


# Engines already running, by model (None: start a simulated engine per rendered model).
Engines: TypeAlias = dict[str, Engine] | None


def base_env() -> dict[str, str]:
    return {k: os.environ[k] for k in INHERITED_ENV if k in os.environ}


def engines_from(release: Release, log_dir: Path) -> dict[str, Engine]:
    """One simulated engine per rendered model workload, configured from its pod template."""
    out = {}
    for model, workload in release.engine_workloads().items():
        pod = workload["spec"]["template"]["spec"]
        container = next(c for c in pod["containers"] if c["name"] == "vllm")
        args = [str(a) for a in container.get("args") or []]
        served = [a.split("=", 1)[1] for a in args if a.startswith("--served-model-name=")]
        if not served:
            raise LocalRunError(f"{model}: no --served-model-name in {args}")
        ports = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
        env = release.env(container)
        _, lora = take_flag(args, "--lora-modules")
        out[model] = Engine(
            model, served[0], int(ports["http"]), env.get("VLLM_API_KEY", ""), free_port(), log_dir,
            lora_modules=lora,
        )  # fmt: skip
    return out


def loopback_urls(release: Release, engines: dict[str, Engine]) -> dict[tuple[str, str, int], str]:
    ports = {m: e.container_port for m, e in engines.items()}
    return {k: engines[m].url for k, m in service_targets(release, ports).items()}


def local_config_files(
    release: Release,
    pod: dict[str, Any],
    container: dict[str, Any],
    root: Path,
    urls: dict[tuple[str, str, int], str],
) -> Callable[[str], str]:
    """Write the container's ConfigMap files under `root` (Service addresses mapped to loopback) and
    return the function that maps a path inside the pod to its local copy."""
    files = release.config_map_files(container, pod)
    for path, text in files.items():
        local = root / path.lstrip("/")
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_text(to_loopback(text, urls))
    # ConfigMap mounts only; each argument is rewritten once (the local root may lie under /tmp).
    mounts = sorted({p.rsplit("/", 1)[0] for p in files}, key=len, reverse=True)

    def local_path(arg: str) -> str:
        for mount in mounts:
            if arg == mount or arg.startswith(mount + "/"):
                return str(root / mount.lstrip("/")) + arg[len(mount) :]
        return arg

    return local_path


def readiness_command(container: dict[str, Any], local_path: Callable[[str], str]) -> list[str]:
    """The container's exec readiness probe with local paths; the image's python3 is this interpreter."""
    command = [
        str(a) for a in ((container.get("readinessProbe") or {}).get("exec") or {}).get("command") or []
    ]
    if command[:1] == ["python3"]:
        command[0] = sys.executable
    return [local_path(a) for a in command]


def router_binary(bin_dir: Path, name: str) -> str:
    path = bin_dir / name
    if not path.exists():
        raise LocalRunError(f"missing {path}: run ./hack/bootstrap (installs the router from PyPI)")
    return str(path)


def start_litellm(
    release: Release, workdir: Path, procs: list[Proc | Engine], bin_dir: Path, port: int, engines: Engines
) -> Router:
    engines = engines or start_engines(release, workdir, procs)
    urls = loopback_urls(release, engines)
    pod, container = release.router_pod()
    binary = router_binary(bin_dir, container["command"][0])
    local_path = local_config_files(release, pod, container, workdir / "router-root", urls)
    args = [local_path(str(a)) for a in container.get("args") or []]
    args = replace_flag(replace_flag(args, "--host", "127.0.0.1"), "--port", str(port))
    env = {**base_env(), **release.env(container)}
    env["HOME"] = str(workdir / "home")  # the chart's HOME=/tmp is an emptyDir in the pod
    # The pod's /tmp is its own: with several workers LiteLLM keeps (and wipes at start) its prometheus
    # samples in <tmp>/litellm_prometheus_multiproc, which two local routers must not share.
    env["TMPDIR"] = str(workdir / "tmp")
    Path(env["TMPDIR"]).mkdir(parents=True, exist_ok=True)
    proc = Proc("litellm", [binary, *[expand(a, env) for a in args]], env, workdir / "litellm.log")
    procs.append(proc)
    proc.start()
    url = f"http://127.0.0.1:{port}"
    router = Router("litellm", url, env.get("LITELLM_MASTER_KEY", ""), proc, engines, release)
    router.readiness_command = readiness_command(container, local_path)
    wait_until(
        "LiteLLM /health/liveliness", lambda: answers(f"{url}/health/liveliness"), STARTUP_TIMEOUT, proc
    )
    return router


def start_vllm_router(
    release: Release, workdir: Path, procs: list[Proc | Engine], bin_dir: Path, port: int, engines: Engines
) -> Router:
    """vllm-router, or sglang-router (the model gateway vllm-router was forked from, same flags) when the
    container's command names it: the router bench runs it with vllm-router's rendered arguments."""
    engines = engines or start_engines(release, workdir, procs)
    pod, container = release.router_pod()
    name = container["command"][0]
    binary = router_binary(bin_dir, name)
    local_path = local_config_files(
        release, pod, container, workdir / "router-root", loopback_urls(release, engines)
    )
    env = {**base_env(), **release.env(container)}
    rendered = [str(a) for a in container.get("args") or []]
    args = [expand(a, env) for a in rendered]
    # Kubernetes pod discovery is the one part that needs a cluster. Check that the rendered discovery
    # would find exactly the engine pods on their API port, then do what the discovery loop does for
    # each Ready pod: register http://<pod>:<port> with the router (here the pod is a loopback engine).
    args, _ = take_flag(args, "--service-discovery")
    discovered: list[Engine] = []
    if "--service-discovery" in rendered:
        args, selector = take_flag(args, "--selector")
        args, (disc_port,) = take_flag(args, "--service-discovery-port")
        args, (disc_ns,) = take_flag(args, "--service-discovery-namespace")
        wanted = dict(s.split("=", 1) for s in selector)
        (router_deployment,) = release.component("Deployment", ROUTER_COMPONENT)
        if disc_ns != router_deployment["metadata"]["namespace"]:
            raise LocalRunError(f"discovery watches namespace {disc_ns}, not the release's")
        if selects(wanted, router_deployment["spec"]["template"]["metadata"]["labels"]):
            raise LocalRunError(f"the discovery selector {wanted} matches the router itself")
        for model, w in release.engine_workloads().items():
            if not selects(wanted, w["spec"]["template"]["metadata"]["labels"]):
                raise LocalRunError(f"discovery selector {wanted} misses {model}'s pods")
            if int(disc_port) != engines[model].container_port:
                listens = engines[model].container_port
                raise LocalRunError(f"discovery port {disc_port}, but {model}'s engine listens on {listens}")
            discovered.append(engines[model])
    else:
        urls = loopback_urls(release, engines)
        args = [to_loopback(a, urls) for a in args]
    metrics = free_port()
    args = replace_flag(replace_flag(args, "--host", "127.0.0.1"), "--port", str(port))
    args = replace_flag(
        replace_flag(args, "--prometheus-host", "127.0.0.1"), "--prometheus-port", str(metrics)
    )
    # sglang-router's --api-key is both the key clients must send and the one it sends to the engines.
    key = take_flag(list(args), "--api-key")[1] if name == "sglang-router" else []
    subcommand = ["launch"] if name == "sglang-router" else []
    proc = Proc(name, [binary, *subcommand, *args], env, workdir / f"{name}.log")
    procs.append(proc)
    proc.start()
    url = f"http://127.0.0.1:{port}"
    router = Router(name, url, key[0] if key else "", proc, engines, release, {"metrics_port": metrics})
    router.readiness_command = readiness_command(container, local_path)
    wait_until(f"{name} /liveness", lambda: answers(f"{url}/liveness"), STARTUP_TIMEOUT, proc)
    headers = {"Content-Type": "application/json", **router.headers()}
    for worker in discovered:
        body: dict[str, str] = {"url": worker.url}
        if name == "sglang-router":
            # Left to itself it registers a vLLM engine as model `unknown` and routes nothing to it.
            body["model_id"] = worker.served_name
        request = urllib.request.Request(f"{url}/workers", json.dumps(body).encode(), headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            if not 200 <= response.status < 300:
                raise LocalRunError(f"registering {worker.url}: {response.status}")

    def all_models_known() -> bool:
        request = urllib.request.Request(f"{url}/workers", headers=router.headers())
        with urllib.request.urlopen(request, timeout=2) as response:
            workers = json.load(response)["workers"]
        if not discovered:  # single-model mode (--worker-urls) does not read model ids: "unknown"
            return len([w for w in workers if w["is_healthy"]]) == len(engines)
        return {w["model_id"] for w in workers} >= {e.served_name for e in engines.values()}

    wait_until(f"{name} to know every engine", all_models_known, 30, proc)
    return router


def start_engines(release: Release, workdir: Path, procs: list[Proc | Engine]) -> dict[str, Engine]:
    engines = engines_from(release, workdir)
    for e in engines.values():
        procs.append(e)
        e.start()
    return engines


def start_router(
    release: Release,
    workdir: Path,
    procs: list[Proc | Engine],
    bin_dir: Path,
    port: int | None = None,
    engines: Engines = None,
) -> Router:
    """The release's router (whichever the chart rendered) with its engines: simulated ones it starts, or
    `engines` already running (a real vLLM). Every process it starts is appended to `procs` as soon as it
    runs, so the caller can stop them even when the start failed."""
    _, container = release.router_pod()
    runners: dict[str, Callable[[Release, Path, list[Proc | Engine], Path, int, Engines], Router]] = {
        "litellm": start_litellm,
        "vllm-router": start_vllm_router,
        "sglang-router": start_vllm_router,
    }
    start = runners.get(container["command"][0])
    if start is None:
        raise LocalRunError(f"no local runner for router command {container['command']}")
    return start(release, workdir, procs, bin_dir, port or free_port(), engines)
