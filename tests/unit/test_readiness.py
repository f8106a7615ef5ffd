"""Why pods are not ready, per model, from what kubectl prints: the lines a failed upgrade shows."""

from __future__ import annotations

from typing import Any

import pytest
from vllm_models.readiness import not_ready

pytestmark = pytest.mark.unit


def pod(name: str, model: str, status: dict[str, Any]) -> dict[str, Any]:
    labels = {"vllm-models.io/model": model, "app.kubernetes.io/component": "engine"}
    return {"metadata": {"name": name, "labels": labels}, "status": status}


READY = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}


def test_ready_pods_say_nothing_and_pending_pods_give_the_schedulers_reason() -> None:
    unscheduled = {
        "phase": "Pending",
        "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
             "message": "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."},
        ],
    }  # fmt: skip
    pods = {"items": [pod("llama-0", "llama", READY), pod("qwen-0", "qwen", unscheduled)]}
    (line,) = not_ready(pods, {"items": []})
    assert str(line) == (
        "qwen: pod qwen-0 Pending: Unschedulable: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
    )


def test_an_image_that_cannot_be_pulled_and_a_crashing_engine_are_named() -> None:
    pull = {"phase": "Pending", "containerStatuses": [
        {"name": "vllm", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling"}}},
    ]}  # fmt: skip
    crash = {"phase": "Running", "containerStatuses": [
        {"name": "vllm", "state": {"waiting": {"reason": "CrashLoopBackOff", "message": ""}},
         "lastState": {"terminated": {"exitCode": 1, "message": "ValueError: max_model_len too large"}}},
    ]}  # fmt: skip
    lines = [str(n) for n in not_ready({"items": [pod("a-0", "a", pull), pod("b-0", "b", crash)]}, {})]
    assert lines == [
        "a: pod a-0 ImagePullBackOff: vllm: Back-off pulling",
        "b: pod b-0 CrashLoopBackOff: vllm exited 1: ValueError: max_model_len too large",
    ]


def test_a_failed_weight_staging_shows_its_termination_message() -> None:
    staging = {"phase": "Pending", "initContainerStatuses": [
        {"name": "stage-weights", "state": {"terminated": {"exitCode": 1, "message": "401: gated repo"}}},
    ]}  # fmt: skip
    (line,) = not_ready({"items": [pod("a-0", "a", staging)]}, {})
    assert line.reason == "stage-weights exited 1: 401: gated repo"


def test_without_a_status_reason_the_latest_warning_event_says_why() -> None:
    events = {"items": [
        {"type": "Warning", "reason": "FailedMount", "message": "old",
         "lastTimestamp": "2026-01-01T00:00:00Z", "involvedObject": {"kind": "Pod", "name": "a-0"}},
        {"type": "Warning", "reason": "FailedAttachVolume", "message": "Multi-Attach error",
         "lastTimestamp": "2026-01-01T00:01:00Z", "involvedObject": {"kind": "Pod", "name": "a-0"}},
    ]}  # fmt: skip
    (line,) = not_ready({"items": [pod("a-0", "a", {"phase": "Pending"})]}, events)
    assert line.reason == "FailedAttachVolume: Multi-Attach error"


def test_a_models_endpoint_picker_is_named_by_its_component_not_as_the_model() -> None:
    picker = pod("llama-epp-0", "llama", {"phase": "Pending"})
    picker["metadata"]["labels"]["app.kubernetes.io/component"] = "epp"
    (line,) = not_ready({"items": [picker]}, {"items": []})
    assert str(line).startswith("epp: pod llama-epp-0 Pending"), str(line)
