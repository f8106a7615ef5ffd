"""A tiny custom metrics API (custom.metrics.k8s.io/v1beta2) on loopback that the control plane's
aggregator reaches, so the real HPA controller reads a vLLM gauge a test sets.

Registered as an APIService backed by an ExternalName Service naming 127.0.0.1: kube-apiserver without
`--enable-aggregator-routing` (kwok sets none) resolves an APIService through its Service's cluster
address, and for an ExternalName Service that is the name itself. (Endpoints, which aggregator routing
would use, cannot point into 127.0.0.0/8.) TLS with a throwaway self-signed certificate; the APIService
skips verification, and the aggregator's front-proxy identity is not checked: only the test's cluster
can reach a loopback port of this machine.

Per pod, the API answers the fed total divided over the pods the request's label selector matches now,
so the HPA's average over the model's pods times their count is the fed total, as vLLM's per-engine
gauges summed over the replicas would be.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from tests.cluster.conftest import kubectl, kubectl_json

GROUP = "custom.metrics.k8s.io"
VERSION = "v1beta2"
GROUP_VERSION = f"{GROUP}/{VERSION}"
APISERVICE = f"{VERSION}.{GROUP}"


class MetricsAPI:
    """The API's state: the total each metric is fed, and every metric path the aggregator asked for."""

    def __init__(self, kubeconfig: str, workdir: Path) -> None:
        self.kubeconfig = kubeconfig
        self.totals: dict[str, float] = {}
        self.asked: list[str] = []
        cert, key = workdir / "metrics-api.crt", workdir / "metrics-api.key"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
             "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
            capture_output=True, check=True, timeout=60,
        )  # fmt: skip
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> MetricsAPI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def pod_values(self, namespace: str, selector: str, metric: str) -> list[dict[str, Any]]:
        pods = kubectl_json(self.kubeconfig, "-n", namespace, "get", "pods", "-l", selector)["items"]
        running = [
            p
            for p in pods
            if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
        ]
        share = self.totals.get(metric, 0.0) / max(len(running), 1)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return [
            {
                "describedObject": {
                    "kind": "Pod",
                    "namespace": namespace,
                    "name": p["metadata"]["name"],
                    "apiVersion": "/v1",
                },
                "metric": {"name": metric},
                "timestamp": now,
                "value": f"{round(share * 1000)}m",
            }
            for p in running
        ]

    def register(self, namespace: str) -> None:
        """The ExternalName Service (in `namespace`) and the APIService, until `unregister`."""
        manifest = f"""
apiVersion: v1
kind: Service
metadata: {{name: custom-metrics, namespace: {namespace}}}
spec: {{type: ExternalName, externalName: 127.0.0.1, ports: [{{port: {self.port}}}]}}
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {{name: {APISERVICE}}}
spec:
  group: {GROUP}
  version: {VERSION}
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 100
  versionPriority: 100
  service: {{namespace: {namespace}, name: custom-metrics, port: {self.port}}}
"""
        kubectl(self.kubeconfig, "apply", "-f", "-", input=manifest)

    def unregister(self) -> None:
        kubectl(self.kubeconfig, "delete", "apiservice", APISERVICE, "--ignore-not-found", check=False)

    def available(self) -> str:
        """The APIService's Available condition as `True`, or `False: <reason>: <message>`."""
        service = kubectl_json(self.kubeconfig, "get", "apiservice", APISERVICE)
        for c in service.get("status", {}).get("conditions", []):
            if c["type"] == "Available":
                return "True" if c["status"] == "True" else f"False: {c.get('reason')}: {c.get('message')}"
        return "False: no condition yet"


def _handler(api: MetricsAPI) -> type[BaseHTTPRequestHandler]:
    resources = [
        {
            "name": "pods/*",
            "singularName": "",
            "namespaced": True,
            "kind": "MetricValueList",
            "verbs": ["get"],
        }
    ]
    group = {
        "name": GROUP,
        "versions": [{"groupVersion": GROUP_VERSION, "version": VERSION}],
        "preferredVersion": {"groupVersion": GROUP_VERSION, "version": VERSION},
    }
    static = {
        "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]},
        f"/apis/{GROUP}": {"kind": "APIGroup", "apiVersion": "v1", **group},
        f"/apis/{GROUP_VERSION}": {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": GROUP_VERSION,
            "resources": resources,
        },
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            parts = url.path.strip("/").split("/")
            if url.path.rstrip("/") in static:
                self._send(200, static[url.path.rstrip("/")])
            elif parts[:3] == ["apis", GROUP, VERSION] and len(parts) == 8 and parts[3] == "namespaces":
                # /apis/custom.metrics.k8s.io/v1beta2/namespaces/<ns>/pods/<name or *>/<metric>
                namespace, metric = parts[4], parts[7]
                api.asked.append(unquote(url.path))
                selector = parse_qs(url.query).get("labelSelector", [""])[0]
                items = api.pod_values(namespace, selector, metric)
                self._send(200, {"kind": "MetricValueList", "apiVersion": GROUP_VERSION, "metadata": {},
                                 "items": items})  # fmt: skip
            elif url.path in ("/healthz", "/readyz", "/livez"):
                self._send(200, "ok")
            else:
                self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404})

        def _send(self, code: int, body: Any) -> None:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(code)
            self.send_header(
                "Content-Type", "application/json" if not isinstance(body, str) else "text/plain"
            )
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
