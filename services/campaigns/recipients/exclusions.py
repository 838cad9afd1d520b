"""Who a launch messages: every exclusion, decided once, on the audience frozen at launch.

Interface (the one place exclusions live; preflight and new causes extend it here):

    decide(campaign, recipients, *, at_cap=None) -> Decision
        `recipients`: audience members as segments froze them at launch (one
        `audience.chunk`'s, each with `external_id`, `marketing_consent`,
        `suppressed`); `at_cap(ids) -> set of ids`: of the customers still
        eligible, those the frequency cap leaves out (None: no cap).
    Decision.messaged: [(recipient, variant name)] to message, in chunk order
    Decision.held_out: [recipient] in the holdout group (groups.split)
    Decision.excluded: {cause: [external_id, ...]} for every cause in CAUSES
    Decision.counts(): {cause: n}, the campaign's `stats.excluded` for this chunk
    capped_of(eligible_ids, at_cap) and groups.codes(campaign, ids): the two steps
        after consent and suppression, which the preflight runs over the whole
        audience at once (the same functions, so the same answer)

Causes are a waterfall, in CAUSES order: a customer is counted once, for the
first cause that applies (unsubscribed before suppressed before capped before
held out), so `matched == messaged + sum(excluded)` holds exactly per chunk and
therefore per campaign. Pure: no I/O; the same input gives the same decision
(a redelivered chunk decides the same, given the same `at_cap` answer).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from campaigns.recipients import groups

CAUSES = ("unsubscribed", "suppressed", "capped", "held_out")


def no_exclusions() -> dict[str, int]:
    return dict.fromkeys(CAUSES, 0)


@dataclass
class Decision:
    messaged: list[tuple[dict, str]] = field(default_factory=list)
    held_out: list[dict] = field(default_factory=list)
    excluded: dict[str, list[str]] = field(
        default_factory=lambda: {cause: [] for cause in CAUSES})

    def counts(self) -> dict[str, int]:
        return {cause: len(ids) for cause, ids in self.excluded.items()}


def _cause(recipient: dict) -> str | None:
    if (recipient.get("marketing_consent") or "subscribed") == "unsubscribed":
        return "unsubscribed"
    if recipient.get("suppressed"):
        return "suppressed"
    return None


def decide(campaign: dict, recipients: list[dict], *,
           at_cap: Callable[[list[str]], set[str]] | None = None) -> Decision:
    decision, eligible = Decision(), []
    for recipient in recipients:
        cause = _cause(recipient)
        if cause is None:
            eligible.append(recipient)
        else:
            decision.excluded[cause].append(recipient["external_id"])
    capped = capped_of([recipient["external_id"] for recipient in eligible], at_cap)
    if capped:
        decision.excluded["capped"] = [r["external_id"] for r in eligible
                                       if r["external_id"] in capped]
        eligible = [r for r in eligible if r["external_id"] not in capped]
    decision.messaged, decision.held_out = groups.split(campaign, eligible)
    decision.excluded["held_out"] = [recipient["external_id"] for recipient in decision.held_out]
    return decision


def capped_of(eligible_ids: list[str],
              at_cap: Callable[[list[str]], set[str]] | None) -> set[str]:
    """Of the eligible, those the cap leaves out; the rest go to groups.codes (the
    preflight calls both over the whole audience, a launch chunk by chunk)."""
    if at_cap is None or not eligible_ids:
        return set()
    return at_cap(eligible_ids)


def total(counts: dict[str, int]) -> int:
    return sum(counts.get(cause, 0) for cause in CAUSES)


def summed(per_chunk: list[dict[str, int] | None]) -> dict[str, int]:
    """A campaign's exclusions: its chunks' counts added up (chunks from before
    exclusions existed count none)."""
    counts = no_exclusions()
    for chunk in per_chunk:
        for cause in CAUSES:
            counts[cause] += (chunk or {}).get(cause, 0)
    return counts
