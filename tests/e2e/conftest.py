"""e2e tier fixtures: the chart's router, as rendered, against one simulated engine per model.

`router` is parametrized over the router engines (`litellm`, `vllm-router`) and shared by the tests of a
module: LiteLLM takes seconds to start. Each router gets its own engines; a test that stops an engine
starts it again on the same port before it returns. Every process runs in its own process group and is
stopped at teardown, also when a test or the startup failed. Logs stay in the tmp dir pytest reports.

The simulated engine is tests/sim/engine.py (llm-d-inference-sim, named in DESIGN.md, is not installable
here: the Go module proxy refuses it). It answers like vLLM and names itself in every answer.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from e2e_harness import (
    NAMESPACE,
    VALUES,
    VENV_BIN,
    Engine,
    Proc,
    Router,
    engines_from,
    expand,
    helm_template,
    replace_flag,
    service_map,
    take_flag,
    to_loopback,
    wait_until,
)

from tests.support import free_port

ROUTER_ENGINES = ("litellm", "vllm-router")
# vllm-router 0.1.17 can neither check client keys nor reach engines that require one: the chart refuses
# both (test_router.py asserts the refusals), so its release runs with auth off and open engines.
VLLM_ROUTER_SETS = ("router.engine=vllm-router", "router.auth.enabled=false", "engineApiKey.value=")
STARTUP_TIMEOUT = 90.0
# What a router process may inherit from the test's environment; everything else comes from the chart.
INHERITED_ENV = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


def router_binary(name: str) -> str:
    """The rendered container command, installed in .venv from PyPI at the version the image runs."""
    path = VENV_BIN / name
    if not path.exists():
        pytest.skip(f"missing {path}: run ./hack/bootstrap (installs the dev extras)")
    return str(path)


def base_env() -> dict[str, str]:
    return {k: os.environ[k] for k in INHERITED_ENV if k in os.environ}


def require_prometheus_client() -> None:
    """The rendered config enables LiteLLM's Prometheus callback, which imports prometheus_client (in the
    LiteLLM image, but not a dependency of the litellm wheel): without it the proxy exits at startup."""
    probe = subprocess.run(
        [str(VENV_BIN / "python"), "-c", "import prometheus_client"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        pytest.fail(
            "LiteLLM's prometheus callback needs prometheus_client in .venv (add it to the dev extras)"
        )


def start_litellm(helm: str, tmp: Path, procs: list[Proc | Engine]) -> Router:
    require_prometheus_client()
    release = helm_template(helm, [VALUES])
    engines = engines_from(release, tmp)
    for e in engines.values():
        procs.append(e)
        e.start()
    services = service_map(release, engines)
    (dep,) = release.component("Deployment", "router")
    pod = dep["spec"]["template"]["spec"]
    container = release.router_container()
    binary = router_binary(container["command"][0])
    root = tmp / "litellm-root"
    args = [str(a) for a in container.get("args") or []]
    files = release.config_map_files(container, pod)
    for path, text in files.items():
        local = root / path.lstrip("/")
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_text(to_loopback(text, services))
    # ConfigMap mounts only; each argument is rewritten once (the local root may lie under /tmp).
    mounts = sorted({p.rsplit("/", 1)[0] for p in files}, key=len, reverse=True)

    def local_path(arg: str) -> str:
        for mount in mounts:
            if arg == mount or arg.startswith(mount + "/"):
                return str(root / mount.lstrip("/")) + arg[len(mount) :]
        return arg

    args = [local_path(a) for a in args]
    port = free_port()
    args = replace_flag(replace_flag(args, "--host", "127.0.0.1"), "--port", str(port))
    env = {**base_env(), **release.env(container)}
    env["HOME"] = str(tmp / "home")  # the chart's HOME=/tmp is an emptyDir in the pod
    proc = Proc("litellm", [binary, *[expand(a, env) for a in args]], env, tmp / "litellm.log")
    procs.append(proc.start())
    url = f"http://127.0.0.1:{port}"
    key = env.get("LITELLM_MASTER_KEY", "")
    router = Router("litellm", url, key, proc, engines, release)
    wait_until(
        "LiteLLM /health/liveliness",
        lambda: httpx.get(f"{url}/health/liveliness", timeout=2).is_success,
        STARTUP_TIMEOUT,
        proc,
    )
    return router


def start_vllm_router(
    helm: str,
    tmp: Path,
    procs: list[Proc | Engine],
    values: tuple[Path, ...] = (),
    sets: tuple[str, ...] = (),
) -> Router:
    release = helm_template(helm, [VALUES, *values], *VLLM_ROUTER_SETS, *sets)
    engines = engines_from(release, tmp)
    for e in engines.values():
        procs.append(e)
        e.start()
    container = release.router_container()
    binary = router_binary(container["command"][0])
    env = {**base_env(), **release.env(container)}
    args = [expand(str(a), env) for a in container.get("args") or []]
    # Kubernetes pod discovery is the one part that needs a cluster. Check that the rendered discovery
    # would find exactly the engine pods on their API port, then do what the discovery loop does for
    # each Ready pod: register http://<pod>:<port> with the router (here the pod is a loopback engine).
    args, _ = take_flag(args, "--service-discovery")
    discovered: list[str] = []
    if "--service-discovery" in (container.get("args") or []):
        args, selector = take_flag(args, "--selector")
        args, (disc_port,) = take_flag(args, "--service-discovery-port")
        args, (disc_ns,) = take_flag(args, "--service-discovery-namespace")
        wanted = dict(s.split("=", 1) for s in selector)
        assert disc_ns == NAMESPACE, f"discovery watches namespace {disc_ns}, the release is in {NAMESPACE}"
        router_labels = release.component("Deployment", "router")[0]["spec"]["template"]["metadata"]["labels"]
        assert not all(router_labels.get(k) == v for k, v in wanted.items()), (
            "the selector matches the router"
        )
        for model, w in release.engine_workloads().items():
            labels = w["spec"]["template"]["metadata"]["labels"]
            assert all(labels.get(k) == v for k, v in wanted.items()), (
                f"selector {wanted} misses {model}'s pods"
            )
            assert int(disc_port) == engines[model].container_port, (
                f"discovery port {disc_port}, but {model}'s engine listens on {engines[model].container_port}"
            )
            discovered.append(engines[model].url)
    else:
        services = service_map(release, engines)
        args = [to_loopback(a, services) for a in args]
    port, metrics = free_port(), free_port()
    args = replace_flag(replace_flag(args, "--host", "127.0.0.1"), "--port", str(port))
    args = replace_flag(
        replace_flag(args, "--prometheus-host", "127.0.0.1"), "--prometheus-port", str(metrics)
    )
    proc = Proc("vllm-router", [binary, *args], env, tmp / "vllm-router.log")
    procs.append(proc.start())
    url = f"http://127.0.0.1:{port}"
    router = Router("vllm-router", url, "", proc, engines, release, {"metrics_port": metrics})
    wait_until(
        "vllm-router /liveness",
        lambda: httpx.get(f"{url}/liveness", timeout=2).is_success,
        STARTUP_TIMEOUT,
        proc,
    )
    for worker in discovered:
        r = httpx.post(f"{url}/workers", json={"url": worker}, timeout=10)
        assert r.is_success, f"registering {worker}: {r.status_code} {r.text}"

    def all_models_known() -> bool:
        workers = httpx.get(f"{url}/workers", timeout=2).json()["workers"]
        if not discovered:  # single-model mode (--worker-urls) does not read model ids: "unknown"
            return len([w for w in workers if w["is_healthy"]]) == len(engines)
        return {w["model_id"] for w in workers} >= {e.served_name for e in engines.values()}

    wait_until("vllm-router to know every engine", all_models_known, 30, proc)
    return router


@pytest.fixture(scope="module", params=ROUTER_ENGINES)
def router(
    request: pytest.FixtureRequest, helm: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Router]:
    engine = str(request.param)
    tmp = tmp_path_factory.mktemp(f"e2e-{engine}")
    started: list[Proc | Engine] = []  # engines and router, stopped even when the startup failed
    try:
        start = start_litellm if engine == "litellm" else start_vllm_router
        r = start(helm, tmp, started)
        yield r
        if r.notes:
            print(f"\n[e2e {engine}] {r.notes}")
    finally:
        for p in reversed(started):
            p.stop()


@pytest.fixture
def client(router: Router) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=router.url, headers=router.headers(), timeout=30) as c:
        yield c
