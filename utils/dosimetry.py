"""177Lu-DOTATATE dosimetry for teaching: time-activity fits, time-integrated activity, absorbed dose per
cycle and over a 4 x 7.4 GBq course, compared with the commonly quoted organ limits."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from scipy import constants, optimize

from .pet import HALF_LIFE_MIN
from .validation import require_choice, require_count, require_finite, require_positive

#: Standard regimen: 7.4 GBq every 8 weeks x 4 (NETTER-1, Strosberg J et al., NEJM 2017;376:125,
#: DOI 10.1056/NEJMoa1607427; Lutathera label).
ACTIVITY_PER_CYCLE_GBQ = 7.4
CYCLES = 4

#: Lu-177 physical half-life in hours (6.647 d; EJNMMI Phys 2020, DOI 10.1186/s40658-020-00301-2).
LU177_HALF_LIFE_H = HALF_LIFE_MIN["Lu-177"] / 60.0
#: Mean beta energy of Lu-177, keV (same source, Table 1).
LU177_MEAN_BETA_KEV = 133.3

#: Absorbed dose per administered activity (Gy/GBq) for 177Lu-DOTATATE, from the sources below.
#: Kidneys: 0.38 +/- 0.19 Gy/GBq per cycle (PMC6300448); Staanum 2021 reports a median of 0.47 Gy/GBq
#: (DOI 10.1186/s40658-021-00422-2) - pass that value to see the spread between centres.
#: Bone marrow: about 0.42 Gy per treatment cycle (EJNMMI Res 2024, DOI 10.1186/s13550-024-01077-7), here
#: taken per standard 7.4 GBq cycle, i.e. 0.42 / 7.4 = 0.057 Gy/GBq.
GY_PER_GBQ: Mapping[str, float] = MappingProxyType(
    {"kidneys": 0.38, "bone_marrow": 0.42 / ACTIVITY_PER_CYCLE_GBQ}
)

#: Commonly used absorbed-dose limits (Gy), both borrowed from external-beam radiotherapy experience:
#: kidneys 23 Gy = whole-kidney TD5/5 of Emami B et al., Int J Radiat Oncol Biol Phys 1991;21:109;
#: bone marrow 2 Gy as quoted by Bergsma H et al., EJNMMI 2016, DOI 10.1007/s00259-015-3193-4.
#: They are not PRRT-derived thresholds.
DOSE_LIMITS_GY: Mapping[str, float] = MappingProxyType({"kidneys": 23.0, "bone_marrow": 2.0})

MODELS = ("mono", "bi")


def mono_exponential(t_h: np.ndarray, a0_mbq: float, rate_per_h: float) -> np.ndarray:
    """A(t) = A0 exp(-k t): activity (MBq) at times ``t_h`` (h)."""
    return a0_mbq * np.exp(-rate_per_h * np.asarray(t_h, dtype=float))


def bi_exponential(
    t_h: np.ndarray, a1_mbq: float, rate1_per_h: float, a2_mbq: float, rate2_per_h: float
) -> np.ndarray:
    """A(t) = A1 exp(-k1 t) + A2 exp(-k2 t): activity (MBq) at times ``t_h`` (h), fast plus slow phase."""
    return mono_exponential(t_h, a1_mbq, rate1_per_h) + mono_exponential(t_h, a2_mbq, rate2_per_h)


@dataclass(frozen=True)
class TacFit:
    """A fitted time-activity curve: ``model`` ("mono"/"bi") and its amplitudes (MBq) and rates (1/h)."""

    model: str
    amplitudes_mbq: tuple[float, ...]
    rates_per_h: tuple[float, ...]

    def activity_mbq(self, t_h: float | np.ndarray) -> np.ndarray:
        """Activity (MBq) predicted at times ``t_h`` (h)."""
        t = np.asarray(t_h, dtype=float)
        return sum(
            mono_exponential(t, a, k) for a, k in zip(self.amplitudes_mbq, self.rates_per_h, strict=True)
        )

    @property
    def effective_half_lives_h(self) -> tuple[float, ...]:
        """Effective half-life (h) of each exponential phase: ln 2 / rate."""
        return tuple(np.log(2.0) / k for k in self.rates_per_h)

    @property
    def time_integrated_activity_mbq_h(self) -> float:
        """Time-integrated activity from 0 to infinity (MBq h): the closed form sum of A_i / k_i."""
        return float(sum(a / k for a, k in zip(self.amplitudes_mbq, self.rates_per_h, strict=True)))


def fit_time_activity(
    times_h: np.ndarray,
    activity_mbq: np.ndarray,
    model: str = "mono",
    *,
    physical_half_life_h: float | None = LU177_HALF_LIFE_H,
) -> TacFit:
    """Fit a mono- or bi-exponential (scipy curve_fit) to activities (MBq) measured at times (h).

    Activities are as measured (not decay-corrected), so the fitted rates are effective rates: physical decay
    plus biological clearance. An effective half-life can therefore never exceed the physical one (default
    Lu-177's); a fit that does (typically decay-corrected input, or a flat curve whose integral would be
    infinite) is rejected. Pass ``physical_half_life_h=None`` to skip that check. Needs >= 2 time points for
    "mono" and >= 4 for "bi"; amplitudes and rates are kept >= 0.
    """
    kind = require_choice("model", model, MODELS)
    t = np.atleast_1d(np.asarray(require_finite("times_h", times_h), dtype=float))
    a = np.atleast_1d(np.asarray(require_positive("activity_mbq", activity_mbq), dtype=float))
    if t.shape != a.shape or t.ndim != 1:
        raise ValueError(
            f"times_h and activity_mbq must be 1-D and equal in length, got {t.shape}, {a.shape}"
        )
    if np.any(t < 0):
        raise ValueError(f"times_h must be >= 0 (hours after administration), got {t.tolist()}")
    needed = 2 if kind == "mono" else 4
    if np.unique(t).size < needed:
        raise ValueError(
            f"a {kind}-exponential fit needs at least {needed} distinct time points, got {t.size}"
        )
    # A straight line through log(activity) gives the starting point; curve_fit then fits the activities.
    slope, intercept = np.polyfit(t, np.log(a), 1)
    k0, a0 = max(-slope, 1e-3), float(np.exp(intercept))
    function: Callable[..., np.ndarray]
    if kind == "mono":
        function, p0 = mono_exponential, (a0, k0)
    else:
        function, p0 = bi_exponential, (a0 / 2, 3 * k0, a0 / 2, k0 / 2)
    with warnings.catch_warnings():
        # With as many points as parameters the fit is exact and has no covariance; that is fine here.
        warnings.simplefilter("ignore", optimize.OptimizeWarning)
        params, _ = optimize.curve_fit(function, t, a, p0=p0, bounds=(0.0, np.inf), maxfev=20000)
    amplitudes, rates = tuple(float(p) for p in params[0::2]), tuple(float(p) for p in params[1::2])
    if min(rates) <= 1e-9:
        raise ValueError(
            "the fitted curve does not decrease (a rate of 0): its time integral would be infinite"
        )
    if physical_half_life_h is not None:
        longest_h = np.log(2.0) / min(rates)
        if longest_h > float(require_positive("physical_half_life_h", physical_half_life_h)) * (1 + 1e-6):
            raise ValueError(
                f"the fitted curve falls more slowly (effective half-life {longest_h:.4g} h) than the "
                f"radionuclide decays ({physical_half_life_h:.4g} h): give activities as measured, not "
                "decay-corrected"
            )
    return TacFit(model=kind, amplitudes_mbq=amplitudes, rates_per_h=rates)


def local_absorbed_dose_gy(
    tia_mbq_h: float, mass_g: float, mean_energy_kev: float = LU177_MEAN_BETA_KEV
) -> float:
    """Absorbed dose (Gy) if all beta energy is deposited where it is emitted: TIA x E_mean / mass.

    Fair for a tumour of a few grams or more, because Lu-177 betas travel a mean of 0.67 mm (max 2.2 mm) in
    tissue (Lutathera US PI sect. 2.6); it ignores photons (208 and 113 keV, which mostly escape), conversion
    and Auger electrons, and cross-dose from neighbours. E_mean 133.3 keV: EJNMMI Phys 2020,
    DOI 10.1186/s40658-020-00301-2.
    """
    decays = float(require_positive("tia_mbq_h", tia_mbq_h)) * 1e6 * 3600.0  # MBq h -> Bq s = decays
    energy_j = float(require_positive("mean_energy_kev", mean_energy_kev)) * 1e3 * constants.electron_volt
    return decays * energy_j / (float(require_positive("mass_g", mass_g)) / 1000.0)


@dataclass(frozen=True)
class OrganDose:
    """Dose of one organ over a PRRT course (Gy) and, where one is commonly used, its limit (Gy)."""

    organ: str
    gy_per_gbq: float
    per_cycle_gy: float
    cumulative_gy: float
    limit_gy: float | None

    @property
    def fraction_of_limit(self) -> float | None:
        """Cumulative dose / limit (None when the organ has no limit, e.g. a tumour)."""
        return None if self.limit_gy is None else self.cumulative_gy / self.limit_gy

    @property
    def within_limit(self) -> bool | None:
        """True when the cumulative dose stays at or below the limit (None without a limit)."""
        return None if self.limit_gy is None else self.cumulative_gy <= self.limit_gy


def course_doses(
    gy_per_gbq: Mapping[str, float] | None = None,
    *,
    activity_per_cycle_gbq: float = ACTIVITY_PER_CYCLE_GBQ,
    cycles: int = CYCLES,
) -> list[OrganDose]:
    """Per-cycle and cumulative absorbed dose (Gy) of each organ over a PRRT course, with its limit.

    ``gy_per_gbq`` maps organ -> Gy/GBq (default ``GY_PER_GBQ``: kidneys and bone marrow from the sources cited there);
    add e.g. ``{"tumour": value}`` from ``local_absorbed_dose_gy`` divided by the activity of the cycle.
    Dose adds linearly over cycles; limits are ``DOSE_LIMITS_GY`` (external-beam derived, see there).
    """
    coefficients = dict(GY_PER_GBQ if gy_per_gbq is None else gy_per_gbq)
    activity = float(require_positive("activity_per_cycle_gbq", activity_per_cycle_gbq))
    n_cycles = require_count("cycles", cycles, minimum=1)
    rows = []
    for organ, coefficient in coefficients.items():
        per_cycle = float(require_positive(f"gy_per_gbq[{organ!r}]", coefficient)) * activity
        rows.append(
            OrganDose(
                organ=organ,
                gy_per_gbq=float(coefficient),
                per_cycle_gy=per_cycle,
                cumulative_gy=per_cycle * n_cycles,
                limit_gy=DOSE_LIMITS_GY.get(organ),
            )
        )
    return rows
