"""A campaign's preflight (API.md "Drafts, schedules, test sends, preflight"), without I/O.

segments counts the audience over its index (POST /internal/v1/segments/audience-check
with_ids: matched, unsubscribed, suppressed, the eligible ids and per template
field the eligible ids with it empty). Here the rest of the launch's waterfall
runs through the SAME functions a launch's exclusions.decide uses
(exclusions.capped_of, then groups.codes for the holdout and variants), over
every eligible customer at once (numpy: no per-customer dict), and the lint is
counted per variant over exactly the customers it would message. So the numbers are the
stats a launch right after would reach, with no data changed:

- `matched`, `excluded` {unsubscribed, suppressed, capped, held_out},
  `audience_size` = matched minus every exclusion;
- `lint.fallback_used` {placeholder: n} and `lint.empty_text` (placeholders
  rendered as nothing, summed: the launch lint's `empty`), with
  `lint.placeholders` in the launch lint's own shape.

`campaign` needs `_id` and, for a POST, the `assignment_key` drawn for it (the
real id does not exist yet; the create that carries the key back is split by it,
so held_out is exact: `held_out_exact` stays true), `holdout_percent`, and
`message` or `variants`. `at_cap` is a LedgerOwner's, read from the communications logs
(None: no cap in force).
"""
from __future__ import annotations

import numpy as np

from campaigns import domain
from campaigns.recipients import exclusions, groups


def template_fields(campaign: dict) -> list[str]:
    """Every field the campaign's templates name, for segments to count empty."""
    names = []
    for parts in groups.templates(campaign).values():
        names += [part.field for part in parts if isinstance(part, domain.Placeholder)]
    return list(dict.fromkeys(names))


def preflight(campaign: dict, counted: dict, *, at_cap=None, capped_exact: bool = True) -> dict:
    eligible = counted["eligible_ids"]
    capped = exclusions.capped_of(eligible, at_cap)
    kept = [customer for customer in eligible if customer not in capped] if capped else eligible
    chosen = groups.codes(campaign, kept)  # the launch's own function, over every customer
    excluded = {**exclusions.no_exclusions(), **counted["excluded"], "capped": len(capped),
                "held_out": int(np.count_nonzero(chosen == groups.HOLDOUT_CODE))}
    lint = _lint(groups.templates(campaign), kept, chosen, counted["empty_ids"])
    return {"matched": counted["matched"], "excluded": excluded,
            "audience_size": counted["matched"] - exclusions.total(excluded),
            "held_out_exact": True, "capped_exact": capped_exact,
            "lint": {"fallback_used": {entry["placeholder"]: entry["fallback_used"]
                                       for entry in lint["placeholders"]},
                     "empty_text": sum(entry["empty"] for entry in lint["placeholders"]),
                     **lint}}


def _lint(parsed: dict[str, list], kept: list[str], chosen: np.ndarray,
          empty_ids: dict[str, list[str]]) -> dict:
    """domain.lint's answer, per variant over its own recipients, merged as a launch
    merges its chunks': counted over the group codes and each field's empty ids
    (no profile). `parsed` is in variants_of order, which the codes index."""
    messaged = chosen >= 0
    variants = len(parsed)
    recipients = np.bincount(chosen[messaged], minlength=variants)
    empty = _empty_by_variant(kept, chosen, variants, empty_ids)
    none_empty = np.zeros(variants, dtype=np.int64)
    lints = []
    for code, parts in enumerate(parsed.values()):
        entries = []
        for placeholder in domain.unique_placeholders(parts):
            missing = int(empty.get(placeholder.field, none_empty)[code])
            given = placeholder.fallback is not None
            entries.append({"placeholder": placeholder.source, "field": placeholder.field,
                            "fallback": placeholder.fallback,
                            "fallback_used": missing if given else 0,
                            "empty": 0 if given else missing})
        lints.append({"recipients": int(recipients[code]), "placeholders": entries})
    return domain.merge_lints(lints)


def _empty_by_variant(kept: list[str], chosen: np.ndarray, variants: int,
                      empty_ids: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """Per field, how many messaged customers of each variant have it empty."""
    position = dict(zip(kept, range(len(kept)), strict=True)) if any(empty_ids.values()) else {}
    counts = {}
    for name, ids in empty_ids.items():
        rows = np.fromiter((position.get(customer, -1) for customer in ids), dtype=np.int64,
                           count=len(ids))
        rows = rows[rows >= 0]  # a capped customer is not in `kept`
        codes = chosen[rows]
        counts[name] = np.bincount(codes[codes >= 0], minlength=variants)
    return counts
