"""The bony pelvis: sacrum with canal, foramina and roots, coccyx, hip bones, sacroiliac and hip joints,
femora.

World mm, RAS+ (+x patient's right, +y anterior, +z superior), origin at the sacral promontory; built on
``frame`` (the ventral sacral midline, the anterior sacral foramina, the coccyx tip, femoral heads,
symphysis and iliac landmarks).

The sacrum is one curved plate described in sacral coordinates that follow the ventral midline curve:
arc length s down from the promontory and depth u behind the ventral surface. Its profiles come from the
female sacrum (PMC5799488: height 98, S1 body 40 +- 7 wide, width with alae ~100, interauricular 109 +- 11,
segments 28/24/20/15/12 mm), the foramina (jcdr.net id 11661: S1 13.0 x 12.2, S2 12.9 x 13.1 mm; ventral
canal 10.6 mm, DOI 10.3344/kjp.22227; dorsal S2 pair 29.8 apart, DOI 10.1007/s00276-010-0735-0), the canal
(triangular, DOI 10.1007/978-3-211-99370-5_2; 5.9 deep at the hiatus, Diagnostics 2025;15:2729) and the
coccyx (4 segments, curved length 4.0 +- 0.8 cm, DOI 10.1007/s00586-012-2595-2). Sacroiliac joint space
2.3 +- 0.4 mm under 40 y, 1.9 +- 0.2 mm over 40 (DOI 10.1016/s0009-9260(98)80316-4); bi-iliac width 28 cm
(orthopaedicsone.com, ilium); neck-shaft angle 129 deg (DOI 10.1007/s11999-008-0473-3); hip joint space
4.5 mm and acetabular depth 25 mm (DOI 10.4103/0019-5413.39572). Values marked (typical) are textbook
values, course choices.

The case lives here: the presacral mass (``lesions``) enters the LEFT S1-S2 anterior foramen, so the
foramina are symmetric, fat-filled tunnels each holding a root, and every asymmetry comes from the tumour.

Speed: the sacral coordinates are a table lookup; spread-out unions evaluate each part only near it
(``_BoxedUnion``); the hip bone's distance is tabulated on a coarse grid and computed exactly only near
its surface (``_Tabulated``); the iliac wing is a height field around a vertical axis (``_RadialSheet``).
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from ..sdf import Capsule, Cylinder, Ellipsoid, HalfSpace, Intersect, RoundBox, Shape, Sphere, Subtract, union
from . import TISSUES, Structure, Tissue, frame

Vec3 = tuple[float, float, float]
Fn = Callable[..., np.ndarray]


# --------------------------------------------------------------------------- small helpers
def _smoothstep(edge0: np.ndarray | float, edge1: np.ndarray | float, x: np.ndarray) -> np.ndarray:
    """0 below ``edge0``, 1 above ``edge1``, a smooth cubic ramp between."""
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _smooth_min(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Polynomial smooth minimum of two distances, blend radius ``k`` (mm); 0 is the plain minimum."""
    if k <= 0:
        return np.minimum(a, b)
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b + (a - b) * h - k * h * (1.0 - h)


def _bilinear(tables: list[np.ndarray], i: np.ndarray, j: np.ndarray) -> list[np.ndarray]:
    """Bilinear lookups (float32) of several same-shaped 2-D tables at fractional indices (clamped)."""
    ni, nj = tables[0].shape
    i = np.clip(i, 0.0, ni - 1.001)
    j = np.clip(j, 0.0, nj - 1.001)
    i0, j0 = i.astype(np.int32), j.astype(np.int32)
    fi, fj = (i - i0).astype(np.float32), (j - j0).astype(np.float32)
    weights = [(1 - fi) * (1 - fj), fi * (1 - fj), (1 - fi) * fj, fi * fj]
    k = i0 * nj + j0
    index = [k, k + nj, k + 1, k + nj + 1]
    return [sum(w * t.ravel()[ix] for w, ix in zip(weights, index, strict=True)) for t in tables]


def x_angle(direction_yz: tuple[float, float]) -> float:
    """Rotation (deg) about x that turns a shape's local z axis to the sagittal direction (y, z)."""
    dy, dz = direction_yz
    return float(np.degrees(np.arctan2(-dy, dz)))


def _euler(columns: list[np.ndarray]) -> Vec3:
    """Euler angles (deg, xyz) of the rotation whose columns are a shape's local axes in the world."""
    return tuple(
        float(a) for a in Rotation.from_matrix(np.stack(columns, axis=1)).as_euler("xyz", degrees=True)
    )


def _curve(points: list[Vec3], n: int) -> np.ndarray:
    """n points (mm) evenly spaced by arc length on a natural spline through ``points``."""
    pts = np.asarray(points, float)
    s = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))]
    fine = CubicSpline(s, pts, bc_type="natural")(np.linspace(0.0, s[-1], 20 * n))
    fs = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(fine, axis=0), axis=1))]
    return np.stack([np.interp(np.linspace(0.0, fs[-1], n), fs, fine[:, k]) for k in range(3)], axis=1)


def _chain(points: list[Vec3], radii: list[float], step_mm: float = 14.0) -> Shape:
    """A smooth tube (mm): tapered capsules along a natural spline through ``points``, hard-unioned."""
    pts = np.asarray(points, float)
    s = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))]
    n = max(2, int(np.ceil(s[-1] / step_mm)) + 1)
    fine = np.linspace(0.0, s[-1], n)
    line = CubicSpline(s, pts, bc_type="natural")(fine)
    r = np.interp(fine, s, np.asarray(radii, float))
    # A hard union: a blend would bulge where consecutive capsules meet.
    return _BoxedUnion(
        tuple(Capsule(tuple(line[k]), tuple(line[k + 1]), float(r[k]), float(r[k + 1])) for k in range(n - 1))
    )


# --------------------------------------------------------------------------- fast shapes
@dataclass(frozen=True, eq=False)
class _AbsX(Shape):
    """A right-sided solid (x >= 0) and its mirror image, evaluated once at (|x|, y, z) (mm)."""

    shape: Shape

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        p = points.copy()
        p[..., 0] = np.abs(p[..., 0])
        return self.shape.distance_mm(p)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.shape.bounds_mm()
        x = max(abs(lo[0]), abs(hi[0]))
        return np.array([-x, lo[1], lo[2]]), np.array([x, hi[1], hi[2]])


@dataclass(frozen=True, eq=False)
class _BoxedUnion(Shape):
    """Smooth union (blend mm) that evaluates each part only near its own bounding box.

    A coarse grid of cells over the union records which parts' boxes come within reach of each cell and,
    for the others, how far their boxes are (a lower bound of their distance): a point is only given to
    the parts near its cell, which keeps unions of many parts spread over a large region cheap.
    """

    parts: tuple[Shape, ...]
    blend_mm: float = 0.0
    margin_mm: float = 10.0
    cell_mm: float = 6.0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def _cells(self) -> dict:
        if not self._cache:
            lo, hi = self.bounds_mm()
            shape = np.maximum(np.ceil((hi - lo) / self.cell_mm).astype(int), 1)
            axes = [lo[k] + self.cell_mm * np.arange(shape[k]) for k in range(3)]
            cell_lo = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
            cell_hi = cell_lo + self.cell_mm
            near, far = [], np.full(tuple(shape), 1e4)
            for part in self.parts:
                plo, phi = part.bounds_mm()
                gap = np.linalg.norm(np.maximum(np.maximum(plo - cell_hi, cell_lo - phi), 0.0), axis=-1)
                is_near = gap < self.margin_mm + self.blend_mm
                near.append(is_near.ravel())
                far = np.where(is_near, far, np.minimum(far, gap))
            self._cache.update(
                lo=lo.astype(np.float32), shape=shape, near=near, far=far.ravel().astype(np.float32)
            )
        return self._cache

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        c = self._cells()
        flat = points.reshape(-1, 3)
        ijk = np.clip(((flat - c["lo"]) / np.float32(self.cell_mm)).astype(np.int32), 0, c["shape"] - 1)
        cell = (ijk[:, 0] * c["shape"][1] + ijk[:, 1]) * c["shape"][2] + ijk[:, 2]
        out = np.full(len(flat), 1e4, np.float32)
        for part, near_cells in zip(self.parts, c["near"], strict=True):
            near = np.flatnonzero(near_cells[cell])
            if len(near):
                out[near] = _smooth_min(out[near], part.distance_mm(flat[near]), self.blend_mm)
        # Parts far from the cell are at least their box's distance away; so is everything beyond the grid.
        lo, hi = self.bounds_mm()
        beyond = np.linalg.norm(np.maximum(np.maximum(lo - flat, flat - hi), 0.0), axis=1)
        out = np.minimum(out, np.maximum(c["far"][cell], beyond))
        return out.astype(points.dtype).reshape(points.shape[:-1])

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        lows, highs = zip(*(p.bounds_mm() for p in self.parts), strict=True)
        return np.min(lows, axis=0), np.max(highs, axis=0)


@dataclass(frozen=True, eq=False)
class Clip(Shape):
    """``base`` intersected with ``other`` (or with its outside when ``keep_inside`` is False).

    ``other`` is only evaluated where ``base`` is inside or within ``band_mm`` of its surface; elsewhere
    ``base`` alone is a lower bound of the result, which is all the sampler needs there.
    """

    base: Shape
    other: Shape
    keep_inside: bool = True
    band_mm: float = 8.0

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        flat = points.reshape(-1, 3)
        d = self.base.distance_mm(flat)
        near = np.flatnonzero(d < self.band_mm)
        if len(near):
            o = self.other.distance_mm(flat[near])
            d[near] = np.maximum(d[near], o if self.keep_inside else -o)
        return d.reshape(points.shape[:-1])

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.base.bounds_mm()
        if self.keep_inside:
            olo, ohi = self.other.bounds_mm()
            lo, hi = np.maximum(lo, olo), np.minimum(hi, ohi)
        return lo, hi


@dataclass(frozen=True, eq=False)
class _Tabulated(Shape):
    """A costly solid sped up by a table of its distance on a coarse grid (built on first use).

    Near the surface (within ``band_mm`` by the table) the exact distance is computed; farther away the
    interpolated table value, moved toward zero by half a cell (the interpolation error of a smooth
    distance), stands in: the sampler only uses it to skip empty and full blocks.
    """

    shape: Shape
    step_mm: float = 3.0
    band_mm: float = 3.0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._cache:
            lo, hi = self.shape.bounds_mm()
            lo, hi = lo - 2 * self.step_mm, hi + 2 * self.step_mm
            axes = [
                lo[k] + self.step_mm * np.arange(int(np.ceil((hi[k] - lo[k]) / self.step_mm)) + 1)
                for k in range(3)
            ]
            nodes = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).astype(np.float32)
            self._cache.update(
                table=self.shape.distance_mm(nodes).astype(np.float32), lower=lo.astype(np.float32)
            )
        return self._cache["table"], self._cache["lower"]

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        table, lower = self._table()
        flat = points.reshape(-1, 3)
        g = (flat - lower) / np.float32(self.step_mm)
        clipped = np.clip(g, 0.0, np.array(table.shape, np.float32) - 1.001)
        gap = np.sqrt(((g - clipped) ** 2).sum(axis=1)) * np.float32(self.step_mm)
        i = clipped.astype(np.int32)
        fx, fy, fz = (clipped - i).T
        ny, nz = table.shape[1], table.shape[2]
        t = table.ravel()

        def plane(b: np.ndarray) -> np.ndarray:
            return (t[b] * (1 - fz) + t[b + 1] * fz) * (1 - fy) + (
                t[b + nz] * (1 - fz) + t[b + nz + 1] * fz
            ) * fy

        base = (i[:, 0] * ny + i[:, 1]) * nz + i[:, 2]
        d = plane(base) * (1 - fx) + plane(base + ny * nz) * fx
        err = np.float32(0.5 * self.step_mm)
        d = np.where(d > 0, np.maximum(d - err, 0.0), np.minimum(d + err, 0.0)) + gap
        near = np.flatnonzero((np.abs(d) < self.band_mm) & (gap == 0))
        if len(near):
            d[near] = self.shape.distance_mm(flat[near])
        return d.astype(points.dtype).reshape(points.shape[:-1])

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        return self.shape.bounds_mm()


@dataclass(frozen=True, eq=False)
class _TubeBundle(Shape):
    """Several swept tubes (natural splines through control points, radius per point) in one k-d tree (mm)."""

    paths: tuple[tuple[tuple[Vec3, ...], tuple[float, ...]], ...]
    step_mm: float = 0.5
    reach_mm: float = 10.0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def _samples(self) -> tuple[np.ndarray, np.ndarray, cKDTree]:
        if not self._cache:
            centres, radii = [], []
            for points, r in self.paths:
                pts = np.asarray(points, float)
                s = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))]
                fine = np.linspace(0.0, s[-1], max(2, int(np.ceil(s[-1] / self.step_mm)) + 1))
                centres.append(CubicSpline(s, pts, bc_type="natural")(fine))
                radii.append(np.interp(fine, s, np.asarray(r, float)))
            c = np.vstack(centres)
            self._cache.update(centre=c, radius=np.concatenate(radii), tree=cKDTree(c))
        return self._cache["centre"], self._cache["radius"], self._cache["tree"]

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        _, radius, tree = self._samples()
        # Points farther than the reach get a lower bound (the search is slow far from a thin tube).
        dist, idx = tree.query(
            points.reshape(-1, 3).astype(np.float64), k=2, distance_upper_bound=self.reach_mm
        )
        far = ~np.isfinite(dist)
        idx[far] = 0
        d = np.min(np.where(far, self.reach_mm - radius.max(), dist - radius[idx]), axis=1)
        return d.astype(points.dtype).reshape(points.shape[:-1])

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        centre, radius, _ = self._samples()
        return centre.min(axis=0) - radius.max(), centre.max(axis=0) + radius.max()


@dataclass(frozen=True, eq=False)
class _RadialSheet(Shape):
    """A curved plate of varying thickness, given as r = R(phi, z) around a vertical axis (mm).

    Built from mid-surface samples (..., 3) and their half-thickness (mm); R, the thickness, the slopes and
    the signed distance to the plate's outline are tabulated on a (phi, z) grid, so the distance costs a
    few table lookups. The rim is rounded with the local half-thickness.
    """

    points: np.ndarray
    half_mm: np.ndarray
    axis_xy: tuple[float, float]
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    DPHI = np.radians(0.5)
    DZ = 1.0

    def _tables(self) -> dict:
        if not self._cache:
            from scipy.interpolate import griddata
            from scipy.ndimage import distance_transform_edt

            p = self.points.reshape(-1, 3)
            cx, cy = self.axis_xy
            phi = np.arctan2(p[:, 1] - cy, p[:, 0] - cx)
            r = np.hypot(p[:, 0] - cx, p[:, 1] - cy)
            r_ref, margin = float(np.median(r)), 25.0
            phi0, z0 = phi.min() - margin / r_ref, p[:, 2].min() - margin
            nphi = int(np.ceil((phi.max() + margin / r_ref - phi0) / self.DPHI)) + 1
            nz = int(np.ceil((p[:, 2].max() + margin - z0) / self.DZ)) + 1
            # Interpolate in (arc mm, z mm) so the triangulation is not squashed.
            grid = tuple(
                np.meshgrid(
                    r_ref * (phi0 + self.DPHI * np.arange(nphi)), z0 + self.DZ * np.arange(nz), indexing="ij"
                )
            )
            values = np.stack([r, self.half_mm.reshape(-1)], axis=1)
            linear = griddata((r_ref * phi, p[:, 2]), values, grid, method="linear")
            inside = np.isfinite(linear[..., 0])
            nearest = griddata((r_ref * phi, p[:, 2]), values, grid, method="nearest")
            big_r, half = np.where(inside[..., None], linear, nearest).transpose(2, 0, 1)
            spacing = (self.DPHI * r_ref, self.DZ)
            outline = distance_transform_edt(~inside, sampling=spacing) - distance_transform_edt(
                inside, sampling=spacing
            )
            slopes = (np.gradient(big_r, self.DPHI, axis=0), np.gradient(big_r, self.DZ, axis=1))
            t_max = float(self.half_mm.max())
            self._cache.update(
                phi0=phi0,
                z0=z0,
                r_ref=r_ref,
                lower=p.min(axis=0) - t_max,
                upper=p.max(axis=0) + t_max,
                tables=[a.astype(np.float32) for a in (big_r, half, *slopes, outline)],
            )
        return self._cache

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        c = self._tables()
        flat = points.reshape(-1, 3)
        dx, dy = flat[:, 0] - np.float32(self.axis_xy[0]), flat[:, 1] - np.float32(self.axis_xy[1])
        r = np.hypot(dx, dy)
        i = (np.arctan2(dy, dx) - np.float32(c["phi0"])) / np.float32(self.DPHI)
        j = (flat[:, 2] - np.float32(c["z0"])) / np.float32(self.DZ)
        big_r, half, r_phi, r_z, outline = _bilinear(c["tables"], i, j)
        # Beyond the table the outline distance keeps growing.
        ni, nj = c["tables"][0].shape
        outline = outline + np.hypot(
            np.maximum(np.maximum(-i, i - (ni - 1)), 0.0) * np.float32(self.DPHI * c["r_ref"]),
            np.maximum(np.maximum(-j, j - (nj - 1)), 0.0) * np.float32(self.DZ),
        )
        # The radial offset is a height over the (phi, z) sheet: divide by the slope to read a distance.
        dn = np.abs(r - big_r) / np.sqrt(1.0 + r_z**2 + (r_phi / np.maximum(big_r, 1.0)) ** 2)
        rim = outline + half
        d = np.where(rim > 0.0, np.hypot(dn, np.maximum(rim, 0.0)), dn) - half
        return d.astype(points.dtype).reshape(points.shape[:-1])

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        c = self._tables()
        return c["lower"], c["upper"]


@dataclass(frozen=True, eq=False)
class _GradedWall(Shape):
    """A solid whose inside distance is compressed below ``z_mm`` so a fixed wall becomes thicker there.

    Outside distances are exact; inside they are scaled by ``factor`` (< 1) below ``z_mm[0]``, not at all
    above ``z_mm[1]``, smoothly between, so the sampler's ``wall_mm`` gives a thin cortex above (femoral
    head and neck) and a thick one below (shaft). Understated inside distances are safe for the sampler.
    """

    shape: Shape
    z_mm: tuple[float, float]
    factor: float

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        d = self.shape.distance_mm(points)
        ramp = _smoothstep(self.z_mm[0], self.z_mm[1], points[..., 2])
        scale = (self.factor + ramp * (1.0 - self.factor)).astype(points.dtype)
        return np.where(d < 0, d * scale, d)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        return self.shape.bounds_mm()


# --------------------------------------------------------------------------- the sacral frame
class SacralFrame:
    """Curvilinear coordinates along the ventral sacral midline: x (mm), arc length s (mm, 0 at the
    promontory, increasing caudally), depth u (mm behind the ventral surface, negative in front), and the
    metric factor m = 1 + u * curvature that turns arc length on the curve into arc length at depth u.
    """

    # The (s, u) map is tabulated once on a 1-mm (y, z) grid and interpolated: nearest-point searches on
    # a densely sampled curve are slow for points far from it.
    GRID_LOWER = (-150.0, -140.0)
    GRID_STEP = 1.0
    GRID_SHAPE = (191, 221)

    def __init__(self) -> None:
        yz = np.asarray(frame.SACRAL_VENTRAL_MIDLINE, float)
        chord = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(yz, axis=0), axis=1))]
        # A natural spline keeps the upper half straight and puts the curve in the lower half, as in the
        # adult sacrum (Gray's Anatomy): ~30 deg of kyphosis from S2 to the apex.
        spline = CubicSpline(chord, yz, bc_type="natural")
        fine = np.linspace(0.0, chord[-1], 2001)
        pts, d1, d2 = spline(fine), spline(fine, 1), spline(fine, 2)
        speed = np.linalg.norm(d1, axis=1)
        s = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))]
        t = d1 / speed[:, None]
        n = np.stack([t[:, 1], -t[:, 0]], axis=1)  # posterior (and cranial) normal
        kappa = (d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]) / speed**3
        kappa *= np.sign(np.mean(kappa))  # positive: concave anteriorly
        # Straight extensions above the promontory and below the apex keep the mapping defined there.
        step = s[1] - s[0]
        up, down = np.arange(-80.0, 0.0, step), np.arange(step, 60.0, step)
        self.yz = np.vstack([pts[0] + up[:, None] * t[0], pts, pts[-1] + down[:, None] * t[-1]])
        self.s = np.r_[up, s, s[-1] + down]
        self.t = np.vstack([np.repeat(t[:1], len(up), 0), t, np.repeat(t[-1:], len(down), 0)])
        self.n = np.vstack([np.repeat(n[:1], len(up), 0), n, np.repeat(n[-1:], len(down), 0)])
        self.kappa = np.r_[np.zeros(len(up)), kappa, np.zeros(len(down))]
        self.levels = np.interp(chord, fine, s)  # s (mm) of the promontory, S1/2, S2/3, S3/4, S4/5 and apex
        self._lookup: list[np.ndarray] = []

    def _tables(self) -> list[np.ndarray]:
        if not self._lookup:
            gy = self.GRID_LOWER[0] + self.GRID_STEP * np.arange(self.GRID_SHAPE[0])
            gz = self.GRID_LOWER[1] + self.GRID_STEP * np.arange(self.GRID_SHAPE[1])
            nodes = np.stack(np.meshgrid(gy, gz, indexing="ij"), axis=-1).reshape(-1, 2)
            # Nearest sample on a 2-mm subsampling, then refined on the fine samples around it.
            _, coarse = cKDTree(self.yz[::40]).query(nodes)
            window = np.clip(coarse[:, None] * 40 + np.arange(-24, 25, 3)[None], 0, len(self.yz) - 1)
            i = window[
                np.arange(len(nodes)), np.argmin(((nodes[:, None] - self.yz[window]) ** 2).sum(-1), axis=1)
            ]
            d = nodes - self.yz[i]
            s = self.s[i] + np.einsum("ij,ij->i", d, self.t[i])
            u = np.einsum("ij,ij->i", d, self.n[i])
            self._lookup = [
                s.reshape(self.GRID_SHAPE).astype(np.float32),
                u.reshape(self.GRID_SHAPE).astype(np.float32),
            ]
        return self._lookup

    def to_sacral(self, points: np.ndarray) -> tuple[np.ndarray, ...]:
        """(x, s, u, m) of world points (..., 3) mm."""
        flat = points.reshape(-1, 3)
        i = (flat[:, 1] - np.float32(self.GRID_LOWER[0])) / np.float32(self.GRID_STEP)
        j = (flat[:, 2] - np.float32(self.GRID_LOWER[1])) / np.float32(self.GRID_STEP)
        s, u = _bilinear(self._tables(), i, j)
        m = np.maximum(1.0 + u * np.interp(s, self.s, self.kappa).astype(np.float32), 0.3)
        shape = points.shape[:-1]
        return flat[:, 0].reshape(shape), s.reshape(shape), u.reshape(shape), m.reshape(shape)

    def to_world(self, x: float, s: float, u: float) -> Vec3:
        """World point (mm) of sacral coordinates (mm)."""
        y = np.interp(s, self.s, self.yz[:, 0]) + u * np.interp(s, self.s, self.n[:, 0])
        z = np.interp(s, self.s, self.yz[:, 1]) + u * np.interp(s, self.s, self.n[:, 1])
        return (float(x), float(y), float(z))

    def tangent(self, s: float) -> tuple[float, float]:
        """Unit (y, z) direction down the sacrum at arc length s (mm)."""
        return float(np.interp(s, self.s, self.t[:, 0])), float(np.interp(s, self.s, self.t[:, 1]))


@lru_cache(maxsize=1)
def sacral_frame() -> SacralFrame:
    """The shared sacral frame (built once)."""
    return SacralFrame()


@dataclass(frozen=True, eq=False)
class _SacralSolid(Shape):
    """A solid defined in sacral coordinates: ``fn(|x|, s, u, m, points)`` gives its signed distance (mm)."""

    fn: Fn
    lower_mm: Vec3
    upper_mm: Vec3

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        x, s, u, m = sacral_frame().to_sacral(points)
        return self.fn(np.abs(x), s, u, m, points).astype(points.dtype)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.lower_mm, float), np.asarray(self.upper_mm, float)


# --------------------------------------------------------------------------- sacrum
# Profiles at the promontory, S1/2, S2/3, S3/4, S4/5 and the apex (mm): S1 body 44 wide, 31 deep; canal
# ~28 x 15 at S1 (geometric fit of the L5 canal, Int J Spine Surg 2021;15:1072), 24 x 11 at S2, 20 x 8 at
# S3 (typical), ~5 deep at the hiatus.
BODY_HALF_WIDTH = (22.0, 18.5, 15.0, 12.0, 9.5, 7.5)
BODY_DEPTH = (31.0, 26.0, 21.0, 16.0, 12.5, 10.0)
CANAL_HALF_WIDTH = (14.0, 12.0, 10.0, 7.5, 6.0, 5.0)
CANAL_DEPTH = (15.0, 11.0, 8.0, 6.0, 5.0, 4.0)
LAMINA_MM = (9.0, 7.0, 5.5, 4.5, 4.0, 3.0)
# Lateral border (s, half-width) mm: ~105 across the alae, the auricular part S1-S3, then the inferolateral
# angle and ~30 mm at S5 (the sacroiliac joint plane trims the auricular part).
LATERAL_HALF_WIDTH = (
    (-10.0, 48.0),
    (8.0, 54.0),
    (30.0, 55.0),
    (48.0, 51.0),
    (63.0, 38.0),
    (76.0, 27.0),
    (88.0, 18.0),
    (100.0, 12.0),
)
# How far the ventral surface sweeps back at the lateral border (s, mm): the alae run back to the
# auricular surfaces; lower down the ventral surface is nearly flat across the foramina.
VENTRAL_SWEEP = ((0.0, 13.0), (22.0, 10.0), (40.0, 6.0), (65.0, 3.0), (100.0, 2.0))
S1_ENDPLATE_NORMAL: Vec3 = (0.0, 0.57, 0.82)  # faces anterosuperiorly, tilted ~35 deg (typical)
S1_ARCH_TOP_Z = 17.0  # top of the S1 laminae, level with the back of the endplate, below the L5 lamina (mm)
HIATUS_S = 78.0  # apex of the sacral hiatus at S4 (typical), arc length (mm)
DISC_REMNANT_MM = (2.2, 1.4, 1.1, 0.9)  # S1-S2 remnant commonest (J Can Chiropr Assoc 2016;60:182)
SACRUM_BOUNDS = ((-60.0, -100.0, -82.0), (60.0, 10.0, 45.0))
# Course choice: the lateral masses hold fattier marrow than the bodies (T1 brighter, PMID 7726052),
# halfway between the sacral body marrow and yellow marrow.
LATERAL_MASS_MARROW = Tissue(40, 0.82, 460, 90, 0.4, 0.95, 0.7, fat_fraction=0.72, hu_texture=40)


def _profile(values: tuple[float, ...], s: np.ndarray) -> np.ndarray:
    """A profile given at the six sacral levels, interpolated at arc length s (mm)."""
    return np.interp(s, sacral_frame().levels, values)


def _knots(knots: tuple[tuple[float, float], ...], s: np.ndarray) -> np.ndarray:
    """A profile given as (s, value) knots, interpolated at arc length s (mm)."""
    k = np.asarray(knots)
    return np.interp(s, k[:, 0], k[:, 1])


def _ventral_u(ax: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Depth (mm) of the ventral sacral surface behind the midline curve at |x| = ax.

    The alae sweep back to the auricular surfaces; the S1 body bulges forward of them; the bodies are
    gently convex; low transverse ridges mark the fused discs (Gray's Anatomy).
    """
    w = _knots(LATERAL_HALF_WIDTH, s)
    sweep = _knots(VENTRAL_SWEEP, s) * _smoothstep(np.minimum(27.0, 0.6 * w), w, ax)
    bw = _profile(BODY_HALF_WIDTH, s)
    body = 5.0 * _smoothstep(bw - 8.0, bw + 3.0, ax) * (1.0 - _smoothstep(18.0, 30.0, s))
    convex = (1.5 + 3.0 * (1.0 - _smoothstep(8.0, 24.0, s))) * np.minimum(ax / bw, 1.0) ** 2
    ridges = sum(np.exp(-(((s - level) / 2.5) ** 2)) for level in sacral_frame().levels[1:5])
    return sweep + body + convex - 1.2 * ridges * (1.0 - _smoothstep(bw, bw + 10.0, ax))


def _dorsal_u(ax: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Depth (mm) of the dorsal sacral surface: laminae, median crest with its tubercles, convexity."""
    roof = _profile(BODY_DEPTH, s) + _profile(CANAL_DEPTH, s) + _profile(LAMINA_MM, s)
    levels = sacral_frame().levels
    tubercles = sum(np.exp(-(((s - 0.5 * (a + b)) / 5.0) ** 2)) for a, b in itertools.pairwise(levels[:5]))
    height = (3.5 + 4.5 * tubercles) * (1.0 - _smoothstep(HIATUS_S - 8.0, HIATUS_S, s))
    crest = height * np.clip(1.0 - (ax / 5.0) ** 2, 0.0, 1.0) ** 2
    return roof + crest - 0.1 * ax - 0.003 * ax**2


SURFACE_STEP = 0.5  # mm
SURFACE_ORIGIN = (0.0, -80.0)  # (|x|, s) of the first entry of the surface tables (mm)


@lru_cache(maxsize=1)
def _surface_tables() -> list[np.ndarray]:
    """Ventral and dorsal surface depths and their slopes tabulated on an (|x|, s) grid (mm)."""
    ax = SURFACE_ORIGIN[0] + SURFACE_STEP * np.arange(161)
    s = SURFACE_ORIGIN[1] + SURFACE_STEP * np.arange(441)
    a, b = np.meshgrid(ax, s, indexing="ij")
    tables = []
    for surface in (_ventral_u, _dorsal_u):
        v = surface(a, b)
        tables += [v, np.gradient(v, SURFACE_STEP, axis=0), np.gradient(v, SURFACE_STEP, axis=1)]
    return [x.astype(np.float32) for x in tables]


def _plate_distance(ax: np.ndarray, s: np.ndarray, u: np.ndarray, m: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Signed distance (mm, approximate) of the solid sacral plate before canal and foramina are carved."""
    v, vx, vs, dorsal, dx, ds = _bilinear(
        _surface_tables(), (ax - SURFACE_ORIGIN[0]) / SURFACE_STEP, (s - SURFACE_ORIGIN[1]) / SURFACE_STEP
    )
    # Depths are heights over the (x, s) sheet: divide by the slope so they read as distances.
    gv = np.sqrt(1.0 + vx * vx + (vs / m) ** 2)
    gd = np.sqrt(1.0 + dx * dx + (ds / m) ** 2)
    # The lateral border turns medially toward the back (the dorsal surface is convex).
    behind = np.maximum(u - 18.0, 0.0)
    w = _knots(LATERAL_HALF_WIDTH, s) - 0.012 * behind**2
    gw = np.sqrt(1.0 + (0.024 * behind) ** 2)
    apex = sacral_frame().levels[-1]
    r = 2.0  # edge rounding
    q = np.stack([(v - u) / gv, (u - dorsal) / gd, (ax - w) / gw, (s - apex) * m], axis=-1) + r
    box = np.sqrt((np.maximum(q, 0.0) ** 2).sum(axis=-1)) + np.minimum(q.max(axis=-1), 0.0) - r
    # The top is the S1 endplate; the alae lie a little below it and slope down laterally.
    n = np.asarray(S1_ENDPLATE_NORMAL) / np.linalg.norm(S1_ENDPLATE_NORMAL)
    drop = 4.0 * _smoothstep(16.0, 30.0, ax) + 8.0 * _smoothstep(30.0, 55.0, ax)
    top = p[..., 1] * n[1] + p[..., 2] * n[2] + drop
    # Behind the S1 body the arch stops below the L5 lamina (the L5-S1 interlaminar space) instead of
    # following the backward rise of the tilted endplate.
    arch_top = np.minimum(p[..., 2] - S1_ARCH_TOP_Z, u - _profile(BODY_DEPTH, s))
    return np.maximum(np.maximum(box, top), arch_top)


def _triangle(px: np.ndarray, py: np.ndarray, qx: np.ndarray, qy: np.ndarray) -> np.ndarray:
    """Signed distance (mm) to an isosceles triangle: apex at the origin, base at py = qy, half-width qx
    (Quilez, "2D distance functions", iquilezles.org)."""
    t = np.clip((px * qx + py * qy) / (qx * qx + qy * qy), 0.0, 1.0)
    side = (px - qx * t) ** 2 + (py - qy * t) ** 2
    base = (px - qx * np.clip(px / qx, 0.0, 1.0)) ** 2 + (py - qy) ** 2
    inside = np.minimum(py * qx - px * qy, qy - py)
    return -np.sqrt(np.minimum(side, base)) * np.sign(inside)


def _canal_distance(ax: np.ndarray, s: np.ndarray, u: np.ndarray, m: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Signed distance (mm) of the sacral canal: a triangle with convex sides (base on the backs of the
    bodies, apex dorsal), halfway between a triangle and the half-ellipse of the same width and depth."""
    base, depth, half_width = _profile(BODY_DEPTH, s), _profile(CANAL_DEPTH, s), _profile(CANAL_HALF_WIDTH, s)
    tri = _triangle(ax, base + depth - u, half_width, depth)
    ellipse = (np.hypot(ax / half_width, (u - base) / depth) - 1.0) * np.minimum(half_width, depth)
    shape = np.maximum(0.5 * (tri + ellipse), base - u)
    return np.maximum(shape, (s - (sacral_frame().levels[-1] - 4.0)) * m)


def _hiatus_distance(
    ax: np.ndarray, s: np.ndarray, u: np.ndarray, m: np.ndarray, p: np.ndarray
) -> np.ndarray:
    """Signed distance (mm) of the sacral hiatus: the canal's roof missing below S4, ~11 mm wide."""
    q = np.stack([ax - 5.5, _profile(BODY_DEPTH, s) + 1.0 - u, (HIATUS_S - s) * m], axis=-1)
    return np.linalg.norm(np.maximum(q, 0.0), axis=-1) + np.minimum(q.max(axis=-1), 0.0)


def _sacral_core_distance(
    ax: np.ndarray, s: np.ndarray, u: np.ndarray, m: np.ndarray, p: np.ndarray
) -> np.ndarray:
    """Signed distance (mm) of the plate with the canal and the hiatus carved out (one mapping)."""
    carve = np.minimum(_canal_distance(ax, s, u, m, p), _hiatus_distance(ax, s, u, m, p))
    return np.maximum(_plate_distance(ax, s, u, m, p), -carve)


def _disc_remnant_distance(
    ax: np.ndarray, s: np.ndarray, u: np.ndarray, m: np.ndarray, p: np.ndarray
) -> np.ndarray:
    """Signed distance (mm) of the rudimentary discs inside the fused bodies (thickest at S1-S2)."""
    half = np.full(s.shape, np.inf, dtype=s.dtype)
    for level, thickness in zip(sacral_frame().levels[1:5], DISC_REMNANT_MM, strict=True):
        half = np.minimum(half, np.abs(s - level) * m - 0.5 * thickness)
    bw = _profile(BODY_HALF_WIDTH, s) - 3.0
    bd = _profile(BODY_DEPTH, s)
    ellipse = (np.hypot(ax / bw, (u - 0.5 * bd) / (0.5 * bd - 2.5)) - 1.0) * np.minimum(bw, 0.5 * bd - 2.5)
    return np.maximum(half, ellipse)


def _lateral_mass_distance(
    ax: np.ndarray, s: np.ndarray, u: np.ndarray, m: np.ndarray, p: np.ndarray
) -> np.ndarray:
    """Fattier marrow of the alae and lateral masses (mm): a zone well inside the cortex, lateral to S1-S3."""
    inner = _plate_distance(ax, s, u, m, p) + 3.0
    # A deliberately gentle ramp (distance scaled by 0.3): the marrow fat rises gradually laterally.
    lateral = 0.3 * (_profile(BODY_HALF_WIDTH, s) + 10.0 - ax)
    return np.maximum(np.maximum(inner, lateral), (s - 70.0) * m)


# L5-S1 facet joints. The spine module shapes the L5 inferior articular processes for a joint centred
# 5 mm lateral to the S1 canal, 0.75 canal depths behind the S1 body, 2 mm above the mid-disc level,
# 50 deg to the sagittal plane and 1.8 mm wide; the S1 superior articular process faces them (8 mm thick,
# 15 mm wide, from 17 mm below to 8 mm above the joint centre). Same numbers, in the S1 body's frame.
S1_BODY_HALF_HEIGHT = 14.0
L5_S1_DISC_MM = 13.2  # the spine module's L5-S1 disc at mid-height (13.0 mm, anatomyjournal.ir A-10-159-1)
FACET_ANGLE_DEG = 50.0
FACET_GAP_MM = 1.8


def _s1_superior_articular_process() -> Shape:
    """Right S1 superior articular process (mm), facing the L5 inferior one across the facet joint."""
    up = np.asarray(S1_ENDPLATE_NORMAL) / np.linalg.norm(S1_ENDPLATE_NORMAL)
    anterior, right = np.array([0.0, up[2], -up[1]]), np.array([1.0, 0.0, 0.0])
    body = np.array([0.0, -13.0, 9.0]) - up * S1_BODY_HALF_HEIGHT  # below the endplate centre (0, -13, 9)
    joint = (
        body
        + right * (CANAL_HALF_WIDTH[0] + 5.0)
        - anterior * (BODY_DEPTH[0] / 2 + 0.75 * CANAL_DEPTH[0] - 0.25)
        + up * (S1_BODY_HALF_HEIGHT + L5_S1_DISC_MM / 2 + 2.0)
    )
    a = np.radians(FACET_ANGLE_DEG)
    n = np.cos(a) * right + np.sin(a) * anterior  # from the L5 process to the S1 process
    e1 = np.cos(a) * anterior - np.sin(a) * right
    thick, width, (lo, hi) = 8.0, 15.0, (-17.0, 8.0)
    centre = joint + n * (FACET_GAP_MM + thick) / 2 + up * (lo + hi) / 2
    return RoundBox(tuple(centre), (thick / 2, width / 2, (hi - lo) / 2), 2.0, _euler([n, e1, up]))


def _sacral_processes() -> Shape:
    """S1 superior articular processes and the sacral cornua (mm), both sides."""
    f = sacral_frame()
    cornu = Ellipsoid(f.to_world(8.0, 92.0, 15.0), (3.0, 3.5, 6.0), (x_angle(f.tangent(90.0)), 0.0, 0.0))
    return _AbsX(_BoxedUnion((_s1_superior_articular_process(), cornu)))


def sacral_plate() -> Shape:
    """The sacrum as a solid (mm), before the canal, the foramina and the joint surfaces are cut: what a
    mass in front of it must not enter."""
    return _BoxedUnion((_SacralSolid(_plate_distance, *SACRUM_BOUNDS), _sacral_processes()), 3.0)


# The thecal sac (built with the spine) hangs in the front of the upper sacral canal and ends at about S2
# (z = -20, typical): the canal's fat surrounds it. As in the spine module: (sacral level in segments below
# the promontory, semi-axes across and front-back) mm, centred 0.45 canal depths behind the bodies, tapering
# to 2.0 x 1.8 mm at its end; the fat leaves it 0.5 mm of room.
THECAL_SAC = ((0.0, 7.0, 5.5), (0.6, 6.0, 4.8), (1.0, 5.0, 4.2), (2.0, 3.2, 2.8))
THECAL_SAC_END = (-20.0, 2.0, 1.8)  # z (mm) and semi-axes at the end
THECAL_SAC_ROOM_MM = 0.5


def _canal_fat_distance(
    ax: np.ndarray, s: np.ndarray, u: np.ndarray, m: np.ndarray, p: np.ndarray
) -> np.ndarray:
    """Signed distance (mm) of the canal's fat: the canal below the S1 endplate, around the thecal sac."""
    f = sacral_frame()
    k = np.asarray([row[0] for row in THECAL_SAC])
    s_knots = np.interp(k, np.arange(len(f.levels)), f.levels)
    # The sac keeps tapering from its last sacral knot to its end; z falls about 0.7 mm per mm of s there.
    z_last = f.to_world(
        0.0,
        float(s_knots[-1]),
        float(_profile(BODY_DEPTH, s_knots[-1]) + 0.45 * _profile(CANAL_DEPTH, s_knots[-1])),
    )[2]
    s_end = s_knots[-1] + (z_last - THECAL_SAC_END[0]) / 0.7
    s_knots = np.r_[s_knots, s_end]
    a = np.interp(s, s_knots, [row[1] for row in THECAL_SAC] + [THECAL_SAC_END[1]]) + THECAL_SAC_ROOM_MM
    b = np.interp(s, s_knots, [row[2] for row in THECAL_SAC] + [THECAL_SAC_END[2]]) + THECAL_SAC_ROOM_MM
    centre = _profile(BODY_DEPTH, s) + 0.45 * _profile(CANAL_DEPTH, s)
    sac = np.maximum(
        (np.hypot(ax / a, (u - centre) / b) - 1.0) * np.minimum(a, b), THECAL_SAC_END[0] - p[..., 2]
    )
    n = np.asarray(S1_ENDPLATE_NORMAL) / np.linalg.norm(S1_ENDPLATE_NORMAL)
    below_endplate = p[..., 1] * n[1] + p[..., 2] * n[2]
    return np.maximum(np.maximum(_canal_distance(ax, s, u, m, p), -sac), below_endplate)


# --------------------------------------------------------------------------- foramina
# Dorsal foramina (x from the midline, radius) mm: S1 10.4 x 7.7, S2 7.1 x 7.3 (jcdr.net id 11661), the S2
# pair 29.8 apart (DOI 10.1007/s00276-010-0735-0); S3 ~6, S4 ~5 (typical).
DORSAL_FORAMINA = {"S1-S2": (17.0, 4.4), "S2-S3": (15.0, 3.6), "S3-S4": (13.5, 3.0), "S4-S5": (12.0, 2.5)}


@dataclass(frozen=True)
class ForamenPath:
    """Key points (mm, world, right side) of one foramen, from the canal to the ventral opening."""

    name: str
    canal: Vec3  # where the intervertebral foramen leaves the canal
    ivf: Vec3  # the intervertebral foramen beside the canal, where the tunnel forks
    funnel: Vec3  # the inner end of the ventral funnel (~10 mm behind the opening)
    ventral: Vec3  # centre of the ventral opening (frame.ANTERIOR_SACRAL_FORAMINA)
    outside: Vec3  # just in front of the opening
    dorsal: Vec3  # the dorsal foramen
    radius_ventral: float
    radius_dorsal: float


@lru_cache(maxsize=1)
def foramen_paths() -> tuple[ForamenPath, ...]:
    """The four right-sided foramina (S1-S2 to S4-S5), converging and shrinking caudally."""
    f = sacral_frame()
    paths = []
    for i, (name, (x, _y, _z, diameter)) in enumerate(frame.ANTERIOR_SACRAL_FORAMINA.items()):
        s = float(f.levels[i + 1])
        bd = float(_profile(BODY_DEPTH, s))
        cw = float(_profile(CANAL_HALF_WIDTH, s))
        xd, rd = DORSAL_FORAMINA[name]
        dorsal_u = float(_dorsal_u(np.array(xd), np.array(s - 2.0))) + 2.0
        # The ventral funnel runs almost straight back (~10 mm) to the intervertebral foramen beside the
        # canal, which forks to the dorsal foramen.
        paths.append(
            ForamenPath(
                name,
                canal=f.to_world(cw - 2.0, s - 3.0, bd + 1.0),
                ivf=f.to_world(max(cw + 3.0, x - 7.0), s - 3.0, bd - 2.0),
                funnel=f.to_world(x - 1.5, s - 1.0, min(10.0, 0.45 * bd)),
                ventral=f.to_world(x, s, 0.0),
                outside=f.to_world(x + 0.5, s + 0.3, -1.5),
                dorsal=f.to_world(xd, s - 2.0, dorsal_u),
                radius_ventral=diameter / 2.0,
                radius_dorsal=rd,
            )
        )
    return tuple(paths)


def _foramen_right(path: ForamenPath) -> Shape:
    """One right-sided foramen (mm): ventral funnel, intervertebral foramen and dorsal canal."""
    inner = 0.6 * path.radius_ventral
    return union(
        [
            Capsule(path.outside, path.funnel, path.radius_ventral + 0.5, inner),
            Capsule(path.funnel, path.ivf, inner, inner),
            Capsule(path.ivf, path.canal, inner, inner),
            Capsule(path.ivf, path.dorsal, inner, path.radius_dorsal),
        ],
        1.5,
    )


def foramina_shape() -> Shape:
    """All sixteen tunnels (mm): four foramina on each side, each with its ventral and dorsal openings."""
    return _AbsX(_BoxedUnion(tuple(_foramen_right(p) for p in foramen_paths())))


# --------------------------------------------------------------------------- sacroiliac joints
SIJ_GAP_MM = 2.4  # 2.3 +- 0.4 mm under 40 y, 1.9 +- 0.2 over 40 (DOI 10.1016/s0009-9260(98)80316-4)


@dataclass(frozen=True)
class JointFrame:
    """The right sacroiliac joint plane: centre (mm), lateral normal, in-plane axes, auricular half-sizes."""

    centre: np.ndarray
    normal: np.ndarray
    axis1: np.ndarray  # horizontal, pointing back
    axis2: np.ndarray
    half_mm: tuple[float, float]

    def angles_deg(self) -> Vec3:
        """Euler angles (deg, xyz) of the frame (axis1, axis2, normal) for the sdf primitives."""
        return _euler([self.axis1, self.axis2, self.normal])


@lru_cache(maxsize=1)
def sij_frame() -> JointFrame:
    """The right auricular plane through three points of the sacrum's lateral border (sacral coordinates):
    ~25 deg to the sagittal plane with its front end lateral, converging caudally (typical)."""
    f = sacral_frame()
    a = np.array(f.to_world(54.0, 6.0, 18.0))  # anterosuperior corner
    b = np.array(f.to_world(40.5, 8.0, 44.0))  # posterosuperior corner
    c = np.array(f.to_world(47.5, 50.0, 16.0))  # inferior end (S3)
    normal = np.cross(b - a, c - a)
    normal *= np.sign(normal[0]) / np.linalg.norm(normal)
    axis1 = np.cross(normal, (0.0, 0.0, 1.0))
    axis1 *= -np.sign(axis1[1]) / np.linalg.norm(axis1)
    axis2 = np.cross(normal, axis1)
    # Centred a little toward the anteroinferior (synovial) part.
    toward = a + c - 2 * b
    centre = (a + b + c) / 3.0 + 6.0 * toward / np.linalg.norm(toward)
    return JointFrame(centre, normal, axis1, axis2, (22.0, 26.0))


def _auricular_prism(grow_mm: float, lateral_mm: tuple[float, float]) -> Shape:
    """Elliptic prism (mm) over the auricular surface, ``lateral_mm`` (from, to) along the joint normal."""
    j = sij_frame()
    lo, hi = lateral_mm
    return Cylinder(
        tuple(j.centre + j.normal * 0.5 * (lo + hi)),
        (j.half_mm[0] + grow_mm, j.half_mm[1] + grow_mm),
        0.5 * (hi - lo),
        j.angles_deg(),
    )


def _joint_halfspace(offset_mm: float, lateral: bool) -> HalfSpace:
    """Everything lateral (or medial) of the right joint plane shifted ``offset_mm`` along its normal (mm)."""
    j = sij_frame()
    return HalfSpace(tuple(j.centre + j.normal * offset_mm), tuple(-j.normal if lateral else j.normal))


def sacrum_shape() -> Shape:
    """The sacrum (mm): the plate with canal, hiatus and foramina carved out, auricular surfaces cut flat."""
    core = _BoxedUnion((_SacralSolid(_sacral_core_distance, *SACRUM_BOUNDS), _sacral_processes()), 3.0)
    auricular = _AbsX(
        Intersect(_joint_halfspace(-0.5 * SIJ_GAP_MM, lateral=True), _auricular_prism(6.0, (-30.0, 30.0)))
    )
    return Clip(core, _BoxedUnion((foramina_shape(), auricular)), keep_inside=False)


def sij_shape() -> Shape:
    """Both sacroiliac joint spaces (mm): the slab between the cut auricular surfaces."""
    slab = Intersect(
        _joint_halfspace(0.5 * SIJ_GAP_MM, lateral=False), _joint_halfspace(-0.5 * SIJ_GAP_MM, lateral=True)
    )
    return Clip(
        _AbsX(Intersect(_auricular_prism(0.0, (-5.0, 5.0)), slab)),
        _SacralSolid(_plate_distance, *SACRUM_BOUNDS),
    )


# --------------------------------------------------------------------------- hip bones
# Right iliac crest from the ASIS to the PSIS (mm): crest top (+-120, -20, +47), widest +-140 (bi-iliac
# 28 cm), ASIS (+-115, +60, -15); and the base of the wing, the mid-thickness of the ilium's body over the
# acetabulum, from the AIIS over the acetabular roof and the greater sciatic notch to the PIIS.
ILIAC_CREST = [
    (115.0, 60.0, -15.0),
    (127.0, 47.0, 9.0),
    (134.0, 27.0, 28.0),
    (133.0, 6.0, 41.0),
    (120.0, -18.0, 47.0),
    (100.0, -40.0, 44.0),
    (78.0, -56.0, 35.0),
    (58.0, -67.0, 22.0),
    (45.0, -75.0, 6.0),
]
ILIAC_BASE = [
    (100.0, 46.0, -50.0),
    (93.0, 32.0, -64.0),
    (86.0, 14.0, -70.0),
    (78.0, -4.0, -68.0),
    (69.0, -20.0, -60.0),
    (60.0, -35.0, -46.0),
    (52.0, -50.0, -30.0),
    (48.0, -64.0, -16.0),
]
WING_AXIS_XY = (38.0, 8.0)  # the vertical axis the wing is a height field around (mm)
FEMORAL_HEAD_RADIUS = 22.0  # ~44 mm (typical; radiographic 48 +- 5, figshare 25204389)
SOCKET_RADIUS = 25.6  # joint space ~3.6 mm (3-4 mm course choice)
ACETABULAR_AXIS: Vec3 = (0.66, 0.30, -0.69)  # opening: ~45 deg inclination, ~20 deg anteversion (typical)
SYMPHYSIS_GAP_MM = 5.0  # 4-6 mm (typical)


@lru_cache(maxsize=1)
def _iliac_wing() -> _RadialSheet:
    """Right iliac wing (mm): a ruled, gently bowed plate between the crest and the ilium's body."""
    na, nb = 100, 45
    crest, base = _curve(ILIAC_CREST, na), _curve(ILIAC_BASE, na)
    a = np.linspace(0.0, 1.0, na)[:, None]
    b = np.linspace(0.0, 1.0, nb)[None, :]
    p = crest[:, None, :] * (1.0 - b[..., None]) + base[:, None, :] * b[..., None]
    # The iliac fossa is concave medially: bow the blade laterally in its middle.
    p[..., 0] += 9.0 * np.sin(np.pi * b) * np.sin(np.pi * np.clip(a * 1.15, 0.0, 1.0))
    # Blade 2-5 mm, crest 8-15 mm (typical); thick anterior border and posterior ilium; the body over the
    # acetabulum ~25 mm.
    half = (
        1.2
        + 4.3 * np.exp(-((b / 0.06) ** 2))
        + 2.5 * (1.0 - _smoothstep(0.0, 0.12, a))
        + 6.0 * _smoothstep(0.72, 0.95, a)
        + 11.0 * _smoothstep(0.5, 1.0, b) * (1.0 - 0.4 * _smoothstep(0.7, 1.0, a))
    )
    return _RadialSheet(p, np.broadcast_to(half, p.shape[:2]).copy(), WING_AXIS_XY)


def _acetabular_centre() -> np.ndarray:
    return np.asarray(frame.LANDMARKS["femoral_head_right"], float)


def _cup_halfspace(offset_mm: float) -> HalfSpace:
    """Everything behind the plane of the right acetabular rim (mm), shifted ``offset_mm`` along its axis."""
    axis = np.asarray(ACETABULAR_AXIS) / np.linalg.norm(ACETABULAR_AXIS)
    return HalfSpace(tuple(_acetabular_centre() + offset_mm * axis), tuple(axis))


def _symphysis() -> tuple[np.ndarray, float]:
    """Centre of the symphysis (mm) and the x-rotation (deg) that aligns a shape's z with its long axis."""
    top = np.asarray(frame.LANDMARKS["symphysis_top"], float)
    bottom = np.asarray(frame.LANDMARKS["symphysis_bottom"], float)
    up = top - bottom
    return 0.5 * (top + bottom), x_angle((up[1], up[2]))


def _hip_bone_right() -> Shape:
    """Right hip bone (mm): iliac wing, auricular part, acetabulum, pubis, ischium."""
    j = sij_frame()
    c = _acetabular_centre()
    mid, tilt = _symphysis()
    # The ilium behind the joint: a thick block whose medial face is the auricular surface.
    block = Ellipsoid(
        tuple(j.centre + 9.0 * j.normal + 4.0 * j.axis1),
        (j.half_mm[0] + 6.0, j.half_mm[1] + 3.0, 19.0),
        j.angles_deg(),
    )
    parts = (
        _iliac_wing(),
        Intersect(block, _joint_halfspace(0.5 * SIJ_GAP_MM, lateral=True)),
        Intersect(Ellipsoid(tuple(c), (36.0, 37.0, 37.0)), _cup_halfspace(1.0)),  # acetabular walls
        # Superior pubic ramus from the iliopubic eminence to the pubic body.
        _chain(
            [(76.0, 34.0, -72.0), (58.0, 46.0, -88.0), (36.0, 54.0, -99.0), (14.0, 56.0, -104.0)],
            [10.0, 8.5, 8.0, 8.0],
        ),
        RoundBox(
            tuple(mid + np.array([0.5 * SYMPHYSIS_GAP_MM + 8.0, -2.0, 0.0])),
            (8.0, 8.0, 20.0),
            5.0,
            (tilt, 0.0, 0.0),
        ),
        # Posterior column: behind the acetabulum down the ischial body to the tuberosity.
        _chain(
            [
                (70.0, -16.0, -56.0),
                (67.0, -24.0, -78.0),
                (70.0, -22.0, -100.0),
                (72.0, -18.0, -122.0),
                (66.0, -24.0, -146.0),
            ],
            [12.0, 11.0, 12.0, 13.0, 14.0],
        ),
        Ellipsoid((63.0, -27.0, -150.0), (12.0, 13.0, 15.0)),  # ischial tuberosity
        # Ischiopubic ramus, bounding the obturator foramen below.
        _chain(
            [(60.0, -14.0, -156.0), (48.0, 2.0, -151.0), (30.0, 22.0, -139.0), (14.0, 36.0, -124.0)],
            [8.0, 6.5, 6.0, 6.5],
        ),
        Capsule((64.0, -24.0, -92.0), (50.0, -28.0, -92.0), 6.0, 2.5),  # ischial spine
    )
    bone = Subtract(_BoxedUnion(parts, 6.0), Sphere(tuple(c), SOCKET_RADIUS))
    return Subtract(bone, HalfSpace((0.5 * SYMPHYSIS_GAP_MM, 0.0, 0.0), (1.0, 0.0, 0.0)))


def hip_bones_shape() -> Shape:
    """Both hip bones (mm)."""
    return _AbsX(_Tabulated(_hip_bone_right()))


def hip_joint_shape() -> Shape:
    """Articular cartilage and joint space of both hips (mm): the shell between head and socket in the cup."""
    c = _acetabular_centre()
    shell = Subtract(Sphere(tuple(c), SOCKET_RADIUS), Sphere(tuple(c), FEMORAL_HEAD_RADIUS))
    return _AbsX(Intersect(shell, _cup_halfspace(1.0)))


def symphysis_shape() -> Shape:
    """Pubic symphysis (mm): the fibrocartilage disc between the pubic bodies."""
    mid, tilt = _symphysis()
    return RoundBox(
        tuple(mid + np.array([0.0, -2.0, 0.0])),
        (0.5 * SYMPHYSIS_GAP_MM + 0.5, 7.0, 18.0),
        3.0,
        (tilt, 0.0, 0.0),
    )


# --------------------------------------------------------------------------- femora
NECK_SHAFT_DEG = 129.0  # DOI 10.1007/s11999-008-0473-3
ANTEVERSION_DEG = 12.0  # typical
SHAFT_OBLIQUITY_DEG = 7.0  # anatomical axis to the vertical, converging on the knees (typical)
NECK_LENGTH_MM = 52.0  # head centre to the shaft axis (typical)
SHAFT_CORTEX_MM = 4.5  # 3-5 mm on CT (typical)
HEAD_CORTEX_MM = 1.5


def femur_axes() -> dict[str, np.ndarray]:
    """Right femur (mm): head centre, neck direction (to the head), neck-shaft point, shaft direction."""
    head = _acetabular_centre()
    ob = np.radians(SHAFT_OBLIQUITY_DEG)
    shaft_down = np.array([-np.sin(ob), 0.0, -np.cos(ob)])
    # The neck leaves the shaft at 129 deg: medially, upward, and anteverted.
    tilt, av = np.radians(180.0 - NECK_SHAFT_DEG - SHAFT_OBLIQUITY_DEG), np.radians(ANTEVERSION_DEG)
    neck = np.array([-np.sin(tilt) * np.cos(av), np.sin(tilt) * np.sin(av), np.cos(tilt)])
    return {"head": head, "neck": neck, "junction": head - NECK_LENGTH_MM * neck, "shaft_down": shaft_down}


def _femur_right() -> Shape:
    """Right femur (mm): head, neck, trochanters and shaft to the bottom of the field."""
    a = femur_axes()
    head, neck, junction, down = a["head"], a["neck"], a["junction"], a["shaft_down"]
    shaft_end = junction + down * ((junction[2] - (frame.THIGH_BOTTOM_Z - 5.0)) / -down[2])
    parts = (
        Sphere(tuple(head), FEMORAL_HEAD_RADIUS),
        Capsule(tuple(head - 10.0 * neck), tuple(junction + 8.0 * neck), 14.0, 16.5),
        Ellipsoid(tuple(junction + np.array([18.0, -8.0, 18.0])), (13.0, 16.0, 22.0)),  # greater trochanter
        Ellipsoid(tuple(junction + down * 28.0 + np.array([-14.0, -10.0, 0.0])), (8.0, 8.0, 10.0)),  # lesser
        Capsule(
            tuple(junction - down * 10.0 + np.array([6.0, -2.0, 0.0])),
            tuple(junction + down * 45.0),
            19.0,
            15.5,
        ),
        Capsule(tuple(junction + down * 45.0), tuple(shaft_end), 15.5, 13.5),
    )
    return _BoxedUnion(parts, 7.0)


def femora_shape() -> Shape:
    """Both femora (mm): a thin cortex over head and neck, a thick one along the shaft."""
    z = float(femur_axes()["junction"][2])
    return _GradedWall(_AbsX(_femur_right()), (z - 70.0, z - 25.0), HEAD_CORTEX_MM / SHAFT_CORTEX_MM)


# --------------------------------------------------------------------------- coccyx
# From the S5 apex to the tip, hooking forward; segment (length, half-width, half-depth) mm (typical).
COCCYX_PATH = [
    (0.0, -63.0, -74.0),
    (0.0, -65.5, -83.5),
    (0.0, -63.5, -92.5),
    (0.0, -56.0, -98.5),
    frame.COCCYX_TIP,
]
COCCYX_SEGMENTS = ((10.5, 12.0, 5.5), (9.5, 8.0, 4.8), (8.5, 6.0, 4.2), (7.0, 4.5, 3.5))
COCCYX_JOINT_MM = 1.6


@lru_cache(maxsize=1)
def _coccyx_parts() -> tuple[tuple[Shape, ...], tuple[Shape, ...]]:
    """Coccygeal segments and the small discs above each of them (mm)."""
    line = _curve(COCCYX_PATH, 400)
    s = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(line, axis=0), axis=1))]
    scale = s[-1] / (sum(seg[0] for seg in COCCYX_SEGMENTS) + COCCYX_JOINT_MM * len(COCCYX_SEGMENTS))

    def at(position: float) -> tuple[Vec3, Vec3]:
        k = int(np.searchsorted(s, position))
        tangent = line[min(k + 1, len(line) - 1)] - line[max(k - 1, 0)]
        return tuple(line[k]), (x_angle((-tangent[1], -tangent[2])), 0.0, 0.0)

    bones, discs, pos = [], [], 0.0
    for length, half_w, half_d in COCCYX_SEGMENTS:
        joint, length = COCCYX_JOINT_MM * scale, length * scale
        discs.append(
            Ellipsoid(
                at(pos + 0.5 * joint)[0],
                (0.8 * half_w, 0.8 * half_d, 0.5 * joint + 0.3),
                at(pos + 0.5 * joint)[1],
            )
        )
        pos += joint
        centre, angles = at(pos + 0.5 * length)
        bones.append(
            RoundBox(centre, (half_w, half_d, 0.5 * length + 0.3), min(half_d, 0.5 * length) - 0.3, angles)
        )
        pos += length
    return tuple(bones), tuple(discs)


def coccyx_shape() -> Shape:
    """The four coccygeal segments (mm)."""
    return union(_coccyx_parts()[0])


# --------------------------------------------------------------------------- sacral nerve roots
ROOT_RADII = (2.6, 2.3, 1.8, 1.5)  # S1-S4 ventral rami, 3-5 mm (typical)


def _root_paths() -> tuple[tuple[tuple[Vec3, ...], tuple[float, ...]], ...]:
    """Right S1-S4 roots: from the lateral recess of the canal (the cauda equina above is the spine's) out
    through the intervertebral foramen and the ventral funnel, ringed by fat, then down and out on the
    front of piriformis toward the sacral plexus."""
    f = sacral_frame()
    paths = []
    for i, (path, r) in enumerate(zip(foramen_paths(), ROOT_RADII, strict=True)):
        s = float(f.levels[i + 1])
        x = path.ventral[0]
        pts = (
            f.to_world(
                0.55 * float(_profile(CANAL_HALF_WIDTH, s)), s - 9.0, float(_profile(BODY_DEPTH, s)) + 2.0
            ),
            path.ivf,
            path.funnel,
            path.ventral,
            f.to_world(x + 5.0, s + 5.0, -4.0),
            f.to_world(x + 14.0, s + 13.0, -8.0),
            f.to_world(44.0, 68.0 + 3.0 * i, -12.0),  # at the greater sciatic foramen
        )
        paths.append((pts, (r,) * len(pts)))
    return tuple(paths)


def sacral_roots_shape() -> Shape:
    """Both sides' S1-S4 roots (mm)."""
    return _AbsX(_TubeBundle(_root_paths()))


# --------------------------------------------------------------------------- structures
def _landmarks() -> dict[str, Vec3]:
    f = sacral_frame()
    points: dict[str, Vec3] = {}
    for path in foramen_paths():
        key = path.name.lower().replace("-", "_")
        for side, sign in (("right", 1.0), ("left", -1.0)):
            points[f"{key}_foramen_{side}"] = (sign * path.ventral[0], path.ventral[1], path.ventral[2])
            points[f"{key}_dorsal_foramen_{side}"] = (sign * path.dorsal[0], path.dorsal[1], path.dorsal[2])
    s1 = 0.5 * float(f.levels[1])
    points["sacral_canal_s1"] = f.to_world(8.0, s1, float(_profile(BODY_DEPTH, s1)) + 3.0)
    points["coccyx_tip"] = frame.COCCYX_TIP
    j = sij_frame()
    points["sacroiliac_joint_right"] = tuple(float(v) for v in j.centre)
    points["sacroiliac_joint_left"] = (-float(j.centre[0]), float(j.centre[1]), float(j.centre[2]))
    points["femoral_head_right"] = frame.LANDMARKS["femoral_head_right"]
    points["femoral_head_left"] = frame.LANDMARKS["femoral_head_left"]
    points["symphysis"] = tuple(float(v) for v in _symphysis()[0])
    return points


LANDMARKS: dict[str, Vec3] = _landmarks()


def structures() -> list[Structure]:
    """Structures of the bony pelvis (labels 60-72; the fattier lateral masses and the disc remnants are
    parts of the sacrum and carry its label)."""
    # The tumour replaces the fat of the left S1-S2 foramen and encases its root.
    lesions = importlib.import_module(f"{__package__}.findings")

    cortex = TISSUES["cortical_bone"]
    plate = _SacralSolid(_plate_distance, *SACRUM_BOUNDS)
    roots = sacral_roots_shape()
    canal = _SacralSolid(_canal_fat_distance, (-16.0, -95.0, -75.0), (16.0, -10.0, 45.0))
    foramina = Clip(
        Clip(foramina_shape(), plate), _BoxedUnion((roots, lesions.foraminal_component())), keep_inside=False
    )
    return [
        Structure(
            "sacrum", 60, sacrum_shape(), TISSUES["sacral_marrow"], "bone", 1.2, cortex, "sacrum S1-S5"
        ),
        Structure(
            "sacrum",
            60,
            _SacralSolid(_lateral_mass_distance, *SACRUM_BOUNDS),
            LATERAL_MASS_MARROW,
            "bone",
            location="sacral alae and lateral masses (fattier marrow)",
        ),
        Structure(
            "sacrum",
            60,
            _SacralSolid(_disc_remnant_distance, (-25, -75, -70), (25, 10, 30)),
            TISSUES["annulus"],
            "bone",
            location="rudimentary discs between the fused sacral bodies",
        ),
        Structure(
            "coccyx", 65, coccyx_shape(), TISSUES["sacral_marrow"], "bone", 1.0, cortex, "coccyx Co1-Co4"
        ),
        Structure(
            "hip_bones",
            66,
            hip_bones_shape(),
            TISSUES["cancellous_bone"],
            "bone",
            2.0,
            cortex,
            "ilium, ischium and pubis",
        ),
        Structure(
            "femora",
            69,
            femora_shape(),
            TISSUES["fatty_marrow"],
            "bone",
            HEAD_CORTEX_MM,
            cortex,
            "femoral heads, necks, trochanters and shafts",
        ),
        Structure(
            "coccygeal_discs",
            72,
            union(_coccyx_parts()[1]),
            TISSUES["annulus"],
            "content",
            location="sacrococcygeal and intercoccygeal joints",
        ),
        Structure(
            "sacroiliac_joints",
            68,
            sij_shape(),
            TISSUES["cartilage"],
            "content",
            location="sacroiliac joints",
        ),
        Structure(
            "pubic_symphysis",
            71,
            symphysis_shape(),
            TISSUES["cartilage"],
            "content",
            location="pubic symphysis",
        ),
        Structure(
            "hip_joints", 70, hip_joint_shape(), TISSUES["cartilage"], "content", location="hip joints"
        ),
        Structure(
            "sacral_canal",
            61,
            Clip(canal, _BoxedUnion((roots, foramina_shape())), keep_inside=False),
            TISSUES["fat"],
            "content",
            location="sacral canal (epidural fat around the end of the thecal sac)",
        ),
        Structure(
            "sacral_foramina",
            62,
            foramina,
            TISSUES["fat"],
            "content",
            location="anterior and dorsal sacral foramina",
        ),
        Structure(
            "sacral_nerve_roots",
            63,
            Clip(roots, lesions.presacral_mass_shape(), keep_inside=False),
            TISSUES["neural"],
            "content",
            location="S1-S4 roots and ventral rami",
        ),
    ]
