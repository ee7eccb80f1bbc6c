"""Notebook 02 (PET basics and SUV): its answer key agrees with the data, and what it teaches holds.

Every expected value of a task is recomputed here from data/ (by hand and with utils.pet), so a data rebuild
can never silently break a task; the numbers the notebook's text states about the data are checked too.
Execution itself is covered by tests/test_notebooks.py.
"""

from __future__ import annotations

import json
import re

import nbformat
import numpy as np
import pytest
from scipy.optimize import brentq

from utils import DATA_DIR, REBUILD_COMMAND, REPO_ROOT, io, pet
from utils.checks import load_answers

NOTEBOOK = REPO_ROOT / "notebooks" / "02_pet_basics_and_suv.ipynb"
ANSWERS = REPO_ROOT / "notebooks" / "answers" / "02_pet_basics_and_suv.json"

pytestmark = pytest.mark.skipif(
    not (DATA_DIR / "manifest.json").exists(), reason=f"course data not built; run: {REBUILD_COMMAND}"
)


# --- fixtures: the data as the notebook loads it ----------------------------------------------------
@pytest.fixture(scope="module")
def data():
    fdg_img, fdg = io.load_volume("pet_fdg"), io.load_sidecar("pet_fdg")
    dota_img, dota = io.load_volume("pet_dotatate"), io.load_sidecar("pet_dotatate")
    labels_img, label_names = io.load_volume("labels"), io.load_labels()
    liver = pet.reference_region_mask(labels_img, label_names, fdg_img)
    c_liver = float(fdg_img.get_fdata(dtype=np.float32)[liver].mean())
    dota_suv = pet.suv_volume(dota_img, dota)
    return {
        "fdg_img": fdg_img,
        "fdg": fdg,
        "dota_img": dota_img,
        "dota": dota,
        "labels_img": labels_img,
        "label_names": label_names,
        "lesions": io.load_lesions(),
        "liver": liver,
        "c_liver": c_liver,
        "fdg_suv": pet.suv_volume(fdg_img, fdg),
        "dota_suv": dota_suv,
        "liver_dota": pet.suv_mean(dota_suv, liver),
    }


@pytest.fixture(scope="module")
def answers():
    return load_answers(ANSWERS)


@pytest.fixture(scope="module")
def table(data):
    liver_lesions = [x for x in data["lesions"] if x["name"].startswith("liver_lesion")]
    return pet.lesion_recovery_table(
        data["dota_suv"],
        data["labels_img"],
        liver_lesions,
        truth_key="suv_dotatate",
        background_suv=data["liver_dota"],
        fwhm_mm=data["dota"]["PSF_FWHM_mm"],
    )


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(NOTEBOOK, as_version=4).cells


def _clock_min(text: str) -> float:
    h, m, s = (int(part) for part in text.split(":"))
    return h * 60 + m + s / 60


def _expected(name: str) -> float:
    return json.loads(ANSWERS.read_text(encoding="utf-8"))["tasks"][name]["expected"]


# --- the answer key against the data ------------------------------------------------------------------
def test_elapsed_minutes_by_hand(data):
    fdg = data["fdg"]
    by_clock = _clock_min(fdg["ScanStartTime"]) - _clock_min(fdg["InjectionTime"])
    by_seconds = (fdg["ScanStart"] - fdg["InjectionStart"]) / 60
    assert _expected("elapsed_min_fdg") == by_clock == by_seconds == pet.sidecar_elapsed_min(fdg)


def test_decay_factor_by_hand(data):
    fdg = data["fdg"]
    by_hand = 2 ** (-pet.sidecar_elapsed_min(fdg) / (fdg["RadionuclideHalfLife"] / 60))
    assert _expected("decay_factor_fdg") == pytest.approx(by_hand, rel=1e-5)
    assert by_hand == pytest.approx(pet.decay_factor(62.0, pet.HALF_LIFE_MIN["F-18"]), rel=1e-9)


def test_liver_suv_by_hand_and_with_utils(data):
    fdg = data["fdg"]
    decayed_bq = fdg["InjectedRadioactivity"] * 2 ** (
        -(fdg["ScanStart"] / 60) / (fdg["RadionuclideHalfLife"] / 60)
    )
    by_hand = data["c_liver"] * fdg["BodyWeight"] * 1000 / decayed_bq
    assert _expected("liver_suv_fdg") == pytest.approx(by_hand, rel=1e-4)
    assert pet.suv_mean(data["fdg_suv"], data["liver"]) == pytest.approx(by_hand, rel=1e-4)


def test_predicted_suvmax_of_liver_lesion_4(data):
    lesion = next(x for x in data["lesions"] if x["name"] == "liver_lesion_4")
    diameter = (6 * lesion["volume_ml"] * 1000 / np.pi) ** (1 / 3)
    rc = pet.recovery_coefficient(diameter, data["dota"]["PSF_FWHM_mm"])
    predicted = data["liver_dota"] + rc * (lesion["suv_dotatate"] - data["liver_dota"])
    assert _expected("predicted_suvmax_liver_lesion_4") == pytest.approx(predicted, rel=1e-4)


def test_tasks_accept_the_data_values_and_reject_the_placeholder(data, answers):
    recomputed = {
        "elapsed_min_fdg": pet.sidecar_elapsed_min(data["fdg"]),
        "decay_factor_fdg": pet.decay_factor(62.0, 109.77),
        "liver_suv_fdg": data["c_liver"] * pet.sidecar_suv_factor(data["fdg"]),
        "predicted_suvmax_liver_lesion_4": _expected("predicted_suvmax_liver_lesion_4"),
    }
    assert set(recomputed) == set(answers.tasks)
    for name, value in recomputed.items():
        assert answers.check(name, value).correct, name
        assert answers.check(name, None).status == "wrong", name
        assert answers.task(name).hint_text, f"{name} needs a hint"


def test_kilogram_slip_is_named_by_the_checker(data, answers):
    kg_slip = data["c_liver"] * pet.sidecar_suv_factor(data["fdg"]) / 1000
    assert "1000 times smaller" in answers.check("liver_suv_fdg", kg_slip).message


def test_answer_key_is_well_formed():
    table = json.loads(ANSWERS.read_text(encoding="utf-8"))
    assert len(table["tasks"]) >= 2
    assert 3 <= len(table["quizzes"]) <= 5
    for name, quiz in table["quizzes"].items():
        assert len(quiz["explanations"]) == len(quiz["options"]), name
        assert 0 <= quiz["correct"] < len(quiz["options"]), name
    load_answers(ANSWERS)  # builds every Task and MultipleChoice


# --- the notebook's frame and tasks -----------------------------------------------------------------
def test_notebook_has_tasks_with_placeholders_and_a_quiz(cells):
    sources = ["".join(c.source) for c in cells if c.cell_type == "code"]
    text = "\n".join(sources)
    assert text.count("answers.check(") >= 2
    assert "answers.quiz(" in text
    for source in sources:
        for line in source.splitlines():
            if "# <- your answer" in line:
                assert re.match(r"^my_\w+ = None  # <- your answer", line), line  # never the answer itself
    asking = [s for s in sources if "# <- your answer" in s]
    assert len(asking) >= 4
    assert all("answers.check(" in s for s in asking)


def test_no_hint_or_answer_is_shown_unattended(cells):
    # the notebook runs top to bottom: a .hint() in a code cell would give every reader the hint before trying
    for source in ("".join(c.source) for c in cells if c.cell_type == "code"):
        assert ".hint()" not in source and ".answer()" not in source, source


def test_charts_come_from_utils_plots(cells):
    code = "\n".join("".join(c.source) for c in cells if c.cell_type == "code")
    assert "plt." not in code and "pyplot" not in code  # charts with alt text, no pyplot state
    for chart in ("decay_figure", "what_if_figure", "recovery_curves_figure", "lesion_recovery_figure"):
        assert f"plots.{chart}(" in code, chart
    assert "plots.sphere_profile_figure(" in code


def test_viewer_has_a_static_figure_beside_it(cells):
    code = ["".join(c.source) for c in cells if c.cell_type == "code"]
    index = next(i for i, s in enumerate(code) if "OrthoViewer(" in s and "import" not in s)
    assert "static_figure()" in code[index + 1]


def test_notebook_frame_and_references(cells):
    text = "\n".join("".join(c.source) for c in cells)
    for heading in ("## Overview", "## Setup", "## Key points", "## What's next", "## References", "## Quiz"):
        assert heading in text
    assert "labpath=notebooks%2F02_pet_basics_and_suv.ipynb" in text
    assert "Synthetic data, not for clinical use" in text
    assert text.rstrip().endswith("*Synthetic data, not for clinical use.*")
    references = text.split("## References", 1)[1]
    assert len(re.findall(r"^\d+\. ", references, flags=re.M)) >= 10
    assert references.count("DOI") >= 10


# --- statements the notebook makes about the data and the physics --------------------------------------
def test_sidecar_facts_the_notebook_states(data):
    fdg, dota = data["fdg"], data["dota"]
    for sidecar in (fdg, dota):
        assert sidecar["ImageDecayCorrected"] is True
        assert sidecar["ImageDecayCorrectionTime"] == sidecar["ScanStart"]  # decay-corrected to scan start
    assert fdg["RadionuclideHalfLife"] / 60 == pytest.approx(109.77)  # ENSDF F-18 half-life (utils.constants)
    assert dota["RadionuclideHalfLife"] / 60 == pytest.approx(67.71)
    assert fdg["InjectedRadioactivity"] == 230e6
    # NETSPOT label: 2 MBq/kg up to 200 MBq, imaging 40-90 min after injection
    assert dota["InjectedRadioactivity"] == pytest.approx(2e6 * dota["BodyWeight"])
    assert dota["InjectedRadioactivity"] <= 200e6
    assert 40 <= pet.sidecar_elapsed_min(dota) <= 90
    assert pet.sidecar_elapsed_min(fdg) == 62 and pet.sidecar_elapsed_min(dota) == 55


def test_both_pet_scans_share_one_grid(data):
    # the notebook reuses the FDG liver mask on the DOTATATE image
    assert data["fdg_img"].shape == data["dota_img"].shape
    np.testing.assert_allclose(data["fdg_img"].affine, data["dota_img"].affine)


def test_decay_statements():
    assert 1 - pet.decay_factor(55, 67.71) == pytest.approx(0.43, abs=0.005)  # Ga-68 lost 43% by 55 min
    assert 1 - pet.decay_factor(62, 109.77) == pytest.approx(0.32, abs=0.005)  # F-18 lost 32% by 62 min
    factors = [pet.decay_factor(55, t) for t in (67.71, 67.83, 68.0)]
    assert (max(factors) - min(factors)) / min(factors) < 0.003  # "differ by less than 0.3%"


def test_what_if_statements(data):
    c, fdg = data["c_liver"], data["fdg"]
    base = pet.suv_what_if(c, fdg)
    assert base == pytest.approx(2.10, abs=0.01)
    assert pet.suv_what_if(c, fdg, weight_kg=75.0) / base == pytest.approx(1.15, abs=0.005)
    assert pet.suv_what_if(c, fdg, elapsed_min=72.0) / base == pytest.approx(1.065, abs=0.001)
    assert pet.suv_what_if(c, fdg, extravasated_fraction=0.2) / base == pytest.approx(0.8)
    assert pet.suv_what_if(c, fdg, decay_correct=False) == pytest.approx(1.42, abs=0.005)
    assert max(pet.suv_what_if(c, fdg, weight_kg=75.0), base) < 3.0  # the bar chart's x range


def test_recovery_reaches_90_percent_at_about_two_fwhm():
    for fwhm in (4.0, 5.72, 6.69, 8.0):
        d90 = brentq(lambda d, f=fwhm: pet.recovery_coefficient(d, f) - 0.9, 1.0, 60.0)
        assert 2.0 <= d90 / fwhm <= 2.2


def test_liver_lesion_statements(table, data):
    assert len(table) == 8
    by_name = {row["name"]: row for row in table}
    small = [row for row in table if row["diameter_mm"] < 8.0]
    assert len(small) == 3  # "the three lesions smaller than 8 mm"
    for row in small:
        assert row["true_suv"] == 22.0
        assert 0.14 <= row["rc_observed"] <= 0.37  # "about 15-35% of their contrast"
        assert row["suvmax"] == pytest.approx(row["suvmax_model"], rel=0.15)  # "as predicted"
    l5 = by_name["liver_lesion_5"]
    assert l5["diameter_mm"] == pytest.approx(5.0, abs=0.5)
    assert l5["suvmax"] == pytest.approx(10.0, abs=0.8)  # "reads about 10" (quiz q3 too)
    assert data["liver_dota"] == pytest.approx(7.5, abs=0.05)  # "the liver's 7.5"
    for row in table:
        if row["diameter_mm"] >= 20.0:
            assert row["rc_observed"] >= 1.0  # "at or above 1": SUVmax picks the noisiest voxel
    # the sizes the figure annotates increase with recovery among the equally avid lesions
    equal = sorted((r for r in table if r["true_suv"] == 22.0), key=lambda r: r["diameter_mm"])
    assert np.all(np.diff([r["rc_observed"] for r in equal]) > 0)


def test_fdg_liver_lesions_are_colder_than_liver(data):
    liver_fdg = pet.suv_mean(data["fdg_suv"], data["liver"])
    assert liver_fdg == pytest.approx(2.1, abs=0.01)
    for lesion in data["lesions"]:
        if lesion["name"].startswith("liver_lesion"):
            assert lesion["suv_fdg"] == 1.4 < liver_fdg


def test_resolution_statements(data):
    f18, ga68 = data["fdg"]["PSF_FWHM_mm"], data["dota"]["PSF_FWHM_mm"]
    assert (f18, ga68) == (5.72, 6.69)
    assert np.sqrt(ga68**2 - f18**2) == pytest.approx(3.5, abs=0.05)  # "extra blur 3.5 mm"
    assert ga68 - f18 == pytest.approx(1.0, abs=0.05)  # "only about 1 mm"
    assert pet.recovery_coefficient(10.0, f18) == pytest.approx(0.75, abs=0.03)  # "about three quarters"
    assert pet.recovery_coefficient(10.0, ga68) == pytest.approx(0.60, abs=0.03)  # "about 60%"
    # the curves "part company below about 15 mm"
    assert pet.recovery_coefficient(15.0, f18) - pet.recovery_coefficient(15.0, ga68) < 0.06
    assert pet.recovery_coefficient(20.0, f18) - pet.recovery_coefficient(20.0, ga68) < 0.01
    assert pet.recovery_coefficient(10.0, f18) - pet.recovery_coefficient(10.0, ga68) > 0.1
    # the sidecars agree with the builder's quadrature model: system, positron range, post-filter
    assert np.hypot(np.hypot(4.5, 0.5), 3.5) == pytest.approx(f18, abs=0.01)
    assert np.hypot(np.hypot(4.5, 3.5), 3.5) == pytest.approx(ga68, abs=0.01)


def test_quiz_explanations_match_the_data():
    quizzes = json.loads(ANSWERS.read_text(encoding="utf-8"))["quizzes"]
    assert "32%" in quizzes["q1"]["explanations"][0]
    assert 1 - pet.decay_factor(62, 109.77) == pytest.approx(0.32, abs=0.005)
    assert 230 * pet.decay_factor(62, 109.77) == pytest.approx(155, abs=1)
    assert 230 * 2 ** (62 / 109.77) == pytest.approx(340, abs=3)


def test_small_fdg_negative_liver_lesions_vanish_into_the_liver(data):
    # "Partial volume fills the small ones in until they barely differ from the liver (the three smallest read within
    # about 15% of it)" (true 1.4 vs liver 2.1)
    fdg_suv, liver_fdg = np.asarray(data["fdg_suv"].dataobj), pet.suv_mean(data["fdg_suv"], data["liver"])
    for lesion in data["lesions"]:
        if not lesion["name"].startswith("liver_lesion"):
            continue
        diameter = pet.equivalent_diameter_mm(lesion["volume_ml"])
        if diameter < 8.0:
            voi = pet.label_mask(data["labels_img"], lesion["id"], data["fdg_img"], min_fraction=0.01)
            assert fdg_suv[voi].mean() >= 0.85 * liver_fdg, lesion["name"]
        elif diameter >= 20.0:
            voi = pet.label_mask(data["labels_img"], lesion["id"], data["fdg_img"], min_fraction=0.5)
            assert fdg_suv[voi].mean() <= 0.8 * liver_fdg, lesion["name"]
