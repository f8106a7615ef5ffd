"""Why a release's pods are not ready, per model: what a failed `helm upgrade --wait` reports before it
is rolled back (the rollback deletes the new pods, and with them the easiest place to read the reason).

Input is what kubectl prints as JSON: the release's pods and the namespace's events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .names import COMPONENT_LABEL, ENGINE_COMPONENT, MODEL_LABEL


@dataclass(frozen=True)
class NotReady:
    """One pod that is not ready, and the most specific reason Kubernetes gives for it."""

    model: str
    pod: str
    state: str
    reason: str

    def __str__(self) -> str:
        return f"{self.model}: pod {self.pod} {self.state}: {self.reason}"


def _ready(pod: dict[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _container_problem(pod: dict[str, Any]) -> tuple[str, str] | None:
    """(state, reason) of the first container that waits or died: an image that cannot be pulled, an
    engine that crashes (with what it said last), an init container that failed staging the weights."""
    status = pod.get("status", {})
    for container in status.get("initContainerStatuses", []) + status.get("containerStatuses", []):
        state = container.get("state", {})
        waiting = state.get("waiting") or {}
        died = container.get("lastState", {}).get("terminated") or state.get("terminated") or {}
        last_words = ""
        if died.get("exitCode"):
            last_words = f"{container['name']} exited {died['exitCode']}: "
            last_words += died.get("message", "").strip() or died.get("reason", "")
        if waiting.get("reason") and waiting["reason"] not in ("ContainerCreating", "PodInitializing"):
            said = waiting.get("message", "").strip()
            return waiting["reason"], last_words or f"{container['name']}: {said or waiting['reason']}"
        if last_words:
            return "Failing", last_words
    return None


def _latest_warning(pod: str, events: list[dict[str, Any]]) -> str | None:
    warnings = [
        e
        for e in events
        if e.get("type") == "Warning"
        and e.get("involvedObject", {}).get("kind") == "Pod"
        and e.get("involvedObject", {}).get("name") == pod
    ]
    if not warnings:
        return None
    latest = max(warnings, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    return f"{latest.get('reason', 'Warning')}: {latest.get('message', '').strip()}"


def not_ready(pods: dict[str, Any], events: dict[str, Any]) -> list[NotReady]:
    """Every pod of ``pods`` that is not ready, with its reason, in model then pod order."""
    found = []
    for pod in pods.get("items", []):
        if _ready(pod) or pod.get("metadata", {}).get("deletionTimestamp"):
            continue
        labels = pod["metadata"].get("labels", {})
        component = labels.get(COMPONENT_LABEL, "-")
        # an engine pod by its model; any other pod (router, endpoint picker) by its component
        model = labels.get(MODEL_LABEL, component) if component == ENGINE_COMPONENT else component
        name = pod["metadata"]["name"]
        status = pod.get("status", {})
        unscheduled = next(
            (
                c
                for c in status.get("conditions", [])
                if c.get("type") == "PodScheduled" and c.get("status") == "False"
            ),
            None,
        )
        if unscheduled:
            state, reason = (
                "Pending",
                f"{unscheduled.get('reason', '')}: {unscheduled.get('message', '').strip()}",
            )
        else:
            state, reason = _container_problem(pod) or (status.get("phase", "Unknown"), "")
        reason = (
            reason or _latest_warning(name, events.get("items", [])) or "not ready yet (no event says why)"
        )
        found.append(NotReady(model, name, state, reason))
    return sorted(found, key=lambda n: (n.model, n.pod))
