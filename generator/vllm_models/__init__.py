"""vllm-models: validate and expand models.yaml into Helm values for the vllm-models chart."""

from __future__ import annotations

__version__ = "0.1.0"
