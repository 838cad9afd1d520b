"""An audience described in words, read into the rule language of API.md.

`describe("spent over INR 10,000 and visited at most 3 times")` is
{"rules": {"all": [total_spend gt 10000, visits lte 3]},
 "explained": "total spend over ₹10,000 and at most 3 visits", "unparsed": []}.

The reading is our own grammar (describe_grammar.py and the readers it calls):
deterministic, offline, the same answer for the same words and day. What it
cannot read comes back in `unparsed` as spans of the text (start, end, text,
reason) and the API answers 422 with them rather than guess: an audience that
silently dropped "in the last 90 days" would message the wrong customers.

A language model may be asked instead, only when the operator sets
CRM_AUDIENCE_LLM_URL (describe_model.py) and only for text the grammar could
not read; its answer passes the same validator as any client's rules.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol

from segments.describe.grammar import Grammar
from segments.rules.language import RuleError, parse_rules
from segments.rules.sentence import sentence

MAX_DESCRIPTION_LENGTH = 1_000


class RulesReader(Protocol):
    """Something else that can read a description (a language model)."""

    def read(self, text: str) -> dict | None: ...


def describe(text: str, *, today: date | None = None, reader: RulesReader | None = None) -> dict:
    """`today` fixes what "since 1 Jan" means (the latest 1 Jan not after it)."""
    today = today or datetime.now(UTC).date()
    grammar = Grammar(text, today)
    rules, unparsed = grammar.read(), grammar.spans()
    if rules is not None and (problem := _invalid(rules)):
        rules, unparsed = None, unparsed or [_whole(text, problem)]
    if rules is None and not unparsed:
        unparsed = [_whole(text, "no condition found: say who, as in 'spent over 10k'")]
    if unparsed and reader is not None:
        read = _read_elsewhere(reader, text)
        if read is not None:
            return {"rules": read, "explained": sentence(read), "unparsed": [],
                    "read_by": "model"}
    return {"rules": rules, "explained": sentence(rules) if rules else "",
            "unparsed": unparsed, "read_by": "grammar"}


def _invalid(rules: dict) -> str | None:
    try:
        parse_rules(rules)
    except RuleError as error:
        return f"{error.path}: {error.message}"
    return None


def _read_elsewhere(reader: RulesReader, text: str) -> dict | None:
    rules = reader.read(text)
    if not isinstance(rules, dict) or _invalid(rules):
        return None
    return rules


def _whole(text: str, reason: str) -> dict:
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    return {"start": start, "end": max(start, end), "text": text[start:end], "reason": reason}
