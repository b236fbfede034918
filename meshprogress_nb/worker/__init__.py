"""What runs on workers: the reporting SDK (standard library only) and the image-to-mesh generator.

``from meshprogress_nb.worker import ProgressReporter`` needs nothing but Python; the mesher needs the
``[mesher]`` extra (numpy, Pillow, scikit-image).
"""

from __future__ import annotations

from .reporter import CallbackAuthError, JobCancelled, ProgressReporter

__all__ = ["CallbackAuthError", "JobCancelled", "ProgressReporter"]
