"""The shape of the inline audience rules a campaign is created with.

Segments checks a rule itself (fields, operators, values) when it answers the
audience request; a campaign with a rule it refuses shows as status `failed`.
Campaigns checks only that the rules are shaped as a rule, because it stores
them as a document: arbitrary JSON could hold what FerretDB cannot store (nested
arrays, keys with `$`, `.` or NUL), a 500. The spec says the same shape
(`InlineRule`); the 8-level limit it only describes.
"""
from __future__ import annotations

from typing import Any

MAX_DEPTH = 8
COMPONENT = "InlineRule"
_SCALARS = (str, int, float, bool)


def is_rule_shaped(node: Any, depth: int = 1) -> bool:
    """A group {"all"|"any": [node, ...]}, {"not": node} or a condition
    {"field": str, "op": str, "value": scalar or list of scalars} with an optional
    order window {"in_last": str}."""
    if depth > MAX_DEPTH or not isinstance(node, dict) or not node:
        return False
    keys = set(node)
    if keys in ({"all"}, {"any"}):
        children = next(iter(node.values()))
        return isinstance(children, list) and all(is_rule_shaped(c, depth + 1) for c in children)
    if keys == {"not"}:
        return is_rule_shaped(node["not"], depth + 1)
    if keys not in ({"field", "op", "value"}, {"field", "op", "value", "in_last"}):
        return False
    if not isinstance(node.get("in_last", ""), str):
        return False
    value = node["value"]
    values = value if isinstance(value, list) else [value]
    return (isinstance(node["field"], str) and isinstance(node["op"], str)
            and all(isinstance(v, _SCALARS) for v in values))


def component() -> dict:
    """The JSON Schema of that shape (for Operation.components)."""
    ref = {"$ref": f"#/components/schemas/{COMPONENT}"}
    scalar = {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}

    def group(key: str, child: dict) -> dict:
        return {"type": "object", "required": [key], "additionalProperties": False,
                "properties": {key: child}}

    condition = {"type": "object", "required": ["field", "op", "value"],
                 "additionalProperties": False, "properties": {
                     "field": {"type": "string"}, "op": {"type": "string"},
                     "value": {"anyOf": [scalar, {"type": "array", "items": scalar}]},
                     "in_last": {"type": "string"}}}
    return {"description": "Inline audience rules (API.md, Audience rules), shaped as a rule; "
                           f"at most {MAX_DEPTH} levels. Fields, operators and values are "
                           "checked when the audience is taken: a campaign whose rules are "
                           "refused there shows as status `failed`.",
            "oneOf": [group("all", {"type": "array", "items": ref}),
                      group("any", {"type": "array", "items": ref}),
                      group("not", ref), condition]}
