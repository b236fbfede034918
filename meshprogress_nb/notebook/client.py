"""Notebook-side client of the hub: ``jobs = meshprogress_nb.connect()``, then ``jobs.submit(path)``.

Plain HTTP (standard library) against the hub's REST API, so it works in any kernel, even one busy in a long
cell; the live view is the widget each handle displays.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..models import TERMINAL, Status

API = "meshprogress/api/v1/"


class HubError(Exception):
    """The hub answered with an error: ``status`` is the HTTP code, the message is its ``error``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


@dataclass(frozen=True)
class Server:
    """Where a hub runs and how to authenticate to it."""

    url: str
    token: str = ""


def find_server() -> Server:
    """The server this kernel belongs to: the extension's env vars, JupyterHub's, or Jupyter's runtime files."""
    if os.environ.get("MESHPROGRESS_SERVER_URL"):
        return Server(os.environ["MESHPROGRESS_SERVER_URL"], os.environ.get("MESHPROGRESS_SERVER_TOKEN", ""))
    if os.environ.get("JUPYTERHUB_SERVICE_URL") and os.environ.get("JUPYTERHUB_API_TOKEN"):
        return Server(_slash(os.environ["JUPYTERHUB_SERVICE_URL"]), os.environ["JUPYTERHUB_API_TOKEN"])
    from jupyter_server.serverapp import list_running_servers

    for info in list_running_servers():
        return Server(_slash(info["url"]), info.get("token", ""))
    raise RuntimeError("No running Jupyter server found: pass connect(url=..., token=...)")


def connect(url: str | None = None, token: str | None = None) -> Jobs:
    """The hub of the running Jupyter server (or the one at ``url``)."""
    server = Server(_slash(url), token or "") if url else find_server()
    return Jobs(server)


class Jobs:
    """Creates jobs and batches on the hub and returns handles to them."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        return json.loads(self._fetch(method, path, data)[0])

    def download(self, path: str) -> tuple[bytes, str]:
        """A file route's bytes and the file name its ``Content-Disposition`` gives (``terrain.ply``)."""
        content, headers = self._fetch("GET", path, None, timeout=300)
        match = re.search(r'filename="([^"]+)"', headers.get("Content-Disposition", ""))
        return content, match.group(1) if match else ""

    def _fetch(self, method: str, path: str, data: bytes | None, timeout: float = 30) -> tuple[bytes, Any]:
        request = urllib.request.Request(self.server.url + API + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.server.token:
            request.add_header("Authorization", f"token {self.server.token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read(), response.headers
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", exc.reason)
            except ValueError:
                message = exc.reason
            raise HubError(exc.code, str(message)) from None

    def submit(self, source: str, *, name: str = "", dispatch: bool = True, **params: Any) -> MeshJob:
        """Create a mesh job for ``source`` (a path relative to the server's root, or absolute)."""
        record = self.request(
            "POST", "meshes", {"source": str(source), "name": name, "params": params, "dispatch": dispatch}
        )
        return MeshJob(self, record)

    def submit_batch(self, sources: Iterable[str], *, name: str = "", dispatch: bool = True, **params: Any) -> BatchJob:
        record = self.request(
            "POST",
            "batches",
            {"sources": [str(s) for s in sources], "name": name, "params": params, "dispatch": dispatch},
        )
        return BatchJob(self, record)

    def mesh(self, mesh_id: int) -> MeshJob:
        return MeshJob(self, self.request("GET", f"meshes/{mesh_id}"))

    def batch(self, batch_id: int) -> BatchJob:
        return BatchJob(self, self.request("GET", f"batches/{batch_id}"))

    def list(self, status: str | None = None) -> list[MeshJob]:
        query = f"?status={status}" if status else ""
        return [MeshJob(self, record) for record in self.request("GET", f"meshes{query}")["meshes"]]


class _Handle:
    kind = ""

    def __init__(self, jobs: Jobs, record: dict[str, Any]) -> None:
        self.jobs = jobs
        self.record = record
        self.id: int = record["id"]

    @property
    def status(self) -> str:
        return self.refresh()["status"]

    @property
    def progress(self) -> float:
        return self.refresh()["progress"]

    def refresh(self) -> dict[str, Any]:
        self.record = {**self.record, **self.jobs.request("GET", f"{self.kind}/{self.id}")}
        return self.record

    def cancel(self) -> dict[str, Any]:
        self.record = {**self.record, **self.jobs.request("POST", f"{self.kind}/{self.id}/cancel")}
        return self.record

    def retry(self) -> dict[str, Any]:
        self.record = {**self.record, **self.jobs.request("POST", f"{self.kind}/{self.id}/retry")}
        return self.record

    def wait(self, timeout: float | None = None, poll: float = 0.5) -> str:
        """Block until the job ends; returns its final status. Raises TimeoutError after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = self.status
            if Status(status) in TERMINAL:
                return status
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"{self.kind[:-1]} {self.id} still {status} after {timeout} s")
            time.sleep(poll)

    def widget(self) -> Any:
        """The live widget for this job (each kind its own)."""
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget()._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        # Through the widget's display id, so the saved output's static rendering follows the job to its end.
        self.widget()._ipython_display_()

    def _seeded(self, widget: Any) -> Any:
        """``widget`` holding the state this handle already has, so its first drawing is not "Connecting…"."""
        widget.apply_payload(self.record)
        return widget

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.record.get('status')} {self.record.get('progress')}%>"


class MeshJob(_Handle):
    """A handle on one mesh job."""

    kind = "meshes"

    @property
    def result_url(self) -> str | None:
        return self.refresh().get("result_url")

    def mesh(self, preview: bool = False) -> Any:
        """The job's result as a ``meshio.Mesh``, read through the hub with this kernel's credentials.

        ``preview=True`` reads the decimated copy the browser draws instead (at most 100,000 triangles; a
        ``label`` per vertex when the worker wrote one, in ``point_data``). For trimesh:
        ``trimesh.Trimesh(m.points, m.cells_dict["triangle"])``. Needs ``pip install meshprogress-nb[preview]``.
        """
        import meshio

        content, name = self.jobs.download(f"meshes/{self.id}/{'preview' if preview else 'result'}")
        suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ".ply"
        # meshio reads some formats (STL) from paths only.
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"mesh{suffix}"
            path.write_bytes(content)
            return meshio.read(path)

    def widget(self) -> Any:
        from .widgets import ProgressWidget

        return self._seeded(ProgressWidget(mesh_id=self.id, jobs=self.jobs))


class BatchJob(_Handle):
    """A handle on a batch; ``meshes`` gives handles on its members."""

    kind = "batches"

    @property
    def meshes(self) -> list[MeshJob]:
        return [self.jobs.mesh(mesh_id) for mesh_id in self.record["mesh_ids"]]

    def widget(self) -> Any:
        from .widgets import BatchProgressWidget

        return self._seeded(BatchProgressWidget(batch_id=self.id, jobs=self.jobs))


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
