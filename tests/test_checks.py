"""utils.checks: correct / close / wrong feedback, hints and answers on request, quizzes, answer tables."""

import json
import subprocess
import sys

import pytest

from utils import checks
from utils.checks import AnswerKey, MultipleChoice, Task, check, load_answers


# --- numeric checks ------------------------------------------------------------
def test_correct_close_and_wrong():
    assert check(2.09, 2.0902, tol=0.01).status == "correct"
    assert check(2.0902, 2.0902).status == "correct"
    assert check(2.15, 2.0902, tol=0.01).status == "close"  # within 10 %
    assert check(2.6, 2.0902, tol=0.01).status == "wrong"
    assert check(1.5, 2.0902, tol=0.01).message == "too low."


def test_tolerance_boundary_is_inclusive():
    assert check(2.1, 2.0, tol=0.1).status == "correct"
    assert check(2.1001, 2.0, tol=0.1).status == "close"


@pytest.mark.parametrize(("factor", "clue"), [(1000, "g vs kg"), (1 / 1000, "g vs kg"), (100, "percentage")])
def test_unit_slips_are_named(factor, clue):
    feedback = check(2.0902 * factor, 2.0902, tol=0.01)
    assert feedback.status == "wrong" and clue in feedback.message and "units" in feedback.message


@pytest.mark.parametrize("answer", [None, ..., "abc", float("nan"), [1, 2]])
def test_nonsense_answers_get_feedback_not_exceptions(answer):
    feedback = check(answer, 2.0)
    assert feedback.status == "wrong" and feedback.message


def test_numeric_text_answers_are_accepted():
    assert check("2.09", 2.0902, tol=0.01).correct


def test_text_bool_and_alternatives():
    assert check(" g3 ", "G3").correct
    assert not check("G2", "G3").correct
    assert check("NET G3", {"G3", "NET G3"}).correct
    assert check(True, True).correct
    assert not check(1, True).correct  # a bool question wants a bool


def test_sequences_element_by_element():
    assert check([1.0, 2.0], [1.0, 2.0]).correct
    assert check([1.0, 2.05], [1.0, 2.0], rtol=0.01).status == "close"
    feedback = check([1.0, 9.0], [1.0, 2.0])
    assert feedback.status == "wrong" and "1 of 2" in feedback.message
    assert check([1.0], [1.0, 2.0]).status == "wrong"


def test_task_rejects_a_nonsense_key():
    with pytest.raises(ValueError, match="expected"):
        Task(float("nan"))
    with pytest.raises(ValueError, match="expected"):
        Task(None)
    with pytest.raises(ValueError, match="expected"):
        Task(["a", 1])
    with pytest.raises(ValueError, match="tol"):
        Task(1.0, tol=-1)


# --- the answer stays hidden until asked for --------------------------------------------------
def test_answer_is_not_shown_until_requested():
    task = Task(2.0902, tol=0.01, hint="Decay-correct the injected activity.", explanation="SUV = C x W / A.")
    feedback = task.check(3.5)
    for shown in (str(feedback), feedback.text(), repr(feedback), repr(task)):
        assert "2.09" not in shown
    assert feedback.hint() == "Decay-correct the injected activity."
    assert "2.09" in feedback.answer() and "SUV = C x W / A." in feedback.answer()
    assert "2.09" in task.answer() and task.hint() == feedback.hint()
    assert repr(task.hint()) == "Decay-correct the injected activity."  # displays without quotes


def test_plain_text_display_outside_a_kernel(capsys):
    check(3.5, 2.0902, tol=0.01)._ipython_display_()
    out = capsys.readouterr().out
    assert "Not yet" in out and ".hint()" in out and "2.09" not in out


def test_feedback_widget_reveals_hint_then_answer():
    feedback = check(3.5, 2.0902, tol=0.01, hint="Use grams.", unit="")
    box = feedback.widget()
    verdict, buttons, reveal = box.children
    assert "Not yet" in verdict.value and reveal.value == ""
    hint_button, answer_button = buttons.children
    hint_button.click()
    assert "Use grams." in reveal.value and "2.09" not in reveal.value
    answer_button.click()
    assert "2.09" in reveal.value


def test_widget_display_in_a_kernel_keeps_a_text_fallback(monkeypatch):
    shown = []
    monkeypatch.setattr(checks, "_widgets_available", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    check(2.0902, 2.0902)._ipython_display_()
    (bundle,) = shown
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("Correct")


def test_checks_import_is_light():
    code = "import sys, utils.checks; print('ipywidgets' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# --- multiple choice ------------------------------------------------------------
def _question():
    return MultipleChoice(
        "Which index decides between NET G3 and NEC?",
        ["Ki-67 above 55 %", "Morphology (differentiation)", "Mitoses above 20 per 2 mm^2"],
        correct=1,
        explanations=[
            "No: 55 % is a trial entry band, not a WHO limit.",
            "Yes: NET G3 is well differentiated, NEC poorly.",
            "No: both NET G3 and NEC can have more than 20 mitoses.",
        ],
        name="g3_vs_nec",
    )


@pytest.mark.parametrize("choice", [1, "B", "b", "morphology (differentiation)"])
def test_quiz_accepts_index_letter_or_text(choice):
    feedback = _question().submit(choice)
    assert feedback.correct and "well differentiated" in feedback.message


def test_quiz_wrong_choice_explains_that_option_and_hides_the_answer():
    feedback = _question().submit("A")
    assert feedback.status == "wrong" and "trial entry band" in feedback.message
    assert "Morphology" not in str(feedback)
    assert feedback.answer().startswith("B. Morphology")


def test_quiz_text_and_widget():
    q = _question()
    assert "A. Ki-67" in q.text() and "C. Mitoses" in q.text()
    assert "g3_vs_nec" in repr(q) and "correct" not in repr(q).lower()
    _, radio, button, result = q.widget().children
    button.click()
    assert "Pick an option" in result.value
    radio.value = q.options[2]
    button.click()
    assert "Not yet" in result.value and "more than 20 mitoses" in result.value
    radio.value = q.options[1]
    button.click()
    assert "Correct" in result.value


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"options": ["only one"], "explanations": ["x"], "correct": 0}, "options"),
        ({"options": ["a", "b"], "explanations": ["x"], "correct": 0}, "explanations"),
        ({"options": ["a", "b"], "explanations": ["x", "y"], "correct": 2}, "correct"),
        ({"options": ["a", "b"], "explanations": ["x", "y"], "correct": True}, "correct"),
    ],
)
def test_quiz_rejects_nonsense(kwargs, name):
    with pytest.raises(ValueError, match=name):
        MultipleChoice("Q?", **kwargs)
    with pytest.raises(ValueError, match="choice"):
        _question().submit("Z")


# --- answer tables ------------------------------------------------------------
def test_answer_table_from_json(tmp_path):
    table = {
        "tasks": {"liver_suv": {"expected": 2.09, "tol": 0.05, "hint": "Use the sidecar.", "unit": ""}},
        "quizzes": {
            "q1": {"question": "1 + 1?", "options": ["1", "2"], "correct": 1, "explanations": ["no", "yes"]}
        },
    }
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(table), encoding="utf-8")
    key = load_answers(path)
    assert key.check("liver_suv", 2.1).correct
    assert key.task("liver_suv").hint() == "Use the sidecar."
    assert key.quiz("q1").submit("B").correct
    assert "2.09" not in repr(key) and "liver_suv" in repr(key)
    with pytest.raises(ValueError, match="liver_sv"):
        key.task("liver_sv")


def test_answer_key_in_code_and_bad_json(tmp_path):
    key = AnswerKey(tasks={"grade": Task("G3", name="grade")})
    assert key.check("grade", "g3").correct
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="JSON"):
        load_answers(bad)


def test_a_list_of_names_matches_in_any_order_and_says_what_is_off():
    task = Task(["presacral_mass", "precoccygeal_mass"])
    assert task.check({"Precoccygeal_mass", "presacral_mass"}).correct
    assert task.check(["presacral_mass"]).message == "not quite: 1 missing."
    extra = task.check(["presacral_mass", "precoccygeal_mass", "liver_lesion_1"])
    assert extra.status == "wrong" and "1 that should not be there" in extra.message
    assert "presacral" not in extra.message, "the feedback does not give the names away"
    assert task.check("presacral_mass").status == "wrong"


def test_answer_key_one_of_accepts_any_listed_text():
    key = AnswerKey.from_dict({"tasks": {"side": {"one_of": ["left", "patient's left"]}}})
    assert key.check("side", "Left").correct and key.check("side", "patient's left").correct
    assert not key.check("side", "right").correct
    with pytest.raises(ValueError, match="either 'expected' or 'one_of'"):
        AnswerKey.from_dict({"tasks": {"side": {"one_of": ["left"], "expected": "left"}}})


def test_revealed_answer_states_the_relative_tolerance():
    assert "(within +/- 2 mm)" in Task(20.0, rtol=0.1, unit="mm").answer()
    assert "within" not in Task(3).answer(), "an exact answer states no tolerance"
