"""Body outline, chest wall, thorax, neck soft tissue and thighs of the synthetic patient (world mm, RAS+).

The body is one solid: the trunk outline of the frame (``frame.BODY_KNOTS``, superellipse sections), the two
thighs, the buttocks and the breasts, covered by skin. Under the subcutaneous fat (thickness varying around
the trunk and along it) lies the chest wall; inside it the pleural cavity holds the lungs, whose bases rest
on the two diaphragmatic domes (right higher) with deep posterior costophrenic recesses, and whose medial
surfaces wrap the mediastinum: heart and pericardium, aorta, pulmonary arteries, venae cavae, trachea and
bronchi, oesophagus. The neck holds the airway, thyroid, carotid arteries and jugular veins; the head the
parotid and submandibular glands. Skull, brain, spine and ribs belong to the skeleton module.

Sizes and positions: chest and diaphragm from Gray's Anatomy (diaphragm domes right higher by 5-25 mm,
supine about 3 cm higher than erect: indianradiology.com 2015/06 "elevated dome"; posterior pleural
reflection at the 12th rib: DOI 10.1055/s-0039-3401842); heart and great vessel calibres are typical adult
CT values (aortic root about 30 mm, descending thoracic aorta about 24 mm, pulmonary trunk below 29 mm,
left ventricular wall about 10 mm: Radiopaedia reference values); subcutaneous fat: women 6-24 mm thicker
than men (wbldb.lievers.net/10131709), 15-30 mm at the umbilicus. Values without a source are typical
textbook values and a course choice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from ..sdf import (
    Capsule,
    Displaced,
    Ellipsoid,
    HalfSpace,
    Intersect,
    Offset,
    RoundBox,
    Shape,
    Shell,
    Subtract,
    union,
)
from . import Structure, frame
from .tissues import TISSUES, Tissue

Vec3 = tuple[float, float, float]

# Label ids: 1-19 body, 180-199 thorax and neck (fixed, never derived from list order).
LABELS: dict[str, int] = {
    "subcutaneous_fat": 1,
    "breasts": 2,
    "body_wall_muscle": 3,
    "thigh_muscles": 4,
    "neck_axilla_fat": 5,
    "lungs": 180,
    "mediastinum": 181,
    "pericardium": 182,
    "myocardium": 183,
    "cardiac_blood_pool": 184,
    "aorta_thoracic": 185,
    "pulmonary_vessels": 186,
    "venae_cavae": 187,
    "ivc_intrathoracic": 188,
    "azygos_vein": 189,
    "trachea": 190,
    "upper_airway": 191,
    "oesophagus": 192,
    "diaphragm": 193,
    "thyroid": 194,
    "salivary_glands": 195,
    "neck_vessels": 196,
    "lymph_nodes_thorax": 197,
}

# The descending aorta continues as the abdomen's "aorta" below this point (mm, abdomen.AORTA_TOP), in
# front of the left anterolateral corner of T11-T12 as the aorta is at the hiatus; ours overlaps it a
# little further down so the two join without a seam.
AORTA_HANDOFF: Vec3 = (-14.0, 25.0, 230.0)
# The abdomen's inferior vena cava stops at (17, 38, 290) mm (abdomen.IVC_TOP, a 12 mm tube with a round
# end); ours starts inside that end and runs up and forward into the right atrium.
IVC_START: Vec3 = (18.0, 40.0, 296.0)


# ---------------------------------------------------------------------------------------- local shapes
@dataclass(frozen=True, eq=False)
class _Trunk(Shape):
    """The trunk outline (``frame.BODY_KNOTS``) or a surface ``depth`` below it: skin, fascia or pleura (mm).

    The distance is the first-order estimate F / |grad F| of the superellipse field F = rho - 1 including
    its change with z, so it stays honest where the outline narrows quickly (neck root, vertex) and an inset
    by a depth is a true depth, also along the long (x) axis. Sections are tabulated every 0.25 mm in z.
    """

    depth: str = "skin"  # "skin", "fascia" (under the subcutaneous fat) or "pleura" (inner chest wall)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    _STEP = 0.25

    def _tables(self) -> dict[str, np.ndarray]:
        if not self._cache:
            k = np.asarray(frame.BODY_KNOTS, float)
            z = np.arange(k[0, 0], k[-1, 0] + self._STEP, self._STEP)
            spline = CubicSpline(k[:, 0], k[:, 1:], bc_type="natural")
            sec, slope = spline(z), spline(z, 1)
            front, back, flank = (np.interp(z, *zip(*_FAT_PROFILE[side], strict=True)) for side in ("front", "back", "flank"))
            self._cache.update(
                {name: np.asarray(v, np.float32) for name, v in {
                    "irx": 1.0 / sec[:, 0], "iry": 1.0 / sec[:, 1], "cy": sec[:, 2],
                    "drx": slope[:, 0] / sec[:, 0], "dry": slope[:, 1] / sec[:, 1], "dcy": slope[:, 2] / sec[:, 1],
                    "rmin": np.minimum(sec[:, 0], sec[:, 1]), "front": front, "back": back, "flank": flank,
                    "taper": _UPPER_CAGE_TAPER * np.maximum(z - _UPPER_CAGE_Z, 0.0),
                }.items()}
            )
            self._cache["z"] = (float(k[0, 0]), float(k[-1, 0]))
        return self._cache

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        t = self._tables()
        z0, z1 = t["z"]
        x, y, z = points[..., 0], points[..., 1], points[..., 2]
        i = np.clip(((z - z0) / self._STEP + 0.5).astype(np.int32), 0, len(t["cy"]) - 1)
        irx, iry = t["irx"][i], t["iry"][i]
        e = np.float32(frame.BODY_SQUARENESS)
        u = x * irx
        v = (y - t["cy"][i]) * iry
        au, av = np.abs(u) + np.float32(1e-6), np.abs(v) + np.float32(1e-6)
        pu, pv = np.exp(e * np.log(au)), np.exp(e * np.log(av))
        s = pu + pv
        rho = np.exp(np.log(s) / e)
        # Gradient of rho = rho^(1-e) (|u|^(e-1) du, |v|^(e-1) dv), where rho^(1-e) = rho / s and
        # |u|^(e-1) = |u|^e / |u|; du and dv include the section's change with z.
        gu = np.copysign(pu / au, u)
        gv = np.copysign(pv / av, v)
        gx = gu * irx
        gy = gv * iry
        gz = -(gu * u * t["drx"][i] + gv * (v * t["dry"][i] + t["dcy"][i]))
        norm = rho / s * np.sqrt(gx * gx + gy * gy + gz * gz)
        radial = np.maximum((rho - 1) / np.maximum(norm, np.float32(1e-6)), -t["rmin"][i])
        radial = radial + self._depth(u, v, x, i)
        axial = np.maximum(z0 - z, z - z1)
        outside = np.sqrt(np.maximum(radial, 0) ** 2 + np.maximum(axial, 0) ** 2)
        return np.where((radial > 0) | (axial > 0), outside, np.maximum(radial, axial)).astype(points.dtype)

    def _depth(self, u: np.ndarray, v: np.ndarray, x: np.ndarray, i: np.ndarray) -> np.ndarray | np.float32:
        """Depth (mm) of this surface below the skin: subcutaneous fat, plus the chest wall for the pleura."""
        if self.depth == "skin":
            return np.float32(0.0)
        t = self._tables()
        c = v / np.sqrt(u * u + v * v + np.float32(1e-6))  # cosine of the angle from straight ahead
        front, back = np.maximum(c, 0) ** 2, np.maximum(-c, 0) ** 2
        fat = t["flank"][i] + (t["front"][i] - t["flank"][i]) * front + (t["back"][i] - t["flank"][i]) * back
        if self.depth == "fascia":
            return fat
        # Pleura: muscles and ribs (22-27 mm from the skin to the ribs, ribs about 10 mm) and, beside the
        # spine, the erector spinae that the ribs pass deep to on their way to the transverse processes.
        paraspinal = np.float32(_PARASPINAL_MM) * np.exp(-((x / np.float32(45.0)) ** 2)) * np.maximum(-c, 0)
        return fat + np.float32(_CHEST_WALL_MM) + paraspinal + t["taper"][i] * (1 - c * c)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        k = np.asarray(frame.BODY_KNOTS, float)
        z = np.linspace(k[0, 0], k[-1, 0], 400)
        sec = CubicSpline(k[:, 0], k[:, 1:], bc_type="natural")(z)
        return (
            np.array([-sec[:, 0].max(), (sec[:, 2] - sec[:, 1]).min(), k[0, 0]]),
            np.array([sec[:, 0].max(), (sec[:, 2] + sec[:, 1]).max(), k[-1, 0]]),
        )


# Beyond this distance (mm) from a part's box the part is not evaluated and distances read at most this
# much: more than the sampler's reach on its finer block levels (half a block diagonal with margin), so
# blocks far from every surface are still classified without evaluating their voxels.
_FAR_MM = 30.0


def _near(part: Shape, points: np.ndarray, margin: float = _FAR_MM) -> np.ndarray:
    """Indices of the points (flattened) within ``margin`` mm of a part's bounding box."""
    lo, hi = (np.asarray(b, float) for b in part.bounds_mm())
    lo, hi = (lo - margin).astype(points.dtype), (hi + margin).astype(points.dtype)
    flat = points.reshape(-1, 3)
    idx = np.flatnonzero((flat[:, 2] >= lo[2]) & (flat[:, 2] <= hi[2]))
    p = flat[idx]
    keep = (p[:, 0] >= lo[0]) & (p[:, 0] <= hi[0]) & (p[:, 1] >= lo[1]) & (p[:, 1] <= hi[1])
    return idx[keep]


@dataclass(frozen=True, eq=False)
class _Patched(Shape):
    """A big base solid with small parts added and cut smoothly, each evaluated only near its own box.

    Exact within ``_FAR_MM`` of a part's box; farther away the part is at least that far, so the distance is
    clamped to +-``_FAR_MM`` there: a bound the sampler accepts (it never overstates a distance). Much faster
    than a SmoothUnion over the whole body.
    """

    base: Shape | None
    added: tuple[Shape, ...] = ()
    cut: tuple[Shape, ...] = ()
    blend_mm: float = 10.0

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        far = np.float32(_FAR_MM)
        if self.base is None:
            d = np.full(points.shape[:-1], far, points.dtype).reshape(-1)
        else:
            d = self.base.distance_mm(points).reshape(-1)
            if self.added:
                d = np.minimum(d, far)
        if self.cut:
            d = np.maximum(d, -far)
        flat = points.reshape(-1, 3)
        for part in self.added:
            idx = _near(part, points)
            if len(idx):
                d[idx] = _smooth_min(d[idx], part.distance_mm(flat[idx]), self.blend_mm)
        for part in self.cut:
            idx = _near(part, points)
            if len(idx):
                d[idx] = -_smooth_min(-d[idx], part.distance_mm(flat[idx]), self.blend_mm)
        return d.reshape(points.shape[:-1])

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        shapes = self.added if self.base is None else (self.base, *self.added)
        lows, highs = zip(*(p.bounds_mm() for p in shapes), strict=True)
        return np.min(lows, axis=0), np.max(highs, axis=0)


def _local_union(parts: list[Shape], blend_mm: float) -> Shape:
    """Smooth union of small parts, each evaluated only near its own box (see ``_Patched``)."""
    return _Patched(None, tuple(parts), (), blend_mm)


@dataclass(frozen=True, eq=False)
class _MirrorX(Shape):
    """A solid lying at x >= 0 and its mirror image (mm): half the cost of ``Mirrored``, exact for such solids."""

    shape: Shape

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        folded = points.copy()
        folded[..., 0] = np.abs(folded[..., 0])
        return self.shape.distance_mm(folded)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.shape.bounds_mm()
        x = max(abs(lo[0]), abs(hi[0]))
        return np.array([-x, lo[1], lo[2]]), np.array([x, hi[1], hi[2]])


@dataclass(frozen=True, eq=False)
class _HeightField(Shape):
    """Everything below (``below``) or above a smooth surface (mm), inside a box: by default z = h(x, y) +
    ``offset_mm``; with ``axis = 1`` the surface is y = h(x, z) instead (a wall facing forward).

    The distance is (z - h) / sqrt(1 + |grad h|^2), exact for planes and close near a gently curved surface.
    h is tabulated once on a 1 mm grid over the box and read bilinearly, the slope factor at the nearest node.
    """

    height: Callable[[np.ndarray, np.ndarray], np.ndarray]
    below: bool
    lo_mm: Vec3
    hi_mm: Vec3
    offset_mm: float = 0.0
    axis: int = 2
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def _axes(self) -> tuple[int, int]:
        return tuple(i for i in range(3) if i != self.axis)

    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._cache:
            a, b = self._axes()
            u = np.arange(self.lo_mm[a], self.hi_mm[a] + 1.0, 1.0)
            v = np.arange(self.lo_mm[b], self.hi_mm[b] + 1.0, 1.0)
            gu, gv = np.meshgrid(u, v, indexing="ij")
            h = self.height(gu, gv).astype(float) + self.offset_mm
            su, sv = np.gradient(h, 1.0)
            self._cache["h"] = h.astype(np.float32)
            self._cache["slope"] = (1.0 / np.sqrt(1.0 + su * su + sv * sv)).astype(np.float32)
        return self._cache["h"], self._cache["slope"]

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        h, slope = self._table()
        a, b = self._axes()
        fu = np.clip(points[..., a] - np.float32(self.lo_mm[a]), 0, h.shape[0] - 1.001)
        fv = np.clip(points[..., b] - np.float32(self.lo_mm[b]), 0, h.shape[1] - 1.001)
        iu, iv = fu.astype(np.int32), fv.astype(np.int32)
        tu, tv = fu - iu, fv - iv
        flat = iu * h.shape[1] + iv
        hf, n = h.ravel(), h.shape[1]
        lower = hf[flat] + (hf[flat + 1] - hf[flat]) * tv
        upper = hf[flat + n] + (hf[flat + n + 1] - hf[flat + n]) * tv
        d = (points[..., self.axis] - (lower + (upper - lower) * tu)) * slope.ravel()[flat]
        return (d if self.below else -d).astype(points.dtype)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.lo_mm, float), np.asarray(self.hi_mm, float)


@dataclass(frozen=True, eq=False)
class _Baked(Shape):
    """Smooth union of simple parts sampled once on a regular grid and read back trilinearly (mm).

    Each part is evaluated only on the grid nodes within ``_FAR_MM`` of its box (a slice of the grid), so
    baking costs little, and reading costs the same however many parts there are. Nodes far from every
    part hold ``_FAR_MM``, a true lower bound there. The interpolation error of a smooth distance field on
    a 3 mm grid is about a tenth of a mm where the surface curves with a 1 cm radius.
    """

    parts: tuple[Shape, ...]
    blend_mm: float
    step_mm: float = 3.0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def _grid(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._cache:
            lo, hi = (np.asarray(b, float) for b in _parts_bounds(self.parts))
            lo, hi = lo - _FAR_MM, hi + _FAR_MM
            n = np.ceil((hi - lo) / self.step_mm).astype(int) + 1
            values = np.full(tuple(n), _FAR_MM, np.float32)
            axes = [(lo[i] + self.step_mm * np.arange(n[i])).astype(np.float32) for i in range(3)]
            for part in self.parts:
                plo, phi = (np.asarray(b, float) for b in part.bounds_mm())
                i0 = np.clip(np.floor((plo - _FAR_MM - lo) / self.step_mm).astype(int), 0, n - 1)
                i1 = np.clip(np.ceil((phi + _FAR_MM - lo) / self.step_mm).astype(int) + 1, 1, n)
                box = tuple(slice(a, b) for a, b in zip(i0, i1, strict=True))
                sub = np.stack(np.meshgrid(*(ax[b] for ax, b in zip(axes, box, strict=True)), indexing="ij"), axis=-1)
                values[box] = _smooth_min(values[box], part.distance_mm(sub), self.blend_mm)
            self._cache.update(values=values, lo=lo.astype(np.float32))
        return self._cache["values"], self._cache["lo"]

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        values, lo = self._grid()
        n = values.shape
        # Points beyond the grid read its edge, which is at least _FAR_MM from every part: a lower bound.
        g = (points.reshape(-1, 3) - lo) * np.float32(1.0 / self.step_mm)
        np.clip(g, 0, np.asarray(n, np.float32) - np.float32(1.001), out=g)
        i = g.astype(np.int32)
        t = g - i
        tx, ty, tz = t[:, 0], t[:, 1], t[:, 2]
        v = values.ravel()
        sx, sy = n[1] * n[2], n[2]
        base = (i[:, 0] * n[1] + i[:, 1]) * n[2] + i[:, 2]

        def along_z(k: np.ndarray) -> np.ndarray:
            a = v[k]
            return a + (v[k + 1] - a) * tz

        def along_yz(k: np.ndarray) -> np.ndarray:
            a = along_z(k)
            return a + (along_z(k + sy) - a) * ty

        a = along_yz(base)
        return (a + (along_yz(base + sx) - a) * tx).reshape(points.shape[:-1])

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        return _parts_bounds(self.parts)


def _parts_bounds(parts: tuple[Shape, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Box (mm) holding all parts."""
    lows, highs = zip(*(p.bounds_mm() for p in parts), strict=True)
    return np.min(lows, axis=0), np.max(highs, axis=0)


@dataclass(frozen=True, eq=False)
class _TubeTree(Shape):
    """Several tubes (vessel or airway branches) sharing one k-d tree of centreline samples (mm).

    Each branch is a cubic spline through its ``(x, y, z, radius)`` rows, sampled every ``step_mm``; the
    distance is that to the nearest samples (the better of 2) minus their radius. Points farther than
    ``_FAR_MM`` from every tube read ``_FAR_MM``. One query however many branches. ``branches`` may be a
    function that returns them, called on first use.
    """

    branches: tuple[tuple[tuple[float, float, float, float], ...], ...] | Callable[[], list]
    step_mm: float = 1.0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def _tree(self) -> tuple[cKDTree, np.ndarray, np.ndarray]:
        if not self._cache:
            centres, radii = [], []
            for rows in self.branches() if callable(self.branches) else self.branches:
                pts = np.asarray([r[:3] for r in rows], float)
                rad = np.asarray([r[3] for r in rows], float)
                s = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))]
                line = CubicSpline(s, pts, bc_type="natural")
                t = np.linspace(0.0, s[-1], max(2, int(np.ceil(s[-1] / self.step_mm)) + 1))
                centres.append(line(t))
                radii.append(np.interp(t, s, rad))
            c, r = np.vstack(centres), np.concatenate(radii)
            self._cache.update(tree=cKDTree(c), centres=c, radii=r.astype(np.float32))
        return self._cache["tree"], self._cache["centres"], self._cache["radii"]

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        tree, _, radii = self._tree()
        flat = points.reshape(-1, 3)
        bound = _FAR_MM + float(radii.max()) + self.step_mm
        dist, idx = tree.query(flat, k=2, distance_upper_bound=bound)
        missing = idx >= len(radii)
        surface = np.where(missing, np.inf, dist - radii[np.minimum(idx, len(radii) - 1)])
        d = np.minimum(surface.min(axis=1), _FAR_MM)
        return d.astype(points.dtype).reshape(points.shape[:-1])

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        _, centres, radii = self._tree()
        r = float(radii.max())
        return centres.min(axis=0) - r, centres.max(axis=0) + r


def _smooth_min(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Polynomial smooth minimum with blend ``k`` (mm), as in utils.sdf; ``k = 0`` is the plain minimum."""
    if k <= 0:
        return np.minimum(a, b)
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b + (a - b) * h - k * h * (1.0 - h)


def _smax(a: np.ndarray, b: np.ndarray | float, k: float) -> np.ndarray:
    """Smooth maximum with blend ``k`` (mm)."""
    return -_smooth_min(-a, -np.asarray(b, dtype=a.dtype), k)


def _angles_along(axis: Vec3, up: Vec3 = (0.0, 0.0, 1.0)) -> Vec3:
    """Euler angles (deg, sdf convention) of a frame whose local x runs along ``axis``, local z toward ``up``."""
    u = np.asarray(axis, float) / np.linalg.norm(axis)
    w = np.asarray(up, float) - np.dot(up, u) * u
    w /= np.linalg.norm(w)
    m = np.column_stack([u, np.cross(w, u), w])
    return tuple(float(a) for a in Rotation.from_matrix(m).as_euler("xyz", degrees=True))


# ------------------------------------------------------------------------------------ body wall layers
_F = frame.SUBCUT_FAT_MM
# Subcutaneous fat (mm) along the trunk (z mm): in front thickest over the lower abdomen, ~20 over the upper
# abdomen, thin over the sternum; behind thin over the spine, thick over the buttocks; the flanks and hips
# of a woman carry more (gluteofemoral fat). Neck and scalp about 5 mm (course choice).
_FAT_PROFILE: dict[str, tuple[tuple[float, float], ...]] = {
    "front": ((-160, 26), (-100, 30), (0, 28), (73, _F["abdomen_front"]), (180, 20), (250, 18),
              (300, _F["chest"]), (470, _F["chest"]), (515, 8), (545, 5), (765, 5)),
    "back": ((-160, 30), (-130, _F["buttock"]), (-60, _F["buttock"]), (-20, 24), (20, _F["back"]),
             (470, _F["back"]), (515, 10), (560, 7), (640, 6), (765, 5)),
    "flank": ((-160, 22), (-100, 25), (-20, 24), (40, 20), (100, _F["flank"]), (250, 15),
              (300, _F["chest"]), (470, _F["chest"]), (515, 8), (545, 5), (765, 5)),
}
# Chest wall under the fat: muscle and ribs. The skeleton module puts the ribs 22-27 mm inside the skin and
# they are about 10 mm deep (mid-rib section ~13 x 6 mm, PMID 31225915), so the pleura lies ~30 mm in.
_CHEST_WALL_MM = 18.5
# Extra depth beside the spine (erector spinae, which the ribs pass deep to on their way to the transverse
# processes), tapering off laterally. The skeleton module places the ribs on this same surface.
_PARASPINAL_MM = 30.0
# The rib cage is barrel-shaped: widest at ribs 7-9 and narrowing toward the small first-rib ring, while
# the outline stays wide over the shoulders and axillae (arms raised): extra lateral depth per mm above z.
_UPPER_CAGE_Z = 340.0
_UPPER_CAGE_TAPER = 0.3
THIGH_FAT_MM = _F["thigh"]


def _diaphragm_height(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Height (mm) of the upper (pleural) surface of the diaphragm over (x, y) mm.

    Two domes at the frame's landmarks, the right higher (liver below), joined by the central tendon under
    the heart; the domes fall steeply behind into deep posterior costophrenic recesses (to ~T12) and gently
    in front; the recesses bottom out at about z = 219 (right) and 214 (left).
    """
    (xr, yr, zr), (xl, yl, zl) = frame.LANDMARKS["right_diaphragm_dome"], frame.LANDMARKS["left_diaphragm_dome"]
    f = np.float32
    dxr, dyr = x - f(xr), y - f(yr)
    right = zr - np.where(dxr > 0, f(0.012), f(0.0035)) * dxr**2 - np.where(dyr < 0, f(0.0075), f(0.0020)) * dyr**2
    dxl, dyl = x - f(xl), y - f(yl)
    left = zl - np.where(dxl < 0, f(0.012), f(0.0035)) * dxl**2 - np.where(dyl < 0, f(0.0070), f(0.0020)) * dyl**2
    # Central tendon under the heart, level with the xiphisternal joint (z 297).
    dxc, dyc = x - f(_HEART_ON_DIAPHRAGM[0]), y - f(_HEART_ON_DIAPHRAGM[1])
    centre = f(_HEART_ON_DIAPHRAGM[2]) - f(0.0045) * dxc**2 - np.where(dyc < 0, f(0.010), f(0.0015)) * dyc**2
    h = _smax(_smax(right, left, 15.0), centre, 12.0)
    floor = f(216.5) + f(2.5) * np.tanh(x / f(20.0))
    return _smax(h, floor, 6.0)


def _apex_height(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Upper limit (mm) of the lungs over (x, y) mm: domed apices at z ~ 503, 2-3 cm above the clavicles,
    42 mm off the midline and a little posterior; below them the upper lobes widen (about 5 cm across at
    the first-rib ring, T1, then to the full chest width by z ~ 410)."""
    f = np.float32
    dx = np.abs(x) - f(42.0)
    dy = (y + f(4.0)) * np.where(y > f(-4.0), f(0.75), f(1.0))
    r2 = dx * dx + dy * dy
    return f(503.0) - f(21.0) * (np.sqrt(f(1.0) + r2 / f(15.0 * 15.0)) - f(1.0))


# Posterior ends of the ribs (skeleton module), right side, per rib 1-12: head on the vertebral bodies,
# tubercle on the transverse process, angle (mm). The lungs' paravertebral gutters lie in front of the line
# they draw, by the rib's half-thickness and the pleura.
_RIB_BACKS: tuple[tuple[Vec3, Vec3, Vec3], ...] = (
    ((16.0, -7.3, 472.8), (34.0, -26.8, 477.2), (65.3, -46.7, 474.2)),
    ((15.5, -13.3, 453.0), (32.0, -33.9, 454.6), (67.7, -62.3, 451.6)),
    ((15.0, -19.3, 431.0), (30.0, -40.3, 430.8), (63.5, -69.3, 427.8)),
    ((15.0, -23.2, 409.2), (29.0, -44.1, 407.5), (63.0, -74.6, 404.5)),
    ((15.5, -26.2, 387.2), (29.0, -46.9, 383.9), (60.9, -73.3, 380.9)),
    ((16.0, -27.3, 365.0), (28.5, -47.7, 359.6), (59.7, -72.1, 356.6)),
    ((16.5, -26.4, 341.7), (28.0, -46.3, 334.6), (60.3, -70.9, 331.6)),
    ((17.0, -23.4, 318.5), (27.5, -42.7, 309.8), (62.7, -69.7, 306.8)),
    ((17.5, -19.2, 295.3), (26.5, -38.1, 285.7), (65.0, -68.1, 282.7)),
    ((18.5, -13.8, 271.6), (25.0, -32.8, 261.3), (67.1, -66.2, 258.3)),
    # Floating ribs 11-12: heads and tubercles only; beyond them the posterior costophrenic recesses run
    # back to the chest wall (the wall here falls steeply away behind the tubercles).
    ((19.5, -6.1, 237.4), (32.0, -16.8, 230.0), (44.0, -62.0, 227.0)),
    ((20.5, -1.4, 209.7), (33.0, -12.4, 202.8), (45.0, -57.0, 199.8)),
)
_RIB_CLEARANCE_MM = 6.0


def _rib_back_wall(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """y (mm) in front of which the lungs lie near the spine, over (x, z): the rib heads, necks and angles
    interpolated between the ribs, falling steeply away beyond the angles (the pleura rules there)."""
    backs = np.asarray(_RIB_BACKS, float)  # rib, point, xyz
    zr = backs[:, :, 2].mean(axis=1)
    order = np.argsort(zr)
    zr, backs = zr[order], backs[order]
    ax = np.abs(np.asarray(x, float))
    zz = np.asarray(z, float)
    k = np.clip(np.searchsorted(zr, zz) - 1, 0, len(zr) - 2)
    f = np.clip((zz - zr[k]) / (zr[k + 1] - zr[k]), 0.0, 1.0)[..., None, None]
    pts = backs[k] * (1 - f) + backs[k + 1] * f  # (..., 3 points, xyz)
    hx, tx, gx = pts[..., 0, 0], pts[..., 1, 0], pts[..., 2, 0]
    hy, ty, gy = pts[..., 0, 1], pts[..., 1, 1], pts[..., 2, 1]
    y = np.where(ax < hx, hy, np.where(ax < tx, hy + (ty - hy) * (ax - hx) / (tx - hx), ty + (gy - ty) * (ax - tx) / (gx - tx)))
    beyond = np.maximum(ax - gx, 0.0)
    return (y - 3.0 * beyond + _RIB_CLEARANCE_MM).astype(np.float32)


# Where the heart's inferior wall rests on the central tendon (mm).
_HEART_ON_DIAPHRAGM: Vec3 = (-15.0, 70.0, 294.0)
_THORAX_LO: Vec3 = (-175.0, -125.0, 200.0)
_THORAX_HI: Vec3 = (175.0, 165.0, 520.0)


@cache
def skin() -> Shape:
    """The trunk outline alone (mm), no thighs, buttocks or breasts."""
    return _Trunk("skin")


@cache
def fascia() -> Shape:
    """The trunk under its subcutaneous fat (mm): the deep fascia on which the muscles lie (for neighbours)."""
    return _Trunk("fascia")


@cache
def pleura() -> Shape:
    """The thoracic cage's inner surface (mm): the parietal pleura, extended down and up as a smooth solid."""
    return _Trunk("pleura")


def _breast_mound() -> Shape:
    """Both supine breasts as they raise the skin: flattened and fallen laterally on the anterior chest."""
    return _MirrorX(Ellipsoid((84.0, 120.0, 366.0), (58.0, 44.0, 52.0), (0.0, 0.0, -20.0)))


_BREAST_BLEND_MM = 30.0


def _thigh(fat_mm: float = 0.0, both: bool = True) -> Shape:
    """Both thighs (frame.THIGH_*), or the right one, tapering, shrunk by ``fat_mm`` (mm)."""
    (xc, yc), (r0, r1) = frame.THIGH_CENTRE_XY, frame.THIGH_RADIUS_MM
    top, bottom = frame.THIGH_TOP_Z, frame.THIGH_BOTTOM_Z
    leg = Capsule((xc, yc, top), (xc, yc, bottom - 60.0), r0 - fat_mm, r1 - fat_mm)
    # Cut flat at the top (inside the trunk) and at the field of view's lower edge.
    slab = RoundBox((xc, yc, 0.5 * (top + bottom)), (r0 + 1.0, r0 + 1.0, 0.5 * (top - bottom)))
    right = Intersect(leg, slab)
    return _MirrorX(right) if both else right


@cache
def body() -> Shape:
    """The whole body solid (mm): trunk, thighs, buttocks and breasts, with the intergluteal cleft."""
    buttocks = _MirrorX(Ellipsoid((55.0, -80.0, -92.0), (70.0, 48.0, 62.0)))
    cleft = Capsule((0.0, -132.0, -45.0), (0.0, -100.0, -158.0), 5.0)
    trunk = _Patched(skin(), (_thigh(), buttocks), (cleft,), blend_mm=14.0)
    return _Patched(trunk, (_breast_mound(),), (), blend_mm=_BREAST_BLEND_MM)


@cache
def _above(height: Callable, offset_mm: float = 0.0) -> Shape:
    """The space above a height field (mm), shifted up by ``offset_mm``, within the thorax box."""
    return _HeightField(height, False, _THORAX_LO, _THORAX_HI, offset_mm)


@cache
def _below(height: Callable, offset_mm: float = 0.0) -> Shape:
    """The space below a height field (mm), shifted up by ``offset_mm``, within the thorax box."""
    return _HeightField(height, True, _THORAX_LO, _THORAX_HI, offset_mm)


# -------------------------------------------------------------------------------------------- heart
# Left ventricle along the long axis from the mitral valve to the apex, which points left, anterior and
# down; the right ventricle is a crescent in front of and to the right of it; the atria sit at the base,
# the left one behind, the right one to the right; the flat inferior wall rests on the central tendon.
# Sizes: LV outer short axis ~60 mm, wall ~10 mm, cavity ~85 mL; RV free wall ~4 mm; cardiothoracic
# ratio about 0.5 (typical adult values, course choice).
_MITRAL_VALVE: Vec3 = (-10.0, 45.0, 338.0)
_HEART_APEX: Vec3 = (-80.0, 100.0, 292.0)
_LV_AXIS = tuple(float(a - b) for a, b in zip(_HEART_APEX, _MITRAL_VALVE, strict=True))
_HEART_ANGLES = _angles_along(_LV_AXIS)
_LV_CENTRE: Vec3 = tuple(float(0.5 * (a + b)) for a, b in zip(_HEART_APEX, _MITRAL_VALVE, strict=True))
_LV_HALF_LENGTH = 0.5 * float(np.linalg.norm(_LV_AXIS))


def _heart_point(along: float, across: float, up: float = 0.0) -> Vec3:
    """World point (mm) from the LV centre: along the long axis (toward the apex), across it toward the
    left-posterior (LV free wall; negative is toward the right ventricle) and up."""
    m = Rotation.from_euler("xyz", _HEART_ANGLES, degrees=True).as_matrix()
    return tuple(float(v) for v in np.asarray(_LV_CENTRE) + m @ np.array([along, across, up]))


@dataclass(frozen=True, eq=False)
class _Heart(Shape):
    """The heart's outline, its blood-filled chambers or the myocardium between them (mm).

    All three come from the same primitives (ventricles, atria, appendage, right ventricular outflow), so one
    class evaluates each primitive once per point whichever solid is asked for.
    """

    part: str  # "outer", "chambers" or "myocardium"
    primitives: dict = field(repr=False, compare=False)

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        p = {name: shape.distance_mm(points) for name, shape in self.primitives.items()}
        floor = p.pop("floor")  # above the diaphragm's upper surface
        outer = p["lv"]
        for name in ("rv", "ra", "la", "laa", "outflow_low", "outflow_high"):
            outer = _smooth_min(outer, p[name], 8.0)
        outer = np.maximum(outer, floor - np.float32(0.5))
        if self.part == "outer":
            return outer
        # Right ventricle: its outline shrunk by its 4 mm free wall, minus the left ventricle (septum).
        rv_cavity = np.maximum(p["rv"] + np.float32(4.0), -(p["lv"] - np.float32(1.0)))
        chambers = p["lv_cavity"]
        for d in (rv_cavity, p["ra"] + np.float32(2.5), p["la"] + np.float32(2.5), p["laa"] + np.float32(2.0),
                  p["outflow_lumen_low"], p["outflow_lumen_high"]):
            chambers = _smooth_min(chambers, d, 3.0)
        # The floor keeps the inferior wall under the chambers ~4 mm thick where the outline is cut flat.
        chambers = np.maximum(chambers, floor - np.float32(4.5))
        if self.part == "chambers":
            return chambers
        return np.maximum(outer, -chambers)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        outline = [s for name, s in self.primitives.items() if name in ("lv", "rv", "ra", "la", "laa", "outflow_low", "outflow_high")]
        return _parts_bounds(tuple(outline))


@cache
def _heart_parts() -> dict[str, Shape]:
    """Outer heart (myocardium and atrial walls), its blood-filled chambers and the myocardium (mm)."""
    a = _LV_HALF_LENGTH
    primitives = {
        "lv": Ellipsoid(_LV_CENTRE, (a, 31.0, 30.0), _HEART_ANGLES),
        "rv": Ellipsoid(_heart_point(-8.0, -30.0, 4.0), (a - 8.0, 25.0, 27.0), _HEART_ANGLES),
        "ra": Ellipsoid((24.0, 58.0, 328.0), (22.0, 27.0, 29.0), (0.0, 0.0, 20.0)),
        "la": Ellipsoid((-8.0, 33.0, 346.0), (33.0, 18.0, 21.0)),
        "laa": Ellipsoid((-40.0, 56.0, 360.0), (13.0, 7.0, 8.0), (0.0, 0.0, -40.0)),
        "outflow_low": Capsule((-12.0, 98.0, 326.0), (-18.0, 95.0, 358.0), 14.0, 13.0),
        "outflow_high": Capsule((-18.0, 95.0, 358.0), (-20.0, 91.0, 376.0), 13.0, 12.5),
        # Left ventricular cavity: wall ~10 mm, thinner toward the apex; end-diastolic ~110 mL.
        "lv_cavity": Ellipsoid(_heart_point(2.0, 0.0), (a - 9.0, 21.0, 20.0), _HEART_ANGLES),
        "outflow_lumen_low": Capsule((-12.0, 98.0, 326.0), (-18.0, 95.0, 358.0), 10.0),
        "outflow_lumen_high": Capsule((-18.0, 95.0, 358.0), (-20.0, 91.0, 378.0), 10.0),
        "floor": _above(_diaphragm_height),
    }
    return {part: _Heart(part, primitives) for part in ("outer", "chambers", "myocardium")}


# ----------------------------------------------------------------------------------- vessels, airway
# Centrelines (x, y, z, radius) mm. Aorta: root ~30 mm, arch top at z ~455 (T3-T4) left of the trachea,
# descending 22-24 mm along the left front corner of the thoracic bodies, to the hiatus at T12.
AORTA: tuple[tuple[float, float, float, float], ...] = (
    (-2.0, 56.0, 336.0, 13.0), (5.0, 63.0, 358.0, 14.0), (13.0, 67.0, 385.0, 14.0), (15.0, 64.0, 410.0, 14.0),
    (8.0, 54.0, 430.0, 13.5), (-8.0, 42.0, 441.0, 13.0), (-22.0, 24.0, 441.0, 12.5), (-26.0, 8.0, 432.0, 12.0),
    (-28.0, -2.0, 415.0, 12.0), (-27.0, -3.0, 395.0, 12.0), (-25.0, 0.0, 365.0, 11.5), (-23.0, 5.0, 335.0, 11.5),
    (-21.0, 11.0, 305.0, 11.0), (-18.0, 17.0, 280.0, 11.0), (-16.0, 24.0, 255.0, 11.0), (*AORTA_HANDOFF, 10.5),
    (-12.5, 30.0, 218.0, 10.5),
)
# Pulmonary trunk (< 29 mm) from the pulmonary valve to its bifurcation under the arch, the right artery
# behind the ascending aorta and superior vena cava, the left over the left main bronchus.
PULMONARY_TRUNK = ((-20.0, 91.0, 376.0, 13.0), (-21.0, 80.0, 396.0, 13.0), (-16.0, 62.0, 406.0, 12.5))
RIGHT_PULMONARY_ARTERY = ((-16.0, 62.0, 406.0, 10.5), (0.0, 45.0, 400.0, 10.0), (15.0, 32.0, 395.0, 10.0),
                          (32.0, 26.0, 390.0, 9.5), (50.0, 22.0, 380.0, 8.5), (62.0, 18.0, 362.0, 7.0))
LEFT_PULMONARY_ARTERY = ((-16.0, 62.0, 406.0, 10.5), (-32.0, 46.0, 409.0, 10.0), (-44.0, 30.0, 402.0, 9.5),
                         (-52.0, 18.0, 388.0, 8.5), (-58.0, 10.0, 366.0, 7.0))
TRACHEA = ((0.0, 41.0, 528.0, 9.5), (0.0, 38.0, 508.0, 9.5), (0.0, 32.0, 489.0, 9.5), (0.0, 26.0, 468.0, 9.5),
           (1.0, 21.0, 446.0, 9.5), (1.0, 17.0, 424.0, 9.5), (0.0, 15.0, 405.0, 9.0), (0.0, 14.0, 396.0, 8.5))
CARINA: Vec3 = TRACHEA[-1][:3]
BRONCHI = (
    ((0.0, 14.0, 396.0, 7.0), (14.0, 13.0, 388.0, 7.0), (24.0, 12.0, 380.0, 6.5), (30.0, 10.0, 365.0, 6.0),
     (34.0, 6.0, 340.0, 5.0), (38.0, 0.0, 318.0, 3.5)),  # right main bronchus, intermedius, lower lobe
    ((22.0, 12.0, 382.0, 5.0), (36.0, 12.0, 388.0, 4.5), (50.0, 14.0, 396.0, 3.5)),  # right upper lobe
    ((32.0, 9.0, 358.0, 4.0), (44.0, 28.0, 350.0, 3.5), (56.0, 44.0, 344.0, 2.5)),  # middle lobe
    ((0.0, 14.0, 396.0, 6.5), (-18.0, 17.0, 387.0, 6.5), (-34.0, 16.0, 375.0, 6.0), (-40.0, 10.0, 360.0, 5.5),
     (-44.0, 2.0, 340.0, 4.5), (-48.0, -6.0, 318.0, 3.5)),  # left main bronchus and lower lobe
    ((-36.0, 16.0, 374.0, 5.0), (-48.0, 24.0, 380.0, 4.5), (-58.0, 30.0, 392.0, 3.5)),  # left upper lobe
)
UPPER_AIRWAY = ((0.0, 41.0, 528.0, 9.5), (0.0, 42.0, 548.0, 9.0), (0.0, 36.0, 568.0, 8.5),
                (0.0, 28.0, 585.0, 8.0), (0.0, 24.0, 603.0, 8.0), (0.0, 22.0, 614.0, 7.5))
# Oesophagus: behind the trachea slightly left, then right of the descending aorta, then in front of it and
# to the left through the hiatus (T10) to the cardia.
OESOPHAGUS = (
    (0.0, 26.0, 548.0, 6.0), (-4.0, 25.0, 525.0, 7.0), (-5.0, 21.0, 508.0, 7.0), (-6.0, 16.0, 489.0, 7.0),
    (-5.0, 10.0, 468.0, 7.0), (-4.0, 4.0, 446.0, 7.0), (-3.0, -0.5, 424.0, 7.0), (-2.0, -3.0, 402.0, 7.0),
    (-1.0, -4.0, 380.0, 7.0), (-2.0, -3.0, 358.0, 7.0), (-2.0, 2.0, 335.0, 7.0), (-2.0, 13.0, 312.0, 7.5),
    (-2.0, 28.0, 290.0, 7.5), (-9.0, 36.0, 276.0, 8.0), (-17.0, 44.0, 264.0, 8.0), (-25.0, 44.0, 252.0, 8.5),
)
SVC = ((36.0, 44.0, 452.0, 10.0), (36.0, 46.0, 425.0, 10.0), (35.0, 48.0, 400.0, 10.0), (32.0, 53.0, 375.0, 10.5),
       (28.0, 57.0, 352.0, 11.0))
BRACHIOCEPHALIC_VEINS = (
    ((48.0, 30.0, 494.0, 8.0), (42.0, 38.0, 470.0, 8.0), (36.0, 44.0, 452.0, 9.0)),
    ((-48.0, 32.0, 494.0, 7.0), (-30.0, 55.0, 472.0, 7.0), (-5.0, 60.0, 462.0, 7.0), (20.0, 52.0, 456.0, 7.5),
     (36.0, 44.0, 452.0, 9.0)),
)
IVC = ((IVC_START[0], IVC_START[1], IVC_START[2], 12.0), (21.0, 45.0, 306.0, 12.0), (24.0, 50.0, 313.0, 12.0),
       (26.0, 54.0, 320.0, 12.0))
AZYGOS = ((13.0, 19.0, 240.0, 4.0), (11.0, 13.0, 270.0, 4.0), (10.0, 4.0, 300.0, 4.5), (12.0, -4.0, 335.0, 4.5),
          (12.0, -6.0, 360.0, 4.5), (12.0, -5.0, 385.0, 5.0), (18.0, 2.0, 400.0, 5.5), (25.0, 18.0, 405.0, 5.5),
          (32.0, 34.0, 403.0, 6.0), (35.0, 44.0, 400.0, 6.0))
PULMONARY_VEINS = (
    ((52.0, 30.0, 374.0, 6.0), (36.0, 36.0, 362.0, 6.5), (18.0, 36.0, 354.0, 7.0)),
    ((52.0, 14.0, 338.0, 6.0), (36.0, 22.0, 340.0, 6.5), (18.0, 28.0, 342.0, 7.0)),
    ((-52.0, 34.0, 370.0, 6.0), (-40.0, 36.0, 362.0, 6.5), (-28.0, 34.0, 356.0, 7.0)),
    ((-52.0, 14.0, 338.0, 6.0), (-40.0, 22.0, 340.0, 6.5), (-28.0, 28.0, 342.0, 7.0)),
)
# Lung vessels: from each hilum (where the lobar arteries and veins end) segmental vessels run out to the
# lobes and divide into subsegmental ones that taper to ~1.5 mm a centimetre short of the pleura (the
# peripheral lung looks nearly vessel-free on CT). Drawn at random once (fixed seed) inside the lungs.
_HILA: dict[int, Vec3] = {1: (58.0, 20.0, 364.0), -1: (-56.0, 16.0, 366.0)}
_SEGMENTS_PER_LUNG = 14
_BRANCHES_PER_SEGMENT = 4


def _lung_branches() -> list[tuple[tuple[float, float, float, float], ...]]:
    """Segmental and subsegmental vessel centrelines ``(x, y, z, radius)`` (mm), both lungs."""
    rng = np.random.default_rng(20240531)
    space = lungs()
    out = []

    def clear(a: np.ndarray, b: np.ndarray, margin: float, start: float = 0.0) -> bool:
        t = np.linspace(start, 1.0, 12)[:, None]
        return bool(np.all(space.distance_mm((a + t * (b - a)).astype(np.float32)) < -margin))

    for side, hilum in _HILA.items():
        h = np.asarray(hilum)
        # Candidate targets: points deep inside this lung.
        cand = rng.uniform((0.0, -90.0, 220.0), (140.0, 150.0, 500.0), (4000, 3)) * (side, 1, 1)
        cand = cand[space.distance_mm(cand.astype(np.float32)) < -12.0]
        # Segments spread through the lung: each next target the candidate farthest from those chosen.
        cand = cand[np.linalg.norm(cand - h, axis=1) > 70.0]
        chosen: list[np.ndarray] = []
        gap = np.full(len(cand), np.inf)
        for _ in range(_SEGMENTS_PER_LUNG):
            for k in np.argsort(-gap):
                mid = h + 0.45 * (cand[k] - h)
                gap[k] = -np.inf
                if clear(h, mid, 1.0, 0.4):
                    break
            else:
                break
            target = cand[k]
            chosen.append(target)
            gap = np.minimum(gap, np.linalg.norm(cand - target, axis=1))
            out.append(((*h, 4.5), (*mid, 3.2)))
            near = cand[np.linalg.norm(cand - target, axis=1) < 60.0]
            children = 0
            for end in near[rng.permutation(len(near))[:12]]:
                if children < _BRANCHES_PER_SEGMENT and np.linalg.norm(end - mid) > 25 and clear(mid, end, 6.0, 0.2):
                    out.append(((*mid, 3.0), (*(mid + 0.5 * (end - mid)), 2.2), (*end, 1.2)))
                    children += 1
    return out


# Neck: common carotid arteries posterolateral to the thyroid lobes, dividing at C4 (z ~ 560); internal
# jugular veins lateral to them (right larger); arch branches; subclavian arteries (arms raised).
NECK_ARTERIES = (
    ((4.0, 50.0, 445.0, 6.5), (10.0, 42.0, 465.0, 6.5), (16.0, 36.0, 482.0, 6.0), (18.0, 34.0, 488.0, 5.5)),
    ((18.0, 34.0, 488.0, 4.5), (29.0, 24.0, 512.0, 4.5), (28.0, 21.0, 535.0, 4.5), (25.0, 19.0, 558.0, 4.0),
     (22.0, 14.0, 578.0, 3.2), (24.0, 9.0, 600.0, 3.0), (25.0, 6.0, 613.0, 3.0)),
    ((25.0, 20.0, 558.0, 3.0), (22.0, 25.0, 574.0, 2.5), (33.0, 16.0, 594.0, 2.2), (41.0, 9.0, 606.0, 2.0)),
    ((-10.0, 45.0, 451.0, 4.5), (-16.0, 38.0, 475.0, 4.5), (-24.0, 30.0, 498.0, 4.5), (-29.0, 24.0, 514.0, 4.5),
     (-28.0, 21.0, 535.0, 4.5), (-25.0, 19.0, 558.0, 4.0), (-22.0, 14.0, 578.0, 3.2), (-24.0, 9.0, 600.0, 3.0),
     (-25.0, 6.0, 613.0, 3.0)),
    ((-25.0, 20.0, 558.0, 3.0), (-22.0, 25.0, 574.0, 2.5), (-33.0, 16.0, 594.0, 2.2), (-41.0, 9.0, 606.0, 2.0)),
    ((-20.0, 26.0, 446.0, 5.5), (-32.0, 22.0, 470.0, 5.0), (-45.0, 18.0, 488.0, 5.0), (-66.0, 10.0, 502.0, 4.5)),
    ((18.0, 34.0, 488.0, 5.0), (36.0, 29.0, 496.0, 5.0), (62.0, 18.0, 503.0, 4.5)),
)
NECK_VEINS = (
    ((48.0, 30.0, 494.0, 7.5), (41.0, 25.0, 515.0, 7.0), (38.0, 22.0, 545.0, 6.0), (31.0, 11.0, 575.0, 5.0),
     (30.0, 4.0, 600.0, 5.0), (31.0, 0.0, 612.0, 4.5)),
    ((-48.0, 32.0, 494.0, 6.5), (-41.0, 25.0, 515.0, 6.0), (-38.0, 22.0, 545.0, 5.0), (-31.0, 11.0, 575.0, 4.5),
     (-30.0, 4.0, 600.0, 4.5), (-31.0, 0.0, 612.0, 4.0)),
)


def _vessel_tree(*branches: tuple[tuple[float, float, float, float], ...]) -> Shape:
    """Tubes (mm) that share a label: vessels or airways through ``(x, y, z, radius)`` rows."""
    return _TubeTree(tuple(branches))


@cache
def _lung_vessels() -> Shape:
    """Hilar pulmonary arteries and veins with segmental branches reaching into both lungs (mm)."""
    return _TubeTree(lambda: [PULMONARY_TRUNK, RIGHT_PULMONARY_ARTERY, LEFT_PULMONARY_ARTERY, *PULMONARY_VEINS,
                              *_lung_branches()])


def _capsule(a: Vec3, b: Vec3, r: float) -> Capsule:
    """Capsule (mm) between two points."""
    return Capsule(a, b, r)


# Normal lymph nodes (short axis <= 10 mm; Glazer GM et al., AJR 1985): right paratracheal, aortopulmonary
# window, subcarinal and hilar, and a few in each axilla (oval, ~10 x 6 mm).
_MEDIASTINAL_NODES: tuple[Shape, ...] = (
    Ellipsoid((15.0, 24.0, 412.0), (4.0, 3.5, 6.0)),  # right lower paratracheal (4R)
    Ellipsoid((-13.0, 31.0, 421.0), (4.5, 4.0, 4.0)),  # aortopulmonary window (5)
    Ellipsoid((2.0, 10.0, 379.0), (6.5, 4.5, 5.0)),  # subcarinal (7)
    Ellipsoid((49.0, 10.0, 369.0), (4.0, 4.0, 5.0)),  # right hilar (10R)
    Ellipsoid((-48.0, 6.0, 373.0), (4.0, 4.0, 5.0)),  # left hilar (10L)
)
_AXILLARY_NODES: tuple[Shape, ...] = (
    Ellipsoid((122.0, 18.0, 440.0), (5.0, 8.0, 5.0), (0.0, 0.0, 30.0)),
    Ellipsoid((130.0, -8.0, 458.0), (4.0, 6.0, 4.5)),
    Ellipsoid((116.0, 30.0, 462.0), (3.5, 5.5, 4.0)),
)
# Lymph node (course choice: soft tissue a little above muscle on CT, intermediate T1 and T2, low FDG and
# SSTR uptake when normal).
LYMPH_NODE = Tissue(40, 0.85, 1000, 80, 1.0, 1.0, 0.6)


def _lymph_nodes() -> Shape:
    """Normal mediastinal, hilar and axillary lymph nodes (mm)."""
    return _local_union([*_MEDIASTINAL_NODES, _MirrorX(union(list(_AXILLARY_NODES), 0.0))], 0.0)


@cache
def mediastinum_envelope() -> Shape:
    """The space between the lungs (mm): heart and pericardium, great vessels, airway, oesophagus, spine.

    Each part is the organ grown by a few mm of fat; the lungs' medial surfaces are this envelope's surface.
    """
    c = _capsule
    # Vertebral bodies (every other level: the column curves gently); the rib-back wall keeps the lungs in
    # front of the rib necks and off the posterior elements.
    spine = [frame.VERTEBRAE[n] for n in ("C7", "T2", "T4", "T6", "T8", "T10", "T12")]
    vertebral = [c((0.0, a[0], a[1]), (0.0, b[0], b[1]), 0.5 * max(a[2], b[2]) + 3.0) for a, b in pairwise(spine)]
    parts = [
        Offset(_heart_parts()["outer"], 5.0),
        Ellipsoid((36.0, 86.0, 299.0), (18.0, 20.0, 10.0)),  # right cardiophrenic (pericardial) fat pad
        Ellipsoid((-80.0, 96.0, 296.0), (18.0, 20.0, 10.0)),  # left cardiophrenic fat pad
        c((-2.0, 56.0, 336.0), (14.0, 67.0, 390.0), 18.0),  # ascending aorta
        c((14.0, 67.0, 390.0), (10.0, 56.0, 428.0), 17.0),
        c((10.0, 56.0, 428.0), (-10.0, 40.0, 443.0), 16.0),  # arch
        c((-10.0, 40.0, 443.0), (-26.0, 8.0, 433.0), 15.0),
        c((-26.0, 8.0, 433.0), (-27.0, -3.0, 395.0), 14.5),
        c((-27.0, -3.0, 395.0), (-23.0, 5.0, 335.0), 14.0),  # descending aorta
        c((-23.0, 5.0, 335.0), (-16.0, 26.0, 250.0), 13.5),
        c((36.0, 44.0, 456.0), (30.0, 55.0, 354.0), 14.0),  # superior vena cava
        c((48.0, 30.0, 500.0), (36.0, 44.0, 452.0), 12.0),  # brachiocephalic veins
        c((-48.0, 32.0, 500.0), (-5.0, 60.0, 462.0), 11.0),
        c((-5.0, 60.0, 462.0), (36.0, 44.0, 452.0), 11.0),
        c((-20.0, 93.0, 366.0), (-21.0, 80.0, 396.0), 17.0),  # pulmonary trunk and arteries
        c((-21.0, 80.0, 396.0), (-16.0, 62.0, 406.0), 16.5),
        c((-16.0, 62.0, 406.0), (-44.0, 30.0, 402.0), 14.0),
        c((-44.0, 30.0, 402.0), (-56.0, 14.0, 376.0), 12.0),
        c((-16.0, 62.0, 406.0), (15.0, 32.0, 395.0), 14.0),
        c((15.0, 32.0, 395.0), (50.0, 22.0, 380.0), 12.5),
        c((0.0, 34.0, 500.0), (1.0, 17.0, 424.0), 13.0),  # trachea and main bronchi
        c((1.0, 17.0, 424.0), (0.0, 14.0, 396.0), 13.0),
        c((0.0, 14.0, 396.0), (30.0, 10.0, 368.0), 11.0),
        c((0.0, 14.0, 396.0), (-38.0, 14.0, 370.0), 11.0),
        c((52.0, 22.0, 356.0), (18.0, 32.0, 348.0), 11.0),  # pulmonary veins at the hila
        c((-52.0, 24.0, 354.0), (-28.0, 31.0, 349.0), 11.0),
        c((-6.0, 16.0, 500.0), (-2.0, -3.0, 405.0), 11.0),  # oesophagus
        c((-2.0, -3.0, 405.0), (-2.0, 2.0, 335.0), 11.0),
        c((-2.0, 2.0, 335.0), (-3.0, 27.0, 290.0), 11.0),
        c((-3.0, 27.0, 290.0), (-20.0, 44.0, 260.0), 11.0),
        c((13.0, 19.0, 240.0), (12.0, -5.0, 370.0), 8.5),  # azygos
        c((12.0, -5.0, 370.0), (26.0, 20.0, 405.0), 9.0),
        c(IVC_START, (26.0, 54.0, 320.0), 15.0),  # intrathoracic inferior vena cava
        Ellipsoid((0.0, 112.0, 415.0), (4.5, 22.0, 60.0)),  # anterior junction line (thick enough to bake)
        Ellipsoid((-4.0, 26.0, 318.0), (13.0, 16.0, 26.0)),  # retrocardiac fat in front of the oesophagus
        Ellipsoid((-2.0, 82.0, 446.0), (17.0, 22.0, 24.0)),  # prevascular fat with the involuted thymus
        *(Offset(node, 3.0) for node in _MEDIASTINAL_NODES),  # nodes sit in fat
        *vertebral,
    ]
    return _Baked(tuple(parts), 7.0)


@cache
def _thoracic_space() -> Shape:
    """Inside the chest wall, above the diaphragm and below the apices (mm): lungs plus mediastinum."""
    behind = _HeightField(_rib_back_wall, False, (_THORAX_LO[0], -125.0, 180.0), (_THORAX_HI[0], 165.0, 520.0), 0.0, 1)
    return Intersect(Intersect(Intersect(pleura(), _below(_apex_height)), _above(_diaphragm_height)), behind)


@cache
def lungs() -> Shape:
    """Both lungs (mm): the thoracic space less the mediastinum."""
    return Subtract(_thoracic_space(), mediastinum_envelope())


def _diaphragm() -> Shape:
    """Diaphragm (mm): a 4 mm muscle sheet under the lungs and heart, out to the chest wall, and its crura."""
    sheet = Intersect(Intersect(_below(_diaphragm_height), _above(_diaphragm_height, -4.0)), Offset(pleura(), 4.0))
    # The sheet stops at the vertebral column (the crura go down in front of it).
    column = [frame.VERTEBRAE[n] for n in ("T8", "T9", "T10", "T11", "T12", "L1")]
    sheet = Subtract(sheet, union([Capsule((0.0, a[0], a[1]), (0.0, b[0], b[1]), 0.5 * max(a[2], b[2]) + 2.0)
                                   for a, b in pairwise(column)], 0.0))
    # Right crus longer (to L3), left to L2, on either side of the aorta (median arcuate ligament at L1).
    crura = _TubeTree((
        ((14.0, 16.0, 272.0, 5.5), (12.0, 22.0, 240.0, 5.5), (10.0, 28.0, 205.0, 5.0), (9.0, 31.0, 175.0, 4.5),
         (8.0, 31.0, 140.0, 4.0), (7.0, 30.0, 115.0, 3.5)),
        ((-18.0, 14.0, 270.0, 5.5), (-30.0, 18.0, 240.0, 5.5), (-28.0, 24.0, 205.0, 5.0), (-26.0, 28.0, 175.0, 4.5),
         (-22.0, 30.0, 150.0, 3.5)),
    ))
    return _local_union([sheet, crura], 4.0)


# ------------------------------------------------------------------------------------------ neck, head
def _thyroid() -> Shape:
    """Thyroid (mm): two lobes beside the trachea at C6-C7 (upper poles tilted out) and the isthmus in front."""
    lobes = _MirrorX(Ellipsoid((19.0, 37.0, 517.0), (8.0, 9.0, 20.0), (0.0, 8.0, 0.0)))
    isthmus = _TubeTree((((-15.0, 46.0, 512.0, 4.0), (0.0, 53.0, 508.0, 4.0), (15.0, 46.0, 512.0, 4.0)),))
    return union([lobes, isthmus], 4.0)


def _salivary_glands() -> Shape:
    """Parotid glands (~9 mL each: the frame's narrow face leaves little room beside the skeleton module's
    mandible; normal 15-30 mL) behind the mandibular rami, submandibular glands (~4 mL) under the mandible."""
    # Parotid: retromandibular part between the ramus and the mastoid, a thin superficial lobe over the
    # ramus and a tail below the angle (skeleton module: condyle (47, 10, 636), angle (44, 14, 606)).
    parotid = union([
        Ellipsoid((50.0, 0.0, 616.0), (7.0, 8.5, 19.0)),
        Ellipsoid((55.5, 14.0, 619.0), (3.5, 13.0, 15.0)),
        Ellipsoid((47.0, 4.0, 598.0), (8.0, 9.0, 8.0)),
    ], 4.0)
    # Submandibular gland: below and medial to the mandibular body.
    submandibular = Ellipsoid((29.0, 27.0, 594.0), (9.0, 12.5, 9.0), (0.0, 0.0, 25.0))
    return _MirrorX(union([parotid, submandibular], 0.0))


def _neck_axilla_fat() -> Shape:
    """Fat spaces of the neck and axillae (mm): carotid spaces, posterior triangles, supraclavicular, axillary."""
    side = union([
        Capsule((34.0, 22.0, 505.0), (28.0, 10.0, 612.0), 8.0),  # carotid space around the vessels
        Ellipsoid((40.0, -18.0, 545.0), (10.0, 16.0, 32.0)),  # posterior cervical triangle
        Ellipsoid((62.0, 4.0, 503.0), (22.0, 18.0, 12.0)),  # supraclavicular fossa
        Ellipsoid((128.0, 5.0, 455.0), (26.0, 48.0, 42.0)),  # axilla (arms raised)
    ], 0.0)
    return _MirrorX(side)


# ----------------------------------------------------------------------------------------- structures
def _muscle_cut(y: float) -> float:
    """Lowest z (mm) of the generic chest wall muscle at depth y: ~245 in front down to ~195 behind, a
    little below where the abdominal wall muscles (abdomen module, up to z ~225) begin, so they overlap."""
    return 218.0 + 0.22 * y


@cache
def _body_wall_muscle() -> Shape:
    """Chest wall and neck muscles (mm): under the fat, above the abdomen, below the face; what lies deeper
    (lungs, mediastinum, organs, bones) is painted over it, the space under the diaphragm is left to the
    abdomen."""
    band = Intersect(
        HalfSpace((0.0, 0.0, _muscle_cut(0.0)), (0.0, 0.22, -1.0)),
        HalfSpace((0.0, 0.0, 650.0), (0.0, 0.0, 1.0)),
    )
    # The abdomen under the diaphragm (inside the ribs, below z ~300): a box gives it tight bounds, so only
    # points near it pay for the cut.
    upper_abdomen = RoundBox((0.0, 20.0, 240.0), (175.0, 145.0, 62.0))
    abdomen = Intersect(Intersect(pleura(), _below(_diaphragm_height, -4.0)), upper_abdomen)
    return _Patched(Intersect(fascia(), band), (), (abdomen,), 4.0)


# Right femoral shaft axis (pelvis_bones.femur_axes): from the trochanteric region down and slightly in.
_FEMUR_SHAFT: tuple[Vec3, Vec3] = ((118.7, 2.5, -150.0), (88.0, 2.5, -400.0))
# Intermuscular septa (fat planes ~2-3 mm on CT) from the linea aspera: lateral (vastus lateralis | biceps),
# medial (vastus medialis | adductors) and posterior (adductors | hamstrings); directions in the axial plane
# (x lateral, y anterior) for the right thigh.
_THIGH_SEPTA: tuple[tuple[float, float], ...] = ((0.72, -0.69), (-0.93, 0.37), (-0.42, -0.91))


@dataclass(frozen=True, eq=False)
class _Septa(Shape):
    """Thin planes (mm) radiating from a line near the femoral shaft: the thigh's intermuscular septa.

    Each septum is a slab ``half_mm`` thick from ``start_mm`` to ``end_mm`` out from the line, in an axial
    direction; the line runs from ``top`` to ``bottom`` (the shaft tilts only ~7 deg, so slabs are cut in
    horizontal sections, which overstates no distance by more than a per cent).
    """

    top: Vec3
    bottom: Vec3
    directions: tuple[tuple[float, float], ...]
    start_mm: float
    end_mm: float
    half_mm: float

    def distance_mm(self, points: np.ndarray) -> np.ndarray:
        (x0, y0, z0), (x1, y1, z1) = self.top, self.bottom
        f = (points[..., 2] - np.float32(z0)) / np.float32(z1 - z0)
        px = points[..., 0] - (np.float32(x0) + f * np.float32(x1 - x0))
        py = points[..., 1] - (np.float32(y0) + f * np.float32(y1 - y0))
        axial = np.maximum(-f, f - 1) * np.float32(abs(z1 - z0))
        d = None
        for dx, dy in self.directions:
            along = px * np.float32(dx) + py * np.float32(dy)
            across = np.abs(px * np.float32(-dy) + py * np.float32(dx)) - np.float32(self.half_mm)
            length = np.abs(along - np.float32(0.5 * (self.start_mm + self.end_mm))) - np.float32(0.5 * (self.end_mm - self.start_mm))
            q = np.maximum(np.maximum(across, length), axial)
            out = np.sqrt(np.maximum(across, 0) ** 2 + np.maximum(length, 0) ** 2 + np.maximum(axial, 0) ** 2)
            slab = np.where(q > 0, out, q)
            d = slab if d is None else np.minimum(d, slab)
        return d.astype(points.dtype)

    def bounds_mm(self) -> tuple[np.ndarray, np.ndarray]:
        ends = np.array([self.top, self.bottom], float)
        reach = np.array([1.0, 1.0, 0.0]) * (self.end_mm + self.half_mm)
        return ends.min(axis=0) - reach, ends.max(axis=0) + reach


def _thigh_muscles() -> Shape:
    """Thigh muscles (mm) under 15 mm of fat, below the gluteal folds (the pelvis module builds the hip),
    divided into compartments by thin fat planes radiating from the back of the femur."""
    top, bottom = ((x, y - 8.0, z) for x, y, z in _FEMUR_SHAFT)  # the linea aspera, behind the shaft axis
    septa = _Septa(top, bottom, _THIGH_SEPTA, 10.0, 100.0, 1.1)
    muscles = Intersect(_thigh(THIGH_FAT_MM, both=False), HalfSpace((0.0, 0.0, -150.0), (0.0, 0.0, 1.0)))
    return _MirrorX(Subtract(muscles, septa))


def _breasts() -> Shape:
    """Breasts (mm): everything between the pectoral fascia and the skin within each breast's footprint,
    with lobulated margins (the fibroglandular core, 11 mm inside, follows them)."""
    footprint = _MirrorX(Ellipsoid((86.0, 118.0, 366.0), (62.0, 62.0, 56.0), (0.0, 0.0, -20.0)))
    outline = _Patched(skin(), (_breast_mound(),), (), blend_mm=_BREAST_BLEND_MM)
    return Displaced(Intersect(Subtract(footprint, fascia()), Offset(outline, -1.5)), 3.0, 30.0, seed=7)


def structures() -> list[Structure]:
    """Body outline and wall, thorax, neck and head soft tissue (mm), with fixed label ids."""
    t = TISSUES
    heart = _heart_parts()
    airway_wall = t["cartilage"]

    def s(name: str, shape: Shape, tissue, layer: str, location: str, **kw) -> Structure:
        return Structure(name, LABELS[name], shape, tissue, layer, location=location, **kw)

    return [
        s("subcutaneous_fat", body(), t["fat"], "body", "whole body under the skin", wall_mm=1.5, wall_tissue=t["skin"]),
        # Fibroglandular tissue in the core of each breast, ~10 mm of fat under the skin and behind it.
        s("breasts", _breasts(), t["breast"], "body", "anterior chest wall", wall_mm=11.0, wall_tissue=t["fat"]),
        s("body_wall_muscle", _body_wall_muscle(), t["muscle"], "wall", "chest wall and neck"),
        s("thigh_muscles", _thigh_muscles(), t["muscle"], "wall", "thighs"),
        s("neck_axilla_fat", Intersect(_neck_axilla_fat(), fascia()), t["fat"], "cavity", "neck and axillae"),
        # The envelope lies inside the chest wall by construction (organs and vessels with a few mm of fat),
        # so only its bottom (the diaphragm) and top (the thoracic inlet) need cutting.
        s("mediastinum", Intersect(Intersect(mediastinum_envelope(), _above(_diaphragm_height)),
                                   HalfSpace((0.0, 0.0, 505.0), (0.0, 0.0, 1.0))), t["fat"], "cavity", "mediastinum"),
        s("lungs", lungs(), t["lung"], "organ", "thorax"),
        # Fibrous pericardium: a ~2 mm line with epicardial fat inside it and mediastinal fat outside.
        s("pericardium", Shell(Offset(heart["outer"], 4.5), 2.0), t["tendon"], "organ", "mediastinum"),
        s("myocardium", heart["myocardium"], t["myocardium"], "organ", "heart"),
        s("cardiac_blood_pool", heart["chambers"], t["blood"], "organ", "heart chambers"),
        s("diaphragm", _diaphragm(), t["muscle"], "hollow", "thoracoabdominal"),
        s("trachea", _vessel_tree(TRACHEA, *BRONCHI), t["air"], "hollow", "mediastinum", wall_mm=2.0,
          wall_tissue=airway_wall),
        s("upper_airway", _vessel_tree(UPPER_AIRWAY), t["air"], "hollow", "neck", wall_mm=3.0, wall_tissue=t["gut_wall"]),
        # Collapsed oesophagus: a muscular wall around a thread of swallowed air.
        s("oesophagus", _vessel_tree(OESOPHAGUS), t["air"], "hollow", "mediastinum", wall_mm=5.0,
          wall_tissue=t["gut_wall"]),
        s("aorta_thoracic", _vessel_tree(AORTA), t["blood"], "vessel", "mediastinum"),
        s("pulmonary_vessels", _lung_vessels(), t["blood"], "vessel", "lungs and hila"),
        s("venae_cavae", _vessel_tree(SVC, *BRACHIOCEPHALIC_VEINS), t["blood"], "vessel", "mediastinum"),
        s("ivc_intrathoracic", _vessel_tree(IVC), t["blood"], "vessel", "thorax"),
        s("azygos_vein", _vessel_tree(AZYGOS), t["blood"], "vessel", "posterior mediastinum"),
        s("thyroid", _thyroid(), t["thyroid"], "organ", "neck C6-C7"),
        s("salivary_glands", _salivary_glands(), t["salivary"], "organ", "parotid and submandibular"),
        s("neck_vessels", _vessel_tree(*NECK_ARTERIES, *NECK_VEINS), t["blood"], "vessel", "neck"),
        s("lymph_nodes_thorax", _lymph_nodes(), LYMPH_NODE, "organ", "mediastinum, hila and axillae"),
    ]


LANDMARKS: dict[str, Vec3] = {
    "heart": _heart_point(4.0, 9.0),
    "aortic_arch": (-8.0, 42.0, 441.0),
    "lung_right_base": (60.0, 30.0, 292.0),
    "lung_left_base": (-60.0, 20.0, 277.0),
    "costophrenic_recess_right": (62.0, -58.0, 232.0),
    "thyroid": (19.0, 37.0, 517.0),
    "parotid_right": (50.0, 0.0, 616.0),
    "parotid_left": (-50.0, 0.0, 616.0),
    "submandibular_left": (-29.0, 27.0, 594.0),
    "breast_right": (95.0, 130.0, 372.0),
    "breast_left": (-95.0, 130.0, 372.0),
    "carina": CARINA,
}
