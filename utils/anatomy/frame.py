"""The patient's frame: body outline, spinal column and landmarks that every region module builds on.

World mm, RAS+ (+x patient's right, +y anterior, +z superior); origin O at the sacral promontory (midline
anterosuperior lip of S1). Supine, arms raised out of the field of view (as on a PET/CT), a woman of
165 cm and 65 kg, about 45 years old.

Landmark coordinates follow the measurements collected for the course (lumbar body sizes: Zhou SH et al.,
Eur Spine J 2000 and Int J Spine Surg 2021;15:1072; lordosis: PMC6680033; sacrum: PMC5799488; pelvimetry:
obstetric textbook values; aortic bifurcation and IVC confluence: Surg Radiol Anat 2002, DOI
10.1007/s00276-002-0036-3). Where a value is a geometric fit of several sources or a typical textbook value,
it is a course choice.
"""

from __future__ import annotations

import numpy as np

Vec3 = tuple[float, float, float]

# Trunk outline: (z, half-width x, half-depth y, y-centre) mm, vertex to crotch. Below the crotch
# (z < -150) the legs are separate (see THIGH_*). Arms are raised out of the field of view.
BODY_KNOTS: tuple[tuple[float, float, float, float], ...] = (
    (-160.0, 165.0, 95.0, -12.0),  # crotch / upper thighs joined by buttocks
    (-110.0, 180.0, 108.0, -16.0),  # greater trochanters, buttocks
    (-50.0, 172.0, 104.0, -8.0),  # hips, lower abdomen
    (10.0, 160.0, 104.0, 6.0),  # iliac crests
    (73.0, 148.0, 107.0, 12.0),  # umbilicus (anterior skin y = +120)
    (130.0, 140.0, 104.0, 10.0),  # waist
    (200.0, 148.0, 110.0, 10.0),  # lower ribs
    (300.0, 152.0, 130.0, 22.0),  # xiphisternum
    (400.0, 157.0, 128.0, 16.0),  # mid-chest
    (470.0, 160.0, 115.0, 8.0),  # upper chest, shoulders (arms up)
    (515.0, 100.0, 80.0, -5.0),  # root of neck
    (545.0, 58.0, 58.0, 0.0),  # neck
    (610.0, 55.0, 58.0, 2.0),  # upper neck
    (640.0, 68.0, 90.0, 14.0),  # jaw, skull base
    (690.0, 74.0, 96.0, 12.0),  # head
    (740.0, 68.0, 88.0, 6.0),
    (765.0, 30.0, 40.0, 4.0),  # vertex
)
BODY_SQUARENESS = 2.4
# Legs below the crotch: (x centre, y centre) at the top, radius (mm); they run to the field's lower edge.
THIGH_TOP_Z, THIGH_BOTTOM_Z = -120.0, -400.0
THIGH_CENTRE_XY = (95.0, -5.0)
THIGH_RADIUS_MM = (85.0, 70.0)  # at the top, at the bottom
# Subcutaneous fat thickness (mm): thinner anteriorly over the upper abdomen, thicker over the buttocks.
SUBCUT_FAT_MM = {"abdomen_front": 22.0, "back": 12.0, "flank": 18.0, "buttock": 35.0, "chest": 12.0, "thigh": 15.0}

# Vertebral body centres (y, z) mm and sizes (width x, depth y, height z) mm. Lumbar from the measured
# table (L5 to T12); above T12 a smooth thoracic kyphosis and cervical lordosis, vertex at about z = 765.
VERTEBRAE: dict[str, tuple[float, float, float, float, float]] = {
    # name: (y, z, width, depth, height)
    "L5": (-3.0, 34.0, 48.0, 33.3, 27.5),
    "L4": (7.0, 73.0, 46.0, 33.0, 26.5),
    "L3": (10.0, 112.0, 44.0, 32.0, 26.5),
    "L2": (11.0, 150.0, 42.0, 31.0, 26.5),
    "L1": (10.0, 186.0, 40.0, 30.0, 25.5),
    "T12": (6.0, 214.0, 38.0, 28.0, 23.0),
    "T11": (1.0, 240.0, 36.0, 27.0, 22.0),
    "T10": (-5.0, 265.0, 34.0, 26.0, 21.0),
    "T9": (-11.0, 289.0, 32.0, 25.0, 20.0),
    "T8": (-16.0, 312.0, 31.0, 24.0, 19.5),
    "T7": (-20.0, 335.0, 30.0, 23.0, 19.0),
    "T6": (-22.0, 358.0, 29.0, 22.0, 18.5),
    "T5": (-22.0, 380.0, 28.0, 21.0, 18.0),
    "T4": (-20.0, 402.0, 27.0, 20.0, 17.5),
    "T3": (-17.0, 424.0, 27.0, 19.0, 17.0),
    "T2": (-12.0, 446.0, 28.0, 18.0, 17.0),
    "T1": (-6.0, 468.0, 29.0, 17.0, 16.5),
    "C7": (0.0, 489.0, 27.0, 16.0, 14.5),
    "C6": (5.0, 508.0, 25.0, 16.0, 14.0),
    "C5": (8.0, 526.0, 24.0, 16.0, 14.0),
    "C4": (10.0, 544.0, 23.0, 15.0, 14.0),
    "C3": (10.0, 562.0, 22.0, 15.0, 14.0),
    "C2": (8.0, 582.0, 22.0, 15.0, 20.0),
    "C1": (6.0, 605.0, 20.0, 10.0, 10.0),
}

# Sacrum: ventral (anterior) surface points on the midline (y, z) from S1 down to the S5 apex, and the
# coccyx tip; foramina centres at the ventral surface (x from midline, y, z).
SACRAL_VENTRAL_MIDLINE: tuple[tuple[float, float], ...] = (
    (0.0, 0.0),  # promontory
    (-21.0, -18.0),  # S1/2
    (-39.0, -34.0),  # S2/3
    (-52.0, -50.0),  # S3/4
    (-59.0, -63.0),  # S4/5
    (-63.0, -74.0),  # S5 apex
)
COCCYX_TIP: Vec3 = (0.0, -45.0, -100.0)
ANTERIOR_SACRAL_FORAMINA: dict[str, tuple[float, float, float, float]] = {
    # Named by the fused segments they lie between (the case's "S1-S2 foramen" carries the S1 ventral
    # ramus). (x from midline, y at the ventral surface, z, diameter) mm: at the level of each fused disc,
    # converging and shrinking caudally (sizes: jcdr.net id 11661; centre-midline distances (d)).
    "S1-S2": (25.0, -21.0, -18.0, 12.5),
    "S2-S3": (21.0, -39.0, -34.0, 12.5),
    "S3-S4": (17.0, -52.0, -50.0, 9.0),
    "S4-S5": (13.0, -59.0, -63.0, 6.0),
}

LANDMARKS: dict[str, Vec3] = {
    "sacral_promontory": (0.0, 0.0, 0.0),
    "l5_s1_disc": (0.0, -10.0, 15.0),
    "symphysis_top": (0.0, 61.0, -98.0),
    "symphysis_bottom": (0.0, 31.0, -122.0),
    "femoral_head_right": (85.0, 10.0, -99.0),
    "femoral_head_left": (-85.0, 10.0, -99.0),
    "iliac_crest_top_right": (120.0, -20.0, 47.0),
    "iliac_crest_top_left": (-120.0, -20.0, 47.0),
    "asis_right": (115.0, 60.0, -15.0),
    "asis_left": (-115.0, 60.0, -15.0),
    "umbilicus": (0.0, 120.0, 73.0),
    "aortic_bifurcation": (-8.0, 32.0, 63.0),
    "ivc_confluence": (15.0, 25.0, 54.0),
    "xiphisternal_joint": (0.0, 145.0, 297.0),
    "right_diaphragm_dome": (60.0, 30.0, 285.0),
    "left_diaphragm_dome": (-60.0, 20.0, 270.0),
    "coccyx_tip": COCCYX_TIP,
}


def body_half_width_mm(z_mm: float) -> float:
    """Half-width (mm) of the trunk outline at height z (mm)."""
    k = np.asarray(BODY_KNOTS)
    return float(np.interp(z_mm, k[:, 0], k[:, 1]))


def vertebra_centre(name: str) -> Vec3:
    """Centre (mm) of a vertebral body by name (``"L3"``)."""
    y, z, *_ = VERTEBRAE[name]
    return (0.0, y, z)


# Hand-off points where one region's structure continues into another's (mm). Common iliac arteries
# divide in front of the sacroiliac joints; the ureters cross the pelvic brim over that division
# (Ellis H, Clinical Anatomy); the sigmoid joins the rectum near S3.
COMMON_ILIAC_DIVISION: dict[str, Vec3] = {"right": (42.0, 18.0, 8.0), "left": (-48.0, 18.0, 10.0)}
URETER_AT_BRIM: dict[str, Vec3] = {"right": (44.0, 24.0, 12.0), "left": (-50.0, 24.0, 14.0)}
RECTOSIGMOID_JUNCTION: Vec3 = (-8.0, 26.0, -40.0)
# The presacral mass fills the sacral concavity from S1 to S3 and pushes the rectum forward: the rectum's
# posterior wall lies at about y = +10 mm between z = -20 and -70 mm.
RECTUM_POSTERIOR_WALL_Y = 10.0
