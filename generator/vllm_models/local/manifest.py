"""A rendered release as objects, and the few rewrites that let it run on loopback.

A `Release` is what `helm template` (or `helm get manifest`) printed, plus any Secrets read from the
cluster. Everything a local run takes from it is taken unchanged; the only rewrites are addresses:
`<service>.<namespace>.svc.cluster.local:<port>` becomes the loopback URL of the engine behind that
Service, and a router's listen address becomes loopback.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml  # type: ignore[import-untyped]

from ..names import COMPONENT_LABEL, ENGINE_COMPONENT, MODEL_LABEL, ROUTER_COMPONENT

SERVICE_URL = re.compile(r"http://([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)")


class LocalRunError(Exception):
    """The release cannot run locally as rendered; the message says what is missing or inconsistent."""


@dataclass
class Release:
    objects: list[dict[str, Any]]

    @classmethod
    def parse(cls, *documents: str) -> Release:
        """Objects of YAML streams; `List` objects (as `kubectl get -o yaml` prints) are flattened."""
        objects: list[dict[str, Any]] = []
        for text in documents:
            for doc in yaml.safe_load_all(text):
                if not doc:
                    continue
                objects.extend(doc.get("items") or [] if doc.get("kind") == "List" else [doc])
        return cls(objects)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def component(self, kind: str, component: str) -> list[dict[str, Any]]:
        return [
            o
            for o in self.of_kind(kind)
            if (o["metadata"].get("labels") or {}).get(COMPONENT_LABEL) == component
        ]

    def engine_workloads(self) -> dict[str, dict[str, Any]]:
        """Model name -> its Deployment or StatefulSet; a LeaderWorkerSet as its leader, the one pod of
        the group that serves the API (its Service selects only leaders), under ``spec.template``."""
        out = {}
        for o in self.objects:
            if (o["metadata"].get("labels") or {}).get(COMPONENT_LABEL) != ENGINE_COMPONENT:
                continue
            if o["kind"] in ("Deployment", "StatefulSet"):
                out[o["metadata"]["labels"][MODEL_LABEL]] = o
            elif o["kind"] == "LeaderWorkerSet":
                leader = o["spec"]["leaderWorkerTemplate"]["leaderTemplate"]
                out[o["metadata"]["labels"][MODEL_LABEL]] = {**o, "spec": {"template": leader}}
        return out

    def router_pod(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(pod spec, container) of the router Deployment."""
        return self.single_container_pod(ROUTER_COMPONENT, "router")

    def single_container_pod(self, component: str, what: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """(pod spec, container) of the one Deployment of ``component`` (``what`` names it in an error)."""
        deployments = self.component("Deployment", component)
        if len(deployments) != 1:
            raise LocalRunError(f"expected one {what} Deployment, the release has {len(deployments)}")
        pod = deployments[0]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        return pod, dict(container)

    def secret_value(self, name: str, key: str) -> str:
        for s in self.of_kind("Secret"):
            if s["metadata"]["name"] == name:
                if key in (s.get("stringData") or {}):
                    return str(s["stringData"][key])
                return base64.b64decode(s["data"][key]).decode()
        raise LocalRunError(f"Secret {name} is referenced but neither rendered nor read from the cluster")

    def env(self, container: Mapping[str, Any]) -> dict[str, str]:
        """The container's environment as the kubelet would set it (values and Secrets)."""
        env: dict[str, str] = {}
        for e in container.get("env") or []:
            if "value" in e:
                env[e["name"]] = expand(str(e["value"]), env)
            elif "secretKeyRef" in (e.get("valueFrom") or {}):
                ref = e["valueFrom"]["secretKeyRef"]
                env[e["name"]] = self.secret_value(ref["name"], ref["key"])
            else:
                raise LocalRunError(f"env {e['name']}: unsupported source {e.get('valueFrom')}")
        return env

    def config_map_files(self, container: Mapping[str, Any], pod: Mapping[str, Any]) -> dict[str, str]:
        """mountPath/key -> content of every ConfigMap volume the container mounts."""
        maps = {c["metadata"]["name"]: c.get("data") or {} for c in self.of_kind("ConfigMap")}
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        files = {}
        for mount in container.get("volumeMounts") or []:
            cm = volumes[mount["name"]].get("configMap")
            if cm:
                for key, text in maps[cm["name"]].items():
                    files[f"{mount['mountPath']}/{key}"] = text
        return files


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes `$(VAR)` expansion in args and env values (unknown references stay as written)."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), text)


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def service_targets(release: Release, ports: Mapping[str, int]) -> dict[tuple[str, str, int], str]:
    """(service, namespace, port) of each engine Service -> the model whose pods it reaches.

    `ports` maps each model to its engine container's port. A Service reaches a model when its selector
    matches the pod template and its targetPort names (or numbers) that port; only such a pair is mapped.
    """
    workloads = release.engine_workloads()
    out = {}
    for svc in release.component("Service", ENGINE_COMPONENT):
        for model, w in workloads.items():
            if not selects(svc["spec"]["selector"], w["spec"]["template"]["metadata"]["labels"]):
                continue
            for p in svc["spec"]["ports"]:
                if p["targetPort"] in ("http", ports[model]):
                    out[(svc["metadata"]["name"], svc["metadata"]["namespace"], int(p["port"]))] = model
    return out


def to_loopback(text: str, urls: Mapping[tuple[str, str, int], str]) -> str:
    """Service DNS addresses -> loopback URLs; an address no rendered Service serves is an error."""

    def sub(m: re.Match[str]) -> str:
        key = (m.group(1), m.group(2), int(m.group(3)))
        if key not in urls:
            known = sorted(f"{n}.{ns}:{p}" for n, ns, p in urls)
            raise LocalRunError(
                f"router config points at {m.group(0)}, which no rendered Service serves: {known}"
            )
        return urls[key]

    return SERVICE_URL.sub(sub, text)


def replace_flag(args: Iterable[str], flag: str, value: str) -> list[str]:
    """`--flag X` or `--flag=X` -> the same flag with `value`; the flag must be present."""
    args = list(args)
    out, i, found = [], 0, False
    while i < len(args):
        a = args[i]
        if a == flag:
            out += [a, value]
            i, found = i + 2, True
            continue
        if a.startswith(flag + "="):
            out.append(f"{flag}={value}")
            found = True
        else:
            out.append(a)
        i += 1
    if not found:
        raise LocalRunError(f"{flag} not in rendered args {args}")
    return out


def take_flag(args: list[str], flag: str) -> tuple[list[str], list[str]]:
    """Remove `flag` and the values after it (up to the next `--option`); return (rest, values)."""
    if flag not in args:
        return args, []
    i = args.index(flag)
    j = i + 1
    while j < len(args) and not args[j].startswith("--"):
        j += 1
    return args[:i] + args[j:], args[i + 1 : j]
