"""The scanners: turn tissue maps of the analytic patient into CT, MRI (spin echo, DWI, ADC) and PET images.

Every modality is computed from the same anatomy (``utils.anatomy``) sampled on its own grid with partial
volume (``utils.sampling``), so the scans line up exactly, as co-registered scans would. Each scanner uses
the physics of its modality on the tissue properties: CT reads HU and adds the correlated noise of a
filtered back-projection; MRI computes spin-echo signal from proton density, T1 and T2 with its TR and TE,
diffusion weighting from the ADC, and Rician noise; PET blurs true activity with the scanner's resolution
and positron range, adds count noise (variance = mean) and a post-filter. Noise uses fixed seeds: the same
inputs give the same arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from . import constants as c
from .anatomy import Tissue
from .sampling import Grid, world_points


def _unit_noise(shape: tuple[int, ...], sigma_vox: tuple[float, float, float], seed: int) -> np.ndarray:
    """Gaussian-filtered white noise with unit standard deviation (float32): correlated image noise."""
    white = np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)
    field_ = ndimage.gaussian_filter(white, sigma=sigma_vox)
    return field_ / np.float32(field_.std())


# ---------------------------------------------------------------------------------------------- CT
@dataclass(frozen=True)
class CtProtocol:
    """A CT acquisition: tube voltage (kVp), tube current-time (mAs), kernel, dose (mGy) and noise (HU)."""

    kvp: float = 120.0
    mas: float = 40.0
    kernel: str = "soft tissue (smooth)"
    ctdi_vol_mgy: float = 3.1
    noise_hu: float = 16.0
    noise_grain_vox: tuple[float, float, float] = (0.9, 0.9, 0.4)
    seed: int = 11


def ct_channels() -> dict[str, object]:
    """Tissue channels a CT needs: density (HU) and the amplitude of fine texture (HU)."""
    return {"hu": lambda t: t.hu, "hu_texture": lambda t: t.hu_texture}


def ct_image(maps: dict[str, np.ndarray], protocol: CtProtocol = CtProtocol()) -> np.ndarray:
    """CT in HU (int16): tissue HU, fine texture (trabecular bone, faeces), a smooth kernel, correlated noise."""
    hu = maps["hu"].copy()
    texture = maps["hu_texture"]
    if texture.any():
        hu += texture * _unit_noise(hu.shape, (0.7, 0.7, 0.5), protocol.seed + 1)
    hu = ndimage.gaussian_filter(hu, sigma=(0.5, 0.5, 0.3))
    hu += np.float32(protocol.noise_hu) * _unit_noise(hu.shape, protocol.noise_grain_vox, protocol.seed)
    return np.clip(np.rint(hu), -1024, 3071).astype(np.int16)


# ---------------------------------------------------------------------------------------------- MRI
@dataclass(frozen=True)
class MrSequence:
    """An MR series: spin-echo TR/TE (ms), optional b-value (s/mm^2) and fat saturation, noise, coil."""

    description: str
    tr_ms: float
    te_ms: float
    b_value: float = 0.0
    fat_saturation: bool = False
    noise_fraction: float = 0.02
    coil: str = "spine"  # "spine" (posterior array) or "body" (anterior + posterior arrays)
    seed: int = 21
    echo_train: int = 1
    extra: dict = field(default_factory=dict, compare=False)


def mr_signal(tissue: Tissue, seq: MrSequence) -> float:
    """Noise-free signal (0-1) of one tissue: PD (1 - e^{-TR/T1}) e^{-TE/T2} e^{-b ADC}, flow and fat terms."""
    s = tissue.pd * (1.0 - math.exp(-seq.tr_ms / tissue.t1_ms)) * math.exp(-seq.te_ms / tissue.t2_ms)
    if tissue.flow_void:
        s *= 0.06  # flowing blood leaves the slice between excitation and echo: a signal void on spin echo
    if seq.fat_saturation:
        s *= 1.0 - 0.92 * tissue.fat_fraction
    if seq.b_value:
        s *= math.exp(-seq.b_value * tissue.adc * 1e-3)
    return s


def mr_channels(seq: MrSequence) -> dict[str, object]:
    """The single tissue channel an MR series needs: its noise-free signal."""
    return {"signal": lambda t: mr_signal(t, seq)}


def coil_shading(grid: Grid, coil: str) -> np.ndarray:
    """Receive-coil sensitivity (float32, about 0.8-1.2): a posterior spine array or a body array."""
    y = world_points(grid)[..., 1]
    if coil == "spine":
        return (1.2 - 0.35 * np.clip((y + 140.0) / 280.0, 0.0, 1.0)).astype(np.float32)
    return (1.05 - 0.15 * np.abs(np.clip(y / 150.0, -1.0, 1.0))).astype(np.float32)


def mr_image(signal: np.ndarray, grid: Grid, seq: MrSequence, scale: float = 1000.0) -> np.ndarray:
    """Magnitude MR image (int16, a.u.): signal x coil sensitivity x ``scale`` plus Rician noise."""
    s = signal * coil_shading(grid, seq.coil) * np.float32(scale)
    rng = np.random.default_rng(seq.seed)
    sigma = np.float32(seq.noise_fraction * scale)
    real = s + sigma * rng.standard_normal(s.shape, dtype=np.float32)
    imag = sigma * rng.standard_normal(s.shape, dtype=np.float32)
    return np.clip(np.rint(np.hypot(real, imag)), 0, 32767).astype(np.int16)


def adc_map(low_b: np.ndarray, high_b: np.ndarray, b_low: float, b_high: float, floor: float) -> np.ndarray:
    """ADC (int16, 10^-6 mm^2/s) from two diffusion-weighted magnitudes; 0 where the low-b signal < floor."""
    lo = low_b.astype(np.float32)
    hi = np.maximum(high_b.astype(np.float32), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        adc = np.log(np.maximum(lo, 1.0) / hi) / np.float32(b_high - b_low) * 1e6
    adc = np.where(lo >= floor, np.clip(adc, 0.0, 4000.0), 0.0)
    return np.rint(adc).astype(np.int16)


# ---------------------------------------------------------------------------------------------- PET
@dataclass(frozen=True)
class PetProtocol:
    """One PET acquisition: tracer, radionuclide, injected activity (Bq), weight (kg), uptake time (min)."""

    tracer: str
    radionuclide: str
    injected_bq: float
    weight_kg: float
    uptake_min: float
    seed: int

    @property
    def half_life_min(self) -> float:
        """Physical half-life of the radionuclide (min)."""
        return c.HALF_LIFE_MIN[self.radionuclide]

    @property
    def suv_property(self) -> str:
        """Name of the tissue field that holds this tracer's SUV."""
        return "suv_fdg" if self.tracer == "FDG" else "suv_dotatate"

    @property
    def bq_ml_per_suv(self) -> float:
        """Activity concentration (Bq/mL at scan start) of SUV 1: decayed activity over weight in g."""
        decayed = self.injected_bq * 0.5 ** (self.uptake_min / self.half_life_min)
        return decayed / (self.weight_kg * c.GRAMS_PER_KG)

    @property
    def blur_fwhm_mm(self) -> float:
        """Resolution before noise (mm FWHM): system and positron range in quadrature."""
        return math.hypot(c.PET_SYSTEM_FWHM_MM, c.POSITRON_RANGE_FWHM_MM[self.radionuclide])

    @property
    def effective_fwhm_mm(self) -> float:
        """Resolution of the final image (mm FWHM): system, positron range and post-filter in quadrature."""
        return math.hypot(self.blur_fwhm_mm, c.PET_POSTFILTER_FWHM_MM)


def pet_channels() -> dict[str, object]:
    """Tissue channels the PET scans need: true SUV per tracer."""
    return {"suv_fdg": lambda t: t.suv_fdg, "suv_dotatate": lambda t: t.suv_dotatate}


def pet_activity(suv: np.ndarray, source: Grid, grid: Grid, protocol: PetProtocol) -> np.ndarray:
    """PET activity concentration (Bq/mL at scan start, float32) on ``grid`` from true SUV on ``source``.

    True uptake is blurred by the scanner (system and positron range) and by the PET voxel's own extent
    (a box, as a Gaussian of the same variance), sampled at the PET voxel centres, given count noise with
    variance equal to the expected counts, then post-filtered. Both grids must be axis-aligned.
    """
    src_vox = source.voxel_mm
    pet_vox = grid.voxel_mm
    sigma_mm = np.sqrt(c.sigma_from_fwhm(protocol.blur_fwhm_mm) ** 2 + pet_vox**2 / 12.0)
    blurred = ndimage.gaussian_filter(suv.astype(np.float32), sigma=sigma_mm / src_vox, mode="constant")
    ijk_to_src = np.linalg.inv(source.affine) @ grid.affine
    mean_suv = ndimage.affine_transform(
        blurred, np.diag(ijk_to_src)[:3], offset=ijk_to_src[:3, 3], output_shape=grid.shape, order=1, cval=0.0
    )
    # Count-like noise: variance equal to the expected counts. Drawn as mean + sqrt(mean) * N(0, 1) rather
    # than with rng.poisson, whose random stream depends on every mean before it: with one normal draw per
    # voxel, editing one organ changes the noise only where that organ is.
    counts_per_suv = np.float32(c.COUNTS_PER_SUV[protocol.tracer])
    expected = np.maximum(mean_suv, 0.0) * counts_per_suv
    normal = np.random.default_rng(protocol.seed).standard_normal(expected.shape, dtype=np.float32)
    noisy = np.maximum(expected + np.sqrt(expected) * normal, 0.0) / counts_per_suv
    noisy = ndimage.gaussian_filter(noisy, sigma=c.sigma_from_fwhm(c.PET_POSTFILTER_FWHM_MM) / pet_vox)
    return (noisy * np.float32(protocol.bq_ml_per_suv)).astype(np.float32)
