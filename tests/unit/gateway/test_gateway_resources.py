"""The gateway's per-process clients (shared.wiring): built on first use, again after a fork."""
from __future__ import annotations

from gateway.config import GatewayConfig
from gateway.resources import GatewayResources

from shared import wiring


def test_the_http_pool_is_built_once_per_process_and_closed_once(monkeypatch):
    resources = GatewayResources(GatewayConfig())
    pool = resources.http
    assert resources.http is pool
    monkeypatch.setattr(wiring.os, "getpid", lambda: -1)  # as seen from a gunicorn worker
    child_pool = resources.http
    assert child_pool is not pool
    closed = []
    monkeypatch.setattr(child_pool, "close", lambda: closed.append(child_pool))
    resources.close()
    assert closed == [child_pool]
    assert resources.http is not child_pool  # the next use builds again


def test_a_pool_built_before_the_fork_is_left_to_the_parent(monkeypatch):
    resources = GatewayResources(GatewayConfig())
    parent_pool = resources.http
    closed = []
    monkeypatch.setattr(parent_pool, "close", lambda: closed.append(parent_pool))
    monkeypatch.setattr(wiring.os, "getpid", lambda: -1)
    resources.close()
    assert closed == []


def test_provided_clients_stand_in_until_closed():
    resources = GatewayResources(GatewayConfig())
    fake_store, fake_http = object(), object()
    resources.provide(key_store=fake_store)
    resources.provide(http=fake_http)
    assert resources.key_store is fake_store and resources.http is fake_http
    resources.close()
    assert resources.http is not fake_http
    resources.close()
