"""Notebook 03 (FDG PET/CT) teaches what the data hold: its answer key and its statements agree with the data."""

from __future__ import annotations

import json
import math

import nbformat
import numpy as np
import pytest

from utils import REPO_ROOT
from utils.anatomy import TISSUES
from utils.checks import load_answers
from utils.display import as_ras_volume, label_at
from utils.io import load_labels, load_sidecar
from utils.pet import label_mask, organ_label_ids, reference_region_mask, suv_max, suv_mean, suv_volume
from utils.uptake import lesion_mask, lesion_uptake_table, reference_suv_mean

NOTEBOOK = REPO_ROOT / "notebooks" / "03_fdg_pet_ct.ipynb"
ANSWERS_PATH = REPO_ROOT / "notebooks" / "answers" / "03_fdg_pet_ct.json"
ANSWERS = load_answers(ANSWERS_PATH)
KEY = json.loads(ANSWERS_PATH.read_text(encoding="utf-8"))
AVID_RATIO = 1.5  # the notebook's working rule: SUVpeak more than 1.5 x liver SUVmean
START_LESION = "liver_lesion_1"  # where the notebook's viewer starts


@pytest.fixture(scope="module")
def table():
    return {row["name"]: row for row in lesion_uptake_table("fdg")}


@pytest.fixture(scope="module")
def fdg_suv(volumes):
    return suv_volume(volumes["pet_fdg"], load_sidecar("pet_fdg"))


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(NOTEBOOK, as_version=4).cells


@pytest.fixture(scope="module")
def code(cells):
    return "\n".join(c.source for c in cells if c.cell_type == "code")


@pytest.fixture(scope="module")
def text(cells):
    return "\n".join(c.source for c in cells)


# --- the answer key is the data ------------------------------------------------------------------------
def test_presacral_suv_max_is_the_hottest_voxel_of_the_mass(table, volumes, fdg_suv, lesion_truth):
    expected = KEY["tasks"]["presacral_suv_max"]["expected"]
    assert expected == pytest.approx(table["presacral_mass"]["suv_max"], abs=0.005)
    # recomputed without the table: the label map's voxels of the mass on the PET grid
    voi = lesion_mask(volumes["labels"], lesion_truth["presacral_mass"]["id"], fdg_suv)
    assert suv_max(fdg_suv, voi) == pytest.approx(expected, abs=0.005)
    assert ANSWERS.check("presacral_suv_max", suv_max(fdg_suv, voi)).correct
    assert ANSWERS.check("presacral_suv_max", table["presacral_mass"]["suv_peak"]).status != "correct", (
        "the tolerance must tell SUVmax from SUVpeak"
    )


def test_suv_max_placeholder_at_the_start_position_is_not_the_answer(fdg_suv, lesion_truth):
    pet = as_ras_volume(fdg_suv)
    placeholder = round(pet.value_at(lesion_truth[START_LESION]["centre_mm"]), 2)
    assert not ANSWERS.check("presacral_suv_max", placeholder).correct


def test_crosshair_task_is_judged_by_the_label_map(volumes, lesion_truth):
    labels, names = volumes["labels"], load_labels()
    mass = lesion_truth["presacral_mass"]
    assert KEY["tasks"]["crosshair_in_presacral_mass"]["expected"] == names[mass["id"]]
    assert ANSWERS.check(
        "crosshair_in_presacral_mass", names.get(label_at(labels, mass["centre_mm"]))
    ).correct
    start = names.get(label_at(labels, lesion_truth[START_LESION]["centre_mm"]))
    assert start == START_LESION, "the viewer should start inside the largest liver lesion"
    feedback = ANSWERS.check("crosshair_in_presacral_mass", start)
    assert feedback.status == "wrong" and "presacral" not in str(feedback), "unattended run says 'not yet'"
    assert ANSWERS.check("crosshair_in_presacral_mass", None).status == "wrong"


def test_fdg_avid_lesions_are_the_two_masses(table):
    expected = KEY["tasks"]["fdg_avid_lesions"]["expected"]
    by_rule = {name for name, row in table.items() if row["peak_to_liver"] > AVID_RATIO}
    assert by_rule == {"presacral_mass", "precoccygeal_mass"}
    assert ANSWERS.check("fdg_avid_lesions", by_rule).correct
    assert sorted(expected) == sorted(by_rule)


def test_fdg_avidity_matches_the_ground_truth(lesion_truth):
    liver_true = TISSUES["liver"].suv_fdg
    truly_avid = {
        name for name, lesion in lesion_truth.items() if lesion["suv_fdg"] > AVID_RATIO * liver_true
    }
    assert sorted(truly_avid) == sorted(KEY["tasks"]["fdg_avid_lesions"]["expected"])
    for name, lesion in lesion_truth.items():
        if name.startswith("liver_lesion"):
            assert lesion["suv_fdg"] < liver_true, f"{name} is FDG-negative (below liver) in the phantom"


def test_naive_suv_max_rule_of_the_placeholder_is_wrong(table):
    naive = {name for name, row in table.items() if row["max_to_liver"] > 1.0}
    assert any(name.startswith("liver_lesion") for name in naive), "SUVmax picks up noisy liver lesions"
    assert not ANSWERS.check("fdg_avid_lesions", naive).correct


# --- statements the notebook makes about the data ----------------------------------------------------
def test_masses_are_3_to_4_times_liver_and_liver_lesions_at_about_liver(table):
    for name, row in table.items():
        if name.endswith("_mass"):
            assert 2.8 <= row["peak_to_liver"] <= 4.3, name
            assert row["suv_max"] >= row["suv_peak"] > row["suv_mean"], name
        else:
            assert 0.85 <= row["peak_to_liver"] <= 1.05, name  # "at about the liver mean (0.9-1.0 times)"
            assert 1.7 <= row["suv_max"] <= 2.5, f"{name}: 'the liver lesions all sit near 2'"


def test_a_small_cold_lesion_can_have_suvpeak_above_its_suvmax(table, lesion_truth):
    # "Its 12-mm peak sphere ... reaches out into the warmer liver ... (look at the smallest liver lesions)"
    liver = [name for name in table if name.startswith("liver_lesion")]
    smallest = sorted(liver, key=lambda name: lesion_truth[name]["volume_ml"])[:3]
    # the smallest lesions' SUVpeak comes within 15 % of their SUVmax; the largest keep a clear gap
    close = {name for name in liver if table[name]["suv_peak"] > 0.85 * table[name]["suv_max"]}
    assert close & set(smallest), close


def test_normal_liver_noise_band_contains_every_liver_lesion_suv_max(table, volumes, fdg_suv):
    names = load_labels()
    region = reference_region_mask(volumes["labels"], names, fdg_suv)
    liver_mean = reference_suv_mean("fdg", "liver")
    assert suv_mean(fdg_suv, region) == pytest.approx(liver_mean)
    ratios = fdg_suv.get_fdata(dtype=np.float32)[region] / liver_mean
    assert 0.5 <= ratios.min() <= 0.75 and 1.3 <= ratios.max() <= 1.7, "'about 0.6 to about 1.5 times'"
    assert ratios.max() < AVID_RATIO * 1.05, "the working rule sits at the edge of normal liver noise"
    for name, row in table.items():
        if name.startswith("liver_lesion"):
            assert ratios.min() <= row["max_to_liver"] <= ratios.max(), name


def test_normal_distribution_ranks_urine_brain_myocardium_liver(table, volumes, fdg_suv):
    names, labels = load_labels(), volumes["labels"]

    def organ(key, fraction=0.99):
        return label_mask(labels, organ_label_ids(names, key), fdg_suv, min_fraction=fraction)

    means = {
        key: suv_mean(fdg_suv, organ(key))
        for key in ("bladder", "renal_pelvis", "brain", "myocardium", "liver")
    }
    assert (
        min(means["bladder"], means["renal_pelvis"]) > means["brain"] > means["myocardium"] > means["liver"]
    )
    # "urine is the hottest thing in the body" and "the bladder is the hottest structure in the pelvis"
    urine_max = max(suv_max(fdg_suv, organ("bladder", 0.01)), suv_max(fdg_suv, organ("renal_pelvis", 0.01)))
    assert urine_max == pytest.approx(suv_max(fdg_suv))
    assert suv_max(fdg_suv, organ("bladder")) > table["presacral_mass"]["suv_max"]


def test_small_liver_lesions_are_near_the_scanner_resolution(lesion_truth):
    fwhm_mm = load_sidecar("pet_fdg")["PSF_FWHM_mm"]
    assert round(fwhm_mm, 1) == 5.7
    small = sorted(v["longest_diameter_mm"] for n, v in lesion_truth.items() if n.startswith("liver_lesion"))[
        :3
    ]
    assert 5.0 <= small[0] and small[-1] <= 8.5, "'the smallest lesions here are 5-8 mm'"
    assert lesion_truth[START_LESION]["longest_diameter_mm"] == pytest.approx(37, abs=1)


def test_suvpeak_sphere_volume_in_the_text():
    assert 4 / 3 * math.pi * 0.6**3 == pytest.approx(0.905, abs=0.0005)  # mL of a 12-mm sphere


# --- the notebook and its answer key -----------------------------------------------------------------
def test_answer_key_is_complete():
    table = KEY
    assert len(table["tasks"]) >= 2 and 3 <= len(table["quizzes"]) <= 5
    for spec in table["tasks"].values():
        assert spec["hint"] and spec["explanation"]
    for name, quiz in table["quizzes"].items():
        assert len(quiz["explanations"]) == len(quiz["options"]) >= 3, name
        assert all(e.strip() for e in quiz["explanations"]), name
    assert len({q["correct"] for q in table["quizzes"].values()}) > 1, "vary the position of the right option"


def test_quiz_answers_follow_the_teaching():
    assert ANSWERS.quiz("q1_suvpeak").submit("B").correct
    assert ANSWERS.quiz("q2_bladder").submit("D").correct
    assert ANSWERS.quiz("q3_binderup").submit("C").correct
    assert ANSWERS.quiz("q4_fdg_negative_liver").submit("A").correct


def test_notebook_checks_every_task_and_shows_every_quiz(code):
    assert code.count("answers.check(") >= 2
    for name in ANSWERS.tasks:
        assert f'answers.check("{name}"' in code, name
    for name in ANSWERS.quizzes:
        assert f'answers.quiz("{name}")' in code, name


def test_answer_lines_are_placeholders_not_answers(cells):
    lines = [
        line
        for c in cells
        if c.cell_type == "code"
        for line in c.source.splitlines()
        if "# your answer" in line
    ]
    assert len(lines) == 3
    for line in lines:
        assert "9.33" not in line and "precoccygeal_mass" not in line and '"presacral_mass"' not in line


def test_notebook_frame_setup_and_optional_niivue(cells, code, text):
    setup = next(c.source for c in cells if c.cell_type == "code")
    assert setup.startswith("import sys\nfrom pathlib import Path\n\nsys.path.insert(0, str(next(p for p in")
    assert "labpath=notebooks%2F03_fdg_pet_ct.ipynb" in text
    for heading in ("## Overview", "## Setup", "Learning objectives", "## Key points", "## What's next"):
        assert heading in text, heading
    assert text.rstrip().endswith("*Synthetic data, not for clinical use.*")
    assert "open_explorer = False" in code, "the NiiVue explorer stays off the critical path"
    assert code.count("niivue_explorer(") == 1
    assert f'lesions["{START_LESION}"]["centre_mm"]' in code and "position_mm=start_mm" in code
    assert "static_figure()" in code and "MIPCine(" in code and "mip_figure(" in code
    assert "plots.organ_mip_figure(" in code and "plots.lesion_ratio_figure(" in code
    assert "Figure(" not in code.replace("_figure(", "")  # hand-built charts live in utils.plots


def test_clinical_numbers_carry_their_references(text):
    # Binderup 2010 (DOI 10.1158/1078-0432.CCR-09-1759), Lodge 2012 / PERCIST (DOI 10.2967/jnumed.111.101733),
    # Grawe 2023 (DOI 10.1186/s40644-023-00556-9)
    for fact in (
        "10.3",
        "1.3-78.9",
        "8.8",
        "8.4",
        "58 %",
        "13 of 57",
        "1 of 41",
        "10.1158/1078-0432.CCR-09-1759",
    ):
        assert fact in text, fact
    for fact in ("12 mm", "0.905 mL", "10.2967/jnumed.111.101733", "10.2967/jnumed.108.057307"):
        assert fact in text, fact
    for fact in ("97.0 %", "97.7 %", "10.1186/s40644-023-00556-9", "10.1055/s-0045-1810099"):
        assert fact in text, fact
