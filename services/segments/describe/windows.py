"""Order windows in words (conditions.py): "spent over 5,000 in the last 90 days",
"placed 3 or more orders in the past 6 months", read into the `in_last` of a
`total_spend` or `order_count` condition (segments/rules/language.py: the sum,
or the number, of the orders placed in that last duration; 0 without any).

A window is a duration counted back from the day the audience is counted, so a
saved audience stays relative. Anything else said as a time after spend or
orders cannot be held exactly by `in_last` and is refused with the reason,
never read as the lifetime total: "since 1 Jan" and "this year" are dates,
"more than 90 days ago" is before a time, "for 3 months" says nothing about
which orders count; visits are a number the client sends, without dates.
"""
from __future__ import annotations

from segments.describe.times import When

WINDOW_FIELDS = ("total_spend", "order_count")
_SAY = "say a duration back from today, as in 'in the last 90 days' or 'in the past 6 months'"
NOT_A_DURATION = {
    "dates": "an order window is a duration, not a date or a calendar span ('since 1 Jan', "
             "'this year'): " + _SAY,
    "older_than": "an order window counts the orders of a recent duration, not those before "
                  "a time: " + _SAY,
    "for": "'for' does not say which orders count: " + _SAY,
}
NO_VISIT_WINDOW = ("visits are a number the client sends, without dates: only spend and "
                   "orders can be counted in the last N days")


def refusal(when: When, field: str) -> str | None:
    """Why `when`, written after spend or orders, cannot be their window; None
    when it can (then `when.duration` is the window)."""
    if field not in WINDOW_FIELDS:
        return NO_VISIT_WINDOW
    return None if when.kind == "within" else NOT_A_DURATION[when.kind]


def windowed(rule: dict, window: str | None) -> dict:
    return rule if window is None else {**rule, "in_last": window}
