"""``meshprogress-worker run``: one mesh job from the command line, for Slurm or any batch system.

Every option also comes from the environment the dispatchers set (``MESHPROGRESS_JOB_ID``,
``MESHPROGRESS_CALLBACK_TOKEN``, ``MESHPROGRESS_CALLBACK_URL``). Exit status: 0 completed, 1 failed,
2 cancelled (or refused by the hub).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from .reporter import CallbackAuthError, JobCancelled, ProgressReporter

EXIT_COMPLETED, EXIT_FAILED, EXIT_CANCELLED = 0, 1, 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="meshprogress-worker", description=__doc__.split("\n\n")[0])
    commands = p.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="generate one mesh and report its progress to the hub")
    run.add_argument("images", nargs="+", type=Path, help="an image, or several slices of a volume")
    run.add_argument("--job-id", default=os.environ.get("MESHPROGRESS_JOB_ID"))
    run.add_argument("--token", default=os.environ.get("MESHPROGRESS_CALLBACK_TOKEN"))
    run.add_argument("--callback-url", default=os.environ.get("MESHPROGRESS_CALLBACK_URL"))
    run.add_argument("--output", type=Path, help="mesh file to write (.ply, .stl or .obj); default: IMAGE.ply")
    run.add_argument("--result-url", help="URL the hub should show for the result (default: none)")
    run.add_argument("--mode", choices=["heightfield", "isosurface"])
    run.add_argument("--target-faces", type=int, default=200_000)
    run.add_argument("--smooth-iterations", type=int, default=20)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    missing = [name for name in ("job_id", "token", "callback_url") if not getattr(args, name)]
    if missing:
        options = ", ".join("--" + name.replace("_", "-") for name in missing)
        print(f"meshprogress-worker: missing {options} (or their MESHPROGRESS_* variables)", file=sys.stderr)
        return EXIT_FAILED
    from .mesher import generate_mesh

    output = args.output or args.images[0].with_suffix(".ply")
    reporter = ProgressReporter(args.callback_url, args.job_id, args.token)
    try:
        with reporter:
            reporter.update(0, "Starting")
            result = generate_mesh(
                args.images,
                output,
                reporter,
                mode=args.mode,
                target_faces=args.target_faces,
                smooth_iterations=args.smooth_iterations,
            )
            reporter.complete(result_url=args.result_url, message=f"{result.faces} faces written")
    except (JobCancelled, CallbackAuthError) as exc:
        print(f"meshprogress-worker: stopped: {exc}", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as exc:
        print(f"meshprogress-worker: failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{result.path} ({result.vertices} vertices, {result.faces} faces)")
    return EXIT_COMPLETED


if __name__ == "__main__":
    raise SystemExit(main())
