"""Cross-field checks that JSON Schema cannot express (duplicates, parallelism vs GPUs, caches, limits).

Each check reads only values of the right type, so a schema error elsewhere never crashes it; the
schema problems are reported beside these.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from . import autoscaling
from .errors import Problem
from .expand import PER_REPLICA, RWX, SHARED, cache_mode, gpus, gpus_per_node, nodes, parallelism, top_pods
from .lora import LORA_FLAGS, adapters, lora_problems
from .quantity import QuantityError, parse_quantity
from .schema import model_default, model_schema, resolve

RESERVED_NAMES = {"router": "the router's objects are named '<release>-router'"}
# `vllm serve` flags that a vllmConfig field (or the chart) already sets.
_FLAG_OWNERS = {
    "--max-model-len": "vllmConfig.maxModelLen",
    "--dtype": "vllmConfig.dtype",
    "--tensor-parallel-size": "vllmConfig.tensorParallelSize",
    "-tp": "vllmConfig.tensorParallelSize",
    "--pipeline-parallel-size": "vllmConfig.pipelineParallelSize",
    "-pp": "vllmConfig.pipelineParallelSize",
    "--gpu-memory-utilization": "vllmConfig.gpuMemoryUtilization",
    "--quantization": "vllmConfig.quantization",
    "-q": "vllmConfig.quantization",
    "--kv-cache-dtype": "vllmConfig.kvCacheDtype",
    "--max-num-seqs": "vllmConfig.maxNumSeqs",
    "--max-num-batched-tokens": "vllmConfig.maxNumBatchedTokens",
    "--enable-prefix-caching": "vllmConfig.enablePrefixCaching",
    "--no-enable-prefix-caching": "vllmConfig.enablePrefixCaching",
    "--served-model-name": "servedModelName",
    "--revision": "revision",
    "--model": "modelURL",
    "--port": "the chart (the Service targets it)",
    "--host": "the chart (the Service targets it)",
    "--api-key": "apiKeySecret (a Secret, never a literal argument)",
    **LORA_FLAGS,
}


def _dicts(models: list[Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, entry in enumerate(models):
        if isinstance(entry, dict):
            yield index, entry


def _str(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) else None


def _quantity(entry: dict[str, Any], key: str) -> Decimal | None:
    value = entry.get(key, model_default(key))
    if value is None:
        return None
    try:
        return parse_quantity(value)
    except QuantityError:
        return None  # the schema check reports it


def _shown(entry: dict[str, Any], key: str) -> str:
    if key in entry:
        return str(entry[key])
    return f"{resolve(model_schema()['properties'][key]).get('default')} (the default)"


def _duplicates(models: list[Any]) -> list[Problem]:
    problems = []
    first_name: dict[str, int] = {}
    first_served: dict[str, int] = {}
    for index, entry in _dicts(models):
        name = _str(entry, "name")
        if name is not None and name in first_name:
            problems.append(
                Problem((index, "name"), f"duplicate model name {name!r} (first at $[{first_name[name]}])")
            )
        elif name is not None:
            first_name[name] = index
        served = _str(entry, "servedModelName") or name
        if served is None:
            continue
        if served not in first_served:
            first_served[served] = index
            continue
        other = first_served[served]
        if "servedModelName" in entry:
            where: tuple[int, str] = (index, "servedModelName")
            message = (
                f"served model name {served!r} is already served by $[{other}]; each model needs its own"
            )
        elif "servedModelName" in models[other]:
            where = (other, "servedModelName")
            message = f"served model name {served!r} is also the name of $[{index}]; each model needs its own"
        else:
            continue  # the same name twice: reported as a duplicate name
        problems.append(Problem(where, message))
    return problems


def _parallelism(index: int, entry: dict[str, Any]) -> list[Problem]:
    tp, pp = parallelism(entry)
    request = entry.get("requestGPU")
    if not isinstance(request, int) or isinstance(request, bool) or pp < 1 or (tp is not None and tp < 1):
        return []  # a size below 1 is the schema's problem to report, and no divisor
    if tp is not None and tp * pp != request:
        return [
            Problem(
                (index, "requestGPU"),
                f"requestGPU is {request} but vllmConfig.tensorParallelSize \u00d7 pipelineParallelSize is "
                f"{tp} \u00d7 {pp} = {tp * pp}; vLLM needs exactly that many GPUs per replica",
            )
        ]
    if tp is None and request > 0 and request % pp:
        return [
            Problem(
                (index, "vllmConfig", "pipelineParallelSize"),
                f"requestGPU {request} is not a multiple of pipelineParallelSize {pp}",
            )
        ]
    if tp is None and request == 0 and pp > 1:
        return [Problem((index, "vllmConfig", "pipelineParallelSize"), "needs GPUs, but requestGPU is 0")]
    return []


def _multi_node(index: int, entry: dict[str, Any]) -> list[Problem]:
    """A replica wider than one node must split into whole nodes, and the LeaderWorkerSet it becomes has
    no autoscaler support in the chart."""
    count, per_node = gpus(entry), gpus_per_node(entry)
    if count <= per_node:
        return []
    if count % per_node:
        return [
            Problem(
                (index, "gpusPerNode"),
                f"the model needs {count} GPUs per replica, more than one node's {per_node}, and {count} "
                f"is not a multiple of {per_node}: vLLM spreads a replica over nodes of equal size; set "
                f"gpusPerNode to a divisor of {count} (e.g. {_largest_divisor(count, per_node)}) or change "
                "the parallel sizes",
            )
        ]
    autoscale = entry.get("autoscaling")
    if isinstance(autoscale, dict) and autoscale.get("enabled") is True:
        return [
            Problem(
                (index, "autoscaling", "enabled"),
                f"the model spans {nodes(entry)} nodes (a LeaderWorkerSet), which the chart does not "
                "autoscale; set replicaCount instead",
            )
        ]
    return []


def _largest_divisor(count: int, below: int) -> int:
    return max(d for d in range(1, below + 1) if count % d == 0)


def _limits(index: int, entry: dict[str, Any]) -> list[Problem]:
    problems = []
    for limit_key, request_key in (("limitMemory", "requestMemory"), ("limitCPU", "requestCPU")):
        limit, request = _quantity(entry, limit_key), _quantity(entry, request_key)
        if limit is None or request is None or limit >= request:
            continue
        problems.append(
            Problem(
                (index, limit_key),
                f"{entry[limit_key]} is below {request_key} {_shown(entry, request_key)}; "
                "a limit must be at least its request",
            )
        )
    shm, memory_limit = _quantity(entry, "shmSize"), _quantity(entry, "limitMemory")
    if shm is not None and memory_limit is not None and "limitMemory" in entry and shm >= memory_limit:
        problems.append(
            Problem(
                (index, "shmSize"),
                f"/dev/shm of {_shown(entry, 'shmSize')} is memory-backed and counts against "
                f"limitMemory {entry['limitMemory']}; make it smaller than the limit",
            )
        )
    return problems


def _cache(index: int, entry: dict[str, Any], claims: dict[str, int]) -> list[Problem]:
    problems = []
    mode, count = cache_mode(entry), top_pods(entry)
    access = _str(entry, "pvcAccessMode") or "ReadWriteOnce"
    claim = _str(entry, "existingClaim")
    if claim is not None:
        if count > 1 and access != RWX:
            problems.append(
                Problem(
                    (index, "existingClaim"),
                    f"claim {claim!r} would be mounted by {count} replicas but pvcAccessMode is {access}; "
                    "replicas on different nodes cannot share it (Multi-Attach error): use a ReadWriteMany "
                    "claim and set pvcAccessMode: ReadWriteMany, "
                    "or drop existingClaim for per-replica caches",
                )
            )
        if claim in claims and access != RWX:
            problems.append(
                Problem(
                    (index, "existingClaim"),
                    f"claim {claim!r} is also used by $[{claims[claim]}]; several models share a claim only "
                    "when it is ReadWriteMany (set pvcAccessMode: ReadWriteMany on each)",
                )
            )
        claims.setdefault(claim, index)
        if entry.get("cacheMode") == PER_REPLICA:
            problems.append(
                Problem(
                    (index, "cacheMode"), "per-replica caches are created by the chart; drop existingClaim"
                )
            )
        for key in ("storageClass", "pvcStorage"):
            if key in entry:
                problems.append(Problem((index, key), "has no effect with existingClaim; remove one of them"))
    elif mode == SHARED and count > 1 and access != RWX:
        problems.append(
            Problem(
                (index, "cacheMode"),
                f"{count} {'pods' if nodes(entry) > 1 else 'replicas'} cannot share one {access} volume "
                f"({_why(access)}); "
                "use cacheMode: per-replica or pvcAccessMode: ReadWriteMany",
            )
        )
    if access == "ReadWriteOncePod" and mode == SHARED and entry.get("strategy") == "RollingUpdate":
        problems.append(
            Problem(
                (index, "strategy"),
                "a ReadWriteOncePod cache cannot be mounted by the new pod while the old one runs; "
                "use Recreate",
            )
        )
    return problems


def _why(access: str) -> str:
    if access == "ReadWriteOncePod":
        return "only one pod may mount it"
    return "Multi-Attach error when they land on different nodes"


# Literal credentials in fields that end up in pod specs, ConfigMaps and Helm's release history. The
# message names the kind of credential and where it belongs, never the value.
_CREDENTIALS = (
    (
        re.compile(r"\bhf_[A-Za-z0-9]{30,}"),
        "looks like a Hugging Face token; models.yaml and pod specs are not secret: store it with "
        "`just vllm::set-hf-token` (Secret vllm-hf-token) or reference a Secret with valueFrom.secretKeyRef",
    ),
    (
        re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"),
        "looks like an API key; models.yaml and pod specs are not secret: store the router key with "
        "`just vllm::set-api-key`, an engine key with apiKeySecret, or reference a Secret with "
        "valueFrom.secretKeyRef",
    ),
)


def _credential(value: object) -> str | None:
    """What a literal credential in `value` should be replaced by, or None."""
    if isinstance(value, str):
        for pattern, advice in _CREDENTIALS:
            if pattern.search(value):
                return advice
    return None


def _literal_credentials(index: int, entry: dict[str, Any]) -> list[Problem]:
    places: list[tuple[tuple[str | int, ...], object]] = []
    env = entry.get("extraEnv")
    for env_index, item in enumerate(env if isinstance(env, list) else []):
        if isinstance(item, dict):
            places.append(((index, "extraEnv", env_index, "value"), item.get("value")))
    config = entry.get("vllmConfig")
    args = config.get("extraArgs") if isinstance(config, dict) else None
    for arg_index, arg in enumerate(args if isinstance(args, list) else []):
        places.append(((index, "vllmConfig", "extraArgs", arg_index), arg))
    for key in ("labels", "podAnnotations"):
        mapping = entry.get(key)
        for name, value in mapping.items() if isinstance(mapping, dict) else []:
            places.append(((index, key, str(name)), value))
    return [Problem(where, advice) for where, value in places if (advice := _credential(value))]


def _engine(index: int, entry: dict[str, Any]) -> list[Problem]:
    problems = []
    if gpus(entry) == 0 and "gpuProduct" in entry:
        problems.append(Problem((index, "gpuProduct"), "set, but the model requests no GPUs (requestGPU: 0)"))
    config = entry.get("vllmConfig")
    args = config.get("extraArgs") if isinstance(config, dict) else None
    for arg_index, arg in enumerate(args if isinstance(args, list) else []):
        flag = arg.split("=", 1)[0] if isinstance(arg, str) else ""
        # --enable-lora alone (adapters loaded at run time) is the user's; with loraAdapters it is the chart's
        owner = _FLAG_OWNERS.get(flag) or (
            "loraAdapters" if flag == "--enable-lora" and adapters(entry) else None
        )
        if owner:
            problems.append(
                Problem(
                    (index, "vllmConfig", "extraArgs", arg_index),
                    f"{flag} is set by {owner}; use that instead of extraArgs",
                )
            )
    env = entry.get("extraEnv")
    seen: dict[str, int] = {}
    for env_index, item in enumerate(env if isinstance(env, list) else []):
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and name in seen:
            problems.append(
                Problem(
                    (index, "extraEnv", env_index, "name"),
                    f"duplicate variable {name!r} (first at extraEnv[{seen[name]}])",
                )
            )
        elif isinstance(name, str):
            seen[name] = env_index
    return problems


def cross_field_problems(models: list[Any], provider: str = autoscaling.DEFAULT_PROVIDER) -> list[Problem]:
    """Every cross-field problem of a list of (possibly partly invalid) model entries; ``provider`` is
    the chart's ``autoscaling.provider`` the models will be deployed with."""
    problems = _duplicates(models) + lora_problems(models) + autoscaling.problems(models, provider)
    claims: dict[str, int] = {}
    for index, entry in _dicts(models):
        name = _str(entry, "name")
        if name in RESERVED_NAMES:
            problems.append(Problem((index, "name"), f"{name!r} is reserved: {RESERVED_NAMES[name]}"))
        problems += _parallelism(index, entry)
        problems += _multi_node(index, entry)
        problems += _limits(index, entry)
        problems += _cache(index, entry, claims)
        problems += _engine(index, entry)
        problems += _literal_credentials(index, entry)
    return problems
