"""Viewers on core ipywidgets: ortho, PET/CT fusion, linked dual tracer, rotating MIP; a NiiVue explorer.

Each viewer only wires widgets to the numpy core in ``utils.display``: a slider move re-slices the one plane
it moves (other planes reuse their cached frame and only get a new crosshair), then sends JPEG/PNG bytes to
an ``ipywidgets.Image``. No matplotlib per move and nothing beyond core ipywidgets, so the viewers run in
JupyterLab, Notebook 7, VS Code, Voila and Binder. Every viewer also has ``static_figure()`` for HTML pages
and handouts, and exposes its state (``position_mm``, ``indices``) so a task can check the crosshair.
"""

from __future__ import annotations

import collections
import gzip
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as w
import nibabel as nib
import numpy as np
import traitlets
from matplotlib.figure import Figure

from . import display as d
from .display import NORMAL_AXIS, VIEWS, RasVolume

ImageLike = nib.spatialimages.SpatialImage | RasVolume | np.ndarray
SuvScale = float | Mapping[str, Any]

_SLIDER_NAMES = {"sagittal": "Sagittal (x)", "coronal": "Coronal (y)", "axial": "Axial (z)"}
_WIDE = {"description_width": "initial"}


class TitledImage(w.Image):
    """``ipywidgets.Image`` whose ``tooltip`` becomes the <img> title (its accessible name).

    ipywidgets 8.1's front-end reads ``model.description.length`` when a widget has a tooltip; Image has no
    description, so a plain ``Image(tooltip=...)`` fails to render ("Could not create a view"). An empty
    synced ``description`` fixes that with core widgets only.
    """

    description = traitlets.Unicode("").tag(sync=True)


def _display_scale(shape: tuple[int, int], panel_px: int) -> float:
    """Screen px per frame px: every plane ``panel_px`` tall (as in the static figures), at most 2x as wide."""
    rows, cols = shape
    return min(panel_px / rows, 2.0 * panel_px / cols)


def _fit_width(shape: tuple[int, int], panel_px: int) -> str:
    """On-screen width (px) of a (rows, cols) frame; the browser keeps the aspect, so pixels stay square."""
    return str(max(1, round(shape[1] * _display_scale(shape, panel_px))))


def _letter_px(shape: tuple[int, int], panel_px: int) -> int:
    """Letter size in frame px that shows as about 13 screen px after the browser's scaling."""
    return int(np.clip(round(13.0 / _display_scale(shape, panel_px)), 6, 24))


def _labels_volume(labels: ImageLike | None) -> RasVolume | None:
    """The label map as a RasVolume (nearest-neighbour if it has to be resampled), or None."""
    return None if labels is None else d.as_ras_volume(labels, name="labels", order=0)


class SliceViewer:
    """Shared plumbing: one position (voxel indices on the reference grid), sliders, images, readout."""

    def __init__(
        self,
        reference: RasVolume,
        *,
        views: Sequence[str],
        position_mm: Sequence[float] | None,
        fmt: str,
        panel_px: int,
        title: str | None,
        labels: ImageLike | None = None,
        label_names: Mapping[int, str] | None = None,
    ):
        self.reference = reference
        self.views = tuple(d.check_view(v) for v in views)
        if not self.views:
            raise ValueError("views must name at least one of 'axial', 'coronal', 'sagittal'")
        if fmt not in ("jpeg", "png"):
            raise ValueError(f"unknown image format {fmt!r}: use 'jpeg' or 'png'")
        self.fmt = fmt
        self.labels = _labels_volume(labels)
        self.label_names = dict(label_names or {})
        self._ijk = list(
            reference.centre_index() if position_mm is None else reference.world_to_index(position_mm)
        )
        self._cache: dict[str, tuple[tuple, np.ndarray]] = {}  # one base frame per view: memory stays flat
        self._hold = False
        self._listeners: list[Callable[[SliceViewer], None]] = []
        self.sliders = {view: self._make_slider(view) for view in VIEWS}
        self.images = {view: self._make_image(view, panel_px) for view in self.views}
        self._letters = {view: _letter_px(reference.frame_shape(view), panel_px) for view in self.views}
        self.crosshair = w.Checkbox(
            value=True, description="Crosshair", indent=False, tooltip="Show the crosshair"
        )
        self.crosshair.observe(lambda _: self.refresh(), names="value")
        self.readout = w.HTML()
        self.note = w.HTML()
        self.title_text = title or ""
        self.title = w.HTML(f"<b>{title}</b>" if title else "")
        self.image_box = w.HBox(
            [self.images[v] for v in self.views], layout=w.Layout(align_items="flex-start")
        )
        self.slider_box = w.HBox([self.sliders[v] for v in VIEWS], layout=w.Layout(flex_flow="row wrap"))
        self.widget: w.Box = w.VBox()

    # ---- widgets
    def _make_slider(self, view: str) -> w.IntSlider:
        """Index slider for the plane ``view`` (it moves along that plane's normal axis)."""
        axis = NORMAL_AXIS[view]
        slider = w.IntSlider(
            value=self._ijk[axis],
            min=0,
            max=self.reference.shape[axis] - 1,
            step=1,
            description=_SLIDER_NAMES[view],
            tooltip=f"{view} slice number ({d.AXIS_NAMES[axis]})",
            continuous_update=True,
            style=_WIDE,
            layout=w.Layout(width="300px"),
        )
        slider.observe(lambda change, axis=axis: self._on_index(axis, change["new"]), names="value")
        return slider

    def _make_image(self, view: str, panel_px: int) -> w.Image:
        """Image widget for one plane, sized to fit ``panel_px`` with square pixels; tooltip = alt text."""
        shape = self.reference.frame_shape(view)
        left, right, top, bottom = d.ORIENTATION_LETTERS[view]
        tooltip = f"{view.capitalize()} plane: screen left {left}, right {right}, top {top}, bottom {bottom}"
        return TitledImage(format=self.fmt, width=_fit_width(shape, panel_px), tooltip=tooltip)

    def _assemble(self, controls: Sequence[w.Widget]) -> None:
        """Lay the viewer out: title, images, position sliders, controls, readout, note."""
        self.widget.children = (
            self.title,
            self.image_box,
            self.slider_box,
            w.HBox(list(controls), layout=w.Layout(flex_flow="row wrap")),
            self.readout,
            self.note,
        )
        self.refresh()

    # ---- state
    @property
    def indices(self) -> tuple[int, int, int]:
        """Crosshair voxel indices (i, j, k) on the reference grid."""
        return tuple(self._ijk)  # type: ignore[return-value]

    @indices.setter
    def indices(self, ijk: Sequence[int]) -> None:
        shape = self.reference.shape
        if len(ijk) != 3 or any(not 0 <= int(v) < n for v, n in zip(ijk, shape, strict=True)):
            raise ValueError(f"indices must be three voxel indices inside {shape}, got {ijk!r}")
        self._hold = True
        try:
            for view in VIEWS:
                self.sliders[view].value = int(ijk[NORMAL_AXIS[view]])
        finally:
            self._hold = False
        self._moved()

    @property
    def slice_indices(self) -> dict[str, int]:
        """Current slice number of each plane: {'sagittal': i, 'coronal': j, 'axial': k}."""
        return {view: self._ijk[NORMAL_AXIS[view]] for view in VIEWS}

    @property
    def position_mm(self) -> tuple[float, float, float]:
        """Crosshair world position (x, y, z) in mm, RAS+ (x toward the patient's right)."""
        return tuple(float(v) for v in self.reference.index_to_world(self._ijk))  # type: ignore[return-value]

    @position_mm.setter
    def position_mm(self, position_mm: Sequence[float]) -> None:
        self.indices = self.reference.world_to_index(position_mm)

    def on_position_change(self, callback: Callable[[SliceViewer], None]) -> None:
        """Call ``callback(viewer)`` after every crosshair move."""
        self._listeners.append(callback)

    def _on_index(self, axis: int, value: int) -> None:
        """A slider moved: record it and (unless several are being set at once) redraw."""
        self._ijk[axis] = int(value)
        if not self._hold:
            self._moved()

    def _moved(self) -> None:
        """Redraw after a crosshair move and tell listeners."""
        self.refresh()
        for callback in list(self._listeners):
            callback(self)

    # ---- drawing
    def _style_key(self) -> tuple:
        """Everything besides the slice number that changes a base frame (window, colours, ...)."""
        return ()

    def _base_frame(self, view: str, index: int) -> np.ndarray:
        """Screen frame (rows, cols, 3|4) uint8 of plane ``index`` without crosshair."""
        raise NotImplementedError

    def _frame(self, view: str) -> np.ndarray:
        """Frame of ``view`` with letters and crosshair; the base is recomputed only if its inputs changed."""
        index = self._ijk[NORMAL_AXIS[view]]
        key = (index, *self._style_key())
        cached = self._cache.get(view)
        if cached is None or cached[0] != key:
            cached = (key, d.stamp_letters(self._base_frame(view, index), view, size_px=self._letters[view]))
            self._cache[view] = cached
        if not self.crosshair.value:
            return cached[1]
        return d.draw_crosshair(cached[1].copy(), *self.reference.pixel_of(view, self._ijk))

    def refresh(self) -> None:
        """Re-encode every plane and the readout (images whose bytes do not change send nothing)."""
        for view in self.views:
            self.images[view].value = d.encode_frame(self._frame(view), self.fmt)
        self.readout.value = self._readout_html()

    def _restyle(self, _change: Any = None) -> None:
        """A display control changed: redraw."""
        self.refresh()

    # ---- readout
    def structure_at_crosshair(self) -> str | None:
        """Name of the labelled structure at the crosshair (needs ``labels``), else None."""
        if self.labels is None:
            return None
        label = d.label_at(self.labels, self.position_mm)
        return self.label_names.get(label, str(label)) if label else None

    def readout_values(self) -> dict[str, Any]:
        """Machine-readable readout: position (mm), indices, structure and the values at the crosshair."""
        return {
            "position_mm": self.position_mm,
            "indices": self.indices,
            "structure": self.structure_at_crosshair(),
        }

    def _position_html(self) -> str:
        """'x = .. mm (L), y = .. mm (A), z = .. mm' plus the structure, if labels are known."""
        x, y, z = self.position_mm
        text = f"x = {x:.1f} mm{_side(x, 'R', 'L')}, y = {y:.1f} mm{_side(y, 'A', 'P')}, z = {z:.1f} mm"
        structure = self.structure_at_crosshair()
        return text + (f" &middot; <i>{structure}</i>" if structure else "")

    def _readout_html(self) -> str:
        """HTML readout shown under the images."""
        return self._position_html()

    # ---- notebook protocol
    def add_note(self, text: str) -> None:
        """Show a one-line note under the viewer."""
        self.note.value = f"<small>{text}</small>"

    def static_figure(self) -> Figure:
        """Matplotlib figure of the current state (for static HTML and handouts)."""
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        return self.widget._repr_mimebundle_(**kwargs)

    def close(self) -> None:
        """Close every widget of the viewer (frees the front-end views)."""
        parts = (*self.sliders.values(), *self.images.values(), self.crosshair, self.readout, self.note)
        for widget in parts:
            widget.close()
        self.widget.close()


def _side(value_mm: float, positive: str, negative: str) -> str:
    """' (R)' / ' (L)' style hint for a world coordinate; nothing on the midline."""
    return "" if abs(value_mm) < 0.05 else f" ({positive if value_mm > 0 else negative})"


class OrthoViewer(SliceViewer):
    """Axial, coronal and sagittal planes of one volume with sliders, crosshair, window preset and readout."""

    def __init__(
        self,
        img: ImageLike,
        *,
        preset: str | tuple[float, float] | None = None,
        cmap: str = "gray",
        units: str | None = None,
        position_mm: Sequence[float] | None = None,
        views: Sequence[str] = VIEWS,
        labels: ImageLike | None = None,
        label_names: Mapping[int, str] | None = None,
        fmt: str = "jpeg",
        panel_px: int = 300,
        title: str | None = None,
    ):
        volume = d.as_ras_volume(img, name=title or "")
        super().__init__(
            volume,
            views=views,
            position_mm=position_mm,
            fmt=fmt,
            panel_px=panel_px,
            title=title,
            labels=labels,
            label_names=label_names,
        )
        preset = d.default_preset(volume) if preset is None else preset
        self._window = d.window_range(preset, volume)  # validates the name before any widget shows
        default_units = (
            "HU" if preset in d.CT_WINDOWS else "signal (a.u.)" if preset in d.MRI_PERCENTILES else ""
        )
        self.units = default_units if units is None else units
        d.colormap_lut(cmap)  # validates the name
        self.cmap = cmap
        options = list(d.CT_WINDOWS if self.units == "HU" else d.MRI_PERCENTILES)
        if not isinstance(preset, str):
            options.append("custom")
        self.preset = w.Dropdown(
            options=options,
            value=preset if isinstance(preset, str) else "custom",
            description="Window",
            style=_WIDE,
            tooltip="Window/level preset",
        )
        self.preset.observe(self._on_preset, names="value")
        self._assemble([self.preset, self.crosshair])

    def _on_preset(self, change: dict) -> None:
        """A new window preset: recompute the display range once, then redraw."""
        if change["new"] != "custom":
            self._window = d.window_range(change["new"], self.reference)
            self.refresh()

    def _style_key(self) -> tuple:
        return (self._window, self.cmap)

    def _base_frame(self, view: str, index: int) -> np.ndarray:
        return d.grey_rgb(self.reference.plane(view, index), *self._window, self.cmap)

    def value_at_crosshair(self) -> float:
        """Voxel value at the crosshair (HU for CT, arbitrary units for MRI)."""
        return float(self.reference.data[self.indices])

    def readout_values(self) -> dict[str, Any]:
        return {**super().readout_values(), "value": self.value_at_crosshair(), "units": self.units}

    def _readout_html(self) -> str:
        return f"{self._position_html()} &middot; value <b>{self.value_at_crosshair():.1f}</b> {self.units}"

    def static_figure(self) -> Figure:
        return d.ortho_figure(
            self.reference,
            position_mm=self.position_mm,
            preset=self._window_pair(),
            cmap=self.cmap,
            crosshair=self.crosshair.value,
            title=self.title_text or None,
            units=self.units,
        )

    def _window_pair(self) -> tuple[float, float]:
        """Current window as (width, level)."""
        low, high = self._window
        return (high - low, (high + low) / 2.0)


class FusionViewer(SliceViewer):
    """PET (SUV) over CT: opacity, SUV range, threshold, PET colormap, CT window, SUV readout."""

    def __init__(
        self,
        ct: ImageLike,
        pet: ImageLike,
        *,
        suv_scale: SuvScale = 1.0,
        suv_range: tuple[float, float] | None = None,
        tracer: str | None = None,
        pet_cmap: str = "hot",
        opacity: float = 0.5,
        threshold: float | None = None,
        preset: str | tuple[float, float] = "soft_tissue",
        position_mm: Sequence[float] | None = None,
        views: Sequence[str] = VIEWS,
        labels: ImageLike | None = None,
        label_names: Mapping[int, str] | None = None,
        fmt: str = "jpeg",
        panel_px: int = 300,
        title: str | None = None,
    ):
        ct_vol, pet_vol = d.pair_volumes(ct, pet)
        super().__init__(
            ct_vol,
            views=views,
            position_mm=position_mm,
            fmt=fmt,
            panel_px=panel_px,
            title=title,
            labels=labels,
            label_names=label_names,
        )
        self.tracer = (
            tracer or (suv_scale.get("TracerName") if isinstance(suv_scale, Mapping) else None) or "PET"
        )
        self.suv_scale = d.suv_scale_of(suv_scale)
        self.pet = pet_vol  # native grid, stored units: the readout comes from here
        self.pet_on_ct = d.resample_like(pet_vol, ct_vol, scale=self.suv_scale, name="pet_suv")  # once
        low, high = suv_range or d.suv_display_range(self.tracer)
        self._ct_window = d.window_range(preset)
        self.default_suv_range = (float(low), float(high))
        self.opacity = w.FloatSlider(
            value=opacity,
            min=0.0,
            max=1.0,
            step=0.05,
            description="PET opacity",
            style=_WIDE,
            tooltip="0 = CT only, 1 = PET only",
        )
        self.suv_range = w.FloatRangeSlider(
            value=(low, high),
            min=0.0,
            max=max(50.0, 2 * float(high)),
            step=0.5,
            description=f"{self.tracer} SUV",
            style=_WIDE,
            tooltip="PET display range in SUV",
        )
        self.threshold = w.FloatSlider(
            value=d.default_threshold(low, high) if threshold is None else threshold,
            min=0.0,
            max=float(high),
            step=0.1,
            description="SUV threshold",
            style=_WIDE,
            tooltip="PET at or below this SUV is transparent",
        )
        self.pet_cmap = w.Dropdown(
            options=_options(d.PET_COLORMAPS, pet_cmap),
            value=pet_cmap,
            description="PET colours",
            style=_WIDE,
            tooltip="PET colour map",
        )
        self.preset = w.Dropdown(
            options=_options(tuple(d.CT_WINDOWS), preset),
            value=_preset_name(preset),
            description="CT window",
            style=_WIDE,
            tooltip="CT window/level preset",
        )
        for control in (self.opacity, self.suv_range, self.threshold, self.pet_cmap):
            control.observe(self._restyle, names="value")
        self.preset.observe(self._on_preset, names="value")
        self._assemble(
            [self.opacity, self.suv_range, self.threshold, self.pet_cmap, self.preset, self.crosshair]
        )

    def _on_preset(self, change: dict) -> None:
        """New CT window: recompute once, redraw."""
        if change["new"] != "custom":
            self._ct_window = d.window_range(change["new"])
            self.refresh()

    def _style_key(self) -> tuple:
        return (
            self._ct_window,
            tuple(self.suv_range.value),
            self.threshold.value,
            self.opacity.value,
            self.pet_cmap.value,
        )

    def _base_frame(self, view: str, index: int) -> np.ndarray:
        low, high = self.suv_range.value
        if not high > low:
            high = low + 0.1  # a collapsed range slider must not break the frame
        cut = d.threshold_index(self.threshold.value, low, high)
        table = d.blend_table("gray", self.pet_cmap.value, float(self.opacity.value), cut)
        ct_index = d.to_uint8(self.reference.plane(view, index), *self._ct_window)
        pet_index = d.to_uint8(self.pet_on_ct.plane(view, index), low, high)
        return d.fuse_indices(ct_index, pet_index, table)

    def suv_at_crosshair(self) -> float:
        """SUV of the native PET voxel under the crosshair (not interpolated)."""
        return self.pet.value_at(self.position_mm) * self.suv_scale if self._inside_pet() else 0.0

    def _inside_pet(self) -> bool:
        """True when the crosshair lies inside the PET field of view."""
        try:
            self.pet.world_to_index(self.position_mm)
        except ValueError:
            return False
        return True

    def ct_at_crosshair(self) -> float:
        """CT value (HU) at the crosshair."""
        return float(self.reference.data[self.indices])

    def readout_values(self) -> dict[str, Any]:
        return {
            **super().readout_values(),
            "ct_hu": self.ct_at_crosshair(),
            "suv": self.suv_at_crosshair(),
            "tracer": self.tracer,
        }

    def _readout_html(self) -> str:
        return (
            f"{self._position_html()} &middot; CT <b>{self.ct_at_crosshair():.0f}</b> HU &middot; "
            f"{self.tracer} SUV <b>{self.suv_at_crosshair():.2f}</b>"
        )

    def static_figure(self) -> Figure:
        low, high = self.suv_range.value
        # The PET already resampled onto the CT grid (in SUV) is reused: no second resampling.
        return d.fusion_figure(
            self.reference,
            self.pet_on_ct,
            position_mm=self.position_mm,
            suv_range=(low, high),
            pet_cmap=self.pet_cmap.value,
            opacity=self.opacity.value,
            threshold=self.threshold.value,
            preset=_width_level(self._ct_window),
            views=self.views,
            title=f"{self.tracer} PET/CT",
        )


def _options(names: Sequence[str], value: Any) -> list[str]:
    """Dropdown options: ``names`` plus the current value if it is a custom one."""
    name = _preset_name(value)
    return list(names) if name in names else [*names, name]


def _preset_name(preset: Any) -> str:
    """Dropdown label of a preset: its name, or 'custom' for a (width, level) pair."""
    return preset if isinstance(preset, str) else "custom"


def _width_level(window: tuple[float, float]) -> tuple[float, float]:
    """(low, high) -> (width, level)."""
    return (window[1] - window[0], (window[0] + window[1]) / 2.0)


class DualTracerViewer:
    """FDG and DOTATATE fused on the same CT, one row each; slices, crosshair and display controls linked."""

    def __init__(
        self,
        ct: ImageLike,
        fdg: ImageLike,
        dotatate: ImageLike,
        *,
        fdg_suv_scale: SuvScale = 1.0,
        dotatate_suv_scale: SuvScale = 1.0,
        same_scale: bool = False,
        views: Sequence[str] = VIEWS,
        position_mm: Sequence[float] | None = None,
        pet_cmap: str = "hot",
        opacity: float = 0.5,
        labels: ImageLike | None = None,
        label_names: Mapping[int, str] | None = None,
        fmt: str = "jpeg",
        panel_px: int = 240,
        title: str | None = "FDG and DOTATATE PET/CT",
    ):
        ct_vol = d.as_ras_volume(ct, name="ct")
        labels_vol = _labels_volume(labels)
        common = {
            "views": views,
            "position_mm": position_mm,
            "pet_cmap": pet_cmap,
            "opacity": opacity,
            "labels": labels_vol,
            "label_names": label_names,
            "fmt": fmt,
            "panel_px": panel_px,
        }
        self.fdg = FusionViewer(ct_vol, fdg, suv_scale=fdg_suv_scale, tracer="FDG", **common)
        self.dotatate = FusionViewer(
            ct_vol, dotatate, suv_scale=dotatate_suv_scale, tracer="DOTATATE", **common
        )
        # the FDG viewer's controls drive both rows; traitlets links work in the kernel, so in every front-end
        self._links = [
            w.link((self.fdg.sliders[v], "value"), (self.dotatate.sliders[v], "value")) for v in VIEWS
        ]
        for name in ("opacity", "pet_cmap", "preset", "crosshair"):
            self._links.append(
                w.link((getattr(self.fdg, name), "value"), (getattr(self.dotatate, name), "value"))
            )
        self._scale_link: Any = None
        self.same_scale = w.Checkbox(
            value=False,
            description="Same SUV scale for both tracers",
            indent=False,
            tooltip="One SUV range for FDG and DOTATATE",
        )
        self.same_scale.observe(self._on_same_scale, names="value")
        self.same_scale.value = same_scale
        self.widget = w.VBox(
            [
                w.HTML(f"<b>{title}</b>" if title else ""),
                w.HBox([w.HTML("<b>FDG</b>", layout=w.Layout(width="80px")), self.fdg.image_box]),
                w.HBox([w.HTML("<b>DOTATATE</b>", layout=w.Layout(width="80px")), self.dotatate.image_box]),
                self.fdg.slider_box,
                w.HBox(
                    [self.fdg.opacity, self.fdg.pet_cmap, self.fdg.preset, self.fdg.crosshair],
                    layout=w.Layout(flex_flow="row wrap"),
                ),
                w.HBox(
                    [self.fdg.suv_range, self.dotatate.suv_range, self.same_scale],
                    layout=w.Layout(flex_flow="row wrap"),
                ),
                self.fdg.readout,
                self.dotatate.readout,
                self.fdg.note,
            ]
        )

    def _on_same_scale(self, change: dict) -> None:
        """Share one SUV range (the wider of the two defaults) or give each tracer its own again."""
        if change["new"]:
            low = min(self.fdg.default_suv_range[0], self.dotatate.default_suv_range[0])
            high = max(self.fdg.default_suv_range[1], self.dotatate.default_suv_range[1])
            self.fdg.suv_range.value = (low, high)
            self._scale_link = w.link((self.fdg.suv_range, "value"), (self.dotatate.suv_range, "value"))
        else:
            if self._scale_link is not None:
                self._scale_link.unlink()
                self._scale_link = None
            self.fdg.suv_range.value = self.fdg.default_suv_range
            self.dotatate.suv_range.value = self.dotatate.default_suv_range

    @property
    def position_mm(self) -> tuple[float, float, float]:
        """Shared crosshair position (x, y, z) in mm."""
        return self.fdg.position_mm

    @position_mm.setter
    def position_mm(self, position_mm: Sequence[float]) -> None:
        self.indices = self.fdg.reference.world_to_index(position_mm)

    @property
    def indices(self) -> tuple[int, int, int]:
        """Shared crosshair voxel indices on the CT grid."""
        return self.fdg.indices

    @indices.setter
    def indices(self, ijk: Sequence[int]) -> None:
        # the links move the DOTATATE sliders one by one: draw that row once, at the end
        self.dotatate._hold = True
        try:
            self.fdg.indices = ijk
        finally:
            self.dotatate._hold = False
        self.dotatate._moved()

    @property
    def slice_indices(self) -> dict[str, int]:
        """Current slice number of each plane."""
        return self.fdg.slice_indices

    def readout_values(self) -> dict[str, Any]:
        """Position, CT HU and both SUVs at the crosshair."""
        fdg, dota = self.fdg.readout_values(), self.dotatate.readout_values()
        return {**fdg, "suv_fdg": fdg["suv"], "suv_dotatate": dota["suv"]}

    def static_figure(self) -> Figure:
        """Two-row dual-tracer figure at the current crosshair and display settings."""
        return d.dual_tracer_figure(
            self.fdg.reference,
            self.fdg.pet,
            self.dotatate.pet,
            position_mm=self.position_mm,
            suv_scales=(self.fdg.suv_scale, self.dotatate.suv_scale),
            suv_ranges=(tuple(self.fdg.suv_range.value), tuple(self.dotatate.suv_range.value)),
            views=self.fdg.views,
            pet_cmap=self.fdg.pet_cmap.value,
            opacity=self.fdg.opacity.value,
            preset=_width_level(self.fdg._ct_window),
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        return self.widget._repr_mimebundle_(**kwargs)


class MIPCine:
    """Rotating maximum intensity projection with a Play control; frames precomputed once on the PET grid."""

    def __init__(
        self,
        pet: ImageLike,
        *,
        suv_scale: SuvScale = 1.0,
        suv_range: tuple[float, float] | None = None,
        tracer: str | None = None,
        cmap: str = d.MIP_COLORMAP,
        n_angles: int = 36,
        interval_ms: int = 120,
        fmt: str = "jpeg",
        panel_px: int = 360,
        title: str | None = None,
    ):
        self.tracer = (
            tracer or (suv_scale.get("TracerName") if isinstance(suv_scale, Mapping) else None) or "PET"
        )
        self.suv_scale = d.suv_scale_of(suv_scale)
        self.pet = d.as_ras_volume(pet, name=self.tracer)
        self.mips = d.rotating_mip(self.pet, n_angles)
        self.mips.frames *= np.float32(self.suv_scale)  # SUV from here on
        self.fmt = fmt
        low, high = suv_range or d.suv_display_range(self.tracer)
        self._encoded: dict[int, bytes] = {}  # frames of the current style only, so at most n_angles entries
        self._style: tuple = ()
        self.image = TitledImage(
            format=fmt,
            width=_fit_width(self.mips.frames.shape[1:], panel_px),
            tooltip=f"Rotating maximum intensity projection of {self.tracer} PET",
        )
        self.play = w.Play(
            value=0,
            min=0,
            max=n_angles - 1,
            step=1,
            interval=interval_ms,
            repeat=True,
            description="Play rotating MIP",
            tooltip="Play / pause the rotation",
        )
        self.slider = w.IntSlider(
            value=0,
            min=0,
            max=n_angles - 1,
            description="Angle step",
            style=_WIDE,
            tooltip=f"{360 / n_angles:g} degrees per step",
        )
        self._link = w.link((self.play, "value"), (self.slider, "value"))
        self.cmap = w.Dropdown(
            options=_options(d.PET_COLORMAPS, cmap),
            value=cmap,
            description="Colours",
            style=_WIDE,
            tooltip="MIP colour map (inverted grey is the nuclear medicine habit)",
        )
        self.suv_max = w.FloatSlider(
            value=high,
            min=max(low + 0.5, 1.0),
            max=max(50.0, 2 * high),
            step=0.5,
            description="SUV max",
            style=_WIDE,
            tooltip="Upper end of the SUV scale",
        )
        self._suv_low = float(low)
        self.readout = w.HTML()
        self.slider.observe(lambda _: self.refresh(), names="value")
        for control in (self.cmap, self.suv_max):
            control.observe(lambda _: self.refresh(), names="value")
        self.widget = w.VBox(
            [
                w.HTML(f"<b>{title}</b>" if title else ""),
                self.image,
                w.HBox([self.play, self.slider]),
                w.HBox([self.cmap, self.suv_max]),
                self.readout,
            ]
        )
        self.refresh()

    @property
    def frame_index(self) -> int:
        """Index of the frame on screen (0 = anterior view)."""
        return int(self.slider.value)

    @frame_index.setter
    def frame_index(self, index: int) -> None:
        self.slider.value = int(index) % len(self.mips)

    @property
    def angle_deg(self) -> float:
        """Rotation of the frame on screen in degrees (0 anterior, 90 right lateral)."""
        return float(self.mips.angles_deg[self.frame_index])

    def refresh(self) -> None:
        """Show the current frame, encoding it only the first time it is needed for the current style."""
        style = (self.cmap.value, self._suv_low, self.suv_max.value)
        if style != self._style:
            self._encoded.clear()
            self._style = style
        index = self.frame_index
        if index not in self._encoded:
            rgb = d.grey_rgb(self.mips.frames[index], self._suv_low, self.suv_max.value, self.cmap.value)
            self._encoded[index] = d.encode_frame(rgb, self.fmt)
        self.image.value = self._encoded[index]
        name = d.angle_name(self.angle_deg)
        angle = name if name.endswith("deg") else f"{name} ({self.angle_deg:.0f} deg)"
        self.readout.value = f"{self.tracer} MIP, {angle}, SUV {self._suv_low:g}-{self.suv_max.value:g}"

    def static_figure(self) -> Figure:
        """Figure of the frame on screen and the one 90 degrees further."""
        return d.mip_figure(
            self.pet,
            suv_scale=self.suv_scale,
            suv_range=(self._suv_low, self.suv_max.value),
            cmap=self.cmap.value,
            angles_deg=(self.angle_deg, (self.angle_deg + 90.0) % 360),
            title=f"{self.tracer} MIP",
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        return self.widget._repr_mimebundle_(**kwargs)


def link_viewers(*viewers: SliceViewer) -> Callable[[], None]:
    """Keep crosshairs of viewers on different grids at one world position (mm); returns an unlink."""
    busy = [False]

    def follow(source: SliceViewer) -> None:
        if busy[0]:
            return
        busy[0] = True
        try:
            for other in viewers:
                if other is not source:
                    other.indices = other.reference.world_to_index(source.position_mm, clip=True)
        finally:
            busy[0] = False

    for viewer in viewers:
        viewer.on_position_change(follow)

    def unlink() -> None:
        for viewer in viewers:
            if follow in viewer._listeners:
                viewer._listeners.remove(follow)

    return unlink


# --------------------------------------------------------------------------- NiiVue explorer
NIIVUE_COLORMAPS = {
    "hot": ("hot", False),
    "inferno": ("inferno", False),
    "viridis": ("viridis", False),
    "cividis": ("cividis", False),
    "magma": ("magma", False),
    "gray": ("gray", False),
    "gray_r": ("gray", True),
}


def nifti_bytes(volume: RasVolume, dtype: type = np.float32, *, scale: float = 1.0) -> bytes:
    """Gzipped NIfTI-1 bytes of a RasVolume (values times ``scale``), for widgets that take file contents."""
    data = volume.data * np.float32(scale) if scale != 1.0 else volume.data
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        data = np.clip(np.rint(data), info.min, info.max)
    img = nib.Nifti1Image(data.astype(dtype), volume.affine)
    img.set_qform(volume.affine, code=1)  # scanner coordinates: NiiVue reports clicks in these mm
    img.set_sform(volume.affine, code=1)
    return gzip.compress(img.to_bytes(), compresslevel=1)


class NiiVueExplorer:
    """NiiVue (WebGL) view of CT, optionally with PET (SUV) fused on top; clicks reported in world mm."""

    def __init__(
        self,
        ct: ImageLike,
        pet: ImageLike | None = None,
        *,
        suv_scale: SuvScale = 1.0,
        suv_range: tuple[float, float] | None = None,
        tracer: str | None = None,
        pet_cmap: str = "hot",
        opacity: float = 0.6,
        threshold: float | None = None,
        preset: str | tuple[float, float] | None = None,
        labels: ImageLike | None = None,
        label_names: Mapping[int, str] | None = None,
        lesions: Sequence[Mapping[str, Any]] | None = None,
        on_click: Callable[[dict[str, Any]], None] | None = None,
        height: int = 480,
        title: str | None = None,
    ):
        import ipyniivue  # optional at run time: niivue_explorer() falls back when this fails

        if pet_cmap not in NIIVUE_COLORMAPS:
            raise ValueError(
                f"unknown PET colormap {pet_cmap!r} for NiiVue: choose one of {', '.join(NIIVUE_COLORMAPS)}"
            )
        self.ct = d.as_ras_volume(ct, name="ct")
        self.pet = None if pet is None else d.as_ras_volume(pet, name="pet")
        self.tracer = (
            tracer or (suv_scale.get("TracerName") if isinstance(suv_scale, Mapping) else None) or "PET"
        )
        self.suv_scale = d.suv_scale_of(suv_scale)
        self.suv_range = tuple(float(v) for v in (suv_range or d.suv_display_range(self.tracer)))
        self.pet_cmap, self.opacity = pet_cmap, float(opacity)
        self.threshold = self.suv_range[0] if threshold is None else float(threshold)
        preset = d.default_preset(self.ct) if preset is None else preset
        self.ct_window = d.window_range(preset, self.ct)
        self.labels, self.label_names = _labels_volume(labels), dict(label_names or {})
        self.lesions = [dict(les) for les in (lesions or [])]
        self.on_click = on_click
        self.clicks: collections.deque[dict[str, Any]] = collections.deque(maxlen=100)  # bounded history
        self.last_click: dict[str, Any] | None = None
        self.nv = ipyniivue.NiiVue(
            height=height,
            is_radiological_convention=True,
            is_colorbar=True,
            back_color=(0.0, 0.0, 0.0, 1.0),
            crosshair_color=(0.0, 0.86, 1.0, 1.0),
        )
        self.nv.load_volumes(self._volumes(ipyniivue))
        self.nv.on_location_change(self.handle_location)
        self.readout = w.HTML(
            "Click in the viewer: the position (mm) and the structure under it appear here."
        )
        self.core_button = w.Button(
            description="Core viewer (no WebGL)",
            tooltip="Show the numpy/ipywidgets viewer instead of NiiVue",
            layout=w.Layout(width="auto"),
        )
        self.core_button.on_click(lambda _: self.show_core_viewer())
        self.core_box = w.VBox()
        note = w.HTML(
            "<small>If the view above stays blank (no WebGL in this browser), press "
            "<i>Core viewer</i>.</small>"
        )
        self.widget = w.VBox(
            [
                w.HTML(f"<b>{title}</b>" if title else ""),
                self.nv,
                self.readout,
                w.HBox([self.core_button, note]),
                self.core_box,
            ]
        )

    def _volumes(self, ipyniivue: Any) -> list[Any]:
        """NiiVue volumes from the arrays in memory (no files): CT as int16, PET as float32 SUV."""
        low, high = self.ct_window
        volumes = [
            ipyniivue.Volume(
                data=nifti_bytes(self.ct, np.int16),
                name="ct.nii.gz",
                colormap="gray",
                cal_min=low,
                cal_max=high,
                opacity=1.0,
            )
        ]
        if self.pet is not None:
            name, invert = NIIVUE_COLORMAPS[self.pet_cmap]
            pet = ipyniivue.Volume(
                data=nifti_bytes(self.pet, np.float32, scale=self.suv_scale),
                name=f"{self.tracer.lower()}_suv.nii.gz",
                colormap=name,
                cal_min=max(self.threshold, self.suv_range[0]),
                cal_max=self.suv_range[1],
                opacity=self.opacity,
                colormap_type=ipyniivue.ColormapType.ZERO_TO_MAX_TRANSPARENT_BELOW_MIN,
            )
            pet.colormap_invert = invert
            volumes.append(pet)
        return volumes

    @property
    def volumes(self) -> list[Any]:
        """The ipyniivue Volume objects shown (CT first)."""
        return list(self.nv.volumes)

    def handle_location(self, location: Mapping[str, Any]) -> dict[str, Any]:
        """NiiVue location-change callback: world mm -> lesion/structure there; records and returns it."""
        mm = location.get("mm") if isinstance(location, Mapping) else None
        if mm is None or len(mm) < 3:
            raise ValueError(f"location event without 'mm' coordinates: {location!r}")
        position = tuple(float(v) for v in list(mm)[:3])
        lesion = d.lesion_at(position, self.lesions, self.labels) if self.lesions else None
        label = d.label_at(self.labels, position) if self.labels is not None else 0
        suv = None
        if self.pet is not None:
            try:
                suv = self.pet.value_at(position) * self.suv_scale
            except ValueError:
                suv = None
        click = {
            "position_mm": position,
            "lesion": lesion["name"] if lesion else None,
            "structure": self.label_names.get(label, str(label)) if label else None,
            "suv": suv,
        }
        self.last_click = click
        self.clicks.append(click)
        self.readout.value = _click_html(click, self.tracer)
        if self.on_click is not None:
            self.on_click(click)
        return click

    def show_core_viewer(self) -> SliceViewer:
        """Build (once) and show the numpy/ipywidgets viewer under the NiiVue view."""
        if not self.core_box.children:
            viewer = _core_viewer(
                self.ct,
                self.pet,
                suv_scale=self.suv_scale,
                suv_range=self.suv_range,
                tracer=self.tracer,
                pet_cmap=self.pet_cmap if self.pet_cmap in d.PET_COLORMAPS else "hot",
                opacity=self.opacity,
                labels=self.labels,
                label_names=self.label_names,
            )
            self._core_viewer = viewer
            self.core_box.children = (viewer.widget,)
        return self._core_viewer

    def static_figure(self) -> Figure:
        """Static figure at the last click (or the centre): fused if PET is shown, else ortho."""
        position = self.last_click["position_mm"] if self.last_click else None
        if self.pet is None:
            return d.ortho_figure(self.ct, position_mm=position, preset=_width_level(self.ct_window))
        return d.fusion_figure(
            self.ct,
            self.pet,
            position_mm=position,
            suv_scale=self.suv_scale,
            suv_range=self.suv_range,
            pet_cmap=self.pet_cmap,
            opacity=self.opacity,
            threshold=self.threshold,
            preset=_width_level(self.ct_window),
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        return self.widget._repr_mimebundle_(**kwargs)


def _click_html(click: Mapping[str, Any], tracer: str) -> str:
    """One-line description of a click."""
    x, y, z = click["position_mm"]
    text = f"Clicked x = {x:.1f}, y = {y:.1f}, z = {z:.1f} mm"
    if click["suv"] is not None:
        text += f" &middot; {tracer} SUV {click['suv']:.2f}"
    if click["lesion"]:
        text += f" &middot; lesion <b>{click['lesion']}</b>"
    elif click["structure"]:
        text += f" &middot; <i>{click['structure']}</i>"
    return text


def _core_viewer(ct: ImageLike, pet: ImageLike | None, **kwargs: Any) -> SliceViewer:
    """FusionViewer when there is PET, else OrthoViewer (PET-only keywords dropped)."""
    if pet is not None:
        return FusionViewer(ct, pet, **kwargs)
    keep = {k: v for k, v in kwargs.items() if k in ("labels", "label_names", "position_mm", "title")}
    return OrthoViewer(ct, **keep)


def niivue_explorer(
    ct: ImageLike, pet: ImageLike | None = None, **kwargs: Any
) -> NiiVueExplorer | SliceViewer:
    """The NiiVue explorer, or, if ipyniivue is missing or fails, the core viewer with a one-line note."""
    try:
        return NiiVueExplorer(ct, pet, **kwargs)
    except ValueError:
        raise  # bad input is the caller's to fix, not a reason to fall back
    except Exception as err:  # any other failure of the optional widget: fall back, never break the notebook
        core_kwargs = {
            k: v
            for k, v in kwargs.items()
            if k
            in (
                "suv_scale",
                "suv_range",
                "tracer",
                "pet_cmap",
                "opacity",
                "threshold",
                "labels",
                "label_names",
            )
        }
        viewer = _core_viewer(ct, pet, **core_kwargs)
        viewer.add_note(
            f"NiiVue explorer unavailable ({type(err).__name__}: {err}); showing the core viewer."
        )
        return viewer
