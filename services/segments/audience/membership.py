"""Why a customer is in an audience, or not: every node of the rule with
`matched` and, for a condition, the customer's own value.

Evaluated on the customer's profile with the semantics of rules.py, the ones
the audience index counts with (columns.py): a missing number, text or time
matches no positive operator and every negative one (`ne`, `not_in`,
`older_than`); text compares casefolded; a tag test holds if any tag passes
and its negatives are the negation of the positive; times compare as epoch
microseconds with the same `now`; a profile without consent is subscribed and
one without `suppressed` is not suppressed. An order window (`in_last`) is
the spend or number of the profile's `orders` ({"placed_at": [epoch ms],
"amount": [...]}, as profile.updated carries them) placed at or after now - d, summed in list
order as the index sums them (order_windows.py); that is its customer_value.
"""
from __future__ import annotations

import math
from datetime import datetime

from segments.rules.language import (
    FIELDS,
    NEGATED_OPS,
    TEXT_TESTS,
    AllOf,
    AnyOf,
    Condition,
    Not,
    Rule,
    rule_to_dict,
)
from segments.rules.values import CONSENT, FLAG, NUMBER, TAGS, TEXT, TIME, epoch_us
from shared.times import iso_utc


def explain(rule: Rule, profile: dict, now: datetime) -> dict:
    """The rule as JSON (rules.rule_to_dict), each node with `matched`, each
    condition with `customer_value` (as the customer GET shows it)."""
    if isinstance(rule, (AllOf, AnyOf)):
        children = [explain(child, profile, now) for child in rule.rules]
        verdicts = [child["matched"] for child in children]
        if isinstance(rule, AllOf):
            return {"all": children, "matched": all(verdicts)}
        return {"any": children, "matched": any(verdicts)}
    if isinstance(rule, Not):
        child = explain(rule.rule, profile, now)
        return {"not": child, "matched": not child["matched"]}
    value = (shown_value(rule.field, profile) if rule.window is None
             else window_value(rule, profile, now))
    return {**rule_to_dict(rule), "matched": condition_matches(rule, profile, now),
            "customer_value": value}


def condition_matches(rule: Condition, profile: dict, now: datetime) -> bool:
    kind = FIELDS[rule.field][0]
    if kind in (TEXT, TAGS) and rule.op in NEGATED_OPS:
        positive = Condition(rule.field, NEGATED_OPS[rule.op], rule.value, rule.operand)
        return not condition_matches(positive, profile, now)
    if kind == NUMBER and rule.window is not None:
        return _number(rule, float(window_value(rule, profile, now)))
    if kind == NUMBER:
        return _number(rule, _present_number(profile.get(rule.field)))
    if kind == TEXT:
        text = profile.get(rule.field)
        return text is not None and _text(rule, text.casefold())
    if kind == TAGS:
        return any(_text(rule, tag.casefold()) for tag in profile.get("tags") or ())
    if kind == TIME:
        return _time(rule, profile.get(rule.field), epoch_us(now))
    if kind == CONSENT:
        consent = profile.get("marketing_consent") or "subscribed"
        return (consent == rule.operand) == (rule.op == "eq")
    if kind == FLAG:
        return bool(profile.get("suppressed")) == rule.operand
    raise ValueError(f"no evaluation for field {rule.field!r}")


def window_value(rule: Condition, profile: dict, now: datetime) -> float | int:
    """The spend (a float) or the number (an int) of the profile's orders in the window."""
    cutoff_us = epoch_us(now) - rule.window
    orders = profile.get("orders") or {}
    inside = [amount for placed_ms, amount in
              zip(orders.get("placed_at", ()), orders.get("amount", ()), strict=True)
              if int(placed_ms) * 1000 >= cutoff_us]
    if rule.field == "order_count":
        return len(inside)
    spend = 0.0
    for amount in inside:
        spend += float(amount)
    return spend


def _present_number(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _number(rule: Condition, x: float | None) -> bool:
    if rule.op == "ne":
        return x is None or x != rule.operand
    if x is None:
        return False
    if rule.op == "between":
        low, high = rule.operand
        return low <= x <= high
    if rule.op == "in":
        return x in rule.operand
    return {"eq": x == rule.operand, "gt": x > rule.operand, "gte": x >= rule.operand,
            "lt": x < rule.operand, "lte": x <= rule.operand}[rule.op]


def _text(rule: Condition, text: str) -> bool:
    if rule.op == "eq":
        return text == rule.operand
    if rule.op == "in":
        return text in rule.operand
    return TEXT_TESTS[rule.op](text, rule.operand)


def _time(rule: Condition, moment: datetime | str | None, now_us: int) -> bool:
    if isinstance(moment, str):  # as a profile.updated event carries it
        moment = datetime.fromisoformat(moment)
    at = epoch_us(moment) if moment is not None else None
    if rule.op == "exists":
        return (at is not None) == rule.operand
    if rule.op == "older_than":
        return at is None or at < now_us - rule.operand
    if at is None:
        return False
    if rule.op == "within":
        return at >= now_us - rule.operand
    return at < rule.operand if rule.op == "before" else at > rule.operand


def shown_value(field: str, profile: dict):
    value = profile.get(field)
    if field == "marketing_consent":
        return value or "subscribed"
    if field == "suppressed":
        return bool(value)
    if isinstance(value, datetime):
        return iso_utc(value)
    return list(value) if isinstance(value, tuple) else value
