"""One JupyterLab per test module and a fresh headless Chromium per test, for every browser test.

A module that needs another server (Notebook 7) overrides ``lab``; one that needs other browser flags (software
WebGL) overrides ``chromium_args``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from notebook_ui import start_lab
from playwright.sync_api import Page, expect, sync_playwright

from support.lab import CHROMIUM, CHROMIUM_ARGS, LabServer

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
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=chromium_args)
        page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.on("console", lambda message: message.type == "error" and print("console:", message.text))
        yield page
        browser.close()
