"""The optional language-model reader of audience descriptions (describe.py).

Off unless the operator sets CRM_AUDIENCE_LLM_URL; asked only for text our
own grammar could not read. The URL is any HTTP service the operator runs in
front of a model: it receives POST {"text", "language"} (`language` is the
rule language in short, so the service can prompt with it) and answers
{"rules": node}. Whatever it answers goes through the same validator as a
client's rules; a slow, failing or wrong answer is simply no answer, and the
grammar's unread spans stand.
"""
from __future__ import annotations

import logging

import requests

from segments.rules.language import FIELDS

LOG = logging.getLogger(__name__)


def rule_language() -> str:
    fields = "; ".join(f"{name} ({kind}: {', '.join(ops)})"
                       for name, (kind, ops) in FIELDS.items())
    return ('A rule is {"all": [rule, ...]}, {"any": [rule, ...]}, {"not": rule} or '
            '{"field": F, "op": OP, "value": V}. Fields and operators: ' + fields +
            '. Durations are like "90d", "12w", "3mo", "1y"; dates are ISO.')


class ModelReader:
    def __init__(self, url: str, timeout_seconds: float = 10.0, session=None):
        self.url, self.timeout = url, timeout_seconds
        self.session = session or requests.Session()

    def read(self, text: str) -> dict | None:
        try:
            answer = self.session.post(self.url, json={"text": text, "language": rule_language()},
                                       timeout=self.timeout)
            answer.raise_for_status()
            rules = answer.json().get("rules")
        except (requests.RequestException, ValueError, AttributeError) as error:
            LOG.warning("audience description model did not answer: %s", error)
            return None
        return rules if isinstance(rules, dict) else None


def model_reader(url: str, timeout_seconds: float = 10.0) -> ModelReader | None:
    """None (no model) unless the operator gave a URL (CRM_AUDIENCE_LLM_URL)."""
    return ModelReader(url, timeout_seconds) if url else None
