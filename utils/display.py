"""Display core: RAS+ slicing in radiological convention, window/level, colour LUTs, PET fusion, MIPs.

Everything interactive in ``utils.widgets`` is built on the numpy functions here, so a slider move costs a few
array look-ups and one image encode, never a new matplotlib figure. The ``*_figure`` functions give the same
pictures as static ``matplotlib.figure.Figure`` objects for HTML pages and handouts.

Screen conventions (radiological): axial and coronal show the patient's right on the screen's left; axial has
anterior at the top; coronal and sagittal have superior at the top; sagittal has anterior on the left. Every
displayed pixel is square in millimetres, whatever the voxel sizes.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

import matplotlib
import nibabel as nib
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure
from scipy import ndimage

VIEWS = ("axial", "coronal", "sagittal")
# voxel axis that each plane cuts across (RAS+ voxel order i -> x, j -> y, k -> z)
NORMAL_AXIS = {"sagittal": 0, "coronal": 1, "axial": 2}
# (axis shown along screen columns, axis shown along screen rows); both are drawn reversed, see _axis_map
INPLANE_AXES = {"axial": (0, 1), "coronal": (0, 2), "sagittal": (1, 2)}
ORIENTATION_LETTERS = {  # (screen left, screen right, top, bottom)
    "axial": ("R", "L", "A", "P"),
    "coronal": ("R", "L", "S", "I"),
    "sagittal": ("A", "P", "S", "I"),
}
AXIS_NAMES = ("x (R-L)", "y (A-P)", "z (S-I)")

# CT windows as (width, level) in HU; textbook values. The course CT is a low-dose non-contrast scan
# (liver about 55 HU), so the liver window is centred lower than the contrast-enhanced W150/L90.
CT_WINDOWS: dict[str, tuple[float, float]] = {
    "soft_tissue": (400.0, 40.0),
    "liver": (150.0, 60.0),
    "bone": (1800.0, 400.0),
    "lung": (1500.0, -600.0),
    "brain": (80.0, 40.0),
}
# MRI has arbitrary units, so its windows are percentiles of the voxels above MRI_BACKGROUND_FRACTION * max
MRI_PERCENTILES: dict[str, tuple[float, float]] = {"mri": (1.0, 99.5), "mri_wide": (0.1, 99.9)}
MRI_BACKGROUND_FRACTION = 0.02
PRESETS = tuple(CT_WINDOWS) + tuple(MRI_PERCENTILES)

# PET is shown in SUV from 0 to a fixed upper bound per tracer, so images of one tracer always compare
SUV_DISPLAY_MAX: dict[str, float] = {"FDG": 10.0, "DOTATATE": 30.0}
DEFAULT_SUV_MAX = 10.0
PET_COLORMAPS = ("hot", "inferno", "viridis", "cividis", "magma", "gray_r")
COLORBLIND_SAFE = ("inferno", "viridis", "cividis", "magma", "gray", "gray_r")
MIP_COLORMAP = "gray_r"  # nuclear medicine reads MIPs as black uptake on white
# Orientation letters (screen left, right, top, bottom) of MIPs seen from 0 (front), 90 (patient's right), ...
MIP_LETTERS = {
    0: ("R", "L", "S", "I"),
    90: ("P", "A", "S", "I"),
    180: ("L", "R", "S", "I"),
    270: ("A", "P", "S", "I"),
}
CROSSHAIR_RGB = (0, 220, 255)


# --------------------------------------------------------------------------- volumes and geometry
def _check_3d(data: np.ndarray, what: str = "volume") -> None:
    """Raise ValueError unless ``data`` is a non-empty 3-D array."""
    if data.ndim != 3:
        hint = " (pick one frame first, e.g. data[..., 0])" if data.ndim == 4 else ""
        raise ValueError(f"{what} has shape {data.shape}: a 3-D volume is needed, not {data.ndim}-D{hint}")
    if min(data.shape) < 1:
        raise ValueError(f"{what} has an empty axis: shape {data.shape}")


def _axis_map(n_src: int, spacing_mm: float, pixel_mm: float) -> np.ndarray:
    """Source index for each screen pixel along one axis, reversed (screen start = highest voxel index)."""
    n_pix = max(1, round(n_src * spacing_mm / pixel_mm))
    src = np.floor((np.arange(n_pix) + 0.5) * pixel_mm / spacing_mm).astype(np.intp)
    return (n_src - 1) - np.clip(src, 0, n_src - 1)


def _pixel_centres(axis_map: np.ndarray, n_src: int) -> np.ndarray:
    """Screen pixel coordinate of each source index: the middle of the pixels that repeat it."""
    counts = np.bincount(axis_map, minlength=n_src)
    sums = np.bincount(axis_map, weights=np.arange(axis_map.size, dtype=float), minlength=n_src)
    return sums / np.maximum(counts, 1)


class RasVolume:
    """A 3-D volume on an axis-aligned RAS+ grid (float32, mm affine) with square-pixel plane extraction."""

    def __init__(self, data: np.ndarray, affine: np.ndarray, name: str = "", pixel_mm: float | None = None):
        data = np.asarray(data)
        _check_3d(data, name or "volume")
        affine = np.asarray(affine, dtype=float)
        if affine.shape != (4, 4):
            raise ValueError(f"affine must be 4x4, got shape {affine.shape}")
        if not np.allclose(affine[:3, :3], np.diag(np.diag(affine[:3, :3])), atol=1e-4) or np.any(
            np.diag(affine)[:3] <= 0
        ):
            raise ValueError("RasVolume needs an axis-aligned RAS+ affine; convert with as_ras_volume(img)")
        if not np.all(np.isfinite(data)):
            raise ValueError(f"{name or 'volume'} contains NaN or infinite values")
        # Fortran order keeps each axial plane (the one moved most) contiguous in memory
        self.data = np.asfortranarray(data, dtype=np.float32)
        self.affine = affine
        self.name = name
        self.pixel_mm = float(pixel_mm) if pixel_mm is not None else float(self.voxel_mm.min())
        self._flat = self.data.ravel(order="K")  # a view in memory order; offsets use the real strides

    def __repr__(self) -> str:
        return f"RasVolume({self.name!r}, shape={self.shape}, voxel_mm={tuple(np.round(self.voxel_mm, 3))})"

    @property
    def shape(self) -> tuple[int, int, int]:
        """Voxel counts (nx, ny, nz)."""
        return self.data.shape  # type: ignore[return-value]

    @property
    def voxel_mm(self) -> np.ndarray:
        """Voxel size along x, y, z in mm, shape (3,)."""
        return np.diag(self.affine)[:3].copy()

    def index_to_world(self, ijk: Sequence[float]) -> np.ndarray:
        """World position (x, y, z) in mm of voxel indices (i, j, k)."""
        return self.affine[:3, :3] @ np.asarray(ijk, dtype=float) + self.affine[:3, 3]

    def world_to_index(self, position_mm: Sequence[float], *, clip: bool = False) -> tuple[int, int, int]:
        """Nearest voxel indices (i, j, k) of a world position in mm; ValueError outside unless ``clip``."""
        pos = np.asarray(position_mm, dtype=float)
        if pos.shape != (3,) or not np.all(np.isfinite(pos)):
            raise ValueError(f"position_mm must be three finite numbers (x, y, z) in mm, got {position_mm!r}")
        ijk = np.rint(np.linalg.solve(self.affine[:3, :3], pos - self.affine[:3, 3])).astype(int)
        upper = np.asarray(self.shape) - 1
        if not clip and (np.any(ijk < 0) or np.any(ijk > upper)):
            lo, hi = self.index_to_world((0, 0, 0)), self.index_to_world(upper)
            raise ValueError(
                f"position {tuple(np.round(pos, 1))} mm is outside {self.name or 'the volume'} "
                f"(x {lo[0]:.0f}..{hi[0]:.0f}, y {lo[1]:.0f}..{hi[1]:.0f}, z {lo[2]:.0f}..{hi[2]:.0f} mm)"
            )
        ijk = np.clip(ijk, 0, upper)
        return int(ijk[0]), int(ijk[1]), int(ijk[2])

    def value_at(self, position_mm: Sequence[float]) -> float:
        """Voxel value at a world position in mm (nearest voxel)."""
        return float(self.data[self.world_to_index(position_mm)])

    def centre_index(self) -> tuple[int, int, int]:
        """Indices of the middle voxel."""
        return tuple(int(n // 2) for n in self.shape)  # type: ignore[return-value]

    @cached_property
    def _geometry(self) -> dict[str, dict[str, np.ndarray]]:
        """Per view: flat gather offsets (H, W) and the screen position of every in-plane voxel index."""
        strides = np.array(self.data.strides) // self.data.itemsize
        geometry = {}
        for view in VIEWS:
            a, b = INPLANE_AXES[view]
            cols = _axis_map(self.shape[a], self.voxel_mm[a], self.pixel_mm)
            rows = _axis_map(self.shape[b], self.voxel_mm[b], self.pixel_mm)
            offsets = rows[:, None] * strides[b] + cols[None, :] * strides[a]
            geometry[view] = {
                "offsets": offsets.astype(np.intp),
                "col_of": _pixel_centres(cols, self.shape[a]),
                "row_of": _pixel_centres(rows, self.shape[b]),
                "stride": np.intp(strides[NORMAL_AXIS[view]]),
            }
        return geometry

    def frame_shape(self, view: str) -> tuple[int, int]:
        """Screen size (rows, cols) of a plane, square pixels of ``pixel_mm``."""
        return self._geometry[check_view(view)]["offsets"].shape  # type: ignore[return-value]

    def plane(self, view: str, index: int) -> np.ndarray:
        """Plane ``index`` of ``view`` as a screen-oriented float32 array (rows, cols), square pixels."""
        geo = self._geometry[check_view(view)]
        n = self.shape[NORMAL_AXIS[view]]
        if not 0 <= int(index) < n:
            raise ValueError(f"{view} index {index} is outside 0..{n - 1}")
        return np.take(self._flat, geo["offsets"] + int(index) * geo["stride"])

    def orient(self, view: str, plane_ab: np.ndarray) -> np.ndarray:
        """Screen-orient any 2-D array indexed like this volume's in-plane axes of ``view`` (e.g. a MIP)."""
        a, b = INPLANE_AXES[check_view(view)]
        if plane_ab.shape != (self.shape[a], self.shape[b]):
            raise ValueError(f"{view} plane must have shape {(self.shape[a], self.shape[b])}")
        cols = _axis_map(self.shape[a], self.voxel_mm[a], self.pixel_mm)
        rows = _axis_map(self.shape[b], self.voxel_mm[b], self.pixel_mm)
        return plane_ab[cols[None, :], rows[:, None]]

    def pixel_of(self, view: str, ijk: Sequence[int]) -> tuple[float, float]:
        """Screen (row, col) of voxel (i, j, k) in ``view``: where the crosshair is drawn."""
        geo = self._geometry[check_view(view)]
        a, b = INPLANE_AXES[view]
        return float(geo["row_of"][int(ijk[b])]), float(geo["col_of"][int(ijk[a])])

    def pixel_of_mm(self, view: str, position_mm: Sequence[float]) -> tuple[float, float]:
        """Screen (row, col) of a world position in mm in ``view``."""
        return self.pixel_of(view, self.world_to_index(position_mm))


def check_view(view: str) -> str:
    """Return ``view`` if it is 'axial', 'coronal' or 'sagittal'; ValueError otherwise."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}: choose one of {', '.join(VIEWS)}")
    return view


def _is_axis_aligned(affine: np.ndarray) -> bool:
    """True when the rotation part is diagonal with positive steps (already RAS+ axis-aligned)."""
    rot = affine[:3, :3]
    off = rot - np.diag(np.diag(rot))
    return bool(np.all(np.abs(off) < 1e-4 * np.abs(np.diag(rot)).max()) and np.all(np.diag(rot) > 0))


def _aligned_grid(shape: Sequence[int], affine: np.ndarray) -> tuple[tuple[int, int, int], np.ndarray]:
    """Axis-aligned RAS+ grid that covers an oblique volume, keeping its voxel sizes."""
    voxel_mm = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    corners = np.array(
        [[i, j, k] for i in (0, shape[0] - 1) for j in (0, shape[1] - 1) for k in (0, shape[2] - 1)]
    )
    world = corners @ affine[:3, :3].T + affine[:3, 3]
    lo, hi = world.min(axis=0), world.max(axis=0)
    new_shape = tuple(math.floor((hi[d] - lo[d]) / voxel_mm[d] + 1e-6) + 1 for d in range(3))
    new_affine = np.eye(4)
    new_affine[:3, :3] = np.diag(voxel_mm)
    new_affine[:3, 3] = lo
    return new_shape, new_affine  # type: ignore[return-value]


def _resample(
    data: np.ndarray, src_affine: np.ndarray, shape: Sequence[int], dst_affine: np.ndarray, order: int
) -> np.ndarray:
    """Resample ``data`` (grid ``src_affine``) onto (``shape``, ``dst_affine``); zero outside, float32."""
    vox2vox = np.linalg.solve(src_affine, dst_affine)  # destination voxel -> source voxel
    rot, shift = vox2vox[:3, :3], vox2vox[:3, 3]
    # a diagonal map lets scipy use its fast separable path
    matrix = np.diag(rot) if np.allclose(rot, np.diag(np.diag(rot)), atol=1e-9) else rot
    return ndimage.affine_transform(
        np.asarray(data, dtype=np.float32),
        matrix,
        offset=shift,
        output_shape=tuple(int(s) for s in shape),
        output=np.float32,
        order=order,
        mode="constant",
        cval=0.0,
        prefilter=order > 1,
    )


def as_ras_volume(
    img: nib.spatialimages.SpatialImage | RasVolume | np.ndarray,
    affine: np.ndarray | None = None,
    *,
    name: str = "",
    order: int = 1,
) -> RasVolume:
    """A RasVolume from a NIfTI image (any orientation; oblique ones resampled, ``order`` 0 or 1) or an array.

    Arrays without ``affine`` are taken as already RAS+ with 1 mm voxels.
    """
    if isinstance(img, RasVolume):
        return img
    if isinstance(img, np.ndarray):
        _check_3d(img, name or "array")
        img = nib.Nifti1Image(np.asarray(img, dtype=np.float32), np.eye(4) if affine is None else affine)
    elif not isinstance(img, nib.spatialimages.SpatialImage):
        raise ValueError(f"expected a nibabel image, RasVolume or numpy array, got {type(img).__name__}")
    if len(img.shape) != 3:
        raise ValueError(
            f"{name or 'image'} has shape {img.shape}: a 3-D volume is needed, not {len(img.shape)}-D"
        )
    # the closest-canonical flip/permutation is exact; only a truly oblique grid needs interpolation
    img = nib.as_closest_canonical(img)
    data = img.get_fdata(dtype=np.float32)
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{name or 'image'} contains NaN or infinite values")
    if _is_axis_aligned(img.affine):
        return RasVolume(data, img.affine, name=name)
    shape, new_affine = _aligned_grid(img.shape, img.affine)
    return RasVolume(_resample(data, img.affine, shape, new_affine, order), new_affine, name=name)


def resample_like(
    moving: RasVolume, target: RasVolume, *, order: int = 1, scale: float = 1.0, name: str | None = None
) -> RasVolume:
    """``moving`` resampled onto ``target``'s grid (once, e.g. PET onto CT), values times ``scale``."""
    if moving.shape == target.shape and np.allclose(moving.affine, target.affine):
        data = moving.data * np.float32(scale) if scale != 1.0 else moving.data
    else:
        data = _resample(moving.data, moving.affine, target.shape, target.affine, order)
        if scale != 1.0:
            data *= np.float32(scale)
    return RasVolume(
        data, target.affine, name=moving.name if name is None else name, pixel_mm=target.pixel_mm
    )


def pair_volumes(
    base: nib.spatialimages.SpatialImage | RasVolume | np.ndarray,
    overlay: nib.spatialimages.SpatialImage | RasVolume | np.ndarray,
) -> tuple[RasVolume, RasVolume]:
    """Base and overlay as RasVolumes; bare arrays must match in shape (no affine to align them)."""
    bare = [isinstance(v, np.ndarray) for v in (base, overlay)]
    if any(bare):
        b_shape, o_shape = np.shape(base), np.shape(overlay)
        if b_shape != o_shape:
            raise ValueError(
                f"shapes {b_shape} and {o_shape} differ and at least one array has no affine: pass nibabel "
                "images (with affines) so the overlay can be resampled onto the base grid"
            )
    return as_ras_volume(base, name="base"), as_ras_volume(overlay, name="overlay")


# --------------------------------------------------------------------------- window/level and colour
def window_range(
    preset: str | tuple[float, float], data: np.ndarray | RasVolume | None = None
) -> tuple[float, float]:
    """Display range (low, high) from a preset name or a (width, level) pair; MRI presets need ``data``."""
    if isinstance(preset, tuple | list):
        if len(preset) != 2:
            raise ValueError(f"a window is (width, level), got {preset!r}")
        width, level = float(preset[0]), float(preset[1])
        if not width > 0:
            raise ValueError(f"window width must be > 0, got {width}")
        return level - width / 2.0, level + width / 2.0
    if preset in CT_WINDOWS:
        return window_range(CT_WINDOWS[preset])
    if preset in MRI_PERCENTILES:
        if data is None:
            raise ValueError(f"preset {preset!r} is computed from the image: pass its data")
        return _percentile_window(
            data.data if isinstance(data, RasVolume) else np.asarray(data), MRI_PERCENTILES[preset]
        )
    raise ValueError(
        f"unknown window preset {preset!r}: choose one of {', '.join(PRESETS)} or give (width, level)"
    )


def _percentile_window(data: np.ndarray, percentiles: tuple[float, float]) -> tuple[float, float]:
    """Percentile window of the foreground voxels (background = below a small fraction of the maximum)."""
    top = float(np.max(data))
    sample = data[data > MRI_BACKGROUND_FRACTION * top] if top > 0 else data.ravel()
    if sample.size > 2_000_000:  # a strided subsample is plenty for two percentiles
        sample = sample[:: sample.size // 1_000_000]
    if sample.size == 0:
        sample = data.ravel()
    low, high = np.percentile(sample, percentiles)
    return float(low), float(high if high > low else low + 1.0)


def default_preset(data: np.ndarray | RasVolume) -> str:
    """'soft_tissue' for CT-like data (air below -500 HU present), else 'mri'."""
    values = data.data if isinstance(data, RasVolume) else np.asarray(data)
    return "soft_tissue" if float(values.min()) < -500.0 else "mri"


def to_uint8(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map values in [low, high] linearly to 0..255 (rounded, clipped) as uint8 LUT indices."""
    if not high > low:
        raise ValueError(f"display range needs high > low, got ({low}, {high})")
    scaled = np.subtract(values, low, dtype=np.float32)
    scaled *= np.float32(255.0 / (high - low))
    scaled += np.float32(0.5)
    np.clip(scaled, 0.0, 255.0, out=scaled)
    return scaled.astype(np.uint8)


@lru_cache(maxsize=64)
def colormap_lut(name: str) -> np.ndarray:
    """256 x 3 uint8 RGB lookup table sampled from a matplotlib colormap (read-only)."""
    try:
        cmap = matplotlib.colormaps[name]
    except KeyError:
        raise ValueError(
            f"unknown colormap {name!r}: try one of {', '.join(PET_COLORMAPS)} or 'gray'"
        ) from None
    lut = np.rint(cmap.resampled(256)(np.linspace(0.0, 1.0, 256))[:, :3] * 255.0).astype(np.uint8)
    lut.flags.writeable = False
    return lut


def apply_lut(index: np.ndarray, cmap: str = "gray") -> np.ndarray:
    """RGB uint8 image (..., 3) from uint8 LUT indices."""
    return np.take(colormap_lut(cmap), index, axis=0)


def grey_rgb(values: np.ndarray, low: float, high: float, cmap: str = "gray") -> np.ndarray:
    """Windowed RGB uint8 image (rows, cols, 3) of a 2-D slice."""
    return apply_lut(to_uint8(values, low, high), cmap)


def threshold_index(threshold: float, low: float, high: float) -> int:
    """LUT index at and below which an overlay value (same units as low/high) is transparent."""
    return int(np.clip(math.floor((threshold - low) / (high - low) * 255.0 + 0.5), 0, 255))


@lru_cache(maxsize=32)
def blend_table(base_cmap: str, overlay_cmap: str, opacity: float, transparent_to: int) -> np.ndarray:
    """65536 x 3 uint8 RGB table for every (base index, overlay index) pair: fusion becomes one look-up."""
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be within 0..1, got {opacity}")
    base = colormap_lut(base_cmap).astype(np.float32)[:, None, :]
    over = colormap_lut(overlay_cmap).astype(np.float32)[None, :, :]
    alpha = np.full((1, 256, 1), opacity, dtype=np.float32)
    alpha[:, : transparent_to + 1] = 0.0  # overlay values at or below the threshold let the base show
    table = np.rint(base + alpha * (over - base)).astype(np.uint8).reshape(65536, 3)
    table.flags.writeable = False
    return table


def default_threshold(suv_low: float, suv_high: float) -> float:
    """Default PET transparency threshold (SUV): a tenth of the way up the display range."""
    return suv_low + 0.1 * (suv_high - suv_low)


def fuse_rgba(
    ct_slice: np.ndarray,
    pet_slice: np.ndarray,
    *,
    ct_window: str | tuple[float, float] = "soft_tissue",
    suv_range: tuple[float, float] = (0.0, DEFAULT_SUV_MAX),
    pet_cmap: str = "hot",
    opacity: float = 0.5,
    threshold: float | None = None,
    ct_cmap: str = "gray",
) -> np.ndarray:
    """RGBA uint8 (rows, cols, 4): PET (SUV, same grid) over CT (HU) with ``opacity``; PET <= threshold clear.

    ``ct_window`` is a CT preset name or (width, level) in HU; ``threshold`` defaults to a tenth of the way
    up ``suv_range`` (``default_threshold``), so fat and muscle stay clear and the CT anatomy shows.
    """
    ct_slice, pet_slice = np.asarray(ct_slice), np.asarray(pet_slice)
    for arr, what in ((ct_slice, "ct_slice"), (pet_slice, "pet_slice")):
        if arr.ndim != 2:
            raise ValueError(f"{what} has shape {arr.shape}: a 2-D slice is needed, not {arr.ndim}-D")
    if ct_slice.shape != pet_slice.shape:
        raise ValueError(
            f"ct_slice {ct_slice.shape} and pet_slice {pet_slice.shape} differ: resample PET to the CT grid "
            "first (resample_like)"
        )
    low, high = window_range(ct_window, ct_slice)
    s_low, s_high = float(suv_range[0]), float(suv_range[1])
    cut = threshold_index(default_threshold(s_low, s_high) if threshold is None else threshold, s_low, s_high)
    table = blend_table(ct_cmap, pet_cmap, float(opacity), cut)
    rgb = fuse_indices(to_uint8(ct_slice, low, high), to_uint8(pet_slice, s_low, s_high), table)
    rgba = np.empty((*rgb.shape[:2], 4), np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = 255  # opaque: the fused frame is the final picture
    return rgba


def fuse_indices(base_index: np.ndarray, overlay_index: np.ndarray, table: np.ndarray) -> np.ndarray:
    """RGB frame (rows, cols, 3) from two uint8 index images and a ``blend_table`` (the fast inner step)."""
    pair = np.left_shift(base_index, 8, dtype=np.intp)
    pair |= overlay_index
    return np.take(table, pair, axis=0)


# --------------------------------------------------------------------------- frame decorations and encoding
def draw_crosshair(
    rgb: np.ndarray, row: float, col: float, color: Sequence[int] = CROSSHAIR_RGB, gap: int = 6
) -> np.ndarray:
    """Draw a half-transparent crosshair in place on an RGB(A) frame, with a ``gap`` px gap at the centre."""
    rows, cols = rgb.shape[:2]
    r, c = round(row), round(col)
    colour = np.asarray(color, dtype=np.uint16)[:3]
    keep_col = np.abs(np.arange(cols) - c) > gap
    keep_row = np.abs(np.arange(rows) - r) > gap
    if 0 <= r < rows:
        line = rgb[r, keep_col, :3].astype(np.uint16)
        rgb[r, keep_col, :3] = ((line + colour) // 2).astype(np.uint8)
    if 0 <= c < cols:
        line = rgb[keep_row, c, :3].astype(np.uint16)
        rgb[keep_row, c, :3] = ((line + colour) // 2).astype(np.uint8)
    return rgb


@lru_cache(maxsize=32)
def _glyph(letter: str, size_px: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (letter, dark outline) of one orientation letter, rasterised once with Pillow's font."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=size_px)
    left, top, right, bottom = font.getbbox(letter)
    canvas = Image.new("L", (right - left + 2, bottom - top + 2), 0)
    ImageDraw.Draw(canvas).text((1 - left, 1 - top), letter, fill=255, font=font)
    mask = np.asarray(canvas) > 96
    outline = ndimage.binary_dilation(mask)
    mask.flags.writeable = outline.flags.writeable = False
    return mask, outline


def stamp_letters(
    rgb: np.ndarray, view: str, color: Sequence[int] = (255, 255, 80), size_px: int | None = None
) -> np.ndarray:
    """Write the orientation letters of ``view`` in place at the screen edges (dark outline; size in px)."""
    rows, cols = rgb.shape[:2]
    size = int(np.clip(min(rows, cols) // 12, 9, 16)) if size_px is None else int(size_px)
    left, right, top, bottom = ORIENTATION_LETTERS[check_view(view)]
    for letter, anchor in ((left, "w"), (right, "e"), (top, "n"), (bottom, "s")):
        mask, outline = _glyph(letter, size)
        h, w = mask.shape
        if h + 2 > rows or w + 2 > cols:
            continue
        r0 = {"w": (rows - h) // 2, "e": (rows - h) // 2, "n": 1, "s": rows - h - 1}[anchor]
        c0 = {"w": 1, "e": cols - w - 1, "n": (cols - w) // 2, "s": (cols - w) // 2}[anchor]
        patch = rgb[r0 : r0 + h, c0 : c0 + w, :3]
        patch[outline] = 0
        patch[mask] = color
    return rgb


def encode_frame(rgb: np.ndarray, fmt: str = "jpeg", quality: int = 90) -> bytes:
    """Encode an RGB/RGBA uint8 frame as JPEG (fast, default) or PNG (lossless) bytes."""
    from PIL import Image

    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise ValueError(f"frame must be uint8 (rows, cols, 3|4), got {rgb.dtype} {rgb.shape}")
    buffer = io.BytesIO()
    if fmt == "jpeg":
        # 4:4:4 chroma keeps thin coloured PET edges and the crosshair sharp
        Image.fromarray(rgb if rgb.shape[2] == 3 else np.ascontiguousarray(rgb[..., :3])).save(
            buffer, "JPEG", quality=quality, subsampling=0
        )
    elif fmt == "png":
        Image.fromarray(rgb).save(buffer, "PNG", compress_level=1)
    else:
        raise ValueError(f"unknown image format {fmt!r}: use 'jpeg' or 'png'")
    return buffer.getvalue()


# --------------------------------------------------------------------------- PET: SUV scaling and MIPs
def suv_scale_from_sidecar(sidecar: Mapping[str, Any]) -> float:
    """Body-weight SUV per Bq/mL (g/Bq) from a BIDS-PET sidecar (delegates to ``utils.pet``)."""
    from .pet import sidecar_suv_factor  # one definition of SUV for the whole course

    return float(sidecar_suv_factor(sidecar))


def suv_scale_of(suv_scale: float | Mapping[str, Any]) -> float:
    """A number stays as is; a sidecar dict becomes its body-weight SUV factor (SUV per Bq/mL)."""
    if isinstance(suv_scale, Mapping):
        return suv_scale_from_sidecar(suv_scale)
    value = float(suv_scale)
    if not value > 0:
        raise ValueError(f"suv_scale must be > 0 (SUV per stored unit), got {suv_scale}")
    return value


def suv_display_range(tracer: str | Mapping[str, Any] | None = None) -> tuple[float, float]:
    """Fixed SUV display range (0, upper bound) for a tracer name or sidecar: FDG 0-10, DOTATATE 0-30."""
    name = tracer.get("TracerName") if isinstance(tracer, Mapping) else tracer
    return 0.0, SUV_DISPLAY_MAX.get(str(name).upper(), DEFAULT_SUV_MAX) if name else DEFAULT_SUV_MAX


def mip(volume: RasVolume, view: str = "coronal") -> np.ndarray:
    """Maximum intensity projection across ``view``'s normal axis, screen-oriented (rows, cols)."""
    return volume.orient(view, volume.data.max(axis=NORMAL_AXIS[check_view(view)]))


class MipFrames:
    """Precomputed rotating MIP: ``frames`` (n_angles, rows, cols) float32, ``angles_deg`` (n_angles,)."""

    def __init__(self, frames: np.ndarray, angles_deg: np.ndarray, pixel_mm: float):
        self.frames = frames
        self.angles_deg = angles_deg
        self.pixel_mm = pixel_mm

    def __len__(self) -> int:
        return len(self.angles_deg)


class _MipSampler:
    """Fixed sampling grid of a rotating MIP: screen-right u and depth w (mm), plus the volume as columns."""

    def __init__(self, volume: RasVolume):
        nx, ny, nz = volume.shape
        dx, dy, dz = volume.voxel_mm
        self.shape, self.voxel_mm = (nx, ny, nz), (dx, dy, dz)
        self.step = float(min(dx, dy))
        # samples every step mm out to the half-diagonal, so nothing leaves the frame while turning; the
        # centre sample sits on a voxel centre, so 0/90/180/270 deg hit voxel centres (no blur of maxima)
        n_half = math.ceil(0.5 * math.hypot(nx * dx, ny * dy) / self.step)
        u = (np.arange(2 * n_half + 1) - n_half) * self.step
        self.centre = ((nx - 1) // 2, (ny - 1) // 2)
        self.uu, self.ww = np.meshgrid(u, u, indexing="ij")
        # one zero row past the end stands in for every sample outside the volume
        self.columns = np.concatenate([volume.data.reshape(nx * ny, nz), np.zeros((1, nz), np.float32)])
        self.rows = _axis_map(nz, dz, self.step)  # superior at the top, square pixels

    def frame(self, angle_deg: float, order: int = 1) -> np.ndarray:
        """One MIP frame (rows, cols) with the patient turned by ``angle_deg`` about the S-I axis."""
        nx, ny, _ = self.shape
        dx, dy, _ = self.voxel_mm
        angle = math.radians(angle_deg)
        cos, sin = math.cos(angle), math.sin(angle)
        # screen right at 0 deg is patient left (-x); depth runs along y
        fi = (-self.uu * cos + self.ww * sin) / dx + self.centre[0]
        fj = (self.uu * sin + self.ww * cos) / dy + self.centre[1]
        return _project_max(self.columns, fi, fj, nx, ny, order).T[self.rows]


def rotating_mip(volume: RasVolume, n_angles: int = 36, *, order: int = 1) -> MipFrames:
    """MIPs with the patient turning about the S-I axis in ``n_angles`` steps; frame 0 = anterior view.

    Angle 90 deg is the right lateral view. Computed once on the volume's own (coarse PET) grid; screen
    pixels are square; ``order`` 0 = nearest, 1 = bilinear in-plane sampling.
    """
    if n_angles < 1:
        raise ValueError(f"n_angles must be >= 1, got {n_angles}")
    sampler = _MipSampler(volume)
    angles = np.arange(n_angles) * (360.0 / n_angles)
    first = sampler.frame(0.0, order)
    frames = np.empty((n_angles, *first.shape), np.float32)
    frames[0] = first
    for n in range(1, n_angles):
        frames[n] = sampler.frame(float(angles[n]), order)
    return MipFrames(frames, angles, sampler.step)


def _project_max(
    columns: np.ndarray, fi: np.ndarray, fj: np.ndarray, nx: int, ny: int, order: int
) -> np.ndarray:
    """Max over depth of the volume sampled at in-plane voxel coordinates (fi, fj); nearest or bilinear."""
    outside = nx * ny
    if order == 0:
        i, j = np.rint(fi).astype(np.intp), np.rint(fj).astype(np.intp)
        idx = np.where((i >= 0) & (i < nx) & (j >= 0) & (j < ny), i * ny + j, outside)
        return columns[idx].max(axis=1)
    i0, j0 = np.floor(fi).astype(np.intp), np.floor(fj).astype(np.intp)
    wi, wj = (fi - i0).astype(np.float32), (fj - j0).astype(np.float32)
    acc = None
    for di, dj, weight in (
        (0, 0, (1 - wi) * (1 - wj)),
        (1, 0, wi * (1 - wj)),
        (0, 1, (1 - wi) * wj),
        (1, 1, wi * wj),
    ):
        i, j = i0 + di, j0 + dj
        idx = np.where((i >= 0) & (i < nx) & (j >= 0) & (j < ny), i * ny + j, outside)
        term = columns[idx]
        term *= weight[..., None]
        acc = term if acc is None else np.add(acc, term, out=acc)
    return acc.max(axis=1)


# --------------------------------------------------------------------------- labels and lesions
def label_at(labels: RasVolume | nib.spatialimages.SpatialImage, position_mm: Sequence[float]) -> int:
    """Label id at a world position in mm (nearest voxel; 0 outside the label map)."""
    vol = as_ras_volume(labels, name="labels", order=0)
    try:
        return round(vol.value_at(position_mm))
    except ValueError:
        return 0


def lesion_at(
    position_mm: Sequence[float],
    lesions: Sequence[Mapping[str, Any]],
    labels: RasVolume | nib.spatialimages.SpatialImage | None = None,
) -> dict[str, Any] | None:
    """The lesion record at a world position in mm (label map if given, else within its radius), or None."""
    if labels is not None:
        label = label_at(labels, position_mm)
        return next((dict(les) for les in lesions if int(les["id"]) == label), None)
    pos = np.asarray(position_mm, dtype=float)
    best, best_d = None, np.inf
    for les in lesions:
        dist = float(np.linalg.norm(pos - np.asarray(les["centre_mm"], dtype=float)))
        radius = 0.5 * float(les.get("longest_diameter_mm", 10.0))
        if dist <= radius and dist < best_d:
            best, best_d = dict(les), dist
    return best


# --------------------------------------------------------------------------- static figures
class CourseFigure(Figure):
    """A matplotlib Figure that shows itself as a PNG with alt text in any notebook, pyplot or not.

    A Figure made without pyplot has no notebook display of its own (only '<Figure size ...>' text), and
    inline figures carry no alt text; ``_repr_mimebundle_`` fixes both, so static HTML keeps every figure.
    """

    alt_text: str = ""

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        png = base64.b64encode(figure_png(self)).decode("ascii")
        return (
            {"image/png": png, "text/plain": self.alt_text or repr(self)},
            {"image/png": {"alt": self.alt_text}},
        )


class _Panel(NamedTuple):
    """One screen frame of a static figure, with its orientation and crosshair (row, col) if any."""

    rgb: np.ndarray
    view: str | None
    title: str
    crosshair: tuple[float, float] | None = None
    letters: tuple[str, str, str, str] | None = None  # (left, right, top, bottom); default from ``view``


class _Bar(NamedTuple):
    """A colourbar: colour map, range and label."""

    cmap: str
    low: float
    high: float
    label: str


def _panel_figure(
    rows: Sequence[Sequence[_Panel]],
    bars: Sequence[_Bar],
    *,
    row_in: float = 3.4,
    light: bool = False,
    max_width_in: float = 12.0,
) -> Figure:
    """A pyplot-free Figure (nothing leaks into pyplot's state) of frames, columns sized to their aspect."""
    ratios = [p.rgb.shape[1] / p.rgb.shape[0] for p in rows[0]]
    row_in = min(row_in, (max_width_in - 1.2) / sum(ratios))
    fig = CourseFigure(
        figsize=(row_in * sum(ratios) + 1.2, row_in * len(rows) + 0.6),
        facecolor="white" if light else "black",
        layout="constrained",
    )
    text = "black" if light else "white"
    axes = fig.subplots(len(rows), len(ratios), squeeze=False, gridspec_kw={"width_ratios": ratios})
    for r, row in enumerate(rows):
        for ax, panel in zip(axes[r], row, strict=True):
            _show_panel(ax, panel, text)
        if r < len(bars):
            _colourbar(fig, list(axes[r]), bars[r], text)
    return fig


def _show_panel(ax: Any, panel: _Panel, text: str) -> None:
    """Draw one frame with orientation letters and an optional dashed crosshair."""
    ax.imshow(panel.rgb, interpolation="nearest", aspect="equal")
    ax.set_axis_off()
    ax.set_title(panel.title, color=text, fontsize=9)
    if panel.crosshair is not None:
        colour = np.asarray(CROSSHAIR_RGB) / 255.0
        ax.axhline(panel.crosshair[0], color=colour, lw=0.7, ls="--", alpha=0.8)
        ax.axvline(panel.crosshair[1], color=colour, lw=0.7, ls="--", alpha=0.8)
    letters = panel.letters or (ORIENTATION_LETTERS[panel.view] if panel.view is not None else None)
    if letters is not None:
        left, right, top, bottom = letters
        # a dark box keeps the letters legible on white (inverted grey) as well as on black images
        box = {"boxstyle": "round,pad=0.15", "facecolor": "black", "alpha": 0.55, "linewidth": 0}
        style = {
            "color": "yellow",
            "fontsize": 9,
            "fontweight": "bold",
            "transform": ax.transAxes,
            "bbox": box,
        }
        ax.text(0.02, 0.5, left, ha="left", va="center", **style)
        ax.text(0.98, 0.5, right, ha="right", va="center", **style)
        ax.text(0.5, 0.99, top, ha="center", va="top", **style)
        ax.text(0.5, 0.01, bottom, ha="center", va="bottom", **style)


def _colourbar(fig: Figure, axes: Any, bar: _Bar, text: str) -> None:
    """Add a labelled colourbar beside ``axes``."""
    mappable = ScalarMappable(Normalize(bar.low, bar.high), ListedColormap(colormap_lut(bar.cmap) / 255.0))
    cbar = fig.colorbar(mappable, ax=axes, shrink=0.8, pad=0.02, aspect=25)
    cbar.set_label(bar.label, color=text)
    cbar.ax.tick_params(colors=text, labelsize=8)


def _plane_title(view: str, volume: RasVolume, ijk: Sequence[int]) -> str:
    """Two-line panel title such as 'Axial / z = 12 mm' (narrow whole-body panels need two lines)."""
    axis = NORMAL_AXIS[view]
    return f"{view.capitalize()}\n{'xyz'[axis]} = {volume.index_to_world(ijk)[axis]:.0f} mm"


def _position_index(volume: RasVolume, position_mm: Sequence[float] | None) -> tuple[int, int, int]:
    """Voxel indices of ``position_mm`` or of the volume centre."""
    return volume.centre_index() if position_mm is None else volume.world_to_index(position_mm)


def _finish(fig: Figure, alt_text: str, title: str | None, light: bool = False) -> Figure:
    """Attach the title and the accessibility description (``fig.alt_text``) to a figure."""
    if title:
        fig.suptitle(title, color="black" if light else "white", fontsize=11)
    fig.alt_text = alt_text  # type: ignore[attr-defined]
    return fig


def _where(volume: RasVolume, ijk: Sequence[int]) -> str:
    """'x=.., y=.., z=.. mm' of voxel indices."""
    x, y, z = volume.index_to_world(ijk)
    return f"x={x:.0f}, y={y:.0f}, z={z:.0f} mm"


def ortho_figure(
    img: nib.spatialimages.SpatialImage | RasVolume | np.ndarray,
    *,
    position_mm: Sequence[float] | None = None,
    preset: str | tuple[float, float] | None = None,
    cmap: str = "gray",
    crosshair: bool = True,
    title: str | None = None,
    units: str = "",
) -> Figure:
    """Axial, coronal and sagittal planes through ``position_mm`` (default centre), crosshair and letters."""
    vol = as_ras_volume(img)
    preset = default_preset(vol) if preset is None else preset
    low, high = window_range(preset, vol)
    ijk = _position_index(vol, position_mm)
    panels = [
        _Panel(
            grey_rgb(vol.plane(view, ijk[NORMAL_AXIS[view]]), low, high, cmap),
            view,
            _plane_title(view, vol, ijk),
            vol.pixel_of(view, ijk) if crosshair else None,
        )
        for view in VIEWS
    ]
    label = units or (f"{preset} window" if isinstance(preset, str) else "value")
    fig = _panel_figure([panels], [_Bar(cmap, low, high, label)])
    alt = (
        f"Axial, coronal and sagittal planes of {title or vol.name or 'a volume'} through "
        f"{_where(vol, ijk)}, "
        f"radiological convention (patient left on screen right), window {low:.0f} to {high:.0f}."
    )
    return _finish(fig, alt, title)


def _fused_panels(
    ct_vol: RasVolume,
    pet_on_ct: RasVolume,
    ijk: Sequence[int],
    views: Sequence[str],
    prefix: str = "",
    **fuse: Any,
) -> list[_Panel]:
    """Fused frames of ``views`` through voxel ``ijk`` (``fuse`` = fuse_rgba keywords)."""
    panels = []
    for view in views:
        index = ijk[NORMAL_AXIS[check_view(view)]]
        rgba = fuse_rgba(ct_vol.plane(view, index), pet_on_ct.plane(view, index), **fuse)
        title = (prefix if not panels else "") + _plane_title(view, ct_vol, ijk)  # tracer once per row
        panels.append(_Panel(rgba, view, title, ct_vol.pixel_of(view, ijk)))
    return panels


def fusion_figure(
    ct: nib.spatialimages.SpatialImage | RasVolume | np.ndarray,
    pet: nib.spatialimages.SpatialImage | RasVolume | np.ndarray,
    *,
    position_mm: Sequence[float] | None = None,
    suv_scale: float | Mapping[str, Any] = 1.0,
    suv_range: tuple[float, float] = (0.0, DEFAULT_SUV_MAX),
    pet_cmap: str = "hot",
    opacity: float = 0.5,
    threshold: float | None = None,
    preset: str | tuple[float, float] = "soft_tissue",
    views: Sequence[str] = VIEWS,
    title: str | None = None,
) -> Figure:
    """PET (SUV, resampled onto the CT grid) fused over CT in ``views`` through ``position_mm``."""
    ct_vol, pet_vol = pair_volumes(ct, pet)
    pet_on_ct = resample_like(pet_vol, ct_vol, scale=suv_scale_of(suv_scale))
    ijk = _position_index(ct_vol, position_mm)
    panels = _fused_panels(
        ct_vol,
        pet_on_ct,
        ijk,
        views,
        ct_window=preset,
        suv_range=suv_range,
        pet_cmap=pet_cmap,
        opacity=opacity,
        threshold=threshold,
    )
    fig = _panel_figure([panels], [_Bar(pet_cmap, suv_range[0], suv_range[1], "SUV")])
    alt = (
        f"{title or 'PET'} fused on CT ({', '.join(views)}) through {_where(ct_vol, ijk)}; PET colour map "
        f"{pet_cmap}, SUV {suv_range[0]:g} to {suv_range[1]:g}, opacity {opacity:.2f}."
    )
    return _finish(fig, alt, title)


def mip_figure(
    pet: nib.spatialimages.SpatialImage | RasVolume | np.ndarray,
    *,
    suv_scale: float | Mapping[str, Any] = 1.0,
    suv_range: tuple[float, float] = (0.0, DEFAULT_SUV_MAX),
    cmap: str = MIP_COLORMAP,
    angles_deg: Sequence[float] = (0.0, 90.0),
    title: str | None = None,
) -> Figure:
    """MIPs of a PET volume (SUV) from ``angles_deg`` (0 = anterior, 90 = right lateral), inverted grey."""
    vol = as_ras_volume(pet)
    scale = np.float32(suv_scale_of(suv_scale))
    sampler = _MipSampler(vol)
    panels = []
    for a in angles_deg:
        frame = _trim_empty_columns(sampler.frame(float(a)) * scale)
        rgb = grey_rgb(frame, suv_range[0], suv_range[1], cmap)
        letters = MIP_LETTERS.get(round(float(a)) % 360)
        panels.append(_Panel(rgb, None, f"MIP, {angle_name(float(a))}", letters=letters))
    light = cmap.endswith("_r")  # inverted maps read as dark uptake on a white page
    bar = _Bar(cmap, suv_range[0], suv_range[1], "SUV")
    fig = _panel_figure([panels], [bar], light=light, row_in=5.0)
    alt = (
        f"Maximum intensity projections of {title or 'PET'} seen from "
        f"{', '.join(angle_name(float(a)) for a in angles_deg)}; {cmap} from SUV {suv_range[0]:g} to "
        f"{suv_range[1]:g}."
    )
    return _finish(fig, alt, title, light)


def _trim_empty_columns(frame: np.ndarray, margin_px: int = 4) -> np.ndarray:
    """A MIP frame without the empty columns that pad it for rotation (a few kept as a margin)."""
    used = np.flatnonzero(frame.max(axis=0) > 0)
    if used.size == 0:
        return frame
    return frame[:, max(used[0] - margin_px, 0) : used[-1] + margin_px + 1]


def crop_mm(
    img: nib.spatialimages.SpatialImage, low_mm: Sequence[float], high_mm: Sequence[float]
) -> nib.spatialimages.SpatialImage:
    """The part of a volume inside a world box between two corners (x, y, z in mm), with its own affine."""
    corners = np.array([low_mm, high_mm], dtype=float)
    if corners.shape != (2, 3) or not np.all(np.isfinite(corners)):
        raise ValueError(f"low_mm and high_mm must be (x, y, z) in mm, got {low_mm!r} and {high_mm!r}")
    ijk = nib.affines.apply_affine(np.linalg.inv(img.affine), corners)
    lo = np.clip(np.floor(ijk.min(axis=0)), 0, img.shape[:3]).astype(int)
    hi = np.clip(np.ceil(ijk.max(axis=0)) + 1, 0, img.shape[:3]).astype(int)
    if np.any(hi - lo < 1):
        raise ValueError(f"the box {low_mm!r} to {high_mm!r} mm lies outside the volume")
    return img.slicer[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]


def angle_name(angle_deg: float) -> str:
    """Name of a rotating-MIP angle in degrees: 'anterior', 'right lateral', ... or '30 deg'."""
    names = {0: "anterior", 90: "right lateral", 180: "posterior", 270: "left lateral"}
    return names.get(round(angle_deg) % 360, f"{angle_deg:.0f} deg")


def dual_tracer_figure(
    ct: nib.spatialimages.SpatialImage | RasVolume | np.ndarray,
    fdg: nib.spatialimages.SpatialImage | RasVolume | np.ndarray,
    dotatate: nib.spatialimages.SpatialImage | RasVolume | np.ndarray,
    *,
    position_mm: Sequence[float] | None = None,
    suv_scales: tuple[float | Mapping[str, Any], float | Mapping[str, Any]] = (1.0, 1.0),
    suv_ranges: tuple[tuple[float, float], tuple[float, float]] | None = None,
    same_scale: bool = False,
    views: Sequence[str] = VIEWS,
    pet_cmap: str = "hot",
    opacity: float = 0.5,
    preset: str | tuple[float, float] = "soft_tissue",
    title: str | None = None,
) -> Figure:
    """FDG (top row) and DOTATATE (bottom row) fused on CT; ``same_scale`` shares one SUV range."""
    ct_vol = as_ras_volume(ct, name="ct")
    ranges = list(suv_ranges or (suv_display_range("FDG"), suv_display_range("DOTATATE")))
    if same_scale:
        shared = (min(r[0] for r in ranges), max(r[1] for r in ranges))
        ranges = [shared, shared]
    ijk = _position_index(ct_vol, position_mm)
    rows, bars = [], []
    for pet, scale, srange, tracer in zip(
        (fdg, dotatate), suv_scales, ranges, ("FDG", "DOTATATE"), strict=True
    ):
        _, pet_vol = pair_volumes(ct, pet)
        pet_on_ct = resample_like(pet_vol, ct_vol, scale=suv_scale_of(scale))
        rows.append(
            _fused_panels(
                ct_vol,
                pet_on_ct,
                ijk,
                views,
                f"{tracer} ",
                ct_window=preset,
                suv_range=srange,
                pet_cmap=pet_cmap,
                opacity=opacity,
            )
        )
        bars.append(_Bar(pet_cmap, srange[0], srange[1], f"{tracer} SUV"))
    fig = _panel_figure(rows, bars, row_in=3.0)
    alt = (
        f"FDG (top) and DOTATATE (bottom) PET fused on CT, {', '.join(views)} through {_where(ct_vol, ijk)}; "
        f"SUV up to {ranges[0][1]:g} and {ranges[1][1]:g} "
        f"({'same' if same_scale else 'own'} scale per tracer)."
    )
    return _finish(fig, alt, title)


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """PNG bytes of a figure, with its ``alt_text`` stored as the PNG Description."""
    buffer = io.BytesIO()
    fig.savefig(
        buffer,
        format="png",
        dpi=dpi,
        facecolor=fig.get_facecolor(),
        metadata={"Description": getattr(fig, "alt_text", "")},
    )
    return buffer.getvalue()


def show_figure(fig: Figure) -> None:
    """Display any figure as a PNG whose output metadata carries its ``alt_text`` (nbconvert's HTML alt)."""
    from IPython.display import Image, display

    display(Image(data=figure_png(fig), format="png", metadata={"alt": getattr(fig, "alt_text", "")}))
