"""The router's readiness check: exit 0 while at least one engine answers its /health, else 1.

A router that reaches no engine can only answer errors; failing readiness takes it out of its Service, so
a load balancer or a client sees the outage at once instead of a stream of 5xx. One engine is enough: a
single model's outage must not take the endpoint away from the others (the router answers 503 for it).
Neither LiteLLM's /health/readiness nor vllm-router's /readiness looks at the engines, hence this probe.
Standard library only: it runs under whatever python3 the router image carries.

Usage: python3 engines_reachable.py URL_FILE TIMEOUT_SECONDS   (URL_FILE: one /health URL per line)
"""

from __future__ import annotations

import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed

MAX_PARALLEL = 16  # a release may list hundreds of models; the first healthy answer ends the probe


def answers(url: str, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: engines_reachable.py URL_FILE TIMEOUT_SECONDS", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        urls = [line.strip() for line in f if line.strip()]
    if not urls:
        return 0  # a release without models has nothing to reach
    timeout = float(argv[2])
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(urls))) as pool:
        for done in as_completed([pool.submit(answers, url, timeout) for url in urls]):
            if done.result():
                pool.shutdown(wait=False, cancel_futures=True)
                return 0
    print(f"no engine answers /health ({len(urls)} tried, {timeout:g} s each)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
