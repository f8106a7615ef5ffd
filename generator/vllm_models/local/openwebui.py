"""Open WebUI as the chart renders it, run on loopback in front of the release's router.

The container runs as the real Open WebUI (the `open-webui` package at the release its image runs, from
the venv hack/open-webui-venv builds) with exactly its rendered environment, Secrets resolved. Two
rewrites only: the router Service's address becomes the loopback URL of the router already running
(manifest.to_loopback), and a path under a volume mount (`DATA_DIR`) becomes a directory of the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vllm_models.local.manifest import LocalRunError, Release, selects, to_loopback
from vllm_models.local.processes import Proc, answers, free_port, wait_until
from vllm_models.local.stack import base_env
from vllm_models.names import OPEN_WEBUI_COMPONENT, ROUTER_COMPONENT

# A first start runs about 100 database migrations before the port opens (20 to 40 s on 2 busy cores).
STARTUP_TIMEOUT = 240.0
# `open-webui serve`, the package's own entry point, without the console script (which hard-codes the
# directory its venv was built in). An audit hook first writes the address of every outgoing connection
# the process opens, one per line, to the file named by argv[1]: what a boot without the internet means
# is checked on what the process did, not on its settings.
SERVE = """
import sys
log = open(sys.argv.pop(1), "a", buffering=1)
sys.addaudithook(lambda event, args: log.write(f"{args[1]!r}\\n") if event == "socket.connect" else None)
from open_webui import app
app()
"""


@dataclass
class OpenWebUI:
    url: str
    proc: Proc
    env: dict[str, str]  # the environment it runs with, after the rewrites
    data_dir: Path  # the local directory behind the data volume
    connections: Path  # every address the process connected to, one repr per line
    boot_connections: list[str]  # those it opened until /health first answered

    def connected_to(self) -> list[str]:
        return self.connections.read_text().splitlines()


def open_webui_pod(release: Release) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pod spec, container) of the Open WebUI Deployment."""
    return release.single_container_pod(OPEN_WEBUI_COMPONENT, "Open WebUI")


def router_service_urls(release: Release, router_url: str) -> dict[tuple[str, str, int], str]:
    """(service, namespace, port) of each Service that reaches the router pods on their `http` port ->
    the URL of the router running on loopback."""
    (router,) = release.component("Deployment", ROUTER_COMPONENT)
    labels = router["spec"]["template"]["metadata"]["labels"]
    out = {}
    for svc in release.component("Service", ROUTER_COMPONENT):
        if not selects(svc["spec"]["selector"], labels):
            continue
        for p in svc["spec"]["ports"]:
            if p["targetPort"] == "http":
                out[(svc["metadata"]["name"], svc["metadata"]["namespace"], int(p["port"]))] = router_url
    return out


def local_mounts(container: dict[str, Any], root: Path) -> dict[str, Path]:
    """mountPath -> a fresh local directory under `root`, for every volume the container mounts."""
    out = {}
    for mount in container.get("volumeMounts") or []:
        local = root / mount["mountPath"].lstrip("/")
        local.mkdir(parents=True, exist_ok=True)
        out[mount["mountPath"]] = local
    return out


def to_local_path(value: str, mounts: dict[str, Path]) -> str:
    for path in sorted(mounts, key=len, reverse=True):
        if value == path or value.startswith(path + "/"):
            return str(mounts[path]) + value[len(path) :]
    return value


def open_webui_env(release: Release, router_url: str, mounts: dict[str, Path], home: Path) -> dict[str, str]:
    """The rendered environment with the router's Service address on loopback and mount paths local."""
    _, container = open_webui_pod(release)
    urls = router_service_urls(release, router_url)
    rendered = release.env(container)
    env = {k: to_local_path(to_loopback(v, urls), mounts) for k, v in rendered.items()}
    # What the image gives every process and the chart does not set: a home directory.
    return {**base_env(), "HOME": str(home), **env}


def start_open_webui(
    release: Release,
    router_url: str,
    python: str,
    workdir: Path,
    procs: list[Proc],
    port: int | None = None,
) -> OpenWebUI:
    """Start Open WebUI in front of the router at `router_url`; appended to `procs` as soon as it runs."""
    _, container = open_webui_pod(release)
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
    if "http" not in ports:
        raise LocalRunError(f"the Open WebUI container has no port named http: {ports}")
    mounts = local_mounts(container, workdir / "open-webui-root")
    home = workdir / "open-webui-home"
    home.mkdir(parents=True, exist_ok=True)
    env = open_webui_env(release, router_url, mounts, home)
    data_dir = env.get("DATA_DIR", "")
    if not any(data_dir == str(p) for p in mounts.values()):
        raise LocalRunError(f"DATA_DIR {data_dir!r} is not a volume the container mounts: {sorted(mounts)}")
    port = port or free_port()
    connections = workdir / "open-webui-connections.txt"
    connections.touch()
    argv = [python, "-c", SERVE, str(connections), "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = Proc("open-webui", argv, env, workdir / "open-webui.log", cwd=workdir)
    procs.append(proc)
    proc.start()
    url = f"http://127.0.0.1:{port}"
    wait_until("Open WebUI /health", lambda: answers(f"{url}/health"), STARTUP_TIMEOUT, proc)
    return OpenWebUI(url, proc, env, Path(data_dir), connections, connections.read_text().splitlines())
