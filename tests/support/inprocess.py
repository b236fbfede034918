"""A jupyter-server with the extension, run in a thread of the test process: the fast tier's server.

Same configuration and interface as :class:`support.server.HubServer` (``url``, ``ws_url``, ``stop()``), but it
starts in a fraction of the time, since the test process has already imported everything. Tests that kill,
restart or measure a server's process keep using ``HubServer``.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any

from jupyter_server.serverapp import ServerApp

from support.server import HubServer


class InProcessHub(HubServer):
    def __init__(self, root: Path, **kwargs: Any) -> None:
        super().__init__(root, **kwargs)
        self._app: ServerApp | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.process = _ThisProcess()

    def start(self, timeout: float = 120.0) -> InProcessHub:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                app = ServerApp()
                app.init_signal = lambda: None  # type: ignore[method-assign]  # signals belong to the main thread
                app.initialize(
                    argv=[
                        "--no-browser",
                        "--allow-root",
                        "--ServerApp.ip=127.0.0.1",
                        f"--ServerApp.port={self.port}",
                        "--ServerApp.port_retries=0",
                        f"--ServerApp.config_file={self._config()}",
                    ],
                    find_extensions=False,  # only the extension under test: a quicker start
                )
                self._app = app
                app.start_app()
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            loop.call_soon(ready.set)
            app.start_ioloop()
            loop.close()

        self._thread = threading.Thread(target=run, name=f"hub-{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("the in-process jupyter server did not start")
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._app is None or self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._app.stop)
        self._thread.join(60)
        ServerApp.clear_instance()
        self._app = None

    def kill(self) -> None:
        raise NotImplementedError("an in-process server cannot be killed: use support.server.HubServer")


class _ThisProcess:
    """Stands in for ``Popen`` where tests read the server's pid (its memory): the test process itself."""

    pid = os.getpid()

    def poll(self) -> None:
        return None
