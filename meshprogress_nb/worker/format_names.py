"""The mesh file formats the writers know, importable without numpy: the server checks job params against them."""

from __future__ import annotations

from pathlib import Path

FORMATS = ("ply", "stl", "obj")


def mesh_format(path: str | Path) -> str:
    """The format named by ``path``'s suffix; ValueError for a suffix no writer knows."""
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"unknown mesh format {Path(path).suffix!r}: use one of .ply, .stl, .obj")
    return fmt
