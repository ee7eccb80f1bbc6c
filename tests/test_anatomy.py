"""The analytic patient as a whole: stable labels, the case's lesions, structures that do not erase each other.

Region-specific anatomy (sizes, positions, topology of the sacrum and its foramina) is tested in
``test_anatomy_<region>.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from utils.anatomy import LAYERS, label_table, landmarks, lesions
from utils.io import load_json
from utils.sampling import Grid, index_box, occupancy

# Names other code looks up (uptake references, pitfalls, notebooks): they must exist.
REQUIRED = {
    "subcutaneous_fat", "visceral_fat", "psoas", "erector_spinae", "vertebrae", "intervertebral_discs",
    "spinal_canal_csf", "sacrum", "sacral_foramina", "sacral_nerve_roots", "coccyx", "hip_bones", "femora",
    "liver_right_lobe", "liver_left_lobe", "spleen", "accessory_spleen", "pancreas", "pancreas_uncinate",
    "kidney_left", "kidney_right", "renal_pelvis", "adrenal_left", "adrenal_right", "ureters", "bladder",
    "rectum", "small_bowel", "stomach", "aorta", "inferior_vena_cava", "lungs", "myocardium", "brain",
    "pituitary", "thyroid", "salivary_glands", "piriformis", "ovaries",
}


@pytest.fixture(scope="module")
def whole_body_paint(structures):
    """Each structure's own volume (mL; the union of its parts) and the volume that still carries its label
    after painting, on a 3 mm grid."""
    grid = Grid.covering((-200, -160, -400), (200, 210, 780), (3.0, 3.0, 3.0))
    labels = np.zeros(grid.shape, np.uint8)
    names = [s.name for s in structures]
    # A name painted in several parts (bowel wall and gas) counts the union of its parts, once.
    unions = {name: np.zeros(grid.shape, bool) for name in set(names) if names.count(name) > 1}
    own_ml: dict[str, float] = {}
    for s in sorted(structures, key=lambda s: LAYERS[s.layer]):
        box = index_box(grid, *s.shape.bounds_mm())
        if box is None:
            continue
        (occ,) = occupancy(s.shape, grid, box)
        if s.name in unions:
            unions[s.name][box] |= occ >= 0.5
        else:
            own_ml[s.name] = float((occ >= 0.5).sum()) * 27e-3
        labels[box][occ >= 0.5] = s.label
    counts = np.bincount(labels.ravel(), minlength=256) * 27e-3
    own_ml |= {name: float(mask.sum()) * 27e-3 for name, mask in unions.items()}
    visible = {s.name: float(counts[s.label]) for s in structures}
    return own_ml, visible


def test_labels_are_unique_stable_and_match_the_committed_table(structures):
    ids = label_table(structures)
    assert len(set(ids.values())) == len(ids), "one label id per structure name"
    committed = {name: int(i) for i, name in load_json("labels").items()}
    assert committed == ids, "labels.json (committed) must match the anatomy: run `make data` and commit"
    assert REQUIRED <= set(ids), sorted(REQUIRED - set(ids))


def test_the_case_lesions(structures):
    names = [s.name for s in lesions(structures)]
    assert names[:2] == ["presacral_mass", "precoccygeal_mass"]
    liver = [n for n in names if n.startswith("liver_lesion_")]
    assert 6 <= len(liver) <= 8
    assert names[2:] == [f"liver_lesion_{i}" for i in range(1, len(liver) + 1)]
    rows = {row["name"]: row for row in load_json("lesions")["lesions"]}
    diameters = [rows[n]["longest_diameter_mm"] for n in liver]
    assert 4.5 <= min(diameters) <= 6.5 and 30 <= max(diameters) <= 37
    assert {"right", "left"} <= {("right" if "right" in rows[n]["location"] else "left") for n in liver}


def test_dual_tracer_truth_matches_the_case(structures):
    """Masses FDG-avid with SSTR clearly dominant (>= 2.5x); liver lesions FDG-negative, SSTR above liver."""
    tissue = {s.name: s.tissue for s in structures}
    liver = tissue["liver_right_lobe"]
    for mass in ("presacral_mass", "precoccygeal_mass"):
        assert tissue[mass].suv_fdg > 2.5 * liver.suv_fdg
        assert tissue[mass].suv_dotatate >= 2.5 * tissue[mass].suv_fdg
    for lesion in lesions(structures)[2:]:
        assert lesion.tissue.suv_fdg < liver.suv_fdg  # FDG-negative
        assert lesion.tissue.suv_dotatate > 2 * liver.suv_dotatate


def test_no_structure_is_erased_by_another(whole_body_paint):
    """Every organ, vessel and bone keeps most of its volume after painting (a 3 mm grid loses thin edges).

    Containers are allowed to lose what they hold: the liver its lesions and vessels, the body and the
    cavities everything inside them.
    """
    own, visible = whole_body_paint
    # the liver holds lesions and vessels; the canals hold the dural sac, cord, roots and the sacral fat
    containers = {"liver_right_lobe", "liver_left_lobe", "sacral_canal", "spinal_canal_csf", "epidural_fat"}
    lost = {}
    for name, volume in own.items():
        if volume < 2.0 or name in containers:
            continue  # sub-2-mL structures are mostly edge at 3 mm
        if visible[name] < 0.75 * volume:
            lost[name] = round(visible[name] / volume, 2)
    fillers = {
        "subcutaneous_fat", "visceral_fat", "pelvic_fat", "presacral_fat", "body_wall_muscle", "mediastinum",
        "neck_axilla_fat",
    }
    layered = {s for s in lost if s in fillers}
    assert set(lost) <= layered, {k: v for k, v in lost.items() if k not in layered}


def test_landmarks_are_inside_the_field_and_named_for_the_case():
    points = landmarks()
    for key in ("sacral_promontory", "s1_s2_foramen_left", "s1_s2_foramen_right", "coccyx_tip", "uncinate_process"):
        assert key in points, key
    assert points["s1_s2_foramen_left"][0] < 0 < points["s1_s2_foramen_right"][0]
    xyz = np.array(list(points.values()))
    assert np.all(np.abs(xyz[:, 0]) < 200) and np.all((xyz[:, 2] > -400) & (xyz[:, 2] < 780))
