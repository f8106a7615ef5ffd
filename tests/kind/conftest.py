"""Kind tier fixtures: the kind cluster of hack/kind-up (needs a Docker engine).

The cluster tier's tests run against kind too (`VLLM_EXTRA_VALUES=hack/kind/engine-sim-values.yaml
pytest -m cluster --kubeconfig .tools/kind/kubeconfig`); this tier adds what only a cluster that really runs
containers can show: a request through the router to an engine pod.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.support import REPO_ROOT

KIND_KUBECONFIG = REPO_ROOT / ".tools" / "kind" / "kubeconfig"


@pytest.fixture(scope="session")
def kind_kubeconfig() -> Iterator[str]:
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
        pytest.skip("no Docker engine: the kind tier needs one (see README, 'kind tier')")
    up = subprocess.run([str(REPO_ROOT / "hack" / "kind-up")], capture_output=True, text=True, check=False)
    if up.returncode != 0:
        pytest.fail(f"hack/kind-up exited {up.returncode}:\n{up.stdout}{up.stderr}")
    yield str(KIND_KUBECONFIG)


@pytest.fixture
def kind_namespace(kind_kubeconfig: str, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"kind-{request.node.name.lower().replace('_', '-')[:40].strip('-')}"
    kubectl = [str(REPO_ROOT / ".tools" / "bin" / "kubectl"), "--kubeconfig", kind_kubeconfig]
    subprocess.run([*kubectl, "create", "namespace", name], check=True, capture_output=True)
    yield name
    subprocess.run([*kubectl, "delete", "namespace", name, "--wait=true", "--timeout=300s"], check=False)
