"""Writers of binary PLY, binary STL and OBJ text, in chunks so the write stage can report its progress.

Files are written next to their destination and renamed into place, so a reader never sees half a mesh.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .format_names import mesh_format
from .meshes import Mesh

CHUNK = 65536
Progress = Callable[[float], None]


def write_mesh(mesh: Mesh, path: str | Path, progress: Progress = lambda _: None) -> Path:
    """Write ``mesh`` in the format named by ``path``'s suffix; ``progress`` gets the fraction written."""
    path = Path(path)
    writer = {"ply": _ply, "stl": _stl, "obj": _obj}[mesh_format(path)]
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb") as f:
            writer(mesh, f, progress)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)  # left only if writing failed (or was cancelled)
    return path


def _chunks(total: int) -> range:
    return range(0, total, CHUNK)


def _ply(mesh: Mesh, f: BinaryIO, progress: Progress) -> None:
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
        progress((start + len(part)) / total)


def _stl(mesh: Mesh, f: BinaryIO, progress: Progress) -> None:
    f.write(b"meshprogress-nb binary STL".ljust(80, b" "))
    f.write(np.uint32(len(mesh.faces)).astype("<u4").tobytes())
    record = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attributes", "<u2")])
    total = len(mesh.faces)
    for start in _chunks(total):
        part = Mesh(mesh.vertices, mesh.faces[start : start + CHUNK])
        rows = np.zeros(len(part.faces), dtype=record)
        rows["normal"] = part.normals()
        rows["corners"] = mesh.vertices[part.faces]
        f.write(rows.tobytes())
        progress((start + len(part.faces)) / total)


def _obj(mesh: Mesh, f: BinaryIO, progress: Progress) -> None:
    # One %-format over a whole chunk runs in C: several times faster than np.savetxt's line-by-line loop.
    f.write(b"# meshprogress-nb\n")
    total = len(mesh.vertices) + len(mesh.faces)
    done = 0
    for rows, line in ((mesh.vertices, "v %.6f %.6f %.6f\n"), (mesh.faces + 1, "f %d %d %d\n")):
        for start in _chunks(len(rows)):
            part = rows[start : start + CHUNK]
            f.write((line * len(part) % tuple(part.ravel().tolist())).encode("ascii"))
            done += len(part)
            progress(done / total)
