"""Every setting of the progress hub, in one traitlets ``Configurable``.

``c.MeshProgress.redis_url = "redis://..."`` in ``jupyter_server_config.py`` works as for any Jupyter
project; environment variables give defaults so a JupyterHub spawner can set them per user.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir, jupyter_runtime_dir
from traitlets import Enum, Float, Integer, List, TraitError, Unicode, default, validate
from traitlets.config import Configurable


class MeshProgress(Configurable):
    """Settings of the meshprogress hub (server extension, cable and workers' callback API)."""

    redis_url = Unicode(
        help="Redis URL for shared state and fan-out (JupyterHub, many servers). Empty: embedded mode "
        "(in-process broker, SQLite state). Default: $MESHPROGRESS_REDIS_URL.",
    ).tag(config=True)

    redis_prefix = Unicode(
        "", help="Prefix of every Redis key and PubSub channel, to share one Redis with other applications."
    ).tag(config=True)

    database_path = Unicode(
        help="SQLite file of the embedded store. Default: <jupyter data dir>/meshprogress/state.sqlite3.",
    ).tag(config=True)

    secret = Unicode(
        help="Key that signs callback tokens. Every server sharing a Redis must share it. Default: "
        "$MESHPROGRESS_SECRET, else a random key generated once and kept in the Jupyter runtime dir (0600).",
    ).tag(config=True)

    token_max_age = Integer(86400, help="Seconds a callback token stays valid.").tag(config=True)

    broadcast_interval = Float(
        0.1,
        help="Least seconds between two progress frames of one stream to a subscriber (status changes "
        "are always sent at once).",
    ).tag(config=True)

    stall_timeout = Float(
        300.0, help="Seconds without a callback after which a processing or pending-but-started job is failed."
    ).tag(config=True)

    stall_check_interval = Float(10.0, help="Seconds between two sweeps for stalled jobs.").tag(config=True)

    callback_base_url = Unicode(
        help="Base URL workers use to reach this server (e.g. https://hub.example.org/user/alice/). "
        "Default: derived from JupyterHub's environment, else from the server's own URL.",
    ).tag(config=True)

    service_url = Unicode(
        help="URL of the meshprogress JupyterHub service (e.g. http://hub:10102/services/meshprogress/). When set, "
        "this server holds no state, secret or Redis credentials: it forwards the job API and the cable to the "
        "service, authenticated as its hub user by $JUPYTERHUB_API_TOKEN. Default: $MESHPROGRESS_SERVICE_URL.",
    ).tag(config=True)

    read_users = List(Unicode(), help="Users who may read (watch) every job, besides each job's owner.").tag(
        config=True
    )

    read_groups = List(Unicode(), help="JupyterHub groups whose members may read (watch) every job.").tag(config=True)

    admin_users = List(Unicode(), help="Users who may read, cancel and retry every job.").tag(config=True)

    admin_groups = List(Unicode(), help="JupyterHub groups whose members may read, cancel and retry every job.").tag(
        config=True
    )

    callback_rate_limit = Float(
        20.0,
        help="Most callback writes per second per job (and one at a time). Faster reports are merged into one "
        "pending report (latest progress, message, seq) written at the job's next slot; status changes are written "
        "at once.",
    ).tag(config=True)

    max_body_bytes = Integer(64 * 1024, help="Largest callback or API request body, in bytes (413 above).").tag(
        config=True
    )

    max_batch_size = Integer(10_000, help="Most sources one batch may hold.").tag(config=True)

    max_active_jobs_per_user = Integer(
        10_000,
        help="Most jobs one user may have pending or processing at once (a batch of N counts N); creating more is "
        "refused with 429. The default admits one batch of max_batch_size on an idle account and bounds what one "
        "user keeps in the store (about 1 KiB a job). 0: no limit.",
    ).tag(config=True)

    max_jobs_per_minute_per_user = Integer(
        10_000,
        help="Most jobs one user may create in any 60 s (a batch of N counts N); more are refused with 429 and "
        "Retry-After until older ones leave the window. The default admits one batch of max_batch_size a minute: "
        "about 170 jobs a second, a few percent of one service process's time. 0: no limit.",
    ).tag(config=True)

    ping_interval = Float(3.0, help="Seconds between ActionCable pings.").tag(config=True)

    max_subscriptions = Integer(
        1000, help="Most subscriptions one WebSocket connection may hold (subscribe floods are refused)."
    ).tag(config=True)

    max_frame_bytes = Integer(64 * 1024, help="Largest WebSocket frame a client may send.").tag(config=True)

    max_identifier_bytes = Integer(
        1024,
        help="Largest cable subscription identifier, in UTF-8 bytes: every frame of the subscription echoes it "
        "(longer ones are rejected).",
    ).tag(config=True)

    max_connections_per_user = Integer(
        32, help="Most cable connections one user may hold open at once (further ones are closed with a reason)."
    ).tag(config=True)

    max_subscriptions_per_user = Integer(
        2000, help="Most cable subscriptions one user may hold across all their connections (more are rejected)."
    ).tag(config=True)

    cable_commands_per_second = Float(
        200.0,
        help="Most cable commands (subscribe, unsubscribe, actions) one user's connections are served a second, in "
        "bursts of a tenth of that; further ones wait their turn (their connection is not read meanwhile).",
    ).tag(config=True)

    outbox_bytes = Integer(
        1024 * 1024,
        help="Most bytes of frames held for one cable connection whose socket is backed up (broadcasts, replies "
        "and pings alike; a stream's newer frame replaces its older one). A connection over it is closed.",
    ).tag(config=True)

    outbox_timeout = Float(
        30.0, help="Seconds a cable connection may leave frames unread before it is closed as not draining."
    ).tag(config=True)

    body_timeout = Float(
        10.0, help="Seconds a worker callback's body may take to arrive once its headers are in (slower: dropped)."
    ).tag(config=True)

    dispatcher = Enum(
        ["local", "dask", "none"],
        default_value="local",
        help="Who runs jobs created with dispatch=true: a local process pool, a Dask cluster, or nobody "
        "(workers are started elsewhere, e.g. by a batch system with meshprogress-worker).",
    ).tag(config=True)

    pool_size = Integer(help="Worker processes of the local dispatcher. Default: cores - 1, at least 1.").tag(
        config=True
    )

    dask_scheduler = Unicode(
        help="Address of the Dask scheduler (tcp://host:8786) for dispatcher='dask'. Empty: a LocalCluster."
    ).tag(config=True)

    results_dir = Unicode(
        help="Where dispatched jobs write their meshes. Default: <jupyter data dir>/meshprogress/results."
    ).tag(config=True)

    preview_max_bytes = Integer(
        32 * 1024 * 1024,
        help="Largest result file served as its own preview (GET meshes/{id}/preview) when the worker wrote no "
        "decimated <result>.preview.ply beside it; larger results have no preview (404).",
    ).tag(config=True)

    source_dirs = List(
        Unicode(),
        help="Folders besides the server's root_dir that dispatched jobs may read their sources from (symlinks "
        "resolved). Default: the package's sample images.",
    ).tag(config=True)

    max_smooth_iterations = Integer(
        10_000, help="Most smooth_iterations a dispatched job may ask for (422 above)."
    ).tag(config=True)

    max_target_faces = Integer(5_000_000, help="Most target_faces a dispatched job may ask for (422 above).").tag(
        config=True
    )

    max_source_bytes = Integer(
        512 * 1024**2,
        help="Largest total size on disk of a dispatched job's input files (the job fails before loading them).",
    ).tag(config=True)

    max_voxels = Integer(
        64 * 1024**2,
        help="Most pixels (2D) or voxels (slices x height x width) a dispatched job's input may hold, read from the "
        "image headers before loading (the job fails above).",
    ).tag(config=True)

    job_memory_limit = Integer(
        4 * 1024**3,
        help="Bytes of address space each dispatched job may use (RLIMIT_AS on its own process, in the local pool "
        "or on Dask); a job past it fails with an out-of-memory message. 0: no limit.",
    ).tag(config=True)

    job_time_limit = Float(
        3600.0,
        help="Seconds a dispatched job (local pool or Dask) may run before it is stopped and failed. 0: no limit.",
    ).tag(config=True)

    start_timeout = Float(
        3600.0,
        help="Seconds a dispatched job may stay pending, not held in this server's queue, before it is failed "
        "(no worker took it: a broken pool, a missing extra, a restarted server).",
    ).tag(config=True)

    @default("source_dirs")
    def _source_dirs_default(self) -> list[str]:
        return [str(Path(__file__).resolve().parent.parent / "samples")]

    @default("pool_size")
    def _pool_size_default(self) -> int:
        return max(1, (os.cpu_count() or 2) - 1)

    @default("results_dir")
    def _results_dir_default(self) -> str:
        return str(Path(jupyter_data_dir()) / "meshprogress" / "results")

    @validate("secret")
    def _check_secret(self, proposal: dict) -> str:
        return _strong_secret(proposal["value"], "MeshProgress.secret")

    @default("redis_url")
    def _redis_url_default(self) -> str:
        return os.environ.get("MESHPROGRESS_REDIS_URL", "")

    @default("service_url")
    def _service_url_default(self) -> str:
        return os.environ.get("MESHPROGRESS_SERVICE_URL", "")

    @default("database_path")
    def _database_path_default(self) -> str:
        return str(Path(jupyter_data_dir()) / "meshprogress" / "state.sqlite3")

    @default("secret")
    def _secret_default(self) -> str:
        # Defaults skip @validate: each source is checked here, so a weak key is refused wherever it comes from.
        from_env = os.environ.get("MESHPROGRESS_SECRET")
        if from_env:
            return _strong_secret(from_env, "$MESHPROGRESS_SECRET")
        path = Path(jupyter_runtime_dir()) / "meshprogress_secret"
        return _strong_secret(_runtime_secret(path), str(path))


MIN_SECRET_BYTES = 32


def _strong_secret(value: str, source: str) -> str:
    """``value`` if it is long enough that tokens signed with it cannot be forged by guessing it offline."""
    if len(value.encode("utf-8", "surrogatepass")) < MIN_SECRET_BYTES:
        raise TraitError(f"{source} must be at least {MIN_SECRET_BYTES} bytes")
    return value


def _runtime_secret(path: Path) -> str:
    """Read the key kept at ``path``, creating it (mode 0600) on first use so restarts keep tokens valid."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another server created it first: use theirs
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key
