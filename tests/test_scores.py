"""utils.scores: every Krenning boundary, dual-tracer categories, NETPET grades, the concordance table."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from utils import scores
from utils.scores import (
    FDG_ABOVE_SSTR,
    FDG_BELOW_SSTR,
    FDG_EQUALS_SSTR,
    SSTR_NEG_FDG_NEG,
    SSTR_NEG_FDG_POS,
    SSTR_POS_FDG_NEG,
)

LIVER, SPLEEN = 10.0, 20.0


# --- Krenning ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lesion", "score"),
    [
        (0.0, 0),  # no uptake at all
        (0.1, 1),  # some uptake, much lower than liver
        (4.99, 1),  # just under half the liver: "much lower"
        (5.0, 2),  # exactly half the liver is not "much lower" (that needs < 0.5 x liver)
        (9.0, 2),  # slightly lower than liver
        (10.0, 2),  # equal to liver
        (11.0, 2),  # +10 %: still "equal" (boundary belongs to the lower score)
        (11.01, 3),  # clearly above liver
        (20.0, 3),  # equal to spleen is not "above spleen"
        (22.0, 3),  # +10 % over spleen: still "equal"
        (22.01, 4),  # above spleen
        (60.0, 4),
    ],
)
def test_krenning_every_boundary(lesion, score):
    assert scores.krenning_score(lesion, LIVER, SPLEEN) == score


def test_krenning_half_liver_boundary_with_case_values():
    assert scores.krenning_score(0.5 * 7.5, 7.5, 21.0) == 2
    assert scores.krenning_score(0.5 * 7.5 - 1e-6, 7.5, 21.0) == 1


def test_krenning_boundary_typed_by_hand_is_exact():
    # 8.25 / 7.5 is 1.1000000000000001 in floating point; a learner typing 8.25 must get the boundary score
    assert scores.krenning_score(8.25, 7.5, 21.0) == 2


def test_krenning_with_background():
    assert scores.krenning_score(3.0, LIVER, SPLEEN, background_uptake=3.0) == 0
    assert scores.krenning_score(3.01, LIVER, SPLEEN, background_uptake=3.0) == 1
    assert scores.krenning_score(6.0, LIVER, SPLEEN, background_uptake=3.0) == 2


def test_krenning_without_equal_band():
    assert scores.krenning_score(10.01, LIVER, SPLEEN, equal_tolerance=0.0) == 3
    assert scores.krenning_score(20.01, LIVER, SPLEEN, equal_tolerance=0.0) == 4
    assert scores.krenning_score(10.0, LIVER, SPLEEN, equal_tolerance=0.0) == 2


def test_krenning_case_values():
    # DOTATATE: liver ~7.5, spleen ~21, liver metastases ~20-30, masses ~25 (CONTRACT typical values)
    assert scores.krenning_score(25.0, 7.5, 21.0) == 4
    assert scores.krenning_score(20.0, 7.5, 21.0) == 3


@settings(max_examples=60, deadline=None)
@given(a=st.floats(0.0, 100.0), b=st.floats(0.0, 100.0))
def test_krenning_never_falls_when_uptake_rises(a, b):
    low, high = sorted((a, b))
    assert scores.krenning_score(low, LIVER, SPLEEN) <= scores.krenning_score(high, LIVER, SPLEEN)


@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        ((-1.0, LIVER, SPLEEN), {}, "lesion_uptake"),
        ((float("nan"), LIVER, SPLEEN), {}, "lesion_uptake"),
        ((5.0, 0.0, SPLEEN), {}, "liver_uptake"),
        ((5.0, LIVER, -1.0), {}, "spleen_uptake"),
        ((5.0, LIVER, LIVER), {}, "spleen_uptake"),
        ((5.0, LIVER, SPLEEN), {"equal_tolerance": -0.1}, "equal_tolerance"),
        ((5.0, LIVER, SPLEEN), {"much_lower_fraction": 1.5}, "much_lower_fraction"),
        ((1.0, LIVER, SPLEEN), {"background_uptake": float("nan")}, "background_uptake"),
    ],
)
def test_krenning_rejects_nonsense(args, kwargs, name):
    with pytest.raises(ValueError, match=name):
        scores.krenning_score(*args, **kwargs)


# --- lesion categories ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fdg", "sstr", "category"),
    [
        (1.5, 5.0, SSTR_NEG_FDG_NEG),  # both at or below background (FDG bkg 2, SSTR bkg 7.5)
        (1.5, 25.0, SSTR_POS_FDG_NEG),  # classic well-differentiated liver metastasis of the case
        (4.0, 30.0, FDG_BELOW_SSTR),  # FDG 2x, SSTR 4x background
        (8.0, 30.0, FDG_EQUALS_SSTR),  # 4x and 4x
        (12.0, 30.0, FDG_ABOVE_SSTR),  # 6x vs 4x
        (8.0, 7.5, SSTR_NEG_FDG_POS),  # SSTR at background, FDG 4x: the dangerous clone
    ],
)
def test_lesion_categories(fdg, sstr, category):
    assert scores.lesion_category(fdg, 2.0, sstr, 7.5) == category


def test_positive_means_above_background_not_above_liver():
    # SSTR 1.5x a low background but below liver is still SSTR-positive (NETPET: > background)
    assert scores.lesion_category(1.0, 2.0, 3.0, 2.0) == SSTR_POS_FDG_NEG


def test_lesion_category_rejects_nonsense():
    with pytest.raises(ValueError, match="fdg_background"):
        scores.lesion_category(5.0, 0.0, 20.0, 7.5)
    with pytest.raises(ValueError, match="sstr_suv"):
        scores.lesion_category(5.0, 2.0, -1.0, 7.5)


# --- NETPET -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("categories", "grade"),
    [
        ([SSTR_NEG_FDG_NEG, SSTR_NEG_FDG_NEG], "P0"),
        ([SSTR_POS_FDG_NEG] * 5, "P1"),
        ([SSTR_POS_FDG_NEG, SSTR_NEG_FDG_NEG], "P1"),
        ([SSTR_POS_FDG_NEG, FDG_BELOW_SSTR], "P2"),
        ([FDG_BELOW_SSTR, FDG_EQUALS_SSTR], "P3"),
        ([FDG_ABOVE_SSTR, FDG_ABOVE_SSTR, SSTR_POS_FDG_NEG], "P4a"),
        ([FDG_ABOVE_SSTR] * 3, "P4b"),
        ([SSTR_POS_FDG_NEG, SSTR_NEG_FDG_POS], "P5"),
        ([FDG_ABOVE_SSTR] * 4 + [SSTR_NEG_FDG_POS], "P5"),  # one SSTR-/FDG+ lesion outranks everything
    ],
)
def test_netpet_grades(categories, grade):
    assert scores.netpet_score(categories) == grade


def test_netpet_on_rows_and_rejects_nonsense():
    assert scores.netpet_score([{"lesion": "a", "category": FDG_EQUALS_SSTR}]) == "P3"
    with pytest.raises(ValueError, match="empty"):
        scores.netpet_score([])
    with pytest.raises(ValueError, match="category"):
        scores.netpet_score(["SSTR+"])


# --- concordance table ----------------------------------------------------------------------------
def test_concordance_table_of_the_case():
    lesions = [
        {"name": "presacral_mass", "fdg_suvmax": 8.0, "dotatate_suvmax": 30.0},
        {"name": "liver_lesion_1", "fdg_suvmax": 1.6, "dotatate_suvmax": 24.0},
        {"name": "liver_lesion_2", "fdg_suvmax": 1.8, "dotatate_suvmax": 21.0},
    ]
    table = scores.concordance_table(lesions, fdg_liver_suv=2.0, dotatate_liver_suv=7.5)
    assert [row["lesion"] for row in table] == ["presacral_mass", "liver_lesion_1", "liver_lesion_2"]
    first = table[0]
    assert set(first) == {
        "lesion",
        "fdg_suvmax",
        "dotatate_suvmax",
        "fdg_to_liver",
        "dotatate_to_liver",
        "category",
    }
    assert first["fdg_to_liver"] == pytest.approx(4.0)
    assert first["dotatate_to_liver"] == pytest.approx(4.0)
    assert first["category"] == FDG_EQUALS_SSTR
    assert table[1]["category"] == table[2]["category"] == SSTR_POS_FDG_NEG
    assert scores.netpet_score(table) == "P3"


def test_concordance_table_uses_a_local_background_when_given():
    # Pelvic mass against a low pelvic background: FDG 8 / 1 = 8x vs SSTR 30 / 5 = 6x -> FDG > SSTR
    lesions = [
        {
            "name": "mass",
            "fdg_suvmax": 8.0,
            "dotatate_suvmax": 30.0,
            "fdg_background": 1.0,
            "dotatate_background": 5.0,
        }
    ]
    table = scores.concordance_table(lesions, 2.0, 7.5)
    assert table[0]["category"] == FDG_ABOVE_SSTR
    assert table[0]["fdg_to_liver"] == pytest.approx(4.0)  # the ratio columns stay "to liver"
    assert scores.netpet_score(table) == "P4a"


def test_concordance_table_classifies_on_suvpeak_when_given():
    # A FDG-negative liver lesion whose noisiest voxel (SUVmax 2.5) lies above liver (2.1) but whose
    # SUVpeak (2.05) does not: with peaks the lesion stays FDG-negative.
    noisy = {"name": "liver_lesion_1", "fdg_suvmax": 2.5, "dotatate_suvmax": 33.0}
    assert scores.concordance_table([noisy], 2.1, 7.5)[0]["category"] == FDG_BELOW_SSTR
    row = scores.concordance_table([{**noisy, "fdg_suvpeak": 2.05, "dotatate_suvpeak": 30.0}], 2.1, 7.5)[0]
    assert row["category"] == SSTR_POS_FDG_NEG
    assert row["fdg_suvmax"] == 2.5 and row["fdg_suvpeak"] == 2.05
    assert row["fdg_to_liver"] == pytest.approx(2.5 / 2.1)


def test_concordance_table_rejects_nonsense():
    with pytest.raises(ValueError, match="name"):
        scores.concordance_table([{"fdg_suvmax": 1.0, "dotatate_suvmax": 1.0}], 2.0, 7.5)
    with pytest.raises(ValueError, match="fdg_liver_suv"):
        scores.concordance_table([{"name": "a", "fdg_suvmax": 1.0, "dotatate_suvmax": 1.0}], 0.0, 7.5)
    with pytest.raises(ValueError, match="dotatate_suvmax"):
        scores.concordance_table(
            [{"name": "a", "fdg_suvmax": 1.0, "dotatate_suvmax": float("nan")}], 2.0, 7.5
        )
    with pytest.raises(ValueError, match="dotatate_suvmax"):
        scores.concordance_table([{"name": "a", "fdg_suvmax": 1.0}], 2.0, 7.5)
    with pytest.raises(ValueError, match="fdg_suvpeak"):
        scores.concordance_table(
            [{"name": "a", "fdg_suvmax": 1.0, "dotatate_suvmax": 1.0, "fdg_suvpeak": None}], 2.0, 7.5
        )
    with pytest.raises(ValueError, match="empty"):
        scores.concordance_table([], 2.0, 7.5)
