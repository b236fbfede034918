"""What a test needs from the machine: skipped with the reason locally, a failure in CI.

CI (``CI=true``) installs everything, so a missing Redis, Node.js or Chromium there is a broken set-up that
must not pass as a green run of fewer tests.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(what: str) -> NoReturn:
    reason = f"needs {what}"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, which CI must provide")
    pytest.skip(reason)
