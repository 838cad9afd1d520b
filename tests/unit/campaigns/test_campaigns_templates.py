"""Message templates: placeholders, fallbacks, escaping, lint, ids and stats (campaigns.domain)."""
from __future__ import annotations

import pytest
from campaigns.domain import (
    Placeholder,
    TemplateError,
    campaign_stats,
    campaign_status,
    lint,
    merge_lints,
    message_id,
    parse_message_id,
    parse_template,
    render,
)

ASHA = {"external_id": "c1", "name": "Asha Rao", "first_name": "Asha", "city": "Pune",
        "tags": ["vip", "new"], "total_spend": 1500.0, "visits": 3}
NOBODY = {"external_id": "c2", "name": None, "first_name": None, "city": "", "tags": []}


def test_placeholders_and_fallbacks_render_per_recipient():
    parts = parse_template("Hi {first_name|there}, from {city|your city}! {tags}")
    assert render(parts, ASHA) == "Hi Asha, from Pune! vip, new"
    assert render(parts, NOBODY) == "Hi there, from your city! "


def test_first_name_comes_from_name_when_absent():
    assert render(parse_template("{first_name}"), {"name": "  Ravi  Kumar "}) == "Ravi"


def test_numbers_render_without_float_noise():
    parts = parse_template("{total_spend} {visits} {order_count|0}")
    assert render(parts, ASHA) == "1500 3 0"
    assert render(parts, {"total_spend": 12.5}) == "12.50  0"


def test_doubled_braces_are_literal_braces():
    parts = parse_template("{{first_name}} is {first_name}}}")
    assert render(parts, ASHA) == "{first_name} is Asha}"


def test_explicit_empty_fallback_and_whitespace_in_braces():
    parts = parse_template("{ city |}x")
    assert parts == [Placeholder("city", ""), "x"]
    assert render(parts, NOBODY) == "x"


def test_unknown_placeholder_is_named_in_the_error():
    with pytest.raises(TemplateError) as caught:
        parse_template("Hi {first_name}, your {coupon|code} and {birthday}")
    assert caught.value.details["unknown_placeholders"] == ["birthday", "coupon"]
    assert "coupon" in str(caught.value)


@pytest.mark.parametrize("template", ["Hi {first_name", "Hi }", "{}", "{first name}",
                                      "{a{b}}", "x" * 2001])
def test_malformed_templates_are_refused(template):
    with pytest.raises(TemplateError) as caught:
        parse_template(template)
    assert caught.value.problems


def test_lint_counts_fallbacks_and_empty_values_per_placeholder():
    parts = parse_template("{first_name|there} {city} {city} {email|-}")
    result = lint(parts, [ASHA, NOBODY, {"first_name": "Bo", "email": "b@x.in"}])
    by_source = {entry["placeholder"]: entry for entry in result["placeholders"]}
    assert result["recipients"] == 3
    assert list(by_source) == ["{first_name|there}", "{city}", "{email|-}"]
    assert by_source["{first_name|there}"]["fallback_used"] == 1
    assert by_source["{city}"]["empty"] == 2 and by_source["{city}"]["fallback_used"] == 0
    assert by_source["{email|-}"]["fallback_used"] == 2


def test_lints_of_chunks_merge_into_the_audience_lint():
    parts = parse_template("{city|here}")
    merged = merge_lints([lint(parts, [ASHA]), lint(parts, [NOBODY, NOBODY])])
    assert merged["recipients"] == 3
    assert merged["placeholders"][0]["fallback_used"] == 2


def test_message_ids_are_safe_and_parse_back():
    value = message_id("0190abc", 2, 1234)
    assert value == "0190abc.2.1234"
    assert parse_message_id(value) == ("0190abc", 2, 1234)
    assert parse_message_id("0190abc.x.1") is None


def test_stats_always_add_up_and_retried_failures_are_pending_again():
    def stats(size, sent, failed, pending):
        return {"audience_size": size, "sent": sent, "failed": failed, "pending": pending}

    assert campaign_stats(10, 6, 3, 0) == stats(10, 6, 3, 1)
    assert campaign_stats(10, 6, 3, 3) == stats(10, 6, 0, 4)
    assert campaign_stats(10, 7, 5, 3) == stats(10, 7, 2, 1)
    stats = campaign_stats(None, 0, 0, 0)
    assert stats["sent"] + stats["failed"] + stats["pending"] == stats["audience_size"] == 0


def test_status_follows_queueing_and_pending():
    pending = campaign_stats(10, 6, 3, 0)
    done = campaign_stats(10, 7, 3, 0)
    assert campaign_status("launching", campaign_stats(None, 0, 0, 0), False) == "launching"
    assert campaign_status("launching", pending, False) == "sending"
    assert campaign_status("launching", pending, True) == "sending"
    assert campaign_status("launching", done, True) == "completed"
    assert campaign_status("failed", done, True) == "failed"
