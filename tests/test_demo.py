"""The headless demo: a server in the background, a batch of real mesh jobs, live progress in the terminal."""

from __future__ import annotations

import io
from pathlib import Path

import trimesh

from meshprogress_nb.__main__ import main
from meshprogress_nb.demo import run_headless, workspace


def test_headless_demo_meshes_every_sample_and_lists_the_files(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_headless(tmp_path / "demo", out=out) == 0
    text = out.getvalue()
    assert "Submitted batch" in text and "Batch completed: 3 completed, 0 failed" in text
    assert text.count("completed") >= 3  # a line per mesh as it completes
    files = sorted((tmp_path / "demo" / ".data" / "meshprogress" / "results").glob("*.ply"))
    assert len(files) == 3 and all(str(f) in text for f in files)
    assert all(trimesh.load(f).is_watertight for f in files)


def test_workspace_holds_the_images_and_the_notebook(tmp_path: Path) -> None:
    root = workspace(tmp_path / "w")
    assert len(list((root / "images").glob("*.png"))) == 3
    assert (root / "demo.ipynb").is_file()


def test_command_line_parses_demo_options(tmp_path: Path) -> None:
    assert main(["demo", "--headless", "--dir", str(tmp_path / "cli")]) == 0
