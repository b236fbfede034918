"""The mesher against scikit-image + fast-simplification and VTK's flying edges + quadric decimation, on the same
inputs at equal face counts: mean distance to the analytic surface, wall time, and how far the mesher's reported
progress strays from the elapsed-time fraction. ``python bench/mesher.py [--side 256] [--out docs/...]``.

Inputs: an analytic sphere and torus sampled on ``side``^3 voxels (a linear ramp across the surface, so that the
level-0.5 isosurface is the analytic one to within interpolation), a 512 x 512 height field of known heights, and
the demo's MRI volume (no analytic surface: the error is measured against its full-resolution marching cubes).
Needs the ``[mesher]`` extra and ``vtk``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from meshprogress_nb.samples import head_mri
from meshprogress_nb.worker.geometry import Frame, Geometry, isosurface
from meshprogress_nb.worker.mesher import generate_mesh, import_libraries
from meshprogress_nb.worker.quality import simplification_error
from meshprogress_nb.worker.relief import height_field_solid


class Trace:
    """A reporter that keeps (seconds, percent) pairs: stages laid end to end like an unplanned ProgressReporter."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.points: list[tuple[float, float]] = []
        self.next_start = 0.0

    @contextmanager
    def stage(self, name: str, weight: float | None = None) -> Iterator[Trace]:
        start = self.next_start
        share = (100.0 - start) if weight is None else min(100.0 * weight, 100.0 - start)
        self.next_start = start + share
        self.span = (start, share)
        self.update(0.0)
        yield self
        self.update(1.0)

    def update(self, fraction: float, message: str | None = None) -> None:
        start, share = self.span
        self.points.append((time.perf_counter() - self.started, start + share * fraction))

    def deviation(self) -> float:
        """The largest gap, in points, between the reported percent and the elapsed-time fraction (x 100)."""
        total = self.points[-1][0]
        best = 0.0
        for (t0, p0), (t1, _) in zip(self.points, self.points[1:] + [self.points[-1]], strict=True):
            # Between two reports the bar stands still while time moves on: check both ends of each step.
            best = max(best, abs(p0 - 100 * t0 / total), abs(p0 - 100 * t1 / total))
        return best


# -- inputs ----------------------------------------------------------------------------------------------------


def ramp(distance: np.ndarray) -> np.ndarray:
    """Intensity 0.5 on the surface, rising linearly inside (signed distance > 0), clipped to 0..1."""
    return np.clip(0.5 + distance / 4.0, 0.0, 1.0).astype(np.float32)


def sphere(side: int) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    c, radius = (side - 1) / 2, side * 0.35
    z, y, x = np.ogrid[:side, :side, :side]
    r = np.sqrt((x - c) ** 2 + (y - c) ** 2 + (z - c) ** 2)
    return ramp(radius - r), lambda p: np.abs(np.linalg.norm(p - c, axis=1) - radius)


def torus(side: int) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    c, big, small = (side - 1) / 2, side * 0.28, side * 0.12
    z, y, x = np.ogrid[:side, :side, :side]
    ring = np.sqrt((x - c) ** 2 + (y - c) ** 2) - big
    tube = np.sqrt(ring**2 + (z - c) ** 2)

    def error(p: np.ndarray) -> np.ndarray:
        q = p - c
        return np.abs(np.sqrt((np.hypot(q[:, 0], q[:, 1]) - big) ** 2 + q[:, 2] ** 2) - small)

    return ramp(small - tube), error


def heights(side: int = 512) -> np.ndarray:
    y, x = np.mgrid[0:side, 0:side] / (side - 1)
    return (0.5 + 0.25 * np.sin(6 * x) * np.cos(5 * y) + 0.2 * np.sin(17 * x * y)).astype(np.float32)


# -- pipelines -------------------------------------------------------------------------------------------------


def skimage_fast_simplification(volume: np.ndarray, target: int) -> Geometry:
    import fast_simplification

    surface = isosurface(volume, 0.5, Frame((1.0, 1.0, 1.0)))
    points, faces = fast_simplification.simplify(surface.points, surface.cells, target_count=target)
    return Geometry(points, faces.astype(np.int32))


def vtk_quadric(volume: np.ndarray, target: int) -> Geometry:
    import vtk
    from vtk.util.numpy_support import numpy_to_vtk, vtk_to_numpy

    image = vtk.vtkImageData()
    image.SetDimensions(*volume.shape[::-1])
    image.GetPointData().SetScalars(numpy_to_vtk(volume.ravel(), deep=True))
    edges = vtk.vtkFlyingEdges3D()
    edges.SetInputData(image)
    edges.SetValue(0, 0.5)
    edges.Update()
    full = edges.GetOutput().GetNumberOfCells()
    decimate = vtk.vtkQuadricDecimation()
    decimate.SetInputConnection(edges.GetOutputPort())
    decimate.SetTargetReduction(max(0.0, 1 - target / full))
    decimate.Update()
    out = decimate.GetOutput()
    points = vtk_to_numpy(out.GetPoints().GetData()).astype(np.float64)
    faces = vtk_to_numpy(out.GetPolys().GetConnectivityArray()).reshape(-1, 3)
    return Geometry(points, faces.astype(np.int32))


def ours(path: Path, target: int, workdir: Path, **options: object) -> tuple[Geometry, Trace, float]:
    """The mesher's whole job, its trace and its seconds, run in a fresh process as a worker runs it: this process
    holds VTK and the other inputs' arrays, which made the job's forks slower (its page tables), so its later rows
    deviated by 10-15 points more than the same job in a worker. The process's start and imports are not timed
    (a worker imports the mesher once, before its first job)."""
    import meshio

    out = workdir / f"{path.stem}.vtu"
    options = {"smooth_iterations": 0, **options}  # the baselines mesh the input as it is
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as worker:
        trace, seconds = worker.submit(_job, path, out, target, options).result()
    mesh = meshio.read(out)
    return Geometry(mesh.points, mesh.cells[0].data.astype(np.int32)), trace, seconds


def _job(path: Path, out: Path, target: int, options: dict[str, object]) -> tuple[Trace, float]:
    import_libraries("surface")
    trace = Trace()
    generate_mesh(path, out, trace, target_faces=target, preview=False, **options)  # type: ignore[arg-type]
    return trace, time.perf_counter() - trace.started


def timed(call: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def run(side: int, target: int) -> list[dict[str, object]]:
    import SimpleITK as sitk

    import_libraries("surface")
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for name, (volume, error) in (("sphere", sphere(side)), ("torus", torus(side))):
            path = workdir / f"{name}.nrrd"
            sitk.WriteImage(sitk.GetImageFromArray(volume), str(path))
            row: dict[str, object] = {"input": f"{name} {side}^3", "target": target}
            mesh, trace, seconds = ours(path, target, workdir, levels=[0.5])
            row["ours"] = (len(mesh.cells), float(error(mesh.points).mean()), seconds, trace.deviation())
            for label, pipeline in (("skimage+fast-simplification", skimage_fast_simplification), ("vtk", vtk_quadric)):
                other, seconds = timed(lambda f=pipeline, v=volume: f(v, target))
                row[label] = (len(other.cells), float(error(other.points).mean()), seconds)
            rows.append(row)
            print(json.dumps(row), flush=True)
        rows.append(height_field_row(workdir, target))
        print(json.dumps(rows[-1]), flush=True)
        rows.append(volume_row(head_mri(), workdir, target // 10))
        print(json.dumps(rows[-1]), flush=True)
    return rows


def height_field_row(workdir: Path, target: int) -> dict[str, object]:
    """Errors are the vertical distances of the top's vertices inside the border to the known heights (the walls
    and the base are flat and exact in every pipeline; the graded walls have points above the base too)."""
    import fast_simplification
    import tifffile

    z = heights()
    path = workdir / "heights.tif"
    tifffile.imwrite(path, z[::-1])  # image rows run down; the relief's y runs up
    z = (z - z.min()) / (z.max() - z.min())  # the mesher normalizes the image to 0..1
    side = z.shape[0] - 1
    scale = 0.25  # height_scale: the relief over the 0.05 base, in units of the longer side

    def error(points: np.ndarray) -> np.ndarray:
        inside = (points[:, :2] > 1e-9).all(axis=1) & (points[:, :2] < 1.0 - 1e-9).all(axis=1)
        top = points[inside & (points[:, 2] > 0.05 * 1.0 + 1e-6)]
        i, j = top[:, 1] * side, top[:, 0] * side
        exact = 0.05 + scale * _bilinear(z, i, j)
        return np.abs(top[:, 2] - exact) * side  # in pixels

    row: dict[str, object] = {"input": "height field 512x512", "target": target}
    mesh, trace, seconds = ours(path, target, workdir, mode="heightfield")
    row["ours"] = (len(mesh.cells), float(error(mesh.points).mean()), seconds, trace.deviation())

    def baseline() -> Geometry:
        solid = height_field_solid(0.05 + scale * z, (1.0, 1.0))
        points, faces = fast_simplification.simplify(solid.points, solid.cells, target_count=target)
        return Geometry(points, faces.astype(np.int32))

    other, seconds = timed(baseline)
    row["skimage+fast-simplification"] = (len(other.cells), float(error(other.points).mean()), seconds)
    return row


def volume_row(path: Path, workdir: Path, target: int) -> dict[str, object]:
    """The MRI: the error of each simplification against the same full-resolution surface, in millimetres."""
    import meshio

    full_out = workdir / "mri-full.vtu"
    generate_mesh(path, full_out, target_faces=50_000_000, preview=False)
    full_mesh = meshio.read(full_out)
    full = Geometry(full_mesh.points, full_mesh.cells[0].data.astype(np.int32))
    row: dict[str, object] = {"input": "head MRI 128x96x24 (the demo's sample)", "target": target}
    mesh, trace, seconds = ours(path, target, workdir, smooth_iterations=8)
    row["ours"] = (len(mesh.cells), simplification_error(full, mesh, "")["mean_error"], seconds, trace.deviation())
    import fast_simplification

    # The baseline decimates the same full-resolution surface the mesher made.
    other, seconds = timed(lambda: fast_simplification.simplify(full.points, full.cells, target_count=target))
    simplified = Geometry(other[0], other[1].astype(np.int32))
    row["skimage+fast-simplification"] = (
        len(simplified.cells),
        simplification_error(full, simplified, "")["mean_error"],
        seconds,
    )
    return row


def _bilinear(z: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    i0 = np.clip(np.floor(i).astype(int), 0, z.shape[0] - 2)
    j0 = np.clip(np.floor(j).astype(int), 0, z.shape[1] - 2)
    di, dj = i - i0, j - j0
    return (
        z[i0, j0] * (1 - di) * (1 - dj)
        + z[i0 + 1, j0] * di * (1 - dj)
        + z[i0, j0 + 1] * (1 - di) * dj
        + z[i0 + 1, j0 + 1] * di * dj
    )


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| input | pipeline | faces | mean error | seconds | progress deviation (points) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        for pipeline in ("ours", "skimage+fast-simplification", "vtk"):
            if pipeline in row:
                faces, err, seconds, *dev = row[pipeline]  # type: ignore[misc]
                deviation = f"{dev[0]:.1f}" if dev else ""
                lines.append(f"| {row['input']} | {pipeline} | {faces:,} | {err:.4f} | {seconds:.2f} | {deviation} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", type=int, default=256)
    parser.add_argument("--target", type=int, default=20_000)
    args = parser.parse_args()
    print(table(run(args.side, args.target)))


if __name__ == "__main__":
    main()
