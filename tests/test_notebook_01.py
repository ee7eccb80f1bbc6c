"""Notebook 01 teaches what the data hold: answer key, measurements, signal statements and the frame."""

from __future__ import annotations

import ast
import json
import re

import nbformat
import numpy as np
import pytest

from utils import REPO_ROOT
from utils import display as d
from utils.checks import load_answers
from utils.io import load_landmarks
from utils.measure import longest_axial_chord, signal_by_structure

NOTEBOOK = REPO_ROOT / "notebooks" / "01_mri_findings.ipynb"
KEY_PATH = REPO_ROOT / "notebooks" / "answers" / "01_mri_findings.json"
ANSWERS = load_answers(KEY_PATH)
KEY = json.loads(KEY_PATH.read_text(encoding="utf-8"))
CELLS = nbformat.read(NOTEBOOK, as_version=4).cells
POINTS = load_landmarks()
CODE = [c.source for c in CELLS if c.cell_type == "code"]
TEXT = "\n".join(c.source for c in CELLS)


@pytest.fixture(scope="module")
def labels(volumes):
    return d.as_ras_volume(volumes["labels"], name="labels", order=0)


def _chord(labels, label_ids, name):
    return longest_axial_chord(labels.data == label_ids[name], labels.affine)


def _liver(lesion_truth):
    return {name: row for name, row in lesion_truth.items() if name.startswith("liver_lesion")}


# --------------------------------------------------------------------------- the answer key follows the data
def test_presacral_diameter_is_the_ground_truth(lesion_truth):
    task = KEY["tasks"]["presacral_longest_axial_mm"]
    truth = lesion_truth["presacral_mass"]["longest_axial_diameter_mm"]
    assert task["expected"] == truth
    assert task["tol"] == round(max(5.0, 0.10 * truth), 1) and task["rtol"] == 0.0  # +-10 % or +-5 mm


def test_largest_liver_lesion_is_the_ground_truth_and_in_the_right_lobe(lesion_truth):
    liver = _liver(lesion_truth)
    largest = max(liver.values(), key=lambda row: row["longest_axial_diameter_mm"])
    task = KEY["tasks"]["largest_liver_lesion_mm"]
    assert task["expected"] == largest["longest_axial_diameter_mm"]
    assert task["tol"] == round(max(5.0, 0.10 * task["expected"]), 1) and task["rtol"] == 0.0
    assert largest["location"].startswith("right hepatic lobe")
    assert "right lobe" in task["explanation"]


def test_label_map_measurements_pass_the_checks(labels, label_ids, lesion_truth):
    """The tolerance covers the voxel-size error: a measurement on 3-mm voxels is accepted."""
    presacral = _chord(labels, label_ids, "presacral_mass")
    assert ANSWERS.check("presacral_longest_axial_mm", presacral.length_mm).correct
    largest = max(_liver(lesion_truth), key=lambda n: lesion_truth[n]["longest_axial_diameter_mm"])
    assert ANSWERS.check("largest_liver_lesion_mm", _chord(labels, label_ids, largest).length_mm).correct
    # ... but measuring only the main body of the mass (without its lobules and foramen) is not
    assert not ANSWERS.check("presacral_longest_axial_mm", 52.0).correct
    second = sorted(row["longest_axial_diameter_mm"] for row in _liver(lesion_truth).values())[-2]
    assert not ANSWERS.check("largest_liver_lesion_mm", second - 1.0).correct


def test_longest_presacral_diameter_lies_below_the_key_image(labels, label_ids):
    """The notebook says the mass is widest lower down than the foraminal component (the key image)."""
    chord = _chord(labels, label_ids, "presacral_mass")
    assert chord.point_a_mm[2] < POINTS["key_image_axial"][2] - 10.0


def test_measurable_liver_lesions(labels, label_ids, lesion_truth):
    liver = _liver(lesion_truth)
    by_truth = sum(row["longest_axial_diameter_mm"] >= 10 for row in liver.values())
    by_labels = sum(_chord(labels, label_ids, name).length_mm >= 10 for name in liver)
    # the task counts the label map's chords (voxel centres read a little short of the true shape)
    assert KEY["tasks"]["measurable_liver_lesions"]["expected"] == by_labels and by_truth - 1 <= by_labels <= by_truth
    assert ANSWERS.check("measurable_liver_lesions", by_labels).correct
    assert not ANSWERS.check("measurable_liver_lesions", len(liver)).correct, (
        "the placeholder is not the answer"
    )
    assert 0 < by_truth < len(liver), "some lesions must be non-measurable for the lesson to work"


def test_foraminal_component_is_on_the_left(labels, label_ids):
    assert ANSWERS.check("foramen_side", "left").correct
    assert ANSWERS.check("foramen_side", " Left ").correct
    assert not ANSWERS.check("foramen_side", "right").correct
    assert not ANSWERS.check("foramen_side", None).correct
    presacral = label_ids["presacral_mass"]
    # the notebook's arrow points into the mass on the left; the mirror point on the right is not mass
    x, y, z = POINTS["presacral_mass_foraminal_component"]
    assert x < 0 and d.label_at(labels, (x, y, z)) == presacral
    assert d.label_at(labels, (-x, y, z)) != presacral
    ijk = np.argwhere(labels.data == presacral)
    world = ijk @ labels.affine[:3, :3].T + labels.affine[:3, 3]
    lateral = world[np.abs(world[:, 0]) > 20]  # the part of the mass out at the foramina
    assert len(lateral) > 0 and np.mean(lateral[:, 0] < 0) > 0.9


# arrow label in the notebook -> the structure of the label map it must point at
MARKED_STRUCTURES = {
    "presacral mass": "presacral_mass",
    "foraminal component": "presacral_mass",
    "precoccygeal mass": "precoccygeal_mass",
    "rectum": "rectum",
    "bladder (urine)": "bladder",
    "sacrum": "sacrum",
    "coccyx": "coccyx",
    "lesion, right lobe": "right hepatic lobe",  # a liver lesion in that lobe (lesions.json location)
    "lesion, left lobe": "left hepatic lobe",
}


def _mark_dicts() -> dict[str, dict]:
    """Every dict of arrow marks that the notebook passes to plane_figure(..., marks=NAME), evaluated with
    the notebook's own helpers and landmarks."""
    namespace: dict = {"points": POINTS}
    found = {}
    for source in CODE:
        tree = ast.parse(source)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                exec(compile(ast.Module([node], []), "<notebook>", "exec"), namespace)
        passed = set(re.findall(r"marks=(\w+)", source))
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and node.targets[0].id in passed:
                found[node.targets[0].id] = eval(compile(ast.Expression(node.value), "<notebook>", "eval"), namespace)
    return found


def test_every_arrow_points_at_the_structure_it_names(labels, label_ids, lesion_truth):
    names = {i: name for name, i in label_ids.items()}
    marks = {text: mark for group in _mark_dicts().values() for text, mark in group.items()}
    assert set(marks) == set(MARKED_STRUCTURES)
    for text, (point_mm, _offset) in marks.items():
        structure = names.get(d.label_at(labels, point_mm))
        expected = MARKED_STRUCTURES[text]
        if expected.endswith("hepatic lobe"):
            assert structure in lesion_truth and lesion_truth[structure]["location"].startswith(expected), text
        else:
            assert structure == expected, text


def test_every_figure_has_a_title():
    calls = [source for source in CODE if "plane_figure(" in source and "import" not in source]
    assert calls and all("title=" in source for source in calls)


def test_liver_lesions_lie_in_both_lobes(lesion_truth):
    locations = {row["location"].split(",")[0] for row in _liver(lesion_truth).values()}
    assert locations == {"right hepatic lobe", "left hepatic lobe"}


# --------------------------------------------------------------------------- what the notebook says about signal
@pytest.fixture(scope="module")
def signal(volumes, labels, label_ids):
    names = ["spinal_canal_csf", "presacral_fat", "erector_spinae", "presacral_mass", "precoccygeal_mass"]
    regions = {name: label_ids[name] for name in names}
    return {
        weighting: signal_by_structure(volumes[f"mri_sag_{weighting}"], labels, regions)
        for weighting in ("t1w", "t2w")
    }


def test_masses_are_solid_not_fluid(signal):
    t1, t2 = signal["t1w"], signal["t2w"]
    for mass in ("presacral_mass", "precoccygeal_mass"):
        assert 0.7 * t1["erector_spinae"] < t1[mass] < 1.15 * t1["erector_spinae"], "about as dark as muscle on T1w"
        assert t2[mass] > 1.5 * t2["erector_spinae"], "hyperintense to muscle on T2w"
        assert t2[mass] < 0.75 * t2["spinal_canal_csf"], "far below fluid on T2w"
    assert abs(t2["presacral_mass"] - t2["precoccygeal_mass"]) < 0.1 * t2["presacral_mass"], "same signal"


def test_fluid_and_fat_signal(signal):
    t1, t2 = signal["t1w"], signal["t2w"]
    assert t1["spinal_canal_csf"] == min(t1.values()) and t2["spinal_canal_csf"] == max(t2.values())
    assert t1["presacral_fat"] == max(t1.values())


def test_liver_lesions_are_t2_bright_but_below_fluid(volumes, labels, label_ids):
    regions = {n: label_ids[n] for n in ("liver_right_lobe", "liver_lesion_1", "gallbladder")}
    t2 = signal_by_structure(volumes["mri_abd_t2w"], labels, regions)
    assert 2 * t2["liver_right_lobe"] < t2["liver_lesion_1"] < 0.75 * t2["gallbladder"]


# --------------------------------------------------------------------------- the notebook itself
def test_answer_key_is_complete_and_valid():
    assert set(KEY["tasks"]) == {
        "foramen_side",
        "presacral_longest_axial_mm",
        "largest_liver_lesion_mm",
        "measurable_liver_lesions",
    }
    assert 3 <= len(KEY["quizzes"]) <= 5
    for name, quiz in KEY["quizzes"].items():
        assert len(quiz["explanations"]) == len(quiz["options"]), name
        assert ANSWERS.quiz(name).submit(quiz["correct"]).correct
    for name, task in KEY["tasks"].items():
        assert task["hint"] and task["explanation"], name


def test_quiz_answers_follow_the_facts():
    assert ANSWERS.quiz("q1_dumbbell").submit("B").correct
    assert ANSWERS.quiz("q2_cysts").submit("C").correct
    assert ANSWERS.quiz("q3_liver").submit("B").correct
    assert ANSWERS.quiz("q4_recist").submit("B").correct
    assert ANSWERS.quiz("q5_next").submit("C").correct


def test_every_task_and_quiz_is_used_in_the_notebook():
    checks = re.findall(r'answers\.check\("(\w+)"', "\n".join(CODE))
    assert len(checks) >= 2 and set(checks) == set(KEY["tasks"])
    quizzes = re.findall(r'answers\.quiz\("(\w+)"\)', "\n".join(CODE))
    assert set(quizzes) == set(KEY["quizzes"])


def test_asking_cells_do_not_give_the_answer_away():
    numbers = {
        str(task["expected"]) for task in KEY["tasks"].values() if not isinstance(task["expected"], str)
    }
    for source in CODE:
        if "answers.check(" in source:
            assert "# your answer" in source
            assert not any(re.search(rf"\b{re.escape(n)}\b", source) for n in numbers), source
            assert '"left"' not in source.split("#")[0]


def test_frame_and_references():
    first = CELLS[0].source
    assert first.startswith("# 01 · ") and "labpath=notebooks%2F01_mri_findings.ipynb" in first
    assert "Synthetic data, not for clinical use" in first
    for heading in ("## Overview", "## Setup", "## Key points", "## What's next", "## References"):
        assert heading in TEXT, heading
    assert "Time to learn" in TEXT and "Learning objectives" in TEXT and "After this notebook you can" in TEXT
    assert CELLS[-1].source.rstrip().endswith("*Synthetic data, not for clinical use.*")
    setup = next(c.source for c in CELLS if c.cell_type == "code")
    assert setup.startswith("import sys\nfrom pathlib import Path\n\nsys.path.insert(0, str(next(p for p in")
    for doi in (
        "10.1055/s-0045-1810099",  # the case
        "10.3748/wjg.v16.i46.5822",  # Yang 2010, retrorectal tumours
        "10.1016/j.ejca.2008.10.026",  # RECIST 1.1
        "10.1007/s00330-020-06930-6",  # Hayoz 2020
        "10.1186/s40644-023-00556-9",  # Grawe 2023
    ):
        assert doi in TEXT, doi


def test_clinical_numbers_carry_their_reference():
    """Each cell quoting a clinical percentage or count cites a numbered reference in the same cell."""
    for cell in CELLS:
        if cell.cell_type != "markdown" or cell.source.startswith("## References"):
            continue
        for claim in ("86 %", "97.0 %", "10.3", "31 reported", "29 NETs", "Ki-67 20-22 %", "at least 10 mm"):
            if claim in cell.source:
                assert re.search(r"\[\d+(, \d+)*\]", cell.source), claim
