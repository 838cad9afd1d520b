"""The `crm` command line.

Each subcommand lives with the code it belongs to and is imported only when
used, so one that is missing or broken does not take the others down.
"""
from __future__ import annotations

import importlib
import subprocess
import sys

import click

# name -> (module, attribute)
COMMANDS = {
    "up": ("crm.stack", "up"),
    "api-keys": ("gateway.commands", "api_keys"),
    "replay": ("crm.replay", "replay"),
    "seed": ("crm.seed", "seed"),
    "servers": ("crm.cli", "servers"),
    "compose": ("crm.compose", "compose"),
}


def _unavailable(name: str, error: Exception) -> click.Command:
    reason = f"{type(error).__name__}: {error}"

    @click.command(name, help=f"(unavailable: {reason})",
                   context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    def command() -> None:
        raise click.ClickException(f"`crm {name}` is not available in this build ({reason})")

    return command


class LazyGroup(click.Group):
    """A group whose commands (`table`: name -> (module, attribute)) are imported only
    when used, so one that is broken does not take the others down."""

    def __init__(self, *args, table: dict[str, tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self._table = table

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._table)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self._table:
            return None
        module_name, attribute = self._table[name]
        try:
            return getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as error:
            return _unavailable(name, error)


@click.group(cls=LazyGroup, table=COMMANDS)
def main() -> None:
    """Event-sourced CRM and campaign engine: run it, seed it, manage its keys."""


@click.command("servers")
@click.argument("action", type=click.Choice(["start", "stop", "status"]))
@click.argument("names", nargs=-1)
def servers(action: str, names: tuple[str, ...]) -> None:
    """Start, stop or show the local FerretDB and RabbitMQ (scripts/servers.sh).

    `stop` stops only servers that `start` started; NAMES narrows it down
    (ferretdb, rabbitmq).
    """
    from crm.stack import SERVERS_SCRIPT

    if not SERVERS_SCRIPT.exists():
        raise click.ClickException(f"{SERVERS_SCRIPT} not found (run from a clone of the repo)")
    sys.exit(subprocess.call(["bash", str(SERVERS_SCRIPT), action, *names]))


if __name__ == "__main__":
    main()
