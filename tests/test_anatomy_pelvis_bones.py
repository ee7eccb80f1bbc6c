"""The bony pelvis and the case's pelvic masses: sizes, the foramina, the key image's topology.

Sizes are checked against the measurements the anatomy was built from: female sacrum (PMC5799488; sacral
foramina jcdr.net id 11661), sacroiliac joint space (DOI 10.1016/s0009-9260(98)80316-4), femoral head and
neck-shaft angle (figshare 25204389; DOI 10.1007/s11999-008-0473-3), and the case report's masses.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial import ConvexHull

from utils.anatomy import build_patient, frame, landmarks
from utils.sampling import Grid, index_box, occupancy, paint

pb = importlib.import_module("utils.anatomy.pelvis_bones")
les = importlib.import_module("utils.anatomy.findings")

BONE_LABELS = {60, 65, 66, 69}  # sacrum, coccyx, hip bones, femora
NAMES = {
    "sacrum": 60,
    "sacral_canal": 61,
    "sacral_foramina": 62,
    "sacral_nerve_roots": 63,
    "coccyx": 65,
    "hip_bones": 66,
    "sacroiliac_joints": 68,
    "femora": 69,
    "hip_joints": 70,
    "pubic_symphysis": 71,
    "coccygeal_discs": 72,
}


@pytest.fixture(scope="module")
def structures():
    return [s for s in build_patient(("pelvis_bones", "findings")) if not s.name.startswith("liver_lesion")]


@pytest.fixture(scope="module")
def by_name(structures):
    """The first structure of each name (the sacrum's marrow zones follow the sacrum itself)."""
    out = {}
    for s in structures:
        out.setdefault(s.name, s)
    return out


@pytest.fixture(scope="module")
def sacral_labels(structures):
    """Labels and CT numbers of the sacrum, coccyx, their contents and the masses on a 1-mm grid."""
    near = {
        "sacrum",
        "sacral_canal",
        "sacral_foramina",
        "sacral_nerve_roots",
        "coccyx",
        "coccygeal_discs",
        "presacral_mass",
        "precoccygeal_mass",
    }
    grid = Grid.covering((-58.0, -100.0, -112.0), (58.0, 12.0, 36.0), (1.0, 1.0, 1.0))
    maps, labels = paint(
        [s for s in structures if s.name in near], grid, {"hu": lambda t: t.hu}, {"hu": -1000.0}
    )
    return grid, labels, maps["hu"]


def _label_at(grid: Grid, labels: np.ndarray, point) -> int:
    ijk = np.rint(np.linalg.solve(grid.affine, [*point, 1.0])[:3]).astype(int)
    return int(labels[tuple(ijk)])


def _world(grid: Grid, labels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    ijk = np.argwhere(mask)
    return ijk @ grid.affine[:3, :3].T + grid.affine[:3, 3]


def _volume_ml(shape, step: float = 2.0) -> float:
    grid = Grid.covering(*shape.bounds_mm(), (step,) * 3)
    box = index_box(grid, *shape.bounds_mm())
    (occ,) = occupancy(shape, grid, box)
    return float(occ.sum()) * step**3 / 1000.0


def test_structures_and_labels(structures):
    ids = {s.name: s.label for s in structures}
    for name, label in NAMES.items():
        assert ids[name] == label, name
    assert ids["presacral_mass"] == 200 and ids["precoccygeal_mass"] == 201
    assert all(60 <= s.label <= 79 for s in structures if s.name in NAMES)
    lesion_names = [s.name for s in structures if s.is_lesion]
    assert lesion_names[:2] == ["presacral_mass", "precoccygeal_mass"]


def test_volumes(by_name):
    # Adult sacrum ~100 x 100 x 50-60 mm with a canal and thin cortex: 150-300 mL (geometric estimate from
    # PMC5799488 sizes); coccyx a few mL; each hip bone 150-350 mL and each femur in the field
    # (head to mid-thigh) 150-350 mL (geometric estimates from the cited sizes).
    assert 150 < _volume_ml(by_name["sacrum"].shape) < 320
    assert 2 < _volume_ml(by_name["coccyx"].shape, 1.0) < 12
    assert 300 < _volume_ml(by_name["hip_bones"].shape, 4.0) < 700
    assert 300 < _volume_ml(by_name["femora"].shape, 4.0) < 700
    # Masses: presacral ~5-6 cm across (case report) -> 35-80 mL; precoccygeal ~30 x 25 x 28 mm -> 6-15 mL.
    assert 35 < _volume_ml(by_name["presacral_mass"].shape, 1.5) < 80
    assert 6 < _volume_ml(by_name["precoccygeal_mass"].shape, 1.0) < 15


def _sacral_width(grid: Grid, labels: np.ndarray, s_range) -> float:
    pts = _world(grid, labels, labels == 60)
    _, s, _, _ = pb.sacral_frame().to_sacral(pts.astype(np.float32))
    sel = pts[(s >= s_range[0]) & (s <= s_range[1])]
    return float(sel[:, 0].max() - sel[:, 0].min())


def test_sacral_width_at_s1_and_s5(sacral_labels):
    # Width with alae ~100 mm, interauricular 109 +- 11 mm (PMC5799488); ~30 mm at S5 (typical).
    grid, labels, _ = sacral_labels
    levels = pb.sacral_frame().levels
    assert 95 <= _sacral_width(grid, labels, (levels[0] + 4, levels[1] - 4)) <= 115
    assert 25 <= _sacral_width(grid, labels, (levels[4] + 3, levels[5] - 3)) <= 40


def test_s1_body_and_endplate():
    # S1 body 40 +- 7 mm wide (PMC5799488), ~32 deep; endplate normal ~(0, .57, .82).
    assert 40 <= 2 * pb.BODY_HALF_WIDTH[0] <= 47 and 29 <= pb.BODY_DEPTH[0] <= 34
    n = np.asarray(pb.S1_ENDPLATE_NORMAL) / np.linalg.norm(pb.S1_ENDPLATE_NORMAL)
    assert 30 <= np.degrees(np.arccos(n[2])) <= 40


def test_each_anterior_foramen_connects_canal_and_presacral_space(sacral_labels):
    """A path of non-bone voxels runs from the canal through every foramen to the front of the sacrum."""
    grid, labels, _ = sacral_labels
    f = pb.sacral_frame()
    non_bone = ~np.isin(labels, list(BONE_LABELS))
    components, _ = ndimage.label(non_bone)
    for i, path in enumerate(pb.foramen_paths()):
        s = float(f.levels[i + 1])
        depth = float(np.interp(s, f.levels, pb.BODY_DEPTH) + 0.4 * np.interp(s, f.levels, pb.CANAL_DEPTH))
        canal = f.to_world(0.0, s - 3.0, depth)  # the canal on the midline
        for side in (1, -1):
            front = f.to_world(side * path.ventral[0], s, -6.0)
            a, b = _label_at(grid, components, canal), _label_at(grid, components, front)
            assert a != 0 and a == b, (path.name, side)
            # The opening itself is not bone, and lies at the frame's foramen.
            ventral = (side * path.ventral[0], path.ventral[1], path.ventral[2])
            assert _label_at(grid, labels, ventral) not in BONE_LABELS


def test_foramina_are_round_and_shrink_caudally():
    radii = [p.radius_ventral for p in pb.foramen_paths()]
    assert 5.5 <= radii[0] <= 7.0 and 5.5 <= radii[1] <= 7.0  # 13.0 x 12.2 and 12.9 x 13.1 mm (jcdr 11661)
    assert radii == sorted(radii, reverse=True)
    xs = [p.ventral[0] for p in pb.foramen_paths()]
    assert xs == sorted(xs, reverse=True), "the foramina converge caudally"


def test_mass_fills_the_left_s1_s2_foramen_not_the_right(sacral_labels):
    grid, labels, _ = sacral_labels
    f = pb.sacral_frame()
    path = next(p for p in pb.foramen_paths() if p.name == "S1-S2")
    s = float(f.levels[1])
    for depth in (2.0, 5.0, 8.0):  # along the ventral funnel, behind the opening
        left = f.to_world(-path.ventral[0] + 0.5, s - 0.3, depth)
        right = (-left[0], left[1], left[2])
        assert _label_at(grid, labels, left) == 200, depth
        assert _label_at(grid, labels, right) in {62, 63}, depth  # fat or root
    # The left S1 root is encased: no root voxels left in the left ventral funnel.
    funnel = np.array([f.to_world(-path.ventral[0], s - 0.5 * k, 1.5 * k) for k in range(1, 6)])
    assert all(_label_at(grid, labels, p) == 200 for p in funnel)
    # The right foramen keeps a root ringed by fat: both labels present in its funnel.
    ring = {_label_at(grid, labels, (path.ventral[0] + dx, p[1], p[2])) for p in funnel for dx in (-4, 0, 4)}
    assert {62, 63} <= ring


def test_mass_does_not_cross_the_midline_into_the_right_foramina(sacral_labels):
    grid, labels, _ = sacral_labels
    mass = _world(grid, labels, labels == 200)
    _, _, u, _ = pb.sacral_frame().to_sacral(mass.astype(np.float32))
    inside_bone = mass[u > 1.5]  # behind the anterior sacral surface
    assert len(inside_bone) > 50
    assert np.all(inside_bone[:, 0] < -12), "only the left foraminal component enters the sacrum"
    # Fat stays in front of the right S1-S2 opening.
    right = next(p for p in pb.foramen_paths() if p.name == "S1-S2").outside
    assert _label_at(grid, labels, right) != 200


def test_mass_lies_on_the_anterior_sacral_cortex_at_the_midline(sacral_labels):
    grid, labels, _ = sacral_labels
    f = pb.sacral_frame()
    levels = f.levels
    touching = []
    for s in np.arange(levels[1] - 10, levels[3] - 6, 4.0):  # S1 to S3
        line = [_label_at(grid, labels, f.to_world(0.0, s, u)) for u in np.arange(3.0, -4.0, -0.5)]
        first_soft = next(k for k, lab in enumerate(line) if lab not in BONE_LABELS)
        touching.append(200 in line[first_soft : first_soft + 3])
    assert all(touching), touching


def test_mass_extent_and_rectal_clearance(sacral_labels):
    grid, labels, _ = sacral_labels
    mass = _world(grid, labels, labels == 200)
    assert mass[:, 1].max() <= frame.RECTUM_POSTERIOR_WALL_Y - 2.0  # anterior surface y <= +8
    _, _, u, _ = pb.sacral_frame().to_sacral(mass.astype(np.float32))
    main = mass[u <= 0.0]  # in front of the sacrum (without the foraminal component)
    assert -15.0 <= main[:, 2].max() <= 0.0 and -72.0 <= main[:, 2].min() <= -55.0  # S1 to S3
    # Longest axial diameter 50-60 mm (case report): the largest in-plane extent over axial slices.
    longest = 0.0
    for z in np.unique(mass[:, 2]):
        sl = mass[mass[:, 2] == z][:, :2]
        if len(sl) > 10:
            hull = sl[ConvexHull(sl).vertices]
            longest = max(longest, float(np.linalg.norm(hull[:, None] - hull[None], axis=-1).max()) + 1.0)
    assert 50.0 <= longest <= 62.0, longest


def test_precoccygeal_mass_touches_the_coccyx_and_is_separate(sacral_labels):
    grid, labels, _ = sacral_labels
    pre = labels == 201
    assert pre.sum() > 0
    coccyx = ndimage.binary_dilation(labels == 65, iterations=2)
    assert (pre & coccyx).any(), "the precoccygeal mass rests on the anterior coccyx"
    presacral = ndimage.binary_dilation(labels == 200, iterations=5)
    assert not (pre & presacral).any(), "at least 5 mm of fat between the two masses"
    z = _world(grid, labels, pre)[:, 2]
    assert z.max() <= -75 and z.min() >= -115


def test_sacroiliac_joint_space():
    """2.3 +- 0.4 mm (<40 y), 1.9 +- 0.2 mm (>40 y) (DOI 10.1016/s0009-9260(98)80316-4); 2-4 mm here."""
    j = pb.sij_frame()
    shape = pb.sij_shape()
    t = np.arange(-4.0, 4.0, 0.05)
    for side in (1, -1):
        centre = j.centre * np.array([side, 1.0, 1.0])
        normal = j.normal * np.array([side, 1.0, 1.0])
        d = shape.distance_mm((centre + t[:, None] * normal).astype(np.float32))
        width = 0.05 * (d < 0).sum()
        assert 2.0 <= width <= 4.0, width
    # The joint is oblique, front end lateral, 20-30 deg to the sagittal plane.
    axial = np.cross(j.normal, (0.0, 0.0, 1.0))
    angle = np.degrees(np.arctan2(abs(axial[0]), abs(axial[1])))
    assert 20.0 <= angle <= 30.0


def test_femoral_heads_necks_and_shaft_marrow(by_name):
    shape = by_name["femora"].shape
    for side in (1, -1):
        c = np.asarray(frame.LANDMARKS["femoral_head_right"]) * np.array([side, 1.0, 1.0])
        t = np.arange(-30.0, 30.0, 0.1)
        d = shape.distance_mm((c + t[:, None] * np.array([0.0, 1.0, 0.0])).astype(np.float32))
        assert (
            40.0 <= 0.1 * (d < 0).sum() <= 48.0
        )  # ~44 mm (typical; radiographic 48 +- 5, figshare 25204389)
    a = pb.femur_axes()
    angle = np.degrees(np.arccos(np.dot(a["neck"], a["shaft_down"])))
    assert abs(angle - 129.0) < 1.0  # neck-shaft angle (DOI 10.1007/s11999-008-0473-3)
    # Fatty marrow in the shaft (CT about -40 HU), a thick cortex around it.
    grid = Grid.covering((40.0, -40.0, -262.0), (130.0, 40.0, -238.0), (1.0, 1.0, 3.0))
    maps, labels = paint([by_name["femora"]], grid, {"hu": lambda t: t.hu}, {"hu": -1000.0})
    hu = maps["hu"][:, :, 4]
    inside = labels[:, :, 4] == 69
    centre = ndimage.center_of_mass(inside)
    assert hu[tuple(np.rint(centre).astype(int))] < 0
    assert hu[inside].max() > 1000


def test_sacral_marrow_and_cortex(sacral_labels):
    grid, labels, hu = sacral_labels
    f = pb.sacral_frame()
    body = f.to_world(0.0, 12.0, 15.0)
    assert 60 <= hu[tuple(np.rint(np.linalg.solve(grid.affine, [*body, 1.0])[:3]).astype(int))] <= 200
    # Canal fat behind the S1 body, beside the end of the thecal sac (built with the spine).
    depth = float(np.interp(12.0, f.levels, pb.BODY_DEPTH)) + 1.5
    assert _label_at(grid, labels, f.to_world(9.0, 12.0, depth)) in {61, 63}  # fat or a root
    assert _label_at(grid, labels, f.to_world(0.0, 12.0, depth + 6.0)) != 61  # the sac's place


def test_coccyx_curves_forward_to_its_tip(by_name):
    shape = by_name["coccyx"].shape
    tip = np.asarray(frame.COCCYX_TIP)
    assert shape.distance_mm(np.array([tip], np.float32))[0] < 2.0
    assert shape.distance_mm(np.array([[0.0, -63.0, -76.0]], np.float32))[0] < 1.0  # below the S5 apex


def test_landmarks():
    points = landmarks()
    for key in (
        "s1_s2_foramen_left",
        "s1_s2_foramen_right",
        "s2_s3_foramen_left",
        "s4_s5_foramen_right",
        "presacral_mass_foraminal_component",
        "presacral_mass_centre",
        "precoccygeal_mass_centre",
        "sacral_canal_s1",
        "coccyx_tip",
        "sacroiliac_joint_left",
        "sacroiliac_joint_right",
        "femoral_head_left",
        "femoral_head_right",
        "symphysis",
        "key_image_axial",
        "key_image_sagittal",
    ):
        assert key in points, key
    assert points["s1_s2_foramen_left"][0] < 0 < points["s1_s2_foramen_right"][0]
    assert points["key_image_sagittal"][0] < -15
    assert np.allclose(points["s1_s2_foramen_left"], (-25.0, -21.0, -18.0), atol=3.0)
