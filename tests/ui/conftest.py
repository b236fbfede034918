"""One JupyterLab per test module and a fresh headless Chromium per test, for every browser test.

A module that needs another server (Notebook 7) overrides ``lab``; one that needs other browser flags (software
WebGL) overrides ``chromium_args``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from support.lab import CHROMIUM_ARGS, LabServer
from support.notebook_ui import chromium_page, start_lab

# A loaded CI machine renders late: every expectation without its own timeout waits this long, not Playwright's 5 s.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    server = start_lab(tmp_path_factory, "lab")
    yield server
    server.stop()


@pytest.fixture
def chromium_args() -> list[str]:
    return CHROMIUM_ARGS


@pytest.fixture
def page(lab: LabServer, chromium_args: list[str]) -> Iterator[Page]:
    with chromium_page(chromium_args) as page:
        yield page
