"""The case's lesions: the presacral mass that enters the LEFT S1-S2 anterior sacral foramen, the separate
precoccygeal mass, and (from the abdomen module) the liver metastases. World mm, RAS+.

The presacral mass fills the sacral concavity in the retrorectal space from S1 to S3 and lies on the
anterior sacral cortex; the rectum is pushed forward (its posterior wall at y = +10 mm, see ``frame``). A
12-15 mm component passes through the left S1-S2 anterior foramen into its tunnel toward the canal,
replacing the foraminal fat and encasing the left S1 root, while the right S1-S2 foramen keeps its root in
fat. The precoccygeal mass lies on the front of the coccyx, with fat between it and the presacral mass.
Both are lobulated solid masses (smooth unions of lobes with gentle surface noise).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..sdf import Capsule, Displaced, Ellipsoid, Shape, union
from . import TISSUES, Structure, frame
from . import pelvis_bones as pb

Vec3 = tuple[float, float, float]

# Lobes of the presacral mass in sacral coordinates (x, s, u) mm with radii (x, across, along) mm: s is the
# arc length down the ventral sacral midline from the promontory, u the depth behind it (negative in
# front). Left-leaning at S1-S2 (toward the involved foramen), centred at S2-S3, tapering at S3: the longest
# axial diameter comes to about 58 mm (50-60 mm in the case report).
PRESACRAL_LOBES: tuple[tuple[Vec3, Vec3], ...] = (
    ((-10.0, 21.0, -11.0), (17.0, 13.0, 16.0)),  # upper lobe in front of S1-S2, toward the left foramen
    ((-5.0, 45.0, -24.0), (25.0, 19.0, 20.0)),  # main lobe in the concavity at S2-S3
    ((-3.0, 46.0, -6.0), (13.0, 9.0, 27.0)),  # its base along the midline sacrum (S2-S3 foramina stay free)
    ((2.0, 63.0, -13.0), (17.0, 13.0, 12.0)),  # lower lobe on S3
    ((-16.0, 40.0, -33.0), (12.0, 11.0, 11.0)),  # anterolateral lobule on the left
)
# The foraminal component: its radius beyond the foramen's own (mm), so it fills and slightly widens it.
FORAMINAL_GROW_MM = 0.6
# Precoccygeal mass about 30 x 25 x 28 mm (case report), resting on the anterior coccyx above its tip:
# world centre (mm) and radii (across, front-back, along the coccyx) mm, tilted with the coccyx.
PRECOCCYGEAL_LOBES: tuple[tuple[Vec3, Vec3], ...] = (
    ((0.0, -47.0, -91.0), (15.0, 11.5, 13.0)),
    ((-6.0, -40.0, -99.0), (8.0, 7.0, 7.0)),
    ((6.0, -53.0, -84.0), (7.0, 6.0, 6.0)),
)


def _sacral_lobe(centre: Vec3, radii: Vec3) -> Ellipsoid:
    """An ellipsoid placed in sacral coordinates and aligned with the local sacral curve."""
    f = pb.sacral_frame()
    x, s, u = centre
    return Ellipsoid(f.to_world(x, s, u), radii, (pb.x_angle(f.tangent(s)), 0.0, 0.0))


def left_foramen_path() -> pb.ForamenPath:
    """The LEFT S1-S2 foramen (mm): the right-sided path mirrored."""
    right = next(p for p in pb.foramen_paths() if p.name == "S1-S2")

    def mirror(v: Vec3) -> Vec3:
        return (-v[0], v[1], v[2])

    return pb.ForamenPath(
        right.name,
        mirror(right.canal),
        mirror(right.ivf),
        mirror(right.funnel),
        mirror(right.ventral),
        mirror(right.outside),
        mirror(right.dorsal),
        right.radius_ventral,
        right.radius_dorsal,
    )


def foraminal_component() -> Shape:
    """The tumour inside the left S1-S2 foramen (mm): from in front of the opening, down the funnel to
    the intervertebral foramen (not into the canal)."""
    f = pb.sacral_frame()
    path = left_foramen_path()
    x = -frame.ANTERIOR_SACRAL_FORAMINA["S1-S2"][0]
    s = float(f.levels[1])
    # A broad neck joins the component to the upper lobe in front of the opening.
    front = f.to_world(x + 6.0, s - 2.0, -10.0)
    rv = path.radius_ventral + FORAMINAL_GROW_MM
    inner = 0.6 * path.radius_ventral + FORAMINAL_GROW_MM
    return union(
        [
            Capsule(front, path.outside, rv + 2.0, rv),
            Capsule(path.outside, path.funnel, rv + 0.5, inner),
            Capsule(path.funnel, path.ivf, inner, inner - 0.5),
        ]
    )


@lru_cache(maxsize=1)
def presacral_mass_shape() -> Shape:
    """The presacral mass (mm): lobes on the anterior sacrum, cut to its surface, and the foraminal part."""
    lobes = union([_sacral_lobe(c, r) for c, r in PRESACRAL_LOBES], 4.0)
    body = Displaced(lobes, 2.0, 32.0, seed=11)
    # Only the foraminal component may enter bone: the main mass stops at the anterior sacral cortex.
    on_bone = pb.Clip(body, pb.sacral_plate(), keep_inside=False, band_mm=4.0)
    return union([on_bone, foraminal_component()], 2.0)


@lru_cache(maxsize=1)
def precoccygeal_mass_shape() -> Shape:
    """The precoccygeal mass (mm): lobes in front of the coccyx, cut to its anterior surface."""
    tip = np.asarray(frame.COCCYX_TIP)
    axis = tip - np.asarray(pb.COCCYX_PATH[0])
    angle = pb.x_angle((axis[1], axis[2]))
    lobes = union([Ellipsoid(c, r, (angle, 0.0, 0.0)) for c, r in PRECOCCYGEAL_LOBES], 6.0)
    body = Displaced(lobes, 1.5, 30.0, seed=5)
    return pb.Clip(body, pb.coccyx_shape(), keep_inside=False, band_mm=4.0)


def _landmarks() -> dict[str, Vec3]:
    f = pb.sacral_frame()
    path = left_foramen_path()
    s = float(f.levels[1])
    x = -frame.ANTERIOR_SACRAL_FORAMINA["S1-S2"][0]
    inside = f.to_world(x + 0.5, s - 0.5, 5.0)  # in the left ventral funnel, behind the opening
    main_centre = f.to_world(*PRESACRAL_LOBES[1][0])
    return {
        "presacral_mass_centre": main_centre,
        "presacral_mass_foraminal_component": inside,
        "precoccygeal_mass_centre": PRECOCCYGEAL_LOBES[0][0],
        # Best planes for the key image: the axial slice through the left S1-S2 foramen just behind its
        # opening, and the parasagittal plane down the axis of the left ventral funnel.
        "key_image_axial": inside,
        "key_image_sagittal": (float(0.5 * (path.ventral[0] + path.funnel[0])), inside[1], inside[2]),
    }


LANDMARKS: dict[str, Vec3] = _landmarks()


def structures() -> list[Structure]:
    """The presacral and precoccygeal masses, then the liver lesions (built by the abdomen module)."""
    from . import abdomen

    return [
        Structure(
            "presacral_mass",
            200,
            presacral_mass_shape(),
            TISSUES["presacral_mass"],
            "lesion",
            location="presacral space anterior to S1-S3, entering the left S1-S2 anterior sacral foramen",
            is_lesion=True,
        ),
        Structure(
            "precoccygeal_mass",
            201,
            precoccygeal_mass_shape(),
            TISSUES["precoccygeal_mass"],
            "lesion",
            location="precoccygeal, anterior to the coccyx",
            is_lesion=True,
        ),
        *getattr(abdomen, "liver_lesions", lambda: [])(),
    ]
