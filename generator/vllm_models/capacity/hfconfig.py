"""Reading a Hugging Face checkpoint's own files: ``config.json`` and the safetensors index or headers.

Pure functions over already-read data (dicts, bytes), plus two small readers of files on disk, so the
same code serves a local cache, a local model directory and files fetched from the hub.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from .records import Architecture

_DTYPES = {"bfloat16": "bfloat16", "float16": "float16", "float32": "float32", "half": "float16"}
_ST_BYTES = {
    "F64": 8,
    "F32": 4,
    "BF16": 2,
    "F16": 2,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U8": 1,
    "BOOL": 1,
}


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _quant_dtype(quant: dict[str, Any]) -> str | None:
    method = str(quant.get("quant_method", "")).lower()
    bits = quant.get("bits") or quant.get("w_bit")
    if method == "mxfp4":
        return "mxfp4"
    if "fp8" in method or method == "modelopt":
        return "fp8"
    if isinstance(bits, int):
        return {4: "int4", 8: "int8"}.get(bits)
    if method in ("awq", "gptq", "awq_marlin", "gptq_marlin", "bitsandbytes"):
        return "int4"
    return None


def architecture_from_config(config: dict[str, Any], source: str) -> Architecture:
    """The KV-cache-relevant fields of a ``config.json`` (``text_config`` of multimodal models first)."""
    text = config.get("text_config")
    cfg = {**config, **text} if isinstance(text, dict) else dict(config)
    layers = _int(cfg.get("num_hidden_layers") or cfg.get("n_layer") or cfg.get("num_layers"))
    heads = _int(cfg.get("num_attention_heads") or cfg.get("n_head"))
    kv_heads = _int(cfg.get("num_key_value_heads")) or heads
    hidden = _int(cfg.get("hidden_size") or cfg.get("n_embd") or cfg.get("d_model"))
    head_dim = _int(cfg.get("head_dim")) or (hidden // heads if hidden and heads else None)
    max_pos = _int(
        cfg.get("max_position_embeddings")
        or cfg.get("max_seq_len")
        or cfg.get("n_positions")
        or cfg.get("seq_length")
    )
    top_k = _int(cfg.get("num_experts_per_tok") or cfg.get("experts_per_token") or cfg.get("moe_topk"))
    expert = _int(cfg.get("moe_intermediate_size"))
    inter = _int(cfg.get("intermediate_size") or cfg.get("ffn_dim") or cfg.get("n_inner"))
    if top_k and (expert or inter):
        inter = top_k * (expert or inter or 0)
    window, sliding = _sliding(cfg, layers)
    quant = config.get("quantization_config") or cfg.get("quantization_config")
    dtype = _quant_dtype(quant) if isinstance(quant, dict) else None
    raw_dtype = str(cfg.get("torch_dtype") or cfg.get("dtype") or "")
    values: dict[str, Any] = {
        "num_layers": layers,
        "num_kv_heads": kv_heads,
        "head_dim": head_dim,
        "max_position_embeddings": max_pos,
        "num_attention_heads": heads,
        "hidden_size": hidden,
        "intermediate_size": inter,
        "vocab_size": _int(cfg.get("vocab_size")),
        "sliding_window": window,
        "sliding_layers": sliding,
        "weight_dtype": dtype or _DTYPES.get(raw_dtype),
    }
    present = {k: v for k, v in values.items() if v is not None}
    return Architecture(sources=dict.fromkeys(present, source), **present)


def _sliding(cfg: dict[str, Any], layers: int | None) -> tuple[int | None, int | None]:
    """(window, number of sliding-window layers), only when the config says which layers slide.

    ``layer_types`` (gpt-oss, newer Gemma 3 configs) or ``sliding_window_pattern`` (Gemma 3: every
    n-th layer is global). A bare ``sliding_window`` (Qwen 2 with use_sliding_window false, Mistral
    v0.1) is treated as full attention, which over- rather than under-estimates the KV cache.
    """
    window = _int(cfg.get("sliding_window"))
    if window is None or cfg.get("use_sliding_window") is False:
        return None, None
    kinds = cfg.get("layer_types")
    if isinstance(kinds, list) and kinds:
        count = sum(1 for kind in kinds if kind == "sliding_attention")
        return (window, count) if count else (None, None)
    pattern = _int(cfg.get("sliding_window_pattern"))
    if pattern and layers:
        return window, sum(1 for i in range(layers) if (i + 1) % pattern != 0)
    return None, None


def weights_from_index(index: dict[str, Any]) -> int | None:
    """Bytes of all shards from ``model.safetensors.index.json``'s ``metadata.total_size``."""
    meta = index.get("metadata")
    size = meta.get("total_size") if isinstance(meta, dict) else None
    return int(size) if isinstance(size, int | float) and size > 0 else None


def safetensors_header(data: bytes) -> tuple[int, int] | None:
    """(tensor bytes, parameter count) from the start of a ``.safetensors`` file (8-byte length + JSON)."""
    if len(data) < 8:
        return None
    (length,) = struct.unpack("<Q", data[:8])
    if length <= 0 or len(data) < 8 + length:
        return None
    try:
        header = json.loads(data[8 : 8 + length])
    except ValueError:
        return None
    total = params = 0
    for name, tensor in header.items():
        if name == "__metadata__" or not isinstance(tensor, dict):
            continue
        begin, end = tensor.get("data_offsets", (0, 0))
        total += int(end) - int(begin)
        width = _ST_BYTES.get(str(tensor.get("dtype")), 1)
        params += (int(end) - int(begin)) // width
    return total, params


def read_safetensors_header(path: Path) -> tuple[int, int] | None:
    """:func:`safetensors_header` of a file on disk, reading only its header."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                return None
            (length,) = struct.unpack("<Q", head)
            if length > 100_000_000:
                return None
            return safetensors_header(head + fh.read(length))
    except OSError:
        return None


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from disk, or None when absent or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
