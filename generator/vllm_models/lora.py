"""LoRA adapters of a model: the engine limits derived from them and the checks JSON Schema cannot express.

An adapter is served by its base model's engine (``--enable-lora --lora-modules name=path``) and listed by
the router as a model of its own, so adapter names share one namespace with every model's name and served
name. The chart derives the same limits (``templates/_helpers.tpl``) when they are not written.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .errors import PathPart, Problem, format_path
from .schema import whole_number

# vLLM's accepted `--max-lora-rank` sizes (its LoRAConfig), smallest first.
LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
DEFAULT_RANK = 16  # vLLM's own default
# `vllm serve` flags the chart renders from loraAdapters and vllmConfig.
LORA_FLAGS = {
    "--lora-modules": "loraAdapters",
    "--max-loras": "vllmConfig.maxLoras",
    "--max-lora-rank": "vllmConfig.maxLoraRank",
}


def adapters(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The entry's adapters that are mappings (a schema error elsewhere is reported by the schema)."""
    value = entry.get("loraAdapters")
    return [a for a in value if isinstance(a, dict)] if isinstance(value, list) else []


def is_local(source: object) -> bool:
    """A local path inside the container (used as is), as opposed to a Hugging Face repo id (staged)."""
    return isinstance(source, str) and source.startswith("/")


def default_max_loras(entry: dict[str, Any]) -> int:
    """Every adapter may be in one batch: one slot per adapter."""
    return max(len(adapters(entry)), 1)


def default_max_lora_rank(entry: dict[str, Any]) -> int:
    """The smallest size vLLM accepts that holds every declared ``rank``; vLLM's 16 when none is declared."""
    ranks = [r for a in adapters(entry) if (r := whole_number(a.get("rank"))) is not None]
    if not ranks:
        return DEFAULT_RANK
    return next((size for size in LORA_RANKS if size >= max(ranks)), LORA_RANKS[-1])


def with_limits(entry: dict[str, Any]) -> dict[str, Any]:
    """``entry`` with ``vllmConfig.maxLoras`` and ``maxLoraRank`` explicit when it has adapters (in place)."""
    config = entry.get("vllmConfig")
    if adapters(entry) and isinstance(config, dict):
        config.setdefault("maxLoras", default_max_loras(entry))
        config.setdefault("maxLoraRank", default_max_lora_rank(entry))
    return entry


def _model_ids(models: list[Any]) -> dict[str, tuple[PathPart, ...]]:
    """Every id a router lists for the models themselves (name and served name), first place of each."""
    ids: dict[str, tuple[PathPart, ...]] = {}
    for index, entry in enumerate(models):
        if not isinstance(entry, dict):
            continue
        for key in ("name", "servedModelName"):
            value = entry.get(key)
            if isinstance(value, str):
                ids.setdefault(value, (index, key))
    return ids


def _names(models: list[Any]) -> Iterator[Problem]:
    model_ids = _model_ids(models)
    first: dict[str, tuple[PathPart, ...]] = {}
    for index, entry in enumerate(models):
        if not isinstance(entry, dict):
            continue
        listed = entry.get("loraAdapters")
        for a_index, adapter in enumerate(listed if isinstance(listed, list) else []):
            name = adapter.get("name") if isinstance(adapter, dict) else None
            if not isinstance(name, str):
                continue
            here: tuple[PathPart, ...] = (index, "loraAdapters", a_index, "name")
            if name in model_ids:
                yield Problem(
                    here,
                    f"{name!r} is already a model id ({format_path(model_ids[name])}); adapters and models "
                    "share the router's model list, so each needs its own name",
                )
            elif name in first:
                yield Problem(
                    here,
                    f"duplicate adapter name {name!r} (first at {format_path(first[name])}); adapters and "
                    "models share the router's model list, so each needs its own name",
                )
            first.setdefault(name, here)


def _model(index: int, entry: dict[str, Any]) -> Iterator[Problem]:
    found = adapters(entry)
    config = entry.get("vllmConfig")
    config = config if isinstance(config, dict) else {}
    if not found:
        for key in ("maxLoras", "maxLoraRank"):
            if key in config:
                yield Problem((index, "vllmConfig", key), "has no effect without loraAdapters")
        return
    raw = entry.get("loraAdapters")
    for a_index, adapter in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(adapter, dict):
            continue
        if "revision" in adapter and is_local(adapter.get("source")):
            yield Problem(
                (index, "loraAdapters", a_index, "revision"),
                f"a revision pins a Hugging Face repo id, but source {adapter['source']!r} is a local path; "
                "remove one of them",
            )
        rank, limit = whole_number(adapter.get("rank")), whole_number(config.get("maxLoraRank"))
        # a rank above every size is the schema's to report
        if rank is not None and limit is not None and limit < rank <= LORA_RANKS[-1]:
            yield Problem(
                (index, "loraAdapters", a_index, "rank"),
                f"rank {rank} is above vllmConfig.maxLoraRank {limit}; vLLM refuses to load the adapter "
                "(raise maxLoraRank or leave it unset to derive it)",
            )


def lora_problems(models: list[Any]) -> list[Problem]:
    """Every LoRA problem of a list of (possibly partly invalid) model entries."""
    problems = list(_names(models))
    for index, entry in enumerate(models):
        if isinstance(entry, dict):
            problems += _model(index, entry)
    return problems
