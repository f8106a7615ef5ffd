"""Verify a live deployment through its router: health, the model list against models.yaml, one chat per
model, then a short bounded load per model with time to first token and end-to-end latency.

The load is measured here, with the standard library: the vLLM project's own benchmark tool (guidellm)
pulls torch, transformers and datasets, gigabytes for a step that sends a few dozen short requests.
Streaming requests time the first content chunk (TTFT) and the last byte (end to end).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Budget:
    requests: int = 10  # per model
    concurrency: int = 2
    timeout: float = 30.0  # seconds per request
    p95_limit: float = 3.0  # seconds, end to end, for the short prompt
    prompt: str = "Say hello in one short sentence."
    max_tokens: int = 16


@dataclass
class ModelResult:
    name: str
    listed: bool = False
    chat_error: str = ""
    ttft: list[float] = field(default_factory=list)
    e2e: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def percentile(self, values: list[float], q: float) -> float | None:
        if not values:
            return None
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]

    def problems(self, budget: Budget) -> list[str]:
        found = []
        if not self.listed:
            found.append("not in the router's /v1/models")
        if self.chat_error:
            found.append(f"chat failed: {self.chat_error}")
        if self.errors:
            found.append(
                f"{len(self.errors)} of {budget.requests} load requests failed (first: {self.errors[0]})"
            )
        p95 = self.percentile(self.e2e, 0.95)
        if p95 is not None and p95 > budget.p95_limit:
            found.append(f"p95 end-to-end {p95:.2f}s is over the {budget.p95_limit:g}s limit")
        return found

    def line(self, budget: Budget) -> str:
        def fmt(values: list[float]) -> str:
            p50, p95 = self.percentile(values, 0.5), self.percentile(values, 0.95)
            return "-" if p50 is None or p95 is None else f"p50 {p50:.3f}s p95 {p95:.3f}s"

        verdict = "; ".join(self.problems(budget)) or "ok"
        figures = (
            f"ttft {fmt(self.ttft)}, end-to-end {fmt(self.e2e)} ({len(self.e2e)}/{budget.requests} requests)"
        )
        return f"{self.name}: {verdict}; {figures}"

    def as_dict(self, budget: Budget) -> dict[str, Any]:
        return {
            "model": self.name,
            "ok": not self.problems(budget),
            "problems": self.problems(budget),
            "listed": self.listed,
            "ttft_p50": self.percentile(self.ttft, 0.5),
            "ttft_p95": self.percentile(self.ttft, 0.95),
            "e2e_p50": self.percentile(self.e2e, 0.5),
            "e2e_p95": self.percentile(self.e2e, 0.95),
            "requests": budget.requests,
            "succeeded": len(self.e2e),
        }


@dataclass
class Report:
    url: str
    health: str  # "" when healthy
    extra_models: list[str]
    models: list[ModelResult]

    def ok(self, budget: Budget) -> bool:
        return not self.health and not any(m.problems(budget) for m in self.models)


class Client:
    def __init__(self, url: str, key: str, timeout: float) -> None:
        self.url, self.timeout = url.rstrip("/"), timeout
        self.headers = {
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {key}"} if key else {}),
        }

    def _request(self, path: str, body: dict[str, Any] | None = None) -> urllib.request.Request:
        data = json.dumps(body).encode() if body is not None else None
        return urllib.request.Request(self.url + path, data=data, headers=self.headers)

    def get(self, path: str) -> tuple[int, Any]:
        """(status, the body parsed as JSON, or as text when it is not JSON: vllm-router's /health)."""
        try:
            with urllib.request.urlopen(self._request(path), timeout=self.timeout) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")[:300]
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self._request(path, body), timeout=self.timeout) as r:
                return r.status, r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")[:300]

    def stream(self, path: str, body: dict[str, Any]) -> Iterator[bytes]:
        with urllib.request.urlopen(self._request(path, body), timeout=self.timeout) as r:
            yield from r


def _error(e: BaseException) -> str:
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code}: {e.read().decode(errors='replace')[:200]}"
    return f"{type(e).__name__}: {e}"


def _timed_stream(client: Client, model: str, budget: Budget) -> tuple[float, float]:
    """(seconds to the first content chunk, seconds to the end) of one streamed chat completion."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": budget.prompt}],
        "max_tokens": budget.max_tokens,
        "stream": True,
    }
    started, first = time.monotonic(), None
    for line in client.stream("/v1/chat/completions", body):
        if first is None and line.startswith(b"data: ") and b'"content"' in line:
            first = time.monotonic() - started
    total = time.monotonic() - started
    if first is None:
        raise ValueError("the stream carried no content")
    return first, total


def _health(client: Client) -> str:
    """ "" when the router answers on its liveness route (LiteLLM) or /health (vllm-router)."""
    for path in ("/health/liveliness", "/health"):
        try:
            status, _ = client.get(path)
        except (OSError, ValueError) as e:
            return f"{path}: {_error(e)}"
        if status == 200:
            return ""
    return f"/health answered {status}"


def _listed(client: Client) -> set[str]:
    status, body = client.get("/v1/models")
    if status != 200 or not isinstance(body, dict):
        return set()
    # OpenAI's shape, {"data": [{"id": ...}]}, or vllm-router's {"models": ["name", ...]}
    entries = body.get("data") or body.get("models") or []
    return {str(e.get("id")) if isinstance(e, dict) else str(e) for e in entries}


def verify(url: str, key: str, models: list[tuple[str, str]], budget: Budget) -> Report:
    """``models``: (name, served name) per models.yaml entry; a router may list either (LiteLLM lists the
    name, vllm-router the engine's served name), and requests use the one it lists."""
    client = Client(url, key, budget.timeout)
    health = _health(client)
    listed = _listed(client)
    results = []
    for name, served in models:
        result = ModelResult(name, listed=name in listed or served in listed)
        model_id = name if name in listed or served not in listed else served
        chat = {
            "model": model_id,
            "messages": [{"role": "user", "content": budget.prompt}],
            "max_tokens": budget.max_tokens,
        }
        try:
            status, text = client.post("/v1/chat/completions", chat)
            if status != 200:
                result.chat_error = f"HTTP {status}: {text[:200]}"
        except (OSError, ValueError) as e:
            result.chat_error = _error(e)
        if not result.chat_error:
            with ThreadPoolExecutor(max_workers=max(1, budget.concurrency)) as pool:
                futures = [
                    pool.submit(_timed_stream, client, model_id, budget) for _ in range(budget.requests)
                ]
                for future in futures:
                    try:
                        first, total = future.result()
                        result.ttft.append(first)
                        result.e2e.append(total)
                    except (OSError, ValueError) as e:
                        result.errors.append(_error(e))
        results.append(result)
    known = {n for pair in models for n in pair}
    return Report(url, health, sorted(listed - known), results)
