"""Build ``data/`` deterministically from the analytic patient: ``python -m utils.build_data``.

``--check`` verifies the files against ``manifest.json`` (exit 1 when missing or stale), ``--ensure``
rebuilds only when that check fails, ``--out DIR`` writes elsewhere (tests build into a temporary folder).
Files are written to a temporary folder first and moved into place at the end, so an interrupted
build never leaves ``data/`` half-written.
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
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from scipy.spatial import ConvexHull
from scipy.spatial.distance import pdist

from . import DATA_DIR, REBUILD_COMMAND
from .anatomy import Structure, build_patient, label_table, lesions
from .io import MANIFEST_NAME, sha256_of_nifti
from .phantom import Grid, PetProtocol, _world_points, ct_hu, label_map, mri_signal, pet_activity

CT_GRID = Grid.axis_aligned((-222.0, -132.0, -336.0), (3.0, 3.0, 3.0), (148, 88, 386))
PET_GRID = Grid.axis_aligned((-224.0, -132.0, -336.0), (4.0, 4.0, 4.0), (112, 66, 290))
# Lumbosacral MRI with thick sagittal-direction voxels, stored left-to-right on disk (LAS), as many
# scanners write it; utils.io.load_volume returns it in RAS+.
MRI_GRID = Grid.axis_aligned((-180.0, -126.0, -178.0), (3.0, 1.8, 1.8), (120, 134, 261), flip_x=True)

PATIENT = {"BodyWeight": 65.0, "BodyHeight": 165.0, "PatientSex": "F", "PatientAge": 45}
FDG = PetProtocol("FDG", "F18", 109.77, 230e6, PATIENT["BodyWeight"], 62.0, 4.5, 0.5, 3.5, 30.0, 31)
DOTATATE = PetProtocol("DOTATATE", "Ga68", 67.71, 130e6, PATIENT["BodyWeight"], 55.0, 4.5, 3.5, 3.5, 8.0, 41)
PET_CLOCK = {"FDG": ("08:50:00", "09:52:00"), "DOTATATE": ("10:05:00", "11:00:00")}
SOURCES = ("shapes.py", "anatomy.py", "phantom.py", "build_data.py")
VOLUMES = ("ct", "mri_t1w", "mri_t2w", "pet_fdg", "pet_dotatate", "labels")


def generator_sha256() -> str:
    """sha256 over the source files that define the data: any edit there makes the data stale."""
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()


def _nifti_bytes(data: np.ndarray, grid: Grid, slope: float | None = None) -> bytes:
    """Gzipped NIfTI-1 bytes with a zero gzip timestamp, so identical arrays give identical files."""
    img = nib.Nifti1Image(data, grid.affine)
    img.header.set_xyzt_units("mm", "sec")
    img.header.set_qform(grid.affine, code=1)
    img.header.set_sform(grid.affine, code=1)
    if slope is not None:
        img.header.set_slope_inter(slope, 0.0)
    return gzip.compress(img.to_bytes(), compresslevel=6, mtime=0)


def _pet_int16(bq_ml: np.ndarray) -> tuple[np.ndarray, float]:
    """Scale Bq/mL into int16 with one slope (Bq/mL per stored unit); returns (array, slope)."""
    slope = float(np.float32(max(float(bq_ml.max()), 1.0) / 32000.0))
    return np.rint(bq_ml / slope).astype(np.int16), slope


def lesion_truth(lesion: Structure, step_mm: float = 0.5) -> dict[str, Any]:
    """Centre (mm), volume (mL) and longest 3-D and axial diameters (mm) of a lesion, sampled finely."""
    lower, upper = lesion.shape.bounds_mm()
    n = np.ceil((upper - lower) / step_mm).astype(int) + 1
    grid = Grid.axis_aligned(tuple(lower - step_mm / 2), (step_mm,) * 3, tuple(n))
    points = _world_points(grid, tuple(slice(0, k) for k in n))
    points = points[lesion.shape.contains(points)].astype(np.float64)
    hull = points[ConvexHull(points).vertices]
    axial = 0.0
    for z in np.unique(points[:, 2]):
        plane = points[points[:, 2] == z][:, :2]
        if len(plane) >= 3 and np.ptp(plane[:, 0]) > 0 and np.ptp(plane[:, 1]) > 0:
            axial = max(axial, float(pdist(plane[ConvexHull(plane).vertices]).max()))
    return {
        "centre_mm": [round(float(c), 1) for c in points.mean(axis=0)],
        "volume_ml": round(len(points) * step_mm**3 / 1000.0, 3),
        "longest_diameter_mm": round(float(pdist(hull).max()) + step_mm, 1),
        "longest_axial_diameter_mm": round(axial + step_mm, 1),
    }


def pet_sidecar(protocol: PetProtocol) -> dict[str, Any]:
    """BIDS-PET-style sidecar: what a learner needs to compute SUV by hand."""
    injection, scan = PET_CLOCK[protocol.tracer]
    scan_start_s = round(protocol.uptake_min * 60.0)
    return {
        "Modality": "PT",
        "TracerName": protocol.tracer,
        "TracerRadionuclide": protocol.radionuclide,
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
        "TimeZero": injection,
        "InjectionTime": injection,
        "InjectionStart": 0,
        "ScanStartTime": scan,
        "ScanStart": scan_start_s,
        "ImageDecayCorrected": True,
        "ImageDecayCorrectionTime": scan_start_s,
        "Units": "Bq/mL",
        "PSF_FWHM_mm": round(protocol.effective_fwhm_mm, 2),
        "AttenuationCorrection": "CT-based (synthetic)",
        "ReconMethodName": "synthetic: analytic phantom, Gaussian PSF, count noise (variance = mean), Gaussian post-filter",
        "SyntheticData": True,
        "Disclaimer": "Synthetic teaching data, not for clinical use.",
    }


def _describe(name: str, grid: Grid, dtype: str, units: str, shows: str) -> dict[str, Any]:
    return {
        "shape": list(grid.shape),
        "voxel_mm": [round(float(v), 3) for v in grid.voxel_mm],
        "orientation": "".join(nib.aff2axcodes(grid.affine)),
        "dtype": dtype,
        "units": units,
        "shows": shows,
        "name": name,
    }


def build(out_dir: Path, verbose: bool = True) -> dict[str, Any]:
    """Write every volume, JSON file, README and the manifest into ``out_dir``; returns the manifest."""
    start = time.perf_counter()

    def step(message: str) -> None:
        if verbose:
            print(f"  [{time.perf_counter() - start:5.1f} s] {message}", flush=True)

    structures = build_patient()
    ids = label_table(structures)
    files: dict[str, bytes] = {}
    described: list[dict[str, Any]] = []

    step("labels on the CT grid")
    ct_labels = label_map(structures, CT_GRID)
    files["labels.nii.gz"] = _nifti_bytes(ct_labels, CT_GRID)
    described.append(
        _describe(
            "labels",
            CT_GRID,
            "uint8",
            "label id (see labels.json)",
            "one id per structure and lesion, on the CT grid",
        )
    )
    step("CT (HU)")
    files["ct.nii.gz"] = _nifti_bytes(ct_hu(ct_labels, structures), CT_GRID)
    described.append(
        _describe("ct", CT_GRID, "int16", "HU", "low-dose CT of the PET/CT, vertex to upper thigh")
    )
    step("MRI T1w and T2w")
    mri_labels = label_map(structures, MRI_GRID)
    for weighting in ("t1w", "t2w"):
        files[f"mri_{weighting}.nii.gz"] = _nifti_bytes(
            mri_signal(mri_labels, structures, MRI_GRID, weighting), MRI_GRID
        )
        described.append(
            _describe(
                f"mri_{weighting}",
                MRI_GRID,
                "int16",
                "arbitrary (0-1000)",
                f"{weighting[:2].upper()}-weighted MRI, lumbosacral spine, pelvis and liver",
            )
        )
    step("PET labels on a 2 mm grid")
    fine_labels = label_map(structures, PET_GRID.refined(2))
    for protocol in (FDG, DOTATATE):
        step(f"PET {protocol.tracer}")
        stored, slope = _pet_int16(pet_activity(fine_labels, structures, PET_GRID, protocol))
        name = f"pet_{protocol.tracer.lower()}"
        files[f"{name}.nii.gz"] = _nifti_bytes(stored, PET_GRID, slope)
        files[f"{name}.json"] = _json_bytes(pet_sidecar(protocol))
        described.append(
            _describe(
                name,
                PET_GRID,
                "int16 x scl_slope",
                "Bq/mL at scan start",
                f"{protocol.radionuclide} {protocol.tracer} PET, vertex to upper thigh",
            )
        )

    step("ground truth of the lesions")
    lesion_rows = []
    for lesion in lesions(structures):
        lesion_rows.append(
            {
                "id": ids[lesion.name],
                "name": lesion.name,
                "location": lesion.location,
                **lesion_truth(lesion),
                "suv_fdg": lesion.tissue.suv_fdg,
                "suv_dotatate": lesion.tissue.suv_dotatate,
            }
        )
    files["lesions.json"] = _json_bytes(
        {
            "description": "Ground truth of every lesion of the synthetic patient (true values before blur "
            "and noise; diameters and volume from the analytic shape). Synthetic, not for "
            "clinical use.",
            "units": {
                "centre_mm": "mm, RAS+",
                "volume_ml": "mL",
                "longest_diameter_mm": "mm",
                "longest_axial_diameter_mm": "mm",
                "suv_fdg": "g/mL",
                "suv_dotatate": "g/mL",
            },
            "lesions": lesion_rows,
        }
    )
    files["labels.json"] = _json_bytes({str(i): name for name, i in ids.items()})
    for name, modality, units in (("ct", "CT", "HU"), ("mri_t1w", "MR", "a.u."), ("mri_t2w", "MR", "a.u.")):
        files[f"{name}.json"] = _json_bytes(
            {
                "Modality": modality,
                "Units": units,
                "SyntheticData": True,
                "Disclaimer": "Synthetic teaching data, not for clinical use.",
            }
        )
    files["README.md"] = _readme(described).encode("utf-8")

    manifest = {
        "generator_sha256": generator_sha256(),
        "rebuild": REBUILD_COMMAND,
        "files": {name: _file_record(name, data) for name, data in sorted(files.items())},
    }
    files[MANIFEST_NAME] = _json_bytes(manifest)
    step("writing files")
    _write_atomically(out_dir, files)
    step(f"done: {sum(len(b) for b in files.values()) / 1e6:.1f} MB in {out_dir}")
    return manifest


def _readme(described: list[dict[str, Any]]) -> str:
    """``data/README.md``: what every file holds, generated with the data so it never drifts."""
    rows = "\n".join(
        f"| `{d['name']}.nii.gz` | {' x '.join(map(str, d['shape']))} | {' x '.join(map(str, d['voxel_mm']))} "
        f"| {d['orientation']} | {d['dtype']} | {d['units']} | {d['shows']} |"
        for d in described
    )
    return f"""# Course data: a synthetic patient

**Synthetic teaching data, not for clinical use.** Every image here is computed from an analytic model of
one patient (`utils/anatomy.py`) by the simulated scanners in `utils/phantom.py`. Rebuild with
`{REBUILD_COMMAND}`; the build is deterministic and `manifest.json` records the sha256 of every file's
uncompressed content. Notebooks read these files through `utils.io` and never write here.

All volumes share one world space in millimetres, RAS+ (+x toward the patient's right, +y anterior,
+z superior; origin on the midline at the sacral promontory), so they overlay without registration.
`utils.io.load_volume` returns every volume in RAS+ (closest canonical) orientation; the MRI files are
stored left-to-right (LAS) on disk, as many scanners write them.

## Volumes
| file | shape | voxel (mm) | on disk | stored as | units | shows |
|---|---|---|---|---|---|---|
{rows}

## JSON files
| file | holds |
|---|---|
| `pet_fdg.json`, `pet_dotatate.json` | BIDS-PET-style sidecar: tracer, radionuclide half-life (s), injected activity (Bq), body weight (kg) and height (cm), injection and scan start (clock time and seconds after TimeZero), units, image resolution (PSF_FWHM_mm) |
| `ct.json`, `mri_t1w.json`, `mri_t2w.json` | modality and units |
| `labels.json` | label id -> structure name for `labels.nii.gz` |
| `lesions.json` | ground truth per lesion: id, name, location, centre (mm), volume (mL), longest 3-D and axial diameters (mm), true FDG and DOTATATE SUV |
| `manifest.json` | sha256 and size of every file, and the hash of the generator code |

## The patient
A 45-year-old woman, 65 kg, 165 cm, after the published case (Paul A et al., World J Nucl Med 2025,
DOI 10.1055/s-0045-1810099, CC BY 4.0): a lobulated presacral mass entering the left S1-S2 neural foramen,
a precoccygeal mass, and eight liver lesions of 5-38 mm in both lobes. The masses are FDG-avid; the liver
lesions are not; every lesion expresses somatostatin receptors (high 68Ga-DOTATATE uptake). Normal tissue that
mimics disease is there too, as the pitfalls of SSTR PET: the uncinate process of the pancreas and an accessory
spleen below the spleen's lower pole (labels `pancreas_uncinate`, `accessory_spleen`). PET values are
activity concentrations at scan start; SUV = value / (injected activity decayed to scan start / weight in g).
"""


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2) + "\n").encode("utf-8")


def _file_record(name: str, data: bytes) -> dict[str, Any]:
    """Manifest entry: sha256 of the uncompressed content (gzip headers never count) and size."""
    content = gzip.decompress(data) if name.endswith(".gz") else data
    return {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(data)}


def _write_atomically(out_dir: Path, files: dict[str, bytes]) -> None:
    """Write all files to a sibling temporary folder, then move each into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=out_dir.parent))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        for name in files:
            os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def check(data_dir: Path) -> list[str]:
    """Problems with ``data_dir`` against its manifest and the current generator; empty when up to date."""
    manifest_path = data_dir / MANIFEST_NAME
    if not manifest_path.exists():
        return [f"{manifest_path} is missing"]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    problems = []
    if manifest.get("generator_sha256") != generator_sha256():
        problems.append("the data were built by another version of utils (generator changed)")
    expected = {f"{v}.nii.gz" for v in VOLUMES} | {"lesions.json", "labels.json", "README.md"}
    for name in sorted(expected - set(manifest.get("files", {}))):
        problems.append(f"{name} is not in the manifest")
    for name, record in manifest.get("files", {}).items():
        path = data_dir / name
        if not path.exists():
            problems.append(f"{name} is missing")
            continue
        digest = (
            sha256_of_nifti(path) if name.endswith(".gz") else hashlib.sha256(path.read_bytes()).hexdigest()
        )
        if digest != record["sha256"]:
            problems.append(f"{name} does not match the manifest")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line: build, check (--check) or build only when needed (--ensure)."""
    parser = argparse.ArgumentParser(prog="python -m utils.build_data", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="verify data/ against its manifest; exit 1 if stale"
    )
    mode.add_argument("--ensure", action="store_true", help="rebuild only when the check fails")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output folder (default: data/)")
    args = parser.parse_args(argv)
    if args.check or args.ensure:
        problems = check(args.out)
        if not problems:
            print(f"data OK: {args.out} matches its manifest")
            return 0
        print("data need rebuilding:\n  " + "\n  ".join(problems))
        if args.check:
            return 1
    print(f"building synthetic course data into {args.out} ...")
    build(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
