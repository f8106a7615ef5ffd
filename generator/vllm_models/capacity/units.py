"""Byte units and Kubernetes quantities: the only place that turns ``50Gi`` or ``16G`` into bytes."""

from __future__ import annotations

import re

GiB = 1024**3
MiB = 1024**2

_SUFFIX = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?\s*$")


class QuantityError(ValueError):
    """A memory or storage quantity that is not a Kubernetes quantity (``16Gi``, ``500M``, ``1e9``)."""


def parse_quantity(value: object) -> int:
    """Bytes of a Kubernetes quantity (``16Gi``, ``80G``, ``1024``); plain numbers are bytes."""
    if isinstance(value, bool):
        raise QuantityError(f"expected a quantity such as 16Gi, got {value!r}")
    if isinstance(value, int | float):
        return int(value)
    if not isinstance(value, str):
        raise QuantityError(f"expected a quantity such as 16Gi, got {value!r}")
    match = _QUANTITY.match(value)
    if match is None:
        try:
            return int(float(value))  # 1e9 and friends
        except ValueError as e:
            raise QuantityError(f"expected a quantity such as 16Gi or 500M, got {value!r}") from e
    number, suffix = match.group(1), match.group(2) or ""
    return int(float(number) * _SUFFIX[suffix])


def gib(value: object) -> float:
    """GiB of a Kubernetes quantity."""
    return parse_quantity(value) / GiB


def fmt_gib(value: float | None) -> str:
    """``12.34 GiB`` or ``-`` for unknown."""
    return "-" if value is None else f"{value:.2f} GiB"


def fmt_int(value: int | None) -> str:
    """``131,072`` or ``-`` for unknown."""
    return "-" if value is None else f"{value:,}"
