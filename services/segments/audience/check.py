"""An audience checked before a launch (campaigns' preflight), counted over the index.

`check(index, rule, now, fields, with_ids)` answers, for the audience a launch
would stream now:

- `matched`: every member;
- `excluded`: `unsubscribed` (marketing_consent), then `suppressed` among the
  rest: the same waterfall order as campaigns/exclusions.py, which decides the
  launch, so a customer is counted once, for the first cause;
- `eligible`: the members left, who the campaign may still cap or hold out;
- `empty`: per template field, how many eligible members have it empty as
  campaigns/domain.field_value sees it (missing, blank text, no tags (or only a blank one); for
  `first_name` a blank `name`), so the message would use the fallback or print
  nothing;
- with `with_ids`: `eligible_ids` and, per field, `empty_ids`, so campaigns
  can apply its cap and holdout (which need the campaign) and count the lint
  over exactly the customers a launch would message.

Numpy over the columns (text emptiness once per distinct value, gathered by
code): no per-customer Python work except for `phone`, which the index keeps
as a plain list, and for building the id lists.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np

from segments.audience.columns import MISSING
from segments.rules.language import Rule
from segments.rules.values import CONSENT_VALUES

# Template fields (campaigns.domain.TEMPLATE_FIELDS) never empty for a member.
NEVER_EMPTY = ("external_id", "unsubscribe_url")
_UNSUBSCRIBED = CONSENT_VALUES.index("unsubscribed")


def check(index, rule: Rule, now: datetime, fields: list[str], with_ids: bool = False) -> dict:
    return index.read_audience(rule, now, lambda audience, columns, ids: _counted(
        audience, columns, ids, fields, with_ids))


def _counted(audience: np.ndarray, columns: dict, ids: list, fields: list[str],
             with_ids: bool) -> dict:
    n = len(audience)
    unsubscribed = audience & (columns["marketing_consent"].codes[:n] == _UNSUBSCRIBED)
    suppressed = audience & ~unsubscribed & columns["suppressed"].values[:n]
    eligible = audience & ~unsubscribed & ~suppressed
    empties = {field: eligible & _empty(columns, field, n) for field in dict.fromkeys(fields)}
    answer = {"matched": int(np.count_nonzero(audience)),
              "excluded": {"unsubscribed": int(np.count_nonzero(unsubscribed)),
                           "suppressed": int(np.count_nonzero(suppressed))},
              "eligible": int(np.count_nonzero(eligible)),
              "empty": {field: int(np.count_nonzero(mask)) for field, mask in empties.items()}}
    if with_ids:
        answer["eligible_ids"] = _ids(eligible, ids)
        answer["empty_ids"] = {field: _ids(mask, ids) for field, mask in empties.items()}
    return answer


def _ids(mask: np.ndarray, ids: list) -> list[str]:
    return [ids[row] for row in np.flatnonzero(mask).tolist()]


def _empty(columns: dict, field: str, n: int) -> np.ndarray:
    """Per row, is the field empty as a message would render it?"""
    if field in NEVER_EMPTY:
        return np.zeros(n, dtype=bool)
    column = columns["name" if field == "first_name" else field]
    if hasattr(column, "list_codes"):  # tags: per distinct list, as the message joins it
        blank = np.array([not value or not ", ".join(value) for value in column.lists.values],
                         dtype=bool)
        return blank[column.list_codes[:n]]
    if hasattr(column, "blank"):  # texts in an arena (email, phone)
        return column.blank(n)
    if hasattr(column, "dictionary"):  # text: blank once per distinct value
        blank = np.array([not value.strip() for value in column.dictionary.values], dtype=bool)
        return blank[column.codes[:n]]
    values = getattr(column, "values", None)
    if isinstance(values, np.ndarray) and values.dtype == np.int64:  # times
        return values[:n] == MISSING
    if isinstance(values, np.ndarray):  # numbers
        return np.isnan(values[:n])
    return np.array([value is None or not str(value).strip() for value in values[:n]],
                    dtype=bool)  # shown-only (phone)
