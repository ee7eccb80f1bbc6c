"""The abdomen region: organ sizes, positions and the topology a radiologist checks first.

Ranges and their sources: liver 1.2-1.8 L around 1.28 L (JCDR 2019, DOI 10.7860/JCDR/2019/41932.13038),
transverse 20-23 cm, mid-clavicular 10-12.5 cm (Radiopaedia, hepatomegaly); spleen 150-300 mL around
~200 mL (Folia Morphol, FM.2014.0038); kidneys 9-12 cm (CMDT 2020), 120-200 mL each (course range);
pancreas 60-100 mL (course range), AP head <= 35, body <= 25, tail <= 20 mm (DOI 10.1201/9781315381558-43);
infrarenal aorta 14.5 +/- 1.7 mm (DOI 10.1016/j.avsg.2019.05.030); portal vein 15.5 +/- 1.9 mm (Stamm,
portal vein CT); psoas 5.4 cm2/m2 in women (~15 cm2 both at L3-L4, DOI 10.22540/JFSF-07-038); quadratus
lumborum 4-6 and erector spinae 15-20 cm2 per side at L3 (typical).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from utils.anatomy import LAYERS, abdomen, frame
from utils.sampling import Grid, occupancy

VOXEL_MM = 2.0
ORGAN_LAYERS = ("organ", "hollow")
# Parts of one organ touch (or overlap by design by a voxel, so that no seam shows).
SAME_ORGAN = (
    {"liver_right_lobe", "liver_left_lobe", "liver_caudate"},
    {"pancreas", "pancreas_uncinate"},
    {"stomach", "stomach_gas"},
    {"kidney_right", "kidney_left", "renal_sinus_fat", "renal_pelvis", "renal_vessels", "ureters"},
)


@pytest.fixture(scope="module")
def parts():
    """Structures by name, with the liver lesions."""
    return {s.name: s for s in abdomen.structures() + abdomen.liver_lesions()}


@pytest.fixture(scope="module")
def occ(parts):
    """Occupancy (full, and shrunk by half a voxel) of every organ on a 2 mm grid: (grid, box, full, core)."""
    out = {}
    for name, s in parts.items():
        if s.layer in ("wall", "cavity"):
            continue
        lo, hi = s.shape.bounds_mm()
        lo, hi = np.floor(lo / VOXEL_MM) * VOXEL_MM, np.ceil(hi / VOXEL_MM) * VOXEL_MM
        grid = Grid.covering(lo, hi, (VOXEL_MM,) * 3)
        full, core = occupancy(s.shape, grid, tuple(slice(0, n) for n in grid.shape), (0.0, VOXEL_MM / 2))
        out[name] = (lo, full, core)
    return out


def _volume_ml(occ, *names: str) -> float:
    return sum(float(occ[n][1].sum()) for n in names) * VOXEL_MM**3 / 1000.0


def _common(a, b):
    """The two occupancy arrays cut to the overlap of their boxes (all boxes sit on one 2 mm lattice)."""
    (la, fa, ca), (lb, fb, cb) = a, b
    lo = np.maximum(la, lb)
    hi = np.minimum(la + np.array(fa.shape) * VOXEL_MM, lb + np.array(fb.shape) * VOXEL_MM)
    if np.any(hi <= lo):
        return None
    sa = tuple(slice(round((lo[k] - la[k]) / VOXEL_MM), round((hi[k] - la[k]) / VOXEL_MM)) for k in range(3))
    sb = tuple(slice(round((lo[k] - lb[k]) / VOXEL_MM), round((hi[k] - lb[k]) / VOXEL_MM)) for k in range(3))
    return (fa[sa], ca[sa]), (fb[sb], cb[sb])


def _points(occ_entry, threshold: float = 0.5) -> np.ndarray:
    """World coordinates (mm) of the voxels at least ``threshold`` occupied."""
    lo, full, _ = occ_entry
    return lo + (np.argwhere(full >= threshold) + 0.5) * VOXEL_MM


def _section_cm2(shape, z_mm: float, x_range: tuple[float, float], y_range=(-130.0, 140.0)) -> float:
    """Area (cm2) of a solid's cross-section in the axial plane z, within an x range (0.5 mm samples)."""
    x = np.arange(*x_range, 0.5)
    y = np.arange(*y_range, 0.5)
    pts = np.stack(np.meshgrid(x, y, [z_mm], indexing="ij"), axis=-1).reshape(-1, 3).astype(np.float32)
    return float((shape.distance_mm(pts) <= 0).sum()) * 0.25 / 100.0


def test_every_structure_is_present_with_its_label_in_range(parts):
    names = set(parts)
    for required in (
        "liver_right_lobe",
        "liver_left_lobe",
        "liver_caudate",
        "hepatic_veins",
        "portal_vein",
        "gallbladder",
        "stomach",
        "duodenum",
        "pancreas",
        "pancreas_uncinate",
        "spleen",
        "accessory_spleen",
        "kidney_right",
        "kidney_left",
        "renal_sinus_fat",
        "renal_pelvis",
        "renal_vessels",
        "adrenal_right",
        "adrenal_left",
        "aorta",
        "inferior_vena_cava",
        "mesenteric_veins",
        "ureters",
        "psoas",
        "quadratus_lumborum",
        "erector_spinae",
        "rectus_abdominis",
        "abdominal_wall_muscles",
        "visceral_fat",
    ):
        assert required in names, required
    for s in abdomen.structures():
        assert 110 <= s.label <= 149, s.name
        assert s.layer in LAYERS
        assert not s.is_lesion
    labels = [s.label for s in abdomen.structures()]
    assert len(labels) == len(set(labels))
    for n in range(1, 9):
        lesion = parts[f"liver_lesion_{n}"]
        assert lesion.label == 201 + n and lesion.is_lesion and lesion.layer == "lesion"
        assert lesion.location.startswith(("right hepatic lobe, segment", "left hepatic lobe, segment"))


def test_organ_volumes_are_in_range(occ):
    liver = _volume_ml(occ, "liver_right_lobe", "liver_left_lobe", "liver_caudate")
    assert 1200 <= liver <= 1800, liver
    assert 150 <= _volume_ml(occ, "spleen") <= 300
    for side in ("right", "left"):
        assert 120 <= _volume_ml(occ, f"kidney_{side}") <= 200, side
    assert 60 <= _volume_ml(occ, "pancreas", "pancreas_uncinate") <= 100
    # 12 mm splenule: 0.9 mL
    assert 0.6 <= _volume_ml(occ, "accessory_spleen") <= 1.3
    # gallbladder 8 x 3.5 cm: ~30-60 mL
    assert 25 <= _volume_ml(occ, "gallbladder") <= 60


def test_liver_spans_and_dome(occ):
    pts = np.vstack([_points(occ[n]) for n in ("liver_right_lobe", "liver_left_lobe", "liver_caudate")])
    transverse = np.ptp(pts[:, 0])
    assert 200 <= transverse <= 235, transverse
    # Dome under the right hemidiaphragm (frame dome point), below it by the diaphragm's thickness.
    assert (
        frame.LANDMARKS["right_diaphragm_dome"][2] - 12
        <= pts[:, 2].max()
        <= frame.LANDMARKS["right_diaphragm_dome"][2]
    )
    # Craniocaudal at the mid-clavicular line (x 60-70 mm): 10-12.5 cm (a 2 mm grid adds up to 4 mm);
    # the whole right lobe ~15 cm, its lowest part lateral.
    mcl = pts[(pts[:, 0] > 60) & (pts[:, 0] < 70)]
    assert 100 <= np.ptp(mcl[:, 2]) <= 129, np.ptp(mcl[:, 2])
    right = _points(occ["liver_right_lobe"])
    assert 140 <= np.ptp(right[:, 2]) <= 160
    assert right[np.argmin(right[:, 2]), 0] > 80
    # The left lobe crosses the midline in front of the stomach.
    left = _points(occ["liver_left_lobe"])
    assert left[:, 0].min() < -60


def test_no_two_organs_overlap(occ, parts):
    """Organs (and the vessels among them) never share more than 1 mL; touching faces do not count, so each
    solid is shrunk by half a voxel before the occupancy product is taken."""
    names = [n for n, s in parts.items() if s.layer in (*ORGAN_LAYERS, "vessel") and n in occ]
    for a, b in itertools.combinations(names, 2):
        if any({a, b} <= group for group in SAME_ORGAN):
            continue
        layers = {parts[a].layer, parts[b].layer}
        if layers == {"vessel"}:
            continue  # vessels join one another (renal veins into the IVC, the portal confluence)
        if "vessel" in layers and (a.startswith("liver") or b.startswith("liver")):
            continue  # hepatic and portal veins run inside the liver, the hepatic artery into the porta
        common = _common(occ[a], occ[b])
        if common is None:
            continue
        (_, ca), (_, cb) = common
        overlap_ml = float((ca * cb).sum()) * VOXEL_MM**3 / 1000.0
        assert overlap_ml <= 1.0, (a, b, overlap_ml)


def test_liver_lesions_lie_inside_the_liver_in_both_lobes(occ, parts):
    lobes = {"right": "liver_right_lobe", "left": "liver_left_lobe"}
    seen = set()
    for n in range(1, 9):
        name = f"liver_lesion_{n}"
        lesion = occ[name]
        inside = 0.0
        for liver_part in ("liver_right_lobe", "liver_left_lobe", "liver_caudate"):
            common = _common(lesion, occ[liver_part])
            if common is not None:
                (fl, _), (fp, _) = common
                inside = max(inside, float((fl * fp).sum()))
        # the lobes overlap by a voxel at their border: the lesion must lie wholly in one of them
        assert inside >= 0.97 * float(lesion[1].sum()), name
        lobe = parts[name].location.split()[0]
        seen.add(lobe)
        common = _common(lesion, occ[lobes[lobe]])
        assert common is not None and float((common[0][0] * common[1][0]).sum()) >= 0.97 * float(
            lesion[1].sum()
        )
        diameter = max(np.ptp(_points(lesion, 0.25)[:, k]) + VOXEL_MM for k in range(3))
        assert 4.0 <= diameter <= 38.0, (name, diameter)
    assert seen == {"right", "left"}


def test_liver_lesions_keep_clear_of_capsule_and_vessels(parts):
    liver = abdomen._liver()
    vessels = [abdomen._portal_vein(), abdomen._hepatic_veins(), abdomen._ivc(), abdomen._gallbladder()]
    for lesion in abdomen.liver_lesions():
        lo, hi = lesion.shape.bounds_mm()
        pts = np.stack(
            np.meshgrid(*(np.arange(lo[k], hi[k], 1.0) for k in range(3)), indexing="ij"), -1
        ).reshape(-1, 3)
        pts = pts[lesion.shape.distance_mm(pts.astype(np.float32)) <= 0].astype(np.float32)
        assert liver.distance_mm(pts).max() <= -2.5, lesion.name
        assert min(float(v.distance_mm(pts).min()) for v in vessels) >= 2.5, lesion.name


def test_kidneys_size_position_and_axis(occ):
    for side, k in (("right", abdomen.KIDNEY_RIGHT), ("left", abdomen.KIDNEY_LEFT)):
        pts = np.vstack([_points(occ[f"kidney_{side}"])])
        along = (pts - k.centre) @ k.long
        length = np.ptp(along) + VOXEL_MM
        assert 90 <= length <= 120, (side, length)
        # upper pole medial and posterior to the lower pole; hilum faces anteromedially
        top, bottom = pts[along > along.max() - 10].mean(axis=0), pts[along < along.min() + 10].mean(axis=0)
        assert abs(top[0]) < abs(bottom[0]) and top[1] < bottom[1]
        assert k.hilum[1] > 0 and np.sign(k.hilum[0]) == -np.sign(k.centre[0])
    right, left = (_points(occ[f"kidney_{s}"]) for s in ("right", "left"))
    # right ~1 vertebra lower; upper poles near T12-L1
    assert 10 <= left[:, 2].max() - right[:, 2].max() <= 35
    assert 195 <= right[:, 2].max() <= 225 and 205 <= left[:, 2].max() <= 235


def test_pancreas_topology(parts):
    head, uncinate = abdomen.PANCREAS_HEAD, abdomen.UNCINATE
    smv, sma = abdomen.SMV_PATH, abdomen.SMA_PATH
    smv_at = {round(z): (x, y) for x, y, z, _ in smv}
    # head right of the SMV, inside the duodenal C-loop (D2 lateral, D3 below)
    assert head[0] > smv_at[145][0] + 10
    d2_x = max(p[0] for p in abdomen.DUODENUM_PATH if 120 <= p[2] <= 175)
    assert head[0] < d2_x
    assert max(p[2] for p in abdomen.DUODENUM_PATH[6:10]) < head[2] - 20
    # uncinate behind the SMV and SMA, in front of the aorta and IVC
    _, y, z = uncinate
    assert (
        y < smv_at[145][1] - 5 and y < np.interp(z, [p[2] for p in sma[::-1]], [p[1] for p in sma[::-1]]) - 5
    )
    aorta_front = np.interp(
        z, [p[2] for p in abdomen.AORTA_PATH[::-1]], [p[1] + p[3] for p in abdomen.AORTA_PATH[::-1]]
    )
    assert y - 6.5 > aorta_front
    # Thickness (the diameter of the largest inscribed sphere, perpendicular to the gland's long axis):
    # head <= 35, body <= 25, tail <= 20 mm.
    pancreas = parts["pancreas"].shape
    for centre, limit in (
        (head, 35.0),
        (abdomen.PANCREAS_PATH[2][:3], 25.0),
        (abdomen.PANCREAS_PATH[5][:3], 20.0),
    ):
        grid = np.stack(np.meshgrid(*(np.arange(c - 15.0, c + 15.0, 0.5) for c in centre), indexing="ij"), -1)
        depth = -float(pancreas.distance_mm(grid.reshape(-1, 3).astype(np.float32)).min())
        assert 2 * depth <= limit, (centre, 2 * depth)
    # tail reaches the splenic hilum
    tail = np.asarray(abdomen.PANCREAS_PATH[-1][:3])
    assert float(parts["spleen"].shape.distance_mm(tail[None].astype(np.float32))[0]) < 25


def test_vessel_calibres_and_course():
    infrarenal = [p[3] for p in abdomen.AORTA_PATH if 70 <= p[2] <= 140]
    assert all(6.3 <= r <= 8.2 for r in infrarenal)  # 14.5 +/- 1.7 mm
    assert 7.0 <= abdomen.PORTAL_PATHS[0][1][3] <= 8.5  # 15.5 +/- 1.9 mm
    assert abdomen.AORTA_PATH[0][:3] == abdomen.AORTA_TOP and abdomen.AORTA_TOP[2] == 230.0
    assert np.allclose(abdomen.AORTA_PATH[-1][:3], frame.LANDMARKS["aortic_bifurcation"])
    assert (
        np.allclose(abdomen.IVC_PATH[0][:3], frame.LANDMARKS["ivc_confluence"])
        and abdomen.IVC_PATH[-1][2] == 290.0
    )
    # IVC right of the aorta all the way up
    for z in (80.0, 120.0, 160.0, 200.0):
        ivc_x = np.interp(z, [p[2] for p in abdomen.IVC_PATH], [p[0] for p in abdomen.IVC_PATH])
        ao_x = np.interp(
            z, [p[2] for p in abdomen.AORTA_PATH[::-1]], [p[0] for p in abdomen.AORTA_PATH[::-1]]
        )
        assert ivc_x > ao_x + 20


def test_ureters_reach_the_brim_and_run_on_the_psoas(parts):
    ureters, psoas = parts["ureters"].shape, parts["psoas"].shape
    for side in ("right", "left"):
        brim = np.asarray(frame.URETER_AT_BRIM[side], np.float32)[None]
        assert float(ureters.distance_mm(brim)[0]) <= -1.5
        # the ureter ends at the brim: 4 mm below it there is no ureter
        assert float(ureters.distance_mm(brim - np.float32([0, 0, 4.0]))[0]) > 0
        # in front of the psoas, never inside it, at L3-L4
        sx = 1.0 if side == "right" else -1.0
        for z in (80.0, 110.0):
            xs = sx * np.arange(30.0, 60.0, 0.5)
            ys = np.arange(0.0, 40.0, 0.5)
            pts = np.stack(np.meshgrid(xs, ys, [z], indexing="ij"), -1).reshape(-1, 3).astype(np.float32)
            u = pts[ureters.distance_mm(pts) <= 0]
            assert len(u) > 0, (side, z)
            assert float(psoas.distance_mm(u).min()) >= 0.0


def test_accessory_spleen_is_separate_from_the_spleen(parts):
    acc = parts["accessory_spleen"].shape
    lo, hi = acc.bounds_mm()
    pts = np.stack(np.meshgrid(*(np.arange(lo[k], hi[k], 0.5) for k in range(3)), indexing="ij"), -1).reshape(
        -1, 3
    )
    pts = pts[acc.distance_mm(pts.astype(np.float32)) <= 0].astype(np.float32)
    gap = float(parts["spleen"].shape.distance_mm(pts).min())
    assert 2.0 <= gap <= 15.0, gap


def test_adrenals_above_and_medial_to_the_upper_poles(occ):
    for side in ("right", "left"):
        adrenal = _points(occ[f"adrenal_{side}"], 0.25)
        kidney = _points(occ[f"kidney_{side}"])
        top = kidney[kidney[:, 2] > kidney[:, 2].max() - 15].mean(axis=0)
        assert adrenal[:, 2].mean() > top[2] - 15
        assert abs(adrenal[:, 0].mean()) < abs(top[0])
    ivc_x = np.interp(210.0, [p[2] for p in abdomen.IVC_PATH], [p[1] for p in abdomen.IVC_PATH])
    assert _points(occ["adrenal_right"], 0.25)[:, 1].max() < ivc_x  # behind the IVC


def test_muscle_cross_sections(parts):
    psoas = parts["psoas"].shape
    z_l3_l4 = (frame.VERTEBRAE["L3"][1] + frame.VERTEBRAE["L4"][1]) / 2
    both = _section_cm2(psoas, z_l3_l4, (-100.0, 100.0))
    assert 12.0 <= both <= 18.0, both
    z_l3 = frame.VERTEBRAE["L3"][1]
    ql = _section_cm2(parts["quadratus_lumborum"].shape, z_l3, (0.0, 120.0))
    assert 3.5 <= ql <= 6.5, ql
    erector = _section_cm2(parts["erector_spinae"].shape, z_l3, (0.0, 120.0))
    # the laminae and spinous process take ~3 cm2 of the gutter on CT
    assert 15.0 <= erector <= 23.0, erector


def test_landmarks_lie_in_their_structures(parts):
    owners = {
        "liver": ("liver_right_lobe", "liver_left_lobe", "liver_caudate"),
        "liver_right_lobe": ("liver_right_lobe",),
        "liver_left_lobe": ("liver_left_lobe",),
        "liver_caudate": ("liver_caudate",),
        "gallbladder": ("gallbladder",),
        "spleen": ("spleen",),
        "accessory_spleen": ("accessory_spleen",),
        "uncinate_process": ("pancreas_uncinate",),
        "pancreas_head": ("pancreas",),
        "pancreas_tail": ("pancreas",),
        "kidney_right": ("kidney_right", "renal_sinus_fat"),
        "kidney_left": ("kidney_left", "renal_sinus_fat"),
        "adrenal_right": ("adrenal_right",),
        "adrenal_left": ("adrenal_left",),
        "portal_vein": ("portal_vein",),
        "aorta_renal_level": ("aorta",),
        "ivc_liver": ("inferior_vena_cava",),
        **{f"liver_lesion_{n}": (f"liver_lesion_{n}",) for n in range(1, 9)},
    }
    for landmark, names in owners.items():
        point = np.asarray(abdomen.LANDMARKS[landmark], np.float32)[None]
        assert min(float(parts[n].shape.distance_mm(point)[0]) for n in names) <= 0.5, landmark
    # the best axial plane cuts at least four lesions, in both lobes
    z = abdomen.LANDMARKS["liver_best_axial"][2]
    xy = np.stack(
        np.meshgrid(np.arange(-110.0, 120.0, 1.0), np.arange(-60.0, 110.0, 1.0), [z], indexing="ij"), -1
    )
    plane = xy.reshape(-1, 3).astype(np.float32)
    cut = [les for les in abdomen.liver_lesions() if (les.shape.distance_mm(plane) <= -1.0).any()]
    assert len(cut) >= 4 and {les.location.split()[0] for les in cut} == {"right", "left"}
