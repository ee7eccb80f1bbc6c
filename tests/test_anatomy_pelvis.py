"""Pelvic soft tissue: sizes, positions and the topology of the organs, muscles, vessels and ureters.

Ranges and their sources are given beside each check (see ``utils/anatomy/pelvis.py``); (t) = typical.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import ndimage

from utils.anatomy import frame, pelvis
from utils.sampling import Grid, index_box, occupancy, world_points


@pytest.fixture(scope="module")
def parts():
    """Structures of the region grouped by name."""
    groups: dict[str, list] = {}
    for s in pelvis.structures():
        groups.setdefault(s.name, []).append(s)
    return groups


def mask(structures, grid: Grid, offset_mm: float = 0.0) -> np.ndarray:
    """Voxels of ``grid`` at least half inside any of the structures (shrunk by ``offset_mm``)."""
    out = np.zeros(grid.shape, bool)
    for s in structures:
        box = index_box(grid, *s.shape.bounds_mm())
        if box is not None:
            out[box] |= occupancy(s.shape, grid, box, (offset_mm,))[0] >= 0.5
    return out


def distance(structures, points) -> np.ndarray:
    """Signed distance (mm) of points to the union of the structures."""
    pts = np.asarray(points, np.float32).reshape(-1, 3)
    return np.min([s.shape.distance_mm(pts) for s in structures], axis=0)


def box_grid(lower, upper, voxel_mm: float = 1.5) -> Grid:
    return Grid.covering(lower, upper, (voxel_mm,) * 3)


def test_structures_build_fast_with_labels_in_range():
    t = time.perf_counter()
    structures = pelvis.structures()
    assert time.perf_counter() - t < 0.5
    names = {s.name: s.label for s in structures}
    assert len(set(names.values())) == len(names), "one label per name"
    for name, label in names.items():
        # 80-109 is the region's range; the pelvic ureters share the abdomen's "ureters" label.
        assert 80 <= label <= 109 or name == "ureters", (name, label)
    required = {"bladder", "rectum", "colon_sigmoid", "ovaries", "piriformis", "obturator_internus", "levator_ani",
                "gluteus_maximus", "gluteus_medius_minimus", "iliacus", "ischioanal_fat", "mesorectal_fat",
                "iliac_arteries", "iliac_veins", "ureters", "uterus_myometrium", "uterus_endometrium",
                "uterus_junctional_zone"}
    assert required <= set(names), sorted(required - set(names))


def test_bladder_is_urine_in_a_3_mm_wall_compressed_in_front_of_the_rectum(parts):
    g = box_grid((-60, 0, -120), (60, 70, -20))
    outer, urine = mask(parts["bladder"], g), mask(parts["bladder"], g, pelvis.BLADDER_WALL_MM)
    outer_ml, urine_ml = outer.sum() * 1.5**3 / 1000, urine.sum() * 1.5**3 / 1000
    # Moderately filled is 300-400 mL (Radiopaedia); here the presacral mass pushes the rectum to y +10 and
    # leaves ~25 mm between it and the rectus sheath, so the bladder is compressed: 70-450 mL in all.
    assert 70 <= outer_ml <= 450 and urine_ml >= 30, (outer_ml, urine_ml)
    assert parts["bladder"][0].tissue.suv_fdg > 10 and parts["bladder"][0].wall_mm == 3.0
    assert distance(parts["bladder"], [pelvis.LANDMARKS["bladder_centre"]])[0] < -pelvis.BLADDER_WALL_MM
    # Behind the pubis: no bladder in front of the back of the symphysis (y 44.5 at z -100, pelvis_bones).
    pts = world_points(g)[outer]
    assert not np.any((pts[:, 2] < -100) & (pts[:, 1] > 45))


def test_uterus_size_zones_and_anteversion(parts):
    g = box_grid((-20, 0, -100), (60, 80, 15))
    zones = [n for n in parts if n.startswith("uterus_")]
    whole = mask([s for n in zones for s in parts[n]], g)
    pts = world_points(g)[whole]
    centred = pts - pts.mean(axis=0)
    axes = np.linalg.svd(centred, full_matrices=False)[2]
    extent = sorted((np.ptp(centred @ a) for a in axes), reverse=True)
    # Uterus 6-9 cm long with the cervix, body ~5 cm wide and 3-4 cm deep (t; 7.5 x 5 x 3.5 cm body).
    assert 70 <= extent[0] <= 92 and 42 <= extent[1] <= 55 and 30 <= extent[2] <= 40, extent
    # Anteverted: the body's axis tips forward (toward the bladder) from the vertical and from the cervix;
    # the cervix points down and back toward the vagina.
    body = np.subtract(pelvis.FUNDUS_TIP, pelvis.INTERNAL_OS)
    cervix = np.subtract(pelvis.INTERNAL_OS, pelvis.EXTERNAL_OS)
    assert np.degrees(np.arctan2(body[1], body[2])) >= 20
    assert body[1] / np.linalg.norm(body) > cervix[1] / np.linalg.norm(cervix)
    assert pelvis.EXTERNAL_OS[1] < pelvis.INTERNAL_OS[1] and pelvis.EXTERNAL_OS[2] < pelvis.INTERNAL_OS[2]


def test_endometrium_inside_the_uterus_with_zonal_anatomy(parts):
    g = box_grid((-20, 0, -100), (60, 80, 15), 1.0)
    u = pelvis._uterus_parts()
    outline = [type("Part", (), {"shape": shape})() for shape in (u["body"], u["cervix"])]
    uterus = mask(outline, g)
    for zone in ("uterus_endometrium", "uterus_junctional_zone"):
        inner = mask(parts[zone], g)
        assert inner.sum() > 0 and np.all(uterus[inner]), zone
    # The zones do not overlap (each keeps its own label): myometrium and junctional zone are shells.
    assert not np.any(mask(parts["uterus_myometrium"], g) & mask(parts["uterus_endometrium"], g))
    # Stripe 5-10 mm (mriprotocol), junctional zone 2-8 mm (DOI 10.2214/AJR.10.4877): walk from the
    # centre of the cavity along its front-to-back axis.
    centre = np.asarray(pelvis.LANDMARKS["endometrium"])
    axis = np.asarray(pelvis._uterus_parts()["cavity"].angles_deg)
    from scipy.spatial.transform import Rotation

    ap = Rotation.from_euler("xyz", axis, degrees=True).as_matrix()[:, 1]
    steps = np.arange(-20.0, 20.0, 0.1)
    line = centre + steps[:, None] * ap
    in_endo = distance(parts["uterus_endometrium"], line) <= 0
    in_jz = (distance(parts["uterus_junctional_zone"], line) <= 0) & ~in_endo
    assert 5.0 <= in_endo.sum() * 0.1 <= 10.0
    assert 2.0 <= in_jz.sum() * 0.1 / 2 <= 8.0
    # T2: endometrium bright, junctional zone dark, myometrium between.
    t2 = {n: parts[n][0].tissue.t2_ms for n in ("uterus_endometrium", "uterus_junctional_zone", "uterus_myometrium")}
    assert t2["uterus_endometrium"] > t2["uterus_myometrium"] > t2["uterus_junctional_zone"]


def test_ovaries_size_follicles_and_fossae(parts):
    # 4.8 mL mean at 40-49 y, upper limit ~20 (Pavlik EJ et al., Gynecol Oncol 2000;77:410).
    for side in ("left", "right"):
        c = np.asarray(pelvis.LANDMARKS[f"ovary_{side}"])
        g = box_grid(c - 25, c + 25, 1.0)
        m = mask(parts["ovaries"], g)
        assert 3.0 <= m.sum() * 1e-3 <= 15.0, (side, m.sum() * 1e-3)
        assert (c[0] > 0) == (side == "right") and 35 <= abs(c[0]) <= 55  # on the lateral pelvic wall
    follicles = [s for s in parts["ovaries"] if s.tissue.t2_ms > 500]
    assert follicles, "T2-bright follicles"


def test_rectum_lies_on_the_mass_and_the_rectosigmoid_clear_of_it(parts):
    g = box_grid((-50, -30, -71), (40, 60, -19), 1.0)
    pts = world_points(g)
    rect = mask(parts["rectum"], g)
    colon = rect | mask(parts["colon_sigmoid"], g)
    for k in range(g.shape[2]):
        z = pts[0, 0, k, 2]
        m = (rect if z <= -40 else colon)[:, :, k]
        if m.any():
            # The frame's displaced posterior wall (y ~ +10, mass front at y <= +8).
            assert pts[:, :, k, 1][m].min() >= 8.0, z
    # Lumen in the rectum behind the mass; 30-40 mm wide there (t), flattened against the mass.
    assert distance(parts["rectum"], [pelvis.LANDMARKS["rectum_behind_mass"]])[0] < -3.0
    k = int(np.argmin(np.abs(pts[0, 0, :, 2] + 55)))
    xs = pts[:, :, k, 0][rect[:, :, k]]
    assert 30 <= np.ptp(xs) <= 42


def test_anorectal_junction_at_the_coccyx_tip_level_and_anal_canal_through_the_hiatus(parts):
    assert abs(pelvis.ANORECTAL_JUNCTION[2] - frame.COCCYX_TIP[2]) <= 5
    # The canal passes through the urogenital-rectal hiatus: no levator on its axis.
    line = [(0.0, -13.0 - 8 * t, -102.0 - 17 * t) for t in np.linspace(0, 1, 30)]
    assert np.all(distance(parts["levator_ani"], line) > 0)
    assert np.all(distance(parts["anal_canal"], line) < 0)


def test_mesorectum_width(parts):
    # 72 +- 10 mm wide in women (DOI 10.13418/j.issn.1001-165x.2020.01.008).
    xs = np.arange(-70.0, 70.0, 0.5)
    for z in (-50.0, -60.0):
        inside = distance(parts["mesorectal_fat"] + parts["rectum"], np.stack([xs, np.full_like(xs, 15), np.full_like(xs, z)], 1)) <= 0
        assert 62 <= np.ptp(xs[inside]) <= 82, z


def test_sigmoid_reaches_the_descending_colon(parts):
    assert distance(parts["colon_sigmoid"], [(-90.0, 20.0, 20.0)])[0] < -5
    assert distance(parts["colon_sigmoid"], [frame.RECTOSIGMOID_JUNCTION])[0] < -5


def test_ureters_run_from_the_brim_into_the_bladder(parts):
    for side in ("left", "right"):
        assert pelvis.URETERS[side][0] == frame.URETER_AT_BRIM[side]
    g = box_grid((-55, -10, -112), (55, 65, 16), 1.5)
    ureter, bladder = mask(parts["ureters"], g), mask(parts["bladder"], g)
    labels, _ = ndimage.label(ureter | bladder)
    start = [labels[tuple(np.round(np.linalg.solve(g.affine[:3, :3], np.subtract(p, g.affine[:3, 3]))).astype(int))]
             for p in (frame.URETER_AT_BRIM["left"], frame.URETER_AT_BRIM["right"])]
    sizes = np.bincount(labels[bladder])
    assert start[0] == start[1] == np.argmax(sizes), "both ureters reach the bladder"
    # The pitfall: beside the presacral mass at z ~ -20, in front of the internal iliac arteries.
    for side in ("left", "right"):
        p = np.asarray(pelvis.LANDMARKS[f"ureter_{side}_pelvic"])
        assert abs(p[2] + 20) < 1 and distance(parts["ureters"], [p])[0] < 0
        iia = np.array([q for q, _ in pelvis.ARTERIES[f"{side}_internal"]])
        y_iia = np.interp(p[2], iia[::-1, 2], iia[::-1, 1])
        assert y_iia < p[1] - 8, side


def test_piriformis_arises_from_the_ventral_sacrum_lateral_to_the_foramina(parts):
    ys, zs = zip(*frame.SACRAL_VENTRAL_MIDLINE, strict=True)
    for z in (-34.0, -42.0):
        y = float(np.interp(z, zs[::-1], ys[::-1]))
        for x in (30.0, -30.0):
            assert distance(parts["piriformis"], [(x, y, z)])[0] <= 0, (x, z)
    foramen = frame.ANTERIOR_SACRAL_FORAMINA["S2-S3"]
    assert 30.0 > foramen[0]
    # To the greater trochanter (~(120, -5, -95)).
    assert distance(parts["piriformis"], [(116.0, -11.0, -94.0), (-116.0, -11.0, -94.0)]).max() <= 0


def test_pelvic_wall_and_floor_muscle_thickness(parts):
    # Levator ani 3-6 mm (t): the deepest point of the sheet along the bowl's normal is half its thickness.
    centre = np.asarray(pelvis.LEVATOR_BOWL[0])
    for direction in ((0.6, -0.2, -0.77), (-0.6, 0.0, -0.8), (0.0, -0.55, -0.83)):
        d = np.asarray(direction) / np.linalg.norm(direction)
        line = centre + np.arange(20.0, 90.0, 0.05)[:, None] * d
        inside = distance(parts["levator_ani"], line) <= 0
        assert 3.0 <= inside.sum() * 0.05 <= 6.5, direction
    # Obturator internus 10-15 mm (t) on the side wall at the level of the femoral heads.
    xs = np.arange(20.0, 80.0, 0.25)
    inside = distance(parts["obturator_internus"], np.stack([xs, np.zeros_like(xs), np.full_like(xs, -95.0)], 1)) <= 0
    assert 10 <= inside.sum() * 0.25 <= 15
    # Ischioanal fossae 30-40 mm wide below the levator (t).
    inside = distance(parts["ischioanal_fat"], np.stack([xs - 20, np.full_like(xs, -10.0), np.full_like(xs, -125.0)], 1)) <= 0
    assert 28 <= inside.sum() * 0.25 <= 42


def test_gluteus_maximus_thickness(parts):
    # 30-40 mm behind the hip (t): along y at x = 70 mm, z = -95 mm.
    ys = np.arange(-130.0, 0.0, 0.25)
    inside = distance(parts["gluteus_maximus"], np.stack([np.full_like(ys, 70.0), ys, np.full_like(ys, -95.0)], 1)) <= 0
    assert 28 <= inside.sum() * 0.25 <= 42


def test_iliac_vessels(parts):
    arteries, veins = parts["iliac_arteries"], parts["iliac_veins"]
    for p in (frame.LANDMARKS["aortic_bifurcation"], *frame.COMMON_ILIAC_DIVISION.values()):
        assert distance(arteries, [p])[0] < -2
    assert distance(veins, [frame.LANDMARKS["ivc_confluence"]])[0] < -2
    # Common iliac artery 8.5 mm (DOI 10.1016/j.avsg.2019.05.030): its radius at the start.
    assert 4.0 <= pelvis.ARTERIES["right_common_external_femoral"][0][1] <= 4.6
    # The left common iliac vein crosses behind the right common iliac artery.
    ys = np.arange(-10.0, 60.0, 0.25)
    on_line = np.stack([np.full_like(ys, 5.0), ys, np.full_like(ys, 49.0)], 1)
    a, v = ys[distance(arteries, on_line) <= 0], ys[distance(veins, on_line) <= 0]
    assert len(a) and len(v) and v.max() < a.min()
    # Femoral arteries in front of the medial femoral head, down to z = -200.
    for sign in (1.0, -1.0):
        head = np.asarray(frame.LANDMARKS["femoral_head_right"]) * (sign, 1, 1)
        x, y = np.meshgrid(np.arange(30.0, 110.0, 1.0) * sign, np.arange(0.0, 80.0, 1.0), indexing="ij")
        plane = np.stack([x.ravel(), y.ravel(), np.full(x.size, head[2])], 1)
        femoral = [a for a in arteries if np.sign(a.shape.bounds_mm()[1][0]) == sign and a.shape.bounds_mm()[0][2] < -150]
        hit = plane[distance(femoral, plane) <= 0]
        assert len(hit) and np.all(np.abs(hit[:, 0]) < abs(head[0])) and np.all(hit[:, 1] > head[1] + 22)
        assert distance(arteries, [(sign * 74.0, 33.0, -200.0)])[0] < 0


def test_landmarks_fall_in_their_structures(parts):
    where = {
        "bladder_centre": "bladder", "uterus_centre": "uterus_", "endometrium": "uterus_endometrium",
        "ovary_left": "ovaries", "ovary_right": "ovaries", "rectum_behind_mass": "rectum",
        "piriformis_left": "piriformis", "piriformis_right": "piriformis", "ureter_left_pelvic": "ureters",
        "ureter_right_pelvic": "ureters", "iliac_bifurcation_left": "iliac_arteries",
        "iliac_bifurcation_right": "iliac_arteries", "cervix": "uterus_",
    }
    for key, name in where.items():
        structures = [s for n, group in parts.items() if n == name or (name.endswith("_") and n.startswith(name))
                      for s in group]
        assert distance(structures, [pelvis.LANDMARKS[key]])[0] <= 0, key
