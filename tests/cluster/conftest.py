"""Cluster tier fixtures: one Kubernetes control plane per session, a fresh namespace per test.

`kubeconfig` yields a kubeconfig path (and feeds pytest-helm-charts' `kube_cluster` fixture):
- `--kubeconfig PATH` (pytest-helm-charts' option) or `KUBECONFIG` set, and its cluster answers: that
  cluster (never the implicit ~/.kube/config, so a test run cannot wander into a cluster nobody named);
- else the local control plane (`hack/cluster-up`: kwok's binary runtime with simulated GPU nodes),
  reused if it is already running; if this session started it, `hack/cluster-down` stops it at the end
  (set VLLM_KEEP_CLUSTER=1 to keep it for the next run).

Missing tools skip with the command that installs them; the top-level conftest turns such a skip into a
failure when CI=true.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO_ROOT, TOOLS_BIN

LOCAL_KUBECONFIG = REPO_ROOT / ".tools" / "cluster" / "kubeconfig"
CONTROL_PLANE_TOOLS = (
    "kwokctl",
    "kwok",
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/cluster belongs to the cluster tier, marked or not."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.cluster)


def pinned_versions() -> dict[str, str]:
    """The pins of hack/lib/versions.sh (NAME=value lines)."""
    text = (REPO_ROOT / "hack" / "lib" / "versions.sh").read_text()
    return dict(re.findall(r"^([A-Z_]+)=([^\s$]+)$", text, flags=re.MULTILINE))


def tool(name: str) -> str:
    """A tool from .tools/bin (the pinned one), or a skip naming the bootstrap command."""
    path = TOOLS_BIN / name
    if not (path.exists() and os.access(path, os.X_OK)):
        pytest.skip(f"missing tool .tools/bin/{name}: run ./hack/bootstrap --tools-only")
    return str(path)


def kubectl(
    kubeconfig: str | Path, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the pinned kubectl against one kubeconfig; on failure the error names the command."""
    cmd = [tool("kubectl"), "--kubeconfig", str(kubeconfig), *args]
    result = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return result


def kubectl_json(kubeconfig: str | Path, *args: str) -> Any:
    return json.loads(kubectl(kubeconfig, *args, "-o", "json").stdout)


def reachable(kubeconfig: str | Path) -> bool:
    if not Path(kubeconfig).is_file():
        return False
    result = kubectl(kubeconfig, "get", "--raw", "/readyz", "--request-timeout=10s", check=False, timeout=30)
    return result.returncode == 0


def _hack(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO_ROOT / "hack" / script)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="session")
def kubeconfig(pytestconfig: pytest.Config) -> Iterator[str]:
    """Kubeconfig path of the cluster this session tests against (see the module docstring)."""
    explicit = pytestconfig.getoption("kubeconfig") or os.environ.get("KUBECONFIG", "")
    if explicit and ":" not in explicit and reachable(explicit):
        yield explicit
        return

    for name in CONTROL_PLANE_TOOLS:
        tool(name)
    if reachable(LOCAL_KUBECONFIG):
        yield str(LOCAL_KUBECONFIG)
        return

    up = _hack("cluster-up")
    if up.returncode != 0:
        pytest.fail(f"hack/cluster-up exited {up.returncode}:\n{up.stdout}{up.stderr}")
    try:
        yield str(LOCAL_KUBECONFIG)
    finally:
        if os.environ.get("VLLM_KEEP_CLUSTER", "") not in {"1", "true", "yes"}:
            down = _hack("cluster-down")
            if down.returncode != 0:
                print(f"hack/cluster-down exited {down.returncode}:\n{down.stdout}{down.stderr}")


@pytest.fixture(scope="module")
def kube_config(kubeconfig: str) -> str:
    """pytest-helm-charts' kubeconfig option, answered with the cluster this session chose, so the
    plugin's `kube_cluster` (a pykube client) and its wait helpers address the same cluster."""
    return kubeconfig


def recycle_released_volumes(kubeconfig: str | Path) -> None:
    """Make the local pool's Released volumes Available again (they are Retain, like real caches)."""
    pvs = kubectl_json(kubeconfig, "get", "pv", "-l", "vllm-models.io/pv-pool=true")["items"]
    for pv in pvs:
        if pv.get("status", {}).get("phase") == "Released":
            kubectl(
                kubeconfig,
                "patch",
                "pv",
                pv["metadata"]["name"],
                "--type=json",
                "-p",
                '[{"op":"remove","path":"/spec/claimRef"}]',
                check=False,
            )


@pytest.fixture
def namespace(kubeconfig: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for one test; deleted afterwards, and the test waits until it is gone."""
    base = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    name = f"t-{base}-{uuid.uuid4().hex[:6]}"
    kubectl(kubeconfig, "create", "namespace", name)
    kubectl(kubeconfig, "label", "namespace", name, "vllm-models.io/test=true")
    # Pods are rejected until the namespace's default ServiceAccount exists (ServiceAccount admission).
    deadline = time.monotonic() + 60
    while kubectl(kubeconfig, "-n", name, "get", "serviceaccount", "default", check=False).returncode:
        if time.monotonic() > deadline:
            raise AssertionError(f"namespace {name}: no default ServiceAccount after 60s")
        time.sleep(0.5)
    try:
        yield name
    finally:
        # Pods first and without grace (nothing real runs in them): halves the wait for the namespace.
        kubectl(
            kubeconfig,
            "-n",
            name,
            "delete",
            "pods",
            "--all",
            "--grace-period=0",
            "--force",
            "--wait=false",
            check=False,
        )
        kubectl(
            kubeconfig,
            "delete",
            "namespace",
            name,
            "--wait=true",
            "--timeout=180s",
            check=False,
            timeout=240,
        )
        recycle_released_volumes(kubeconfig)


@pytest.fixture
def release(kubeconfig: str, namespace: str, tmp_path: Path) -> Any:
    """A Helm release of the chart in a fresh namespace (tests/cluster/release.py)."""
    from tests.cluster.release import Release

    return Release(kubeconfig=kubeconfig, namespace=namespace, workdir=tmp_path)
