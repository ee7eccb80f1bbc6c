"""Axial skeleton and head: sizes, positions and topology of the spine, canal, ribs and brain.

Ranges and their sources: lumbar bodies, discs and canal (Int J Spine Surg 2021;15:1072; anatomyjournal.ir
A-10-159-1), 12 rib pairs (Gray's Anatomy), sternum (bibliomed.org mno=16478), normal adult brain volume
about 1.2-1.3 L and intracranial volume about 1.3-1.6 L in women (typical MRI volumetry), conus at L1-L2 and
dural sac ending at about S2 (typical MRI).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from utils.anatomy import LAYERS, build_patient, frame
from utils.anatomy import skeleton as sk
from utils.sampling import Grid, occupancy
from utils.sdf import Profile

NAMES = {"vertebrae", "intervertebral_discs", "spinal_canal_csf", "spinal_cord", "cauda_equina", "ribs",
         "costal_cartilages", "sternum", "clavicles", "scapulae", "skull", "brain", "pituitary", "ventricles"}


@pytest.fixture(scope="module")
def structures():
    return sk.structures()


def _shapes(structures, name):
    return [s for s in structures if s.name == name]


def _sample(shapes, lower, upper, voxel_mm, wall_mm=0.0):
    """Occupancy (0-1) of the union of shapes on an isotropic grid, and of their insides (wall removed)."""
    grid = Grid.covering(lower, upper, (voxel_mm,) * 3)
    box = tuple(slice(0, n) for n in grid.shape)
    outer = np.zeros(grid.shape, np.float32)
    inner = np.zeros(grid.shape, np.float32)
    for s in shapes:
        occ = occupancy(s.shape, grid, box, (0.0, wall_mm) if wall_mm else (0.0,))
        outer, inner = np.maximum(outer, occ[0]), np.maximum(inner, occ[-1])
    return grid, outer, inner


def _axis(grid: Grid, axis: int) -> np.ndarray:
    return grid.affine[axis, 3] + grid.voxel_mm[axis] * np.arange(grid.shape[axis])


def test_structures_labels_and_layers(structures):
    names = {s.name for s in structures}
    assert NAMES <= names
    for s in structures:
        assert 20 <= s.label <= 59, s.name
        assert s.layer in LAYERS
        assert sk.LABELS[s.name] == s.label
    # One label per name, also across the several structures that share a name (vertebral groups, discs).
    assert len({(s.name, s.label) for s in structures}) == len(names)
    assert build_patient(("skeleton",))


def test_landmarks():
    for lv in sk.levels():
        assert sk.LANDMARKS[f"{lv.name}_body"] == frame.vertebra_centre(lv.name)
    for key in ("conus_medullaris", "pituitary", "thecal_sac_end"):
        assert key in sk.LANDMARKS
    # Conus at L1-L2 (between the L1 and L2 body centres), sac ending at about S2 (below S1, z = -20).
    assert frame.VERTEBRAE["L2"][1] < sk.LANDMARKS["conus_medullaris"][2] < frame.VERTEBRAE["L1"][1]
    assert -25.0 <= sk.LANDMARKS["thecal_sac_end"][2] <= -15.0


@pytest.mark.parametrize(("name", "width", "depth"), [("L1", 40.0, 30.0), ("L3", 44.0, 32.0), ("L5", 48.0, 33.3)])
def test_lumbar_body_size(structures, name, width, depth):
    """Width and depth (mm) just under the upper endplate, within 3 mm of the published means."""
    lumbar = _shapes(structures, "vertebrae")[2].shape
    lv = sk.level(name)
    w = lv.height / 2 - 4.0
    across = np.array([lv.world(u, 0.0, w) for u in np.arange(-35.0, 35.0, 0.1)], np.float32)
    inside = across[lumbar.distance_mm(across) < 0]
    assert abs(np.ptp(inside[:, 0]) - width) < 3.0
    # Front to back along the midline, stopping at the canal.
    along = np.array([lv.world(0.0, v, w) for v in np.arange(-lv.depth / 2 - 3.0, lv.depth / 2 + 5.0, 0.1)],
                     np.float32)
    body = lumbar.distance_mm(along) < 0
    assert abs(body.sum() * 0.1 - depth) < 3.0


@pytest.mark.parametrize(("upper", "lower", "height"), [("L1", "L2", 10.0), ("L2", "L3", 11.6), ("L3", "L4", 12.5),
                                                       ("L4", "L5", 13.8)])
def test_lumbar_disc_heights(upper, lower, height):
    """Mid-disc height (mm) along the column, within 1.5 mm of the published mean (anatomyjournal.ir)."""
    disc = sk._Disc(sk.level(upper), sk.level(lower))
    centre, tilt, *_ = disc.geometry
    axis = np.array([0.0, np.sin(np.radians(tilt)), np.cos(np.radians(tilt))])
    pts = np.array([centre + t * axis for t in np.arange(-12.0, 12.0, 0.05)], np.float32)
    measured = (disc.distance_mm(pts) < 0).sum() * 0.05 - 0.8  # the disc overlaps each endplate by 0.4 mm
    assert abs(measured - height) < 1.5


def test_l5_s1_disc_on_the_tilted_s1_endplate():
    disc = sk._Disc(sk.level("L5"), sk._s1_level())
    centre, tilt, *_ = disc.geometry
    assert np.allclose(centre, frame.LANDMARKS["l5_s1_disc"], atol=3.0)
    # The disc is wedge-shaped: its lower face is the S1 endplate (about 35 deg), its upper face less tilted.
    _, n = sk._s1_level().endplate(superior=True)
    assert np.degrees(np.arctan2(n[1], n[2])) == pytest.approx(34.8, abs=1.0)
    assert 20.0 < tilt < 34.0


def test_lumbar_canal_size(structures):
    """Bony canal at mid-L3: AP 15 x width 23 mm (Int J Spine Surg 2021), within 3 mm."""
    canal = sk.bony_canal()
    lv = sk.level("L3")
    y0, z0 = sk._canal_centre(lv)
    xs = np.arange(-20.0, 20.0, 0.1)
    width = (canal.distance_mm(np.array([(x, y0, z0) for x in xs], np.float32)) < 0).sum() * 0.1
    ys = np.arange(y0 - 15.0, y0 + 15.0, 0.1)
    ap = (canal.distance_mm(np.array([(0.0, y, z0) for y in ys], np.float32)) < 0).sum() * 0.1
    assert abs(width - lv.canal_w) < 3.0
    assert abs(ap - lv.canal_ap) < 3.0


def test_canal_continuous_from_l1_to_s2(structures):
    """CSF fills the sac without a break from L1 down through S1 to its end below S1."""
    sac = _shapes(structures, "spinal_canal_csf")
    grid, csf, _ = _sample(sac, (-16.0, -75.0, -26.0), (16.0, 5.0, 195.0), 1.5)  # the sac: CSF only
    filled = csf >= 0.5
    z = _axis(grid, 2)
    present = filled.any(axis=(0, 1))
    assert present[(z > -18.0) & (z < 190.0)].all()
    labels, n = ndimage.label(filled)
    sizes = ndimage.sum(filled, labels, range(1, n + 1))
    assert sizes.max() > 0.99 * filled.sum()  # one sac (a voxel or two of partial volume at its tip aside)
    # The cord ends at the conus; below it the roots of the cauda equina lie in the CSF.
    assert sk.CONUS_Z < frame.VERTEBRAE["L1"][1]


def test_twelve_rib_pairs(structures):
    """24 separate ribs on a 2 mm grid (no rib touches another)."""
    grid, ribs, _ = _sample(_shapes(structures, "ribs"), (-170.0, -130.0, 150.0), (170.0, 170.0, 500.0), 2.0)
    labels, n = ndimage.label(ribs >= 0.5)
    assert n == 24
    sizes = ndimage.sum(np.ones_like(ribs), labels, range(1, n + 1))
    assert sizes.min() > 300  # each a whole rib, not a fragment
    x = _axis(grid, 0)
    centres = ndimage.center_of_mass(ribs >= 0.5, labels, range(1, n + 1))
    sides = np.sign(np.interp([c[0] for c in centres], np.arange(len(x)), x))
    assert (sides > 0).sum() == 12


def test_ribs_inside_the_chest_wall(structures):
    """Every rib voxel lies at least 15 mm under the skin (fat 10-12 mm plus muscle over the ribs)."""
    grid, ribs, _ = _sample(_shapes(structures, "ribs"), (-170.0, -130.0, 150.0), (170.0, 170.0, 500.0), 3.0)
    idx = np.argwhere(ribs >= 0.5)
    pts = (grid.affine[:3, :3] @ idx.T).T + grid.affine[:3, 3]
    depth = -Profile(frame.BODY_KNOTS, frame.BODY_SQUARENESS).distance_mm(pts.astype(np.float32))
    assert depth.min() > 15.0


def test_sternum_and_xiphisternal_joint():
    joint = frame.LANDMARKS["xiphisternal_joint"]
    assert sk.LANDMARKS["sternal_angle"][2] - joint[2] == pytest.approx(88.0 * np.cos(np.radians(5.0)), abs=0.5)
    body = sk._sternum()
    assert body.distance_mm(np.array([[0.0, joint[1] - 5.0, joint[2] + 3.0]], np.float32))[0] < 0


def test_column_length_vertex_to_promontory(structures):
    """Top of the skull about 750 mm above the promontory (frame vertex 765 mm minus the scalp)."""
    grid, skull, _ = _sample(_shapes(structures, "skull"), (-80.0, -100.0, 700.0), (80.0, 110.0, 770.0), 2.0)
    top = _axis(grid, 2)[(skull >= 0.5).any(axis=(0, 1))].max()
    assert 740.0 <= top <= 762.0


def test_brain_volume(structures):
    """Brain (inside its CSF) 1.1-1.4 L, cranial cavity 1.3-1.7 L, ventricles 10-40 mL."""
    brain = _shapes(structures, "brain")
    _, cavity, tissue = _sample(brain, (-80.0, -95.0, 605.0), (80.0, 110.0, 770.0), 2.5, brain[0].wall_mm)
    ml = 2.5**3 / 1000.0
    assert 1100.0 < tissue.sum() * ml < 1400.0
    assert 1300.0 < cavity.sum() * ml < 1700.0
    _, ventricles, _ = _sample(_shapes(structures, "ventricles"), (-40.0, -60.0, 640.0), (40.0, 50.0, 730.0), 1.0)
    assert 10.0 < ventricles.sum() / 1000.0 < 40.0


def test_pituitary_in_the_sella(structures):
    """About 12 x 9 x 7 mm (0.3-0.8 mL), above the sphenoid sinus, inside the cranial cavity's floor."""
    _, gland, _ = _sample(_shapes(structures, "pituitary"), (-10.0, 10.0, 645.0), (10.0, 35.0, 670.0), 0.5)
    assert 0.25 < gland.sum() * 0.125 / 1000.0 < 0.8
    x, y, z = sk.PITUITARY_CENTRE
    sinus = sk._sinuses()
    assert sinus.distance_mm(np.array([[x, y + 8.0, z - 17.0]], np.float32))[0] < 0
