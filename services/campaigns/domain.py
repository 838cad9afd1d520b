"""Campaign logic without I/O: message templates, their lint, message and event ids,
stats, and the errors of campaigns' commands.

Templates (API.md, Campaigns): `{field}` or `{field|fallback}`, where field is
one of the recipient fields of an `audience.chunk` (plus `first_name`, the
first word of `name`). A value that is missing, empty or an empty list is
"empty": the fallback is used when given (`{city|}` is an explicit empty
fallback), otherwise the placeholder renders as nothing. Literal braces are
written doubled, as in Python's format strings: `{{` renders `{`, `}}`
renders `}`. A fallback is literal text and may not hold a brace. Anything
else (an unknown field, an unclosed or stray brace) is a TemplateError naming
each problem, which the API answers with 400 INVALID_TEMPLATE.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

TEMPLATE_FIELDS = frozenset({
    "external_id", "name", "first_name", "email", "phone", "city", "tags", "visits",
    "total_spend", "order_count", "last_order_at", "last_visit_at", "last_active_at",
    "signed_up_at",
    "unsubscribe_url",  # the message's own link (shared.unsubscribe), filled in at sending
})
MAX_TEMPLATE_LENGTH = 2000
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def template_pattern() -> str:
    """The JSON Schema pattern of exactly the templates parse_template accepts: text
    without a lone brace, `{{` and `}}`, and `{field}` or `{field|fallback}` of a known
    field (spaces around the field allowed, a fallback without braces)."""
    # `^$|^(...)+$` rather than `^(...)*$`: schemathesis folds a field's minLength and
    # maxLength into a lone group's quantifier, re-serialising the pattern with bare `}`
    # (an invalid ECMA regex); it leaves an alternation as written.
    names = "|".join(sorted(TEMPLATE_FIELDS, key=len, reverse=True))
    placeholder = r"[{]\s*(" + names + r")\s*([|][^{}]*)?[}]"
    return r"^$|^([^{}]|[{][{]|[}][}]|" + placeholder + r")+$"


PRODUCER = "campaigns"
EVENT_NAMESPACE = uuid.UUID("5b0c1d7e-8f2a-4e63-9a41-0c7d2e9b6f13")


class CampaignNotFound(Exception):
    pass


class SegmentNotFound(Exception):
    pass


class RetryRefused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def event_id(*parts) -> str:
    """Deterministic ids: the same fact appended twice is one event."""
    return str(uuid.uuid5(EVENT_NAMESPACE, "\n".join(str(part) for part in parts)))


class TemplateError(ValueError):
    def __init__(self, problems: list[dict]):
        super().__init__("; ".join(problem["message"] for problem in problems))
        self.problems = problems

    @property
    def details(self) -> dict:
        unknown = sorted({p["placeholder"] for p in self.problems if p.get("unknown")})
        return {"problems": self.problems, "unknown_placeholders": unknown,
                "allowed_fields": sorted(TEMPLATE_FIELDS)}


@dataclass(frozen=True)
class Placeholder:
    field: str
    fallback: str | None  # None: no bar given; "" : an explicit empty fallback

    @property
    def source(self) -> str:
        return "{" + self.field + ("" if self.fallback is None else "|" + self.fallback) + "}"


Part = str | Placeholder


def parse_template(template: str) -> list[Part]:
    """The template as literal strings and placeholders, or TemplateError listing every problem."""
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise TemplateError([{"position": MAX_TEMPLATE_LENGTH,
                              "message": f"The message is longer than "
                                         f"{MAX_TEMPLATE_LENGTH} characters."}])
    parts: list[Part] = []
    problems: list[dict] = []
    literal: list[str] = []
    i = 0
    while i < len(template):
        char = template[i]
        if template.startswith("{{", i) or template.startswith("}}", i):
            literal.append(char)
            i += 2
        elif char == "}":
            problems.append({"position": i,
                             "message": f"Stray '}}' at {i}: write '}}}}' for a brace."})
            i += 1
        elif char == "{":
            end = template.find("}", i + 1)
            inner = template[i + 1:end] if end != -1 else template[i + 1:]
            if end == -1 or "{" in inner:
                problems.append({"position": i, "message": f"Unclosed '{{' at {i}: "
                                 "write '{{' for a brace."})
                i += 1
                continue
            placeholder, problem = _placeholder(inner, i)
            if problem:
                problems.append(problem)
            else:
                if literal:
                    parts.append("".join(literal))
                    literal = []
                parts.append(placeholder)
            i = end + 1
        else:
            literal.append(char)
            i += 1
    if problems:
        raise TemplateError(problems)
    if literal:
        parts.append("".join(literal))
    return parts


def _placeholder(inner: str, position: int) -> tuple[Placeholder | None, dict | None]:
    field, bar, fallback = inner.partition("|")
    field = field.strip()
    if not _FIELD_NAME.match(field):
        return None, {"position": position, "placeholder": "{" + inner + "}",
                      "message": f"'{{{inner}}}' at {position} is not a placeholder: "
                                 "use {field} or {field|fallback}."}
    if field not in TEMPLATE_FIELDS:
        return None, {"position": position, "placeholder": field, "unknown": True,
                      "message": f"Unknown placeholder '{field}' at {position}."}
    return Placeholder(field, fallback if bar else None), None


def field_value(recipient: dict, field: str) -> str:
    """The recipient's field as message text ('' when empty)."""
    value = recipient.get(field)
    if field == "first_name" and not value:
        words = (recipient.get("name") or "").split()
        value = words[0] if words else None
    if value is None or value == [] or isinstance(value, bool):
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.2f}"
    return str(value).strip()


def render(parts: list[Part], recipient: dict) -> str:
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        value = field_value(recipient, part.field)
        out.append(value if value else (part.fallback or ""))
    return "".join(out)


def lint(parts: list[Part], recipients: list[dict]) -> dict:
    """Per placeholder, how many recipients get its fallback or an empty value."""
    placeholders = unique_placeholders(parts)
    entries = []
    for placeholder in placeholders:
        empty = sum(1 for recipient in recipients if not field_value(recipient, placeholder.field))
        with_fallback = placeholder.fallback is not None
        entries.append({"placeholder": placeholder.source, "field": placeholder.field,
                        "fallback": placeholder.fallback,
                        "fallback_used": empty if with_fallback else 0,
                        "empty": 0 if with_fallback else empty})
    return {"recipients": len(recipients), "placeholders": entries}


def merge_lints(lints: list[dict]) -> dict:
    """The lint of a whole audience from the lints of its chunks (same template)."""
    merged: dict[str, dict] = {}
    total = 0
    for one in lints:
        total += one["recipients"]
        for entry in one["placeholders"]:
            into = merged.setdefault(entry["placeholder"],
                                     {**entry, "fallback_used": 0, "empty": 0})
            into["fallback_used"] += entry["fallback_used"]
            into["empty"] += entry["empty"]
    return {"recipients": total, "placeholders": list(merged.values())}


def unique_placeholders(parts: list[Part]) -> list[Placeholder]:
    seen: dict[Placeholder, None] = {}
    for part in parts:
        if isinstance(part, Placeholder):
            seen.setdefault(part, None)
    return list(seen)


def message_id(campaign_id: str, attempt: int, sequence: int) -> str:
    """`<campaign_id>.<attempt>.<sequence>`: hex, digits and dots only, whatever
    the customer's external id holds (a vendor may limit its id alphabet)."""
    return f"{campaign_id}.{attempt}.{sequence}"


def parse_message_id(value: str) -> tuple[str, int, int] | None:
    pieces = value.split(".")
    if len(pieces) != 3 or not all(piece.isdigit() for piece in pieces[1:]):
        return None
    return pieces[0], int(pieces[1]), int(pieces[2])


def recipient_address(recipient: dict) -> str | None:
    return recipient.get("email") or recipient.get("phone")


def campaign_stats(audience_size: int | None, sent: int, failed_reported: int,
                   failed_retried: int) -> dict:
    """`failed` counts each customer whose LATEST attempt failed: a failure that was
    sent again (retry-failed) is pending again until its new attempt is reported.
    Counts can briefly exceed a not-yet-known audience: pending never goes negative."""
    size = audience_size or 0
    sent = min(sent, size)
    failed = min(max(failed_reported - failed_retried, 0), size - sent)
    return {"audience_size": size, "sent": sent, "failed": failed,
            "pending": size - sent - failed}


def campaign_status(stored_status: str, stats: dict, fully_queued: bool,
                    control: str = "active") -> str:
    """`launching` until the audience is known, `sending` while anything is pending,
    `completed` once the whole audience is queued and nothing is pending; `paused`
    instead of launching/sending while paused; `cancelled` for good once cancelled
    (its unsent messages stay pending, so it never becomes completed)."""
    if stored_status == "failed":
        return "failed"
    if control == CANCELLED:
        return "cancelled"
    if stored_status in UNLAUNCHED:
        return stored_status  # nothing requested yet (campaigns/lifecycle/handlers.py)
    if not fully_queued:
        status = "launching" if stats["audience_size"] == 0 and stored_status == "launching" \
            else "sending"
    else:
        status = "completed" if stats["pending"] == 0 else "sending"
    return "paused" if control == PAUSED and status != "completed" else status


# Control: whether a campaign may send (the campaign document's `control`).
ACTIVE, PAUSED, CANCELLED = "active", "paused", "cancelled"
# Saved but not launched: editable, launched by POST .../launch or at `send_at`.
DRAFT, SCHEDULED = "draft", "scheduled"
UNLAUNCHED = (DRAFT, SCHEDULED)
CONTROL_OF_ACTION = {"pause": PAUSED, "resume": ACTIVE, "cancel": CANCELLED}


def control_refusal(action: str, status: str, control: str) -> tuple[str, str] | None:
    """Why `action` (pause, resume, cancel) cannot apply to a campaign shown with
    `status` and `control` ((code, message) for a 409), or None when it can."""
    if status in ("failed", "cancelled") or (status == "completed" and action != "resume"):
        return "CAMPAIGN_NOT_ACTIVE", f"The campaign is {status}: nothing is left to {action}."
    if status in UNLAUNCHED and action != "cancel":
        return "CAMPAIGN_NOT_LAUNCHED", f"The campaign is {status}: launch it first."
    if action == "pause" and control == PAUSED:
        return "CAMPAIGN_ALREADY_PAUSED", "The campaign is paused already."
    if action == "resume" and control != PAUSED:
        return "CAMPAIGN_NOT_PAUSED", "Only a paused campaign can be resumed."
    return None


def control_actions(status: str, control: str) -> list[str]:
    """The control actions the campaign accepts now (what a UI offers as buttons)."""
    return [action for action in ("pause", "resume", "cancel")
            if control_refusal(action, status, control) is None]
