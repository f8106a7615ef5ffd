"""Where a model's architecture comes from, in order: models.yaml, local HF cache, the hub, the catalog.

Each source fills only the fields the ones above it left unknown, and every field remembers its source.

- ``preflight.architecture`` in the model entry (camelCase keys, see docs/preflight.md);
- a local directory: ``modelURL`` itself when it is an absolute path, else the Hugging Face cache
  ``<hub>/models--<org>--<name>/snapshots/<commit>/`` (``revision`` picks the snapshot, else ``refs/main``,
  else the newest) where ``<hub>`` is ``hf_cache`` (an ``HF_HOME`` or a hub directory), else
  ``$HF_HUB_CACHE``, ``$HF_HOME/hub``, ``~/.cache/huggingface/hub``;
- the hub, only with ``allow_network``: ``config.json`` and ``model.safetensors.index.json`` through an
  injectable ``fetch(repo, filename, revision)``, cached on disk so a second run needs no network;
- the bundled catalog (data/model_catalog.yaml).
"""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .catalog import architecture_from_keys, lookup_model
from .hfconfig import architecture_from_config, read_json, read_safetensors_header, weights_from_index
from .records import Architecture

Fetcher = Callable[[str, str, str], "bytes | None"]
"""``fetch(repo_id, filename, revision)``: the file's bytes, None when the repo has no such file;
raises ``OSError`` when the hub cannot be reached."""

_REPO = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+\Z")
GIB = 1024**3


def hub_dir(hf_cache: Path | None) -> Path:
    """The hub cache directory (the one holding ``models--org--name``)."""
    if hf_cache is not None:
        return hf_cache / "hub" if (hf_cache / "hub").is_dir() else hf_cache
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    return Path.home() / ".cache" / "huggingface" / "hub"


def find_snapshot(hub: Path, repo: str, revision: str | None) -> Path | None:
    """The snapshot directory of ``repo`` in a hub cache, or None."""
    root = hub / ("models--" + repo.replace("/", "--"))
    snapshots = root / "snapshots"
    if not snapshots.is_dir():
        return None
    for ref in ([revision] if revision else []) + ["main"]:
        if (snapshots / ref).is_dir():
            return snapshots / ref
        ref_file = root / "refs" / ref
        if ref_file.is_file():
            commit = ref_file.read_text(encoding="utf-8").strip()
            if (snapshots / commit).is_dir():
                return snapshots / commit
        if revision:
            break  # a pinned revision that is not cached: do not fall back to another snapshot
    if revision:
        return None
    found = [p for p in snapshots.iterdir() if (p / "config.json").is_file()]
    return max(found, key=lambda p: (p.stat().st_mtime, p.name)) if found else None


def from_directory(folder: Path, label: str) -> Architecture | None:
    """Architecture from a checkpoint directory: config.json plus the safetensors index or headers."""
    config = read_json(folder / "config.json")
    if config is None:
        return None
    arch = architecture_from_config(config, f"config.json ({label})")
    index = read_json(folder / "model.safetensors.index.json")
    size = weights_from_index(index) if index else None
    params = None
    if size is not None:
        where = f"model.safetensors.index.json metadata.total_size ({label})"
    else:
        headers = [read_safetensors_header(p) for p in sorted(folder.glob("*.safetensors"))]
        known = [h for h in headers if h is not None]
        if not known:
            return arch
        size, params = sum(h[0] for h in known), sum(h[1] for h in known)
        where = f"safetensors headers ({label})"
    extra = Architecture(weights_gib=size / GIB, sources={"weights_gib": where})
    if params:
        extra = Architecture(
            weights_gib=size / GIB, params_b=params / 1e9, sources={"weights_gib": where, "params_b": where}
        )
    return arch.merged_under(extra)


def from_hub(repo: str, revision: str, fetch: Fetcher, cache_dir: Path) -> Architecture | None:
    """Architecture from the hub's config.json and safetensors index, through a disk cache."""
    import json

    def get(name: str) -> dict[str, Any] | None:
        cached = cache_dir / repo.replace("/", "--") / revision / name
        missing = cached.with_name(name + ".absent")
        if cached.is_file():
            return read_json(cached)
        if missing.is_file():
            return None
        body = fetch(repo, name, revision)
        cached.parent.mkdir(parents=True, exist_ok=True)
        if body is None:
            missing.write_text("", encoding="utf-8")
            return None
        cached.write_bytes(body)
        data = json.loads(body)
        return data if isinstance(data, dict) else None

    config = get("config.json")
    if config is None:
        return None
    label = f"hub {repo}@{revision}"
    arch = architecture_from_config(config, f"config.json ({label})")
    index = get("model.safetensors.index.json")
    size = weights_from_index(index) if index else None
    if size is None:
        return arch
    where = f"model.safetensors.index.json metadata.total_size ({label})"
    return arch.merged_under(Architecture(weights_gib=size / GIB, sources={"weights_gib": where}))


def urllib_fetch(repo: str, filename: str, revision: str) -> bytes | None:
    """Default :data:`Fetcher`: GET huggingface.co/<repo>/resolve/<revision>/<file>, with HF_TOKEN if set."""
    request = urllib.request.Request(f"https://huggingface.co/{repo}/resolve/{revision}/{filename}")
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as e:
        if e.code in (401, 403, 404):
            return None
        raise OSError(f"hub answered {e.code} for {repo}/{filename}") from e


def default_cache_dir() -> Path:
    """Where hub answers are kept: ``$VLLM_MODELS_CACHE/hub`` or ``~/.cache/vllm-models/hub``."""
    base = os.environ.get("VLLM_MODELS_CACHE") or str(Path.home() / ".cache" / "vllm-models")
    return Path(base) / "hub"


def resolve_architecture(
    model_url: str,
    revision: str | None,
    given: dict[str, Any] | None,
    *,
    hf_cache: Path | None,
    allow_network: bool,
    fetch: Fetcher | None = None,
    cache_dir: Path | None = None,
) -> tuple[Architecture, list[str]]:
    """The merged architecture and notes on the sources consulted (and any that failed)."""
    notes: list[str] = []
    arch = architecture_from_keys(given or {}, "models.yaml preflight.architecture")
    is_repo = bool(_REPO.match(model_url))
    local: Architecture | None = None
    if model_url.startswith("/"):
        local = from_directory(Path(model_url), f"local path {model_url}")
    elif is_repo:
        snapshot = find_snapshot(hub_dir(hf_cache), model_url, revision)
        if snapshot is not None:
            local = from_directory(snapshot, f"HF cache snapshot {snapshot.name[:12]}")
    if local is not None:
        arch = arch.merged_under(local)
    if allow_network and is_repo and arch.missing() + _weights_missing(arch):
        try:
            hub = from_hub(
                model_url, revision or "main", fetch or urllib_fetch, cache_dir or default_cache_dir()
            )
        except (OSError, ValueError) as e:
            notes.append(f"hub lookup failed: {e}")
            hub = None
        if hub is not None:
            arch = arch.merged_under(hub)
    bundled = lookup_model(model_url)
    if bundled is not None:
        arch = arch.merged_under(bundled)
    return arch, notes


def _weights_missing(arch: Architecture) -> list[str]:
    return [] if arch.total_weights_gib() is not None else ["weights"]
