"""Signed distance solids and partial-volume sampling: distances, volumes, walls, painting order."""

from __future__ import annotations

import numpy as np
import pytest

from utils.anatomy import Structure, Tissue
from utils.sampling import Grid, index_box, occupancy, paint, world_points
from utils.sdf import (
    Capsule,
    Cylinder,
    Displaced,
    Ellipsoid,
    HalfSpace,
    Intersect,
    Mirrored,
    Offset,
    RoundBox,
    Shell,
    SmoothUnion,
    Sphere,
    Subtract,
    Tube,
)

RNG = np.random.default_rng(0)
POINTS = RNG.uniform(-60, 60, size=(4000, 3)).astype(np.float32)


def volume_ml(shape, voxel_mm=1.0) -> float:
    grid = Grid.covering(*(b + np.array([-3, 3])[:, None][i] for i, b in enumerate(shape.bounds_mm())), (voxel_mm,) * 3)
    box = index_box(grid, *shape.bounds_mm())
    (occ,) = occupancy(shape, grid, box)
    return float(occ.sum()) * voxel_mm**3 / 1000.0


def test_sphere_distance_is_exact():
    d = Sphere((1, 2, 3), 20).distance_mm(POINTS)
    np.testing.assert_allclose(d, np.linalg.norm(POINTS - [1, 2, 3], axis=1) - 20, atol=1e-3)


def test_round_box_distance_is_exact_on_faces_and_corners():
    box = RoundBox((0, 0, 0), (20, 15, 10), 3.0)
    assert box.distance_mm(np.array([[25.0, 0, 0]], np.float32))[0] == pytest.approx(5.0)
    assert box.distance_mm(np.array([[0, 0, 0]], np.float32))[0] == pytest.approx(-10.0)
    corner = np.array([[20.0, 15.0, 10.0]], np.float32)  # the rounded corner lies inside by 3(sqrt 3 - 1) mm
    assert box.distance_mm(corner)[0] == pytest.approx(3.0 * (np.sqrt(3) - 1), abs=1e-4)


def test_capsule_and_tube_agree_on_a_straight_segment():
    capsule = Capsule((-30, 0, 0), (30, 0, 0), 6.0)
    tube = Tube(((-30, 0, 0), (0, 0, 0), (30, 0, 0)), 6.0, step_mm=0.25)
    inner = POINTS[np.abs(POINTS[:, 0]) < 25]
    np.testing.assert_allclose(tube.distance_mm(inner), capsule.distance_mm(inner), atol=0.05)


def test_tapered_capsule_radius_changes_along_the_segment():
    cap = Capsule((0, 0, 0), (0, 0, 40), 10.0, 2.0)
    on_axis_side = np.array([[10.0, 0, 0], [2.0, 0, 40.0]], np.float32)
    np.testing.assert_allclose(cap.distance_mm(on_axis_side), [0.0, 0.0], atol=1e-4)


def test_ellipsoid_volume_and_bound():
    e = Ellipsoid((0, 0, 0), (30, 20, 10), (0, 0, 30))
    assert volume_ml(e) == pytest.approx(4 / 3 * np.pi * 6000 / 1000, rel=0.01)
    d = e.distance_mm(POINTS)
    inside = e.contains(POINTS)
    assert np.all(d[inside] <= 0) and np.all(d[~inside] > 0)


def test_sphere_volume_from_occupancy_on_coarse_and_anisotropic_grids():
    sphere = Sphere((0.3, -0.7, 1.1), 15.0)
    truth = 4 / 3 * np.pi * 15**3 / 1000
    assert volume_ml(sphere, 2.0) == pytest.approx(truth, rel=0.01)
    grid = Grid.covering((-20, -20, -20), (20, 20, 20), (0.8, 0.8, 4.0))
    (occ,) = occupancy(sphere, grid, index_box(grid, *sphere.bounds_mm()))
    assert occ.sum() * 0.8 * 0.8 * 4.0 / 1000 == pytest.approx(truth, rel=0.01)


def test_occupancy_has_partial_volume_at_edges():
    grid = Grid.covering((-10, -10, -10), (10, 10, 10), (1.0, 1.0, 1.0))
    half = Intersect(HalfSpace((0.0, 0, 0), (1, 0, 0)), Sphere((0, 0, 0), 100))
    (occ,) = occupancy(half, grid, tuple(slice(0, n) for n in grid.shape))
    # Voxel centres at x = -0.5 and +0.5 straddle the plane x = 0: occupied 1 and 0; a shifted plane cuts
    # the voxel at x = 0.5 in half.
    shifted = Intersect(HalfSpace((0.5, 0, 0), (1, 0, 0)), Sphere((0, 0, 0), 100))
    (occ2,) = occupancy(shifted, grid, tuple(slice(0, n) for n in grid.shape))
    x = world_points(grid)[:, 0, 0, 0]
    assert occ[np.argmin(np.abs(x + 0.5)), 10, 10] == 1.0 and occ[np.argmin(np.abs(x - 0.5)), 10, 10] == 0.0
    assert occ2[np.argmin(np.abs(x - 0.5)), 10, 10] == pytest.approx(0.5)


def test_shell_offset_subtract_and_union():
    sphere = Sphere((0, 0, 0), 20)
    shell = Shell(sphere, 3.0)
    assert volume_ml(shell, 0.5) == pytest.approx(4 / 3 * np.pi * (20**3 - 17**3) / 1000, rel=0.02)
    assert volume_ml(Offset(sphere, 5.0), 1.0) == pytest.approx(4 / 3 * np.pi * 25**3 / 1000, rel=0.01)
    hollow = Subtract(sphere, Sphere((0, 0, 0), 10))
    assert volume_ml(hollow, 1.0) == pytest.approx(4 / 3 * np.pi * (8000 - 1000) / 1000, rel=0.02)
    a, b = Sphere((-10, 0, 0), 12), Sphere((10, 0, 0), 12)
    sharp, smooth = SmoothUnion((a, b), 0.0), SmoothUnion((a, b), 6.0)
    assert np.all(smooth.distance_mm(POINTS) <= sharp.distance_mm(POINTS) + 1e-5)
    assert volume_ml(smooth) > volume_ml(sharp)


def test_cylinder_and_mirrored_pair():
    cyl = Cylinder((0, 0, 0), (10, 5), 20)
    assert volume_ml(cyl, 0.5) == pytest.approx(np.pi * 50 * 40 / 1000, rel=0.02)
    pair = Mirrored(Sphere((30, 0, 0), 5))
    p = np.array([[30, 0, 0], [-30, 0, 0]], np.float32)
    np.testing.assert_allclose(pair.distance_mm(p), [-5, -5], atol=1e-4)


def test_displaced_surface_stays_within_its_amplitude():
    base = Sphere((0, 0, 0), 25)
    bumpy = Displaced(base, 3.0, 30.0, seed=4)
    diff = bumpy.distance_mm(POINTS) - base.distance_mm(POINTS)
    assert 1.0 < np.abs(diff).max() <= 3.0
    assert np.array_equal(bumpy.distance_mm(POINTS), Displaced(base, 3.0, 30.0, seed=4).distance_mm(POINTS))


SOFT = Tissue(40, 0.7, 900, 50, 1.0, 1.0, 1.0)
BONE = Tissue(1200, 0.0, 1000, 1, 0.0, 0.5, 0.5)
MARROW = Tissue(200, 0.8, 600, 50, 0.5, 1.0, 1.0)


def test_paint_blends_by_occupancy_and_gives_walls_and_labels():
    grid = Grid.covering((-30.5,) * 3, (30.5,) * 3, (1.0, 1.0, 1.0))  # voxel centres on whole mm, 0 at 30
    bone = Structure("bone", 21, Sphere((0, 0, 0), 15), MARROW, layer="bone", wall_mm=3.0, wall_tissue=BONE)
    soft = Structure("soft", 5, Sphere((0, 0, 0), 25), SOFT, layer="organ")
    maps, labels = paint([bone, soft], grid, {"hu": lambda t: t.hu}, {"hu": -1000.0})
    hu = maps["hu"]
    centre = (30, 30, 30)
    assert hu[centre] == pytest.approx(200.0)  # marrow inside the cortex
    assert hu[30 + 13, 30, 30] == pytest.approx(1200.0)  # cortex 12-15 mm from the centre
    assert hu[30 + 20, 30, 30] == pytest.approx(40.0)  # soft tissue painted first, bone over it (layers)
    assert hu[0, 0, 0] == -1000.0
    assert labels[centre] == 21 and labels[30 + 20, 30, 30] == 5 and labels[0, 0, 0] == 0
    edge = hu[30 + 25, 30, 30]  # voxel centre on the soft-tissue surface: half soft tissue, half air
    assert edge == pytest.approx((40 - 1000) / 2, abs=1.0)


def test_structure_rejects_bad_labels_layers_and_walls():
    with pytest.raises(ValueError, match="1-255"):
        Structure("x", 0, Sphere((0, 0, 0), 1), SOFT)
    with pytest.raises(ValueError, match="layer"):
        Structure("x", 3, Sphere((0, 0, 0), 1), SOFT, layer="nowhere")
    with pytest.raises(ValueError, match="wall_tissue"):
        Structure("x", 3, Sphere((0, 0, 0), 1), SOFT, wall_mm=2.0)
