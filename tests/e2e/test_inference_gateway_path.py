"""inferencePool.routerGatewayURL with the real LiteLLM as the chart renders it: a pooled model's requests
leave the router for the Gateway, carrying the header its HTTPRoute matches, while the other models still
go to their engines directly.

The Gateway here is a stand-in on loopback that admits only what the rendered HTTPRoute's match admits
(path prefix and header) and forwards to the pooled model's engine: a conformant Gateway and the endpoint
picker choosing among replicas are not run (no images here).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from conftest import start_release
from vllm_models.local.processes import Proc
from vllm_models.local.stack import Engine, Router

POOLED = "qwen"


class GatewayStandIn:
    """Loopback HTTP server: a request that matches the route goes to `upstream`, anything else gets the
    404 a Gateway answers when no route matches. Records the model header of every request."""

    def __init__(self) -> None:
        self.upstream = ""
        self.match: dict[str, Any] = {}
        self.seen: list[str | None] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                header = stand_in.match["headers"][0]
                value = self.headers.get(header["name"])
                stand_in.seen.append(value)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if value != header["value"] or not self.path.startswith(stand_in.match["path"]["value"]):
                    self.send_response(404)
                    self.end_headers()
                    return
                forwarded = {
                    k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")
                }
                answer = httpx.post(
                    f"{stand_in.upstream}{self.path}", content=body, headers=forwarded, timeout=10
                )
                self.send_response(answer.status_code)
                self.send_header("content-type", answer.headers.get("content-type", "application/json"))
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def gateway_release(
    helm: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Router, GatewayStandIn]]:
    tmp = tmp_path_factory.mktemp("e2e-inference-gateway")
    gateway = GatewayStandIn()
    started: list[Proc | Engine] = []
    sets = (
        "inferencePool.enabled=true",
        f"inferencePool.models={{{POOLED}}}",
        "inferencePool.httpRoute.parentRefs[0].name=inference-gateway",
        f"inferencePool.routerGatewayURL={gateway.url}",
    )
    try:
        router = start_release(helm, tmp, started, "litellm", sets=sets)
        (route,) = [
            o
            for o in router.release.objects
            if o["kind"] == "HTTPRoute" and "vllm-models.io/model" in o["metadata"]["labels"]
        ]
        (gateway.match,) = route["spec"]["rules"][0]["matches"]
        gateway.upstream = router.engines[POOLED].url
        yield router, gateway
    finally:
        for p in reversed(started):
            p.stop()
        gateway.server.shutdown()


def chat(router: Router, model: str) -> httpx.Response:
    body = {"model": router.model_id(model), "messages": [{"role": "user", "content": "hello"}]}
    return httpx.post(f"{router.url}/v1/chat/completions", json=body, headers=router.headers(), timeout=30)


def test_pooled_model_goes_through_the_gateway_with_the_routes_header(
    gateway_release: tuple[Router, GatewayStandIn],
) -> None:
    router, gateway = gateway_release
    before = len(gateway.seen)
    answer = chat(router, POOLED)
    assert answer.status_code == 200, answer.text
    engine = router.engines[POOLED]
    assert f"engine={engine.engine_id} model={engine.served_name}" in answer.text
    assert gateway.seen[before:] == [engine.served_name]


def test_other_models_still_reach_their_engines_directly(
    gateway_release: tuple[Router, GatewayStandIn],
) -> None:
    router, gateway = gateway_release
    before = len(gateway.seen)
    answer = chat(router, "llama3")
    assert answer.status_code == 200, answer.text
    assert f"engine={router.engines['llama3'].engine_id}" in answer.text
    assert gateway.seen[before:] == []
