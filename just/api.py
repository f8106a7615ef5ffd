"""`just vllm::list-api-models` / `test-completions`: call the router (ROUTER_URL, ROUTER_KEY from env).

Usage: api.py models | api.py chat MODEL PROMPT. Waits up to 15 s for the port-forward to accept.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Any


def call(path: str, body: dict[str, Any] | None = None) -> Any:
    url = os.environ["ROUTER_URL"] + path
    headers = {"Content-Type": "application/json"}
    if os.environ.get("ROUTER_KEY"):
        headers["Authorization"] = "Bearer " + os.environ["ROUTER_KEY"]
    data = json.dumps(body).encode() if body is not None else None
    deadline = time.monotonic() + 15
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=300) as response:
                return json.load(response)
        except urllib.error.HTTPError as e:
            sys.exit(f"{e.code} from {path}: {e.read().decode(errors='replace')[:2000]}")
        except (urllib.error.URLError, ConnectionError) as e:
            if time.monotonic() > deadline:
                sys.exit(f"router not reachable at {url}: {e}")
            time.sleep(0.5)


def main(argv: list[str]) -> int:
    if argv[:1] == ["models"]:
        listing = call("/v1/models")
        items = listing.get("data", listing.get("models", []))
        for item in items:
            print(item.get("id", item) if isinstance(item, dict) else item)
        return 0
    if argv[:1] == ["chat"] and len(argv) == 3:
        answer = call(
            "/v1/chat/completions", {"model": argv[1], "messages": [{"role": "user", "content": argv[2]}]}
        )
        print(answer["choices"][0]["message"]["content"])
        usage = answer.get("usage")
        if usage:
            print(
                f"({usage.get('prompt_tokens')} prompt + {usage.get('completion_tokens')} completion tokens)"
            )
        return 0
    sys.exit("usage: api.py models | api.py chat MODEL PROMPT")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
