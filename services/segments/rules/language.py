"""Audience rules: the rule language of API.md parsed into an immutable tree.

`parse_rules(raw)` turns the client's JSON into `AllOf` / `AnyOf` / `Not` /
`Condition` nodes, or raises `RuleError` naming every offending path
(`rules.all[1].op`). Nothing from the request is ever used as a database
operator: the tree is evaluated only by our own code (audience_index.py),
and the fields and operators it may name come from the one allow-list below.

Semantics the contract leaves open, decided here (audience_index.py and the
reference evaluator in tests/unit/reference_rules.py both follow them):

- Missing values. A missing number (`visits` never reported), string (`city`
  null) or time never equals anything and is never ordered: `eq`, `gt`, `gte`,
  `lt`, `lte`, `between`, `in`, `contains`, `starts_with`, `before`, `after`,
  `within` do not match it; `ne` and `not_in` do. An empty string is a value
  (not missing). An empty tag list means "no tags".
- `ne` is exactly `not eq` and `not_in` is exactly `not in`, for every string
  field. For `tags` (where a positive operator matches if ANY tag matches) this
  means `ne "vip"` matches customers with NO tag equal to "vip" (including
  customers without tags), and `not_in` matches customers with no tag in the
  list.
- Strings compare case-insensitively via `str.casefold()` ("STRASSE" equals
  "straße"). `contains` / `starts_with` need a non-empty string.
- Numbers compare as IEEE doubles; `between [low, high]` is inclusive and
  `low > high` is invalid. `eq` on a non-integral value for a count simply
  matches nobody.
- Times compare at microsecond precision. `before X` is strictly earlier than
  X and `after X` strictly later. A date-only X means midnight UTC of that
  date (so `before 2024-01-01` ends at 2023-12-31T23:59:59.999999Z); a
  date-time without an offset is UTC. Profile times without a zone are UTC.
- Durations are relative to the `now` given at evaluation, never resolved at
  parse time, so a saved segment stays relative. With `cutoff = now - d`:
  `within d` matches a present value `>= cutoff` (future values included) and
  `older_than d` matches a missing value or one `< cutoff`; they are exact
  complements. Units: `d`, `w` (7 days), `mo` (30 days), `y` (365 days); the
  number is a positive integer without leading zeros; at most 100 years.
- `not` is plain boolean negation of its child (so `not (city eq X)` matches
  customers without a city, like `city ne X`).
- Order windows. A condition on `total_spend` or `order_count` may carry
  `in_last` (a duration as `within` takes it): `{"field": "total_spend", "op":
  "gt", "value": 5000, "in_last": "90d"}` compares, instead of the lifetime
  total, the sum of the amounts (for `order_count`: the number) of the
  customer's orders with `placed_at >= now - 90 days`, `now` being the
  evaluation time as for `within` (so a saved segment stays relative). An
  order's window is its `placed_at`, never when it was accepted. A customer
  without an order in the window has 0 there, never a missing value; every
  number operator applies. `in_last` on any other field is invalid.

Limits (each a 400 naming its path): the root is depth 1 and no node may be
deeper than 8 (`MAX_DEPTH`); at most 100 conditions in a rule; groups are
non-empty lists; `in` / `not_in` lists hold 1 to 1,000 values
(`MAX_LIST_VALUES`); strings are at most 1,000 characters; numbers are finite
and never booleans; no key may start with `$`; no unknown keys. A string
VALUE starting with `$` is just text compared literally.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields

from segments.rules.values import (
    CONSENT,
    FLAG,
    NUMBER,
    TAGS,
    TEXT,
    TIME,
    VALUE_PARSERS,
    Invalid,
    parse_duration,
)

MAX_DEPTH = 8
MAX_CONDITIONS = 100
MAX_REPORTED_ERRORS = 20

NUMBER_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "between", "in")
TEXT_OPS = ("eq", "ne", "in", "not_in", "contains", "starts_with")
TIME_OPS = ("before", "after", "older_than", "within", "exists")

# The allow-list: every field a rule may name, its kind and its operators.
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "total_spend": (NUMBER, NUMBER_OPS),
    "order_count": (NUMBER, NUMBER_OPS),
    "visits": (NUMBER, NUMBER_OPS),
    "city": (TEXT, TEXT_OPS),
    "email": (TEXT, TEXT_OPS),
    "name": (TEXT, TEXT_OPS),
    "tags": (TAGS, TEXT_OPS),
    "last_order_at": (TIME, TIME_OPS),
    "last_visit_at": (TIME, TIME_OPS),
    "last_active_at": (TIME, TIME_OPS),
    "signed_up_at": (TIME, TIME_OPS),
    # API.md, Consent and suppression: a profile without them is subscribed, not suppressed.
    "marketing_consent": (CONSENT, ("eq", "ne")),
    "suppressed": (FLAG, ("eq",)),
}

# The fields a condition may restrict to an order window (`in_last`).
WINDOW_FIELDS = ("total_spend", "order_count")

# Negative string operators are evaluated as the negation of these.
NEGATED_OPS = {"ne": "eq", "not_in": "in"}

@dataclass(frozen=True)
class Condition:
    """`value` is as the client wrote it (lists as tuples); `operand` is the
    evaluation-ready form: float / (low, high) / tuple of floats for numbers,
    casefolded str / frozenset for strings, epoch microseconds for before /
    after, a duration in microseconds for older_than / within, bool for exists.
    `in_last` is the order window as written (None: lifetime), `window` the
    same in microseconds."""

    field: str
    op: str
    value: Any
    operand: Any = dataclass_field(compare=False, repr=False)
    in_last: str | None = None
    window: int | None = dataclass_field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class AllOf:
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class AnyOf:
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Not:
    rule: Rule


Rule = Condition | AllOf | AnyOf | Not


class RuleError(ValueError):
    """Invalid rules. `path`/`message` is the first problem; `details` maps
    every path found (up to MAX_REPORTED_ERRORS) to its message."""

    def __init__(self, path: str, message: str, others: tuple[tuple[str, str], ...] = ()):
        self.path, self.message = path, message
        self.problems = ((path, message), *others)
        super().__init__(f"{path}: {message}")

    @property
    def details(self) -> dict[str, str]:
        return dict(self.problems)


class _ConditionShape(Schema):
    class Meta:
        unknown = RAISE

    field = fields.String(required=True)
    op = fields.String(required=True)
    value = fields.Raw(required=True)
    in_last = fields.Raw()


class _TooManyErrors(Exception):
    pass


def parse_rules(raw: Any, path: str = "rules") -> Rule:
    parser = _Parser()
    try:
        rule = parser.node(raw, path, 1)
        if parser.conditions > MAX_CONDITIONS:
            parser.report(path, f"a rule may hold at most {MAX_CONDITIONS} conditions")
    except _TooManyErrors:
        pass
    if parser.problems:
        first, *others = parser.problems
        raise RuleError(*first, tuple(others))
    return rule


class _Parser:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []
        self.conditions = 0

    def report(self, path: str, message: str) -> None:
        self.problems.append((path, message))
        if len(self.problems) >= MAX_REPORTED_ERRORS:
            raise _TooManyErrors

    def node(self, raw: Any, path: str, depth: int) -> Rule | None:
        if depth > MAX_DEPTH:
            return self.report(path, f"rules may not be nested deeper than {MAX_DEPTH} levels")
        if not isinstance(raw, dict) or not raw:
            return self.report(path, "must be a group (all, any, not) or a condition object")
        bad_keys = [k for k in raw if not isinstance(k, str) or k.startswith("$")]
        for key in bad_keys:
            self.report(f"{path}.{key}", "keys starting with '$' are not allowed")
        if bad_keys:
            return None
        group_keys = [k for k in raw if k in ("all", "any", "not")]
        if not group_keys:
            return self.condition(raw, path)
        key = group_keys[0]
        extra_keys = [k for k in raw if k != key]
        for extra in extra_keys:
            self.report(f"{path}.{extra}", f"unexpected key next to {key!r}: a group has one key")
        if extra_keys:
            return None
        if key == "not":
            child = self.node(raw["not"], f"{path}.not", depth + 1)
            return None if child is None else Not(child)
        return self.group(key, raw[key], f"{path}.{key}", depth)

    def group(self, key: str, items: Any, path: str, depth: int) -> Rule | None:
        if not isinstance(items, list) or not items:
            return self.report(path, "must be a non-empty list of rules")
        if len(items) > MAX_CONDITIONS:
            return self.report(path, f"a rule may hold at most {MAX_CONDITIONS} conditions")
        children = [self.node(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(items)]
        if any(child is None for child in children):
            return None
        return (AllOf if key == "all" else AnyOf)(tuple(children))

    def condition(self, raw: dict, path: str) -> Condition | None:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            return None
        try:
            shape = _ConditionShape().load(raw)
        except ValidationError as error:
            for key, messages in error.messages.items():
                self.report(f"{path}.{key}", _friendly(messages[0]))
            return None
        if shape["field"] not in FIELDS:
            return self.report(f"{path}.field", f"unknown field {_quote(shape['field'])}; "
                               f"expected one of {', '.join(FIELDS)}")
        kind, ops = FIELDS[shape["field"]]
        if shape["op"] not in ops:
            return self.report(f"{path}.op", f"operator {_quote(shape['op'])} does not apply to "
                               f"{shape['field']}; expected one of {', '.join(ops)}")
        try:
            value, operand = VALUE_PARSERS[kind, shape["op"]](shape["value"], f"{path}.value")
        except Invalid as problem:
            return self.report(problem.path, problem.message)
        if "in_last" not in shape:
            return Condition(shape["field"], shape["op"], value, operand)
        if shape["field"] not in WINDOW_FIELDS:
            return self.report(f"{path}.in_last", f"an order window applies only to "
                               f"{' and '.join(WINDOW_FIELDS)}")
        try:
            in_last, window = parse_duration(shape["in_last"], f"{path}.in_last")
        except Invalid as problem:
            return self.report(problem.path, problem.message)
        return Condition(shape["field"], shape["op"], value, operand, in_last, window)


def _friendly(message: str) -> str:
    return {"Unknown field.": "unknown key: a condition has only field, op, value and in_last",
            "Missing data for required field.": "required",
            "Field may not be null.": "may not be null"}.get(message, message)


def _quote(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


# Used by evaluators for `contains` / `starts_with` on casefolded text.
TEXT_TESTS = {"contains": operator.contains, "starts_with": str.startswith}


def rule_to_dict(rule: Rule) -> dict:
    """The canonical JSON form: values as the client wrote them."""
    if isinstance(rule, AllOf):
        return {"all": [rule_to_dict(child) for child in rule.rules]}
    if isinstance(rule, AnyOf):
        return {"any": [rule_to_dict(child) for child in rule.rules]}
    if isinstance(rule, Not):
        return {"not": rule_to_dict(rule.rule)}
    value = list(rule.value) if isinstance(rule.value, tuple) else rule.value
    condition = {"field": rule.field, "op": rule.op, "value": value}
    if rule.in_last is not None:
        condition["in_last"] = rule.in_last
    return condition


def top_level_conditions(rule: Rule) -> tuple[Rule, ...]:
    """The parts a breakdown reports: the children of a top-level all/any,
    otherwise the rule itself."""
    if isinstance(rule, (AllOf, AnyOf)):
        return rule.rules
    return (rule,)
