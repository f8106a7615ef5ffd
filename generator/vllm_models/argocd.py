"""Argo CD objects that deploy the chart: an Application (the chart from its repository, the values from
the user's own git repository, Argo CD's multi-source form) and ApplicationSets that stamp one such
release per cluster or per namespace.

Pure: options in, plain objects out; the CLI prints them as YAML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml  # type: ignore[import-untyped]

CHART_PATH = "charts/vllm-models"
IN_CLUSTER = "https://kubernetes.default.svc"
# Sync options that fit this chart:
# - CreateNamespace: the engines' namespace is usually new;
# - ServerSideApply: the router's ConfigMap grows with every model and client-side apply keeps a copy in
#   an annotation limited to 256 KiB;
# - ApplyOutOfSyncOnly: a sync touches only what changed, as the per-model checksums intend;
# - PruneLast: a removed model's objects go after the new ones are healthy.
SYNC_OPTIONS = ("CreateNamespace=true", "ServerSideApply=true", "ApplyOutOfSyncOnly=true", "PruneLast=true")


@dataclass(frozen=True)
class Source:
    """Where the chart and the values come from."""

    chart_repo: str
    chart_revision: str
    values_repo: str
    values_revision: str
    values_file: str  # path inside the values repository; a template in ApplicationSets


@dataclass(frozen=True)
class Target:
    release: str = "vllm-models"
    namespace: str = "vllm"
    project: str = "default"
    argocd_namespace: str = "argocd"
    server: str = IN_CLUSTER


def _spec(source: Source, target: Target) -> dict[str, Any]:
    return {
        "project": target.project,
        "sources": [
            {
                "repoURL": source.chart_repo,
                "targetRevision": source.chart_revision,
                "path": CHART_PATH,
                "helm": {"releaseName": target.release, "valueFiles": [f"$values/{source.values_file}"]},
            },
            {"repoURL": source.values_repo, "targetRevision": source.values_revision, "ref": "values"},
        ],
        "destination": {"server": target.server, "namespace": target.namespace},
        "syncPolicy": {
            # weight caches survive prune and app deletion through their own annotations (the chart's
            # PVCs say Prune=false,Delete=false), so automated prune is safe here
            "automated": {"prune": True, "selfHeal": True},
            "syncOptions": list(SYNC_OPTIONS),
            "retry": {"limit": 5, "backoff": {"duration": "30s", "factor": 2, "maxDuration": "10m"}},
        },
    }


def _metadata(name: str, target: Target) -> dict[str, Any]:
    # the finalizer makes deleting the Application delete the release's objects (but not the caches)
    return {
        "name": name,
        "namespace": target.argocd_namespace,
        "finalizers": ["resources-finalizer.argocd.argoproj.io"],
    }


def application(source: Source, target: Target) -> dict[str, Any]:
    """One release of the chart."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": _metadata(target.release, target),
        "spec": _spec(source, target),
    }


def _application_set(name: str, generator: dict[str, Any], source: Source, target: Target) -> dict[str, Any]:
    # the Applications it makes carry the finalizer; the set itself needs none
    template = {"metadata": {k: v for k, v in _metadata(name, target).items() if k != "namespace"}}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": target.release, "namespace": target.argocd_namespace},
        "spec": {
            "goTemplate": True,
            "goTemplateOptions": ["missingkey=error"],
            "generators": [generator],
            "template": {**template, "spec": _spec(source, target)},
        },
    }


def per_cluster(source: Source, target: Target, selector: dict[str, str]) -> dict[str, Any]:
    """One release on every Argo CD cluster whose labels match ``selector``; its values file is
    ``source.values_file`` with ``{{.name}}`` (the cluster's name) where it should differ."""
    generator = {"clusters": {"selector": {"matchLabels": dict(selector)}}}
    spread = Target(target.release, target.namespace, target.project, target.argocd_namespace, "{{.server}}")
    return _application_set(f"{target.release}-{{{{.name}}}}", generator, source, spread)


def per_namespace(source: Source, target: Target, namespaces: list[str]) -> dict[str, Any]:
    """One release per namespace (one team each) on one cluster; ``{{.namespace}}`` in the values file."""
    generator = {"list": {"elements": [{"namespace": n} for n in namespaces]}}
    spread = Target(target.release, "{{.namespace}}", target.project, target.argocd_namespace, target.server)
    return _application_set(f"{target.release}-{{{{.namespace}}}}", generator, source, spread)


def render(obj: dict[str, Any], header: str) -> str:
    """The object as YAML after a comment line saying how it was made."""
    body: str = yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, width=1000)
    return f"# {header}\n{body}"
