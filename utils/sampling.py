"""Sample the analytic patient on a voxel grid: partial-volume occupancy, tissue property maps, labels.

A voxel's occupancy by a solid is ``clip(0.5 - d / h, 0, 1)`` for the signed distance ``d`` (mm) of its
centre and the in-plane voxel size ``h`` (mm): the fraction of a voxel cut by a plane surface. Thick voxels
are supersampled along their long axis, so a 4-mm MRI slice averages what it crosses, as a real one does.
Only blocks of voxels near a surface are evaluated voxel by voxel: the signed distance at a block's centre
tells whether the whole block is inside or outside.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from nibabel.affines import apply_affine, voxel_sizes

from .anatomy import LAYERS, Structure, Tissue
from .sdf import Shape

Box = tuple[slice, slice, slice]


@dataclass(frozen=True)
class Grid:
    """A scanner's voxel grid: array shape and the 4x4 voxel-to-world (RAS+ mm) affine."""

    shape: tuple[int, int, int]
    affine: np.ndarray

    @classmethod
    def axis_aligned(
        cls,
        lower_mm: Sequence[float],
        voxel_mm: Sequence[float],
        shape: Sequence[int],
        flip_x: bool = False,
    ) -> Grid:
        """Grid whose first voxel's outer corner is ``lower_mm``; ``flip_x`` stores x right-to-left (LAS)."""
        affine = np.diag([*map(float, voxel_mm), 1.0])
        affine[:3, 3] = np.asarray(lower_mm, float) + np.asarray(voxel_mm, float) / 2
        if flip_x:
            affine[0, 0] = -voxel_mm[0]
            affine[0, 3] = lower_mm[0] + voxel_mm[0] * (shape[0] - 0.5)
        return cls(tuple(int(n) for n in shape), affine)

    @classmethod
    def covering(cls, lower_mm: Sequence[float], upper_mm: Sequence[float], voxel_mm: Sequence[float]) -> Grid:
        """Axis-aligned grid of ``voxel_mm`` voxels that covers the world box from ``lower_mm`` to ``upper_mm``."""
        lower, upper, vox = (np.asarray(v, float) for v in (lower_mm, upper_mm, voxel_mm))
        shape = np.ceil((upper - lower) / vox - 1e-6).astype(int)
        return cls.axis_aligned(lower, vox, shape)

    @property
    def voxel_mm(self) -> np.ndarray:
        """Voxel edge lengths (mm) along the three array axes."""
        return voxel_sizes(self.affine)

    def refined(self, factor: int) -> Grid:
        """The same field of view with each voxel split into ``factor``^3 sub-voxels."""
        affine = self.affine.copy()
        affine[:3, :3] /= factor
        affine[:3, 3] = self.affine[:3, 3] - self.affine[:3, :3] @ np.full(3, (factor - 1) / (2 * factor))
        return Grid(tuple(n * factor for n in self.shape), affine)


def index_box(grid: Grid, lower_mm: np.ndarray, upper_mm: np.ndarray) -> Box | None:
    """Array index ranges of ``grid`` that hold a world box (mm), or None when the box misses the grid."""
    corners = np.array(list(itertools.product(*zip(lower_mm, upper_mm, strict=True))))
    ijk = apply_affine(np.linalg.inv(grid.affine), corners)
    lo = np.maximum(np.floor(ijk.min(axis=0)).astype(int), 0)
    hi = np.minimum(np.ceil(ijk.max(axis=0)).astype(int) + 1, grid.shape)
    if np.any(hi <= lo):
        return None
    return tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))


def world_points(grid: Grid, box: Box | None = None) -> np.ndarray:
    """World coordinates (mm, float32) of the voxel centres in an index box, shape ``(ni, nj, nk, 3)``."""
    box = box or tuple(slice(0, n) for n in grid.shape)
    i, j, k = (np.arange(s.start, s.stop, dtype=np.float32) for s in box)
    a = grid.affine.astype(np.float32)
    return np.stack(
        [a[r, 0] * i[:, None, None] + a[r, 1] * j[None, :, None] + a[r, 2] * k[None, None, :] + a[r, 3] for r in range(3)],
        axis=-1,
    )


def _world(affine: np.ndarray, ijk: np.ndarray) -> np.ndarray:
    """World mm (float32) of voxel indices ``(N, 3)``: the affine in float32 (half the cost of float64)."""
    a = affine.astype(np.float32)
    return ijk.astype(np.float32) @ a[:3, :3].T + a[:3, 3]


def _supersampling(grid: Grid) -> tuple[np.ndarray, float]:
    """Sub-voxel offsets (index units, ``(S, 3)``) for thick voxels, and the ramp width ``h`` (mm)."""
    vox = grid.voxel_mm
    h = float(vox.min())
    counts = np.clip(np.rint(vox / h), 1, 4).astype(int)
    axes = [((np.arange(n) + 0.5) / n - 0.5) for n in counts]
    return np.array(list(itertools.product(*axes)), dtype=np.float32), h


def _fill_blocks(out: np.ndarray, blocks: np.ndarray, size: int) -> None:
    """Set every voxel of the listed blocks (block indices ``(M, 3)``, edge ``size`` voxels) to 1."""
    if len(blocks) == 0:
        return
    shape = tuple(-(-n // size) for n in out.shape)
    mask = np.zeros(shape, bool)
    mask[blocks[:, 0], blocks[:, 1], blocks[:, 2]] = True
    full = mask.repeat(size, 0).repeat(size, 1).repeat(size, 2)
    out[full[: out.shape[0], : out.shape[1], : out.shape[2]]] = 1.0


def occupancy(
    shape: Shape, grid: Grid, box: Box, offsets_mm: Sequence[float] = (0.0,), levels: Sequence[int] = (16, 4, 2)
) -> list[np.ndarray]:
    """Fraction (0-1, float32) of each voxel in ``box`` inside the solid, one array per offset.

    An offset ``o`` gives the occupancy of the solid shrunk by ``o`` mm (the inside of a wall of
    thickness ``o``). The box is refined coarse to fine: a block whose centre lies farther from the surface
    than the block's half-diagonal is wholly inside or outside, and only blocks that may hold the surface
    are split (``levels`` are block edges in voxels, each dividing the one before); voxels are evaluated
    one by one only in the last blocks that still hold the surface.
    """
    n = np.array([s.stop - s.start for s in box])
    start = np.array([s.start for s in box], dtype=np.float32)
    subs, h = _supersampling(grid)
    vox = grid.voxel_mm
    out = [np.zeros(tuple(n), np.float32) for _ in offsets_mm]
    lo_off, hi_off = min(offsets_mm), max(offsets_mm)
    size = int(levels[0])
    blocks = np.stack(np.meshgrid(*(np.arange(-(-m // size)) for m in n), indexing="ij"), axis=-1).reshape(-1, 3)
    for level, size in enumerate(levels):
        first = blocks * size
        extent = np.minimum(size, n - first)
        centres = start + first + (extent - 1) / 2.0
        d = shape.distance_mm(_world(grid.affine, centres))
        # Half the block's diagonal (mm), with a margin because unions and ellipsoids are bounds, not exact.
        reach = 1.3 * 0.5 * np.linalg.norm(extent * vox, axis=1) + h / 2
        for arr, off in zip(out, offsets_mm, strict=True):
            _fill_blocks(arr, blocks[d + off + reach < 0.0], size)
        keep = (d + lo_off - reach <= 0.0) & (d + hi_off + reach >= 0.0)
        blocks = blocks[keep]
        if len(blocks) == 0:
            return out
        finer = levels[level + 1] if level + 1 < len(levels) else 1
        ratio = size // finer
        children = np.stack(np.meshgrid(*(np.arange(ratio),) * 3, indexing="ij"), axis=-1).reshape(-1, 3)
        blocks = (blocks[:, None, :] * ratio + children[None]).reshape(-1, 3)
        blocks = blocks[np.all(blocks * finer < n, axis=1)]
    for chunk in np.array_split(blocks, max(1, len(blocks) // 200_000)):
        pts = chunk.astype(np.float32) + start
        d = shape.distance_mm(_world(grid.affine, pts))
        # A voxel whose centre lies more than half a diagonal from every offset surface is wholly on one side:
        # only the others are supersampled (most voxels of a thick-slice grid are not).
        half_diag = np.float32(0.5 * np.linalg.norm(vox) * 1.1 + h / 2)
        mixed = (d + lo_off - half_diag <= 0.0) & (d + hi_off + half_diag >= 0.0)
        fractions = [np.clip(0.5 - (d + np.float32(off)) / np.float32(h), 0.0, 1.0) for off in offsets_mm]
        if mixed.any() and len(subs) > 1:
            sub_pts = (pts[mixed][:, None, :] + subs[None]).reshape(-1, 3)
            ds = shape.distance_mm(_world(grid.affine, sub_pts)).reshape(-1, len(subs))
            for frac, off in zip(fractions, offsets_mm, strict=True):
                frac[mixed] = np.clip(0.5 - (ds + np.float32(off)) / np.float32(h), 0.0, 1.0).mean(axis=1)
        for arr, frac in zip(out, fractions, strict=True):
            arr[chunk[:, 0], chunk[:, 1], chunk[:, 2]] = frac
    return out


def paint(
    structures: Iterable[Structure],
    grid: Grid,
    properties: dict[str, Callable[[Tissue], float]],
    outside: dict[str, float],
    with_labels: bool = True,
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Tissue property maps (float32) and the label map (uint8) of the patient on ``grid``.

    ``properties`` maps a channel name to the tissue value it holds (``lambda t: t.hu``); ``outside`` gives
    each channel's value outside the body. Structures blend over earlier ones by their occupancy, so every
    edge has partial volume; a voxel takes the label of the last structure that fills at least half of it.
    """
    maps = {name: np.full(grid.shape, outside[name], np.float32) for name in properties}
    labels = np.zeros(grid.shape, np.uint8) if with_labels else None
    for s in sorted(structures, key=lambda s: LAYERS[s.layer]):
        box = index_box(grid, *s.shape.bounds_mm())
        if box is None:
            continue
        offsets = (0.0, s.wall_mm) if s.wall_mm > 0 else (0.0,)
        occ = occupancy(s.shape, grid, box, offsets)
        if not occ[0].any():
            continue
        layers = [(s.wall_tissue, occ[0]), (s.tissue, occ[1])] if s.wall_mm > 0 else [(s.tissue, occ[0])]
        for name, value_of in properties.items():
            region = maps[name][box]
            for tissue, frac in layers:
                region += frac * (np.float32(value_of(tissue)) - region)
        if labels is not None:
            labels[box][occ[0] >= 0.5] = s.label
    return maps, labels
