"""`crm replay <read model>`: rebuild a projection from its owner's event log.

Each replay lives with the service that owns the projection and is imported
only when used, so one that is broken does not take the others down.
"""
from __future__ import annotations

import click

from crm.cli import LazyGroup

# name -> (module, attribute)
REPLAYS = {
    "profiles": ("segments.projection.replay", "profiles_command"),
    "deliveries": ("receipts.commands", "deliveries_command"),
    "attribution": ("campaigns.results.replay", "attribution_command"),
}


@click.group(cls=LazyGroup, table=REPLAYS)
def replay() -> None:
    """Rebuild read models from the event log (profiles, deliveries, attribution)."""


def refuse_while_consumed(settings, queue: str, worker: str, *, force: bool) -> None:
    """A replay rebuilds a projection its live consumer would write at the same time:
    refuse while `queue` has a consumer (`worker` says what to stop), unless forced."""
    from shared.backbone import broker

    consumers = broker.consumer_count(settings, queue)
    if consumers is None:
        click.echo(f"warning: broker unreachable; cannot check that the {worker} is stopped",
                   err=True)
    elif consumers and not force:
        raise click.ClickException(
            f"{consumers} consumer(s) on {queue}: stop the {worker} first, or pass --force")
