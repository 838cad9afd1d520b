"""The composition root: the store and the courier thread, built once per process after fork."""
from __future__ import annotations

import os
import threading

from vendor_sim.config import VendorConfig
from vendor_sim.courier import Courier
from vendor_sim.store import VendorStore

from shared.mongo import connect, ping


class VendorContext:
    """What the routes read from `current_app.extensions["vendor_sim"]`.

    The courier thread runs in the process that serves requests, which is why
    vendor-sim must run as ONE gunicorn worker: two workers would each reload
    and report the same unreported messages at start."""

    def __init__(self, config: VendorConfig):
        self.config = config
        self._lock = threading.Lock()
        self._pid = None
        self._built: dict = {}

    @property
    def store(self) -> VendorStore:
        return self._get()["store"]

    @property
    def courier(self) -> Courier:
        return self._get()["courier"]

    def readiness(self) -> dict[str, bool]:
        return {"database": ping(self._get()["client"])}

    def close(self) -> None:
        with self._lock:
            built, self._built, self._pid = self._built, {}, None
        if built:
            built["courier"].stop()
            built["client"].close()

    def _get(self) -> dict:
        with self._lock:
            if self._pid != os.getpid():
                self._built = self._build()
                self._pid = os.getpid()
            return self._built

    def _build(self) -> dict:
        client = connect(self.config.settings)
        store = VendorStore(client[self.config.database_name])
        courier = Courier(self.config, store)
        courier.start()
        return {"client": client, "store": store, "courier": courier}
