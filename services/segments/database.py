"""The segments service's database for an HTTP process, and the stores over it."""
from __future__ import annotations

import os
import threading

from pymongo import MongoClient
from pymongo.database import Database

from segments.projection.order_store import OrderStore
from segments.projection.profile_store import ProfilesGeneration, ProfileStore, ReplicaConsumers
from segments.saved.store import SegmentStore
from shared import mongo
from shared.config import Settings


class SegmentsDatabase:
    """The service's database for an HTTP process: the client is created on first
    use in each process, so a forking server never shares one across a fork."""

    def __init__(self, settings: Settings, database_name: str):
        self._settings = settings
        self._database_name = database_name
        self._client: MongoClient | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def client(self) -> MongoClient:
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                self._client = mongo.connect(self._settings)
                self._pid = os.getpid()
            return self._client

    def profiles(self) -> ProfileStore:
        return ProfileStore(self.client()[self._database_name])

    def database(self) -> Database:
        return self.client()[self._database_name]

    def profiles_generation(self) -> ProfilesGeneration:
        return ProfilesGeneration(self.database())

    def replica_consumers(self) -> ReplicaConsumers:
        return ReplicaConsumers(self.database())

    def segments(self) -> SegmentStore:
        return SegmentStore(self.database())

    def orders(self) -> OrderStore:
        return OrderStore(self.database())

    def reachable(self) -> bool:
        return mongo.ping(self.client())
