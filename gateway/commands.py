"""`crm api-keys ...`: create, list and revoke API keys.

`create` prints the new key alone as the last line of standard output (the
explanation goes to standard error), so scripts can take it with `tail -n 1`.
"""
from __future__ import annotations

import json
import sys

import click

from gateway.api_keys import DEFAULT_SCOPES, SCOPES, open_store, parse_key
from shared.config import Settings


def _store():
    return open_store(Settings.from_env(), cache_seconds=0)


@click.group("api-keys")
def api_keys() -> None:
    """Manage the API keys that clients send as `Authorization: Bearer <key>`."""


@api_keys.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES),
              help=f"Repeat for several. Default: {' '.join(DEFAULT_SCOPES)} (all but admin).")
@click.option("--rate-limit", type=click.IntRange(min=0), default=None,
              help="Calls per rate window (a minute by default) for this key, 0 for no "
                   "limit. Default: the gateway's CRM_GATEWAY_RATE_LIMIT.")
def create(name: str, scopes: tuple[str, ...], rate_limit: int | None) -> None:
    """Create a key called NAME and print it (shown only this once)."""
    store = _store()
    try:
        plaintext = store.create(name, list(scopes) or None, rate_limit=rate_limit)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    finally:
        store.close()
    chosen = " ".join(scopes) or " ".join(DEFAULT_SCOPES)
    click.echo(f"Created API key {plaintext.split('_')[1]} ({name}) with scopes: {chosen}.",
               err=True)
    click.echo("Store it now: it cannot be shown again.", err=True)
    click.echo(plaintext)


@api_keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of a table.")
def list_keys(as_json: bool) -> None:
    """List keys (ids, names, scopes, state; never the secrets)."""
    store = _store()
    try:
        keys = store.list()
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(keys, default=str, indent=2))
        return
    if not keys:
        click.echo("No API keys yet: create one with `crm api-keys create NAME`.")
        return
    click.echo(f"{'KEY ID':<18}{'STATE':<9}{'CREATED':<22}{'NAME':<24}SCOPES")
    for key in keys:
        state = "active" if key["active"] else "revoked"
        created = key["created_at"].strftime("%Y-%m-%d %H:%M:%S") if key["created_at"] else "-"
        click.echo(f"{key['key_id']:<18}{state:<9}{created:<22}{key['name'][:23]:<24}"
                   f"{' '.join(key['scopes'])}")


@api_keys.command("revoke")
@click.argument("key_id")
def revoke(key_id: str) -> None:
    """Revoke the key KEY_ID (the id shown by `list`, or the whole key).

    Gateway processes stop accepting it within their key cache time (5 s by default).
    """
    parsed = parse_key(key_id)
    key_id = parsed[0] if parsed else key_id  # never echo a secret back
    store = _store()
    try:
        found = store.revoke(key_id)
    finally:
        store.close()
    if not found:
        click.echo(f"No API key with id {key_id}.", err=True)
        sys.exit(1)
    click.echo(f"Revoked API key {key_id}.")
