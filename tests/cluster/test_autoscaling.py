"""The chart's HorizontalPodAutoscaler in a real control plane: the real HPA controller
(kube-controller-manager) reads the engine's vLLM gauge through the custom metrics API and scales the
model's Deployment; a Helm upgrade afterwards leaves the count the autoscaler chose."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.metrics_api import MetricsAPI
from tests.cluster.release import Release
from tests.support import wait_for

pytestmark = pytest.mark.cluster

METRIC = "vllm:num_requests_waiting"
HPA = ("--set", "autoscaling.provider=hpa")


def chat_model(**fields: Any) -> dict[str, Any]:
    """A CPU model on a ReadWriteMany cache: one Deployment for every replica the HPA may start."""
    return {
        "name": "chat",
        "modelURL": "Qwen/Qwen2.5-0.5B-Instruct",
        "requestGPU": 0,
        "requestCPU": "100m",
        "requestMemory": "256Mi",
        "pvcStorage": "10Gi",
        "pvcAccessMode": "ReadWriteMany",
        "autoscaling": {"enabled": True, "minReplicas": 1, "maxReplicas": 4, "metric": METRIC, "target": 5},
        **fields,
    }


def deployment(release: Release) -> dict[str, Any]:
    (found,) = release.objects("deployments", "vllm-models.io/model=chat")
    return found


def hpa(release: Release) -> dict[str, Any]:
    (found,) = release.objects("horizontalpodautoscalers", "vllm-models.io/model=chat")
    return found


# Helm 4 applies a new release server-side; Helm 3 (and `--server-side=false`) patches with a three-way
# merge. Had the chart rendered `replicas`, the first refuses the upgrade (a field conflict with the HPA
# controller's `scale` subresource) and the second resets the count: neither may see the field.
APPLY = {"server-side": "--server-side=true", "three-way-merge": "--server-side=false"}


@pytest.mark.parametrize("apply", sorted(APPLY))
def test_the_hpa_controller_scales_a_model_on_its_queue_and_an_upgrade_keeps_its_count(
    release: Release, tmp_path: Path, apply: str
) -> None:
    with MetricsAPI(release.kubeconfig, tmp_path) as api:
        api.register(release.namespace)
        try:
            wait_for(
                lambda: api.available() == "True" or None, "the custom metrics APIService to be Available"
            )
            installed = release.upgrade([chat_model()], *HPA, APPLY[apply])
            assert installed.returncode == 0, installed.stderr
            assert deployment(release)["spec"]["replicas"] == 1  # the API server's default, none rendered

            api.totals[METRIC] = 12  # 12 requests queued over the model: ceil(12 / 5) = 3 replicas
            fed = time.monotonic()
            try:
                wait_for(
                    lambda: deployment(release)["spec"]["replicas"] == 3 or None, "chat at 3 replicas", 120
                )
            except AssertionError as e:
                raise AssertionError(
                    f"{e}; HPA status: {hpa(release).get('status')}; asked: {api.asked}"
                ) from e
            print(
                f"\n[cluster {apply}] HPA scaled chat 1 -> 3 in {time.monotonic() - fed:.1f} s after the feed"
            )
            status = hpa(release)["status"]
            (current,) = status["currentMetrics"]
            assert current["type"] == "Pods" and current["pods"]["metric"]["name"] == METRIC
            assert any(path.endswith(f"/pods/*/{METRIC}") for path in api.asked), api.asked
            scaled = {p["metadata"]["uid"] for p in release.pods("chat")}
            assert len(scaled) == 3

            # an upgrade that changes only the price: Helm must not write replicas back
            upgraded = release.upgrade(
                [chat_model(pricing={"inputCostPerToken": 0.000001})], *HPA, APPLY[apply]
            )
            assert upgraded.returncode == 0, upgraded.stderr
            assert deployment(release)["spec"]["replicas"] == 3, "the upgrade reset the autoscaler's count"
            assert {p["metadata"]["uid"] for p in release.pods("chat")} == scaled, (
                "the upgrade restarted pods"
            )
        finally:
            api.unregister()
