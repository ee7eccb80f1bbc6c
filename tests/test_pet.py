"""utils.pet: decay, SUV (worked examples by hand), sidecar parsing, ROI statistics, masks, recovery, SUL."""

import math

import nibabel as nib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from utils import pet

LN2 = math.log(2.0)


# --- decay ----------------------------------------------------------------------------------------
def test_half_lives_match_facts():
    assert pet.HALF_LIFE_MIN["F-18"] == 109.77
    assert pet.HALF_LIFE_MIN["Ga-68"] == pytest.approx(67.71)
    assert pet.HALF_LIFE_MIN["Lu-177"] == pytest.approx(6.647 * 1440)


def test_f18_decay_over_60_min_by_hand():
    # 2^(-60/109.77) = exp(-0.693147 * 0.546597) = exp(-0.378875) = 0.68463
    assert pet.decay_factor(60, pet.HALF_LIFE_MIN["F-18"]) == pytest.approx(0.68463, abs=1e-5)


def test_ga68_decay_over_60_min_by_hand():
    # 2^(-60/67.71) = exp(-0.693147 * 0.886132) = exp(-0.614221) = 0.54106: Ga-68 loses almost half in an hour
    assert pet.decay_factor(60, pet.HALF_LIFE_MIN["Ga-68"]) == pytest.approx(0.54106, abs=1e-5)


def test_decay_one_half_life_is_half_and_zero_time_is_one():
    assert pet.decay_factor(109.77, 109.77) == pytest.approx(0.5)
    assert pet.decay_factor(0, 67.71) == 1.0


def test_decay_factor_on_arrays():
    out = pet.decay_factor(np.array([0.0, 67.71, 2 * 67.71]), 67.71)
    np.testing.assert_allclose(out, [1.0, 0.5, 0.25])


@pytest.mark.parametrize("alias", ["F-18", "F18", "18F", "f18", "18-F"])
def test_half_life_aliases(alias):
    assert pet.radionuclide_half_life_min(alias) == 109.77


def test_unknown_radionuclide():
    with pytest.raises(ValueError, match="radionuclide"):
        pet.radionuclide_half_life_min("Tc-99m")


# --- SUV ------------------------------------------------------------------------------------------
def test_fdg_suv_worked_example_by_hand():
    # 230 MBq FDG, 65 kg, scan 62 min after injection, liver 5000 Bq/mL:
    # decay = 2^(-62/109.77) = 0.676041; activity at scan = 155.489 MBq;
    # SUV = 5000 Bq/mL x 65000 g / 155.489e6 Bq = 2.0902
    assert pet.suv_bw(5000.0, 230e6, 65.0, 62.0, 109.77) == pytest.approx(2.0902, abs=1e-4)


def test_ga68_suv_worked_example_by_hand():
    # 130 MBq DOTATATE, 65 kg, 55 min, 20 kBq/mL: decay = 2^(-55/67.71) = 0.569478;
    # SUV = 20000 x 65000 / (130e6 x 0.569478) = 17.560
    assert pet.suv_bw(20000.0, 130e6, 65.0, 55.0, 67.71) == pytest.approx(17.560, abs=1e-3)


def test_uniform_distribution_gives_suv_one():
    injected, weight, elapsed, half = 300e6, 80.0, 45.0, 109.77
    uniform_bq_ml = injected * 2 ** (-elapsed / half) / (weight * 1000)
    assert pet.suv_bw(uniform_bq_ml, injected, weight, elapsed, half) == pytest.approx(1.0)


def test_forgetting_decay_correction_underestimates_suv():
    with_decay = pet.suv_bw(5000.0, 230e6, 65.0, 62.0, 109.77)
    without = pet.suv_bw(5000.0, 230e6, 65.0, 0.0, 109.77)
    assert without == pytest.approx(with_decay * 0.676041, rel=1e-5)


def test_suv_on_arrays_matches_scalars():
    conc = np.array([[1000.0, 2000.0], [0.0, 7500.0]])
    out = pet.suv_bw(conc, 230e6, 65.0, 62.0, 109.77)
    assert isinstance(out, np.ndarray) and out.shape == (2, 2)
    expected = [pet.suv_bw(float(c), 230e6, 65.0, 62.0, 109.77) for c in conc.ravel()]
    np.testing.assert_allclose(out.ravel(), expected)


@settings(max_examples=40, deadline=None)
@given(
    conc=st.floats(1.0, 1e6),
    factor=st.floats(0.01, 100.0),
    injected=st.floats(1e6, 1e10),
    weight=st.floats(3.0, 250.0),
    elapsed=st.floats(0.0, 300.0),
)
def test_suv_linear_in_concentration_inverse_in_activity(conc, factor, injected, weight, elapsed):
    base = pet.suv_bw(conc, injected, weight, elapsed, 109.77)
    assert pet.suv_bw(conc * factor, injected, weight, elapsed, 109.77) == pytest.approx(
        base * factor, rel=1e-9
    )
    assert pet.suv_bw(conc, injected * factor, weight, elapsed, 109.77) == pytest.approx(
        base / factor, rel=1e-9
    )
    assert pet.suv_bw(conc, injected, weight * factor, elapsed, 109.77) == pytest.approx(
        base * factor, rel=1e-9
    )


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"weight_kg": 0.0}, "weight_kg"),
        ({"weight_kg": -70.0}, "weight_kg"),
        ({"weight_kg": float("nan")}, "weight_kg"),
        ({"injected_bq": 0.0}, "injected_bq"),
        ({"injected_bq": -1e6}, "injected_bq"),
        ({"half_life_min": 0.0}, "half_life_min"),
        ({"half_life_min": -109.77}, "half_life_min"),
        ({"elapsed_min": -1.0}, "elapsed_min"),
        ({"elapsed_min": float("inf")}, "elapsed_min"),
        ({"concentration_bq_ml": float("nan")}, "concentration_bq_ml"),
        ({"concentration_bq_ml": np.array([1.0, np.nan])}, "concentration_bq_ml"),
        ({"weight_kg": True}, "weight_kg"),
    ],
)
def test_suv_rejects_nonsense(kwargs, name):
    args = {
        "concentration_bq_ml": 5000.0,
        "injected_bq": 230e6,
        "weight_kg": 65.0,
        "elapsed_min": 62.0,
        "half_life_min": 109.77,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        pet.suv_bw(**args)


# --- sidecar and SUV volume -----------------------------------------------------------------------
def _sidecar(**changes):
    sidecar = {
        "TracerRadionuclide": "F18",
        "RadionuclideHalfLife": 109.77 * 60,
        "InjectedRadioactivity": 230e6,
        "InjectedRadioactivityUnits": "Bq",
        "BodyWeight": 65.0,
        "BodyWeightUnits": "kg",
        "TimeZero": "08:50:00",
        "InjectionStart": 0,
        "ScanStart": 62 * 60,
        "InjectionTime": "08:50:00",
        "ScanStartTime": "09:52:00",
        "Units": "Bq/mL",
        "ImageDecayCorrected": True,
        "ImageDecayCorrectionTime": 62 * 60,
    }
    sidecar.update(changes)
    return {k: v for k, v in sidecar.items() if v is not None}


def test_sidecar_elapsed_and_factor():
    assert pet.sidecar_elapsed_min(_sidecar()) == pytest.approx(62.0)
    assert pet.sidecar_suv_factor(_sidecar()) == pytest.approx(2.0902 / 5000, rel=1e-4)


def test_sidecar_clock_times_fallback_and_midnight():
    clock_only = _sidecar(ScanStart=None, ImageDecayCorrectionTime=None)
    assert pet.sidecar_elapsed_min(clock_only) == pytest.approx(62.0)
    overnight = _sidecar(ScanStart=None, InjectionTime="23:30:00", ScanStartTime="00:15:00")
    assert pet.sidecar_elapsed_min(overnight) == pytest.approx(45.0)


def test_sidecar_units_and_reference_time():
    in_mbq = _sidecar(InjectedRadioactivity=230.0, InjectedRadioactivityUnits="MBq")
    assert pet.sidecar_suv_factor(in_mbq) == pytest.approx(pet.sidecar_suv_factor(_sidecar()))
    # Image decay-corrected to injection time: no decay of the injected activity.
    at_injection = _sidecar(ImageDecayCorrectionTime=0)
    assert pet.sidecar_suv_factor(at_injection) == pytest.approx(65000 / 230e6)
    # Without RadionuclideHalfLife the tracer's table value is used.
    assert pet.sidecar_suv_factor(_sidecar(RadionuclideHalfLife=None)) == pytest.approx(
        pet.sidecar_suv_factor(_sidecar())
    )


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"BodyWeight": 0}, "BodyWeight"),
        ({"BodyWeightUnits": "lb"}, "BodyWeightUnits"),
        ({"InjectedRadioactivityUnits": "mCi"}, "InjectedRadioactivityUnits"),
        ({"Units": "cps"}, "Units"),
        ({"ScanStart": -60, "ImageDecayCorrectionTime": -60}, "elapsed"),
        ({"InjectedRadioactivity": None}, "InjectedRadioactivity"),
        ({"ScanStart": None, "ScanStartTime": "late"}, "ScanStartTime"),
    ],
)
def test_sidecar_rejects_nonsense(changes, name):
    with pytest.raises(ValueError, match=name):
        pet.sidecar_suv_factor(_sidecar(**changes))


def test_suv_volume_converts_every_voxel():
    data = np.full((6, 5, 4), 5000.0, dtype=np.float32)
    data[2, 2, 2] = 25000.0
    affine = np.diag([4.0, 4.0, 4.0, 1.0])
    suv = pet.suv_volume(nib.Nifti1Image(data, affine), _sidecar())
    assert isinstance(suv, nib.Nifti1Image)
    np.testing.assert_allclose(suv.affine, affine)
    values = suv.get_fdata()
    assert values[0, 0, 0] == pytest.approx(2.0902, abs=1e-4)
    assert values[2, 2, 2] == pytest.approx(5 * 2.0902, abs=5e-4)


def test_suv_volume_needs_an_image():
    with pytest.raises(ValueError, match="img"):
        pet.suv_volume(np.zeros((2, 2, 2)), _sidecar())


# --- ROI statistics -------------------------------------------------------------------------------
def test_suv_max_and_mean_with_mask():
    suv = np.arange(24, dtype=float).reshape(2, 3, 4)
    mask = np.zeros_like(suv, dtype=bool)
    mask[0, 1, :] = True  # values 4, 5, 6, 7
    assert pet.suv_max(suv, mask) == 7.0
    assert pet.suv_mean(suv, mask) == 5.5
    assert pet.suv_max(suv) == 23.0


def test_roi_rejects_empty_or_mismatched_mask_and_nan():
    suv = np.ones((3, 3, 3))
    with pytest.raises(ValueError, match="empty"):
        pet.suv_max(suv, np.zeros((3, 3, 3), bool))
    with pytest.raises(ValueError, match="shape"):
        pet.suv_mean(suv, np.ones((2, 3, 3), bool))
    suv[1, 1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pet.suv_max(suv)


def test_sphere_mask_volume_and_position():
    img = nib.Nifti1Image(np.zeros((60, 60, 60), np.float32), np.diag([1.0, 1.0, 1.0, 1.0]))
    mask = pet.sphere_mask(img, (30.0, 30.0, 30.0), 30.0)
    assert mask.sum() == pytest.approx(4 / 3 * math.pi * 15**3, rel=0.01)
    assert mask[30, 30, 30] and mask[44, 30, 30] and not mask[46, 30, 30]


def test_sphere_mask_follows_a_flipped_affine():
    # LAS storage: array index 0 is patient left (x = +40 mm ... -39 mm).
    affine = np.array([[-1.0, 0, 0, 40.0], [0, 2.0, 0, 0], [0, 0, 2.0, 0], [0, 0, 0, 1]])
    img = nib.Nifti1Image(np.zeros((80, 20, 20), np.float32), affine)
    mask = pet.sphere_mask(img, (30.0, 10.0, 10.0), 3.0)
    assert mask[10, 5, 5]  # x = 40 - 10 = 30 mm, y = 10, z = 10
    assert mask.sum() == 3  # 1-mm steps along x inside 1.5 mm radius; 2-mm steps elsewhere


def test_sphere_mask_outside_the_image():
    img = nib.Nifti1Image(np.zeros((10, 10, 10), np.float32), np.eye(4))
    with pytest.raises(ValueError, match="outside"):
        pet.sphere_mask(img, (500.0, 0.0, 0.0), 10.0)
    with pytest.raises(ValueError, match="diameter_mm"):
        pet.sphere_mask(img, (5.0, 5.0, 5.0), 0.0)


def test_suv_peak_of_uniform_region_is_its_value():
    img = nib.Nifti1Image(np.full((20, 20, 20), 3.5, np.float32), np.diag([4.0, 4.0, 4.0, 1.0]))
    assert pet.suv_peak(img) == pytest.approx(3.5)


def test_suv_peak_sphere_volume_from_a_point_source():
    # One hot voxel (value 1) fully inside the sphere: the peak is voxel volume / sphere volume,
    # 64 mm^3 / 904.8 mm^3 = 0.0707 for the 12-mm sphere of Lodge et al. 2012.
    data = np.zeros((15, 15, 15), np.float32)
    data[7, 7, 7] = 1.0
    peak = pet.suv_peak(nib.Nifti1Image(data, np.diag([4.0, 4.0, 4.0, 1.0])))
    assert peak == pytest.approx(64.0 / (4 / 3 * math.pi * 6.0**3), rel=0.02)
    assert peak < pet.suv_max(data)


def test_suv_peak_lies_between_mean_and_max_of_a_hot_lesion():
    rng = np.random.default_rng(0)
    data = rng.normal(2.0, 0.3, (30, 30, 30))
    grid = np.indices(data.shape) - 15
    radius_vox = np.sqrt((grid**2).sum(0))
    lesion = radius_vox <= 5  # 10 mm radius on the 2-mm grid
    data[lesion] += 12.0 - 1.5 * radius_vox[lesion]  # hottest at the centre, as a real tumour often is
    img = nib.Nifti1Image(data.astype(np.float32), np.diag([2.0, 2.0, 2.0, 1.0]))
    peak = pet.suv_peak(img, lesion)
    assert pet.suv_mean(img, lesion) < peak < pet.suv_max(img, lesion)


def test_suv_peak_centre_is_restricted_to_the_mask():
    data = np.zeros((20, 20, 20), np.float32)
    data[3, 3, 3] = 100.0
    far = np.zeros(data.shape, bool)
    far[15:, 15:, 15:] = True
    assert pet.suv_peak(data, far, voxel_mm=(4, 4, 4)) == 0.0


def test_suv_peak_on_plain_array_needs_voxel_size():
    with pytest.raises(ValueError, match="voxel_mm"):
        pet.suv_peak(np.ones((5, 5, 5)))


def test_uptake_ratio():
    assert pet.uptake_ratio(25.0, 7.5) == pytest.approx(10 / 3)
    with pytest.raises(ValueError, match="reference_suv"):
        pet.uptake_ratio(25.0, 0.0)


# --- labels, reference regions --------------------------------------------------------------------
def _label_image():
    """2-mm label grid: liver (ids 1, 2 = right, left lobe) holding a 10-mm lesion (id 3); spleen (id 4)."""
    labels = np.zeros((60, 40, 40), np.int16)
    labels[5:35, 5:35, 5:35] = 1
    labels[5:35, 5:35, 20:35] = 2
    grid = np.indices(labels.shape)
    lesion = ((grid - np.array([20, 20, 20])[:, None, None, None]) ** 2).sum(0) <= 2.5**2
    labels[lesion] = 3
    labels[40:55, 10:30, 10:30] = 4
    names = {1: "liver_right_lobe", 2: "liver_left_lobe", 3: "liver_lesion_1", 4: "spleen"}
    return nib.Nifti1Image(labels, np.diag([2.0, 2.0, 2.0, 1.0])), names


def test_organ_label_ids_excludes_lesions():
    _, names = _label_image()
    assert pet.organ_label_ids(names, "liver") == [1, 2]
    assert pet.organ_label_ids(names, "spleen") == [4]
    with pytest.raises(ValueError, match="kidney"):
        pet.organ_label_ids(names, "kidney")


def test_label_mask_same_grid_and_coarser_grid():
    labels_img, _ = _label_image()
    same = pet.label_mask(labels_img, 4)
    assert same.sum() == 15 * 20 * 20
    coarse = nib.Nifti1Image(np.zeros((30, 20, 20), np.float32), np.diag([4.0, 4.0, 4.0, 1.0]))
    spleen = pet.label_mask(labels_img, [4], coarse)
    # 30 x 40 x 40 mm block on a 4-mm grid: about 7.5 x 10 x 10 voxels
    assert 600 <= spleen.sum() <= 900
    with pytest.raises(ValueError, match="label_ids"):
        pet.label_mask(labels_img, 99)


def test_label_mask_keeps_a_tiny_lesion_with_a_low_fraction():
    labels = np.zeros((40, 40, 40), np.int16)
    labels[21, 21, 21] = 7  # one 2-mm voxel, smaller than a 4-mm PET voxel
    labels_img = nib.Nifti1Image(labels, np.diag([2.0, 2.0, 2.0, 1.0]))
    coarse = nib.Nifti1Image(np.zeros((20, 20, 20), np.float32), np.diag([4.0, 4.0, 4.0, 1.0]))
    # It covers 1/64 of each of 8 PET voxels (it straddles their corners).
    assert pet.label_mask(labels_img, 7, coarse, min_fraction=0.01).sum() == 8
    assert not pet.label_mask(labels_img, 7, coarse, min_fraction=0.05).any()


def test_reference_region_avoids_lesion_and_edges():
    labels_img, names = _label_image()
    labels = np.asarray(labels_img.dataobj)
    suv = np.where(np.isin(labels, [1, 2]), 2.0, 0.5)
    suv[labels == 3] = 12.0
    suv = ndimage.gaussian_filter(suv, 6.0 / 2.355 / 2.0)  # 6 mm FWHM on the 2-mm grid
    img = nib.Nifti1Image(suv.astype(np.float32), labels_img.affine)
    region = pet.reference_region_mask(labels_img, names, img, margin_mm=10.0)
    assert region.any() and not np.any(region & (labels == 3))
    depth = ndimage.distance_transform_edt(np.isin(labels, [1, 2]), sampling=2.0)
    assert depth[region].min() > 10.0
    assert pet.suv_mean(img, region) == pytest.approx(2.0, abs=0.02)
    whole_liver = pet.suv_mean(img, np.isin(labels, [1, 2]))
    assert abs(whole_liver - 2.0) > 0.05  # spill-in and edges bias a naive liver ROI
    with pytest.raises(ValueError, match="margin"):
        pet.reference_region_mask(labels_img, names, img, margin_mm=40.0)


# --- partial volume -------------------------------------------------------------------------------
def test_recovery_coefficient_by_hand_formula():
    # Centre of a sphere (radius R) blurred by a 3-D Gaussian (sigma s):
    # erf(R / (s sqrt 2)) - sqrt(2 / pi) (R / s) exp(-R^2 / 2 s^2)
    fwhm, diameter = 6.0, 10.0
    s, r = fwhm / (2 * math.sqrt(2 * LN2)), diameter / 2
    by_hand = math.erf(r / (s * math.sqrt(2))) - math.sqrt(2 / math.pi) * (r / s) * math.exp(
        -(r**2) / (2 * s**2)
    )
    assert pet.recovery_coefficient(diameter, fwhm) == pytest.approx(by_hand, rel=1e-9)


def test_recovery_coefficient_matches_a_numeric_blur():
    voxel, fwhm, diameter = 0.5, 6.0, 10.0
    grid = (np.indices((61, 61, 61)) - 30) * voxel
    sphere = ((grid**2).sum(0) <= (diameter / 2) ** 2).astype(float)
    blurred = ndimage.gaussian_filter(sphere, fwhm / 2.355 / voxel)
    assert blurred[30, 30, 30] == pytest.approx(pet.recovery_coefficient(diameter, fwhm), abs=0.02)


def test_recovery_small_lesions_read_low_large_ones_fully():
    rc = pet.recovery_coefficient(np.array([5.0, 10.0, 20.0, 40.0]), 6.0)
    assert rc[0] < 0.3 and rc[-1] > 0.999
    assert np.all(np.diff(rc) > 0)


@settings(max_examples=40, deadline=None)
@given(d=st.floats(0.5, 80.0), extra=st.floats(0.1, 20.0), fwhm=st.floats(2.0, 12.0))
def test_recovery_rises_with_size_and_falls_with_blur(d, extra, fwhm):
    rc = pet.recovery_coefficient(d, fwhm)
    assert 0.0 <= rc <= 1.0
    assert pet.recovery_coefficient(d + extra, fwhm) >= rc
    assert pet.recovery_coefficient(d, fwhm + extra) <= rc


def test_recovery_rejects_nonsense():
    with pytest.raises(ValueError, match="fwhm_mm"):
        pet.recovery_coefficient(10.0, 0.0)
    with pytest.raises(ValueError, match="diameter_mm"):
        pet.recovery_coefficient(-1.0, 6.0)


# --- lean body mass -------------------------------------------------------------------------------
def test_lean_body_mass_janmahasatian_by_hand():
    # 65 kg, 165 cm woman: BMI = 65 / 1.65^2 = 23.875; LBM = 9270 x 65 / (8780 + 244 x 23.875) = 41.25 kg
    assert pet.lean_body_mass_kg(65.0, 165.0, "F") == pytest.approx(41.25, abs=0.01)
    # 80 kg, 180 cm man: BMI 24.691; LBM = 741600 / (6680 + 216 x 24.691) = 741600 / 12013.3 = 61.73 kg
    assert pet.lean_body_mass_kg(80.0, 180.0, "male") == pytest.approx(61.73, abs=0.01)
    assert pet.suv_to_sul(2.0, 65.0, 165.0, "F") == pytest.approx(2.0 * 41.25 / 65.0, abs=1e-3)


def test_lean_body_mass_rejects_nonsense():
    with pytest.raises(ValueError, match="sex"):
        pet.lean_body_mass_kg(65.0, 165.0, "X")
    with pytest.raises(ValueError, match="height_cm"):
        pet.lean_body_mass_kg(65.0, 0.0, "F")
