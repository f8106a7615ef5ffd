"""LoRA adapters through the routers as the chart renders them, in front of simulated engines that serve the
adapters they are given with `--lora-modules`, as vLLM does (listed on the engine's /v1/models with the base
model as `parent`, answered under the adapter's name).

The tier's values give `llama3` two adapters (tests/e2e/values.yaml). LiteLLM lists each as a model and
sends a request naming one to llama3's engine. vllm-router's pod discovery (`--enable-igw`) registers an
engine under the first model of its /v1/models only, so the chart refuses adapters with it; its static
single-model mode forwards everything to its one engine, adapters included. Both are shown here against
vllm-router itself.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
import yaml
from e2e_harness import VALUES, VENV_BIN, VLLM_ROUTER_SETS, helm_template, without_lora_adapters
from vllm_models.local.processes import Proc
from vllm_models.local.stack import Engine, Router, engines_from, start_router

pytestmark = pytest.mark.e2e

ADAPTERS = [a["name"] for a in yaml.safe_load(VALUES.read_text())["models"][0]["loraAdapters"]]
BASE = "llama3"
as_litellm = pytest.mark.parametrize("router", ["litellm"], indirect=True)


def ask(client: httpx.Client, model: str, text: str = "hello") -> httpx.Response:
    return client.post(
        "/v1/chat/completions", json={"model": model, "messages": [{"role": "user", "content": text}]}
    )


def answered_by(body: dict[str, object], engine: Engine, model: str) -> bool:
    choices = body["choices"]
    assert isinstance(choices, list)
    return f"engine={engine.engine_id} model={model} " in str(choices[0]["message"]["content"])


def engine_key(engine: Engine) -> dict[str, str]:
    return {"Authorization": f"Bearer {engine.api_key}"} if engine.api_key else {}


@as_litellm
def test_engine_serves_the_adapters_the_chart_rendered(router: Router) -> None:
    engine = router.engines[BASE]
    assert engine.adapters == ADAPTERS
    cards = httpx.get(f"{engine.url}/v1/models", headers=engine_key(engine), timeout=10).json()["data"]
    assert [c["id"] for c in cards] == [BASE, *ADAPTERS]
    assert [c["parent"] for c in cards[1:]] == [BASE] * len(ADAPTERS)
    # the hub adapter at the path stage-weights links, the local one where it was written
    assert cards[1]["root"] == "/cache/huggingface/vllm-models-lora/llama3-sql"
    assert cards[2]["root"] == "/adapters/legal"


@as_litellm
def test_litellm_lists_each_adapter_as_a_model(router: Router, client: httpx.Client) -> None:
    ids = [c["id"] for c in client.get("/v1/models").json()["data"]]
    assert set(ADAPTERS) <= set(ids), ids


@as_litellm
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_request_naming_an_adapter_reaches_the_base_engine_as_that_adapter(
    router: Router, client: httpx.Client, adapter: str
) -> None:
    engine = router.engines[BASE]
    before = Counter(httpx.get(f"{engine.url}/sim/stats", timeout=5).json()["paths"])
    r = ask(client, adapter, "which adapter?")
    assert r.status_code == 200, r.text
    assert answered_by(r.json(), engine, adapter), r.text
    body = {"model": adapter, "messages": [{"role": "user", "content": "stream"}], "stream": True}
    with client.stream("POST", "/v1/chat/completions", json=body) as stream:
        assert stream.status_code == 200
        chunks = [json.loads(line[6:]) for line in stream.iter_lines() if line.startswith("data: {")]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert f"engine={engine.engine_id} model={adapter} " in text, text
    after = Counter(httpx.get(f"{engine.url}/sim/stats", timeout=5).json()["paths"])
    assert after["/v1/chat/completions"] - before["/v1/chat/completions"] == 2


def test_vllm_router_with_pod_discovery_is_refused_adapters(helm: str) -> None:
    with pytest.raises(
        AssertionError, match=r"vllm-router with discovery=kubernetes cannot route LoRA adapters"
    ):
        helm_template(helm, [VALUES], *VLLM_ROUTER_SETS)


def _stop(procs: list[Proc | Engine]) -> None:
    for p in reversed(procs):
        p.stop()


def test_vllm_router_pod_discovery_registers_an_engine_under_its_base_model_only(
    helm: str, tmp_path: Path
) -> None:
    """Why the chart refuses: vllm-router 0.1.17 in front of engines serving adapters, each engine registered
    as its discovery does. The adapters are missing from /v1/models, and a request naming one is an unknown
    model that round robin sends to every engine in turn: only the base model's engine answers it."""
    with_adapters = helm_template(helm, [VALUES])  # the engines as rendered with their adapters
    release = helm_template(helm, [without_lora_adapters(tmp_path)], *VLLM_ROUTER_SETS)
    engines = engines_from(release, tmp_path)
    engines[BASE].lora_modules = engines_from(with_adapters, tmp_path)[BASE].lora_modules
    procs: list[Proc | Engine] = []
    try:
        for engine in engines.values():
            procs.append(engine)
            engine.start()
        router = start_router(release, tmp_path, procs, VENV_BIN, engines=engines)
        with httpx.Client(base_url=router.url, timeout=30) as client:
            workers = client.get("/workers").json()["workers"]
            registered = {w["url"]: w["model_id"] for w in workers}
            assert registered[engines[BASE].url] == BASE
            listed = client.get("/v1/models").json()["models"]
            assert BASE in listed and not set(ADAPTERS) & set(listed), listed
            answers = [ask(client, ADAPTERS[0]) for _ in range(len(engines))]  # round robin: each engine once
        statuses = Counter(a.status_code for a in answers)
        assert statuses == {200: 1, 404: len(engines) - 1}, statuses
        assert all(answered_by(a.json(), engines[BASE], ADAPTERS[0]) for a in answers if a.status_code == 200)
        assert all("does not exist" in a.text for a in answers if a.status_code == 404)
    finally:
        _stop(procs)


def test_vllm_router_static_discovery_serves_one_models_adapters(helm: str, tmp_path: Path) -> None:
    one = tmp_path / "one-model.yaml"
    (llama3,) = [m for m in yaml.safe_load(VALUES.read_text())["models"] if m["name"] == BASE]
    one.write_text(yaml.safe_dump({"models": [llama3]}), encoding="utf-8")
    release = helm_template(helm, [VALUES, one], *VLLM_ROUTER_SETS, "router.vllmRouter.discovery=static")
    procs: list[Proc | Engine] = []
    try:
        router = start_router(release, tmp_path, procs, VENV_BIN)
        with httpx.Client(base_url=router.url, timeout=30) as client:
            listed = client.get("/v1/models").json()  # proxied from the engine: OpenAI's list
            assert [c["id"] for c in listed["data"]] == [BASE, *ADAPTERS]
            for adapter in ADAPTERS:
                r = ask(client, adapter)
                assert r.status_code == 200, r.text
                assert answered_by(r.json(), router.engines[BASE], adapter), r.text
    finally:
        _stop(procs)
