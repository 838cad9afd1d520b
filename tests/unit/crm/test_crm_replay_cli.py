"""`crm replay` offers each service's replay, and a broken one does not hide the others."""
from __future__ import annotations

from click.testing import CliRunner

from crm import replay as replay_module
from crm.cli import main


def test_crm_replay_lists_profiles_and_deliveries():
    result = CliRunner().invoke(main, ["replay", "--help"])
    assert result.exit_code == 0, result.output
    assert "profiles" in result.output and "deliveries" in result.output
    for name, words in (("profiles", "ingest's event log"), ("deliveries", "receipts' event log")):
        help_text = CliRunner().invoke(main, ["replay", name, "--help"])
        assert help_text.exit_code == 0 and words in help_text.output


def test_a_replay_that_cannot_be_imported_is_reported_not_fatal(monkeypatch):
    monkeypatch.setitem(replay_module.REPLAYS, "deliveries", ("receipts.nowhere", "command"))
    broken = CliRunner().invoke(main, ["replay", "deliveries"])
    assert broken.exit_code != 0 and "not available" in broken.output
    assert CliRunner().invoke(main, ["replay", "profiles", "--help"]).exit_code == 0
