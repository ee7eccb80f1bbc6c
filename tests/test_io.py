"""utils.io: bare names resolve in data/, RAS+ out whatever is on disk, clear errors on bad input."""

from __future__ import annotations

import gzip
import json

import nibabel as nib
import numpy as np
import pytest

from utils import REBUILD_COMMAND
from utils.io import (
    landmark,
    load_json,
    load_landmarks,
    load_sidecar,
    load_volume,
    resolve_path,
    sha256_of_nifti,
)


def write(path, data, affine):
    nib.save(nib.Nifti1Image(data, affine), path)
    return path


def test_bare_name_resolves_inside_data(data_dir):
    assert resolve_path("pet_fdg") == data_dir / "pet_fdg.nii.gz"
    assert load_sidecar("pet_fdg")["TracerName"] == "FDG"


def test_missing_name_says_which_file_and_how_to_rebuild(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        load_volume("pet_fdg", data_dir=tmp_path)
    assert "pet_fdg.nii.gz" in str(err.value) and REBUILD_COMMAND in str(err.value)


@pytest.mark.parametrize(
    "affine, flipped",
    [
        (np.diag([2.0, 3.0, 4.0, 1.0]), ()),
        (np.diag([-2.0, 3.0, 4.0, 1.0]), (0,)),
        (np.diag([2.0, -3.0, -4.0, 1.0]), (1, 2)),
    ],
)
def test_volumes_come_back_ras_with_the_same_world_content(tmp_path, affine, flipped):
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    img = load_volume(write(tmp_path / "v.nii.gz", data, affine))
    assert nib.aff2axcodes(img.affine) == ("R", "A", "S")
    assert np.array_equal(img.get_fdata(), np.flip(data, axis=flipped) if flipped else data)
    # The same voxel maps to the same world point before and after reorientation.
    world = affine @ [0, 0, 0, 1]
    index = np.rint(np.linalg.inv(img.affine) @ world)[:3].astype(int)
    assert img.get_fdata()[tuple(index)] == data[0, 0, 0]


def test_oblique_affine_is_reoriented_to_the_closest_canonical(tmp_path):
    angle = np.deg2rad(15)
    affine = np.eye(4)
    affine[:3, :3] = [[0, 0, -2], [np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0]]
    img = load_volume(write(tmp_path / "oblique.nii", np.ones((3, 4, 5), np.float32), affine))
    assert nib.aff2axcodes(img.affine) == ("R", "A", "S")


def test_four_d_file_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="3-D volume is needed"):
        load_volume(write(tmp_path / "v4.nii.gz", np.zeros((2, 2, 2, 2), np.float32), np.eye(4)))


def test_nan_and_inf_are_rejected(tmp_path):
    data = np.ones((2, 2, 2), np.float32)
    data[1, 1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        load_volume(write(tmp_path / "nan.nii.gz", data, np.eye(4)))


def test_not_a_nifti_file_is_rejected(tmp_path):
    path = tmp_path / "fake.nii.gz"
    path.write_bytes(gzip.compress(b"this is not an image"))
    with pytest.raises(ValueError, match="not a readable NIfTI"):
        load_volume(path)


def test_build_record_mismatch_is_rejected(tmp_path):
    """A volume changed after its build is refused; the local build record wins over the manifest."""
    path = write(tmp_path / "ct.nii.gz", np.zeros((2, 2, 2), np.int16), np.eye(4))
    (tmp_path / "manifest.json").write_text(json.dumps({"files": {"ct.nii.gz": {"sha256": "0" * 64}}}))
    with pytest.raises(ValueError, match="does not match the data build record"):
        load_volume("ct", data_dir=tmp_path)
    record = {"files": {"ct.nii.gz": {"sha256": sha256_of_nifti(path)}}}
    (tmp_path / ".build-record.json").write_text(json.dumps(record))
    assert load_volume("ct", data_dir=tmp_path).shape == (2, 2, 2)


def test_landmarks_by_name_with_a_helpful_error(data_dir):
    promontory = landmark("sacral_promontory")
    assert promontory == (0.0, 0.0, 0.0)
    assert load_landmarks()["s1_s2_foramen_left"][0] < 0
    with pytest.raises(ValueError, match="s1_s2_foramen_left"):
        landmark("s1_s2_foramen")


def test_bad_json_is_a_value_error(tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_json("broken", data_dir=tmp_path)


def test_empty_name_is_rejected():
    with pytest.raises(ValueError, match="empty"):
        resolve_path("")
