"""Benchmark the hub side by side with its baselines and a Django Channels peer, in one run, on loopback.

    python bench/run.py            # the full run (a few minutes on 2 cores): table on stdout, JSON in bench/results/
    python bench/run.py --quick    # seconds, small N: what tests/bench/test_quick.py runs

Systems (each its own server process): the hub on Redis and on the embedded store, a bare tornado server (the
ingest and fan-out ceilings), and the Channels peer (bench/peers/). Load comes from bench/node/loadgen.mjs (Node,
``ws``) and, for ingest, from wrk when it is installed. The machine is shared, so the figures that matter are
ratios between systems measured in this same run; see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shlex
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
import redis

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import id_scheme  # noqa: E402
import measure  # noqa: E402
import report  # noqa: E402
from loadgen import ensure_node_modules  # noqa: E402
from systems import BareTornado, ChannelsPeer, Hub, Service, System  # noqa: E402

FULL = {
    "steps": [1, 100, 1000, 2000, 3000, 5000, 7500, 10000],
    "memory_steps": [1000, 10000],
    "samples": 20,
    "interval_ms": 200,
    "stop_p95_ms": 1000.0,
    "ingest_seconds": 8,
    "ingest_connections": 32,
    "many_jobs": 1000,
    "many_seconds": 10,
    "floor_samples": 2000,
    "id_creates": 500,
    "id_rounds": 20,
}
QUICK = {
    "steps": [1, 50, 200],
    "memory_steps": [200],
    "samples": 8,
    "interval_ms": 150,
    "stop_p95_ms": 1000.0,
    "ingest_seconds": 2,
    "ingest_connections": 16,
    "many_jobs": 50,
    "many_seconds": 2,
    "floor_samples": 200,
    "id_creates": 100,
    "id_rounds": 5,
}
SYSTEMS = ("bare-tornado", "hub-redis", "hub-embedded", "channels-peer", "service-1", "service-2")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def raise_open_files(wanted: int) -> int:
    """Subscribers are sockets: lift the soft limit (inherited by the servers and Node) as far as allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small N and short windows (seconds): CI's run")
    parser.add_argument("--json", type=Path, help="where to write the results (default: bench/results/<time>.json)")
    parser.add_argument("--only", help=f"comma-separated subset of {', '.join(SYSTEMS)}")
    parser.add_argument(
        "--peer",
        choices=["auto", "yes", "no"],
        default=None,
        help="run the Channels peer (default: yes in a full run if installed, no with --quick)",
    )
    parser.add_argument("--ingest-client", choices=["auto", "wrk", "node"], default="auto")
    parser.add_argument("--steps", help="comma-separated subscriber counts (overrides the mode's)")
    parser.add_argument("--redis-url", default=os.environ.get("MESHPROGRESS_TEST_REDIS", "redis://127.0.0.1:6379/0"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    config = dict(QUICK if args.quick else FULL)
    if args.steps:
        config["steps"] = [int(n) for n in args.steps.split(",")]
        config["memory_steps"] = [n for n in config["memory_steps"] if n <= max(config["steps"])]
    wanted = list(SYSTEMS) if not args.only else [s.strip() for s in args.only.split(",")]
    peer = args.peer or ("no" if args.quick else "auto")
    if "channels-peer" in wanted and peer != "yes":
        why = ChannelsPeer.available() if peer == "auto" else "--peer no"
        if why:
            log(f"channels peer skipped: {why}")
            wanted.remove("channels-peer")
    client = args.ingest_client
    if client == "auto":
        client = "wrk" if measure.wrk_available() else "node"
    config["ingest_client"] = client

    nofile = raise_open_files(2 * max(config["steps"] + config["memory_steps"]) + 2000)
    ensure_node_modules()
    redis_client = redis.Redis.from_url(args.redis_url)
    redis_client.ping()
    run_id = uuid.uuid4().hex[:8]
    prefix = f"bench-{run_id}:"
    started = time.monotonic()
    results: dict[str, Any] = {
        "command": "python " + shlex.join(["bench/run.py", *(argv if argv is not None else sys.argv[1:])]),
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, open files {nofile}",
        "config": config,
        "redis_prefix": prefix,
        "systems": {},
    }
    log(f"bench: {'quick' if args.quick else 'full'} run {run_id}, systems {', '.join(wanted)}, ingest via {client}")
    results["redis_floor"] = measure.redis_floor(args.redis_url, prefix, config["floor_samples"])
    log(f"redis floor: {results['redis_floor']}")
    results["id_scheme"] = id_scheme.measure(args.redis_url, prefix + "ids:", config["id_creates"], config["id_rounds"])
    log(f"id scheme: {results['id_scheme']}")

    with tempfile.TemporaryDirectory(prefix="meshprogress-bench-") as tmp:
        root = Path(tmp)
        for name in wanted:
            results["systems"][name] = _run_system(name, root, args.redis_url, prefix, config, redis_client)
    _clean_redis(redis_client, prefix)

    results["seconds"] = round(time.monotonic() - started, 1)
    results["figures"] = report.figures(results)
    table = report.markdown(results)
    print(table)
    path = args.json or BENCH / "results" / f"bench-{time.strftime('%Y%m%d-%H%M%S')}-{run_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**results, "markdown": table}, indent=2))
    log(f"bench: {results['seconds']} s; results in {path}")
    return results


def _make(name: str, root: Path, redis_url: str, prefix: str) -> System:
    if name == "hub-redis":
        return Hub(root / name, redis_url, prefix + "hub:")
    if name == "hub-embedded":
        return Hub(root / name, "", "")
    if name == "bare-tornado":
        return BareTornado(root)
    if name == "channels-peer":
        return ChannelsPeer(root, redis_url, prefix + "peer:")
    if name.startswith("service-"):
        processes = int(name.removeprefix("service-"))
        return Service(root / name, redis_url, prefix + name + ":", processes)
    raise SystemExit(f"unknown system {name!r}; choose from {', '.join(SYSTEMS)}")


def _run_system(
    name: str, root: Path, redis_url: str, prefix: str, config: dict[str, Any], redis_client: redis.Redis
) -> dict[str, Any]:
    """Fan-out and memory on a fresh server process, then ingest and many jobs on another fresh one (so that
    the memory figures start from a server that has done nothing else)."""
    meter_redis = redis_client if name in ("hub-redis", "channels-peer") or name.startswith("service-") else None
    out: dict[str, Any] = {}
    system = _make(name, root, redis_url, prefix)
    if isinstance(system, Service):
        return _run_service(system, config, meter_redis)
    log(f"{name}: starting (fan-out, memory)")
    system.start()
    try:
        out["fanout"] = measure.fanout(
            system,
            meter_redis,
            config["steps"],
            config["memory_steps"],
            config["samples"],
            config["interval_ms"],
            config["stop_p95_ms"],
            log,
        )
    finally:
        system.stop()
    time.sleep(1)
    log(f"{name}: starting again (ingest, many jobs)")
    system.start()
    try:
        out["info"] = system.info
        ingest = {}
        seconds, connections, client = config["ingest_seconds"], config["ingest_connections"], config["ingest_client"]
        ingest["1"] = measure.ingest(system, system.jobs(1), seconds, connections, client, meter_redis)
        log(f"  {name} ingest, 1 job: {ingest['1']}")
        if name in ("hub-redis", "channels-peer"):
            many = system.jobs(config["many_jobs"])
            ingest["many"] = measure.ingest(system, many, seconds, connections, client, meter_redis)
            log(f"  {name} ingest, {len(many)} jobs: {ingest['many']}")
            time.sleep(1)
            out["many_jobs"] = measure.many_jobs(system, many, 10, config["many_seconds"], meter_redis, log)
            if name == "hub-redis":
                time.sleep(1)
                out["many_streams_from_redis"] = measure.many_streams_from_redis(
                    system, many, 10, config["many_seconds"], redis_client, prefix + "hub:", log
                )
        out["ingest"] = ingest
    finally:
        system.stop()
    return out


def _run_service(system: Service, config: dict[str, Any], meter_redis: redis.Redis | None) -> dict[str, Any]:
    """The JupyterHub service: ingest only (its cable is the hub's, measured above), 1 job and many jobs."""
    log(f"{system.name}: starting JupyterHub and its service ({system.processes} processes)")
    system.start()
    try:
        seconds, connections, client = config["ingest_seconds"], config["ingest_connections"], config["ingest_client"]
        ingest = {"1": measure.ingest(system, system.jobs(1), seconds, connections, client, meter_redis)}
        log(f"  {system.name} ingest, 1 job: {ingest['1']}")
        many = system.jobs(config["many_jobs"])
        ingest["many"] = measure.ingest(system, many, seconds, connections, client, meter_redis)
        log(f"  {system.name} ingest, {len(many)} jobs: {ingest['many']}")
        return {"info": system.info, "ingest": ingest}
    finally:
        system.stop()


def _clean_redis(client: redis.Redis, prefix: str) -> None:
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


if __name__ == "__main__":
    main()
