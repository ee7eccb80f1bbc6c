"""The abdomen: liver, gallbladder, stomach, duodenum, pancreas, spleen, kidneys, adrenals, great vessels,
upper ureters, the muscles of the trunk wall, the visceral fat the organs sit in, and the liver lesions.

World mm, RAS+ (+x patient's right, +y anterior, +z superior), origin at the sacral promontory, built on
``frame`` (vertebral bodies, body outline, diaphragm domes, hand-off points). Sizes: liver mid-clavicular
10-12.5 cm, transverse 20-23 cm (Radiopaedia, hepatomegaly), 1.28 L (JCDR 2019, DOI
10.7860/JCDR/2019/41932.13038); spleen 10 x 9 x 4.6 cm, ~200 mL (Folia Morphol, FM.2014.0038); pancreas
at L1-L2, AP head <= 30-35, body <= 25, tail <= 20 mm (DOI 10.1201/9781315381558-43), head right of the
SMV inside D2, uncinate behind the SMV/SMA in front of the aorta/IVC, tail at the splenic hilum (DOI
10.1201/9780203912997-46); kidneys 9-12 cm (CMDT 2020), T12-L3, right ~1 vertebra lower (PMID 4060374),
hila ~42 deg to the coronal plane (rb.org.br id 812), renal arteries at L1 (DOI 10.1002/ca.22556);
infrarenal aorta 14.5 mm (DOI 10.1016/j.avsg.2019.05.030); portal vein 15.5 mm (Stamm, portal vein CT);
ureters 4-7 mm on the psoas to the pelvic brim (Ellis H, Clinical Anatomy); psoas index 5.4 cm2/m2 in
women, 48 HU (DOI 10.22540/JFSF-07-038); wall thickness TrA < EO < IO < RA (DOI 10.1186/s40101-016-0106-6).

Organs touch but never overlap: each organ's neighbours are cut out of it (the liver's renal, gastric,
duodenal and gallbladder impressions and the groove of the IVC), which also makes the visceral surfaces
concave. Organs, vessels and bowel sit in visceral fat that fills the cavity inside the muscle wall. The
thorax region owns the diaphragm (a 4 mm sheet over a height field), the chest wall and the oesophagus;
the organs here lie under that sheet and inside its pleura, and the stomach starts where its oesophagus
ends.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation

from ..sdf import (
    Capsule,
    Displaced,
    Ellipsoid,
    HalfSpace,
    Intersect,
    Mirrored,
    Offset,
    Profile,
    Shape,
    Shell,
    Subtract,
    Vec3,
    union,
)
from . import Structure, frame, thorax
from .tissues import TISSUES

# --------------------------------------------------------------------------------------------------
# Helpers. The sampler evaluates every part of a composite solid at every point near the composite's
# surface; these keep that cheap: far from a part, a lower bound of its distance is enough (the sampler
# needs exact distances only near surfaces and never an overstated one).


@dataclass(frozen=True, eq=False)
class _Near(Shape):
    """``shape`` evaluated only within ``margin_mm`` of its bounding box; farther, the distance to the box."""

    shape: Shape
    margin_mm: float = 25.0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        if "bounds" not in self._cache:
            self._cache["bounds"] = self.shape.bounds_mm()
        return self._cache["bounds"]

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        lo, hi = self.bounds_mm()
        centre, half = (lo + hi) / 2, (hi - lo) / 2
        # Largest per-axis distance outside the box: never more than the true distance to the shape.
        box = np.abs(points[..., 0] - np.float32(centre[0])) - np.float32(half[0])
        for axis in (1, 2):
            np.maximum(
                box, np.abs(points[..., axis] - np.float32(centre[axis])) - np.float32(half[axis]), out=box
            )
        near = box < self.margin_mm
        if near.all():
            return self.shape.distance_mm(points)
        if near.any():
            box[near] = self.shape.distance_mm(points[near])
        return box


def _spline(
    points_mm: tuple[Vec3, ...], radii_mm: float | tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Centre line (mm, every ~1 mm) of the cubic spline through the points by arc length, as ``Tube``
    draws it, and the radius (mm) interpolated along it."""
    pts = np.asarray(points_mm, float)
    radii = np.broadcast_to(np.asarray(radii_mm, float), (len(pts),))
    s = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))]
    line = CubicSpline(s, pts, bc_type="natural" if len(pts) == 2 else "not-a-knot")
    samples = np.linspace(0.0, s[-1], max(2, int(np.ceil(s[-1])) + 1))
    return line(samples), np.interp(samples, s, radii)


@dataclass(frozen=True, eq=False)
class _Tube(Shape):
    """A tube swept along the spline through ``points_mm`` (as ``Tube``) as a chain of tapered capsules of
    ~``seg_mm``, in groups that only the points near them evaluate; beyond ``reach_mm`` from every group the
    distance is the lower bound ``reach_mm``. Cheaper than a k-d tree search for every point."""

    points_mm: tuple[Vec3, ...]
    radii_mm: float | tuple[float, ...]
    seg_mm: float = 6.0
    group: int = 8
    reach_mm: float = 25.0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def _groups(self) -> list[tuple[np.ndarray, ...]]:
        if "groups" not in self._cache:
            centre, radius = _spline(self.points_mm, self.radii_mm)
            n = max(1, round(self.seg_mm))
            idx = np.unique(np.r_[np.arange(0, len(centre), n), len(centre) - 1])
            a, b = centre[idx[:-1]], centre[idx[1:]]
            ra, rb = radius[idx[:-1]], radius[idx[1:]]
            groups = []
            for g in range(0, len(a), self.group):
                sl = slice(g, g + self.group)
                pad = float(max(ra[sl].max(), rb[sl].max())) + self.reach_mm
                lo = np.minimum(a[sl].min(axis=0), b[sl].min(axis=0)) - pad
                hi = np.maximum(a[sl].max(axis=0), b[sl].max(axis=0)) + pad
                groups.append((lo, hi, a[sl], b[sl], ra[sl], rb[sl]))
            self._cache["groups"] = groups
            r = float(radius.max())
            self._cache["bounds"] = (centre.min(axis=0) - r, centre.max(axis=0) + r)
        return self._cache["groups"]

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        flat = points.reshape(-1, 3)
        out = np.full(len(flat), self.reach_mm, dtype=np.float32)
        f32 = np.float32
        for lo, hi, a, b, ra, rb in self._groups():
            near = np.ones(len(flat), bool)
            for axis in range(3):
                near &= (flat[:, axis] > lo[axis]) & (flat[:, axis] < hi[axis])
            sel = np.flatnonzero(near)
            if len(sel) == 0:
                continue
            x, y, z = (flat[sel, k].astype(np.float32) for k in range(3))
            best = out[sel]
            for (ax, ay, az), (bx, by, bz), r0, r1 in zip(a, b, ra, rb, strict=True):
                ux, uy, uz = f32(bx - ax), f32(by - ay), f32(bz - az)
                inv = f32(1.0 / max(float(ux * ux + uy * uy + uz * uz), 1e-9))
                px, py, pz = x - f32(ax), y - f32(ay), z - f32(az)
                t = np.clip((px * ux + py * uy + pz * uz) * inv, f32(0.0), f32(1.0))
                px -= t * ux
                py -= t * uy
                pz -= t * uz
                d = np.sqrt(px * px + py * py + pz * pz) - (f32(r0) + f32(r1 - r0) * t)
                np.minimum(best, d, out=best)
            out[sel] = best
        return out.astype(points.dtype).reshape(points.shape[:-1])

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        self._groups()
        return self._cache["bounds"]


@dataclass(frozen=True, eq=False)
class _Trunk(Profile):
    """``Profile`` (same sections, tabulated every 0.5 mm in z) with the distance measured along the ray
    from the section's centre, so that a wall offset from it is as thick at the flanks as in front (the
    Profile's distance is scaled by the short semi-axis); times 0.95 so that it never overstates it.
    ``inset_mm`` (front, side, back) moves the surface inwards, blending with the direction from the centre."""

    inset_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def _table(self) -> tuple[float, np.ndarray]:
        if "sec" not in self._cache:
            k = np.asarray(self.knots, float)
            z = np.arange(k[0, 0], k[-1, 0] + 0.5, 0.5)
            self._cache["sec"] = CubicSpline(k[:, 0], k[:, 1:], bc_type="natural")(z).astype(np.float32)
        return float(self.knots[0][0]), self._cache["sec"]

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        z0, sec = self._table()
        z = points[..., 2]
        i = np.clip(
            ((z - np.float32(z0)) * np.float32(2.0) + np.float32(0.5)).astype(np.int32), 0, len(sec) - 1
        )
        rx, ry, cy = sec[i, 0], sec[i, 1], sec[i, 2]
        x, y = points[..., 0], points[..., 1] - cy
        e = np.float32(self.squareness)
        rho = (np.abs(x / rx) ** e + np.abs(y / ry) ** e) ** (np.float32(1.0) / e)
        r = np.sqrt(x * x + y * y)
        # |p| - R(theta), R the section's radius along the ray; at the centre, minus the short semi-axis.
        radial = np.where(
            rho > 1e-6, r - r / np.maximum(rho, np.float32(1e-6)), -np.minimum(rx, ry)
        ) * np.float32(0.95)
        if any(self.inset_mm):
            front, side, back = (np.float32(v) for v in self.inset_mm)
            c = y / np.maximum(r, np.float32(1e-6))  # cosine of the angle from straight ahead
            radial = (
                radial
                + side
                + (front - side) * np.maximum(c, 0) ** 2
                + (back - side) * np.maximum(-c, 0) ** 6
            )
        axial = np.maximum(np.float32(z0) - z, z - np.float32(self.knots[-1][0]))
        out = np.where(
            (radial > 0) | (axial > 0),
            np.sqrt(np.maximum(radial, 0) ** 2 + np.maximum(axial, 0) ** 2),
            np.maximum(radial, axial),
        )
        return out.astype(points.dtype)


@dataclass(frozen=True, eq=False)
class _Ell(Shape):
    """``Ellipsoid`` (same arguments and distance bound), evaluated with plain array arithmetic."""

    centre_mm: Vec3
    radii_mm: Vec3
    angles_deg: Vec3 = (0.0, 0.0, 0.0)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        f = np.float32
        p = [points[..., k] - f(self.centre_mm[k]) for k in range(3)]
        if any(self.angles_deg):
            if "rot" not in self._cache:
                self._cache["rot"] = Rotation.from_euler("xyz", self.angles_deg, degrees=True).as_matrix()
            m = self._cache["rot"]
            p = [p[0] * f(m[0, k]) + p[1] * f(m[1, k]) + p[2] * f(m[2, k]) for k in range(3)]
        a, b, c = (f(r) for r in self.radii_mm)
        u, v, w = p[0] / a, p[1] / b, p[2] / c
        k0 = np.sqrt(u * u + v * v + w * w)
        k1 = np.sqrt((u / a) ** 2 + (v / b) ** 2 + (w / c) ** 2)
        return np.where(k1 > 0, k0 * (k0 - 1) / np.maximum(k1, f(1e-12)), -f(min(self.radii_mm))).astype(
            points.dtype
        )

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        return Ellipsoid(self.centre_mm, self.radii_mm, self.angles_deg).bounds_mm()


def _sphere(centre_mm: Vec3, radius_mm: float) -> _Ell:
    """Solid sphere (mm)."""
    return _Ell(centre_mm, (radius_mm,) * 3)


@dataclass(frozen=True, eq=False)
class _Cap(Shape):
    """``Capsule`` (segment, radius r0 to r1; same distance), evaluated with plain array arithmetic."""

    start_mm: Vec3
    end_mm: Vec3
    r0_mm: float
    r1_mm: float | None = None

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        f = np.float32
        a = self.start_mm
        u = [f(self.end_mm[k] - a[k]) for k in range(3)]
        inv = f(1.0 / max(float(u[0] ** 2 + u[1] ** 2 + u[2] ** 2), 1e-12))
        p = [points[..., k] - f(a[k]) for k in range(3)]
        t = np.clip((p[0] * u[0] + p[1] * u[1] + p[2] * u[2]) * inv, f(0.0), f(1.0))
        q = [p[k] - t * u[k] for k in range(3)]
        r1 = self.r0_mm if self.r1_mm is None else self.r1_mm
        return (
            np.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]) - (f(self.r0_mm) + f(r1 - self.r0_mm) * t)
        ).astype(points.dtype)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        return Capsule(self.start_mm, self.end_mm, self.r0_mm, self.r1_mm).bounds_mm()


@dataclass(frozen=True, eq=False)
class _Box(Shape):
    """Axis-aligned box with rounded edges (mm): ``RoundBox`` without rotation, cheaper to evaluate."""

    centre_mm: Vec3
    half_mm: Vec3
    radius_mm: float = 0.0

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        f = np.float32
        q = [
            np.abs(points[..., k] - f(self.centre_mm[k])) - f(self.half_mm[k] - self.radius_mm)
            for k in range(3)
        ]
        outside = np.sqrt(np.maximum(q[0], 0) ** 2 + np.maximum(q[1], 0) ** 2 + np.maximum(q[2], 0) ** 2)
        inside = np.minimum(np.maximum(np.maximum(q[0], q[1]), q[2]), 0)
        return (outside + inside - f(self.radius_mm)).astype(points.dtype)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        c, h = np.asarray(self.centre_mm, float), np.asarray(self.half_mm, float)
        return c - h, c + h


@dataclass(frozen=True, eq=False)
class _Above(Shape):
    """``shape`` evaluated only at or above ``z_mm``; below, the lower bound ``reach_mm`` (for a part of a
    union that only matters up there)."""

    shape: Shape
    z_mm: float
    reach_mm: float = 25.0

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        up = points[..., 2] >= np.float32(self.z_mm)
        out = np.full(points.shape[:-1], self.reach_mm, dtype=points.dtype)
        if up.any():
            out[up] = self.shape.distance_mm(points[up])
        return out

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.shape.bounds_mm()
        return np.array([lo[0], lo[1], max(lo[2], self.z_mm)]), hi


@dataclass(frozen=True, eq=False)
class _Layers(Shape):
    """Concentric layers just inside the surface of ``shape``: (depth of the outer face, thickness) mm."""

    shape: Shape
    layers: tuple[tuple[float, float], ...]

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        d = self.shape.distance_mm(points)
        out = None
        for depth, thickness in self.layers:
            layer = np.maximum(d + depth, -(d + depth) - thickness)
            out = layer if out is None else np.minimum(out, layer)
        return out

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        return self.shape.bounds_mm()


def _unit(v: Vec3) -> np.ndarray:
    """Unit vector."""
    a = np.asarray(v, float)
    return a / np.linalg.norm(a)


def _angles(long_axis: Vec3, width_axis: Vec3) -> Vec3:
    """Euler angles (deg, extrinsic xyz) of a local frame whose z is ``long_axis`` and x is ``width_axis``."""
    ez = _unit(long_axis)
    ex = np.asarray(width_axis, float) - ez * float(np.dot(width_axis, ez))
    ex /= np.linalg.norm(ex)
    ey = np.cross(ez, ex)
    return tuple(
        float(a) for a in Rotation.from_matrix(np.column_stack([ex, ey, ez])).as_euler("xyz", degrees=True)
    )


def _plane(a: Vec3, b: Vec3, c: Vec3, inside: Vec3) -> HalfSpace:
    """The half-space bounded by the plane through a, b, c (mm) that holds the point ``inside``."""
    n = np.cross(np.subtract(b, a), np.subtract(c, a))
    if np.dot(n, np.subtract(inside, a)) > 0:
        n = -n
    return HalfSpace(a, tuple(float(v) for v in n))


def _vertebral_curve() -> CubicSpline:
    """(y centre, depth) of the vertebral bodies as a smooth function of z (mm)."""
    rows = sorted((z, y, d) for y, z, _w, d, _h in frame.VERTEBRAE.values())
    z, y, d = np.array(rows).T
    return CubicSpline(z, np.column_stack([y, d]))


def _body_section(z: float) -> tuple[float, float, float]:
    """(half-width x, half-depth y, y centre) of the body outline at height z (mm), as the Profile draws it."""
    k = np.asarray(frame.BODY_KNOTS, float)
    hx, hy, cy = CubicSpline(k[:, 0], k[:, 1:], bc_type="natural")(z)
    return float(hx), float(hy), float(cy)


def _inset_body(front_mm: float, back_mm: float, side_mm: float, z0: float, z1: float) -> _Trunk:
    """The trunk outline shrunk by the given depths (mm) at front, back and sides, between z0 and z1."""
    knots = []
    for z in np.linspace(z0, z1, round((z1 - z0) / 20.0) + 1):
        hx, hy, cy = _body_section(float(z))
        ant, post = cy + hy - front_mm, cy - hy + back_mm
        knots.append((float(z), hx - side_mm, (ant - post) / 2, (ant + post) / 2))
    return _Trunk(tuple(knots), frame.BODY_SQUARENESS)


# --------------------------------------------------------------------------------------------------
# Frame of the abdomen: the subcutaneous-fat boundary, the diaphragm and the cavity.

FAT = frame.SUBCUT_FAT_MM
DIAPHRAGM_MM = 4.0  # the thorax region's muscle sheet lies over our organs, between h - 4 and h


@cache
def _under_diaphragm() -> Shape:
    """Everything below the diaphragm's under-surface (mm). The thorax region draws the diaphragm over a
    height field h(x, y): the domes at the frame's points (right higher), the central tendon under the heart,
    deep posterior recesses; its 4 mm sheet lies between h - 4 and h. Below z = 205 nothing is above us."""
    return union(
        (
            thorax._below(thorax._diaphragm_height, -DIAPHRAGM_MM),
            HalfSpace((0.0, 0.0, 205.0), (0.0, 0.0, 1.0)),
        )
    )


@cache
def _subcutaneous_boundary() -> _Trunk:
    """Inner surface of the subcutaneous fat, where the trunk muscles begin (z -110 to 310 mm)."""
    return _inset_body(FAT["abdomen_front"], FAT["back"], FAT["flank"], -110.0, 310.0)


# Muscle wall (mm): rectus ~9, lateral wall EO 4 + IO 7 + TrA 3 with thin fat planes between.
RECTUS_MM = 9.0
LATERAL_WALL_MM = 16.0


@cache
def _cavity_envelope() -> _Trunk:
    """Inside the muscle wall, 1 mm deep to it: rectus in front, the three flat muscles at the sides (mm)."""
    inner = _subcutaneous_boundary()
    return _Trunk(inner.knots, inner.squareness, (1.0 + RECTUS_MM + 1.0, LATERAL_WALL_MM + 1.0, 1.0))


@cache
def _abdominal_cavity() -> Shape:
    """Inside our muscle wall below the costal margin, inside the chest wall (the thorax region's pleura)
    above it, where the thorax region's chest wall muscles begin (z = 240 + 0.2 y mm); below the
    diaphragm (mm)."""
    below_chest_wall_muscle = HalfSpace((0.0, 0.0, 236.0), (0.0, -0.2, 1.0))
    inside_ribs = union((_Above(thorax.pleura(), 195.0), below_chest_wall_muscle))
    return Intersect(Intersect(_cavity_envelope(), inside_ribs), _under_diaphragm())


# --------------------------------------------------------------------------------------------------
# Muscles of the trunk wall (layer "wall").

# Psoas (right side; mirrored): from the T12-L5 bodies along the brim, in front of the hip, to the lesser
# trochanter. Radii give ~7.5 cm2 per side at L3-L4 (5.4 cm2/m2 x 1.65^2 m2 ~ 15 cm2 for both).
PSOAS_PATH: tuple[tuple[float, float, float, float], ...] = (
    # x, y, z, radius (mm)
    (19.0, 10.0, 216.0, 4.0),
    (23.0, 9.0, 190.0, 7.5),
    (29.0, 7.0, 152.0, 11.5),
    (36.0, 4.0, 112.0, 15.0),
    (41.0, 4.0, 73.0, 16.0),
    (49.0, 6.0, 34.0, 15.5),
    (58.0, 12.0, 2.0, 14.5),
    (66.0, 26.0, -38.0, 13.5),
    (72.0, 40.0, -72.0, 12.0),
    (74.0, 46.0, -102.0, 10.0),
    (75.0, 28.0, -128.0, 7.5),
    (75.0, 10.0, -140.0, 5.5),
)


@cache
def _psoas() -> Shape:
    """Both psoas muscles (mm)."""
    radii = tuple(p[3] for p in PSOAS_PATH)
    sides = [_Tube(tuple((sx * p[0], p[1], p[2]) for p in PSOAS_PATH), radii, 10.0, 4) for sx in (1, -1)]
    return union(sides)


@cache
def _quadratus_lumborum() -> Shape:
    """Both quadrati lumborum: flat bands from the 12th rib to the iliac crest behind the kidneys (mm)."""
    sides = []
    for sx in (1.0, -1.0):
        top, bottom = np.array([sx * 52.0, -44.0, 196.0]), np.array([sx * 70.0, -47.0, 45.0])
        angles = _angles(tuple(top - bottom), (1.0, 0.0, 0.0))
        # ~17 x 8 mm semi-axes: ~4.5 cm2 at L3 (4-6 cm2 typical); widest low down, fanning onto the crest.
        upper = _Ell(tuple((top + bottom) / 2), (15.0, 7.0, 82.0), angles)
        lower = _Ell((sx * 67.0, -47.0, 85.0), (19.0, 8.5, 45.0), angles)
        sides.append(_Near(union((upper, lower), 8.0)))
    return union(sides)


@cache
def _erector_spinae() -> Shape:
    """Both erectores spinae (with multifidus) in the gutters from the sacrum to the upper thorax (mm)."""
    spine = _vertebral_curve()
    knots = []
    # Lateral reach (mm) of each muscle mass: widest in the lumbar region (15-20 cm2 per side at L3).
    reach = {
        -60.0: 30.0,
        -25.0: 36.0,
        10.0: 42.0,
        40.0: 44.0,
        75.0: 46.0,
        112.0: 46.0,
        150.0: 45.0,
        190.0: 44.0,
        230.0: 42.0,
        280.0: 40.0,
        330.0: 38.0,
        380.0: 35.0,
        420.0: 33.0,
        450.0: 31.0,
    }
    for z, hx in reach.items():
        _, hy_b, cy_b = _body_section(z)
        back = cy_b - hy_b + FAT["back"] + 0.5
        if z >= 30.0:
            y_c, depth = spine(z)
            front = y_c - depth / 2 - (20.0 if z < 220 else 24.0)  # behind the laminae/transverse processes
        else:
            # Over the sacrum: on the dorsal surface (about 45 mm behind the ventral midline at S1, 25 at S4).
            vz = [p[1] for p in frame.SACRAL_VENTRAL_MIDLINE][::-1]
            vy = [p[0] for p in frame.SACRAL_VENTRAL_MIDLINE][::-1]
            front = float(np.interp(z, vz, vy)) - (45.0 if z > -30 else 32.0)
        knots.append((z, hx, (front - back) / 2, (front + back) / 2))
    midline = _Box((0.0, -60.0, 195.0), (4.5, 80.0, 270.0))  # spinous processes, supraspinous ligament
    return Subtract(_Trunk(tuple(knots), 2.6), midline)


@cache
def _rectus_abdominis() -> Shape:
    """Both recti, ~9 mm thick, paramedian from the pubis to the xiphoid and costal cartilages (mm)."""
    sheet = Shell(Offset(_subcutaneous_boundary(), -1.0), RECTUS_MM)
    # Width: ~35 mm at the pubic crest widening to ~80 mm at the costal margin; linea alba ~10 mm wide.
    right = HalfSpace((30.0, 0.0, -95.0), (1.0, 0.0, -0.13))
    left = HalfSpace((-30.0, 0.0, -95.0), (-1.0, 0.0, -0.13))
    front = _Box((0.0, 110.0, 87.5), (95.0, 75.0, 182.5), 10.0)
    alba = _Box((0.0, 110.0, 87.5), (5.0, 80.0, 190.0))
    return Subtract(Intersect(Intersect(Intersect(sheet, front), right), left), alba)


@cache
def _lateral_wall() -> Shape:
    """External oblique, internal oblique and transversus (4, 7, 3 mm) from the costal margin to the crest."""
    # external oblique 4, internal oblique 7, transversus 3 mm, with 1 mm fat planes between
    layers = _Layers(_subcutaneous_boundary(), ((0.0, 4.0), (5.0, 7.0), (13.0, 3.0)))
    # From the linea semilunaris (lateral edge of the rectus) round the flank to the thoracolumbar fascia
    # at the lateral edge of the quadratus lumborum; below, the iliac crest, ASIS and inguinal ligament.
    band = _Box((0.0, 30.0, 85.0), (250.0, 105.0, 140.0), 12.0)
    rectus_zone = _Box((0.0, 120.0, 85.0), (62.0, 80.0, 160.0), 8.0)
    back = _Box((0.0, -100.0, 85.0), (75.0, 45.0, 160.0), 8.0)  # erector spinae and its fascia
    crest = Mirrored(
        _plane((120.0, -20.0, 42.0), (112.0, 60.0, -20.0), (28.0, 62.0, -92.0), (100.0, 0.0, 150.0))
    )
    return Intersect(Subtract(Intersect(layers, band), union((rectus_zone, back))), crest)


# --------------------------------------------------------------------------------------------------
# Great vessels (layer "vessel", blood).

# The thorax region continues the aorta above AORTA_TOP and the IVC above IVC_TOP.
AORTA_TOP: Vec3 = (-14.0, 25.0, 230.0)
AORTA_PATH: tuple[tuple[float, float, float, float], ...] = (
    # x, y, z, radius: through the hiatus at T12 onto the front of the lumbar bodies, tapering from
    # ~21 mm to 14.5 mm below the renal arteries; bifurcation at the frame point.
    (*AORTA_TOP, 10.5),
    (-11.5, 32.0, 212.0, 10.5),
    (-10.0, 36.0, 186.0, 10.0),
    (-9.0, 37.5, 160.0, 8.5),
    (-8.5, 37.5, 130.0, 7.4),
    (-8.0, 35.5, 95.0, 7.2),
    (*frame.LANDMARKS["aortic_bifurcation"], 7.0),
)
IVC_TOP: Vec3 = (17.0, 38.0, 290.0)
IVC_PATH: tuple[tuple[float, float, float, float], ...] = (
    # From the confluence up the right front of the spine, widening at the renal veins, forward into the
    # groove behind the caudate lobe and through the diaphragm to the right atrium.
    (*frame.LANDMARKS["ivc_confluence"], 9.5),
    (19.0, 30.0, 100.0, 10.0),
    (22.0, 33.0, 140.0, 10.5),
    (24.0, 36.0, 170.0, 11.0),
    (25.0, 40.0, 200.0, 11.0),
    (23.0, 41.0, 235.0, 11.0),
    (20.0, 40.0, 265.0, 11.5),
    (*IVC_TOP, 12.0),
)


def _tube(path: tuple[tuple[float, float, float, float], ...], seg_mm: float = 6.0) -> Shape:
    """A Tube through rows of (x, y, z, radius) mm."""
    return _Tube(tuple(tuple(p[:3]) for p in path), tuple(p[3] for p in path), seg_mm)


@cache
def _aorta() -> Shape:
    """Abdominal aorta (mm)."""
    return _tube(AORTA_PATH)


@cache
def _ivc() -> Shape:
    """Inferior vena cava (mm)."""
    return _tube(IVC_PATH)


# Superior mesenteric artery: from L1 forward and down in front of the left renal vein, the uncinate and D3.
SMA_PATH = (
    (-9.0, 44.0, 184.0, 3.8),
    (-8.0, 52.0, 176.0, 3.6),
    (-6.5, 58.0, 166.0, 3.5),
    (-5.5, 64.0, 148.0, 3.4),
    (-4.0, 68.0, 122.0, 3.2),
    (-1.0, 72.0, 95.0, 3.0),
    (3.0, 78.0, 70.0, 2.5),
)
# Coeliac trunk at T12-L1, with the common hepatic artery to the right (up to the porta as the proper
# hepatic artery) and the splenic artery along the upper border of the pancreas to the splenic hilum.
COELIAC_PATHS = (
    ((-11.0, 40.0, 200.0, 3.6), (-9.0, 52.0, 202.0, 3.4), (-7.0, 60.0, 200.0, 3.2)),
    (
        (-7.0, 60.0, 200.0, 2.8),
        (8.0, 65.0, 197.0, 2.6),
        (24.0, 67.0, 198.0, 2.5),
        (32.0, 66.0, 207.0, 2.2),
        (40.0, 64.0, 214.0, 2.0),
    ),
    (
        (-7.0, 60.0, 200.0, 2.8),
        (-25.0, 60.0, 200.0, 2.7),
        (-42.0, 47.0, 201.0, 2.6),
        (-56.0, 32.0, 205.0, 2.5),
        (-68.0, 16.0, 207.0, 2.4),
        (-78.0, 2.0, 209.0, 2.2),
    ),
)


@cache
def _sma() -> Shape:
    """Superior mesenteric artery (mm)."""
    return _tube(SMA_PATH)


@cache
def _coeliac() -> Shape:
    """Coeliac trunk with its hepatic and splenic branches (mm)."""
    return union([_tube(p) for p in COELIAC_PATHS])


# Veins: the splenic vein along the back of the pancreas, the SMV right of the SMA, their confluence behind
# the pancreatic neck; the portal vein from there to the porta hepatis, dividing right and left.
CONFLUENCE: Vec3 = (8.0, 51.0, 178.0)
SPLENIC_VEIN = (
    (-78.0, -6.0, 203.0, 4.0),
    (-64.0, 4.0, 199.0, 4.3),
    (-46.0, 20.0, 193.0, 4.5),
    (-26.0, 40.0, 187.0, 4.5),
    (-8.0, 56.0, 182.0, 4.7),
    (*CONFLUENCE, 5.5),
)
SMV_PATH = (
    (6.0, 80.0, 80.0, 4.5),
    (8.0, 74.0, 115.0, 5.0),
    (9.0, 66.0, 145.0, 5.5),
    (9.0, 60.0, 165.0, 6.0),
    (*CONFLUENCE, 6.5),
)
PORTA: Vec3 = (34.0, 54.0, 205.0)
PORTAL_PATHS = (
    # main portal vein, 15 mm, in front of the IVC (epiploic foramen between)
    ((*CONFLUENCE, 7.0), (18.0, 58.0, 191.0, 7.5), (*PORTA, 7.5)),
    # right portal vein and its anterior and posterior sectoral branches
    ((*PORTA, 6.0), (54.0, 44.0, 212.0, 5.5), (70.0, 34.0, 214.0, 5.0), (82.0, 24.0, 212.0, 4.0)),
    ((70.0, 34.0, 214.0, 3.5), (80.0, 50.0, 205.0, 3.0), (88.0, 60.0, 196.0, 2.5)),
    ((76.0, 30.0, 213.0, 3.5), (88.0, 8.0, 204.0, 3.0), (94.0, -10.0, 196.0, 2.5)),
    # left portal vein: transverse part, umbilical part, branches to segments II, III and IV
    (
        (*PORTA, 5.5),
        (18.0, 58.0, 212.0, 5.0),
        (2.0, 62.0, 215.0, 4.8),
        (-7.0, 72.0, 214.0, 4.5),
        (-10.0, 84.0, 211.0, 3.5),
    ),
    ((-7.0, 70.0, 214.0, 3.2), (-28.0, 62.0, 230.0, 2.8), (-50.0, 58.0, 240.0, 2.3)),
    ((-10.0, 80.0, 211.0, 3.0), (-32.0, 86.0, 220.0, 2.6), (-55.0, 82.0, 226.0, 2.2)),
    ((-6.0, 76.0, 214.0, 2.5), (8.0, 82.0, 216.0, 2.3), (22.0, 84.0, 212.0, 2.0)),
)
# Hepatic veins (right, middle, left) converging on the IVC just below the right atrium.
HEPATIC_VEIN_PATHS = (
    ((102.0, 10.0, 200.0, 2.5), (88.0, 18.0, 228.0, 4.0), (60.0, 30.0, 255.0, 5.5), (30.0, 38.0, 268.0, 6.5)),
    ((50.0, 74.0, 210.0, 2.5), (42.0, 68.0, 228.0, 3.8), (32.0, 54.0, 252.0, 5.0), (22.0, 44.0, 266.0, 5.5)),
    (
        (-56.0, 72.0, 234.0, 2.3),
        (-30.0, 64.0, 242.0, 3.5),
        (-4.0, 54.0, 252.0, 4.5),
        (14.0, 45.0, 264.0, 5.5),
    ),
)


@cache
def _portal_vein() -> Shape:
    """Portal vein from the confluence to its intrahepatic branches (mm)."""
    return union([_tube(p) for p in PORTAL_PATHS])


@cache
def _hepatic_veins() -> Shape:
    """Right, middle and left hepatic veins (mm)."""
    return union([_tube(p) for p in HEPATIC_VEIN_PATHS])


@cache
def _mesenteric_veins() -> Shape:
    """Splenic vein and superior mesenteric vein (mm)."""
    return union((_tube(SPLENIC_VEIN), _tube(SMV_PATH)))


# --------------------------------------------------------------------------------------------------
# Kidneys, renal sinus and pelvis, adrenals, renal vessels, ureters.

HILUM_ANGLE_DEG = 42.0  # hilum faces anteromedially, ~42 deg to the coronal plane


class _Kidney:
    """Geometry of one kidney: centre, axes (long, towards the hilum, thickness) and its parts (mm)."""

    def __init__(self, side: int, centre: Vec3) -> None:
        self.side = side  # +1 right, -1 left
        self.centre = np.asarray(centre, float)
        # Long axis tilted so the upper pole is medial (~12 deg) and posterior (~15 deg).
        self.long = _unit((-side * 0.21, -0.27, 1.0))
        a = np.radians(HILUM_ANGLE_DEG)
        hilum = np.array([-side * np.cos(a), np.sin(a), 0.0])
        self.hilum = _unit(hilum - self.long * np.dot(hilum, self.long))
        self.angles = _angles(tuple(self.long), tuple(self.hilum))

    def at(self, along: float, towards_hilum: float = 0.0, back: float = 0.0) -> Vec3:
        """A point (mm) at local offsets: along the long axis, towards the hilum, through the thickness."""
        thick = np.cross(self.long, self.hilum)
        return tuple(self.centre + along * self.long + towards_hilum * self.hilum + back * thick)

    def bean(self) -> Shape:
        """Outer surface: 114 x 55 x 39 mm, fuller than an ellipsoid, with the hilar notch."""
        poles = [_Ell(self.at(s * 13.0), (27.5, 19.5, 44.0), self.angles) for s in (1, -1)]
        notch = _Ell(self.at(-4.0, 30.0), (10.0, 11.0, 21.0), self.angles)
        return Subtract(union(poles, 6.0), notch, 5.0)

    def sinus(self) -> Shape:
        """Renal sinus: fat, calyces and pelvis, opening through the hilum (mm)."""
        core = _Ell(self.at(-2.0, 9.0), (11.0, 8.5, 30.0), self.angles)
        neck = _Ell(self.at(-4.0, 22.0), (10.0, 8.0, 16.0), self.angles)
        return union((core, neck), 5.0)

    def pelvis(self) -> Shape:
        """Renal pelvis and major calyces with urine (mm)."""
        upj = self.ureter_start()
        return union(
            (
                _Cap(self.at(-2.0, 12.0), self.at(-6.0, 22.0), 5.5, 4.5),
                _Cap(self.at(-6.0, 22.0), upj, 4.5, 2.6),
                _Cap(self.at(-2.0, 12.0), self.at(20.0, 4.0), 3.5, 2.5),
                _Cap(self.at(-2.0, 12.0), self.at(-24.0, 4.0), 3.5, 2.5),
            ),
            3.0,
        )

    def ureter_start(self) -> Vec3:
        """Pelvi-ureteric junction, just outside the hilum (mm)."""
        return self.at(-14.0, 31.0)


KIDNEY_RIGHT = _Kidney(+1, (72.0, -15.0, 146.0))
KIDNEY_LEFT = _Kidney(-1, (-70.0, -13.0, 168.0))


@cache
def _kidney_parts(side: str) -> tuple[Shape, Shape, Shape]:
    """(parenchyma, sinus fat, pelvis) of one kidney (mm)."""
    k = KIDNEY_RIGHT if side == "right" else KIDNEY_LEFT
    bean, sinus, pelvis = k.bean(), k.sinus(), k.pelvis()
    return Subtract(bean, sinus, 2.0), Subtract(Intersect(sinus, bean), pelvis), pelvis


@cache
def _kidney_outer(side: str) -> Shape:
    """Whole kidney outline (mm), for cutting impressions into neighbours."""
    return (KIDNEY_RIGHT if side == "right" else KIDNEY_LEFT).bean()


@cache
def _ureters() -> Shape:
    """Both upper ureters, 5 mm, from the pelvi-ureteric junctions down the psoas to the pelvic brim (mm)."""
    right = (
        KIDNEY_RIGHT.ureter_start(),
        (48.0, 18.0, 125.0),
        (45.0, 23.0, 100.0),
        (42.0, 27.0, 70.0),
        (41.0, 27.0, 40.0),
        frame.URETER_AT_BRIM["right"],
    )
    left = (
        KIDNEY_LEFT.ureter_start(),
        (-46.0, 20.0, 140.0),
        (-43.0, 24.0, 110.0),
        (-41.0, 27.0, 75.0),
        (-44.0, 27.0, 42.0),
        frame.URETER_AT_BRIM["left"],
    )
    return union([_Tube(tuple(map(tuple, p)), 2.5) for p in (right, left)])


@cache
def _renal_vessels() -> Shape:
    """Renal arteries (from the aorta at L1, the right behind the IVC) and veins (the left between the aorta
    and the SMA) (mm)."""
    kr, kl = KIDNEY_RIGHT, KIDNEY_LEFT
    arteries = (
        ((-2.0, 35.0, 180.0), (16.0, 22.0, 174.0), (34.0, 17.0, 166.0), kr.at(0.0, 16.0, 2.0)),
        ((-18.0, 34.0, 178.0), (-34.0, 26.0, 176.0), kl.at(0.0, 16.0, 2.0)),
    )
    veins = (
        (kr.at(-3.0, 20.0, -5.0), (36.0, 26.0, 157.0), (26.0, 34.0, 163.0)),
        (
            kl.at(-3.0, 20.0, -5.0),
            (-36.0, 34.0, 167.0),
            (-20.0, 47.0, 168.0),
            (-8.0, 50.0, 168.0),
            (8.0, 46.0, 168.0),
            (20.0, 40.0, 168.0),
        ),
    )
    parts = [_Tube(tuple(map(tuple, a)), 2.8) for a in arteries]
    parts += [_Tube(veins[0], 5.0), _Tube(veins[1], (5.0, 5.0, 4.0, 3.2, 4.5, 5.5))]
    return union(parts)


@cache
def _adrenals() -> tuple[Shape, Shape]:
    """Right adrenal (behind the IVC) and left adrenal (beside the aorta): inverted-Y limbs ~5 mm (mm)."""

    def limbs(body_top: Vec3, knee: Vec3, medial: Vec3, lateral: Vec3) -> Shape:
        return union(
            (_Cap(body_top, knee, 2.6, 3.0), _Cap(knee, medial, 3.0, 2.0), _Cap(knee, lateral, 2.8, 2.0)), 2.0
        )

    right = limbs((32.0, 22.0, 226.0), (36.0, 12.0, 214.0), (32.0, -4.0, 200.0), (48.0, -2.0, 206.0))
    left = limbs((-30.0, 18.0, 210.0), (-34.0, 8.0, 200.0), (-30.0, -8.0, 188.0), (-46.0, -6.0, 193.0))
    return right, left


# --------------------------------------------------------------------------------------------------
# Gallbladder, stomach, duodenum, pancreas, spleen.

GB_CENTRE: Vec3 = (70.0, 42.0, 172.0)
GB_AXIS: Vec3 = (-0.25, -0.3, 0.92)  # fundus anteroinferior, neck up towards the porta


@cache
def _gallbladder() -> Shape:
    """Gallbladder, 78 x 30 x 26 mm (8-10 x 3-4 cm typical) (mm)."""
    return _Ell(GB_CENTRE, (15.0, 13.0, 39.0), _angles(GB_AXIS, (1.0, 0.0, 0.0)))


STOMACH_PATH = (
    # x, y, z, radius: cardia, fundus under the left dome, body down the left, antrum crossing in front of
    # the pancreas (collapsed), pylorus right of the midline at L1.
    (*thorax.OESOPHAGUS[-1][:3], 8.5),  # cardia, where the thorax region's oesophagus ends
    (-44.0, 22.0, 252.0, 22.0),
    (-64.0, 20.0, 238.0, 28.0),
    (-80.0, 44.0, 214.0, 23.0),
    (-70.0, 52.0, 192.0, 18.0),
    (-50.0, 60.0, 174.0, 13.0),
    (-28.0, 70.0, 164.0, 8.5),
    (-5.0, 75.0, 158.0, 5.5),
    (14.0, 75.0, 162.0, 5.5),
    (24.0, 72.0, 176.0, 6.5),
)
STOMACH_WALL_MM = 4.0
# Supine: gas floats to the front (air-fluid level in a coronal plane), fluid lies in the fundus.
STOMACH_AIR_FLUID_LEVEL_Y = 52.0


@cache
def _stomach() -> Shape:
    """Stomach outer surface (mm), moulded under the left dome."""
    return Intersect(_tube(STOMACH_PATH), _abdominal_cavity())


DUODENUM_PATH = (
    # D1 from the pylorus back and right, D2 down right of the head, D3 across L3 between the SMA and the
    # aorta, D4 up left of the aorta to the duodenojejunal flexure left of L2.
    (24.0, 72.0, 176.0, 6.5),
    (34.0, 64.0, 184.0, 10.0),
    (44.0, 50.0, 185.0, 10.0),
    (47.0, 40.0, 172.0, 10.0),
    (48.0, 38.0, 150.0, 10.0),
    (47.0, 40.0, 128.0, 10.0),
    (38.0, 46.0, 113.0, 9.5),
    (20.0, 54.0, 110.0, 8.5),
    (0.0, 55.0, 113.0, 8.0),
    (-18.0, 52.0, 120.0, 9.0),
    (-28.0, 48.0, 134.0, 9.5),
    (-30.0, 50.0, 150.0, 9.5),
    (-30.0, 50.0, 156.0, 9.0),
)
DUODENUM_WALL_MM = 2.5
DJ_FLEXURE: Vec3 = DUODENUM_PATH[-1][:3]


@cache
def _duodenum() -> Shape:
    """Duodenum outer surface (mm), indented by the gallbladder."""
    pylorus = _sphere(STOMACH_PATH[-1][:3], STOMACH_PATH[-1][3])  # the stomach's end: the pyloric ring
    return Subtract(_tube(DUODENUM_PATH), union((Offset(_gallbladder(), 2.0), pylorus)))


PANCREAS_PATH = (
    # neck in front of the confluence, body over the SMA and aorta at L1, tail up to the splenic hilum.
    (16.0, 63.0, 170.0, 7.5),
    (2.0, 66.0, 179.0, 9.0),
    (-14.0, 65.0, 186.0, 11.0),
    (-30.0, 51.0, 192.0, 11.5),
    (-48.0, 32.0, 197.0, 10.5),
    (-64.0, 16.0, 201.0, 9.5),
    (-76.0, 4.0, 205.0, 7.5),
)


PANCREAS_HEAD: Vec3 = (30.0, 56.0, 152.0)
UNCINATE: Vec3 = (9.0, 53.0, 141.0)


@cache
def _pancreas_parts() -> tuple[Shape, Shape]:
    """(head, neck, body and tail; uncinate process) of the pancreas, lobulated (mm)."""
    head = _Ell(PANCREAS_HEAD, (16.0, 12.5, 23.0), (0.0, 10.0, 0.0))
    # Neck, body and tail are flatter than round (taller than deep): two tubes, one a little lower.
    lower = tuple((x, y, z - 7.0, 0.85 * r) for x, y, z, r in PANCREAS_PATH[1:])
    gland = union((head, _tube(PANCREAS_PATH), _tube(lower)), 6.0)
    uncinate = _Ell(UNCINATE, (15.0, 6.5, 10.0), (0.0, 0.0, -10.0))
    # The gland reaches 1.5 mm into the uncinate, which is painted over it: no seam between the two.
    gland = Subtract(Displaced(gland, 1.2, 22.0, seed=7), Offset(uncinate, -1.5))
    cut = union(
        (
            Offset(_ivc(), 2.0),
            Offset(_mesenteric_veins(), 1.0),
            Offset(_sma(), 2.5),
            Offset(_aorta(), 2.0),
            Offset(_coeliac(), 1.5),
        )
    )
    return Subtract(gland, cut), uncinate


SPLEEN_CENTRE: Vec3 = (-82.0, -24.0, 220.0)


@cache
def _spleen() -> Shape:
    """Spleen: crescent with a convex diaphragmatic surface and the hilum facing anteromedially (mm)."""
    long_axis = (-0.27, 0.5, -0.82)  # upper pole posterior-superior, lower pole anterior-inferior
    outward = (-0.75, -0.62, 0.0)  # convex surface faces posterolaterally
    body = _Ell(SPLEEN_CENTRE, (32.0, 54.0, 63.0), _angles(long_axis, outward))
    hollow = _Ell(
        tuple(np.asarray(SPLEEN_CENTRE) + 52.0 * np.array([0.75, 0.62, 0.0])),
        (30.0, 46.0, 60.0),
        _angles(long_axis, outward),
    )
    shape = Subtract(Displaced(body, 1.2, 45.0, seed=3), hollow, 6.0)
    tail = _Cap(
        PANCREAS_PATH[-2][:3], PANCREAS_PATH[-1][:3], PANCREAS_PATH[-2][3] + 2.5, PANCREAS_PATH[-1][3] + 2.5
    )
    neighbours = union(
        (Offset(_kidney_outer("left"), 3.0), *_stomach_proxies(3.0), tail, Offset(_quadratus_lumborum(), 2.0))
    )
    shape = Intersect(shape, Offset(_abdominal_cavity(), -1.0))
    return Subtract(shape, neighbours, 3.0)


ACCESSORY_SPLEEN_CENTRE: Vec3 = (-94.0, 16.0, 162.0)


# --------------------------------------------------------------------------------------------------
# Liver.

_LIVER_BORDER = ((106.0, 62.0, 140.0), (0.0, 98.0, 200.0), (-70.0, 84.0, 222.0))


def _stomach_proxies(margin_mm: float) -> list[Shape]:
    """Tapered capsules a little larger than the stomach's upper half, for cutting its impression (mm)."""
    pts = STOMACH_PATH[:7]
    return [_Cap(a[:3], b[:3], a[3] + margin_mm, b[3] + margin_mm) for a, b in itertools.pairwise(pts)]


@cache
def _liver() -> Shape:
    """The whole liver (mm): dome under the diaphragm, sharp anteroinferior border, concave visceral
    surface with the renal, gastric, duodenal and gallbladder impressions and the IVC groove."""
    right = _Ell((58.0, 12.0, 214.0), (70.0, 100.0, 80.0))
    left = _Ell((-22.0, 60.0, 238.0), (74.0, 50.0, 44.0), (0.0, -8.0, 0.0))
    # The lateral right lobe (segments VI, V) reaches lowest, ~15 cm below the dome, lateral to the kidney.
    lateral = _Ell((104.0, 18.0, 176.0), (20.0, 55.0, 44.0))
    envelope = Intersect(union((right, left, lateral), 28.0), Offset(_abdominal_cavity(), -1.0))
    # Sharp inferior border: a plane through the border line sloping back and down under the organ.
    a, b, _ = (np.asarray(p) for p in _LIVER_BORDER)
    c = a + np.array([0.0, -87.0, -50.0])
    envelope = Intersect(envelope, _plane(tuple(a), tuple(b), tuple(c), (60.0, 20.0, 230.0)))
    envelope = Displaced(envelope, 1.5, 60.0, seed=5)  # gently undulating capsule
    kr_outer = _kidney_outer("right")
    right_adrenal, _ = _adrenals()
    # Neighbours cut out of the liver, in three groups that each point only evaluates when near.
    below = [
        # Medially the visceral surface arches up to the porta hepatis over the duodenum, the pancreatic
        # head and the right renal hilum; behind, the liver rests on the kidney, never behind it.
        _Ell((30.0, 30.0, 135.0), (35.0, 60.0, 45.0)),
        _Cap((47.0, 40.0, 176.0), (48.0, 38.0, 140.0), 14.0),
        _Ell((80.0, -95.0, 150.0), (75.0, 62.0, 80.0)),
        _Ell((60.0, -40.0, 100.0), (45.0, 45.0, 60.0)),
        # in front of the lower kidney, medial to the lowest (lateral) part of the right lobe
        _Ell((62.0, 20.0, 120.0), (26.0, 40.0, 38.0)),
        # medial to the kidney on the psoas, and in front of the pancreatic head below the porta
        _Ell((38.0, -22.0, 160.0), (16.0, 26.0, 45.0)),
        _Ell((36.0, 66.0, 158.0), (18.0, 18.0, 24.0)),
        # the gallbladder fundus projects below the inferior border at the mid-clavicular line
        _Ell((64.0, 46.0, 142.0), (16.0, 22.0, 18.0)),
        # behind the IVC below the bare area: right crus, adrenal, coeliac and renal vessels
        _Ell((25.0, 5.0, 175.0), (24.0, 22.0, 34.0)),
        _Near(Offset(kr_outer, 2.5), 5.0),
        _Near(Offset(right_adrenal, 4.0), 5.0),
        _Near(Offset(_gallbladder(), 1.0), 5.0),
        # duodenal bulb
        _Cap((34.0, 64.0, 184.0), (44.0, 50.0, 185.0), 14.0),
    ]
    middle = [
        # in front of the aorta below the caudate lobe: coeliac trunk, crura, nodes
        _Ell((0.0, 25.0, 168.0), (22.0, 25.0, 34.0)),
        # the right crus and the vertebral column, the paraspinal muscles behind
        _Ell((2.0, -15.0, 230.0), (30.0, 38.0, 80.0)),
        _Near(_erector_spinae(), 5.0),
        Offset(_quadratus_lumborum(), 2.0),
        # IVC groove behind the caudate (bare area), up to where the IVC leaves through the diaphragm
        _Cap((25.0, 40.0, 190.0), (23.0, 41.0, 235.0), 13.5),
        _Cap((23.0, 41.0, 235.0), (20.0, 40.0, 265.0), 13.5),
        _Cap((20.0, 40.0, 265.0), (16.0, 38.0, 300.0), 14.0),
        # aorta and oesophagus behind the left lobe and caudate
        _Cap((-11.0, 34.0, 188.0), (-14.0, 25.0, 230.0), 15.0),
        _Cap((-14.0, 25.0, 230.0), (-14.0, 25.0, 290.0), 16.0),
        *(
            _Cap(a[:3], b[:3], a[3] + 3.0, b[3] + 3.0)
            for a, b in zip(thorax.OESOPHAGUS[-4:-1], thorax.OESOPHAGUS[-3:], strict=True)
        ),
        # fissure of the ligamentum teres (umbilical fissure) with its fat
        _Cap((3.0, 104.0, 200.0), (2.0, 70.0, 214.0), 3.5),
    ]
    left = [
        # the lesser sac and the upper border of the pancreas under the left lobe; the stomach
        _Ell((-20.0, 55.0, 178.0), (50.0, 32.0, 30.0)),
        *(_Cap(a[:3], b[:3], a[3] + 4.0, b[3] + 4.0) for a, b in itertools.pairwise(PANCREAS_PATH[2:])),
        *_stomach_proxies(4.0),
    ]
    cut = union([_Near(union(group), 10.0) for group in (below, middle, left)])
    return Subtract(envelope, cut, 1.5)


# Cantlie's plane (gallbladder fossa to the IVC) divides the functional right and left lobes.
_CANTLIE = ((48.0, 104.0, 196.0), (52.0, 66.0, 174.0), (16.0, 42.0, 262.0))
_CAUDATE = _Ell((4.0, 47.0, 230.0), (16.0, 12.0, 27.0), (0.0, 0.0, 20.0))


@cache
def _liver_parts() -> tuple[Shape, Shape, Shape]:
    """(right lobe, left lobe, caudate lobe) of the liver (mm)."""
    liver = _liver()
    right_side = _plane(*_CANTLIE, (100.0, 30.0, 220.0))
    left_side = _plane(*_CANTLIE, (-50.0, 70.0, 230.0))
    # Each later part reaches 1.5 mm into the one painted before it: one organ, no seam on the images.
    core = Offset(_CAUDATE, -1.5)
    right = Subtract(
        Intersect(Intersect(liver, Offset(right_side, 1.5)), _Box((60.0, 10.0, 210.0), (70.0, 120.0, 90.0))),
        core,
    )
    left = Subtract(
        Intersect(Intersect(liver, left_side), _Box((-15.0, 30.0, 213.0), (95.0, 90.0, 85.0))), core
    )
    return right, left, Intersect(liver, _CAUDATE)


# --------------------------------------------------------------------------------------------------
# Visceral fat.


@cache
def _visceral_fat() -> Shape:
    """Fat filling the abdominal cavity and retroperitoneum inside the muscle wall (mm)."""
    cavity = _abdominal_cavity()
    # The pelvic inlet (promontory to the top of the symphysis): below it, the pelvis region's fat.
    inlet = HalfSpace((0.0, 0.0, 0.0), (0.0, -98.0, -61.0))
    cavity = Intersect(cavity, inlet)
    # The psoas, like the pelvis region's iliacus, is painted over this fat ("organ" layer).
    return Subtract(cavity, union((_quadratus_lumborum(), _Near(_erector_spinae(), 10.0))))


# --------------------------------------------------------------------------------------------------
# Liver lesions.

# (centre, diameter, lobe, segment, lobule seed): sizes 5-36 mm in both lobes, as in the case's bilobar
# disease; the 5 mm lesion shows partial volume.
LIVER_LESIONS: tuple[tuple[Vec3, float, str, str, int], ...] = (
    # Placed >= 3 mm inside the capsule and >= 3 mm from the hepatic and portal veins, IVC and gallbladder.
    ((61.0, -1.0, 234.0), 36.0, "right", "VII/VIII", 11),
    ((89.0, 12.0, 186.0), 24.0, "right", "VI", 12),
    ((65.0, 59.0, 242.0), 16.0, "right", "VIII", 13),
    ((63.0, 60.0, 207.0), 8.0, "right", "V", 14),
    ((85.0, -10.0, 238.0), 5.0, "right", "VII", 15),
    ((10.0, 72.0, 233.0), 26.0, "left", "IVa", 16),
    ((-41.0, 69.0, 223.0), 12.0, "left", "III", 17),
    ((-65.0, 66.0, 238.0), 7.0, "left", "II", 18),
)
LIVER_LESION_LABELS = tuple(range(202, 210))


def _lesion_shape(centre: Vec3, diameter: float, seed: int) -> Shape:
    """Well-defined lobulated lesion: a main sphere with 2-3 outward lobules and gentle noise (mm)."""
    r = diameter / 2
    if diameter < 6:
        return _sphere(centre, r)
    rng = np.random.default_rng(seed)
    parts: list[Shape] = [_sphere(centre, 0.8 * r)]
    for _ in range(3 if diameter >= 15 else 2):
        d = _unit(rng.normal(size=3))
        parts.append(_sphere(tuple(np.asarray(centre) + 0.5 * r * d), 0.48 * r))
    shape = union(parts, 0.25 * r)
    return Displaced(shape, min(1.2, 0.05 * diameter), max(12.0, 1.6 * diameter), seed=seed)


def liver_lesions() -> list[Structure]:
    """The eight lobulated liver metastases (labels 202-209), collected by the lesions module."""
    out = []
    for label, (number, (centre, diameter, lobe, segment, seed)) in zip(
        LIVER_LESION_LABELS, enumerate(LIVER_LESIONS, start=1), strict=True
    ):
        out.append(
            Structure(
                f"liver_lesion_{number}",
                label,
                _lesion_shape(centre, diameter, seed),
                # The largest metastases express the most receptor (course choice; Kuyumcu 2013 reports a
                # mean SUVmax of 28.72 for NET liver metastases).
                TISSUES["liver_metastasis"].with_uptake(1.4, 30.0 if diameter >= 20 else 22.0),
                "lesion",
                location=f"{lobe} hepatic lobe, segment {segment}",
                is_lesion=True,
            )
        )
    return out


# --------------------------------------------------------------------------------------------------
# Structures and landmarks.


def structures() -> list[Structure]:
    """Structures of the abdomen (liver lesions excluded: see ``liver_lesions``)."""
    liver_right, liver_left, caudate = _liver_parts()
    head_body_tail, uncinate = _pancreas_parts()
    kr, ksr, pr = _kidney_parts("right")
    kl, ksl, pl = _kidney_parts("left")
    adrenal_right, adrenal_left = _adrenals()
    stomach = _stomach()
    blood, urine, fat, muscle = TISSUES["blood"], TISSUES["urine"], TISSUES["fat"], TISSUES["muscle"]
    return [
        Structure(
            "erector_spinae", 137, _erector_spinae(), muscle, "wall", location="erector spinae and multifidus"
        ),
        # In the organ layer, painted over the retroperitoneal fat like the pelvis region's iliacus it joins.
        Structure("psoas", 135, _psoas(), muscle, "organ", location="psoas major"),
        Structure("quadratus_lumborum", 136, _quadratus_lumborum(), muscle, "wall"),
        Structure("rectus_abdominis", 138, _rectus_abdominis(), muscle, "wall"),
        Structure(
            "abdominal_wall_muscles",
            139,
            _lateral_wall(),
            muscle,
            "wall",
            location="external oblique, internal oblique, transversus abdominis",
        ),
        Structure(
            "visceral_fat",
            140,
            _visceral_fat(),
            fat,
            "cavity",
            location="intraperitoneal and retroperitoneal fat, perirenal fat",
        ),
        Structure(
            "liver_right_lobe",
            110,
            liver_right,
            TISSUES["liver"],
            location="right hepatic lobe, segments V-VIII",
        ),
        Structure(
            "liver_left_lobe", 111, liver_left, TISSUES["liver"], location="left hepatic lobe, segments II-IV"
        ),
        Structure("liver_caudate", 112, caudate, TISSUES["liver"], location="caudate lobe, segment I"),
        Structure("spleen", 120, _spleen(), TISSUES["spleen"]),
        Structure(
            "accessory_spleen",
            121,
            _sphere(ACCESSORY_SPLEEN_CENTRE, 6.0),
            TISSUES["spleen"],
            location="splenule below the splenic hilum",
        ),
        Structure(
            "pancreas",
            118,
            head_body_tail,
            TISSUES["pancreas"],
            location="pancreatic head, neck, body and tail",
        ),
        Structure(
            "pancreas_uncinate",
            119,
            uncinate,
            TISSUES["uncinate"],
            location="uncinate process of the pancreas",
        ),
        Structure("kidney_right", 122, kr, TISSUES["kidney"]),
        Structure("kidney_left", 123, kl, TISSUES["kidney"]),
        Structure("renal_sinus_fat", 124, union((ksr, ksl)), TISSUES["renal_sinus_fat"]),
        Structure("adrenal_right", 127, adrenal_right, TISSUES["adrenal"]),
        Structure("adrenal_left", 128, adrenal_left, TISSUES["adrenal"]),
        Structure("gallbladder", 115, _gallbladder(), TISSUES["bile"], "hollow", 2.0, TISSUES["gut_wall"]),
        Structure(
            "stomach", 116, stomach, TISSUES["gut_fluid"], "hollow", STOMACH_WALL_MM, TISSUES["stomach_wall"]
        ),
        Structure(
            "stomach_gas",
            141,
            Intersect(
                Offset(stomach, -STOMACH_WALL_MM),
                HalfSpace((0.0, STOMACH_AIR_FLUID_LEVEL_Y, 0.0), (0.0, -1.0, 0.0)),
            ),
            TISSUES["gas"],
            "hollow",
            location="gas in the non-dependent stomach (supine)",
        ),
        Structure(
            "duodenum",
            117,
            _duodenum(),
            TISSUES["gut_fluid"],
            "hollow",
            DUODENUM_WALL_MM,
            TISSUES["gut_wall"],
        ),
        Structure("renal_pelvis", 125, union((pr, pl)), urine, "hollow"),
        Structure("aorta", 129, _aorta(), blood, "vessel", location="abdominal aorta"),
        Structure("inferior_vena_cava", 130, _ivc(), blood, "vessel"),
        Structure(
            "coeliac_trunk",
            132,
            _coeliac(),
            blood,
            "vessel",
            location="coeliac trunk, hepatic and splenic arteries",
        ),
        Structure("superior_mesenteric_artery", 133, _sma(), blood, "vessel"),
        Structure(
            "renal_vessels", 126, _renal_vessels(), blood, "vessel", location="renal arteries and veins"
        ),
        Structure("portal_vein", 114, _portal_vein(), blood, "vessel"),
        Structure("hepatic_veins", 113, _hepatic_veins(), blood, "vessel"),
        Structure(
            "mesenteric_veins",
            131,
            _mesenteric_veins(),
            blood,
            "vessel",
            location="splenic vein and superior mesenteric vein",
        ),
        Structure("ureters", 134, _ureters(), urine, "vessel", location="upper ureters, on the psoas"),
    ]


LANDMARKS: dict[str, Vec3] = {
    # Organ centres (mm; the kidneys' at the middle of the renal sinus).
    "liver": (41.0, 36.0, 228.0),
    "liver_right_lobe": (68.0, 22.0, 224.0),
    "liver_left_lobe": (-18.0, 66.0, 238.0),
    "liver_caudate": (3.0, 48.0, 230.0),
    "gallbladder": GB_CENTRE,
    "spleen": (-84.0, -20.0, 213.0),
    "accessory_spleen": ACCESSORY_SPLEEN_CENTRE,
    "uncinate_process": UNCINATE,
    "pancreas_head": PANCREAS_HEAD,
    "pancreas_tail": (-70.0, 10.0, 203.0),
    "kidney_right": tuple(float(v) for v in KIDNEY_RIGHT.centre),
    "kidney_left": tuple(float(v) for v in KIDNEY_LEFT.centre),
    "adrenal_right": (37.0, 9.0, 212.0),
    "adrenal_left": (-35.0, 5.0, 199.0),
    "portal_vein": (18.0, 58.0, 191.0),
    "aorta_renal_level": (-9.7, 36.3, 178.0),
    "ivc_liver": (23.0, 41.0, 235.0),
    "duodenojejunal_flexure": DJ_FLEXURE,
    "pylorus": STOMACH_PATH[-1][:3],
    **{f"liver_lesion_{n}": c for n, (c, *_rest) in enumerate(LIVER_LESIONS, start=1)},
    # z = 238 mm cuts lesions 1, 3, 5, 6 and 8, in both lobes
    "liver_best_axial": (20.0, 40.0, 238.0),
}
