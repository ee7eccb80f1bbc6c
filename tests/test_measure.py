"""utils.measure: caliper distances, RECIST-style longest axial diameters, signal per structure, figures."""

from __future__ import annotations

import math

import ipywidgets as w
import nibabel as nib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from scipy.spatial.distance import pdist

from utils import display as d
from utils import measure as m
from utils.widgets import OrthoViewer


# --------------------------------------------------------------------------- distance_mm
def test_distance_is_euclidean_in_mm():
    assert m.distance_mm((0, 0, 0), (30, 40, 0)) == pytest.approx(50.0)
    assert m.distance_mm((1.5, -2.0), (1.5, 2.0)) == pytest.approx(4.0)
    assert m.distance_mm((3, 4, 5), (3, 4, 5)) == 0.0
    a, b = (12.0, -7.5, 30.0), (-3.0, 8.0, 31.8)
    assert m.distance_mm(a, b) == pytest.approx(m.distance_mm(b, a))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (None, (0, 0, 0)),
        ((0, 0, 0), (0, 0)),  # 3-D vs 2-D
        ((0, 0, 0, 0), (0, 0, 0, 0)),
        ((0, np.nan, 0), (0, 0, 0)),
        (("a", "b", "c"), (0, 0, 0)),
        (5.0, 6.0),
    ],
)
def test_distance_rejects_bad_points(a, b):
    with pytest.raises(ValueError):
        m.distance_mm(a, b)


# --------------------------------------------------------------------------- longest axial chord
def _affine(voxel_mm=(1.0, 1.0, 1.0), origin_mm=(0.0, 0.0, 0.0)) -> np.ndarray:
    affine = np.diag([*voxel_mm, 1.0])
    affine[:3, 3] = origin_mm
    return affine


def test_rectangle_diagonal_between_voxel_centres():
    mask = np.zeros((20, 20, 5), bool)
    mask[2:12, 5:9, 3] = True  # x 2..11, y 5..8 (centres): diagonal sqrt(9^2 + 3^2)
    chord = m.longest_axial_chord(mask, _affine())
    assert chord.length_mm == pytest.approx(math.hypot(9, 3))
    assert chord.point_a_mm[2] == chord.point_b_mm[2] == 3.0
    assert m.distance_mm(chord.point_a_mm, chord.point_b_mm) == pytest.approx(chord.length_mm)
    assert m.longest_axial_diameter_mm(mask, _affine()) == pytest.approx(chord.length_mm)
    assert chord.midpoint_mm == pytest.approx((6.5, 6.5, 3.0))


def test_anisotropic_voxels_and_origin_are_honoured():
    mask = np.zeros((10, 10, 4), bool)
    mask[1:6, 4, 2] = True  # five voxels in a row along x: 4 steps of 3 mm
    chord = m.longest_axial_chord(mask, _affine((3.0, 1.8, 2.0), (-10.0, 5.0, 100.0)))
    assert chord.length_mm == pytest.approx(12.0)
    assert sorted([chord.point_a_mm[0], chord.point_b_mm[0]]) == pytest.approx([-7.0, 5.0])
    assert chord.point_a_mm[1] == pytest.approx(5.0 + 4 * 1.8)
    assert chord.point_a_mm[2] == pytest.approx(104.0)


def test_flipped_left_right_storage_gives_the_same_world_chord():
    mask = np.zeros((12, 9, 3), bool)
    mask[2:9, 3:7, 1] = True
    ras = _affine((2.0, 2.0, 3.0), (-11.0, 0.0, 0.0))
    las = ras.copy()
    las[0, 0], las[0, 3] = -2.0, 11.0  # the same voxels stored right-to-left
    a = m.longest_axial_chord(mask, ras)
    b = m.longest_axial_chord(mask[::-1], las)
    assert a.length_mm == pytest.approx(b.length_mm)
    ends = [{tuple(np.round(p, 6)) for p in (c.point_a_mm, c.point_b_mm)} for c in (a, b)]
    assert ends[0] == ends[1]


def test_the_longest_slice_wins():
    mask = np.zeros((30, 30, 6), bool)
    mask[10:15, 10:15, 1] = True
    mask[3:25, 14, 4] = True  # a long line on slice 4 (collinear: no convex hull)
    mask[12, 12, 5] = True  # a single voxel
    chord = m.longest_axial_chord(mask, _affine((1.0, 1.0, 2.5)))
    assert chord.length_mm == pytest.approx(21.0)
    assert chord.point_a_mm[2] == pytest.approx(10.0)


def test_a_disc_measures_within_one_voxel_of_its_diameter():
    n, r = 81, 30.0
    x, y = np.meshgrid(np.arange(n) - 40, np.arange(n) - 40, indexing="ij")
    mask = (x**2 + y**2 <= r**2)[..., None]
    length = m.longest_axial_diameter_mm(mask, _affine())
    assert 2 * r - 1.0 <= length <= 2 * r


def test_a_single_voxel_has_zero_length():
    mask = np.zeros((4, 4, 4), bool)
    mask[1, 2, 3] = True
    assert m.longest_axial_diameter_mm(mask, _affine()) == 0.0


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.1, 0.6))
def test_hull_result_equals_brute_force(seed, fill):
    rng = np.random.default_rng(seed)
    mask = rng.random((9, 7, 3)) < fill
    if not mask.any():
        mask[4, 3, 1] = True
    affine = _affine((1.3, 0.7, 2.0), (5.0, -3.0, 1.0))
    brute = 0.0
    for k in range(mask.shape[2]):
        ij = np.argwhere(mask[:, :, k]) * [1.3, 0.7]
        if len(ij) > 1:
            brute = max(brute, float(pdist(ij).max()))
    assert m.longest_axial_diameter_mm(mask, affine) == pytest.approx(brute)


@pytest.mark.parametrize(
    ("mask", "affine", "message"),
    [
        (np.zeros((4, 4, 4), bool), np.eye(4), "empty"),
        (np.ones((4, 4), bool), np.eye(4), "3-D"),
        (np.ones((4, 4, 4), bool), np.eye(3), "4x4"),
        (np.ones((4, 4, 4), bool), np.full((4, 4), np.nan), "4x4"),
        # voxel axes swapped: the third axis runs along y, not z
        (np.ones((4, 4, 4), bool), np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1.0]]), "z"),
    ],
)
def test_bad_masks_and_affines_are_value_errors(mask, affine, message):
    with pytest.raises(ValueError, match=message):
        m.longest_axial_chord(mask, affine)


def test_course_lesions_measure_close_to_their_true_shape(volumes, lesion_truth):
    """On the 3-mm label map the helper is at most about one voxel diagonal short of the true diameter."""
    labels = volumes["labels"]
    data = np.asarray(labels.dataobj)
    for name, row in lesion_truth.items():
        length = m.longest_axial_diameter_mm(data == row["id"], labels.affine)
        assert length <= row["longest_axial_diameter_mm"] + 0.5, name
        assert length >= row["longest_axial_diameter_mm"] - (3.0 * math.sqrt(2) + 0.5), name


# --------------------------------------------------------------------------- signal per structure
def test_signal_by_structure_reads_the_volume_on_another_grid():
    value = np.zeros((40, 30, 20), np.float32)
    value[:20] = 100.0  # x < 0 mm: the patient's left half
    value[20:] = 300.0  # x >= 0 mm: the patient's right half
    vol = nib.Nifti1Image(value, _affine((1.0, 1.0, 1.0), (-20.0, -15.0, -10.0)))
    labels = np.zeros((14, 10, 8), np.uint8)
    labels[1:5, 2:6, 2:5] = 3  # x centres -18..-9 mm: inside the 100 half
    labels[9:13, 2:6, 2:5] = 7  # x centres 9..18 mm: inside the 300 half
    labels[0, 0, 0] = 9
    lab = nib.Nifti1Image(labels, _affine((3.0, 3.0, 3.0), (-21.0, -15.0, -12.0)))
    medians = m.signal_by_structure(vol, lab, {"a": 3, "b": 7})
    assert medians == {"a": 100.0, "b": 300.0}
    with pytest.raises(ValueError, match="no voxel"):
        m.signal_by_structure(vol, lab, {"absent": 42})


def test_signal_by_structure_skips_labels_outside_the_field_of_view():
    vol = nib.Nifti1Image(np.full((10, 10, 10), 5.0, np.float32), np.eye(4))
    labels = np.zeros((20, 10, 10), np.uint8)
    labels[5:15] = 1  # half of it lies beyond x = 9 mm, outside the volume
    labels[15:] = 2  # entirely outside
    lab = nib.Nifti1Image(labels, np.eye(4))
    assert m.signal_by_structure(vol, lab, {"half": 1}) == {"half": 5.0}
    with pytest.raises(ValueError, match="no voxel"):
        m.signal_by_structure(vol, lab, {"outside": 2})


def test_signal_figure_has_one_bar_per_structure_and_sequence():
    signal = {
        "T1w": {"csf": 130.0, "fat": 950.0, "mass": 320.0},
        "T2w": {"csf": 1040.0, "fat": 800.0, "mass": 640.0},
    }
    fig = m.signal_figure(signal, title="signal")
    ax = fig.axes[0]
    assert len(ax.patches) == 6
    assert [t.get_text() for t in ax.get_yticklabels()] == ["csf", "fat", "mass"]
    assert "T1w and T2w" in fig.alt_text and "mass" in fig.alt_text
    widths = sorted(round(p.get_width()) for p in ax.patches)
    assert widths == [130, 320, 640, 800, 950, 1040]
    with pytest.raises(ValueError):
        m.signal_figure({})
    with pytest.raises(ValueError, match="same structures"):
        m.signal_figure({"T1w": {"a": 1.0}, "T2w": {"b": 2.0}})


# --------------------------------------------------------------------------- figures
@pytest.fixture(scope="module")
def volume() -> d.RasVolume:
    rng = np.random.default_rng(3)
    data = rng.normal(300.0, 20.0, (40, 50, 30)).astype(np.float32)
    data[25:31, 20:30, 10:20] = 900.0  # a bright block on the patient's right (x = 15-30 mm)
    return d.as_ras_volume(nib.Nifti1Image(data, _affine((3.0, 1.8, 1.8), (-60.0, -45.0, -27.0))), name="T2w")


def test_screen_position_matches_the_display_core(volume):
    for view in d.VIEWS:
        for ijk in ((0, 0, 0), (7, 13, 21), (39, 49, 29)):
            row, col = volume.pixel_of(view, ijk)
            srow, scol = m._screen(volume, view, volume.index_to_world(ijk))
            assert srow == pytest.approx(row, abs=0.6)
            assert scol == pytest.approx(col, abs=0.6)


def test_screen_follows_radiological_convention(volume):
    centre = volume.index_to_world(volume.centre_index())
    right, anterior, superior = (centre + np.array(step) for step in ((30, 0, 0), (0, 30, 0), (0, 0, 30)))
    assert m._screen(volume, "axial", right)[1] < m._screen(volume, "axial", centre)[1]  # right on the left
    assert m._screen(volume, "axial", anterior)[0] < m._screen(volume, "axial", centre)[0]  # anterior on top
    assert m._screen(volume, "sagittal", anterior)[1] < m._screen(volume, "sagittal", centre)[1]
    assert m._screen(volume, "coronal", superior)[0] < m._screen(volume, "coronal", centre)[0]


def test_plane_figure_draws_marks_segments_and_alt_text(volume):
    centre = tuple(volume.index_to_world(volume.centre_index()))
    fig = m.plane_figure(
        [volume, volume],
        "axial",
        centre,
        fov_mm=60,
        titles=["T2w", "T1w"],
        marks={
            "mass": (centre[0] + 10, centre[1], centre[2]),
            "edge": ((centre[0], 5.0, centre[2]), (20, 20)),
        },
        segments=[((0.0, 0.0, centre[2]), (30.0, 40.0, centre[2]))],
        title="test",
    )
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    assert "mass (arrow)" in fig.alt_text and "50.0 mm" in fig.alt_text and "radiological" in fig.alt_text
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"R", "L", "A", "P", "mass", "edge", "50.0 mm"} <= texts
    assert d.figure_png(fig).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"view": "oblique"}, "view"),
        ({"titles": ["a", "b"]}, "titles"),
        ({"fov_mm": 0}, "fov_mm"),
        ({"position_mm": (1.0, 2.0)}, "position_mm"),
        ({"marks": {"x": (1.0, 2.0)}}, "mark"),
        ({"segments": [((0, 0, 0), (1, 1))]}, "segment"),
    ],
)
def test_plane_figure_bad_input(volume, kwargs, message):
    args = {"view": "axial", "position_mm": (0.0, 0.0, 0.0), **kwargs}
    view, position = args.pop("view"), args.pop("position_mm")
    with pytest.raises(ValueError, match=message):
        m.plane_figure(volume, view, position, **args)


# --------------------------------------------------------------------------- caliper
@pytest.fixture()
def viewer(volume):
    return OrthoViewer(volume, views=("axial",), position_mm=(0.0, 0.0, 0.0))


def test_caliper_stores_two_crosshair_positions(viewer):
    caliper = m.Caliper(viewer)
    assert caliper.distance_mm is None and caliper.same_axial_slice is None
    assert "not set" in caliper.text() and caliper.preview.layout.display == "none"
    assert isinstance(caliper.widget, w.VBox) and viewer.widget in caliper.widget.children
    start = viewer.position_mm
    caliper.buttons["a"].click()
    viewer.sliders["sagittal"].value += 10  # 10 voxels of 3 mm along x
    caliper.buttons["b"].click()
    assert caliper.point_a_mm == start
    assert caliper.distance_mm == pytest.approx(30.0)
    assert caliper.same_axial_slice is True
    assert "30.0 mm" in caliper.readout.value and bytes(caliper.preview.value).startswith(b"\x89PNG")
    assert caliper.preview.layout.display is None
    assert isinstance(caliper.static_figure(), Figure)
    caliper.buttons["clear"].click()
    assert caliper.point_a_mm is None and caliper.distance_mm is None


def test_caliper_accepts_typed_positions_and_warns_across_slices(viewer):
    caliper = m.Caliper(viewer, fov_mm=80)
    caliper.set_a((0.0, 0.0, 0.0))
    caliper.set_b((0.0, 30.0, 40.0))
    assert caliper.distance_mm == pytest.approx(50.0)
    assert caliper.same_axial_slice is False
    assert "one axial slice" in caliper.text()
    with pytest.raises(ValueError):
        caliper.set_a((1.0, 2.0))
    with pytest.raises(ValueError):
        caliper.set_b(("x", 0, 0))


def test_caliper_static_figure_without_points_shows_the_crosshair_plane(viewer):
    fig = m.Caliper(viewer, title="T2w").static_figure()
    assert isinstance(fig, Figure) and "Axial plane of T2w" in fig.alt_text


def test_caliper_needs_a_slice_viewer(viewer):
    with pytest.raises(ValueError, match="viewer"):
        m.Caliper(object())
    with pytest.raises(ValueError, match="fov_mm"):
        m.Caliper(viewer, fov_mm=0)
