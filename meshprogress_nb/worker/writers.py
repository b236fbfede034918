"""Mesh files through meshio: VTU, Gmsh MSH and XDMF (with its HDF5 heavy data) for triangles or tetrahedra,
STL and OBJ for surfaces; labels go in as the cell data ``label`` where the format holds cell data. PLY is
written here (binary, little-endian) because meshio's PLY writer drops labels: its vertices carry ``label`` (each
label's surface has vertices of its own, so a face's label is its vertices'; meshio's reader cannot read a face
property after the vertex list).

Files are written into a hidden folder beside their destination and moved into place when complete, so a reader
never sees half a mesh (and XDMF's ``.h5`` companion keeps the name its XML refers to).
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .geometry import Geometry
from .output_formats import SURFACE_FORMATS, mesh_format

MESHIO_NAMES = {"ply": "ply", "stl": "stl", "obj": "obj", "vtu": "vtu", "msh": "gmsh", "xdmf": "xdmf"}


def write_mesh(geometry: Geometry, path: str | Path) -> Path:
    """Write ``geometry`` in the format named by ``path``'s suffix."""
    import meshio

    path = Path(path)
    fmt = mesh_format(path)
    if geometry.kind == "tetra" and fmt in SURFACE_FORMATS:
        raise ValueError(f".{fmt} holds surfaces only: write tetrahedra as .vtu, .msh or .xdmf")
    cell_data = {} if geometry.labels is None or fmt in ("stl", "obj") else {"label": [geometry.labels]}
    if fmt == "msh" and geometry.labels is not None:
        # Gmsh readers group cells by physical tag: give them the labels under the names they look for.
        cell_data = {"gmsh:physical": [geometry.labels], "gmsh:geometrical": [geometry.labels]}
    mesh = meshio.Mesh(
        np.asarray(geometry.points, dtype=np.float64),
        [(geometry.kind, np.asarray(geometry.cells, dtype=np.int32))],
        cell_data=cell_data,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "ply":
        return write_ply(geometry, path, vertex_labels=geometry.labels is not None)
    staging = path.parent / f".{path.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # meshio warns about binary STL and the like
            kwargs: dict[str, Any] = {"binary": True} if fmt in ("ply", "stl") else {}
            if fmt == "msh":
                kwargs = {"file_format": "gmsh22", "binary": True}
            mesh.write(staging / path.name, file_format=kwargs.pop("file_format", MESHIO_NAMES[fmt]), **kwargs)
        main = staging / path.name
        for companion in staging.iterdir():
            if companion != main:
                companion.replace(path.parent / companion.name)
        main.replace(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # left only if writing failed
    return path


def write_ply(surface: Geometry, path: Path, *, vertex_labels: bool = False) -> Path:
    """Binary little-endian PLY of a triangle surface, with an int ``label`` per vertex if asked."""
    header = ["ply", "format binary_little_endian 1.0", "comment meshprogress-nb"]
    header += [f"element vertex {len(surface.points)}"] + [f"property float {axis}" for axis in "xyz"]
    header += ["property int label"] if vertex_labels else []
    header += [f"element face {len(surface.cells)}", "property list uchar int vertex_indices", "end_header"]
    vertices = np.zeros(len(surface.points), [("xyz", "<f4", (3,))] + ([("label", "<i4")] if vertex_labels else []))
    vertices["xyz"] = surface.points
    if vertex_labels and surface.labels is not None:
        vertices["label"][surface.cells.ravel()] = np.repeat(surface.labels, 3)
    faces = np.empty(len(surface.cells), [("n", "u1"), ("v", "<i4", (3,))])
    faces["n"], faces["v"] = 3, surface.cells
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb") as f:
            f.write(("\n".join(header) + "\n").encode("ascii"))
            f.write(vertices.tobytes())
            f.write(faces.tobytes())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path
