"""Byte units for the capacity report; quantities are parsed by ``vllm_models.quantity``, the one
parser that validation uses too."""

from __future__ import annotations

from ..quantity import QuantityError, parse_quantity

__all__ = ["GiB", "MiB", "QuantityError", "fmt_gib", "fmt_int", "gib"]

GiB = 1024**3
MiB = 1024**2


def gib(value: object) -> float:
    """GiB of a Kubernetes quantity (plain numbers are bytes)."""
    return float(parse_quantity(value)) / GiB


def fmt_gib(value: float | None) -> str:
    """``12.34 GiB`` or ``-`` for unknown."""
    return "-" if value is None else f"{value:.2f} GiB"


def fmt_int(value: int | None) -> str:
    """``131,072`` or ``-`` for unknown."""
    return "-" if value is None else f"{value:,}"
