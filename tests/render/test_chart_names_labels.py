"""Names fit in 63 characters whatever the model name; selectors are minimal and never change; a change
to one model restarts only that model."""

from __future__ import annotations

import copy

import pytest
from render_helpers import FIXTURES, checksum, load_fixture
from vllm_models import names

pytestmark = pytest.mark.render

LONGEST = "m" * 18 + "-" + "x" * 21  # 40 characters, the schema's maximum
assert len(LONGEST) == 40
# the label keys the CLI and the recipes select by (vllm_models/names.py) are the chart's own
SELECTOR_KEYS = {"app.kubernetes.io/name", names.INSTANCE_LABEL, names.COMPONENT_LABEL, names.MODEL_LABEL}


def long_names_values() -> dict:
    return {
        "nameOverride": "a-rather-long-chart-name-override-for-testing",
        "models": [
            {"name": LONGEST, "modelURL": "org/one", "podDisruptionBudget": {"enabled": True}},
            {"name": LONGEST[:-1] + "y", "modelURL": "org/two", "replicaCount": 3},
        ],
        "networkPolicy": {"enabled": True},
        "serviceMonitor": {"enabled": True},
        "hfToken": {"value": "hf_x"},
        "engineApiKey": {"value": "k"},
        "router": {"auth": {"masterKey": {"value": "m"}}},
    }


def test_longest_model_name_keeps_every_name_within_63(render) -> None:
    # a release name of 53 characters, Helm's own maximum
    r = render(long_names_values(), release="r" * 53)
    assert r.returncode == 0, r.stderr
    for obj in r.objects:
        name = obj["metadata"]["name"]
        assert len(name) <= 63, f"{obj['kind']}/{name} is {len(name)} characters"
        for key, value in obj["metadata"].get("labels", {}).items():
            assert len(value) <= 63, f"{obj['kind']}/{name}: label {key}={value} is too long"
    for model in (LONGEST, LONGEST[:-1] + "y"):
        workload = r.workload(model)
        name = workload["metadata"]["name"]
        # the distinguishing part survives, the prefix was cut
        assert name.endswith("-" + model) and len(name) <= 52
        assert r.get("Service", name)
        if workload["kind"] == "StatefulSet":
            # Kubernetes names the per-replica claims cache-<statefulset>-<ordinal>; the pods carry
            # controller-revision-hash=<statefulset>-<10 characters>
            assert len(f"cache-{name}-99") <= 63 and len(f"{name}-0123456789") <= 63
        else:
            assert r.get("PersistentVolumeClaim", name + "-cache")
    assert len({(o["kind"], o["metadata"]["name"]) for o in r.objects}) == len(r.objects)


def test_short_names_follow_the_contract(render) -> None:
    r = render(FIXTURES / "llama3-qwen-models-list.yaml")
    assert r.returncode == 0, r.stderr
    assert r.get("Service", "vllm-models-llama3")
    assert r.get("PersistentVolumeClaim", "vllm-models-llama3-cache")


def selectors(r) -> dict[str, dict]:
    out = {}
    for obj in r.objects:
        spec = obj.get("spec", {})
        if obj["kind"] in ("Deployment", "StatefulSet", "PodDisruptionBudget"):
            out[f"{obj['kind']}/{obj['metadata']['name']}"] = spec["selector"]["matchLabels"]
        elif obj["kind"] == "Service":
            out[f"Service/{obj['metadata']['name']}"] = spec["selector"]
    return out


def test_selectors_are_minimal_and_stable(render) -> None:
    base = load_fixture("llama3-qwen-models-list.yaml")
    changed = copy.deepcopy(base)
    changed["commonLabels"] = {"team": "ml"}
    changed["image"] = {"tag": "v0.99.0"}
    for m in changed["models"]:
        m["labels"] = {"owner": "someone", "app.kubernetes.io/version": "spoofed"}
    a, b = render(base), render(changed)
    assert a.returncode == b.returncode == 0, b.stderr
    sel_a, sel_b = selectors(a), selectors(b)
    assert sel_a == sel_b, "selectors changed with labels or image"
    for ref, sel in sel_a.items():
        assert set(sel) <= SELECTOR_KEYS, f"{ref}: selector has {set(sel) - SELECTOR_KEYS}"
    for obj in b.objects:
        if obj["kind"] in ("Deployment", "StatefulSet"):
            pod_labels = obj["spec"]["template"]["metadata"]["labels"]
            assert obj["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
            assert pod_labels["team"] == "ml"  # commonLabels reach every pod
            component = pod_labels[names.COMPONENT_LABEL]
            assert pod_labels[names.INSTANCE_LABEL] == "vllm-models"
            assert component in (names.ENGINE_COMPONENT, names.ROUTER_COMPONENT)
            if component != names.ENGINE_COMPONENT:
                continue
            assert pod_labels[names.MODEL_LABEL] in {m["name"] for m in changed["models"]}
            assert pod_labels["owner"] == "someone"
            # user labels cannot override the chart's own
            assert pod_labels.get("app.kubernetes.io/version") != "spoofed"
            # a chart upgrade must not restart an engine whose settings did not change
            assert "helm.sh/chart" not in pod_labels and "app.kubernetes.io/version" not in pod_labels
            assert obj["metadata"]["labels"]["helm.sh/chart"].startswith("vllm-models-")


def test_changing_one_model_changes_only_its_checksum(render) -> None:
    base = load_fixture("llama3-qwen-models-list.yaml")
    before = render(base)
    changed = copy.deepcopy(base)
    changed["models"][1]["vllmConfig"] = {"maxModelLen": 4096}
    after = render(changed)
    assert before.returncode == after.returncode == 0, after.stderr
    assert checksum(before.workload("llama3")) == checksum(after.workload("llama3"))
    assert checksum(before.workload("qwen")) != checksum(after.workload("qwen"))
    # the untouched model's objects are byte-for-byte the same
    untouched = [
        o for o in before.objects if o["metadata"].get("labels", {}).get("vllm-models.io/model") == "llama3"
    ]
    assert untouched == [
        o for o in after.objects if o["metadata"].get("labels", {}).get("vllm-models.io/model") == "llama3"
    ]


def test_scaling_does_not_restart(render) -> None:
    base = load_fixture("coder-awq-l4-scale-to-zero.yaml")
    scaled = copy.deepcopy(base)
    scaled["models"][0]["replicaCount"] = 1
    scaled["models"][0]["pricing"] = {"inputCostPerToken": 0.000001}
    a, b = render(base), render(scaled)
    assert a.returncode == b.returncode == 0, b.stderr
    assert checksum(a.workload("coder-chat")) == checksum(b.workload("coder-chat"))


def test_model_defaults_change_every_checksum(render) -> None:
    base = load_fixture("llama3-qwen-models-list.yaml")
    changed = copy.deepcopy(base)
    changed["modelDefaults"] = {"shmSize": "16Gi"}
    a, b = render(base), render(changed)
    assert a.returncode == b.returncode == 0, b.stderr
    for model in ("llama3", "qwen"):
        assert checksum(a.workload(model)) != checksum(b.workload(model))


def test_an_explicit_false_or_zero_beats_model_defaults(render) -> None:
    values = {
        "modelDefaults": {
            "replicaCount": 1,
            "requestGPU": 1,
            "vllmConfig": {"enablePrefixCaching": True, "maxNumSeqs": 64},
        },
        "models": [
            {
                "name": "cpu",
                "modelURL": "org/m",
                "replicaCount": 0,
                "requestGPU": 0,
                "vllmConfig": {"enablePrefixCaching": False},
            }
        ],
        "router": {"enabled": False},
    }
    r = render(values)
    assert r.returncode == 0, r.stderr
    dep = r.workload("cpu")
    engine = dep["spec"]["template"]["spec"]["containers"][0]
    assert dep["spec"]["replicas"] == 0
    assert "nvidia.com/gpu" not in engine["resources"]["requests"]
    assert "limits" not in engine["resources"]
    assert "--no-enable-prefix-caching" in engine["args"] and "--max-num-seqs=64" in engine["args"]
    assert dep["spec"]["strategy"]["type"] == "RollingUpdate"  # no GPU, nothing to deadlock on
