"""shared.http's answer to a dependency outage in a service: the database or the broker
unreachable is a 503 DEPENDENCY_UNAVAILABLE with Retry-After; a broker refusing a
declaration is a bug and stays a 500."""
import pytest
from pika.exceptions import AMQPConnectionError, ChannelClosedByBroker, StreamLostError
from pymongo.errors import AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError

from shared.http import service_app


def app_raising(error):
    app = service_app(__name__, "outage-test", lambda: {"database": False})

    @app.get("/work")
    def work():
        raise error

    return app.test_client()


@pytest.mark.parametrize("error, dependency", [
    (ServerSelectionTimeoutError("no servers"), "database"),
    (AutoReconnect("connection reset"), "database"),
    (NetworkTimeout("timed out"), "database"),
    (AMQPConnectionError("refused"), "message broker"),
    (StreamLostError("lost"), "message broker"),
])
def test_a_dependency_outage_is_503_with_retry_after(error, dependency):
    response = app_raising(error).get("/work")
    assert response.status_code == 503
    body = response.get_json()["error"]
    assert body["code"] == "DEPENDENCY_UNAVAILABLE" and dependency in body["message"]
    assert response.headers["Retry-After"] == "5"


def test_a_refused_declaration_is_a_bug_not_an_outage():
    response = app_raising(ChannelClosedByBroker(406, "PRECONDITION_FAILED")).get("/work")
    assert response.status_code == 500
    assert "Retry-After" not in response.headers
