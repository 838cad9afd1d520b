"""Audiences described in words (segments.describe.reader): each phrasing
reads into the rules a marketer means, valid for the rule validator; what the
grammar cannot read comes back as spans of the text, never as a guess."""
import json
import threading
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from segments.config import SegmentsConfig
from segments.describe.model import ModelReader, model_reader
from segments.describe.reader import describe
from segments.rules.language import parse_rules

from tests.support.reference_rules import matches

TODAY = date(2026, 12, 2)


def c(field, op, value):
    return {"field": field, "op": op, "value": value}


def all_of(*rules):
    return {"all": list(rules)}


def any_of(*rules):
    return {"any": list(rules)}


SPEND_10K = c("total_spend", "gt", 10000)
ON_OR_AFTER_1_JAN = "2025-12-31T23:59:59.999999Z"

PHRASINGS = [
    # The seed's examples (issue 15, API.md "Audience rules").
    ("spent over INR 10,000 and visited at most 3 times",
     all_of(SPEND_10K, c("visits", "lte", 3))),
    ("inactive for 3 months", c("last_active_at", "older_than", "3mo")),
    ("spent over INR 10,000 and at most 3 visits", all_of(SPEND_10K, c("visits", "lte", 3))),
    # Amounts: INR, the rupee sign, Rs, k, lakh, crore.
    ("spent more than ₹10,000", SPEND_10K),
    ("spent over 10k", SPEND_10K),
    ("spend above Rs 10000", SPEND_10K),
    ("spent over Rs.10,000", SPEND_10K),
    ("spent at least 1 lakh", c("total_spend", "gte", 100000)),
    ("spent at least 1.5L", c("total_spend", "gte", 150000)),
    ("spent over 2.5k", c("total_spend", "gt", 2500)),
    ("spent over 10 lakhs", c("total_spend", "gt", 1000000)),
    ("spent more than 1 crore", c("total_spend", "gt", 10000000)),
    ("spent ₹1,00,000 or more", c("total_spend", "gte", 100000)),
    ("spent under Rs. 500", c("total_spend", "lt", 500)),
    ("spent ₹500/- or less", c("total_spend", "lte", 500)),
    ("spent less than 500 rupees", c("total_spend", "lt", 500)),
    ("spent between 5k and 10k", c("total_spend", "between", [5000, 10000])),
    ("spent between ₹10,000 and ₹5,000", c("total_spend", "between", [5000, 10000])),
    ("total spend >= 5000", c("total_spend", "gte", 5000)),
    ("lifetime value above 50k", c("total_spend", "gt", 50000)),
    ("over ₹10k in spend", SPEND_10K),
    ("customers with over ₹10,000", SPEND_10K),
    ("spent a total of at most 999.50", c("total_spend", "lte", 999.5)),
    # Counts of orders and visits.
    ("ordered more than 5 times", c("order_count", "gt", 5)),
    ("more than 5 orders", c("order_count", "gt", 5)),
    ("placed at least 2 orders", c("order_count", "gte", 2)),
    ("bought twice", c("order_count", "eq", 2)),
    ("ordered once", c("order_count", "eq", 1)),
    ("ordered more than once", c("order_count", "gt", 1)),
    ("ordered exactly 3 times", c("order_count", "eq", 3)),
    ("bought 2 to 5 times", c("order_count", "between", [2, 5])),
    ("3 or more orders", c("order_count", "gte", 3)),
    ("orders > 3", c("order_count", "gt", 3)),
    ("purchased no more than four times", c("order_count", "lte", 4)),
    ("never ordered", c("order_count", "eq", 0)),
    ("customers with no orders", c("order_count", "eq", 0)),
    ("5+ visits", c("visits", "gte", 5)),
    ("visits <= 2", c("visits", "lte", 2)),
    ("visited us fewer than 3 times", c("visits", "lt", 3)),
    ("at least 10 visits", c("visits", "gte", 10)),
    ("bought over ₹5,000", c("total_spend", "gt", 5000)),
    # Times: activity, last order and visit, sign-up.
    ("active in the last 30 days", c("last_active_at", "within", "30d")),
    ("active within 2 weeks", c("last_active_at", "within", "2w")),
    ("not active for 90 days", c("last_active_at", "older_than", "90d")),
    ("dormant for over 6 months", c("last_active_at", "older_than", "6mo")),
    ("inactive since 3 months", c("last_active_at", "older_than", "3mo")),
    ("last active more than a year ago", c("last_active_at", "older_than", "1y")),
    ("last seen in the past week", c("last_active_at", "within", "1w")),
    ("never active", c("last_active_at", "exists", False)),
    ("inactive since 1 Oct", {"not": c("last_active_at", "after", "2026-09-30T23:59:59.999999Z")}),
    ("last ordered more than 90 days ago", c("last_order_at", "older_than", "90d")),
    ("ordered in the last 30 days", c("last_order_at", "within", "30d")),
    ("made a purchase in the last month", c("last_order_at", "within", "1mo")),
    ("haven't ordered in 60 days", c("last_order_at", "older_than", "60d")),
    ("no orders in the last 60 days", c("last_order_at", "older_than", "60d")),
    ("last order before 1 Jan 2026", c("last_order_at", "before", "2026-01-01")),
    ("visited in the last 7 days", c("last_visit_at", "within", "7d")),
    ("last visit before 15 Aug 2026", c("last_visit_at", "before", "2026-08-15")),
    ("signed up since 1 Jan", c("signed_up_at", "after", ON_OR_AFTER_1_JAN)),
    ("joined since January 1st, 2026", c("signed_up_at", "after", ON_OR_AFTER_1_JAN)),
    ("joined before 2026-01-01", c("signed_up_at", "before", "2026-01-01")),
    ("signed up after 1 January 2026",
     c("signed_up_at", "after", "2026-01-01T23:59:59.999999Z")),
    ("joined in the last 6 months", c("signed_up_at", "within", "6mo")),
    ("registered on 15/08/2026", all_of(c("signed_up_at", "after", "2026-08-14T23:59:59.999999Z"),
                                        c("signed_up_at", "before", "2026-08-16"))),
    ("signed up in March 2026", all_of(c("signed_up_at", "after", "2026-02-28T23:59:59.999999Z"),
                                       c("signed_up_at", "before", "2026-04-01"))),
    ("signed up between 1 Jan 2026 and 31 Mar 2026",
     all_of(c("signed_up_at", "after", ON_OR_AFTER_1_JAN),
            c("signed_up_at", "before", "2026-04-01"))),
    ("member since 2024", c("signed_up_at", "after", "2023-12-31T23:59:59.999999Z")),
    ("signed up more than 2 years ago", c("signed_up_at", "older_than", "2y")),
    # City, tags, email, name.
    ("from Mumbai", c("city", "eq", "Mumbai")),
    ("customers in Bengaluru", c("city", "eq", "Bengaluru")),
    ("living in New Delhi", c("city", "eq", "New Delhi")),
    ("from New Delhi, Navi Mumbai or Pune", c("city", "in", ["New Delhi", "Navi Mumbai", "Pune"])),
    ("from Mumbai and Pune", c("city", "in", ["Mumbai", "Pune"])),
    ("not from Mumbai", c("city", "ne", "Mumbai")),
    ("outside Delhi, Mumbai", c("city", "not_in", ["Delhi", "Mumbai"])),
    ("city is 'Thiruvananthapuram'", c("city", "eq", "Thiruvananthapuram")),
    ("city starts with Ban", c("city", "starts_with", "Ban")),
    ("tagged vip", c("tags", "eq", "vip")),
    ("tagged vip or gold", c("tags", "in", ["vip", "gold"])),
    ("tagged vip and gold", all_of(c("tags", "eq", "vip"), c("tags", "eq", "gold"))),
    ("has the tag loyal", c("tags", "eq", "loyal")),
    ("not tagged vip", c("tags", "ne", "vip")),
    ('without the tag "churn-risk"', c("tags", "ne", "churn-risk")),
    ("tagged new", c("tags", "eq", "new")),
    ("@gmail.com", c("email", "contains", "@gmail.com")),
    ("gmail.com customers", c("email", "contains", "@gmail.com")),
    ("email domain is example.com", c("email", "contains", "@example.com")),
    ("email ends with @company.in", c("email", "contains", "@company.in")),
    ("email contains kumar", c("email", "contains", "kumar")),
    ("email is priya@example.com", c("email", "eq", "priya@example.com")),
    ("named Priya Sharma", c("name", "eq", "Priya Sharma")),
    ("name starts with A", c("name", "starts_with", "A")),
    ("name contains Kumar", c("name", "contains", "Kumar")),
    # Consent and suppression.
    ("unsubscribed customers", c("marketing_consent", "eq", "unsubscribed")),
    ("not opted out", c("marketing_consent", "ne", "unsubscribed")),
    ("subscribed and not suppressed", all_of(c("marketing_consent", "eq", "subscribed"),
                                             c("suppressed", "eq", False))),
    # And, or, not, commas, parentheses, precedence.
    ("spent over ₹10,000 or ordered at least twice",
     any_of(SPEND_10K, c("order_count", "gte", 2))),
    ("customers from Mumbai or Pune who spent more than ₹1.5L",
     all_of(c("city", "in", ["Mumbai", "Pune"]), c("total_spend", "gt", 150000))),
    ("spent over 10k, from Mumbai, tagged vip",
     all_of(SPEND_10K, c("city", "eq", "Mumbai"), c("tags", "eq", "vip"))),
    ("spent over 10k in Mumbai", all_of(SPEND_10K, c("city", "eq", "Mumbai"))),
    ("tagged vip or from Pune and spent over 5000",
     any_of(c("tags", "eq", "vip"), all_of(c("city", "eq", "Pune"), c("total_spend", "gt", 5000)))),
    ("(tagged vip or from Pune) and spent over 5000",
     all_of(any_of(c("tags", "eq", "vip"), c("city", "eq", "Pune")), c("total_spend", "gt", 5000))),
    ("spent over 10k and (from Mumbai or from Pune) and not tagged vip",
     all_of(SPEND_10K, any_of(c("city", "eq", "Mumbai"), c("city", "eq", "Pune")),
            c("tags", "ne", "vip"))),
    ("not (from Mumbai or tagged vip)",
     {"not": any_of(c("city", "eq", "Mumbai"), c("tags", "eq", "vip"))}),
    ("(from Mumbai or tagged vip) and not inactive for 90 days",
     all_of(any_of(c("city", "eq", "Mumbai"), c("tags", "eq", "vip")),
            c("last_active_at", "within", "90d"))),
    ("neither from Mumbai nor tagged vip",
     all_of(c("city", "ne", "Mumbai"), c("tags", "ne", "vip"))),
    ("spent over 10k but never ordered twice", all_of(SPEND_10K, c("order_count", "ne", 2))),
    ("spent over 10k and not more than 5 orders",
     all_of(SPEND_10K, {"not": c("order_count", "gt", 5)})),
    ("from Pune except those tagged staff",
     all_of(c("city", "eq", "Pune"), c("tags", "ne", "staff"))),
    ("Spent over 10K AND visited at most 3 times.", all_of(SPEND_10K, c("visits", "lte", 3))),
    ("gmail.com users in Chennai who have been inactive for 2 months and spent over 20k",
     all_of(c("email", "contains", "@gmail.com"), c("city", "eq", "Chennai"),
            c("last_active_at", "older_than", "2mo"), c("total_spend", "gt", 20000))),
]


@pytest.mark.parametrize("text,rules", PHRASINGS, ids=[text for text, _ in PHRASINGS])
def test_phrasing_reads_into_valid_rules(text, rules):
    described = describe(text, today=TODAY)
    assert described["unparsed"] == []
    assert described["rules"] == rules
    parse_rules(described["rules"])  # the validator every client's rules pass
    assert described["explained"]


def test_at_least_sixty_phrasings():
    assert len(PHRASINGS) >= 60


@pytest.mark.parametrize("text,explained", [
    ("spent over INR 10,000 and visited at most 3 times",
     "total spend over ₹10,000 and at most 3 visits"),
    ("inactive for 3 months", "last active more than 3 months ago (or never)"),
    ("spent at least 1.5L or tagged vip", 'total spend at least ₹1,50,000 or a tag is "vip"'),
    ("(from Mumbai or Pune) and never ordered", 'city is one of "Mumbai", "Pune" and no orders'),
    ("signed up since 1 Jan", "signed up on or after 1 Jan 2026"),
])
def test_explained_says_the_rules_back_in_words(text, explained):
    assert describe(text, today=TODAY)["explained"] == explained


def test_a_date_without_a_year_is_the_latest_one_not_in_the_future():
    assert describe("signed up since 1 Jan", today=date(2026, 2, 1))["rules"]["value"] == \
        ON_OR_AFTER_1_JAN
    assert describe("signed up since 1 Mar", today=date(2026, 2, 1))["rules"]["value"] == \
        "2025-02-28T23:59:59.999999Z"


def test_dates_mean_what_the_marketer_said_at_midnight():
    """'since 1 Jan' includes a sign-up at midnight of 1 Jan; 'before 1 Jan'
    does not; 'inactive for 3 months' includes customers never active."""
    now = datetime(2026, 12, 2, tzinfo=UTC)
    midnight = {"signed_up_at": datetime(2026, 1, 1, tzinfo=UTC)}
    since, before = (describe(text, today=TODAY)["rules"]
                     for text in ("signed up since 1 Jan 2026", "signed up before 1 Jan 2026"))
    assert matches(midnight, since, now) and not matches(midnight, before, now)
    day_before = {"signed_up_at": datetime(2025, 12, 31, 23, 59, tzinfo=UTC)}
    assert not matches(day_before, since, now) and matches(day_before, before, now)
    inactive = describe("inactive for 3 months", today=TODAY)["rules"]
    assert matches({"last_active_at": None}, inactive, now)


@pytest.mark.parametrize("text,unread", [
    ("spent lots", ["lots"]),
    ("from Delhi and blah blah", ["blah blah"]),
    ("spent over 5,000 since 1 Jan", ["since 1 Jan"]),
    ("visited more than 3 times in the last 30 days", ["in the last 30 days"]),
    ("signed up recently", ["signed up recently"]),
    ("active", ["active"]),
    ("vip customers with purple hair or spent over 10k", ["vip customers with purple hair"]),
    ("(spent over 10k", ["("]),
    ("spent over 10k)", [")"]),
    ("show me everyone", ["show me everyone"]),
    ("", [""]),
    ("spent over $ 10", ["spent over $ 10"]),
])
def test_unreadable_words_come_back_as_spans_of_the_text(text, unread):
    described = describe(text, today=TODAY)
    spans = described["unparsed"]
    assert [span["text"] for span in spans] == unread
    for span in spans:
        assert text[span["start"]:span["end"]] == span["text"] and span["reason"]


@pytest.mark.parametrize("text", ["(" * 500, "(" * 300 + "from Pune" + ")" * 300])
def test_parentheses_too_deep_are_unread_not_a_crash(text):
    (span,) = describe(text, today=TODAY)["unparsed"]
    assert "nested deeper than 16" in span["reason"] and span["end"] == len(text)


def test_an_order_window_by_date_says_to_use_a_duration():
    (span,) = describe("spent over 5,000 since 1 Jan", today=TODAY)["unparsed"]
    assert "order window is a duration" in span["reason"]


def test_rules_the_validator_refuses_are_unread_not_returned():
    deep = "(" * 9 + "from Pune" + ")" * 9 + " and " + " or ".join(["tagged vip"] * 2)
    assert describe(deep, today=TODAY)["unparsed"] == []  # parentheses alone add no depth
    too_many = " and ".join(f"tagged t{i}" for i in range(101))
    described = describe(too_many, today=TODAY)
    assert described["rules"] is None
    assert "at most 100 conditions" in described["unparsed"][0]["reason"]


class FakeModel:
    def __init__(self, answer):
        self.answer, self.asked = answer, []

    def read(self, text):
        self.asked.append(text)
        return self.answer


def test_a_model_is_asked_only_for_text_the_grammar_cannot_read():
    model = FakeModel(c("tags", "eq", "vip"))
    assert describe("tagged vip", today=TODAY, reader=model)["read_by"] == "grammar"
    assert model.asked == []
    described = describe("our best customers", today=TODAY, reader=model)
    assert model.asked == ["our best customers"]
    assert described == {"rules": c("tags", "eq", "vip"), "explained": 'a tag is "vip"',
                         "unparsed": [], "read_by": "model"}


def test_a_model_answer_the_validator_refuses_is_no_answer():
    described = describe("our best customers", today=TODAY,
                         reader=FakeModel(c("total_spend", "$gt", 5)))
    assert described["read_by"] == "grammar" and described["unparsed"]


def test_the_model_is_off_unless_its_url_is_set():
    off = SegmentsConfig.from_env({})
    assert off.audience_llm_url == "" and model_reader(off.audience_llm_url) is None
    on = SegmentsConfig.from_env({"CRM_AUDIENCE_LLM_URL": "http://127.0.0.1:9/"})
    assert isinstance(model_reader(on.audience_llm_url), ModelReader)


class _ModelService(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answer = {"rules": c("city", "eq", "Pune")} if "fields" not in body else {}
        self.server.asked.append(body)
        data = json.dumps(answer).encode()
        self.send_response(200 if "Pune" in body["text"] else 500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_the_model_reader_posts_the_text_and_the_rule_language():
    service = ThreadingHTTPServer(("127.0.0.1", 0), _ModelService)
    service.asked = []
    threading.Thread(target=service.serve_forever, daemon=True).start()
    try:
        reader = ModelReader(f"http://127.0.0.1:{service.server_port}/", timeout_seconds=5)
        assert reader.read("people around Pune") == c("city", "eq", "Pune")
        assert "total_spend" in service.asked[0]["language"]
        assert reader.read("something else") is None  # a 500 is no answer
    finally:
        service.shutdown()
        service.server_close()


WORDS = ["spent", "over", "10k", "₹", "1.5L", "and", "or", "not", "(", ")", ",", "from", "Pune",
         "in", "the", "last", "30", "days", "since", "31", "Feb", "2026", "inactive", "for",
         "tagged", "vip", "@gmail.com", "between", "to", "visited", "times", "0", "months",
         "signed", "up", "before", "ago", "more", "than", "named", "'", "\"", "ordered", "$"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=14).map(" ".join) | st.text(max_size=40))
def test_any_text_gets_valid_rules_or_spans_of_itself(text):
    described = describe(text, today=TODAY)
    for span in described["unparsed"]:
        assert text[span["start"]:span["end"]] == span["text"]
    if not described["unparsed"]:
        parse_rules(described["rules"])
