"""utils.dosimetry: TAC fits against closed forms, local-deposition dose, PRRT course doses and limits."""

import math

import numpy as np
import pytest

from utils import dosimetry

TIMES_H = np.array([4.0, 24.0, 48.0, 96.0, 168.0])


def test_constants_match_facts():
    assert dosimetry.ACTIVITY_PER_CYCLE_GBQ == 7.4 and dosimetry.CYCLES == 4
    assert dosimetry.LU177_HALF_LIFE_H == pytest.approx(6.647 * 24)
    assert dosimetry.GY_PER_GBQ["kidneys"] == 0.38
    assert dosimetry.GY_PER_GBQ["bone_marrow"] * 7.4 == pytest.approx(0.42)
    assert dosimetry.DOSE_LIMITS_GY == {"kidneys": 23.0, "bone_marrow": 2.0}


def test_mono_exponential_fit_and_closed_form_integral():
    a0, t_eff = 100.0, 60.0  # MBq, h
    activity = a0 * np.exp(-math.log(2) / t_eff * TIMES_H)
    fit = dosimetry.fit_time_activity(TIMES_H, activity)
    assert fit.model == "mono"
    assert fit.amplitudes_mbq[0] == pytest.approx(a0, rel=1e-6)
    assert fit.effective_half_lives_h[0] == pytest.approx(t_eff, rel=1e-6)
    # Integral of A0 exp(-kt) over 0..inf = A0 / k = A0 T_eff / ln 2 = 100 x 60 / 0.693147 = 8656.2 MBq h
    assert fit.time_integrated_activity_mbq_h == pytest.approx(8656.17, rel=1e-5)
    np.testing.assert_allclose(fit.activity_mbq(TIMES_H), activity, rtol=1e-6)


def test_integral_matches_numeric_quadrature():
    fit = dosimetry.fit_time_activity(TIMES_H, 50.0 * np.exp(-0.02 * TIMES_H))
    t = np.linspace(0, 3000, 300_001)
    assert fit.time_integrated_activity_mbq_h == pytest.approx(np.trapezoid(fit.activity_mbq(t), t), rel=1e-4)


def test_local_dose_of_a_known_curve_by_hand():
    # TIA = 8656.17 MBq h = 8656.17e6 x 3600 Bq s = 3.11622e13 decays; E = 133.3 keV = 2.13570e-14 J
    # D = 3.11622e13 x 2.13570e-14 J / 0.010 kg = 66.55 Gy for a 10-g tumour
    fit = dosimetry.fit_time_activity(TIMES_H, 100.0 * np.exp(-math.log(2) / 60.0 * TIMES_H))
    dose = dosimetry.local_absorbed_dose_gy(fit.time_integrated_activity_mbq_h, mass_g=10.0)
    assert dose == pytest.approx(66.55, rel=1e-3)
    assert dosimetry.local_absorbed_dose_gy(8656.17, 20.0) == pytest.approx(dose / 2, rel=1e-5)


def test_noisy_mono_fit_is_close():
    rng = np.random.default_rng(0)
    truth = 80.0 * np.exp(-0.015 * TIMES_H)
    fit = dosimetry.fit_time_activity(TIMES_H, truth * rng.normal(1.0, 0.03, TIMES_H.size))
    assert fit.time_integrated_activity_mbq_h == pytest.approx(80.0 / 0.015, rel=0.08)


def test_bi_exponential_fit_recovers_both_phases():
    times = np.array([1.0, 4.0, 24.0, 48.0, 72.0, 120.0, 168.0])
    activity = dosimetry.bi_exponential(times, 60.0, 0.3, 40.0, 0.012)
    fit = dosimetry.fit_time_activity(times, activity, model="bi")
    phases = sorted(zip(fit.rates_per_h, fit.amplitudes_mbq, strict=True), reverse=True)
    assert phases[0] == pytest.approx((0.3, 60.0), rel=1e-3)
    assert phases[1] == pytest.approx((0.012, 40.0), rel=1e-3)
    assert fit.time_integrated_activity_mbq_h == pytest.approx(60.0 / 0.3 + 40.0 / 0.012, rel=1e-3)


@pytest.mark.parametrize(
    ("times", "activity", "kwargs", "name"),
    [
        ([-1.0, 24.0], [10.0, 5.0], {}, "times_h"),
        ([4.0, 24.0], [10.0, 0.0], {}, "activity_mbq"),
        ([4.0, 24.0], [10.0, float("nan")], {}, "activity_mbq"),
        ([4.0, 24.0, 48.0], [10.0, 5.0], {}, "equal in length"),
        ([4.0], [10.0], {}, "time points"),
        ([4.0, 24.0, 48.0], [10.0, 5.0, 2.0], {"model": "bi"}, "time points"),
        ([4.0, 24.0], [10.0, 5.0], {"model": "tri"}, "model"),
        ([4.0, 24.0, 48.0], [5.0, 5.0, 5.0], {}, "decay-corrected"),
        ([4.0, 200.0], [10.0, 5.0], {}, "decay-corrected"),  # 196 h effective > 159.5 h physical
        ([4.0, 200.0], [10.0, 5.0], {"physical_half_life_h": -1.0}, "physical_half_life_h"),
    ],
)
def test_fit_rejects_nonsense(times, activity, kwargs, name):
    with pytest.raises(ValueError, match=name):
        dosimetry.fit_time_activity(np.array(times), np.array(activity), **kwargs)


def test_local_dose_rejects_nonsense():
    with pytest.raises(ValueError, match="mass_g"):
        dosimetry.local_absorbed_dose_gy(100.0, 0.0)
    with pytest.raises(ValueError, match="tia_mbq_h"):
        dosimetry.local_absorbed_dose_gy(-1.0, 10.0)


def test_standard_course_stays_within_limits():
    rows = {row.organ: row for row in dosimetry.course_doses()}
    kidneys, marrow = rows["kidneys"], rows["bone_marrow"]
    # kidneys: 0.38 Gy/GBq x 7.4 GBq = 2.812 Gy per cycle, x 4 = 11.248 Gy of 23 Gy
    assert kidneys.per_cycle_gy == pytest.approx(2.812)
    assert kidneys.cumulative_gy == pytest.approx(11.248)
    assert kidneys.fraction_of_limit == pytest.approx(11.248 / 23)
    assert kidneys.within_limit is True
    # marrow: 0.42 Gy per cycle x 4 = 1.68 Gy of 2 Gy
    assert marrow.cumulative_gy == pytest.approx(1.68)
    assert marrow.within_limit is True


def test_course_with_tumour_and_a_high_kidney_coefficient():
    rows = dosimetry.course_doses({"kidneys": 0.8, "tumour": 4.0})
    kidneys, tumour = rows
    assert kidneys.cumulative_gy == pytest.approx(0.8 * 7.4 * 4) and kidneys.within_limit is False
    assert tumour.limit_gy is None and tumour.within_limit is None and tumour.fraction_of_limit is None
    assert tumour.cumulative_gy == pytest.approx(4.0 * 7.4 * 4)


def test_course_scales_with_cycles_and_activity():
    two = {r.organ: r for r in dosimetry.course_doses(cycles=2, activity_per_cycle_gbq=3.7)}
    assert two["kidneys"].cumulative_gy == pytest.approx(0.38 * 3.7 * 2)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"cycles": 0}, "cycles"),
        ({"cycles": 2.5}, "cycles"),
        ({"activity_per_cycle_gbq": 0.0}, "activity_per_cycle_gbq"),
        ({"gy_per_gbq": {"kidneys": -0.1}}, "kidneys"),
    ],
)
def test_course_rejects_nonsense(kwargs, name):
    with pytest.raises(ValueError, match=name):
        dosimetry.course_doses(**kwargs)
