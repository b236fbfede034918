"""The mesh file formats the writers know, importable without numpy: the server checks job params against them."""

from __future__ import annotations

from pathlib import Path

SURFACE_FORMATS = ("ply", "stl", "obj")
VOLUME_FORMATS = ("vtu", "msh", "xdmf")  # also hold triangles; the only ones that hold tetrahedra
FORMATS = SURFACE_FORMATS + VOLUME_FORMATS


def mesh_format(path: str | Path) -> str:
    """The format named by ``path``'s suffix; ValueError for a suffix no writer knows."""
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        known = ", ".join(f".{name}" for name in FORMATS)
        raise ValueError(f"unknown mesh format {Path(path).suffix!r}: use one of {known}")
    return fmt
