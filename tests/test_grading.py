"""utils.grading: every WHO edge, the higher-grade rule, Ki-67 CI, the IHC generator and counter."""

import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import spatial, stats

from utils import grading
from utils.grading import who_grade

ORDER = {"G1": 1, "G2": 2, "G3": 3}


# --- WHO grade -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ki67", "grade"),
    [
        (0.0, "G1"),
        (2.9, "G1"),
        (3.0, "G2"),
        (10.0, "G2"),
        (20.0, "G2"),
        (20.1, "G3"),
        (21.0, "G3"),  # the case: Ki-67 20-22 %, well differentiated = NET G3 at the G2/G3 border
        (22.0, "G3"),
        (55.0, "G3"),  # WHO G3 has no upper Ki-67 limit (55 % is NETTER-2's entry band, not WHO)
        (100.0, "G3"),
    ],
)
def test_ki67_edges(ki67, grade):
    assert who_grade(ki67) == grade


@pytest.mark.parametrize(
    ("mitoses", "grade"),
    [(0.0, "G1"), (1.9, "G1"), (2.0, "G2"), (20.0, "G2"), (20.1, "G3"), (21.0, "G3")],
)
def test_mitosis_edges_with_low_ki67(mitoses, grade):
    assert who_grade(1.0, mitoses_per_2mm2=mitoses) == grade


def test_discordant_indices_higher_grade_wins_both_ways():
    assert who_grade(25.0, mitoses_per_2mm2=1.0) == "G3"  # Ki-67 drives
    assert who_grade(1.0, mitoses_per_2mm2=25.0) == "G3"  # mitoses drive
    assert who_grade(2.0, mitoses_per_2mm2=5.0) == "G2"
    assert who_grade(15.0, mitoses_per_2mm2=0.0) == "G2"


def test_poorly_differentiated_is_nec_whatever_the_numbers():
    assert who_grade(2.0, differentiation="poorly") == "NEC"
    assert who_grade(2.0, mitoses_per_2mm2=0.0, differentiation="poorly") == "NEC"
    assert who_grade(80.0, mitoses_per_2mm2=50.0, differentiation="poorly") == "NEC"
    assert who_grade(80.0, mitoses_per_2mm2=50.0, differentiation="well") == "G3"  # NET G3, not NEC


@settings(max_examples=80, deadline=None)
@given(
    ki67=st.tuples(st.floats(0, 100), st.floats(0, 100)),
    mitoses=st.tuples(st.floats(0, 200), st.floats(0, 200)),
)
def test_grade_never_decreases_when_an_index_rises(ki67, mitoses):
    k_lo, k_hi = sorted(ki67)
    m_lo, m_hi = sorted(mitoses)
    base = ORDER[who_grade(k_lo, m_lo)]
    assert ORDER[who_grade(k_hi, m_lo)] >= base
    assert ORDER[who_grade(k_lo, m_hi)] >= base
    assert ORDER[who_grade(k_hi)] >= ORDER[who_grade(k_lo)]


@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        ((-0.1,), {}, "ki67_percent"),
        ((100.1,), {}, "ki67_percent"),
        ((float("nan"),), {}, "ki67_percent"),
        ((5.0,), {"mitoses_per_2mm2": -1.0}, "mitoses_per_2mm2"),
        ((5.0,), {"mitoses_per_2mm2": float("nan")}, "mitoses_per_2mm2"),
        ((5.0,), {"differentiation": "moderate"}, "differentiation"),
        ((5.0,), {"differentiation": "Well"}, "differentiation"),
    ],
)
def test_who_grade_rejects_nonsense(args, kwargs, name):
    with pytest.raises(ValueError, match=name):
        who_grade(*args, **kwargs)


# --- Ki-67 index ---------------------------------------------------------------------------------------
def test_ki67_index_and_clopper_pearson_interval():
    result = grading.ki67_index(105, 500)
    assert result.percent == pytest.approx(21.0)
    # Clopper-Pearson from the beta distribution, independently of binomtest
    low = stats.beta.ppf(0.025, 105, 500 - 105 + 1)
    high = stats.beta.ppf(0.975, 105 + 1, 500 - 105)
    assert result.ci_low_percent == pytest.approx(100 * low, rel=1e-6)
    assert result.ci_high_percent == pytest.approx(100 * high, rel=1e-6)
    assert 17.5 < result.ci_low_percent < 21.0 < result.ci_high_percent < 25.0
    assert "21.0 %" in str(result) and "95 % CI" in str(result)


def test_ki67_interval_shows_the_borderline_problem():
    # 21 % of 500 cells: the 95 % CI reaches below 20 %, so G2 versus G3 is not settled by one count.
    assert grading.ki67_index(105, 500).ci_low_percent < 20.0


def test_ki67_zero_and_all_positive():
    assert grading.ki67_index(0, 600).ci_low_percent == 0.0
    assert grading.ki67_index(600, 600).ci_high_percent == 100.0


def test_ki67_warns_below_500_cells_only():
    with pytest.warns(UserWarning, match="500"):
        grading.ki67_index(20, 100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grading.ki67_index(100, 500)


@pytest.mark.parametrize(
    ("positive", "total", "name"),
    [
        (501, 500, "positive"),
        (-1, 500, "positive"),
        (10, 0, "total"),
        (10.5, 500, "positive"),
        (10, float("nan"), "total"),
        (True, 500, "positive"),
    ],
)
def test_ki67_index_rejects_nonsense(positive, total, name):
    with pytest.raises(ValueError, match=name):
        grading.ki67_index(positive, total)


# --- synthetic IHC field and counter ---------------------------------------------------------
def test_field_is_fast_deterministic_and_rgb():
    start = time.perf_counter()
    field = grading.synthetic_ki67_field(21.0, seed=3)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.5
    assert field.image.shape == (512, 512, 3) and field.image.dtype == np.uint8
    again = grading.synthetic_ki67_field(21.0, seed=3)
    assert np.array_equal(field.image, again.image) and np.array_equal(field.positive, again.positive)
    other = grading.synthetic_ki67_field(21.0, seed=4)
    assert not np.array_equal(field.image, other.image)


def test_field_truth_matches_the_request_and_has_enough_cells():
    field = grading.synthetic_ki67_field(21.0, seed=0)
    assert field.n_total >= 500  # WHO counts at least 500 cells
    assert abs(field.ki67_percent - 21.0) <= 100.0 / field.n_total
    assert field.n_positive == round(0.21 * field.n_total)


def test_field_colours_brown_positive_blue_negative():
    field = grading.synthetic_ki67_field(40.0, seed=1)
    r, c = np.round(field.centres_px).astype(int).T
    red, blue = field.image[r, c, 0].astype(int), field.image[r, c, 2].astype(int)
    assert np.all(red[field.positive] > blue[field.positive])  # brown: more red than blue light
    assert np.all(blue[~field.positive] > red[~field.positive])  # haematoxylin blue


def test_field_has_a_hotspot():
    field = grading.synthetic_ki67_field(20.0, seed=2)
    distance = np.linalg.norm(field.centres_px - np.array(field.hotspot_centre_px), axis=1)
    near, far = distance < 0.15 * 512, distance > 0.3 * 512
    assert field.positive[near].mean() > 1.5 * field.positive[far].mean()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ki67", [2.0, 21.0, 60.0])
def test_counter_recovers_the_truth(seed, ki67):
    field = grading.synthetic_ki67_field(ki67, seed=seed)
    count = grading.count_ki67_nuclei(field.image)
    # Stated tolerance: counts within 1 % of the true number of nuclei
    assert abs(count.n_total - field.n_total) <= 0.01 * field.n_total
    assert abs(count.n_positive - field.n_positive) <= 0.01 * field.n_total
    assert count.index().percent == pytest.approx(field.ki67_percent, abs=1.0)


def test_counter_finds_nuclei_where_they_are():
    field = grading.synthetic_ki67_field(30.0, seed=5)
    count = grading.count_ki67_nuclei(field.image)
    distance, _ = spatial.cKDTree(field.centres_px).query(count.centres_px)
    assert distance.max() < 2.0


def test_counter_and_generator_reject_nonsense():
    with pytest.raises(ValueError, match="image_rgb"):
        grading.count_ki67_nuclei(np.zeros((10, 10)))
    with pytest.raises(ValueError, match="ki67_percent"):
        grading.synthetic_ki67_field(120.0)
    with pytest.raises(ValueError, match="shape"):
        grading.synthetic_ki67_field(20.0, shape=(10, 10))
