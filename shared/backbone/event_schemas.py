"""The data of every event type, one marshmallow schema per version (shared/backbone/events.py
names the types and registers these). Additive changes keep a schema; a breaking one
adds the next version beside it, with an upcaster in events.py."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class EventData(Schema):
    """The base of every event schema: unknown fields are dropped, so an additive
    change never breaks an older reader."""

    class Meta:
        unknown = EXCLUDE


CONSENT_VALUES = ("subscribed", "unsubscribed")


class CustomerUpsertedV1(EventData):
    """A customer record was accepted (created or updated) by ingest. It carries
    the fields the record carried: an absent optional field is left as it was
    (API.md, an update keeps the fields it omits), an explicit null clears it.
    Events logged before that rule carry every field (null for unknown)."""

    external_id = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    phone = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    tags = fields.List(fields.String(), allow_none=True)
    signed_up_at = fields.String(allow_none=True)
    visits = fields.Integer(allow_none=True)
    last_visit_at = fields.String(allow_none=True)
    marketing_consent = fields.String(validate=validate.OneOf(CONSENT_VALUES))


class CustomerConsentChangedV1(EventData):
    """A customer subscribed or unsubscribed outside a customer record: through
    `POST /api/v1/customers/<id>/(un)subscribe` (`source` "api") or the
    unsubscribe link of a message (`source` "link", with the message's
    `campaign_id`). The event's `occurred_at` is when."""

    external_id = fields.String(required=True)
    marketing_consent = fields.String(required=True, validate=validate.OneOf(CONSENT_VALUES))
    source = fields.String(required=True, validate=validate.OneOf(["api", "link"]))
    campaign_id = fields.String(allow_none=True, load_default=None)


class CustomerSuppressionLiftedV1(EventData):
    """`DELETE /api/v1/suppressions/<id>`: the customer may be messaged again
    (until the vendor reports another permanent failure)."""

    external_id = fields.String(required=True)


class OrderPlacedV1(EventData):
    """An order was accepted by ingest (once per order `external_id`)."""

    external_id = fields.String(required=True)
    customer_external_id = fields.String(required=True)
    amount = fields.Float(required=True)
    placed_at = fields.String(required=True)


class ProfileUpdatedV1(EventData):
    """The segments projector wrote (or re-read) a customer profile: its public
    fields as `GET /api/v1/customers/<id>` shows them (times ISO-8601 UTC) plus
    `version`, which grows with every change of that profile. Published for
    every profile a projector batch touched, changed or not, so a redelivered
    batch re-announces the same state; readers keep the highest version.
    `stub`: only orders are known so far (no customer record); not shown by the API.
    `orders`: {"placed_at": [epoch ms, ...], "amount": [...]}, one entry per counted
    order, oldest first, for the audience index's order windows (`in_last`); not
    shown by the API."""

    external_id = fields.String(required=True)
    version = fields.Integer(required=True, strict=True)
    stub = fields.Boolean(load_default=False)
    name = fields.String(allow_none=True, load_default=None)
    email = fields.String(allow_none=True, load_default=None)
    phone = fields.String(allow_none=True, load_default=None)
    city = fields.String(allow_none=True, load_default=None)
    tags = fields.List(fields.String(), allow_none=True, load_default=list)
    signed_up_at = fields.String(allow_none=True, load_default=None)
    visits = fields.Integer(allow_none=True, load_default=None)
    last_visit_at = fields.String(allow_none=True, load_default=None)
    total_spend = fields.Float(load_default=0.0)
    order_count = fields.Integer(load_default=0)
    last_order_at = fields.String(allow_none=True, load_default=None)
    last_active_at = fields.String(allow_none=True, load_default=None)
    marketing_consent = fields.String(load_default="subscribed")
    marketing_consent_at = fields.String(allow_none=True, load_default=None)
    suppressed = fields.Boolean(load_default=False)
    suppression_reason = fields.String(allow_none=True, load_default=None)
    suppressed_since = fields.String(allow_none=True, load_default=None)
    suppression_campaign_id = fields.String(allow_none=True, load_default=None)
    orders = fields.Dict(keys=fields.String(), values=fields.List(fields.Float()),
                         load_default=dict)


class AudienceRequestedV1(EventData):
    """Someone (campaigns) wants the customers matching `rules` (the raw rule
    JSON of API.md), with relative times (`older_than`, `within`) measured from
    `as_of` (ISO-8601). Answered with `audience.chunk` events (or one
    `audience.failed`) carrying the same `request_id`; asking again with the same
    request_id gets the same events (same event ids) again."""

    request_id = fields.String(required=True)
    rules = fields.Raw(required=True)
    as_of = fields.String(required=True)


class RecipientV1(EventData):
    """One customer of an audience, with what a message template may use."""

    external_id = fields.String(required=True)
    name = fields.String(allow_none=True, load_default=None)
    first_name = fields.String(allow_none=True, load_default=None)
    email = fields.String(allow_none=True, load_default=None)
    phone = fields.String(allow_none=True, load_default=None)
    city = fields.String(allow_none=True, load_default=None)
    tags = fields.List(fields.String(), allow_none=True, load_default=list)
    visits = fields.Integer(allow_none=True, load_default=None)
    total_spend = fields.Float(allow_none=True, load_default=None)
    order_count = fields.Integer(allow_none=True, load_default=None)
    last_order_at = fields.String(allow_none=True, load_default=None)
    last_visit_at = fields.String(allow_none=True, load_default=None)
    last_active_at = fields.String(allow_none=True, load_default=None)
    signed_up_at = fields.String(allow_none=True, load_default=None)
    marketing_consent = fields.String(load_default="subscribed")
    suppressed = fields.Boolean(load_default=False)


class AudienceChunkV1(EventData):
    """One part of an audience: chunks `0 .. chunk_count - 1` together hold each of
    the `audience_size` customers exactly once (at most 1,000 per chunk; an empty
    audience is one chunk without recipients). Chunks may arrive in any order and
    more than once; the event id is the same for the same (request_id, chunk_index)."""

    request_id = fields.String(required=True)
    chunk_index = fields.Integer(required=True, strict=True)
    chunk_count = fields.Integer(required=True, strict=True)
    audience_size = fields.Integer(required=True, strict=True)
    recipients = fields.List(fields.Nested(RecipientV1), required=True)


class AudienceFailedV1(EventData):
    """An audience request that can never be answered (its rules are invalid):
    `code` as in API errors (`INVALID_RULES`), `problems` a list of
    `{"path": "rules.all[1].op", "message": ...}` (a list, not a dict keyed by
    path: paths hold dots, which FerretDB refuses in field names)."""

    request_id = fields.String(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)
    problems = fields.List(fields.Dict(), load_default=list)


class DeliveryReportedV1(EventData):
    """The vendor reported a message's final fate (receipts webhook). `message_id`
    is ours, `<campaign_id>.<rest>` (the campaign id is the part before the first
    dot); `status` SENT or FAILED; `reason` why it failed (null when sent);
    `customer_external_id` null when the vendor did not echo it. The event id is
    the same for the same (message_id, status), so a repeated receipt is one event."""

    message_id = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_.:-]{1,200}$"))
    campaign_id = fields.String(required=True)
    customer_external_id = fields.String(allow_none=True, load_default=None)
    provider_message_id = fields.String(allow_none=True, load_default=None)
    status = fields.String(required=True, validate=validate.OneOf(["SENT", "FAILED"]))
    reported_at = fields.String(required=True)
    reason = fields.String(allow_none=True, load_default=None)
    # The vendor says the address will never take a message (INVALID_NUMBER):
    # the customer goes on the suppression list (segments projection).
    permanent = fields.Boolean(load_default=False)


class DeliveriesReportedV1(EventData):
    """One vendor callback's receipts (receipts webhook), replacing one
    `delivery.reported` per receipt: `receipts` holds 1 to 1,000 items with the
    fields of `delivery.reported`, one per distinct (message_id, status), in the
    callback's order. The event id is derived from the sorted (message_id, status)
    pairs, so a vendor retrying the same callback yields the same event."""

    receipts = fields.List(fields.Nested(DeliveryReportedV1), required=True,
                           validate=validate.Length(min=1))


class CampaignLaunchedV1(EventData):
    """campaigns started an attempt of a campaign: attempt 1 at creation (its audience
    is requested from segments), attempt n > 1 for retry-failed (`audience_size`:
    how many FAILED recipients it sends to again; absent while not yet known)."""

    campaign_id = fields.String(required=True)
    attempt = fields.Integer(required=True, strict=True)
    audience_size = fields.Integer(allow_none=True, load_default=None)


class QueuedMessageV1(EventData):
    message_id = fields.String(required=True)
    customer_external_id = fields.String(required=True)
    to = fields.String(allow_none=True, load_default=None)
    text = fields.String(required=True)
    # `<CRM_PUBLIC_URL>/u/<token>` (shared.unsubscribe); absent in events from before it.
    unsubscribe_url = fields.String(allow_none=True, load_default=None)


class MessagesQueuedV1(EventData):
    """Personalised messages of one campaign attempt, written to the campaign's
    communications log and ready for the vendor (at most 1,000; the event id is
    the same for the same (campaign, attempt, chunk), and `message_id`s never change,
    so the vendor's dedupe by message_id makes a redelivery harmless).
    `send_rate`: messages per second per sender process for this campaign (0: no limit)."""

    campaign_id = fields.String(required=True)
    attempt = fields.Integer(required=True, strict=True)
    send_rate = fields.Float(load_default=0.0)
    messages = fields.List(fields.Nested(QueuedMessageV1), required=True)


class CampaignControlV1(EventData):
    """A marketer changed whether a campaign may send. `sequence` numbers a campaign's
    control changes 1, 2, ... (the event id is derived from campaign and sequence, so
    one change is one event however often it is appended); `attempt` is the campaign's
    attempt when it changed."""

    campaign_id = fields.String(required=True)
    sequence = fields.Integer(required=True, strict=True)
    attempt = fields.Integer(load_default=1, strict=True)


class CampaignPausedV1(CampaignControlV1):
    """Sending stops: the senders hand no more of its messages to the vendor (those
    already there still get receipts); its unsent messages stay pending."""


class CampaignResumedV1(CampaignControlV1):
    """Sending goes on: the dispatcher queues again, with their own message ids, the
    messages of the latest attempt that have no final status yet."""


class CampaignCancelledV1(CampaignControlV1):
    """Sending stops for good: unsent messages are never sent and stay pending."""


class CampaignSavedV1(EventData):
    """A campaign saved without launching (`campaign.drafted`, `campaign.scheduled`) or
    edited before its launch (`campaign.edited`): `sequence` numbers the campaign's
    saves 0, 1, ... (the event id is derived from campaign and sequence), and
    `campaign` holds every editable field as saved, so the log alone rebuilds it."""

    campaign_id = fields.String(required=True)
    sequence = fields.Integer(required=True, strict=True)
    campaign = fields.Dict(required=True)
