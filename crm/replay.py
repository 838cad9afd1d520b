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
    "attribution": ("campaigns.replay_attribution", "attribution_command"),
}


@click.group(cls=LazyGroup, table=REPLAYS)
def replay() -> None:
    """Rebuild read models from the event log (profiles, deliveries, attribution)."""
