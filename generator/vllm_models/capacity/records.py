"""The value types of the preflight: a model's architecture, a GPU and a model's report (its findings
are the generator's own :class:`~vllm_models.errors.Problem`).

Plain frozen dataclasses; every figure carries where it came from so a report can say which source it
trusted (``models.yaml``, the local Hugging Face cache, the hub, the bundled catalog, or an estimate).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from ..errors import Problem, has_errors

# Bytes a weight takes in storage, per parameter (mxfp4: 4-bit values plus one 8-bit scale per 32).
WEIGHT_BYTES: dict[str, float] = {
    "float32": 4.0,
    "bfloat16": 2.0,
    "float16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "int4": 0.5,
    "mxfp4": 4.25 / 8,
}


@dataclass(frozen=True)
class Architecture:
    """What the KV-cache and weight arithmetic needs to know about a model; every field optional.

    ``sources`` maps a field name to where its value came from, e.g.
    ``{"num_layers": "config.json (HF cache, snapshot 0123abcd)"}``.
    """

    num_layers: int | None = None
    num_kv_heads: int | None = None
    head_dim: int | None = None
    max_position_embeddings: int | None = None
    params_b: float | None = None
    weights_gib: float | None = None
    weight_dtype: str | None = None
    num_attention_heads: int | None = None
    hidden_size: int | None = None
    intermediate_size: int | None = None  # per token: dense MLP width, or top-k x expert width for MoE
    vocab_size: int | None = None
    sliding_window: int | None = None
    sliding_layers: int | None = None  # layers that attend only to the last ``sliding_window`` tokens
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def merged_under(self, other: Architecture) -> Architecture:
        """Fill this architecture's unknown fields from ``other`` (which ranks below it)."""
        updates: dict[str, object] = {}
        sources = dict(self.sources)
        for f in fields(self):
            if f.name == "sources":
                continue
            if getattr(self, f.name) is None and getattr(other, f.name) is not None:
                updates[f.name] = getattr(other, f.name)
                if f.name in other.sources:
                    sources[f.name] = other.sources[f.name]
        return replace(self, sources=sources, **updates)  # type: ignore[arg-type]

    def missing(self) -> list[str]:
        """The fields the KV-cache arithmetic cannot do without."""
        need = ("num_layers", "num_kv_heads", "head_dim")
        return [name for name in need if getattr(self, name) is None]

    def total_weights_gib(self) -> float | None:
        """Weights as stored: the given size, else parameters x bytes of the weight dtype."""
        if self.weights_gib is not None:
            return self.weights_gib
        if self.params_b is not None:
            per = WEIGHT_BYTES.get(self.weight_dtype or "bfloat16", 2.0)
            return self.params_b * 1e9 * per / 1024**3
        return None


@dataclass(frozen=True)
class GpuSpec:
    """One GPU product: the memory the CUDA driver reports as total (what vLLM multiplies)."""

    product: str
    total_gib: float
    source: str
    estimated: bool = False


@dataclass(frozen=True)
class ModelReport:
    """Everything the preflight worked out for one model entry; figures are per GPU unless named."""

    index: int
    name: str
    model_url: str
    source_file: str
    gpu: GpuSpec | None
    tensor_parallel: int
    pipeline_parallel: int
    gpu_memory_utilization: float
    architecture: Architecture
    kv_cache_dtype: str
    weights_gib: float | None = None  # whole model, as stored on disk and staged through host RAM
    weights_per_gpu_gib: float | None = None
    kv_bytes_per_token: int | None = None  # one token, all layers, summed over the GPUs of a replica
    kv_bytes_per_token_per_gpu: int | None = None
    overhead_gib: float | None = None  # estimated activation peak + non-torch memory, per GPU
    kv_estimate_gib: float | None = None
    kv_reported_gib: float | None = None
    kv_available_gib: float | None = None  # the figure used: reported when given, else the estimate
    kv_source: str = "unknown"
    max_model_len: int | None = None
    max_model_len_is_default: bool = False
    kv_needed_gib: float | None = None  # per GPU, for one request of max_model_len tokens
    capacity_tokens: int | None = None
    largest_context: int | None = None
    concurrency: float | None = None
    fits: bool | None = None  # None: could not tell (unknown model or GPU)
    host_need_gib: float | None = None
    host_limit_gib: float | None = None
    host_limit_source: str = ""
    host_headroom_gib: float | None = None
    pvc_gib: float | None = None
    pvc_headroom_gib: float | None = None
    suggested_max_model_len: int | None = None
    replicas: int = 1  # the most replicas: autoscaling.maxReplicas when autoscaled, else replicaCount
    min_replicas: int | None = None  # autoscaling.minReplicas when autoscaled, else None
    nodes: int = 1  # nodes (pods) one replica spans; host RAM and caches are per pod
    gpus_total: int = 0  # GPUs of all replicas at `replicas`
    pvc_total_gib: float | None = None  # weight caches at `replicas` (one per replica when per-replica)
    fixes: tuple[str, ...] = ()
    findings: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """No error-level finding (an ``allowUnfit`` model has its errors downgraded to warnings)."""
        return not has_errors(self.findings)
