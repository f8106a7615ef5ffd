"""Benchmark: what the router costs per request, for each router engine, as the chart configures it.

Run: .venv/bin/python bench/router_overhead.py [--engine litellm|vllm-router|all]
                                               [--requests N] [--concurrency C]

Starts the router exactly as the e2e tier does (the chart rendered, Service addresses mapped to loopback
by vllm_models.local, simulated engines that answer instantly), then sends N chat completions with C in
flight, first straight to one engine, then through the router. Prints requests/s, latency p50/p99 and the
router's CPU time per request (from /proc, the router's whole process group), the number that decides
how many router CPUs a given request rate needs. The simulated engine (one aiohttp process) and this
client share the machine, so requests/s is bounded by them; the CPU time per request is the router's.
Measured here (2 cores, 1000 requests, 32 in flight): LiteLLM 1.108.7 26 ms CPU/request (39 req/s, one
worker; 1.80.0 spent 6.9 ms), vllm-router 0.48 ms CPU/request.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "e2e"), str(ROOT)]

from conftest import start_release  # noqa: E402

from tests.support import find_tool  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


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


async def blast(url: str, headers: dict[str, str], model: str, n: int, c: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    gate = asyncio.Semaphore(c)
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=60, limits=httpx.Limits(max_connections=c)
    ) as client:

        async def one() -> None:
            async with gate:
                t = time.perf_counter()
                r = await client.post("/v1/chat/completions", json=body)
                latencies.append(time.perf_counter() - t)
                r.raise_for_status()

        await client.post("/v1/chat/completions", json=body)  # warm up connections and caches
        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return time.perf_counter() - start, latencies


def report(label: str, wall: float, lat: list[float], n: int, cpu: float | None = None) -> None:
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    p50 = statistics.median(lat)
    line = f"{label:<26} {n / wall:6.0f} req/s   p50 {p50 * 1000:6.1f} ms   p99 {p99 * 1000:6.1f} ms"
    if cpu is not None:
        line += f"   router CPU {cpu / n * 1000:6.2f} ms/request"
    print(line, flush=True)


def run(engine: str, helm: str, n: int, c: int) -> None:
    started: list = []
    with tempfile.TemporaryDirectory(prefix="router-bench-") as tmp:
        try:
            router = start_release(helm, Path(tmp), started, engine)
            backend = router.engines["llama3"]
            direct = {"Authorization": f"Bearer {backend.api_key}"} if backend.api_key else {}
            wall, lat = asyncio.run(blast(backend.url, direct, backend.served_name, n, c))
            report(f"{engine}: engine direct", wall, lat, n)
            pgid = router.proc.pgid
            cpu0 = group_cpu_seconds(pgid)
            wall, lat = asyncio.run(blast(router.url, router.headers(), router.model_id("llama3"), n, c))
            report(f"{engine}: via router", wall, lat, n, group_cpu_seconds(pgid) - cpu0)
        finally:
            for p in reversed(started):
                p.stop()


def main() -> int:
    # SIGTERM as an exit, so `run`'s finally stops the routers and engines it started.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--engine", choices=["litellm", "vllm-router", "all"], default="all")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()
    helm = find_tool("helm")
    if helm is None:
        print("missing helm: run ./hack/bootstrap", file=sys.stderr)
        return 2
    for engine in ("litellm", "vllm-router") if args.engine == "all" else (args.engine,):
        run(engine, helm, args.requests, args.concurrency)
    return 0


if __name__ == "__main__":
    sys.exit(main())
