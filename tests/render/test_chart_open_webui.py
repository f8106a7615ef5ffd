"""openWebUI: what the chart renders for Open WebUI, and who may talk to whom with it.

The running Open WebUI (sign-up, model list, chat through the router) is the e2e tier's
(tests/e2e/test_open_webui.py); here: off by default, strictly valid objects, keys only by reference,
a data volume that outlives the release, the offline settings, and the NetworkPolicies' verdicts
from kube-network-policies' own evaluator (as in test_network_policy_meaning.py).
"""

from __future__ import annotations

from itertools import count
from pathlib import Path
from typing import Any

import pytest
from render_helpers import K8S_VERSIONS, NAMESPACE, RELEASE, Rendered, strict_errors
from test_network_policy_meaning import HTTPS, HUB_IP, World, _pods_of, install_notes

from tests.support import find_tool

pytestmark = pytest.mark.render

MODELS = [{"name": "alpha", "modelURL": "org/alpha"}, {"name": "beta", "modelURL": "org/beta"}]
MASTER_KEY = "sk-router-master-key-literal"
BASE: dict[str, Any] = {
    "models": MODELS,
    "router": {"auth": {"masterKey": {"existingSecret": "vllm-api-key"}}},
}
ON: dict[str, Any] = {**BASE, "openWebUI": {"enabled": True, "secretKey": {"existingSecret": "owui"}}}
COMPONENT = "app.kubernetes.io/component"
DNS_IP = "10.96.0.10"


def open_webui_objects(r: Rendered) -> list[dict[str, Any]]:
    return [o for o in r.objects if (o["metadata"].get("labels") or {}).get(COMPONENT) == "open-webui"]


def container(r: Rendered) -> dict[str, Any]:
    (deployment,) = [o for o in open_webui_objects(r) if o["kind"] == "Deployment"]
    (c,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(c)


def env(r: Rendered) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container(r)["env"]}


def test_off_by_default_renders_nothing_of_open_webui(render) -> None:
    r = render(BASE)
    assert r.returncode == 0, r.stderr
    assert open_webui_objects(r) == []
    assert "open-webui" not in r.stdout


def test_enabled_renders_a_deployment_service_pvc_and_network_policy(render) -> None:
    r = render(ON)
    assert r.returncode == 0, r.stderr
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in open_webui_objects(r))
    assert kinds == [
        ("Deployment", "vllm-models-open-webui"),
        ("NetworkPolicy", "vllm-models-open-webui"),
        ("PersistentVolumeClaim", "vllm-models-open-webui-data"),
        ("Service", "vllm-models-open-webui"),
    ]


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_open_webui_objects_validate_strictly(render, version: str) -> None:
    r = render(ON)
    assert r.returncode == 0, r.stderr
    errors = strict_errors(open_webui_objects(r), version)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize(
    ("master_key", "secret"),
    [
        ({"existingSecret": "vllm-api-key", "secretKey": "mk"}, {"name": "vllm-api-key", "key": "mk"}),
        ({"value": MASTER_KEY}, {"name": "vllm-models-router-master-key", "key": "master-key"}),
    ],
    ids=["existing-secret", "chart-made-secret"],
)
def test_the_router_key_comes_only_from_the_routers_secret(
    render, master_key: dict[str, str], secret: dict[str, str]
) -> None:
    r = render({**ON, "router": {"auth": {"masterKey": master_key}}})
    assert r.returncode == 0, r.stderr
    key = env(r)["OPENAI_API_KEY"]
    assert key == {"name": "OPENAI_API_KEY", "valueFrom": {"secretKeyRef": secret}}
    # the router reads the same Secret, and no literal key is anywhere in Open WebUI's objects
    router = next(
        o for o in r.objects if o["kind"] == "Deployment" and o["metadata"]["labels"][COMPONENT] == "router"
    )
    (litellm,) = router["spec"]["template"]["spec"]["containers"]
    router_env = {e["name"]: e for e in litellm["env"]}
    assert router_env["LITELLM_MASTER_KEY"]["valueFrom"] == key["valueFrom"]
    assert MASTER_KEY not in str(open_webui_objects(r))


def test_open_webui_secret_key_comes_from_the_named_secret(render) -> None:
    values = {**ON, "openWebUI": {"enabled": True, "secretKey": {"existingSecret": "s", "secretKey": "k"}}}
    r = render(values)
    assert r.returncode == 0, r.stderr
    assert env(r)["WEBUI_SECRET_KEY"]["valueFrom"] == {"secretKeyRef": {"name": "s", "key": "k"}}
    assert not [o for o in r.objects if o["kind"] == "Secret" and "open-webui" in o["metadata"]["name"]]


def test_auth_off_sends_no_key(render) -> None:
    r = render({**ON, "router": {"auth": {"enabled": False}}})
    assert r.returncode == 0, r.stderr
    assert "OPENAI_API_KEY" not in env(r)


def test_the_only_model_provider_is_the_router_service(render) -> None:
    values = {**ON, "router": {**ON["router"], "service": {"port": 8081}}}
    r = render(values)
    assert r.returncode == 0, r.stderr
    e = env(r)
    assert (
        e["OPENAI_API_BASE_URL"]["value"]
        == f"http://vllm-models-router.{NAMESPACE}.svc.cluster.local:8081/v1"
    )
    assert e["ENABLE_OPENAI_API"]["value"] == "True"
    assert e["ENABLE_OLLAMA_API"]["value"] == "False"
    service = r.get("Service", "vllm-models-router")
    assert [p["port"] for p in service["spec"]["ports"]] == [8081]


def test_open_webui_boots_offline(render) -> None:
    e = {k: v.get("value") for k, v in env(render(ON)).items()}
    assert e["OFFLINE_MODE"] == "True"  # no Hugging Face downloads, no version check, no auto-updates
    assert e["HF_HUB_OFFLINE"] == "1"
    assert e["RAG_EMBEDDING_MODEL"] == e["RAG_RERANKING_MODEL"] == ""  # no local model to load
    assert e["BYPASS_EMBEDDING_AND_RETRIEVAL"] == "True"
    assert (e["ANONYMIZED_TELEMETRY"], e["DO_NOT_TRACK"], e["SCARF_NO_ANALYTICS"]) == (
        "False",
        "True",
        "True",
    )
    assert e["ENABLE_COMMUNITY_SHARING"] == "False"


def test_data_pvc_is_kept_on_uninstall_and_by_argo_cd(render) -> None:
    r = render(ON)
    pvc = r.get("PersistentVolumeClaim", "vllm-models-open-webui-data")
    annotations = pvc["metadata"]["annotations"]
    assert annotations["helm.sh/resource-policy"] == "keep"
    assert annotations["argocd.argoproj.io/sync-options"] == "Prune=false,Delete=false"
    # the same annotations as a weight cache
    cache = r.get("PersistentVolumeClaim", "vllm-models-alpha-cache")
    assert annotations == cache["metadata"]["annotations"]
    mounts = {m["name"]: m["mountPath"] for m in container(r)["volumeMounts"]}
    assert mounts == {"data": env(r)["DATA_DIR"]["value"]}
    deployment = r.get("Deployment", "vllm-models-open-webui")
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}  # one writer of the SQLite volume
    (volume,) = deployment["spec"]["template"]["spec"]["volumes"]
    assert volume["persistentVolumeClaim"] == {"claimName": pvc["metadata"]["name"]}


def test_existing_claim_replaces_the_pvc(render) -> None:
    values = {**ON, "openWebUI": {**ON["openWebUI"], "persistence": {"existingClaim": "my-webui-data"}}}
    r = render(values)
    assert r.returncode == 0, r.stderr
    assert not [o for o in open_webui_objects(r) if o["kind"] == "PersistentVolumeClaim"]
    (volume,) = r.get("Deployment", "vllm-models-open-webui")["spec"]["template"]["spec"]["volumes"]
    assert volume["persistentVolumeClaim"] == {"claimName": "my-webui-data"}


def test_extra_env_comes_after_the_charts_own(render) -> None:
    extra = [{"name": "ENABLE_SIGNUP", "value": "False"}]
    r = render({**ON, "openWebUI": {**ON["openWebUI"], "extraEnv": extra}})
    assert r.returncode == 0, r.stderr
    assert container(r)["env"][-1] == extra[0]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {**BASE, "openWebUI": {"enabled": True}},
            "openWebUI.enabled needs openWebUI.secretKey.existingSecret",
        ),
        (
            {**ON, "router": {"enabled": False}},
            "openWebUI.enabled needs the router (router.enabled=true)",
        ),
        (
            {**ON, "openWebUI": {**ON["openWebUI"], "secretKey": {"value": "x"}}},
            "additional properties 'value'",
        ),
    ],
    ids=["no-secret-key", "no-router", "no-literal-secret-key"],
)
def test_open_webui_refuses_what_cannot_work(render, values: dict[str, Any], message: str) -> None:
    r = render(values)
    assert r.returncode != 0
    assert message in r.stderr, r.stderr


@pytest.fixture(scope="module")
def world(render) -> World:
    tool = find_tool("netpol-eval")
    if tool is None:
        pytest.skip("netpol-eval is not built: run ./hack/bootstrap netpol-eval")
    r = render(ON)
    assert r.returncode == 0, r.stderr
    pods = _pods_of(r, RELEASE, count(10))
    pods["curl"] = {"name": "curl", "namespace": NAMESPACE, "labels": {"app": "curl"}, "ip": "10.244.1.1"}
    return World(r, pods, r.of_kind("NetworkPolicy"), tool, 8000)


def test_open_webui_reaches_the_router(world: World) -> None:
    router = world.pods[f"{RELEASE}/router"]
    (port,) = [p["containerPort"] for c in router["containers"] for p in c.get("ports", [])]
    assert world.allowed(f"{RELEASE}/open-webui", f"{RELEASE}/router", port)
    # and resolves its Service name
    assert world.allowed(f"{RELEASE}/open-webui", DNS_IP, 53, "UDP")


def test_open_webui_cannot_bypass_the_router(world: World) -> None:
    # the engines admit the router only: Open WebUI never reaches an engine without the router's key
    for model in ("alpha", "beta"):
        assert not world.allowed(f"{RELEASE}/open-webui", f"{RELEASE}/{model}", world.engine_port)


def test_open_webui_reaches_nothing_outside(world: World) -> None:
    assert not world.allowed(f"{RELEASE}/open-webui", HUB_IP, HTTPS)


def test_users_reach_open_webui_on_its_port_only(world: World) -> None:
    assert world.allowed("curl", f"{RELEASE}/open-webui", 8080)
    assert not world.allowed("curl", f"{RELEASE}/open-webui", 8081)


def test_notes_say_how_to_reach_open_webui_and_warn_about_vllm_router(helm: str, tmp_path: Path) -> None:
    forward = "port-forward svc/vllm-models-open-webui 8081:80"
    assert forward not in install_notes(helm, tmp_path, BASE)
    notes = install_notes(helm, tmp_path, ON)
    assert forward in notes
    assert "vllm-router" not in notes
    vllm_router = {**ON, "router": {"engine": "vllm-router", "auth": {"enabled": False}}}
    assert "Open WebUI reads as an empty list" in install_notes(helm, tmp_path, vllm_router)
