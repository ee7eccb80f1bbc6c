"""Measuring on images: caliper distances, RECIST-style longest axial diameters, signal per structure.

Points are world positions in millimetres, RAS+ (x toward the patient's right, y anterior, z superior), as
the viewers report them. ``longest_axial_chord`` measures a lesion mask the way RECIST 1.1 measures a lesion:
the longest diameter on any one axial slice. ``Caliper`` stores two crosshair positions of a viewer from
``utils.widgets`` and reports the distance between them; ``plane_figure`` draws a zoomed plane with arrows
and caliper lines for static pages, and ``signal_figure`` compares the signal of structures across sequences.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import nibabel as nib
import numpy as np
from matplotlib.figure import Figure
from scipy.spatial import ConvexHull, QhullError
from scipy.spatial.distance import pdist, squareform

from . import display as d
from .display import INPLANE_AXES, NORMAL_AXIS, RasVolume

VolumeLike = RasVolume | nib.spatialimages.SpatialImage | np.ndarray
MARK_COLOUR = "#ffd54a"  # warm yellow: readable on grey MRI, distinct from the cyan crosshair
SEGMENT_COLOUR = "#00e5ff"


# --------------------------------------------------------------------------- distances
def _point(name: str, point: Sequence[float]) -> np.ndarray:
    """``point`` as a float array of 2 or 3 finite coordinates (mm); ValueError otherwise."""
    if point is None:
        raise ValueError(f"{name} is not set: give a position (x, y, z) in mm")
    try:
        arr = np.asarray(point, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be 2 or 3 numbers in mm, got {point!r}") from err
    if arr.ndim != 1 or arr.size not in (2, 3) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be 2 or 3 finite numbers in mm (x, y[, z]), got {point!r}")
    return arr


def _point3(name: str, point: Sequence[float]) -> np.ndarray:
    """``point`` as a float array (x, y, z) in mm; ValueError otherwise."""
    arr = _point(name, point)
    if arr.size != 3:
        raise ValueError(f"{name} must be (x, y, z) in mm, got {point!r}")
    return arr


def distance_mm(point_a_mm: Sequence[float], point_b_mm: Sequence[float]) -> float:
    """Straight-line distance (mm) between two points given in mm, (x, y, z) or (x, y)."""
    a, b = _point("point_a_mm", point_a_mm), _point("point_b_mm", point_b_mm)
    if a.size != b.size:
        raise ValueError(f"both points need the same number of coordinates, got {a.size} and {b.size}")
    return float(np.linalg.norm(a - b))


class Chord(NamedTuple):
    """A measured diameter: its length (mm) and its two end points (x, y, z) in mm."""

    length_mm: float
    point_a_mm: tuple[float, float, float]
    point_b_mm: tuple[float, float, float]

    @property
    def midpoint_mm(self) -> tuple[float, float, float]:
        """Middle of the chord (x, y, z) in mm: a good centre for a figure of it."""
        return tuple((a + b) / 2 for a, b in zip(self.point_a_mm, self.point_b_mm, strict=True))  # type: ignore[return-value]


def _axial_affine(affine: np.ndarray) -> np.ndarray:
    """``affine`` as a 4x4 float array whose third voxel axis alone moves along z (axial slices = k)."""
    affine = np.asarray(affine, dtype=float)
    if affine.shape != (4, 4) or not np.all(np.isfinite(affine)):
        raise ValueError(f"affine must be a finite 4x4 matrix, got shape {affine.shape}")
    rot = affine[:3, :3]
    scale = np.abs(rot).max()
    if (
        abs(rot[2, 2]) < 1e-6 * scale
        or np.any(np.abs(rot[2, :2]) > 1e-6 * scale)
        or np.any(np.abs(rot[:2, 2]) > 1e-6 * scale)
    ):
        raise ValueError(
            "the mask's third voxel axis must run along z (axial slices): reorient the image first, "
            "e.g. nibabel.as_closest_canonical(img)"
        )
    if abs(np.linalg.det(rot[:2, :2])) < 1e-12:
        raise ValueError("the affine's in-plane part is singular")
    return affine


def _farthest_pair(points: np.ndarray) -> tuple[float, int, int]:
    """(distance, i, j) of the two points of ``points`` (n, 2) farthest apart; 0 for one point."""
    if len(points) == 1:
        return 0.0, 0, 0
    candidates = np.arange(len(points))
    if len(points) > 3:
        try:
            candidates = ConvexHull(points).vertices  # the farthest pair always lies on the hull
        except QhullError:  # all points on one line: keep them all
            pass
    dist = squareform(pdist(points[candidates]))
    i, j = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return float(dist[i, j]), int(candidates[i]), int(candidates[j])


def longest_axial_chord(mask: np.ndarray, affine: np.ndarray) -> Chord:
    """Longest in-plane distance (mm) between voxel centres of ``mask`` (3-D, True = lesion) on one axial slice.

    The RECIST 1.1 long axis of a lesion: every axial slice is measured and the longest diameter wins.
    Distances run between voxel centres, so the result is shorter than the true extent by up to about one
    voxel. ``affine`` maps voxel indices to RAS+ mm; its third axis must be the axial (z) axis.
    """
    mask = np.asarray(mask)
    if mask.ndim != 3:
        raise ValueError(f"mask has shape {mask.shape}: a 3-D mask is needed")
    mask = mask.astype(bool, copy=False)
    if not mask.any():
        raise ValueError("mask is empty: no voxel is True (check the label id)")
    affine = _axial_affine(affine)
    ijk = np.argwhere(mask)
    best: Chord | None = None
    for k in np.unique(ijk[:, 2]):
        ij = ijk[ijk[:, 2] == k]
        world = ij @ affine[:3, :3].T + affine[:3, 3]
        length, i, j = _farthest_pair(world[:, :2])
        if best is None or length > best.length_mm:
            best = Chord(length, tuple(map(float, world[i])), tuple(map(float, world[j])))  # type: ignore[arg-type]
    assert best is not None
    return best


def longest_axial_diameter_mm(mask: np.ndarray, affine: np.ndarray) -> float:
    """RECIST-style longest axial diameter (mm) of a 3-D ``mask`` with its voxel-to-mm ``affine``."""
    return longest_axial_chord(mask, affine).length_mm


# --------------------------------------------------------------------------- signal per structure
def signal_by_structure(
    volume: VolumeLike, labels: VolumeLike, label_ids: Mapping[str, int]
) -> dict[str, float]:
    """Median value (volume units) of ``volume`` inside each labelled structure; ``labels`` may use another grid.

    Each label voxel centre is looked up in ``volume`` (nearest voxel); label voxels outside its field of view
    are skipped. ValueError if a structure has no voxel inside the field of view.
    """
    vol = d.as_ras_volume(volume)
    lab = d.as_ras_volume(labels, name="labels", order=0)
    # both grids are axis-aligned RAS+, so the nearest volume voxel of each label voxel is separable per axis
    maps = []
    for axis in range(3):
        centres = lab.affine[axis, 3] + np.arange(lab.shape[axis]) * lab.voxel_mm[axis]
        index = np.rint((centres - vol.affine[axis, 3]) / vol.voxel_mm[axis]).astype(np.intp)
        inside = (index >= 0) & (index < vol.shape[axis])
        maps.append((inside, index[inside]))
    found = lab.data[np.ix_(*(inside for inside, _ in maps))]  # label ids inside the field of view
    sampled = vol.data[np.ix_(*(index for _, index in maps))]  # volume values at those label voxels
    medians = {}
    for name, label in label_ids.items():
        sample = sampled[found == float(label)]
        if sample.size == 0:
            raise ValueError(
                f"structure {name!r} (label {label}) has no voxel inside {vol.name or 'the volume'}"
            )
        medians[name] = float(np.median(sample))
    return medians


# --------------------------------------------------------------------------- static figures
_WINDOWS: weakref.WeakKeyDictionary[RasVolume, tuple[float, float]] = weakref.WeakKeyDictionary()


def _default_window(vol: RasVolume) -> tuple[float, float]:
    """The volume's default display range (CT soft tissue, or MRI percentiles), computed once per volume."""
    if vol not in _WINDOWS:
        _WINDOWS[vol] = d.window_range(d.default_preset(vol), vol)
    return _WINDOWS[vol]


def _screen(vol: RasVolume, view: str, point_mm: Sequence[float]) -> tuple[float, float]:
    """Continuous screen (row, col) of a world point in a plane of ``view`` (its normal coordinate is ignored)."""
    point = np.asarray(point_mm, dtype=float)
    out = []
    for axis in reversed(INPLANE_AXES[view]):  # rows first, then columns; both are drawn reversed
        n, step = vol.shape[axis], vol.voxel_mm[axis]
        far_edge = vol.affine[axis, 3] + (n - 1) * step + step / 2
        out.append((far_edge - point[axis]) / vol.pixel_mm - 0.5)
    return out[0], out[1]


def _mark_items(marks: Mapping[str, Any] | None) -> list[tuple[str, np.ndarray, tuple[float, float] | None]]:
    """(text, point mm, text offset in points or None) for every mark: value = point, or (point, offset)."""
    items = []
    for text, value in (marks or {}).items():
        if len(value) == 2 and np.ndim(value[0]) == 1:
            items.append((text, _point3(f"mark {text!r}", value[0]), tuple(map(float, value[1]))))
        else:
            items.append((text, _point3(f"mark {text!r}", value), None))
    return items


def plane_figure(
    volumes: VolumeLike | Sequence[VolumeLike],
    view: str,
    position_mm: Sequence[float],
    *,
    fov_mm: float | None = None,
    titles: Sequence[str] | None = None,
    marks: Mapping[str, Any] | None = None,
    segments: Sequence[tuple[Sequence[float], Sequence[float]]] = (),
    title: str | None = None,
    panel_in: float = 3.6,
) -> Figure:
    """One plane of each volume side by side (``view`` through ``position_mm``), zoomed to ``fov_mm`` mm.

    Radiological convention with orientation letters. ``marks`` maps a label to a point in mm (or to
    ``(point, (dx, dy))``, a text offset in points) and draws an arrow to it; ``segments`` are caliper lines
    between two points in mm, labelled with their length. The figure carries ``alt_text``.
    """
    d.check_view(view)
    items = volumes if isinstance(volumes, list | tuple) else [volumes]
    vols = [d.as_ras_volume(v) for v in items]
    if not vols:
        raise ValueError("volumes is empty: give at least one volume")
    names = list(titles) if titles is not None else [v.name or f"volume {n + 1}" for n, v in enumerate(vols)]
    if len(names) != len(vols):
        raise ValueError(f"titles must match volumes one to one ({len(vols)}), got {len(names)}")
    if fov_mm is not None and not fov_mm > 0:
        raise ValueError(f"fov_mm must be > 0, got {fov_mm}")
    centre = _point3("position_mm", position_mm)
    mark_items = _mark_items(marks)
    segment_points = [(_point3("segment start", a), _point3("segment end", b)) for a, b in segments]
    fig = Figure(
        figsize=(panel_in * len(vols), panel_in + (1.0 if title else 0.7)),
        facecolor="black",
        layout="constrained",
    )
    axes = fig.subplots(1, len(vols), squeeze=False)[0]
    for ax, vol, name in zip(axes, vols, names, strict=True):
        index = vol.world_to_index(centre, clip=True)[NORMAL_AXIS[view]]
        low, high = _default_window(vol)
        ax.imshow(vol.plane(view, index), cmap="gray", vmin=low, vmax=high, interpolation="nearest")
        where = vol.index_to_world([index] * 3)[NORMAL_AXIS[view]]
        ax.set_title(
            f"{name}\n{view}, {'xyz'[NORMAL_AXIS[view]]} = {where:.0f} mm", color="white", fontsize=9
        )
        ax.set_axis_off()
        if fov_mm is not None:
            row, col = _screen(vol, view, centre)
            half = fov_mm / 2 / vol.pixel_mm
            ax.set_xlim(col - half, col + half)
            ax.set_ylim(row + half, row - half)
        _draw_letters(ax, view)
        for start, end in segment_points:
            (r0, c0), (r1, c1) = _screen(vol, view, start), _screen(vol, view, end)
            ax.plot([c0, c1], [r0, r1], color=SEGMENT_COLOUR, lw=1.6, marker="+", ms=9, mew=1.6)
            ax.annotate(
                f"{distance_mm(start, end):.1f} mm",
                ((c0 + c1) / 2, (r0 + r1) / 2),
                xytext=(0, -14),
                textcoords="offset points",
                ha="center",
                color=SEGMENT_COLOUR,
                fontsize=9,
                fontweight="bold",
                bbox={"boxstyle": "round,pad=0.15", "fc": "black", "ec": "none", "alpha": 0.6},
            )
        for text, point, offset in mark_items:
            row, col = _screen(vol, view, point)
            if offset is None:  # push the label toward the nearer side edge, a little upward
                centre_col = _screen(vol, view, centre)[1]
                offset = (-40.0 if col < centre_col else 40.0, 28.0)
            ax.annotate(
                text,
                (col, row),
                xytext=offset,
                textcoords="offset points",
                ha="center",
                color=MARK_COLOUR,
                fontsize=9,
                fontweight="bold",
                arrowprops={"arrowstyle": "->", "color": MARK_COLOUR, "lw": 1.4},
                bbox={"boxstyle": "round,pad=0.15", "fc": "black", "ec": "none", "alpha": 0.6},
            )
    if title:
        fig.suptitle(title, color="white", fontsize=11)
    x, y, z = (float(v) for v in centre)
    described = [f"{text} (arrow)" for text, _, _ in mark_items] + [
        f"caliper line of {distance_mm(a, b):.1f} mm" for a, b in segment_points
    ]
    fig.alt_text = (  # type: ignore[attr-defined]
        f"{view.capitalize()} plane of {', '.join(names)} through x={x:.0f}, y={y:.0f}, z={z:.0f} mm"
        f"{f', field of view {fov_mm:.0f} mm' if fov_mm else ''}, radiological convention"
        f"{'; marked: ' + ', '.join(described) if described else ''}."
    )
    return fig


def signal_figure(signal: Mapping[str, Mapping[str, float]], *, title: str | None = None) -> Figure:
    """Bar chart of median signal per structure, one bar per sequence: ``{"T1w": {structure: value}, ...}``."""
    if not signal:
        raise ValueError("signal is empty: give {sequence: {structure: value}}")
    names = list(next(iter(signal.values())))
    if not names or any(list(values) != names for values in signal.values()):
        raise ValueError("every sequence must list the same structures in the same order")
    fig = Figure(figsize=(7.5, 0.45 * len(names) + 1.3), layout="constrained")
    ax = fig.subplots()
    height = 0.8 / len(signal)
    for n, (sequence, values) in enumerate(signal.items()):
        offset = (n - (len(signal) - 1) / 2) * height  # the y axis is inverted: first sequence on top
        ax.barh(np.arange(len(names)) + offset, [values[k] for k in names], height=height, label=sequence)
    ax.set(
        yticks=range(len(names)),
        yticklabels=[k.replace("_", " ") for k in names],
        xlabel="median signal (arbitrary units)",
    )
    ax.invert_yaxis()  # structures read from top to bottom in the order given
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=len(signal), frameon=False)
    if title:
        fig.suptitle(title)
    fig.alt_text = (  # type: ignore[attr-defined]
        f"Bar chart of the median {' and '.join(signal)} signal of "
        f"{', '.join(k.replace('_', ' ') for k in names)}."
    )
    return fig


def _draw_letters(ax: Any, view: str) -> None:
    """Orientation letters of ``view`` at the four edges of an axes."""
    left, right, top, bottom = d.ORIENTATION_LETTERS[view]
    style = {
        "color": "yellow",
        "fontsize": 10,
        "fontweight": "bold",
        "transform": ax.transAxes,
        "bbox": {"boxstyle": "round,pad=0.1", "fc": "black", "ec": "none", "alpha": 0.5},
    }
    ax.text(0.02, 0.5, left, ha="left", va="center", **style)
    ax.text(0.98, 0.5, right, ha="right", va="center", **style)
    ax.text(0.5, 0.99, top, ha="center", va="top", **style)
    ax.text(0.5, 0.01, bottom, ha="center", va="bottom", **style)


# --------------------------------------------------------------------------- caliper widget
class Caliper:
    """Two crosshair positions stored from a ``utils.widgets`` slice viewer, and the distance between them.

    Put the crosshair on one edge of a lesion and press *Set A*, on the opposite edge and press *Set B*.
    Without widgets (or in a test), call ``set_a()`` / ``set_b()`` with a position in mm, or with none to
    take the viewer's crosshair. ``distance_mm`` is None until both ends are set.
    """

    def __init__(self, viewer: Any, *, fov_mm: float = 120.0, title: str | None = None):
        import ipywidgets as w

        if not hasattr(viewer, "position_mm") or not hasattr(viewer, "reference"):
            raise ValueError("viewer must be a utils.widgets slice viewer (e.g. OrthoViewer)")
        if not fov_mm > 0:
            raise ValueError(f"fov_mm must be > 0, got {fov_mm}")
        self.viewer, self.fov_mm, self.title = viewer, float(fov_mm), title
        self.point_a_mm: tuple[float, float, float] | None = None
        self.point_b_mm: tuple[float, float, float] | None = None
        self.buttons = {
            "a": w.Button(description="Set A", tooltip="Store the crosshair position as end A"),
            "b": w.Button(description="Set B", tooltip="Store the crosshair position as end B"),
            "clear": w.Button(description="Clear", tooltip="Forget both ends"),
        }
        self.buttons["a"].on_click(lambda _: self.set_a())
        self.buttons["b"].on_click(lambda _: self.set_b())
        self.buttons["clear"].on_click(lambda _: self.clear())
        self.readout = w.HTML()
        self.preview = w.Image(format="png", width="320")
        self.preview.layout.display = "none"
        self.widget = w.VBox([viewer.widget, w.HBox(list(self.buttons.values())), self.readout, self.preview])
        self._update()

    def _take(self, position_mm: Sequence[float] | None) -> tuple[float, float, float]:
        """A position (mm): the given one, checked, or the viewer's crosshair."""
        point = self.viewer.position_mm if position_mm is None else position_mm
        return tuple(float(v) for v in _point3("position_mm", point))  # type: ignore[return-value]

    def set_a(self, position_mm: Sequence[float] | None = None) -> None:
        """Store end A: ``position_mm`` (x, y, z in mm) or, by default, the viewer's crosshair."""
        self.point_a_mm = self._take(position_mm)
        self._update()

    def set_b(self, position_mm: Sequence[float] | None = None) -> None:
        """Store end B: ``position_mm`` (x, y, z in mm) or, by default, the viewer's crosshair."""
        self.point_b_mm = self._take(position_mm)
        self._update()

    def clear(self) -> None:
        """Forget both ends."""
        self.point_a_mm = self.point_b_mm = None
        self._update()

    @property
    def distance_mm(self) -> float | None:
        """Distance A-B in mm, or None while an end is missing."""
        if self.point_a_mm is None or self.point_b_mm is None:
            return None
        return distance_mm(self.point_a_mm, self.point_b_mm)

    @property
    def same_axial_slice(self) -> bool | None:
        """True when A and B lie on one axial slice (RECIST measures within a slice); None if unset."""
        if self.point_a_mm is None or self.point_b_mm is None:
            return None
        step = float(self.viewer.reference.voxel_mm[2])
        return abs(self.point_a_mm[2] - self.point_b_mm[2]) < step / 2

    def text(self) -> str:
        """Plain-text state: both ends and the distance, with a warning if they are on different slices."""

        def show(point: tuple[float, float, float] | None) -> str:
            return "not set" if point is None else "({:.1f}, {:.1f}, {:.1f}) mm".format(*point)

        text = f"A {show(self.point_a_mm)}; B {show(self.point_b_mm)}"
        if self.distance_mm is not None:
            text += f"; distance {self.distance_mm:.1f} mm"
            if not self.same_axial_slice:
                dz = abs(self.point_a_mm[2] - self.point_b_mm[2])  # type: ignore[index]
                text += f" (A and B are {dz:.1f} mm apart in z: RECIST measures on one axial slice)"
        return text

    def _update(self) -> None:
        """Refresh the readout and the preview image."""
        self.readout.value = self.text()
        if self.distance_mm is None:
            self.preview.layout.display = "none"
        else:
            self.preview.value = d.figure_png(self.static_figure(), dpi=72)
            self.preview.layout.display = None

    def static_figure(self) -> Figure:
        """Axial plane with the caliper line (at end A), or through the crosshair while an end is missing."""
        name = self.title or self.viewer.reference.name or "image"
        if self.point_a_mm is None or self.point_b_mm is None:
            return plane_figure(
                self.viewer.reference, "axial", self.viewer.position_mm, fov_mm=self.fov_mm, titles=[name]
            )
        middle = np.add(self.point_a_mm, self.point_b_mm) / 2
        middle[2] = self.point_a_mm[2]
        return plane_figure(
            self.viewer.reference,
            "axial",
            middle,
            fov_mm=max(self.fov_mm, 1.4 * (self.distance_mm or 0.0)),
            titles=[name],
            segments=[(self.point_a_mm, self.point_b_mm)],
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        return self.widget._repr_mimebundle_(**kwargs)

    def close(self) -> None:
        """Close the caliper's widgets (the viewer stays open)."""
        for widget in (*self.buttons.values(), self.readout, self.preview, self.widget):
            widget.close()
