"""Every chart-testing scenario (charts/vllm-models/ci/*-values.yaml, what `ct install --all` installs in the
kind tier) is admitted by the real API server, given the CRDs of the operators it renders objects for:
exactly what `hack/crd-manifests` gives `hack/kind-up`. A server-side dry run goes through defaulting,
validation and the CRDs' structural schemas without storing anything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.cluster.conftest import installed_crds, kubectl
from tests.cluster.release import CHART
from tests.support import REPO_ROOT, require_tool

pytestmark = pytest.mark.cluster

SCENARIOS = sorted((CHART / "ci").glob("*-values.yaml"))


def vendored_crds() -> list[tuple[str, str]]:
    """(group, kind) of every CRD `hack/crd-manifests` prints."""
    out = subprocess.run(
        [sys.executable, str(REPO_ROOT / "hack" / "crd-manifests")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return [(d["spec"]["group"], d["spec"]["names"]["kind"]) for d in yaml.safe_load_all(out)]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.name.removesuffix("-values.yaml") for p in SCENARIOS])
def test_scenario_is_admitted_by_the_api_server(kubeconfig: str, namespace: str, scenario: Path) -> None:
    with installed_crds(kubeconfig, vendored_crds()):
        rendered = subprocess.run(
            [
                require_tool("helm"),
                "template",
                "vllm-models",
                str(CHART),
                "-n",
                namespace,
                "-f",
                str(scenario),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        ).stdout
        objects = [o for o in yaml.safe_load_all(rendered) if o]
        result = kubectl(
            kubeconfig, "-n", namespace, "apply", "--dry-run=server", "-f", "-",
            input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}),
            check=False,
        )  # fmt: skip
    assert result.returncode == 0, f"{scenario.name}: {result.stderr}"
    assert result.stdout.count("(server dry run)") == len(objects), result.stdout
