"""The inferencePool path in a real API server: the vendored InferencePool (Gateway API Inference Extension)
and HTTPRoute (Gateway API) CRDs installed, `helm install` with the pool on is admitted field for field,
the pool's selector finds exactly the model's engine pods the controllers made, and the API server's own
authorizer grants the endpoint picker's ServiceAccount every read it needs.

No Gateway or endpoint picker runs here (no images): what is proven is the API, not routing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.cluster.conftest import installed_crds, kubectl
from tests.cluster.release import Release
from tests.support import wait_for

pytestmark = pytest.mark.cluster

CRDS = (("inference.networking.k8s.io", "InferencePool"), ("gateway.networking.k8s.io", "HTTPRoute"))
MODELS = [
    {"name": name, "modelURL": "Qwen/Qwen2.5-0.5B-Instruct", "requestGPU": 0, "requestCPU": 1,
     "requestMemory": "1Gi", "pvcStorage": "1Gi", "replicaCount": replicas}
    for name, replicas in (("pooled", 2), ("plain", 1))
]  # fmt: skip


@pytest.fixture(scope="module")
def pool_crds(kubeconfig: str) -> Iterator[None]:
    """InferencePool and HTTPRoute from the vendored schemas."""
    with installed_crds(kubeconfig, CRDS):
        yield


def stored_as_rendered(rendered: Any, stored: Any) -> bool:
    """Whether ``stored`` has every field of ``rendered`` with its value (defaulted fields aside)."""
    if isinstance(rendered, dict):
        return isinstance(stored, dict) and all(
            k in stored and stored_as_rendered(v, stored[k]) for k, v in rendered.items()
        )
    if isinstance(rendered, list):
        return (
            isinstance(stored, list)
            and len(stored) == len(rendered)
            and all(map(stored_as_rendered, rendered, stored))
        )
    return bool(rendered == stored)


def test_pool_route_and_picker_are_admitted_and_the_pool_selects_the_models_engine_pods(
    pool_crds: None, release: Release
) -> None:
    result = release.upgrade(
        MODELS,
        "--set", "inferencePool.enabled=true",
        "--set", "inferencePool.models={pooled}",
        "--set", "inferencePool.httpRoute.parentRefs[0].name=inference-gateway",
        "--set", "inferencePool.httpRoute.parentRefs[0].namespace=gateway-system",
        "--set", "inferencePool.httpRoute.timeout=600s",
        wait=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    manifest = [o for o in yaml.safe_load_all(release.helm("get", "manifest", release.name).stdout) if o]
    for kind, resource in (("InferencePool", "inferencepools.inference.networking.k8s.io"),
                           ("HTTPRoute", "httproutes.gateway.networking.k8s.io")):  # fmt: skip
        (rendered,) = [o for o in manifest if o["kind"] == kind]
        (stored,) = release.objects(resource)
        # the API server prunes fields its schema does not know, silently: all kept means all known
        assert stored_as_rendered(rendered["spec"], stored["spec"]), f"{kind}: stored {stored['spec']}"
    (pool,) = release.objects("inferencepools.inference.networking.k8s.io")
    epp = pool["spec"]["endpointPickerRef"]["name"]
    assert release.objects("deployments", "app.kubernetes.io/component=epp")[0]["metadata"]["name"] == epp

    # the selector as the API server evaluates it: the model's two engine pods, not its picker, not the
    # other model's engine
    selector = ",".join(f"{k}={v}" for k, v in pool["spec"]["selector"]["matchLabels"].items())

    def selected() -> list[dict[str, Any]] | None:
        pods = release.objects("pods", selector)
        return pods if len(pods) == 2 else None

    pods = wait_for(selected, "the pooled model's two engine pods")
    assert {p["metadata"]["labels"]["app.kubernetes.io/component"] for p in pods} == {"engine"}
    assert {p["metadata"]["labels"]["vllm-models.io/model"] for p in pods} == {"pooled"}
    target = pool["spec"]["targetPorts"][0]["number"]
    for pod in pods:
        ports = {p["containerPort"] for c in pod["spec"]["containers"] for p in c.get("ports", [])}
        assert target in ports

    # the picker's ServiceAccount may read what it watches (objectives too, whose CRD is not installed
    # here: the authorizer answers without it), and write nothing, nor read another namespace
    account = f"system:serviceaccount:{release.namespace}:{epp}"
    for verb in ("get", "list", "watch"):
        for group, resource in (("", "pods"), ("inference.networking.k8s.io", "inferencepools"),
                                ("inference.networking.x-k8s.io", "inferenceobjectives")):  # fmt: skip
            assert allowed(release, account, verb, group, resource, release.namespace), (verb, resource)
    assert not allowed(release, account, "patch", "", "pods", release.namespace)
    assert not allowed(release, account, "list", "", "pods", "default")


def allowed(release: Release, user: str, verb: str, group: str, resource: str, namespace: str) -> bool:
    """The API server's authorizer's verdict (a SubjectAccessReview), for a resource whether served or not."""
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": user,
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{release.namespace}"],
            "resourceAttributes": {
                "verb": verb,
                "group": group,
                "resource": resource,
                "namespace": namespace,
            },
        },
    }
    out = kubectl(release.kubeconfig, "create", "-f", "-", "-o", "json", input=json.dumps(review)).stdout
    return bool(json.loads(out)["status"].get("allowed"))
