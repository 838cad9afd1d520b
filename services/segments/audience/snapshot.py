"""A replica's audience index saved at a graceful stop and taken back once at its next start.

A snapshot is the index as it stood when the replica's feed (index_feed.py)
stopped applying `profile.updated`: every message acked before it is in the
index. It replaces the full read of the profiles (minutes at a million) only
when nothing that happened since can be missing from `index + queue`:

- the replica queue existed before the new process declared it, so it
  survived the downtime (not expired) and holds every update since the last
  ack (the file is written while the old process still holds the queue's
  exclusive consumer, and kept only if it still holds it after the rename);
- nobody consumed that queue since: every process that begins consuming it
  records a new consumer id in the database first (store.ReplicaConsumers),
  and the snapshot must carry the one still recorded; besides, such a
  process deletes the file (`discard`), and a loaded file is deleted at once;
- the profiles were not rebuilt meanwhile (`crm replay profiles` may reset
  versions): the snapshot carries the profiles generation (store.py,
  `ProfilesGeneration`) its index was built from, which must still be the
  database's.

File: `<dir>/<replica queue>.snapshot` (the queue name holds the prefix and the
replica id), a pickled header then the pickled index (protocol 5; our own
file, never someone else's: unpickling runs code). Written to a temporary
file, fsynced, then renamed over the old one, so a reader sees a whole file or none.
"""
from __future__ import annotations

import logging
import os
import pickle
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from segments.audience.index import AudienceIndex

log = logging.getLogger(__name__)

FORMAT = 3  # 2: the index holds each profile's orders (order windows); 3: ids and emails in arenas


@dataclass(frozen=True)
class Restored:
    index: AudienceIndex
    generation: str
    seconds: float


class IndexSnapshot:
    """The snapshot file of one replica queue in `directory`."""

    def __init__(self, directory: str | os.PathLike, queue: str):
        self.directory = Path(directory)
        self.queue = queue
        self.path = self.directory / f"{queue}.snapshot"

    def exists(self) -> bool:
        return self.path.exists()

    def write(self, index: AudienceIndex, generation: str, consumer: str) -> dict:
        """Save `index` (built from profiles `generation`, fed by the queue consumer
        recorded as `consumer`); returns what was written."""
        started = time.monotonic()
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f"{self.path.name}.tmp-{os.getpid()}")
        header = {"format": FORMAT, "queue": self.queue, "generation": generation,
                  "consumer": consumer, "written_at": datetime.now(UTC).isoformat(),
                  "index_size": len(index)}
        try:
            with open(temporary, "wb") as file:
                pickle.dump(header, file, protocol=5)
                index.dump(file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _fsync_directory(self.directory)
        return {**header, "bytes": self.path.stat().st_size,
                "seconds": round(time.monotonic() - started, 2)}

    def take(self, generation: str, consumer: str | None) -> tuple[Restored | None, str]:
        """The index saved for profiles `generation` by the queue's last recorded
        `consumer`, or None and why not. The file is deleted whatever the outcome:
        a snapshot is good for one start only."""
        started = time.monotonic()
        try:
            file = open(self.path, "rb")  # noqa: SIM115 (closed below, after the unlink)
        except FileNotFoundError:
            return None, "no snapshot"
        try:
            header = pickle.load(file)  # noqa: S301 (our own file)
            refused = _refusal(header, self.queue, generation, consumer)
            if refused:
                return None, refused
            index = _load_index(file)
        except Exception as error:  # a truncated or foreign file: read the database instead
            return None, f"unreadable snapshot ({error!r})"
        finally:
            file.close()
            self.path.unlink(missing_ok=True)
        return Restored(index, generation, round(time.monotonic() - started, 2)), "restored"

    def prune(self, older_than_seconds: float) -> None:
        """Delete the other snapshots here untouched for longer than a replica queue
        outlives its replica (x-expires): their queues are gone, so no start can use
        them (suites run under test leave one per run). Deleting a snapshot is
        always safe: the worst it costs is a full read."""
        cutoff = time.time() - older_than_seconds
        for path in self.directory.glob("*.snapshot*"):
            try:
                if path != self.path and path.stat().st_mtime < cutoff:
                    path.unlink()
                    log.info("stale index snapshot deleted", extra={"path": str(path)})
            except OSError:
                pass  # gone meanwhile, or not ours to delete

    def discard(self, why: str) -> None:
        """Delete the snapshot (and any temporary file a killed writer left)."""
        for path in [self.path, *self.directory.glob(f"{self.path.name}.tmp-*")]:
            try:
                path.unlink()
                log.info("index snapshot deleted", extra={"path": str(path), "reason": why})
            except FileNotFoundError:
                pass
            except OSError as error:
                log.warning("index snapshot not deleted",
                            extra={"path": str(path), "error": repr(error)})


def _load_index(file) -> AudienceIndex:
    """The index AudienceIndex.dump wrote (our own file: pickle runs code)."""
    index = pickle.load(file)  # noqa: S301
    if not isinstance(index, AudienceIndex):
        raise TypeError(f"not an audience index: {type(index).__name__}")
    return index


def _refusal(header, queue: str, generation: str, consumer: str | None) -> str | None:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        return "snapshot of another format"
    if header.get("queue") != queue:
        return f"snapshot of another queue ({header.get('queue')})"
    if header.get("generation") != generation:
        return (f"profiles rebuilt since the snapshot (generation {header.get('generation')}, "
                f"now {generation})")
    if consumer is None or header.get("consumer") != consumer:
        return "another process consumed the replica queue since the snapshot"
    return None


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (a crash right after must not bring back the old file)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
