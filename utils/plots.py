"""Course charts: small functions that turn numbers from ``utils.pet`` and ``utils.uptake`` into figures.

Every function returns a ``utils.display.CourseFigure`` (a pyplot-free matplotlib Figure that shows itself
as a PNG with alt text, ``fig.alt_text``), so a notebook cell is ``show_figure(plots.name(...))``.
Nothing here touches pyplot's global state. SUVs have no unit; distances are in mm, times in minutes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import nibabel as nib
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .display import MIP_COLORMAP, CourseFigure, as_ras_volume, mip
from .pet import blurred_sphere_profile, decay_factor, recovery_coefficient
from .validation import require_finite, require_non_negative, require_positive

# colours of the Krenning-type scores 0-4 (light to dark blue)
SCORE_COLOURS = {0: "#f7fbff", 1: "#deebf7", 2: "#9ecae1", 3: "#6baed6", 4: "#08306b"}
MASS_COLOUR, LIVER_LESION_COLOUR = "tab:red", "tab:blue"


# --------------------------------------------------------------------------- input checks
def _require_mapping(name: str, values: Mapping[str, Any]) -> Mapping[str, Any]:
    """``values`` after checking it is a non-empty mapping."""
    if not isinstance(values, Mapping) or not values:
        raise ValueError(f"{name} must be a non-empty mapping of labels to numbers, got {values!r}")
    return values


def _require_rows(name: str, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """``rows`` as a list of dicts after checking it is non-empty and every row has ``keys``."""
    if isinstance(rows, Mapping) or not isinstance(rows, Sequence) or not rows:
        raise ValueError(f"{name} must be a non-empty list of table rows (dicts), got {rows!r}")
    for row in rows:
        missing = [key for key in keys if not isinstance(row, Mapping) or key not in row]
        if missing:
            raise ValueError(f"every row of {name} needs {', '.join(keys)}; a row lacks {', '.join(missing)}")
    return [dict(row) for row in rows]


def _short_name(name: str) -> str:
    """'liver_lesion_4' -> 'L4'; other names with spaces for underscores."""
    return (
        "L" + name.removeprefix("liver_lesion_")
        if name.startswith("liver_lesion_")
        else name.replace("_", " ")
    )


def _figure(width_in: float, height_in: float) -> CourseFigure:
    """An empty pyplot-free figure with constrained layout."""
    return CourseFigure(figsize=(width_in, height_in), layout="constrained")


def _finish(fig: CourseFigure, alt_text: str) -> CourseFigure:
    """Attach the accessibility description and return the figure."""
    fig.alt_text = alt_text
    return fig


# --------------------------------------------------------------------------- notebook 02: physics
def decay_figure(
    scans: Mapping[str, tuple[float, float]],
    *,
    t_max_min: float = 240.0,
    title: str = "F-18 and Ga-68 decay (dots: this patient's scans)",
) -> CourseFigure:
    """Fraction of activity left (0-1) against minutes for ``{nuclide: (half_life_min, scan_min)}``."""
    _require_mapping("scans", scans)
    t_min = np.linspace(0.0, float(require_positive("t_max_min", t_max_min)), 241)
    fig = _figure(7.5, 4.0)
    ax = fig.subplots()
    described = []
    for nuclide, (half_life_min, scan_min) in scans.items():
        half_life = float(require_positive(f"half-life of {nuclide}", half_life_min))
        left = float(decay_factor(scan_min, half_life))
        (curve,) = ax.plot(
            t_min, decay_factor(t_min, half_life), label=f"{nuclide}, half-life {half_life:g} min"
        )
        ax.plot(
            scan_min,
            left,
            "o",
            color=curve.get_color(),
            label=f"  scan at {scan_min:.0f} min: {left:.2f} left",
        )
        described.append(
            f"{nuclide} (half-life {half_life:g} min, {left:.2f} left at the scan at {scan_min:.0f} min)"
        )
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="minutes after injection", ylabel="fraction of activity left", ylim=(0, 1.02), title=title)
    ax.legend()
    return _finish(
        fig, f"Decay curves from 0 to {t_max_min:g} min of {'; '.join(described)}; dotted line at one half."
    )


def what_if_figure(
    suvs: Mapping[str, float],
    *,
    xlabel: str = "liver SUVmean (FDG)",
    title: str = "One image, four SUVs",
) -> CourseFigure:
    """Bars of one SUV (no unit) per scenario ``{label: SUV}``, the first (as recorded) in green."""
    _require_mapping("suvs", suvs)
    values = [float(require_non_negative(f"SUV of {label!r}", v)) for label, v in suvs.items()]
    fig = _figure(7.5, 0.45 * len(values) + 1.0)
    ax = fig.subplots()
    bars = ax.barh(list(suvs), values, color=["tab:green"] + ["tab:grey"] * (len(values) - 1))
    ax.bar_label(bars, fmt="%.2f", padding=3)
    ax.invert_yaxis()
    ax.set(xlabel=xlabel, xlim=(0, math.ceil(1.15 * max(max(values), 0.1))), title=title)
    listed = "; ".join(f"{label}: {value:.2f}" for label, value in zip(suvs, values, strict=True))
    return _finish(fig, f"Bar chart of {xlabel} in {len(values)} scenarios, {listed}.")


def recovery_curves_figure(
    fwhm_mm: Mapping[str, float],
    *,
    d_max_mm: float = 40.0,
    title: str = "Small spheres lose their peak (Gaussian PSF, no noise)",
) -> CourseFigure:
    """Centre recovery coefficient (0-1) against sphere diameter (mm), one curve per ``{name: FWHM_mm}``."""
    _require_mapping("fwhm_mm", fwhm_mm)
    d_mm = np.linspace(1.0, float(require_positive("d_max_mm", d_max_mm)), 300)
    fig = _figure(7.5, 4.0)
    ax = fig.subplots()
    for name, fwhm in fwhm_mm.items():
        fwhm = float(require_positive(f"FWHM of {name!r}", fwhm))
        ax.plot(d_mm, recovery_coefficient(d_mm, fwhm), label=f"{fwhm:.2f} mm, {name}")
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.set(
        xlabel="sphere diameter (mm)",
        ylabel="recovery coefficient at the centre",
        ylim=(0, 1.05),
        title=title,
    )
    ax.legend(title="PSF FWHM")
    widths = ", ".join(f"{float(f):g}" for f in fwhm_mm.values())
    return _finish(
        fig,
        f"Recovery coefficient against sphere diameter from 1 to {d_max_mm:g} mm for PSF FWHM {widths} mm.",
    )


def lesion_recovery_figure(
    rows: Sequence[Mapping[str, Any]],
    fwhm_mm: float,
    *,
    d_max_mm: float = 40.0,
    title: str = "68Ga-DOTATATE liver lesions follow the recovery curve",
) -> CourseFigure:
    """Observed recovery (no unit) of lesion rows against diameter (mm) over the model for ``fwhm_mm``.

    ``rows`` are rows of ``pet.lesion_recovery_table`` (name, diameter_mm, rc_observed).
    """
    table = sorted(
        _require_rows("rows", rows, ("name", "diameter_mm", "rc_observed")), key=lambda r: r["diameter_mm"]
    )
    fwhm = float(require_positive("fwhm_mm", fwhm_mm))
    d_mm = np.linspace(1.0, float(require_positive("d_max_mm", d_max_mm)), 300)
    fig = _figure(7.5, 4.0)
    ax = fig.subplots()
    ax.plot(d_mm, recovery_coefficient(d_mm, fwhm), label=f"model, FWHM {fwhm:g} mm")
    x = [float(r["diameter_mm"]) for r in table]
    y = [float(r["rc_observed"]) for r in table]
    ax.plot(x, y, "o", label="lesions: (SUVmax - liver) / (true - liver)")
    for n, row in enumerate(table):
        # a label that would collide with its larger neighbour's goes above-left of its dot instead
        crowded = n + 1 < len(table) and x[n + 1] - x[n] < 2.0 and abs(y[n + 1] - y[n]) < 0.1
        offset, align = ((-5, 3), "right") if crowded else ((5, -12), "left")
        ax.annotate(
            _short_name(row["name"]), (x[n], y[n]), xytext=offset, textcoords="offset points", ha=align
        )
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="equivalent sphere diameter (mm)", ylabel="observed recovery", title=title)
    ax.set_ylim(0, max(1.3, max(y) + 0.1))
    ax.legend(loc="lower right")
    points = ", ".join(
        f"{_short_name(r['name'])} {r['diameter_mm']:.1f} mm: {r['rc_observed']:.2f}" for r in table
    )
    return _finish(
        fig, f"Observed recovery of {len(table)} lesions over the model curve for FWHM {fwhm:g} mm: {points}."
    )


def sphere_profile_figure(
    fwhm_mm: Mapping[str, float],
    *,
    diameter_mm: float = 10.0,
    d_max_mm: float = 40.0,
) -> CourseFigure:
    """Blurred profile (fraction of contrast) through a sphere and recovery against diameter (mm)."""
    _require_mapping("fwhm_mm", fwhm_mm)
    diameter = float(require_positive("diameter_mm", diameter_mm))
    reach = 1.5 * diameter
    r_mm = np.linspace(-reach, reach, 301)
    d_mm = np.linspace(1.0, float(require_positive("d_max_mm", d_max_mm)), 300)
    fig = _figure(11.0, 4.0)
    left, right = fig.subplots(1, 2)
    left.plot(r_mm, np.abs(r_mm) <= diameter / 2, "k:", label=f"true {diameter:g}-mm sphere")
    for name, fwhm in fwhm_mm.items():
        fwhm = float(require_positive(f"FWHM of {name!r}", fwhm))
        left.plot(r_mm, blurred_sphere_profile(r_mm, diameter, fwhm), label=f"{name}, {fwhm:g} mm")
        right.plot(d_mm, recovery_coefficient(d_mm, fwhm), label=name)
    left.set(xlabel="distance from the centre (mm)", ylabel="fraction of true contrast", ylim=(-0.02, 1.1))
    left.set_title(f"Profile through a {diameter:g}-mm sphere")
    right.set(xlabel="sphere diameter (mm)", ylabel="recovery coefficient", ylim=(-0.02, 1.05))
    right.set_title("Recovery against sphere diameter")
    # below the axes: inside, any corner would cover the step of the true profile
    left.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=3, frameon=False)
    right.legend(loc="lower right")
    names = " and ".join(f"{name} ({float(f):g} mm)" for name, f in fwhm_mm.items())
    return _finish(
        fig,
        f"Left: profile through a {diameter:g}-mm sphere blurred at the resolution of {names}; "
        f"right: recovery coefficient against sphere diameter for the same resolutions.",
    )


# --------------------------------------------------------------------------- notebook 03: FDG
def organ_mip_figure(
    suv: nib.spatialimages.SpatialImage,
    organ_masks: Mapping[str, np.ndarray],
    *,
    suv_max: float = 10.0,
    title: str = "FDG MIP, front view: normal uptake (patient's right on the left)",
) -> CourseFigure:
    """Front-view MIP (SUV 0-``suv_max``) with arrows to the hottest voxel of each organ mask."""
    _require_mapping("organ_masks", organ_masks)
    top = float(require_positive("suv_max", suv_max))
    values = np.asarray(suv.dataobj, dtype=np.float32)
    volume = as_ras_volume(suv)
    frame = mip(volume, "coronal")
    fig = _figure(6.0, 8.0)
    ax = fig.subplots()
    ax.imshow(frame, cmap=MIP_COLORMAP, vmin=0, vmax=top)
    style = {"color": "C0", "va": "center", "annotation_clip": False, "arrowprops": {"arrowstyle": "->"}}
    for name, mask in organ_masks.items():
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != values.shape or not mask.any():
            raise ValueError(f"mask of {name!r} must be a non-empty boolean array of shape {values.shape}")
        hottest = np.unravel_index(np.argmax(np.where(mask, values, -np.inf)), mask.shape)
        world_mm = nib.affines.apply_affine(suv.affine, hottest)
        row, col = volume.pixel_of("coronal", volume.world_to_index(world_mm))
        ax.annotate(name.replace("_", " "), (col, row), xytext=(frame.shape[1] + 8, row), **style)
    ax.set_title(title)
    ax.set_axis_off()
    organs = ", ".join(name.replace("_", " ") for name in organ_masks)
    return _finish(
        fig,
        f"Front-view MIP, SUV 0 to {top:g} in inverted grey, with arrows to the hottest voxel of {organs}.",
    )


def lesion_ratio_figure(
    rows: Sequence[Mapping[str, Any]],
    *,
    normal_range: tuple[float, float],
    rule: float = 1.5,
    title: str = "FDG uptake relative to normal liver",
) -> CourseFigure:
    """SUVmax and SUVpeak over liver SUVmean (no unit) per lesion row, with the normal range and the rule.

    ``rows`` are rows of ``uptake.lesion_uptake_table``; ``normal_range`` is the (min, max) ratio of normal
    liver voxels to the liver mean (shaded) and ``rule`` the working threshold (dashed).
    """
    table = _require_rows("rows", rows, ("name", "max_to_liver", "peak_to_liver"))
    low, high = (float(v) for v in require_finite("normal_range", normal_range))
    if not 0 <= low < high:
        raise ValueError(f"normal_range must be (low, high) with 0 <= low < high, got {normal_range!r}")
    rule = float(require_positive("rule", rule))
    names = [r["name"].replace("_", " ") for r in table]
    colours = [MASS_COLOUR if r["name"].endswith("_mass") else LIVER_LESION_COLOUR for r in table]
    fig = _figure(8.0, 0.3 * len(table) + 1.6)
    ax = fig.subplots()
    ax.axvspan(low, high, color="0.88")
    ax.scatter([r["max_to_liver"] for r in table], names, marker="|", s=200, c=colours)
    ax.scatter([r["peak_to_liver"] for r in table], names, s=60, c=colours)
    ax.axvline(rule, color="black", ls="--")
    ax.invert_yaxis()
    ax.set(xlabel="ratio to liver SUVmean", title=title)
    # legend from neutral proxies: marker shape says the statistic, colour says the lesion group
    handles = [
        Patch(color="0.88", label="range of normal liver voxels"),
        Line2D([], [], color="0.3", marker="|", ls="none", ms=12, mew=2, label="SUVmax / liver"),
        Line2D([], [], color="0.3", marker="o", ls="none", ms=7, label="SUVpeak / liver"),
        Line2D([], [], color="black", ls="--", label=f"working rule: {rule:g} x liver"),
        Patch(color=MASS_COLOUR, label="pelvic masses"),
        Patch(color=LIVER_LESION_COLOUR, label="liver lesions"),
    ]
    ax.legend(handles=handles, loc="lower right", fontsize=8)
    return _finish(
        fig,
        f"SUVmax (ticks) and SUVpeak (dots) of {len(table)} lesions over the liver SUVmean; "
        f"shaded: normal liver voxels from {low:.2f} to {high:.2f} times the mean; "
        f"dashed: the {rule:g} working rule; red: pelvic masses, blue: liver lesions.",
    )


# --------------------------------------------------------------------------- notebook 04: DOTATATE
def organ_uptake_figure(
    organ_suv: Mapping[str, tuple[float, float]],
    published_suvmax: Mapping[str, float] | None = None,
    *,
    title: str = "68Ga-DOTATATE uptake in normal organs",
    source: str = "[3]",
) -> CourseFigure:
    """SUVmean bars, SUVmax ticks and published SUVmax diamonds (SUV) from ``{organ: (SUVmean, SUVmax)}``."""
    _require_mapping("organ_suv", organ_suv)
    published = dict(published_suvmax or {})
    unknown = sorted(set(published) - set(organ_suv))
    if unknown:
        raise ValueError(f"published_suvmax names organs that organ_suv lacks: {', '.join(unknown)}")
    for organ, (mean, peak) in organ_suv.items():
        mean = float(require_non_negative(f"SUVmean of {organ!r}", mean))
        if not mean <= float(require_finite(f"SUVmax of {organ!r}", peak)):
            raise ValueError(f"{organ!r}: SUVmean {mean!r} is above SUVmax {peak!r}; give (SUVmean, SUVmax)")
    order = sorted(organ_suv, key=lambda organ: organ_suv[organ][0])
    fig = _figure(7.5, 0.3 * len(order) + 1.2)
    ax = fig.subplots()
    ax.barh(order, [organ_suv[o][0] for o in order], color="#4c72b0", label="SUVmean, this patient")
    ax.scatter(
        [organ_suv[o][1] for o in order], order, marker="|", s=200, c="k", label="SUVmax, this patient"
    )
    known = [o for o in order if o in published]
    if known:
        ax.scatter(
            [published[o] for o in known],
            known,
            marker="D",
            c="#dd8452",
            label=f"mean SUVmax, published {source}",
        )
    ax.set(xlabel="SUV", title=title)
    ax.legend(loc="lower right")
    ranking = ", ".join(reversed(order))
    return _finish(
        fig,
        f"Bars: SUVmean of each normal organ, highest first ({ranking}); ticks: SUVmax; "
        f"diamonds: published mean SUVmax of {', '.join(known) or 'none'}.",
    )


def score_ratio_figure(
    rows: Sequence[Mapping[str, Any]],
    *,
    threshold: float = 1.10,
    title: str | None = None,
) -> CourseFigure:
    """SUVmax over liver and over spleen SUVmean (no unit) per lesion, bars coloured by Krenning-type score.

    ``rows`` need name, max_to_liver, max_to_spleen and krenning (0-4); lines mark equality (solid) and the
    "greater than" ``threshold`` (dashed).
    """
    table = _require_rows("rows", rows, ("name", "max_to_liver", "max_to_spleen", "krenning"))
    threshold = float(require_positive("threshold", threshold))
    for row in table:
        if row["krenning"] not in SCORE_COLOURS:
            raise ValueError(f"{row['name']}: krenning must be a score 0-4, got {row['krenning']!r}")
    colours = [SCORE_COLOURS[r["krenning"]] for r in table]
    fig = _figure(10.0, 0.3 * len(table) + 1.5)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, key, organ in zip(axes, ("max_to_liver", "max_to_spleen"), ("liver", "spleen"), strict=True):
        bars = ax.barh(
            [r["name"] for r in table], [r[key] for r in table], color=colours, edgecolor="0.4", lw=0.5
        )
        ax.bar_label(bars, labels=[f"score {r['krenning']}" for r in table], padding=3, fontsize=8)
        ax.axvline(1.0, color="black", lw=1)
        ax.axvline(threshold, color="black", lw=1, ls="--")
        ax.set(xlabel=f"lesion SUVmax / {organ} SUVmean", title=f"Relative to {organ}", xmargin=0.2)
    axes[0].invert_yaxis()
    if title:
        fig.suptitle(title)
    scores = ", ".join(f"{r['name']} {r['krenning']}" for r in table)
    return _finish(
        fig,
        f"Per lesion, SUVmax divided by the liver and by the spleen SUVmean, with equality (solid) and the "
        f"{threshold:.2f} threshold (dashed); scores: {scores}.",
    )


def recovery_vs_diameter_figure(
    rows: Sequence[Mapping[str, Any]],
    *,
    liver_suv: float,
    spleen_suv: float,
    fwhm_mm: float,
    true_suvs: Sequence[float] = (30.0, 22.0),
    threshold: float = 1.10,
    d_range_mm: tuple[float, float] = (3.0, 40.0),
    title: str = "Partial volume pulls small lesions toward the liver",
) -> CourseFigure:
    """Measured SUVmax of lesion rows against diameter (mm), with model curves and reference lines.

    ``rows`` are rows of ``pet.lesion_recovery_table`` (diameter_mm, suvmax); the curves are the liver
    background plus the recovered contrast of each of ``true_suvs``; lines mark the spleen and liver
    references and the score-3 threshold, ``threshold`` x liver.
    """
    table = _require_rows("rows", rows, ("diameter_mm", "suvmax"))
    liver = float(require_positive("liver_suv", liver_suv))
    spleen = float(require_positive("spleen_suv", spleen_suv))
    fwhm = float(require_positive("fwhm_mm", fwhm_mm))
    threshold = float(require_positive("threshold", threshold))
    d_low, d_high = (float(v) for v in require_positive("d_range_mm", d_range_mm))
    if not d_low < d_high:
        raise ValueError(f"d_range_mm must be (low, high) with low < high, got {d_range_mm!r}")
    d_mm = np.linspace(d_low, d_high, 200)
    measured = [float(r["suvmax"]) for r in table]
    fig = _figure(7.5, 4.5)
    ax = fig.subplots()
    for true_suv in true_suvs:
        true_suv = float(require_positive("true_suvs", true_suv))
        ax.plot(
            d_mm,
            liver + recovery_coefficient(d_mm, fwhm) * (true_suv - liver),
            label=f"model, true SUV {true_suv:g}",
        )
    ax.scatter([r["diameter_mm"] for r in table], measured, c="k", zorder=3, label="measured SUVmax")
    ax.axhline(spleen, color="grey", ls="--", label="spleen reference")
    ax.axhline(
        threshold * liver,
        color="tab:red",
        lw=1,
        ls="-.",
        label=f"score-3 threshold ({threshold:.2f} x liver)",
    )
    ax.axhline(liver, color="grey", ls=":", label="liver reference")
    ax.set(xlabel="lesion diameter (mm, equivalent sphere)", ylabel="SUVmax", title=title)
    ax.set_ylim(0, 1.15 * max(max(measured), spleen, *true_suvs))
    ax.legend(loc="upper left", fontsize=8)
    return _finish(
        fig,
        f"SUVmax of {len(table)} lesions against diameter, with model curves for true SUV "
        f"{' and '.join(f'{float(s):g}' for s in true_suvs)} (FWHM {fwhm:g} mm), the spleen reference "
        f"{spleen:.1f}, the liver reference {liver:.1f} and the score-3 threshold {threshold * liver:.2f}.",
    )
