"""Parsing the `value` of a rule condition (rules.py): the client's value, checked
against its field's kind and operator, and the evaluation-ready operand.

Each parser takes (raw value, path) and returns (value as the client wrote it,
operand) or raises `Invalid(path, message)`.
"""
from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

MAX_LIST_VALUES = 1_000
MAX_TEXT_LENGTH = 1_000
MAX_DURATION_DAYS = 36_500

NUMBER, TEXT, TAGS, TIME = "number", "text", "tags", "time"
CONSENT, FLAG = "consent", "flag"  # marketing_consent (one of CONSENT_VALUES), suppressed (bool)
CONSENT_VALUES = ("subscribed", "unsubscribed")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_ISO_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?\Z"
)
_DURATION = re.compile(r"([1-9]\d{0,5})(d|w|mo|y)\Z")
_UNIT_DAYS = {"d": 1, "w": 7, "mo": 30, "y": 365}


class Invalid(Exception):
    def __init__(self, path: str, message: str):
        self.path, self.message = path, message


def epoch_us(moment: datetime) -> int:
    """Microseconds since 1970 UTC, exactly; a naive datetime counts as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // _MICROSECOND


def _number(raw: Any, path: str) -> tuple[Any, float]:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise Invalid(path, "must be a number")
    try:
        number = float(raw)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise Invalid(path, "must be a finite number")
    return raw, number


def _text(raw: Any, path: str, non_empty: bool = False) -> tuple[str, str]:
    if not isinstance(raw, str):
        raise Invalid(path, "must be a string")
    if len(raw) > MAX_TEXT_LENGTH:
        raise Invalid(path, f"must be at most {MAX_TEXT_LENGTH} characters")
    if non_empty and not raw:
        raise Invalid(path, "must not be empty")
    return raw, raw.casefold()


def _value_list(raw: Any, path: str, item) -> tuple[tuple, tuple]:
    if not isinstance(raw, list) or not raw:
        raise Invalid(path, "must be a non-empty list")
    if len(raw) > MAX_LIST_VALUES:
        raise Invalid(path, f"may hold at most {MAX_LIST_VALUES} values")
    parsed = [item(value, f"{path}[{i}]") for i, value in enumerate(raw)]
    return tuple(value for value, _ in parsed), tuple(operand for _, operand in parsed)


def _between(raw: Any, path: str) -> tuple[tuple, tuple[float, float]]:
    if not isinstance(raw, list) or len(raw) != 2:
        raise Invalid(path, "must be a list [low, high]")
    values, (low, high) = _value_list(raw, path, _number)
    if low > high:
        raise Invalid(path, "low must not be greater than high")
    return values, (low, high)


def _text_set(raw: Any, path: str) -> tuple[tuple, frozenset]:
    values, operands = _value_list(raw, path, _text)
    return values, frozenset(operands)


def _instant(raw: Any, path: str) -> tuple[str, int]:
    if not isinstance(raw, str) or not _ISO_INSTANT.match(raw):
        raise Invalid(path, "must be an ISO date or date-time, "
                             "e.g. 2024-01-31 or 2024-01-31T09:30:00Z")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise Invalid(path, "is not a real date or time") from None
    return raw, epoch_us(moment)


def parse_duration(raw: Any, path: str) -> tuple[str, int]:
    found = _DURATION.match(raw) if isinstance(raw, str) else None
    if not found:
        raise Invalid(path, "must be a duration such as 90d, 12w, 3mo or 1y")
    days = int(found[1]) * _UNIT_DAYS[found[2]]
    if days > MAX_DURATION_DAYS:
        raise Invalid(path, "may be at most 100 years")
    return raw, days * 86_400_000_000


def _flag(raw: Any, path: str) -> tuple[bool, bool]:
    if not isinstance(raw, bool):
        raise Invalid(path, "must be true or false")
    return raw, raw


def _consent(raw: Any, path: str) -> tuple[str, str]:
    if raw not in CONSENT_VALUES:
        raise Invalid(path, f"must be one of {', '.join(CONSENT_VALUES)}")
    return raw, raw


def _non_empty_text(raw: Any, path: str) -> tuple[str, str]:
    return _text(raw, path, non_empty=True)


_TEXT_PARSERS = {"eq": _text, "ne": _text, "in": _text_set, "not_in": _text_set,
                 "contains": _non_empty_text, "starts_with": _non_empty_text}
VALUE_PARSERS = {
    **{(NUMBER, op): _number for op in ("eq", "ne", "gt", "gte", "lt", "lte")},
    (NUMBER, "between"): _between,
    (NUMBER, "in"): lambda raw, path: _value_list(raw, path, _number),
    **{(TEXT, op): parse for op, parse in _TEXT_PARSERS.items()},
    **{(TAGS, op): parse for op, parse in _TEXT_PARSERS.items()},
    (TIME, "before"): _instant, (TIME, "after"): _instant,
    (TIME, "older_than"): parse_duration, (TIME, "within"): parse_duration,
    (TIME, "exists"): _flag,
    (CONSENT, "eq"): _consent, (CONSENT, "ne"): _consent,
    (FLAG, "eq"): _flag,
}
