"""Open WebUI as the chart renders it, in front of the rendered router and one simulated engine per model.

The real `open-webui` (the release the chart's image runs, from hack/open-webui-venv) starts with exactly
the environment the chart renders, the router's Service address mapped to the LiteLLM router already
running for the tier, and everything is asserted through Open WebUI's own HTTP API: the first sign-up
becomes the admin, the model list is the router's, and a chat reaches the engine of the chosen model
(every simulated engine names itself in its answer).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from e2e_harness import NAMESPACE, VALUES, helm_template
from vllm_models.local.manifest import Release
from vllm_models.local.openwebui import OpenWebUI, start_open_webui
from vllm_models.local.processes import Proc
from vllm_models.local.stack import Router

from tests.support import REPO_ROOT

# vllm-router 0.1.17 answers /v1/models in a form OpenAI clients read as empty (test_router.py): Open
# WebUI in front of it would list nothing, so it runs in front of LiteLLM, the default router.
pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("router", ["litellm"], indirect=True)]

MODELS = ("llama3", "qwen", "coder")
# Chats by the id a user picks -> the model whose engine must answer (a LoRA adapter: its base model's).
CHATS = {"llama3": "llama3", "qwen": "qwen", "coder": "coder", "llama3-sql": "llama3"}
OPEN_WEBUI_VALUES = Path(__file__).with_name("open-webui-values.yaml")
OPEN_WEBUI_VENV = REPO_ROOT / "hack" / "open-webui-venv"
# The Secret open-webui-values.yaml names, as the cluster would hold it.
SECRET_KEY_SECRET = f"""
apiVersion: v1
kind: Secret
metadata:
  name: open-webui-secret
  namespace: {NAMESPACE}
stringData:
  secret-key: e2e-open-webui-secret-key-of-32-bytes-or-more
"""
ADMIN = {"name": "Admin", "email": "admin@example.com", "password": "e2e-admin-password"}


@pytest.fixture(scope="module")
def open_webui_python() -> str:
    """Open WebUI's venv python; hack/open-webui-venv builds it on first use and reuses it after."""
    proc = subprocess.run(
        [str(OPEN_WEBUI_VENV)], stdout=subprocess.PIPE, stderr=None, text=True, check=False, timeout=1800
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise AssertionError(f"hack/open-webui-venv failed (exit {proc.returncode}); run it to see why")
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def release(helm: str) -> Release:
    rendered = helm_template(helm, [VALUES, OPEN_WEBUI_VALUES])
    return Release(rendered.objects + Release.parse(SECRET_KEY_SECRET).objects)


@pytest.fixture(scope="module")
def open_webui(
    release: Release, router: Router, open_webui_python: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OpenWebUI]:
    # The router running for the tier is the one this release renders: turning Open WebUI on changes
    # nothing of the router.
    assert release.router_pod() == router.release.router_pod()
    started: list[Proc] = []
    try:
        yield start_open_webui(
            release, router.url, open_webui_python, tmp_path_factory.mktemp("open-webui"), started
        )
    finally:
        for p in reversed(started):
            p.stop()


@pytest.fixture(scope="module")
def admin_token(open_webui: OpenWebUI) -> str:
    """The first account signed up becomes the admin."""
    r = httpx.post(f"{open_webui.url}/api/v1/auths/signup", json=ADMIN, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["role"] == "admin", body
    return str(body["token"])


@pytest.fixture
def webui(open_webui: OpenWebUI, admin_token: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=open_webui.url, headers=headers, timeout=60) as c:
        yield c


def test_open_webui_talks_to_the_router_with_its_master_key(open_webui: OpenWebUI, router: Router) -> None:
    # The key Open WebUI sends is the router's master key, read from the router's Secret.
    assert open_webui.env["OPENAI_API_BASE_URL"] == f"{router.url}/v1"
    assert open_webui.env["OPENAI_API_KEY"] == router.key != ""


def test_open_webui_boots_without_reaching_outside(open_webui: OpenWebUI) -> None:
    # Every connection the process opened until it served /health: none at all with the chart's
    # settings (without OLLAMA_BASE_URL it would probe Ollama's ports; with an embedding model, the hub).
    assert open_webui.boot_connections == []


def test_a_chat_connects_only_to_the_router(
    open_webui: OpenWebUI, router: Router, webui: httpx.Client
) -> None:
    r = webui.post(
        "/api/chat/completions",
        json={"model": "coder", "messages": [{"role": "user", "content": "hi"}], "stream": False},
    )
    assert r.status_code == 200, r.text
    port = int(router.url.rsplit(":", 1)[1])
    assert set(open_webui.connected_to()) == {repr(("127.0.0.1", port))}


def test_the_admin_signs_in_again(open_webui: OpenWebUI, admin_token: str) -> None:
    credentials = {"email": ADMIN["email"], "password": ADMIN["password"]}
    r = httpx.post(f"{open_webui.url}/api/v1/auths/signin", json=credentials, timeout=60)
    assert r.status_code == 200, r.text
    me = httpx.get(
        f"{open_webui.url}/api/v1/auths/",
        headers={"Authorization": f"Bearer {r.json()['token']}"},
        timeout=60,
    )
    assert me.status_code == 200, me.text
    assert (me.json()["email"], me.json()["role"]) == (ADMIN["email"], "admin")
    wrong = httpx.post(
        f"{open_webui.url}/api/v1/auths/signin", json={**credentials, "password": "wrong"}, timeout=60
    )
    assert wrong.status_code == 400, wrong.text


def test_open_webui_lists_the_served_models(webui: httpx.Client, router: Router) -> None:
    listed = httpx.get(f"{router.url}/v1/models", headers=router.headers(), timeout=60)
    assert listed.status_code == 200, listed.text
    served = {m["id"] for m in listed.json()["data"]}
    assert served >= set(CHATS), served  # every model and the adapters
    r = webui.get("/api/models")
    assert r.status_code == 200, r.text
    from_router = sorted(m["id"] for m in r.json()["data"] if m.get("owned_by") == "openai")
    assert from_router == sorted(served), r.json()["data"]


def test_open_webui_refuses_a_request_without_a_token(open_webui: OpenWebUI) -> None:
    assert httpx.get(f"{open_webui.url}/api/models", timeout=60).status_code == 401


@pytest.mark.parametrize("model", CHATS)
def test_a_chat_in_open_webui_reaches_the_models_engine(webui: httpx.Client, model: str) -> None:
    body = {"model": model, "messages": [{"role": "user", "content": f"hello {model}"}], "stream": False}
    r = webui.post("/api/chat/completions", json=body)
    assert r.status_code == 200, r.text
    content = r.json()["choices"][0]["message"]["content"]
    assert f"engine=sim-{CHATS[model]} " in content, content
    assert f"reply to: hello {model}" in content, content
