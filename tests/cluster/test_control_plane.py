"""The pinned toolchain and the local control plane behave like the real thing.

The scheduler, controller-manager and API server are the real Kubernetes binaries; only the kubelets are
simulated (kwok). So a GPU request, a node selector and a claim against the default StorageClass are
decided by real Kubernetes code, which is what these tests check.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import TEST_CLUSTER_DIR, kubectl, kubectl_json, tool
from tests.support import pinned_versions, wait_for

pytestmark = pytest.mark.cluster

PINS = pinned_versions()
H100 = "NVIDIA-H100-80GB-HBM3"
L4 = "NVIDIA-L4"


def gpu_pod(name: str, gpus: int, product: str | None = None, claim: str | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "engine",
        "image": "registry.k8s.io/pause:3.10",  # never pulled: kwok simulates the kubelet
        "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {}},
    }
    if gpus:
        container["resources"]["requests"]["nvidia.com/gpu"] = str(gpus)
        container["resources"]["limits"]["nvidia.com/gpu"] = str(gpus)
    spec: dict[str, Any] = {"containers": [container]}
    if gpus:
        spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    if product:
        spec["nodeSelector"] = {"nvidia.com/gpu.product": product}
    if claim:
        container["volumeMounts"] = [{"name": "cache", "mountPath": "/models"}]
        spec["volumes"] = [{"name": "cache", "persistentVolumeClaim": {"claimName": claim}}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def apply(kubeconfig: str, namespace: str, obj: dict[str, Any]) -> None:
    kubectl(kubeconfig, "-n", namespace, "apply", "-f", "-", input=json.dumps(obj))


def get(kubeconfig: str, namespace: str, kind: str, name: str) -> dict[str, Any]:
    result: dict[str, Any] = kubectl_json(kubeconfig, "-n", namespace, "get", kind, name)
    return result


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in obj.get("status", {}).get("conditions", []) if c["type"] == kind), None)


def running_and_ready(kubeconfig: str, namespace: str, name: str) -> dict[str, Any] | None:
    pod = get(kubeconfig, namespace, "pod", name)
    ready = condition(pod, "Ready")
    if pod["status"].get("phase") == "Running" and ready and ready["status"] == "True":
        return pod
    return None


# ----------------------------------------------------------------------------- toolchain


def run(*cmd: str) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, f"{' '.join(cmd)} exited {result.returncode}: {result.stderr}"
    return result.stdout + result.stderr


def test_helm_reports_its_pin_and_assumes_the_pinned_kubernetes(tmp_path: Path) -> None:
    helm = tool("helm")
    assert run(helm, "version", "--template", "{{.Version}}").strip() == PINS["HELM_VERSION"]

    chart = tmp_path / "probe"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\n"
        "data:\n  kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}\n"
    )
    out = run(helm, "template", "probe", str(chart))
    minor = PINS["KUBERNETES_VERSION"].rsplit(".", 1)[0]  # v1.36
    assert f'kubeVersion: "{minor}.' in out, out


@pytest.mark.parametrize("binary", ["kube-apiserver", "kube-controller-manager", "kube-scheduler"])
def test_control_plane_binaries_report_the_pinned_release(binary: str) -> None:
    assert run(tool(binary), "--version").strip() == f"Kubernetes {PINS['KUBERNETES_VERSION']}"


def test_kubectl_and_etcd_report_their_pins() -> None:
    client = json.loads(run(tool("kubectl"), "version", "--client", "-o", "json"))
    assert client["clientVersion"]["gitVersion"] == PINS["KUBERNETES_VERSION"]
    assert f"etcd Version: {PINS['ETCD_VERSION'].lstrip('v')}" in run(tool("etcd"), "--version")


# ----------------------------------------------------------------------------- control plane


def test_control_plane_answers(kubeconfig: str) -> None:
    assert kubectl(kubeconfig, "get", "--raw", "/readyz").stdout.strip() == "ok"
    server = json.loads(kubectl(kubeconfig, "version", "-o", "json").stdout)["serverVersion"]
    assert server["gitVersion"].startswith("v1.")
    if kubeconfig == str(TEST_CLUSTER_DIR / "kubeconfig"):
        assert server["gitVersion"] == PINS["KUBERNETES_VERSION"]


def test_nodes_report_gpu_capacity_and_product_labels(kubeconfig: str) -> None:
    nodes = {n["metadata"]["name"]: n for n in kubectl_json(kubeconfig, "get", "nodes")["items"]}
    expected = {"gpu-h100": (H100, "8"), "gpu-l4": (L4, "1")}
    for name, (product, gpus) in expected.items():
        assert name in nodes, f"node {name} missing; nodes: {sorted(nodes)}"
        node = nodes[name]
        assert node["metadata"]["labels"]["nvidia.com/gpu.product"] == product
        assert node["status"]["capacity"]["nvidia.com/gpu"] == gpus
        assert node["status"]["allocatable"]["nvidia.com/gpu"] == gpus
        ready = condition(node, "Ready")
        assert ready is not None and ready["status"] == "True", f"{name} not Ready: {ready}"
    assert nodes["gpu-h100"]["metadata"]["labels"]["nvidia.com/gpu.memory"] == "81559"


def test_two_gpu_pod_with_h100_selector_runs_on_the_h100_node(kubeconfig: str, namespace: str) -> None:
    apply(kubeconfig, namespace, gpu_pod("tp2", gpus=2, product=H100))
    pod = wait_for(lambda: running_and_ready(kubeconfig, namespace, "tp2"), "pod tp2 Running and Ready")
    assert pod["spec"]["nodeName"] == "gpu-h100"


def test_l4_selector_schedules_on_the_l4_node(kubeconfig: str, namespace: str) -> None:
    apply(kubeconfig, namespace, gpu_pod("small", gpus=1, product=L4))
    pod = wait_for(lambda: running_and_ready(kubeconfig, namespace, "small"), "pod small Running")
    assert pod["spec"]["nodeName"] == "gpu-l4"


def test_pod_needing_more_gpus_than_any_node_stays_pending_with_the_schedulers_reason(
    kubeconfig: str, namespace: str
) -> None:
    apply(kubeconfig, namespace, gpu_pod("tp16", gpus=16))

    def unschedulable() -> dict[str, Any] | None:
        scheduled = condition(get(kubeconfig, namespace, "pod", "tp16"), "PodScheduled")
        return scheduled if scheduled and scheduled["status"] == "False" else None

    scheduled = wait_for(unschedulable, "the scheduler to report tp16 unschedulable")
    assert scheduled["reason"] == "Unschedulable"
    assert "Insufficient nvidia.com/gpu" in scheduled["message"], scheduled["message"]
    # And it stays that way: no node, still Pending.
    time.sleep(3)
    pod = get(kubeconfig, namespace, "pod", "tp16")
    assert pod["status"]["phase"] == "Pending"
    assert not pod["spec"].get("nodeName")
    # The same reason is what `kubectl describe` and events show a user.
    events = kubectl_json(
        kubeconfig, "-n", namespace, "get", "events", "--field-selector", "involvedObject.name=tp16"
    )["items"]
    assert any(e["reason"] == "FailedScheduling" and "nvidia.com/gpu" in e["message"] for e in events)


def test_claim_against_the_default_storage_class_binds_and_its_pod_runs(
    kubeconfig: str, namespace: str
) -> None:
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "cache"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "50Gi"}}},
    }
    apply(kubeconfig, namespace, claim)

    def bound() -> dict[str, Any] | None:
        pvc = get(kubeconfig, namespace, "pvc", "cache")
        return pvc if pvc["status"].get("phase") == "Bound" else None

    pvc = wait_for(bound, "claim cache to be Bound")
    classes = kubectl_json(kubeconfig, "get", "storageclass")["items"]
    default_key = "storageclass.kubernetes.io/is-default-class"
    default = [
        c["metadata"]["name"]
        for c in classes
        if c["metadata"].get("annotations", {}).get(default_key) == "true"
    ]
    assert default, "no default StorageClass"
    assert pvc["spec"]["storageClassName"] == default[0]
    assert pvc["status"]["capacity"]["storage"] in {"100Gi", "500Gi", "2Ti"} or not kubeconfig.endswith(
        ".tools/cluster/kubeconfig"
    )

    apply(kubeconfig, namespace, gpu_pod("with-cache", gpus=1, product=H100, claim="cache"))
    wait_for(lambda: running_and_ready(kubeconfig, namespace, "with-cache"), "pod with-cache Running")
