"""The analytic patient is the case: lesions where the article puts them, organs inside the body."""

from __future__ import annotations

import numpy as np
import pytest

from utils.anatomy import LEFT_S1_S2_FORAMEN, TISSUES, build_patient, label_table, lesions
from utils.phantom import Grid, _world_points, label_map
from utils.shapes import Capsule, Ellipsoid, Profile, Union


def points_inside(shape, step_mm=1.0):
    """World points (mm) on a regular grid that fall inside a shape."""
    lower, upper = shape.bounds_mm()
    n = np.ceil((upper - lower) / step_mm).astype(int) + 1
    grid = Grid.axis_aligned(tuple(lower - step_mm / 2), (step_mm,) * 3, tuple(n))
    pts = _world_points(grid, tuple(slice(0, k) for k in n))
    return pts[shape.contains(pts)]


def by_name(structures, name):
    parts = [s for s in structures if s.name == name]
    assert parts, name
    return Union(tuple(s.shape for s in parts))


def test_label_ids_are_unique_and_one_tissue_per_name(structures):
    ids = label_table(structures)
    assert sorted(ids.values()) == list(range(1, len(ids) + 1))
    tissue_of = {}
    for s in structures:
        assert tissue_of.setdefault(s.name, s.tissue) == s.tissue, s.name


def test_lesion_set_matches_the_case(structures):
    names = [s.name for s in lesions(structures)]
    assert names[:2] == ["presacral_mass", "precoccygeal_mass"]
    liver = [n for n in names if n.startswith("liver_lesion_")]
    assert 6 <= len(liver) <= 10
    assert names == names[:2] + [f"liver_lesion_{i}" for i in range(1, len(liver) + 1)]


def test_presacral_mass_is_anterior_to_the_sacrum_and_enters_the_left_s1_s2_foramen(structures):
    mass = points_inside(by_name(structures, "presacral_mass"))
    sacrum = points_inside(by_name(structures, "sacrum"), step_mm=2.0)
    centre = mass.mean(axis=0)
    assert -75 < centre[2] < 0, "centre between the S1 and S3 levels"
    midline_sacrum = sacrum[(np.abs(sacrum[:, 0]) < 5) & (np.abs(sacrum[:, 2] - centre[2]) < 5)]
    assert centre[1] > midline_sacrum[:, 1].max(), "anterior to the sacrum at its level"
    in_foramen = mass[LEFT_S1_S2_FORAMEN.contains(mass)]
    assert len(in_foramen) > 100, "part of the mass lies inside the S1-S2 foramen"
    assert np.all(in_foramen[:, 0] < 0), "the foramen is on the patient's left (negative x)"
    assert in_foramen[:, 1].min() < midline_sacrum[:, 1].max() - 5, "it reaches into the sacrum"


def test_precoccygeal_mass_is_anterior_to_the_coccyx(structures):
    mass = points_inside(by_name(structures, "precoccygeal_mass"))
    coccyx = points_inside(by_name(structures, "coccyx"))
    centre = mass.mean(axis=0)
    assert coccyx[:, 2].min() - 5 < centre[2] < coccyx[:, 2].max() + 5
    level = coccyx[np.abs(coccyx[:, 2] - centre[2]) < 4]
    assert centre[1] > level[:, 1].max()
    assert mass[:, 2].max() < -95, "below the sacrum (S5 ends near z = -100 mm)"


def test_liver_lesions_lie_in_both_lobes_and_span_5_to_40_mm(structures, lesion_truth):
    right, left = by_name(structures, "liver_right_lobe"), by_name(structures, "liver_left_lobe")
    lobes = {"right": 0, "left": 0}
    for s in lesions(structures):
        if not s.name.startswith("liver_lesion_"):
            continue
        pts = points_inside(s.shape, step_mm=0.5)
        in_left, in_right = left.contains(pts), right.contains(pts) & ~left.contains(pts)
        assert np.all(in_left | in_right), f"{s.name} lies wholly inside the liver"
        lobe = "left" if in_left.mean() > 0.5 else "right"
        assert lobe in s.location
        lobes[lobe] += 1
        assert 5.0 <= lesion_truth[s.name]["longest_diameter_mm"] <= 40.0, s.name
    assert lobes["left"] >= 2 and lobes["right"] >= 2


def test_every_structure_lies_inside_the_body(structures):
    body = Union((by_name(structures, "subcutaneous_fat"), by_name(structures, "head")))
    for s in structures:
        lower, upper = s.shape.bounds_mm()
        pts = points_inside(s.shape, step_mm=float(np.clip((upper - lower).min() / 4, 0.5, 4.0)))
        assert len(pts), s.name
        assert body.contains(pts).mean() > 0.999, f"{s.name} pokes out of the body"


def test_sizes_are_adult_textbook_sizes(structures):
    def extent(name, axis):
        pts = points_inside(by_name(structures, name), step_mm=2.0)
        return np.ptp(pts[:, axis])

    assert 140 <= extent("liver_right_lobe", 2) <= 165, "liver about 15 cm craniocaudal"
    assert 95 <= max(extent("spleen", a) for a in range(3)) <= 125, "spleen about 11 cm"
    assert 100 <= extent("kidney_left", 2) <= 120, "kidney about 11 cm"
    assert 95 <= extent("sacrum", 2) <= 125, "sacrum about 10-11 cm tall"
    assert 30 <= np.ptp(points_inside(by_name(structures, "coccyx"))[:, 2]) <= 45, "coccyx 3-4 cm"


def test_label_map_respects_painting_order_on_an_oblique_grid():
    """Sampling works on any affine: a rotated grid still finds a lesion at its world position."""
    structures = build_patient()
    angle = np.deg2rad(20)
    affine = np.eye(4)
    affine[:3, :3] = (
        np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]) * 2
    )
    affine[:3, 3] = [70, -10, 195]
    grid = Grid((20, 20, 20), affine)
    labels = label_map(structures, grid)
    ids = label_table(structures)
    centre_voxel = np.rint(np.linalg.inv(affine) @ [85, 10, 212, 1])[:3].astype(int)
    assert labels[tuple(centre_voxel)] == ids["liver_lesion_1"]


@pytest.mark.parametrize(
    "shape, inside, outside",
    [
        (Ellipsoid((0, 0, 0), (10, 5, 2)), (9.9, 0, 0), (0, 5.1, 0)),
        (Ellipsoid((0, 0, 0), (10, 5, 2), (0, 0, 90)), (0, 9.9, 0), (9.9, 0, 0)),
        (Capsule((0, 0, 0), (0, 0, 10), 2), (0, 1.0, 11.0), (0, 2.1, 5)),
        (Profile(((0, 10, 5, 0), (10, 20, 5, 0))), (14.9, 0, 10), (15.1, 0, 5)),
    ],
)
def test_shapes_inside_and_outside(shape, inside, outside):
    pts = np.array([inside, outside], dtype=np.float32)
    assert shape.contains(pts).tolist() == [True, False]
    lower, upper = shape.bounds_mm()
    assert np.all(lower <= pts[0]) and np.all(pts[0] <= upper)


def test_ellipsoid_volume_by_sampling_matches_the_formula():
    shape = Ellipsoid((1, 2, 3), (10, 6, 4), (30, 10, 0))
    volume_mm3 = len(points_inside(shape, step_mm=0.25)) * 0.25**3
    assert volume_mm3 == pytest.approx(4 / 3 * np.pi * 10 * 6 * 4, rel=0.01)


def test_tissue_table_encodes_the_case():
    t = TISSUES
    assert t["presacral_mass"].suv_fdg > 2.5 * t["liver"].suv_fdg
    assert t["spleen"].suv_dotatate > t["kidney"].suv_dotatate > t["liver"].suv_dotatate
    assert t["presacral_mass"].suv_dotatate > t["liver"].suv_dotatate
