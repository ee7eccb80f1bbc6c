"""Load the course volumes and their JSON files: nibabel, RAS+ canonical, validated, with clear errors."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from nibabel.filebasedimages import ImageFileError
from nibabel.spatialimages import HeaderDataError
from nibabel.wrapstruct import WrapStructError

from . import DATA_DIR, REBUILD_COMMAND

MANIFEST_NAME = "manifest.json"
#: What the last local build wrote (sha256 per file); not committed, since volumes are generated.
BUILD_RECORD_NAME = ".build-record.json"


def resolve_path(name_or_path: str | Path, suffix: str = ".nii.gz", data_dir: Path | None = None) -> Path:
    """Path of a data file: a bare name such as ``"pet_fdg"`` resolves inside ``data/``."""
    text = str(name_or_path)
    if not text:
        raise ValueError("name_or_path is empty: give a volume name such as 'pet_fdg' or a file path")
    path = Path(text)
    if path.parent == Path(".") and not path.exists():
        folder = Path(data_dir) if data_dir is not None else DATA_DIR
        path = folder / (text if text.endswith((".nii", ".nii.gz", ".json")) else text + suffix)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found. Rebuild the course data with: {REBUILD_COMMAND}")
    return path


def sha256_of_nifti(path: Path) -> str:
    """sha256 of the uncompressed NIfTI bytes (gzip headers and timestamps do not count)."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return hashlib.sha256(raw).hexdigest()


def _read_nifti(path: Path) -> tuple[nib.Nifti1Image, str]:
    """Read a NIfTI file once from disk: the image (held in memory) and the sha256 of its bytes."""
    raw = path.read_bytes()
    try:
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        img = nib.Nifti1Image.from_bytes(raw)
    except (OSError, EOFError, ImageFileError, HeaderDataError, WrapStructError, ValueError) as err:
        raise ValueError(f"{path} is not a readable NIfTI-1 file ({err})") from err
    return img, hashlib.sha256(raw).hexdigest()


def _manifest_entry(path: Path) -> dict[str, Any] | None:
    """The record of a file in its folder's local build record (else its manifest), or None."""
    for name in (BUILD_RECORD_NAME, MANIFEST_NAME):
        record = path.parent / name
        if record.exists():
            return json.loads(record.read_text(encoding="utf-8")).get("files", {}).get(path.name)
    return None


def load_volume(
    name_or_path: str | Path, *, verify: bool = True, data_dir: Path | None = None
) -> nib.Nifti1Image:
    """Load a 3-D NIfTI volume in RAS+ (closest canonical) orientation; checks it against its build record."""
    path = resolve_path(name_or_path, data_dir=data_dir)
    img, digest = _read_nifti(path)
    if len(img.shape) != 3:
        raise ValueError(f"{path.name} has shape {img.shape}: a 3-D volume is needed, not {len(img.shape)}-D")
    if verify:
        entry = _manifest_entry(path)
        if entry is not None and entry.get("sha256") != digest:
            raise ValueError(
                f"{path.name} does not match the data build record (changed or corrupted); rebuild with: "
                f"{REBUILD_COMMAND}"
            )
    canonical = nib.as_closest_canonical(img)
    data = np.asarray(canonical.dataobj)
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{path.name} contains NaN or infinite values")
    return canonical


def load_json(name_or_path: str | Path, data_dir: Path | None = None) -> Any:
    """Load a JSON file of the course data by bare name (``"pet_fdg"`` -> ``data/pet_fdg.json``) or path."""
    path = resolve_path(name_or_path, suffix=".json", data_dir=data_dir)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path.name} is not valid JSON ({err})") from err


def load_sidecar(name: str, data_dir: Path | None = None) -> dict[str, Any]:
    """The JSON sidecar of a volume, e.g. ``load_sidecar("pet_fdg")`` (tracer, activity, times, weight)."""
    return load_json(str(name).removesuffix(".nii.gz") + ".json", data_dir=data_dir)


def load_labels(data_dir: Path | None = None) -> dict[int, str]:
    """The label map's id -> structure name table from ``labels.json``."""
    return {int(k): v for k, v in load_json("labels", data_dir=data_dir).items()}


def load_lesions(data_dir: Path | None = None) -> list[dict[str, Any]]:
    """Ground truth of every lesion: id, name, centre_mm, volume_ml, diameters, true SUVs."""
    return load_json("lesions", data_dir=data_dir)["lesions"]


def load_landmarks(data_dir: Path | None = None) -> dict[str, tuple[float, float, float]]:
    """Named points of the patient (mm, RAS+): promontory, foramina, organs, each lesion's centre."""
    points = load_json("landmarks", data_dir=data_dir)["points"]
    return {name: tuple(float(v) for v in xyz) for name, xyz in points.items()}


def landmark(name: str, data_dir: Path | None = None) -> tuple[float, float, float]:
    """One named point (mm, RAS+), e.g. ``landmark("s1_s2_foramen_left")``; a clear error for unknown names."""
    points = load_landmarks(data_dir)
    if name not in points:
        close = [n for n in points if name.lower() in n or n in name.lower()][:8]
        hint = f"; did you mean one of {close}?" if close else f"; see {sorted(points)[:10]}..."
        raise ValueError(f"no landmark named {name!r}{hint}")
    return points[name]
