"""A tiny fault-injecting TCP proxy for integration tests (toxiproxy is not available).

    with FaultProxy("127.0.0.1", 5672) as proxy:
        url = f"amqp://guest:guest@127.0.0.1:{proxy.port}/%2F"
        ...
        proxy.cut()        # reset every open connection (both sides)
        proxy.refuse()     # stop listening: new connections are refused
        proxy.accept()     # listen again on the same port
        proxy.delay = 0.2  # every chunk, both ways, waits 0.2 s (0: full speed)

One thread accepts; each connection gets two pumping threads. Cutting sets
SO_LINGER 0 before closing, so both peers see a reset at once instead of a
slow FIN handshake the client might not notice until its next write.
"""
from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Self

_LINGER_RESET = struct.pack("ii", 1, 0)


def _reset(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        # SHUT_RD wakes a pump blocked in recv() on Linux without sending anything;
        # close() then sends the RST because of the zero linger.
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int,
                 listen_host: str = "127.0.0.1", listen_port: int = 0):
        self.upstream = (upstream_host, upstream_port)
        self.host = listen_host
        self.port = listen_port
        self.accepted = 0  # connections accepted so far (reconnects show up here)
        self.delay = 0.0  # seconds each chunk waits before it is passed on: a slow link
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._closed = False

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> FaultProxy:
        self.accept()
        return self

    def stop(self) -> None:
        self._closed = True
        self.refuse()
        self.cut()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    # -- faults --------------------------------------------------------------
    def accept(self) -> None:
        """Listen (again) on the proxy's port and forward new connections."""
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, self.port))
            listener.listen(64)
            listener.settimeout(0.05)
            self.port = listener.getsockname()[1]
            self._listener = listener
            self._acceptor = threading.Thread(target=self._accept_loop, args=(listener,),
                                              name=f"faultproxy-{self.port}", daemon=True)
            self._acceptor.start()

    def refuse(self) -> None:
        """Stop listening: new connections are refused (open ones keep working)."""
        with self._lock:
            listener, self._listener = self._listener, None
            acceptor, self._acceptor = self._acceptor, None
        if listener is not None:
            listener.close()
        if acceptor is not None:
            acceptor.join(timeout=2)

    def cut(self) -> int:
        """Reset every open connection; returns how many were cut."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, upstream in pairs:
            _reset(client)
            _reset(upstream)
        return len(pairs)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def wait_for_connections(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until at least `count` connections were accepted in total."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.accepted >= count:
                return True
            time.sleep(0.01)
        return self.accepted >= count

    # -- pumping -------------------------------------------------------------
    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # listener closed by refuse()
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    _reset(client)
                    _reset(upstream)
                    return
                self._pairs.append((client, upstream))
                self.accepted += 1
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target, (client, upstream)),
                                 daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, pair) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if self.delay:
                    time.sleep(self.delay)
                target.sendall(data)
        except OSError:
            pass
        # One side ended: end the other too, the way a real network path would.
        with self._lock:
            if pair in self._pairs:
                self._pairs.remove(pair)
        for sock in pair:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass
