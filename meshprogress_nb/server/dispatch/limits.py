"""Bounds on what one dispatched job may ask for and use: its parameters (checked at creation), its input's size
(checked in the job process before anything is decoded), its memory and its wall time (enforced there while it
runs).

The server side needs none of the mesher's extras: Pillow is imported only in the job process, to read headers.
"""

from __future__ import annotations

import math
import resource
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..callbacks import InvalidInput
from ..config import MeshProgress

IMAGE_SUFFIXES = frozenset({".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".pgm", ".ppm"})
MIN_TARGET_FACES = 20


class JobLimitExceeded(Exception):
    """The job's input or run went past one of its limits; the message says which and which setting."""


@dataclass(frozen=True)
class JobLimits:
    """What a job process enforces on itself. 0 means no limit."""

    source_roots: tuple[str, ...] = ()
    max_source_bytes: int = 0
    max_voxels: int = 0
    memory_bytes: int = 0
    time_seconds: float = 0.0

    @classmethod
    def from_config(cls, config: MeshProgress, root_dir: str, own_process: bool) -> JobLimits:
        """Memory and time are enforced only where the job has a process to itself (limits on a process shared
        with other jobs would bound them all)."""
        return cls(
            source_roots=(root_dir, *config.source_dirs),
            max_source_bytes=config.max_source_bytes,
            max_voxels=config.max_voxels,
            memory_bytes=config.job_memory_limit if own_process else 0,
            time_seconds=config.job_time_limit if own_process else 0.0,
        )


def check_params(params: dict[str, Any], config: MeshProgress) -> None:
    """422 naming the first parameter past its bound (before the job exists)."""
    bounds = {
        "smooth_iterations": (0, config.max_smooth_iterations, "max_smooth_iterations"),
        "target_faces": (MIN_TARGET_FACES, config.max_target_faces, "max_target_faces"),
    }
    for name, (low, high, setting) in bounds.items():
        if name not in params:
            continue
        value = params[name]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise InvalidInput(
                422, f"{name} must be an integer from {low} to {high} (c.MeshProgress.{setting})", f"params.{name}"
            )


def check_input(paths: list[Path], limits: JobLimits) -> None:
    """Refuse an input past the size caps from its files' sizes and image headers, before decoding a pixel."""
    files = _image_files(paths)
    if limits.max_source_bytes:
        size = sum(path.stat().st_size for path in files)
        if size > limits.max_source_bytes:
            raise JobLimitExceeded(
                f"the input is {_mib(size)} on disk, above the limit of {_mib(limits.max_source_bytes)} "
                "(c.MeshProgress.max_source_bytes)"
            )
    if limits.max_voxels:
        voxels = sum(_header_voxels(path) for path in files)
        if voxels > limits.max_voxels:
            raise JobLimitExceeded(
                f"the input holds {voxels:,} pixels/voxels, above the limit of {limits.max_voxels:,} "
                "(c.MeshProgress.max_voxels)"
            )


@contextmanager
def enforced(limits: JobLimits) -> Iterator[None]:
    """Run the body under the job's memory cap (soft RLIMIT_AS) and wall-time alarm, then lift both.

    The pool's processes outlive their jobs, so both are undone afterwards. The alarm needs the main thread
    (where a pool process runs its job); elsewhere only the stall sweep bounds a job's time.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    timed = bool(limits.time_seconds) and threading.current_thread() is threading.main_thread()
    if limits.memory_bytes:
        cap = limits.memory_bytes if hard == resource.RLIM_INFINITY else min(limits.memory_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    if timed:
        previous = signal.signal(signal.SIGALRM, _time_is_up(limits.time_seconds))
        signal.setitimer(signal.ITIMER_REAL, limits.time_seconds)
    try:
        yield
    except MemoryError:
        raise JobLimitExceeded(
            f"out of memory: the job needed more than {_mib(limits.memory_bytes)} (c.MeshProgress.job_memory_limit)"
            if limits.memory_bytes
            else "out of memory"
        ) from None
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        if limits.memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _time_is_up(seconds: float) -> Any:
    def handler(signum: int, frame: Any) -> None:
        raise JobLimitExceeded(f"stopped after the time limit of {seconds:g} s (c.MeshProgress.job_time_limit)")

    return handler


def _image_files(paths: list[Path]) -> list[Path]:
    """The files the mesher would read: a folder stands for its images (one level, as the mesher lists them)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        elif path.is_file():
            files.append(path)
    return files


def _header_voxels(path: Path) -> int:
    """Frames x height x width from the image's header, read without decoding pixels: Pillow for 2D images and
    TIFF stacks (it opens lazily), SimpleITK for the scientific formats (NIfTI, NRRD, MetaImage, DICOM), whose
    compressed files say little of their size in memory. 0 for a file neither reads: it stays bounded by its size
    on disk and the memory cap."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = None  # our own cap applies, summed over every frame and file
    try:
        with Image.open(path) as image:
            return int(getattr(image, "n_frames", 1)) * image.width * image.height
    except (UnidentifiedImageError, OSError):
        pass
    try:
        import SimpleITK as sitk
    except ImportError:
        return 0
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError:
        return 0
    return math.prod(reader.GetSize()) * reader.GetNumberOfComponents()


def _mib(size: int) -> str:
    return f"{size / 1024**2:,.0f} MiB"


__all__ = ["JobLimitExceeded", "JobLimits", "check_input", "check_params", "enforced"]
