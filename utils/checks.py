"""Answer checks and quizzes for notebook tasks: feedback, a hint and the answer on request, quizzes.

Works in every front-end: with ipywidgets in a live kernel the feedback has "Show hint" / "Show answer"
buttons; anywhere else (static HTML, a terminal, tests) it is plain text, and ``task.hint()`` /
``task.answer()`` reveal on request. Expected values never appear in the feedback until the answer is asked
for, and they can live in an answer table (``load_answers``) instead of the cell that asks.
ipywidgets is imported only when a widget is shown, so importing this module stays cheap.
"""

from __future__ import annotations

import html
import importlib.util
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .validation import require_in_range, require_non_negative

_STATUS_TEXT = {"correct": "Correct", "close": "Close", "wrong": "Not yet"}
_STATUS_COLOUR = {"correct": "#1a7f37", "close": "#9a6700", "wrong": "#cf222e"}
# Slips worth naming: a factor of 1000 (g vs kg, Bq vs kBq, MBq vs GBq) or 100 (fraction vs percent).
_UNIT_SLIPS = {1000.0: "g vs kg, Bq vs kBq or MBq vs GBq", 100.0: "a fraction vs a percentage"}


class Text(str):
    """A string that displays without quotes in a notebook (hints, answers, explanations)."""

    def __repr__(self) -> str:
        return str(self)


def _widgets_available() -> bool:
    """True when running in a live Jupyter kernel that has ipywidgets (checked without importing it)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return (
        shell is not None and hasattr(shell, "kernel") and importlib.util.find_spec("ipywidgets") is not None
    )


def _display_widget(widget: Any, text: str) -> None:
    """Display a widget with ``text`` as its plain-text fallback (what static pages and terminals show)."""
    from IPython.display import display

    bundle = widget._repr_mimebundle_()
    bundle["text/plain"] = text
    display(bundle, raw=True)


@dataclass(frozen=True)
class Feedback:
    """Result of a check: ``status`` ("correct", "close" or "wrong") and a message without the answer."""

    status: str
    message: str
    hint_text: str = field(default="", repr=False)
    answer_text: str = field(default="", repr=False)

    def hint(self) -> Text:
        """The hint (revealed on request)."""
        return Text(self.hint_text or "No hint for this one.")

    def answer(self) -> Text:
        """The expected answer with its explanation (revealed on request)."""
        return Text(self.answer_text)

    @property
    def correct(self) -> bool:
        """True when the answer was judged correct."""
        return self.status == "correct"

    def __str__(self) -> str:
        return f"{_STATUS_TEXT[self.status]}: {self.message}"

    def text(self) -> str:
        """Plain-text feedback, with how to ask for the hint and the answer."""
        return f"{self}\n(For a hint call .hint(); for the answer call .answer() on the task or this result.)"

    def widget(self) -> Any:
        """ipywidgets view: coloured verdict, "Show hint" and "Show answer" buttons, reveal area."""
        import ipywidgets as w

        verdict = w.HTML(
            f'<b style="color:{_STATUS_COLOUR[self.status]}">{_STATUS_TEXT[self.status]}</b>: '
            f"{html.escape(self.message)}"
        )
        reveal = w.HTML()
        hint_button = w.Button(description="Show hint", tooltip="Reveal a hint")
        answer_button = w.Button(description="Show answer", tooltip="Reveal the expected answer")
        hint_button.on_click(lambda _: setattr(reveal, "value", f"<i>Hint:</i> {html.escape(self.hint())}"))
        answer_button.on_click(
            lambda _: setattr(reveal, "value", f"<i>Answer:</i> {html.escape(self.answer())}")
        )
        buttons = [answer_button] if self.status == "correct" else [hint_button, answer_button]
        return w.VBox([verdict, w.HBox(buttons), reveal])

    def _ipython_display_(self) -> None:
        """Widgets in a live kernel, plain text elsewhere."""
        if not _widgets_available():
            print(self.text())
        else:
            _display_widget(self.widget(), self.text())


def _normalise_text(value: Any) -> str:
    """Case- and space-insensitive form of a text answer."""
    return " ".join(str(value).split()).casefold()


def _format_value(value: Any, unit: str) -> str:
    """A value for the answer text: numbers with 4 significant digits, plus the unit."""
    if isinstance(value, bool | str) or not isinstance(value, float | int | np.floating | np.integer):
        shown = (
            ", ".join(map(str, value)) if isinstance(value, list | tuple | set | frozenset) else str(value)
        )
    else:
        shown = f"{float(value):.4g}"
    return f"{shown} {unit}".strip()


class Task:
    """One checkable task: the expected answer, tolerances, a hint and an explanation; repr hides the answer.

    ``expected`` is a number (compared within ``tol`` absolute or ``rtol`` relative, "close" within
    ``close_rtol``), a sequence of numbers (element by element), a bool, a text (case- and space-
    insensitive), a set of acceptable texts (any one is right), or a list of texts (the answer must name
    exactly these, in any order: e.g. "which lesions are FDG-avid").
    """

    def __init__(
        self,
        expected: Any,
        *,
        tol: float = 0.0,
        rtol: float = 1e-6,
        close_rtol: float = 0.10,
        hint: str = "",
        explanation: str = "",
        unit: str = "",
        name: str = "",
    ) -> None:
        if expected is None:
            raise ValueError("expected must be given (a number, numbers, a bool or a text)")
        if isinstance(expected, list | tuple) and expected and all(isinstance(e, str) for e in expected):
            expected = tuple(expected)
        elif not isinstance(expected, bool | str | set | frozenset):
            try:
                numbers = np.asarray(expected, dtype=float)
            except (TypeError, ValueError) as err:
                raise ValueError(
                    f"expected must be a number, numbers, a bool or a text; got {expected!r}"
                ) from err
            if not np.all(np.isfinite(numbers)):
                raise ValueError(f"expected must be finite, got {expected!r}")
        self._expected = expected
        self.tol = float(require_non_negative("tol", tol))
        self.rtol = float(require_in_range("rtol", rtol, 0.0, 1.0))
        self.close_rtol = float(require_in_range("close_rtol", close_rtol, 0.0, 1.0))
        self.hint_text, self.explanation, self.unit, self.name = hint, explanation, unit, name

    def __repr__(self) -> str:
        return f"Task({self.name!r})" if self.name else "Task()"

    def hint(self) -> Text:
        """The hint, on request."""
        return Text(self.hint_text or "No hint for this one.")

    def answer(self) -> Text:
        """The expected answer and its explanation, on request."""
        text = f"Expected: {_format_value(self._expected, self.unit)}"
        if _is_number(self._expected):
            allowed = max(self.tol, self.rtol * abs(float(self._expected)))
            if allowed >= 1e-4 * max(1.0, abs(float(self._expected))):
                text += f" (within +/- {allowed:.3g} {self.unit})".replace(" )", ")")
        return Text(f"{text}. {self.explanation}".strip() if self.explanation else text)

    def check(self, answer: Any) -> Feedback:
        """Judge ``answer``: correct, close or wrong, with a message that does not give the answer away."""
        status, message = self._judge(answer)
        return Feedback(status, message, self.hint_text, self.answer())

    def _judge(self, answer: Any) -> tuple[str, str]:
        """(status, message) for one answer."""
        if answer is None or answer is Ellipsis:
            return "wrong", "no answer yet: replace the placeholder with your value and run the cell again."
        expected = self._expected
        if isinstance(expected, bool):
            ok = isinstance(answer, bool | np.bool_) and bool(answer) == expected
            return ("correct", "well done.") if ok else ("wrong", "that is not it; think again.")
        if isinstance(expected, tuple):
            return self._judge_names(answer, expected)
        if isinstance(expected, str | set | frozenset):
            accepted = {expected} if isinstance(expected, str) else set(expected)
            ok = _normalise_text(answer) in {_normalise_text(a) for a in accepted}
            return ("correct", "well done.") if ok else ("wrong", "that is not the expected answer.")
        if _is_number(expected):
            return self._judge_number(answer, float(expected))
        return self._judge_numbers(answer, np.asarray(expected, dtype=float))

    @staticmethod
    def _judge_names(answer: Any, expected: tuple[str, ...]) -> tuple[str, str]:
        """(status, message) for a collection of names that must match ``expected`` in any order."""
        if isinstance(answer, str) or not isinstance(answer, Iterable):
            return "wrong", f"a collection of names is expected here (a set or list), got {answer!r}."
        given = {_normalise_text(a) for a in answer}
        wanted = {_normalise_text(e) for e in expected}
        if given == wanted:
            return "correct", "well done."
        missing, extra = len(wanted - given), len(given - wanted)
        parts = [
            f"{missing} missing" if missing else "",
            f"{extra} that should not be there" if extra else "",
        ]
        return "wrong", "not quite: " + " and ".join(p for p in parts if p) + "."

    def _allowed(self, expected: np.ndarray | float) -> np.ndarray | float:
        """Largest error still counted correct, per value (plus rounding slack, so 2.1 vs 2.0 +/- 0.1 passes)."""
        return np.maximum(self.tol, self.rtol * np.abs(expected)) + 1e-9 * np.maximum(1.0, np.abs(expected))

    def _judge_number(self, answer: Any, expected: float) -> tuple[str, str]:
        """(status, message) for a numeric answer."""
        try:
            value = float(answer)
        except (TypeError, ValueError):
            return "wrong", f"a number is expected here, got {answer!r}."
        if not math.isfinite(value):
            return "wrong", f"{value} is not a finite number."
        error = abs(value - expected)
        allowed = float(self._allowed(expected))
        if error <= allowed:
            return "correct", "well done."
        if error <= max(3 * allowed, self.close_rtol * abs(expected)):
            return "close", "nearly there: check rounding and the inputs you used."
        if value != 0 and expected != 0:
            for factor, reason in _UNIT_SLIPS.items():
                for scale in (factor, 1 / factor):
                    if abs(value - expected * scale) <= max(allowed * scale, 0.02 * abs(expected * scale)):
                        word = "larger" if scale > 1 else "smaller"
                        return (
                            "wrong",
                            f"about {factor:g} times {word} than expected: check units ({reason}).",
                        )
        direction = "too high" if value > expected else "too low"
        return "wrong", f"{direction}."

    def _judge_numbers(self, answer: Any, expected: np.ndarray) -> tuple[str, str]:
        """(status, message) for a sequence of numbers, compared element by element."""
        try:
            values = np.asarray(answer, dtype=float)
        except (TypeError, ValueError):
            return "wrong", f"{expected.size} numbers are expected here."
        if values.shape != expected.shape:
            return "wrong", f"{expected.size} numbers are expected here, got shape {values.shape}."
        if not np.all(np.isfinite(values)):
            return "wrong", "some values are not finite numbers."
        error = np.abs(values - expected)
        allowed = self._allowed(expected)
        if np.all(error <= allowed):
            return "correct", "well done."
        if np.all(error <= np.maximum(3 * allowed, self.close_rtol * np.abs(expected))):
            return "close", "nearly there: check rounding and the inputs you used."
        wrong = int(np.sum(error > allowed))
        return "wrong", f"{wrong} of {expected.size} values are off."


def _is_number(value: Any) -> bool:
    """True for real scalars (not bools)."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def check(
    answer: Any,
    expected: Any,
    *,
    tol: float = 0.0,
    rtol: float = 1e-6,
    close_rtol: float = 0.10,
    hint: str = "",
    explanation: str = "",
    unit: str = "",
) -> Feedback:
    """Check ``answer`` against ``expected`` (see ``Task``): friendly feedback, correct / close / wrong.

    In a notebook the result shows itself with "Show hint" / "Show answer" buttons, or as text where widgets
    are unavailable; ``.hint()`` and ``.answer()`` reveal on request. To keep the answer out of the cell that
    asks, compute ``expected`` in an earlier cell or use ``load_answers`` and ``AnswerKey.check``.
    """
    task = Task(
        expected, tol=tol, rtol=rtol, close_rtol=close_rtol, hint=hint, explanation=explanation, unit=unit
    )
    return task.check(answer)


class MultipleChoice:
    """A multiple-choice question with one correct option and an explanation for every option."""

    def __init__(
        self,
        question: str,
        options: Sequence[str],
        correct: int,
        explanations: Sequence[str],
        *,
        name: str = "",
    ) -> None:
        if len(options) < 2:
            raise ValueError(f"options must hold at least 2 choices, got {len(options)}")
        if len(explanations) != len(options):
            raise ValueError(
                f"explanations must match options one to one ({len(options)}), got {len(explanations)}"
            )
        if isinstance(correct, bool) or not isinstance(correct, int) or not 0 <= correct < len(options):
            raise ValueError(
                f"correct must be an option index between 0 and {len(options) - 1}, got {correct!r}"
            )
        self.question, self.options = question, list(options)
        self._correct, self.explanations, self.name = correct, list(explanations), name

    def __repr__(self) -> str:
        return f"MultipleChoice({self.name or self.question[:40]!r})"

    def _index(self, choice: int | str) -> int:
        """Option index from a 0-based index, a letter ("B") or the option's text."""
        if (
            isinstance(choice, int | np.integer)
            and not isinstance(choice, bool)
            and 0 <= choice < len(self.options)
        ):
            return int(choice)
        if isinstance(choice, str):
            letter = choice.strip().upper()
            if len(letter) == 1 and 0 <= ord(letter) - ord("A") < len(self.options):
                return ord(letter) - ord("A")
            texts = [_normalise_text(o) for o in self.options]
            if _normalise_text(choice) in texts:
                return texts.index(_normalise_text(choice))
        letters = ", ".join(chr(ord("A") + i) for i in range(len(self.options)))
        raise ValueError(
            f"choice must be a letter ({letters}), an index 0-{len(self.options) - 1} or an option text"
        )

    def submit(self, choice: int | str) -> Feedback:
        """Judge a choice; the feedback explains the chosen option, ``.answer()`` gives the right one."""
        index = self._index(choice)
        letter = chr(ord("A") + self._correct)
        answer = f"{letter}. {self.options[self._correct]} - {self.explanations[self._correct]}"
        status = "correct" if index == self._correct else "wrong"
        return Feedback(status, self.explanations[index], "", answer)

    def text(self) -> str:
        """The question and lettered options as plain text, with how to answer."""
        lines = [self.question] + [f"  {chr(ord('A') + i)}. {o}" for i, o in enumerate(self.options)]
        return "\n".join([*lines, "Answer with .submit('A') (or the letter of your choice)."])

    def widget(self) -> Any:
        """ipywidgets view: radio buttons, a "Check" button, and the explanation of the chosen option."""
        import ipywidgets as w

        choices = w.RadioButtons(options=self.options, value=None, layout=w.Layout(width="max-content"))
        button = w.Button(description="Check", tooltip="Check your choice")
        result = w.HTML()

        def on_check(_: Any) -> None:
            if choices.value is None:
                result.value = "<i>Pick an option first.</i>"
                return
            feedback = self.submit(choices.index)
            result.value = (
                f'<b style="color:{_STATUS_COLOUR[feedback.status]}">{_STATUS_TEXT[feedback.status]}</b>: '
                f"{html.escape(feedback.message)}"
            )

        button.on_click(on_check)
        return w.VBox([w.HTML(f"<b>{html.escape(self.question)}</b>"), choices, button, result])

    def _ipython_display_(self) -> None:
        """Widgets in a live kernel, plain text elsewhere."""
        if not _widgets_available():
            print(self.text())
        else:
            _display_widget(self.widget(), self.text())


def _task_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Task arguments from a JSON entry; ``"one_of": [...]`` (any one text is right) becomes a set."""
    spec = dict(spec)
    if "one_of" in spec:
        if "expected" in spec:
            raise ValueError("give either 'expected' or 'one_of' in an answer-key task, not both")
        spec["expected"] = frozenset(spec.pop("one_of"))
    return spec


class AnswerKey:
    """Tasks and quizzes by name, usually loaded from a JSON answer table kept outside the asking cells."""

    def __init__(
        self, tasks: Mapping[str, Task] | None = None, quizzes: Mapping[str, MultipleChoice] | None = None
    ) -> None:
        self.tasks, self.quizzes = dict(tasks or {}), dict(quizzes or {})

    def __repr__(self) -> str:
        return f"AnswerKey(tasks={sorted(self.tasks)}, quizzes={sorted(self.quizzes)})"

    @classmethod
    def from_dict(cls, table: Mapping[str, Any]) -> AnswerKey:
        """Build from ``{"tasks": {name: {"expected": ..., "tol": ..., "hint": ...}}, "quizzes": {...}}``;
        a task may give ``"one_of": [...]`` instead of ``"expected"`` when any of several texts is right."""
        tasks = {name: Task(name=name, **_task_spec(spec)) for name, spec in table.get("tasks", {}).items()}
        quizzes = {name: MultipleChoice(name=name, **spec) for name, spec in table.get("quizzes", {}).items()}
        return cls(tasks, quizzes)

    def task(self, name: str) -> Task:
        """The task called ``name``."""
        return self._get(self.tasks, name, "task")

    def quiz(self, name: str) -> MultipleChoice:
        """The quiz question called ``name``."""
        return self._get(self.quizzes, name, "quiz")

    def check(self, name: str, answer: Any) -> Feedback:
        """Check ``answer`` against the task called ``name``."""
        return self.task(name).check(answer)

    @staticmethod
    def _get(table: Mapping[str, Any], name: str, kind: str) -> Any:
        """Look up a task or quiz with a clear error."""
        if name not in table:
            raise ValueError(f"no {kind} called {name!r}; known: {', '.join(sorted(table)) or 'none'}")
        return table[name]


def load_answers(path: str | Path) -> AnswerKey:
    """Load an answer table (JSON: {"tasks": {...}, "quizzes": {...}}) into an ``AnswerKey``."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        return AnswerKey.from_dict(json.loads(text))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err})") from err
