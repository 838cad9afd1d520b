"""Settings shared by every process, read once from the environment."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Self

SERVICE_PORTS = {
    "gateway": 8000,
    "ingest": 8001,
    "segments": 8002,
    "campaigns": 8003,
    "vendor_sim": 8004,
    "receipts": 8005,
}


def _service_urls(env: Mapping[str, str]) -> dict[str, str]:
    urls = {}
    for service, default_port in SERVICE_PORTS.items():
        key = service.upper()
        port = env.get(f"{key}_PORT", str(default_port))
        urls[service] = env.get(f"{key}_URL", f"http://127.0.0.1:{port}").rstrip("/")
    return urls


@dataclass(frozen=True)
class Settings:
    mongo_url: str = "mongodb://127.0.0.1:27017"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    db_prefix: str = "crm"
    exchange: str = "crm.events"
    dead_letter_exchange: str = "crm.dead"
    queue_prefix: str = ""
    log_level: str = "INFO"
    production: bool = False
    # >0: every queue we declare is deleted by the broker after this long unused
    # (`x-expires`). For test and benchmark runs sharing a long-lived broker,
    # whose per-run queues would otherwise pile up; never set in production,
    # where an idle queue (and its dead letters) must outlive any outage.
    queue_expires_ms: int = 0
    # >0: every quorum queue we declare gets members on this many broker nodes
    # (`x-quorum-initial-group-size`; docs/cluster.md). 0 leaves the argument out,
    # as queues declared before it existed were: RabbitMQ refuses (406) a queue
    # declared again with an argument it was not created with.
    quorum_group_size: int = 0
    service_urls: dict[str, str] = field(default_factory=lambda: _service_urls({}))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        queue_prefix = env.get("CRM_QUEUE_PREFIX", cls.queue_prefix)
        return cls(
            mongo_url=env.get("MONGO_URL", cls.mongo_url),
            amqp_url=env.get("AMQP_URL", cls.amqp_url),
            db_prefix=env.get("CRM_DB_PREFIX", cls.db_prefix),
            # Exchanges carry the queue prefix too: two suites sharing one broker
            # (tests, benchmarks, a developer's `crm up`) never see each other's events.
            exchange=env.get("CRM_EXCHANGE", queue_prefix + cls.exchange),
            dead_letter_exchange=env.get("CRM_DEAD_LETTER_EXCHANGE",
                                         queue_prefix + cls.dead_letter_exchange),
            queue_prefix=queue_prefix,
            log_level=env.get("CRM_LOG_LEVEL", cls.log_level).upper(),
            production=env.get("CRM_ENV", "development").lower() == "production",
            queue_expires_ms=int(env.get("CRM_QUEUE_EXPIRES_MS", cls.queue_expires_ms)),
            quorum_group_size=int(env.get("CRM_QUORUM_GROUP_SIZE", cls.quorum_group_size)),
            service_urls=_service_urls(env),
        )

    @property
    def amqp_urls(self) -> list[str]:
        """The broker nodes to try: AMQP_URL may list a cluster's nodes, comma-separated
        (a comma inside one URL is written %2C)."""
        return [url.strip() for url in self.amqp_url.split(",") if url.strip()]

    def database_name(self, service: str) -> str:
        return f"{self.db_prefix}_{service}"

    def queue_name(self, service: str, purpose: str) -> str:
        return f"{self.queue_prefix}{service}.{purpose}"


def env_int(name: str, default: int, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    return int(env.get(name, default))


def env_flag(value: str) -> bool:
    """An on/off variable: off is 0, false, no, off or empty (any case); anything else is on."""
    return value.strip().lower() not in ("0", "false", "no", "off", "")


def env_field(variable: str, default: Any) -> Any:
    """A config field that `ServiceConfig.from_env` reads from the environment variable
    `variable`, as the field's declared type (int, float, bool: env_flag, str), else `default`.

    Fields are declared, not derived from their names: one without env_field stays a
    constant that no deployment can change by accident."""
    return field(default=default, metadata={"env": variable})


# A config module says `from __future__ import annotations`, so its fields' types are strings.
_PARSERS = {"int": int, "float": float, "bool": env_flag, "str": str}


def fields_from_env(config_class: type, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Each env_field of a config dataclass whose variable is set, parsed as its type."""
    env = os.environ if env is None else env
    return {f.name: _PARSERS[f.type](env[f.metadata["env"]])
            for f in dataclasses.fields(config_class)
            if "env" in f.metadata and f.metadata["env"] in env}


@dataclass(frozen=True)
class ServiceConfig:
    """What a process's config holds beyond its own fields (declared with env_field)."""
    settings: Settings = field(default_factory=Settings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **values: Any) -> Self:
        """The settings and every env_field from the environment; keyword `values` (fields
        read some other way, or `settings=...` in tests) win."""
        env = os.environ if env is None else env
        return cls(**{"settings": Settings.from_env(env), **fields_from_env(cls, env), **values})
