"""Holdout and variants (API.md "Holdout, variants, results, exports"), without I/O.

A customer's group is a pure function of campaign and customer id: their bucket
0..9,999 (assignment.py, the one function launch and preflight both use); buckets
below holdout_percent * 100 are held out (recorded, never messaged), the others
are spread over the variants by weight. The same customer lands in the same group
at every chunk delivery, resume, retry-failed and replay, in every process, with
nothing stored to decide it. A campaign created with one `message` has one
variant, DEFAULT_VARIANT.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from campaigns import domain
from campaigns.recipients import assignment
from campaigns.recipients.assignment import BUCKETS

HOLDOUT = "holdout"
HOLDOUT_CODE = -1  # in `codes`: held out; otherwise the index of the variant
DEFAULT_VARIANT = "default"
MAX_HOLDOUT_PERCENT = 50
MIN_VARIANTS, MAX_VARIANTS = 2, 4


def variants_of(campaign: dict) -> list[dict]:
    """The campaign's variants; a one-message campaign has one, weighing 100."""
    return campaign.get("variants") or [
        {"name": DEFAULT_VARIANT, "message": campaign["message"], "weight": 100}]


def codes(campaign: dict, customer_ids: list[str], holdout_percent: float | None = None
          ) -> np.ndarray:
    """Per customer, HOLDOUT_CODE or the index of their variant in variants_of (int64).
    `holdout_percent` defaults to the campaign's."""
    if holdout_percent is None:
        holdout_percent = campaign.get("holdout_percent") or 0
    weights = [variant["weight"] for variant in variants_of(campaign)]
    points = assignment.buckets(campaign, customer_ids)
    held = round(holdout_percent * BUCKETS / 100)
    # Variant i takes the offsets with offset * 100 < cumulative weight * span, the first
    # that fits; the last takes what rounding leaves.
    span, offsets = BUCKETS - held, points - held
    limits = np.cumsum(weights, dtype=np.int64)[:-1] * span
    chosen = np.searchsorted(limits, offsets * 100, side="right")
    return np.where(points < held, HOLDOUT_CODE, chosen)


def group_of(campaign: dict, customer_id: str, holdout_percent: float | None = None) -> str:
    """HOLDOUT or the name of the customer's variant."""
    code = int(codes(campaign, [customer_id], holdout_percent)[0])
    return HOLDOUT if code == HOLDOUT_CODE else variants_of(campaign)[code]["name"]


def split(campaign: dict, recipients: list[dict]) -> tuple[list[tuple[dict, str]], list[dict]]:
    """([(recipient, variant name)] to message, [recipient] held out), in chunk order."""
    names = [variant["name"] for variant in variants_of(campaign)]
    chosen = codes(campaign, [recipient["external_id"] for recipient in recipients]).tolist()
    messaged, held_out = [], []
    for recipient, code in zip(recipients, chosen, strict=True):
        if code == HOLDOUT_CODE:
            held_out.append(recipient)
        else:
            messaged.append((recipient, names[code]))
    return messaged, held_out


def templates(campaign: dict) -> dict[str, list]:
    """Variant name -> its parsed template (TemplateError names the variant)."""
    parsed = {}
    for variant in variants_of(campaign):
        try:
            parsed[variant["name"]] = domain.parse_template(variant["message"])
        except domain.TemplateError as error:
            if not campaign.get("variants"):
                raise
            raise domain.TemplateError([{**problem, "variant": variant["name"]}
                                        for problem in error.problems]) from error
    return parsed


def chunk_lint(parsed: dict[str, list], messaged: list[tuple[dict, str]]) -> dict:
    """The lint of one chunk: each variant's template over its own recipients."""
    by_variant: dict[str, list[dict]] = {name: [] for name in parsed}
    for recipient, variant in messaged:
        by_variant[variant].append(recipient)
    return domain.merge_lints([domain.lint(parsed[name], recipients)
                               for name, recipients in by_variant.items()])


def group_counts(messaged: list[tuple[dict, str]], held_out: int) -> dict[str, int]:
    counts = Counter(variant for _, variant in messaged)
    return {**counts, HOLDOUT: held_out}


def variant_problems(variants: list[dict]) -> dict:
    """What is wrong with a create's `variants` ({} when nothing): names unique and
    not "holdout", weights summing to 100. Counts and types are the schema's."""
    problems = {}
    names = [variant["name"] for variant in variants]
    if len(set(names)) != len(names):
        problems["names"] = "Variant names must be unique."
    if HOLDOUT in names:
        problems["names"] = f"'{HOLDOUT}' names the holdout group, not a variant."
    total = sum(variant["weight"] for variant in variants)
    if total != 100:
        problems["weights"] = f"Weights must sum to 100 (they sum to {total})."
    return problems
