"""Helpers of the render tier: where the chart and its inputs are, and the parsed result of a render.

Imported by basename (`from render_helpers import ...`): pytest puts this directory on sys.path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import kubernetes_validate
import yaml

from tests.support import REPO_ROOT, crd_errors, pinned_versions

CHART = REPO_ROOT / "charts" / "vllm-models"
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "chart"
RELEASE = "vllm-models"
NAMESPACE = "vllm"
# Kubernetes versions every rendered object must validate against: the oldest supported (Chart.yaml
# kubeVersion >=1.30) and the pinned one (hack/lib/versions.sh).
K8S_VERSIONS = ("1.30.0", f"1.{pinned_versions()['KUBERNETES_MINOR']}.0")
# Custom resources: kubernetes-validate knows only built-in kinds. These validate against their
# published CRD schema, vendored by hack/vendor-crds (strictly: an unknown field is an error) ...
VENDORED_CRD_GROUPS = (
    "external-secrets.io/",
    "gateway.networking.k8s.io/",
    "inference.networking.k8s.io/",
    "keda.sh/",
    "leaderworkerset.x-k8s.io/",
    "monitoring.coreos.com/",
)
# ... and these are not checked (none today). Anything else must validate.
CRD_GROUPS: tuple[str, ...] = ()


@dataclass
class Rendered:
    returncode: int
    stdout: str
    stderr: str
    objects: list[dict[str, Any]] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        for o in self.objects:
            if o["kind"] == kind and o["metadata"]["name"] == name:
                return o
        names = sorted(f"{o['kind']}/{o['metadata']['name']}" for o in self.objects)
        raise AssertionError(f"no {kind}/{name} rendered; rendered: {names}")

    def workload(self, model: str) -> dict[str, Any]:
        """The Deployment or StatefulSet of a model, by its `vllm-models.io/model` label."""
        found = [
            o
            for o in self.objects
            if o["kind"] in ("Deployment", "StatefulSet")
            and o["metadata"]["labels"].get("vllm-models.io/model") == model
        ]
        assert len(found) == 1, f"expected one workload for model {model}, got {len(found)}"
        return found[0]


def engine_container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == "vllm")


def checksum(workload: dict[str, Any]) -> str:
    return str(workload["spec"]["template"]["metadata"]["annotations"]["checksum/config"])


def load_fixture(name: str) -> dict[str, Any]:
    data = yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def strict_errors(objects: list[dict[str, Any]], version: str) -> list[str]:
    """What strict Kubernetes OpenAPI validation of `version` (or the kind's vendored CRD schema) finds
    wrong in rendered objects."""
    errors = []
    for obj in objects:
        ref = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            if str(obj.get("apiVersion", "")).startswith(VENDORED_CRD_GROUPS):
                errors.extend(f"{ref} at {error}" for error in crd_errors(obj))
            elif not str(obj.get("apiVersion", "")).startswith(CRD_GROUPS):
                errors.append(f"{ref}: no Kubernetes {version} schema for {obj.get('apiVersion')}")
        except kubernetes_validate.ValidationError as e:
            path = "/".join(str(p) for p in e.path)
            errors.append(f"{ref} at {path or '/'}: {e.message}")
    return errors
