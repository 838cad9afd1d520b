"""shared.config.env_field and ServiceConfig.from_env: each field's variable, type, default."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from shared.config import ServiceConfig, Settings, env_field


@dataclass(frozen=True)
class SenderTuning(ServiceConfig):
    batch_size: int = env_field("SENDER_BATCH_SIZE", 500)
    send_rate: float = env_field("SENDER_SEND_RATE", 0.0)
    via_log: bool = env_field("SENDER_VIA_LOG", True)
    secret: str = env_field("CRM_SENDER_SECRET", "dev")
    backoff_seconds: float = 5.0  # deliberately not tunable


def test_each_declared_field_is_read_from_its_variable_as_its_type():
    env = {"SENDER_BATCH_SIZE": "250", "SENDER_SEND_RATE": "12", "SENDER_VIA_LOG": " Off ",
           "CRM_SENDER_SECRET": "s3cret", "CRM_DB_PREFIX": "t1"}
    config = SenderTuning.from_env(env)
    assert (config.batch_size, config.send_rate, config.via_log, config.secret) == (
        250, 12.0, False, "s3cret")
    assert type(config.batch_size) is int and type(config.send_rate) is float
    assert config.settings == Settings.from_env(env)


def test_unset_fields_keep_their_defaults_and_undeclared_fields_are_never_read():
    config = SenderTuning.from_env({"SENDER_BACKOFF_SECONDS": "99"})
    assert (config.batch_size, config.send_rate, config.via_log, config.secret) == (
        500, 0.0, True, "dev")
    assert config.backoff_seconds == 5.0


@pytest.mark.parametrize("value", ["1", "yes", "true", "on"])
def test_a_flag_is_on_unless_it_says_off(value):
    assert SenderTuning.from_env({"SENDER_VIA_LOG": value}).via_log is True


def test_keyword_values_win_over_the_environment():
    settings = Settings(db_prefix="mine")
    config = SenderTuning.from_env({"SENDER_BATCH_SIZE": "250", "CRM_DB_PREFIX": "t1"},
                                   settings=settings, batch_size=7)
    assert config.settings is settings and config.batch_size == 7


def test_a_malformed_number_is_an_error_not_the_default():
    with pytest.raises(ValueError):
        SenderTuning.from_env({"SENDER_BATCH_SIZE": "many"})
