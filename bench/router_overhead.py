"""Benchmark: the router candidates side by side, each as the chart runs it, in front of the same engines.

Run: .venv/bin/python bench/router_overhead.py [--requests N] [--only NAME ...] [--output FILE]
                                               [--litellm-set KEY=VALUE ...]

One run renders the chart with the e2e tier's values (three models, open engines), starts one simulated
engine per model (instant answers; the `qwen` engine streams a token every 50 ms) and then, one at a
time, each candidate in front of those same engines:
- `direct`: the client straight to the `llama3` engine, the baseline of the added latency;
- `litellm`: LiteLLM as the chart renders it, with one worker per CPU of this machine and without its
  prometheus callback (`router.litellm.metrics=false`; `--litellm-set router.litellm.metrics=true` measures
  the chart's default);
- `vllm-router`: vllm-router as the chart renders it (client auth off: it has none);
- `vllm-router+caddy`: the same behind Caddy, which checks the client's bearer key (auth in front of a
  fast router with a real, well-known proxy);
- `sglang-router`: SGLang's model gateway (vllm-router's ancestor) with vllm-router's rendered arguments,
  plus its `--api-key`. The chart does not offer it.
For each: `--requests` chat completions at concurrency 1, 8 and 64 (requests/s; p50/p99 latency added to
`direct`'s at concurrency 8), the CPU time of the router's processes per request (/proc, whole process
groups: LiteLLM's workers, Caddy plus vllm-router), and six properties, each checked by requests (see
PROPERTIES). The client and the engines share the machine, so requests/s is bounded by them too; the
CPU per request is the router's alone. Prints a markdown table; `--output` also writes it to a file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "e2e"), str(ROOT)]

from e2e_harness import VENV_BIN, VLLM_ROUTER_SETS, helm_template, without_lora_adapters  # noqa: E402
from vllm_models.atomic import write_atomic  # noqa: E402
from vllm_models.local.manifest import LocalRunError, Release  # noqa: E402
from vllm_models.local.processes import Proc, free_port, wait_until  # noqa: E402
from vllm_models.local.stack import Engine, engines_from, start_router  # noqa: E402
from vllm_models.names import ROUTER_COMPONENT  # noqa: E402

from tests.support import find_tool  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
CONCURRENCY = (1, 8, 64)
CLIENT_KEY = "sk-bench-client"  # the key Caddy and sglang-router check (LiteLLM's comes from its Secret)
TOKEN_INTERVAL = 0.05  # seconds between the streaming engine's tokens
RECOVERY_LIMIT = 5.0


@dataclass
class Candidate:
    name: str
    sets: tuple[str, ...] = ()  # helm --set, on top of the e2e values with open engines
    command: str = ""  # run the rendered router container with this binary instead
    caddy: bool = False  # Caddy in front, checking CLIENT_KEY


@dataclass
class Target:
    """Where a client sends requests, and which processes are the router."""

    url: str
    key: str
    ids: dict[str, str]  # model -> the id a client sends
    procs: list[Proc] = field(default_factory=list)

    def headers(self, key: str | None = None) -> dict[str, str]:
        key = self.key if key is None else key
        return {"Authorization": f"Bearer {key}"} if key else {}


def group_cpu_seconds(pgid: int) -> float:
    """utime + stime of every live process in a process group."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[2]) == pgid:  # field 5 (pgrp), counted after the ")"
            total += int(fields[11]) + int(fields[12])  # fields 14, 15: utime, stime
    return total / TICKS


def router_cpu(t: Target) -> float:
    return sum(group_cpu_seconds(p.pgid) for p in t.procs)


# --- load -------------------------------------------------------------------------------------------


async def blast(t: Target, n: int, c: int) -> tuple[float, list[float]]:
    # aiohttp, not httpx: httpx's connection pool costs the client more CPU than some routers spend.
    latencies: list[float] = []
    gate = asyncio.Semaphore(c)
    body = {"model": t.ids["llama3"], "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}
    connector = aiohttp.TCPConnector(limit=c)
    async with aiohttp.ClientSession(t.url, headers=t.headers(), connector=connector) as client:

        async def one() -> None:
            async with gate:
                started = time.perf_counter()
                async with client.post("/v1/chat/completions", json=body) as r:
                    await r.read()
                latencies.append(time.perf_counter() - started)
                r.raise_for_status()

        await asyncio.gather(*(one() for _ in range(c)))  # warm up connections and caches
        latencies.clear()
        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return time.perf_counter() - started, latencies


def measure(t: Target, n: int) -> dict[str, float]:
    """req/s and p50/p99 (ms) per concurrency, and the router's CPU ms per request over all of them."""
    out: dict[str, float] = {}
    cpu = router_cpu(t)
    for c in CONCURRENCY:
        wall, lat = asyncio.run(blast(t, n, c))
        lat.sort()
        out[f"rps{c}"] = n / wall
        out[f"p50_{c}"] = statistics.median(lat) * 1000
        out[f"p99_{c}"] = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
    out["cpu"] = (router_cpu(t) - cpu) / (n * len(CONCURRENCY)) * 1000
    return out


# --- properties -------------------------------------------------------------------------------------


def chat(client: httpx.Client, t: Target, model: str, key: str | None = None) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "hello"}]}
    return client.post("/v1/chat/completions", json=body, headers=t.headers(key))


def answered_by(r: httpx.Response, engine: Engine) -> bool:
    return r.status_code == 200 and f"engine={engine.engine_id} " in r.text


def models_in_openai_shape(client: httpx.Client, t: Target, engines: dict[str, Engine]) -> str:
    r = client.get("/v1/models", headers=t.headers())
    body = r.json() if r.status_code == 200 else {}
    ids = {card.get("id") for card in body.get("data") or [] if card.get("object") == "model"}
    if body.get("object") == "list" and ids == set(t.ids.values()):
        return "yes"
    return f"no: {r.status_code} {sorted(body)}"


def unknown_model_404(client: httpx.Client, t: Target, engines: dict[str, Engine]) -> str:
    r = chat(client, t, "no-such-model")
    named = all(i in r.text for i in t.ids.values())
    return (
        "yes" if r.status_code == 404 and named else f"no: {r.status_code}{'' if named else ', names none'}"
    )


def client_auth(client: httpx.Client, t: Target, engines: dict[str, Engine]) -> str:
    got = [chat(client, t, t.ids["llama3"], key).status_code for key in ("", "sk-wrong", None)]
    return "yes" if got == [401, 401, 200] else f"no: {got[0]} without a key, {got[1]} with a wrong one"


def streams_token_by_token(client: httpx.Client, t: Target, engines: dict[str, Engine]) -> str:
    body = {
        "model": t.ids["qwen"],
        "messages": [{"role": "user", "content": "one two three"}],
        "stream": True,
    }
    arrivals = []
    with client.stream("POST", "/v1/chat/completions", json=body, headers=t.headers()) as r:
        for line in r.iter_lines():
            chunk = json.loads(line[len("data: ") :]) if line.startswith("data: {") else {}
            if any((choice.get("delta") or {}).get("content") for choice in chunk.get("choices") or []):
                arrivals.append(time.monotonic())
    # The engine sends a token every TOKEN_INTERVAL: a router that buffers delivers them all at once.
    spread = arrivals[-1] - arrivals[0] if len(arrivals) > 2 else 0.0
    if r.status_code == 200 and spread >= TOKEN_INTERVAL * (len(arrivals) - 2) / 2:
        return "yes"
    return f"no: {r.status_code}, {len(arrivals)} chunks within {spread * 1000:.0f} ms"


def down_and_recovery(client: httpx.Client, t: Target, engines: dict[str, Engine]) -> tuple[str, str]:
    """Stop `qwen`'s engine: its requests must fail fast, the others' still succeed; start it again on
    the same port and time until the router serves it."""
    down = engines["qwen"]
    down.stop()
    try:
        answered: dict[str, httpx.Response] = {}

        def fails_fast() -> bool:
            started = time.monotonic()
            answered["qwen"] = chat(client, t, t.ids["qwen"])
            return answered["qwen"].status_code >= 500 and time.monotonic() - started < 2

        try:
            wait_until("qwen to fail fast", fails_fast, 15)
            others = [m for m in engines if m != "qwen"]
            served = [m for m in others if answered_by(chat(client, t, t.ids[m]), engines[m])]
            down_ok = "yes" if served == others else f"no: only {served} served"
        except LocalRunError:
            down_ok = f"no: qwen answered {answered['qwen'].status_code}, not a fast 5xx"
    finally:
        down.start()
    started = time.monotonic()
    limit = 3 * RECOVERY_LIMIT
    while not answered_by(chat(client, t, t.ids["qwen"]), down):
        if time.monotonic() - started > limit:
            return down_ok, f"no: not within {limit:.0f} s"
        time.sleep(0.1)
    seconds = time.monotonic() - started
    return down_ok, f"{'yes' if seconds <= RECOVERY_LIMIT else 'no'}: {seconds:.1f} s"


PROPERTIES: dict[str, Callable[[httpx.Client, Target, dict[str, Engine]], str]] = {
    "`/v1/models` OpenAI list": models_in_openai_shape,
    "unknown model: 404 naming the models": unknown_model_404,
    "client keys enforced": client_auth,
    "streams token by token": streams_token_by_token,
}


def properties(t: Target, engines: dict[str, Engine]) -> dict[str, str]:
    with httpx.Client(base_url=t.url, timeout=30) as client:
        out = {name: check(client, t, engines) for name, check in PROPERTIES.items()}
        out["one engine down, others serve"], out["recovers within 5 s"] = down_and_recovery(
            client, t, engines
        )
    return out


# --- candidates -------------------------------------------------------------------------------------


def render(helm: str, c: Candidate, values: Path) -> Release:
    release = helm_template(helm, [values], "engineApiKey.value=", *c.sets)
    if c.command:
        (deployment,) = release.component("Deployment", ROUTER_COMPONENT)
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        vocab = subprocess.run(
            [str(ROOT / "hack" / "sglang-vocab")], capture_output=True, text=True, check=True
        ).stdout.strip()
        container["command"] = [c.command]
        container["args"] = [*container["args"], "--api-key", "$(ROUTER_API_KEY)"]
        container["env"] = [
            *(container.get("env") or []),
            {"name": "ROUTER_API_KEY", "value": CLIENT_KEY},
            {"name": "TIKTOKEN_ENCODINGS_BASE", "value": vocab},
        ]
    return release


def start_caddy(upstream: str, workdir: Path, procs: list[Proc | Engine]) -> tuple[str, Proc]:
    """Caddy on loopback: requests with CLIENT_KEY go to `upstream`, others get an OpenAI-style 401."""
    port = free_port()
    caddyfile = workdir / "Caddyfile"
    error = '{"error": {"message": "invalid or missing API key", "type": "invalid_request_error"}}'
    caddyfile.write_text(
        "{\n\tadmin off\n\tpersist_config off\n\tauto_https off\n}\n"
        f"http://127.0.0.1:{port} {{\n"
        '\t@client header Authorization "Bearer {$ROUTER_API_KEY}"\n'
        f"\thandle @client {{\n\t\treverse_proxy {upstream.removeprefix('http://')}\n\t}}\n"
        f"\thandle {{\n\t\theader Content-Type application/json\n\t\trespond `{error}` 401\n\t}}\n}}\n"
    )
    env = {"PATH": os.environ["PATH"], "HOME": str(workdir), "ROUTER_API_KEY": CLIENT_KEY}
    argv = [str(VENV_BIN / "caddy"), "run", "--config", str(caddyfile), "--adapter", "caddyfile"]
    proc = Proc("caddy", argv, env, workdir / "caddy.log")
    procs.append(proc)
    proc.start()
    url = f"http://127.0.0.1:{port}"

    def proxies() -> bool:
        try:
            return httpx.get(f"{url}/liveness", headers={"Authorization": f"Bearer {CLIENT_KEY}"}).is_success
        except httpx.HTTPError:
            return False

    wait_until("caddy to proxy", proxies, 30, proc)
    return url, proc


def start(
    helm: str,
    c: Candidate,
    values: Path,
    workdir: Path,
    procs: list[Proc | Engine],
    engines: dict[str, Engine],
) -> Target:
    workdir.mkdir()
    router = start_router(render(helm, c, values), workdir, procs, VENV_BIN, engines=engines)
    t = Target(router.url, router.key, {m: router.model_id(m) for m in engines}, [router.proc])
    if c.caddy:
        t.url, caddy = start_caddy(router.url, workdir, procs)
        t.key = CLIENT_KEY
        t.procs.append(caddy)
    return t


# --- report -----------------------------------------------------------------------------------------


def table(rows: dict[str, tuple[dict[str, float], dict[str, str]]]) -> str:
    direct = rows["direct"][0]
    head = ["router", "CPU ms/request", *(f"req/s c={c}" for c in CONCURRENCY)]
    head += ["added p50 c=8 (ms)", "added p99 c=8 (ms)", *PROPERTIES, "one engine down, others serve"]
    head += ["recovers within 5 s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, (fig, props) in rows.items():
        cells = [name, "-" if name == "direct" else f"{fig['cpu']:.2f}"]
        cells += [f"{fig[f'rps{c}']:.0f}" for c in CONCURRENCY]
        cells += [f"{fig['p50_8'] - direct['p50_8']:+.2f}", f"{fig['p99_8'] - direct['p99_8']:+.2f}"]
        cells += [props.get(h, "-") for h in head[len(cells) :]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line), "?"
    )
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("litellm", "vllm-router", "sglang-router"))
    caddy = subprocess.run([str(VENV_BIN / "caddy"), "version"], capture_output=True, text=True, check=False)
    return f"{os.cpu_count()} CPUs ({model}); {versions}, Caddy {caddy.stdout.split(' ')[0].strip()}"


def main() -> int:
    # SIGTERM as an exit, so the finally below stops the routers and engines it started.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=500, help="requests per concurrency level")
    ap.add_argument("--only", nargs="*", help="candidates to run (default: all); direct always runs")
    ap.add_argument("--litellm-set", action="append", default=[], help="extra helm --set for litellm")
    ap.add_argument("--output", type=Path, help="also write the markdown table to this file")
    args = ap.parse_args()
    helm = find_tool("helm")
    if helm is None:
        print("missing helm: run ./hack/bootstrap", file=sys.stderr)
        return 2
    cpus = os.cpu_count() or 1
    candidates = [
        # Tuned as far as the chart goes: a worker per CPU, no prometheus callback (per-request logs are
        # off in every rendering).
        Candidate(
            "litellm",
            (f"router.litellm.numWorkers={cpus}", "router.litellm.metrics=false", *args.litellm_set),
        ),
        Candidate("vllm-router", VLLM_ROUTER_SETS),
        Candidate("vllm-router+caddy", VLLM_ROUTER_SETS, caddy=True),
        Candidate("sglang-router", VLLM_ROUTER_SETS, command="sglang-router"),
    ]
    candidates = [c for c in candidates if not args.only or c.name in args.only]
    rows: dict[str, tuple[dict[str, float], dict[str, str]]] = {}
    procs: list[Proc | Engine] = []
    with tempfile.TemporaryDirectory(prefix="router-bench-") as tmp:
        try:
            # the same models for every candidate: without LoRA adapters, which vllm-router cannot route
            values = without_lora_adapters(Path(tmp))
            engines = engines_from(helm_template(helm, [values], "engineApiKey.value="), Path(tmp))
            engines["qwen"].token_interval = TOKEN_INTERVAL
            for e in engines.values():
                procs.append(e)
                e.start()
            direct = Target(engines["llama3"].url, "", {"llama3": engines["llama3"].served_name})
            rows["direct"] = measure(direct, args.requests), {}
            for c in candidates:
                started, clock = len(procs), time.monotonic()
                t = start(helm, c, values, Path(tmp) / c.name, procs, engines)
                up = time.monotonic() - clock
                rows[c.name] = measure(t, args.requests), properties(t, engines)
                took = f"started in {up:.0f} s, measured and checked in {time.monotonic() - clock - up:.0f} s"
                print(f"{c.name}: {took}", file=sys.stderr, flush=True)
                for p in reversed(procs[started:]):  # one router at a time on the machine
                    p.stop()
                del procs[started:]
        finally:
            for p in reversed(procs):
                p.stop()
    holds_all = [
        n for n, (_, props) in rows.items() if props and all(v.startswith("yes") for v in props.values())
    ]
    text = f"Machine: {machine()}; {args.requests} requests per concurrency level.\n\n{table(rows)}\n\n"
    text += f"Holds every property: {', '.join(holds_all) or 'none'}.\n"
    print(text, end="")
    if args.output:
        write_atomic(args.output, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
