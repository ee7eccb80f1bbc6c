"""The scanners: sample the analytic patient on any grid (shape + affine) as CT, MRI, PET and labels.

Every modality starts from the same label map, so CT, MRI and both PET scans line up exactly, as
co-registered scans would. Noise uses ``numpy.random.default_rng`` with fixed seeds: same inputs, same
arrays.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .anatomy import Structure, Tissue, label_table

FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


@dataclass(frozen=True)
class Grid:
    """A scanner's voxel grid: array shape and the 4x4 voxel-to-world (RAS+ mm) affine."""

    shape: tuple[int, int, int]
    affine: np.ndarray

    @classmethod
    def axis_aligned(
        cls,
        lower_mm: tuple[float, float, float],
        voxel_mm: tuple[float, float, float],
        shape: tuple[int, int, int],
        flip_x: bool = False,
    ) -> Grid:
        """Grid whose first voxel's outer corner is ``lower_mm``; ``flip_x`` stores x right-to-left (LAS)."""
        affine = np.diag([*voxel_mm, 1.0])
        affine[:3, 3] = np.asarray(lower_mm) + np.asarray(voxel_mm) / 2
        if flip_x:
            affine[0, 0] = -voxel_mm[0]
            affine[0, 3] = lower_mm[0] + voxel_mm[0] * (shape[0] - 0.5)
        return cls(tuple(int(n) for n in shape), affine)

    @property
    def voxel_mm(self) -> np.ndarray:
        """Voxel edge lengths (mm) along the three array axes."""
        return np.sqrt((self.affine[:3, :3] ** 2).sum(axis=0))

    def refined(self, factor: int) -> Grid:
        """The same field of view with each voxel split into ``factor``^3 sub-voxels."""
        affine = self.affine.copy()
        affine[:3, :3] /= factor
        affine[:3, 3] = self.affine[:3, 3] - self.affine[:3, :3] @ np.full(3, (factor - 1) / (2 * factor))
        return Grid(tuple(n * factor for n in self.shape), affine)


def _index_box(grid: Grid, lower_mm: np.ndarray, upper_mm: np.ndarray) -> tuple[slice, slice, slice] | None:
    """Array index ranges that hold a world box (mm), or None when the box misses the grid."""
    corners = np.array(list(itertools.product(*zip(lower_mm, upper_mm, strict=True))))
    ijk = (np.linalg.inv(grid.affine) @ np.c_[corners, np.ones(8)].T)[:3]
    lo = np.maximum(np.floor(ijk.min(axis=1)).astype(int), 0)
    hi = np.minimum(np.ceil(ijk.max(axis=1)).astype(int) + 1, grid.shape)
    if np.any(hi <= lo):
        return None
    return tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))


def _world_points(grid: Grid, box: tuple[slice, slice, slice]) -> np.ndarray:
    """World coordinates (mm, float32) of the voxel centres in an index box, shape ``(ni, nj, nk, 3)``."""
    i, j, k = (np.arange(s.start, s.stop, dtype=np.float32) for s in box)
    a = grid.affine.astype(np.float32)
    return np.stack(
        [
            a[r, 0] * i[:, None, None] + a[r, 1] * j[None, :, None] + a[r, 2] * k[None, None, :] + a[r, 3]
            for r in range(3)
        ],
        axis=-1,
    )


def label_map(structures: list[Structure], grid: Grid, chunk_voxels: int = 1_500_000) -> np.ndarray:
    """Paint every structure on the grid in order; voxel value = label id (0 outside the body), uint8."""
    ids = label_table(structures)
    if len(ids) > 255:
        raise ValueError(f"{len(ids)} structures do not fit a uint8 label map (at most 255)")
    labels = np.zeros(grid.shape, dtype=np.uint8)
    for structure in structures:
        box = _index_box(grid, *structure.shape.bounds_mm())
        if box is None:
            continue
        # Work in slabs along the last axis so memory stays bounded on large grids.
        plane = (box[0].stop - box[0].start) * (box[1].stop - box[1].start)
        step = max(1, chunk_voxels // plane)
        for k0 in range(box[2].start, box[2].stop, step):
            slab = (box[0], box[1], slice(k0, min(k0 + step, box[2].stop)))
            inside = structure.shape.contains(_world_points(grid, slab))
            labels[slab][inside] = ids[structure.name]
    return labels


def tissue_lookup(structures: list[Structure]) -> list[Tissue | None]:
    """Tissue of each label id (index 0, outside the body, is None)."""
    ids = label_table(structures)
    table: list[Tissue | None] = [None] * (len(ids) + 1)
    for structure in structures:
        table[ids[structure.name]] = structure.tissue
    return table


def property_volume(labels: np.ndarray, structures: list[Structure], prop: str, outside: float) -> np.ndarray:
    """Volume of one tissue property (``"hu"``, ``"t1w"``, ``"t2w"``, ``"suv_fdg"``, ``"suv_dotatate"``)."""
    lut = np.array(
        [outside if t is None else getattr(t, prop) for t in tissue_lookup(structures)], dtype=np.float32
    )
    return lut[labels]


def ct_hu(
    labels: np.ndarray, structures: list[Structure], seed: int = 11, noise_hu: float = 12.0
) -> np.ndarray:
    """Low-dose CT in HU (int16): tissue HU, slight blur for a smooth kernel, Gaussian noise."""
    hu = ndimage.gaussian_filter(property_volume(labels, structures, "hu", -1000.0), sigma=0.6)
    hu += np.random.default_rng(seed).normal(0.0, noise_hu, size=hu.shape).astype(np.float32)
    return np.clip(np.rint(hu), -1024, 3071).astype(np.int16)


def mri_signal(
    labels: np.ndarray,
    structures: list[Structure],
    grid: Grid,
    weighting: str,
    seed: int = 21,
    noise_fraction: float = 0.02,
) -> np.ndarray:
    """MRI magnitude image (int16, 0-1000 a.u.) for ``weighting`` "t1w" or "t2w", with coil shading and
    Rician noise."""
    if weighting not in ("t1w", "t2w"):
        raise ValueError(f"weighting must be 't1w' or 't2w', not {weighting!r}")
    signal = ndimage.gaussian_filter(property_volume(labels, structures, weighting, 0.0), sigma=0.5)
    centre = _world_points(grid, tuple(slice(0, n) for n in grid.shape))
    # A posterior (spine-array) surface coil: signal falls off gently toward the anterior abdomen.
    shading = 1.15 - 0.25 * np.clip((centre[..., 1] + 130.0) / 260.0, 0.0, 1.0)
    signal *= 1000.0 * shading
    rng = np.random.default_rng(seed)
    sigma = noise_fraction * 1000.0
    real = signal + rng.normal(0.0, sigma, size=signal.shape).astype(np.float32)
    imag = rng.normal(0.0, sigma, size=signal.shape).astype(np.float32)
    return np.clip(np.rint(np.hypot(real, imag)), 0, 32767).astype(np.int16)


@dataclass(frozen=True)
class PetProtocol:
    """One PET acquisition: tracer, activity (Bq), weight (kg), uptake (min), resolution (mm FWHM), noise."""

    tracer: str
    radionuclide: str
    half_life_min: float
    injected_bq: float
    weight_kg: float
    uptake_min: float
    system_fwhm_mm: float
    positron_range_fwhm_mm: float
    postfilter_fwhm_mm: float
    counts_per_suv: float
    seed: int

    @property
    def suv_property(self) -> str:
        """Name of the tissue field that holds this tracer's SUV."""
        return "suv_fdg" if self.tracer == "FDG" else "suv_dotatate"

    @property
    def bq_ml_per_suv(self) -> float:
        """Activity concentration (Bq/mL at scan start) of SUV 1: decayed activity over weight in g."""
        decayed = self.injected_bq * 0.5 ** (self.uptake_min / self.half_life_min)
        return decayed / (self.weight_kg * 1000.0)

    @property
    def effective_fwhm_mm(self) -> float:
        """Resolution of the final image (mm FWHM): system, positron range and post-filter in quadrature."""
        return math.hypot(self.system_fwhm_mm, self.positron_range_fwhm_mm, self.postfilter_fwhm_mm)


def pet_activity(
    fine_labels: np.ndarray, structures: list[Structure], grid: Grid, protocol: PetProtocol, factor: int = 2
) -> np.ndarray:
    """PET activity concentration (Bq/mL at scan start, float32) on ``grid`` from labels on its
    ``factor``-times finer grid: true uptake, blur, voxel averaging, count noise, post-filter.

    Positron range is modelled as one more Gaussian whose FWHM is ``positron_range_fwhm_mm``: a teaching
    simplification, since the real range kernel is sharply peaked with long tails."""
    fine_mm = grid.voxel_mm / factor
    concentration = property_volume(fine_labels, structures, protocol.suv_property, 0.0)
    blur_fwhm = math.hypot(protocol.system_fwhm_mm, protocol.positron_range_fwhm_mm)
    concentration = ndimage.gaussian_filter(concentration, sigma=blur_fwhm / FWHM_PER_SIGMA / fine_mm)
    suv = concentration.reshape(grid.shape[0], factor, grid.shape[1], factor, grid.shape[2], factor).mean(
        axis=(1, 3, 5)
    )
    # Count-like noise: variance equal to the expected counts. Drawn as mean + sqrt(mean) * N(0, 1) rather
    # than with rng.poisson, whose random stream depends on every mean before it: with one normal draw per
    # voxel, editing one organ changes the noise only where that organ is.
    expected = suv * np.float32(protocol.counts_per_suv)
    normal = np.random.default_rng(protocol.seed).standard_normal(expected.shape, dtype=np.float32)
    suv = np.maximum(expected + np.sqrt(expected) * normal, 0.0) / np.float32(protocol.counts_per_suv)
    suv = ndimage.gaussian_filter(suv, sigma=protocol.postfilter_fwhm_mm / FWHM_PER_SIGMA / grid.voxel_mm)
    return (suv * protocol.bq_ml_per_suv).astype(np.float32)
