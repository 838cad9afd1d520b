"""When something happened, in words (describe.py): "in the last 30 days",
"for 3 months", "more than 90 days ago", "since 1 Jan", "before 2026-01-01",
"in March 2026", read into the time operators of the rule language.

Durations stay durations ("30d"), so a saved audience stays relative to the
day it is counted. Dates become instants with the rule language's meaning
(rules.py: `before X` is strictly earlier than midnight UTC of X, `after X`
strictly later): "since 1 Jan 2026" must include a customer who signed up at
midnight of that day, so it is `after 2025-12-31T23:59:59.999999Z`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from segments.describe.words import Cursor, Day, read_date, read_duration

LAST_MOMENT = "T23:59:59.999999Z"


@dataclass(frozen=True)
class When:
    """`kind` is "within" / "older_than" (a duration), "for" (a duration that
    only reads as "older than" after a negative: "inactive for 3 months"), or
    "dates" (`after` and/or `before` instants)."""

    kind: str
    duration: str = ""
    after: str | None = None
    before: str | None = None


_RECENT = (("in", "the", "last"), ("in", "the", "past"), ("in", "last"), ("in", "past"),
           ("within", "the", "last"), ("within", "the", "past"), ("within", "last"),
           ("within", "past"), ("during", "the", "last"), ("during", "the", "past"),
           ("over", "the", "last"), ("over", "the", "past"), ("for", "the", "last"),
           ("for", "the", "past"), ("the", "last"), ("the", "past"), ("last",), ("past",))
_LONGER = (("more", "than"), ("over",), ("at", "least"), ("longer", "than"), ("upwards", "of"))
_SHORTER = (("less", "than"), ("under",), ("within",), ("fewer", "than"), ("at", "most"))
_SINCE = (("since",), ("from",), ("on", "or", "after"), ("starting",), ("starting", "from"))
_UNTIL = (("on", "or", "before"), ("until",), ("till",), ("up", "to"), ("upto",), ("by",))


def read_when(cursor: Cursor, today: date) -> When | None:
    mark = cursor.mark()
    for read in (_recent, _ago, _for, _dates):
        when = read(cursor, today)
        if when is not None:
            return when
        cursor.back(mark)
    return None


def _recent(cursor: Cursor, today: date) -> When | None:
    phrase = cursor.accept(*_RECENT, ("within",), ("in",))
    if phrase is None:
        return None
    duration = read_duration(cursor, implied_one=phrase[-1] in ("last", "past"))
    return When("within", duration) if duration else None


def _ago(cursor: Cursor, today: date) -> When | None:
    longer = cursor.accept(*_LONGER)
    shorter = None if longer else cursor.accept(*_SHORTER)
    if not (longer or shorter):
        return None
    duration = read_duration(cursor)
    if duration is None or not cursor.accept(("ago",)):
        return None
    return When("older_than" if longer else "within", duration)


def _for(cursor: Cursor, today: date) -> When | None:
    if not cursor.accept(("for",), ("since",)):
        return None
    cursor.accept(*_LONGER)
    duration = read_duration(cursor)
    return When("for", duration) if duration else None


def _dates(cursor: Cursor, today: date) -> When | None:
    if cursor.accept(("between",)):
        first = read_date(cursor, today)
        if first is None or not cursor.accept(("and",), ("to",), ("-",), ("–",)):
            return None
        last = read_date(cursor, today)
        return None if last is None else When("dates", after=_on_or_after(first.first),
                                               before=_end(last).isoformat())
    word = cursor.accept(*_SINCE, *_UNTIL, ("after",), ("before",), ("on",), ("in",),
                         ("during",))
    if word is None and cursor.word() in ("this", "today", "yesterday"):
        word = ("in",)  # "signed up this month", "visited today"
    day = read_date(cursor, today) if word else None
    if day is None:
        return None
    if word in _SINCE:
        return When("dates", after=_on_or_after(day.first))
    if word == ("after",):
        return When("dates", after=_on_or_after(_end(day)))
    if word == ("before",):
        return When("dates", before=day.first.isoformat())
    if word in _UNTIL:
        return When("dates", before=_end(day).isoformat())
    if word == ("on",) and day.span != "day":
        return None
    return When("dates", after=_on_or_after(day.first), before=_end(day).isoformat())


def _on_or_after(first: date) -> str:
    return (first - timedelta(days=1)).isoformat() + LAST_MOMENT


def _end(day: Day) -> date:
    """The first date after the span written."""
    first = day.first
    if day.span == "day":
        return first + timedelta(days=1)
    if day.span == "month":
        return date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return date(first.year + 1, 1, 1)


def time_rule(field: str, when: When, negated: bool) -> dict | None:
    """The rule for `field` at `when`, negated when the words were negative
    ("inactive", "not", "no orders"); None if the words do not make one
    ("active for 3 months" says nothing about when)."""
    if when.kind == "for":
        return _condition(field, "older_than", when.duration) if negated else None
    if when.kind in ("within", "older_than"):
        op = when.kind if not negated else {"within": "older_than",
                                            "older_than": "within"}[when.kind]
        return _condition(field, op, when.duration)
    parts = []
    if when.after is not None:
        parts.append(_condition(field, "after", when.after))
    if when.before is not None:
        parts.append(_condition(field, "before", when.before))
    rule = parts[0] if len(parts) == 1 else {"all": parts}
    return {"not": rule} if negated else rule


def _condition(field: str, op: str, value) -> dict:
    return {"field": field, "op": op, "value": value}
