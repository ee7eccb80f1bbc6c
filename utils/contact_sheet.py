"""Contact sheet of the built data for expert review: ``python -m utils.contact_sheet [--out DIR]``.

Unlabelled pages, as a radiologist would scroll them: CT axial every 2 cm in soft-tissue and bone
windows, midline sagittal and coronal CT, the MRI series (sagittal T1/T2 through the midline and both
S1-S2 foramina, axial T2 of the sacrum, abdominal T2, DWI b800, ADC) and the PET MIPs. Radiological
display: patient's right on the viewer's left, anterior up on axial images and on the left on sagittal
ones. Writes PNGs (default ``out/contact_sheet``) and prints their paths.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from . import REPO_ROOT
from .io import load_sidecar, load_volume

WINDOWS = {"soft": (40, 400), "bone": (400, 1800), "lung": (-600, 1500)}


def _plane(img, axis: int, world_mm: float) -> tuple[np.ndarray, list[float]]:
    """One plane of a RAS+ image through a world coordinate, and its extent (mm) for imshow."""
    data = img.get_fdata(dtype=np.float32)  # nibabel caches the array: one read per image, not per plane
    aff = img.affine
    index = int(np.clip(round((world_mm - aff[axis, 3]) / aff[axis, axis]), 0, data.shape[axis] - 1))
    plane = np.take(data, index, axis=axis)
    other = [a for a in range(3) if a != axis]
    extent = []
    for a in other:
        lo = aff[a, 3] - aff[a, a] / 2
        extent += [lo, lo + aff[a, a] * data.shape[a]]
    return plane, extent


def _show(ax, plane: np.ndarray, extent: list[float], lo: float, hi: float, cmap: str = "gray") -> None:
    """Radiological display of a plane: patient's right (or anterior) on the viewer's left."""
    ax.imshow(plane.T, cmap=cmap, vmin=lo, vmax=hi, origin="lower", extent=extent, interpolation="bilinear")
    ax.invert_xaxis()
    ax.set_axis_off()


def _page(path: Path, panels: list, cols: int, title: str, cell_in: float = 2.6) -> Path:
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * cell_in, rows * cell_in), facecolor="black", squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, draw in zip(axes.ravel(), panels, strict=False):
        draw(ax)
    fig.suptitle(title, color="white")
    fig.tight_layout()
    fig.savefig(path, dpi=80, facecolor="black")
    plt.close(fig)
    return path


def _window(kind: str) -> tuple[float, float]:
    level, width = WINDOWS[kind]
    return level - width / 2, level + width / 2


def render(out: Path) -> list[Path]:
    """Write every page of the contact sheet into ``out``; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    ct = load_volume("ct")
    z0, z1 = ct.affine[2, 3], ct.affine[2, 3] + ct.affine[2, 2] * (ct.shape[2] - 1)
    heights = np.arange(math.ceil(z0 / 20) * 20, z1, 20.0)[::-1]
    for kind in ("soft", "bone"):
        lo, hi = _window(kind)
        for part, chunk in enumerate(np.array_split(heights, 2)):
            panels = [
                (lambda ax, z=z, lo=lo, hi=hi: (_show(ax, *_plane(ct, 2, z), lo, hi), ax.set_title(f"z {z:+.0f}", color="w", fontsize=8)))
                for z in chunk
            ]
            paths.append(_page(out / f"ct_axial_{kind}_{part + 1}.png", panels, 6, f"CT axial, {kind} window"))
    panels = []
    for kind in ("soft", "bone"):
        lo, hi = _window(kind)
        panels.append(lambda ax, lo=lo, hi=hi: _show(ax, *_plane(ct, 0, 0.0), lo, hi))
        panels.append(lambda ax, lo=lo, hi=hi: _show(ax, *_plane(ct, 1, -20.0), lo, hi))
    paths.append(_page(out / "ct_sagittal_coronal.png", panels, 4, "CT midline sagittal and coronal", 4.5))

    for name in ("mri_sag_t1w", "mri_sag_t2w"):
        img = load_volume(name)
        hi = float(np.percentile(np.asarray(img.dataobj), 99.7))
        panels = [lambda ax, x=x, img=img, hi=hi: _show(ax, *_plane(img, 0, x), 0, hi) for x in (-25.0, -12.0, 0.0, 12.0, 25.0)]
        paths.append(_page(out / f"{name}.png", panels, 5, f"{name}: x = -25, -12, 0, +12, +25 mm", 4.0))
    for name, step in (("mri_ax_t2w", 1), ("mri_abd_t2w", 1), ("mri_dwi_b800", 2), ("mri_adc", 2)):
        img = load_volume(name)
        data = np.asarray(img.dataobj)
        hi = 2500.0 if name == "mri_adc" else float(np.percentile(data, 99.7))
        zs = img.affine[2, 3] + img.affine[2, 2] * np.arange(0, img.shape[2], step)
        panels = [lambda ax, z=z, img=img, hi=hi: _show(ax, *_plane(img, 2, z), 0, hi) for z in zs[::-1]]
        paths.append(_page(out / f"{name}.png", panels, 8, f"{name}: axial, top to bottom", 2.2))

    panels = []
    for tracer in ("fdg", "dotatate"):
        pet = load_volume(f"pet_{tracer}")
        side = load_sidecar(f"pet_{tracer}")
        decayed = side["InjectedRadioactivity"] * 0.5 ** (side["ScanStart"] / side["RadionuclideHalfLife"])
        suv = np.asarray(pet.get_fdata(dtype=np.float32)) * side["BodyWeight"] * 1000.0 / decayed
        for axis in (1, 0):
            mip = suv.max(axis=axis)
            others = [a for a in range(3) if a != axis]
            extent = []
            for a in others:
                lo = pet.affine[a, 3] - pet.affine[a, a] / 2
                extent += [lo, lo + pet.affine[a, a] * pet.shape[a]]
            top = 10.0 if tracer == "fdg" else 25.0
            panels.append(lambda ax, mip=mip, extent=extent, top=top: _show(ax, mip, extent, 0, top, "gray_r"))
    paths.append(_page(out / "pet_mips.png", panels, 4, "PET MIPs: FDG coronal, sagittal; DOTATATE coronal, sagittal", 5.0))
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--out DIR`` (default ``out/contact_sheet``)."""
    parser = argparse.ArgumentParser(prog="python -m utils.contact_sheet", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "out" / "contact_sheet")
    args = parser.parse_args(argv)
    for path in render(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
