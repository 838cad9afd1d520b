"""Inline audience rules checked at create and at PATCH, by segments' own grammar.

Segments owns the rule grammar (segments.rules.language: fields, operators,
values) and checks it again when it answers the audience request. Campaigns
imports that parser, a pure function with no I/O, instead of asking the segments
service over HTTP: services do not call each other, and a campaign refused here
is a 400 INVALID_RULES at once rather than a 201 that shows `failed` later. The
spec describes `rules` with the same grammar (segments' rules_schema), so a body
the spec allows is one this check accepts.
"""
from __future__ import annotations

from segments.rules.language import RuleError, parse_rules
from segments.rules.schema import node_schema, rule_components


class InvalidRules(ValueError):
    def __init__(self, details: dict):
        super().__init__("The audience rules are not valid.")
        self.details = details


def check(rules) -> None:
    """Raises InvalidRules naming each problem (paths like `rules.all.0.value`)."""
    try:
        parse_rules(rules)
    except RuleError as error:
        raise InvalidRules(error.details) from error


def spec_components() -> dict:
    """The spec's AudienceRule and AudienceCondition, as segments documents them (the
    gateway merges the same definitions into one)."""
    return rule_components()


def spec_rules() -> dict:
    """A `rules` field's schema: the grammar itself, not a $ref (apispec would make a
    nullable $ref "that, or any object")."""
    return {"oneOf": node_schema()["oneOf"]}
