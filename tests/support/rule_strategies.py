"""hypothesis strategies for profiles and valid audience rules, with awkward values
(casefolding, time zones, missing fields), shared by the index's and membership's
property tests."""
from datetime import UTC, date, datetime, time, timedelta, timezone

from hypothesis import strategies as st

IST = timezone(timedelta(hours=5, minutes=30))
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)
RULE_DATES = [date(2024, 6, 15), date(2024, 3, 17), date(2023, 6, 16), date(2024, 6, 1)]
DURATIONS = {"1d": 1, "7d": 7, "90d": 90, "12w": 84, "3mo": 90, "6mo": 180, "1y": 365, "2y": 730}

# Written from API.md, not from rules.FIELDS, so a missing operator shows up.
NUMBER_OPS = ["eq", "ne", "gt", "gte", "lt", "lte", "between", "in"]
TEXT_OPS = ["eq", "ne", "in", "not_in", "contains", "starts_with"]
TIME_OPS = ["before", "after", "older_than", "within", "exists"]
FIELD_OPS = (
    [(f, op) for f in ("total_spend", "order_count", "visits") for op in NUMBER_OPS]
    + [(f, op) for f in ("city", "email", "name", "tags") for op in TEXT_OPS]
    + [(f, op) for f in ("last_order_at", "last_visit_at", "last_active_at", "signed_up_at")
       for op in TIME_OPS]
    + [("marketing_consent", "eq"), ("marketing_consent", "ne"), ("suppressed", "eq")]
)

CITIES = ["Mumbai", "mumbai", "MUMBAI", "Navi Mumbai", "Pune", "", "Straße", "STRASSE", "İzmir"]
NAMES = ["Asha Rao", "asha RAO", "Ravi", "Ravi Kumar", "Zoë", "ZOË Iyer"]
EMAILS = ["Asha.K@Example.com", "asha.k@example.com", "ravi@GMAIL.com", "ravi@gmail.co", "z@x.in"]
TAGS = ["VIP", "vip", "Gold", "gold-plus", "new", "", " churn", "straße"]
NEEDLES = ["mumbai", "MUM", "bai", "pune", "strasse", "ß", "i̇", "asha", "@gmail", "gold", "V", "z"]
NUMBERS = [0, 1, 2, 3, 5, 0.5, 99.99, 100, 100.0, 10000, 10000.5, -1]


def profile_time():
    boundaries = [NOW - timedelta(days=days) for days in set(DURATIONS.values())]
    boundaries += [datetime.combine(d, time(), UTC) for d in RULE_DATES]
    near_boundary = st.builds(lambda b, e: b + timedelta(microseconds=e),
                              st.sampled_from(boundaries), st.sampled_from([-1, 0, 1]))
    anywhere = st.builds(lambda d, s: NOW + timedelta(days=d, microseconds=s),
                         st.integers(-800, 60), st.integers(0, 86_400_000_000))
    zone = st.sampled_from([UTC, IST, None])
    moment = st.one_of(near_boundary, anywhere)
    return st.one_of(st.none(), st.builds(_in_zone, moment, zone))


def _epoch_ms(moment):
    return (moment - EPOCH) // timedelta(milliseconds=1)


def order_lists():
    """A profile's orders as profile.updated carries them, oldest first: placed at a
    window's edge (to the millisecond, either side), anywhere in the last 800 days or
    in the future, with awkward amounts."""
    edges = [NOW - timedelta(days=days) for days in set(DURATIONS.values())]
    at_edge = st.builds(lambda edge, ms: _epoch_ms(edge) + ms, st.sampled_from(edges),
                        st.sampled_from([-1, 0, 1]))
    anywhere = st.builds(lambda d, ms: _epoch_ms(NOW + timedelta(days=d)) + ms,
                         st.integers(-800, 60), st.integers(0, 86_400_000))
    amount = st.one_of(st.sampled_from([0.1, 0.2, 0.3, 1.0, 99.99, 2500.0, 5000.0, 5000.01]),
                       st.floats(0.01, 20000, allow_nan=False))
    order = st.tuples(st.one_of(at_edge, anywhere), amount).map(list)
    return st.lists(order, max_size=6).map(sorted).map(
        lambda pairs: {"placed_at": [p for p, _ in pairs], "amount": [a for _, a in pairs]})


def _in_zone(moment, zone):
    return moment.replace(tzinfo=None) if zone is None else moment.astimezone(zone)


profiles = st.fixed_dictionaries({
    "external_id": st.sampled_from([f"c{i}" for i in range(30)]),
    "name": st.one_of(st.none(), st.sampled_from(NAMES)),
    "email": st.one_of(st.none(), st.sampled_from(EMAILS)),
    "phone": st.one_of(st.none(), st.sampled_from(["+91 98200 00001", "98200-00002", ""])),
    "city": st.one_of(st.none(), st.sampled_from(CITIES)),
    "tags": st.one_of(st.none(), st.lists(st.sampled_from(TAGS), max_size=4)),
    "visits": st.one_of(st.none(), st.integers(0, 6)),
    "order_count": st.integers(0, 6),
    "total_spend": st.one_of(st.sampled_from([float(n) for n in NUMBERS]),
                             st.floats(0, 20000, allow_nan=False)),
    "signed_up_at": profile_time(), "last_visit_at": profile_time(),
    "last_order_at": profile_time(), "last_active_at": profile_time(),
    # None: a profile written before consent and suppression existed.
    "marketing_consent": st.sampled_from([None, "subscribed", "unsubscribed"]),
    "suppressed": st.sampled_from([None, False, True]),
    "suppression_reason": st.sampled_from([None, "INVALID_NUMBER"]),
    "suppression_campaign_id": st.sampled_from([None, "cmp-1"]),
    "marketing_consent_at": profile_time(), "suppressed_since": profile_time(),
    "orders": order_lists(),
})


def rule_instant():
    day = st.one_of(st.sampled_from(RULE_DATES),
                    st.builds(lambda d: NOW.date() + timedelta(days=d), st.integers(-800, 60)))
    date_only = day.map(date.isoformat)
    with_time = st.builds(lambda d, clock, suffix: f"{d.isoformat()}T{clock}{suffix}", day,
                          st.sampled_from(["00:00", "00:00:00", "11:59:59.999999", "23:30:00"]),
                          st.sampled_from(["", "Z", "+05:30", "-04:00"]))
    return st.one_of(date_only, with_time)


def value_for(field, op):
    if field in ("total_spend", "order_count", "visits"):
        number = st.sampled_from(NUMBERS)
        if op == "between":
            return st.lists(number, min_size=2, max_size=2).map(sorted)
        return st.lists(number, min_size=1, max_size=4) if op == "in" else number
    if field in ("city", "email", "name", "tags"):
        text = st.sampled_from({"city": CITIES, "email": EMAILS, "name": NAMES,
                                "tags": TAGS}[field] + NEEDLES)
        if op in ("in", "not_in"):
            return st.lists(text, min_size=1, max_size=4)
        return text.filter(bool) if op in ("contains", "starts_with") else text
    if field == "marketing_consent":
        return st.sampled_from(["subscribed", "unsubscribed"])
    if field == "suppressed":
        return st.booleans()
    if op in ("before", "after"):
        return rule_instant()
    return st.booleans() if op == "exists" else st.sampled_from(sorted(DURATIONS))


plain_conditions = st.sampled_from(FIELD_OPS).flatmap(
    lambda pair: value_for(*pair).map(lambda v: {"field": pair[0], "op": pair[1], "value": v}))
# Order windows: total_spend / order_count with in_last, values near what windows hold.
WINDOW_NUMBERS = [0, 1, 2, 3, 0.3, 5000, 5000.01, 2500.0, 7500.0, 10000]
window_conditions = st.builds(
    lambda field, op, value, in_last: {"field": field, "op": op, "value": value,
                                       "in_last": in_last},
    st.sampled_from(["total_spend", "order_count"]), st.sampled_from(["gt", "gte", "lt", "lte"]),
    st.sampled_from(WINDOW_NUMBERS), st.sampled_from(sorted(DURATIONS)),
) | st.builds(
    lambda field, pair, in_last: {"field": field, "op": pair[0], "value": pair[1],
                                  "in_last": in_last},
    st.sampled_from(["total_spend", "order_count"]),
    st.one_of(st.tuples(st.just("between"), st.lists(st.sampled_from(WINDOW_NUMBERS),
                                                     min_size=2, max_size=2).map(sorted)),
              st.tuples(st.just("in"), st.lists(st.sampled_from(WINDOW_NUMBERS), min_size=1,
                                                 max_size=3)),
              st.tuples(st.sampled_from(["eq", "ne"]), st.sampled_from(WINDOW_NUMBERS))),
    st.sampled_from(sorted(DURATIONS)))
conditions = st.one_of(plain_conditions, window_conditions)


def depth(rule):
    children = rule.get("all") or rule.get("any") or ([rule["not"]] if "not" in rule else [])
    return 1 + max(map(depth, children), default=0)


rules = st.recursive(
    conditions,
    lambda kids: st.one_of(st.lists(kids, min_size=1, max_size=3).map(lambda k: {"all": k}),
                           st.lists(kids, min_size=1, max_size=3).map(lambda k: {"any": k}),
                           kids.map(lambda k: {"not": k})),
    max_leaves=8,
).filter(lambda rule: depth(rule) <= 8)
