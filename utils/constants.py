"""Physical constants and scanner choices of the course, each with its source or marked as a course choice.

One place for every number that the simulated scanners (``utils.phantom``) and the quantification helpers
(``utils.pet``) share, so the data and the maths that reads them cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

#: Physical half-lives (min). F-18 109.77 min (ENSDF, 109.771(20) min). Ga-68 67.71 min, the tabulated
#: value the course data use; the 2019 evaluation gives 67.83(20) min (Kuzmenko NK et al., Appl Radiat
#: Isot 2019;152:188), a 0.1 % difference after an hour - never round it to "68 min". Lu-177 6.647 d
#: (EJNMMI Phys 2020, DOI 10.1186/s40658-020-00301-2, Table 1).
HALF_LIFE_MIN: Mapping[str, float] = MappingProxyType({"F-18": 109.77, "Ga-68": 67.71, "Lu-177": 6.647 * 24 * 60})

#: FWHM of a Gaussian divided by its standard deviation: 2 sqrt(2 ln 2).
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))

#: Reconstructed system resolution of a modern PET/CT for F-18, mm FWHM (course choice, typical of clinical
#: whole-body reconstructions; NEMA point-source values are 4-5 mm).
PET_SYSTEM_FWHM_MM = 4.5
#: Extra blur from positron range, mm FWHM, modelled as a Gaussian (a teaching simplification: the real
#: kernel is sharply peaked with long tails). Mean positron ranges in water are about 0.6 mm for F-18 and
#: 2.9 mm for Ga-68 (Conti M, Eriksson L, EJNMMI Phys 2016, DOI 10.1186/s40658-016-0144-5); the FWHM
#: values below are course choices that give Ga-68 images visibly blurrier than F-18 ones.
POSITRON_RANGE_FWHM_MM: Mapping[str, float] = MappingProxyType({"F-18": 0.5, "Ga-68": 3.5})
#: Gaussian post-reconstruction filter, mm FWHM (course choice).
PET_POSTFILTER_FWHM_MM = 3.5
#: Expected counts per PET voxel at SUV 1 (course choice): sets the noise, variance = mean. DOTATATE scans
#: use less activity and Ga-68 emits fewer positrons per decay (89 %), so they are noisier.
COUNTS_PER_SUV: Mapping[str, float] = MappingProxyType({"FDG": 30.0, "DOTATATE": 8.0})

SECONDS_PER_MIN = 60.0
GRAMS_PER_KG = 1000.0


def sigma_from_fwhm(fwhm: float) -> float:
    """Standard deviation of a Gaussian with the given FWHM (same units)."""
    return fwhm / FWHM_PER_SIGMA
