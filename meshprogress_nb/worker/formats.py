"""Writers of binary PLY, binary STL and OBJ files, in chunks so the write stage can report its progress."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .meshes import Mesh

FORMATS = ("ply", "stl", "obj")
CHUNK = 65536
Progress = Callable[[float], None]


def write_mesh(mesh: Mesh, path: Path, progress: Progress = lambda _: None) -> None:
    """Write ``mesh`` in the format named by ``path``'s suffix."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"unknown mesh format {path.suffix!r}: use one of .ply, .stl, .obj")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as f:
        {"ply": _ply, "stl": _stl, "obj": _obj}[fmt](mesh, f, progress)
    partial.replace(path)  # readers never see a half-written file


def _chunks(total: int) -> range:
    return range(0, max(total, 1), CHUNK)


def _ply(mesh: Mesh, f, progress: Progress) -> None:  # noqa: ANN001
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment meshprogress-nb\n"
        f"element vertex {len(mesh.vertices)}\nproperty float x\nproperty float y\nproperty float z\n"
        f"element face {len(mesh.faces)}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    f.write(header.encode("ascii"))
    f.write(mesh.vertices.astype("<f4").tobytes())
    record = np.dtype([("n", "u1"), ("v", "<i4", (3,))])
    total = len(mesh.faces)
    for start in _chunks(total):
        part = mesh.faces[start : start + CHUNK]
        rows = np.empty(len(part), dtype=record)
        rows["n"], rows["v"] = 3, part
        f.write(rows.tobytes())
        progress(min(1.0, (start + len(part)) / max(total, 1)))


def _stl(mesh: Mesh, f, progress: Progress) -> None:  # noqa: ANN001
    f.write(b"meshprogress-nb binary STL".ljust(80, b" "))
    f.write(np.uint32(len(mesh.faces)).tobytes())
    record = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attributes", "<u2")])
    normals = mesh.normals()
    total = len(mesh.faces)
    for start in _chunks(total):
        part = mesh.faces[start : start + CHUNK]
        rows = np.zeros(len(part), dtype=record)
        rows["normal"] = normals[start : start + CHUNK]
        rows["corners"] = mesh.vertices[part]
        f.write(rows.tobytes())
        progress(min(1.0, (start + len(part)) / max(total, 1)))


def _obj(mesh: Mesh, f, progress: Progress) -> None:  # noqa: ANN001
    f.write(b"# meshprogress-nb\n")
    np.savetxt(f, mesh.vertices, fmt="v %.6f %.6f %.6f")
    total = len(mesh.faces)
    for start in _chunks(total):
        part = mesh.faces[start : start + CHUNK]
        np.savetxt(f, part + 1, fmt="f %d %d %d")
        progress(min(1.0, (start + len(part)) / max(total, 1)))
