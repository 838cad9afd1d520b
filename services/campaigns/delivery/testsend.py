"""Test sends: a campaign's message, rendered for a few customers, sent for real but
marked `test`, outside the campaign's stats and the frequency cap.

Each given customer gets the variant a launch would give them (a held-out one gets
the variant their bucket falls in without the holdout), rendered from their profile
exactly as a launch renders it. The message goes to the vendor with `test: true`: the
vendor sends it and reports no receipt, so no delivery, suppression or stat follows;
its id (`test-<campaign>-<random>`) is no campaign message id, and the send ledger and
the communications log never see it. Works on a campaign in any status.
"""
from __future__ import annotations

import uuid

from segments.audience.stream import recipient as audience_recipient

from campaigns import domain
from campaigns.domain import CampaignNotFound
from campaigns.recipients import groups
from shared.unsubscribe import links_from_env


def send_test(campaign_id: str, external_ids: list[str], *, store, segment_rules,
              vendor) -> dict:
    campaign = store.find(campaign_id)
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    templates = groups.templates(campaign)
    wanted = list(dict.fromkeys(external_ids))
    profiles = segment_rules.profiles_of(wanted)
    outgoing, shown = [], []
    for external_id in wanted:
        profile = profiles.get(external_id)
        if profile is None:
            continue
        recipient = audience_recipient({**profile, "external_id": external_id})
        recipient["unsubscribe_url"] = links_from_env().url(campaign_id, external_id)
        variant = groups.group_of(campaign, external_id)
        if variant == groups.HOLDOUT:
            variant = groups.group_of(campaign, external_id, holdout_percent=0)
        message = {"message_id": f"test-{campaign_id}-{uuid.uuid4().hex[:16]}",
                   "to": domain.recipient_address(recipient) or f"customer:{external_id}",
                   "text": domain.render(templates[variant], recipient) or " ",
                   "unsubscribe_url": recipient["unsubscribe_url"], "test": True,
                   "metadata": {"test": True, "campaign_id": campaign_id,
                                "customer_external_id": external_id}}
        outgoing.append(message)
        shown.append({"customer_external_id": external_id, "to": message["to"],
                      "variant": variant, "text": message["text"],
                      "message_id": message["message_id"]})
    if outgoing:
        vendor.send(outgoing)
    return {"campaign_id": campaign_id, "messages": shown,
            "not_found": [external_id for external_id in wanted if external_id not in profiles]}
