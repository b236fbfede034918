"""Where state lives and how changes fan out: one backend object per server process.

:class:`Backend` is the one interface; :mod:`.redis` shares state between many servers (JupyterHub),
:mod:`.embedded` needs no set-up (SQLite + an in-process broker) and serves one server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Backend, BackendUnavailable, MeshSpec, Subscriber

if TYPE_CHECKING:
    from ..config import MeshProgress

__all__ = ["Backend", "BackendUnavailable", "MeshSpec", "Subscriber", "make_backend"]


def make_backend(config: MeshProgress) -> Backend:
    """The backend the configuration asks for: Redis when ``redis_url`` is set, else embedded."""
    if config.redis_url:
        from .redis import RedisBackend

        return RedisBackend(config.redis_url, prefix=config.redis_prefix)
    from .embedded import EmbeddedBackend

    return EmbeddedBackend(config.database_path)
