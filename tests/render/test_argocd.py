"""What `vllm-models argocd` writes is what Argo CD accepts (its published CRD schemas, vendored with
their version), and the weight caches survive what Argo CD does on model removal and app deletion."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from render_helpers import CHART, REPO_ROOT, strict_schema
from vllm_models.cli import cli

pytestmark = pytest.mark.render

CRDS = REPO_ROOT / "tests" / "crds"
SOURCES = ["--chart-repo", "https://git.example.com/platform/vllm-models.git",
           "--values-repo", "https://git.example.com/ml-team/models.git"]  # fmt: skip


def crd_validator(kind: str) -> jsonschema.Draft7Validator:
    (path,) = CRDS.glob(f"argo-cd-*/{kind}.json")
    vendored = json.loads(path.read_text(encoding="utf-8"))
    assert vendored["source"].startswith("github.com/argoproj/argo-cd/v3@")
    return jsonschema.Draft7Validator(strict_schema(vendored["versions"]["v1alpha1"]))


def argocd(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["argocd", *SOURCES, *args])
    assert result.exit_code == 0, result.output
    loaded: dict[str, Any] = yaml.safe_load(result.stdout)
    return loaded


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--release", "team-a", "--namespace", "team-a", "--values-file", "team-a/values.yaml"],
        ["--per-cluster", "gpu-pool=h100", "--values-file", "clusters/{{.name}}.yaml"],
        [
            "--per-namespace",
            "team-a",
            "--per-namespace",
            "team-b",
            "--values-file",
            "teams/{{.namespace}}.yaml",
        ],
    ],
    ids=["one-release", "team-namespace", "one-per-cluster", "one-per-namespace"],
)
def test_emitted_objects_pass_argo_cds_published_schema(args: list[str]) -> None:
    obj = argocd(*args)
    errors = [f"{e.json_path}: {e.message}" for e in crd_validator(obj["kind"]).iter_errors(obj)]
    assert not errors, "\n".join(errors)
    spec = obj["spec"] if obj["kind"] == "Application" else obj["spec"]["template"]["spec"]
    chart, values = spec["sources"]
    assert chart["path"] == "charts/vllm-models" and chart["helm"]["valueFiles"][0].startswith("$values/")
    assert values["ref"] == "values"
    assert "CreateNamespace=true" in spec["syncPolicy"]["syncOptions"]


def test_a_typo_in_an_application_is_caught() -> None:
    obj = argocd()
    obj["spec"]["syncPolicy"]["automatic"] = obj["spec"]["syncPolicy"].pop("automated")
    assert list(crd_validator("Application").iter_errors(obj))


def test_per_cluster_and_per_namespace_exclude_each_other() -> None:
    result = CliRunner().invoke(cli, ["argocd", *SOURCES, "--per-cluster", "a=b", "--per-namespace", "x"])
    assert result.exit_code == 2 and "exclude each other" in result.output


def test_every_weight_cache_survives_argo_cd_prune_and_delete(render) -> None:
    """Deployment caches are the chart's own PVCs: Argo CD's annotations keep them; per-replica caches are
    created by the StatefulSet controller (not tracked by Argo CD) and retained by the StatefulSet."""
    rendered = [render(path) for path in sorted((CHART / "ci").glob("*-values.yaml"))]
    claims = [o for r in rendered for o in r.of_kind("PersistentVolumeClaim")]
    statefulsets = [o for r in rendered for o in r.of_kind("StatefulSet")]
    assert claims and statefulsets
    for claim in claims:
        annotations = claim["metadata"]["annotations"]
        assert set(annotations["argocd.argoproj.io/sync-options"].split(",")) >= {
            "Prune=false",
            "Delete=false",
        }
        assert annotations["helm.sh/resource-policy"] == "keep"
    for sts in statefulsets:
        assert sts["spec"]["persistentVolumeClaimRetentionPolicy"] == {
            "whenDeleted": "Retain",
            "whenScaled": "Retain",
        }
        for template in sts["spec"]["volumeClaimTemplates"]:
            assert not any(
                k.startswith("argocd.argoproj.io/") for k in template["metadata"].get("annotations", {})
            )


def test_written_file_is_the_printed_object(tmp_path: Path) -> None:
    out = tmp_path / "application.yaml"
    result = CliRunner().invoke(cli, ["argocd", *SOURCES, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text()) == argocd()
