"""``meshprogress-worker mesh``: no hub, a tqdm bar on the terminal, the headline figures at the end."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import meshio
from volumes import two_labels, write_itk

from meshprogress_nb.worker.terminal import TerminalProgress


def test_the_mesh_command_needs_no_hub(tmp_path: Path) -> None:
    source = write_itk(two_labels(), tmp_path / "labels.nii.gz")
    run = subprocess.run(
        [sys.executable, "-m", "meshprogress_nb.worker", "mesh", str(source), "-o", str(tmp_path / "out.vtu")],
        capture_output=True,
        encoding="utf-8",  # tqdm's bar is drawn in block characters, whatever the locale
        errors="replace",
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "LANG": "C.UTF-8"},
    )
    assert run.returncode == 0, run.stderr
    assert "100%" in run.stderr  # tqdm draws on stderr
    assert "watertight" in run.stdout and "mm^3" in run.stdout
    assert sorted(set(meshio.read(tmp_path / "out.vtu").cell_data["label"][0])) == [3, 7]
    assert (tmp_path / "out.preview.ply").is_file()


def test_a_bad_input_fails_with_status_1(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "meshprogress_nb.worker", "mesh", str(tmp_path / "none.nrrd"), "-o", "x.vtu"],
        capture_output=True,
        encoding="utf-8",  # tqdm's bar is drawn in block characters, whatever the locale
        errors="replace",
        timeout=60,
    )
    assert run.returncode == 1 and "no such file" in run.stderr


def test_the_bar_lays_stages_end_to_end_and_never_goes_back() -> None:
    out = io.StringIO()
    with TerminalProgress(file=out) as progress:
        with progress.stage("load", 0.25) as st:
            st.update(0.5)
            st.update(0.2)
        assert progress.done == 25
        with progress.stage("rest") as st:
            st.update(0.5, "halfway")
        assert progress.done == 100
    assert "rest" in out.getvalue()
