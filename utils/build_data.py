"""Build ``data/`` deterministically from the analytic patient: ``python -m utils.build_data``.

The volumes (``*.nii.gz``) are generated, never committed; the JSON files, ``README.md`` and
``manifest.json`` are committed. ``manifest.json`` records the generator's hash and, per file, its sha256
and (for volumes) summary statistics, so a build on another machine can be compared with it even where
floating-point rounding differs in the last bit.

- ``python -m utils.build_data`` builds everything and rewrites ``manifest.json`` (maintainers: commit it).
- ``--ensure`` builds only when the local data are missing or stale, then compares the build with the
  committed manifest and fails, naming the file, when the generator changed the data but the manifest
  was not updated. ``make lab`` and ``make test`` run this.
- ``--check`` only reports (exit 1 when the local data are missing, stale or differ from the manifest).
- ``--out DIR`` writes elsewhere (tests build into a temporary folder).

A build writes into a temporary folder beside the output and then swaps it in, file by file only after
every file exists, so an interrupted build never leaves ``data/`` half-written.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from scipy.spatial import ConvexHull
from scipy.spatial.distance import pdist

from . import DATA_DIR, REBUILD_COMMAND
from .anatomy import Structure, build_patient, landmarks, lesions
from .io import BUILD_RECORD_NAME, MANIFEST_NAME, sha256_of_nifti
from .phantom import (
    CtProtocol,
    MrSequence,
    PetProtocol,
    adc_map,
    ct_channels,
    ct_image,
    mr_channels,
    mr_image,
    pet_activity,
    pet_channels,
)
from .sampling import Grid, paint, world_points

# ------------------------------------------------------------------------------------------ protocols
PATIENT = {"BodyWeight": 65.0, "BodyHeight": 165.0, "PatientSex": "F", "PatientAge": 45}
# The case's order: lumbosacral MRI, FDG PET/CT, CT-guided biopsy, 68Ga-DOTATATE PET/CT (dates synthetic).
STUDY_DATES = {"MRI": "2025-01-06", "FDG": "2025-01-13", "biopsy": "2025-01-20", "DOTATATE": "2025-02-03"}

# PET/CT: whole body, vertex to mid-thigh, arms up. CT 1.5 mm in plane, 3 mm slices; PET 4 mm.
CT_GRID = Grid.covering((-195.0, -150.0, -300.0), (195.0, 200.0, 780.0), (1.5, 1.5, 3.0))
PET_GRID = Grid.covering((-196.0, -152.0, -300.0), (196.0, 200.0, 780.0), (4.0, 4.0, 4.0))
CT = CtProtocol()
FDG = PetProtocol("FDG", "F-18", 230e6, PATIENT["BodyWeight"], 62.0, seed=31)
# Noise seeds are course choices. With DOTATATE's first seed (41) the single PET voxel of the 5-mm liver
# lesion drew 2.5 noise SDs low and vanished into the liver, hiding the partial-volume lesson of notebooks
# 02 and 04; seed 48 gives a draw near the expected value (about 10 against a true 22 and a liver of 7.5).
DOTATATE = PetProtocol("DOTATATE", "Ga-68", 130e6, PATIENT["BodyWeight"], 55.0, seed=48)
PET_CLOCK = {"FDG": ("08:50:00", "09:52:00"), "DOTATATE": ("10:05:00", "11:00:00")}

# Lumbosacral MRI as in the case: sagittal T1 and T2 (0.8 mm in plane, 4 mm slices, L1 to the coccyx,
# stored left-to-right as many scanners write it), axial T2 through the sacrum; plus an upper-abdominal
# axial T2 and DWI (b 50 and 800 s/mm^2) with an ADC map covering the liver.
SAG_GRID = Grid.axis_aligned((-70.0, -150.0, -135.0), (4.0, 0.8, 0.8), (35, 325, 420), flip_x=True)
AX_PELVIS_GRID = Grid.covering((-130.0, -140.0, -136.0), (130.0, 120.0, 16.0), (0.8, 0.8, 4.0))
AX_ABDOMEN_GRID = Grid.covering((-190.0, -150.0, 108.0), (190.0, 170.0, 312.0), (1.5, 1.5, 6.0))
DWI_GRID = Grid.covering((-190.0, -150.0, 108.0), (190.0, 170.0, 312.0), (2.5, 2.5, 6.0))
SAG_T1 = MrSequence("Sagittal T1 TSE, lumbosacral", 550.0, 10.0, echo_train=3, seed=21)
SAG_T2 = MrSequence("Sagittal T2 TSE, lumbosacral", 4000.0, 95.0, echo_train=17, seed=22)
AX_T2 = MrSequence("Axial T2 TSE, sacrum and pelvis", 4500.0, 95.0, echo_train=17, seed=23)
ABD_T2 = MrSequence("Axial T2 TSE (breath-hold), upper abdomen", 3500.0, 85.0, echo_train=60, coil="body", seed=24)
DWI_B = (50.0, 800.0)
DWI = {
    b: MrSequence(
        f"Axial DWI EPI b={b:.0f} s/mm2, upper abdomen",
        4000.0,
        65.0,
        b_value=b,
        fat_saturation=True,
        noise_fraction=0.012,
        coil="body",
        seed=25 + i,
    )
    for i, b in enumerate(DWI_B)
}

SOURCES = ("sdf.py", "sampling.py", "phantom.py", "constants.py", "build_data.py")
VOLUMES = (
    "ct",
    "labels",
    "pet_fdg",
    "pet_dotatate",
    "mri_sag_t1w",
    "mri_sag_t2w",
    "mri_ax_t2w",
    "mri_abd_t2w",
    "mri_dwi_b50",
    "mri_dwi_b800",
    "mri_adc",
)
DISCLAIMER = "Synthetic teaching data, not for clinical use."


def generator_sha256() -> str:
    """sha256 over the source files that define the data (anatomy package included): any edit makes data stale."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for path in [here / n for n in SOURCES] + sorted((here / "anatomy").glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------ encoding
def _nifti_bytes(data: np.ndarray, grid: Grid, slope: float | None = None) -> bytes:
    """Gzipped NIfTI-1 bytes with a zero gzip timestamp, so identical arrays give identical files.

    Noisy images hardly compress beyond what level 1 gives (measured: same size, 5x faster than level 6);
    label maps compress well and fast at level 6."""
    img = nib.Nifti1Image(data, grid.affine)
    img.header.set_xyzt_units("mm", "sec")
    img.header.set_qform(grid.affine, code=1)
    img.header.set_sform(grid.affine, code=1)
    if slope is not None:
        img.header.set_slope_inter(slope, 0.0)
    return gzip.compress(img.to_bytes(), compresslevel=6 if data.dtype == np.uint8 else 1, mtime=0)


def _pet_int16(bq_ml: np.ndarray) -> tuple[np.ndarray, float]:
    """Scale Bq/mL into int16 with one slope (Bq/mL per stored unit); returns (array, slope)."""
    slope = float(np.float32(max(float(bq_ml.max()), 1.0) / 32000.0))
    return np.rint(bq_ml / slope).astype(np.int16), slope


def volume_stats(data: np.ndarray) -> dict[str, Any]:
    """Summary statistics of a stored integer array: shape, dtype, min, max, mean, std, percentiles 1/50/99."""
    if not np.issubdtype(data.dtype, np.integer):
        raise ValueError(f"volume_stats expects the stored integer array, got {data.dtype}")
    lo = int(data.min())
    counts = np.bincount(data.ravel().astype(np.int64) - lo)
    values = np.arange(lo, lo + len(counts), dtype=np.float64)
    cumulative = np.cumsum(counts) / data.size
    # Percentiles by the histogram: exact for integer data and much faster than sorting 20 M voxels.
    p1, p50, p99 = (float(values[np.searchsorted(cumulative, q)]) for q in (0.01, 0.5, 0.99))
    mean = float((counts * values).sum() / data.size)
    std = float(np.sqrt((counts * (values - mean) ** 2).sum() / data.size))
    return {
        "shape": list(data.shape),
        "dtype": str(data.dtype),
        "min": float(lo),
        "max": float(values[-1]),
        "mean": round(mean, 4),
        "std": round(std, 4),
        "p1_p50_p99": [p1, p50, p99],
    }


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2) + "\n").encode("utf-8")


# ------------------------------------------------------------------------------------------ series
def _job(name: str) -> tuple[Grid, dict[str, Callable], dict[str, float], bool]:
    """Grid, tissue channels, outside values and whether labels are wanted, for one sampling job."""
    if name == "ct":
        channels = {**ct_channels(), **pet_channels()}
        return CT_GRID, channels, {"hu": -1000.0, "hu_texture": 0.0, "suv_fdg": 0.0, "suv_dotatate": 0.0}, True
    if name == "sag":
        channels = {"t1": mr_channels(SAG_T1)["signal"], "t2": mr_channels(SAG_T2)["signal"]}
        return SAG_GRID, channels, {"t1": 0.0, "t2": 0.0}, False
    if name == "ax":
        return AX_PELVIS_GRID, mr_channels(AX_T2), {"signal": 0.0}, False
    if name == "abd":
        return AX_ABDOMEN_GRID, mr_channels(ABD_T2), {"signal": 0.0}, False
    channels = {f"b{b:.0f}": mr_channels(seq)["signal"] for b, seq in DWI.items()}
    return DWI_GRID, channels, {k: 0.0 for k in channels}, False


Series = dict[str, tuple[bytes, dict[str, Any], dict[str, Any] | None]]


def _painted(name: str) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    grid, channels, outside, with_labels = _job(name)
    return paint(build_patient(), grid, channels, outside, with_labels)


def _encoded(data: np.ndarray, grid: Grid, sidecar: dict | None, slope: float | None = None):
    return _nifti_bytes(data, grid, slope), volume_stats(data), sidecar


def ct_and_pet_series() -> Series:
    """The PET/CT: labels, CT and both PET scans, all from one sampling of the patient on the CT grid."""
    maps, labels = _painted("ct")
    out: Series = {"labels": _encoded(labels, CT_GRID, None), "ct": _encoded(ct_image(maps, CT), CT_GRID, ct_sidecar())}
    for protocol in (FDG, DOTATATE):
        stored, slope = _pet_int16(pet_activity(maps.pop(protocol.suv_property), CT_GRID, PET_GRID, protocol))
        out[f"pet_{protocol.tracer.lower()}"] = _encoded(stored, PET_GRID, pet_sidecar(protocol), slope)
    return out


def mri_series() -> Series:
    """Every MR series: sagittal T1/T2, axial T2 of the pelvis, abdominal T2, DWI b50/b800 and ADC."""
    sag, _ = _painted("sag")
    out: Series = {
        "mri_sag_t1w": _encoded(mr_image(sag["t1"], SAG_GRID, SAG_T1), SAG_GRID, mr_sidecar(SAG_T1, SAG_GRID, "sagittal")),
        "mri_sag_t2w": _encoded(mr_image(sag["t2"], SAG_GRID, SAG_T2), SAG_GRID, mr_sidecar(SAG_T2, SAG_GRID, "sagittal")),
    }
    del sag
    for name, grid, seq, job in (
        ("mri_ax_t2w", AX_PELVIS_GRID, AX_T2, "ax"),
        ("mri_abd_t2w", AX_ABDOMEN_GRID, ABD_T2, "abd"),
    ):
        out[name] = _encoded(mr_image(_painted(job)[0]["signal"], grid, seq), grid, mr_sidecar(seq, grid, "axial"))
    dwi, _ = _painted("dwi")
    images = {b: mr_image(dwi[f"b{b:.0f}"], DWI_GRID, seq) for b, seq in DWI.items()}
    for b, seq in DWI.items():
        out[f"mri_dwi_b{b:.0f}"] = _encoded(images[b], DWI_GRID, mr_sidecar(seq, DWI_GRID, "axial"))
    b_lo, b_hi = DWI_B
    # Below ~6 noise SDs the low-b signal is mostly noise (air, fat): the ADC there is meaningless.
    floor = 6.0 * DWI[b_lo].noise_fraction * 1000.0
    adc_sidecar = {
        **mr_sidecar(DWI[b_hi], DWI_GRID, "axial"),
        "SeriesDescription": f"ADC map from b={b_lo:.0f} and b={b_hi:.0f} s/mm2",
        "Units": "10^-6 mm^2/s",
        "bValues": list(DWI_B),
    }
    adc_sidecar.pop("bValue")
    out["mri_adc"] = _encoded(adc_map(images[b_lo], images[b_hi], b_lo, b_hi, floor), DWI_GRID, adc_sidecar)
    return out


# ------------------------------------------------------------------------------------------ sidecars
def pet_sidecar(protocol: PetProtocol) -> dict[str, Any]:
    """BIDS-PET-style sidecar: what a learner needs to compute SUV by hand, and the scan's date."""
    injection, scan = PET_CLOCK[protocol.tracer]
    scan_start_s = round(protocol.uptake_min * 60.0)
    return {
        "Modality": "PT",
        "TracerName": protocol.tracer,
        "TracerRadionuclide": protocol.radionuclide.replace("-", ""),  # BIDS spelling: F18, Ga68
        "RadionuclideHalfLife": round(protocol.half_life_min * 60.0, 1),
        "RadionuclideHalfLifeUnits": "s",
        "InjectedRadioactivity": protocol.injected_bq,
        "InjectedRadioactivityUnits": "Bq",
        "BodyWeight": PATIENT["BodyWeight"],
        "BodyWeightUnits": "kg",
        "BodyHeight": PATIENT["BodyHeight"],
        "BodyHeightUnits": "cm",
        "PatientSex": PATIENT["PatientSex"],
        "PatientAge": PATIENT["PatientAge"],
        "StudyDate": STUDY_DATES[protocol.tracer],
        "TimeZero": injection,
        "InjectionTime": injection,
        "InjectionStart": 0,
        "ScanStartTime": scan,
        "ScanStart": scan_start_s,
        "ImageDecayCorrected": True,
        "ImageDecayCorrectionTime": scan_start_s,
        "Units": "Bq/mL",
        "PSF_FWHM_mm": round(protocol.effective_fwhm_mm, 2),
        "VoxelSize_mm": [round(float(v), 2) for v in PET_GRID.voxel_mm],
        "AttenuationCorrection": "CT-based (synthetic); the course uses one shared CT for both PET/CT studies",
        "ReconMethodName": "synthetic: analytic phantom, Gaussian PSF, count noise (variance = mean), Gaussian post-filter",
        "SyntheticData": True,
        "Disclaimer": DISCLAIMER,
    }


def ct_sidecar() -> dict[str, Any]:
    """Sidecar of the CT: acquisition settings (synthetic) and what it is used for."""
    return {
        "Modality": "CT",
        "SeriesDescription": "Low-dose CT of the PET/CT, vertex to mid-thigh, arms up",
        "StudyDate": STUDY_DATES["FDG"],
        "KVP": CT.kvp,
        "Exposure_mAs": CT.mas,
        "ConvolutionKernel": CT.kernel,
        "CTDIvol_mGy": CT.ctdi_vol_mgy,
        "PixelSpacing_mm": [round(float(v), 2) for v in CT_GRID.voxel_mm[:2]],
        "SliceThickness_mm": round(float(CT_GRID.voxel_mm[2]), 2),
        "NoiseSD_HU": CT.noise_hu,
        "Units": "HU",
        "Note": "One CT serves both PET/CT studies (FDG and DOTATATE), a simplification: in practice each "
        "PET/CT has its own CT.",
        "SyntheticData": True,
        "Disclaimer": DISCLAIMER,
    }


def mr_sidecar(seq: MrSequence, grid: Grid, plane: str) -> dict[str, Any]:
    """Sidecar of an MR series in BIDS-like keys (times in s), with its geometry."""
    vox = grid.voxel_mm
    thick_axis = int(np.argmax(vox))
    in_plane = [round(float(v), 2) for i, v in enumerate(vox) if i != thick_axis]
    sidecar = {
        "Modality": "MR",
        "SeriesDescription": seq.description,
        "StudyDate": STUDY_DATES["MRI"],
        "MagneticFieldStrength": 3.0,
        "ScanningSequence": "EP" if seq.b_value or seq.fat_saturation else "SE",
        "SequenceVariant": "turbo spin echo" if seq.echo_train > 1 else "echo planar, fat saturated",
        "RepetitionTime": seq.tr_ms / 1000.0,
        "EchoTime": seq.te_ms / 1000.0,
        "EchoTrainLength": seq.echo_train,
        "FatSaturation": seq.fat_saturation,
        "Plane": plane,
        "PixelSpacing_mm": in_plane,
        "SliceThickness_mm": round(float(vox[thick_axis]), 2),
        "ReceiveCoil": seq.coil,
        "Units": "a.u.",
        "SyntheticData": True,
        "Disclaimer": DISCLAIMER,
    }
    if seq.b_value or seq.fat_saturation:
        sidecar["bValue"] = seq.b_value
        sidecar["SequenceVariant"] = "single-shot echo planar, fat saturated"
    return sidecar


# ------------------------------------------------------------------------------------------ truth
def lesion_truth(lesion: Structure, step_mm: float = 0.5) -> dict[str, Any]:
    """Centre (mm), volume (mL), longest 3-D and axial diameters (mm) and best axial z of a lesion."""
    lower, upper = lesion.shape.bounds_mm()
    grid = Grid.covering(lower - step_mm, upper + step_mm, (step_mm,) * 3)
    points = world_points(grid)
    points = points[lesion.shape.contains(points)].astype(np.float64)
    hull = points[ConvexHull(points).vertices]
    axial, best_z, best_area = 0.0, float(points[0, 2]), 0
    for z in np.unique(points[:, 2]):
        plane = points[points[:, 2] == z][:, :2]
        if len(plane) > best_area:
            best_z, best_area = float(z), len(plane)
        if len(plane) >= 3 and np.ptp(plane[:, 0]) > 0 and np.ptp(plane[:, 1]) > 0:
            axial = max(axial, float(pdist(plane[ConvexHull(plane).vertices]).max()))
    return {
        "centre_mm": [round(float(v), 1) for v in points.mean(axis=0)],
        "volume_ml": round(len(points) * step_mm**3 / 1000.0, 3),
        "longest_diameter_mm": round(float(pdist(hull).max()) + step_mm, 1),
        "longest_axial_diameter_mm": round(axial + step_mm, 1),
        "best_axial_z_mm": round(best_z, 1),
    }


# ------------------------------------------------------------------------------------------ build
def build_files(verbose: bool = True, workers: int = 2) -> dict[str, bytes]:
    """Every data file's bytes (volumes, sidecars, labels, lesions, landmarks, README), manifest excluded."""
    start = time.perf_counter()

    def step(message: str) -> None:
        if verbose:
            print(f"  [{time.perf_counter() - start:5.1f} s] {message}", flush=True)

    structures = build_patient()
    files: dict[str, bytes] = {}
    stats: dict[str, dict[str, Any]] = {}
    step(f"PET/CT and MRI series ({workers} processes)")
    if workers <= 1:
        series = {**ct_and_pet_series(), **mri_series()}
    else:
        with ProcessPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(ct_and_pet_series), pool.submit(mri_series)]
            series = {k: v for f in futures for k, v in f.result().items()}
    for name, (data, volume, sidecar) in series.items():
        files[f"{name}.nii.gz"] = data
        stats[name] = volume
        if sidecar is not None:
            files[f"{name}.json"] = _json_bytes(sidecar)

    step("ground truth: lesions, labels, landmarks")
    lesion_rows = []
    for lesion in lesions(structures):
        truth = lesion_truth(lesion)
        lesion_rows.append(
            {
                "id": lesion.label,
                "name": lesion.name,
                "location": lesion.location,
                **truth,
                "suv_fdg": lesion.tissue.suv_fdg,
                "suv_dotatate": lesion.tissue.suv_dotatate,
            }
        )
    files["lesions.json"] = _json_bytes(
        {
            "description": "Ground truth of every lesion of the synthetic patient (true values before blur and "
            "noise; diameters and volume from the analytic shape). " + DISCLAIMER,
            "units": {
                "centre_mm": "mm, RAS+",
                "volume_ml": "mL",
                "longest_diameter_mm": "mm (3-D, any direction)",
                "longest_axial_diameter_mm": "mm (in one axial plane, the RECIST-style measurement)",
                "best_axial_z_mm": "mm (z of the axial plane with the largest cross-section)",
                "suv_fdg": "SUVbw (dimensionless)",
                "suv_dotatate": "SUVbw (dimensionless)",
            },
            "lesions": lesion_rows,
        }
    )
    files["labels.json"] = _json_bytes({str(s.label): s.name for s in sorted(structures, key=lambda s: s.label)})
    points = {name: [round(float(v), 1) for v in xyz] for name, xyz in _snapped(landmarks(), structures, files).items()}
    for row in lesion_rows:
        points[row["name"]] = row["centre_mm"]
        points[f"{row['name']}_best_axial"] = [*row["centre_mm"][:2], row["best_axial_z_mm"]]
    files["landmarks.json"] = _json_bytes(
        {"units": "mm, RAS+ world coordinates (+x patient's right, +y anterior, +z superior)", "points": dict(sorted(points.items()))}
    )
    files["README.md"] = _readme(stats).encode("utf-8")
    files["volume_stats.json"] = _json_bytes(stats)
    step(f"done: {sum(len(b) for b in files.values()) / 1e6:.1f} MB")
    return files


def _snapped(points: dict, structures: list[Structure], files: dict[str, bytes]) -> dict:
    """Landmarks named after a structure, moved onto that structure's label where the point misses it.

    A centre computed from a shape can fall outside a thin or curved organ (an adrenal limb): a notebook
    that points at "adrenal_left" must land in it. The point moves to the nearest voxel with that label.
    """
    img = nib.Nifti1Image.from_bytes(gzip.decompress(files["labels.nii.gz"]))
    labels = np.asarray(img.dataobj)
    inverse = np.linalg.inv(img.affine)
    ids = {s.name: s.label for s in structures}
    out = dict(points)
    for name, xyz in points.items():
        if name not in ids:
            continue
        ijk = np.rint(inverse[:3, :3] @ np.asarray(xyz) + inverse[:3, 3]).astype(int)
        inside = np.all((ijk >= 0) & (ijk < labels.shape))
        if inside and labels[tuple(ijk)] == ids[name]:
            continue
        voxels = np.argwhere(labels == ids[name])
        if len(voxels):
            world = voxels @ img.affine[:3, :3].T + img.affine[:3, 3]
            out[name] = tuple(world[np.argmin(((world - np.asarray(xyz)) ** 2).sum(axis=1))])
    return out


def _file_record(name: str, data: bytes) -> dict[str, Any]:
    """Manifest entry: sha256 of the uncompressed content (gzip headers never count) and size in bytes."""
    content = gzip.decompress(data) if name.endswith(".gz") else data
    return {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(data)}


def make_manifest(files: dict[str, bytes]) -> dict[str, Any]:
    """Manifest of a build: generator hash, per-file sha256 and size, per-volume statistics."""
    stats = json.loads(files["volume_stats.json"])
    records = {name: _file_record(name, data) for name, data in sorted(files.items()) if name != "volume_stats.json"}
    for name, record in records.items():
        if name.endswith(".nii.gz"):
            record["stats"] = stats[name.removesuffix(".nii.gz")]
    return {"generator_sha256": generator_sha256(), "rebuild": REBUILD_COMMAND, "files": records}


def _write_atomically(out_dir: Path, files: dict[str, bytes]) -> None:
    """Write every file into a sibling staging folder first; move them into ``out_dir`` only when all exist."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=out_dir.parent))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        for name in files:
            os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def build(out_dir: Path, *, update_manifest: bool = True, verbose: bool = True, workers: int = 2) -> dict[str, Any]:
    """Build every file into ``out_dir``; returns the manifest of this build.

    With ``update_manifest`` the build's manifest becomes ``manifest.json``; otherwise the committed
    manifest is left as it is (and ``compare_with_manifest`` tells whether the build agrees with it).
    A local record of what was built (``.build-record.json``, not committed) lets ``utils.io`` verify files.
    """
    files = build_files(verbose=verbose, workers=workers)
    manifest = make_manifest(files)
    files.pop("volume_stats.json")
    files[BUILD_RECORD_NAME] = _json_bytes(manifest)
    if update_manifest:
        files[MANIFEST_NAME] = _json_bytes(manifest)
    _write_atomically(out_dir, files)
    return manifest


# ------------------------------------------------------------------------------------------ checks
def _digest(path: Path) -> str:
    return sha256_of_nifti(path) if path.name.endswith(".gz") else hashlib.sha256(path.read_bytes()).hexdigest()


def _stats_agree(a: dict[str, Any], b: dict[str, Any], rel: float = 2e-3) -> bool:
    """Whether two volume statistics agree (same shape and dtype; values within ``rel`` of the range)."""
    if a.get("shape") != b.get("shape") or a.get("dtype") != b.get("dtype"):
        return False
    scale = max(abs(a["max"] - a["min"]), 1.0)
    keys = ("min", "max", "mean", "std")
    values_a = [a[k] for k in keys] + list(a["p1_p50_p99"])
    values_b = [b[k] for k in keys] + list(b["p1_p50_p99"])
    return all(abs(x - y) <= rel * scale for x, y in zip(values_a, values_b, strict=True))


def local_problems(data_dir: Path) -> list[str]:
    """Why the local data need rebuilding (missing, built by another generator, changed); empty if fine."""
    record_path = data_dir / BUILD_RECORD_NAME
    if not record_path.exists():
        return [f"no local build in {data_dir} (volumes are generated, not committed)"]
    record = json.loads(record_path.read_text(encoding="utf-8"))
    problems = []
    if record.get("generator_sha256") != generator_sha256():
        problems.append("the local data were built by another version of utils (generator changed)")
    for name in sorted({f"{v}.nii.gz" for v in VOLUMES} - set(record.get("files", {}))):
        problems.append(f"{name} is not in the local build record")
    for name, entry in record.get("files", {}).items():
        path = data_dir / name
        if not path.exists():
            problems.append(f"{name} is missing")
        elif _digest(path) != entry["sha256"]:
            problems.append(f"{name} was changed or corrupted after the build")
    return problems


def compare_with_manifest(data_dir: Path) -> list[str]:
    """Differences between the local build and the committed ``manifest.json``; empty when they agree.

    A volume whose sha256 differs but whose statistics agree is accepted: floating-point rounding on
    another CPU may change a few voxels by one unit, which is not a change of the data.
    """
    manifest_path, record_path = data_dir / MANIFEST_NAME, data_dir / BUILD_RECORD_NAME
    if not manifest_path.exists():
        return [f"{manifest_path} is missing"]
    if not record_path.exists():
        return ["no local build to compare"]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    record = json.loads(record_path.read_text(encoding="utf-8"))
    stale = "the generator changed the data but data/manifest.json was not updated (run `make data`, commit data/)"
    problems = []
    if manifest.get("generator_sha256") != record.get("generator_sha256"):
        problems.append(f"generator hash differs: {stale}")
    committed, built = manifest.get("files", {}), record.get("files", {})
    for name in sorted(set(committed) | set(built)):
        if name not in built:
            problems.append(f"{name} is in manifest.json but this build did not make it: {stale}")
        elif name not in committed:
            problems.append(f"{name} was built but is not in manifest.json: {stale}")
        elif committed[name]["sha256"] != built[name]["sha256"]:
            if not (name.endswith(".nii.gz") and _stats_agree(committed[name]["stats"], built[name]["stats"])):
                problems.append(f"{name} differs from manifest.json: {stale}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line: build (default), ``--ensure`` (build when needed, then compare) or ``--check``."""
    parser = argparse.ArgumentParser(prog="python -m utils.build_data", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="report only; exit 1 if the data need work")
    mode.add_argument("--ensure", action="store_true", help="build only when needed, then compare with the manifest")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output folder (default: data/)")
    parser.add_argument("--workers", type=int, default=2, help="processes used to sample the patient")
    args = parser.parse_args(argv)
    if args.check or args.ensure:
        problems = local_problems(args.out)
        if problems:
            print("data need building:\n  " + "\n  ".join(problems))
            if args.check:
                return 1
            print(f"building synthetic course data into {args.out} ...")
            build(args.out, update_manifest=False, workers=args.workers)
        differences = compare_with_manifest(args.out)
        if differences:
            print("the data do not match the committed manifest:\n  " + "\n  ".join(differences))
            return 1
        print(f"data OK: {args.out} is built and matches manifest.json")
        return 0
    print(f"building synthetic course data into {args.out} ...")
    build(args.out, workers=args.workers)
    return 0


def _readme(stats: dict[str, dict[str, Any]]) -> str:
    """``data/README.md``: what every file holds, generated with the data so it never drifts."""
    descriptions = {
        "ct": ("HU", "low-dose CT of the PET/CT (one CT shared by both PET studies), vertex to mid-thigh"),
        "labels": ("label id (labels.json)", "one id per structure and lesion, on the CT grid"),
        "pet_fdg": ("Bq/mL at scan start (int16 x scl_slope)", f"18F-FDG PET, {STUDY_DATES['FDG']}"),
        "pet_dotatate": ("Bq/mL at scan start (int16 x scl_slope)", f"68Ga-DOTATATE PET, {STUDY_DATES['DOTATATE']}"),
        "mri_sag_t1w": ("a.u.", "sagittal T1 TSE, L1 to the coccyx (stored left-to-right, LAS)"),
        "mri_sag_t2w": ("a.u.", "sagittal T2 TSE, L1 to the coccyx (stored left-to-right, LAS)"),
        "mri_ax_t2w": ("a.u.", "axial T2 TSE through the sacrum and pelvis"),
        "mri_abd_t2w": ("a.u.", "axial T2 TSE of the upper abdomen (liver)"),
        "mri_dwi_b50": ("a.u.", "axial DWI b = 50 s/mm2, upper abdomen, fat saturated"),
        "mri_dwi_b800": ("a.u.", "axial DWI b = 800 s/mm2, upper abdomen, fat saturated"),
        "mri_adc": ("10^-6 mm^2/s", "ADC map from b 50 and 800 (liver 1280, restricted lesions below 1000)"),
    }
    grids = {
        "ct": CT_GRID, "labels": CT_GRID, "pet_fdg": PET_GRID, "pet_dotatate": PET_GRID, "mri_sag_t1w": SAG_GRID,
        "mri_sag_t2w": SAG_GRID, "mri_ax_t2w": AX_PELVIS_GRID, "mri_abd_t2w": AX_ABDOMEN_GRID,
        "mri_dwi_b50": DWI_GRID, "mri_dwi_b800": DWI_GRID, "mri_adc": DWI_GRID,
    }
    rows = "\n".join(
        f"| `{name}.nii.gz` | {' x '.join(map(str, stats[name]['shape']))} | "
        f"{' x '.join(f'{v:g}' for v in np.round(grids[name].voxel_mm, 2))} | {''.join(nib.aff2axcodes(grids[name].affine))} "
        f"| {stats[name]['dtype']} | {units} | {shows} |"
        for name, (units, shows) in descriptions.items()
    )
    return f"""# Course data: a synthetic patient

**{DISCLAIMER}** Every image here is computed from an analytic model of one patient (`utils/anatomy/`)
by the simulated scanners in `utils/phantom.py`. The volumes (`*.nii.gz`) are generated, not committed:
`make lab`, `make test` and Binder build them (`{REBUILD_COMMAND}`, about half a minute); the build is
deterministic, and `manifest.json` records the generator's hash and the sha256 and summary statistics of
every file. Notebooks read these files through `utils.io` and never write here.

All volumes share one world space in millimetres, RAS+ (+x toward the patient's right, +y anterior, +z
superior). The origin is the sacral promontory (the midline anterosuperior lip of S1), so a coordinate
reads as a distance from the key anatomy of the case. `utils.io.load_volume` returns every volume in RAS+
(closest canonical) orientation; the sagittal MRI files are stored left-to-right (LAS) on disk, as many
scanners write them.

## The patient and the timeline
A 45-year-old woman, {PATIENT['BodyWeight']:g} kg, {PATIENT['BodyHeight']:g} cm, after the published case
(Paul A et al., World J Nucl Med 2025, DOI 10.1055/s-0045-1810099, CC BY 4.0). Lumbosacral MRI
({STUDY_DATES['MRI']}), FDG PET/CT ({STUDY_DATES['FDG']}), CT-guided biopsy ({STUDY_DATES['biopsy']}),
68Ga-DOTATATE PET/CT ({STUDY_DATES['DOTATATE']}); the dates are synthetic, the order is the case's. A
lobulated presacral mass on the anterior sacrum enters the left S1-S2 anterior sacral foramen (the right
one is normal); a second mass lies in front of the coccyx; lobulated metastases lie in both liver lobes.
The masses are FDG-avid; the liver lesions are close to liver background on FDG; every lesion expresses
somatostatin receptors. Normal tissue that mimics disease is there too: the uncinate process of the
pancreas and an accessory spleen on SSTR PET, ureters beside the mass, a premenopausal endometrium and
ovaries on FDG. Arms are raised out of the field of view, as on a PET/CT.

## Volumes
| file | shape | voxel (mm) | on disk | stored as | units | shows |
|---|---|---|---|---|---|---|
{rows}

PET values are activity concentrations at scan start; SUV = value / (injected activity decayed to scan
start / weight in g).

## JSON files
| file | holds |
|---|---|
| `pet_fdg.json`, `pet_dotatate.json` | BIDS-PET-style sidecar: tracer, half-life (s), injected activity (Bq), weight (kg), height (cm), study date, injection and scan start (clock time and seconds after TimeZero), units, resolution (PSF_FWHM_mm) |
| `ct.json` | kVp, mAs, kernel, CTDIvol, pixel spacing and slice thickness (synthetic) |
| `mri_*.json` | sequence, field strength, TR/TE (s), echo train, b-value, fat saturation, plane, pixel spacing, slice thickness |
| `labels.json` | label id -> structure name for `labels.nii.gz` (ids are fixed; adding a structure renumbers nothing) |
| `lesions.json` | ground truth per lesion: id, name, location, centre (mm), volume (mL), longest 3-D and axial diameters (mm), best axial z (mm), true FDG and DOTATATE SUV |
| `landmarks.json` | named points (mm): sacral promontory, sacral foramina, coccyx tip, organs, pitfalls, each lesion's centre and best axial slice |
| `manifest.json` | generator hash; sha256, size and summary statistics of every file |
"""


if __name__ == "__main__":
    sys.exit(main())
