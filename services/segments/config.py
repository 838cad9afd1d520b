"""Segments service configuration, read once from the environment."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.config import Settings

SERVICE = "segments"
PROFILES_QUEUE_PURPOSE = "profiles"


@dataclass(frozen=True)
class SegmentsConfig:
    settings: Settings = field(default_factory=Settings)
    # Events per handler call. Bigger batches coalesce more events of one customer
    # into one write (FerretDB writes are the bottleneck, ~1,000/s).
    projector_batch_size: int = 2000
    projector_batch_wait: float = 0.2
    projector_prefetch: int = 4000
    # Profiles kept in the projector's memory; a miss costs one read by `_id`.
    profile_cache_size: int = 200_000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SegmentsConfig:
        env = os.environ if env is None else env
        return cls(
            settings=Settings.from_env(env),
            projector_batch_size=int(env.get("SEGMENTS_PROJECTOR_BATCH_SIZE", cls.projector_batch_size)),
            projector_batch_wait=float(env.get("SEGMENTS_PROJECTOR_BATCH_WAIT", cls.projector_batch_wait)),
            projector_prefetch=int(env.get("SEGMENTS_PROJECTOR_PREFETCH", cls.projector_prefetch)),
            profile_cache_size=int(env.get("SEGMENTS_PROFILE_CACHE_SIZE", cls.profile_cache_size)),
        )

    @property
    def database_name(self) -> str:
        return self.settings.database_name(SERVICE)

    @property
    def profiles_queue(self) -> str:
        return self.settings.queue_name(SERVICE, PROFILES_QUEUE_PURPOSE)
