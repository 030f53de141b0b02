"""Kubernetes resource quantities compared by value: `500m` equals `0.5`, `1Gi` equals `1073741824`.

The grammar is Kubernetes' (k8s.io/apimachinery resource.Quantity): a signed decimal number of ASCII
digits, then either one suffix (n u m k M G T P E, Ki Mi Gi Ti Pi Ei) or a decimal exponent (e3, E-2),
never both. Python's \\d would take any Unicode digit ('٣' is 3 to int()); Kubernetes takes only 0-9.
"""

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
# One way to split each text, so a long run of digits that fails to match costs linear time, not quadratic.
QUANTITY = re.compile(
    r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"  # the number
    r"(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|([eE][+-]?[0-9]+))?"  # a suffix, or an exponent
)
# What Go's strings.TrimSpace trims (Quantity.UnmarshalJSON trims the text): Python's whitespace but \x1c-\x1f.
SPACE = (
    " \t\n\v\f\r\x85\xa0\u1680"
    + "".join(chr(code) for code in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)


class QuantityError(ValueError):
    pass


def parse_quantity(value):
    """The numeric value of a quantity as a Decimal; raises QuantityError for text that is not one."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = Decimal(str(value))
        if not number.is_finite():
            raise QuantityError(f"{value!r} is not a Kubernetes quantity")
        return number
    match = QUANTITY.fullmatch(str(value).strip(SPACE))
    if not match:
        raise QuantityError(f"{value!r} is not a Kubernetes quantity")
    number, suffix, exponent = match.groups()
    try:
        return Decimal(number + (exponent or "")) * SUFFIXES[suffix or ""]
    except (InvalidOperation, ArithmeticError):
        # An exponent such as 1e999999999 overflows Decimal: no resource is that large.
        raise QuantityError(f"{value!r} is not a Kubernetes quantity") from None


def non_negative_quantity(value):
    """The value of a quantity the API server accepts for a request, a limit or a quota (0 or more), else None."""
    try:
        number = parse_quantity(value)
    except QuantityError:
        return None
    return number if number >= 0 else None


def same_quantity(left, right):
    try:
        return parse_quantity(left) == parse_quantity(right)
    except QuantityError:
        return False


def quantity_between(value, low, high):
    """True when ``value`` is a quantity from ``low`` to ``high``, both included; text that is not one is not."""
    try:
        return parse_quantity(low) <= parse_quantity(value) <= parse_quantity(high)
    except QuantityError:
        return False
