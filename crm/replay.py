"""`crm replay <read model>`: rebuild a projection from its owner's event log.

Each replay lives with the service that owns the projection and is imported
only when used, so one that is broken does not take the others down.
"""
from __future__ import annotations

import importlib

import click

# name -> (module, attribute)
REPLAYS = {
    "profiles": ("segments.projection.replay", "profiles_command"),
    "deliveries": ("receipts.commands", "deliveries_command"),
}


class _Replays(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(REPLAYS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in REPLAYS:
            return None
        module_name, attribute = REPLAYS[name]
        try:
            return getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as error:
            from crm.cli import _unavailable

            return _unavailable(name, error)


@click.group(cls=_Replays)
def replay() -> None:
    """Rebuild read models from the event log (profiles, deliveries)."""
