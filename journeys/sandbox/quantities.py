"""Kubernetes resource quantities compared by value: `500m` equals `0.5`, `1Gi` equals `1073741824`."""

import re
from decimal import Decimal, InvalidOperation

SUFFIXES = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
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
QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")


class QuantityError(ValueError):
    pass


def parse_quantity(value):
    """The numeric value of a quantity as a Decimal; raises QuantityError for text that is not one."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    match = QUANTITY.match(str(value).strip())
    if not match:
        raise QuantityError(f"{value!r} is not a Kubernetes quantity")
    try:
        return Decimal(match.group(1)) * SUFFIXES[match.group(2) or ""]
    except (InvalidOperation, ArithmeticError):
        # An exponent such as 1e999999999 overflows Decimal: no resource is that large.
        raise QuantityError(f"{value!r} is not a Kubernetes quantity") from None


def same_quantity(left, right):
    try:
        return parse_quantity(left) == parse_quantity(right)
    except QuantityError:
        return False
