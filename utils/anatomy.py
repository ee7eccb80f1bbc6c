"""The analytic patient: structures and lesions of the case in world millimetres (RAS+), with no grid.

Coordinates: +x toward the patient's right, +y anterior, +z superior; the origin is the midline at the
sacral promontory (top of S1). Structures are listed in painting order: a later structure overwrites an
earlier one where they overlap, so skin fat comes first and the lesions come last.

Tissue values are synthetic but chosen inside published ranges where a source exists: 68Ga-DOTATATE
normal-organ uptake follows Kuyumcu S et al., Ann Nucl Med 2013 (DOI 10.1007/s12149-013-0718-4; mean
SUVmax spleen 24.67, kidneys 14.30, adrenals 13.73, pituitary 9.74, liver 9.12, liver metastases 28.72)
and the order of Ozguven S et al., Mol Imaging Radionucl Ther 2021 (DOI 10.4274/mirt.galenos.2021.37268).
True (unblurred) values sit a little below those SUVmax means, because noise raises a measured SUVmax.
FDG values are typical adult values for a fasting patient; the case fixes only that the masses are
FDG-avid and the liver lesions are not (Paul A et al., World J Nucl Med 2025, DOI 10.1055/s-0045-1810099).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .shapes import Capsule, Ellipsoid, Profile, Shape, Union


@dataclass(frozen=True)
class Tissue:
    """Imaging properties of one tissue: CT (HU), MRI T1w/T2w (relative, 0-1) and true SUV per tracer."""

    hu: float
    t1w: float
    t2w: float
    suv_fdg: float
    suv_dotatate: float


TISSUES: dict[str, Tissue] = {
    "air": Tissue(-1000, 0.0, 0.0, 0.0, 0.0),
    "fat": Tissue(-100, 0.95, 0.80, 0.3, 0.2),
    "muscle": Tissue(50, 0.35, 0.25, 0.6, 0.6),
    "soft_tissue": Tissue(35, 0.40, 0.45, 1.2, 1.0),
    "bowel": Tissue(30, 0.35, 0.50, 1.5, 3.5),
    "stomach": Tissue(30, 0.35, 0.45, 1.8, 5.0),
    "rectum": Tissue(35, 0.35, 0.30, 1.6, 1.5),
    "cancellous_bone": Tissue(280, 0.65, 0.45, 1.3, 1.0),
    "dense_bone": Tissue(700, 0.30, 0.20, 0.8, 0.6),
    "skull": Tissue(1000, 0.10, 0.05, 0.5, 0.3),
    "marrow": Tissue(60, 0.70, 0.50, 1.4, 1.0),
    "disc": Tissue(80, 0.35, 0.70, 0.5, 0.4),
    "csf": Tissue(5, 0.08, 1.00, 0.3, 0.1),
    "neural": Tissue(35, 0.45, 0.45, 1.2, 0.3),
    # Foramina and the sacral canal below the thecal sac: nerve roots in fat, so bright on T1 (PET as nerve).
    "perineural_fat": Tissue(-60, 0.80, 0.70, 1.2, 0.3),
    "brain": Tissue(35, 0.50, 0.55, 8.0, 0.15),
    "pituitary": Tissue(40, 0.50, 0.50, 2.0, 9.0),
    "salivary": Tissue(20, 0.45, 0.55, 2.0, 2.5),
    "thyroid": Tissue(100, 0.50, 0.50, 1.3, 4.0),
    "lung": Tissue(-850, 0.02, 0.03, 0.5, 0.4),
    "myocardium": Tissue(40, 0.40, 0.30, 3.0, 1.2),
    "blood": Tissue(40, 0.05, 0.05, 1.7, 1.2),
    "liver": Tissue(60, 0.55, 0.22, 2.1, 7.5),
    "spleen": Tissue(50, 0.40, 0.60, 1.8, 22.0),
    "kidney": Tissue(35, 0.40, 0.60, 2.5, 13.0),
    "urine": Tissue(5, 0.10, 1.00, 20.0, 40.0),
    "adrenal": Tissue(25, 0.40, 0.40, 1.6, 12.0),
    "pancreas": Tissue(40, 0.60, 0.35, 1.4, 3.0),
    "uncinate": Tissue(40, 0.60, 0.35, 1.4, 7.0),
    "uterus": Tissue(45, 0.35, 0.60, 2.2, 3.0),
    "presacral_mass": Tissue(40, 0.30, 0.62, 8.0, 26.0),
    "precoccygeal_mass": Tissue(40, 0.30, 0.60, 6.5, 20.0),
}


@dataclass(frozen=True)
class Structure:
    """A named part of the patient: its solid (mm), its tissue, and whether it is a lesion."""

    name: str
    shape: Shape
    tissue: Tissue
    location: str = ""
    is_lesion: bool = False


def _body_outline() -> tuple[tuple[float, float, float, float], ...]:
    """Trunk and neck knots ``(z, x semi-axis, y semi-axis, y centre)`` in mm for a 165 cm, 65 kg woman."""
    return (
        (-175.0, 150, 95, -5),
        (-120.0, 175, 108, -5),
        (-40.0, 172, 108, -2),
        (40.0, 158, 102, 0),
        (120.0, 150, 104, 2),
        (200.0, 155, 110, 2),
        (290.0, 160, 115, 0),
        (390.0, 172, 112, 0),
        (470.0, 178, 100, -5),
        (530.0, 150, 80, -10),
        (555.0, 62, 62, -8),
        (600.0, 58, 62, -5),
        (650.0, 58, 62, 0),
    )


def _spine() -> list[Structure]:
    """Vertebral bodies, discs, posterior elements, spinal canal (CSF) and cord from C1 to L5."""
    bone, disc = TISSUES["cancellous_bone"], TISSUES["disc"]
    body_heights = [15.0] * 7 + [22.0] * 12 + [28.0] * 5
    disc_heights = [5.0] * 7 + [6.0] * 12 + [9.0] * 5
    names = [f"C{i}" for i in range(1, 8)] + [f"T{i}" for i in range(1, 13)] + [f"L{i}" for i in range(1, 6)]
    # Build upward from the L5-S1 disc, which sits on the promontory at z = 0.
    z = 0.0
    levels = []
    for name, height, gap in zip(
        reversed(names), reversed(body_heights), reversed(disc_heights), strict=True
    ):
        levels.append((name, z + gap, z + gap + height))
        z += gap + height
    parts: list[Structure] = []
    for name, z0, z1 in levels:
        zc, half = (z0 + z1) / 2, (z1 - z0) / 2
        yc = float(np.interp(zc, [0, 120, 300, 480, 560], [-30, -22, -45, -35, -15]))
        rx = 24.0 if name.startswith("L") else 18.0 if name.startswith("T") else 13.0
        ry = 17.0 if name.startswith("L") else 14.0 if name.startswith("T") else 9.0
        parts.append(
            Structure(
                "vertebrae",
                Union(
                    (
                        Ellipsoid((0, yc, zc), (rx, ry, half / 0.85)),
                        Ellipsoid((0, yc - ry - 20, zc), (22, 14, half + 2)),
                        Capsule((0, yc - ry - 22, zc), (0, yc - ry - 36, zc - 6), 5.0),
                    )
                ),
                bone,
                f"{name} vertebra",
            )
        )
        parts.append(
            Structure("intervertebral_discs", Ellipsoid((0, yc, z0 - 1.0), (rx - 1, ry - 1, 4.0)), disc)
        )
    top = levels[-1][2]
    canal = [(0.0, -56.0, -20.0), (0.0, -55.0, 40.0), (0.0, -45.0, 140.0), (0.0, -73.0, 300.0)]
    canal += [(0.0, -63.0, 480.0), (0.0, -35.0, top)]
    for start, end in itertools.pairwise(canal):
        parts.append(Structure("spinal_canal_csf", Capsule(start, end, 8.5), TISSUES["csf"]))
    cord = [(0.0, -45.0, 175.0), (0.0, -73.0, 300.0), (0.0, -63.0, 480.0), (0.0, -35.0, top + 20)]
    for start, end in itertools.pairwise(cord):
        parts.append(Structure("spinal_cord", Capsule(start, end, 4.5), TISSUES["neural"]))
    return parts


# Sacral segments S1-S5 follow the anterior sacral curve (concave forwards): (y, z) centres in mm.
SACRAL_SEGMENTS = (
    ("S1", (-42.0, -14.0), (24.0, 22.0, 16.0), 25.0),
    ("S2", (-55.0, -38.0), (20.0, 19.0, 15.0), 35.0),
    ("S3", (-63.0, -60.0), (16.0, 15.0, 13.0), 45.0),
    ("S4", (-66.0, -80.0), (12.0, 12.0, 11.0), 55.0),
    ("S5", (-64.0, -96.0), (9.0, 9.0, 8.0), 65.0),
)
# Anterior sacral foramina between segments: (name, x from midline, y anterior opening, y back, z, radius).
SACRAL_FORAMINA = (
    ("S1-S2", 28.0, -28.0, -64.0, -27.0, 6.5),
    ("S2-S3", 24.0, -38.0, -70.0, -50.0, 5.5),
    ("S3-S4", 20.0, -48.0, -74.0, -71.0, 4.5),
    ("S4-S5", 16.0, -53.0, -74.0, -89.0, 4.0),
)
LEFT_S1_S2_FORAMEN = Capsule((-28.0, -28.0, -27.0), (-30.0, -64.0, -27.0), 6.5)


def _pelvis() -> list[Structure]:
    """Sacrum with its foramina and canal, coccyx, iliac bones, pubis, ischia and femora."""
    bone, dense = TISSUES["cancellous_bone"], TISSUES["dense_bone"]
    segments = []
    for _name, (yc, zc), (rx, ry, rz), tilt in SACRAL_SEGMENTS:
        segments.append(Ellipsoid((0, yc, zc), (rx, ry, rz), (tilt, 0, 0)))
        segments.append(Ellipsoid((0, yc - 4, zc), (rx * 2.3, ry * 0.9, rz * 0.95), (tilt, 0, 0)))
    structures = [
        Structure(
            "gluteal_muscles",
            Union((Ellipsoid((-80, -55, -75), (55, 35, 65)), Ellipsoid((80, -55, -75), (55, 35, 65)))),
            TISSUES["muscle"],
        ),
        Structure(
            "iliopsoas",
            Union(
                (Capsule((-30, -25, 190), (-70, 5, -80), 17.0), Capsule((30, -25, 190), (70, 5, -80), 17.0))
            ),
            TISSUES["muscle"],
        ),
    ]
    structures.append(Structure("sacrum", Union(tuple(segments)), bone, "sacrum S1-S5"))
    structures.append(
        Structure(
            "sacral_canal",
            Union((Capsule((0, -56, -20), (0, -68, -60), 5.0), Capsule((0, -68, -60), (0, -72, -90), 4.0))),
            TISSUES["perineural_fat"],
        )
    )
    foramina = []
    for _name, x, y_front, y_back, z, radius in SACRAL_FORAMINA:
        for side in (-1.0, 1.0):
            foramina.append(Capsule((side * x, y_front, z), (side * (x + 2), y_back, z), radius))
    structures.append(Structure("sacral_foramina", Union(tuple(foramina)), TISSUES["perineural_fat"]))
    structures.append(
        Structure(
            "coccyx",
            Union(
                (Capsule((0, -62, -104), (0, -56, -120), 6.0), Capsule((0, -56, -120), (0, -46, -136), 5.0))
            ),
            bone,
            "coccyx, 3-4 cm below S5",
        )
    )
    for side in (-1.0, 1.0):
        structures += [
            Structure(
                "iliac_bones",
                Union(
                    (
                        Ellipsoid((side * 85, -25, 20), (11, 50, 52), (0, side * -12, side * 35)),
                        Ellipsoid((side * 62, -45, -10), (14, 22, 30)),
                        Ellipsoid((side * 78, -5, -75), (20, 28, 32)),
                        Capsule((side * 55, -30, -115), (side * 70, -5, -80), 13.0),
                        Capsule((side * 72, 15, -85), (side * 12, 55, -105), 9.0),
                        Capsule((side * 55, -30, -118), (side * 15, 45, -118), 7.0),
                    )
                ),
                bone,
                "ilium, ischium and pubis",
            ),
            Structure(
                "femora",
                Union(
                    (
                        Ellipsoid((side * 88, 8, -95), (23, 23, 23)),
                        Capsule((side * 88, 8, -95), (side * 112, 0, -122), 15.0),
                        Capsule((side * 112, 0, -122), (side * 100, 12, -340), 15.0),
                    )
                ),
                dense,
                "femoral heads and shafts",
            ),
            Structure(
                "femoral_marrow",
                Capsule((side * 110, 1, -140), (side * 100, 12, -340), 8.0),
                TISSUES["marrow"],
            ),
        ]
    return structures


def _thorax_head_neck() -> list[Structure]:
    """Lungs, heart, great vessels, brain, pituitary, salivary glands and thyroid."""
    return [
        Structure(
            "lungs",
            Union((Ellipsoid((-75, -8, 400), (60, 82, 135)), Ellipsoid((75, -8, 400), (62, 82, 135)))),
            TISSUES["lung"],
        ),
        Structure("myocardium", Ellipsoid((-18, 32, 365), (55, 45, 58), (0, 20, -25)), TISSUES["myocardium"]),
        Structure(
            "cardiac_blood_pool", Ellipsoid((-18, 34, 368), (40, 31, 42), (0, 20, -25)), TISSUES["blood"]
        ),
        Structure(
            "aorta",
            Union(
                (
                    Capsule((-20, 0, 60), (-20, -8, 200), 10.0),
                    Capsule((-20, -8, 200), (-22, -28, 330), 11.0),
                    Capsule((-22, -28, 330), (-10, 10, 445), 12.0),
                    Capsule((-10, 10, 445), (-5, 35, 400), 13.0),
                    Capsule((-20, 0, 60), (-60, 5, -40), 6.0),
                    Capsule((-20, 0, 60), (40, 5, -40), 6.0),
                )
            ),
            TISSUES["blood"],
        ),
        Structure("inferior_vena_cava", Capsule((24, 0, 40), (24, -12, 330), 10.0), TISSUES["blood"]),
        Structure("trachea", Capsule((0, 10, 470), (0, 22, 610), 8.0), TISSUES["air"]),
        Structure("head", Ellipsoid((0, 5, 705), (76, 96, 105)), TISSUES["soft_tissue"]),
        Structure("skull", Ellipsoid((0, 5, 710), (72, 91, 98)), TISSUES["skull"]),
        Structure("brain", Ellipsoid((0, 3, 722), (65, 83, 78)), TISSUES["brain"]),
        Structure("pituitary", Ellipsoid((0, 12, 668), (6, 5, 4)), TISSUES["pituitary"], "sella turcica"),
        Structure(
            "salivary_glands",
            Union(
                (
                    Ellipsoid((-44, -5, 640), (10, 15, 18)),
                    Ellipsoid((44, -5, 640), (10, 15, 18)),
                    Ellipsoid((-33, 25, 598), (10, 12, 9)),
                    Ellipsoid((33, 25, 598), (10, 12, 9)),
                )
            ),
            TISSUES["salivary"],
        ),
        Structure(
            "thyroid",
            Union(
                (
                    Ellipsoid((-18, 22, 560), (8, 10, 22)),
                    Ellipsoid((18, 22, 560), (8, 10, 22)),
                    Capsule((-14, 30, 552), (14, 30, 552), 5.0),
                )
            ),
            TISSUES["thyroid"],
        ),
    ]


def _abdomen_pelvis_organs() -> list[Structure]:
    """Bowel, stomach, liver lobes, spleen, pancreas, kidneys, adrenals, bladder, uterus and rectum."""
    rectum_path = [(0, 20, 5), (0, 30, -35), (0, 24, -80), (0, 6, -118), (0, -2, -165)]
    return [
        Structure("small_bowel", Ellipsoid((0, 30, 60), (105, 60, 75)), TISSUES["bowel"]),
        Structure("stomach", Ellipsoid((-55, 35, 215), (38, 30, 48), (0, 0, 20)), TISSUES["stomach"]),
        Structure(
            "liver_right_lobe",
            # tilted so that the inferior tip is lateral, leaving room for the pancreatic head below
            Ellipsoid((70, 12, 200), (63, 72, 78), (0, -20, 0)),
            TISSUES["liver"],
            "right hepatic lobe",
        ),
        Structure(
            "liver_left_lobe", Ellipsoid((-10, 42, 236), (70, 38, 40)), TISSUES["liver"], "left hepatic lobe"
        ),
        Structure("spleen", Ellipsoid((-92, -30, 232), (28, 45, 55), (-15, 0, -25)), TISSUES["spleen"]),
        Structure(
            "pancreas",
            Union((Capsule((-82, -18, 195), (14, 20, 148), 11.0), Ellipsoid((16, 22, 140), (15, 12, 15)))),
            TISSUES["pancreas"],
        ),
        Structure(
            "pancreas_uncinate",
            Ellipsoid((6, 12, 124), (10, 8, 9)),
            TISSUES["uncinate"],
            "uncinate process of the pancreas",
        ),
        Structure("kidney_right", Ellipsoid((62, -52, 118), (26, 22, 55), (0, 12, 10)), TISSUES["kidney"]),
        Structure("kidney_left", Ellipsoid((-62, -48, 135), (26, 22, 55), (0, -12, -10)), TISSUES["kidney"]),
        Structure(
            "renal_pelvis",
            Union((Ellipsoid((52, -42, 116), (9, 7, 16)), Ellipsoid((-52, -38, 133), (9, 7, 16)))),
            TISSUES["urine"],
        ),
        Structure("adrenal_right", Ellipsoid((25, -44, 190), (5, 9, 13)), TISSUES["adrenal"]),
        Structure("adrenal_left", Ellipsoid((-42, -32, 196), (5, 9, 13)), TISSUES["adrenal"]),
        Structure("bladder", Ellipsoid((0, 55, -95), (38, 27, 27)), TISSUES["urine"]),
        Structure("uterus", Ellipsoid((0, 62, -35), (30, 18, 40), (-25, 0, 0)), TISSUES["uterus"]),
        Structure(
            "rectum",
            Union(tuple(Capsule(a, b, 14.0) for a, b in itertools.pairwise(rectum_path))),
            TISSUES["rectum"],
            "rectum, displaced anteriorly by the presacral mass",
        ),
    ]


def _lesions() -> list[Structure]:
    """The case's lesions: lobulated presacral mass into the left S1-S2 foramen, precoccygeal mass, liver."""
    presacral = Union(
        (
            Ellipsoid((2, -6, -40), (26, 19, 30), (10, 0, 0)),
            Ellipsoid((-14, -12, -18), (16, 13, 14)),
            Ellipsoid((12, 0, -58), (15, 12, 13)),
            Ellipsoid((-22, -19, -27), (9, 8, 9)),
            Capsule((-26, -24, -27), (-29, -48, -27), 5.0),
        )
    )
    precoccygeal = Union((Ellipsoid((0, -30, -121), (16, 12, 15)), Ellipsoid((7, -24, -109), (9, 8, 8))))
    liver = [
        # (centre mm, diameter mm, lobe): sizes 5-40 mm in both lobes, as in the case's bilobar disease.
        ((85.0, 10.0, 212.0), 33.0, "right"),
        ((62.0, -25.0, 168.0), 22.0, "right"),
        ((100.0, 40.0, 182.0), 14.0, "right"),
        ((40.0, -20.0, 250.0), 8.0, "right"),
        ((108.0, -10.0, 238.0), 5.0, "right"),
        ((-30.0, 45.0, 236.0), 26.0, "left"),
        ((-55.0, 35.0, 240.0), 12.0, "left"),
        ((-10.0, 58.0, 224.0), 7.0, "left"),
    ]
    lesions = [
        Structure(
            "presacral_mass",
            presacral,
            TISSUES["presacral_mass"],
            "presacral space anterior to S1-S3, entering the left S1-S2 neural foramen",
            True,
        ),
        Structure(
            "precoccygeal_mass",
            precoccygeal,
            TISSUES["precoccygeal_mass"],
            "precoccygeal, anterior to the coccyx",
            True,
        ),
    ]
    for number, (centre, diameter, lobe) in enumerate(liver, start=1):
        r = diameter / 2
        parts: tuple[Shape, ...] = (Ellipsoid(centre, (r, r * 0.9, r * 0.95)),)
        if diameter >= 10:
            # A second, overlapping lobule gives the "lobulated" outline the MRI report describes.
            bump = (centre[0] + 0.55 * r, centre[1] + 0.3 * r, centre[2] - 0.4 * r)
            parts += (Ellipsoid(bump, (0.6 * r, 0.55 * r, 0.6 * r)),)
        # FDG-negative (below liver) and SSTR-positive; the two largest express the most receptor.
        tissue = Tissue(35, 0.25, 0.85, 1.4, 30.0 if diameter >= 20 else 22.0)
        lesions.append(
            Structure(f"liver_lesion_{number}", Union(parts), tissue, f"{lobe} hepatic lobe", True)
        )
    return lesions


def _accessory_spleen() -> Structure:
    """A 12-mm splenule below the spleen's lower pole: the classic SSTR PET pitfall, as avid as the spleen."""
    return Structure(
        "accessory_spleen",
        Ellipsoid((-100, -10, 162), (6, 6, 6)),
        TISSUES["spleen"],
        "below the lower pole of the spleen (splenule)",
    )


def build_patient() -> list[Structure]:
    """Every structure of the synthetic patient, in painting order (lesions last)."""
    outline = _body_outline()
    body = [
        Structure(
            "subcutaneous_fat",
            Union(
                (
                    Profile(outline),
                    Capsule((-95, 0, -150), (-92, 8, -360), 78.0),
                    Capsule((95, 0, -150), (92, 8, -360), 78.0),
                )
            ),
            TISSUES["fat"],
        ),
        Structure(
            "muscle",
            Union(
                (
                    Profile(outline, inset_mm=14.0),
                    Capsule((-95, 0, -150), (-92, 8, -360), 64.0),
                    Capsule((95, 0, -150), (92, 8, -360), 64.0),
                )
            ),
            TISSUES["muscle"],
        ),
        Structure(
            "visceral_fat", Profile(tuple(k for k in outline if k[0] <= 300), inset_mm=26.0), TISSUES["fat"]
        ),
        Structure(
            "mediastinum",
            Profile(tuple(k for k in outline if 250 <= k[0] <= 530), inset_mm=24.0),
            TISSUES["soft_tissue"],
        ),
        Structure(
            "paraspinal_muscles",
            Union(
                (
                    Capsule((-32, -80, -40), (-30, -84, 480), 18.0),
                    Capsule((32, -80, -40), (30, -84, 480), 18.0),
                )
            ),
            TISSUES["muscle"],
        ),
        Structure("neck", Capsule((0, 0, 540), (0, 5, 630), 52.0), TISSUES["muscle"]),
    ]
    return (
        body
        + _abdomen_pelvis_organs()[:1]
        + _pelvis()
        + _thorax_head_neck()
        + _abdomen_pelvis_organs()[1:]
        + _spine()
        + _lesions()
        # painted after the lesions so that their label ids stay as they were; it touches nothing
        + [_accessory_spleen()]
    )


def label_table(structures: list[Structure]) -> dict[str, int]:
    """Label id (1, 2, ...) of each distinct structure name in painting order; 0 is outside the body."""
    ids: dict[str, int] = {}
    for structure in structures:
        ids.setdefault(structure.name, len(ids) + 1)
    return ids


def lesions(structures: list[Structure] | None = None) -> list[Structure]:
    """The lesions of the case (presacral mass, precoccygeal mass, liver lesions)."""
    return [s for s in (structures if structures is not None else build_patient()) if s.is_lesion]
