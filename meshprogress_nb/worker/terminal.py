"""The mesher's progress as a tqdm bar in the terminal, for ``meshprogress-worker mesh`` (no hub)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from tqdm import tqdm


class _StageBar:
    def __init__(self, progress: TerminalProgress, name: str, start: float, share: float) -> None:
        self.progress, self.name, self.start, self.share = progress, name, start, share

    def update(self, fraction: float, message: str | None = None) -> None:
        self.progress.show(self.start + self.share * min(1.0, max(0.0, fraction)), message or self.name)


class TerminalProgress:
    """A reporter for :func:`~.mesher.generate_mesh` that draws one bar of 0..100 %: stages are laid end to end,
    each taking the share of the job it is given (all that is left when None), like an unplanned ProgressReporter."""

    def __init__(self, **bar_options: object) -> None:
        self.options = bar_options
        self.bar: tqdm | None = None  # drawn from the first stage on, so that its clock leaves out the imports
        self.done = 0.0
        self.next_start = 0.0

    @contextmanager
    def stage(self, name: str, weight: float | None = None) -> Iterator[_StageBar]:
        if self.bar is None:
            self.bar = tqdm(total=100.0, bar_format="{l_bar}{bar}| {n:.0f}% [{elapsed}<{remaining}]", **self.options)
        start = self.next_start
        share = (100.0 - start) if weight is None else min(100.0 * weight, 100.0 - start)
        self.next_start = start + share
        bar = _StageBar(self, name, start, share)
        bar.update(0.0)
        yield bar
        bar.update(1.0)

    def show(self, percent: float, message: str) -> None:
        """Move the bar to ``percent`` (never back) and show ``message`` beside it."""
        assert self.bar is not None, "show() is called by a stage"
        if percent > self.done:
            self.bar.update(percent - self.done)
            self.done = percent
        self.bar.set_description_str(message, refresh=False)

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.bar is not None:
            self.bar.close()
