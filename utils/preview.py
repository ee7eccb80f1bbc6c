"""Quick look at the analytic patient without building data: ``python -m utils.preview --out DIR``.

Samples the structures (all, or one region's) on a grid and writes PNGs: axial slices at chosen heights,
a sagittal and a coronal plane, in CT soft-tissue and bone windows and as a T2-weighted and T1-weighted
spin echo. For authors changing the anatomy (``utils/anatomy``): look before you build.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from .anatomy import build_patient
from .phantom import MrSequence, mr_channels
from .sampling import Grid, paint

T1W = MrSequence("preview T1w spin echo", 550.0, 10.0)
T2W = MrSequence("preview T2w spin echo", 4000.0, 95.0)


def render(
    lower_mm: tuple[float, float, float],
    upper_mm: tuple[float, float, float],
    voxel_mm: float,
    out: Path,
    axial_z: list[float],
    sagittal_x: float = 0.0,
    coronal_y: float = -20.0,
    only: list[str] | None = None,
    regions: tuple[str, ...] | None = None,
) -> list[Path]:
    """Write the preview PNGs into ``out``; returns their paths."""
    structures = build_patient(regions)
    if only:
        structures = [s for s in structures if any(r in s.name for r in only)]
    grid = Grid.covering(lower_mm, upper_mm, (voxel_mm,) * 3)
    # The scanners' own signal model, so the preview shows what the build will make.
    channels = {"hu": lambda t: t.hu, "t1w": mr_channels(T1W)["signal"], "t2w": mr_channels(T2W)["signal"]}
    maps, _ = paint(structures, grid, channels, {"hu": -1000.0, "t1w": 0.0, "t2w": 0.0}, with_labels=False)
    t1w, t2w = maps["t1w"], maps["t2w"]
    images = {
        "CT soft tissue": (maps["hu"], -160, 240),
        "CT bone": (maps["hu"], -400, 1200),
        "T2w": (t2w, 0, float(np.percentile(t2w, 99.5))),
        "T1w": (t1w, 0, float(np.percentile(t1w, 99.5))),
    }
    out.mkdir(parents=True, exist_ok=True)
    paths = []

    def index(axis: int, value: float) -> int:
        return int(np.clip(round((value - grid.affine[axis, 3]) / grid.voxel_mm[axis]), 0, grid.shape[axis] - 1))

    planes = [(f"axial_z{z:+.0f}", 2, z) for z in axial_z]
    planes += [(f"sagittal_x{sagittal_x:+.0f}", 0, sagittal_x), (f"coronal_y{coronal_y:+.0f}", 1, coronal_y)]
    for name, axis, value in planes:
        fig, axes = plt.subplots(1, len(images), figsize=(4.2 * len(images), 4.6), facecolor="black")
        for ax, (title, (vol, lo, hi)) in zip(axes, images.items(), strict=True):
            plane = np.take(vol, index(axis, value), axis=axis)
            # Radiological display: patient's right on the viewer's left; anterior up (axial) or left
            # (sagittal); superior up.
            extent = {2: [lower_mm[0], upper_mm[0], lower_mm[1], upper_mm[1]],
                      0: [lower_mm[1], upper_mm[1], lower_mm[2], upper_mm[2]],
                      1: [lower_mm[0], upper_mm[0], lower_mm[2], upper_mm[2]]}[axis]
            ax.imshow(plane.T, cmap="gray", vmin=lo, vmax=hi, origin="lower", extent=extent)
            ax.invert_xaxis()
            ax.set_title(f"{title} {name}", color="white", fontsize=9)
            ax.tick_params(colors="gray", labelsize=7)
        fig.tight_layout()
        path = out / f"{name}.png"
        fig.savefig(path, dpi=90, facecolor="black")
        plt.close(fig)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--box x0 y0 z0 x1 y1 z1`` (mm), ``--voxel`` (mm), ``--z`` heights of axial slices."""
    parser = argparse.ArgumentParser(prog="python -m utils.preview", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--box", type=float, nargs=6, default=(-200, -150, -200, 200, 150, 100))
    parser.add_argument("--voxel", type=float, default=1.5)
    parser.add_argument("--z", type=float, nargs="*", default=None, help="axial slice heights (mm)")
    parser.add_argument("--x", type=float, default=0.0, help="sagittal plane x (mm)")
    parser.add_argument("--y", type=float, default=-20.0, help="coronal plane y (mm)")
    parser.add_argument("--only", nargs="*", default=None, help="only structures whose name contains these")
    parser.add_argument("--regions", nargs="*", default=None, help="only these region modules (utils/anatomy)")
    args = parser.parse_args(argv)
    lower, upper = tuple(args.box[:3]), tuple(args.box[3:])
    z = args.z if args.z is not None else list(np.arange(math.ceil(lower[2] / 20) * 20, upper[2], 20.0))
    for path in render(lower, upper, args.voxel, args.out, z, args.x, args.y, args.only, tuple(args.regions) if args.regions else None):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
