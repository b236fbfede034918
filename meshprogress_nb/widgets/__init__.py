"""Notebook widgets for the meshprogress hub: ``ProgressWidget(mesh_id)`` and ``BatchProgressWidget(batch_id)``.

Both run in ``frontend`` mode (the JupyterLab extension follows the hub from the browser) or ``kernel`` mode
(standard ipywidgets fed by a kernel thread, for frontends without the extension); see :func:`resolve_mode`.
"""

from .fallback import MODE_ENV, resolve_mode
from .format import format_eta, format_percent, remaining_text, status_label
from .progress import MODULE_NAME, MODULE_VERSION, BatchProgressWidget, ProgressWidget

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
