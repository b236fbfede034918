"""Where dispatched jobs may read their images from: the server's root and the configured ``source_dirs``.

A source is resolved as the worker would open it (``~`` expanded, relative to the root, symlinks followed) and
must land inside one of those folders. Every refusal reads the same, so that the answer never tells whether a
path outside exists. Standard library only: the job process checks again just before it opens anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

REFUSED = "source must be a path inside the server's root or its configured source_dirs"


class SourceRefused(Exception):
    """The source lies outside every allowed folder (or cannot be resolved at all)."""

    def __init__(self) -> None:
        super().__init__(REFUSED)


class SourceFolders:
    """The allowed folders, resolved once; :meth:`resolve` confines one source (``os.pathsep``-joined parts)."""

    def __init__(self, root: str | Path, extra: Iterable[str | Path] = ()) -> None:
        self.root = Path(os.path.realpath(Path(root).expanduser()))
        self.folders = (self.root, *(Path(os.path.realpath(Path(d).expanduser())) for d in extra if str(d)))

    def resolve(self, source: str) -> str:
        """``source`` with every part resolved to a real absolute path inside an allowed folder."""
        return os.pathsep.join(self._resolve_part(part) for part in source.split(os.pathsep))

    def _resolve_part(self, part: str) -> str:
        if not part.strip() or "\0" in part:
            raise SourceRefused
        try:
            path = Path(part).expanduser()
            resolved = Path(os.path.realpath(path if path.is_absolute() else self.root / path))
        except (OSError, RuntimeError, ValueError) as exc:  # unknown ~user, symlink loops, odd bytes
            raise SourceRefused from exc
        if not any(resolved.is_relative_to(folder) for folder in self.folders):
            raise SourceRefused
        return str(resolved)
