"""The demo's samples: three synthetic 2D images (``make_samples.py``) and a real 3D MRI volume that nibabel ships
with its tests (``example4d.nii.gz``: a head EPI scan, 128 x 96 x 24 voxels of 2 x 2 x 2.2 mm, first of two
frames; nibabel's MIT licence), read from the installed package rather than copied here."""

from __future__ import annotations

from pathlib import Path

HEAD_MRI = "head-mri.nii.gz"


def head_mri() -> Path | None:
    """The MRI volume in the installed nibabel, or None when nibabel (the ``[mesher]`` extra) is missing."""
    try:
        from nibabel.testing import data_path
    except ImportError:
        return None
    path = Path(data_path) / "example4d.nii.gz"
    return path if path.is_file() else None
