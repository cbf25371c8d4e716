"""The mobile number a caller keys in for an SMS (R-09): why it cannot take one, and how it is read back."""
from __future__ import annotations

from ivr import messages as msg

NUMBER_DIGITS = 11


def number_problem(digits: str, check) -> str | None:
    """Why a keyed-in number cannot take an SMS (a key of messages.NUMBER_PROBLEMS), or None."""
    if check.ok and len(digits) == NUMBER_DIGITS:
        return None
    if digits.startswith("050"):
        return "ip_phone"
    if len(digits) != NUMBER_DIGITS:
        return "length"
    if digits[:3] in ("070", "080", "090") and digits[3] == "0":
        return "unassigned"
    return "not_mobile"


def read_digits(number: str) -> str:
    """090-1234-5678 read one digit at a time, with a longer pause between the usual groups."""
    groups = [number[:3], number[3:7], number[7:]] if len(number) == NUMBER_DIGITS else [number]
    return "、".join("・".join(msg.DIGIT_READINGS.get(d, d) for d in group) for group in groups if group)
