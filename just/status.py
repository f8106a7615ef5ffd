"""`just vllm::status`: one line per engine/router pod with readiness, node and GPU placement.

Reads two JSON documents on stdin (`kubectl get pods -o json`, then `kubectl get nodes -o json`);
for a Pending pod it prints the scheduler's reason from the PodScheduled condition.
"""

from __future__ import annotations

import sys

from vllm_models.loader import json_documents
from vllm_models.names import COMPONENT_LABEL, MODEL_LABEL

PRODUCT = "nvidia.com/gpu.product"


def main() -> int:
    pods, nodes = json_documents(sys.stdin.read(), "stdin (kubectl get pods, then nodes, as JSON)")
    products = {
        n["metadata"]["name"]: n["metadata"].get("labels", {}).get(PRODUCT, "-") for n in nodes["items"]
    }
    rows = [("MODEL", "POD", "READY", "STATUS", "NODE", "GPUS", "GPU PRODUCT")]
    reasons = []
    for pod in sorted(
        pods["items"], key=lambda p: (p["metadata"]["labels"].get(MODEL_LABEL, ""), p["metadata"]["name"])
    ):
        labels, status = pod["metadata"]["labels"], pod.get("status", {})
        model = labels.get(MODEL_LABEL) or labels.get(COMPONENT_LABEL, "-")
        statuses = status.get("containerStatuses", [])
        ready = f"{sum(1 for c in statuses if c.get('ready'))}/{len(pod['spec']['containers'])}"
        phase = status.get("phase", "?")
        for c in statuses:
            waiting = c.get("state", {}).get("waiting")
            if waiting:
                phase = waiting.get("reason", phase)
        node = pod["spec"].get("nodeName") or "-"
        gpus = sum(
            int(c.get("resources", {}).get("limits", {}).get("nvidia.com/gpu", 0))
            for c in pod["spec"]["containers"]
        )
        rows.append((model, pod["metadata"]["name"], ready, phase, node, str(gpus), products.get(node, "-")))
        for cond in status.get("conditions", []):
            if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
                reasons.append(
                    f"  {pod['metadata']['name']}: {cond.get('reason', '')}: {cond.get('message', '')}"
                )
    if len(rows) == 1:
        print("no pods of this release (not installed yet? run: just vllm::upgrade)")
        return 0
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    if reasons:
        print("\nnot scheduled (scheduler's reason):")
        print("\n".join(reasons))
    return 0


if __name__ == "__main__":
    sys.exit(main())
