"""Property tests: the numpy AudienceIndex answers every valid rule exactly
like the plain reference evaluator, including after replacements and
removals, shows every profile it holds as written (what an audience's
recipients carry), and parsed rules round-trip to their canonical JSON form."""
import json
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segments.audience.index import AudienceIndex
from segments.projection.profiles import iso_utc
from segments.rules.language import parse_rules, rule_to_dict

from tests.support.reference_rules import matches
from tests.support.rule_strategies import IST, NOW, profiles, rules

SHOWN_AS_GIVEN = ("external_id", "name", "email", "phone", "city", "visits", "total_spend",
                  "order_count", "suppression_reason", "suppression_campaign_id")
TIMES = ("signed_up_at", "last_visit_at", "last_order_at", "last_active_at",
         "marketing_consent_at", "suppressed_since")


def shown_form(profile):
    """A profile as the customer GET shows it: as written, times by profiles.iso_utc."""
    shown = {name: profile[name] for name in SHOWN_AS_GIVEN}
    shown.update((name, iso_utc(profile[name])) for name in TIMES)
    shown["tags"] = list(profile["tags"] or [])
    shown["marketing_consent"] = profile["marketing_consent"] or "subscribed"
    shown["suppressed"] = bool(profile["suppressed"])
    return shown


def assert_same_as_reference(index, current, raw_rules, now):
    for raw in raw_rules:
        rule = parse_rules(raw)
        expected = [i for i, profile in current.items() if matches(profile, raw, now)]
        assert list(index.match_ids(rule, now)) == expected, raw
        assert index.count(rule, now) == len(expected), raw
    assert len(index) == len(current)
    ids = [f"c{i}" for i in range(30)]
    for external_id, shown in zip(ids, index.shown(ids), strict=True):
        profile = current.get(external_id)
        # As JSON: counts must stay ints (3, not 3.0) and spend a float, as a template sees them.
        assert (json.dumps(shown, sort_keys=True)
                == json.dumps(None if profile is None else shown_form(profile), sort_keys=True))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=st.lists(profiles, max_size=25), later=st.lists(profiles, max_size=10),
       removed=st.lists(st.sampled_from([f"c{i}" for i in range(30)]), max_size=4),
       raw_rules=st.lists(rules, min_size=1, max_size=4),
       now=st.sampled_from([NOW, NOW.astimezone(IST), NOW + timedelta(microseconds=1)]))
def test_index_matches_the_reference(first, later, removed, raw_rules, now):
    index, current = AudienceIndex(), {}
    index.upsert_many(first)
    for profile in first:
        current[profile["external_id"]] = profile
    assert_same_as_reference(index, current, raw_rules, now)

    for external_id in removed:
        assert index.remove(external_id) == (current.pop(external_id, None) is not None)
    for profile in later:  # replacements keep their row; re-added ids go last
        index.upsert(profile)
        current[profile["external_id"]] = profile
    assert_same_as_reference(index, current, raw_rules, now)


@settings(max_examples=60, deadline=None)
@given(population=st.lists(profiles, min_size=1, max_size=20),
       parts=st.lists(rules, min_size=1, max_size=4), combinator=st.sampled_from(["all", "any"]))
def test_breakdown_matches_the_reference(population, parts, combinator):
    index, current = AudienceIndex(), {p["external_id"]: p for p in population}
    index.upsert_many(population)
    steps = index.breakdown(parse_rules({combinator: parts}), NOW)
    combine = all if combinator == "all" else any
    assert [step["rule"] for step in steps] == parts
    for i, (step, part) in enumerate(zip(steps, parts, strict=True)):
        assert step["count"] == sum(matches(p, part, NOW) for p in current.values())
        so_far = {combinator: parts[: i + 1]}
        assert step["cumulative"] == sum(matches(p, so_far, NOW) for p in current.values())
    assert steps[-1]["cumulative"] == sum(
        combine(matches(p, part, NOW) for part in parts) for p in current.values())


@settings(max_examples=200, deadline=None)
@given(raw=rules)
def test_rules_round_trip_to_their_canonical_form(raw):
    rule = parse_rules(raw)
    assert rule_to_dict(rule) == raw
    assert parse_rules(rule_to_dict(rule)) == rule
