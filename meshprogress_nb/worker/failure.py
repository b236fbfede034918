"""What a failed job tells its owner: the exception's message, readable, without the server's directories.

The owner sees this in widgets and the sidebar; they did not write the worker and must not learn the server's
layout (``/srv/jupyter/alice/tmp/...``). The worker's own log keeps the full exception.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

#: An absolute POSIX path of two or more parts (``/a/b``), not part of a URL (``http://h/a/b``).
_ABSOLUTE = re.compile(r"(?<![\w.:/~-])(?:/[^\s'\"/:,;()\[\]]+){2,}")


def strip_paths(text: str) -> str:
    """``text`` with each absolute path replaced by its file name."""
    return _ABSOLUTE.sub(lambda match: PurePosixPath(match.group(0)).name, text)


def failure_message(exc: BaseException) -> str:
    """The message of ``exc`` for the job's owner: ``No such file or directory: scan.png``, not its repr.

    An ``OSError`` reads as its reason and file name; any other exception as its message, or as its type's name
    when it has none.
    """
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return strip_paths(text)
