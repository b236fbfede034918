"""The demo's samples: three synthetic 2D images (``make_samples.py``) and a real 3D MRI volume.

``head-mri.nii.gz`` is the first frame of nibabel's test volume ``example4d.nii.gz`` (a head EPI scan, 128 x 96 x 24
voxels of 2 x 2 x 2.2 mm; nibabel's MIT licence, see ``LICENSE-head-mri.txt``). It is shipped here, 177 kB, because
nibabel's wheels do not all carry their test data, and the demo must mesh a real volume on every install.
"""

from __future__ import annotations

from pathlib import Path

HEAD_MRI = "head-mri.nii.gz"


def head_mri() -> Path:
    """The shipped MRI volume (reading it needs the ``[mesher]`` extra)."""
    return Path(__file__).resolve().parent / HEAD_MRI
