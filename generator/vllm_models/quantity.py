"""Kubernetes resource quantities (``16Gi``, ``500m``, ``8``): parsing, comparison and display."""

from __future__ import annotations

import math
import re
from decimal import Decimal

_QUANTITY = re.compile(r"^\+?(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?$")
_FACTORS: dict[str, Decimal] = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
EXPECTED = "a Kubernetes quantity such as 16Gi, 500Mi, 500m or 8"


class QuantityError(ValueError):
    """A value that is not a Kubernetes quantity; the message says what is expected."""


def parse_quantity(value: object) -> Decimal:
    """The quantity's value in base units (bytes, cores); raises QuantityError when it is not one."""
    if isinstance(value, bool):
        raise QuantityError(f"expected {EXPECTED}, got {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):  # YAML's .nan and .inf are floats; Decimal would take them
            raise QuantityError(f"expected {EXPECTED}, got {value!r}")
        if value < 0:
            raise QuantityError(f"expected {EXPECTED}, got the negative number {value}")
        return Decimal(str(value))
    if not isinstance(value, str):
        raise QuantityError(f"expected {EXPECTED}, got {type(value).__name__}")
    match = _QUANTITY.match(value.strip())
    if match is None:
        raise QuantityError(f"expected {EXPECTED}, got {value!r}{_hint(value)}")
    return Decimal(match["number"]) * _FACTORS[match["suffix"] or ""]


def is_quantity(value: object) -> bool:
    """True when ``parse_quantity`` accepts the value."""
    try:
        parse_quantity(value)
    except QuantityError:
        return False
    return True


def _hint(value: str) -> str:
    stripped = value.strip()
    for wrong, right in (("GB", "G or Gi"), ("MB", "M or Mi"), ("TB", "T or Ti"), ("KB", "k or Ki")):
        if stripped.upper().endswith(wrong) and not stripped.endswith(("Gi", "Mi", "Ti", "Ki")):
            return f" ({wrong!r} is not a Kubernetes unit: use {right})"
    if stripped.endswith(("gi", "mi", "ti", "ki")):
        return " (units are case-sensitive: Gi, Mi, Ti, Ki)"
    if " " in stripped:
        return " (no space between number and unit)"
    return ""
