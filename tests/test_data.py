"""The committed images teach what the case says: SUVs, lesion contrasts, HU ranges, MRI contrasts."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from nibabel.processing import resample_from_to
from scipy import ndimage

from utils.anatomy import TISSUES
from utils.build_data import check
from utils.io import load_json, load_sidecar

SIDECAR_KEYS = {
    "TracerName",
    "TracerRadionuclide",
    "RadionuclideHalfLife",
    "InjectedRadioactivity",
    "InjectedRadioactivityUnits",
    "BodyWeight",
    "BodyHeight",
    "InjectionTime",
    "ScanStartTime",
    "TimeZero",
    "InjectionStart",
    "ScanStart",
    "Units",
}


@pytest.fixture(scope="session")
def labels_on(volumes):
    """Label map resampled (nearest neighbour) onto another volume's grid, cached per grid."""
    cache = {}

    def on(name):
        if name not in cache:
            cache[name] = np.asarray(resample_from_to(volumes["labels"], volumes[name], order=0).dataobj)
        return cache[name]

    return on


def core(mask, voxels=2):
    """Mask shrunk by a few voxels, away from blurred edges."""
    return ndimage.binary_erosion(mask, iterations=voxels) if voxels else mask


def test_committed_data_match_their_manifest(data_dir):
    assert check(data_dir) == []


def test_volumes_load_ras_and_mri_is_stored_las(volumes, data_dir):
    for img in volumes.values():
        assert nib.aff2axcodes(img.affine) == ("R", "A", "S")
    assert nib.aff2axcodes(nib.load(data_dir / "mri_t2w.nii.gz").affine) == ("L", "A", "S")


def test_pet_sidecars_hold_what_suv_needs(data_dir):
    for tracer, nuclide in (("fdg", "F18"), ("dotatate", "Ga68")):
        side = load_sidecar(f"pet_{tracer}")
        assert SIDECAR_KEYS <= side.keys()
        assert side["TracerRadionuclide"] == nuclide
        assert side["Units"] == "Bq/mL" and side["InjectedRadioactivityUnits"] == "Bq"
        h0, m0, _ = map(int, side["InjectionTime"].split(":"))
        h1, m1, _ = map(int, side["ScanStartTime"].split(":"))
        assert (h1 * 60 + m1) - (h0 * 60 + m0) == side["ScanStart"] / 60


@pytest.mark.parametrize("tracer", ["fdg", "dotatate"])
@pytest.mark.parametrize("organ, tissue", [("liver_right_lobe", "liver"), ("spleen", "spleen")])
def test_mean_suv_in_a_large_organ_matches_the_table(suv, labels_on, label_ids, tracer, organ, tissue):
    region = core(labels_on(f"pet_{tracer}") == label_ids[organ])
    assert region.sum() > 100
    values = suv[tracer][region]
    expected = getattr(TISSUES[tissue], f"suv_{tracer}")
    noise = values.std() / np.sqrt(region.sum() / 8)  # neighbouring voxels are correlated by the filter
    assert abs(values.mean() - expected) < max(4 * noise, 0.03 * expected)


def test_fdg_masses_are_avid_and_liver_lesions_are_not(suv, labels_on, label_ids, lesion_truth):
    labels = labels_on("pet_fdg")
    liver = suv["fdg"][core(labels == label_ids["liver_right_lobe"])].mean()
    for name, row in lesion_truth.items():
        ratio = suv["fdg"][labels == row["id"]].mean() / liver
        if name.endswith("_mass"):
            assert ratio > 2.0, name
        else:
            assert ratio < 1.1, name


def test_dotatate_uptake_exceeds_normal_liver_in_every_lesion(suv, labels_on, label_ids, lesion_truth):
    labels = labels_on("pet_dotatate")
    liver = suv["dotatate"][core(labels == label_ids["liver_right_lobe"])].mean()
    for name, row in lesion_truth.items():
        assert suv["dotatate"][labels == row["id"]].mean() > 1.2 * liver, name


def test_ct_hounsfield_units_are_in_their_usual_ranges(volumes, labels_on, label_ids):
    ct = volumes["ct"].get_fdata(dtype=np.float32)
    labels = labels_on("ct")

    def median(name):
        return float(np.median(ct[core(labels == label_ids[name], 1)]))

    assert -130 < median("subcutaneous_fat") < -70
    assert 20 < median("muscle") < 70 and 40 < median("liver_right_lobe") < 80
    assert 150 < median("vertebrae") < 400 and median("femora") > 500 and median("skull") > 700
    assert -900 < median("lungs") < -750
    assert np.median(ct[labels == 0]) < -950


def test_mri_contrasts(volumes, labels_on, label_ids, lesion_truth):
    t1, t2 = (volumes[n].get_fdata(dtype=np.float32) for n in ("mri_t1w", "mri_t2w"))
    labels = labels_on("mri_t2w")

    def mean(img, name, erode=1):
        return float(img[core(labels == label_ids[name], erode)].mean())

    for img in (t1, t2):
        assert mean(img, "subcutaneous_fat") > 2 * mean(img, "muscle"), "fat is bright on T1w and T2w"
    assert mean(t2, "spinal_canal_csf", 0) > mean(t2, "presacral_mass") > mean(t2, "muscle")
    assert mean(t1, "spinal_canal_csf", 0) < mean(t1, "muscle"), "CSF is dark on T1w"
    liver = mean(t2, "liver_right_lobe")
    for name in lesion_truth:
        if name.startswith("liver_lesion_") and lesion_truth[name]["volume_ml"] > 1:
            assert mean(t2, name, 0) > 2.5 * liver, f"{name} is T2-bright against liver"


def test_lesion_table_agrees_with_the_label_map(data_dir, label_ids, lesion_truth):
    assert {name: row["id"] for name, row in lesion_truth.items()} == {n: label_ids[n] for n in lesion_truth}
    assert set(load_json("labels").values()) == set(label_ids)
