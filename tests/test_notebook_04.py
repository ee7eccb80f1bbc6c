"""Notebook 04 (68Ga-DOTATATE PET/CT) teaches what the data show: its answer key and its statements about the
patient are recomputed here from data/ with utils, so a data rebuild cannot silently break them."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from utils import REPO_ROOT
from utils.anatomy import build_patient
from utils.checks import AnswerKey
from utils.display import label_at
from utils.io import load_labels, load_landmarks, load_lesions, load_sidecar, load_volume
from utils.pet import label_mask, lesion_recovery_table, suv_max, suv_mean, suv_volume
from utils.scores import krenning_score
from utils.uptake import lesion_mask, lesion_uptake_table, reference_suv_mean

NOTEBOOK = REPO_ROOT / "notebooks" / "04_dotatate_pet_ct.ipynb"
ANSWERS = REPO_ROOT / "notebooks" / "answers" / "04_dotatate_pet_ct.json"
TASKS = {
    "uncinate_is_lesion",
    "splenule_is_lesion",
    "presacral_krenning",
    "liver_sstr_positive",
    "recovery_liver_lesion_5",
}
# Where the notebook's organ tour must land (label names of data/labels.json).
LANDMARK_STRUCTURES = {
    "pituitary": "pituitary",
    "salivary gland (right parotid)": "salivary_glands",
    "thyroid": "thyroid",
    "spleen": "spleen",
    "accessory spleen": "accessory_spleen",
    "left adrenal": "adrenal_left",
    "right kidney": "kidney_right",
    "liver": "liver_right_lobe",
    "uncinate process": "pancreas_uncinate",
    "bladder": "bladder",
}
KUYUMCU_PITUITARY_SUVMAX = 9.74  # Kuyumcu S et al., Ann Nucl Med 2013, DOI 10.1007/s12149-013-0718-4
MAPELLI_UNCINATE_SUVMAX = (2.4, 12.7)  # Mapelli P et al., Nucl Med Commun 2014;35:613 (physiological)


# ------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(NOTEBOOK, as_version=4)


@pytest.fixture(scope="module")
def code(notebook):
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "code")


def notebook_constant(notebook, name: str) -> dict:
    """The dict literal ``name = {...}`` that opens one of the notebook's code cells (evaluated alone)."""
    opening = f"{name} = {{"
    sources = [c.source for c in notebook.cells if c.cell_type == "code" and c.source.startswith(opening)]
    assert len(sources) == 1, f"expected one code cell starting with {opening!r}"
    literal = sources[0].split("\n}\n", 1)[0] + "\n}"
    namespace: dict = {}
    exec(literal, namespace)  # only the notebook's own constant, nothing else of the cell
    return namespace[name]


@pytest.fixture(scope="module")
def spec():
    return json.loads(ANSWERS.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def key(spec):
    return AnswerKey.from_dict(spec)


@pytest.fixture(scope="module")
def suv():
    return suv_volume(load_volume("pet_dotatate"), load_sidecar("pet_dotatate"))


@pytest.fixture(scope="module")
def labels():
    return load_volume("labels")


@pytest.fixture(scope="module")
def names():
    return load_labels()


@pytest.fixture(scope="module")
def refs():
    return reference_suv_mean("dotatate", "liver"), reference_suv_mean("dotatate", "spleen")


@pytest.fixture(scope="module")
def table(refs):
    liver, spleen = refs
    rows = {row["name"]: dict(row) for row in lesion_uptake_table("dotatate")}
    for row in rows.values():
        row["krenning"] = krenning_score(row["suv_max"], liver, spleen)
    return rows


@pytest.fixture(scope="module")
def organ_suv(notebook, suv, labels, names):
    """(SUVmean, SUVmax) per organ, measured exactly as the notebook does (voxels at least half inside)."""
    organs = notebook_constant(notebook, "NORMAL_ORGANS")
    label_id = {name: i for i, name in names.items()}
    result = {}
    for organ, parts in organs.items():
        voi = label_mask(labels, [label_id[p] for p in parts], suv, min_fraction=0.5)
        result[organ] = (suv_mean(suv, voi), suv_max(suv, voi))
    return result


@pytest.fixture(scope="module")
def recovery(suv, labels, refs):
    rows = lesion_recovery_table(
        suv,
        labels,
        load_lesions(),
        truth_key="suv_dotatate",
        background_suv=refs[0],
        fwhm_mm=load_sidecar("pet_dotatate")["PSF_FWHM_mm"],
    )
    return {row["name"]: row for row in rows}


# ------------------------------------------------------------------------------------------- answer key
def test_answer_key_is_valid(spec, key):
    assert set(key.tasks) == TASKS
    assert 3 <= len(key.quizzes) <= 5
    for name, quiz in spec["quizzes"].items():
        assert len(quiz["explanations"]) == len(quiz["options"]) >= 3, name
        assert 0 <= quiz["correct"] < len(quiz["options"]), name
        assert all(text.strip() for text in quiz["explanations"]), name
    for name, task in spec["tasks"].items():
        assert task["hint"].strip() and task["explanation"].strip(), name


def test_notebook_checks_every_task_and_shows_every_quiz(code, key):
    assert code.count("answers.check(") >= 2
    for name in key.tasks:
        assert f'answers.check("{name}"' in code, name
    for name in key.quizzes:
        assert f'answers.quiz("{name}")' in code, name


def test_answer_lines_hold_placeholders_not_answers(code, key):
    answer_lines = [line for line in code.splitlines() if "# your answer" in line]
    assert len(answer_lines) == len(key.tasks)
    for line in answer_lines:
        assert re.match(r"^my_\w+ = None\s+# your answer", line), line


def test_placeholder_answers_are_handled_gracefully(key):
    for name in key.tasks:
        assert key.check(name, None).status == "wrong"


# ------------------------------------------------------------------------------------------- tasks vs data
def test_presacral_score_matches_krenning_score_on_the_table(spec, key, table):
    expected = table["presacral_mass"]["krenning"]
    assert spec["tasks"]["presacral_krenning"]["expected"] == expected == 4
    assert key.check("presacral_krenning", expected).correct


def test_liver_lesion_count_matches_the_data(spec, key, table):
    liver_rows = [row for name, row in table.items() if name.startswith("liver_lesion")]
    positive = sum(row["krenning"] >= 3 for row in liver_rows)
    assert spec["tasks"]["liver_sstr_positive"]["expected"] == positive == len(liver_rows) == 8
    assert key.check("liver_sstr_positive", positive).correct
    lobes = {lesion["location"].split(",")[0] for lesion in load_lesions() if lesion["name"].startswith("liver_lesion")}
    assert lobes == {"right hepatic lobe", "left hepatic lobe"}  # "bilobar"


def test_uncinate_focus_is_physiological_in_the_data(spec, key, names, organ_suv, table, refs):
    assert spec["tasks"]["uncinate_is_lesion"]["expected"] is False
    assert key.check("uncinate_is_lesion", False).correct
    assert "pancreas_uncinate" in names.values()
    assert "pancreas_uncinate" not in {lesion["name"] for lesion in load_lesions()}
    assert not any("pancrea" in lesion["location"] for lesion in load_lesions())
    uncinate_mean, uncinate_max = organ_suv["uncinate process"]
    assert uncinate_mean > organ_suv["pancreas (rest)"][0]  # a focus within the pancreas
    assert uncinate_max <= 1.10 * refs[0]  # "only at liver level" (course convention: equal within 10 %)
    assert uncinate_max < min(row["suv_max"] for row in table.values())  # "far below the lesions"
    assert MAPELLI_UNCINATE_SUVMAX[0] <= uncinate_max <= MAPELLI_UNCINATE_SUVMAX[1]


def test_focus_below_the_spleen_is_an_accessory_spleen_that_reads_like_a_lesion(
    spec, key, notebook, labels, names, suv, refs, organ_suv
):
    assert spec["tasks"]["splenule_is_lesion"]["expected"] is False
    assert key.check("splenule_is_lesion", False).correct
    splenule_mm = load_landmarks()[notebook_constant(notebook, "TOUR")["accessory spleen"]]
    label_id = label_at(labels, splenule_mm)
    assert names[label_id] == "accessory_spleen"  # the focus the notebook shows is the splenule
    assert "accessory_spleen" not in {lesion["name"] for lesion in load_lesions()}
    structures = {structure.name: structure for structure in build_patient()}
    assert structures["accessory_spleen"].tissue == structures["spleen"].tissue  # spleen uptake, both tracers
    assert not structures["accessory_spleen"].is_lesion
    liver, spleen = refs
    focus_max = suv_max(suv, lesion_mask(labels, label_id, suv))  # measured like every lesion of the table
    assert focus_max > 1.6 * liver  # "well above the liver's mean uptake (nearly twice)"
    assert krenning_score(focus_max, liver, spleen) == 3  # "would give it a 3, like a metastasis"
    # the notebook's own VOI (voxels at least half inside) reads below the spleen: partial volume
    focus = label_mask(labels, label_id, suv, min_fraction=0.5)
    assert suv_max(suv, focus) < organ_suv["spleen"][0] < organ_suv["spleen"][1]


def test_recovery_task_matches_the_data(spec, key, recovery):
    observed = recovery["liver_lesion_5"]["rc_observed"]
    assert spec["tasks"]["recovery_liver_lesion_5"]["expected"] == pytest.approx(observed, abs=0.005)
    assert key.check("recovery_liver_lesion_5", round(observed, 2)).correct
    assert 0.13 < observed < 0.20  # "about a sixth" (task explanation, quiz q3)


# ------------------------------------------------------------------------------------------- statements
def test_scores_as_the_notebook_states_them(table, refs):
    assert {name: row["krenning"] for name, row in table.items() if row["krenning"] not in (3, 4)} == {}
    assert table["presacral_mass"]["krenning"] == 4
    assert table["precoccygeal_mass"]["krenning"] == 3
    assert abs(table["precoccygeal_mass"]["max_to_spleen"] - 1.0) <= 0.10  # "within 10 % of the spleen"
    liver = {name: row for name, row in table.items() if name.startswith("liver_lesion")}
    largest = sorted(liver, key=lambda name: -liver[name]["volume_ml"])[:3]
    assert {name for name, row in liver.items() if row["krenning"] == 4} == set(largest)
    for name in largest:  # "in that range": Kuyumcu 2013 mean SUVmax of NET liver metastases, 28.72
        assert abs(liver[name]["suv_max"] / 28.72 - 1.0) < 0.25, name


def test_reference_regions_read_higher_than_whole_organs(refs, organ_suv):
    liver, spleen = refs
    assert liver > organ_suv["liver"][0]
    assert spleen > organ_suv["spleen"][0]


def test_biodistribution_follows_the_published_order(organ_suv):
    mean = {organ: values[0] for organ, values in organ_suv.items()}
    order = ["spleen", "kidneys", "liver"]
    assert [mean[o] for o in order] == sorted((mean[o] for o in order), reverse=True)
    assert mean["adrenals"] < mean["kidneys"]  # thin glands: partial volume lowers their mean
    assert max(mean["pancreas (rest)"], mean["thyroid"], mean["uterus"]) < mean["liver"]  # "lower"
    assert mean["salivary glands"] < min(mean["thyroid"], mean["pituitary"])  # lowest of the glands
    assert max(organ_suv, key=lambda organ: organ_suv[organ][1]) == "bladder (urine)"  # the hottest voxels
    kidneys_mean, kidneys_max = organ_suv["kidneys"]
    assert kidneys_max > 1.3 * kidneys_mean  # the renal pelvis (urine) lifts the kidneys' SUVmax
    assert organ_suv["pituitary"][1] < 0.6 * KUYUMCU_PITUITARY_SUVMAX  # partial volume
    for organ in ("liver", "pancreas (rest)", "uterus"):  # SUVmax borrowed from a hot neighbour
        assert organ_suv[organ][1] > 2 * organ_suv[organ][0], organ


def test_organ_tour_lands_on_the_named_structures(notebook, labels, names):
    tour, points = notebook_constant(notebook, "TOUR"), load_landmarks()
    assert set(tour) == set(LANDMARK_STRUCTURES)
    for organ, landmark in tour.items():
        assert names.get(label_at(labels, points[landmark])) == LANDMARK_STRUCTURES[organ], organ


def test_viewer_opens_on_the_left_adrenal_and_figures_use_constant_positions(code, labels, names):
    assert 'viewer.position_mm = points["adrenal_left"]' in code
    assert names[label_at(labels, load_landmarks()["adrenal_left"])] == "adrenal_left"
    # a static figure drawn at the live viewer's position would change when the viewer moves
    assert "position_mm=viewer.position_mm" not in code
    assert 'viewer.position_mm = points["uncinate_process"]' in code  # parked after the organ tour


def test_figures_use_the_display_helpers(code):
    assert "def crop(" not in code and "def fused(" not in code  # no copies of utils.display code
    assert "crop_mm(" in code and "fusion_figure(" in code
    assert 'tracer="68Ga-DOTATATE"' in code  # the static MIP is titled with the full tracer name
    assert "Figure(" not in code.replace("_figure(", "")  # hand-built charts live in utils.plots


def test_scan_is_inside_the_netspot_label():
    sidecar = load_sidecar("pet_dotatate")
    injected_mbq = sidecar["InjectedRadioactivity"] / 1e6
    assert injected_mbq <= 200
    assert injected_mbq / sidecar["BodyWeight"] == pytest.approx(2.0, abs=0.05)
    assert 40 <= (sidecar["ScanStart"] - sidecar["InjectionStart"]) / 60 <= 90


def test_partial_volume_statements(recovery, refs):
    liver, spleen = refs
    same_truth = [row for name, row in recovery.items() if name.startswith("liver") and row["true_suv"] == 22]
    assert len(same_truth) == 5  # "five of the liver lesions have the same uptake, SUV 22"
    assert 22 == pytest.approx(spleen, abs=0.5)  # "the level of the spleen"
    measured = [row["suvmax"] for row in same_truth]
    assert 9.5 < min(measured) < 11 and 18 < max(measured) < 21  # "from about 10 to 20"
    for row in recovery.values():
        if row["diameter_mm"] < 15:
            assert row["suvmax"] < row["true_suv"], row["name"]  # small lesions read low
        if row["diameter_mm"] > 20:
            assert row["suvmax"] > row["true_suv"], row["name"]  # SUVmax of large lesions overshoots
    smallest = min(recovery.values(), key=lambda row: row["diameter_mm"])
    assert smallest["name"] == "liver_lesion_5"
    assert 1.10 * liver < smallest["suvmax"] < 1.5 * liver  # "only just above the liver"


def test_notebook_frame(notebook):
    text = "\n".join(c.source for c in notebook.cells)
    assert notebook.cells[0].source.startswith("# 04 · ")
    assert "labpath=notebooks%2F04_dotatate_pet_ct.ipynb" in text
    for heading in ("## Overview", "## Setup", "## Quiz", "## Key points", "## What's next", "## References"):
        assert heading in text, heading
    assert "Time to learn" in text and "Learning objectives" in text
    assert notebook.cells[-1].source.rstrip().endswith("*Synthetic data, not for clinical use.*")
    references = text.split("## References", 1)[1]
    assert len(re.findall(r"^\d+\. ", references, flags=re.M)) >= 10
    assert references.count("DOI") >= 10


def test_setup_cell_finds_utils_from_any_folder(notebook):
    setup = next(c.source for c in notebook.cells if c.cell_type == "code")
    assert setup.startswith(
        "import sys\nfrom pathlib import Path\n\n"
        'sys.path.insert(0, str(next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "utils").is_dir())))'
    )
    assert "04_dotatate_pet_ct.json" in setup
