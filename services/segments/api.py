"""Customer profile routes: `GET /api/v1/customers/<external_id>` and the paged list."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from marshmallow import ValidationError

from segments.handlers import find_customer, list_customers
from segments.schemas import (
    CustomerPageQuerySchema,
    CustomerProfileSchema,
    customer_page_query_schema,
    customer_profile_schema,
    decode_cursor,
    encode_cursor,
)
from segments.store import ProfileStore
from shared.http import ApiError
from shared.openapi import Operation, page_schema

customers = Blueprint("customers", __name__)

OPERATIONS = [
    Operation("/api/v1/customers/{external_id}", "get", "One customer's profile",
              response_schema=CustomerProfileSchema, tags=("customers",),
              description="The customer's fields plus total_spend, order_count, last_order_at "
                          "and last_active_at, once ingest's events are projected "
                          "(normally well under a second after the 202).",
              statuses={200: "The profile", 404: "No such customer (or not projected yet)"}),
    Operation("/api/v1/customers", "get", "List customer profiles",
              query_schema=CustomerPageQuerySchema,
              response_schema=page_schema(CustomerProfileSchema),
              tags=("customers",),
              description="Profiles in external_id order; follow `next_cursor` until null.",
              statuses={200: "One page of profiles", 400: "Bad limit or cursor"}),
]


def _profiles() -> ProfileStore:
    return current_app.extensions["segments.database"].profiles()


# `path:` so an external_id containing "/" (sent as %2F) still finds its customer.
@customers.get("/api/v1/customers/<path:external_id>")
def get_customer(external_id: str):
    profile = find_customer(external_id, store=_profiles())
    if profile is None:
        raise ApiError(404, "CUSTOMER_NOT_FOUND",
                       "No customer with this external_id has been projected.",
                       {"external_id": external_id})
    return jsonify(customer_profile_schema.dump(profile))


@customers.get("/api/v1/customers")
def list_customer_profiles():
    try:
        query = customer_page_query_schema.load(request.args)
    except ValidationError as error:
        raise ApiError(400, "INVALID_QUERY", "The query parameters are not valid.",
                       {"fields": error.messages}) from error
    items, last = list_customers(query["limit"], decode_cursor(query["cursor"]), store=_profiles())
    return jsonify({"items": customer_profile_schema.dump(items, many=True),
                    "next_cursor": encode_cursor(last) if last is not None else None})
