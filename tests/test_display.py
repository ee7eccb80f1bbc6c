"""Tests of the numpy display core: orientation, window/level, LUTs, fusion, MIPs, figures, bad input."""

from __future__ import annotations

import io

import matplotlib
import matplotlib.pyplot as plt
import nibabel as nib
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from utils import display as d

# two markers in world mm: bright at patient left/anterior/superior, dim at right/posterior/inferior
BRIGHT_MM = np.array([-24.0, 18.0, 30.0])
DIM_MM = np.array([21.0, -15.0, -27.0])


def _rotation(axis: int, deg: float) -> np.ndarray:
    """3x3 rotation about a world axis."""
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    i, j = [a for a in range(3) if a != axis]
    rot = np.eye(3)
    rot[i, i], rot[i, j], rot[j, i], rot[j, j] = c, -s, s, c
    return rot


def _affine(kind: str) -> np.ndarray:
    """Voxel -> world affine whose grid is centred on the world origin: RAS, LAS, or oblique."""
    shape = np.array([36, 40, 44])
    zooms = np.array([2.5, 2.0, 3.0])
    rot = {
        "RAS": np.eye(3),
        "LAS": np.diag([-1.0, 1.0, 1.0]),
        "oblique": _rotation(2, 12.0) @ _rotation(0, -9.0) @ np.diag([-1.0, 1.0, 1.0]),
    }[kind]
    affine = np.eye(4)
    affine[:3, :3] = rot @ np.diag(zooms)
    affine[:3, 3] = -affine[:3, :3] @ ((shape - 1) / 2.0)
    return affine


def _marker_image(kind: str) -> nib.Nifti1Image:
    """A volume with a 3x3x3 bright cube at BRIGHT_MM and a dim one at DIM_MM, on the ``kind`` grid."""
    affine = _affine(kind)
    data = np.zeros((36, 40, 44), np.float32)
    inverse = np.linalg.inv(affine)
    for pos, value in ((BRIGHT_MM, 1000.0), (DIM_MM, 500.0)):
        i, j, k = np.rint(inverse[:3, :3] @ pos + inverse[:3, 3]).astype(int)
        data[i - 1 : i + 2, j - 1 : j + 2, k - 1 : k + 2] = value
    return nib.Nifti1Image(data, affine)


def _peak(frame: np.ndarray, near: float) -> tuple[int, int]:
    """(row, col) of the pixel closest to value ``near`` among the brightest ones."""
    mask = np.abs(frame - near) < 0.25 * near
    rows, cols = np.nonzero(mask)
    assert rows.size, "marker not visible in this plane"
    return int(np.median(rows)), int(np.median(cols))


@pytest.mark.parametrize("kind", ["RAS", "LAS", "oblique"])
def test_markers_land_on_the_expected_pixel_and_side(tmp_path, kind):
    path = tmp_path / f"{kind}.nii.gz"
    nib.save(_marker_image(kind), path)
    vol = d.as_ras_volume(nib.load(path))
    for view in d.VIEWS:
        bright_ijk = vol.world_to_index(BRIGHT_MM)
        plane = vol.plane(view, bright_ijk[d.NORMAL_AXIS[view]])
        row, col = _peak(plane, 1000.0)
        exp_row, exp_col = vol.pixel_of_mm(view, BRIGHT_MM)
        tolerance = 1.5 * vol.voxel_mm.max() / vol.pixel_mm
        assert abs(row - exp_row) <= tolerance and abs(col - exp_col) <= tolerance, (view, row, col)
        rows, cols = plane.shape
        if view in ("axial", "coronal"):
            assert col > cols / 2, f"{view}: patient left must be on screen right"
        else:
            assert col < cols / 2, "sagittal: anterior must be on screen left"
        if view == "axial":
            assert row < rows / 2, "axial: anterior must be at the top"
        else:
            assert row < rows / 2, f"{view}: superior must be at the top"
        dim_plane = vol.plane(view, vol.world_to_index(DIM_MM)[d.NORMAL_AXIS[view]])
        dim_row, dim_col = _peak(dim_plane, 500.0)
        assert dim_row > row  # inferior / posterior lower on screen
        assert (dim_col < col) if view != "sagittal" else (dim_col > col)


def test_expected_pixel_from_geometry_alone():
    # RAS+, 2 x 3 x 4 mm voxels: screen pixel = distance from the screen-left edge / 2 mm pixel
    affine = np.diag([2.0, 3.0, 4.0, 1.0])
    affine[:3, 3] = [-40.0, -75.0, -120.0]
    data = np.zeros((40, 50, 60), np.float32)
    data[10, 35, 45] = 1.0  # x = -20 (left), y = 30 (anterior), z = 60 (superior)
    vol = d.as_ras_volume(nib.Nifti1Image(data, affine))
    x_right_edge, y_front_edge, z_top_edge = -40 + 39 * 2 + 1, -75 + 49 * 3 + 1.5, -120 + 59 * 4 + 2
    expected = {
        "axial": ((y_front_edge - 30) / 2, (x_right_edge + 20) / 2),
        "coronal": ((z_top_edge - 60) / 2, (x_right_edge + 20) / 2),
        "sagittal": ((z_top_edge - 60) / 2, (y_front_edge - 30) / 2),
    }
    for view, (row_mm, col_mm) in expected.items():
        plane = vol.plane(view, (10, 35, 45)[d.NORMAL_AXIS[view]])
        rows, cols = np.nonzero(plane)
        assert rows.min() <= row_mm <= rows.max() + 1 and cols.min() <= col_mm <= cols.max() + 1, view
    assert vol.frame_shape("axial") == (75, 40)  # 150 mm x 80 mm at 2 mm pixels: square pixels
    assert vol.frame_shape("sagittal") == (120, 75)


def test_world_index_round_trip_and_outside():
    vol = d.as_ras_volume(_marker_image("RAS"))
    ijk = vol.world_to_index(BRIGHT_MM)
    assert np.allclose(vol.index_to_world(ijk), BRIGHT_MM, atol=vol.voxel_mm.max())
    with pytest.raises(ValueError, match="outside"):
        vol.world_to_index((500.0, 0.0, 0.0))
    assert vol.world_to_index((500.0, 0.0, 0.0), clip=True)[0] == vol.shape[0] - 1


def test_window_presets_and_uint8_mapping():
    assert d.window_range("soft_tissue") == (-160.0, 240.0)
    assert d.window_range("bone") == (-500.0, 1300.0)
    assert d.window_range("lung") == (-1350.0, 150.0)
    assert d.window_range((100.0, 50.0)) == (0.0, 100.0)
    values = np.array([-1000.0, -160.0, 40.0, 240.0, 3000.0])
    assert d.to_uint8(values, -160.0, 240.0).tolist() == [0, 0, 128, 255, 255]
    mri = np.linspace(0, 1000, 10_000).reshape(10, 10, 100)
    low, high = d.window_range("mri", mri)
    assert 20 < low < 40 and 990 < high <= 1000
    with pytest.raises(ValueError, match="unknown window preset"):
        d.window_range("abdomen_please")
    with pytest.raises(ValueError, match="pass its data"):
        d.window_range("mri")
    with pytest.raises(ValueError, match="width"):
        d.window_range((0.0, 40.0))


def test_luts_from_matplotlib():
    grey = d.colormap_lut("gray")
    assert grey.shape == (256, 3) and grey.dtype == np.uint8
    assert (
        grey[0].tolist() == [0, 0, 0]
        and grey[255].tolist() == [255, 255, 255]
        and grey[128].tolist() == [128] * 3
    )
    assert np.array_equal(d.colormap_lut("gray_r"), grey[::-1])
    hot = d.colormap_lut("hot")
    reference = np.rint(matplotlib.colormaps["hot"](np.linspace(0, 1, 256))[:, :3] * 255)
    assert np.array_equal(hot, reference) and hot[255].tolist() == [255, 255, 255]
    assert set(d.COLORBLIND_SAFE) >= {"viridis", "cividis", "inferno"}
    with pytest.raises(ValueError, match="unknown colormap"):
        d.colormap_lut("not_a_map")


def test_fusion_opacity_zero_is_ct_and_one_is_pet():
    rng = np.random.default_rng(1)
    ct = rng.uniform(-300, 300, (20, 30)).astype(np.float32)
    pet = rng.uniform(0, 10, (20, 30)).astype(np.float32)
    ct_rgb = d.grey_rgb(ct, -160, 240)
    clear = d.fuse_rgba(ct, pet, opacity=0.0)
    assert clear.shape == (20, 30, 4) and np.array_equal(clear[..., :3], ct_rgb)
    assert np.all(clear[..., 3] == 255)
    opaque = d.fuse_rgba(ct, pet, opacity=1.0, threshold=2.0)
    pet_rgb = d.apply_lut(d.to_uint8(pet, 0, 10), "hot")
    above = pet > 2.05
    below = pet < 1.95
    assert np.array_equal(opaque[above][:, :3], pet_rgb[above])
    assert np.array_equal(opaque[below][:, :3], ct_rgb[below])
    half = d.fuse_rgba(ct, pet, opacity=0.5, threshold=2.0).astype(int)
    expected = np.rint((ct_rgb.astype(float) + pet_rgb) / 2)
    assert np.abs(half[above][:, :3] - expected[above]).max() <= 1


def test_fusion_bad_input():
    with pytest.raises(ValueError, match="2-D slice"):
        d.fuse_rgba(np.zeros((4, 4, 4)), np.zeros((4, 4, 4)))
    with pytest.raises(ValueError, match="resample PET"):
        d.fuse_rgba(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="opacity"):
        d.fuse_rgba(np.zeros((4, 4)), np.zeros((4, 4)), opacity=1.5)


def test_bad_volumes_raise_clear_errors():
    with pytest.raises(ValueError, match="3-D volume is needed, not 4-D"):
        d.as_ras_volume(np.zeros((4, 4, 4, 2)))
    with pytest.raises(ValueError, match="not 2-D"):
        d.as_ras_volume(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="not 4-D"):
        d.as_ras_volume(nib.Nifti1Image(np.zeros((4, 4, 4, 2), np.float32), np.eye(4)))
    with pytest.raises(ValueError, match="differ"):
        d.pair_volumes(np.zeros((4, 4, 4)), np.zeros((4, 4, 5)))
    with pytest.raises(ValueError, match="NaN"):
        d.as_ras_volume(np.full((3, 3, 3), np.nan))
    with pytest.raises(ValueError, match="unknown view"):
        d.check_view("transverse")
    with pytest.raises(ValueError, match="outside"):
        d.as_ras_volume(np.zeros((3, 3, 3))).plane("axial", 3)


def test_resampling_pet_to_ct_grid_keeps_world_positions():
    pet_affine = np.diag([4.0, 4.0, 4.0, 1.0])
    pet_affine[:3, 3] = -40.0
    pet = np.zeros((21, 21, 21), np.float32)
    pet[12:15, 5:8, 10:13] = 7.0  # a 12 mm cube centred at x=12, y=-16, z=4 mm
    ct_affine = np.diag([-2.0, 2.0, 3.0, 1.0])  # LAS CT grid
    ct_affine[:3, 3] = [40.0, -40.0, -39.0]
    ct = d.as_ras_volume(nib.Nifti1Image(np.zeros((41, 41, 27), np.float32), ct_affine))
    on_ct = d.resample_like(d.as_ras_volume(nib.Nifti1Image(pet, pet_affine)), ct, scale=2.0)
    assert on_ct.shape == ct.shape
    assert on_ct.value_at((12.0, -16.0, 3.0)) == pytest.approx(14.0)
    assert on_ct.value_at((-20.0, 20.0, -20.0)) == 0.0


def test_rotating_mip_frames():
    data = np.zeros((30, 20, 25), np.float32)
    data[5, 15, 20] = 9.0  # patient right (low i is ... x = -29+10 = left), anterior, superior
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = [-29.0, -19.0, -24.0]
    vol = d.as_ras_volume(nib.Nifti1Image(data, affine))
    mips = d.rotating_mip(vol, 36)
    assert mips.frames.shape[0] == 36 and mips.angles_deg[9] == 90.0
    coronal = d.mip(vol, "coronal")
    assert mips.frames[0].max() == pytest.approx(9.0)  # anterior view on voxel centres: no blur
    assert np.unravel_index(coronal.argmax(), coronal.shape)[1] > coronal.shape[1] / 2  # left -> screen right
    r0, c0 = np.unravel_index(mips.frames[0].argmax(), mips.frames[0].shape)
    assert c0 > mips.frames[0].shape[1] / 2
    r18, c18 = np.unravel_index(mips.frames[18].argmax(), mips.frames[18].shape)
    assert c18 < mips.frames[18].shape[1] / 2 and r18 == r0  # posterior view: mirrored, same height
    _, c9 = np.unravel_index(mips.frames[9].argmax(), mips.frames[9].shape)
    assert c9 > mips.frames[9].shape[1] / 2  # right lateral view: anterior on screen right
    with pytest.raises(ValueError):
        d.rotating_mip(vol, 0)


def test_encode_frame_jpeg_png():
    rgb = np.zeros((16, 24, 3), np.uint8)
    rgb[4:8, 4:20] = (200, 30, 30)
    jpeg = d.encode_frame(rgb, "jpeg")
    png = d.encode_frame(rgb, "png")
    assert jpeg[:2] == b"\xff\xd8" and png[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), rgb)
    with pytest.raises(ValueError, match="format"):
        d.encode_frame(rgb, "gif")
    with pytest.raises(ValueError, match="uint8"):
        d.encode_frame(rgb.astype(float), "png")


def test_crosshair_and_letters_draw_in_place():
    rgb = np.zeros((60, 80, 3), np.uint8)
    d.draw_crosshair(rgb, 30, 40, gap=5)
    assert rgb[30, 0].any() and rgb[0, 40].any() and not rgb[30, 40].any()
    letters = np.zeros((60, 80, 3), np.uint8)
    d.stamp_letters(letters, "axial")
    assert letters[:, :10].any() and letters[:, -10:].any() and letters[:10].any() and letters[-10:].any()


def test_suv_scale_and_display_range():
    sidecar = {
        "InjectedRadioactivity": 200e6,
        "InjectedRadioactivityUnits": "Bq",
        "BodyWeight": 80.0,
        "BodyWeightUnits": "kg",
        "RadionuclideHalfLife": 6586.2,
        "ScanStart": 3600,
        "ImageDecayCorrected": True,
        "ImageDecayCorrectionTime": 3600,
        "InjectionStart": 0,
        "Units": "Bq/mL",
        "TracerName": "FDG",
    }
    expected = 80_000.0 / (200e6 * 2 ** (-3600 / 6586.2))
    assert d.suv_scale_from_sidecar(sidecar) == pytest.approx(expected)
    assert d.suv_scale_of(sidecar) == pytest.approx(expected)
    assert d.suv_display_range(sidecar) == (0.0, 10.0)
    assert d.suv_display_range("DOTATATE") == (0.0, 30.0)
    with pytest.raises(ValueError):
        d.suv_scale_of(-1.0)


def test_lesion_lookup_by_label_map_and_by_centre():
    labels = np.zeros((20, 20, 20), np.float32)
    labels[8:12, 8:12, 8:12] = 47
    vol = d.as_ras_volume(labels)
    lesions = [{"id": 47, "name": "presacral_mass", "centre_mm": [9.5, 9.5, 9.5], "longest_diameter_mm": 4.0}]
    assert d.lesion_at((10, 10, 10), lesions, vol)["name"] == "presacral_mass"
    assert d.lesion_at((2, 2, 2), lesions, vol) is None
    assert d.lesion_at((10, 10, 10), lesions)["name"] == "presacral_mass"
    assert d.lesion_at((18, 18, 18), lesions) is None
    assert d.label_at(vol, (500, 0, 0)) == 0


def test_static_figures_are_pyplot_free_with_alt_text():
    ct = _marker_image("RAS")
    pet = nib.Nifti1Image(np.asarray(ct.dataobj) / 100.0, ct.affine)
    before = plt.get_fignums()
    figures = [
        d.ortho_figure(ct, position_mm=BRIGHT_MM),
        d.fusion_figure(ct, pet, position_mm=BRIGHT_MM),
        d.mip_figure(pet),
        d.dual_tracer_figure(ct, pet, pet, same_scale=True),
    ]
    assert plt.get_fignums() == before
    for fig in figures:
        assert isinstance(fig, Figure) and len(fig.alt_text) > 30
        data, metadata = fig._repr_mimebundle_()  # how a notebook shows it, pyplot imported or not
        assert data["image/png"] and metadata["image/png"]["alt"] == fig.alt_text
        png = d.figure_png(fig)
        assert png[:4] == b"\x89PNG" and Image.open(io.BytesIO(png)).info["Description"] == fig.alt_text
    assert "left on screen right" in figures[0].alt_text


def test_mip_letters_match_where_a_marker_lands():
    """A hot voxel at the patient's right front shows on the side each MIP's letters name."""
    data = np.zeros((30, 30, 30), np.float32)
    data[27, 27, 15] = 10.0  # right (+x) and anterior (+y)
    sampler = d._MipSampler(d.as_ras_volume(nib.Nifti1Image(data, np.eye(4))))
    for angle, side in ((0, "R"), (90, "A"), (180, "R"), (270, "A")):
        frame = sampler.frame(angle)
        col = np.unravel_index(np.argmax(frame), frame.shape)[1]
        left, right, _, _ = d.MIP_LETTERS[angle]
        on_left = col < frame.shape[1] / 2
        assert (left if on_left else right) == side, angle


def test_crop_mm_keeps_world_positions_and_rejects_a_box_outside():
    data = np.arange(20 * 20 * 20, dtype=np.float32).reshape(20, 20, 20)
    img = nib.Nifti1Image(data, np.diag([2.0, 2.0, 2.0, 1.0]))
    box = d.crop_mm(img, (4, 6, 8), (10, 12, 14))
    assert box.shape == (4, 4, 4)
    assert np.allclose(box.affine @ [0, 0, 0, 1], [4, 6, 8, 1])
    assert box.get_fdata()[0, 0, 0] == data[2, 3, 4]
    with pytest.raises(ValueError, match="outside"):
        d.crop_mm(img, (100, 100, 100), (120, 120, 120))


def test_default_threshold_keeps_low_uptake_clear_so_ct_shows():
    ct = np.full((4, 4), 40.0, np.float32)
    pet = np.zeros((4, 4), np.float32)
    pet[0, 0], pet[1, 1] = 0.5, 5.0  # below and above a tenth of SUV 0-10
    fused = d.fuse_rgba(ct, pet, suv_range=(0.0, 10.0))
    ct_only = d.fuse_rgba(ct, pet, suv_range=(0.0, 10.0), opacity=0.0)
    assert d.default_threshold(0.0, 10.0) == pytest.approx(1.0)
    assert np.array_equal(fused[0, 0], ct_only[0, 0])
    assert not np.array_equal(fused[1, 1], ct_only[1, 1])
