"""Notebook 00 teaches what the data hold: its answer key agrees with the data and the case."""

from __future__ import annotations

from utils import REPO_ROOT
from utils.checks import load_answers
from utils.io import load_lesions

ANSWERS = load_answers(REPO_ROOT / "notebooks" / "answers" / "00_start_here.json")


def test_liver_lesion_count_is_the_data():
    count = sum(lesion["name"].startswith("liver_lesion_") for lesion in load_lesions())
    assert ANSWERS.check("liver_lesion_count", count).correct
    assert not ANSWERS.check("liver_lesion_count", len(load_lesions())).correct, (
        "the placeholder is not the answer"
    )


def test_head_axis_is_z_and_the_placeholder_is_wrong():
    assert ANSWERS.check("head_axis", "z").correct
    assert not ANSWERS.check("head_axis", "x").correct


def test_quiz_answers_follow_the_case():
    assert ANSWERS.quiz("q2_grade").submit("C").correct
    assert ANSWERS.quiz("q3_liver").submit("A").correct
    assert ANSWERS.quiz("q1_first_study").submit("B").correct
