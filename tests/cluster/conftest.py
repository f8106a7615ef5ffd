"""Cluster tier fixtures: one Kubernetes control plane per session, a fresh namespace per test.

`kubeconfig` yields a kubeconfig path (and feeds pytest-helm-charts' `kube_cluster` fixture):
- `--kubeconfig PATH` given on the command line: that cluster, and only because it was named;
- else a control plane of the tier's own (`hack/cluster-up` under the name `vllm-models-test` in
  `.tools/test-cluster`: kwok's binary runtime with simulated GPU nodes, on ports it picks free). It is
  started for the session and stopped at its end (VLLM_KEEP_CLUSTER=1 keeps it for the next run).
Neither `KUBECONFIG` nor the quickstart's cluster (`.tools/cluster`) is ever used by default: a user's
release there stays exactly as it was (tests/cluster/test_user_cluster.py proves it).

Missing tools skip with the command that installs them; the top-level conftest turns such a skip into a
failure when CI=true.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO_ROOT, TOOLS_BIN, crd_manifest, wait_for

TEST_CLUSTER_NAME = "vllm-models-test"
TEST_CLUSTER_DIR = REPO_ROOT / ".tools" / "test-cluster"
# What hack/quickstart starts and deploys to when no other cluster answers.
QUICKSTART_CLUSTER_NAME = "vllm-models"
QUICKSTART_KUBECONFIG = REPO_ROOT / ".tools" / "cluster" / "kubeconfig"
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})
# What a release owns and a test could disturb; each is compared by identity and the fields that say
# whether it was replaced, rescheduled, rebound or edited.
WITNESSED_KINDS = "deployments,statefulsets,services,configmaps,secrets,persistentvolumeclaims,pods"
CONTROL_PLANE_TOOLS = (
    "kwokctl",
    "kwok",
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/cluster belongs to the cluster tier, marked or not. The user-cluster
    witness runs last, and not at all against a cluster named with --kubeconfig (that cluster is the
    one under test, so there is no separate user's cluster to witness)."""
    here = Path(__file__).parent
    witness = [i for i in items if Path(str(i.path)).name == "test_user_cluster.py"]
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.cluster)
    if config.getoption("kubeconfig"):
        config.hook.pytest_deselected(items=witness)
        items[:] = [i for i in items if i not in witness]
    else:
        items[:] = [i for i in items if i not in witness] + witness


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


@contextlib.contextmanager
def installed_crds(kubeconfig: str | Path, crds: Iterable[tuple[str, str]]) -> Iterator[None]:
    """The CRDs of ``crds`` ((group, kind) pairs) from their vendored schemas (tests/crds), established.
    A cluster that already has one (a real operator) keeps its own; only what was created here is removed."""
    created, names = [], []
    for group, kind in crds:
        crd = crd_manifest(group, kind)
        name = crd["metadata"]["name"]
        names.append(f"crd/{name}")
        if kubectl(kubeconfig, "get", "crd", name, check=False).returncode != 0:
            crd["metadata"]["labels"] = {"vllm-models.io/test-crd": "true"}
            kubectl(kubeconfig, "create", "-f", "-", input=json.dumps(crd))
            created.append(name)
    # `kubectl wait` fails at once while a just-created CRD has no status yet: poll the condition instead.
    established = '{.status.conditions[?(@.type=="Established")].status}'
    for name in names:
        wait_for(
            lambda n=name: kubectl(kubeconfig, "get", n, "-o", f"jsonpath={established}", check=False).stdout
            == "True",
            f"{name} Established",
            timeout=60,
        )
    try:
        yield
    finally:
        for name in created:
            kubectl(kubeconfig, "delete", "crd", name, "--wait=false", check=False)


def kubectl_json(kubeconfig: str | Path, *args: str) -> Any:
    return json.loads(kubectl(kubeconfig, *args, "-o", "json").stdout)


def reachable(kubeconfig: str | Path) -> bool:
    if not Path(kubeconfig).is_file():
        return False
    result = kubectl(kubeconfig, "get", "--raw", "/readyz", "--request-timeout=10s", check=False, timeout=30)
    return result.returncode == 0


def hack_cluster(script: str, name: str, directory: Path) -> subprocess.CompletedProcess[str]:
    """hack/cluster-up or cluster-down for the cluster `name` kept in `directory`."""
    env = {**os.environ, "VLLM_CLUSTER_NAME": name, "VLLM_CLUSTER_DIR": str(directory)}
    env.pop("KUBECONFIG", None)
    return subprocess.run(
        [str(REPO_ROOT / "hack" / script)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@contextlib.contextmanager
def own_cluster(name: str, directory: Path) -> Iterator[str]:
    """A local control plane started for the caller and stopped afterwards; yields its kubeconfig."""
    for binary in CONTROL_PLANE_TOOLS:
        tool(binary)
    try:
        up = hack_cluster("cluster-up", name, directory)
        if up.returncode != 0:
            pytest.fail(f"hack/cluster-up ({name}) exited {up.returncode}:\n{up.stdout}{up.stderr}")
        yield str(directory / "kubeconfig")
    finally:
        if os.environ.get("VLLM_KEEP_CLUSTER", "") not in {"1", "true", "yes"}:
            down = hack_cluster("cluster-down", name, directory)
            if down.returncode != 0:
                print(f"hack/cluster-down ({name}) exited {down.returncode}:\n{down.stdout}{down.stderr}")


def snapshot(kubeconfig: str | Path) -> dict[tuple[str, ...], tuple[str, ...]]:
    """What a user would notice changed: Helm releases (revision, status) and, outside the system
    namespaces, every object a release owns by uid, generation, node, phase and bound volume."""
    out: dict[tuple[str, ...], tuple[str, ...]] = {}
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    helm_list = subprocess.run(
        [tool("helm"), "list", "--all-namespaces", "--deployed", "--failed", "--pending", "-o", "json"],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    )  # fmt: skip
    for r in json.loads(helm_list.stdout or "[]"):
        out[("helm-release", r["namespace"], r["name"])] = (str(r["revision"]), r["status"], r["chart"])
    for o in kubectl_json(kubeconfig, "get", WITNESSED_KINDS, "--all-namespaces")["items"]:
        meta = o["metadata"]
        if meta["namespace"] in SYSTEM_NAMESPACES or meta["name"] == "kube-root-ca.crt":
            continue
        spec, status = o.get("spec") or {}, o.get("status") or {}
        out[(o["kind"], meta["namespace"], meta["name"])] = (
            meta["uid"],
            str(meta.get("generation", "")),
            str(spec.get("nodeName", "")),
            str(spec.get("volumeName", "")),
            str(status.get("phase", "")),
        )
    return out


@dataclass
class UserCluster:
    kubeconfig: str
    before: dict[tuple[str, ...], tuple[str, ...]]


def deploy_example_models(kubeconfig: str, workdir: Path) -> None:
    """What hack/quickstart does on its local cluster: models.example.yaml through `just vllm::upgrade`,
    with the user's files (models.yaml, values.generated.yaml) left alone."""
    models = workdir / "models.yaml"
    shutil.copy(REPO_ROOT / "models.example.yaml", models)
    env = {
        **os.environ,
        "KUBECONFIG": kubeconfig,
        "VLLM_MODELS_FILE": str(models),
        "VLLM_VALUES_FILE": str(workdir / "values.generated.yaml"),
        "VLLM_HELM_TIMEOUT": "180s",
    }
    env.pop("VLLM_API_KEY", None)
    result = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "just"), "vllm::upgrade"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=400, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        pytest.fail(f"deploying models.example.yaml to the witness cluster failed:\n{result.stderr}")


@pytest.fixture(scope="session")
def user_cluster(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[UserCluster | None]:
    """The user's cluster with the quickstart's release, snapshotted before the tier's first test."""
    if pytestconfig.getoption("kubeconfig"):
        yield None
        return
    if reachable(QUICKSTART_KUBECONFIG):
        yield UserCluster(str(QUICKSTART_KUBECONFIG), snapshot(QUICKSTART_KUBECONFIG))
        return
    workdir = tmp_path_factory.mktemp("user-cluster")
    with own_cluster(QUICKSTART_CLUSTER_NAME, workdir / "cluster") as path:
        deploy_example_models(path, workdir)
        yield UserCluster(path, snapshot(path))


@pytest.fixture(scope="session")
def kubeconfig(pytestconfig: pytest.Config, user_cluster: UserCluster | None) -> Iterator[str]:
    """Kubeconfig path of the cluster this session tests against (see the module docstring). Asks for
    `user_cluster` first, so the witness is snapshotted before anything runs against a cluster."""
    explicit = pytestconfig.getoption("kubeconfig")
    if explicit:
        if not reachable(explicit):
            pytest.fail(f"--kubeconfig {explicit}: its cluster does not answer")
        yield explicit
        return
    with own_cluster(TEST_CLUSTER_NAME, TEST_CLUSTER_DIR) as path:
        yield path


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
