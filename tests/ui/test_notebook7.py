"""The "Mesh jobs" sidebar in Notebook 7 (which keeps its left area closed): opened from the View menu, it lists
the user's jobs with their id and start time, live."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from support.lab import LabServer
from support.notebook_ui import (
    callback,
    check_batch_members_in_sidebar,
    start_lab,
    write_notebook,
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """Notebook 7 in place of JupyterLab."""
    server = start_lab(tmp_path_factory, "nb7", app="notebook")
    yield server
    server.stop()


def create_mesh(server: LabServer, name: str) -> dict:
    response = httpx.post(
        f"{server.url}meshprogress/api/v1/meshes",
        json={"source": "x.png", "name": name, "dispatch": False},
        params={"token": server.token},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    mesh = response.json()
    return {**mesh["callback"], "job_id": mesh["job_id"], "id": mesh["id"]}


def test_the_sidebar_opens_from_the_view_menu_in_notebook_7(page: Page, lab: LabServer) -> None:
    twins = [create_mesh(lab, "twin"), create_mesh(lab, "twin")]
    write_notebook(Path(lab.root) / "lab.ipynb", "1 + 1")
    page.goto(f"{lab.url}notebooks/lab.ipynb?token={lab.token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    panel = page.locator("#meshprogress-jobs")
    expect(panel).to_be_hidden()

    page.locator(".lm-MenuBar-itemLabel", has_text="View").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Mesh Jobs").first.click()
    expect(panel).to_be_visible(timeout=30_000)
    assert (panel.bounding_box() or {}).get("width", 0) > 150, "the left area opened"

    # Two jobs of one name, told apart by id and start time; live over the cable.
    for twin in twins:
        row = panel.locator(f".mp-JobRow[data-key='mesh:{twin['id']}']")
        expect(row.locator(".mp-JobRow-title")).to_have_text("twin", timeout=30_000)
        expect(row.locator(".mp-JobRow-kind")).to_have_text(re.compile(rf"^Mesh {twin['id']} · .+\d\d:\d\d"))
    callback(twins[0], progress=30, message="meshing")
    row = panel.locator(f".mp-JobRow[data-key='mesh:{twins[0]['id']}']")
    expect(row.locator("[role=progressbar]")).to_have_attribute("aria-valuenow", "30", timeout=15_000)


def test_the_sidebar_expands_a_batch_to_its_members_in_notebook_7(page: Page, lab: LabServer) -> None:
    write_notebook(Path(lab.root) / "members.ipynb", "1 + 1")
    page.goto(f"{lab.url}notebooks/members.ipynb?token={lab.token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="View").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Mesh Jobs").first.click()
    check_batch_members_in_sidebar(page, lab, page.locator("#meshprogress-jobs"))


def test_the_sidebar_pages_through_all_finished_jobs(page: Page, lab: LabServer) -> None:
    """More than a page of finished jobs: "Show more" reveals 20 at a time, reading older REST pages, to the last."""
    api = {"token": lab.token}
    ids = []
    with httpx.Client(base_url=lab.url, params=api, timeout=60) as client:
        for i in range(65):
            mesh = client.post(
                "meshprogress/api/v1/meshes", json={"source": "x.png", "name": f"old {i}", "dispatch": False}
            )
            ids.append(mesh.json()["id"])
            assert client.post(f"meshprogress/api/v1/meshes/{ids[-1]}/cancel").status_code == 200
    write_notebook(Path(lab.root) / "paging.ipynb", "1 + 1")
    page.goto(f"{lab.url}notebooks/paging.ipynb?token={lab.token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="View").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Mesh Jobs").first.click()
    panel = page.locator("#meshprogress-jobs")
    recent = panel.locator("ul[aria-label='Recent jobs'] .mp-JobRow")
    more = panel.locator(".mp-JobsPanel-more")
    expect(recent).to_have_count(20, timeout=30_000)
    shown = 20
    while more.is_visible():
        more.click()
        shown += 20
        expect(recent).to_have_count(min(shown, len(ids)), timeout=30_000)
    keys = {recent.nth(i).get_attribute("data-key") for i in range(recent.count())}
    assert {f"mesh:{i}" for i in ids} <= keys, "every finished job can be reached"
