"""A customer's bucket (0..9,999) in a campaign: the one function every launch, preflight,
test send and retry uses to place customers in the holdout or a variant (groups.py maps
buckets to groups). Pure: it depends on the campaign (its id, or its `assignment_key`)
and the customer's external id only, so a redelivered chunk, a resume, retry-failed or a
replay, in any process, put everyone in the same bucket again.

Two versions, chosen by the campaign's own `assignment` field, so a campaign keeps the
function it was created under for good (an upgrade never re-splits one in flight):

- 1 (campaigns saved before the field existed): sha256 of "<campaign id>\\n<customer>",
  its first 8 bytes big-endian, mod 10,000. One hash per customer: ~1 us each.
- 2 (every campaign saved now, ASSIGNMENT): numpy over the whole list. The customer's
  key is a stable 64-bit hash of the id's code points (each position weighted by its
  own odd constant, so padding the array to the longest id adds nothing: a customer's
  key does not depend on the batch it is in), mixed twice by murmur3's fmix64 with a
  per-campaign seed: sha256 of the campaign's `assignment_key`, or of its id when it
  has none. A POST preflight draws a key and answers it; a create that carries it
  back is split exactly as that preflight counted. ~0.1 us per customer.

A change to either function would move customers of campaigns already decided into
other groups: tests/unit/campaigns/recipients pin both with known values.
"""
from __future__ import annotations

import hashlib

import numpy as np

BUCKETS = 10_000
ASSIGNMENT = 2  # what campaigns saved now are decided by
LEGACY_ASSIGNMENT = 1  # a campaign document without `assignment`

_M1, _M2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
KEY_BATCH = 65_536  # ids per code-point matrix: at most ~52 MB at 200 characters
_weights: np.ndarray = np.zeros(0, dtype=np.uint64)


def version_of(campaign: dict) -> int:
    return campaign.get("assignment") or LEGACY_ASSIGNMENT


def buckets(campaign: dict, customer_ids: list[str]) -> np.ndarray:
    """Each customer's bucket, in order (int64)."""
    if version_of(campaign) == LEGACY_ASSIGNMENT:
        return legacy_buckets(campaign["_id"], customer_ids)
    return hashed_buckets(campaign.get("assignment_key") or campaign["_id"], customer_ids)


def legacy_buckets(campaign_id: str, customer_ids: list[str]) -> np.ndarray:
    prefix = hashlib.sha256(f"{campaign_id}\n".encode()).copy
    digests = []
    for customer in customer_ids:
        state = prefix()
        state.update(customer.encode())
        digests.append(state.digest()[:8])
    keys = np.frombuffer(b"".join(digests), dtype=">u8").astype(np.uint64)
    return (keys % np.uint64(BUCKETS)).astype(np.int64)


def hashed_buckets(campaign_key: str, customer_ids: list[str]) -> np.ndarray:
    seed = np.uint64(int.from_bytes(
        hashlib.sha256(f"assignment-2\n{campaign_key}".encode()).digest()[:8], "big"))
    mixed = _fmix64(_fmix64(customer_keys(customer_ids) ^ seed))
    return (mixed % np.uint64(BUCKETS)).astype(np.int64)


def customer_keys(customer_ids: list[str]) -> np.ndarray:
    """A stable 64-bit key per external id (uint64), whatever else is in the list.
    Taken KEY_BATCH ids at a time: the code-point matrix is as wide as the longest id
    in it (up to 200 characters, 800 bytes a row), so one long id in a million-customer
    audience would otherwise allocate ~800 MB. Batches change no key."""
    if not customer_ids:
        return np.zeros(0, dtype=np.uint64)
    return np.concatenate([_batch_keys(customer_ids[start:start + KEY_BATCH])
                           for start in range(0, len(customer_ids), KEY_BATCH)])


def _batch_keys(customer_ids: list[str]) -> np.ndarray:
    text = np.array(customer_ids, dtype=str)
    width = text.dtype.itemsize // 4
    points = text.view(np.uint32).reshape(len(customer_ids), width)
    weights = _position_weights(width)
    key = np.zeros(len(customer_ids), dtype=np.uint64)
    for position in range(width):  # one pass per character position, over every id
        key += points[:, position].astype(np.uint64) * weights[position]
    return _fmix64(key)


def _position_weights(width: int) -> np.ndarray:
    """Odd 64-bit constants, one per position (splitmix64's sequence from a fixed start)."""
    global _weights
    if len(_weights) < width:
        steps = np.arange(1, max(width, 64) + 1, dtype=np.uint64)
        _weights = _fmix64(steps * np.uint64(0x9E3779B97F4A7C15)) | np.uint64(1)
    return _weights


def _fmix64(values: np.ndarray) -> np.ndarray:
    values = values ^ (values >> _S33)
    values = values * _M1
    values = values ^ (values >> _S33)
    values = values * _M2
    return values ^ (values >> _S33)
