"""Input caps read from headers, for the scientific formats too, before a voxel is decoded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from meshprogress_nb.server.dispatch.limits import JobLimitExceeded, JobLimits, check_input


def test_a_compressed_nifti_volume_past_max_voxels_is_refused_from_its_header(tmp_path: Path) -> None:
    path = tmp_path / "zeros.nii.gz"
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((64, 64, 64), np.uint8)), str(path))
    assert path.stat().st_size < 10_000, "compressed: its size on disk says nothing of its voxels"
    check_input([path], JobLimits(max_voxels=64**3))
    with pytest.raises(JobLimitExceeded, match="262,144 pixels/voxels"):
        check_input([path], JobLimits(max_voxels=64**3 - 1))
