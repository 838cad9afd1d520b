"""One condition in words (describe.py): each reader knows one family of
phrases ("spent over 10k", "inactive for 3 months", "from Mumbai or Pune",
"tagged vip", "@gmail.com", ...) and returns its rule, already negated when
`negated` (the words before it said "not", "never", "no", ...).

A reader returns None when the words are not its own (the cursor goes back and
the next reader tries), or raises `Unreadable` when they are its own but say
too little or something the rule language cannot hold yet.
"""
from __future__ import annotations

from segments.describe.amounts import COMPARISON_WORDS, read_comparison
from segments.describe.times import read_when, time_rule
from segments.describe.windows import refusal, windowed
from segments.describe.words import MONTHS, NUMBER_WORDS


class Unreadable(Exception):
    def __init__(self, first: int, last: int, reason: str):
        super().__init__(reason)
        self.first, self.last, self.reason = first, last, reason


def condition(field: str, op: str, value) -> dict:
    return {"field": field, "op": op, "value": value}


_NUMBER_FIELDS = ("total_spend", "order_count", "visits")  # numbers have no not_in
_FOLDS = {"eq": "ne", "ne": "eq", "in": "not_in", "not_in": "in",
          "within": "older_than", "older_than": "within"}


def negate(rule: dict) -> dict:
    """`not rule`, written the short way where the rule language has an exact
    opposite (rules.py: `ne` is exactly not `eq`, `older_than` not `within`)."""
    if "not" in rule:
        return rule["not"]
    if rule.get("field") == "suppressed":  # a flag: only eq, so not is the other value
        return condition("suppressed", "eq", not rule["value"])
    if rule.get("op") in _FOLDS and not (rule["field"] in _NUMBER_FIELDS and rule["op"] == "in"):
        return {**rule, "op": _FOLDS[rule["op"]]}  # an order window stays
    return {"not": rule}


SPEND = (("spent",), ("spend",), ("spends",), ("spending",), ("total", "spend"),
         ("total", "spent"), ("total", "spending"), ("lifetime", "spend"),
         ("lifetime", "value"), ("ltv",), ("spent", "a", "total", "of"), ("revenue",))
ORDERS = (("ordered",), ("bought",), ("purchased",), ("orders",), ("order",), ("purchases",),
          ("purchase",), ("order", "count"), ("number", "of", "orders"), ("shopped",))
VISITS = (("visited",), ("visits",), ("visit",), ("visit", "count"), ("number", "of", "visits"))
_COUNT_FIELDS = {**{p: "total_spend" for p in SPEND}, **{p: "order_count" for p in ORDERS},
                 **{p: "visits" for p in VISITS}}
_LIFETIME = (("lifetime", "spend"), ("lifetime", "value"), ("ltv",))
LIFETIME_WINDOW = ("a lifetime total has no window: say 'spent over 5k in the last 90 days', "
                   "or the lifetime value without a time")
_EVENT_FIELDS = {"order_count": "last_order_at", "visits": "last_visit_at"}
_AFTER_FIELD = (("us",), ("from", "us"), ("is",), ("are",), ("was",), ("of",), ("in", "total"),
                ("total",), (":",))
_UNIT_NOUNS = {("times",): None, ("time",): None, ("orders",): "order_count",
               ("order",): "order_count", ("purchases",): "order_count",
               ("visits",): "visits", ("rupees",): "total_spend", ("worth",): "total_spend",
               ("in", "total"): None, ("total",): None, ("overall",): None,
               ("in", "spend"): "total_spend", ("in", "spending"): "total_spend"}
_NOUNS = {("in", "spend"): "total_spend", ("in", "spending"): "total_spend",
          ("of", "spend"): "total_spend", ("spend",): "total_spend", ("spent",): "total_spend",
          ("spending",): "total_spend", ("in", "total", "spend"): "total_spend",
          ("total", "spend"): "total_spend", ("lifetime", "spend"): "total_spend",
          ("in", "purchases"): "total_spend", ("worth", "of", "orders"): "total_spend",
          ("orders",): "order_count", ("order",): "order_count",
          ("purchases",): "order_count", ("purchase",): "order_count",
          ("transactions",): "order_count", ("visits",): "visits", ("visit",): "visits"}


def read_counted(reader, negated: bool) -> dict | None:
    """"spent over INR 10,000", "ordered at least twice in the last 30 days",
    "visited in the last 7 days", "spent in the last 90 days over 5k"."""
    cursor, start = reader.cursor, reader.cursor.mark()
    phrase = cursor.accept(*_COUNT_FIELDS)
    if phrase is None:
        return None
    field = _COUNT_FIELDS[phrase]
    cursor.accept(*_AFTER_FIELD)
    when_at = cursor.mark()
    when = read_when(cursor, reader.today)
    if when is not None:
        if phrase in _LIFETIME and when.kind == "within":
            raise Unreadable(start, cursor.mark() - 1, LIFETIME_WINDOW)
        return _counted_after_when(reader, field, when, negated, start, when_at)
    compared = read_comparison(cursor)
    if compared is None:
        _refuse_unreadable_amount(cursor, start)
        return _bare_count(field, negated)
    noun = cursor.accept(*_UNIT_NOUNS)
    field = "total_spend" if compared.money else (_UNIT_NOUNS.get(noun) or field)
    window = _read_window(reader, field)
    if window is not None and phrase in _LIFETIME:
        raise Unreadable(start, cursor.mark() - 1, LIFETIME_WINDOW)
    rule = windowed(condition(field, compared.op, compared.value), window)
    return negate(rule) if negated else rule


def _counted_after_when(reader, field, when, negated, start, when_at) -> dict:
    """"spent in the last 90 days over 5k" (a window, then the amount), "spent
    in the last 90 days" (anything), or "ordered in the last 30 days" (when
    the last order was)."""
    cursor, window_end = reader.cursor, reader.cursor.mark() - 1
    compared = read_comparison(cursor) if when.kind == "within" else None
    if compared is not None:
        cursor.accept(*_UNIT_NOUNS)
        field = "total_spend" if compared.money else field
    if compared is not None or field == "total_spend":
        if (why := refusal(when, field)) is not None:
            raise Unreadable(when_at, window_end, why)
        if compared is None:  # "haven't spent in the last 90 days": 0 in the window
            return windowed(_bare_count(field, negated), when.duration)
        rule = windowed(condition(field, compared.op, compared.value), when.duration)
        return negate(rule) if negated else rule
    return _when_rule(reader, _EVENT_FIELDS[field], when, negated, start)


def _refuse_unreadable_amount(cursor, start: int) -> None:
    token = cursor.peek()
    if token is not None and (token.low in COMPARISON_WORDS or token.kind in (
            "number", "currency")):
        raise Unreadable(start, cursor.mark(), "the amount is not a number I can read")


def read_amount_first(reader, negated: bool) -> dict | None:
    """"more than 5 orders", "at least 3 visits", "over ₹10k in spend", "5+ orders",
    "3 or more orders in the last 6 months"."""
    cursor = reader.cursor
    compared = read_comparison(cursor)
    if compared is None:
        return None
    noun = cursor.accept(*_NOUNS)
    if noun is None and not compared.money:
        return None
    field = "total_spend" if compared.money else _NOUNS[noun]
    rule = windowed(condition(field, compared.op, compared.value), _read_window(reader, field))
    return negate(rule) if negated else rule


def _bare_count(field: str, negated: bool) -> dict:
    # "customers who ordered" / "never ordered"; a profile always has a count
    # of orders and a total spend (0 before the first order), not always visits.
    if negated and field != "visits":
        return condition(field, "eq", 0)
    rule = condition(field, "gt", 0)
    return {"not": rule} if negated else rule


def _read_window(reader, field: str) -> str | None:
    """The order window written after the amount ("in the last 90 days"), or
    None; a time that is no window (a date, "visits in the last week") is
    refused rather than dropped."""
    cursor = reader.cursor
    at = cursor.mark()
    when = read_when(cursor, reader.today)
    if when is None:
        return None
    if (why := refusal(when, field)) is not None:
        raise Unreadable(at, cursor.mark() - 1, why)
    return when.duration


def _when_rule(reader, field: str, when, negated: bool, start: int) -> dict:
    rule = time_rule(field, when, negated)
    if rule is None:
        raise Unreadable(start, reader.cursor.mark() - 1,
                         "'for' reads only after a negative, as in 'inactive for 3 months'")
    return rule


_ACTIVE = (("last", "active"), ("active",), ("last", "seen"), ("seen",), ("last", "activity"),
           ("engaged",), ("last", "active", "date"))
_INACTIVE = (("inactive",), ("dormant",), ("lapsed",), ("idle",))
_LAST_EVENT = {("last", "ordered"): "last_order_at", ("last", "order"): "last_order_at",
               ("last", "purchase"): "last_order_at", ("last", "purchased"): "last_order_at",
               ("last", "bought"): "last_order_at", ("latest", "order"): "last_order_at",
               ("most", "recent", "order"): "last_order_at",
               ("last", "visit"): "last_visit_at", ("last", "visited"): "last_visit_at",
               ("latest", "visit"): "last_visit_at", ("most", "recent", "visit"): "last_visit_at"}
_SIGNED_UP = (("signed", "up"), ("signed-up",), ("sign", "up"), ("sign-up",), ("signup",),
              ("joined",), ("registered",), ("member", "since"), ("customer", "since"),
              ("sign", "up", "date"), ("signup", "date"), ("created",))


def read_activity(reader, negated: bool) -> dict | None:
    """"inactive for 3 months", "active in the last 30 days", "last active before 1 Jan"."""
    cursor, start = reader.cursor, reader.cursor.mark()
    phrase = cursor.accept(*_ACTIVE, *_INACTIVE)
    if phrase is None:
        return None
    hint = "say when, as in 'active in the last 30 days' or 'inactive for 3 months'"
    if phrase not in _INACTIVE:
        return _event_time(reader, "last_active_at", negated, start, hint)
    rule = _event_time(reader, "last_active_at", True, start, hint)
    return negate(rule) if negated else rule  # "not inactive for 90 days"


def read_last_event(reader, negated: bool) -> dict | None:
    """"last ordered more than 90 days ago", "signed up since 1 Jan 2026"."""
    cursor, start = reader.cursor, reader.cursor.mark()
    phrase = cursor.accept(*_LAST_EVENT, *_SIGNED_UP)
    if phrase is None:
        return None
    if phrase[-1] == "since":
        cursor.back(cursor.mark() - 1)  # "member since 2024": the since is the time's
    field = _LAST_EVENT.get(phrase, "signed_up_at")
    cursor.accept(("us",), ("was",), ("is",), ("date",))
    return _event_time(reader, field, negated, start,
                       "say when, as in 'in the last 30 days' or 'since 1 Jan 2026'")


def _event_time(reader, field: str, negated: bool, start: int, hint: str) -> dict:
    when = read_when(reader.cursor, reader.today)
    if when is None:
        if negated and field != "signed_up_at":  # "never active": no activity at all
            return condition(field, "exists", False)
        raise Unreadable(start, max(start, reader.cursor.mark() - 1), hint)
    return _when_rule(reader, field, when, negated, start)


_CONSENT = {("unsubscribed",): ("marketing_consent", "unsubscribed"),
            ("opted", "out"): ("marketing_consent", "unsubscribed"),
            ("subscribed",): ("marketing_consent", "subscribed"),
            ("opted", "in"): ("marketing_consent", "subscribed"),
            ("suppressed",): ("suppressed", True),
            ("on", "the", "suppression", "list"): ("suppressed", True)}


def read_consent(reader, negated: bool) -> dict | None:
    """"unsubscribed", "not suppressed", "opted in"."""
    phrase = reader.cursor.accept(*_CONSENT)
    if phrase is None:
        return None
    rule = condition(_CONSENT[phrase][0], "eq", _CONSENT[phrase][1])
    return negate(rule) if negated else rule


def reserved_words() -> set[str]:
    """Words that end a city, tag or name written without quotes."""
    phrases = [*_COUNT_FIELDS, *_UNIT_NOUNS, *_NOUNS, *_ACTIVE, *_INACTIVE, *_LAST_EVENT,
               *_SIGNED_UP, *_CONSENT]
    return ({word for phrase in phrases for word in phrase} | COMPARISON_WORDS
            | set(MONTHS) | set(NUMBER_WORDS)
            | {"since", "before", "after", "within", "for", "ago", "during", "until", "the",
               "last", "past", "on", "in", "from", "today", "yesterday", "this"})

