"""KV-cache and GPU-memory arithmetic, following vLLM's own (V1 ``gpu_worker.py``, ``kv_cache_utils.py``).

vLLM sizes the KV cache at start-up like this, per GPU of a replica::

    requested  = total_gpu_memory x gpu_memory_utilization       # total as cudaMemGetInfo reports it
    non_kv     = weights + peak activation of a profiling run + non-torch memory increase
    available  = requested - non_kv                              # "Available KV cache memory: X GiB"
    num_blocks = available // (block_size x kv_bytes_per_token_per_gpu)     # block_size = 16 tokens
    "GPU KV cache size: num_blocks x 16 tokens"
    "Maximum concurrency for L tokens per request: (num_blocks x 16) / L"

and refuses to start when one request of ``max_model_len`` tokens needs more than ``available``.
KV bytes per token = 2 (K and V) x layers x KV heads x head_dim x bytes of the KV dtype; tensor
parallelism gives each rank ``max(1, kv_heads // tp)`` heads, pipeline parallelism ``layers / pp`` layers.
Layers with a sliding window (Gemma 3, gpt-oss) hold at most window + one block of tokens per request.

Overhead estimate (what vLLM measures in its profiling run, which we cannot run):

- peak activation = max(T x (2 x hidden + 3 x intermediate / tp) x 2 B,  T x hidden x 2 B + S x vocab x 8 B)
  The first term is one decoder layer's live tensors at the MLP (residual, normed input, gate+up output,
  activation output, 16-bit) for a prefill chunk of T = ``maxNumBatchedTokens`` tokens; the second is the
  dummy sampler run on S = ``maxNumSeqs`` rows of float32 logits plus probabilities. Unknown widths: 1.5 GiB.
- non-torch memory (cuBLAS/attention workspaces, allocator slack): 0.75 GiB per GPU, +0.25 GiB when the
  replica spans several GPUs (NCCL and custom all-reduce buffers).
- CUDA graphs: 0. vLLM captures them after sizing the KV cache, inside the ``1 - gpu_memory_utilization``
  headroom, together with the CUDA context; the report warns when that headroom is under 1 GiB.
T and S default to vLLM's V1 defaults for the OpenAI server: 8192 and 1024 on GPUs with at least 70 GiB
that are not A100s, else 2048 and 256. The 0.75 GiB constant is calibrated on one measured run
(Llama 3.3 70B FP8 on an H100, see docs/preflight.md); treat the estimate as good to about +-1 GiB
(ESTIMATE_UNCERTAINTY_GIB: a model short by less is only a warning) and prefer the engine's reported figure
(``preflight.reportedKVCacheGiB``) once a model has started once.
"""

from __future__ import annotations

import math

from .records import Architecture
from .units import GiB

BLOCK_SIZE = 16
DEFAULT_GPU_MEMORY_UTILIZATION = 0.9
NON_TORCH_GIB = 0.75
MULTI_GPU_EXTRA_GIB = 0.25
FALLBACK_ACTIVATION_GIB = 1.5
ACTIVATION_BYTES = 2
CUDA_GRAPH_HEADROOM_GIB = 1.0
# How far the estimate may be off (calibration on one run, see the docstring). A model short of KV memory
# by less than this is a warning, not an error, unless the engine's own figure is known.
ESTIMATE_UNCERTAINTY_GIB = 1.0

KV_DTYPE_BYTES = {"fp8": 1, "fp8_e4m3": 1, "fp8_e5m2": 1, "fp8_inc": 1}


def kv_element_bytes(kv_cache_dtype: str | None, dtype: str | None) -> int:
    """Bytes of one KV element: fp8 variants 1; ``auto`` follows the activation dtype (float32 4, else 2)."""
    if kv_cache_dtype and kv_cache_dtype in KV_DTYPE_BYTES:
        return KV_DTYPE_BYTES[kv_cache_dtype]
    return 4 if dtype in ("float32", "float") else 2


def _split(arch: Architecture, tp: int, pp: int) -> tuple[int, int, int]:
    """Per GPU: (full-attention layers, sliding-window layers, KV heads)."""
    layers = arch.num_layers or 0
    sliding = min(arch.sliding_layers or 0, layers) if arch.sliding_window else 0
    heads = max(1, (arch.num_kv_heads or 0) // tp)
    return math.ceil((layers - sliding) / pp), math.ceil(sliding / pp), heads


def layer_token_bytes(arch: Architecture, kv_bytes: int, tp: int = 1) -> int:
    """K and V of one token in one layer on one GPU."""
    return 2 * max(1, (arch.num_kv_heads or 0) // tp) * (arch.head_dim or 0) * kv_bytes


def kv_bytes_per_token(arch: Architecture, kv_bytes: int, tp: int = 1, pp: int = 1) -> int:
    """Per GPU, all of its layers (sliding ones included): vLLM's bytes per token.

    With tp = pp = 1 this is the textbook 2 x layers x KV heads x head_dim x bytes.
    """
    full, sliding, _ = _split(arch, tp, pp)
    return (full + sliding) * layer_token_bytes(arch, kv_bytes, tp)


def _round_up(tokens: int) -> int:
    return -(-tokens // BLOCK_SIZE) * BLOCK_SIZE


def kv_bytes_for_context(arch: Architecture, kv_bytes: int, tokens: int, tp: int = 1, pp: int = 1) -> int:
    """Per GPU: the KV cache one request of ``tokens`` tokens needs, in whole 16-token blocks."""
    full, sliding, _ = _split(arch, tp, pp)
    per = layer_token_bytes(arch, kv_bytes, tp)
    held = _round_up(tokens)
    windowed = min(held, _round_up(arch.sliding_window or 0) + BLOCK_SIZE) if sliding else 0
    return per * (full * held + sliding * windowed)


def largest_context(
    arch: Architecture, kv_bytes: int, available_bytes: float, tp: int = 1, pp: int = 1
) -> int:
    """The longest single request whose KV cache fits ``available_bytes`` (a multiple of 16 tokens)."""
    if available_bytes <= 0:
        return 0
    full, sliding, _ = _split(arch, tp, pp)
    per = layer_token_bytes(arch, kv_bytes, tp)
    if per <= 0:
        return 0
    slots = available_bytes / per  # layer-token slots that fit
    if sliding:
        window = _round_up(arch.sliding_window or 0) + BLOCK_SIZE
        if full == 0:
            return (
                (2**31 - 1) // BLOCK_SIZE * BLOCK_SIZE
                if slots >= sliding * window
                else _block_floor(slots / sliding)
            )
        beyond = (slots - sliding * window) / full
        if beyond >= window:
            return _block_floor(beyond)
    return _block_floor(slots / (full + sliding))


def _block_floor(tokens: float) -> int:
    return int(tokens // BLOCK_SIZE) * BLOCK_SIZE


def capacity_tokens(available_bytes: float, per_token_bytes: int) -> int:
    """vLLM's "GPU KV cache size": whole blocks that fit, times 16 tokens."""
    if available_bytes <= 0 or per_token_bytes <= 0:
        return 0
    return int(available_bytes // (BLOCK_SIZE * per_token_bytes)) * BLOCK_SIZE


def concurrency(
    arch: Architecture, kv_bytes: int, available_bytes: float, tokens: int, tp: int = 1, pp: int = 1
) -> float:
    """How many requests of ``tokens`` tokens fit at once (vLLM's "Maximum concurrency ... x")."""
    if tokens <= 0 or available_bytes <= 0:
        return 0.0
    _, sliding, _ = _split(arch, tp, pp)
    if not sliding:
        return capacity_tokens(available_bytes, kv_bytes_per_token(arch, kv_bytes, tp, pp)) / tokens
    need = kv_bytes_for_context(arch, kv_bytes, tokens, tp, pp)
    return available_bytes / need if need else 0.0


def default_batching(gpu_total_gib: float | None, product: str | None) -> tuple[int, int]:
    """vLLM V1's defaults for the OpenAI server: (max_num_batched_tokens, max_num_seqs)."""
    big = gpu_total_gib is not None and gpu_total_gib >= 70 and "a100" not in (product or "").lower()
    return (8192, 1024) if big else (2048, 256)


def overhead_gib(arch: Architecture, tp: int, pp: int, batched_tokens: int, num_seqs: int) -> float:
    """Estimated peak activation plus non-torch memory per GPU (see the module docstring)."""
    gpus = tp * pp
    extra = NON_TORCH_GIB + (MULTI_GPU_EXTRA_GIB if gpus > 1 else 0.0)
    if arch.hidden_size is None or arch.intermediate_size is None:
        return FALLBACK_ACTIVATION_GIB + extra
    hidden, inter = arch.hidden_size, arch.intermediate_size
    layer_peak = batched_tokens * (2 * hidden + 3 * inter / tp) * ACTIVATION_BYTES
    sampler = batched_tokens * hidden * ACTIVATION_BYTES + num_seqs * (arch.vocab_size or 0) * 8
    return max(layer_peak, sampler) / GiB + extra


def available_kv_gib(
    total_gib: float, utilization: float, weights_per_gpu_gib: float, overhead: float
) -> float:
    """requested - weights - overhead, per GPU; negative means the weights alone do not fit."""
    return total_gib * utilization - weights_per_gpu_gib - overhead


def nice_floor(tokens: int) -> int:
    """A round ``maxModelLen`` at or below ``tokens``: a multiple of 1024 (of 256 below 4096)."""
    step = 1024 if tokens >= 4096 else 256 if tokens >= 256 else BLOCK_SIZE
    return tokens // step * step
