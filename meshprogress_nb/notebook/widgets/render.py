"""A still picture (PNG) of a finished job's mesh, for kernel mode (VS Code, Colab), where no three.js view can run.

Drawn in the kernel from the decimated preview (at most 100,000 triangles): numpy projects and shades the faces
(flat, lit from the viewer's side) and sorts them far to near, Pillow fills them (the painter's algorithm). Both
come with the mesher's dependencies. No OpenGL is needed (pyrender, VTK: OpenGL or a large install, for one
picture per job), and matplotlib's mplot3d, tried first, took 15-25 s for 100,000 triangles here against about
1 s for this. Labelled regions (a ``label`` per vertex) get the browser's palette, Tableau 10.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

#: The mesh's grey when it has no labels (the browser's too).
SURFACE = (0xA9 / 255, 0xB4 / 255, 0xC2 / 255)
#: Tableau 10, the colours of labelled regions in the browser too (labextension/src/previewinfo.ts).
PALETTE = (
    np.array(
        [
            [0x4E, 0x79, 0xA7],
            [0xF2, 0x8E, 0x2B],
            [0xE1, 0x57, 0x59],
            [0x76, 0xB7, 0xB2],
            [0x59, 0xA1, 0x4F],
            [0xED, 0xC9, 0x48],
            [0xB0, 0x7A, 0xA1],
            [0xFF, 0x9D, 0xA7],
            [0x9C, 0x75, 0x5F],
            [0xBA, 0xB0, 0xAC],
        ]
    )
    / 255
)
#: Camera angles in degrees: looking down on a z-up mesh at an angle, as the browser's first view does.
ELEVATION, AZIMUTH = 35.0, -55.0


def triangles(mesh: Any) -> np.ndarray:
    """The mesh's triangles as vertex indices, shape (n, 3)."""
    parts = [np.asarray(block.data) for block in mesh.cells if block.type == "triangle"]
    return np.concatenate(parts) if parts else np.empty((0, 3), dtype=int)


def face_colors(mesh: Any, faces: np.ndarray) -> np.ndarray:
    """RGB per face: a region's colour from its first vertex's ``label``, or the plain grey."""
    labels = mesh.point_data.get("label")
    if labels is None or len(np.unique(labels)) < 2:
        return np.tile(SURFACE, (len(faces), 1))
    return PALETTE[np.asarray(labels, dtype=np.int64)[faces[:, 0]] % len(PALETTE)]


def render_png(mesh: Any, width: int = 480, height: int = 360, dark: bool = False) -> bytes:
    """The mesh (a ``meshio.Mesh``) drawn from above at an angle, as PNG bytes (transparent, or dark)."""
    from PIL import Image, ImageDraw

    points = np.asarray(mesh.points, dtype=float)
    if points.shape[1] == 2:
        points = np.column_stack([points, np.zeros(len(points))])
    faces = triangles(mesh)
    if len(faces) == 0:
        raise ValueError("the mesh has no triangles to draw")
    view = points @ camera().T  # x right, y up, z towards the viewer
    corners = view[faces]
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    light = 0.35 + 0.65 * np.abs(normals[:, 2])
    colors = (np.clip(face_colors(mesh, faces) * light[:, None], 0, 1) * 255).astype(np.uint8)
    order = np.argsort(corners[:, :, 2].mean(axis=1))  # far faces first: the painter's algorithm

    # Drawn at twice the size and scaled down, for smooth edges.
    big_w, big_h, margin = 2 * width, 2 * height, 0.04
    low, high = view[:, :2].min(axis=0), view[:, :2].max(axis=0)
    scale = (1 - 2 * margin) * min(big_w / max(high[0] - low[0], 1e-12), big_h / max(high[1] - low[1], 1e-12))
    offset = np.array([big_w, big_h]) / 2 - scale * (low + high) / 2
    pixels = corners[:, :, :2] * scale + offset
    pixels[:, :, 1] = big_h - pixels[:, :, 1]
    background = (18, 18, 18, 255) if dark else (0, 0, 0, 0)
    picture = Image.new("RGBA", (big_w, big_h), background)
    draw = ImageDraw.Draw(picture)
    for face in order:
        draw.polygon([tuple(p) for p in pixels[face]], fill=tuple(colors[face]))
    buffer = io.BytesIO()
    picture.resize((width, height), Image.Resampling.LANCZOS).save(buffer, format="PNG")
    return buffer.getvalue()


def camera() -> np.ndarray:
    """Rows: the view's right, up and towards-the-viewer axes, for a z-up mesh seen from ELEVATION, AZIMUTH."""
    elev, azim = np.radians(ELEVATION), np.radians(AZIMUTH)
    towards = np.array([np.cos(elev) * np.cos(azim), np.cos(elev) * np.sin(azim), np.sin(elev)])
    right = np.cross([0.0, 0.0, 1.0], towards)
    right /= np.linalg.norm(right)
    return np.array([right, np.cross(towards, right), towards])
