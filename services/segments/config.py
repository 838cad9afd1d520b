"""Segments service configuration, read once from the environment."""
from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.config import SERVICE_PORTS, ServiceConfig, env_field, env_flag

SERVICE = "segments"
PROFILES_QUEUE_PURPOSE = "profiles"
AUDIENCES_QUEUE_PURPOSE = "audiences"


def default_replica_id(env: Mapping[str, str]) -> str:
    """`<hostname>-<port>`: stable across restarts of one replica, so a restart
    reuses its queue (whatever waited there is older than the reload anyway)."""
    port = env.get("SEGMENTS_PORT", str(SERVICE_PORTS[SERVICE]))
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"{socket.gethostname()}-{port}")


def default_snapshot_dir(env: Mapping[str, str]) -> str:
    """`<CRM_VAR_DIR>/segments`; CRM_VAR_DIR defaults to `./var` (`crm up` runs every
    process in the checkout, so that is the checkout's var/)."""
    return str(Path(env.get("CRM_VAR_DIR") or "var").absolute() / SERVICE)


@dataclass(frozen=True)
class SegmentsConfig(ServiceConfig):
    # Events per handler call. Bigger batches coalesce more events of one customer
    # into one write (FerretDB writes are the bottleneck, ~1,000/s).
    projector_batch_size: int = env_field("SEGMENTS_PROJECTOR_BATCH_SIZE", 2000)
    projector_batch_wait: float = env_field("SEGMENTS_PROJECTOR_BATCH_WAIT", 0.2)
    projector_prefetch: int = env_field("SEGMENTS_PROJECTOR_PREFETCH", 4000)
    # Profiles kept in the projector's memory; a miss costs one read by `_id`.
    profile_cache_size: int = env_field("SEGMENTS_PROFILE_CACHE_SIZE", 200_000)
    # How long the projector retries publishing profile.updated before leaving
    # the batch to the outbox relay (it runs in the projector process).
    announce_retry_seconds: float = env_field("SEGMENTS_ANNOUNCE_RETRY_SECONDS", 5.0)
    # Off: publish profile.updated without logging it (SEGMENTS_ANNOUNCE_VIA_LOG=0).
    announce_via_log: bool = env_field("SEGMENTS_ANNOUNCE_VIA_LOG", True)
    relay_interval_seconds: float = env_field("SEGMENTS_RELAY_INTERVAL_SECONDS", 2.0)
    relay_older_than_seconds: float = 5.0
    # The audience index of the API process (audience.py). `index_autostart`: start
    # loading it when the app is created; from_env() turns it on unless
    # SEGMENTS_INDEX_AUTOSTART=0, a config built in code (tests) leaves it off.
    replica_id: str = "local"
    index_autostart: bool = False
    # An unused replica queue (its replica gone) is deleted by the broker after this.
    index_queue_expires_ms: int = env_field("SEGMENTS_INDEX_QUEUE_EXPIRES_MS", 3_600_000)
    index_load_batch: int = env_field("SEGMENTS_INDEX_LOAD_BATCH", 5000)
    index_feed_prefetch: int = 2000
    # Where a graceful stop saves the index for the next start (index_snapshot.py).
    # from_env(): SEGMENTS_SNAPSHOT_DIR, else <CRM_VAR_DIR>/segments; None (a config
    # built in code) saves nothing.
    snapshot_dir: str | None = None
    audience_chunk_size: int = 1000
    # An optional language model for audience descriptions our grammar cannot read
    # (audience/describe_model.py): CRM_AUDIENCE_LLM_URL; empty (the default) is off.
    audience_llm_url: str = ""
    audience_llm_timeout_seconds: float = 10.0
    # How often the API looks for saved segments without today's size (saved/history.py).
    history_interval_seconds: float = 3600.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SegmentsConfig:
        env = os.environ if env is None else env
        return super().from_env(
            env,
            replica_id=env.get("SEGMENTS_REPLICA_ID") or default_replica_id(env),
            index_autostart=env_flag(env.get("SEGMENTS_INDEX_AUTOSTART", "1")),
            snapshot_dir=env.get("SEGMENTS_SNAPSHOT_DIR") or default_snapshot_dir(env),
            audience_llm_url=env.get("CRM_AUDIENCE_LLM_URL", "").strip(),
            audience_llm_timeout_seconds=float(env.get("CRM_AUDIENCE_LLM_TIMEOUT_SECONDS")
                                               or cls.audience_llm_timeout_seconds),
            history_interval_seconds=float(env.get("SEGMENTS_HISTORY_INTERVAL_SECONDS")
                                           or cls.history_interval_seconds),
        )

    @property
    def database_name(self) -> str:
        return self.settings.database_name(SERVICE)

    @property
    def profiles_queue(self) -> str:
        return self.settings.queue_name(SERVICE, PROFILES_QUEUE_PURPOSE)

    @property
    def index_queue(self) -> str:
        """This replica's own queue of profile.updated events."""
        return self.settings.queue_name(SERVICE, f"index.{self.replica_id}")

    @property
    def audiences_queue(self) -> str:
        """The queue of audience.requested shared by every replica (any one answers)."""
        return self.settings.queue_name(SERVICE, AUDIENCES_QUEUE_PURPOSE)
