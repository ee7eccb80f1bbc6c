"""Headless tests of the ipywidgets viewers and the NiiVue explorer (plus one optional real-browser test)."""

from __future__ import annotations

import gc
import io
import sys
import tracemalloc

import ipywidgets as w
import nibabel as nib
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from utils import display as d
from utils import widgets as W

SUV_SCALE = 1e-3  # stored Bq/mL x 1e-3 = SUV in these synthetic volumes
LESION_MM = (-12.0, 9.0, -6.0)  # patient left, anterior, inferior of the centre


def _ct_pet() -> tuple[nib.Nifti1Image, nib.Nifti1Image, nib.Nifti1Image]:
    """Small CT (3 mm, HU), PET (4 mm, Bq/mL) with a hot lesion, and a label map on the CT grid."""
    rng = np.random.default_rng(7)
    ct_affine = np.diag([3.0, 3.0, 3.0, 1.0])
    ct_affine[:3, 3] = [-45.0, -36.0, -60.0]
    ct = rng.normal(40.0, 15.0, (31, 25, 41)).astype(np.float32)
    ct[:, :3] = -1000.0  # air behind the patient
    pet_affine = np.diag([4.0, 4.0, 4.0, 1.0])
    pet_affine[:3, 3] = [-48.0, -40.0, -64.0]
    pet = rng.uniform(500.0, 1500.0, (25, 21, 33)).astype(np.float32)
    centre = np.rint(np.linalg.solve(pet_affine[:3, :3], np.subtract(LESION_MM, pet_affine[:3, 3]))).astype(
        int
    )
    pet[tuple(slice(c - 1, c + 2) for c in centre)] = 8000.0
    labels = np.zeros(ct.shape, np.uint8)
    ijk = np.rint(np.linalg.solve(ct_affine[:3, :3], np.subtract(LESION_MM, ct_affine[:3, 3]))).astype(int)
    labels[tuple(slice(c - 2, c + 3) for c in ijk)] = 47
    return (
        nib.Nifti1Image(ct, ct_affine),
        nib.Nifti1Image(pet, pet_affine),
        nib.Nifti1Image(labels, ct_affine),
    )


@pytest.fixture(scope="module")
def synthetic():
    return _ct_pet()


LESIONS = [{"id": 47, "name": "presacral_mass", "centre_mm": list(LESION_MM), "longest_diameter_mm": 15.0}]


def _images(viewer) -> dict[str, bytes]:
    return {view: image.value for view, image in viewer.images.items()}


def test_ortho_viewer_sliders_update_images_and_readout(synthetic):
    ct, _, labels = synthetic
    viewer = W.OrthoViewer(ct, labels=labels, label_names={47: "presacral_mass"})
    assert viewer.units == "HU" and viewer.preset.value == "soft_tissue"
    assert all(s.description for s in viewer.sliders.values())
    before, readout = _images(viewer), viewer.readout.value
    viewer.sliders["axial"].value += 3
    after = _images(viewer)
    assert after["axial"] != before["axial"]  # new slice
    assert after["coronal"] != before["coronal"]  # crosshair moved
    assert viewer.readout.value != readout
    assert viewer.value_at_crosshair() == float(ct.get_fdata()[viewer.indices])
    viewer.position_mm = LESION_MM
    assert np.allclose(viewer.position_mm, LESION_MM, atol=1.5)
    assert viewer.slice_indices["axial"] == viewer.sliders["axial"].value == viewer.indices[2]
    assert viewer.readout_values()["structure"] == "presacral_mass"
    assert "presacral_mass" in viewer.readout.value
    bone_before = viewer.images["axial"].value
    viewer.preset.value = "bone"
    assert viewer.images["axial"].value != bone_before
    assert "application/vnd.jupyter.widget-view+json" in viewer._repr_mimebundle_()
    assert isinstance(viewer.static_figure(), Figure)


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def test_every_tooltip_has_a_description_trait(synthetic):
    # ipywidgets 8.1's front-end crashes on a tooltip of a widget without `description` (e.g. Image, Box)
    ct, pet, _ = synthetic
    dual = W.DualTracerViewer(ct, pet, pet, fdg_suv_scale=SUV_SCALE, dotatate_suv_scale=SUV_SCALE)
    cine = W.MIPCine(pet, suv_scale=SUV_SCALE, n_angles=4)
    for root in (dual.widget, cine.widget, W.OrthoViewer(ct).widget):
        for widget in _walk(root):
            if getattr(widget, "tooltip", None):
                assert widget.has_trait("description"), type(widget).__name__
    images = [x for x in _walk(dual.widget) if isinstance(x, w.Image)]
    assert images and all(image.tooltip for image in images)  # the accessible name of each frame


def test_only_the_moved_plane_is_resliced(synthetic):
    ct, _, _ = synthetic
    viewer = W.OrthoViewer(ct)
    calls: list[str] = []
    original = viewer._base_frame
    viewer._base_frame = lambda view, index: calls.append(view) or original(view, index)
    viewer.sliders["axial"].value += 1
    assert calls == ["axial"]
    bytes_before = viewer.images["axial"].value
    viewer.crosshair.value = False
    viewer.crosshair.value = True
    assert viewer.images["axial"].value == bytes_before and calls == ["axial"]


def test_fusion_viewer_suv_readout_and_controls(synthetic):
    ct, pet, _ = synthetic
    viewer = W.FusionViewer(ct, pet, suv_scale=SUV_SCALE, tracer="FDG", position_mm=LESION_MM, fmt="png")
    native = d.as_ras_volume(pet)
    expected = native.data[native.world_to_index(viewer.position_mm)] * SUV_SCALE
    assert viewer.suv_at_crosshair() == pytest.approx(expected)
    assert viewer.suv_at_crosshair() == pytest.approx(8.0)
    assert "SUV <b>8.00</b>" in viewer.readout.value
    assert viewer.suv_range.value == (0.0, 10.0)
    viewer.sliders["sagittal"].value = 0
    assert viewer.readout_values()["suv"] == pytest.approx(native.value_at(viewer.position_mm) * SUV_SCALE)
    before = viewer.images["axial"].value
    viewer.opacity.value = 0.0
    frame = np.asarray(Image.open(io.BytesIO(viewer.images["axial"].value)))
    ct_only = d.grey_rgb(viewer.reference.plane("axial", viewer.indices[2]), -160, 240)
    d.stamp_letters(ct_only, "axial", size_px=viewer._letters["axial"])
    d.draw_crosshair(ct_only, *viewer.reference.pixel_of("axial", viewer.indices))
    assert frame.shape[:2] == ct_only.shape[:2] and np.array_equal(frame[..., :3], ct_only)
    assert viewer.images["axial"].value != before
    for control, value in (
        (viewer.opacity, 1.0),
        (viewer.pet_cmap, "viridis"),
        (viewer.suv_range, (0.0, 5.0)),
        (viewer.threshold, 1.5),
        (viewer.preset, "liver"),
    ):
        previous = viewer.images["axial"].value
        control.value = value
        assert viewer.images["axial"].value != previous, control.description
    fig = viewer.static_figure()
    assert isinstance(fig, Figure) and "viridis" in fig.alt_text


def test_dual_tracer_viewer_stays_linked(synthetic):
    ct, pet, _ = synthetic
    dota = nib.Nifti1Image(np.asarray(pet.dataobj) * 3.0, pet.affine)
    viewer = W.DualTracerViewer(ct, pet, dota, fdg_suv_scale=SUV_SCALE, dotatate_suv_scale=SUV_SCALE)
    for view in d.VIEWS:
        before = viewer.dotatate.images[view].value if view in viewer.dotatate.images else None
        viewer.fdg.sliders[view].value = 4
        assert viewer.dotatate.indices == viewer.fdg.indices
        assert viewer.dotatate.images[view].value != before
    viewer.position_mm = LESION_MM
    assert viewer.dotatate.position_mm == viewer.fdg.position_mm == viewer.position_mm
    values = viewer.readout_values()
    assert values["suv_fdg"] == pytest.approx(8.0) and values["suv_dotatate"] == pytest.approx(24.0)
    viewer.fdg.opacity.value = 0.9
    assert viewer.dotatate.opacity.value == 0.9
    assert viewer.fdg.suv_range.value == (0.0, 10.0) and viewer.dotatate.suv_range.value == (0.0, 30.0)
    viewer.same_scale.value = True
    assert viewer.fdg.suv_range.value == viewer.dotatate.suv_range.value == (0.0, 30.0)
    viewer.fdg.suv_range.value = (0.0, 20.0)
    assert viewer.dotatate.suv_range.value == (0.0, 20.0)
    viewer.same_scale.value = False
    assert viewer.dotatate.suv_range.value == (0.0, 30.0)
    viewer.fdg.suv_range.value = (0.0, 12.0)
    assert viewer.dotatate.suv_range.value == (0.0, 30.0)
    assert isinstance(viewer.static_figure(), Figure)
    assert "application/vnd.jupyter.widget-view+json" in viewer._repr_mimebundle_()


def test_link_viewers_across_grids(synthetic):
    ct, pet, _ = synthetic
    ortho_pet = W.OrthoViewer(pet, preset=(2000.0, 1000.0), units="Bq/mL")
    fusion = W.FusionViewer(ct, pet, suv_scale=SUV_SCALE)
    unlink = W.link_viewers(ortho_pet, fusion)
    fusion.position_mm = LESION_MM
    assert np.allclose(ortho_pet.position_mm, fusion.position_mm, atol=2.0)
    ortho_pet.sliders["axial"].value = 3
    assert abs(fusion.position_mm[2] - ortho_pet.position_mm[2]) <= 2.0
    unlink()
    ortho_pet.sliders["axial"].value = 10
    assert abs(fusion.position_mm[2] - ortho_pet.position_mm[2]) > 2.0


def test_mip_cine_plays_precomputed_frames(synthetic):
    _, pet, _ = synthetic
    cine = W.MIPCine(pet, suv_scale=SUV_SCALE, n_angles=12)
    assert len(cine.mips) == 12 and cine.play.max == 11
    first = cine.image.value
    cine.play.value = 3  # the Play control drives the angle slider
    assert cine.slider.value == 3 and cine.angle_deg == 90.0 and cine.image.value != first
    assert "right lateral" in cine.readout.value
    cine.play.value = 0
    assert cine.image.value == first  # cached frame, same bytes
    cine.cmap.value = "inferno"
    assert cine.image.value != first
    assert isinstance(cine.static_figure(), Figure)


def test_bad_input_is_a_clear_value_error(synthetic):
    ct, pet, _ = synthetic
    with pytest.raises(ValueError, match="unknown window preset"):
        W.OrthoViewer(ct, preset="abdomen_please")
    with pytest.raises(ValueError, match="4-D"):
        W.OrthoViewer(np.zeros((4, 4, 4, 2)))
    with pytest.raises(ValueError, match="differ"):
        W.FusionViewer(np.zeros((8, 8, 8)), np.zeros((4, 4, 4)))
    with pytest.raises(ValueError, match="outside"):
        W.OrthoViewer(ct).position_mm = (900.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="unknown view"):
        W.OrthoViewer(ct, views=("axial", "oblique"))
    with pytest.raises(ValueError, match="unknown colormap"):
        W.FusionViewer(ct, pet, pet_cmap="rainbow_please")


def test_memory_stays_flat_over_thousands_of_moves(synthetic):
    ct, pet, _ = synthetic
    viewer = W.FusionViewer(ct, pet, suv_scale=SUV_SCALE, views=("axial",))  # one plane keeps it fast
    sliders = viewer.sliders
    for n in range(100):  # warm caches (LUTs, blend tables, glyphs) before measuring
        sliders["axial"].value = n % 41
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        for n in range(1000):  # 2000 moves: a new slice, then a crosshair move
            sliders["axial"].value = n % 41
            sliders["coronal"].value = (n * 7) % 25
        gc.collect()  # Pillow encoders sit in reference cycles until the collector runs
        growth = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    assert growth < 1_000_000, f"memory grew by {growth} bytes over 2000 moves"


def test_viewers_on_the_course_data_find_the_presacral_mass():
    from utils import DATA_DIR, io

    if not (DATA_DIR / "manifest.json").exists():
        pytest.skip("course data not built (python -m utils.build_data)")
    mass = next(les for les in io.load_lesions() if les["name"] == "presacral_mass")
    viewer = W.FusionViewer(
        io.load_volume("ct"),
        io.load_volume("pet_fdg"),
        suv_scale=io.load_sidecar("pet_fdg"),
        labels=io.load_volume("labels"),
        label_names=io.load_labels(),
        views=("axial",),
    )
    viewer.position_mm = mass["centre_mm"]  # the task: "put the crosshair on the presacral mass"
    values = viewer.readout_values()
    assert values["structure"] == "presacral_mass" and values["tracer"] == "FDG"
    assert 0.5 * mass["suv_fdg"] < values["suv"] < 1.5 * mass["suv_fdg"]
    assert d.lesion_at(viewer.position_mm, io.load_lesions(), viewer.labels)["name"] == "presacral_mass"


# --------------------------------------------------------------------------- NiiVue explorer
def test_niivue_explorer_holds_volumes_and_reports_clicks(synthetic):
    pytest.importorskip("ipyniivue")
    ct, pet, labels = synthetic
    clicks = []
    explorer = W.niivue_explorer(
        ct,
        pet,
        suv_scale=SUV_SCALE,
        tracer="FDG",
        suv_range=(0.0, 10.0),
        pet_cmap="inferno",
        opacity=0.7,
        labels=labels,
        lesions=LESIONS,
        label_names={47: "presacral_mass"},
        on_click=clicks.append,
    )
    assert isinstance(explorer, W.NiiVueExplorer)
    ct_vol, pet_vol = explorer.volumes
    assert ct_vol.colormap == "gray" and (ct_vol.cal_min, ct_vol.cal_max) == (-160.0, 240.0)
    assert pet_vol.colormap == "inferno" and (pet_vol.cal_min, pet_vol.cal_max) == (0.0, 10.0)
    assert pet_vol.opacity == pytest.approx(0.7)
    assert explorer.nv.opts.is_radiological_convention
    sent = nib.Nifti1Image.from_bytes(__import__("gzip").decompress(pet_vol.data))
    assert np.allclose(sent.affine, d.as_ras_volume(pet).affine)
    assert float(np.asarray(sent.dataobj).max()) == pytest.approx(8.0)  # SUV, not Bq/mL
    # a synthetic NiiVue location-change event, as the front-end sends it
    event = {
        "ax_cor_sag": 0,
        "frac": [0.4, 0.6, 0.45],
        "mm": [*LESION_MM, 1.0],
        "vox": [10, 15, 18],
        "values": [40.0, 8.0],
        "string": "",
        "xy": [120.0, 88.0],
    }
    explorer.nv._handle_custom_msg({"event": "location_change", "data": event}, [])
    assert explorer.last_click["lesion"] == "presacral_mass" and clicks[-1] is explorer.last_click
    assert explorer.last_click["suv"] == pytest.approx(8.0)
    assert "presacral_mass" in explorer.readout.value
    elsewhere = explorer.handle_location({"mm": [30.0, -30.0, 50.0]})
    assert elsewhere["lesion"] is None
    with pytest.raises(ValueError, match="mm"):
        explorer.handle_location({"vox": [1, 2, 3]})
    core = explorer.show_core_viewer()
    assert isinstance(core, W.FusionViewer) and explorer.core_box.children == (core.widget,)
    assert isinstance(explorer.static_figure(), Figure)


def test_niivue_explorer_falls_back_to_the_core_viewer(synthetic, monkeypatch):
    ct, pet, _ = synthetic
    monkeypatch.setitem(sys.modules, "ipyniivue", None)  # import now fails, as if not installed
    viewer = W.niivue_explorer(ct, pet, suv_scale=SUV_SCALE)
    assert isinstance(viewer, W.FusionViewer)
    assert "NiiVue explorer unavailable" in viewer.note.value and viewer.note in viewer.widget.children
    ortho = W.niivue_explorer(ct)
    assert isinstance(ortho, W.OrthoViewer)


def test_static_figure_keeps_the_viewer_title_and_names_mri_units():
    data = np.random.default_rng(0).random((20, 20, 20)).astype(np.float32) * 500
    viewer = W.OrthoViewer(nib.Nifti1Image(data, np.eye(4)), preset="mri", title="T2w MRI")
    assert viewer.units == "signal (a.u.)"
    fig = viewer.static_figure()
    assert fig.get_suptitle() == "T2w MRI"
    assert "signal (a.u.)" in [ax.get_ylabel() for ax in fig.axes]
