"""The mesh formats, known to the writers and to the server's param check, without numpy on the server."""

from __future__ import annotations

import subprocess
import sys

import pytest

from meshprogress_nb.worker.output_formats import FORMATS, VOLUME_FORMATS, mesh_format


@pytest.mark.parametrize(
    ("path", "fmt"), [("a.ply", "ply"), ("dir/b.STL", "stl"), ("c.obj", "obj"), ("d.vtu", "vtu"), ("e.msh", "msh")]
)
def test_the_suffix_names_the_format(path: str, fmt: str) -> None:
    assert mesh_format(path) == fmt and fmt in FORMATS


def test_the_volume_formats_are_known() -> None:
    assert set(VOLUME_FORMATS) == {"vtu", "msh", "xdmf"} <= set(FORMATS)


@pytest.mark.parametrize("path", ["a.vtk", "noext", "a.ply.gz"])
def test_an_unknown_suffix_is_refused_with_the_known_ones(path: str) -> None:
    with pytest.raises(ValueError, match=r"\.ply, \.stl, \.obj, \.vtu, \.msh, \.xdmf"):
        mesh_format(path)


def test_the_server_side_loads_without_numpy() -> None:
    """A Jupyter server runs the hub and the dispatcher; only workers need the [mesher] extra."""
    code = "import sys, meshprogress_nb.server.app, meshprogress_nb.server.dispatch; print('numpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False"
