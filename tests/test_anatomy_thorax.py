"""Thorax, neck and body wall of the analytic patient: sizes, positions and the topology of the chest.

Volumes are sampled with ``utils.sampling.occupancy`` on grids of 2-3 mm (sums of partial-volume fractions
x voxel volume), so they carry an error of a few per cent.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from utils.anatomy import frame, thorax
from utils.sampling import Grid, index_box, occupancy, world_points


@cache
def _by_name() -> dict:
    return {s.name: s for s in thorax.structures()}


def _shape(name: str):
    return _by_name()[name].shape


@cache
def _volume_ml(name: str, step_mm: float = 2.0, side: int = 0, offset_mm: float = 0.0) -> float:
    """Volume (mL) of a structure (or of its part beyond ``offset_mm`` inside), optionally one side (+1 right)."""
    shape = _shape(name)
    grid = Grid.covering(*shape.bounds_mm(), (step_mm,) * 3)
    box = index_box(grid, *shape.bounds_mm())
    (occ,) = occupancy(shape, grid, box, (offset_mm,))
    if side:
        occ = occ * (np.sign(world_points(grid, box)[..., 0]) == side)
    return float(occ.sum()) * step_mm**3 / 1000.0


def _distance(name: str, point) -> float:
    return float(_shape(name).distance_mm(np.asarray([point], np.float32))[0])


def _inside(name: str, point) -> bool:
    return _distance(name, point) < 0.0


def _first_exit(shape, start, direction, step_mm: float = 0.5, limit_mm: float = 200.0) -> float:
    """Distance (mm) along a ray from ``start`` to where it leaves ``shape``."""
    t = np.arange(0.0, limit_mm, step_mm)
    pts = (np.asarray(start, float)[None] + t[:, None] * np.asarray(direction, float)[None]).astype(np.float32)
    inside = shape.distance_mm(pts) < 0
    assert inside[0], f"ray starts outside at {start}"
    return float(t[np.argmin(inside)])


def test_labels_are_in_the_thorax_ranges_and_unique():
    labels = [s.label for s in thorax.structures()]
    assert len(labels) == len(set(labels))
    assert all(1 <= i <= 19 or 180 <= i <= 199 for i in labels)
    for name in ("subcutaneous_fat", "lungs", "myocardium", "thyroid", "salivary_glands", "breasts", "diaphragm"):
        assert name in _by_name(), name


def test_structures_build_fast():
    import time

    start = time.perf_counter()
    thorax.structures()
    assert time.perf_counter() - start < 0.5


def test_lung_volumes():
    # CT at full inspiration, healthy adult women ~4.3-5.5 L (about 85-90 % of a predicted TLC of ~5 L at
    # 165 cm); the right lung (three lobes) ~10-15 % larger than the left.
    right, left = _volume_ml("lungs", 3.0, +1), _volume_ml("lungs", 3.0, -1)
    assert 4500 < right + left < 7000
    assert 2000 < left < right < 3700


def test_lung_bases_are_concave_domes_and_the_right_is_higher():
    lungs = _shape("lungs")

    def base(x: float, y: float) -> float:
        z = np.arange(200.0, 400.0, 0.5)
        pts = np.stack([np.full_like(z, x), np.full_like(z, y), z], axis=-1).astype(np.float32)
        return float(z[np.argmax(lungs.distance_mm(pts) < 0)])

    right_dome, left_dome = base(60, 30), base(-60, 20)
    assert right_dome > left_dome + 5  # right higher by 5-25 mm (95 % of people; indianradiology.com 2015/06)
    assert abs(right_dome - frame.LANDMARKS["right_diaphragm_dome"][2]) < 6
    for x, y in ((60, 30), (-60, 20)):
        # Concave from below: the base falls away from the dome top laterally and (most) behind.
        top = base(x, y)
        assert base(x + np.sign(x) * 45, y) < top - 10
        assert base(x, y - 70) < top - 30
    assert base(60, 100) < right_dome - 5  # and in front (on the left the heart sits there)


def test_posterior_costophrenic_recesses_reach_t12():
    # Pleura to the 12th rib behind (DOI 10.1055/s-0039-3401842): lung below z = 235 behind the kidneys/liver.
    for x in (60.0, -60.0):
        column = np.array([[x, y, z] for y in np.arange(-90, -30, 2.0) for z in np.arange(205, 240, 2.0)], np.float32)
        inside = _shape("lungs").distance_mm(column) < 0
        assert inside.any()
        assert column[inside, 2].min() < 230
    assert _inside("lungs", thorax.LANDMARKS["costophrenic_recess_right"])


def test_lung_apices_rise_above_the_clavicles():
    z = np.arange(440.0, 540.0, 0.5)
    for x in (40.0, -40.0):
        pts = np.stack([np.full_like(z, x), np.full_like(z, -5.0), z], axis=-1).astype(np.float32)
        top = z[_shape("lungs").distance_mm(pts) < 0].max()
        assert 490 < top < 510


def test_lungs_stay_inside_the_chest_wall_and_apart_at_the_midline():
    lungs = _shape("lungs")
    # ~32 mm of skin, fat, muscle and ribs laterally (ribs 22-27 mm under the skin, skeleton module)
    for z in (300.0, 360.0):
        half_width = frame.body_half_width_mm(z)
        edge = _first_exit(lungs, (70.0, 20.0, z), (1.0, 0.0, 0.0)) + 70.0
        assert 20 < half_width - edge < 45
    # the mediastinum separates the lungs: heart, aorta, trachea, spine are not lung
    for point in (thorax.LANDMARKS["heart"], thorax.CARINA, (0.0, -22.0, 358.0), thorax.LANDMARKS["aortic_arch"]):
        assert not _inside("lungs", point), point


def test_heart_size_position_and_walls():
    myocardium, blood = _volume_ml("myocardium", 2.0), _volume_ml("cardiac_blood_pool", 2.0)
    # Myocardium ~150-220 mL (LV mass ~100-130 g in women plus RV and atria); chambers ~200-400 mL.
    assert 140 < myocardium < 260
    assert 180 < blood < 420
    heart = thorax.LANDMARKS["heart"]
    assert heart[0] < 0 and heart[1] > 40  # left and anterior
    assert _inside("cardiac_blood_pool", heart)  # the LV cavity
    # Apex points left, forward and down; the inferior wall rests on the diaphragm (z ~ 290-300).
    apex = np.asarray(thorax._HEART_APEX)
    assert apex[0] < -60 and apex[1] > 80 and apex[2] < np.asarray(thorax._MITRAL_VALVE)[2]
    lowest = min(z for z in np.arange(280.0, 320.0, 0.5) if _inside("myocardium", (-30.0, 80.0, z)))
    assert 288 < lowest < 305
    # LV free wall ~10 mm: from the LV cavity centre across to the left-posterior, myocardium then outside.
    centre = np.asarray(heart)
    across = np.subtract(thorax._heart_point(0.0, 1.0), thorax._LV_CENTRE)
    t = np.arange(0.0, 60.0, 0.25)
    ray = (centre[None] + t[:, None] * across[None]).astype(np.float32)
    muscle = t[_shape("myocardium").distance_mm(ray) < 0]
    assert 7 < muscle.max() - muscle.min() < 13


def test_breasts():
    # 300-400 mL each (cup B-C); fibroglandular tissue a fifth to a half of it (heterogeneously dense).
    right, left = _volume_ml("breasts", 2.0, +1), _volume_ml("breasts", 2.0, -1)
    assert 280 < right < 420 and 280 < left < 420
    glandular = _volume_ml("breasts", 2.0, 0, _by_name()["breasts"].wall_mm)
    assert 0.15 < glandular / (right + left) < 0.5
    for key in ("breast_right", "breast_left"):
        assert _inside("breasts", thorax.LANDMARKS[key])


def test_thyroid_and_salivary_glands():
    # Adult thyroid 10-20 mL (both lobes with the isthmus); lobes at C6-C7 beside the trachea.
    assert 10 < _volume_ml("thyroid", 1.0) < 20
    assert _inside("thyroid", thorax.LANDMARKS["thyroid"])
    assert _inside("thyroid", (0.0, 53.0, 508.0))  # isthmus in front of the trachea
    assert not _inside("thyroid", (0.0, 40.0, 517.0))  # the trachea itself
    for key in ("parotid_right", "parotid_left", "submandibular_left"):
        assert _inside("salivary_glands", thorax.LANDMARKS[key]), key
    assert 15 < _volume_ml("salivary_glands", 1.0) < 80


def test_subcutaneous_fat_is_thinner_over_the_upper_abdomen_than_the_buttocks():
    body, fascia = thorax.body(), thorax.fascia()

    def fat_mm(start, direction) -> float:
        t = np.arange(0.0, 80.0, 0.25)
        ray = (np.asarray(start)[None] + t[:, None] * np.asarray(direction)[None]).astype(np.float32)
        in_fat = (body.distance_mm(ray) < 0) & (fascia.distance_mm(ray) > 0)
        return float(in_fat.sum() * 0.25)

    front = fat_mm((0.0, 160.0, 180.0), (0.0, -1.0, 0.0))  # upper abdomen, in the midline
    back = fat_mm((0.0, -160.0, 180.0), (0.0, 1.0, 0.0))
    buttock = fat_mm((60.0, -160.0, -95.0), (0.0, 1.0, 0.0))
    umbilicus = fat_mm((0.0, 160.0, 73.0), (0.0, -1.0, 0.0))
    assert 15 < front < 25 and 8 < back < 16 and 30 < buttock < 45  # frame.SUBCUT_FAT_MM
    assert front < buttock and back < front
    assert 15 <= umbilicus <= 30  # 15-30 mm at the umbilicus (typical)


def test_body_outline_buttocks_and_thighs():
    body = thorax.body()
    # Buttocks bulge behind to y ~ -120..-130 between z -60 and -120.
    for z in (-70.0, -95.0, -115.0):
        back = -_first_exit(body, (60.0, 0.0, z), (0.0, -1.0, 0.0))
        assert -135 < back < -115
    # The thighs are separate below the crotch, around the femora.
    assert not _inside("subcutaneous_fat", (0.0, -5.0, -250.0))
    for x in (95.0, -95.0):
        assert _inside("thigh_muscles", (x, 45.0, -250.0))  # quadriceps, in front of the femur


def test_mediastinal_vessels_and_airway():
    arch_top = max(z for z in np.arange(430.0, 470.0, 0.5) if _inside("aorta_thoracic", (-8.0, 42.0, z)))
    assert 450 < arch_top < 460  # top of the arch at T3-T4
    # The descending aorta lies left of the spine and ends where the abdominal aorta begins.
    assert _inside("aorta_thoracic", (-25.0, 0.0, 365.0))
    assert _inside("aorta_thoracic", thorax.AORTA_HANDOFF)
    # Trachea (air) in the midline, dividing at the carina (T4-T5).
    assert _inside("trachea", (0.0, 26.0, 468.0)) and _inside("trachea", (20.0, 12.0, 383.0))
    assert frame.VERTEBRAE["T5"][1] < thorax.CARINA[2] < frame.VERTEBRAE["T4"][1] + 5
    # Oesophagus behind the trachea, then in front of and left of the aorta at the hiatus.
    assert _inside("oesophagus", (-5.0, 10.0, 468.0))
    assert _inside("oesophagus", (-17.0, 44.0, 264.0))
    # IVC enters the right atrium from below.
    assert _inside("ivc_intrathoracic", thorax.IVC_START)
    assert _inside("cardiac_blood_pool", (26.0, 56.0, 322.0))


def test_diaphragm_is_a_thin_sheet_under_the_lungs():
    dome = frame.LANDMARKS["right_diaphragm_dome"]
    z = np.arange(dome[2] - 15, dome[2] + 10, 0.25)
    pts = np.stack([np.full_like(z, dome[0]), np.full_like(z, dome[1]), z], axis=-1).astype(np.float32)
    sheet = z[_shape("diaphragm").distance_mm(pts) < 0]
    assert 3 <= sheet.max() - sheet.min() + 0.25 <= 5.5
    assert _inside("lungs", (dome[0], dome[1], sheet.max() + 2))
    assert _inside("diaphragm", (10.0, 28.0, 205.0))  # right crus in front of L1


@pytest.mark.parametrize("name", sorted(thorax.LABELS))
def test_nothing_leaves_the_field_of_view(name):
    lo, hi = _shape(name).bounds_mm()
    assert lo[0] >= -200 and hi[0] <= 200 and lo[2] >= -400 and hi[2] <= 770
    # Bounds may be loose; the solid itself must stay inside y -160..+170 and x +-200.
    grid = Grid.covering(np.maximum(lo, (-230, -190, -400)), np.minimum(hi, (230, 200, 770)), (3.0, 3.0, 3.0))
    pts = world_points(grid).reshape(-1, 3)
    pts = pts[(pts[:, 1] < -160) | (pts[:, 1] > 170) | (np.abs(pts[:, 0]) > 200)]
    assert not np.any(_shape(name).distance_mm(pts) < 0)


def test_landmarks_are_named_and_inside_their_structures():
    marks = thorax.LANDMARKS
    for key in ("heart", "lung_right_base", "lung_left_base", "thyroid", "parotid_left", "parotid_right",
                "submandibular_left", "aortic_arch", "breast_left", "breast_right", "costophrenic_recess_right"):
        assert key in marks, key
    assert _inside("lungs", marks["lung_right_base"]) and _inside("lungs", marks["lung_left_base"])
    assert _inside("aorta_thoracic", marks["aortic_arch"])
