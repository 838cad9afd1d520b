"""A campaign's preflight (API.md "Drafts, schedules, test sends, preflight"), without I/O.

segments counts the audience over its index (POST /internal/v1/segments/audience-check
with_ids: matched, unsubscribed, suppressed, the eligible ids and per template
field the eligible ids with it empty). Here the rest of the launch's waterfall
runs through the SAME code a launch uses, exclusions.decide (cap, then holdout
by groups.split), on the eligible customers, and the lint is counted per
variant over exactly the customers it would message. So the numbers are the
stats a launch right after would reach, with no data changed:

- `matched`, `excluded` {unsubscribed, suppressed, capped, held_out},
  `audience_size` = matched minus every exclusion;
- `lint.fallback_used` {placeholder: n} and `lint.empty_text` (placeholders
  rendered as nothing, summed: the launch lint's `empty`), with
  `lint.placeholders` in the launch lint's own shape.

`campaign` needs `_id` (for POST, a provisional id: the real one does not exist
yet, so `held_out_exact` is false and held_out is what that id would give,
close to holdout_percent of the eligible), `holdout_percent`, and `message` or
`variants`. `at_cap` is a LedgerOwner's, read from the communications logs
(None: no cap in force).
"""
from __future__ import annotations

from campaigns import domain
from campaigns.recipients import exclusions, groups


def template_fields(campaign: dict) -> list[str]:
    """Every field the campaign's templates name, for segments to count empty."""
    names = []
    for parts in groups.templates(campaign).values():
        names += [part.field for part in parts if isinstance(part, domain.Placeholder)]
    return list(dict.fromkeys(names))


def preflight(campaign: dict, counted: dict, *, at_cap=None, held_out_exact: bool = True,
              capped_exact: bool = True) -> dict:
    recipients = [{"external_id": external_id} for external_id in counted["eligible_ids"]]
    decision = exclusions.decide(campaign, recipients, at_cap=at_cap)
    excluded = {**exclusions.no_exclusions(), **counted["excluded"],
                "capped": len(decision.excluded["capped"]),
                "held_out": len(decision.excluded["held_out"])}
    lint = _lint(groups.templates(campaign), decision.messaged,
                 {field: set(ids) for field, ids in counted["empty_ids"].items()})
    return {"matched": counted["matched"], "excluded": excluded,
            "audience_size": counted["matched"] - exclusions.total(excluded),
            "held_out_exact": held_out_exact, "capped_exact": capped_exact,
            "lint": {"fallback_used": {entry["placeholder"]: entry["fallback_used"]
                                       for entry in lint["placeholders"]},
                     "empty_text": sum(entry["empty"] for entry in lint["placeholders"]),
                     **lint}}


def _lint(parsed: dict[str, list], messaged: list[tuple[dict, str]],
          empty: dict[str, set[str]]) -> dict:
    """domain.lint's answer, per variant over its own recipients, merged as a launch
    merges its chunks': counted by set intersection with the empty ids (no profile)."""
    lints = []
    for name, parts in parsed.items():
        ids = {recipient["external_id"] for recipient, variant in messaged if variant == name}
        entries = []
        for placeholder in domain.unique_placeholders(parts):
            missing = len(ids & empty.get(placeholder.field, set()))
            given = placeholder.fallback is not None
            entries.append({"placeholder": placeholder.source, "field": placeholder.field,
                            "fallback": placeholder.fallback,
                            "fallback_used": missing if given else 0,
                            "empty": 0 if given else missing})
        lints.append({"recipients": len(ids), "placeholders": entries})
    return domain.merge_lints(lints)
