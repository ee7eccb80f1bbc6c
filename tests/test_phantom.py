"""The simulated scanners: MR contrast from relaxation times, DWI and ADC, CT noise, PET activity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from utils import constants as c
from utils.anatomy import TISSUES
from utils.build_data import ABD_T2, DOTATATE, DWI, DWI_B, FDG, SAG_T1, SAG_T2
from utils.phantom import CtProtocol, adc_map, ct_image, mr_image, mr_signal, pet_activity
from utils.sampling import Grid


def ranked(names, seq):
    return sorted(names, key=lambda n: mr_signal(TISSUES[n], seq), reverse=True)


def test_t2_weighted_ranks_follow_clinical_images():
    # T2w FSE: fluid > fat > spleen > liver > muscle (de Bazelaire 2004 relaxation times; fat's FSE T2).
    names = ["csf", "fat", "spleen", "liver", "muscle"]
    assert ranked(names, SAG_T2) == names
    # NET metastases: clearly above liver, clearly below fluid.
    met = mr_signal(TISSUES["liver_metastasis"], ABD_T2)
    assert 2.0 * mr_signal(TISSUES["liver"], ABD_T2) < met < 0.5 * mr_signal(TISSUES["bile"], ABD_T2)
    assert mr_signal(TISSUES["endometrium"], SAG_T2) > mr_signal(TISSUES["myometrium"], SAG_T2) > mr_signal(
        TISSUES["junctional_zone"], SAG_T2
    )


def test_t1_weighted_ranks_and_voids():
    names = ["fat", "fatty_marrow", "liver", "muscle", "csf"]
    assert ranked(names, SAG_T1) == names
    assert mr_signal(TISSUES["cortical_bone"], SAG_T1) < 0.05 * mr_signal(TISSUES["muscle"], SAG_T1)
    assert mr_signal(TISSUES["blood"], SAG_T2) < mr_signal(TISSUES["muscle"], SAG_T2)  # flow void


def test_diffusion_weighting_and_adc_map_recover_tissue_adc():
    b_lo, b_hi = DWI_B
    for name in ("liver", "liver_metastasis", "spleen", "kidney"):
        lo = np.full((4, 4, 4), mr_signal(TISSUES[name], DWI[b_lo]) * 1000, np.float32)
        hi = np.full((4, 4, 4), mr_signal(TISSUES[name], DWI[b_hi]) * 1000, np.float32)
        adc = adc_map(lo, hi, b_lo, b_hi, floor=1.0)
        assert adc.mean() == pytest.approx(TISSUES[name].adc * 1000, rel=0.02)
    assert TISSUES["liver_metastasis"].adc < 1.0 < TISSUES["liver"].adc  # restricted diffusion
    fat = mr_signal(TISSUES["fat"], DWI[b_lo])
    assert fat < 0.15 * mr_signal(TISSUES["fat"], SAG_T2)  # fat saturation


def test_mr_image_has_rician_noise_and_is_deterministic():
    grid = Grid.covering((-20, -20, -20), (20, 20, 20), (1.0, 1.0, 1.0))
    signal = np.zeros(grid.shape, np.float32)
    a, b = mr_image(signal, grid, SAG_T2), mr_image(signal, grid, SAG_T2)
    assert np.array_equal(a, b) and a.dtype == np.int16
    # Rician noise of pure noise has mean sigma * sqrt(pi / 2) (magnitude of complex Gaussian noise).
    sigma = SAG_T2.noise_fraction * 1000
    assert a.mean() == pytest.approx(sigma * math.sqrt(math.pi / 2), rel=0.1)


def test_ct_noise_level_and_texture():
    shape = (60, 60, 30)
    maps = {"hu": np.full(shape, 50.0, np.float32), "hu_texture": np.zeros(shape, np.float32)}
    ct = ct_image(maps, CtProtocol(noise_hu=16.0))
    assert ct.mean() == pytest.approx(50, abs=1.0)
    assert ct.std() == pytest.approx(16.0, rel=0.15)
    # Correlated noise: neighbouring voxels agree more than white noise would (correlation > 0.3).
    assert np.corrcoef(ct[:-1].ravel(), ct[1:].ravel())[0, 1] > 0.3
    maps["hu_texture"][:] = 40.0
    assert ct_image(maps, CtProtocol(noise_hu=16.0)).std() > 1.5 * ct.std()


def test_pet_protocols_use_shared_constants():
    assert FDG.half_life_min == c.HALF_LIFE_MIN["F-18"] and DOTATATE.half_life_min == c.HALF_LIFE_MIN["Ga-68"]
    assert FDG.bq_ml_per_suv == pytest.approx(230e6 * 0.5 ** (62 / 109.77) / 65000)
    assert DOTATATE.effective_fwhm_mm > FDG.effective_fwhm_mm  # positron range of Ga-68


def test_pet_activity_keeps_large_uniform_uptake_and_blurs_small_spots():
    source = Grid.covering((-80, -80, -80), (80, 80, 80), (1.5, 1.5, 3.0))
    pet_grid = Grid.covering((-80, -80, -80), (80, 80, 80), (4.0, 4.0, 4.0))
    suv = np.full(source.shape, 2.0, np.float32)
    act = pet_activity(suv, source, pet_grid, FDG) / FDG.bq_ml_per_suv
    core = act[8:-8, 8:-8, 8:-8]
    assert core.mean() == pytest.approx(2.0, rel=0.02)
    spot = np.zeros(source.shape, np.float32)
    spot[53:54, 53:54, 26:27] = 100.0
    blurred = pet_activity(spot, source, pet_grid, DOTATATE) / DOTATATE.bq_ml_per_suv
    assert blurred.max() < 5.0  # a 1.5 x 1.5 x 3 mm spot of SUV 100 is smeared over many voxels
    assert blurred.sum() * 64 == pytest.approx(100 * 1.5 * 1.5 * 3, rel=0.25)  # counts are conserved
