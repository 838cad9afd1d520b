"""shared.openapi fragments and the gateway's merged document, without servers."""
from marshmallow import Schema, fields

from gateway.openapi import SpecCache, merged_spec
from shared.openapi import Operation, PageQuerySchema, page_schema, spec_for


class SegmentSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)


class NewSegmentSchema(Schema):
    name = fields.String(required=True)
    rules = fields.Dict(required=True)


def segments_fragment():
    return spec_for("Segments", [
        Operation("/api/v1/segments", "post", "Save a segment", NewSegmentSchema, SegmentSchema,
                  {201: "Saved", 400: "Bad rules"}),
        Operation("/api/v1/segments", "get", "List segments",
                  response_schema=page_schema(SegmentSchema), query_schema=PageQuerySchema),
        Operation("/api/v1/segments/{segment_id}", "get", "One segment",
                  response_schema=SegmentSchema,
                  statuses={200: "The segment", 404: "No such segment"}),
        Operation("/internal/rebuild", "post", "Not public"),
    ])


def test_fragment_has_schemas_path_parameters_and_error_bodies():
    spec = segments_fragment()
    assert spec["openapi"].startswith("3.")
    post = spec["paths"]["/api/v1/segments"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NewSegment"}
    assert post["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Segment"}
    assert post["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}
    one = spec["paths"]["/api/v1/segments/{segment_id}"]["get"]
    assert {"in": "path", "name": "segment_id", "required": True,
            "schema": {"type": "string"}} in one["parameters"]
    listing = spec["paths"]["/api/v1/segments"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"limit", "cursor"}
    page = spec["components"]["schemas"]["SegmentPage"]
    assert set(page["properties"]) == {"items", "next_cursor"}
    assert set(spec["components"]["schemas"]["Error"]["properties"]) == {"error"}


def test_merge_keeps_only_routed_operations_and_marks_their_scope():
    spec = merged_spec({"segments": segments_fragment(), "ingest": None, "campaigns": None})
    assert "/internal/rebuild" not in spec["paths"]
    post = spec["paths"]["/api/v1/segments"]["post"]
    assert post["x-required-scope"] == "segments:write"
    assert "segments:write" in post["description"]
    assert {"401", "403", "503", "400", "201"} <= set(post["responses"])
    one_segment = spec["paths"]["/api/v1/segments/{segment_id}"]["get"]
    assert one_segment["x-required-scope"] == "segments:read"


def test_merge_adds_bearer_security_and_leaves_health_open():
    spec = merged_spec({})
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}]
    for path in ("/healthz", "/readyz", "/api/v1/healthz", "/openapi.json", "/api/v1/openapi.json"):
        assert spec["paths"][path]["get"]["security"] == []
    assert "Error" in spec["components"]["schemas"]


def test_missing_services_are_named_not_fatal():
    spec = merged_spec({"segments": segments_fragment(), "ingest": None})
    assert spec["x-missing-services"] == ["ingest", "campaigns"]
    assert "ingest, campaigns" in spec["info"]["description"]
    assert "x-missing-services" not in merged_spec({
        "segments": segments_fragment(), "ingest": {"paths": {}}, "campaigns": {"paths": {}}})


def test_an_operation_routed_elsewhere_is_not_taken_from_the_wrong_service():
    fragment = spec_for("Campaigns", [Operation("/api/v1/segments", "get", "Not mine")])
    spec = merged_spec({"campaigns": fragment})
    assert "/api/v1/segments" not in spec["paths"]


def test_clashing_component_names_are_renamed_and_refs_follow():
    class CustomerSchema(Schema):
        external_id = fields.String(required=True)

    class OtherCustomer(Schema):
        email = fields.String()

    OtherCustomer.__name__ = "CustomerSchema"
    ingest = spec_for("Ingest", [Operation("/api/v1/customers", "post", "Ingest", CustomerSchema,
                                           statuses={202: "Accepted"})])
    segments = spec_for("Segments", [Operation("/api/v1/customers/{external_id}", "get", "Profile",
                                               response_schema=OtherCustomer)])
    spec = merged_spec({"ingest": ingest, "segments": segments})
    schemas = spec["components"]["schemas"]
    assert set(schemas["Customer"]["properties"]) == {"external_id"}
    assert set(schemas["SegmentsCustomer"]["properties"]) == {"email"}
    profile = spec["paths"]["/api/v1/customers/{external_id}"]["get"]
    assert profile["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SegmentsCustomer"}


def test_spec_cache_rebuilds_after_ttl_and_sooner_when_incomplete():
    now = [0.0]
    builds = []

    def build():
        builds.append(now[0])
        return {"x-missing-services": ["ingest"]} if len(builds) == 1 else {}

    cache = SpecCache(ttl=60, clock=lambda: now[0])
    cache.get(build)
    now[0] = 4.9
    cache.get(build)
    assert len(builds) == 1
    now[0] = 5.0
    cache.get(build)
    assert len(builds) == 2
    now[0] = 64.0
    cache.get(build)
    assert len(builds) == 2
    now[0] = 65.0
    cache.get(build)
    assert len(builds) == 3
