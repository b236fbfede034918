"""Notebook widgets for the meshprogress hub: ``ProgressWidget(mesh_id)`` and ``BatchProgressWidget(batch_id)``."""

from .format import format_eta, format_percent, remaining_text, status_label
from .progress import MODULE_NAME, MODULE_VERSION, BatchProgressWidget, ProgressWidget

__all__ = [
    "MODULE_NAME",
    "MODULE_VERSION",
    "BatchProgressWidget",
    "ProgressWidget",
    "format_eta",
    "format_percent",
    "remaining_text",
    "status_label",
]
