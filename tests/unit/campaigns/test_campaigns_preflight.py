"""A campaign's preflight (campaigns.recipients.preflight over segments' audience check)
gives the numbers a launch reaches: exclusions.decide on the recipients an audience.chunk
carries, and groups.chunk_lint on those it messages, for any profiles."""
from __future__ import annotations

from campaigns.recipients import exclusions, groups
from campaigns.recipients.preflight import preflight, template_fields
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segments.audience.check import check
from segments.audience.index import AudienceIndex
from segments.rules.language import parse_rules

from tests.support.rule_strategies import NOW, profiles

EVERYONE = parse_rules({"not": {"field": "order_count", "op": "lt", "value": 0}})
ONE_MESSAGE = {"_id": "cmp-1", "holdout_percent": 20,
               "message": "Hi {first_name|there}, {city} {tags|} {{ok}}"}
VARIANTS = {"_id": "cmp-2", "holdout_percent": 10, "variants": [
    {"name": "a", "message": "Hello {name|friend} from {city|your city}", "weight": 50},
    {"name": "b", "message": "{email} {visits}", "weight": 50}]}


def _launch(campaign, index, at_cap):
    """What a launch decides: the chunk's recipients as segments streams them."""
    recipients = [shown for shown in index.shown(list(index.match_ids(EVERYONE, NOW))) if shown]
    decision = exclusions.decide(campaign, recipients, at_cap=at_cap)
    return decision, groups.chunk_lint(groups.templates(campaign), decision.messaged)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(profiles, max_size=30), st.sampled_from([ONE_MESSAGE, VARIANTS]),
       st.sets(st.sampled_from([f"c{i}" for i in range(30)])))
def test_preflight_numbers_are_the_launchs(held, campaign, at_cap_ids):
    index = AudienceIndex()
    index.upsert_many(held)

    def at_cap(ids):
        return set(ids) & at_cap_ids

    counted = check(index, EVERYONE, NOW, template_fields(campaign), with_ids=True)
    answer = preflight(campaign, counted, at_cap=at_cap)
    decision, lint = _launch(campaign, index, at_cap)
    assert answer["excluded"] == decision.counts()
    assert answer["audience_size"] == len(decision.messaged)
    assert answer["matched"] == len(decision.messaged) + exclusions.total(decision.counts())
    assert answer["lint"]["placeholders"] == lint["placeholders"]
    assert answer["lint"]["fallback_used"] == {entry["placeholder"]: entry["fallback_used"]
                                               for entry in lint["placeholders"]}
    assert answer["lint"]["empty_text"] == sum(entry["empty"] for entry in lint["placeholders"])


def test_a_worked_example_counts_each_cause_once_and_the_lint_of_those_messaged():
    index = AudienceIndex()
    index.upsert_many([
        {"external_id": "u", "marketing_consent": "unsubscribed", "suppressed": True},
        {"external_id": "s", "suppressed": True},
        {"external_id": "k", "name": "Kiran"},
        {"external_id": "m", "name": "Meera", "city": "Pune"},
        {"external_id": "n", "name": None}])
    campaign = {"_id": "cmp-3", "holdout_percent": 0, "message": "Hi {first_name|there} {city}"}
    counted = check(index, EVERYONE, NOW, template_fields(campaign), with_ids=True)
    answer = preflight(campaign, counted, at_cap=lambda ids: {"k"} & set(ids))
    assert answer["matched"] == 5
    assert answer["excluded"] == {"unsubscribed": 1, "suppressed": 1, "capped": 1,
                                  "held_out": 0}
    assert answer["audience_size"] == 2
    assert answer["lint"]["fallback_used"] == {"{first_name|there}": 1, "{city}": 0}
    assert answer["lint"]["empty_text"] == 1  # n has no city
    assert template_fields(campaign) == ["first_name", "city"]
