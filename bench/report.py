"""The Markdown table of a run, and the issue's figures checked against the same run's baselines and peer."""

from __future__ import annotations

from typing import Any

HUB, EMBEDDED, BARE, PEER = "hub-redis", "hub-embedded", "bare-tornado", "channels-peer"
SERVICE_1, SERVICE_2 = "service-1", "service-2"
LABELS = {
    HUB: "hub (Redis)",
    EMBEDDED: "hub (embedded)",
    BARE: "bare tornado",
    PEER: "Channels peer",
    SERVICE_1: "service, 1 process",
    SERVICE_2: "service, 2 processes",
}


def _get(results: dict[str, Any], *path: str) -> Any:
    value: Any = results
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _row_at(results: dict[str, Any], system: str, n: int) -> dict[str, Any] | None:
    rows = _get(results, "systems", system, "fanout", "rows") or []
    return next((r for r in rows if r["n"] == n), None)


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        value = f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
    elif isinstance(value, int):
        value = f"{value:,}"
    return f"{value}{unit}"


def figures(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 7: the value, what it is compared with, and whether it is met (None: not measured)."""
    out: list[dict[str, Any]] = []
    n_of = {s: _get(results, "systems", s, "fanout", "largest_n_p95_250") for s in (HUB, BARE, PEER)}
    steps = results["config"]["steps"]

    def add(name: str, value: Any, against: Any, met: bool | None, note: str = "") -> None:
        out.append({"figure": name, "value": value, "against": against, "met": met, "note": note})

    hub_n, bare_n, peer_n = n_of[HUB], n_of[BARE], n_of[PEER]
    if hub_n is not None and bare_n is not None:
        note = "baseline reached the largest step: 2x cannot be shown" if bare_n == max(steps) else ""
        if hub_n == max(steps) and not note:
            note = "the hub passed the largest step measured"
        add("fan-out: largest N with p95 <= 250 ms >= 2x bare tornado's", hub_n, bare_n, hub_n >= 2 * bare_n, note)
    hub_1k, bare_1k, peer_1k = (_row_at(results, s, 1000) for s in (HUB, BARE, PEER))
    if 1000 in steps:
        add(
            "fan-out: p95 at 1,000 subscribers <= bare tornado's",
            hub_1k and hub_1k["p95"],
            bare_1k and bare_1k["p95"],
            None if not (hub_1k and bare_1k) else hub_1k["p95"] <= bare_1k["p95"],
        )
    bare_rate = _get(results, "systems", BARE, "ingest", "1")
    for jobs, label in (("1", "1 job"), ("many", "many jobs")):
        hub_rate = _get(results, "systems", HUB, "ingest", jobs)
        if hub_rate and bare_rate:
            add(
                f"ingest ({label}) >= 50% of the bare tornado POST rate",
                hub_rate["rate"],
                bare_rate["rate"],
                hub_rate["rate"] >= 0.5 * bare_rate["rate"],
                f"{100 * hub_rate['rate'] / bare_rate['rate']:.0f}%",
            )
    _service_figures(results, add)
    for n, kib in (_get(results, "systems", HUB, "fanout", "rss_kib_per_connection") or {}).items():
        add(f"memory: <= 30 KiB RSS per idle subscribed connection at {int(n):,}", kib, 30, kib <= 30)
    if _get(results, "systems", PEER, "fanout") is None:
        add("ahead of the Channels peer on every row", None, None, None, "peer not run")
        return out
    if hub_n is not None and peer_n is not None:
        add("ahead of the peer: fan-out N >= 3x the peer's", hub_n, peer_n, hub_n >= 3 * max(peer_n, 1))
    if hub_1k and peer_1k:
        add("ahead of the peer: p95 at 1,000", hub_1k["p95"], peer_1k["p95"], hub_1k["p95"] < peer_1k["p95"])
    for jobs in ("1", "many"):
        ours, theirs = _get(results, "systems", HUB, "ingest", jobs), _get(results, "systems", PEER, "ingest", jobs)
        if ours and theirs:
            add(f"ahead of the peer: ingest ({jobs})", ours["rate"], theirs["rate"], ours["rate"] > theirs["rate"])
    ours, theirs = _get(results, "systems", HUB, "many_jobs"), _get(results, "systems", PEER, "many_jobs")
    if ours and theirs and "delivered_per_s" in ours and "delivered_per_s" in theirs:
        add(
            "ahead of the peer: many jobs, delivered updates/s",
            ours["delivered_per_s"],
            theirs["delivered_per_s"],
            ours["delivered_per_s"] > theirs["delivered_per_s"],
        )
    ours_mem = _get(results, "systems", HUB, "fanout", "rss_kib_per_connection") or {}
    theirs_mem = _get(results, "systems", PEER, "fanout", "rss_kib_per_connection") or {}
    for n in sorted(set(ours_mem) & set(theirs_mem), key=int):
        add(
            f"ahead of the peer: RSS per connection at {int(n):,}",
            ours_mem[n],
            theirs_mem[n],
            ours_mem[n] < theirs_mem[n],
        )
    return out


def _service_figures(results: dict[str, Any], add: Any) -> None:
    """Issue 11's: the JupyterHub service scales out, and one process keeps most of the bare POST rate."""
    bare = _get(results, "systems", BARE, "ingest", "1", "rate")
    one = _get(results, "systems", SERVICE_1, "ingest", "many", "rate")
    two = _get(results, "systems", SERVICE_2, "ingest", "many", "rate")
    many = f"{results['config']['many_jobs']:,} jobs"
    if one and two:
        add(f"service ingest, {many}: 2 processes >= 1.5x 1 process", two, one, two >= 1.5 * one, f"{two / one:.2f}x")
    if one and bare:
        add(
            f"service ingest, 1 process, {many} >= 80% of the bare tornado POST rate",
            one,
            bare,
            one >= 0.8 * bare,
            f"{100 * one / bare:.0f}%",
        )


def markdown(results: dict[str, Any]) -> str:
    systems = [s for s in (HUB, EMBEDDED, BARE, PEER, SERVICE_1, SERVICE_2) if s in results["systems"]]
    fanned = [s for s in systems if _get(results, "systems", s, "fanout")]  # the service runs ingest only
    lines = [f"Command: `{results['command']}`  ", f"Run: {results['started']}, {results['machine']}", ""]

    lines += ["### Fan-out latency: POST sent -> frame received by every subscriber (ms, p50 / p95 / p99 / max)", ""]
    lines += ["| N | " + " | ".join(LABELS[s] for s in fanned) + " |", "|---:|" + "---|" * len(fanned)]
    for n in results["config"]["steps"]:
        cells = []
        for s in fanned:
            row = _row_at(results, s, n)
            cells.append(
                "—" if row is None else f"{row['p50']:.1f} / {row['p95']:.1f} / {row['p99']:.1f} / {row['max']:.1f}"
            )
        lines.append(f"| {n:,} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "Load generator CPU at the largest N measured (% of one core): "
        + ", ".join(
            f"{LABELS[s]} {_fmt(_largest(results, s, 'loadgen'))}% (server {_fmt(_largest(results, s, 'server'))}%)"
            for s in fanned
        )
    )
    lines.append("")

    lines += [
        "### Summary",
        "",
        "| | " + " | ".join(LABELS[s] for s in systems) + " |",
        "|---|" + "---:|" * len(systems),
    ]

    def row(label: str, fn: Any) -> None:
        lines.append(f"| {label} | " + " | ".join(_fmt(fn(s)) for s in systems) + " |")

    row("largest N with p95 <= 250 ms", lambda s: _get(results, "systems", s, "fanout", "largest_n_p95_250"))
    row("p95 at 1,000 subscribers (ms)", lambda s: (_row_at(results, s, 1000) or {}).get("p95"))
    for jobs, label in (("1", "1 job"), ("many", f"{results['config']['many_jobs']:,} jobs")):
        row(f"ingest, {label} (callbacks/s)", lambda s, j=jobs: _get(results, "systems", s, "ingest", j, "rate"))
        row(f"ingest, {label}: server / client CPU %", lambda s, j=jobs: _cpu(results, s, ("ingest", j), "client"))
    many = results["config"]["many_jobs"]
    row(
        f"{many:,} jobs at 10 Hz: accepted callbacks/s",
        lambda s: _get(results, "systems", s, "many_jobs", "accepted_per_s"),
    )
    row(
        f"{many:,} jobs at 10 Hz: delivered updates/s",
        lambda s: _get(results, "systems", s, "many_jobs", "delivered_per_s"),
    )
    row(f"{many:,} jobs at 10 Hz: server / load generator CPU %", lambda s: _cpu(results, s, ("many_jobs",), "loadgen"))
    row(
        f"{many:,} streams at 10 Hz via Redis: delivered/s",
        lambda s: _get(results, "systems", s, "many_streams_from_redis", "delivered_per_s"),
    )
    row(
        f"{many:,} streams at 10 Hz via Redis: server CPU %",
        lambda s: _get(results, "systems", s, "many_streams_from_redis", "cpu", "server"),
    )
    for n in results["config"]["memory_steps"]:
        row(
            f"RSS per idle subscribed connection at {n:,} (KiB)",
            lambda s, n=n: _get(results, "systems", s, "fanout", "rss_kib_per_connection", str(n)),
        )
    floor = results.get("redis_floor")
    if floor:
        lines += [
            "",
            f"Redis PUBLISH -> subscriber floor ({floor['samples']} samples): p50 {floor['p50']:.3f} ms, "
            f"p95 {floor['p95']:.3f} ms, p99 {floor['p99']:.3f} ms, max {floor['max']:.3f} ms",
        ]
    if results.get("id_scheme"):
        lines += ["", id_scheme_line(results["id_scheme"])]

    lines += [
        "",
        "### Figures (Redis mode, ratios from this run)",
        "",
        "| figure | value | against | met |",
        "|---|---:|---:|---|",
    ]
    for f in results["figures"]:
        met = {True: "yes", False: "**no**", None: "not measured"}[f["met"]]
        note = f" ({f['note']})" if f["note"] else ""
        lines.append(f"| {f['figure']} | {_fmt(f['value'])} | {_fmt(f['against'])} | {met}{note} |")
    return "\n".join(lines) + "\n"


def id_scheme_line(result: dict[str, Any]) -> str:
    """What the id scheme and the quotas cost a creation (bench/id_scheme.py), against a bare INCR."""
    rate, ratio = result["per_s"], result["ratio"]
    return (
        f"Id scheme (`bench/id_scheme.py`, Redis store, {result['creates']:,} creations x {result['rounds']} rounds, "
        f"median rates and ratios): bare INCR {rate['incr']:,}/s; seeded ids {rate['ids']:,}/s "
        f"({100 * ratio['ids']:.0f}%); seeded ids + default quotas {rate['ids+quotas']:,}/s "
        f"({100 * ratio['ids+quotas']:.0f}%)"
    )


def _largest(results: dict[str, Any], system: str, who: str) -> float | None:
    rows = _get(results, "systems", system, "fanout", "rows") or []
    return rows[-1]["cpu"].get(who) if rows else None


def _cpu(results: dict[str, Any], system: str, path: tuple[str, ...], client: str) -> str | None:
    cpu = _get(results, "systems", system, *path, "cpu")
    if not cpu:
        return None
    return f"{cpu.get('server', 0):.0f} / {cpu.get(client, 0):.0f}"
