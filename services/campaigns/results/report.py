"""`GET /api/v1/campaigns/<id>/results`: per group what its customers did within the
window, and each variant's lift over the holdout (campaigns/results/lift.py).

Read with a few lookups by `_id` whatever the campaign's size: the campaign, its
attribution sums (one document) and its group sizes (summed from the chunk
documents once, then kept on the campaign when the whole audience is recorded).
Groups are intent-to-treat: a variant's customers are everyone assigned to it,
whether their message was sent, failed or is still pending.
"""
from __future__ import annotations

from datetime import timedelta

from campaigns.domain import CampaignNotFound
from campaigns.recipients.groups import DEFAULT_VARIANT, HOLDOUT, variants_of
from campaigns.results.attribution import launched_at_of, window_totals
from campaigns.results import lift


class NotLaunched(Exception):
    pass


def campaign_results(campaign_id: str, window_days: int, *, store, attribution_store) -> dict:
    campaign = store.find(campaign_id)
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    launched_at = launched_at_of(campaign)
    if launched_at is None:
        raise NotLaunched(campaign.get("status"))
    sizes = group_sizes(campaign, store)
    summary = attribution_store.find_summary(campaign_id) or {}
    sums = summary.get("groups", {})
    holdout = _group(HOLDOUT, sizes.get(HOLDOUT, 0), sums.get(HOLDOUT), window_days)
    variants = []
    for variant in variants_of(campaign):
        name = variant["name"]
        group = _group(name, sizes.get(name, 0), sums.get(name), window_days)
        group["lift_vs_holdout"] = lift.lift_vs_holdout(_outcome(group), _outcome(holdout))
        variants.append(group)
    holdout["lift_vs_holdout"] = None
    return {"campaign_id": campaign_id, "launched_at": launched_at, "window_days": window_days,
            "window_ends_at": launched_at + timedelta(days=window_days),
            "holdout_percent": campaign.get("holdout_percent") or 0,
            "holdout": holdout, "variants": variants,
            "orders_attributed_at": summary.get("updated_at")}


def group_sizes(campaign: dict, store) -> dict[str, int]:
    """Customers per group (variant names and HOLDOUT), from the recorded chunks."""
    if campaign.get("group_sizes") is not None:
        return campaign["group_sizes"]
    chunks = store.all_chunks(campaign["_id"])
    sizes: dict[str, int] = {}
    for chunk in chunks:
        # A chunk recorded before groups existed: all of it went to the one message.
        for name, count in (chunk.get("groups") or {DEFAULT_VARIANT: chunk.get("queued", 0)}
                            ).items():
            sizes[name] = sizes.get(name, 0) + count
    chunk_count = campaign.get("chunk_count")
    if chunk_count is not None and len(chunks) >= chunk_count:
        store.update(campaign["_id"], {"group_sizes": sizes})  # final: never changes again
    return sizes


def _group(name: str, customers: int, sums: dict | None, window_days: int) -> dict:
    totals = window_totals(sums, window_days)
    return {"name": name, "customers": customers, "converted": totals["converted"],
            "conversion_rate": totals["converted"] / customers if customers else None,
            "orders": totals["orders"], "revenue": round(totals["revenue"], 2),
            "_revenue": totals["revenue"],
            "revenue_per_customer": totals["revenue"] / customers if customers else None,
            "converted_by_day": totals["converted_by_day"],
            "_revenue_squares": totals["revenue_squares"]}


def _outcome(group: dict) -> lift.GroupOutcome:
    return lift.GroupOutcome(customers=group["customers"], converted=group["converted"],
                             revenue=group["_revenue"],
                             revenue_squares=group["_revenue_squares"])


def results_rows(results: dict):
    """The results as CSV rows (a heading, then one row per group)."""
    yield ["group", "customers", "converted", "conversion_rate", "orders", "revenue",
           "revenue_per_customer", "conversion_lift", "conversion_lift_relative",
           "conversion_lift_ci95_low", "conversion_lift_ci95_high", "revenue_lift",
           "revenue_lift_relative", "revenue_lift_ci95_low", "revenue_lift_ci95_high"]
    for group in [results["holdout"], *results["variants"]]:
        row = [group["name"], group["customers"], group["converted"], group["conversion_rate"],
               group["orders"], group["revenue"], group["revenue_per_customer"]]
        lifts = group.get("lift_vs_holdout") or {}
        for metric in ("conversion_rate", "revenue_per_customer"):
            one = lifts.get(metric) or {}
            ci = one.get("ci95") or [None, None]
            row += [one.get("absolute"), one.get("relative"), ci[0], ci[1]]
        yield row
