"""Holdout and variants (API.md "Holdout, variants, results, exports"), without I/O.

A customer's group is a pure function of campaign id and customer id: a hash
of the two gives a bucket 0..9,999; buckets below holdout_percent * 100 are
held out (recorded, never messaged), the others are spread over the variants
by weight. The same customer lands in the same group at every chunk delivery,
resume, retry-failed and replay, in every process, with nothing stored to
decide it. A campaign created with one `message` has one variant, DEFAULT_VARIANT.
"""
from __future__ import annotations

import hashlib
from collections import Counter

from campaigns import domain

BUCKETS = 10_000
HOLDOUT = "holdout"
DEFAULT_VARIANT = "default"
MAX_HOLDOUT_PERCENT = 50
MIN_VARIANTS, MAX_VARIANTS = 2, 4


def bucket(campaign_id: str, customer_id: str) -> int:
    digest = hashlib.sha256(f"{campaign_id}\n{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def variants_of(campaign: dict) -> list[dict]:
    """The campaign's variants; a one-message campaign has one, weighing 100."""
    return campaign.get("variants") or [
        {"name": DEFAULT_VARIANT, "message": campaign["message"], "weight": 100}]


def group_of(campaign_id: str, customer_id: str, holdout_percent: float,
             variants: list[dict]) -> str:
    """HOLDOUT or the name of the customer's variant."""
    point = bucket(campaign_id, customer_id)
    held = round(holdout_percent * BUCKETS / 100)
    if point < held:
        return HOLDOUT
    span, offset, cumulative = BUCKETS - held, point - held, 0
    for variant in variants:
        cumulative += variant["weight"]
        if offset * 100 < cumulative * span:
            return variant["name"]
    return variants[-1]["name"]


def split(campaign: dict, recipients: list[dict]) -> tuple[list[tuple[dict, str]], list[dict]]:
    """([(recipient, variant name)] to message, [recipient] held out), in chunk order."""
    variants = variants_of(campaign)
    holdout_percent = campaign.get("holdout_percent") or 0
    messaged, held_out = [], []
    for recipient in recipients:
        group = group_of(campaign["_id"], recipient["external_id"], holdout_percent, variants)
        if group == HOLDOUT:
            held_out.append(recipient)
        else:
            messaged.append((recipient, group))
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
