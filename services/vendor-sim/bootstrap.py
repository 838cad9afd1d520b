"""The composition root: the store and the courier thread, built once per process after fork."""
from __future__ import annotations

from vendor_sim.config import VendorConfig
from vendor_sim.courier import Courier
from vendor_sim.store import VendorStore

from shared.mongo import connect, ping
from shared.wiring import Built, Wiring, close_client


def stop_courier_and_client(built: Built) -> None:
    # The courier reports through the store: stop it before its client goes.
    built["courier"].stop()
    close_client(built)


class VendorContext:
    """What the routes read from `current_app.extensions["vendor_sim"]`.

    The courier thread runs in the process that serves requests, which is why
    vendor-sim must run as ONE gunicorn worker: two workers would each reload
    and report the same unreported messages at start."""

    def __init__(self, config: VendorConfig):
        self.config = config
        self._wiring = Wiring(self._build, teardown=stop_courier_and_client)

    @property
    def store(self) -> VendorStore:
        return self._wiring["store"]

    @property
    def courier(self) -> Courier:
        return self._wiring["courier"]

    def readiness(self) -> dict[str, bool]:
        return {"database": ping(self._wiring["client"])}

    def close(self) -> None:
        self._wiring.close()

    def _build(self) -> Built:
        client = connect(self.config.settings)
        store = VendorStore(client[self.config.database_name])
        courier = Courier(self.config, store)
        courier.start()
        return {"client": client, "store": store, "courier": courier}
