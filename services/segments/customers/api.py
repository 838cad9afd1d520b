"""Customer routes: one profile, the paged list, a customer's orders, and the overview."""
from __future__ import annotations

from urllib.parse import unquote

from flask import Blueprint, current_app, jsonify, request

from segments.audience.preview import IndexNotReady
from segments.customers.reads import (
    business_overview,
    customer_orders,
    find_customer,
    list_customers,
)
from segments.customers.schemas import (
    BusinessOverviewSchema,
    CustomerOrderPageQuerySchema,
    CustomerOrderSchema,
    CustomerPageQuerySchema,
    CustomerProfileSchema,
    business_overview_schema,
    customer_order_schema,
    customer_profile_schema,
    decode_cursor,
    decode_order_cursor,
    encode_cursor,
    encode_order_cursor,
    load_page_query,
)
from segments.projection.profile_store import ProfileStore
from shared.http import ApiError, error_response
from shared.openapi import Operation, page_schema

customers = Blueprint("customers", __name__)

_TAGS = ("customers",)
OPERATIONS = [
    Operation("/api/v1/customers/{external_id}", "get", "One customer's profile",
              response_schema=CustomerProfileSchema, tags=_TAGS,
              description="The customer's fields plus total_spend, order_count, last_order_at "
                          "and last_active_at, once ingest's events are projected "
                          "(normally well under a second after the 202).",
              statuses={200: "The profile", 404: "No such customer (or not projected yet)"}),
    Operation("/api/v1/customers", "get", "List customer profiles",
              query_schema=CustomerPageQuerySchema,
              response_schema=page_schema(CustomerProfileSchema), tags=_TAGS,
              description="Profiles in external_id order; follow `next_cursor` until null.",
              statuses={200: "One page of profiles", 400: "Bad limit or cursor"}),
    Operation("/api/v1/customers/{external_id}/orders", "get", "List one customer's orders",
              query_schema=CustomerOrderPageQuerySchema,
              response_schema=page_schema(CustomerOrderSchema), tags=_TAGS,
              description="The orders counted in the customer's profile, newest placed_at "
                          "first (ties by external_id); follow `next_cursor` until null.",
              statuses={200: "One page of orders", 400: "Bad limit or cursor (INVALID_QUERY, "
                        "INVALID_CURSOR)",
                        404: "No such customer, or not projected yet (CUSTOMER_NOT_FOUND)"}),
    Operation("/api/v1/overview", "get", "The business at a glance",
              response_schema=BusinessOverviewSchema, tags=_TAGS,
              description="Customers, customers with orders, orders and revenue (INR), summed "
                          "over the in-memory audience index: instant at any size. Orders of "
                          "customers not ingested yet are not counted until they are.",
              statuses={200: "The totals",
                        503: "The audience index is still loading (INDEX_LOADING)"}),
]


def _database():
    return current_app.extensions["segments.database"]


def _profiles() -> ProfileStore:
    return _database().profiles()


def _not_found(external_id: str) -> ApiError:
    return ApiError(404, "CUSTOMER_NOT_FOUND",
                    "No customer with this external_id has been projected.",
                    {"external_id": external_id})


@customers.errorhandler(IndexNotReady)
def _index_not_ready(error: IndexNotReady):
    return error_response(503, "INDEX_LOADING", str(error), error.status)


# `path:` so an external_id containing "/" (sent as %2F) still finds its customer.
@customers.get("/api/v1/customers/<path:external_id>")
def get_customer(external_id: str):
    profile = find_customer(external_id, store=_profiles())
    if profile is None:
        raise _not_found(external_id)
    return jsonify(customer_profile_schema.dump(profile))


def _encoded_single_id() -> str | None:
    """The whole external_id when the path as sent has one segment after
    `/customers/`: `c%2Forders` is customer "c/orders", which the decoded path
    cannot tell from the orders of "c" (gunicorn and werkzeug keep the raw path)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    rest = raw.split("?", 1)[0].partition("/api/v1/customers/")[2]
    return unquote(rest) if rest and "/" not in rest else None


@customers.get("/api/v1/customers/<path:external_id>/orders")
def list_customer_orders(external_id: str):
    whole_id = _encoded_single_id()
    if whole_id is not None:
        return get_customer(whole_id)
    query = load_page_query(request.args)
    after = decode_order_cursor(query["cursor"])
    page = customer_orders(external_id, query["limit"], after, profiles=_profiles(),
                           orders=_database().orders())
    if page is None:
        raise _not_found(external_id)
    items, last = page
    return jsonify({"items": customer_order_schema.dump(items, many=True),
                    "next_cursor": encode_order_cursor(last) if last is not None else None})


@customers.get("/api/v1/customers")
def list_customer_profiles():
    query = load_page_query(request.args)
    items, last = list_customers(query["limit"], decode_cursor(query["cursor"]), store=_profiles())
    return jsonify({"items": customer_profile_schema.dump(items, many=True),
                    "next_cursor": encode_cursor(last) if last is not None else None})


@customers.get("/api/v1/overview")
def overview():
    audience = current_app.extensions["segments.audience"]
    return jsonify(business_overview_schema.dump(business_overview(audience=audience)))
