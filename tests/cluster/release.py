"""Drive a release of the chart in a real cluster the way a user does: generate values, helm, kubectl.

Every call goes through the pinned binaries and the kubeconfig the cluster fixture chose.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from vllm_models.names import COMPONENT_LABEL, ENGINE_COMPONENT, MODEL_LABEL

from tests.cluster.conftest import kubectl
from tests.support import REPO_ROOT, require_tool

CHART = REPO_ROOT / "charts" / "vllm-models"
RELEASE = "vllm-models"


@dataclass
class Release:
    """One Helm release of the chart in its own namespace."""

    kubeconfig: str
    namespace: str
    workdir: Path
    name: str = RELEASE

    def _run(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        env = {
            "KUBECONFIG": self.kubeconfig,
            "PATH": f"{REPO_ROOT / '.tools' / 'bin'}:/usr/bin:/bin",
            "HOME": str(self.workdir),
        }
        result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def helm(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return self._run(
            require_tool("helm"), *args, "--namespace", self.namespace, check=check, timeout=timeout
        )

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return kubectl(self.kubeconfig, "--namespace", self.namespace, *args, check=check)

    def generate_values(self, models: list[dict[str, Any]]) -> Path:
        """models.yaml → chart values through the real CLI, as `just vllm::upgrade` does."""
        models_file = self.workdir / "models.yaml"
        values_file = self.workdir / "values.generated.yaml"
        models_file.write_text(yaml.safe_dump(models, sort_keys=False))
        cli = REPO_ROOT / ".venv" / "bin" / "vllm-models"
        result = subprocess.run(
            [str(cli), "generate", "-f", str(models_file), "-o", str(values_file)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return values_file

    def upgrade(
        self, models: list[dict[str, Any]], *extra: str, wait: bool = True, timeout: str = "120s"
    ) -> subprocess.CompletedProcess[str]:
        values = self.generate_values(models)
        args = [
            "upgrade",
            "--install",
            self.name,
            str(CHART),
            "-f",
            str(values),
            "--set",
            "router.auth.masterKey.value=sk-cluster-test",
            *extra_values(),
            *extra,
        ]
        if wait:
            args += ["--wait", "--timeout", timeout]
        return self.helm(*args, check=False, timeout=600)

    def pods(self, model: str) -> list[dict[str, Any]]:
        selector = f"{COMPONENT_LABEL}={ENGINE_COMPONENT},{MODEL_LABEL}={model}"
        out = self.kubectl("get", "pods", "-l", selector, "-o", "json").stdout
        return [p for p in json.loads(out)["items"] if not p["metadata"].get("deletionTimestamp")]

    def objects(self, kind: str, selector: str = "") -> list[dict[str, Any]]:
        args = ["get", kind, "-o", "json"] + (["-l", selector] if selector else [])
        return list(json.loads(self.kubectl(*args).stdout)["items"])


def extra_values() -> list[str]:
    """Chart-wide values a cluster needs beyond the models, e.g. the simulator engine image on kind
    (VLLM_EXTRA_VALUES, the same variable `just vllm::upgrade` honours)."""
    path = os.environ.get("VLLM_EXTRA_VALUES", "")
    return ["-f", path] if path else []


def nodes_with_product(kubeconfig: str, product: str) -> set[str]:
    """Names of the nodes that advertise a GPU product (gpu-h100 locally, a kind worker on kind)."""
    out = kubectl(kubeconfig, "get", "nodes", "-o", "name", "-l", f"nvidia.com/gpu.product={product}").stdout
    return {line.removeprefix("node/") for line in out.split()}


def running_on(pods: list[dict[str, Any]]) -> set[str]:
    return {p["spec"].get("nodeName", "") for p in pods if p["status"].get("phase") == "Running"}


def unschedulable_reason(pod: dict[str, Any]) -> str | None:
    for condition in pod["status"].get("conditions", []):
        if condition["type"] == "PodScheduled" and condition["status"] == "False":
            return f"{condition.get('reason')}: {condition.get('message')}"
    return None
