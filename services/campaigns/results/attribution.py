"""Attribution of orders to campaigns, without I/O: which orders count, and the
day-by-day sums a campaign's results are read from.

An order counts for a campaign when its customer was in the campaign's
audience (messaged in some variant, or held out) and it was placed after the
campaign's launch and less than MAX_WINDOW_DAYS days after it, whenever it was
accepted. Its `day` is the whole days between launch and placed_at, so the
results of a window of w days are the sums over days 0 .. w-1.

Per group (holdout or variant) and day the sums are: `orders`, `revenue`,
`first` (customers whose first counted order is on that day: cumulated, the
customers converted), and `squares`, the part of the sum of squared revenue
per customer that becomes due on that day. A customer's revenue within w days
is R = a1 + a2 + ...; R^2 = sum of a_i^2 plus 2 a_i a_j over each pair, and the
pair term is due once both orders are inside the window, on the later order's
day. So adding an order (day d, amount a) to a customer with earlier-known
orders (d_k, a_k) adds a^2 at d and 2 a a_k at max(d, d_k): the Welch interval
then needs no per-customer read, for any window, in any arrival order.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

MAX_WINDOW_DAYS = 90
DAY = timedelta(days=1)
SUMS = ("first", "orders", "revenue", "squares")
NOT_LAUNCHED = frozenset({"draft", "scheduled", "failed"})


def as_utc(moment: datetime | str | None) -> datetime | None:
    """An aware UTC datetime (the database gives naive UTC; events give ISO text)."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def launched_at_of(campaign: dict) -> datetime | None:
    """When the campaign launched (None: not launched, or it never got an audience)."""
    if campaign.get("status") in NOT_LAUNCHED:
        return None
    return as_utc(campaign.get("launched_at") or campaign.get("created_at"))


def day_after_launch(launched_at: datetime, placed_at: datetime) -> int | None:
    """The order's day in the campaign's window, None when it cannot count."""
    if placed_at <= launched_at:
        return None
    day = int((placed_at - launched_at) / DAY)
    return day if day < MAX_WINDOW_DAYS else None


def empty_sums() -> dict[str, list]:
    return {name: [0] * MAX_WINDOW_DAYS if name in ("first", "orders")
            else [0.0] * MAX_WINDOW_DAYS for name in SUMS}


class CampaignConversions:
    """One campaign's counted orders, in memory, and the sums they make."""

    def __init__(self, campaign_id: str, launched_at: datetime):
        self.campaign_id = campaign_id
        self.launched_at = launched_at
        self.order_ids: set[str] = set()
        self._customers: dict[str, list[tuple[int, float]]] = {}
        self._group_of: dict[str, str] = {}  # a customer's group never changes
        self.groups: dict[str, dict[str, list]] = {}

    def group_of(self, customer: str) -> str | None:
        """The group of a customer with an order counted already (None: none yet)."""
        return self._group_of.get(customer)

    def add(self, order_id: str, customer: str, group: str, day: int, amount: float) -> bool:
        """Count the order (False: it counts already; an order counts once per campaign)."""
        if order_id in self.order_ids:
            return False
        self.order_ids.add(order_id)
        self._group_of[customer] = group
        sums = self.groups.setdefault(group, empty_sums())
        earlier = self._customers.setdefault(customer, [])
        sums["orders"][day] += 1
        sums["revenue"][day] += amount
        sums["squares"][day] += amount * amount
        for other_day, other_amount in earlier:
            sums["squares"][max(day, other_day)] += 2 * amount * other_amount
        first = min((other_day for other_day, _ in earlier), default=None)
        if first is None or day < first:
            if first is not None:
                sums["first"][first] -= 1
            sums["first"][day] += 1
        earlier.append((day, amount))
        return True

    def summary(self) -> dict:
        return {"groups": self.groups, "orders": len(self.order_ids)}


def window_totals(sums: dict[str, list] | None, window_days: int) -> dict:
    """A group's converted, orders, revenue and revenue_squares within the window,
    and its cumulative converted customers at the end of each day."""
    sums = sums or empty_sums()
    by_day, running = [], 0
    for count in sums["first"][:window_days]:
        running += count
        by_day.append(running)
    return {"converted": running, "orders": sum(sums["orders"][:window_days]),
            "revenue": float(sum(sums["revenue"][:window_days])),
            "revenue_squares": float(sum(sums["squares"][:window_days])),
            "converted_by_day": by_day}
