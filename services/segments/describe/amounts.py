"""Comparisons in words (describe.py): "over INR 10,000", "at most 3",
"between 5k and 10k", "3 or more", "5+", "twice", read into a number operator
of the rule language and its value."""
from __future__ import annotations

from dataclasses import dataclass

from segments.describe.words import Cursor, read_amount

_PREFIXES = {
    "gt": (("more", "than"), ("over",), ("above",), ("greater", "than"), ("exceeding",),
           ("higher", "than"), ("in", "excess", "of"), ("beyond",), (">",), ("upwards", "of"),
           ("bigger", "than")),
    "gte": (("at", "least"), ("no", "less", "than"), ("not", "less", "than"), ("minimum", "of"),
            ("minimum",), ("min",), (">=",), ("≥",), ("no", "fewer", "than"),
            ("not", "fewer", "than")),
    "lt": (("less", "than"), ("fewer", "than"), ("under",), ("below",), ("lower", "than"),
           ("<",), ("smaller", "than")),
    "lte": (("at", "most"), ("no", "more", "than"), ("not", "more", "than"), ("up", "to"),
            ("upto",), ("maximum", "of"), ("maximum",), ("max",), ("<=",), ("≤",)),
    "eq": (("exactly",), ("equal", "to"), ("equals",), ("=",), ("just",), ("only",)),
}
_POSTFIXES = {
    "gte": (("or", "more"), ("or", "above"), ("or", "over"), ("or", "higher"), ("and", "above"),
            ("and", "over"), ("and", "up"), ("or", "greater"), ("+",)),
    "lte": (("or", "less"), ("or", "fewer"), ("or", "below"), ("or", "under"), ("or", "lower"),
            ("and", "below"), ("and", "under"), ("or", "lesser")),
}
_RANGE_JOINS = (("and",), ("to",), ("-",), ("–",), ("and", "up", "to"))
COMPARISON_WORDS = {word for table in (_PREFIXES, _POSTFIXES) for phrases in table.values()
                    for phrase in phrases for word in phrase} | {"between", "from"}


@dataclass(frozen=True)
class Comparison:
    op: str
    value: int | float | list
    money: bool


def read_comparison(cursor: Cursor) -> Comparison | None:
    mark = cursor.mark()
    if cursor.accept(("between",), ("from",)):
        return _range(cursor, mark)
    for op, phrases in _PREFIXES.items():
        if cursor.accept(*phrases):
            amount = read_amount(cursor)
            if amount is None:
                cursor.back(mark)
                return None
            return Comparison(op, amount.value, amount.money)
    amount = read_amount(cursor)
    if amount is None:
        return None
    for op, phrases in _POSTFIXES.items():
        if cursor.accept(*phrases):
            return Comparison(op, amount.value, amount.money)
    join = cursor.mark()
    if cursor.accept(("to",), ("-",), ("–",)):
        high = read_amount(cursor)
        if high is not None:
            return _between(amount, high)
        cursor.back(join)
    return Comparison("eq", amount.value, amount.money)


def _range(cursor: Cursor, mark: int) -> Comparison | None:
    low = read_amount(cursor)
    high = read_amount(cursor) if low is not None and cursor.accept(*_RANGE_JOINS) else None
    if high is None:
        cursor.back(mark)
        return None
    return _between(low, high)


def _between(low, high) -> Comparison:
    ends = sorted([low.value, high.value])
    return Comparison("between", ends, low.money or high.money)
