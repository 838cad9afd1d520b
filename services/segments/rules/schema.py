"""The JSON Schema of an audience rule, for the OpenAPI spec: built from the allow-list
and limits that parse_rules (rules.py, rule_values.py) checks, so the spec accepts what
the parser accepts and nothing else.

Three limits are only described, as JSON Schema cannot state them or (depth) only by
one component per level, which makes generators such as schemathesis explode: at most
8 levels, at most 100 conditions in the whole rule (a group holds at most 100), and
`between` with low <= high.
"""
from __future__ import annotations

from segments.rules.language import FIELDS, MAX_CONDITIONS, MAX_DEPTH, WINDOW_FIELDS
from segments.rules.values import (
    CONSENT,
    CONSENT_VALUES,
    FLAG,
    MAX_DURATION_DAYS,
    MAX_LIST_VALUES,
    MAX_TEXT_LENGTH,
    NUMBER,
    TAGS,
    TEXT,
    TIME,
)

ROOT = "AudienceRule"
CONDITION = "AudienceCondition"
DESCRIPTION = (
    "An audience rule (API.md, Audience rules): a group {\"all\": [...]}, {\"any\": [...]}, "
    "{\"not\": node} or a condition {\"field\", \"op\", \"value\"} (`total_spend` and "
    "`order_count` also take `in_last`, an order window such as \"90d\"); at most "
    f"{MAX_DEPTH} levels and "
    f"{MAX_CONDITIONS} conditions in all; `between` takes [low, high] with low <= high.")
# rule_values._ISO_INSTANT, written for JSON Schema (which has no \Z).
INSTANT_PATTERN = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}"
                   r"(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$")
UNIT_DAYS = {"d": 1, "w": 7, "mo": 30, "y": 365}


def up_to(limit: int) -> str:
    """A regex of the numbers 1..limit without leading zeros, e.g. up_to(36500)."""
    digits = str(limit)
    parts = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for index, digit in enumerate(digits):  # same length as limit, smaller at `index`
        low = "1" if index == 0 else "0"
        if int(digit) > int(low):
            rest = len(digits) - index - 1
            parts.append(digits[:index] + f"[{low}-{int(digit) - 1}]" + "[0-9]" * rest)
    parts.append(digits)
    return "(" + "|".join(parts) + ")"


def duration_pattern() -> str:
    units = [up_to(MAX_DURATION_DAYS // days) + unit for unit, days in UNIT_DAYS.items()]
    return "^(" + "|".join(units) + ")$"


def _list_of(item: dict) -> dict:
    return {"type": "array", "items": item, "minItems": 1, "maxItems": MAX_LIST_VALUES}


def _values() -> dict[str, list[tuple[tuple[str, ...], dict]]]:
    """Per field kind: (operators, schema of their value); a kind or operator added to
    rules.FIELDS must be added here (tests/unit/segments/audience/test_rules_schema.py)."""
    number, text = {"type": "number"}, {"type": "string", "maxLength": MAX_TEXT_LENGTH}
    words = [(("eq", "ne"), text), (("in", "not_in"), _list_of(text)),
             (("contains", "starts_with"), {**text, "minLength": 1})]
    return {
        NUMBER: [(("eq", "ne", "gt", "gte", "lt", "lte"), number),
                 (("between",), {"type": "array", "items": number, "minItems": 2, "maxItems": 2}),
                 (("in",), _list_of(number))],
        TEXT: words,
        TAGS: words,
        TIME: [(("before", "after"), {"type": "string", "pattern": INSTANT_PATTERN,
                                      "anyOf": [{"format": "date"}, {"format": "date-time"}]}),
               (("older_than", "within"), {"type": "string", "pattern": duration_pattern()}),
               (("exists",), {"type": "boolean"})],
        CONSENT: [(("eq", "ne"), {"type": "string", "enum": list(CONSENT_VALUES)})],
        FLAG: [(("eq",), {"type": "boolean"})],
    }


def _window() -> dict:
    return {"type": "string", "pattern": duration_pattern(),
            "description": "Only the orders placed in this last duration count (e.g. 90d): "
                           "their sum of amounts or their number, 0 without any."}


def condition_schema() -> dict:
    variants = []
    for kind, choices in _values().items():
        names = [name for name, (field_kind, _ops) in FIELDS.items() if field_kind == kind]
        groups = [[n for n in names if n in WINDOW_FIELDS], [n for n in names
                                                            if n not in WINDOW_FIELDS]]
        for group in (group for group in groups if group):
            for ops, value in choices:
                properties = {"field": {"type": "string", "enum": group},
                              "op": {"type": "string", "enum": list(ops)}, "value": value}
                if group[0] in WINDOW_FIELDS:
                    properties["in_last"] = _window()
                variants.append({"type": "object", "required": ["field", "op", "value"],
                                 "additionalProperties": False, "properties": properties})
    return {"description": "A condition: a field, an operator for its kind, and a value.",
            "oneOf": variants}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def node_schema() -> dict:
    children = {"type": "array", "items": _ref(ROOT), "minItems": 1, "maxItems": MAX_CONDITIONS}
    groups = [{"type": "object", "required": [key], "additionalProperties": False,
               "properties": {key: children}} for key in ("all", "any")]
    negation = {"type": "object", "required": ["not"], "additionalProperties": False,
                "properties": {"not": _ref(ROOT)}}
    return {"description": DESCRIPTION, "oneOf": [_ref(CONDITION), *groups, negation]}


def rule_components() -> dict[str, dict]:
    """The spec's schema components: AudienceRule (recursive) and AudienceCondition."""
    return {ROOT: node_schema(), CONDITION: condition_schema()}


def rule_ref() -> dict:
    return _ref(ROOT)
