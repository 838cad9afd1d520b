"""`crm seed`: realistic demo customers and orders, posted through the gateway.

The generators are plain functions so tests and benchmarks reuse the same
data: the same `seed` gives the same records (times are relative to `now`).
"""
from __future__ import annotations

import math
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import click
import requests

BATCH = 1000  # the API's limit per request (API.md)
CITIES = {  # city -> rough weight in the customer base
    "Mumbai": 14, "Delhi": 13, "Bengaluru": 12, "Hyderabad": 8, "Chennai": 8, "Pune": 7,
    "Kolkata": 7, "Ahmedabad": 5, "Jaipur": 4, "Lucknow": 3, "Kochi": 3, "Chandigarh": 3,
    "Indore": 3, "Surat": 2, "Nagpur": 2, "Bhopal": 2, "Coimbatore": 2, "Visakhapatnam": 2,
}
TAGS = ["newsletter", "loyalty", "app-user", "vip", "festive-shopper", "first-order-discount",
        "referral", "wholesale", "premium", "sms-opt-in"]
RETRY_STATUSES = {429, 502, 503, 504}
ATTEMPTS = 6


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def generate_customers(n: int, seed: int = 42, prefix: str | None = None,
                       now: datetime | None = None) -> list[dict]:
    """`n` customers with ids `<prefix>c000001`... (prefix defaults to `s<seed>-`)."""
    from faker import Faker

    fake = Faker("en_IN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    prefix = f"s{seed}-" if prefix is None else prefix
    cities, weights = list(CITIES), list(CITIES.values())
    customers = []
    for i in range(1, n + 1):
        first, last = fake.first_name(), fake.last_name()
        signed_up = now - timedelta(days=rng.uniform(1, 3 * 365))
        customer = {
            "external_id": f"{prefix}c{i:06d}",
            "name": f"{first} {last}",
            # The index keeps emails unique however often Faker repeats a name.
            "email": _email_local(f"{first}.{last}.{i}") + "@" + fake.free_email_domain(),
            "phone": f"+91{rng.randint(6_000_000_000, 9_999_999_999)}",
            "city": rng.choices(cities, weights)[0],
            "tags": rng.sample(TAGS, k=rng.choice([0, 1, 1, 2, 2, 3])),
            "signed_up_at": _iso(signed_up),
            "visits": min(int(rng.expovariate(1 / 12)), 500),
        }
        if customer["visits"]:
            customer["last_visit_at"] = _iso(signed_up + (now - signed_up) * rng.random() ** 0.3)
        customers.append(customer)
    return customers


def _email_local(text: str) -> str:
    # Faker's Indian names carry apostrophes and spaces that no mailbox name has.
    return re.sub(r"[^a-z0-9.]", "", text.lower())


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small means of orders per customer.
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def generate_orders(customers: Sequence[dict], avg: float = 3.0, seed: int = 42,
                    prefix: str | None = None, now: datetime | None = None) -> list[dict]:
    """About `avg` orders per customer, placed between sign-up and now, amounts in INR."""
    rng = random.Random(seed + 1)
    now = now or datetime.now(UTC)
    prefix = f"s{seed}-" if prefix is None else prefix
    latest = now - timedelta(minutes=1)  # never in the future, even with clock skew
    orders = []
    for customer in customers:
        signed_up = _parse(customer["signed_up_at"]) if "signed_up_at" in customer else latest
        for _ in range(_poisson(rng, avg)):
            placed = signed_up + (latest - signed_up) * rng.random()
            orders.append({
                "external_id": f"{prefix}o{len(orders) + 1:07d}",
                "customer_external_id": customer["external_id"],
                "amount": round(max(49.0, rng.lognormvariate(math.log(1200), 0.9)), 2),
                "placed_at": _iso(min(placed, latest)),
            })
    return orders


def post_records(session: requests.Session, gateway: str, kind: str, records: Sequence[dict],
                 progress: Callable[[int], None] = lambda done: None) -> tuple[int, int]:
    """POST `records` to /api/v1/<kind> in batches; returns (accepted, rejected)."""
    accepted = rejected = 0
    for start in range(0, len(records), BATCH):
        batch = records[start:start + BATCH]
        body = _post_batch(session, f"{gateway}/api/v1/{kind}", batch)
        if body.get("rejected") and not rejected:  # the first one says what is wrong
            first = body["rejected"][0]
            click.echo(f"\n{kind}: record {start + first['index']} rejected: {first['errors']}",
                       err=True)
        accepted += body.get("accepted", 0)
        rejected += len(body.get("rejected", []))
        progress(start + len(batch))
    return accepted, rejected


def _post_batch(session: requests.Session, url: str, batch: Sequence[dict]) -> dict:
    for attempt in range(ATTEMPTS):
        last = attempt == ATTEMPTS - 1
        try:
            response = session.post(url, json={"records": list(batch)}, timeout=120)
        except requests.ConnectionError as error:
            if last:
                raise click.ClickException(f"cannot reach {url}: {error}") from error
        else:
            if response.status_code in (202, 422):
                return response.json()
            if response.status_code not in RETRY_STATUSES or last:
                raise click.ClickException(
                    f"POST {url} answered {response.status_code}: {response.text[:500]}")
        time.sleep(min(2 ** attempt, 20))
    return {}


class Progress:
    """One self-rewriting line on a terminal, a line per tenth otherwise."""

    def __init__(self, label: str, total: int):
        self.label, self.total = label, total
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.shown_tenth = -1

    def __call__(self, done: int) -> None:
        rate = done / max(time.monotonic() - self.started, 1e-6)
        text = f"{self.label:<9} {done:>9,}/{self.total:,}  ({rate:,.0f}/s)"
        if self.tty:
            click.echo(f"\r{text}", err=True, nl=done >= self.total)
        elif done * 10 // max(self.total, 1) > self.shown_tenth:
            self.shown_tenth = done * 10 // max(self.total, 1)
            click.echo(text, err=True)


def _create_api_key() -> str:
    from gateway.api_keys import open_store
    from shared.config import Settings

    store = open_store(Settings.from_env())
    try:
        return store.create(f"seed-{datetime.now(UTC):%Y%m%d-%H%M%S}", scopes=None)
    finally:
        getattr(store, "close", lambda: None)()


@click.command("seed")
@click.option("--customers", "customers_n", type=click.IntRange(min=0), required=True,
              help="How many customers to create.")
@click.option("--orders-per-customer", "avg", type=click.FloatRange(min=0), default=3.0,
              show_default=True, help="Average orders per customer (Poisson).")
@click.option("--seed", type=int, default=42, show_default=True,
              help="Same seed, same customers and orders (re-seeding updates them).")
@click.option("--gateway", default=None, help="Gateway URL (default: GATEWAY_URL or :8000).")
@click.option("--api-key", envvar="CRM_API_KEY", default=None,
              help="Key to post with (default: CRM_API_KEY, else a new key is created).")
def seed(customers_n: int, avg: float, seed: int, gateway: str | None, api_key: str | None):
    """Post demo customers, then their orders, through the gateway."""
    from shared.config import Settings

    gateway = (gateway or Settings.from_env().service_urls["gateway"]).rstrip("/")
    if not api_key:
        api_key = _create_api_key()
        click.echo("created an API key for seeding", err=True)
    customers = generate_customers(customers_n, seed)
    orders = generate_orders(customers, avg, seed)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api_key}"
    for kind, records in (("customers", customers), ("orders", orders)):
        accepted, rejected = post_records(session, gateway, kind, records,
                                          Progress(kind, len(records)))
        click.echo(f"{kind}: {accepted:,} accepted, {rejected:,} rejected")
