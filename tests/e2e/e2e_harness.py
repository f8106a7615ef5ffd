"""The e2e tier's machinery: render the chart, run what it renders on loopback, always clean up.

A `Release` is the parsed output of `helm template`. From it the tier takes, unchanged:
- per model, the engine pod as rendered (served model name, API port, engine API key from the rendered
  Secret), run as one simulated engine (tests/sim/engine.py) on a free loopback port;
- the router container (arguments, environment resolved like the kubelet does, ConfigMap files at their
  mount paths), run as the real router binary from .venv.
The only rewrites are addresses: `<service>.<namespace>.svc.cluster.local:<port>` becomes the loopback
port of the engine behind that Service, and the router's own listen address becomes loopback.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support import REPO_ROOT, free_port

VALUES = Path(__file__).with_name("values.yaml")
CHART = REPO_ROOT / "charts" / "vllm-models"
VENV_BIN = REPO_ROOT / ".venv" / "bin"
RELEASE = "vllm-models"
NAMESPACE = "vllm"
SERVICE_URL = re.compile(r"http://([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)")


@dataclass
class Release:
    objects: list[dict[str, Any]]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def component(self, kind: str, component: str) -> list[dict[str, Any]]:
        return [
            o
            for o in self.of_kind(kind)
            if o["metadata"]["labels"].get("app.kubernetes.io/component") == component
        ]

    def engine_workloads(self) -> dict[str, dict[str, Any]]:
        """Model name -> its Deployment or StatefulSet."""
        out = {}
        for o in self.objects:
            labels = o["metadata"]["labels"]
            if (
                o["kind"] in ("Deployment", "StatefulSet")
                and labels.get("app.kubernetes.io/component") == "engine"
            ):
                out[labels["vllm-models.io/model"]] = o
        return out

    def router_container(self) -> dict[str, Any]:
        (dep,) = self.component("Deployment", "router")
        (container,) = dep["spec"]["template"]["spec"]["containers"]
        return dict(container)

    def secret_value(self, name: str, key: str) -> str:
        for s in self.of_kind("Secret"):
            if s["metadata"]["name"] == name:
                return base64.b64decode(s["data"][key]).decode()
        raise AssertionError(f"Secret {name} is referenced but not rendered (an existingSecret?)")

    def env(self, container: dict[str, Any]) -> dict[str, str]:
        """The container's environment as the kubelet would set it (values and rendered Secrets)."""
        env: dict[str, str] = {}
        for e in container.get("env") or []:
            if "value" in e:
                env[e["name"]] = expand(str(e["value"]), env)
            elif "secretKeyRef" in (e.get("valueFrom") or {}):
                ref = e["valueFrom"]["secretKeyRef"]
                env[e["name"]] = self.secret_value(ref["name"], ref["key"])
            else:
                raise AssertionError(f"env {e['name']}: unsupported source {e.get('valueFrom')}")
        return env

    def config_map_files(self, container: dict[str, Any], pod: dict[str, Any]) -> dict[str, str]:
        """mountPath/key -> content of every ConfigMap volume the container mounts."""
        maps = {c["metadata"]["name"]: c.get("data") or {} for c in self.of_kind("ConfigMap")}
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        files = {}
        for mount in container.get("volumeMounts") or []:
            cm = volumes[mount["name"]].get("configMap")
            if cm:
                for key, text in maps[cm["name"]].items():
                    files[f"{mount['mountPath']}/{key}"] = text
        return files


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes `$(VAR)` expansion in args and env values (unknown references stay as written)."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), text)


def helm_template(helm: str, values: list[Path], *sets: str) -> Release:
    cmd = [helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    for v in values:
        cmd += ["-f", str(v)]
    for s in sets:
        cmd += ["--set", s]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"helm template failed: {proc.stderr}")
    return Release([d for d in yaml.safe_load_all(proc.stdout) if d])


@dataclass
class Proc:
    """A child process in its own process group, stopped with everything it started."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        logf = self.log.open("ab")
        self.popen = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=REPO_ROOT,
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        logf.close()
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self) -> None:
        if self.popen is None:
            return
        pgid = self.popen.pid  # start_new_session: the child leads its own group
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                self.popen.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        self.popen = None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def wait_until(what: str, check: Callable[[], bool], timeout: float, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise AssertionError(f"{proc.name} exited while waiting for {what}:\n{proc.tail()}")
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    tail = f"\n{proc.name} log:\n{proc.tail()}" if proc else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{tail}")


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

    @property
    def engine_id(self) -> str:
        return f"sim-{self.model}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        argv = [
            sys.executable,
            "-m",
            "tests.sim.engine",
            "--port",
            str(self.port),
            "--model",
            self.served_name,
            "--engine-id",
            self.engine_id,
        ]
        if self.api_key:
            argv += ["--api-key", self.api_key]
        self.proc = Proc(
            self.engine_id, argv, dict(os.environ), self.log_dir / f"{self.engine_id}.log"
        ).start()
        wait_until(
            f"{self.engine_id} /health",
            lambda: httpx.get(f"{self.url}/health", timeout=1).status_code == 200,
            15,
            self.proc,
        )

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


def engines_from(release: Release, log_dir: Path) -> dict[str, Engine]:
    """One simulated engine per rendered model workload, configured from its pod template."""
    out = {}
    for model, workload in release.engine_workloads().items():
        pod = workload["spec"]["template"]["spec"]
        container = next(c for c in pod["containers"] if c["name"] == "vllm")
        args = container.get("args") or []
        served = [a.split("=", 1)[1] for a in args if a.startswith("--served-model-name=")]
        assert served, f"{model}: no --served-model-name in {args}"
        ports = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
        env = release.env(container)
        out[model] = Engine(
            model, served[0], int(ports["http"]), env.get("VLLM_API_KEY", ""), free_port(), log_dir
        )
    return out


def service_map(release: Release, engines: dict[str, Engine]) -> dict[tuple[str, str, int], Engine]:
    """(service, namespace, port) of each rendered engine Service -> the engine that serves it.

    A Service reaches a model's pods when its selector matches the pod template and its targetPort names
    (or numbers) a port of the engine container; only such a pair is mapped.
    """
    workloads = release.engine_workloads()
    out = {}
    for svc in release.component("Service", "engine"):
        selector = svc["spec"]["selector"]
        for model, w in workloads.items():
            labels = w["spec"]["template"]["metadata"]["labels"]
            if not all(labels.get(k) == v for k, v in selector.items()):
                continue
            engine = engines[model]
            for p in svc["spec"]["ports"]:
                if p["targetPort"] in ("http", engine.container_port):
                    out[(svc["metadata"]["name"], svc["metadata"]["namespace"], int(p["port"]))] = engine
    return out


def to_loopback(text: str, services: dict[tuple[str, str, int], Engine]) -> str:
    """Service DNS addresses -> loopback addresses; an address no rendered Service serves is an error."""

    def sub(m: re.Match[str]) -> str:
        key = (m.group(1), m.group(2), int(m.group(3)))
        if key not in services:
            known = sorted(f"{n}.{ns}:{p}" for n, ns, p in services)
            raise AssertionError(
                f"router config points at {m.group(0)}, which no rendered Service serves: {known}"
            )
        return services[key].url

    return SERVICE_URL.sub(sub, text)


@dataclass
class Router:
    engine: str
    url: str
    key: str  # master key clients send ("" when auth is off)
    proc: Proc
    engines: dict[str, Engine]
    release: Release
    notes: dict[str, Any] = field(default_factory=dict)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}


def model_id(router: Router, model: str) -> str:
    """The model id a client sends: the model's `name` for LiteLLM (its model_list maps it to the
    engine's served name); the engine's served name for vllm-router, which routes by what each engine
    reports on /v1/models and has no aliases."""
    return model if router.engine == "litellm" else router.engines[model].served_name


def replace_flag(args: list[str], flag: str, value: str) -> list[str]:
    """`--flag X` or `--flag=X` -> the same flag with `value`; the flag must be present."""
    out, i, found = [], 0, False
    while i < len(args):
        a = args[i]
        if a == flag:
            out += [a, value]
            i, found = i + 2, True
            continue
        if a.startswith(flag + "="):
            out.append(f"{flag}={value}")
            found = True
        else:
            out.append(a)
        i += 1
    assert found, f"{flag} not in rendered args {args}"
    return out


def take_flag(args: list[str], flag: str) -> tuple[list[str], list[str]]:
    """Remove `flag` and the values after it (up to the next `--option`); return (rest, values)."""
    if flag not in args:
        return args, []
    i = args.index(flag)
    j = i + 1
    while j < len(args) and not args[j].startswith("--"):
        j += 1
    return args[:i] + args[j:], args[i + 1 : j]
