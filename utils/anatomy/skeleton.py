"""Axial skeleton and head: vertebrae C1-L5, discs, spinal canal and its contents, ribs, sternum, shoulder
girdle, skull and brain, in world millimetres (RAS+, origin at the sacral promontory).

Each vertebra is built in its own frame (origin at the body centre, local z along the column, local y
anterior; `frame.VERTEBRAE` gives the centres and body sizes): a box-like body with flat endplates that
follow the curve of the column, pedicles, laminae, spinous and transverse processes, and articular processes
that meet those of the next vertebra in facet joints. Sizes: lumbar bodies, pedicles, canal and discs from
Zhou SH et al., Eur Spine J 2000 and Int J Spine Surg 2021;15:1072 (L5), disc heights from anatomyjournal.ir
A-10-159-1, wedging from Eur Spine J 2009 (DOI 10.1007/s00586-009-1256-6), cortical shell from Bone
1994;15:409 (thicker on CT because of partial volume). Thoracic and cervical sizes are typical textbook
values (Gray's Anatomy; course choice). Ribs: 12 pairs angled down about 30 degrees anteriorly, mid-rib section
about 13 x 6 mm (PMID 31225915); sternum of a woman: manubrium 48 mm, body 88 mm, angle 160 degrees
(bibliomed.org mno=16478); xiphisternal joint at T9 (Clin Anat 2016;29:1018).

Canal and head: the dural sac with CSF from the foramen magnum into the sacral canal to S2, epidural fat
around it (the structure's wall), cord to the conus at L1-L2, cauda equina and the lumbar roots leaving
through the foramina; skull with its base and fossae, the brain in a 2.5 mm layer of CSF (the structure's
wall; about 1.25 L of brain, Gray's and typical MRI volumetry), ventricles, pituitary in the sella above the
sphenoid sinus, simplified facial bones, sinuses, mandible and globes.

The thin, curved parts (canal contents, ribs) use shapes parametrised by height or by azimuth, which cost a
few array operations per point instead of a nearest-neighbour search; parts of a union are evaluated only
near their own bounding boxes, so each vertebra costs little more than its body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from itertools import pairwise

import numpy as np
from scipy.interpolate import CubicSpline, PchipInterpolator
from scipy.ndimage import maximum_filter1d, minimum_filter1d

from ..sdf import Offset, Shape
from . import Structure, frame
from .tissues import TISSUES, Tissue

Vec3 = tuple[float, float, float]

LABELS: dict[str, int] = {
    "vertebrae": 20,
    "intervertebral_discs": 21,
    "spinal_canal_csf": 22,  # thecal sac (CSF); the epidural fat around it has its own label
    "spinal_cord": 23,
    "cauda_equina": 24,  # roots in the sac and the lumbar roots leaving it through the foramina
    "ribs": 25,
    "costal_cartilages": 26,
    "sternum": 27,
    "clavicles": 28,
    "scapulae": 29,
    "skull": 30,
    "brain": 31,  # brain with the subarachnoid CSF around it
    "pituitary": 32,
    "ventricles": 33,
    "facial_bones": 34,
    "mandible": 35,
    "paranasal_sinuses": 36,
    "globes": 37,
    "epidural_fat": 38,
}

CORTEX_MM = 1.2  # vertebral cortex: 0.3 mm true, about 1 mm or more as CT shows it (Bone 1994;15:409)
F32 = np.float32


# --------------------------------------------------------------------------------------------------------
# Shapes used only here. They work on coordinate arrays x, y, z (float32, 1-D): numpy reductions over a
# short last axis are slow, so these shapes are several times faster than their general counterparts in
# utils.sdf. Parts of a union are evaluated only near their own bounding boxes.
# --------------------------------------------------------------------------------------------------------

Arr = np.ndarray


def _smin(a: Arr, b: Arr, k: float) -> Arr:
    """Polynomial smooth minimum with blend radius ``k`` (mm)."""
    if k <= 0:
        return np.minimum(a, b)
    h = np.clip(F32(0.5) + F32(0.5 / k) * (b - a), 0.0, 1.0)
    return b + (a - b) * h - F32(k) * h * (1.0 - h)


def _combine(radial: Arr, axial: Arr) -> Arr:
    """Exact distance of the intersection of two orthogonal slabs' distances (an extrusion)."""
    return np.sqrt(np.maximum(radial, 0.0) ** 2 + np.maximum(axial, 0.0) ** 2) + np.minimum(
        np.maximum(radial, axial), 0.0
    )


class _Fast(Shape):
    """Base of the shapes here: ``dist(x, y, z)`` on coordinate arrays; bounds cached in ``box``."""

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:  # pragma: no cover - abstract
        raise NotImplementedError

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    @cached_property
    def box(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self._bounds()
        return np.asarray(lo, np.float32), np.asarray(hi, np.float32)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.box
        return lo.astype(float), hi.astype(float)

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        flat = points.reshape(-1, 3)
        x, y, z = (np.ascontiguousarray(flat[:, i], dtype=np.float32) for i in range(3))
        return self.dist(x, y, z).reshape(points.shape[:-1]).astype(points.dtype)


# The sampler refines blocks of voxels coarse to fine: it first asks for the distance at the centres of a few
# large blocks (a few thousand points at most) and needs it accurate up to their half-diagonal (about 40 mm
# for 16-voxel blocks on a 1.5 x 1.5 x 3 mm grid) to drop blocks far from any surface; then ever more,
# ever smaller blocks and finally voxels, for which about 12 mm suffices. Parts of unions are therefore
# evaluated exactly within _PAD_MM of their boxes, and the distance to the box (a lower bound) stands in
# farther away. The pads only change how much work is skipped, never the result near a surface.
_PAD_MM = {"coarse": 40.0, "fine": 12.0}
_COARSE_QUERY = 5000


def _pad(n: int, near_mm: float) -> float:
    """How far (mm) from a part's box its exact distance is needed, for a query of ``n`` points."""
    return max(near_mm, _PAD_MM["coarse"] if n < _COARSE_QUERY else _PAD_MM["fine"])


def _gated(shape: _Fast, x: Arr, y: Arr, z: Arr, pad: float) -> Arr:
    """Distances to ``shape``, evaluated only within ``pad`` (mm) of its box; farther: the box distance."""
    pad = _pad(len(x), pad)
    lo, hi = shape.box
    g = np.maximum(np.maximum(np.maximum(lo[0] - x, x - hi[0]), np.maximum(lo[1] - y, y - hi[1])),
                   np.maximum(lo[2] - z, z - hi[2]))
    near = g < F32(pad)
    n = int(np.count_nonzero(near))
    if n == len(g):
        return shape.dist(x, y, z)
    if n:
        idx = np.flatnonzero(near)
        g[idx] = shape.dist(x[idx], y[idx], z[idx])
    return g


@dataclass(frozen=True, eq=False)
class _Union(_Fast):
    """Smooth union (blend in mm) whose parts are each evaluated only near their own boxes."""

    parts: tuple[_Fast, ...]
    blend_mm: float = 0.0

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        pad = self.blend_mm + 3.0
        d = None
        for part in self.parts:
            dp = _gated(part, x, y, z, pad)
            d = dp if d is None else _smin(d, dp, self.blend_mm)
        return d

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.min([p.box[0] for p in self.parts], axis=0), np.max([p.box[1] for p in self.parts], axis=0)


@dataclass(frozen=True, eq=False)
class _Stack(_Fast):
    """Sharp union of parts stacked along z (vertebrae, ribs): each point meets only the parts whose z-range
    it is near; elsewhere the distance is bounded below by the gap to the nearest part's box."""

    parts: tuple[_Fast, ...]

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        pad = F32(_pad(len(x), 3.0))
        d = np.full(x.shape, np.float32(1e4))
        for part in self.parts:
            lo, hi = part.box
            gz = np.maximum(lo[2] - z, z - hi[2])
            near = gz < pad
            np.minimum(d, gz, out=d, where=~near)
            idx = np.flatnonzero(near)
            if len(idx):
                d[idx] = np.minimum(d[idx], _gated(part, x[idx], y[idx], z[idx], 3.0))
        return d

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.min([p.box[0] for p in self.parts], axis=0), np.max([p.box[1] for p in self.parts], axis=0)


@dataclass(frozen=True, eq=False)
class _Sub(_Fast):
    """``base`` with ``cut`` removed (the cut is evaluated only near its box)."""

    base: _Fast
    cut: _Fast

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        return np.maximum(self.base.dist(x, y, z), -_gated(self.cut, x, y, z, 3.0))

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.base.box


@dataclass(frozen=True, eq=False)
class _Inter(_Fast):
    """Points inside both shapes."""

    a: _Fast
    b: _Fast

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        return np.maximum(self.a.dist(x, y, z), self.b.dist(x, y, z))

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.maximum(self.a.box[0], self.b.box[0]), np.minimum(self.a.box[1], self.b.box[1])


@dataclass(frozen=True, eq=False)
class _Tilted(_Fast):
    """A shape built in a local frame: origin (mm); local z tilted by ``tilt_deg`` toward anterior (+y)."""

    shape: _Fast
    origin_mm: Vec3
    tilt_deg: float

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        t = np.radians(self.tilt_deg)
        c, s = F32(np.cos(t)), F32(np.sin(t))
        ox, oy, oz = (F32(v) for v in self.origin_mm)
        yy, zz = y - oy, z - oz
        return self.shape.dist(x - ox, yy * c - zz * s, yy * s + zz * c)

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.shape.box
        t = np.radians(self.tilt_deg)
        axes = np.array([[1.0, 0, 0], [0, np.cos(t), -np.sin(t)], [0, np.sin(t), np.cos(t)]])
        corners = np.array([[a, b, c] for a in (lo[0], hi[0]) for b in (lo[1], hi[1]) for c in (lo[2], hi[2])])
        world = corners @ axes + np.asarray(self.origin_mm)
        return world.min(axis=0), world.max(axis=0)


@dataclass(frozen=True, eq=False)
class _MirrorX(_Fast):
    """A right-sided shape (x > 0) and its mirror image, evaluated once at |x| (exact for such shapes)."""

    shape: _Fast

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        return self.shape.dist(np.abs(x), y, z)

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.shape.box
        return np.array([-hi[0], lo[1], lo[2]]), np.array([hi[0], hi[1], hi[2]])


@dataclass(frozen=True, eq=False)
class _OBox(_Fast):
    """Rounded box with its own axes: centre (mm), unit axes as rows, half-sizes and edge radius (mm)."""

    centre_mm: Vec3
    axes: tuple[Vec3, Vec3, Vec3] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    half_mm: Vec3 = (1.0, 1.0, 1.0)
    radius_mm: float = 0.0

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        cx, cy, cz = (F32(v) for v in self.centre_mm)
        px, py, pz = x - cx, y - cy, z - cz
        r = F32(self.radius_mm)
        q = []
        for axis, half in zip(self.axes, self.half_mm, strict=True):
            a0, a1, a2 = (F32(v) for v in axis)
            q.append(np.abs(px * a0 + py * a1 + pz * a2) - (F32(half) - r))
        outside = np.sqrt(np.maximum(q[0], 0.0) ** 2 + np.maximum(q[1], 0.0) ** 2 + np.maximum(q[2], 0.0) ** 2)
        return outside + np.minimum(np.maximum(np.maximum(q[0], q[1]), q[2]), 0.0) - r

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        extent = np.abs(np.asarray(self.axes).T) @ np.asarray(self.half_mm, float)
        c = np.asarray(self.centre_mm, float)
        return c - extent, c + extent


def _rbox(centre: Vec3, half: Vec3, radius: float = 0.0) -> _OBox:
    """Axis-aligned rounded box (mm)."""
    return _OBox(centre, half_mm=half, radius_mm=radius)


def _bar(start: Vec3, end: Vec3, width_dir: Vec3, half_width: float, half_thick: float, radius: float) -> _OBox:
    """Rounded bar from ``start`` to ``end`` (mm): width along ``width_dir`` (made normal to the bar)."""
    a, b = np.asarray(start, float), np.asarray(end, float)
    e1 = (b - a) / np.linalg.norm(b - a)
    e2 = np.asarray(width_dir, float) - np.dot(width_dir, e1) * e1
    e2 /= np.linalg.norm(e2)
    e3 = np.cross(e1, e2)
    half = (np.linalg.norm(b - a) / 2 + radius, half_width, half_thick)
    return _OBox(tuple((a + b) / 2), (tuple(e1), tuple(e2), tuple(e3)), half, radius)


@dataclass(frozen=True, eq=False)
class _Cap(_Fast):
    """Segment from ``a`` to ``b`` (mm) with radius growing linearly from ``r0`` to ``r1`` (mm)."""

    a: Vec3
    b: Vec3
    r0: float
    r1: float | None = None

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        a, b = np.asarray(self.a, float), np.asarray(self.b, float)
        ab = b - a
        inv = 1.0 / float(ab @ ab)
        px, py, pz = x - F32(a[0]), y - F32(a[1]), z - F32(a[2])
        t = np.clip((px * F32(ab[0]) + py * F32(ab[1]) + pz * F32(ab[2])) * F32(inv), 0.0, 1.0)
        r1 = self.r0 if self.r1 is None else self.r1
        dx, dy, dz = px - t * F32(ab[0]), py - t * F32(ab[1]), pz - t * F32(ab[2])
        return np.sqrt(dx * dx + dy * dy + dz * dz) - (F32(self.r0) + F32(r1 - self.r0) * t)

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        r = max(self.r0, self.r0 if self.r1 is None else self.r1)
        ends = np.array([self.a, self.b], float)
        return ends.min(axis=0) - r, ends.max(axis=0) + r


def _ellipse_distance(u: Arr, v: Arr, a: Arr | float, b: Arr | float) -> Arr:
    """Approximate signed distance (mm) to an ellipse with semi-axes a (along u) and b (along v)."""
    k0 = np.sqrt((u / a) ** 2 + (v / b) ** 2)
    k1 = np.sqrt((u / (a * a)) ** 2 + (v / (b * b)) ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = k0 * (k0 - 1.0) / k1
    return np.where(k1 > 0, d, -np.minimum(a, b)).astype(np.float32)


@dataclass(frozen=True, eq=False)
class _Ell(_Fast):
    """Ellipsoid: centre, semi-axes (mm) along its own unit axes (rows; default the world axes)."""

    centre_mm: Vec3
    radii_mm: Vec3
    axes: tuple[Vec3, Vec3, Vec3] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        cx, cy, cz = (F32(v) for v in self.centre_mm)
        px, py, pz = x - cx, y - cy, z - cz
        k0 = k1 = F32(0.0)
        for axis, r in zip(self.axes, self.radii_mm, strict=True):
            q = px * F32(axis[0]) + py * F32(axis[1]) + pz * F32(axis[2])
            k0 = k0 + (q / F32(r)) ** 2
            k1 = k1 + (q / F32(r * r)) ** 2
        k0, k1 = np.sqrt(k0), np.sqrt(k1)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = k0 * (k0 - 1.0) / k1
        return np.where(k1 > 0, d, -F32(min(self.radii_mm))).astype(np.float32)

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        half = np.sqrt(((np.asarray(self.axes).T * np.asarray(self.radii_mm)) ** 2).sum(axis=1))
        c = np.asarray(self.centre_mm, float)
        return c - half, c + half


@dataclass(frozen=True, eq=False)
class _VertebralBody(_Fast):
    """Vertebral body in its own frame: superelliptic section, waisted sides, endplates with a wedge (mm, deg).

    ``wedge_deg`` > 0 makes the front taller than the back (lordotic, as L5); the endplates are flat with
    a rim rounded over ``rim_mm``.
    """

    width_mm: float
    depth_mm: float
    height_mm: float
    wedge_deg: float = 0.0
    waist_mm: float = 1.5
    rim_mm: float = 2.0
    squareness: float = 2.6
    back_cut: float = 0.25

    def section(self, u: Arr, v: Arr) -> Arr:
        """Signed distance (mm) to the body's outline in the axial plane of its own frame."""
        # A superellipse reaching the front, cut flat at the back (the canal's anterior wall): the back
        # corners stay wide, the front is convex, as in a kidney-shaped lumbar body.
        half = self.depth_mm / 2
        a, b, n = F32(self.width_mm / 2), F32(half * (1 + self.back_cut)), F32(self.squareness)
        au = np.abs(u) / a + F32(1e-6)
        av = np.abs(v + F32(half * self.back_cut)) / b + F32(1e-6)
        if n == 2:
            pu, pv = au, av
            rho = np.sqrt(au * au + av * av)
            grad = np.sqrt((pu / a) ** 2 + (pv / b) ** 2) / rho
        elif n == 3:
            pu, pv = au * au, av * av
            rho = np.cbrt(pu * au + pv * av)
            grad = np.sqrt((pu / a) ** 2 + (pv / b) ** 2) / (rho * rho)
        else:
            pu, pv = au ** (n - 1), av ** (n - 1)
            rho = (pu * au + pv * av) ** (1 / n)
            grad = rho ** (1 - n) * np.sqrt((pu / a) ** 2 + (pv / b) ** 2)
        return np.maximum((rho - 1.0) / grad, -v - F32(half))

    def endplates(self, v: Arr, w: Arr) -> Arr:
        """Signed distance (mm) to the slab between the two endplates."""
        t = np.radians(self.wedge_deg / 2)
        c, s, h = F32(np.cos(t)), F32(np.sin(t)), F32(self.height_mm / 2)
        return np.maximum(w * c, -w * c) - v * s - h

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        t = np.clip(z * F32(2 / self.height_mm), -1.0, 1.0)
        radial = self.section(x, y) + F32(self.waist_mm) * (1.0 - t * t)
        r = F32(self.rim_mm)
        return _combine(radial + r, self.endplates(y, z) + r) - r

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        h = self.height_mm / 2 + self.depth_mm / 2 * abs(np.tan(np.radians(self.wedge_deg / 2)))
        half = np.array([self.width_mm / 2, self.depth_mm / 2, h])
        return -half, half


@dataclass(frozen=True, eq=False)
class _ZTubes(_Fast):
    """Tubes along curves that rise steadily in z: per tube, knots ``(z, x, y, a, b, tri)`` (mm).

    At height z a tube's section is an ellipse centred at (x, y) with semi-axes a (left-right) and b
    (front-back, measured across the tube's slope); ``tri`` > 0 widens the front and narrows the back (the
    triangular lumbar canal). Each tube ends flat at its first and last knot. Cheap: a table look-up and a
    few operations per point, so long canals and nerve roots cost little.
    """

    tubes: tuple[tuple[tuple[float, float, float, float, float, float], ...], ...]
    step_mm: float = 0.5
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def _tables(self) -> tuple[float, np.ndarray, np.ndarray]:
        if "table" not in self._cache:
            z0 = min(k[0][0] for k in self.tubes)
            z1 = max(k[-1][0] for k in self.tubes)
            z = np.arange(z0, z1 + self.step_mm, self.step_mm)
            rows = []
            for knots in self.tubes:
                k = np.asarray(knots, float)
                zc = np.clip(z, k[0, 0], k[-1, 0])
                spline = PchipInterpolator(k[:, 0], k[:, 1:], axis=0)
                vals = spline(zc)
                slope = spline.derivative()(zc)
                cx = 1.0 / np.sqrt(1.0 + slope[:, 0] ** 2)
                cy = 1.0 / np.sqrt(1.0 + slope[:, 1] ** 2)
                rows.append(np.column_stack([vals, cx, cy]))
            table = np.stack(rows, axis=0).astype(np.float32)  # (ntubes, nz, 7): x y a b tri cx cy
            table = np.ascontiguousarray(table.transpose(0, 2, 1))  # (ntubes, 7, nz)
            ends = np.array([[k[0][0], k[-1][0]] for k in self.tubes], np.float32)
            self._cache.update(table=table, z0=z0, ends=ends)
        return self._cache["z0"], self._cache["table"], self._cache["ends"]

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        z0, table, ends = self._tables()
        i = np.clip(np.rint((z - F32(z0)) * F32(1 / self.step_mm)).astype(np.int32), 0, table.shape[2] - 1)
        d = None
        for k, tube in enumerate(table):
            xc, yc, a, b, tri, cx, cy = (col[i] for col in tube)
            u = (x - xc) * cx
            v = (y - yc) * cy
            a = a * (1.0 + tri * np.clip(v / b, -1.0, 1.0))
            axial = np.maximum(ends[k, 0] - z, z - ends[k, 1])
            dk = _combine(_ellipse_distance(u, v, a, b), axial)
            d = dk if d is None else np.minimum(d, dk)
        return d

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
        for knots in self.tubes:
            k = np.asarray(knots, float)
            r = k[:, 3:5].max(axis=1) * (1 + np.abs(k[:, 5])) + 2.0
            lo = np.minimum(lo, [(k[:, 1] - r).min(), (k[:, 2] - r).min(), k[0, 0]])
            hi = np.maximum(hi, [(k[:, 1] + r).max(), (k[:, 2] + r).max(), k[-1, 0]])
        return lo, hi


# --------------------------------------------------------------------------------------------------------
# The column: levels, vertebrae, discs, canal.
# --------------------------------------------------------------------------------------------------------

# Per level: canal AP and width, pedicle width and height, transverse-process span (tip to tip), spinous
# process length, slope below the horizontal (deg), height and thickness, lamina thickness and height (mm).
# Lumbar canal and pedicles: Int J Spine Surg 2021;15:1072 and Zhou SH et al.; the rest typical (Gray's).
_ARCH: dict[str, tuple[float, ...]] = {
    "C2": (16, 24, 7, 9, 56, 26, 15, 12, 9, 5, 14),
    "C3": (15, 24, 5, 7, 52, 16, 20, 8, 5, 3, 11),
    "C4": (14.5, 25, 5, 7, 53, 16, 20, 8, 5, 3, 11),
    "C5": (14.5, 25, 5, 7, 54, 17, 20, 8, 5, 3, 11),
    "C6": (14.5, 25, 5.5, 7, 56, 22, 20, 9, 5, 3.5, 12),
    "C7": (15, 24, 6, 8, 70, 34, 25, 10, 6, 4, 13),
    "T1": (15, 21, 8, 10, 78, 38, 30, 10, 6, 5, 15),
    "T2": (15.5, 18, 7, 11, 74, 42, 40, 10, 6, 5, 16),
    "T3": (16, 17, 5, 12, 70, 44, 50, 10, 5.5, 5, 17),
    "T4": (16, 16.5, 4.5, 12, 68, 45, 55, 10, 5.5, 5, 17),
    "T5": (16, 16.5, 4.5, 12.5, 68, 45, 60, 10, 5.5, 5, 18),
    "T6": (16, 16.5, 4.5, 13, 67, 45, 60, 10, 5.5, 5, 18),
    "T7": (16, 16.5, 5, 13, 66, 45, 60, 10, 5.5, 5, 18),
    "T8": (16, 17, 5.5, 13.5, 65, 44, 55, 10, 5.5, 5, 18),
    "T9": (16, 17, 6, 14, 63, 42, 45, 11, 6, 5.5, 19),
    "T10": (16.5, 17.5, 7, 15, 60, 38, 35, 12, 6, 5.5, 19),
    "T11": (16.5, 19, 8, 16, 52, 35, 25, 14, 6.5, 6, 20),
    "T12": (17, 21, 8, 16, 46, 32, 15, 16, 7, 6, 21),
    "L1": (16, 22, 6, 15, 70, 30, 8, 19, 7, 6.5, 22),
    "L2": (15, 22, 7, 15, 80, 31, 6, 20, 7, 6.5, 23),
    "L3": (15, 23, 9, 14, 92, 31, 5, 20, 7, 6.5, 24),
    "L4": (15, 24, 11, 13, 86, 29, 8, 19, 7, 6.5, 24),
    "L5": (15.1, 27.6, 15.1, 12.5, 90, 24, 12, 16, 7, 6.5, 22),
}
# Lumbar wedge angles (deg, + = front taller): the negative of the published wedging (Eur Spine J 2009).
_LUMBAR_WEDGE = {"L1": -2.6, "L2": -0.7, "L3": 1.1, "L4": 3.1, "L5": 7.8}
# Facet joint orientation to the sagittal plane (deg), lumbar (Masharawi Y et al., Spine 2004; typical).
_FACET_ANGLE = {"L1": 25.0, "L2": 30.0, "L3": 38.0, "L4": 45.0, "L5": 50.0}
S1_ENDPLATE_CENTRE: Vec3 = (0.0, -13.0, 9.0)  # S1 endplate tilt about 35 deg (course geometry)
S1_ENDPLATE_NORMAL: Vec3 = (0.0, 0.57, 0.82)
S1_SIZE = (46.0, 32.0)  # S1 endplate width and depth (mm): PMC5799488 and typical


@dataclass(frozen=True)
class _Level:
    """One vertebra: body centre (mm), body size (mm), tilt and wedge (deg), arch sizes (mm)."""

    name: str
    y: float
    z: float
    width: float
    depth: float
    height: float
    tilt_deg: float
    wedge_deg: float
    canal_ap: float = 16.0
    canal_w: float = 17.0
    pedicle_w: float = 5.0
    pedicle_h: float = 12.0
    tp_span: float = 60.0
    spine_len: float = 40.0
    spine_slope_deg: float = 45.0
    spine_h: float = 10.0
    spine_t: float = 5.5
    lamina_t: float = 5.0
    lamina_h: float = 18.0

    @property
    def region(self) -> str:
        return self.name[0]

    @property
    def centre(self) -> Vec3:
        return (0.0, self.y, self.z)

    def axes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unit vectors of the local frame in world coordinates: right, anterior, up the column."""
        t = np.radians(self.tilt_deg)
        return np.array([1.0, 0, 0]), np.array([0, np.cos(t), -np.sin(t)]), np.array([0, np.sin(t), np.cos(t)])

    def world(self, u: float, v: float, w: float) -> Vec3:
        """World point (mm) of local coordinates (right, anterior, up the column)."""
        eu, ev, ew = self.axes()
        return tuple(np.asarray(self.centre) + u * eu + v * ev + w * ew)

    def endplate(self, superior: bool) -> tuple[np.ndarray, np.ndarray]:
        """Centre (mm) and outward unit normal of the superior or inferior endplate."""
        _, ev, ew = self.axes()
        t = np.radians(self.wedge_deg / 2)
        sign = 1.0 if superior else -1.0
        normal = sign * np.cos(t) * ew - np.sin(t) * ev
        centre = np.asarray(self.centre) + sign * self.height / 2 * ew
        return centre, normal

    def tilted(self, shape: _Fast) -> _Tilted:
        """The shape, built in this vertebra's frame, placed in the world."""
        return _Tilted(shape, self.centre, self.tilt_deg)


@lru_cache(maxsize=1)
def levels() -> tuple[_Level, ...]:
    """The 24 vertebrae from C1 to L5 with their frames (tilt follows the column's curve)."""
    names = list(frame.VERTEBRAE)[::-1]  # C1 ... L5
    yz = {n: frame.VERTEBRAE[n][:2] for n in names}
    out = []
    for i, name in enumerate(names):
        y, z, width, depth, height = frame.VERTEBRAE[name]
        above = yz[names[i - 1]] if i > 0 else None
        below = yz[names[i + 1]] if i + 1 < len(names) else S1_ENDPLATE_CENTRE[1:]
        up = np.subtract(above if above is not None else (y, z), below)
        tilt = float(np.degrees(np.arctan2(up[0], up[1])))
        out.append((name, y, z, width, depth, height, tilt))
    result = []
    for i, (name, y, z, width, depth, height, tilt) in enumerate(out):
        if name in _LUMBAR_WEDGE:
            wedge = _LUMBAR_WEDGE[name]
        elif 0 < i < len(out) - 1:
            # Half the local change of the column's direction is taken by the body (the rest by the discs).
            wedge = 0.5 * (out[i + 1][6] - out[i - 1][6]) / 2
        else:
            wedge = 0.0
        arch = _ARCH.get(name, ())
        result.append(_Level(name, y, z, width, depth, height, tilt, wedge, *arch))
    return tuple(result)


def level(name: str) -> _Level:
    """A vertebra by name (``"L3"``)."""
    return next(lv for lv in levels() if lv.name == name)


def _disc_height(upper: _Level, lower: _Level) -> float:
    """Mid height (mm) of the disc between two bodies."""
    c0, n0 = upper.endplate(superior=False)
    c1, _ = lower.endplate(superior=True)
    return float(np.dot(c0 - c1, -n0))


def _canal_centre(lv: _Level) -> tuple[float, float]:
    """World (y, z) of the canal centre at a vertebra (mm): just behind its body."""
    _, y, z = lv.world(0.0, -lv.depth / 2 - lv.canal_ap / 2, 0.0)
    return y, z


def _s1_level() -> _Level:
    """A stand-in for S1 (the sacrum is built elsewhere): its endplate bounds the L5-S1 disc."""
    n = np.asarray(S1_ENDPLATE_NORMAL) / np.linalg.norm(S1_ENDPLATE_NORMAL)
    height = 28.0
    centre = np.asarray(S1_ENDPLATE_CENTRE) - n * height / 2
    tilt = float(np.degrees(np.arctan2(n[1], n[2])))
    arch = _ARCH["L5"]
    return _Level("S1", float(centre[1]), float(centre[2]), *S1_SIZE, height, tilt, 0.0, 15.0, 28.0, *arch[2:])


@dataclass(frozen=True)
class _FacetSpec:
    """Facet joint geometry in the lower vertebra's frame (mm, deg)."""

    angle_deg: float  # joint plane to the sagittal plane, in the axial plane
    incline_deg: float  # tilt of the joint plane from vertical (cervical 45)
    centre: tuple[float, float, float]
    gap: float
    thick: float
    width: float
    sap: tuple[float, float]  # extent of the superior articular process along the joint plane
    iap: tuple[float, float]


def _facet_spec(lower: _Level, upper: _Level) -> _FacetSpec:
    """How the joint between two vertebrae looks: lumbar near-sagittal, thoracic coronal, cervical sloping."""
    jw = lower.height / 2 + _disc_height(upper, lower) / 2
    cw, ap, d = lower.canal_w, lower.canal_ap, lower.depth
    if upper.region == "L":
        return _FacetSpec(_FACET_ANGLE[upper.name], 0.0, (cw / 2 + 5.0, -d / 2 - 0.75 * ap, jw + 2), 1.8, 8.0,
                          15.0, (-17.0, 8.0), (-11.0, 15.0))
    if upper.region == "T":
        return _FacetSpec(100.0, 20.0, (cw / 2 + 2.5, -d / 2 - 0.8 * ap, jw + 3), 1.5, 5.0, 11.0,
                          (-12.0, 6.0), (-7.0, 13.0))
    return _FacetSpec(90.0, 45.0, (cw / 2 + 5.5, -d / 2 - 0.45 * ap, jw), 1.5, 6.0, 12.0, (-9.0, 4.0), (-4.0, 9.0))


def _articular_processes(lower: _Level, upper: _Level) -> tuple[_Fast, _Fast]:
    """Right-sided superior articular process of ``lower`` and inferior one of ``upper`` (lower's frame)."""
    f = _facet_spec(lower, upper)
    a, b = np.radians(f.angle_deg), np.radians(f.incline_deg)
    n = np.array([np.cos(a) * np.cos(b), np.sin(a) * np.cos(b), -np.sin(b)])  # from inferior to superior process
    e1 = np.cross(n, [0.0, 0.0, 1.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(n, e1)
    e2 *= np.sign(e2[2])
    j = np.asarray(f.centre)
    axes = (tuple(n), tuple(e1), tuple(e2))

    def process(side: float, extent: tuple[float, float]) -> _OBox:
        centre = j + side * n * (f.gap / 2 + f.thick / 2) + e2 * (extent[0] + extent[1]) / 2
        return _OBox(tuple(centre), axes, (f.thick / 2, f.width / 2, (extent[1] - extent[0]) / 2), 2.0)

    return process(1.0, f.sap), process(-1.0, f.iap)


def _arch_parts(lv: _Level) -> list[_Fast]:
    """Right-sided pedicle, lamina and transverse process and the midline spinous process (local frame)."""
    d, ap, cw = lv.depth, lv.canal_ap, lv.canal_w
    px = cw / 2 + lv.pedicle_w / 2
    v_join = -d / 2 - 0.6 * ap
    # Pedicles join the upper two thirds of the body (lumbar a little lower than the rest).
    w_ped = lv.height / 2 - lv.pedicle_h / 2 - (3.0 if lv.region == "L" else 1.0)
    v0 = -d / 2 + 4.0  # the pedicle starts inside the back of the body
    pedicle = _rbox((px, (v0 + v_join) / 2, w_ped), (lv.pedicle_w / 2, (v0 - v_join) / 2 + 1.0, lv.pedicle_h / 2),
                    min(lv.pedicle_w, lv.pedicle_h) / 2 - 0.3)
    v_apex = -d / 2 - ap - lv.lamina_t / 2
    w_lam = {"L": -0.3, "T": -0.2, "C": -0.1}[lv.region] * lv.height + (w_ped if lv.region == "C" else 0.0) * 0.5
    # The laminae lean back from top to bottom, so their upper edges are the more anterior.
    lean = np.radians({"L": 15.0, "T": 25.0, "C": 20.0}[lv.region])
    lamina = _bar((px + 1.0, v_join - 1.0, w_lam), (0.0, v_apex, w_lam), (0, np.sin(lean), np.cos(lean)),
                  lv.lamina_h / 2, lv.lamina_t / 2, 1.5)
    s = np.radians(lv.spine_slope_deg)
    w_sp = w_lam + (lv.lamina_h / 2 - lv.spine_h / 2 - 1.0 if lv.region == "T" else 0.0)
    start = np.array([0.0, v_apex + 2.0, w_sp])
    end = start + lv.spine_len * np.array([0.0, -np.cos(s), -np.sin(s)])
    spinous = _bar(tuple(start), tuple(end), (0, np.sin(s), -np.cos(s)), lv.spine_h / 2, lv.spine_t / 2, 2.5)
    parts: list[_Fast] = [pedicle, lamina]
    if lv.region == "L":
        w_tp = w_ped - 1.0
        half_t = 4.5 if lv.name == "L5" else 2.8
        tp = _bar((px, v_join + 2.0, w_tp), (lv.tp_span / 2, v_join - 3.0, w_tp + 1.0), (0, 0, 1), 5.5, half_t, 2.5)
        parts.append(tp)
    elif lv.region == "T":
        tip = (lv.tp_span / 2 - 4.0, v_join - 14.0, w_ped + 1.0)
        parts.append(_Cap((px, v_join, w_ped), tip, 5.0, 6.0))
    else:
        tp = _bar((lv.width / 2 - 3.0, -d / 2 + 2.0, w_ped), (lv.tp_span / 2, -d / 2 - 1.0, w_ped - 1.0),
                   (0, 0, 1), 3.8, 3.0, 1.5)
        hole = _Cap((lv.width / 2 + 5.0, -d / 2 + 1.0, w_ped - 6.0), (lv.width / 2 + 5.0, -d / 2 + 1.0,
                       w_ped + 6.0), 2.8)
        parts.append(_Sub(tp, hole))
    return [_MirrorX(_Union(tuple(parts), 1.5)), spinous]


def _body(lv: _Level) -> _VertebralBody:
    """The vertebral body: kidney-shaped lumbar, heart-shaped thoracic, small and square cervical."""
    style = {"L": (1.5, 2.0, 3.0), "T": (1.0, 1.5, 2.0), "C": (0.5, 1.2, 3.0)}[lv.region]
    return _VertebralBody(lv.width, lv.depth, lv.height, lv.wedge_deg, *style)


@dataclass(frozen=True, eq=False)
class _Ring(_Fast):
    """Elliptic ring in the local axial plane (the atlas): centre v, semi-axes, half thickness, half height (mm)."""

    centre_v: float
    radii_mm: tuple[float, float]
    half_thick_mm: float
    half_height_mm: float

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        a, b = (F32(r) for r in self.radii_mm)
        radial = np.abs(_ellipse_distance(x, y - F32(self.centre_v), a, b)) - F32(self.half_thick_mm)
        return _combine(radial, np.abs(z) - F32(self.half_height_mm))

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.radii_mm
        t = self.half_thick_mm
        return (np.array([-a - t, self.centre_v - b - t, -self.half_height_mm]),
                np.array([a + t, self.centre_v + b + t, self.half_height_mm]))


def _atlas() -> list[_Fast]:
    """C1 in its frame (origin on the dens axis): anterior and posterior arches, lateral masses, processes."""
    ring = _Ring(-10.5, (21.0, 21.0), 3.6, 4.5)
    mass = _rbox((16.5, -3.0, 0.5), (6.5, 9.0, 8.5), 3.0)
    tp = _Cap((20.0, -6.0, 2.0), (36.0, -8.0, 2.0), 4.5, 4.0)
    hole = _Cap((26.0, -6.0, -6.0), (26.0, -6.0, 10.0), 3.0)
    tubercle = _Ell((0.0, -32.5, 0.0), (6.0, 4.0, 6.0))
    return [ring, _MirrorX(_Union((mass, _Sub(tp, hole)), 2.0)), tubercle]


def _axis_extras() -> list[_Fast]:
    """C2 beyond a generic vertebra: the dens and the broad superior articular surfaces (frame of C2)."""
    dens = _Cap((0.0, -1.0, 6.0), (0.0, -2.5, 32.0), 5.4, 4.4)
    facets = _MirrorX(_rbox((15.0, 0.0, 8.0), (7.0, 8.0, 4.0), 2.0))
    return [dens, facets]


@lru_cache(maxsize=1)
def _canal_knots() -> tuple[tuple[float, ...], ...]:
    """Bony canal knots (z, x, y, half width, half AP, triangularity), foramen magnum to the S1 endplate."""
    tri = {"L1": 0.1, "L2": 0.15, "L3": 0.2, "L4": 0.25, "L5": 0.3}
    rows = []
    for lv in levels():
        if lv.name == "C1":
            # Behind the dens and its transverse ligament: about 23 mm deep, 28 wide (Gray's).
            _, y, z = lv.world(0.0, -17.0, 0.0)
            rows.append((z + 25.0, 0.0, y - 3.0, 17.0, 17.0, 0.0))  # foramen magnum
            rows.append((z, 0.0, y, 14.0, 11.5, 0.1))
            continue
        y, z = _canal_centre(lv)
        t = tri.get(lv.name, 0.25 if lv.region == "C" else 0.0)
        rows.append((z, 0.0, y, lv.canal_w / 2, lv.canal_ap / 2, t))
    # Down to the S1 top, where the sacral canal (built with the sacrum) takes over.
    y, z = _sacral_canal_point(0.6)
    rows.append((z, 0.0, y, 13.5, 7.5, 0.3))
    rows.sort()
    return tuple(rows)


@lru_cache(maxsize=1)
def bony_canal() -> _ZTubes:
    """The vertebral canal as a solid (mm): what the vertebrae leave open between bodies and laminae."""
    return _ZTubes((_canal_knots(),))


@cache
def _vertebra(i: int) -> _Fast:
    """Vertebra ``i`` (0 = C1) in world coordinates (mm), canal carved out."""
    lvs = levels()
    lv = lvs[i]
    above = lvs[i - 1] if i > 0 else None
    below = lvs[i + 1] if i + 1 < len(lvs) else _s1_level()
    if lv.name == "C1":
        local: list[_Fast] = _atlas()
    else:
        local = [_body(lv), *_arch_parts(lv)]
        if lv.name == "C2":
            local += _axis_extras()
    parts: list[_Fast] = [lv.tilted(_Union(tuple(local), 2.0))]
    if above is not None and above.name != "C1":
        sap, _ = _articular_processes(lv, above)
        parts.append(lv.tilted(_MirrorX(sap)))
    if lv.name != "C1":
        _, iap = _articular_processes(below, lv)
        parts.append(below.tilted(_MirrorX(iap)))
    return _Sub(_Union(tuple(parts), 1.5), bony_canal())


DISC_WALL_MM = 1.5  # the structure's wall: the annulus as sampled (see _Disc)


def _stretch(d: np.ndarray, target_mm: float) -> np.ndarray:
    """Inside depths (mm) compressed so that a wall of DISC_WALL_MM reaches ``target_mm`` deep (never deeper
    than the true depth, so the sampler's inside test stays safe); the outermost 0.5 mm is unchanged."""
    knee = F32(0.5)
    k = F32(min(1.0, (DISC_WALL_MM - 0.5) / max(target_mm - 0.5, 1e-3)))
    return np.where(d < -knee, -knee + k * (d + knee), d)


@dataclass(frozen=True, eq=False)
class _Disc(_Fast):
    """Intervertebral disc filling the space between two endplates and bulging 1 mm past their margins.

    Depths inside are compressed so that the structure's thin wall (the annulus) reads as about 9 mm toward
    the rim and a fifth of the disc height toward the endplates: the nucleus is the T2-bright centre.
    """

    upper: _Level
    lower: _Level

    @cached_property
    def geometry(self) -> tuple[np.ndarray, float, float, float, float]:
        """Centre (mm), tilt (deg), width, depth and mid height (mm)."""
        c0, n0 = self.upper.endplate(superior=False)
        c1, n1 = self.lower.endplate(superior=True)
        axis = n1 - n0
        axis /= np.linalg.norm(axis)
        tilt = float(np.degrees(np.arctan2(axis[1], axis[2])))
        width = (self.upper.width + self.lower.width) / 2 + 1.0
        depth = (self.upper.depth + self.lower.depth) / 2 + 1.0
        return (c0 + c1) / 2, tilt, width, depth, float(np.dot(c0 - c1, -n0))

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        centre, tilt, width, depth, height = self.geometry
        section = _VertebralBody(width, depth, height, squareness=3.0 if self.lower.region == "L" else 2.0)
        t = np.radians(tilt)
        yy, zz = y - F32(centre[1]), z - F32(centre[2])
        radial = section.section(x, yy * F32(np.cos(t)) - zz * F32(np.sin(t)))
        slab = None
        for c, n in (self.upper.endplate(superior=False), self.lower.endplate(superior=True)):
            # Signed distance to an endplate, negative on the disc's side; 0.4 mm overlap with the bone.
            d = (y - F32(c[1])) * F32(-n[1]) + (z - F32(c[2])) * F32(-n[2]) - F32(0.4)
            slab = d if slab is None else np.maximum(slab, d)
        return _combine(_stretch(radial, 9.0), _stretch(slab, 0.2 * height))

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        centre, tilt, width, depth, height = self.geometry
        t = np.radians(tilt)
        reach = height / 2 + 4.0
        half = np.array([width / 2, depth / 2 * abs(np.cos(t)) + reach, depth / 2 * abs(np.sin(t)) + reach])
        return centre - half, centre + half


# --------------------------------------------------------------------------------------------------------
# Canal contents: thecal sac with CSF (epidural fat around it), cord to the conus, cauda equina.
# --------------------------------------------------------------------------------------------------------

SAC_END_Z = -20.0  # the dural sac ends at about S2 (typical); below S1 it lies in the sacral canal
CONUS_Z = 168.0  # conus medullaris at the L1-L2 disc (typical adult level)
EPIDURAL_WALL_MM = 2.0  # the canal structure's wall: epidural fat, at least 2 mm (see _Wrapped)
# Sacral canal (pelvis_bones uses the same numbers): body depth and canal depth behind the ventral midline
# at the promontory, S1/2 and S2/3 (mm; female S1 ~32 deep, canal ~15 x 28 at S1: PMC5799488, IJSS 2021).
_SACRAL_BODY_DEPTH = (31.0, 26.0, 21.0)
_SACRAL_CANAL_DEPTH = (15.0, 11.0, 8.0)


def _sacral_canal_point(k: float) -> tuple[float, float]:
    """World (y, z) mm in the anterior part of the sacral canal at ventral knot position ``k`` (0 = promontory,
    1 = S1/2, 2 = S2/3; fractions in between), following the ventral sacral curve."""
    yz = np.asarray(frame.SACRAL_VENTRAL_MIDLINE, float)
    chord = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(yz, axis=0), axis=1))]
    spline = CubicSpline(chord, yz, bc_type="natural")
    s = float(np.interp(k, np.arange(len(chord)), chord))
    t = spline(s, 1)
    t /= np.linalg.norm(t)
    n = np.array([t[1], -t[0]])  # posterior (and cranial) normal of the ventral surface
    n *= np.sign(-n[0])
    depth = np.interp(k, [0, 1, 2], _SACRAL_BODY_DEPTH) + 0.45 * np.interp(k, [0, 1, 2], _SACRAL_CANAL_DEPTH)
    y, z = spline(s) + depth * n
    return float(y), float(z)


@lru_cache(maxsize=1)
def _sac_knots() -> tuple[tuple[float, ...], ...]:
    """Thecal sac knots (z, x, y, half width, half AP, tri): the canal less the epidural space, down to S2."""
    rows = []
    for z, x, y, a, b, tri in _canal_knots():
        if z < 35.0:
            continue
        # Epidural fat: thin in the neck, a few mm behind the sac in the thoracic and lumbar canal, where the
        # sac lies forward against the back of the bodies (Gray's; typical MRI).
        lumbar = float(np.clip((250.0 - z) / 120.0, 0.0, 1.0))
        back = 1.0 + 3.0 * lumbar
        side = 1.2 + 3.0 * lumbar
        rows.append((z, x, y + back / 2, max(a - side, 5.0), max(b - (back + 0.8) / 2, 4.5), 0.6 * tri))
    for k, (a, b) in ((0.0, (7.0, 5.5)), (0.6, (6.0, 4.8)), (1.0, (5.0, 4.2)), (2.0, (3.2, 2.8))):
        y, z = _sacral_canal_point(k)
        rows.append((z, 0.0, y, a, b, 0.0))
    # The sac tapers to its end at about S2.
    (y1, z1), (y2, z2) = _sacral_canal_point(1.0), _sacral_canal_point(2.0)
    rows.append((SAC_END_Z, 0.0, y2 + (SAC_END_Z - z2) * (y2 - y1) / (z2 - z1), 2.0, 1.8, 0.0))
    rows.sort()
    return tuple(rows)


@lru_cache(maxsize=1)
def _cord_knots() -> tuple[tuple[float, ...], ...]:
    """Spinal cord knots: cervical enlargement (C5-C6), thoracic cord, lumbar enlargement, conus to L1-L2."""
    rows = []
    sac = np.asarray(_sac_knots())
    for z in np.arange(CONUS_Z, 632.0, 12.0):
        y = float(np.interp(z, sac[:, 0], sac[:, 2]))
        # Widths (mm): 13 at C5-C6, 9 thoracic, 10 at T11-T12, tapering over the conus (typical MRI).
        w = np.interp(z, [CONUS_Z, 185, 215, 260, 420, 470, 515, 560, 630], [1.5, 6.0, 10.0, 9.0, 8.5, 10.0, 13.0,
                                                                          12.0, 12.0])
        ap = np.interp(z, [CONUS_Z, 185, 215, 260, 470, 515, 630], [1.5, 5.5, 8.0, 7.0, 7.0, 8.0, 8.5])
        rows.append((float(z), 0.0, y - 0.5, w / 2, ap / 2, 0.0))
    return tuple(rows)


@lru_cache(maxsize=1)
def _cauda_knots() -> tuple[tuple[tuple[float, ...], ...], ...]:
    """Roots of the cauda equina (mm): from the conus down the sac, lying back in it (the patient is supine),
    moving outward before they leave, each in a loose bundle; the lowest reach the end of the sac."""
    sac = np.asarray(_sac_knots())
    roots = []
    # (x offset at the exit, exit height, y offset) per root: L2-L5 and S1-S3 on each side.
    exits = [(6.0, 128.0, -2.0), (6.5, 92.0, -2.5), (6.0, 55.0, -3.0), (5.0, 25.0, -2.5), (4.0, 5.0, -2.0),
             (2.5, -10.0, -1.0), (1.2, SAC_END_Z + 2.0, -0.5)]
    for side in (1.0, -1.0):
        for i, (xe, ze, ye) in enumerate(exits):
            rows = []
            for z in np.linspace(CONUS_Z + 4.0, ze, 9):
                y = float(np.interp(z, sac[:, 0], sac[:, 2]))
                b = float(np.interp(z, sac[:, 0], sac[:, 4]))
                f = (CONUS_Z + 4.0 - z) / (CONUS_Z + 4.0 - ze)
                # Lie back (posterior) in the sac, fanning out toward the exit.
                x = side * (0.6 + 0.5 * i + (xe - 0.6 - 0.5 * i) * f**2)
                yy = y - min(0.55 * b, 4.0) + (ye + 2.0) * f**2 * 0.3
                rows.append((float(z), x, yy, 0.85, 0.85, 0.0))
            roots.append(tuple(rows[::-1]))
    return tuple(roots)


@lru_cache(maxsize=1)
def _exiting_root_knots() -> tuple[tuple[tuple[float, ...], ...], ...]:
    """Lumbar roots L1-L5 leaving the sac: each runs down and out under its pedicle, through the upper part
    of the intervertebral foramen (ringed by fat), toward the psoas (mm; the root with its ganglion ~5 mm)."""
    sac = np.asarray(_sac_knots())
    roots = []
    for name in ("L1", "L2", "L3", "L4", "L5"):
        lv = level(name)
        px = lv.canal_w / 2 + lv.pedicle_w / 2
        w_ped = lv.height / 2 - lv.pedicle_h / 2 - 3.0
        _, yf, zf = lv.world(px, -lv.depth / 2 - 4.0, w_ped - lv.pedicle_h / 2 - 4.5)
        z0 = zf + 16.0
        y0 = float(np.interp(z0, sac[:, 0], sac[:, 2]))
        a0 = float(np.interp(z0, sac[:, 0], sac[:, 3]))
        for side in (1.0, -1.0):
            roots.append(((zf - 14.0, side * (px + 16.0), yf + 8.0, 2.2, 2.2, 0.0),
                          (zf, side * px, yf, 2.6, 2.6, 0.0),
                          (z0, side * (a0 - 2.5), y0, 1.2, 1.2, 0.0)))
    return tuple(roots)


def _canal_structures() -> list[Structure]:
    """Epidural fat, the thecal sac with CSF, spinal cord, cauda equina.

    The fat and the sac are separate labels so that a region of interest on "CSF" measures fluid only."""
    canal = _Wrapped(bony_canal(), _ZTubes((_sac_knots(),)), EPIDURAL_WALL_MM)
    return [
        Structure("epidural_fat", LABELS["epidural_fat"], canal, TISSUES["fat"], "content",
                  location="epidural space of the spinal canal"),
        Structure("spinal_canal_csf", LABELS["spinal_canal_csf"], Offset(canal, -EPIDURAL_WALL_MM),
                  TISSUES["csf"], "content", location="thecal sac"),
        Structure("spinal_cord", LABELS["spinal_cord"], _ZTubes((_cord_knots(),)), TISSUES["neural"], "content",
                  location="spinal cord"),
        Structure("cauda_equina", LABELS["cauda_equina"], _ZTubes(_cauda_knots() + _exiting_root_knots()),
                  TISSUES["neural"], "content", location="cauda equina and exiting lumbar roots"),
    ]


def _column_structures() -> list[Structure]:
    """Vertebrae (cervical, thoracic and lumbar groups, each sampled over its own box), discs, canal."""
    bone, cortex = TISSUES["cancellous_bone"], TISSUES["cortical_bone"]
    out = []
    for region, where in (("C", "cervical spine"), ("T", "thoracic spine"), ("L", "lumbar spine")):
        group = tuple(_vertebra(i) for i, lv in enumerate(levels()) if lv.region == region)
        out.append(Structure("vertebrae", LABELS["vertebrae"], _Stack(group), bone, "bone", CORTEX_MM, cortex,
                             location=where))
    pairs = [*zip(levels()[1:-1], levels()[2:], strict=True), (levels()[-1], _s1_level())]
    out += [
        Structure("intervertebral_discs", LABELS["intervertebral_discs"], _Disc(a, b), TISSUES["nucleus_pulposus"],
                  "content", DISC_WALL_MM, TISSUES["annulus"], location=f"{a.name}-{b.name} disc")
        for a, b in pairs
    ]
    return out


# --------------------------------------------------------------------------------------------------------
# Chest wall skeleton: ribs and costal cartilages, sternum, clavicles, scapulae.
# --------------------------------------------------------------------------------------------------------

# The chest wall (thorax module): subcutaneous fat, then 20 mm of muscle and ribs to the pleura, plus up to
# 30 mm of erector spinae beside the spine. Ribs sit with their centre 5 mm outside the pleura (mid-rib
# section about 13 x 6 mm, PMID 31225915), i.e. 22-27 mm under the skin over most of the chest.
_CHEST_WALL_MM = 20.0
_PARASPINAL_MM = 30.0
RIB_POLAR_CENTRE_Y = 15.0  # axis (x = 0, y) that the ribs' azimuth is measured around (mm)


@lru_cache(maxsize=1)
def _outline_spline() -> CubicSpline:
    """The trunk outline (half-width, half-depth, y centre) as a function of z (mm)."""
    k = np.asarray(frame.BODY_KNOTS, float)
    return CubicSpline(k[:, 0], k[:, 1:], bc_type="natural")


def _outline_depth(x: np.ndarray, y: np.ndarray, sec: np.ndarray) -> np.ndarray:
    """Depth (mm) of points below the skin (positive inside), first-order superellipse distance; ``sec`` holds
    the outline's (half-width, half-depth, y centre) at the points' heights."""
    rx, ry, cy = np.moveaxis(sec, -1, 0)
    e = frame.BODY_SQUARENESS
    u, v = np.abs(x) / rx + 1e-9, np.abs(y - cy) / ry + 1e-9
    rho = (u**e + v**e) ** (1 / e)
    grad = rho ** (1 - e) * np.hypot(u ** (e - 1) / rx, v ** (e - 1) / ry)
    return -(rho - 1.0) / grad


def _rib_depth(x: np.ndarray, y: np.ndarray, sec: np.ndarray, fat: np.ndarray) -> np.ndarray:
    """Depth (mm) of a rib's centre line under the skin: 5 mm outside the pleura of the thorax module. ``fat``
    holds the subcutaneous fat (front, flank, back) at the points' heights."""
    rx, ry, cy = np.moveaxis(sec, -1, 0)
    front, flank, back = np.moveaxis(fat, -1, 0)
    u, v = x / rx, (y - cy) / ry
    c = v / np.sqrt(u * u + v * v + 1e-9)
    # Fat thickens toward the front or back as the thorax module has it; the erector spinae lies beside the spine.
    fat_mm = flank + (front - flank) * np.maximum(c, 0) ** 2 + (back - flank) * np.maximum(-c, 0) ** 2
    paraspinal = _PARASPINAL_MM * np.exp(-((x / 45.0) ** 2)) * np.maximum(-c, 0)
    return fat_mm + _CHEST_WALL_MM + paraspinal - 5.0


def _fat_profile(z: np.ndarray) -> np.ndarray:
    """Subcutaneous fat (mm) in front, at the flank and at the back of the chest at height z (thorax module)."""
    front = np.interp(z, [180.0, 250.0, 300.0, 470.0, 515.0], [20.0, 18.0, 12.0, 12.0, 8.0])
    flank = np.interp(z, [100.0, 250.0, 300.0, 470.0, 515.0], [18.0, 15.0, 12.0, 12.0, 8.0])
    back = np.interp(z, [470.0, 515.0], [12.0, 10.0])
    return np.stack([front, flank, back], axis=-1)


def _inset_radius(theta: np.ndarray, z: np.ndarray, depth: np.ndarray | None = None) -> np.ndarray:
    """Distance (mm) from the rib axis along azimuth theta (rad, 0 = straight back) to the point at ``depth``
    under the skin (default: the rib depth), by bisection."""
    theta, z = np.broadcast_arrays(np.asarray(theta, float), np.asarray(z, float))
    sec, fat = _outline_spline()(z), _fat_profile(z)
    sn, cs = np.sin(theta), np.cos(theta)
    lo, hi = np.zeros(theta.shape), np.full(theta.shape, 300.0)
    for _ in range(30):
        r = (lo + hi) / 2
        x, y = r * sn, RIB_POLAR_CENTRE_Y - r * cs
        target = _rib_depth(x, y, sec, fat) if depth is None else depth
        inside = _outline_depth(x, y, sec) > target
        lo, hi = np.where(inside, r, lo), np.where(inside, hi, r)
    return (lo + hi) / 2


_RIB_STEP_DEG = 0.25  # azimuth step of the rib tables
_RIB_ROWS = round(180.0 / _RIB_STEP_DEG) + 1
_RIB_WINDOWS_DEG = (30.0, 90.0)  # azimuth windows of the lower bound in _RibCage
_RIB_MIN_RADIUS_MM = 42.0  # every rib and cartilage keeps at least this far from the rib axis


@dataclass(frozen=True, eq=False)
class _RibCage(_Fast):
    """Right-sided tubes of elliptic section winding around the vertical rib axis (ribs or costal cartilages),
    each tabulated by azimuth, mirrored to the left; optional straight necks (capsules).

    Each table has a row per azimuth step from 0 to 180 deg (straight back to straight ahead): centre (3),
    unit tangent (3), section axes e1, e2 (3 + 3), semi-axes (2) and an end flag (-1 before the first
    sample, +1 after the last, else 0), mm. A point is measured against the row at its own azimuth: the
    distance to that row's tangent line in the section's axes, exact for a straight piece and close for a
    curved one; beyond the ends the tube is cut flat. A point is skipped for a tube when a lower bound says
    it is far: within a window of azimuth the tube's centre stays between known heights, and beyond it the
    tube is at least 42 mm x sin(window) away (every tube here keeps at least 42 mm from the axis).
    """

    tables: tuple[np.ndarray, ...]
    necks: tuple[_Cap, ...] = ()

    _Z_STEP = 3.0  # height step (mm) of the look-up of candidate tubes

    @cached_property
    def lookup(self) -> dict:
        """Per pad (mm): for each azimuth row and height bin, a bit mask of the tubes that may lie within the
        pad, and a lower bound of the distance to all the others; under "rho", per tube, the least and
        greatest distance of its centre line from the axis within the widest window of each row."""
        zb = self._z_bins()
        out = {}
        for pad in _PAD_MM.values():
            deg = min(w for w in _RIB_WINDOWS_DEG if _RIB_MIN_RADIUS_MM * np.sin(np.radians(w)) - 8.0 > pad
                      or w == max(_RIB_WINDOWS_DEG))
            reach = _RIB_MIN_RADIUS_MM * np.sin(np.radians(deg))
            size = 2 * round(deg / _RIB_STEP_DEG) + 1
            mask = np.zeros((_RIB_ROWS, len(zb)), np.uint16)
            lower = np.full((_RIB_ROWS, len(zb)), 1e4, np.float32)
            for k, t in enumerate(self.tables):
                zlo = minimum_filter1d(t[:, 2], size, mode="nearest")[:, None]
                zhi = maximum_filter1d(t[:, 2], size, mode="nearest")[:, None]
                gap = np.maximum(np.maximum(zlo - zb[None, :], zb[None, :] - zhi) - self._Z_STEP / 2, 0.0)
                bound = np.minimum(gap, reach) - float(t[:, 12:14].max())
                near = bound < pad
                mask[near] |= np.uint16(1 << k)
                lower = np.where(near, lower, np.minimum(lower, bound)).astype(np.float32)
            out[pad] = (mask, lower)
        for t in self.tables:
            rho = np.hypot(t[:, 0], RIB_POLAR_CENTRE_Y - t[:, 1])
            size = 2 * round(max(_RIB_WINDOWS_DEG) / _RIB_STEP_DEG) + 1
            out.setdefault("rho", []).append(np.stack([minimum_filter1d(rho, size, mode="nearest"),
                                                       maximum_filter1d(rho, size, mode="nearest")]).astype(np.float32))
        return out

    def _z_bins(self) -> np.ndarray:
        lo, hi = self.box
        return np.arange(lo[2] - 40.0, hi[2] + 40.0, self._Z_STEP)

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        ax = np.abs(x)
        theta = np.arctan2(ax, F32(RIB_POLAR_CENTRE_Y) - y)  # 0 to pi, since ax >= 0
        i = (theta * F32(1 / np.radians(_RIB_STEP_DEG)) + F32(0.5)).astype(np.int32)
        zb = self._z_bins()
        j = (np.clip((z - F32(zb[0])) * F32(1 / self._Z_STEP), 0, len(zb) - 1) + F32(0.5)).astype(np.int32)
        np.minimum(j, len(zb) - 1, out=j)
        pad = _pad(len(x), 0.0)
        mask_table, lower = self.lookup[pad]
        flat = i * np.int32(len(zb)) + j
        # Beyond the height bins the distance in z to the bins' range is also a bound.
        d = np.maximum(np.take(lower, flat), np.maximum(F32(zb[0]) - z, z - F32(zb[-1])))
        mask = np.take(mask_table, flat)
        cand = np.flatnonzero(mask)
        if len(cand):
            mask, ic, xc, yc, zc = mask[cand], i[cand], ax[cand], y[cand], z[cand]
            rho = np.sqrt(xc * xc + (F32(RIB_POLAR_CENTRE_Y) - yc) ** 2)
            dc = d[cand]
            for k, table in enumerate(self.tables):
                sel = np.flatnonzero(mask & np.uint16(1 << k))
                if not len(sel):
                    continue
                # Horizontal distance is at least the difference of distances from the axis: a tighter bound.
                lo, hi = self.lookup["rho"][k]
                isel = ic[sel]
                gap = np.maximum(np.maximum(lo[isel] - rho[sel], rho[sel] - hi[isel]), 0.0)
                bound = gap - F32(table[:, 12:14].max())
                far = bound >= F32(pad)
                dc[sel[far]] = np.minimum(dc[sel[far]], bound[far])
                near = sel[~far]
                if len(near):
                    dc[near] = np.minimum(dc[near], self._tube(table, ic[near], xc[near], yc[near], zc[near]))
            d[cand] = dc
        if self.necks:
            reach = max(float(n.box[1][0]) for n in self.necks) + pad
            near = np.flatnonzero(ax < F32(reach))
            xn, yn, zn, dn = ax[near], y[near], z[near], d[near]
            for neck in self.necks:
                lo, hi = neck.box
                sel = np.flatnonzero((zn > lo[2] - F32(pad)) & (zn < hi[2] + F32(pad)))
                if len(sel):
                    dn[sel] = np.minimum(dn[sel], _gated(neck, xn[sel], yn[sel], zn[sel], 4.0))
            d[near] = dn
        return d

    @staticmethod
    def _tube(table: np.ndarray, i: Arr, x: Arr, y: Arr, z: Arr) -> Arr:
        r = np.take(table, i, axis=0)
        ox, oy, oz = x - r[:, 0], y - r[:, 1], z - r[:, 2]
        at = ox * r[:, 3] + oy * r[:, 4] + oz * r[:, 5]
        a1 = ox * r[:, 6] + oy * r[:, 7] + oz * r[:, 8]
        a2 = ox * r[:, 9] + oy * r[:, 10] + oz * r[:, 11]
        axial = np.where(r[:, 14] != 0, at * r[:, 14], F32(-1e3))
        d = _combine(_ellipse_distance(a1, a2, r[:, 12], r[:, 13]), axial)
        # Far from the tube the row at the same azimuth need not hold the nearest point: stay on the safe side.
        return np.where(d > 6.0, F32(6.0) + F32(0.8) * (d - F32(6.0)), d)

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
        for t in self.tables:
            c, s = t[:, :3], t[:, 12:14].max(axis=1, keepdims=True)
            lo, hi = np.minimum(lo, (c - s).min(axis=0)), np.maximum(hi, (c + s).max(axis=0))
        for neck in self.necks:
            lo, hi = np.minimum(lo, neck.box[0]), np.maximum(hi, neck.box[1])
        return np.array([-hi[0], lo[1], lo[2]]), hi


def _polar_table(theta: np.ndarray, rho: np.ndarray, z: np.ndarray, semi: np.ndarray,
                 twist_deg: np.ndarray) -> np.ndarray:
    """A _RibCage table from a curve sampled at azimuths theta (rad, ascending), radii rho and heights z (mm),
    with section semi-axes (n, 2) mm and twist (deg) of the section about the curve."""
    pts = np.column_stack([rho * np.sin(theta), RIB_POLAR_CENTRE_Y - rho * np.cos(theta), z])
    t = np.gradient(pts, axis=0)
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    radial = np.column_stack([np.sin(theta), -np.cos(theta), np.zeros_like(theta)])
    e1 = radial - (radial * t).sum(axis=1, keepdims=True) * t
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    e2 = np.cross(t, e1)
    e2 *= np.sign(e2[:, 2:3] + 1e-9)
    g = np.radians(twist_deg)[:, None]
    e1, e2 = np.cos(g) * e1 + np.sin(g) * e2, -np.sin(g) * e1 + np.cos(g) * e2
    rows = np.column_stack([pts, t, e1, e2, semi, np.zeros(len(theta))])
    # Resample on the common azimuth grid; before the first and after the last sample, the end rows.
    grid = np.radians(np.arange(_RIB_ROWS) * _RIB_STEP_DEG)
    j = np.clip(np.searchsorted(theta, grid), 0, len(theta) - 1)
    table = rows[j].copy()
    table[grid <= theta[0] + np.radians(_RIB_STEP_DEG), 14] = -1.0
    table[grid >= theta[-1] - np.radians(_RIB_STEP_DEG), 14] = 1.0
    return table.astype(np.float32)


@dataclass(frozen=True)
class _RibSpec:
    """One rib: costochondral junction (x, z) and where its cartilage ends (x, y, z), mm; section twist (deg)."""

    n: int
    ccj_x: float
    ccj_z: float
    end: tuple[float, float, float] | None
    twist_deg: float = 0.0


def _sternum_point(z: float) -> tuple[float, float]:
    """Front-back position y (mm) of the sternum's mid-plane and its half-width at height z (mm)."""
    y = float(np.interp(z, [_XIPHI[2], _ANGLE[2], _NOTCH[2]], [_XIPHI[1], _ANGLE[1], _NOTCH[1]]))
    half = float(np.interp(z, [_XIPHI[2], 320.0, 350.0, _ANGLE[2] - 3, _ANGLE[2] + 3, 415.0, _NOTCH[2]],
                           [10.0, 14.0, 15.5, 12.5, 15.0, 24.0, 26.0]))
    return y, half


# Sternum of a woman: body 88 mm, manubrium 48 mm, angle 160 deg (bibliomed.org mno=16478); the xiphisternal
# joint at the frame's landmark but 5 mm deeper (its mid-plane; the landmark lies on the front surface).
_XIPHI: Vec3 = (0.0, frame.LANDMARKS["xiphisternal_joint"][1] - 5.0, frame.LANDMARKS["xiphisternal_joint"][2])
_BODY_LEAN_DEG, _MANUBRIUM_LEAN_DEG = 5.0, 25.0  # from vertical, top backward: 180 - (25 - 5) = 160 deg
_ANGLE: Vec3 = (0.0, _XIPHI[1] - 88.0 * np.sin(np.radians(_BODY_LEAN_DEG)),
                _XIPHI[2] + 88.0 * np.cos(np.radians(_BODY_LEAN_DEG)))
_NOTCH: Vec3 = (0.0, _ANGLE[1] - 48.0 * np.sin(np.radians(_MANUBRIUM_LEAN_DEG)),
                _ANGLE[2] + 48.0 * np.cos(np.radians(_MANUBRIUM_LEAN_DEG)))
# Costal cartilages meet the sternum: 1st below the clavicular notch, 2nd at the sternal angle, 3rd-6th along
# the body, 7th at the xiphisternal joint; 8th-10th join the cartilage above (costal margin); 11-12 float.
_STERNAL_Z = {1: _NOTCH[2] - 12.0, 2: _ANGLE[2], 3: _ANGLE[2] - 19.0, 4: _ANGLE[2] - 37.0, 5: _ANGLE[2] - 55.0,
              6: _ANGLE[2] - 71.0, 7: _XIPHI[2] + 3.0}
_RIB_SPECS = (
    _RibSpec(1, 42.0, 430.0, None, 75.0),
    _RibSpec(2, 55.0, 392.0, None, 35.0),
    _RibSpec(3, 65.0, 366.0, None, 10.0),
    _RibSpec(4, 75.0, 342.0, None),
    _RibSpec(5, 85.0, 318.0, None),
    _RibSpec(6, 93.0, 294.0, None),
    _RibSpec(7, 100.0, 268.0, None),
    _RibSpec(8, 102.0, 245.0, None),
    _RibSpec(9, 104.0, 224.0, None),
    _RibSpec(10, 106.0, 205.0, None),
    _RibSpec(11, 0.0, 200.0, None),
    _RibSpec(12, 0.0, 190.0, None),
)
# Largest distance (mm) of the upper ribs' centre lines from the midline: the cage narrows to the thoracic
# inlet, far inside the shoulders (arms raised), but stays outside the thorax module's lung apices.
_RIB_MAX_X = {1: 88.0, 2: 108.0, 3: 116.0}
# Azimuth (deg from straight back) where the floating ribs end: 11th anterolateral, 12th posterolateral.
_FLOATING_END_DEG = {11: 112.0, 12: 82.0}


@cache
def _rib_curve(n: int) -> dict[str, np.ndarray | Vec3]:
    """Right rib ``n``: head and tubercle (mm) and its shaft (and cartilage) sampled by azimuth."""
    spec = _RIB_SPECS[n - 1]
    lv = level(f"T{n}")
    d, ap = lv.depth, lv.canal_ap
    v_join = -d / 2 - 0.6 * ap
    w_ped = lv.height / 2 - lv.pedicle_h / 2 - 1.0
    # Heads 2-10 meet the disc and both bodies above and below it; 1, 11 and 12 their own body only (lower
    # for 11 and 12, which have no joint with a transverse process).
    head_w = {1: lv.height / 2 - 4.0, 11: -1.0, 12: -3.0}.get(n, lv.height / 2 - 2.0)
    head = lv.world(lv.width / 2 + 1.5, -d / 2 + 6.0, head_w)
    if n <= 10:
        tubercle = lv.world(lv.tp_span / 2 - 5.0, v_join - 5.0, w_ped + 1.0)
    else:
        tubercle = lv.world(lv.width / 2 + 14.0, -d / 2 - 6.0, head_w - 5.0)
    tx, ty, tz = tubercle
    th_t = float(np.arctan2(tx, RIB_POLAR_CENTRE_Y - ty))
    rho_t = float(np.hypot(tx, RIB_POLAR_CENTRE_Y - ty))
    # The angle of the rib lies 2-5 cm beyond the tubercle (further in the lower ribs); then the rib sweeps
    # round the chest, falling about 30 deg in front, to the costochondral junction.
    th_angle = th_t + np.radians(7.0 + 0.5 * n)
    if n >= 11:
        th_end = np.radians(_FLOATING_END_DEG[n])
    else:
        # Solve for the azimuth in front where the rib reaches the junction's distance from the midline.
        ths = np.radians(np.arange(95.0, 178.0, 0.25))
        xs = _inset_radius(ths, np.full(ths.shape, spec.ccj_z)) * np.sin(ths)
        th_end = float(ths[np.argmin(np.abs(xs - spec.ccj_x))])
    z_angle = tz - 3.0
    z_end = spec.ccj_z if n <= 10 else tz - (45.0 if n == 11 else 30.0)
    ths = np.linspace(th_angle, th_end, 40)
    f = (ths - th_angle) / (th_end - th_angle)
    zs = z_angle - (z_angle - z_end) * f**1.25
    rhos = _inset_radius(ths, zs)
    if n in _RIB_MAX_X:
        # The upper ribs form the narrow cone of the thoracic inlet, far inside the shoulders (arms up): each
        # stays within an ellipse from behind the spine to the sternum, _RIB_MAX_X wide.
        y_back = float((RIB_POLAR_CENTRE_Y - rhos * np.cos(ths)).min()) - 15.0  # behind the rib's angle
        y_front = _sternum_point(_STERNAL_Z.get(n, spec.ccj_z))[0] + 5.0
        yc, b, a = (y_back + y_front) / 2, (y_front - y_back) / 2, _RIB_MAX_X[n]
        sn, cs = np.sin(ths), -np.cos(ths)  # ray direction (x, y) from the rib axis
        qa = (sn / a) ** 2 + (cs / b) ** 2
        qb = 2 * cs * (RIB_POLAR_CENTRE_Y - yc) / b**2
        qc = ((RIB_POLAR_CENTRE_Y - yc) / b) ** 2 - 1.0
        cap = (-qb + np.sqrt(np.maximum(qb * qb - 4 * qa * qc, 0.0))) / (2 * qa)
        rhos = -6.0 * np.logaddexp(-rhos / 6.0, -cap / 6.0)
    key_th = np.r_[th_t, ths]
    key_rho = np.r_[rho_t, rhos]
    key_z = np.r_[tz, zs]
    cart = None
    if n <= 7:
        zs_ = _STERNAL_Z[n]
        ys_, half = _sternum_point(zs_)
        end = (half - 2.0, ys_, zs_)
        cart = end
    elif n <= 10:
        # Costal margin: the cartilage turns up and in to join the one above.
        above = _rib_curve(n - 1)
        cth, crho, cz = above["cart_theta"], above["cart_rho"], above["cart_z"]
        j = int(len(cth) * 0.45)
        end = (crho[j] * np.sin(cth[j]), RIB_POLAR_CENTRE_Y - crho[j] * np.cos(cth[j]), cz[j] - 2.0)
        cart = end
    step = np.radians(_RIB_STEP_DEG)
    # The shaft is tabulated by azimuth from the angle on, where it runs round the chest; from the tubercle
    # to the angle it runs nearly straight out and back, a segment of its own.
    th_fine = np.arange(th_angle, th_end, step)
    rho_fine = PchipInterpolator(key_th, key_rho)(th_fine)
    z_fine = PchipInterpolator(key_th, key_z)(th_fine)
    angle = (float(rho_fine[0] * np.sin(th_fine[0])), float(RIB_POLAR_CENTRE_Y - rho_fine[0] * np.cos(th_fine[0])),
             float(z_fine[0]))
    out: dict[str, np.ndarray | Vec3] = {"head": head, "tubercle": tubercle, "angle": angle}
    out.update(theta=th_fine, rho=rho_fine, z=z_fine)
    if cart is not None:
        ex, ey, ez = cart
        th_c = float(np.arctan2(ex, RIB_POLAR_CENTRE_Y - ey))
        rho_c = float(np.hypot(ex, RIB_POLAR_CENTRE_Y - ey))
        # From the junction the cartilage keeps the rib's direction, then turns to its end.
        k_th = np.r_[th_fine[-8], th_fine[-1], th_c]
        k_rho = np.r_[rho_fine[-8], rho_fine[-1], rho_c]
        k_z = np.r_[z_fine[-8], z_fine[-1], ez]
        cth = np.arange(th_fine[-1], th_c, step)
        out.update(cart_theta=cth, cart_rho=PchipInterpolator(k_th, k_rho)(cth), cart_z=PchipInterpolator(k_th, k_z)(cth))
    return out


def _rib_table(n: int) -> np.ndarray:
    """Table of the right rib ``n``'s shaft, from the tubercle to the costochondral junction (or its tip)."""
    c = _rib_curve(n)
    theta, rho, z = c["theta"], c["rho"], c["z"]
    f = (theta - theta[0]) / (theta[-1] - theta[0])
    # Section: round at the angle, flat (13 x 6 mm) along the shaft, a little broader in front; the floating
    # ribs are slender.
    thick = np.interp(f, [0.0, 0.1, 0.6, 1.0], [4.0, 3.2, 3.0, 2.8])
    height = np.interp(f, [0.0, 0.1, 0.6, 1.0], [4.0, 6.0, 6.5, 7.0])
    if n >= 11:
        thick, height = thick * 0.85, height * 0.8
    twist = np.full(theta.shape, _RIB_SPECS[n - 1].twist_deg)
    return _polar_table(theta, rho, z, np.column_stack([thick, height]), twist)


@lru_cache(maxsize=1)
def _ribs() -> _RibCage:
    """All 24 ribs (mm): necks from the heads to the tubercles, shafts round to the front, mirrored."""
    necks = tuple(part for n in range(1, 13) for part in (
        _Cap(_rib_curve(n)["head"], _rib_curve(n)["tubercle"], 5.0, 4.5),
        _Cap(_rib_curve(n)["tubercle"], _rib_curve(n)["angle"], 4.5, 4.0)))
    return _RibCage(tuple(_rib_table(n) for n in range(1, 13)), necks)


@lru_cache(maxsize=1)
def _cartilages() -> _RibCage:
    """Costal cartilages 1-10 (mm), from the costochondral junctions to the sternum or the costal margin."""
    tables = []
    for n in range(1, 11):
        c = _rib_curve(n)
        theta, rho, z = c["cart_theta"], c["cart_rho"], c["cart_z"]
        f = (theta - theta[0]) / (theta[-1] - theta[0])
        semi = np.column_stack([np.interp(f, [0, 1], [3.0, 3.5]), np.interp(f, [0, 1], [6.5, 5.0])])
        tables.append(_polar_table(theta, rho, z, semi, np.full(theta.shape, _RIB_SPECS[n - 1].twist_deg)))
    return _RibCage(tuple(tables))


@dataclass(frozen=True, eq=False)
class _Plate(_Fast):
    """Flat bone in a local frame (origin, tilt toward anterior in deg): from w0 to w1 along local z, half
    thickness along local y, half-width along x varying with w (knots), edges rounded (mm)."""

    w_range: tuple[float, float]
    half_thick_mm: float
    width_knots: tuple[tuple[float, float], ...]
    radius_mm: float = 2.0

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        k = np.asarray(self.width_knots, np.float32)
        half = np.interp(z, k[:, 0], k[:, 1]).astype(np.float32)
        w0, w1 = (F32(v) for v in self.w_range)
        r = F32(self.radius_mm)
        in_plane = np.maximum(np.abs(x) - half, np.maximum(w0 - z, z - w1))
        return _combine(in_plane + r, np.abs(y) - F32(self.half_thick_mm) + r) - r

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        h = max(v for _, v in self.width_knots)
        return (np.array([-h, -self.half_thick_mm, self.w_range[0]]),
                np.array([h, self.half_thick_mm, self.w_range[1]]))


@lru_cache(maxsize=1)
def _sternum() -> _Fast:
    """Manubrium, body and xiphoid process (mm), with a 1.5 mm manubriosternal joint between the first two."""
    manubrium = _Tilted(_Plate((0.8, 48.0), 6.0, ((0.0, 15.0), (8.0, 16.0), (30.0, 24.0), (42.0, 26.0), (48.0, 21.0)),
                               3.0), _ANGLE, -_MANUBRIUM_LEAN_DEG)
    body = _Tilted(_Plate((0.0, 87.2), 4.5, ((0.0, 10.5), (15.0, 13.5), (38.0, 15.5), (62.0, 14.5), (80.0, 12.5),
                                             (87.2, 13.0)), 2.5), _XIPHI, -_BODY_LEAN_DEG)
    xiphoid = _Tilted(_Plate((-28.0, 1.0), 2.5, ((-28.0, 3.0), (-12.0, 8.0), (1.0, 9.5)), 1.5), _XIPHI, 12.0)
    return _Union((manubrium, body, xiphoid), 0.0)


# Clavicle, right (mm): from the sternoclavicular joint on the manubrium, forward-convex medially and
# concave laterally, to the acromion; about 13 cm (typical 14 cm; arms raised lift its lateral end).
_CLAVICLE = ((28.0, _NOTCH[1] + 3.0, _NOTCH[2] + 2.0, 9.0), (58.0, _NOTCH[1] + 2.0, _NOTCH[2] + 10.0, 6.5),
             (85.0, _NOTCH[1] - 12.0, _NOTCH[2] + 19.0, 6.0), (108.0, _NOTCH[1] - 31.0, _NOTCH[2] + 27.0, 6.0),
             (122.0, _NOTCH[1] - 49.0, _NOTCH[2] + 32.0, 6.5), (128.0, _NOTCH[1] - 60.0, _NOTCH[2] + 34.0, 7.0))


@lru_cache(maxsize=1)
def _clavicles() -> _Fast:
    """Both clavicles (mm): a chain of tapered segments, mirrored."""
    segs = tuple(_Cap(a[:3], b[:3], a[3], b[3]) for a, b in pairwise(_CLAVICLE))
    return _MirrorX(_Union(segs, 4.0))


@dataclass(frozen=True, eq=False)
class _ScapularBlade(_Fast):
    """Right scapular blade (mm): a thin plate at a set depth under the skin of the back, within a triangle
    (superior, inferior and lateral angles, given as (x, z)), following the curve of the chest wall."""

    corners: tuple[tuple[float, float], ...]
    depth_mm: float
    half_thick_mm: float
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    _TH = (5.0, 120.0, 1.0)  # azimuth table (deg): start, stop, step
    _Z = (320.0, 500.0, 2.0)

    def _table(self) -> np.ndarray:
        if "r" not in self._cache:
            th = np.radians(np.arange(*self._TH))
            z = np.arange(*self._Z)
            tt, zz = np.meshgrid(th, z, indexing="ij")
            self._cache["r"] = _inset_radius(tt, zz, np.full(tt.shape, self.depth_mm)).astype(np.float32)
        return self._cache["r"]

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        table = self._table()
        theta = np.degrees(np.arctan2(x, F32(RIB_POLAR_CENTRE_Y) - y))
        i = np.clip(np.rint((theta - F32(self._TH[0])) / F32(self._TH[2])), 0, table.shape[0] - 1).astype(np.int32)
        j = np.clip(np.rint((z - F32(self._Z[0])) / F32(self._Z[2])), 0, table.shape[1] - 1).astype(np.int32)
        rho = np.sqrt(x * x + (y - F32(RIB_POLAR_CENTRE_Y)) ** 2)
        across = np.abs(rho - table[i, j]) - F32(self.half_thick_mm)
        c = np.asarray(self.corners, float)
        edges = []
        for k in range(len(c)):
            a, b = c[k], c[(k + 1) % len(c)]
            nrm = np.array([b[1] - a[1], a[0] - b[0]])
            nrm /= np.linalg.norm(nrm)
            if np.dot(nrm, c.mean(axis=0) - a) > 0:
                nrm = -nrm
            edges.append((x - F32(a[0])) * F32(nrm[0]) + (z - F32(a[1])) * F32(nrm[1]))
        in_plane = np.maximum.reduce(edges)
        return _combine(in_plane + F32(2.0), across + F32(1.0)) - F32(2.0)

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        c = np.asarray(self.corners, float)
        return np.array([c[:, 0].min() - 3, -110.0, c[:, 1].min() - 3]), np.array([c[:, 0].max() + 3, 40.0,
                                                                                      c[:, 1].max() + 3])


def _blade_point(x: float, z: float, depth: float) -> Vec3:
    """The point (mm) at ``depth`` under the skin of the back at (x, z), found along the rib azimuths."""
    ths = np.radians(np.arange(5.0, 120.0, 0.25))
    r = _inset_radius(ths, np.full(ths.shape, z), np.full(ths.shape, depth))
    k = int(np.argmin(np.abs(r * np.sin(ths) - x)))
    return (float(r[k] * np.sin(ths[k])), float(RIB_POLAR_CENTRE_Y - r[k] * np.cos(ths[k])), z)


@lru_cache(maxsize=1)
def _scapulae() -> _Fast:
    """Both scapulae, arms raised (mm): blade over ribs 2-7 rotated upward (glenoid up and out, inferior angle
    swung out to about T7), spine of the scapula, acromion meeting the clavicle, glenoid neck."""
    sup, inf, lat = (52.0, 462.0), (112.0, 345.0), (124.0, 468.0)
    blade = _ScapularBlade((sup, inf, lat), 20.0, 1.5)
    root = _blade_point(62.0, 440.0, 15.0)
    spine_mid = _blade_point(95.0, 455.0, 13.0)
    acromion = (_CLAVICLE[-1][0] + 4.0, _CLAVICLE[-1][1] - 14.0, _CLAVICLE[-1][2] + 3.0)
    spine = _Union((_Cap(root, spine_mid, 3.5, 5.0), _Cap(spine_mid, acromion, 5.0, 6.0)), 3.0)
    g = _blade_point(lat[0] - 4.0, lat[1] - 6.0, 22.0)
    glenoid = _Ell((g[0] + 3.0, g[1] + 8.0, g[2] + 2.0), (9.0, 12.0, 13.0))
    lateral_border = _Cap(_blade_point(inf[0] - 2.0, inf[1] + 4.0, 20.0), g, 3.0, 6.0)
    return _MirrorX(_Union((blade, spine, glenoid, lateral_border), 3.0))


def _chest_structures() -> list[Structure]:
    """Ribs, costal cartilages, sternum, clavicles and scapulae."""
    bone, cortex = TISSUES["cancellous_bone"], TISSUES["cortical_bone"]
    return [
        Structure("ribs", LABELS["ribs"], _ribs(), bone, "bone", 1.0, cortex, location="ribs 1-12"),
        Structure("costal_cartilages", LABELS["costal_cartilages"], _cartilages(), TISSUES["cartilage"], "bone",
                  location="costal cartilages 1-10"),
        Structure("sternum", LABELS["sternum"], _sternum(), bone, "bone", 1.0, cortex, location="sternum"),
        Structure("clavicles", LABELS["clavicles"], _clavicles(), bone, "bone", 1.5, cortex, location="clavicles"),
        Structure("scapulae", LABELS["scapulae"], _scapulae(), bone, "bone", 1.0, cortex, location="scapulae"),
    ]


# --------------------------------------------------------------------------------------------------------
# Head: skull with its base, brain in its CSF, ventricles, pituitary, face.
# --------------------------------------------------------------------------------------------------------

# Vitreous body of the eye: water-like (course choice; T1/T2 of vitreous at 3 T about 4000/1500 ms are close
# to CSF's).
VITREOUS = Tissue(5, 1.0, 4000, 1500, 3.0, 0.2, 0.1)
# Head, fitted to the frame's outline (vertex z = 765, widest 156 x 200 mm at z ~ 715): the vault's outer
# surface about 6 mm under the scalp; Frankfort plane (ear canals, lower orbital rims) at z ~ 640.
_VAULT = {"centre": (0.0, 8.0, 697.0), "radii": (71.5, 93.0), "up": (62.0, 2.3), "down": (70.0, 4.0)}
SKULL_MM = 6.0  # vault thickness: two 1.5 mm tables and diploe (typical 5-7 mm in women)
_SUBARACHNOID_MM = 2.5
PITUITARY_CENTRE: Vec3 = (0.0, 22.0, 657.0)


@dataclass(frozen=True, eq=False)
class _Vault(_Fast):
    """Cranial vault as a solid: elliptic in plan, superelliptic up and down (exponent per half), shrunk by
    ``inset_mm``; first-order distance (accurate at the surface, an underestimate far away)."""

    inset_mm: float = 0.0

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        (_, cy, cz), (a, b) = _VAULT["centre"], _VAULT["radii"]
        (cu, pu), (cd, pd) = _VAULT["up"], _VAULT["down"]
        u, v = x / F32(a), (y - F32(cy)) / F32(b)
        dz = z - F32(cz)
        c = np.where(dz > 0, F32(cu), F32(cd))
        p = np.where(dz > 0, F32(pu), F32(pd))
        w = np.abs(dz) / c + F32(1e-6)
        wp = w ** (p - 1)
        f = u * u + v * v + wp * w
        gx, gy, gz = 2 * u / F32(a), 2 * v / F32(b), p * wp / c
        d = (f - 1.0) / np.sqrt(gx * gx + gy * gy + gz * gz + F32(1e-6))
        return np.where(f > 1.0, d * F32(0.9), d) + F32(self.inset_mm)

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        (cx, cy, cz), (a, b) = _VAULT["centre"], _VAULT["radii"]
        lo = np.array([cx - a, cy - b, cz - _VAULT["down"][0]])
        hi = np.array([cx + a, cy + b, cz + _VAULT["up"][0]])
        return lo - 2.0, hi + 2.0


def _floor_height(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Height (mm) of the floor of the cranial cavity: anterior fossa over the orbits, middle fossae for the
    temporal lobes, sella and clivus in the midline, posterior fossa for the cerebellum (Gray's; fitted)."""
    ax = np.abs(x)
    front = 667.0 - 5.0 * np.exp(-((ax / 6.0) ** 2))  # orbital roofs, cribriform plate lower in the midline
    middle = 641.0 + 0.004 * ax**2 * 0.0
    back = 627.0 + 0.002 * (ax**2)
    f1 = np.clip((y - 30.0) / 10.0, 0.0, 1.0)  # middle -> anterior fossa (sphenoid ridges)
    f2 = np.clip((y + 15.0) / 10.0, 0.0, 1.0)  # posterior -> middle fossa (petrous ridges)
    lateral = back + (middle - back) * f2
    lateral = lateral + (front - lateral) * f1
    # Midline: clivus rising from the foramen magnum to the dorsum sellae, the sella, the planum sphenoidale.
    mid_y = np.array([-40.0, -12.0, 4.0, 14.0, 17.0, 22.0, 27.0, 31.0, 45.0])
    mid_z = np.array([626.0, 624.0, 640.0, 662.0, 661.0, 651.0, 652.0, 663.0, 663.0])
    midline = np.interp(y, mid_y, mid_z)
    m = np.exp(-((ax / 16.0) ** 4))
    return lateral + (midline - lateral) * m


@dataclass(frozen=True, eq=False)
class _Floor(_Fast):
    """The half-space above the cranial floor (negative above it), tabulated every 1 mm in x and y."""

    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def _table(self) -> np.ndarray:
        if "t" not in self._cache:
            xs, ys = np.arange(-80.0, 81.0), np.arange(-100.0, 111.0)
            xx, yy = np.meshgrid(xs, ys, indexing="ij")
            h = _floor_height(xx, yy)
            gx, gy = np.gradient(h, axis=0), np.gradient(h, axis=1)
            self._cache["t"] = np.stack([h, 1.0 / np.sqrt(1.0 + gx**2 + gy**2)]).astype(np.float32)
        return self._cache["t"]

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        t = self._table()
        i = np.clip(np.rint(x + F32(80.0)), 0, t.shape[1] - 1).astype(np.int32)
        j = np.clip(np.rint(y + F32(100.0)), 0, t.shape[2] - 1).astype(np.int32)
        return (t[0, i, j] - z) * t[1, i, j]

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array([-80.0, -100.0, 600.0]), np.array([80.0, 110.0, 780.0])


@lru_cache(maxsize=1)
def _cavity() -> _Fast:
    """Cranial cavity (mm): inside the vault's inner table and above the floor of the skull base."""
    return _Inter(_Vault(SKULL_MM), _Floor())


@lru_cache(maxsize=1)
def _skull() -> _Fast:
    """Skull (mm): vault with its base, foramen magnum, orbits, petrous ridges, mastoids, occipital condyles."""
    base = _Ell((0.0, 0.0, 628.0), (48.0, 45.0, 12.0))
    solid = _Union((_Vault(), base), 6.0)
    magnum = _Cap((0.0, -10.0, 600.0), (0.0, -10.0, 614.0), 15.5)
    orbits = _MirrorX(_Ell((33.0, 84.0, 657.0), (17.0, 22.0, 16.5)))
    vault = _Sub(_Sub(_Sub(solid, _cavity()), magnum), orbits)
    petrous = _MirrorX(_Cap((52.0, -18.0, 640.0), (14.0, 12.0, 650.0), 8.0, 5.0))
    mastoid = _MirrorX(_Ell((52.0, -16.0, 628.0), (9.0, 11.0, 13.0)))
    condyles = _MirrorX(_Ell((15.5, 4.0, 619.0), (7.0, 11.0, 6.0)))
    sphenoid = _Ell((0.0, 28.0, 641.0), (17.0, 16.0, 15.0))
    return _Union((vault, petrous, mastoid, condyles, sphenoid), 2.0)


@lru_cache(maxsize=1)
def _brain_parts() -> _Fast:
    """Brain (mm): two hemispheres split by the interhemispheric fissure and lifted off the tentorium, the
    cerebellum below it, the brainstem down through the foramen magnum; sulci as gentle surface noise."""
    inner = _Sulci(_Vault(SKULL_MM + _SUBARACHNOID_MM), 1.5, 24.0)
    floor = _Floor()
    # Tentorium: a tent over the cerebellum, rising forward to the incisura around the brainstem.
    tent = _OBox((0.0, -50.0, 658.0), ((1.0, 0.0, 0.0), (0.0, 0.94, 0.34), (0.0, -0.34, 0.94)), (80.0, 42.0, 1.3))
    notch = _Cap((0.0, -8.0, 700.0), (0.0, -12.0, 640.0), 13.0)
    # Interhemispheric fissure: above the corpus callosum in the middle, the full height in front and behind.
    fissure = _Union((_OBox((0.0, 0.0, 740.0), half_mm=(0.5, 40.0, 32.0)),
                      _OBox((0.0, 70.0, 700.0), half_mm=(0.5, 32.0, 40.0)),
                      _OBox((0.0, -70.0, 705.0), half_mm=(0.5, 32.0, 40.0))), 0.0)
    cerebrum = _Sub(_Sub(_Sub(_Inter(inner, floor), tent), fissure), _Cap((0.0, -10.0, 610.0), (0.0, -40.0, 650.0), 1.0))
    cerebrum = _Sub(cerebrum, _Inter(_Ell((0.0, -50.0, 640.0), (70.0, 45.0, 25.0)), _Sub(_rbox((0.0, -50.0, 640.0),
                                                                                            (80.0, 50.0, 30.0)), notch)))
    cerebellum = _Inter(_Ell((0.0, -48.0, 644.0), (55.0, 34.0, 22.0)), _Vault(SKULL_MM + _SUBARACHNOID_MM))
    stem = _Cap((0.0, -2.0, 688.0), (0.0, -12.0, 616.0), 12.0, 8.5)
    return _Union((cerebrum, cerebellum, stem), 3.0)


@dataclass(frozen=True, eq=False)
class _Wrapped(_Fast):
    """Contents of a cavity as one solid: ``inner`` (the structure's inside tissue) and, around it, the wall
    tissue filling the rest of ``outer`` (thecal sac in the canal's fat, brain in its CSF).

    Inside ``outer`` the depth is set to -wall/2 wherever ``inner`` is more than wall/2 away, so the wall
    tissue fills all of the cavity outside ``inner`` and the inside tissue fills exactly ``inner``.
    """

    outer: _Fast
    inner: _Fast
    wall_mm: float

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        d_in = self.inner.dist(x, y, z)
        outer = np.minimum(_gated(self.outer, x, y, z, 3.0), d_in)
        w = F32(self.wall_mm)
        return np.maximum(outer, np.minimum(d_in - w, -w / 2))

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        (a, b), (c, d) = self.outer.box, self.inner.box
        return np.minimum(a, c), np.maximum(b, d)


@dataclass(frozen=True, eq=False)
class _Sulci(_Fast):
    """A surface undulating by up to ``amplitude_mm`` (a few plane waves of ``wavelength_mm``): gyri and sulci."""

    shape: _Fast
    amplitude_mm: float
    wavelength_mm: float

    def dist(self, x: Arr, y: Arr, z: Arr) -> Arr:
        rng = np.random.default_rng(7)
        k = 2 * np.pi / self.wavelength_mm
        noise = np.zeros_like(x)
        for _ in range(6):
            v = rng.normal(size=3)
            v *= k / np.linalg.norm(v)
            noise += np.sin(x * F32(v[0]) + y * F32(v[1]) + z * F32(v[2]) + F32(rng.uniform(0, 2 * np.pi)))
        return self.shape.dist(x, y, z) + F32(self.amplitude_mm / 3.0) * np.clip(noise, -3.0, 3.0)

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.shape.box
        return lo - self.amplitude_mm, hi + self.amplitude_mm


@lru_cache(maxsize=1)
def _ventricles() -> _Fast:
    """Lateral ventricles (bodies, frontal, occipital and temporal horns), third and fourth ventricles (mm)."""
    body = _Cap((6.5, 28.0, 705.0), (8.0, -22.0, 710.0), 5.0, 4.0)
    frontal = _Cap((6.5, 28.0, 705.0), (9.0, 38.0, 697.0), 5.0, 3.0)
    occipital = _Cap((8.0, -22.0, 710.0), (14.0, -42.0, 698.0), 4.0, 2.5)
    temporal = _Union((_Cap((8.0, -22.0, 710.0), (24.0, -20.0, 685.0), 4.0, 3.0),
                       _Cap((24.0, -20.0, 685.0), (28.0, 12.0, 672.0), 3.0, 2.0)), 3.0)
    third = _OBox((0.0, 4.0, 690.0), half_mm=(1.5, 14.0, 9.0), radius_mm=1.4)
    fourth = _Ell((0.0, -30.0, 650.0), (6.0, 4.0, 7.0))
    aqueduct = _Cap((0.0, -10.0, 684.0), (0.0, -28.0, 656.0), 1.2)
    return _Union((_MirrorX(_Union((body, frontal, occipital, temporal), 3.0)), third, fourth, aqueduct), 1.5)


@lru_cache(maxsize=1)
def _face() -> _Fast:
    """Facial bones (mm): maxillae with the hard palate, zygomatic arches, nasal bones (sinuses carved out)."""
    maxilla = _Ell((0.0, 68.0, 634.0), (40.0, 32.0, 20.0))
    zygoma = _MirrorX(_Union((_Ell((45.0, 72.0, 645.0), (10.0, 12.0, 11.0)), _Cap((50.0, 64.0, 645.0),
                                                                                  (58.0, 18.0, 641.0), 4.0)), 3.0))
    nasal = _Cap((0.0, 98.0, 660.0), (0.0, 104.0, 642.0), 5.0, 3.0)
    return _Sub(_Union((maxilla, zygoma, nasal), 4.0), _sinuses())


@lru_cache(maxsize=1)
def _sinuses() -> _Fast:
    """Air in the nasal cavity and the maxillary, sphenoid and frontal sinuses (mm)."""
    nasal = _MirrorX(_OBox((6.0, 72.0, 640.0), half_mm=(5.0, 26.0, 14.0), radius_mm=3.0))  # either side of the septum
    maxillary = _MirrorX(_Ell((25.0, 68.0, 638.0), (12.0, 15.0, 13.0)))
    sphenoid = _Ell((0.0, 30.0, 640.0), (11.0, 10.0, 9.0))
    ethmoid = _MirrorX(_OBox((8.0, 72.0, 658.0), half_mm=(5.5, 18.0, 9.0), radius_mm=3.0))
    frontal = _MirrorX(_Ell((12.0, 92.0, 690.0), (10.0, 5.0, 10.0)))
    return _Union((nasal, maxillary, sphenoid, ethmoid, frontal), 2.0)


@lru_cache(maxsize=1)
def _mandible() -> _Fast:
    """Mandible (mm): rami from the temporomandibular joints, angles, body and chin (the frame's neck leaves
    little room below the skull base, so the jaw sits high)."""
    condyle = (47.0, 10.0, 636.0)
    angle = (44.0, 14.0, 606.0)
    body = (30.0, 42.0, 606.0)
    chin = (0.0, 52.0, 610.0)
    ramus = _Cap(condyle, angle, 5.5, 6.0)
    side = _Union((ramus, _Cap(angle, body, 6.0, 6.5), _Cap(body, chin, 6.5, 7.0)), 3.0)
    return _MirrorX(side)


def _head_structures() -> list[Structure]:
    """Skull, brain in its CSF, ventricles, pituitary, facial bones, mandible, sinuses and globes."""
    bone, cortex = TISSUES["cancellous_bone"], TISSUES["cortical_bone"]
    return [
        Structure("brain", LABELS["brain"], _Wrapped(_cavity(), _brain_parts(), _SUBARACHNOID_MM),
                  TISSUES["brain"], "organ", _SUBARACHNOID_MM, TISSUES["csf"], location="brain and its CSF"),
        Structure("ventricles", LABELS["ventricles"], _ventricles(), TISSUES["csf"], "hollow", location="ventricles"),
        Structure("skull", LABELS["skull"], _skull(), bone, "bone", 1.6, cortex, location="skull"),
        Structure("facial_bones", LABELS["facial_bones"], _face(), bone, "bone", 1.2, cortex, location="face"),
        Structure("mandible", LABELS["mandible"], _mandible(), bone, "bone", 1.8, cortex, location="mandible"),
        Structure("paranasal_sinuses", LABELS["paranasal_sinuses"], _Sub(_sinuses(), _Ell((0.0, 72.0, 628.0),
                  (60.0, 40.0, 7.0))), TISSUES["air"], "content", location="nasal cavity and sinuses"),
        Structure("globes", LABELS["globes"], _MirrorX(_Ell((33.0, 88.0, 657.0), (12.0, 12.0, 12.0))), VITREOUS,
                  "organ", 1.0, TISSUES["tendon"], location="eyes"),
        Structure("pituitary", LABELS["pituitary"], _Ell(PITUITARY_CENTRE, (6.0, 4.5, 3.3)), TISSUES["pituitary"],
                  "content", location="sella turcica"),
    ]


def _landmarks() -> dict[str, Vec3]:
    """Named points (mm): vertebral body centres, conus, end of the sac, pituitary, sternal landmarks."""
    points: dict[str, Vec3] = {f"{lv.name}_body": lv.centre for lv in levels()}
    cord = np.asarray(_cord_knots())
    sac = np.asarray(_sac_knots())
    points["conus_medullaris"] = (0.0, float(cord[0, 2]), float(cord[0, 0]))
    points["thecal_sac_end"] = (0.0, float(sac[0, 2]), float(sac[0, 0]))
    points["pituitary"] = PITUITARY_CENTRE
    points["jugular_notch"] = tuple(float(v) for v in _NOTCH)
    points["sternal_angle"] = tuple(float(v) for v in _ANGLE)
    foramen = _canal_knots()[-1]
    points["foramen_magnum"] = (0.0, float(foramen[2]), float(foramen[0]))
    return points


LANDMARKS: dict[str, Vec3] = _landmarks()


def structures() -> list[Structure]:
    """Structures of the axial skeleton and head."""
    return _column_structures() + _canal_structures() + _chest_structures() + _head_structures()
