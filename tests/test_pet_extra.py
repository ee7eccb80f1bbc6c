"""utils.pet additions for notebook 02: what-if SUVs, equivalent diameter, blurred-sphere profile, recovery
table. Worked examples by hand, properties, and clear errors."""

import math

import nibabel as nib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from utils import pet

FDG_SIDECAR = {
    "TracerRadionuclide": "F18",
    "RadionuclideHalfLife": 6586.2,
    "InjectedRadioactivity": 230e6,
    "InjectedRadioactivityUnits": "Bq",
    "BodyWeight": 65.0,
    "BodyWeightUnits": "kg",
    "InjectionStart": 0,
    "ScanStart": 3720,
    "ImageDecayCorrected": True,
    "ImageDecayCorrectionTime": 3720,
    "Units": "Bq/mL",
}


# --- suv_what_if ----------------------------------------------------------------------------------
def test_what_if_without_changes_is_the_sidecar_suv():
    # 5000 Bq/mL x 65000 g / (230e6 Bq x 2^(-62/109.77)) = 2.0902 (the worked example of test_pet.py)
    assert pet.suv_what_if(5000.0, FDG_SIDECAR) == pytest.approx(2.0902, abs=1e-4)
    assert pet.suv_what_if(5000.0, FDG_SIDECAR) == pytest.approx(5000.0 * pet.sidecar_suv_factor(FDG_SIDECAR))


def test_what_if_weight_scales_in_proportion():
    base = pet.suv_what_if(5000.0, FDG_SIDECAR)
    assert pet.suv_what_if(5000.0, FDG_SIDECAR, weight_kg=75.0) == pytest.approx(base * 75.0 / 65.0)


def test_what_if_clock_error_over_corrects_decay():
    # injection logged 10 min early: 72 min instead of 62, SUV rises by 2^(10/109.77) = 1.0652
    base = pet.suv_what_if(5000.0, FDG_SIDECAR)
    late = pet.suv_what_if(5000.0, FDG_SIDECAR, elapsed_min=72.0)
    assert late / base == pytest.approx(2 ** (10 / 109.77))
    assert late / base == pytest.approx(1.0652, abs=1e-4)


def test_what_if_without_decay_correction_reads_low():
    no_decay = pet.suv_what_if(5000.0, FDG_SIDECAR, decay_correct=False)
    assert no_decay == pytest.approx(pet.suv_bw(5000.0, 230e6, 65.0, 0.0, 109.77))
    assert no_decay / pet.suv_what_if(5000.0, FDG_SIDECAR) == pytest.approx(2 ** (-62 / 109.77))


@pytest.mark.parametrize("fraction", [0.0, 0.05, 0.2, 0.5])
def test_what_if_extravasation_lowers_suv_by_the_fraction(fraction):
    base = pet.suv_what_if(5000.0, FDG_SIDECAR)
    assert pet.suv_what_if(5000.0, FDG_SIDECAR, extravasated_fraction=fraction) == pytest.approx(
        base * (1 - fraction)
    )


def test_what_if_reads_units_from_the_sidecar():
    scaled = {**FDG_SIDECAR, "InjectedRadioactivity": 230.0, "InjectedRadioactivityUnits": "MBq"}
    scaled["Units"] = "kBq/mL"
    assert pet.suv_what_if(5.0, scaled) == pytest.approx(pet.suv_what_if(5000.0, FDG_SIDECAR))


def test_what_if_on_arrays():
    out = pet.suv_what_if(np.array([0.0, 5000.0, 10000.0]), FDG_SIDECAR, extravasated_fraction=0.1)
    np.testing.assert_allclose(out, np.array([0.0, 1.0, 2.0]) * 0.9 * pet.suv_what_if(5000.0, FDG_SIDECAR))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"extravasated_fraction": 1.0}, "extravasated_fraction"),
        ({"extravasated_fraction": -0.1}, "extravasated_fraction"),
        ({"extravasated_fraction": 20}, "not %"),
        ({"weight_kg": 0.0}, "weight_kg"),
        ({"elapsed_min": -5.0}, "elapsed_min"),
        ({"decay_correct": "no"}, "decay_correct"),
    ],
)
def test_what_if_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pet.suv_what_if(5000.0, FDG_SIDECAR, **kwargs)


def test_what_if_rejects_a_sidecar_without_activity():
    with pytest.raises(ValueError, match="InjectedRadioactivity"):
        pet.suv_what_if(5000.0, {k: v for k, v in FDG_SIDECAR.items() if k != "InjectedRadioactivity"})


# --- equivalent_diameter_mm -----------------------------------------------------------------------
def test_equivalent_diameter_of_one_millilitre():
    # (6 x 1000 mm^3 / pi)^(1/3) = 1909.86^(1/3) = 12.407 mm
    assert pet.equivalent_diameter_mm(1.0) == pytest.approx(12.407, abs=1e-3)


@given(st.floats(min_value=0.01, max_value=1000.0))
@settings(max_examples=50, deadline=None)
def test_equivalent_diameter_round_trips_the_sphere_volume(volume_ml):
    d = pet.equivalent_diameter_mm(volume_ml)
    assert math.pi / 6 * d**3 / 1000.0 == pytest.approx(volume_ml, rel=1e-9)


def test_equivalent_diameter_on_arrays_and_errors():
    np.testing.assert_allclose(pet.equivalent_diameter_mm(np.array([1.0, 8.0])), [12.407, 24.814], atol=1e-3)
    with pytest.raises(ValueError, match="volume_ml"):
        pet.equivalent_diameter_mm(0.0)


# --- blurred_sphere_profile ------------------------------------------------------------------------
@given(st.floats(min_value=1.0, max_value=60.0), st.floats(min_value=2.0, max_value=12.0))
@settings(max_examples=60, deadline=None)
def test_profile_centre_equals_the_recovery_coefficient(diameter_mm, fwhm_mm):
    assert pet.blurred_sphere_profile(0.0, diameter_mm, fwhm_mm) == pytest.approx(
        pet.recovery_coefficient(diameter_mm, fwhm_mm), abs=1e-12
    )
    # continuous through the centre (the closed form has a removable 0/0 there)
    assert pet.blurred_sphere_profile(1e-4, diameter_mm, fwhm_mm) == pytest.approx(
        pet.recovery_coefficient(diameter_mm, fwhm_mm), abs=1e-6
    )


def test_profile_is_symmetric_and_falls_with_distance():
    r = np.linspace(0.0, 20.0, 201)
    profile = pet.blurred_sphere_profile(r, 10.0, 6.0)
    assert np.all(np.diff(profile) <= 1e-12)
    np.testing.assert_allclose(pet.blurred_sphere_profile(-r, 10.0, 6.0), profile)


def test_large_sphere_profile_is_half_at_the_edge():
    # far larger than the PSF: a flat top at 1, 0.5 at the surface, 0 well outside
    assert pet.blurred_sphere_profile(0.0, 200.0, 5.0) == pytest.approx(1.0)
    assert pet.blurred_sphere_profile(100.0, 200.0, 5.0) == pytest.approx(0.5, abs=0.01)
    assert pet.blurred_sphere_profile(130.0, 200.0, 5.0) == pytest.approx(0.0, abs=1e-9)


def test_profile_matches_a_numerical_3d_blur():
    step, n, diameter, fwhm = 0.5, 81, 10.0, 6.0
    x = (np.arange(n) - n // 2) * step
    xx, yy, zz = np.meshgrid(x, x, x, indexing="ij")
    ball = (xx**2 + yy**2 + zz**2 <= (diameter / 2) ** 2).astype(float)
    blurred = ndimage.gaussian_filter(ball, fwhm / (2 * np.sqrt(2 * np.log(2))) / step)
    # the voxelised ball is slightly off the exact sphere, hence the tolerance
    np.testing.assert_allclose(
        blurred[:, n // 2, n // 2], pet.blurred_sphere_profile(x, diameter, fwhm), atol=0.02
    )


@pytest.mark.parametrize(("diameter", "fwhm"), [(0.0, 5.0), (10.0, 0.0), (10.0, -1.0)])
def test_profile_rejects_bad_sizes(diameter, fwhm):
    with pytest.raises(ValueError):
        pet.blurred_sphere_profile(0.0, diameter, fwhm)


# --- observed_recovery -----------------------------------------------------------------------------
def test_observed_recovery_by_hand():
    # (12.59 - 7.50) / (22 - 7.50) = 5.09 / 14.5 = 0.351
    assert pet.observed_recovery(12.59, 22.0, 7.5) == pytest.approx(0.351, abs=1e-3)
    assert pet.observed_recovery(22.0, 22.0, 7.5) == 1.0
    assert pet.observed_recovery(7.5, 22.0, 7.5) == 0.0


def test_observed_recovery_needs_contrast():
    with pytest.raises(ValueError, match="no recovery"):
        pet.observed_recovery(5.0, 2.0, 2.0)


# --- lesion_recovery_table --------------------------------------------------------------------------
def _toy_images():
    """A 4-mm SUV grid with background 2 and a 3x3x3-voxel lesion of SUV 10; labels on the same grid."""
    affine = np.diag([4.0, 4.0, 4.0, 1.0])
    suv = np.full((12, 12, 12), 2.0, dtype=np.float32)
    labels = np.zeros((12, 12, 12), dtype=np.uint8)
    suv[5:8, 5:8, 5:8] = 10.0
    labels[5:8, 5:8, 5:8] = 7
    return nib.Nifti1Image(suv, affine), nib.Nifti1Image(labels, affine)


def test_recovery_table_on_a_toy_lesion():
    suv_img, labels_img = _toy_images()
    lesion = {"id": 7, "name": "toy", "volume_ml": 27 * 64 / 1000.0, "suv_dotatate": 10.0}
    (row,) = pet.lesion_recovery_table(
        suv_img, labels_img, [lesion], truth_key="suv_dotatate", background_suv=2.0, fwhm_mm=6.0
    )
    assert row["name"] == "toy"
    assert row["diameter_mm"] == pytest.approx(pet.equivalent_diameter_mm(1.728))
    assert row["suvmax"] == pytest.approx(10.0)
    assert row["rc_observed"] == pytest.approx(1.0)
    assert row["rc_model"] == pytest.approx(pet.recovery_coefficient(row["diameter_mm"], 6.0))
    assert row["suvmax_model"] == pytest.approx(2.0 + row["rc_model"] * 8.0)


def test_recovery_table_errors():
    suv_img, labels_img = _toy_images()
    lesion = {"id": 7, "name": "toy", "volume_ml": 1.7}
    with pytest.raises(ValueError, match="suv_fdg or suv_dotatate"):
        pet.lesion_recovery_table(
            suv_img, labels_img, [lesion], truth_key="suv_fdg", background_suv=2.0, fwhm_mm=6.0
        )
    with pytest.raises(ValueError, match="nibabel image"):
        pet.lesion_recovery_table(
            np.zeros((3, 3, 3)), labels_img, [lesion], truth_key="suv_fdg", background_suv=2.0, fwhm_mm=6.0
        )
