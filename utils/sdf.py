"""Smooth solids as signed distance functions (SDF) in world millimetres (RAS+).

Every shape answers ``distance_mm(points)``: the signed distance (mm) of each point ``(..., 3)`` to its
surface, negative inside; and ``bounds_mm()``: an axis-aligned box (mm) that holds it. A signed distance
gives partial-volume edges for free (a voxel half inside is half occupied, see ``utils.phantom``) and lets
shapes be combined smoothly: rounded boxes for vertebral bodies, swept tubes for bowel, ureters, vessels
and ribs, thin shells for cortical bone and bowel wall, smooth unions for organs, and low-frequency surface
displacement for lobulated lesions. The formulas are the standard ones (Quilez I, "Distance functions",
iquilezles.org; Hart JC, The Visual Computer 1996, DOI 10.1007/s003710050084).

Distances are exact for spheres, boxes, capsules and tubes and a close bound elsewhere (ellipsoids, smooth
unions, displaced surfaces); the sampler only needs them to be accurate near the surface and never to
overstate how far a point is from it by more than a few per cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

Vec3 = tuple[float, float, float]


def _rotation(angles_deg: Vec3) -> np.ndarray:
    """World-from-local 3x3 rotation: extrinsic x, then y, then z (deg)."""
    return Rotation.from_euler("xyz", angles_deg, degrees=True).as_matrix()


def _local(points: np.ndarray, centre: Vec3, angles_deg: Vec3) -> np.ndarray:
    """Points (..., 3) mm in the shape's own frame (centred, unrotated)."""
    p = points - np.asarray(centre, dtype=points.dtype)
    if any(angles_deg):
        p = p @ _rotation(angles_deg).astype(points.dtype)
    return p


def _rotated_bounds(centre: Vec3, half_mm: np.ndarray, angles_deg: Vec3) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned box (mm) of a rotated box with half-sizes ``half_mm``."""
    extent = np.abs(_rotation(angles_deg)) @ np.asarray(half_mm, dtype=float)
    return np.asarray(centre, float) - extent, np.asarray(centre, float) + extent


class Shape:
    """Base class: subclasses give ``distance_mm`` and ``bounds_mm``; operators build new shapes."""

    def distance_mm(self, points: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Boolean mask of the points ``(..., 3)`` (mm) inside the solid."""
        return self.distance_mm(points) <= 0.0

    def __or__(self, other: Shape) -> Shape:
        return SmoothUnion((self, other), 0.0)

    def __sub__(self, other: Shape) -> Shape:
        return Subtract(self, other, 0.0)

    def __and__(self, other: Shape) -> Shape:
        return Intersect(self, other)


@dataclass(frozen=True, eq=False)
class Ellipsoid(Shape):
    """Solid ellipsoid: centre (mm), semi-axes (mm), rotation (deg about x, y, z)."""

    centre_mm: Vec3
    radii_mm: Vec3
    angles_deg: Vec3 = (0.0, 0.0, 0.0)

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        p = _local(points, self.centre_mm, self.angles_deg)
        r = np.asarray(self.radii_mm, dtype=p.dtype)
        k0 = np.linalg.norm(p / r, axis=-1)
        k1 = np.linalg.norm(p / (r * r), axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = k0 * (k0 - 1.0) / k1
        return np.where(k1 > 0, d, -float(min(self.radii_mm))).astype(p.dtype)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        r = np.asarray(self.radii_mm, float)
        rot = _rotation(self.angles_deg)
        half = np.sqrt(((rot * r) ** 2).sum(axis=1))
        c = np.asarray(self.centre_mm, float)
        return c - half, c + half


def Sphere(centre_mm: Vec3, radius_mm: float) -> Ellipsoid:
    """Solid sphere (mm)."""
    return Ellipsoid(centre_mm, (radius_mm,) * 3)


@dataclass(frozen=True, eq=False)
class RoundBox(Shape):
    """Box with rounded edges: centre (mm), half-sizes (mm), edge radius (mm), rotation (deg)."""

    centre_mm: Vec3
    half_mm: Vec3
    radius_mm: float = 0.0
    angles_deg: Vec3 = (0.0, 0.0, 0.0)

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        p = _local(points, self.centre_mm, self.angles_deg)
        q = np.abs(p) - (np.asarray(self.half_mm, dtype=p.dtype) - self.radius_mm)
        outside = np.linalg.norm(np.maximum(q, 0.0), axis=-1)
        inside = np.minimum(q.max(axis=-1), 0.0)
        return outside + inside - self.radius_mm

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        return _rotated_bounds(self.centre_mm, np.asarray(self.half_mm, float), self.angles_deg)


@dataclass(frozen=True, eq=False)
class Cylinder(Shape):
    """Capped elliptic cylinder along its local z: centre, semi-axes (x, y) and half-length (mm), rotation."""

    centre_mm: Vec3
    radii_mm: tuple[float, float]
    half_length_mm: float
    angles_deg: Vec3 = (0.0, 0.0, 0.0)

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        p = _local(points, self.centre_mm, self.angles_deg)
        rx, ry = self.radii_mm
        k = np.hypot(p[..., 0] / rx, p[..., 1] / ry)
        radial = (k - 1.0) * min(rx, ry)
        axial = np.abs(p[..., 2]) - self.half_length_mm
        q = np.stack([radial, axial], axis=-1)
        return np.linalg.norm(np.maximum(q, 0.0), axis=-1) + np.minimum(q.max(axis=-1), 0.0)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        half = np.array([*self.radii_mm, self.half_length_mm], float)
        return _rotated_bounds(self.centre_mm, half, self.angles_deg)


@dataclass(frozen=True, eq=False)
class Capsule(Shape):
    """Segment from ``start_mm`` to ``end_mm`` with radius growing linearly from ``r0_mm`` to ``r1_mm``."""

    start_mm: Vec3
    end_mm: Vec3
    r0_mm: float
    r1_mm: float | None = None

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        a = np.asarray(self.start_mm, dtype=points.dtype)
        ab = np.asarray(self.end_mm, dtype=points.dtype) - a
        t = np.clip(((points - a) @ ab) / float(ab @ ab), 0.0, 1.0)
        r1 = self.r0_mm if self.r1_mm is None else self.r1_mm
        return np.linalg.norm(points - (a + t[..., None] * ab), axis=-1) - (self.r0_mm + (r1 - self.r0_mm) * t)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        r = max(self.r0_mm, self.r0_mm if self.r1_mm is None else self.r1_mm)
        ends = np.array([self.start_mm, self.end_mm], float)
        return ends.min(axis=0) - r, ends.max(axis=0) + r


@dataclass(frozen=True, eq=False)
class Tube(Shape):
    """Tube swept along a smooth curve through ``points_mm`` (a cubic spline), radius per control point.

    The centreline is sampled every ``step_mm``; the distance is that to the nearest sample minus the
    local radius, found with a k-d tree, so a long winding bowel loop costs little more than a short one.
    ``closed`` joins the last point to the first (a ring).
    """

    points_mm: tuple[Vec3, ...]
    radii_mm: float | tuple[float, ...]
    step_mm: float = 0.75
    closed: bool = False
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def _centreline(self) -> tuple[np.ndarray, np.ndarray, cKDTree]:
        if "tree" not in self._cache:
            pts = np.asarray(self.points_mm, float)
            radii = np.broadcast_to(np.asarray(self.radii_mm, float), (len(pts),))
            if self.closed:
                pts, radii = np.vstack([pts, pts[:1]]), np.append(radii, radii[0])
            s = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))]
            bc = "periodic" if self.closed else "not-a-knot"
            if len(pts) == 2:
                line = CubicSpline(s, pts, bc_type="natural")
            else:
                line = CubicSpline(s, pts, bc_type=bc)
            samples = np.linspace(0.0, s[-1], max(2, int(np.ceil(s[-1] / self.step_mm)) + 1))
            centre = line(samples)
            radius = np.interp(samples, s, radii)
            self._cache.update(centre=centre, radius=radius, tree=cKDTree(centre))
        return self._cache["centre"], self._cache["radius"], self._cache["tree"]

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        _, radius, tree = self._centreline()
        flat = points.reshape(-1, 3)
        dist, idx = tree.query(flat, workers=1)
        return (dist - radius[idx]).astype(points.dtype).reshape(points.shape[:-1])

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        centre, radius, _ = self._centreline()
        r = float(radius.max())
        return centre.min(axis=0) - r, centre.max(axis=0) + r


@dataclass(frozen=True, eq=False)
class Profile(Shape):
    """Body-like solid: elliptic (superellipse) sections whose size and centre vary smoothly with z (mm).

    ``knots`` rows are ``(z, x semi-axis, y semi-axis, y centre)`` mm, z increasing; ``squareness`` > 2
    flattens the sides the way a trunk is flatter than an ellipse.
    """

    knots: tuple[tuple[float, float, float, float], ...]
    squareness: float = 2.0

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        k = np.asarray(self.knots, float)
        z = points[..., 2]
        spline = CubicSpline(k[:, 0], k[:, 1:], bc_type="natural")
        sec = spline(np.clip(z, k[0, 0], k[-1, 0])).astype(points.dtype)
        rx, ry, cy = sec[..., 0], sec[..., 1], sec[..., 2]
        e = self.squareness
        rho = (np.abs(points[..., 0] / rx) ** e + np.abs((points[..., 1] - cy) / ry) ** e) ** (1.0 / e)
        radial = (rho - 1.0) * np.minimum(rx, ry)
        axial = np.maximum(k[0, 0] - z, z - k[-1, 0])
        q = np.stack([radial, axial], axis=-1)
        return np.linalg.norm(np.maximum(q, 0.0), axis=-1) + np.minimum(q.max(axis=-1), 0.0)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        k = np.asarray(self.knots, float)
        z = np.linspace(k[0, 0], k[-1, 0], 200)
        sec = CubicSpline(k[:, 0], k[:, 1:], bc_type="natural")(z)
        rx = sec[:, 0].max()
        return (
            np.array([-rx, (sec[:, 2] - sec[:, 1]).min(), k[0, 0]]),
            np.array([rx, (sec[:, 2] + sec[:, 1]).max(), k[-1, 0]]),
        )


@dataclass(frozen=True, eq=False)
class HalfSpace(Shape):
    """Everything on the side of a plane that its ``normal`` points away from (mm); bound it by intersecting."""

    point_mm: Vec3
    normal: Vec3

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        n = np.asarray(self.normal, float)
        n = (n / np.linalg.norm(n)).astype(points.dtype)
        return (points - np.asarray(self.point_mm, dtype=points.dtype)) @ n

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        return np.full(3, -1e4), np.full(3, 1e4)


def _smooth_min(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Polynomial smooth minimum with blend radius ``k`` (mm); ``k = 0`` is the plain minimum."""
    if k <= 0:
        return np.minimum(a, b)
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b + (a - b) * h - k * h * (1.0 - h)


@dataclass(frozen=True, eq=False)
class SmoothUnion(Shape):
    """Union of parts, blended over ``blend_mm`` where they meet (0 gives a sharp crease)."""

    parts: tuple[Shape, ...]
    blend_mm: float = 0.0

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        d = self.parts[0].distance_mm(points)
        for part in self.parts[1:]:
            d = _smooth_min(d, part.distance_mm(points), self.blend_mm)
        return d

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        lows, highs = zip(*(p.bounds_mm() for p in self.parts), strict=True)
        return np.min(lows, axis=0), np.max(highs, axis=0)


@dataclass(frozen=True, eq=False)
class Subtract(Shape):
    """``base`` with ``cut`` removed (smoothly over ``blend_mm``)."""

    base: Shape
    cut: Shape
    blend_mm: float = 0.0

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        return -_smooth_min(-self.base.distance_mm(points), self.cut.distance_mm(points), self.blend_mm)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        return self.base.bounds_mm()


@dataclass(frozen=True, eq=False)
class Intersect(Shape):
    """Points inside both shapes; bounds are the overlap of the two boxes."""

    a: Shape
    b: Shape

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        return np.maximum(self.a.distance_mm(points), self.b.distance_mm(points))

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        (la, ha), (lb, hb) = self.a.bounds_mm(), self.b.bounds_mm()
        return np.maximum(la, lb), np.minimum(ha, hb)


@dataclass(frozen=True, eq=False)
class Offset(Shape):
    """The shape grown (positive ``mm``) or shrunk (negative) by a constant distance."""

    shape: Shape
    mm: float

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        return self.shape.distance_mm(points) - self.mm

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.shape.bounds_mm()
        return lo - max(self.mm, 0.0), hi + max(self.mm, 0.0)


@dataclass(frozen=True, eq=False)
class Shell(Shape):
    """A hollow layer of ``thickness_mm`` just inside the surface of ``shape`` (a wall or a cortex)."""

    shape: Shape
    thickness_mm: float

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        d = self.shape.distance_mm(points)
        return np.maximum(d, -d - self.thickness_mm)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        return self.shape.bounds_mm()


@dataclass(frozen=True, eq=False)
class Displaced(Shape):
    """Surface pushed in and out by smooth noise: a sum of a few random plane waves (mm, deterministic).

    ``amplitude_mm`` bounds the push (a tanh keeps it inside; typical pushes are about half of it);
    ``wavelength_mm`` sets the size of the bumps (lobules); ``seed`` fixes the pattern. Keep amplitude x
    2 pi / wavelength below about 0.5 so distances stay honest.
    """

    shape: Shape
    amplitude_mm: float
    wavelength_mm: float
    seed: int = 0
    waves: int = 6

    def _field(self, points: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        dirs = rng.normal(size=(self.waves, 3))
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        phases = rng.uniform(0, 2 * np.pi, self.waves)
        k = 2 * np.pi / self.wavelength_mm
        total = np.zeros(points.shape[:-1], dtype=points.dtype)
        for direction, phase in zip(dirs, phases, strict=True):
            total += np.sin(points @ (k * direction).astype(points.dtype) + phase)
        return np.float32(self.amplitude_mm) * np.tanh(total / np.float32(np.sqrt(self.waves / 2.0)))

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        return self.shape.distance_mm(points) - self._field(points)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.shape.bounds_mm()
        return lo - self.amplitude_mm, hi + self.amplitude_mm


@dataclass(frozen=True, eq=False)
class Mirrored(Shape):
    """The shape and its mirror image across the midline (x -> -x): a pair of bilateral structures."""

    shape: Shape

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        mirrored = points * np.asarray([-1.0, 1.0, 1.0], dtype=points.dtype)
        return np.minimum(self.shape.distance_mm(points), self.shape.distance_mm(mirrored))

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.shape.bounds_mm()
        x = max(abs(lo[0]), abs(hi[0]))
        return np.array([-x, lo[1], lo[2]]), np.array([x, hi[1], hi[2]])


def union(parts: Sequence[Shape], blend_mm: float = 0.0) -> Shape:
    """Smooth union of several parts (one part is returned as it is)."""
    parts = tuple(parts)
    return parts[0] if len(parts) == 1 else SmoothUnion(parts, blend_mm)
