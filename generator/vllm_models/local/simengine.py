"""A simulated vLLM engine: vLLM's OpenAI-compatible HTTP surface, without a model or a GPU.

The e2e tier and the quickstart's local endpoint start one per model behind the real router. It answers
the routes that vLLM's ``vllm serve`` answers and that routers call (``/health``, ``/v1/models``, chat and
text completions with and without SSE streaming, embeddings, ``/tokenize``, the ``/v1/*/render`` routes,
``/metrics``), in vLLM's response shapes. Every answer names the engine that produced it (``id``,
``system_fingerprint`` and the generated text carry ``--engine-id``), so a test can tell which backend a
router picked.

    python -m vllm_models.local.simengine --port 18001 --model llama3 --engine-id llama3 [--api-key KEY]
        [--lora-modules sql=/adapters/sql ...]

LoRA adapters given with ``--lora-modules`` (``name=path`` or vLLM's JSON form) are served as vLLM serves
them: listed on ``/v1/models`` after the base model (``parent`` the base, ``root`` the path), and a request
naming one is answered under that name.

Loopback only (``--host`` defaults to 127.0.0.1). ``GET /sim/stats`` returns per-route request counts.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

STATS: web.AppKey[Counter[str]] = web.AppKey("stats")
CONFIG: web.AppKey[argparse.Namespace] = web.AppKey("config", argparse.Namespace)
MAX_MODEL_LEN = 4096


def _error(status: int, message: str, err_type: str, param: str | None = None) -> web.Response:
    # vLLM's ErrorResponse: {"error": {"message", "type", "param", "code"}} (flat in vLLM < 0.10).
    body = {"error": {"message": message, "type": err_type, "param": param, "code": status}}
    return web.json_response(body, status=status)


def _tokens(text: str) -> list[int]:
    """Deterministic fake token ids: one per whitespace-separated word."""
    return [int(hashlib.sha1(w.encode()).hexdigest()[:6], 16) % 32000 for w in text.split()]


def _prompt_text(body: dict[str, Any]) -> str:
    if "messages" in body:
        parts = []
        for m in body.get("messages") or []:
            content = m.get("content")
            if isinstance(content, list):
                content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            parts.append(str(content or ""))
        return " ".join(parts)
    prompt = body.get("prompt", "")
    if isinstance(prompt, list):
        return " ".join(str(p) for p in prompt)
    return str(prompt)


@web.middleware
async def count_and_auth(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    cfg = request.app[CONFIG]
    request.app[STATS][request.path] += 1
    # vLLM checks --api-key on /v1/* only; /health, /metrics, /tokenize stay open.
    authorized = request.headers.get("Authorization", "") == f"Bearer {cfg.api_key}"
    if cfg.api_key and request.path.startswith("/v1") and not authorized:
        return web.json_response({"error": "Unauthorized"}, status=401)
    return await handler(request)


async def _json_body(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "invalid JSON body", "BadRequestError")
    if not isinstance(body, dict):
        return _error(400, "request body must be a JSON object", "BadRequestError")
    return body


async def _model_request(request: web.Request) -> dict[str, Any] | web.Response:
    """The request's JSON body when it names a model this engine serves; else the error to answer."""
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    if (bad := _check_model(request, body)) is not None:
        return bad
    return body


def _check_model(request: web.Request, body: dict[str, Any]) -> web.Response | None:
    cfg = request.app[CONFIG]
    model = body.get("model")
    if model is not None and model != cfg.model and model not in cfg.lora:
        return _error(404, f"The model `{model}` does not exist.", "NotFoundError", "model")
    return None


def _answering(request: web.Request, body: dict[str, Any]) -> str:
    """The model an answer names: the adapter a request asked for, else the base model."""
    cfg = request.app[CONFIG]
    model = body.get("model")
    return model if isinstance(model, str) and model in cfg.lora else str(cfg.model)


async def health(request: web.Request) -> web.Response:
    return web.Response(status=200)


async def models(request: web.Request) -> web.Response:
    cfg = request.app[CONFIG]
    card = {
        "id": cfg.model,
        "object": "model",
        "created": cfg.started,
        "owned_by": "vllm",
        "root": cfg.model,
        "parent": None,
        "max_model_len": MAX_MODEL_LEN,
        "permission": [],
    }
    adapters = [
        {
            "id": name,
            "object": "model",
            "created": cfg.started,
            "owned_by": "vllm",
            "root": path,
            "parent": cfg.model,
            "max_model_len": None,
            "permission": [],
        }
        for name, path in cfg.lora.items()
    ]
    return web.json_response({"object": "list", "data": [card, *adapters]})


def _usage(prompt: str, completion: str) -> dict[str, int]:
    p, c = len(_tokens(prompt)) or 1, len(_tokens(completion))
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


async def _completion(request: web.Request, chat: bool) -> web.StreamResponse:
    body = await _model_request(request)
    if isinstance(body, web.Response):
        return body
    cfg = request.app[CONFIG]
    cfg.seq += 1
    kind = "chatcmpl" if chat else "cmpl"
    rid = f"{kind}-{cfg.engine_id}-{cfg.seq}"
    prompt = _prompt_text(body)
    model = _answering(request, body)
    text = f"engine={cfg.engine_id} model={model} reply to: {prompt}"
    if cfg.delay:
        await asyncio.sleep(cfg.delay)
    common = {"id": rid, "created": int(time.time()), "model": model, "system_fingerprint": cfg.engine_id}
    if not body.get("stream"):
        if chat:
            choice: dict[str, Any] = {
                "index": 0,
                "message": {"role": "assistant", "content": text, "tool_calls": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
            obj = "chat.completion"
        else:
            choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": "stop"}
            obj = "text_completion"
        usage = _usage(prompt, text)
        return web.json_response({**common, "object": obj, "choices": [choice], "usage": usage})

    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await resp.prepare(request)
    obj = "chat.completion.chunk" if chat else "text_completion"
    words = text.split(" ")
    if chat:
        first = {
            "index": 0,
            "delta": {"role": "assistant", "content": ""},
            "logprobs": None,
            "finish_reason": None,
        }
        await resp.write(f"data: {json.dumps({**common, 'object': obj, 'choices': [first]})}\n\n".encode())
    for i, word in enumerate(words):
        if cfg.token_interval and i:
            await asyncio.sleep(cfg.token_interval)
        piece = word if i == 0 else " " + word
        last = i == len(words) - 1
        if chat:
            choice = {
                "index": 0,
                "delta": {"content": piece},
                "logprobs": None,
                "finish_reason": "stop" if last else None,
            }
        else:
            choice = {"index": 0, "text": piece, "logprobs": None, "finish_reason": "stop" if last else None}
        await resp.write(f"data: {json.dumps({**common, 'object': obj, 'choices': [choice]})}\n\n".encode())
    if (body.get("stream_options") or {}).get("include_usage"):
        chunk = {**common, "object": obj, "choices": [], "usage": _usage(prompt, text)}
        await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())
    await resp.write(b"data: [DONE]\n\n")
    await resp.write_eof()
    return resp


async def chat_completions(request: web.Request) -> web.StreamResponse:
    return await _completion(request, chat=True)


async def completions(request: web.Request) -> web.StreamResponse:
    return await _completion(request, chat=False)


async def embeddings(request: web.Request) -> web.Response:
    body = await _model_request(request)
    if isinstance(body, web.Response):
        return body
    cfg = request.app[CONFIG]
    inputs = body.get("input", "")
    items = inputs if isinstance(inputs, list) else [inputs]
    data = []
    for i, item in enumerate(items):
        digest = hashlib.sha256(f"{cfg.engine_id}:{item}".encode()).digest()
        data.append({"index": i, "object": "embedding", "embedding": [b / 255 for b in digest[:8]]})
    cfg.seq += 1
    usage = {"prompt_tokens": len(items), "total_tokens": len(items), "completion_tokens": 0}
    return web.json_response(
        {
            "id": f"embd-{cfg.engine_id}-{cfg.seq}",
            "object": "list",
            "created": int(time.time()),
            "model": _answering(request, body),
            "data": data,
            "usage": usage,
        }
    )


async def tokenize(request: web.Request) -> web.Response:
    body = await _model_request(request)
    if isinstance(body, web.Response):
        return body
    tokens = _tokens(_prompt_text(body))
    return web.json_response(
        {"count": len(tokens), "max_model_len": MAX_MODEL_LEN, "tokens": tokens, "token_strs": None}
    )


async def detokenize(request: web.Request) -> web.Response:
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    return web.json_response({"prompt": " ".join(f"t{t}" for t in body.get("tokens") or [])})


async def render(request: web.Request) -> web.Response:
    # vLLM >= 0.11 /v1/chat/completions/render and /v1/completions/render: the prompt as the engine
    # would see it, with token ids, without generating.
    body = await _model_request(request)
    if isinstance(body, web.Response):
        return body
    prompt = _prompt_text(body)
    return web.json_response(
        {"prompt": prompt, "prompt_token_ids": _tokens(prompt) or [1], "model": _answering(request, body)}
    )


async def metrics(request: web.Request) -> web.Response:
    cfg = request.app[CONFIG]
    stats = request.app[STATS]
    label = f'model_name="{cfg.model}",engine="{cfg.engine_id}"'
    lines = [
        "# HELP vllm:num_requests_running Number of requests currently running.",
        "# TYPE vllm:num_requests_running gauge",
        f"vllm:num_requests_running{{{label}}} 0.0",
        "# HELP vllm:num_requests_waiting Number of requests waiting.",
        "# TYPE vllm:num_requests_waiting gauge",
        f"vllm:num_requests_waiting{{{label}}} 0.0",
        "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.",
        "# TYPE vllm:kv_cache_usage_perc gauge",
        f"vllm:kv_cache_usage_perc{{{label}}} 0.0",
        "# HELP vllm:request_success_total Count of successfully processed requests.",
        "# TYPE vllm:request_success_total counter",
        f"vllm:request_success_total{{{label}}} {float(cfg.seq)}",
        "# HELP sim_http_requests_total Requests per path seen by the simulator.",
        "# TYPE sim_http_requests_total counter",
    ]
    lines += [f'sim_http_requests_total{{path="{p}"}} {float(n)}' for p, n in sorted(stats.items())]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain", charset="utf-8")


async def version(request: web.Request) -> web.Response:
    return web.json_response({"version": "0.0.0-sim"})


async def sim_stats(request: web.Request) -> web.Response:
    cfg = request.app[CONFIG]
    return web.json_response(
        {"engine_id": cfg.engine_id, "model": cfg.model, "paths": dict(request.app[STATS].items())}
    )


async def sim_delay(request: web.Request) -> web.Response:
    """Set the seconds before each completion answers while running: a test slows an engine down without
    a restart, which a router's health checks would notice and act on first."""
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    seconds = body.get("seconds")
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
        return _error(400, "seconds: expected a number >= 0", "BadRequestError")
    request.app[CONFIG].delay = float(seconds)
    return web.json_response({"delay": float(seconds)})


def build_app(cfg: argparse.Namespace) -> web.Application:
    cfg.seq = 0
    cfg.started = int(time.time())
    app = web.Application(middlewares=[count_and_auth], client_max_size=64 * 1024 * 1024)
    app[CONFIG] = cfg
    app[STATS] = Counter()
    app.router.add_get("/health", health)
    app.router.add_get("/ping", health)
    app.router.add_get("/version", version)
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/completions", completions)
    app.router.add_post("/v1/embeddings", embeddings)
    app.router.add_post("/tokenize", tokenize)
    app.router.add_post("/detokenize", detokenize)
    app.router.add_post("/v1/chat/completions/render", render)
    app.router.add_post("/v1/completions/render", render)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/sim/stats", sim_stats)
    app.router.add_put("/sim/delay", sim_delay)
    return app


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m vllm_models.local.simengine", description=__doc__.split("\n")[0]
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--model", required=True, help="served model name the engine answers to")
    p.add_argument("--engine-id", default="", help="identity written into every answer (default: --model)")
    p.add_argument("--api-key", default="", help="require 'Authorization: Bearer KEY' on /v1/*, like vLLM")
    p.add_argument("--delay", type=float, default=0.0, help="seconds before each completion answers")
    p.add_argument("--token-interval", type=float, default=0.0, help="seconds between streamed tokens")
    p.add_argument(
        "--lora-modules",
        nargs="*",
        default=[],
        metavar="NAME=PATH",
        help="LoRA adapters served besides the model, as vLLM takes them: name=path or a JSON object",
    )
    args = p.parse_args(argv)
    args.engine_id = args.engine_id or args.model
    args.lora = lora_modules(args.lora_modules, p)
    return args


def lora_modules(values: list[str], parser: argparse.ArgumentParser) -> dict[str, str]:
    """Adapter name -> path, from `name=path` items or JSON objects `{"name": ..., "path": ...}`."""
    out: dict[str, str] = {}
    for item in values:
        if item.lstrip().startswith("{"):
            try:
                obj = json.loads(item)
                name, path = str(obj["name"]), str(obj["path"])
            except (ValueError, KeyError, TypeError):
                parser.error(f"--lora-modules: invalid JSON adapter {item!r}")
        elif item.count("=") == 1:
            name, path = item.split("=")
        else:
            parser.error(f"--lora-modules: expected name=path, got {item!r}")
        out[name] = path
    return out


def main(argv: list[str] | None = None) -> None:
    cfg = parse_args(argv)
    web.run_app(
        build_app(cfg),
        host=cfg.host,
        port=cfg.port,
        access_log=None,
        print=None,
        handle_signals=True,
        shutdown_timeout=1.0,
    )


if __name__ == "__main__":
    main()
