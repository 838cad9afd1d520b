"""A deliberately plain evaluator of audience rules, written from API.md and
the semantics documented in segments/rules.py, sharing no code with the
index. Tests compare the numpy AudienceIndex against it.

`matches(profile, rule, now)` takes a profile dict, a raw (already valid) rule
dict and a timezone-aware `now`. A profile's `orders` are {"placed_at": [epoch ms],
"amount": [...]} (profile.updated); an `in_last` condition compares their spend or
count in the window instead of the lifetime field.
"""
import re
from datetime import UTC, datetime, timedelta

NUMBER_FIELDS = {"total_spend", "order_count", "visits"}
TEXT_FIELDS = {"city", "email", "name"}
TIME_FIELDS = {"last_order_at", "last_visit_at", "last_active_at", "signed_up_at"}
UNIT_DAYS = {"d": 1, "w": 7, "mo": 30, "y": 365}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def matches(profile: dict, rule: dict, now: datetime) -> bool:
    if "all" in rule:
        return all(matches(profile, child, now) for child in rule["all"])
    if "any" in rule:
        return any(matches(profile, child, now) for child in rule["any"])
    if "not" in rule:
        return not matches(profile, rule["not"], now)
    field, op, value = rule["field"], rule["op"], rule["value"]
    if "in_last" in rule:
        return number_matches(in_window(profile, field, now - duration(rule["in_last"])),
                              op, value)
    if field in NUMBER_FIELDS:
        return number_matches(profile.get(field), op, value)
    if field in TEXT_FIELDS:
        return text_matches(profile.get(field), op, value)
    if field == "tags":
        return tags_match(profile.get("tags") or [], op, value)
    if field in TIME_FIELDS:
        return time_matches(as_utc(profile.get(field)), op, value, now)
    if field == "marketing_consent":  # a profile that never stated it is subscribed
        consent = profile.get("marketing_consent") or "subscribed"
        return (consent == value) == (op == "eq")
    if field == "suppressed":  # eq only; a profile never suppressed is not
        return bool(profile.get("suppressed")) == value
    raise AssertionError(f"not a valid rule: {rule}")


def in_window(profile: dict, field: str, cutoff: datetime):
    """The spend or the number of the orders placed at or after `cutoff` (0 without any);
    spend added up one order after the other, in the profile's order."""
    orders = profile.get("orders") or {"placed_at": [], "amount": []}
    inside = [amount for placed_ms, amount in zip(orders["placed_at"], orders["amount"],
                                                  strict=True)
              if EPOCH + timedelta(milliseconds=placed_ms) >= cutoff]
    if field == "order_count":
        return len(inside)
    spend = 0.0
    for amount in inside:
        spend = spend + amount
    return spend


def number_matches(x, op, value) -> bool:
    if op == "ne":
        return not number_matches(x, "eq", value)
    if x is None:
        return False
    if op == "eq":
        return x == value
    if op == "gt":
        return x > value
    if op == "gte":
        return x >= value
    if op == "lt":
        return x < value
    if op == "lte":
        return x <= value
    if op == "between":
        return value[0] <= x <= value[1]
    if op == "in":
        return any(x == v for v in value)
    raise AssertionError(op)


def text_matches(text, op, value) -> bool:
    if op == "ne":
        return not text_matches(text, "eq", value)
    if op == "not_in":
        return not text_matches(text, "in", value)
    if text is None:
        return False
    text = text.casefold()
    if op == "eq":
        return text == value.casefold()
    if op == "in":
        return any(text == v.casefold() for v in value)
    if op == "contains":
        return value.casefold() in text
    if op == "starts_with":
        return text.startswith(value.casefold())
    raise AssertionError(op)


def tags_match(tags, op, value) -> bool:
    if op == "ne":
        return not tags_match(tags, "eq", value)
    if op == "not_in":
        return not tags_match(tags, "in", value)
    return any(text_matches(tag, op, value) for tag in tags)


def time_matches(moment, op, value, now) -> bool:
    if op == "exists":
        return (moment is not None) == value
    if op == "older_than":
        return moment is None or moment < now - duration(value)
    if moment is None:
        return False
    if op == "within":
        return moment >= now - duration(value)
    if op == "before":
        return moment < instant(value)
    if op == "after":
        return moment > instant(value)
    raise AssertionError(op)


def as_utc(moment):
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def instant(text: str) -> datetime:
    if len(text) == 10:
        year, month, day = map(int, text.split("-"))
        return datetime(year, month, day, tzinfo=UTC)
    return as_utc(datetime.fromisoformat(text))


def duration(text: str) -> timedelta:
    number, unit = re.fullmatch(r"(\d+)([a-z]+)", text).groups()
    return timedelta(days=int(number) * UNIT_DAYS[unit])
