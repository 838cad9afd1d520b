"""shared.config.numbers_from_env: the env var name, type and default of each tunable field."""
from __future__ import annotations

from dataclasses import dataclass

from shared.config import numbers_from_env


@dataclass(frozen=True)
class SenderTuning:
    batch_size: int = 500
    send_rate: float = 0.0
    backoff_seconds: float = 5.0  # deliberately not tunable


def test_each_named_field_is_read_from_prefix_and_upper_name_as_its_type():
    env = {"SENDER_BATCH_SIZE": "250", "SENDER_SEND_RATE": "12"}
    values = numbers_from_env(SenderTuning, "SENDER_", ("batch_size", "send_rate"), env)
    assert values == {"batch_size": 250, "send_rate": 12.0}
    assert type(values["batch_size"]) is int and type(values["send_rate"]) is float


def test_unset_fields_keep_their_defaults_and_unnamed_fields_are_never_read():
    env = {"SENDER_BACKOFF_SECONDS": "99"}
    values = numbers_from_env(SenderTuning, "SENDER_", ("batch_size", "send_rate"), env)
    assert values == {"batch_size": 500, "send_rate": 0.0}
    assert SenderTuning(**values).backoff_seconds == 5.0
