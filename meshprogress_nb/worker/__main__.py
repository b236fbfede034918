"""``python -m meshprogress_nb.worker run ...``: the same as ``meshprogress-worker``."""

from .cli import main

raise SystemExit(main())
