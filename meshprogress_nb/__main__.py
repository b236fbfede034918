"""``python -m meshprogress_nb demo [--headless]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .demo import missing_mesher, run_headless, run_lab


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m meshprogress_nb")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the demo: JupyterLab with the demo notebook, or --headless")
    demo.add_argument("--headless", action="store_true", help="no browser: show a batch's progress in the terminal")
    demo.add_argument("--dir", type=Path, help="folder for the demo's images, notebook and results")
    demo.add_argument("--port", type=int, help="JupyterLab's port")
    args = parser.parse_args(argv)
    problem = missing_mesher()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if args.headless:
        return run_headless(args.dir)
    run_lab(args.dir or Path.home() / "meshprogress-demo", args.port)


if __name__ == "__main__":
    raise SystemExit(main())
