"""Helpers of the render tier: where the chart and its inputs are, and the parsed result of a render.

Imported by basename (`from render_helpers import ...`): pytest puts this directory on sys.path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from tests.support import REPO_ROOT, pinned_versions

CHART = REPO_ROOT / "charts" / "vllm-models"
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "chart"
RELEASE = "vllm-models"
NAMESPACE = "vllm"
# Kubernetes versions every rendered object must validate against: the oldest supported (Chart.yaml
# kubeVersion >=1.30) and the pinned one (hack/lib/versions.sh).
K8S_VERSIONS = ("1.30.0", f"1.{pinned_versions()['KUBERNETES_MINOR']}.0")
# Custom resources: kubernetes-validate knows only built-in kinds. Those with a vendored CRD schema
# (tests/crds, hack/vendor-crds) validate against it; these groups have none; anything else must validate.
CRD_GROUPS = ("monitoring.coreos.com/", "gateway.networking.k8s.io/")
CRDS = REPO_ROOT / "tests" / "crds"


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


def strict_schema(schema: Any) -> Any:
    """A CRD's structural schema with unknown fields refused, as kubectl's strict field validation does
    (Kubernetes drops them silently otherwise, so a typo would pass)."""
    if isinstance(schema, list):
        return [strict_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict_schema(v) for k, v in schema.items()}
    if "properties" in out and not out.get("x-kubernetes-preserve-unknown-fields"):
        out.setdefault("additionalProperties", False)
    return out


@cache
def vendored_crds() -> dict[tuple[str, str], tuple[str, jsonschema.Draft7Validator]]:
    """(apiVersion, kind) -> (where the schema came from, its strict validator), for every vendored CRD."""
    out = {}
    for path in sorted(CRDS.glob("*/*.json")):
        crd = json.loads(path.read_text(encoding="utf-8"))
        for version, schema in crd["versions"].items():
            validator = jsonschema.Draft7Validator(strict_schema(schema))
            out[(f"{crd['group']}/{version}", crd["kind"])] = (crd["source"], validator)
    return out


def crd_errors(obj: dict[str, Any]) -> list[str] | None:
    """What the vendored CRD schema of `obj`'s kind finds wrong in it; None when no CRD is vendored."""
    found = vendored_crds().get((str(obj.get("apiVersion")), str(obj.get("kind"))))
    if found is None:
        return None
    source, validator = found
    ref = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    return [f"{ref} at {e.json_path} ({source}): {e.message}" for e in validator.iter_errors(obj)]


def strict_errors(objects: list[dict[str, Any]], version: str) -> list[str]:
    """What strict Kubernetes OpenAPI validation of `version` (or the kind's vendored CRD schema) finds
    wrong in rendered objects."""
    errors = []
    for obj in objects:
        ref = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        from_crd = crd_errors(obj)
        if from_crd is not None:
            errors += from_crd
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            if not str(obj.get("apiVersion", "")).startswith(CRD_GROUPS):
                errors.append(f"{ref}: no Kubernetes {version} schema for {obj.get('apiVersion')}")
        except kubernetes_validate.ValidationError as e:
            path = "/".join(str(p) for p in e.path)
            errors.append(f"{ref} at {path or '/'}: {e.message}")
    return errors
