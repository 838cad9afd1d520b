"""A WSGI app served for real on a free local port: integration tests talk HTTP
to a vendor simulator, a webhook or a stand-in exactly as the services do."""
from __future__ import annotations

import threading

from werkzeug.serving import make_server


class ServedApp:
    """`app` on a threaded server in a daemon thread; `url` has no trailing slash."""

    def __init__(self, app):
        # Port 0: concurrent test runs on one machine never collide.
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
