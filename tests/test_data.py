"""The committed images teach what the case says: SUVs, lesion contrasts, HU ranges, MRI contrasts."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from nibabel.processing import resample_from_to
from scipy import ndimage

from utils.anatomy import TISSUES
from utils.build_data import compare_with_manifest, local_problems
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


def test_local_data_are_built_and_match_the_committed_manifest(data_dir):
    assert local_problems(data_dir) == []
    assert compare_with_manifest(data_dir) == []


def test_volumes_load_ras_and_sagittal_mri_is_stored_las(volumes, data_dir):
    for img in volumes.values():
        assert nib.aff2axcodes(img.affine) == ("R", "A", "S")
    assert nib.aff2axcodes(nib.load(data_dir / "mri_sag_t2w.nii.gz").affine) == ("L", "A", "S")


def test_sidecars_describe_each_acquisition(data_dir):
    """MR sidecars carry sequence, field, TR/TE or b-value, pixel size and slice thickness; dates in order."""
    for name in ("mri_sag_t1w", "mri_sag_t2w", "mri_ax_t2w", "mri_abd_t2w", "mri_dwi_b800", "mri_adc"):
        side = load_sidecar(name)
        assert side["MagneticFieldStrength"] == 3.0 and side["SeriesDescription"]
        assert side["RepetitionTime"] > side["EchoTime"] > 0
        assert max(side["PixelSpacing_mm"]) <= side["SliceThickness_mm"]
    assert max(load_sidecar("mri_sag_t2w")["PixelSpacing_mm"]) < 1.0 <= load_sidecar("mri_sag_t2w")["SliceThickness_mm"] <= 4.0
    assert load_sidecar("mri_dwi_b800")["bValue"] == 800
    ct = load_sidecar("ct")
    assert ct["PixelSpacing_mm"] == [1.5, 1.5] and {"KVP", "Exposure_mAs", "ConvolutionKernel", "CTDIvol_mGy"} <= ct.keys()
    dates = [load_sidecar(n)["StudyDate"] for n in ("mri_sag_t2w", "pet_fdg", "pet_dotatate")]
    assert dates == sorted(dates) and len(set(dates)) == 3, "MRI, then FDG, then DOTATATE, on different days"


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
    for name, row in lesion_truth.items():  # SUVmax: the 5-mm lesion's mean is diluted by partial volume
        assert suv["dotatate"][labels == row["id"]].max() > 1.2 * liver, name


def test_ct_hounsfield_units_are_in_their_usual_ranges(volumes, labels_on, label_ids):
    ct = volumes["ct"].get_fdata(dtype=np.float32)
    labels = labels_on("ct")

    def median(name, erode=1):
        return float(np.median(ct[core(labels == label_ids[name], erode)]))

    assert -130 < median("subcutaneous_fat") < -70
    assert 30 < median("psoas") < 65 and 45 < median("liver_right_lobe") < 70 and 35 < median("spleen") < 60
    assert 120 < median("vertebrae", 2) < 300, "cancellous bone inside the cortex"
    assert float(np.percentile(ct[labels == label_ids["femora"]], 95)) > 900, "femoral cortex"
    assert median("femora", 3) < 50, "fatty marrow in the femoral shafts"
    assert -900 < median("lungs") < -750
    assert median("bladder", 3) < 20, "urine"
    assert np.median(ct[labels == 0]) < -950


def test_mri_contrasts(volumes, labels_on, label_ids, lesion_truth):
    t1, t2 = (volumes[n].get_fdata(dtype=np.float32) for n in ("mri_sag_t1w", "mri_sag_t2w"))
    labels = labels_on("mri_sag_t2w")

    def mean(img, name, erode=1):
        # the median: the CSF label also holds the thin epidural fat around the dural sac
        return float(np.median(img[core(labels == label_ids[name], erode)]))

    for img in (t1, t2):
        assert mean(img, "presacral_fat") > 2 * mean(img, "erector_spinae"), "fat is bright on T1w and T2w"
    assert mean(t2, "spinal_canal_csf") > mean(t2, "presacral_mass") > 2 * mean(t2, "erector_spinae")
    assert mean(t1, "spinal_canal_csf") < mean(t1, "erector_spinae"), "CSF is dark on T1w"
    abd = volumes["mri_abd_t2w"].get_fdata(dtype=np.float32)
    abd_labels = labels_on("mri_abd_t2w")
    liver = float(abd[core(abd_labels == label_ids["liver_right_lobe"], 1)].mean())
    for name in lesion_truth:
        if name.startswith("liver_lesion_") and lesion_truth[name]["volume_ml"] > 1:
            lesion = float(abd[abd_labels == label_ids[name]].mean())
            assert lesion > 2.0 * liver, f"{name} is T2-bright against liver"


def test_liver_lesions_restrict_diffusion(volumes, labels_on, label_ids, lesion_truth):
    """ADC (10^-6 mm^2/s): liver about 1280, NET metastases below 1100 (restricted), CSF-like fluid high."""
    adc = volumes["mri_adc"].get_fdata(dtype=np.float32)
    labels = labels_on("mri_adc")
    liver = float(np.median(adc[core(labels == label_ids["liver_right_lobe"], 1)]))
    assert 1100 < liver < 1450
    big = [n for n, row in lesion_truth.items() if n.startswith("liver_lesion_") and row["volume_ml"] > 3]
    for name in big:
        assert float(np.median(adc[core(labels == label_ids[name], 1)])) < 1100, name


def test_lesion_table_agrees_with_the_label_map(data_dir, label_ids, lesion_truth):
    assert {name: row["id"] for name, row in lesion_truth.items()} == {n: label_ids[n] for n in lesion_truth}
    assert set(load_json("labels").values()) == set(label_ids)
