"""utils.plots: every chart is a CourseFigure with alt text, draws what it promises and rejects bad input."""

from __future__ import annotations

import matplotlib
import matplotlib.colors
import nibabel as nib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.patches import Rectangle

from utils import plots
from utils.display import CourseFigure, figure_png
from utils.pet import recovery_coefficient


def _check(fig, *words: str) -> None:
    """A CourseFigure whose alt text names ``words`` and that renders to a PNG."""
    assert isinstance(fig, CourseFigure)
    assert fig.alt_text and all(word in fig.alt_text for word in words), fig.alt_text
    assert figure_png(fig).startswith(b"\x89PNG")


def _bars(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


@pytest.fixture
def recovery_rows():
    """Rows like pet.lesion_recovery_table's, with the crowded pair L8/L4 of the course data."""
    rows = []
    for name, diameter, true_suv, rc in (
        ("liver_lesion_5", 4.7, 22.0, 0.16),
        ("liver_lesion_8", 6.6, 22.0, 0.33),
        ("liver_lesion_4", 7.6, 22.0, 0.34),
        ("liver_lesion_1", 32.0, 30.0, 1.19),
    ):
        rows.append(
            {"name": name, "diameter_mm": diameter, "rc_observed": rc, "suvmax": 7.5 + rc * (true_suv - 7.5)}
        )
    return rows


@pytest.fixture
def uptake_rows():
    return [
        {
            "name": "presacral_mass",
            "max_to_liver": 4.4,
            "peak_to_liver": 4.0,
            "max_to_spleen": 1.4,
            "krenning": 4,
        },
        {
            "name": "liver_lesion_1",
            "max_to_liver": 1.0,
            "peak_to_liver": 0.9,
            "max_to_spleen": 0.9,
            "krenning": 3,
        },
        {
            "name": "liver_lesion_5",
            "max_to_liver": 1.3,
            "peak_to_liver": 1.1,
            "max_to_spleen": 0.4,
            "krenning": 2,
        },
    ]


# --------------------------------------------------------------------------- notebook 02
def test_decay_figure_draws_a_curve_and_a_scan_dot_per_nuclide():
    fig = plots.decay_figure({"F-18": (109.77, 62.0), "Ga-68": (67.71, 55.0)})
    _check(fig, "F-18", "Ga-68", "0.68 left", "0.57 left")
    (ax,) = fig.axes
    assert len(ax.lines) == 2 * 2 + 1  # curve + dot per nuclide, the half line
    dot = ax.lines[1]
    assert dot.get_xdata()[0] == 62.0 and dot.get_ydata()[0] == pytest.approx(2 ** (-62 / 109.77))
    with pytest.raises(ValueError):
        plots.decay_figure({})
    with pytest.raises(ValueError):
        plots.decay_figure({"F-18": (0.0, 62.0)})
    with pytest.raises(ValueError):
        plots.decay_figure({"F-18": (109.77, -5.0)})


def test_what_if_figure_highlights_the_recorded_value():
    fig = plots.what_if_figure({"as recorded": 2.10, "weight 75 kg": 2.42, "extravasated": 1.68})
    _check(fig, "as recorded: 2.10", "weight 75 kg: 2.42")
    (ax,) = fig.axes
    bars = _bars(ax)
    assert [b.get_width() for b in bars] == pytest.approx([2.10, 2.42, 1.68])
    assert bars[0].get_facecolor() != bars[1].get_facecolor()
    assert ax.get_xlim() == (0.0, 3.0)
    assert [t.get_text() for t in ax.texts] == ["2.10", "2.42", "1.68"]
    for bad in ({}, {"x": float("nan")}, {"x": -1.0}):
        with pytest.raises(ValueError):
            plots.what_if_figure(bad)


def test_recovery_curves_figure_has_one_curve_per_resolution():
    fig = plots.recovery_curves_figure({"sharp": 4.0, "blurry": 8.0})
    _check(fig, "4, 8 mm")
    (ax,) = fig.axes
    curves = ax.lines[:2]
    assert len(ax.lines) == 3  # two curves and the line at 1
    # the sharper scanner recovers more at every diameter
    assert np.all(curves[0].get_ydata() >= curves[1].get_ydata())
    with pytest.raises(ValueError):
        plots.recovery_curves_figure({"broken": 0.0})
    with pytest.raises(ValueError):
        plots.recovery_curves_figure({})


def test_lesion_recovery_figure_labels_every_lesion_without_overlap(recovery_rows):
    fig = plots.lesion_recovery_figure(recovery_rows, 6.69)
    _check(fig, "L5 4.7 mm", "FWHM 6.69 mm")
    (ax,) = fig.axes
    assert sorted(t.get_text() for t in ax.texts) == ["L1", "L4", "L5", "L8"]
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [t.get_window_extent(renderer).padded(3) for t in ax.texts]  # at least 6 px apart
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    with pytest.raises(ValueError):
        plots.lesion_recovery_figure([], 6.69)
    with pytest.raises(ValueError):
        plots.lesion_recovery_figure([{"name": "x", "diameter_mm": 5.0}], 6.69)  # no rc_observed
    with pytest.raises(ValueError):
        plots.lesion_recovery_figure(recovery_rows, -1.0)


def test_sphere_profile_figure_shows_profile_and_recovery():
    fig = plots.sphere_profile_figure({"F-18": 5.72, "Ga-68": 6.69}, diameter_mm=10.0)
    _check(fig, "10-mm sphere", "F-18 (5.72 mm)")
    left, right = fig.axes
    assert len(left.lines) == 3 and len(right.lines) == 2  # truth + two profiles; two recovery curves
    assert left.get_ylim()[1] == pytest.approx(1.1)  # no empty band above the true contrast of 1
    peaks = [line.get_ydata().max() for line in left.lines[1:]]
    assert peaks == pytest.approx(
        [recovery_coefficient(10.0, 5.72), recovery_coefficient(10.0, 6.69)], abs=1e-3
    )
    with pytest.raises(ValueError):
        plots.sphere_profile_figure({"F-18": 5.72}, diameter_mm=0.0)


# --------------------------------------------------------------------------- notebook 03
def test_organ_mip_figure_points_at_the_hottest_voxel():
    data = np.zeros((10, 12, 14), dtype=np.float32)
    data[2, 3, 4], data[7, 8, 10] = 5.0, 9.0
    img = nib.Nifti1Image(data, np.diag([2.0, 2.0, 2.0, 1.0]))
    left, right = np.zeros(data.shape, bool), np.zeros(data.shape, bool)
    left[:5], right[5:] = True, True
    fig = plots.organ_mip_figure(img, {"organ_a": left, "organ_b": right})
    _check(fig, "organ a", "organ b")
    (ax,) = fig.axes
    assert len(ax.images) == 1 and [t.get_text() for t in ax.texts] == ["organ a", "organ b"]
    assert ax.images[0].get_array().max() == pytest.approx(9.0)
    with pytest.raises(ValueError):
        plots.organ_mip_figure(img, {"empty": np.zeros(data.shape, bool)})
    with pytest.raises(ValueError):
        plots.organ_mip_figure(img, {"wrong shape": np.ones((2, 2, 2), bool)})
    with pytest.raises(ValueError):
        plots.organ_mip_figure(img, {})


def test_lesion_ratio_figure_has_neutral_legend_markers(uptake_rows):
    fig = plots.lesion_ratio_figure(uptake_rows, normal_range=(0.55, 1.4), rule=1.5)
    _check(fig, "0.55 to 1.40", "1.5 working rule")
    (ax,) = fig.axes
    assert sum(isinstance(c, PathCollection) for c in ax.collections) == 2  # ticks and dots
    legend = {
        text.get_text(): handle
        for text, handle in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles, strict=True)
    }
    assert {"SUVmax / liver", "SUVpeak / liver", "pelvic masses", "liver lesions"} <= set(legend)
    # the statistic's marker is grey, so it does not borrow the colour of the first lesion
    for key in ("SUVmax / liver", "SUVpeak / liver"):
        assert matplotlib.colors.to_hex(legend[key].get_color()) == matplotlib.colors.to_hex("0.3")
    with pytest.raises(ValueError):
        plots.lesion_ratio_figure(uptake_rows, normal_range=(1.4, 0.5))
    with pytest.raises(ValueError):
        plots.lesion_ratio_figure([{"name": "x"}], normal_range=(0.5, 1.4))


# --------------------------------------------------------------------------- notebook 04
def test_organ_uptake_figure_orders_organs_and_marks_published_values():
    organs = {"liver": (7.3, 22.7), "spleen": (20.1, 26.9), "thyroid": (2.8, 5.0)}
    fig = plots.organ_uptake_figure(organs, {"spleen": 24.67, "liver": 9.12})
    _check(fig, "spleen, liver, thyroid", "published mean SUVmax")
    (ax,) = fig.axes
    assert [b.get_width() for b in _bars(ax)] == pytest.approx([2.8, 7.3, 20.1])  # highest drawn on top
    assert len(ax.collections) == 2  # SUVmax ticks and published diamonds
    with pytest.raises(ValueError):
        plots.organ_uptake_figure(organs, {"pituitary": 9.74})
    with pytest.raises(ValueError):
        plots.organ_uptake_figure({"liver": (9.0, 2.0)})  # mean above max


def test_score_ratio_figure_colours_bars_by_score(uptake_rows):
    fig = plots.score_ratio_figure(uptake_rows)
    _check(fig, "presacral_mass 4", "1.10 threshold")
    left, right = fig.axes
    assert [b.get_width() for b in _bars(left)] == pytest.approx([4.4, 1.0, 1.3])
    assert [b.get_width() for b in _bars(right)] == pytest.approx([1.4, 0.9, 0.4])
    colours = [matplotlib.colors.to_hex(b.get_facecolor()) for b in _bars(left)]
    assert len(set(colours)) == 3  # scores 4, 3 and 2
    assert [line.get_xdata()[0] for line in left.lines] == [1.0, 1.1]
    with pytest.raises(ValueError):
        plots.score_ratio_figure([{**uptake_rows[0], "krenning": 7}])
    with pytest.raises(ValueError):
        plots.score_ratio_figure([])


def test_recovery_vs_diameter_figure_draws_the_score_3_threshold(recovery_rows):
    fig = plots.recovery_vs_diameter_figure(recovery_rows, liver_suv=7.5, spleen_suv=22.0, fwhm_mm=6.69)
    _check(fig, "score-3 threshold 8.25", "true SUV 30 and 22")
    (ax,) = fig.axes
    levels = {line.get_label(): line.get_ydata()[0] for line in ax.lines if "model" not in line.get_label()}
    assert levels == pytest.approx(
        {"spleen reference": 22.0, "score-3 threshold (1.10 x liver)": 8.25, "liver reference": 7.5}
    )
    assert sum("model" in line.get_label() for line in ax.lines) == 2
    assert len(ax.collections) == 1 and len(ax.collections[0].get_offsets()) == len(recovery_rows)
    with pytest.raises(ValueError):
        plots.recovery_vs_diameter_figure(recovery_rows, liver_suv=0.0, spleen_suv=22.0, fwhm_mm=6.69)
    with pytest.raises(ValueError):
        plots.recovery_vs_diameter_figure(
            recovery_rows, liver_suv=7.5, spleen_suv=22.0, fwhm_mm=6.69, d_range_mm=(40, 3)
        )


def test_no_chart_touches_pyplot(recovery_rows, uptake_rows):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plots.decay_figure({"F-18": (109.77, 62.0)})
    plots.score_ratio_figure(uptake_rows)
    plots.recovery_vs_diameter_figure(recovery_rows, liver_suv=7.5, spleen_suv=22.0, fwhm_mm=6.69)
    assert plt.get_fignums() == before
