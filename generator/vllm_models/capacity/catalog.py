"""The bundled data: the model catalog (``data/model_catalog.yaml``) and the GPU table (``data/gpus.yaml``).

Also owns the mapping between the camelCase keys used in YAML (the catalog and ``preflight.architecture``
in models.yaml) and the fields of :class:`Architecture`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml  # type: ignore[import-untyped]

from .records import Architecture, GpuSpec

# camelCase key in YAML -> Architecture field, and the Python type the value must have.
ARCH_KEYS: dict[str, tuple[str, type]] = {
    "numLayers": ("num_layers", int),
    "numKVHeads": ("num_kv_heads", int),
    "headDim": ("head_dim", int),
    "maxPositionEmbeddings": ("max_position_embeddings", int),
    "paramsBillions": ("params_b", float),
    "weightsGiB": ("weights_gib", float),
    "weightDtype": ("weight_dtype", str),
    "numAttentionHeads": ("num_attention_heads", int),
    "hiddenSize": ("hidden_size", int),
    "intermediateSize": ("intermediate_size", int),
    "vocabSize": ("vocab_size", int),
    "slidingWindow": ("sliding_window", int),
    "slidingWindowLayers": ("sliding_layers", int),
}
_WEIGHT_FIELDS = {"weights_gib"}
_PARAM_FIELDS = {"params_b"}


def architecture_from_keys(
    data: dict[str, Any], source: str, *, params_source: str = "", weights_source: str = ""
) -> Architecture:
    """An :class:`Architecture` from camelCase keys; unknown keys are ignored, ``sources`` filled in."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, (name, kind) in ARCH_KEYS.items():
        raw = data.get(key)
        if raw is None or isinstance(raw, bool):
            continue
        values[name] = kind(raw)
        if name in _WEIGHT_FIELDS and weights_source:
            sources[name] = weights_source
        elif name in _PARAM_FIELDS and params_source:
            sources[name] = params_source
        else:
            sources[name] = source
    return Architecture(sources=sources, **values)


def _load(name: str) -> dict[str, Any]:
    text = resources.files("vllm_models").joinpath("data", name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"bundled data file {name} is not a mapping")
    return data


@lru_cache(maxsize=1)
def model_catalog() -> dict[str, Architecture]:
    """Repo id (lower case) -> architecture, every field's source naming the bundled catalog."""
    out: dict[str, Architecture] = {}
    for repo, entry in _load("model_catalog.yaml")["models"].items():
        where = "bundled catalog"
        out[repo.lower()] = architecture_from_keys(
            entry,
            f"{where}: {entry.get('source', 'config.json')}",
            params_source=f"{where}: {entry.get('paramsSource', 'model card')}",
            weights_source=f"{where}: {entry['weightsSource']}" if "weightsSource" in entry else "",
        )
    return out


def lookup_model(model_url: str) -> Architecture | None:
    """The catalog entry for a repo id (case-insensitive, ``hf://`` or URL prefixes stripped)."""
    key = re.sub(r"^(hf://|https?://huggingface\.co/)", "", model_url.strip()).strip("/").lower()
    return model_catalog().get(key)


@lru_cache(maxsize=1)
def gpu_table() -> tuple[dict[str, GpuSpec], dict[str, str]]:
    """(product label -> GpuSpec, alias -> product label), both keyed in lower case."""
    data = _load("gpus.yaml")
    sources: dict[str, str] = data["sources"]
    reserve = float(data["reserveGiB"])
    table: dict[str, GpuSpec] = {}
    for product, entry in data["gpus"].items():
        mib = int(entry["memoryMiB"])
        smi = f"nvidia-smi {mib} MiB ({sources[entry['memorySource']]})"
        if "totalGiB" in entry:
            spec = GpuSpec(product, float(entry["totalGiB"]), f"{sources[entry['totalSource']]}; {smi}")
        else:
            spec = GpuSpec(
                product,
                round(mib / 1024 - reserve, 2),
                f"estimated: {smi} minus {reserve} GiB driver reservation",
                estimated=True,
            )
        table[product.lower()] = spec
    aliases = {alias.lower(): target.lower() for alias, target in data["aliases"].items()}
    return table, aliases


_MIG = re.compile(r"-MIG-(\d+)g\.(\d+)gb$", re.IGNORECASE)


def lookup_gpu(product: str) -> tuple[GpuSpec | None, list[str]]:
    """The GPU for a ``nvidia.com/gpu.product`` value, and notes about how it was read.

    Handles GPU Feature Discovery's ``-SHARED`` suffix (time-slicing) and MIG profiles
    (``...-MIG-3g.40gb``: the profile's memory, estimated).
    """
    table, aliases = gpu_table()
    notes: list[str] = []
    name = product.strip()
    if name.upper().endswith("-SHARED"):
        name = name[: -len("-SHARED")]
        notes.append("GPU is time-sliced (-SHARED): other pods use the same memory; the figures assume none")
    mig = _MIG.search(name)
    if mig:
        gb = int(mig.group(2))
        notes.append(f"MIG profile {mig.group(1)}g.{gb}gb: memory estimated from the profile name")
        return GpuSpec(
            product,
            round(gb * 1e9 / 1024**3 * 0.97, 2),
            f"estimated from MIG profile {gb}gb (x0.97 for the driver)",
            estimated=True,
        ), notes
    key = name.lower()
    key = aliases.get(key, key)
    return table.get(key), notes
