"""The router as the chart renders it, in front of one simulated engine per model (both router engines).

Every answer of a simulated engine names it (`engine=sim-<model>` in the text, `system_fingerprint`), so
each test checks not only that a request succeeded but which engine answered it. Known upstream gaps are
asserted as the behaviour we want and marked xfail(strict=True) with the upstream reference: when
upstream fixes them the test turns XPASS, fails, and the marker must go.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from conftest import start_release
from e2e_harness import VALUES, helm_template, without_lora_adapters
from vllm_models.local.processes import Proc, wait_until
from vllm_models.local.stack import Engine, Router

pytestmark = pytest.mark.e2e

MODELS = ("llama3", "qwen", "coder")
E2E_ROUTER_VALUES = yaml.safe_load(VALUES.read_text())["router"]
VLLM_ROUTER_MODELS_GAP = (
    "vllm-router 0.1.17 answers /v1/models in IGW mode as {'models': [...]}, not an OpenAI list "
    "(vllm-project/router#133, fix in PR #134)"
)

# Bounded all the same: --request-timeout-secs ends the request and the other models keep serving.
VLLM_ROUTER_TIMEOUT_GAP = "vllm-router 0.1.17 answers an engine timeout with 500 'Request failed', not 504"


def listed_ids(router: Router) -> set[str]:
    """Every id the router lists: each model's, and each LoRA adapter its engine serves."""
    return {router.model_id(m) for m in MODELS} | {a for e in router.engines.values() for a in e.adapters}


def chat(
    client: httpx.Client, router: Router, model: str, text: str = "hello", **extra: object
) -> httpx.Response:
    body = {"model": router.model_id(model), "messages": [{"role": "user", "content": text}], **extra}
    return client.post("/v1/chat/completions", json=body)


def assert_from(router: Router, model: str, text: str) -> None:
    engine = router.engines[model]
    assert f"engine={engine.engine_id} model={engine.served_name}" in text, f"{model}: wrong engine: {text!r}"


def sse_events(resp: httpx.Response) -> list[str]:
    return [line[len("data: ") :] for line in resp.iter_lines() if line.startswith("data: ")]


# --- model list -------------------------------------------------------------------------------------


def test_models_lists_every_model_in_openai_format(
    router: Router, client: httpx.Client, request: pytest.FixtureRequest
) -> None:
    if router.engine == "vllm-router":
        request.applymarker(pytest.mark.xfail(strict=True, reason=VLLM_ROUTER_MODELS_GAP))
    r = client.get("/v1/models")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body.get("object") == "list", body
    assert all(card.get("object") == "model" for card in body["data"]), body
    assert {card["id"] for card in body["data"]} == listed_ids(router)


def test_models_route_names_every_model(router: Router, client: httpx.Client) -> None:
    """What each router answers today, format aside: every model (and adapter), nothing else."""
    r = client.get("/v1/models")
    assert r.status_code == 200, r.text
    body = r.json()
    names = {c["id"] for c in body["data"]} if "data" in body else set(body["models"])
    assert names == listed_ids(router)


def test_requests_use_the_model_name_not_the_served_name(
    router: Router, request: pytest.FixtureRequest
) -> None:
    """`qwen` is served as `qwen2.5-7b-instruct`. LiteLLM's model_list maps the model's `name` to it;
    vllm-router routes by the name each engine reports, so clients must send the served name."""
    if router.engine == "vllm-router":
        request.applymarker(
            pytest.mark.xfail(
                strict=True,
                reason="vllm-router 0.1.17 has no model aliases: "
                "requests must use the engine's --served-model-name",
            )
        )
    with httpx.Client(base_url=router.url, headers=router.headers(), timeout=30) as client:
        r = client.post(
            "/v1/chat/completions", json={"model": "qwen", "messages": [{"role": "user", "content": "x"}]}
        )
    assert r.status_code == 200, r.text
    assert_from(router, "qwen", r.json()["choices"][0]["message"]["content"])


# --- routing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_chat_completion_reaches_its_engine(router: Router, client: httpx.Client, model: str) -> None:
    r = chat(client, router, model, f"which engine answers {model}?")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion"
    assert_from(router, model, body["choices"][0]["message"]["content"])
    assert body.get("system_fingerprint") in (None, router.engines[model].engine_id)


@pytest.mark.parametrize("model", MODELS)
def test_text_completion_reaches_its_engine(router: Router, client: httpx.Client, model: str) -> None:
    r = client.post(
        "/v1/completions", json={"model": router.model_id(model), "prompt": "once upon", "max_tokens": 8}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "text_completion"
    assert_from(router, model, body["choices"][0]["text"])


@pytest.mark.parametrize("model", MODELS)
def test_streaming_chat_reaches_its_engine(router: Router, client: httpx.Client, model: str) -> None:
    body = {
        "model": router.model_id(model),
        "messages": [{"role": "user", "content": "stream"}],
        "stream": True,
    }
    with client.stream("POST", "/v1/chat/completions", json=body) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r)
    assert events[-1] == "[DONE]", events[-3:]
    chunks = [json.loads(e) for e in events[:-1]]
    assert len(chunks) > 2, "the answer arrived in one piece: not streamed"
    text = "".join((c["choices"][0]["delta"].get("content") or "") for c in chunks if c["choices"])
    assert_from(router, model, text)


@pytest.mark.parametrize("model", MODELS)
def test_streaming_text_completion_reaches_its_engine(
    router: Router, client: httpx.Client, model: str
) -> None:
    body = {"model": router.model_id(model), "prompt": "stream", "stream": True}
    with client.stream("POST", "/v1/completions", json=body) as r:
        assert r.status_code == 200, r.read()
        events = sse_events(r)
    assert events[-1] == "[DONE]", events[-3:]
    text = "".join(c["choices"][0].get("text") or "" for c in map(json.loads, events[:-1]) if c["choices"])
    assert_from(router, model, text)


@pytest.mark.parametrize("model", MODELS)
def test_embeddings_reach_their_engine(router: Router, client: httpx.Client, model: str) -> None:
    r = client.post("/v1/embeddings", json={"model": router.model_id(model), "input": "a sentence"})
    assert r.status_code == 200, r.text
    vector = r.json()["data"][0]["embedding"]
    # the simulator's embedding is a hash of its engine id and the input
    digest = hashlib.sha256(f"{router.engines[model].engine_id}:a sentence".encode()).digest()
    assert vector == pytest.approx([b / 255 for b in digest[:8]])


# --- errors -----------------------------------------------------------------------------------------


def test_unknown_model_gets_a_4xx_naming_the_available_models(
    router: Router, client: httpx.Client, request: pytest.FixtureRequest
) -> None:
    body = {"model": "no-such-model", "messages": [{"role": "user", "content": "x"}]}
    if router.engine == "vllm-router":
        request.applymarker(
            pytest.mark.xfail(
                strict=True,
                reason="vllm-router 0.1.17 (IGW) forwards an unknown model to some engine, whose 404 "
                "'The model ... does not exist.' names no other model",
            )
        )
    r = client.post("/v1/chat/completions", json=body)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert "no-such-model" in r.text
    assert all(router.model_id(m) in r.text for m in MODELS), r.text


@pytest.mark.parametrize("router", ["litellm"], indirect=True)
def test_unknown_model_is_a_404_on_every_route(router: Router, client: httpx.Client) -> None:
    """LiteLLM with the chart's hook (vllm-router's answer is an engine's, see the test above):
    completions and embeddings too, in OpenAI's error format."""
    for route, body in (
        ("/v1/completions", {"model": "no-such-model", "prompt": "x"}),
        ("/v1/embeddings", {"model": "no-such-model", "input": "x"}),
    ):
        r = client.post(route, json=body)
        assert r.status_code == 404, (route, r.status_code, r.text)
        assert "available models" in r.json()["error"]["message"]


def test_engine_down_answers_503_for_its_model_only_and_recovers(
    router: Router, client: httpx.Client
) -> None:
    down = router.engines["qwen"]
    down.stop()
    try:
        # LiteLLM sees the refused connection on the next request; vllm-router once its health checks
        # (router.vllmRouter.healthCheckIntervalSeconds x healthFailureThreshold) take the engine out.
        wait_until("qwen to answer 503", lambda: chat(client, router, "qwen").status_code == 503, 10)
        for _ in range(3):
            started = time.monotonic()
            answer = chat(client, router, "qwen")
            assert answer.status_code == 503, answer.text
            assert time.monotonic() - started < 2, "a model whose engine is down must answer at once"
        router.notes["down_answer"] = answer.text[:120]
        for other in ("llama3", "coder"):
            r = chat(client, router, other)
            assert r.status_code == 200, r.text
            assert_from(router, other, r.json()["choices"][0]["message"]["content"])
    finally:
        down.start()  # same port, so the router's config still points at it
    started = time.monotonic()
    wait_until(
        "qwen to answer again through the router", lambda: chat(client, router, "qwen").status_code == 200, 45
    )
    router.notes["recovery_seconds"] = round(time.monotonic() - started, 1)
    assert_from(router, "qwen", chat(client, router, "qwen").json()["choices"][0]["message"]["content"])


def deregister(router: Router, engine: Engine) -> None:
    """What vllm-router's pod discovery does when the model's last pod is gone: drop its worker."""
    quoted = urllib.parse.quote(engine.url, safe="")
    with httpx.Client(base_url=router.url, timeout=10) as c:
        answer = c.delete(f"/workers/{quoted}")
        if answer.status_code == 404:
            answer = c.post("/remove_worker", params={"url": engine.url})
    assert answer.is_success, f"removing {engine.url}: {answer.status_code} {answer.text}"


def register(router: Router, engine: Engine) -> None:
    with httpx.Client(base_url=router.url, timeout=10) as c:
        answer = c.post("/workers", json={"url": engine.url})
    assert answer.is_success, f"adding {engine.url}: {answer.status_code} {answer.text}"


VLLM_ROUTER_ZERO_GAP = (
    "vllm-router 0.1.17 with pod discovery forgets a model whose last pod is gone: it answers 404 "
    "'The model `coder` does not exist.' (at once) instead of 503"
)


@contextlib.contextmanager
def scaled_to_zero(router: Router, client: httpx.Client, model: str) -> Iterator[None]:
    """`model` with no replica for the duration: its engine stopped (its Service has no endpoint, which
    kube-proxy rejects with ICMP port unreachable: a refused connection, not a timeout; here the stopped
    engine's loopback address refuses too) and, under vllm-router's pod discovery, its worker dropped as
    discovery drops a deleted pod. Afterwards a replica again, at the same address, serving."""
    (scaled,) = [o for o in router.release.of_kind("ScaledObject") if o["spec"]["minReplicaCount"] == 0]
    assert scaled["metadata"]["labels"]["vllm-models.io/model"] == model, "the release scales it to zero"
    assert "replicas" not in router.release.engine_workloads()[model]["spec"]
    _, container = router.release.router_pod()
    discovered = "--service-discovery" in [str(a) for a in container.get("args") or []]
    engine = router.engines[model]
    engine.stop()
    if discovered:
        deregister(router, engine)
    try:
        yield
    finally:
        engine.start()
        if discovered:
            register(router, engine)
    wait_until(f"{model} to answer again", lambda: chat(client, router, model).status_code == 200, 45)


def test_a_model_scaled_to_zero_answers_at_once_while_the_others_serve(
    router: Router, client: httpx.Client
) -> None:
    """`coder` is autoscaled by KEDA with minReplicas 0: with no replica, its requests fail at once (no
    hang until the request timeout) and every other model keeps serving."""
    with scaled_to_zero(router, client, "coder"):
        wait_until("coder to fail", lambda: chat(client, router, "coder").status_code >= 400, 10)
        timed = []
        for _ in range(5):
            started = time.monotonic()
            answer = chat(client, router, "coder")
            timed.append((answer.status_code, time.monotonic() - started))
        router.notes["zero_replicas"] = {
            "answers": sorted({c for c, _ in timed}),
            "answer": answer.text[:100],
        }
        slowest = max(seconds for _, seconds in timed)
        router.notes["zero_replicas"]["slowest_seconds"] = round(slowest, 3)
        assert all(code >= 400 for code, _ in timed), timed
        assert slowest < 2, f"a model with no replica must answer at once, took {slowest:.2f} s"
        for other in ("llama3", "qwen"):
            r = chat(client, router, other)
            assert r.status_code == 200, r.text
            assert_from(router, other, r.json()["choices"][0]["message"]["content"])


def test_a_model_scaled_to_zero_answers_503(
    router: Router, client: httpx.Client, request: pytest.FixtureRequest
) -> None:
    """503 (the model exists, no replica serves it right now), never 404 (which says the model does not
    exist, so a client would stop asking)."""
    if router.engine == "vllm-router":
        request.applymarker(pytest.mark.xfail(strict=True, reason=VLLM_ROUTER_ZERO_GAP))
    with scaled_to_zero(router, client, "coder"):
        wait_until("coder to fail", lambda: chat(client, router, "coder").status_code >= 400, 10)
        answers = [chat(client, router, "coder") for _ in range(3)]
    assert [a.status_code for a in answers] == [503] * 3, answers[-1].text


def test_engine_that_never_answers_times_out_with_504(router: Router, client: httpx.Client) -> None:
    timeout = E2E_ROUTER_VALUES["requestTimeoutSeconds"]
    hung = router.engines["coder"]
    hung.set_delay(10 * timeout)
    try:
        started = time.monotonic()
        answer = chat(client, router, "coder")
        elapsed = time.monotonic() - started
        # one attempt per router.retries + 1, each bounded by the timeout, plus the retries' backoff
        attempts = E2E_ROUTER_VALUES["retries"] + 1
        assert elapsed < attempts * timeout + 5, f"answered after {elapsed:.1f} s"
        assert chat(client, router, "llama3").status_code == 200
    finally:
        hung.set_delay(0)
        wait_until("coder to answer again", lambda: chat(client, router, "coder").status_code == 200, 45)
    if router.engine == "vllm-router" and answer.status_code == 500:
        pytest.xfail(f"{VLLM_ROUTER_TIMEOUT_GAP}: {answer.text[:120]}")
    assert answer.status_code == 504, answer.text


def test_router_is_ready_while_one_engine_answers_and_unready_when_none_does(
    router: Router, client: httpx.Client
) -> None:
    assert router.probe_readiness().returncode == 0
    for engine in router.engines.values():
        engine.stop()
    try:
        probe = router.probe_readiness()
        assert probe.returncode == 1, probe.stderr
        assert "no engine answers /health" in probe.stderr
        router.engines["llama3"].start()
        assert router.probe_readiness().returncode == 0, "one answering engine keeps the router Ready"
    finally:
        for engine in router.engines.values():
            if not (engine.proc and engine.proc.alive()):
                engine.start()
    for model in MODELS:
        wait_until(f"{model} to answer again", lambda m=model: chat(client, router, m).status_code == 200, 45)


# --- auth -------------------------------------------------------------------------------------------


def test_request_without_key_is_401(router: Router, helm: str) -> None:
    if router.engine == "vllm-router":
        # vllm-router cannot check client keys (its --api-key authenticates the router to the engines),
        # so the chart refuses to render it with auth on instead of serving an open endpoint.
        with pytest.raises(AssertionError, match=r"router.auth.enabled=false"):
            helm_template(helm, [VALUES], "router.engine=vllm-router")
        return
    body = {"model": "llama3", "messages": [{"role": "user", "content": "x"}]}
    for path, kw in (("/v1/chat/completions", {"json": body}), ("/v1/models", {})):
        r = httpx.request("POST" if kw else "GET", router.url + path, timeout=30, **kw)
        assert r.status_code == 401, (path, r.status_code, r.text)


def test_request_with_a_wrong_key_is_401(router: Router) -> None:
    """LiteLLM alone answers 400 'No connected db.' without a database; the chart's `master_key_only`
    custom auth makes it the 401 a client expects."""
    if router.engine == "vllm-router":
        pytest.xfail("vllm-router 0.1.17 has no client authentication; the chart requires auth off for it")
    for path in ("/v1/models", "/v1/chat/completions"):
        r = httpx.request(
            "GET" if path == "/v1/models" else "POST",
            router.url + path,
            headers={"Authorization": "Bearer sk-wrong"},
            json=None if path == "/v1/models" else {"model": "llama3", "messages": []},
            timeout=30,
        )
        assert r.status_code == 401, (path, r.status_code, r.text)


def test_engines_require_the_key_the_router_sends(router: Router, helm: str, tmp_path: Path) -> None:
    """The values give the engines an API key; LiteLLM's answers above carried it (os.environ/... in its
    model_list). vllm-router cannot: the chart refuses to render it with an engine key."""
    engine = router.engines["llama3"]
    if router.engine == "vllm-router":
        assert not engine.api_key
        values = without_lora_adapters(tmp_path)  # the chart refuses those with vllm-router first
        with pytest.raises(AssertionError, match=r"unset engineApiKey"):
            helm_template(helm, [values], "router.engine=vllm-router", "router.auth.enabled=false")
        return
    assert engine.api_key, "the e2e values set engineApiKey; the rendered engine pods must use it"
    assert httpx.get(engine.url + "/v1/models", timeout=10).status_code == 401


# --- load -------------------------------------------------------------------------------------------


def test_concurrent_requests_all_complete_at_the_right_engine(router: Router) -> None:
    total, parallel = 200, 32
    before = {
        m: httpx.get(f"{e.url}/sim/stats", timeout=5).json()["paths"] for m, e in router.engines.items()
    }

    async def run() -> list[tuple[str, int, str]]:
        limits = httpx.Limits(max_connections=parallel)
        async with httpx.AsyncClient(
            base_url=router.url, headers=router.headers(), timeout=60, limits=limits
        ) as ac:
            gate = asyncio.Semaphore(parallel)

            async def one(i: int) -> tuple[str, int, str]:
                model = MODELS[i % len(MODELS)]
                body = {
                    "model": router.model_id(model),
                    "messages": [{"role": "user", "content": f"request {i}"}],
                }
                async with gate:
                    r = await ac.post("/v1/chat/completions", json=body)
                text = r.json()["choices"][0]["message"]["content"] if r.status_code == 200 else r.text
                return model, r.status_code, text

            return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(total))), timeout=90)

    started = time.monotonic()
    results = asyncio.run(run())
    router.notes["concurrent_seconds"] = round(time.monotonic() - started, 2)
    failed = [(m, s, t[:200]) for m, s, t in results if s != 200]
    assert not failed, f"{len(failed)} of {total} failed, e.g. {failed[:3]}"
    for i, (model, _, text) in enumerate(results):
        assert_from(router, model, text)
        assert f"request {i}" in text
    sent = Counter(m for m, _, _ in results)
    for m, e in router.engines.items():
        after = httpx.get(f"{e.url}/sim/stats", timeout=5).json()["paths"]
        got = after.get("/v1/chat/completions", 0) - before[m].get("/v1/chat/completions", 0)
        assert got == sent[m], f"{m}: sent {sent[m]}, its engine saw {got}"


# --- metrics ----------------------------------------------------------------------------------------


def test_router_serves_prometheus_metrics(router: Router, client: httpx.Client) -> None:
    if router.engine == "litellm":
        r = httpx.get(router.url + "/metrics/", timeout=10)
        assert r.status_code == 200, r.text
        assert "litellm_" in r.text, r.text[:500]
    else:
        r = httpx.get(f"http://127.0.0.1:{router.notes['metrics_port']}/metrics", timeout=10)
        assert r.status_code == 200, r.text
        assert "vllm_router" in r.text, r.text[:500]


# --- vllm-router without pod discovery ----------------------------------------------------------------


def test_vllm_router_static_worker_urls_serve_one_model(helm: str, tmp_path: Path) -> None:
    """`router.vllmRouter.discovery: static` renders --worker-urls with the Service address (no Role);
    vllm-router 0.1.17 uses worker URLs only in single-model mode, so the chart allows one model."""
    with pytest.raises(AssertionError, match=r"discovery=static serves one model"):
        helm_template(
            helm,
            [VALUES],
            "router.engine=vllm-router",
            "router.auth.enabled=false",
            "engineApiKey.value=",
            "router.vllmRouter.discovery=static",
        )
    one = tmp_path / "one-model.yaml"
    one.write_text(
        yaml.safe_dump({"models": [{"name": "llama3", "modelURL": "meta-llama/Llama-3.2-3B-Instruct"}]})
    )
    started: list[Proc | Engine] = []
    try:
        router = start_release(
            helm, tmp_path, started, "vllm-router", (one,), ("router.vllmRouter.discovery=static",)
        )
        assert not router.release.of_kind("Role"), "static discovery needs no access to the API server"
        with httpx.Client(base_url=router.url, timeout=30) as client:
            r = chat(client, router, "llama3")
        assert r.status_code == 200, r.text
        assert_from(router, "llama3", r.json()["choices"][0]["message"]["content"])
    finally:
        for p in reversed(started):
            p.stop()
