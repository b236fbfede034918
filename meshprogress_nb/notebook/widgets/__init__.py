"""Notebook widgets for the meshprogress hub: ``ProgressWidget(mesh_id)`` and ``BatchProgressWidget(batch_id)``.

Both run in ``frontend`` mode (the JupyterLab extension follows the hub from the browser) or ``kernel`` mode
(standard ipywidgets fed by a kernel thread, for frontends without the extension); see :func:`resolve_mode`.
"""

from .kernel_mode import MODE_ENV, resolve_mode
from .progress import MODULE_NAME, MODULE_VERSION, BatchProgressWidget, ProgressWidget
from .text import format_eta, format_percent, remaining_text, status_label

__all__ = [
    "MODE_ENV",
    "MODULE_NAME",
    "MODULE_VERSION",
    "BatchProgressWidget",
    "ProgressWidget",
    "format_eta",
    "format_percent",
    "remaining_text",
    "resolve_mode",
    "status_label",
]
