"""The webhook's quick load of plain callbacks reads exactly what ReceiptBatchSchema reads."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError
from receipts.schemas import ReceiptBatchSchema, _plain_receipt, load_receipt_batch

_schema = ReceiptBatchSchema()

valid_offsets = st.sampled_from(["Z", "+00:00", "-00:00", "+05:30", "-11:45", "+14:00"])
odd_offsets = st.sampled_from(["+25:00", "+0530", "+05", "", " ", "+5:30"])
valid_fractions = st.sampled_from(["", ".1", ".123", ".123456"])
odd_fractions = st.sampled_from([".1234567", ".", ",5"])
odd_times = st.sampled_from([
    "2026-02-30T00:00:00", "2026-01-01T24:00:00", "2026-01-01T00:00:60", "2026-1-01T00:00:00",
    "２０２６-01-01T00:00:00", "2026-01-01 00:00:00", "2026-01-01T00:00", "2026-01-01",
    "2026-01-01T00:00:00+00:00\n", "2026-01-01T00:00:00+00:00 "])


def mostly(valid, odd):
    """`valid` four times in five: most receipts are plain, and each odd field is alone."""
    return st.sampled_from([True, True, True, True, False]).flatmap(
        lambda plain: valid if plain else odd)


@st.composite
def times(draw):
    moment = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
    return (f"{moment:%Y-%m-%dT%H:%M:%S}" + draw(mostly(valid_fractions, odd_fractions))
            + draw(mostly(valid_offsets, odd_offsets)))


text_or_other = st.one_of(st.none(), st.text(max_size=8), st.integers(), st.booleans())
message_ids = mostly(st.sampled_from(["c1.1.0", "cmp_9-x.2.17", "c.1", "c1.1.0\n"]),
                     st.one_of(st.sampled_from(["no-dot", "bad$id.1.2", "c1.1.0 ", "",
                                                "a" * 65 + ".1"]), text_or_other))
optional_strings = mostly(st.one_of(st.none(), st.text(max_size=8)), text_or_other)


@st.composite
def receipts(draw):
    receipt = {"message_id": draw(message_ids),
               "status": draw(mostly(st.sampled_from(["SENT", "FAILED"]),
                                     st.sampled_from(["sent", "PENDING", None, 1]))),
               "reported_at": draw(mostly(times(), st.one_of(odd_times, text_or_other)))}
    for name in ("provider_message_id", "reason"):
        if draw(st.booleans()):
            receipt[name] = draw(optional_strings)
    if draw(st.booleans()):
        receipt["metadata"] = draw(mostly(
            st.one_of(st.none(), st.dictionaries(st.text(max_size=4), text_or_other, max_size=3)),
            st.one_of(st.lists(st.integers(), max_size=2), st.text(max_size=3))))
    if draw(st.booleans()):
        receipt["unknown"] = draw(text_or_other)
    return receipt


def _load(loader, body):
    try:
        return "ok", loader(body)
    except ValidationError as error:
        return "invalid", error.messages


def _comparable(outcome):
    kind, value = outcome
    if kind != "ok":
        return outcome
    return kind, [{**r, "reported_at": (r["reported_at"], r["reported_at"].isoformat())}
                  for r in value]


@settings(max_examples=500, deadline=None)
@given(st.lists(receipts(), min_size=1, max_size=3))
def test_the_quick_load_equals_the_schema(batch):
    body = {"receipts": batch, "extra": 1}
    expected = _load(lambda b: _schema.load(b)["receipts"], body)
    assert _comparable(_load(load_receipt_batch, body)) == _comparable(expected)
    quick = [_plain_receipt(receipt) for receipt in batch]
    event("quick" if None not in quick else "schema")


def test_plain_receipts_take_the_quick_path():
    plain = {"message_id": "c1.1.0", "status": "FAILED", "reason": "UNREACHABLE",
             "reported_at": "2026-01-01T00:00:00.25Z", "metadata": None}
    assert _plain_receipt(plain) is not None
    assert _plain_receipt({**plain, "reported_at": "2026-01-01"}) is None


@pytest.mark.parametrize("body", [{}, {"receipts": []}, {"receipts": "x"}, [], None,
                                  {"receipts": [1]}])
def test_bodies_that_are_not_batches_get_the_schema_errors(body):
    with pytest.raises(ValidationError):
        load_receipt_batch(body)


def test_a_plain_callback_loads_with_offsets_and_fractions():
    plain = {"message_id": "c1.1.0", "status": "SENT", "provider_message_id": "pm",
             "reported_at": "2026-03-04T05:06:07.5+05:30", "metadata": {"customer_external_id": 7}}
    (loaded,) = load_receipt_batch({"receipts": [plain]})
    assert loaded["reported_at"] == datetime(2026, 3, 4, 5, 6, 7, 500000,
                                             tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert loaded["reported_at"].isoformat() == "2026-03-04T05:06:07.500000+05:30"
    assert loaded == {**plain, "reported_at": loaded["reported_at"], "reason": None,
                      "permanent": False}
