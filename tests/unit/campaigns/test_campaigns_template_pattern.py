"""The spec's pattern for a message template accepts exactly what parse_template accepts,
so a schema-valid message is never a 400 INVALID_TEMPLATE (schemathesis checks that)."""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.domain import TemplateError, parse_template, template_pattern

PATTERN = re.compile(template_pattern())
PIECES = ["{", "}", "{{", "}}", "|", " ", "name", "first_name", "nam", "x", "{name}",
          "{city|there}", "{ city |}", "{unknown}", "é"]


def _parses(template: str) -> bool:
    try:
        parse_template(template)
    except TemplateError:
        return False
    return True


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12).map("".join))
def test_the_pattern_and_the_parser_agree(template):
    assert bool(PATTERN.fullmatch(template)) == _parses(template)


def test_examples():
    assert PATTERN.fullmatch("Hi {first_name|there}, here's 10% off! {{not a field}}")
    assert not PATTERN.fullmatch("Hi {first_name")
    assert not PATTERN.fullmatch("Hi {nickname}")
