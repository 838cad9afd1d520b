"""The routing table: which service and scope each public call maps to."""
import pytest

from gateway import routes
from gateway.routes import MethodNotAllowed, RouteNotFound, resolve, split_path


def owner(method, path):
    route = resolve(method, split_path(path))
    return route.service, route.scope


@pytest.mark.parametrize("method, path, service, scope", [
    ("POST", "/api/v1/customers", "ingest", "customers:write"),
    ("POST", "/api/v1/orders", "ingest", "customers:write"),
    ("GET", "/api/v1/customers", "segments", "customers:read"),
    ("GET", "/api/v1/customers/c-42", "segments", "customers:read"),
    ("HEAD", "/api/v1/customers/c-42", "segments", "customers:read"),
    ("GET", "/api/v1/customers/c-42/orders", "segments", "customers:read"),
    ("GET", "/api/v1/customers/orders", "segments", "customers:read"),  # a customer "orders"
    ("GET", "/api/v1/overview", "segments", "customers:read"),
    ("GET", "/api/v1/segments", "segments", "segments:read"),
    ("GET", "/api/v1/segments/abc", "segments", "segments:read"),
    ("POST", "/api/v1/segments", "segments", "segments:write"),
    ("POST", "/api/v1/segments/preview", "segments", "segments:write"),
    ("DELETE", "/api/v1/segments/abc", "segments", "segments:write"),
    ("POST", "/api/v1/segments/parse", "segments", "segments:write"),
    ("GET", "/api/v1/segments/abc/explain/c-42", "segments", "customers:read"),
    ("POST", "/api/v1/segments/explain", "segments", "customers:read"),
    ("GET", "/api/v1/segments/explain", "segments", "segments:read"),  # the service's 404/405
    ("GET", "/api/v1/campaigns", "campaigns", "campaigns:read"),
    ("GET", "/api/v1/campaigns/abc/messages", "campaigns", "campaigns:read"),
    ("POST", "/api/v1/campaigns", "campaigns", "campaigns:write"),
    ("post", "/api/v1/campaigns", "campaigns", "campaigns:write"),
])
def test_each_public_call_goes_to_its_owner_with_its_scope(method, path, service, scope):
    assert owner(method, path) == (service, scope)


@pytest.mark.parametrize("path", [
    "/api/v1/unknown",
    "/api/v1/orders/o-1",           # orders are only ingested, never read by id
    "/api/v1/customers/c-1/visits",  # `*` is exactly one segment
    "/api/v1/customers/c-1/orders/o-1",
    "/api/v1/overview/x",
    "/api/v1/segmentsX",
    "/api/v2/segments",
])
def test_paths_nobody_owns_are_not_found(path):
    with pytest.raises(RouteNotFound):
        owner("GET", path)


def test_wrong_method_lists_the_allowed_ones():
    with pytest.raises(MethodNotAllowed) as raised:
        owner("DELETE", "/api/v1/customers")
    assert raised.value.allowed == ["POST", "GET", "HEAD"]
    with pytest.raises(MethodNotAllowed) as raised:
        owner("GET", "/api/v1/orders")
    assert raised.value.allowed == ["POST"]
    with pytest.raises(MethodNotAllowed) as raised:
        owner("POST", "/api/v1/customers/c-1/orders")
    assert raised.value.allowed == ["GET", "HEAD"]
    with pytest.raises(MethodNotAllowed) as raised:
        owner("DELETE", "/api/v1/overview")
    assert raised.value.allowed == ["GET", "HEAD"]


@pytest.mark.parametrize("path", [
    "/api/v1/segments/../customers",
    "/api/v1/segments/./x",
    "/api/v1/campaigns/x/../../../internal",
])
def test_dot_segments_are_refused_so_no_path_escapes_its_scope(path):
    with pytest.raises(RouteNotFound):
        split_path(path)


def test_star_never_matches_an_empty_segment():
    assert not routes.pattern_matches(("api", "v1", "customers", "*"),
                                      ["api", "v1", "customers", ""])
    assert routes.pattern_matches(("api", "v1", "customers", "*"), ["api", "v1", "customers", "x"])


def test_double_star_matches_the_subtree_root_and_below_only():
    pattern = ("api", "v1", "segments", "**")
    assert routes.pattern_matches(pattern, ["api", "v1", "segments"])
    assert routes.pattern_matches(pattern, ["api", "v1", "segments", "a", "b"])
    assert not routes.pattern_matches(pattern, ["api", "v1"])
    assert not routes.pattern_matches(pattern, ["api", "v1", "campaigns"])


def test_every_route_names_a_known_scope_and_service():
    from gateway.api_keys import SCOPES
    from shared.config import SERVICE_PORTS
    for route in routes.ROUTES:
        assert route.scope in SCOPES
        assert route.service in SERVICE_PORTS
    assert routes.services() == ["ingest", "segments", "campaigns"]
