"""``meshprogress-worker run``: one mesh job from the command line, for Slurm or any batch system, reporting to
the hub; ``meshprogress-worker mesh INPUT -o OUT.vtu``: the same mesher with no hub, a progress bar in the terminal.

The job's identity comes from options or from the environment a dispatcher sets: ``MESHPROGRESS_JOB_ID``,
``MESHPROGRESS_CALLBACK_TOKEN`` (prefer the variable: options are visible to other users in ``ps``) and
``MESHPROGRESS_CALLBACK_URL``. Exit status: 0 completed, 1 failed (including bad arguments, a refused token, or
SIGTERM), 2 cancelled on the hub.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from .reporter import ENV_JOB_ID, ENV_TOKEN, ENV_URL, CallbackAuthError, JobCancelled, ProgressReporter

EXIT_COMPLETED, EXIT_FAILED, EXIT_CANCELLED = 0, 1, 2


class Terminated(Exception):
    """The process got SIGTERM (a batch system's cancel or time limit)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse exits 2 on bad usage, which here means "cancelled": a usage error is a failure.
        self.print_usage(sys.stderr)
        self.exit(EXIT_FAILED, f"{self.prog}: error: {message}\n")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="meshprogress-worker", description=__doc__.split("\n\n")[0])
    commands = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser("run", help="generate one mesh and report its progress to the hub")
    run.add_argument("images", nargs="+", type=Path, help="an image, or the slices of a volume (files or a folder)")
    run.add_argument("--job-id", help=f"the job's id (default: ${ENV_JOB_ID})")
    run.add_argument("--token", help=f"the job's callback token (default: ${ENV_TOKEN})")
    run.add_argument("--callback-url", help=f"where to post progress (default: ${ENV_URL})")
    run.add_argument("--output", type=Path, help="mesh file to write, .ply, .stl or .obj (default: IMAGE.ply)")
    run.add_argument("--result-url", help="URL the hub shows for the result (default: none)")
    run.add_argument("--mode", choices=["heightfield", "isosurface"], help="default: isosurface for 2+ slices")
    run.add_argument("--target-faces", type=int, default=200_000, help="at most this many faces (default: 200000)")
    run.add_argument("--smooth-iterations", type=int, default=8, help="Gaussian smoothing passes (default: 8)")
    run.add_argument("--level", type=float, help="isosurface level in 0..1 (default: Otsu's threshold)")
    run.add_argument("--min-interval", type=float, default=0.2, help="seconds between progress posts (default: 0.2)")
    _mesher_options(run)
    mesh = commands.add_parser("mesh", help="generate one mesh here, with a progress bar (no hub)")
    mesh.add_argument("images", nargs="+", type=Path, help="an image, a volume file, a DICOM folder, or slices")
    mesh.add_argument("-o", "--output", type=Path, required=True, help="mesh file: .vtu .msh .xdmf .ply .stl .obj")
    mesh.add_argument("--mode", choices=["heightfield", "isosurface"], help="default: isosurface for a volume")
    mesh.add_argument("--target-faces", type=int, default=200_000, help="at most this many faces (default: 200000)")
    mesh.add_argument("--smooth-iterations", type=int, default=8, help="Gaussian strength (default: 8)")
    mesh.add_argument("--level", type=float, help="isosurface level in 0..1 (default: Otsu's threshold)")
    _mesher_options(mesh)
    return p


def _mesher_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--kind", choices=["surface", "tetrahedra"], default="surface", help="default: surface")
    command.add_argument("--labels", type=int, nargs="+", help="labels of a label map to mesh (default: all)")
    command.add_argument("--levels", type=float, nargs="+", help="several isosurface levels in 0..1")
    command.add_argument(
        "--edge-length", type=float, help="tetrahedra: edge length over the region's diagonal, 0.01-0.2 (default 0.05)"
    )
    command.add_argument(
        "--remesh", action="store_true", help="isotropic remeshing, for simulation (needs the [remesh] extra)"
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "mesh":
        return mesh_here(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    callback_url = args.callback_url or os.environ.get(ENV_URL)
    job_id = args.job_id or os.environ.get(ENV_JOB_ID)
    token = args.token or os.environ.get(ENV_TOKEN)
    missing = [
        opt for opt, value in (("--job-id", job_id), ("--token", token), ("--callback-url", callback_url)) if not value
    ]
    if not (job_id and token and callback_url):
        print(f"meshprogress-worker: missing {', '.join(missing)} (or their MESHPROGRESS_* variables)", file=sys.stderr)
        return EXIT_FAILED
    return run(args, ProgressReporter(callback_url, job_id, token, args.min_interval))


def run(args: argparse.Namespace, reporter: ProgressReporter) -> int:
    """Generate the mesh under ``reporter``; the exit status."""
    from .mesher import generate_mesh

    output = args.output or _default_output(args.images[0])
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    try:
        with reporter:
            reporter.update(0, "Starting")
            result = generate_mesh(
                args.images,
                output,
                reporter,
                mode=args.mode,
                **_mesher_kwargs(args),
            )
            reporter.complete(
                result_url=args.result_url, message=f"{result.faces} faces written", quality=result.quality
            )
    except JobCancelled as exc:
        print(f"meshprogress-worker: stopped: {exc}", file=sys.stderr)
        return EXIT_CANCELLED
    except CallbackAuthError as exc:
        print(f"meshprogress-worker: failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:
        print(f"meshprogress-worker: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    if reporter.cancelled:  # the completion itself was answered 409: the hub had cancelled the job meanwhile
        print("meshprogress-worker: stopped: the hub cancelled the job before it completed", file=sys.stderr)
        return EXIT_CANCELLED
    print(f"{result.path} ({result.vertices} vertices, {result.faces} faces)")
    return EXIT_COMPLETED


def mesh_here(args: argparse.Namespace) -> int:
    """Generate the mesh in this process, drawing its progress with tqdm; the exit status."""
    from .mesher import generate_mesh
    from .terminal import TerminalProgress

    try:
        with TerminalProgress() as progress:
            result = generate_mesh(args.images, args.output, progress, mode=args.mode, **_mesher_kwargs(args))
    except Exception as exc:
        print(f"meshprogress-worker: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(summary(result.path, result.quality))
    return EXIT_COMPLETED


def summary(path: Path, quality: dict[str, Any]) -> str:
    """One line of the result's headline figures."""
    units = quality.get("units", "")
    angle = (
        f"min dihedral {quality['min_dihedral_deg']:.1f} deg"
        if "min_dihedral_deg" in quality
        else f"min angle {quality.get('min_angle_deg', 0):.1f} deg"
    )
    closed = "watertight" if quality.get("watertight") else "NOT watertight"
    return (
        f"{path}: {quality.get('cells', 0)} {quality.get('kind', '')} cells, {closed}, "
        f"volume {quality.get('volume', 0):.6g} {units}^3, area {quality.get('surface_area', 0):.6g} {units}^2, {angle}"
    )


def _mesher_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "kind": args.kind,
        "labels": args.labels,
        "levels": args.levels,
        "level": args.level,
        "target_faces": args.target_faces,
        "smooth_iterations": args.smooth_iterations,
        **({"edge_length": args.edge_length} if args.edge_length is not None else {}),
        **({"remesh": True} if args.remesh else {}),
    }


def _default_output(first: Path) -> Path:
    return first.parent / f"{first.name}.ply" if first.is_dir() else first.with_suffix(".ply")


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated(f"terminated by {signal.Signals(signum).name}")


if __name__ == "__main__":
    raise SystemExit(main())
