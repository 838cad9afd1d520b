"""An audience rule said back in plain English, for the marketer to check
what was understood: {"all": [total_spend gt 10000, visits lte 3]} is
"total spend over ₹10,000 and at most 3 visits"; an order window is said last
("total spend over ₹5,000 in the last 90 days"). Takes a valid rule dict."""
from __future__ import annotations

from datetime import date, timedelta

_UNITS = {"d": "day", "w": "week", "mo": "month", "y": "year"}
_NUMBER_OPS = {"gt": "over", "gte": "at least", "lt": "under", "lte": "at most", "eq": "exactly",
               "ne": "not"}
_COUNT_OPS = {**_NUMBER_OPS, "gt": "more than", "lt": "fewer than"}
_TEXT_OPS = {"eq": "is", "ne": "is not", "in": "is one of", "not_in": "is none of",
             "contains": "contains", "starts_with": "starts with"}
_TIME_LABELS = {"last_order_at": "last order", "last_visit_at": "last visit",
                "last_active_at": "last active", "signed_up_at": "signed up"}
_COUNT_NOUNS = {"order_count": ("order", "orders"), "visits": ("visit", "visits")}
_LAST_MOMENT = "T23:59:59.999999Z"


def sentence(rule: dict) -> str:
    return _words(rule, top=True)


def _words(rule: dict, top: bool = False) -> str:
    for kind, join in (("all", " and "), ("any", " or ")):
        if kind in rule:
            text = join.join(_words(child) for child in rule[kind])
            return text if top else f"({text})"
    if "not" in rule:
        return f"not {_words(rule['not'])}"
    said = _condition(rule["field"], rule["op"], rule["value"])
    if "in_last" in rule:
        return f"{said} in the last {_duration(rule['in_last'])}"
    return said


def _condition(field: str, op: str, value) -> str:
    if field == "total_spend":
        return f"total spend {_compare(op, value, _rupees)}"
    if field in _COUNT_NOUNS:
        one, many = _COUNT_NOUNS[field]
        if op in ("between", "in"):
            return f"{many} {_compare(op, value, _count)}"
        if op == "eq" and value == 0:
            return f"no {many}"
        return f"{_COUNT_OPS[op]} {_count(value)} {one if value == 1 else many}"
    if field == "suppressed":
        return "suppressed" if value else "not suppressed"
    if field == "marketing_consent":
        return value if op == "eq" else f"not {value}"
    if field in _TIME_LABELS:
        return _time(_TIME_LABELS[field], op, value)
    label = "a tag" if field == "tags" else field
    if field == "tags" and op in ("ne", "not_in"):
        return f"no tag {'is' if op == 'ne' else 'is one of'} {_quoted(value)}"
    return f"{label} {_TEXT_OPS[op]} {_quoted(value)}"


def _compare(op: str, value, show) -> str:
    if op == "between":
        return f"between {show(value[0])} and {show(value[1])}"
    if op == "in":
        return "one of " + ", ".join(show(item) for item in value)
    return f"{_NUMBER_OPS[op]} {show(value)}"


def _time(label: str, op: str, value) -> str:
    if op == "within":
        return f"{label} in the last {_duration(value)}"
    if op == "older_than":
        return f"{label} more than {_duration(value)} ago (or never)"
    if op == "exists":
        return f"{label} is known" if value else f"{label} never"
    if op == "after" and value.endswith(_LAST_MOMENT):
        following = date.fromisoformat(value[:10]) + timedelta(days=1)
        return f"{label} on or after {_day(following.isoformat())}"
    return f"{label} {op} {_day(value)}"


def _duration(value: str) -> str:
    count, unit = int(value.rstrip("dwmoy")), value.lstrip("0123456789")
    return f"{count} {_UNITS[unit]}{'' if count == 1 else 's'}"


def _day(value: str) -> str:
    if len(value) != 10:
        return value
    day = date.fromisoformat(value)
    return f"{day.day} {day:%b %Y}"


def _rupees(value) -> str:
    """Indian digit grouping, as the marketer writes it: ₹1,00,000."""
    sign, value = ("-", -value) if value < 0 else ("", value)
    whole, _, fraction = f"{value:.2f}".partition(".") if value != int(value) else (
        str(int(value)), "", "")
    head, tail = whole[:-3], whole[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    grouped = ",".join(([head] if head else []) + groups + [tail]) if len(whole) > 3 else whole
    return sign + "₹" + grouped + (f".{fraction}" if fraction else "")


def _count(value) -> str:
    return str(int(value)) if value == int(value) else str(value)


def _quoted(value) -> str:
    if isinstance(value, list):
        return ", ".join(f'"{item}"' for item in value)
    return f'"{value}"'
