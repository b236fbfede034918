"""The scenarios: fan-out latency by N, ingest rate, many jobs, idle memory, and the Redis floor.

Every scenario reports the CPU of the processes involved (server, load generator, Redis) next to its figures,
so a saturated client shows up in the table instead of passing for a slow server.
"""

from __future__ import annotations

import json
import math
import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import redis
from loadgen import LoadGen
from systems import IDENTIFIER, Job, System

BENCH = Path(__file__).resolve().parent


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values),
    }


def rss(pid: int) -> int:
    return psutil.Process(pid).memory_info().rss


@dataclass
class CpuMeter:
    """CPU seconds used by some processes (and Redis, from INFO) over a wall-clock window, as % of one core."""

    pids: dict[str, int]
    redis_client: redis.Redis | None = None

    def __post_init__(self) -> None:
        # A process and its children: a server of several processes is measured whole.
        self._seen: dict[int, float] = {}
        self._processes = {
            name: [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
            for name, pid in self.pids.items()
            if pid
        }
        self._start = self._sample()
        self._wall = time.monotonic()

    def _sample(self) -> dict[str, float]:
        sample = {}
        for name, processes in self._processes.items():
            sample[name] = sum(self._cpu(p) for p in processes)
        if self.redis_client is not None:
            info = self.redis_client.info("cpu")
            sample["redis"] = float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
        return sample

    def _cpu(self, process: psutil.Process) -> float:
        """CPU seconds of ``process``; the last seen for one that exited (a short-lived child of a server)."""
        try:
            times = process.cpu_times()
            self._seen[process.pid] = times.user + times.system
        except psutil.Error:
            pass
        return self._seen.get(process.pid, 0.0)

    def stop(self) -> dict[str, float]:
        """Percent of one core per process since the meter started."""
        end, wall = self._sample(), time.monotonic() - self._wall
        return {name: round(100 * (end[name] - self._start[name]) / wall, 1) for name in end}


# -- the floor ---------------------------------------------------------------------------------------------------


def redis_floor(redis_url: str, prefix: str, samples: int) -> dict[str, Any]:
    """PUBLISH on one connection to a SUBSCRIBEd one, timed until the subscriber has the message (hiredis)."""
    client = redis.Redis.from_url(redis_url)
    subscriber = client.pubsub()
    channel = prefix + "floor"
    subscriber.subscribe(channel)
    while subscriber.get_message(timeout=1) is None:
        pass
    message = json.dumps({"mesh_id": 1, "status": "processing", "progress": 1.0, "version": 2}).encode()
    latencies = []
    for _ in range(samples + 20):
        started = time.perf_counter()
        client.publish(channel, message)
        got = subscriber.get_message(timeout=5)
        latencies.append((time.perf_counter() - started) * 1000)
        assert got is not None and got["data"] == message
    subscriber.close()
    client.close()
    return {"samples": samples, **summary(latencies[20:])}


# -- fan-out -----------------------------------------------------------------------------------------------------


class FanoutRamp:
    """N subscribers on one mesh, N stepped up on one load generator; a sample is POST -> every subscriber."""

    def __init__(self, system: System, redis_client: redis.Redis | None) -> None:
        self.system = system
        self.redis_client = redis_client
        self.job = system.jobs(1)[0]
        self.identifier = IDENTIFIER.format(self.job.mesh_id)
        self.loadgen = LoadGen()
        self.marker = 0
        self.rss: dict[int, int] = {}

    def grow(self, n: int) -> dict[str, Any]:
        """Open connections until n are subscribed; the server's RSS once it is idle again."""
        started = time.monotonic()
        answer = self.loadgen.connect(self.system.ws_url, n, [self.identifier])
        time.sleep(1.0 if n >= 1000 else 0.3)  # let the server finish the subscriptions' tails
        self.rss[answer["n"]] = rss(self.system.pid)
        return {"n": answer["n"], "failed": answer["failed"], "seconds": round(time.monotonic() - started, 1)}

    def sample(self, samples: int, interval_ms: int, timeout_ms: int) -> dict[str, Any]:
        meter = CpuMeter({"server": self.system.pid, "loadgen": self.loadgen.pid}, self.redis_client)
        answer = self.loadgen.call(
            {
                "cmd": "fanout",
                "post": self.system.broadcast_target(self.job),
                "samples": samples,
                "warmup": 2,
                "interval_ms": interval_ms,
                "timeout_ms": timeout_ms,
                "first": self.marker,
            }
        )
        cpu = meter.stop()
        self.marker += samples + 2
        rows = answer["samples"]
        every = [r["all_ms"] for r in rows]
        return {
            "n": answer["n"],
            "samples": len(rows),
            **{k: round(v, 2) for k, v in summary(every).items()},
            "median_subscriber_p50": round(percentile([r["median_ms"] for r in rows], 50), 2),
            "post_p50": round(percentile([r["post_ms"] for r in rows], 50), 2),
            "missing": sum(r["missing"] for r in rows),
            "post_errors": sum(1 for r in rows if r["status"] not in (200, 202)),
            "cpu": cpu,
        }

    def close(self) -> None:
        self.loadgen.close()


def fanout(
    system: System,
    redis_client: redis.Redis | None,
    steps: Sequence[int],
    memory_steps: Sequence[int],
    samples: int,
    interval_ms: int,
    stop_p95_ms: float,
    log: Any,
) -> dict[str, Any]:
    """The ramp, then idle memory per connection at ``memory_steps`` (connecting further if the ramp stopped)."""
    ramp = FanoutRamp(system, redis_client)
    rows: list[dict[str, Any]] = []
    stopped = None
    try:
        for n in steps:
            grown = ramp.grow(n)
            if grown["n"] < n:
                stopped = f"only {grown['n']} of {n} connections subscribed ({grown['failed']} failed)"
                break
            row = {**ramp.sample(samples, interval_ms, timeout_ms=5000), "connect_seconds": grown["seconds"]}
            rows.append(row)
            log(
                f"  {system.name} N={n}: p50 {row['p50']} p95 {row['p95']} p99 {row['p99']} max {row['max']} ms"
                f" (missing {row['missing']}, cpu {row['cpu']})"
            )
            if row["p95"] > stop_p95_ms or row["missing"]:
                stopped = f"p95 {row['p95']} ms at N={n} (> {stop_p95_ms} ms) or frames missing: ramp stopped"
                break
        for n in memory_steps:
            if n not in ramp.rss and (not ramp.rss or n > max(ramp.rss)):
                grown = ramp.grow(n)
                if grown["n"] < n:
                    break
    finally:
        ramp.close()
    base_n = min(ramp.rss)
    memory = {
        str(n): round((ramp.rss[n] - ramp.rss[base_n]) / (n - base_n) / 1024, 1)
        for n in memory_steps
        if n in ramp.rss and n > base_n
    }
    ok = [r["n"] for r in rows if r["p95"] <= 250 and not r["missing"]]
    return {
        "rows": rows,
        "largest_n_p95_250": max(ok) if ok else 0,
        "stopped": stopped,
        "rss_kib_per_connection": memory,
        "rss_bytes": {str(n): v for n, v in sorted(ramp.rss.items())},
    }


# -- ingest ------------------------------------------------------------------------------------------------------


def ingest(
    system: System,
    jobs: list[Job],
    seconds: float,
    connections: int,
    client: str,
    redis_client: redis.Redis | None,
) -> dict[str, Any]:
    """Callbacks accepted per second by the server, closed loop, round-robin over ``jobs``."""
    if client == "wrk":
        return _ingest_wrk(system, jobs, seconds, connections, redis_client)
    loadgen = LoadGen()
    try:
        meter = CpuMeter({"server": system.pid, "client": loadgen.pid}, redis_client)
        answer = loadgen.call(
            {"cmd": "ingest", "jobs": [j.as_dict() for j in jobs], "ms": seconds * 1000, "concurrency": connections}
        )
        cpu = meter.stop()
    finally:
        loadgen.close()
    return {
        "client": "node",
        "jobs": len(jobs),
        "connections": connections,
        "rate": round(answer["accepted"] / answer["seconds"], 1),
        "errors": answer["other"],
        "cpu": cpu,
    }


class WrkCallbacks:
    """wrk POSTing worker callbacks round-robin over ``jobs`` (bench/wrk/callback.lua) for ``seconds``; each
    connection waits ``delay_ms`` between its requests when given (paced workers), otherwise as fast as it can."""

    def __init__(
        self, url: str, jobs: Sequence[tuple[str, str]], seconds: float, connections: int, delay_ms: int = 0
    ) -> None:
        self.seconds = seconds
        with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
            f.writelines(f"{token}\t{job_id}\n" for token, job_id in jobs)
            self.jobs_file = f.name
        script = [str(BENCH / "wrk" / "callback.lua"), url, "--", self.jobs_file] + (
            [str(delay_ms)] if delay_ms else []
        )
        self.process = subprocess.Popen(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout=10s", "-s", *script],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def finish(self) -> dict[str, Any]:
        """Wait for wrk; its summary (requests, non_2xx, duration_us, p50_us, ...)."""
        try:
            output = self.process.communicate(timeout=self.seconds + 60)[0]
        finally:
            os.unlink(self.jobs_file)
        line = next((x for x in output.splitlines() if x.startswith("BENCH ")), None)
        if line is None:
            raise RuntimeError(f"wrk printed no summary:\n{output[-2000:]}")
        return json.loads(line[len("BENCH ") :])


def _ingest_wrk(
    system: System, jobs: list[Job], seconds: float, connections: int, redis_client: redis.Redis | None
) -> dict[str, Any]:
    children_before = _children_cpu()
    wrk = WrkCallbacks(jobs[0].url, [(j.token, j.job_id) for j in jobs], seconds, connections)
    meter = CpuMeter({"server": system.pid}, redis_client)
    stats = wrk.finish()
    cpu = meter.stop()
    wrk_cpu = _children_cpu() - children_before  # wrk was the only child reaped meanwhile
    elapsed = stats["duration_us"] / 1e6
    errors = stats["non_2xx"] + stats["connect_errors"] + stats["read_errors"] + stats["timeouts"]
    cpu["client"] = round(100 * wrk_cpu / elapsed, 1)
    return {
        "client": "wrk",
        "jobs": len(jobs),
        "connections": connections,
        "rate": round((stats["requests"] - stats["non_2xx"]) / elapsed, 1),
        "errors": errors,
        "latency_p50_ms": round(stats["p50_us"] / 1000, 2),
        "latency_p99_ms": round(stats["p99_us"] / 1000, 2),
        "cpu": cpu,
    }


def _children_cpu() -> float:
    """CPU seconds of this process's reaped children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


# -- many jobs ---------------------------------------------------------------------------------------------------


def _subscribe_each(loadgen: LoadGen, system: System, jobs: list[Job]) -> str | None:
    """One connection per job, subscribed to its mesh; why not, if some could not subscribe."""
    grown = loadgen.connect(system.ws_url, len(jobs), [IDENTIFIER.format(j.mesh_id) for j in jobs])
    if grown["n"] < len(jobs):
        return f"only {grown['n']} of {len(jobs)} subscribed"
    time.sleep(0.5)
    return None


def many_jobs(
    system: System, jobs: list[Job], hz: float, seconds: float, redis_client: redis.Redis | None, log: Any
) -> dict[str, Any]:
    """One subscriber per job, every job POSTing at ``hz``: accepted callbacks and delivered frames per second."""
    loadgen = LoadGen()
    try:
        missing = _subscribe_each(loadgen, system, jobs)
        if missing:
            return {"error": missing}
        meter = CpuMeter({"server": system.pid, "loadgen": loadgen.pid}, redis_client)
        answer = loadgen.call(
            {"cmd": "flood", "jobs": [j.as_dict() for j in jobs], "hz": hz, "ms": seconds * 1000, "sockets": 64}
        )
        cpu = meter.stop()
    finally:
        loadgen.close()
    result = {
        "jobs": len(jobs),
        "hz": hz,
        "offered_per_s": round(answer["offered"] / answer["seconds"], 1),
        "accepted_per_s": round(answer["accepted"] / answer["seconds"], 1),
        "delivered_per_s": round(answer["frames"] / answer["seconds"], 1),
        "skipped_ticks": answer["skipped"],
        "errors": answer["other"],
        "cpu": cpu,
    }
    log(f"  {system.name} many jobs: {result}")
    return result


def many_streams_from_redis(
    system: System, jobs: list[Job], hz: float, seconds: float, redis_client: redis.Redis, prefix: str, log: Any
) -> dict[str, Any]:
    """The same subscribers, updates published straight to the streams' Redis channels (as another server of a
    JupyterHub would after accepting the callbacks): this server's fan-out of many streams, without HTTP."""
    loadgen = LoadGen()
    try:
        missing = _subscribe_each(loadgen, system, jobs)
        if missing:
            return {"error": missing}
        meter = CpuMeter({"server": system.pid, "loadgen": loadgen.pid}, redis_client)
        loadgen.send({"cmd": "count", "ms": seconds * 1000})
        published, version = 0, 1_000_000
        started = time.monotonic()
        tick = 1 / hz
        while time.monotonic() - started < seconds:
            version += 1
            pipe = redis_client.pipeline(transaction=False)
            for job in jobs:
                payload = {
                    "mesh_id": job.mesh_id,
                    "status": "processing",
                    "progress": (version % 100) * 1.0,
                    "message": "from another server",
                    "updated_at": None,
                    "estimated_remaining": None,
                    "version": version,
                    "name": "",
                    "batch_id": None,
                    "result_url": None,
                }
                pipe.publish(f"{prefix}mesh_progress:{job.mesh_id}", json.dumps(payload, separators=(",", ":")))
            pipe.execute()
            published += len(jobs)
            wait = started + (version - 1_000_000) * tick - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        answer = loadgen.wait("count")
        cpu = meter.stop()
    finally:
        loadgen.close()
    result = {
        "jobs": len(jobs),
        "hz": hz,
        "published_per_s": round(published / answer["seconds"], 1),
        "delivered_per_s": round(answer["frames"] / answer["seconds"], 1),
        "cpu": cpu,
    }
    log(f"  {system.name} many streams from Redis: {result}")
    return result
