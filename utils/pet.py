"""PET quantification: decay, body-weight SUV, ROI statistics (max, mean, peak), reference regions, recovery.

Conventions: activity in Bq, concentration in Bq/mL, time in min, lengths in mm (world RAS+), weight in kg.
Tissue density is taken as 1 g/mL, so SUV is dimensionless (Boellaard R et al.,
Eur J Nucl Med Mol Imaging 2015;42:328, DOI 10.1007/s00259-014-2961-x).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import nibabel as nib
import numpy as np
from nibabel.processing import resample_from_to
from nibabel.spatialimages import SpatialImage
from scipy import ndimage, special

from .constants import HALF_LIFE_MIN
from .validation import require_choice, require_finite, require_non_negative, require_positive

#: SUVpeak sphere: 12 mm diameter (0.905 mL, "about 1 mL"); Lodge MA, Chaudhry MA, Wahl RL, J Nucl Med
#: 2012;53:1041, DOI 10.2967/jnumed.111.101733; PERCIST: Wahl RL et al., J Nucl Med 2009;50 Suppl 1:122S.
SUV_PEAK_DIAMETER_MM = 12.0

_ACTIVITY_SCALE_TO_BQ = {"Bq": 1.0, "kBq": 1e3, "MBq": 1e6, "GBq": 1e9}
_CONCENTRATION_SCALE_TO_BQ_ML = {"Bq/mL": 1.0, "kBq/mL": 1e3, "MBq/mL": 1e6}
_SECONDS_PER_MIN = 60.0
_GRAMS_PER_KG = 1000.0
# Fraction of a voxel inside the SUVpeak sphere is estimated on this many sub-samples per axis: enough to
# make the sphere's volume right to about 1 % on 2-4 mm voxels, and the kernel stays tiny.
_SUBSAMPLES = 7


def _scalar_or_array(value: np.ndarray | float) -> float | np.ndarray:
    """A Python float for 0-d results, the array otherwise."""
    arr = np.asarray(value)
    return float(arr) if arr.ndim == 0 else arr


def radionuclide_half_life_min(radionuclide: str) -> float:
    """Half-life (min) of "F-18", "Ga-68" or "Lu-177"; also accepts "F18", "18F", "ga68" and the like."""
    text = str(radionuclide)
    key = "".join(re.findall(r"[A-Za-z]", text)).capitalize() + "-" + "".join(re.findall(r"\d", text))
    if key not in HALF_LIFE_MIN:
        raise ValueError(f"radionuclide must be one of {', '.join(HALF_LIFE_MIN)}; got {radionuclide!r}")
    return HALF_LIFE_MIN[key]


def decay_factor(elapsed_min: float | np.ndarray, half_life_min: float) -> float | np.ndarray:
    """Fraction of activity left after ``elapsed_min`` minutes: 2**(-elapsed/half-life), dimensionless."""
    elapsed = require_non_negative("elapsed_min", elapsed_min)
    half_life = require_positive("half_life_min", half_life_min)
    return _scalar_or_array(np.exp2(-np.asarray(elapsed) / half_life))


def suv_bw(
    concentration_bq_ml: float | np.ndarray,
    injected_bq: float,
    weight_kg: float,
    elapsed_min: float,
    half_life_min: float,
) -> float | np.ndarray:
    """Body-weight SUV: C (Bq/mL) / [injected activity decayed to scan time (Bq) / weight (g)], dimensionless.

    Definition: SUVbw, as standardised for FDG by the EANM guideline, Boellaard R
    et al., EJNMMI 2015;42:328, DOI 10.1007/s00259-014-2961-x: the injected activity is decay-corrected to
    the time the concentration refers to, and weight is in grams so that 1 g of tissue = 1 mL. Negative
    voxel values (reconstruction noise) are allowed and pass through; NaN is not.
    """
    concentration = require_finite("concentration_bq_ml", concentration_bq_ml)
    injected = require_positive("injected_bq", injected_bq)
    weight = require_positive("weight_kg", weight_kg)
    activity_at_scan_bq = injected * decay_factor(elapsed_min, half_life_min)
    return _scalar_or_array(np.asarray(concentration) * (weight * _GRAMS_PER_KG) / activity_at_scan_bq)


def _clock_seconds(text: str, key: str) -> float:
    """Seconds after midnight of an ``HH:MM:SS`` sidecar clock time."""
    try:
        clock = datetime.strptime(str(text), "%H:%M:%S")
    except ValueError as err:
        raise ValueError(f"sidecar {key} must be a clock time HH:MM:SS, got {text!r}") from err
    return clock.hour * 3600.0 + clock.minute * 60.0 + clock.second


def sidecar_elapsed_min(sidecar: Mapping[str, Any]) -> float:
    """Minutes from injection to the time the voxel values refer to, read from a BIDS-PET-style sidecar.

    Uses ``ImageDecayCorrectionTime`` when the image is decay-corrected, else ``ScanStart`` (both seconds
    after ``TimeZero``) minus ``InjectionStart``; falls back to the clock times ``InjectionTime`` and
    ``ScanStartTime`` (a scan after midnight counts as the next day).
    """
    if "ScanStart" in sidecar:
        reference_key = "ScanStart"
        if sidecar.get("ImageDecayCorrected") and "ImageDecayCorrectionTime" in sidecar:
            reference_key = "ImageDecayCorrectionTime"
        elapsed_s = require_finite(f"sidecar {reference_key}", sidecar[reference_key]) - require_finite(
            "sidecar InjectionStart", sidecar.get("InjectionStart", 0.0)
        )
    elif "InjectionTime" in sidecar and "ScanStartTime" in sidecar:
        elapsed_s = (
            _clock_seconds(sidecar["ScanStartTime"], "ScanStartTime")
            - _clock_seconds(sidecar["InjectionTime"], "InjectionTime")
        ) % (24 * 3600.0)
    else:
        raise ValueError("sidecar needs ScanStart (s after TimeZero) or InjectionTime and ScanStartTime")
    return float(require_non_negative("elapsed time from injection (min)", elapsed_s / _SECONDS_PER_MIN))


def _sidecar_scaled(
    sidecar: Mapping[str, Any], key: str, units_key: str, scales: Mapping[str, float]
) -> float:
    """A sidecar quantity converted with its units field (e.g. InjectedRadioactivity in MBq -> Bq)."""
    if key not in sidecar:
        raise ValueError(f"sidecar has no {key!r}")
    units = require_choice(f"sidecar {units_key}", sidecar.get(units_key, next(iter(scales))), scales)
    return float(require_positive(f"sidecar {key}", sidecar[key])) * scales[units]


def sidecar_suv_factor(sidecar: Mapping[str, Any]) -> float:
    """SUVbw per Bq/mL for this scan (g/Bq): weight / decay-corrected injected activity, from the sidecar."""
    injected_bq = _sidecar_scaled(
        sidecar, "InjectedRadioactivity", "InjectedRadioactivityUnits", _ACTIVITY_SCALE_TO_BQ
    )
    weight_kg = _sidecar_scaled(sidecar, "BodyWeight", "BodyWeightUnits", {"kg": 1.0})
    if "RadionuclideHalfLife" in sidecar:
        t_half_min = float(require_positive("sidecar RadionuclideHalfLife", sidecar["RadionuclideHalfLife"]))
        t_half_min /= _SECONDS_PER_MIN
    else:
        t_half_min = radionuclide_half_life_min(sidecar.get("TracerRadionuclide", ""))
    units_scale = _CONCENTRATION_SCALE_TO_BQ_ML[
        require_choice("sidecar Units", sidecar.get("Units", "Bq/mL"), _CONCENTRATION_SCALE_TO_BQ_ML)
    ]
    return units_scale * suv_bw(1.0, injected_bq, weight_kg, sidecar_elapsed_min(sidecar), t_half_min)


def suv_volume(img: SpatialImage, sidecar: Mapping[str, Any]) -> nib.Nifti1Image:
    """SUVbw image (float32, same grid) from a PET volume in activity concentration and its JSON sidecar."""
    if not isinstance(img, SpatialImage):
        raise ValueError(f"img must be a nibabel image (use utils.io.load_volume), got {type(img).__name__}")
    suv = img.get_fdata(dtype=np.float32) * np.float32(sidecar_suv_factor(sidecar))
    out = nib.Nifti1Image(suv, img.affine)
    out.header["descrip"] = b"SUVbw (synthetic)"
    return out


def _as_array(values: SpatialImage | np.ndarray, name: str = "suv") -> np.ndarray:
    """Voxel values of an image or array as a finite float array."""
    if isinstance(values, SpatialImage):
        arr = values.get_fdata(dtype=np.float32)
    else:
        arr = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _as_mask(mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """A non-empty boolean mask of ``shape`` (all True when ``mask`` is None)."""
    if mask is None:
        return np.ones(shape, dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != shape:
        raise ValueError(f"mask shape {mask.shape} must equal the image shape {shape}")
    if not mask.any():
        raise ValueError("mask is empty: it selects no voxel")
    return mask


def suv_max(suv: SpatialImage | np.ndarray, mask: np.ndarray | None = None) -> float:
    """Highest voxel value inside ``mask`` (whole image when None), in the image's units (SUV)."""
    arr = _as_array(suv)
    return float(arr[_as_mask(mask, arr.shape)].max())


def suv_mean(suv: SpatialImage | np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean voxel value inside ``mask`` (whole image when None), in the image's units (SUV)."""
    arr = _as_array(suv)
    return float(arr[_as_mask(mask, arr.shape)].mean())


def _voxel_sizes_mm(affine: np.ndarray) -> np.ndarray:
    """Voxel edge lengths (mm) along the three array axes of an affine."""
    return np.sqrt((np.asarray(affine)[:3, :3] ** 2).sum(axis=0))


def sphere_mask(img: SpatialImage, centre_mm: Iterable[float], diameter_mm: float) -> np.ndarray:
    """Boolean mask (image shape) of the voxels whose centres lie in a sphere at a world position (mm)."""
    centre = np.asarray(require_finite("centre_mm", list(centre_mm)), dtype=float)
    if centre.shape != (3,):
        raise ValueError(f"centre_mm must hold 3 world coordinates (x, y, z in mm), got {centre.shape}")
    radius = float(require_positive("diameter_mm", diameter_mm)) / 2.0
    shape = np.asarray(img.shape[:3])
    centre_vox = nib.affines.apply_affine(np.linalg.inv(img.affine), centre)
    # Only the sphere's bounding box is evaluated, so a small sphere on a whole-body grid stays cheap.
    reach = np.ceil(radius / _voxel_sizes_mm(img.affine)) + 1
    lo = np.clip(np.floor(centre_vox - reach), 0, shape).astype(int)
    hi = np.clip(np.ceil(centre_vox + reach) + 1, 0, shape).astype(int)
    mask = np.zeros(tuple(shape), dtype=bool)
    if np.any(hi <= lo):
        raise ValueError(f"centre_mm {centre.tolist()} lies outside the image (shape {tuple(shape)})")
    index = np.stack(np.meshgrid(*(np.arange(a, b) for a, b in zip(lo, hi, strict=True)), indexing="ij"), -1)
    world = nib.affines.apply_affine(img.affine, index)
    mask[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]] = ((world - centre) ** 2).sum(-1) <= radius**2
    if not mask.any():
        raise ValueError(f"the {2 * radius:g} mm sphere at {centre.tolist()} contains no voxel centre")
    return mask


def _sphere_kernel(voxel_mm: np.ndarray, diameter_mm: float) -> np.ndarray:
    """Weights (sum 1) of a sphere on a voxel grid: each weight is the fraction of the voxel inside it."""
    radius = diameter_mm / 2.0
    half = np.floor(radius / voxel_mm + 0.5).astype(int)
    sub = (np.arange(_SUBSAMPLES) + 0.5) / _SUBSAMPLES - 0.5
    axes = [(np.arange(-h, h + 1)[:, None] + sub).ravel() * v for h, v in zip(half, voxel_mm, strict=True)]
    x, y, z = np.meshgrid(*axes, indexing="ij")
    inside = (x**2 + y**2 + z**2 <= radius**2).astype(float)
    n = 2 * half + 1
    fractions = inside.reshape(n[0], _SUBSAMPLES, n[1], _SUBSAMPLES, n[2], _SUBSAMPLES).mean(axis=(1, 3, 5))
    return fractions / fractions.sum()


def suv_peak(
    suv: SpatialImage | np.ndarray,
    mask: np.ndarray | None = None,
    *,
    voxel_mm: Iterable[float] | None = None,
    diameter_mm: float = SUV_PEAK_DIAMETER_MM,
) -> float:
    """SUVpeak: the highest mean SUV in a 12-mm-diameter sphere (0.905 mL) centred on a voxel of ``mask``.

    As defined by Lodge MA, Chaudhry MA, Wahl RL, J Nucl Med 2012;53:1041, DOI 10.2967/jnumed.111.101733
    ("12-mm-diameter spheric region of interest positioned so as to maximize the enclosed average"); PERCIST
    1.0 (Wahl RL et al., J Nucl Med 2009;50 Suppl 1:122S) uses the same ~1 cm^3 sphere. The sphere is
    sampled with partial-voxel weights so that its volume is right on any grid (a 4-mm grid has no 12-mm
    sphere of whole voxels); its centre is restricted to the voxels of ``mask`` (the lesion VOI).
    ``voxel_mm`` is needed only when ``suv`` is a plain array.
    """
    arr = _as_array(suv)
    region = _as_mask(mask, arr.shape)
    if voxel_mm is None:
        if not isinstance(suv, SpatialImage):
            raise ValueError("voxel_mm is required when suv is a plain array (give the voxel size in mm)")
        voxel = _voxel_sizes_mm(suv.affine)
    else:
        voxel = np.asarray(require_positive("voxel_mm", list(voxel_mm)), dtype=float)
    kernel = _sphere_kernel(voxel, float(require_positive("diameter_mm", diameter_mm)))
    # Filter only the mask's bounding box plus the kernel's reach: a whole-body volume would take seconds.
    reach = np.asarray(kernel.shape) // 2
    nonzero = np.nonzero(region)
    lo = np.maximum(np.min(nonzero, axis=1) - reach, 0)
    hi = np.minimum(np.max(nonzero, axis=1) + reach + 1, arr.shape)
    box = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    local_mean = ndimage.correlate(arr[box], kernel, mode="nearest")
    return float(local_mean[region[box]].max())


def uptake_ratio(lesion_suv: float, reference_suv: float) -> float:
    """Lesion-to-reference uptake ratio, e.g. lesion SUVmax / liver (or spleen) SUVmean; unitless."""
    return float(require_non_negative("lesion_suv", lesion_suv)) / float(
        require_positive("reference_suv", reference_suv)
    )


def label_mask(
    labels_img: SpatialImage,
    label_ids: int | Iterable[int],
    like_img: SpatialImage | None = None,
    *,
    min_fraction: float = 0.5,
) -> np.ndarray:
    """Boolean mask of the given label ids, on ``like_img``'s grid (e.g. the 4-mm PET) or the label grid.

    On another grid each target voxel gets the fraction of its volume that the structure fills (sampled at
    k^3 points per voxel with nibabel's nearest-neighbour resampling) and is kept when the fraction reaches
    ``min_fraction``: 0.5 is a fair boundary, a small value (0.01) keeps every voxel the structure touches
    (so a 5-mm lesion is not lost on a 4-mm grid), 0.99 keeps only voxels wholly inside it.
    """
    ids = [int(label_ids)] if np.isscalar(label_ids) else [int(i) for i in label_ids]
    fraction = float(require_positive("min_fraction", min_fraction))
    if fraction > 1:
        raise ValueError(f"min_fraction must be in (0, 1], got {min_fraction!r}")
    selected = np.isin(np.asarray(labels_img.dataobj), ids)
    if not selected.any():
        raise ValueError(f"label_ids {ids} do not occur in the label image")
    if like_img is None or (
        like_img.shape[:3] == labels_img.shape[:3] and np.allclose(like_img.affine, labels_img.affine)
    ):
        return selected
    # Work only in the structure's bounding box and the matching box of the target grid: a whole-body
    # grid would cost seconds per structure.
    nonzero = np.nonzero(selected)
    lo = np.maximum(np.min(nonzero, axis=1) - 1, 0)
    hi = np.minimum(np.max(nonzero, axis=1) + 2, selected.shape)
    source = nib.Nifti1Image(
        selected[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]].astype(np.uint8),
        labels_img.affine @ nib.affines.from_matvec(np.eye(3), lo),
    )
    corners = np.array(np.meshgrid(*zip(lo - 0.5, hi - 0.5, strict=True), indexing="ij")).reshape(3, -1).T
    target_corners = nib.affines.apply_affine(np.linalg.inv(like_img.affine) @ labels_img.affine, corners)
    target_shape = np.asarray(like_img.shape[:3])
    t_lo = np.clip(np.floor(target_corners.min(0)) - 1, 0, target_shape).astype(int)
    t_hi = np.clip(np.ceil(target_corners.max(0)) + 2, 0, target_shape).astype(int)
    mask = np.zeros(tuple(target_shape), dtype=bool)
    if np.any(t_hi <= t_lo):
        return mask
    # k sub-samples per axis, about two per source voxel, so that partial overlaps are seen.
    k = int(
        np.clip(
            np.ceil(2 * _voxel_sizes_mm(like_img.affine).max() / _voxel_sizes_mm(labels_img.affine).min()),
            2,
            6,
        )
    )
    fine_affine = like_img.affine @ nib.affines.from_matvec(np.eye(3) / k, t_lo + (0.5 / k - 0.5))
    n = t_hi - t_lo
    samples = resample_from_to(source, (tuple(n * k), fine_affine), order=0, mode="constant", cval=0)
    covered = np.asarray(samples.dataobj).reshape(n[0], k, n[1], k, n[2], k).mean(axis=(1, 3, 5))
    mask[t_lo[0] : t_hi[0], t_lo[1] : t_hi[1], t_lo[2] : t_hi[2]] = covered >= fraction - 1e-9
    return mask


def organ_label_ids(label_names: Mapping[int, str], organ: str) -> list[int]:
    """Label ids of an organ's parenchyma: ``organ`` itself and ``organ_*`` names, never ``*lesion*``."""
    ids = [
        int(i)
        for i, name in label_names.items()
        if (name == organ or name.startswith(organ + "_")) and "lesion" not in name
    ]
    if not ids:
        raise ValueError(f"organ {organ!r} matches no label; label names are: {sorted(label_names.values())}")
    return ids


def reference_region_mask(
    labels_img: SpatialImage,
    label_names: Mapping[int, str],
    like_img: SpatialImage,
    *,
    organ: str = "liver",
    margin_mm: float = 10.0,
) -> np.ndarray:
    """Normal-organ reference region on ``like_img``'s grid: parenchyma at least ``margin_mm`` from its edge.

    Lesions are not parenchyma, so the margin also keeps the reference away from them: spill-out from hot
    lesions and partial volume at the organ edge would otherwise bias the reference. 10 mm is about twice the
    PET resolution (5-6 mm FWHM); it is this course's choice, not a guideline value. Use the mean SUV of the
    region as the liver (or, with ``organ="spleen"``, the spleen) reference.
    """
    margin = float(require_non_negative("margin_mm", margin_mm))
    organ_mask = label_mask(labels_img, organ_label_ids(label_names, organ), like_img, min_fraction=0.99)
    if not organ_mask.any():
        raise ValueError(f"{organ} has no voxel wholly inside it on this grid")
    nonzero = np.nonzero(organ_mask)
    lo = np.maximum(np.min(nonzero, axis=1) - 1, 0)
    hi = np.minimum(np.max(nonzero, axis=1) + 2, organ_mask.shape)
    box = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    depth_mm = ndimage.distance_transform_edt(organ_mask[box], sampling=_voxel_sizes_mm(like_img.affine))
    region = np.zeros_like(organ_mask)
    region[box] = depth_mm > margin
    if not region.any():
        raise ValueError(
            f"no {organ} voxel lies more than margin_mm={margin:g} mm inside it; use a smaller margin"
        )
    return region


def _normal_pdf(x: np.ndarray | float) -> np.ndarray:
    """Standard normal density."""
    return np.exp(-0.5 * np.square(x)) / np.sqrt(2.0 * np.pi)


def recovery_coefficient(diameter_mm: float | np.ndarray, fwhm_mm: float) -> float | np.ndarray:
    """Peak recovery coefficient (0-1) of a uniform sphere of ``diameter_mm`` imaged with a Gaussian PSF.

    The centre of a sphere of radius R blurred by an isotropic 3-D Gaussian (sigma = FWHM / 2.355) keeps the
    fraction of the PSF that falls inside the sphere, i.e. the Maxwell distribution's CDF at R.
    This is what a noise-free SUVmax recovers: measured = background + RC x (true - background). Partial
    volume matters for objects below about 2-3 FWHM (Soret M, Bacharach SL, Buvat I, J Nucl Med
    2007;48:932-945, DOI 10.2967/jnumed.106.035774). Ignores voxel sampling, noise and non-spherical shapes.
    """
    diameter = require_positive("diameter_mm", diameter_mm)
    sigma_mm = float(require_positive("fwhm_mm", fwhm_mm)) / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    x = np.asarray(diameter) / 2.0 / sigma_mm
    # Maxwell CDF written with erf: scipy.stats would add about 0.5 s to every kernel start.
    return _scalar_or_array(special.erf(x / np.sqrt(2.0)) - 2.0 * x * _normal_pdf(x))


def lean_body_mass_kg(weight_kg: float, height_cm: float, sex: str) -> float:
    """Lean body mass (kg), Janmahasatian: 9270 W / (6680 + 216 BMI) male, 9270 W / (8780 + 244 BMI) female.

    Janmahasatian S et al., Clin Pharmacokinet 2005;44:1051-1065; recommended for SUL over the James formula,
    which falls for very obese patients (Tahari AK et al., J Nucl Med 2014;55:1481, DOI
    10.2967/jnumed.113.136986). Coefficients checked here against secondary sources only (the primary
    paper was not read), so treat SUL as an optional extra.
    """
    weight = float(require_positive("weight_kg", weight_kg))
    height_m = float(require_positive("height_cm", height_cm)) / 100.0
    sex_key = require_choice("sex", str(sex).upper()[:1], ("F", "M"))
    bmi = weight / height_m**2
    return 9270.0 * weight / ((6680.0 + 216.0 * bmi) if sex_key == "M" else (8780.0 + 244.0 * bmi))


def suv_to_sul(suv: float | np.ndarray, weight_kg: float, height_cm: float, sex: str) -> float | np.ndarray:
    """SUL (SUV normalised to lean body mass) = SUVbw x LBM / weight, Janmahasatian LBM; dimensionless."""
    scale = lean_body_mass_kg(weight_kg, height_cm, sex) / float(weight_kg)
    return _scalar_or_array(np.asarray(require_finite("suv", suv)) * scale)


# --------------------------------------------------------------------------------------------------
# Additions for notebook 02 (PET basics and SUV): what-if SUVs, sphere size, blurred-sphere profiles,
# and a per-lesion recovery table.
# --------------------------------------------------------------------------------------------------
def _sidecar_half_life_min(sidecar: Mapping[str, Any]) -> float:
    """Half-life (min) from a sidecar: RadionuclideHalfLife (s) if present, else the tabulated value."""
    if "RadionuclideHalfLife" in sidecar:
        half_life_s = float(require_positive("sidecar RadionuclideHalfLife", sidecar["RadionuclideHalfLife"]))
        return half_life_s / _SECONDS_PER_MIN
    return radionuclide_half_life_min(sidecar.get("TracerRadionuclide", ""))


def suv_what_if(
    concentration_bq_ml: float | np.ndarray,
    sidecar: Mapping[str, Any],
    *,
    weight_kg: float | None = None,
    elapsed_min: float | None = None,
    decay_correct: bool = True,
    extravasated_fraction: float = 0.0,
) -> float | np.ndarray:
    """SUVbw (dimensionless) of a concentration (Bq/mL) when one input of the sidecar's SUV changes.

    ``weight_kg`` and ``elapsed_min`` replace the sidecar's weight and injection-to-scan time (a mistyped
    weight, a wrong clock); ``decay_correct=False`` divides by the injected activity without decaying it
    to scan time (a classic SUV error); ``extravasated_fraction`` (0-1) is the part of the
    injected activity left at the injection site: tissues then hold (1 - f) times the concentration they
    would have had, while the formula still divides by the whole injected activity, so SUV reads (1 - f)
    times too low. With no changes this equals ``concentration_bq_ml * sidecar_suv_factor(sidecar)``.
    """
    fraction = float(require_finite("extravasated_fraction", extravasated_fraction))
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"extravasated_fraction must be in [0, 1) (a fraction, not %), got {fraction!r}")
    if not isinstance(decay_correct, bool | np.bool_):
        raise ValueError(f"decay_correct must be True or False, got {decay_correct!r}")
    injected_bq = _sidecar_scaled(
        sidecar, "InjectedRadioactivity", "InjectedRadioactivityUnits", _ACTIVITY_SCALE_TO_BQ
    )
    weight = (
        _sidecar_scaled(sidecar, "BodyWeight", "BodyWeightUnits", {"kg": 1.0})
        if weight_kg is None
        else float(require_positive("weight_kg", weight_kg))
    )
    elapsed = sidecar_elapsed_min(sidecar) if elapsed_min is None else elapsed_min
    units_scale = _CONCENTRATION_SCALE_TO_BQ_ML[
        require_choice("sidecar Units", sidecar.get("Units", "Bq/mL"), _CONCENTRATION_SCALE_TO_BQ_ML)
    ]
    concentration = np.asarray(require_finite("concentration_bq_ml", concentration_bq_ml)) * units_scale
    return suv_bw(
        concentration * (1.0 - fraction),
        injected_bq,
        weight,
        elapsed if decay_correct else 0.0,
        _sidecar_half_life_min(sidecar),
    )


def equivalent_diameter_mm(volume_ml: float | np.ndarray) -> float | np.ndarray:
    """Diameter (mm) of the sphere that has the given volume (mL): (6 V / pi)^(1/3), with 1 mL = 1000 mm^3."""
    volume_mm3 = np.asarray(require_positive("volume_ml", volume_ml)) * 1000.0
    return _scalar_or_array(np.cbrt(6.0 * volume_mm3 / np.pi))


def blurred_sphere_profile(
    distance_mm: float | np.ndarray, diameter_mm: float, fwhm_mm: float
) -> float | np.ndarray:
    """Fraction (0-1) of a uniform sphere's contrast seen at ``distance_mm`` from its centre after a 3-D
    Gaussian PSF of ``fwhm_mm``: the radial profile of a blurred sphere (noise-free, continuous space).

    It is the probability that a Gaussian displacement lands inside the sphere (the non-central chi
    distribution with 3 degrees of freedom): Phi(a) - Phi(-b) - (sigma / r) [phi(a) - phi(b)], with
    a = (R - r) / sigma and b = (R + r) / sigma. At the centre it equals ``recovery_coefficient``.
    """
    r = np.abs(np.asarray(require_finite("distance_mm", distance_mm), dtype=float))
    radius = float(require_positive("diameter_mm", diameter_mm)) / 2.0
    sigma = float(require_positive("fwhm_mm", fwhm_mm)) / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    a, b = (radius - r) / sigma, (radius + r) / sigma
    near_centre = r < 1e-6 * sigma
    safe_r = np.where(near_centre, 1.0, r)
    # the bracket tends to 2 (R / sigma) phi(R / sigma) r / sigma at the centre: use that limit there
    edge = np.where(
        near_centre,
        2.0 * (radius / sigma) * _normal_pdf(radius / sigma),
        (sigma / safe_r) * (_normal_pdf(a) - _normal_pdf(b)),
    )
    return _scalar_or_array(np.clip(special.ndtr(a) - special.ndtr(-b) - edge, 0.0, 1.0))


def observed_recovery(measured_suv: float, true_suv: float, background_suv: float) -> float:
    """Recovery seen in an image, (measured - background) / (true - background); 1 = full contrast."""
    measured = float(require_finite("measured_suv", measured_suv))
    true = float(require_finite("true_suv", true_suv))
    background = float(require_finite("background_suv", background_suv))
    if np.isclose(true, background):
        raise ValueError(
            f"true_suv ({true:g}) equals background_suv: a lesion without contrast has no recovery"
        )
    return (measured - background) / (true - background)


def lesion_recovery_table(
    suv: SpatialImage,
    labels_img: SpatialImage,
    lesions: Iterable[Mapping[str, Any]],
    *,
    truth_key: str,
    background_suv: float,
    fwhm_mm: float,
    min_fraction: float = 0.01,
) -> list[dict[str, Any]]:
    """Per lesion: equivalent diameter (mm), true SUV, measured SUVmax, and predicted vs observed recovery.

    ``suv`` is an SUV image (``suv_volume``), ``lesions`` the ground-truth records (``io.load_lesions``)
    with ``truth_key`` ("suv_fdg" or "suv_dotatate"); each lesion's VOI is every PET voxel it touches
    (``label_mask`` with ``min_fraction``). The prediction is background + RC x (true - background), RC
    from ``recovery_coefficient`` for the equivalent sphere; it ignores noise, which pushes SUVmax up.
    """
    if not isinstance(suv, SpatialImage):
        raise ValueError(f"suv must be a nibabel image (use suv_volume), got {type(suv).__name__}")
    background = float(require_finite("background_suv", background_suv))
    values = _as_array(suv)
    rows = []
    for lesion in lesions:
        if truth_key not in lesion:
            raise ValueError(
                f"lesion {lesion.get('name', '?')!r} has no {truth_key!r}; use suv_fdg or suv_dotatate"
            )
        voi = label_mask(labels_img, lesion["id"], suv, min_fraction=min_fraction)
        if not voi.any():
            raise ValueError(f"lesion {lesion['name']!r} covers no voxel of the SUV grid")
        diameter = float(equivalent_diameter_mm(lesion["volume_ml"]))
        true = float(lesion[truth_key])
        rc = float(recovery_coefficient(diameter, fwhm_mm))
        measured = float(values[voi].max())
        rows.append(
            {
                "name": lesion["name"],
                "diameter_mm": diameter,
                "true_suv": true,
                "suvmax": measured,
                "rc_model": rc,
                "suvmax_model": background + rc * (true - background),
                "rc_observed": observed_recovery(measured, true, background),
            }
        )
    return rows
