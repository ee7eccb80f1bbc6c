"""Small bowel and colon above the sigmoid: walled tubes of fluid, gas and faeces (world mm, RAS+).

The colon runs caecum (right iliac fossa) -> ascending colon up the right flank in front of the kidney ->
hepatic flexure under the liver -> transverse colon sagging in front of the small bowel -> splenic flexure in
front of the left kidney -> descending colon down the left flank to the left iliac fossa, where the pelvis
region's sigmoid takes over. The upper abdomen of this patient is full (liver, stomach, duodenum, pancreas and
large kidneys reach down to L3), so both flexures sit at L2-L3 and the transverse colon hangs to the umbilicus,
as it often does in slim women. The radius carries the haustra (sacculations between plicae semilunares, fewer
distally); the lumen holds mottled faeces with gas in its non-dependent part (anterior, +y: the patient lies
supine) above a flat gas-faeces level.

The small bowel is one winding tube from the duodenojejunal flexure (left of L1-L2) through jejunal loops in the
left upper and mid abdomen to ileal loops in the lower abdomen and above the pelvic organs, ending at the
ileocaecal valve. Its path was grown as a bead chain inside the free peritoneal space (inside the abdominal wall,
clear of the solid organs, vessels, ureters, psoas, pelvic organs and the colon) until it buckled into loops,
then smoothed and written out below with the calibre that fits each point; loops are separated by thin
mesenteric fat. The jejunum carries valvulae conniventes (its feathery folds); the ileum is smoother and
narrower. The content is fluid, with a little gas in the most anterior jejunal loops.

Sizes: small bowel <= 3 cm and caecum <= 9 cm across, colon <= 6 cm (the 3/6/9 rule, juniordoctor.net AXR);
bowel wall <= 3 mm when distended (typical). Jejunal folds 2-3 mm thick, 3-7 mm tall, ileum nearly featureless
(typical CT and barium appearance).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.interpolate import CubicSpline

from ..sdf import HalfSpace, Intersect, Offset, RoundBox, Shape, Sphere, Subtract, Tube
from . import Structure
from .tissues import TISSUES

Vec3 = tuple[float, float, float]

LABELS = {
    "small_bowel": 150,
    "colon_caecum": 151,
    "colon_ascending": 152,
    "colon_transverse": 153,
    "colon_descending": 154,
}

WALL_MM = 2.5  # distended bowel wall <= 3 mm (typical)
STEP_MM = 2.0  # spacing of the centreline samples that the segment tubes pass through

# Colon centreline (x, y, z, radius) mm, caecal pole to the sigmoid hand-off at (-90, 20, 20), where the pelvis
# region's sigmoid continues with the same radius. Caecum ~50 mm across, ascending ~42, transverse 32-40
# (narrowest at the splenic flexure, squeezed between stomach, kidney and abdominal wall), descending ~36.
_COLON: tuple[tuple[float, float, float, float], ...] = (
    (83, 36, 22, 23.5),  # caecum, pole in the right iliac fossa
    (85, 31, 38, 26.7),
    (83, 29, 50, 24.0),
    (84, 24, 66, 22.0),  # ascending colon, in front of the right kidney
    (83, 23, 80, 20.9),
    (80, 29, 97, 19.9),
    (77, 34, 116, 18.9),  # hepatic flexure under the right lobe of the liver
    (65, 48, 101, 18.5),  # transverse colon, sagging in front
    (53, 57, 82, 18.6),
    (40, 61, 68, 20.0),
    (15, 60, 61, 19.6),
    (-12, 60, 61, 19.5),
    (-34, 63, 76, 19.0),
    (-48, 62, 94, 17.0),
    (-59, 54, 111, 15.5),
    (-73, 44, 126, 16.1),  # splenic flexure, in front of the left kidney
    (-84, 28, 116, 17.0),  # descending colon down the left flank
    (-87, 18, 100, 18.0),
    (-88, 12, 80, 18.0),
    (-90, 10, 54, 18.0),
    (-90, 14, 36, 18.5),
    (-90, 20, 20, 20.0),  # hand-off to the sigmoid (pelvis region), same centre and radius
)
# Index of the control point where each colon segment ends (the next one starts there).
_COLON_SPLITS = {"colon_caecum": 2, "colon_ascending": 6, "colon_transverse": 15, "colon_descending": 21}
# Haustra: period (mm) and depth (fraction of the radius) of the folds between sacculations, per segment;
# the descending colon is less haustrated than the right colon.
_HAUSTRA = {"colon_caecum": (34.0, 0.10), "colon_ascending": (30.0, 0.14), "colon_transverse": (30.0, 0.14),
            "colon_descending": (26.0, 0.08)}
# Gas rises to the non-dependent (anterior) lumen: gas where y > this level (mm), faeces below. One level for the
# whole colon (its gas is one connected pool): the transverse colon, the most anterior, is nearly all gas; the
# caecum and ascending colon have a gas cap; the posterior descending colon holds faeces.
_GAS_LEVEL_Y = 42.0

# Small bowel centreline and radius (x, y, z, r) mm, duodenojejunal flexure -> ileocaecal valve, a point every
# ~12 mm. It starts inside the end of the duodenum (radius 9) and ends inside the caecum: the ileal papilla.
_SMALL_BOWEL: tuple[tuple[float, float, float, float], ...] = (
    (-29, 53, 155, 9.0), (-38, 59, 150, 9.8), (-48, 63, 147, 11.4), (-53, 59, 147, 11.1), (-61, 54, 151, 11.1),
    (-68, 50, 156, 11.5), (-74, 44, 159, 11.7), (-73, 34, 162, 12.3), (-69, 26, 159, 10.3), (-60, 25, 154, 10.3),
    (-54, 30, 149, 10.5), (-47, 32, 143, 10.4), (-44, 36, 135, 9.3), (-41, 37, 124, 9.2), (-35, 36, 117, 9.3),
    (-26, 31, 111, 9.8), (-24, 27, 103, 9.8), (-27, 30, 93, 10.0), (-28, 31, 87, 8.8), (-36, 36, 89, 7.9),
    (-48, 35, 89, 7.8), (-55, 28, 90, 8.3), (-58, 26, 84, 11.4), (-59, 24, 73, 10.5), (-60, 25, 68, 10.5),
    (-58, 28, 61, 10.7), (-66, 28, 54, 10.7), (-72, 36, 55, 10.9), (-78, 38, 59, 10.9), (-78, 40, 70, 11.3),
    (-78, 46, 77, 11.8), (-74, 55, 77, 11.1), (-69, 60, 69, 10.8), (-64, 61, 61, 10.9), (-58, 60, 55, 11.7),
    (-53, 66, 50, 11.7), (-46, 69, 44, 11.7), (-41, 70, 38, 11.3), (-33, 70, 33, 11.2), (-25, 70, 32, 11.3),
    (-17, 70, 29, 10.6), (-8, 70, 28, 10.6), (0, 72, 31, 11.0), (8, 69, 26, 11.3), (15, 69, 26, 10.8),
    (24, 70, 26, 10.8), (32, 66, 31, 10.3), (36, 61, 33, 7.6), (28, 53, 37, 7.5), (21, 43, 37, 7.5),
    (10, 43, 34, 8.8), (1, 44, 33, 9.9), (-6, 48, 27, 10.6), (-14, 47, 28, 10.6), (-23, 45, 32, 11.1),
    (-29, 44, 37, 11.4), (-36, 44, 43, 11.4), (-44, 40, 45, 10.7), (-53, 41, 40, 10.7), (-57, 35, 34, 11.2),
    (-63, 34, 31, 9.2), (-73, 40, 32, 9.1), (-78, 48, 36, 10.9), (-74, 56, 35, 9.6), (-67, 60, 30, 9.4),
    (-61, 59, 25, 9.6), (-56, 60, 21, 11.1), (-49, 65, 15, 11.1), (-41, 62, 13, 11.1), (-34, 65, 9, 10.7),
    (-27, 63, 6, 10.7), (-19, 65, 6, 10.3), (-11, 65, 5, 9.9), (-3, 64, 0, 9.9), (2, 63, -7, 9.5),
    (10, 63, -6, 9.5), (22, 63, -5, 9.6), (30, 63, -1, 9.6), (39, 64, 6, 9.4), (49, 64, 4, 9.4), (52, 63, -1, 9.6),
    (52, 61, -12, 9.5), (53, 55, -18, 10.0), (62, 50, -17, 10.0), (64, 42, -10, 10.4), (56, 40, -3, 10.5),
    (48, 38, -3, 10.3), (37, 37, -3, 9.0), (27, 32, 0, 9.1), (23, 26, 10, 10.1), (16, 24, 17, 9.4),
    (7, 24, 19, 10.0), (-4, 25, 19, 10.6), (-18, 25, 16, 8.7), (-27, 27, 12, 8.7), (-27, 35, 9, 9.8),
    (-20, 41, 5, 9.7), (-12, 40, -1, 9.5), (-5, 37, -6, 9.5), (2, 34, -3, 10.6), (7, 42, 2, 10.5),
    (11, 48, 10, 9.6), (23, 50, 13, 9.6), (34, 46, 15, 9.6), (40, 45, 17, 9.8), (46, 41, 24, 10.9),
    (49, 39, 34, 10.9), (60, 36, 34, 11.0),
)
_JEJUNUM_FRACTION = 0.4  # jejunum the proximal ~2/5 of the small bowel, ileum the distal ~3/5 (Gray's)
_SB_GAS_LEVEL_Y = 72.0  # a little gas in the most anterior jejunal loops (a few short levels are normal)
_FOLD_PERIOD_MM = 5.0  # valvulae conniventes in the jejunum: thin rings a few mm apart
_FOLD_HEIGHT_MM = 2.4


def _sample(points: np.ndarray, radii: np.ndarray, step_mm: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centreline samples (mm), radius (mm) and arc length (mm) every ``step_mm`` along a cubic spline."""
    s = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))]
    line = CubicSpline(s, points, bc_type="not-a-knot")
    t = np.linspace(0.0, s[-1], int(np.ceil(s[-1] / step_mm)) + 1)
    centre = line(t)
    arc = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(centre, axis=0), axis=1))]
    return centre, np.interp(t, s, radii), arc


@lru_cache(maxsize=1)
def _colon_centreline() -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, tuple[int, int]]]:
    """Colon samples (mm), haustrated radius (mm), arc length (mm) and each segment's sample range."""
    pts = np.asarray(_COLON, float)
    centre, radius, arc = _sample(pts[:, :3], pts[:, 3], STEP_MM)
    # Sample index nearest each split control point.
    ranges: dict[str, tuple[int, int]] = {}
    start = 0
    for name, k in _COLON_SPLITS.items():
        stop = int(np.argmin(np.linalg.norm(centre - pts[k, :3], axis=1))) if k < len(pts) - 1 else len(centre) - 1
        ranges[name] = (start, stop)
        start = stop
    # Haustral folds: narrow inward notches of the whole wall, sacculations bulging between them.
    haustra = np.ones_like(radius)
    for name, (a, b) in ranges.items():
        period, depth = _HAUSTRA[name]
        phase = (arc[a : b + 1] - arc[a]) / period
        haustra[a : b + 1] = 1.0 - depth * np.clip((np.cos(2 * np.pi * phase) - 0.6) / 0.4, 0.0, 1.0) ** 2
    return centre, radius * haustra, arc, ranges


@lru_cache(maxsize=1)
def _small_bowel_centreline() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Small-bowel samples (mm), radius (mm) and arc length (mm), every 1 mm."""
    pts = np.asarray(_SMALL_BOWEL, float)
    return _sample(pts[:, :3], pts[:, 3], 1.0)


def _tube(centre: np.ndarray, radius: np.ndarray, a: int, b: int, every: int = 1, step_mm: float = 1.5) -> Tube:
    """Tube through centreline samples ``a..b`` (inclusive), every ``every``-th one, swept every ``step_mm``."""
    idx = np.unique(np.r_[np.arange(a, b, every), b])
    return Tube(tuple(map(tuple, centre[idx])), tuple(radius[idx]), step_mm=step_mm)


def _plugs(centre: np.ndarray, radius: np.ndarray, arc: np.ndarray, joint: int) -> tuple[Shape, Shape]:
    """Lumen across a joint between two walled segments, cut at the joint plane into (before, after) halves.

    Painted after both segments, it erases their end caps (no septum across the lumen); each half carries its
    own segment's label.
    """
    reach = 1.3 * radius[joint]
    a = int(np.searchsorted(arc, arc[joint] - reach))
    b = min(len(arc) - 1, int(np.searchsorted(arc, arc[joint] + reach)))
    lumen = _tube(centre, radius - WALL_MM, a, b)
    t = _tangent(centre, joint)
    before = Intersect(lumen, HalfSpace(tuple(centre[joint]), tuple(t)))
    after = Intersect(lumen, HalfSpace(tuple(centre[joint]), tuple(-t)))
    return before, after


def _gas(lumen: Shape, level_y: float) -> Shape:
    """Gas in the part of a lumen anterior to ``level_y`` (mm): a flat gas-fluid level, supine patient.

    The slab is a box cut to the lumen's bounds, so the sampler only visits the gas-filled part.
    """
    lo, hi = lumen.bounds_mm()
    lo, hi = np.array([lo[0] - 1, level_y, lo[2] - 1]), hi + 1.0
    hi[1] = max(hi[1], lo[1] + 1.0)
    return Intersect(lumen, RoundBox(tuple((lo + hi) / 2), tuple((hi - lo) / 2)))


def _tangent(centre: np.ndarray, i: int) -> np.ndarray:
    """Direction (unit) of the centreline at sample ``i``."""
    t = centre[min(i + 1, len(centre) - 1)] - centre[max(i - 1, 0)]
    return t / np.linalg.norm(t)


def _trimmed(tube: Shape, centre: np.ndarray, radius: np.ndarray, cuts: list[tuple[int, bool]]) -> Shape:
    """A tube (or its lumen) with its end caps cut off at the joints: ``(sample, keep_before)`` per joint.

    The cut is local (a ball round the joint), so a curved segment is never cut elsewhere; the flat wall it
    leaves across the lumen is erased by the joint's plugs.
    """
    shape: Shape = tube
    for i, keep_before in cuts:
        t = _tangent(centre, i)
        beyond = HalfSpace(tuple(centre[i]), tuple(-t if keep_before else t))
        shape = Subtract(shape, Intersect(Sphere(tuple(centre[i]), 1.5 * radius[i] + 4.0), beyond))
    return shape


def _colon() -> list[Structure]:
    """Caecum, ascending, transverse and descending colon: walled tubes of faeces with anterior gas."""
    centre, radius, arc, ranges = _colon_centreline()
    names = list(ranges)
    walls, plugs, gas = [], [], []
    for k, (name, (a, b)) in enumerate(ranges.items()):
        cuts = ([(a, False)] if k > 0 else []) + ([(b, True)] if k < len(names) - 1 else [])
        raw = _tube(centre, radius, a, b)
        tube = _trimmed(raw, centre, radius, cuts)
        walls.append(Structure(name, LABELS[name], tube, TISSUES["faeces"], "hollow", WALL_MM, TISSUES["gut_wall"],
                               location="colon"))
        if k < len(names) - 1:
            for label_name, half in zip((name, names[k + 1]), _plugs(centre, radius, arc, b), strict=True):
                plugs.append(Structure(label_name, LABELS[label_name], half, TISSUES["faeces"], "hollow",
                                       location="colon"))
        lumen = _trimmed(Offset(raw, -WALL_MM), centre, radius, cuts)  # cut at the joint itself, not inside
        gas.append(Structure(name, LABELS[name], _gas(lumen, _GAS_LEVEL_Y), TISSUES["gas"], "hollow",
                             location="colon"))
    return walls + plugs + gas


def _small_bowel() -> list[Structure]:
    """Jejunum then ileum, one label: fluid-filled tubes, jejunal folds, a little gas in anterior jejunal loops.

    The jejunum is painted as a solid of wall tissue and then its folded lumen (a ``wall_mm`` wall cannot carry
    folds); the ileum, painted between the two, has an ordinary wall. Its start cap lies inside the jejunal
    lumen painted after it, so the joint has no septum. The jejunum starts inside the end of the duodenum: its
    solid is cut flat there and its lumen is not, so the lumen opens into the duodenum's.
    """
    centre, radius, arc = _small_bowel_centreline()
    j = int(np.argmin(np.abs(arc - _JEJUNUM_FRACTION * arc[-1])))
    n = len(centre) - 1
    label = LABELS["small_bowel"]
    jejunum = _tube(centre, radius, 0, j, every=2, step_mm=2.0)
    solid = _trimmed(jejunum, centre, radius, [(0, False)])
    ileum = _tube(centre, radius, j, n, every=2, step_mm=2.0)
    # Valvulae conniventes: rings of mucosa every few mm, tallest proximally.
    height = _FOLD_HEIGHT_MM * np.interp(arc[: j + 1] / arc[j], (0.0, 1.0), (1.0, 0.6))
    ring = np.clip((np.cos(2 * np.pi * arc[: j + 1] / _FOLD_PERIOD_MM) - 0.5) / 0.5, 0.0, 1.0)
    folded = _tube(centre[: j + 1], radius[: j + 1] - WALL_MM - height * ring, 0, j, step_mm=0.75)
    return [
        Structure("small_bowel", label, solid, TISSUES["gut_wall"], "hollow", location="jejunum"),
        Structure("small_bowel", label, ileum, TISSUES["gut_fluid"], "hollow", WALL_MM, TISSUES["gut_wall"],
                  location="ileum"),
        Structure("small_bowel", label, folded, TISSUES["gut_fluid"], "hollow", location="jejunum"),
        Structure("small_bowel", label, _gas(Offset(jejunum, -WALL_MM - 1.0), _SB_GAS_LEVEL_Y), TISSUES["gas"],
                  "hollow", location="jejunum"),
    ]


def _point_at(name: str, fraction: float) -> Vec3:
    """Centreline point (mm) at a fraction of a colon segment's length."""
    centre, _, arc, ranges = _colon_centreline()
    a, b = ranges[name]
    i = a + int(np.argmin(np.abs(arc[a : b + 1] - arc[a] - fraction * (arc[b] - arc[a]))))
    return tuple(float(round(v, 1)) for v in centre[i])


def _pelvic_loop() -> Vec3:
    """Centre (mm) of the lowest ileal loop, the one that dips toward the pelvis."""
    centre, _, _ = _small_bowel_centreline()
    return tuple(float(round(v, 1)) for v in centre[int(np.argmin(centre[:, 2]))])


LANDMARKS: dict[str, Vec3] = {
    "caecum": tuple(float(v) for v in _COLON[1][:3]),
    "hepatic_flexure": tuple(float(v) for v in _COLON[_COLON_SPLITS["colon_ascending"]][:3]),
    "splenic_flexure": tuple(float(v) for v in _COLON[_COLON_SPLITS["colon_transverse"]][:3]),
    "transverse_colon": _point_at("colon_transverse", 0.5),
    "descending_colon": _point_at("colon_descending", 0.5),
    "small_bowel_pelvic_loop": _pelvic_loop(),
}


@lru_cache(maxsize=1)
def _structures() -> tuple[Structure, ...]:
    """Every structure of the region, built once (their k-d trees are reused between samplings)."""
    return (*_colon(), *_small_bowel())


def structures() -> list[Structure]:
    """The colon above the sigmoid and the small bowel (layer "hollow"), walls, contents and gas."""
    return list(_structures())
