"""Helpers every tier shares: where the pinned tools are and their pins, and polling with a
message that says what never happened."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"
# Published CRD schemas, vendored with their version by hack/vendor-crds.
CRDS = REPO_ROOT / "tests" / "crds"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def find_tool(name: str) -> str | None:
    """The pinned tool under .tools/bin first, then whatever PATH offers."""
    pinned = TOOLS_BIN / name
    if pinned.is_file() and os.access(pinned, os.X_OK):
        return str(pinned)
    return shutil.which(name)


def require_tool(name: str) -> str:
    """Path of a tool, or a skip naming the command that installs it (a failure in CI, see conftest)."""
    path = find_tool(name)
    if path is None:
        pytest.skip(f"missing tool {name!r}: run ./hack/bootstrap")
    return path


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 90, interval: float = 0.5) -> Any:
    """Poll until predicate() is truthy and return its value; fail naming what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def pinned_versions() -> dict[str, str]:
    """The pins of hack/lib/versions.sh (NAME=value lines), the one place the tools' versions live."""
    text = (REPO_ROOT / "hack" / "lib" / "versions.sh").read_text()
    return dict(re.findall(r"^([A-Z][A-Z0-9_]*)=([^\s$]+)$", text, flags=re.MULTILINE))


@cache
def vendored_crd(group: str, kind: str) -> dict[str, Any]:
    """The vendored definition of ``kind`` in API ``group`` (hack/vendor-crds): its source, names, scope,
    storage version and the openAPIV3Schema of every served version."""
    for path in sorted(CRDS.glob(f"*/{kind}.json")):
        vendored: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if vendored["group"] == group:
            return vendored
    raise AssertionError(f"no vendored CRD for {kind}.{group} under {CRDS}: add it to hack/vendor-crds")


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
def crd_validator(api_version: str, kind: str) -> jsonschema.Draft7Validator:
    """Strict validator of ``kind`` at ``api_version`` (``group/version``) from its vendored CRD."""
    group, _, version = api_version.rpartition("/")
    vendored = vendored_crd(group, kind)
    if version not in vendored["versions"]:
        raise AssertionError(f"{kind}.{group} {version} is not served by {vendored['source']}")
    return jsonschema.Draft7Validator(strict_schema(vendored["versions"][version]))


def crd_errors(obj: dict[str, Any]) -> list[str]:
    """What the vendored CRD of ``obj``'s kind finds wrong in it, one ``$.path: message`` line each."""
    validator = crd_validator(obj["apiVersion"], obj["kind"])
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(obj)]


def crd_manifest(group: str, kind: str) -> dict[str, Any]:
    """A CustomResourceDefinition rebuilt from the vendored one, to install into a test control plane."""
    vendored = vendored_crd(group, kind)
    names = vendored["names"]
    metadata: dict[str, Any] = {"name": f"{names['plural']}.{group}"}
    if "apiApproved" in vendored:  # required of a CRD in a *.k8s.io group
        metadata["annotations"] = {"api-approved.kubernetes.io": vendored["apiApproved"]}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": metadata,
        "spec": {
            "group": group,
            "names": names,
            "scope": vendored["scope"],
            "versions": [
                {
                    "name": name,
                    "served": True,
                    "storage": name == vendored["storage"],
                    "schema": {"openAPIV3Schema": schema},
                }
                for name, schema in sorted(vendored["versions"].items())
            ],
        },
    }


def readme_external_secrets_example() -> list[dict[str, Any]]:
    """The YAML blocks of the README's External Secrets section as a user copies them: the values, then
    the ClusterSecretStore."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Secrets from Vault (External Secrets Operator)", 1)[1].split("\n## ", 1)[0]
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", section, flags=re.DOTALL)]
