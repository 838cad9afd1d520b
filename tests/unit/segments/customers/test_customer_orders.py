"""A customer's orders: written by the projector before profiles, listed newest first, paged."""
from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from segments.app import create_app
from segments.config import SegmentsConfig
from segments.customers.schemas import decode_order_cursor, encode_order_cursor
from segments.projection.handlers import ProfileCache, project_batch
from segments.projection.order_store import order_document
from segments.projection.profiles import apply_event, is_stub

from shared.http import ApiError
from tests.support.profile_events import customer_event, order_event


class Calls(list):
    """What the fake stores were asked to write, in order, across stores."""


class FakeProfiles:
    """projection.profile_store.ProfileStore over a dict (the parts the projector and API use)."""

    def __init__(self, calls: Calls, profiles=()):
        self.calls = calls
        self.documents = {p["_id"]: copy.deepcopy(p) for p in profiles}

    def find(self, external_id):
        return copy.deepcopy(self.documents.get(external_id))

    def find_many(self, external_ids):
        return {i: self.find(i) for i in external_ids}

    def shown(self, external_id):
        profile = self.find(external_id)
        return None if profile is None or is_stub(profile) else profile

    def insert_new(self, profiles):
        self.calls.append(("profiles", [p["_id"] for p in profiles]))
        existed = [p for p in profiles if p["_id"] in self.documents]
        for profile in profiles:
            self.documents.setdefault(profile["_id"], copy.deepcopy(profile))
        return existed

    def replace(self, profiles):
        profiles = list(profiles)
        self.calls.append(("profiles", [p["_id"] for p in profiles]))
        self.documents.update((p["_id"], copy.deepcopy(p)) for p in profiles)


class FakeOrders:
    """segments.projection.order_store.OrderStore over a dict: existing ids are skipped."""

    def __init__(self, calls: Calls, documents=()):
        self.calls = calls
        self.documents = {d["_id"]: copy.deepcopy(d) for d in documents}
        self.reads: list[list[str]] = []

    def insert_new(self, orders):
        self.calls.append(("orders", [o["_id"] for o in orders]))
        new = [o for o in orders if o["_id"] not in self.documents]
        self.documents.update((o["_id"], copy.deepcopy(o)) for o in new)
        return len(new)

    def find_many(self, external_ids):
        self.reads.append(list(external_ids))
        return {i: copy.deepcopy(self.documents.get(i)) for i in external_ids}


def test_the_projector_writes_a_batchs_orders_in_one_insert_before_its_profiles():
    calls = Calls()
    profiles, orders = FakeProfiles(calls), FakeOrders(calls)
    batch = [customer_event("e1", "2024-04-01T00:00:00Z"),
             order_event("o1", 100, "2024-03-01T10:00:00+05:30"),
             order_event("o2", 50.5, "2024-03-02T00:00:00Z", customer="stub"),
             order_event("o1", 100, "2024-03-01T10:00:00+05:30")]  # sent twice in the batch
    project_batch(batch, store=profiles, cache=ProfileCache(10), orders=orders)
    assert calls[0] == ("orders", ["o1", "o2"])
    assert [store for store, _ in calls[1:]] == ["profiles", "profiles"]
    assert orders.documents == {
        "o1": {"_id": "o1", "customer_external_id": "c1", "amount": 100,
               "placed_at": datetime(2024, 3, 1, 4, 30, tzinfo=UTC)},
        "o2": {"_id": "o2", "customer_external_id": "stub", "amount": 50.5,
               "placed_at": datetime(2024, 3, 2, tzinfo=UTC)}}


def test_a_redelivered_batch_leaves_the_same_order_documents():
    calls = Calls()
    profiles, orders = FakeProfiles(calls), FakeOrders(calls)
    batch = [order_event("o1", 100, "2024-03-01T00:00:00Z"),
             order_event("o2", 7, "2024-03-02T00:00:00Z")]
    project_batch(batch, store=profiles, cache=ProfileCache(10), orders=orders)
    before, first_calls = copy.deepcopy(orders.documents), len(calls)
    # A fresh cache, as after a crash: the profiles are unchanged, the orders are
    # offered again (a crash may have come between the two writes) and skipped.
    assert project_batch(batch, store=profiles, cache=ProfileCache(10),
                         orders=orders).written == []
    assert calls[first_calls] == ("orders", ["o1", "o2"]) and orders.documents == before


def test_a_batch_whose_order_insert_fails_writes_no_profile():
    calls = Calls()

    class Down(FakeOrders):
        def insert_new(self, orders):
            raise ConnectionError("database went away")

    profiles = FakeProfiles(calls)
    with pytest.raises(ConnectionError):
        project_batch([order_event("o1", 1, "2024-03-01T00:00:00Z")], store=profiles,
                      cache=ProfileCache(10), orders=Down(calls))
    assert calls == [] and profiles.documents == {}


# --- GET /api/v1/customers/<external_id>/orders -------------------------------------

class FakeDatabase:
    def __init__(self, profiles, orders):
        self.profile_store, self.order_store = profiles, orders

    def profiles(self):
        return self.profile_store

    def orders(self):
        return self.order_store

    def reachable(self):
        return True


def shop(customer_id: str, placed: list[tuple[str, str]]):
    """The customer's profile and order documents, as the projector leaves them."""
    events = [customer_event("e1", "2024-04-01T00:00:00Z", external_id=customer_id)]
    events += [order_event(order_id, 10 + n, at, customer=customer_id)
               for n, (order_id, at) in enumerate(placed)]
    profile = None
    for event in events:
        profile = apply_event(profile, event)
    return profile, [order_document(event["data"]) for event in events[1:]]


@pytest.fixture
def http():
    def make(profiles, orders):
        calls = Calls()
        database = FakeDatabase(FakeProfiles(calls, profiles), FakeOrders(calls, orders))
        app = create_app(SegmentsConfig(index_autostart=False), database=database)
        client = app.test_client()
        client.database = database
        return client
    return make


PLACED = [("o-a", "2024-03-01T00:00:00Z"), ("o-b", "2024-05-01T00:00:00Z"),
          ("o-d", "2024-04-01T00:00:00Z"), ("o-c", "2024-04-01T00:00:00Z"),
          ("o-e", "2024-04-01T00:00:00.001Z"), ("o-f", "2023-12-31T23:59:59.999Z")]
NEWEST_FIRST = ["o-b", "o-e", "o-c", "o-d", "o-a", "o-f"]


def walk(client, path: str, limit: int) -> list[str]:
    seen, cursor = [], None
    for _ in range(50):
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, query_string=query)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        assert len(page["items"]) <= limit
        seen += [item["external_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the cursors never ended")


@pytest.mark.parametrize("limit", [1, 2, 4, 5, 6, 7, 500])
def test_walking_the_cursors_visits_every_order_once_newest_first(http, limit):
    profile, orders = shop("c/1 é", PLACED)
    client = http([profile], orders)
    assert walk(client, "/api/v1/customers/c%2F1%20%C3%A9/orders", limit) == NEWEST_FIRST


def test_an_order_placed_while_walking_neither_repeats_nor_shifts_the_rest(http):
    profile, orders = shop("c1", PLACED)
    client = http([profile], orders)
    first = client.get("/api/v1/customers/c1/orders", query_string={"limit": 2}).get_json()
    newer, documents = shop("c1", [*PLACED, ("o-new", "2024-06-01T00:00:00Z")])
    client.database.profile_store.documents["c1"] = newer
    client.database.order_store.documents["o-new"] = documents[-1]
    rest = client.get("/api/v1/customers/c1/orders",
                      query_string={"limit": 10, "cursor": first["next_cursor"]}).get_json()
    assert [o["external_id"] for o in first["items"] + rest["items"]] == NEWEST_FIRST


def test_items_have_the_contract_shape_and_the_default_limit_is_50(http):
    placed = [(f"o{n:03d}", f"2024-01-01T00:{n // 60:02d}:{n % 60:02d}+05:30") for n in range(60)]
    profile, orders = shop("c1", placed)
    page = http([profile], orders).get("/api/v1/customers/c1/orders").get_json()
    assert len(page["items"]) == 50 and page["next_cursor"] is not None
    assert page["items"][0] == {"external_id": "o059", "amount": 69.0,
                                "placed_at": "2023-12-31T18:30:59.000Z"}


def test_a_customer_without_orders_has_an_empty_list(http):
    profile, _ = shop("c1", [])
    page = http([profile], []).get("/api/v1/customers/c1/orders").get_json()
    assert page == {"items": [], "next_cursor": None}


def test_an_order_id_without_a_document_is_left_out(http):
    profile, orders = shop("c1", PLACED[:2])
    page = http([profile], orders[:1]).get("/api/v1/customers/c1/orders").get_json()
    assert [item["external_id"] for item in page["items"]] == ["o-a"]


def test_unknown_customers_and_stubs_are_404_customer_not_found(http):
    stub = apply_event(None, order_event("o1", 5, "2024-01-01T00:00:00Z", customer="s1"))
    client = http([stub], [order_document(order_event("o1", 5, "2024-01-01T00:00:00Z",
                                                      customer="s1")["data"])])
    for external_id in ("nobody", "s1"):
        response = client.get(f"/api/v1/customers/{external_id}/orders")
        assert response.status_code == 404
        assert response.get_json()["error"] == {
            "code": "CUSTOMER_NOT_FOUND", "details": {"external_id": external_id},
            "message": "No customer with this external_id has been projected."}


@pytest.mark.parametrize("query, code", [
    ({"limit": 0}, "INVALID_QUERY"), ({"limit": 501}, "INVALID_QUERY"),
    ({"limit": "ten"}, "INVALID_QUERY"), ({"cursor": "%%%"}, "INVALID_CURSOR"),
    ({"cursor": "abc"}, "INVALID_CURSOR"),
    ({"cursor": encode_order_cursor((1, "x")) + "AAA"}, "INVALID_CURSOR"),  # 5 base64 letters
    ({"cursor": "1.e!"}, "INVALID_CURSOR"), ({"cursor": "1.5.eA"}, "INVALID_CURSOR"),
    ({"cursor": "WyJhIiwiYiJd"}, "INVALID_CURSOR"),  # no sort time: not a position
])
def test_bad_queries_are_400(http, query, code):
    profile, orders = shop("c1", PLACED)
    response = http([profile], orders).get("/api/v1/customers/c1/orders", query_string=query)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code


def test_order_cursors_round_trip_and_reject_what_they_never_gave():
    for position in ((-1_709_251_200_000, "o1"), (0, "id/with spaces é"), (2 ** 62, "")):
        assert decode_order_cursor(encode_order_cursor(position)) == position
    # Any cursor of the spec's pattern is a place in the list (schemathesis sends them).
    assert decode_order_cursor("-5.YWI") == (-5, "ab")
    assert decode_order_cursor("") is None
    for cursor in ("not base64!", "e30", "WzEsMl0", "WzEuNSwiYSJd"):  # {}, [1,2], [1.5,"a"]
        with pytest.raises(ApiError):
            decode_order_cursor(cursor)


def test_a_customer_whose_id_ends_in_slash_orders_is_still_one_customer(http):
    odd, _ = shop("c/orders", [])
    plain, orders = shop("c", PLACED[:1])
    client = http([odd, plain], orders)
    one = client.get("/api/v1/customers/c%2Forders")
    assert one.status_code == 200 and one.get_json()["external_id"] == "c/orders"
    listed = client.get("/api/v1/customers/c/orders").get_json()
    assert [item["external_id"] for item in listed["items"]] == ["o-a"]


def test_the_openapi_document_describes_the_orders_and_overview_routes(http):
    spec = http([], []).get("/openapi.json").get_json()
    orders = spec["paths"]["/api/v1/customers/{external_id}/orders"]["get"]
    assert {"200", "400", "404"} <= set(orders["responses"])
    assert {"limit", "cursor"} <= {p["name"] for p in orders["parameters"]}
    assert set(spec["paths"]["/api/v1/overview"]["get"]["responses"]) == {"200", "503"}
    assert {"CustomerOrder", "CustomerOrderPage", "BusinessOverview"} <= set(
        spec["components"]["schemas"])
