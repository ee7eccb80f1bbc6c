"""Benchmark: fused PET/CT frames through the real viewer path vs. a new matplotlib figure per frame.

Both paths render the same 256 x 256 axial frames (CT window + PET colour map + blend + encode) in one run.
The fast path moves the slider of a ``utils.widgets.FusionViewer`` (slice, LUT, blend, crosshair, JPEG, set
``ipywidgets.Image.value``); the naive path does what ``ipywidgets.interact`` with ``plt.imshow`` does
(new figure, two imshow layers, PNG). It also times the rotating-MIP precompute (36 angles) on the course
PET when ``data/`` exists, else on a synthetic PET of the same size.

    python benchmarks/viewer_frames.py            # readable summary
    python benchmarks/viewer_frames.py --json     # one JSON object
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import time
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")  # the naive path must not need a display
import matplotlib.pyplot as plt
import nibabel as nib
import numpy as np

from utils import DATA_DIR
from utils import display as d
from utils import widgets as W

FRAME = 256  # pixels per side of the fused frame
GOAL_FAST_MS, GOAL_SPEEDUP, GOAL_MIP_S = 5.0, 10.0, 3.0


def _phantom(xw: np.ndarray, yw: np.ndarray, zw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CT (HU) and PET (SUV) of an elliptical trunk with fat, liver, vertebra and three lesions at world mm."""
    outer = (xw / 170) ** 2 + (yw / 120) ** 2 < 1
    inner = (xw / 158) ** 2 + (yw / 108) ** 2 < 1
    liver = ((xw + 60) / 60) ** 2 + ((yw - 10) / 50) ** 2 < 1
    hu = np.where(outer, -100.0, -1000.0)
    hu[inner] = 40.0
    hu[liver] = 60.0
    hu[xw**2 + (yw + 80) ** 2 < 20**2] = 700.0
    suv = np.where(outer, 0.8, 0.0) + np.where(liver, 1.4, 0.0)
    for cx, cy, radius, value in ((-50, 20, 10, 6.0), (30, -50, 18, 8.0), (60, 40, 6, 4.0)):
        suv += np.where((xw - cx) ** 2 + (yw - cy) ** 2 + zw**2 < radius**2, value, 0.0)
    return hu, suv


def _grid(shape: tuple[int, int, int], voxel_mm: tuple[float, float, float]) -> tuple[np.ndarray, ...]:
    """Centred RAS+ affine and world coordinates (mm) of a grid."""
    affine = np.diag([*voxel_mm, 1.0])
    affine[:3, 3] = [-(n - 1) * v / 2 for n, v in zip(shape, voxel_mm, strict=True)]
    axes = [np.arange(n) * v + o for n, v, o in zip(shape, voxel_mm, affine[:3, 3], strict=True)]
    return (affine, *np.meshgrid(*axes, indexing="ij"))


def synthetic_ct_pet(n_slices: int = 48, seed: int = 0) -> tuple[nib.Nifti1Image, nib.Nifti1Image]:
    """A 256 x 256 x n CT (1.5 x 1.5 x 3 mm, HU) and a 4 mm PET (SUV) of the same trunk, with noise."""
    rng = np.random.default_rng(seed)
    ct_affine, *ct_xyz = _grid((FRAME, FRAME, n_slices), (1.5, 1.5, 3.0))
    hu, _ = _phantom(*ct_xyz)
    hu = hu + rng.normal(0.0, 12.0, hu.shape)
    pet_shape = (FRAME * 3 // 8, FRAME * 3 // 8, n_slices * 3 // 4)
    pet_affine, *pet_xyz = _grid(pet_shape, (4.0, 4.0, 4.0))
    _, suv = _phantom(*pet_xyz)
    suv = suv * rng.uniform(0.85, 1.15, suv.shape)
    return (
        nib.Nifti1Image(hu.astype(np.float32), ct_affine),
        nib.Nifti1Image(suv.astype(np.float32), pet_affine),
    )


def _median_ms(run: Callable[[int], object], n_frames: int, n_slices: int) -> float:
    """Median wall time in ms of ``run(slice_index)`` over ``n_frames`` calls (after two warm-up calls)."""
    run(1)
    run(2)
    times = []
    for n in range(n_frames):
        start = time.perf_counter()
        run(n % n_slices)
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def fast_path(ct: nib.Nifti1Image, pet: nib.Nifti1Image, fmt: str) -> Callable[[int], object]:
    """A slider move of the real FusionViewer: slice, LUT, blend, crosshair, encode, set Image.value."""
    viewer = W.FusionViewer(ct, pet, views=("axial",), fmt=fmt)
    slider = viewer.sliders["axial"]

    def move(index: int) -> bytes:
        slider.value = index if slider.value != index else (index + 1) % (slider.max + 1)
        return viewer.images["axial"].value

    return move


def numpy_only(ct: nib.Nifti1Image, pet: nib.Nifti1Image) -> Callable[[int], object]:
    """The numpy floor: slice + window + LUT + blend, no encoding."""
    ct_vol, pet_vol = d.pair_volumes(ct, pet)
    pet_on_ct = d.resample_like(pet_vol, ct_vol)
    return lambda k: d.fuse_rgba(ct_vol.plane("axial", k), pet_on_ct.plane("axial", k))


def naive_path(ct: nib.Nifti1Image, pet: nib.Nifti1Image) -> Callable[[int], object]:
    """What interact + plt.imshow does per move in Jupyter's inline backend.

    A new default-size figure, CT and PET layers, crosshair lines, then a PNG with bbox_inches="tight"
    (the inline backend's print_figure setting), then close.
    """
    ct_data = ct.get_fdata(dtype=np.float32)
    pet_on_ct = d.resample_like(d.as_ras_volume(pet), d.as_ras_volume(ct)).data  # resampling not timed

    def draw(k: int) -> bytes:
        fig = plt.figure()
        plt.imshow(ct_data[::-1, ::-1, k].T, cmap="gray", vmin=-160, vmax=240)
        plt.imshow(
            np.ma.masked_less_equal(pet_on_ct[::-1, ::-1, k].T, 0.04), cmap="hot", vmin=0, vmax=10, alpha=0.5
        )
        plt.axhline(FRAME / 2, color="c", lw=0.5)
        plt.axvline(FRAME / 2, color="c", lw=0.5)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
        plt.close(fig)
        return buffer.getvalue()

    return draw


def mip_precompute_s(n_angles: int = 36) -> tuple[float, list[int], str]:
    """Seconds to precompute the rotating MIP, the frame-stack shape and which PET was used."""
    path = DATA_DIR / "pet_fdg.nii.gz"
    if path.exists():
        from utils.io import load_volume

        pet, source = load_volume("pet_fdg"), "data/pet_fdg.nii.gz"
    else:
        rng = np.random.default_rng(1)
        pet = nib.Nifti1Image(
            rng.gamma(2.0, 1.0, (112, 66, 290)).astype(np.float32), np.diag([4.0, 4.0, 4.0, 1.0])
        )
        source = "synthetic 112x66x290 at 4 mm"
    volume = d.as_ras_volume(pet)
    start = time.perf_counter()
    frames = d.rotating_mip(volume, n_angles)
    return time.perf_counter() - start, list(frames.frames.shape), source


def run(n_fast: int = 200, n_naive: int = 40) -> dict[str, object]:
    """All measurements in one run, as a dict."""
    ct, pet = synthetic_ct_pet()
    n_slices = ct.shape[2]
    frame_shape = list(d.as_ras_volume(ct).frame_shape("axial"))
    fast_ms = _median_ms(fast_path(ct, pet, "jpeg"), n_fast, n_slices)
    png_ms = _median_ms(fast_path(ct, pet, "png"), n_fast, n_slices)
    floor_ms = _median_ms(numpy_only(ct, pet), n_fast, n_slices)
    naive_ms = _median_ms(naive_path(ct, pet), n_naive, n_slices)
    mip_s, mip_shape, mip_source = mip_precompute_s()
    return {
        "frame_shape": frame_shape,
        "fast_ms_median": round(fast_ms, 3),
        "fast_format": "jpeg",
        "fast_png_ms_median": round(png_ms, 3),
        "numpy_only_ms_median": round(floor_ms, 3),
        "naive_ms_median": round(naive_ms, 3),
        "speedup": round(naive_ms / fast_ms, 1),
        "speedup_png": round(naive_ms / png_ms, 1),
        "n_fast_frames": n_fast,
        "n_naive_frames": n_naive,
        "mip_precompute_s": round(mip_s, 3),
        "mip_frames_shape": mip_shape,
        "mip_source": mip_source,
        "goals": {
            "fast_ms_median<=": GOAL_FAST_MS,
            "speedup>=": GOAL_SPEEDUP,
            "mip_precompute_s<=": GOAL_MIP_S,
        },
        "goals_met": bool(
            fast_ms <= GOAL_FAST_MS and naive_ms / fast_ms >= GOAL_SPEEDUP and mip_s <= GOAL_MIP_S
        ),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "matplotlib": matplotlib.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; exit code 0 whether or not the goals are met (it is a measurement)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--frames", type=int, default=200, help="fast-path frames to time (default 200)")
    parser.add_argument("--naive-frames", type=int, default=40, help="naive frames to time (default 40)")
    args = parser.parse_args(argv)
    result = run(args.frames, args.naive_frames)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"fused {result['frame_shape']} frame: viewer path {result['fast_ms_median']} ms (JPEG), "
            f"{result['fast_png_ms_median']} ms (PNG), numpy only {result['numpy_only_ms_median']} ms; "
            f"naive matplotlib {result['naive_ms_median']} ms -> {result['speedup']}x faster"
        )
        print(f"rotating MIP, 36 angles: {result['mip_precompute_s']} s ({result['mip_source']})")
        print("goals met" if result["goals_met"] else "goals NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
