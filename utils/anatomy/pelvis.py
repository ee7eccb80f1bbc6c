"""Pelvic soft tissue: bladder, uterus, ovaries, rectum and sigmoid, the pelvic wall and floor, the gluteal and
iliac muscles, the iliac vessels and the pelvic ureters (world mm, RAS+, origin at the sacral promontory).

The case's presacral mass (lesions region) fills the sacral concavity from S1 to S3 up to y = +8 mm, so the
organs in front of it are displaced: the rectum lies on the front of the mass (posterior wall at y = +10 mm
from z = -40 to -70 mm, frame value) and swings back behind the vagina below it; the uterus is pushed up
and to the right; the bladder is compressed into the front of the pelvis between the pubis, the anterior
abdominal wall and the organs behind it. Bones come from ``pelvis_bones`` (hip bones, sacrum, femora); the
muscles are fitted to their surfaces. Sizes: sources cited at each constant.

Speed: a swept ``Tube`` costs ~10x an ellipsoid or capsule per sampled point, so every tube is its own
structure (one vessel, one ureter, one muscle: a tight box and no union evaluating it elsewhere) and the
cuts that shape the bladder and mesorectum use capsules through the same points instead of the tubes.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from itertools import pairwise

import numpy as np
from scipy.spatial.transform import Rotation

from ..sdf import (
    Capsule,
    Cylinder,
    Ellipsoid,
    HalfSpace,
    Intersect,
    Mirrored,
    Offset,
    Profile,
    RoundBox,
    Shape,
    Shell,
    SmoothUnion,
    Sphere,
    Subtract,
    Tube,
    union,
)
from . import Structure, frame
from .tissues import TISSUES, Tissue

Vec3 = tuple[float, float, float]
Path = tuple[tuple[Vec3, float], ...]  # (point, radius) mm along a tube

LABELS: dict[str, int] = {
    "bladder": 80,
    "uterus_myometrium": 81,
    "uterus_junctional_zone": 82,
    "uterus_endometrium": 83,
    "uterus_cervix": 84,
    "vagina": 85,
    "ovaries": 86,
    "rectum": 87,
    "anal_canal": 88,
    "colon_sigmoid": 89,
    "mesorectal_fat": 90,
    "presacral_fat": 91,
    "ischioanal_fat": 92,
    "pelvic_fat": 93,
    "piriformis": 94,
    "obturator_internus": 95,
    "levator_ani": 96,
    "gluteus_maximus": 97,
    "gluteus_medius_minimus": 98,
    "iliacus": 99,
    "iliac_arteries": 100,
    "iliac_veins": 101,
    "urethra": 102,
    # The abdomen region's upper ureters carry this label; the pelvic ureters continue them.
    "ureters": 134,
}

# Ovarian follicles: simple fluid (course choice: the joint-fluid values, water-like on CT and MRI).
FOLLICLE: Tissue = TISSUES["joint_fluid"]
# Fascia (mesorectal fascia): dense collagen, dark on T2 (course choice: the tendon values).
FASCIA: Tissue = TISSUES["tendon"]

# --------------------------------------------------------------------------------------------------
# Rectum, anal canal, sigmoid.

# Rectum 30-40 mm (t), wall 3 mm (<= 3 mm distended, t): from the rectosigmoid junction down the front of the
# mass, then back under it in front of the coccyx to the anorectal junction at the level of the coccyx tip.
RECTUM_PATH: tuple[tuple[Vec3, float, float], ...] = (
    # centre, radius, half-spread: two tubes side by side flatten the rectum against the mass (~21 x 36 mm
    # between z -45 and -70), round again below it.
    (frame.RECTOSIGMOID_JUNCTION, 13.0, 3.0),
    ((-10.0, 21.0, -50.0), 11.0, 7.0),
    ((-10.0, 21.0, -60.0), 11.0, 7.0),
    ((-7.0, 21.0, -71.0), 11.0, 6.0),
    ((-6.0, 17.5, -79.5), 11.5, 4.0),
    ((-3.0, 6.0, -86.0), 14.5, 2.0),
    ((0.0, -6.0, -94.0), 14.0, 0.5),
    ((0.0, -13.0, -102.0), 10.0, 0.0),
)
ANORECTAL_JUNCTION: Vec3 = RECTUM_PATH[-1][0]
RECTAL_GAS_LEVEL_Y = 25.0  # supine: gas collects in the front of the upper rectum
# Anal canal 3-4 cm (t) down and back through the levator hiatus; sphincter complex ~22 mm across, external
# sphincter the outer 5 mm (t).
ANAL_CANAL: tuple[tuple[Vec3, float], ...] = (
    ((0.0, -15.0, -106.0), 10.5),
    ((0.0, -20.0, -118.0), 11.0),
    ((0.0, -28.0, -136.0), 9.5),
)
# Sigmoid colon 30-40 mm (<= 6 cm: 3/6/9 rule), from the rectosigmoid junction up and to the left across the
# left iliac fossa, in front of the external iliac vessels, to the descending colon at (-90, 20, 20).
SIGMOID_PATH: tuple[tuple[Vec3, float], ...] = (
    (frame.RECTOSIGMOID_JUNCTION, 14.0),
    ((-20.0, 30.0, -28.0), 15.0),
    ((-32.0, 42.0, -18.0), 16.0),
    ((-48.0, 48.0, -10.0), 16.0),
    ((-66.0, 45.0, -5.0), 17.0),
    ((-82.0, 36.0, 0.0), 18.0),
    # Meets the descending colon (bowel region: 40 mm, heading down and forward) end to end.
    ((-91.3, 26.1, 9.8), 19.5),
    ((-90.0, 20.0, 20.0), 20.0),
)
SIGMOID_GAS_LEVEL_Y = 50.0
# Mesorectum: fat inside the mesorectal fascia, 72 +- 10 mm wide in women (DOI
# 10.13418/j.issn.1001-165x.2020.01.008), thin behind the rectum in women (Allen SD et al., Eur Radiol 2006,
# DOI 10.1007/s00330-005-2657-5) and in front of it; the fascia is a thin dark line.
# The envelope: 2.5 mm of fat in front of the rectum, wings of fat either side and behind it.
MESORECTUM_FRONT_MM = 2.5
MESORECTUM_WINGS: tuple[tuple[Vec3, Vec3], ...] = (
    ((-10.0, 17.0, -53.0), (35.0, 12.0, 21.0)),  # centre, semi-axes (width, depth, height)
    ((-5.0, 3.0, -80.0), (30.0, 14.0, 15.0)),
)
MESORECTAL_FASCIA_MM = 1.2
# Presacral (retrorectal) fat: ~11-12 mm between the sacrum and the mesorectal fascia (Chen YY et al., Clin
# Anat 2003, DOI 10.1002/ca.10129). The case's masses fill it at S1-S3 and in front of the coccyx.
PRESACRAL_FAT: tuple[Vec3, Vec3, Vec3] = ((0.0, -44.0, -74.0), (26.0, 13.0, 24.0), (0.0, 0.45, 0.89))

# --------------------------------------------------------------------------------------------------
# Uterus, vagina, ovaries.

# Uterus anteverted (body tipped forward over the bladder), 6-9 cm long with the cervix, body ~5 x 3.5 cm
# (t); endometrium 5-10 mm (mriprotocol), junctional zone 2-8 mm (Novellas S et al., AJR 2011, DOI
# 10.2214/AJR.10.4877). Pushed up and to the right of the displaced rectum.
EXTERNAL_OS: Vec3 = (17.0, 26.0, -84.0)
INTERNAL_OS: Vec3 = (24.0, 33.0, -59.0)
FUNDUS_TIP: Vec3 = (15.0, 56.0, -12.0)
CORPUS_HALF_MM: Vec3 = (24.0, 17.0, 27.0)  # width, front-to-back, length
ENDOMETRIUM_HALF_MM: Vec3 = (13.0, 4.0, 18.0)  # an 8 mm stripe
JUNCTIONAL_ZONE_MM = 5.0
CERVIX_RADIUS_MM = 12.5
# Vagina: collapsed, H-shaped, ~25 mm wide (t), from the vault around the cervix to the introitus, between
# the bladder base and urethra in front and the rectum and anal canal behind. (centre, radius, half-spread)
VAGINA_PATH: tuple[tuple[Vec3, float, float], ...] = (
    ((13.0, 22.0, -94.0), 5.5, 7.5),
    ((6.0, 15.0, -103.0), 5.0, 7.0),
    ((2.0, 10.0, -112.0), 4.5, 6.5),
    ((0.0, 7.0, -122.0), 4.5, 6.0),
    ((0.0, 4.0, -132.0), 4.5, 5.0),
    ((0.0, 2.0, -141.0), 4.0, 4.0),
)
VAGINA_WALL_MM = 3.5
# Ovaries ~30 x 20 x 15 mm, 4.8 mL at 40-49 y (Pavlik EJ et al., Gynecol Oncol 2000;77:410), in the ovarian
# fossae: behind the external iliac vessels, in front of the ureter and internal iliac vessels.
OVARY_CENTRES: dict[str, Vec3] = {"right": (42.0, 8.0, -42.0), "left": (-44.0, 13.0, -42.0)}
OVARY_HALF_MM: Vec3 = (7.5, 10.0, 15.0)
FOLLICLES: dict[str, tuple[tuple[Vec3, float], ...]] = {  # offsets from the ovary centre, radius (mm)
    "right": (((2.0, 5.0, 8.0), 3.0), ((-2.5, -5.0, 3.0), 2.5), ((2.0, 3.0, -8.0), 2.0), ((-1.5, -3.0, -6.0), 4.0)),
    "left": (((-2.0, 4.0, 7.0), 2.5), ((2.0, -5.0, 0.0), 3.0), ((0.0, 4.0, -8.0), 2.0)),
}

# --------------------------------------------------------------------------------------------------
# Bladder and urethra.

# Bladder: 300-400 mL typical, wall > 3 mm distended abnormal (Radiopaedia, bladder wall thickening). Here
# only ~25 mm are left between the displaced rectum (front wall y ~ 32-40) and the rectus sheath (y 59-64),
# so it is squeezed flat between them and the pubis: an envelope cut by its neighbours (2.5 mm fat plane),
# ~80 mL in all with ~35 mL of urine.
BLADDER_CENTRE: Vec3 = (-3.0, 36.0, -70.0)
BLADDER_HALF_MM: Vec3 = (48.0, 30.0, 44.0)
BLADDER_ROUNDING_MM = 16.0
BLADDER_TILT_DEG = -12.0  # dome tipped forward under the anterior abdominal wall
BLADDER_WALL_MM = 3.0
# Inner surface of the rectus sheath (abdomen region): y 64.5 at z -40 to 59.5 at z -100.
ANTERIOR_WALL: tuple[Vec3, Vec3] = ((0.0, 59.0, -100.0), (0.0, 1.0, -0.075))
# Back of the pubic bodies: y 44.5 at z -100 to 26.5 at z -115 (pelvis_bones), 3 mm of retropubic fat.
PUBIS_PLANE: tuple[Vec3, Vec3] = ((0.0, 41.5, -100.0), (0.0, 1.0, -1.2))
# Never behind the front of the presacral mass (y = +8 mm, lesions region).
BLADDER_BACK_PLANE: tuple[Vec3, Vec3] = ((0.0, 12.0, 0.0), (0.0, -1.0, 0.0))
BLADDER_NECK: Vec3 = (0.0, 22.0, -106.0)
URETHRA_PATH: tuple[tuple[Vec3, float], ...] = ((BLADDER_NECK, 4.5), ((0.0, 19.0, -125.0), 4.0), ((0.0, 17.0, -140.0), 3.5))

# --------------------------------------------------------------------------------------------------
# Vessels and ureters.

# Common iliac artery 8.5 mm (female lumen, DOI 10.1016/j.avsg.2019.05.030), external ~7 mm, veins
# 1.2-1.5x; medial to the psoas along the brim, under the inguinal ligament in front of the femoral head; the
# left common iliac vein crosses behind the right common iliac artery. (point, radius)
BIFURCATION: Vec3 = frame.LANDMARKS["aortic_bifurcation"]
IVC_CONFLUENCE: Vec3 = frame.LANDMARKS["ivc_confluence"]
DIVISION = frame.COMMON_ILIAC_DIVISION
ARTERIES: dict[str, Path] = {
    "right_common_external_femoral": (
        (BIFURCATION, 4.4), ((4.0, 32.0, 50.0), 4.3), ((25.0, 26.0, 29.0), 4.25), (DIVISION["right"], 4.0),
        ((47.0, 25.0, -12.0), 3.6), ((49.0, 33.0, -32.0), 3.5), ((54.0, 40.0, -50.0), 3.5),
        ((59.0, 50.0, -68.0), 3.5), ((60.0, 56.0, -84.0), 3.4), ((62.0, 55.0, -100.0), 3.3),
        ((64.0, 49.0, -120.0), 3.2), ((67.0, 42.0, -150.0), 3.1), ((71.0, 37.0, -175.0), 3.0), ((74.0, 33.0, -200.0), 3.0),
    ),
    "left_common_external_femoral": (
        (BIFURCATION, 4.4), ((-20.0, 30.0, 45.0), 4.3), ((-35.0, 25.0, 26.0), 4.25), (DIVISION["left"], 4.0),
        ((-51.0, 25.0, -10.0), 3.6), ((-50.0, 33.0, -32.0), 3.5), ((-54.0, 40.0, -50.0), 3.5),
        ((-59.0, 50.0, -68.0), 3.5), ((-60.0, 56.0, -84.0), 3.4), ((-62.0, 55.0, -100.0), 3.3),
        ((-64.0, 49.0, -120.0), 3.2), ((-67.0, 42.0, -150.0), 3.1), ((-71.0, 37.0, -175.0), 3.0), ((-74.0, 33.0, -200.0), 3.0),
    ),
    # Internal iliac: down and back over the sacroiliac joint to the upper greater sciatic foramen.
    "right_internal": ((DIVISION["right"], 3.3), ((42.0, 6.0, -8.0), 3.0), ((44.0, -8.0, -24.0), 2.8),
                       ((46.0, -20.0, -40.0), 2.6), ((48.0, -28.0, -54.0), 2.3)),
    "left_internal": ((DIVISION["left"], 3.3), ((-47.0, 6.0, -6.0), 3.0), ((-47.0, -8.0, -24.0), 2.8),
                      ((-47.0, -20.0, -40.0), 2.6), ((-48.0, -28.0, -54.0), 2.3)),
    # Uterine arteries: forward and medially over the ureters to the side of the cervix.
    "right_uterine": (((46.0, -17.0, -36.0), 1.8), ((40.0, -6.0, -44.0), 1.7), ((38.0, 10.0, -55.0), 1.6),
                      ((38.0, 24.0, -62.0), 1.5), ((37.0, 30.0, -64.0), 1.5)),
    "left_uterine": (((-46.0, -17.0, -36.0), 1.8), ((-40.0, -6.0, -44.0), 1.7), ((-36.0, 10.0, -56.0), 1.6),
                     ((-30.0, 24.0, -66.0), 1.5), ((-20.0, 31.0, -72.0), 1.5), ((-5.0, 30.0, -77.0), 1.5),
                     ((5.0, 29.0, -79.0), 1.5)),
}
VEINS: dict[str, Path] = {
    "right_common_external_femoral": (
        (IVC_CONFLUENCE, 6.0), ((24.0, 17.0, 38.0), 6.0), ((34.0, 10.0, 20.0), 6.0), ((40.0, 8.0, 5.0), 6.0),
        ((45.0, 14.0, -12.0), 5.2), ((45.0, 24.0, -32.0), 5.0), ((48.0, 32.0, -50.0), 5.0), ((53.0, 42.0, -68.0), 4.8),
        ((53.0, 50.0, -84.0), 4.8), ((54.0, 49.0, -100.0), 4.7), ((57.0, 43.0, -120.0), 4.6),
        ((61.0, 36.0, -150.0), 4.5), ((65.0, 31.0, -175.0), 4.3), ((68.0, 28.0, -200.0), 4.2),
    ),
    "left_common_external_femoral": (
        (IVC_CONFLUENCE, 6.0), ((5.0, 20.5, 48.0), 5.0), ((-10.0, 19.0, 38.0), 5.5), ((-28.0, 14.0, 22.0), 6.0),
        ((-44.0, 9.0, 6.0), 6.0), ((-47.0, 14.0, -12.0), 5.2), ((-46.0, 24.0, -32.0), 5.0), ((-48.0, 32.0, -50.0), 5.0),
        ((-53.0, 42.0, -68.0), 4.8), ((-53.0, 50.0, -84.0), 4.8), ((-54.0, 49.0, -100.0), 4.7),
        ((-57.0, 43.0, -120.0), 4.6), ((-61.0, 36.0, -150.0), 4.5), ((-65.0, 31.0, -175.0), 4.3), ((-68.0, 28.0, -200.0), 4.2),
    ),
    "right_internal": (((40.0, 8.0, 5.0), 5.0), ((39.0, -4.0, -10.0), 4.5), ((41.0, -16.0, -26.0), 4.2),
                       ((43.0, -27.0, -42.0), 4.0), ((45.0, -34.0, -55.0), 3.5)),
    "left_internal": (((-44.0, 9.0, 6.0), 5.0), ((-43.0, -4.0, -10.0), 4.5), ((-44.0, -16.0, -26.0), 4.2),
                      ((-45.0, -27.0, -42.0), 4.0), ((-46.0, -34.0, -55.0), 3.5)),
}
# Pelvic ureters (Ellis H, Clinical Anatomy): from the brim over the iliac division, down the side wall in
# front of the internal iliac artery and behind the ovary, forward under the uterine artery ~12 mm lateral
# to the cervix, obliquely through the bladder wall to the trigone. 5 mm (4-7 mm typical).
URETERS: dict[str, tuple[Vec3, ...]] = {
    "right": (
        frame.URETER_AT_BRIM["right"], (41.0, 27.0, 5.0), (37.0, 24.0, -2.0), (35.0, 17.0, -10.0), (39.0, 9.0, -20.0),
        (44.0, -4.0, -40.0),
        (46.0, -4.0, -56.0), (44.0, 6.0, -70.0), (40.0, 16.0, -82.0), (32.0, 22.0, -91.0), (22.0, 27.0, -97.0),
        (13.0, 29.0, -101.0),
    ),
    "left": (
        frame.URETER_AT_BRIM["left"], (-46.0, 28.0, 7.0), (-41.0, 25.0, 0.0), (-38.0, 17.0, -9.0), (-41.0, 9.0, -20.0),
        (-45.0, -4.0, -40.0),
        (-46.0, -4.0, -56.0), (-43.0, 7.0, -70.0), (-37.0, 17.0, -83.0), (-27.0, 23.0, -92.0), (-18.0, 27.0, -98.0),
        (-11.0, 29.0, -101.0),
    ),
}
URETER_RADIUS_MM = 2.5

# --------------------------------------------------------------------------------------------------
# Muscles (right side given; the left is its mirror image).

# Piriformis 15-20 mm thick (t): from the ventral sacrum between and lateral to the S2-S4 anterior foramina,
# through the greater sciatic foramen, behind the hip, to the greater trochanter (wheelessonline).
PIRIFORMIS: Path = (
    ((24.0, -36.0, -28.0), 6.0),
    ((31.0, -42.0, -42.0), 9.0),
    ((44.0, -50.0, -56.0), 10.0),
    ((60.0, -54.0, -68.0), 10.0),
    ((82.0, -46.0, -82.0), 8.5),
    ((104.0, -26.0, -90.0), 6.0),
    ((118.0, -10.0, -95.0), 4.0),
)
# Inner surface of the pelvic side wall = medial face of the obturator internus (10-15 mm, t) on the hip
# bone (medial face at x 50-64 from z -60 to -130): (z, x semi-axis, y semi-axis, y centre) mm.
SIDE_WALL_KNOTS: tuple[tuple[float, float, float, float], ...] = (
    (-140.0, 48.0, 62.0, 4.0),
    (-120.0, 44.0, 64.0, 4.0),
    (-105.0, 39.5, 66.0, 5.0),
    (-90.0, 40.5, 68.0, 5.0),
    (-75.0, 44.0, 70.0, 5.0),
    (-60.0, 46.0, 72.0, 5.0),
    (-40.0, 48.0, 72.0, 5.0),
    (0.0, 48.0, 72.0, 5.0),
)
SIDE_WALL_SQUARENESS = 2.4
OBTURATOR_INTERNUS_MM = 12.0
# Levator ani 3-6 mm (t): a funnel from the side walls (arcus tendineus, z ~ -80) down to the anorectal
# junction, pubis in front and coccyx behind; the urogenital hiatus 12-15 cm2 (Hoyte L et al., AJOG 2003,
# DOI 10.1067/mob.2003.58) in front of the anorectal junction.
LEVATOR_BOWL: tuple[Vec3, Vec3] = ((0.0, 0.0, -54.5), (55.0, 70.0, 61.0))  # meets the side wall at z -91..-96
LEVATOR_MM = 4.5
HIATUS: tuple[Vec3, tuple[float, float]] = ((0.0, 18.0, -105.0), (15.0, 42.0))  # open to the pubis in front
ISCHIOANAL: tuple[Vec3, Vec3] = ((33.0, -12.0, -126.0), (22.0, 44.0, 30.0))
# Gluteus maximus 30-40 mm (t): from the sacrum, coccyx and posterior ilium to the gluteal tuberosity and
# iliotibial tract, between the buttock's subcutaneous fat (35 mm, frame) and the deep gluteal structures,
# thickest behind the hip and tapering to its edges. Inner surface of the fat (both sides); deep surface (right).
BUTTOCK_FAT_LINE: tuple[Vec3, Vec3] = ((0.0, -10.0, -95.0), (156.0, 74.0, 200.0))
GLUTEAL_DEEP: tuple[tuple[Vec3, Vec3], ...] = (
    ((72.0, 12.0, -92.0), (92.0, 54.0, 125.0)),  # hip joint, trochanter, ischium, gluteus medius
    ((0.0, -20.0, -50.0), (45.0, 62.0, 75.0)),  # sacrum, coccyx and the pelvis within
    ((70.0, -35.0, -15.0), (26.0, 28.0, 42.0)),  # posterior ilium
)
# Sciatic nerve, gluteal vessels and piriformis in the greater sciatic foramen, deep to the gluteus maximus.
GLUTEAL_DEEP_FORAMEN: Path = (((36.0, -46.0, -50.0), 15.0), ((90.0, -42.0, -86.0), 15.0))
# Gluteus medius 20-25 mm plus minimus (t) on the outer iliac wing, converging on the greater trochanter.
GLUTEUS_MEDIUS: tuple[Vec3, Vec3, Vec3, Vec3] = (
    (124.0, -14.0, -18.0),  # centre
    (15.0, 48.0, 52.0),  # semi-axes: thickness, along the wing, height
    (0.3, -0.1, 1.0),  # long axis (the wing leans out as it rises)
    (0.5, 0.85, 0.0),  # along the wing
)
GLUTEUS_MEDIUS_TENDON: Path = (((128.0, -8.0, -48.0), 17.0), ((124.0, -4.0, -92.0), 7.0))
# Iliacus in the iliac fossa (15-25 mm, t), joining the psoas (abdomen region) as the iliopsoas in front of
# the hip joint.
ILIACUS: tuple[Vec3, Vec3, Vec3, Vec3] = (
    (106.0, 14.0, -4.0),
    (12.0, 30.0, 46.0),
    (-0.4, 0.15, -0.9),
    (0.3, 0.95, 0.0),
)
ILIACUS_LOWER: Path = (((95.0, 28.0, -38.0), 13.0), ((86.0, 48.0, -70.0), 10.0), ((90.0, 50.0, -92.0), 7.0))


def _unit(v: Sequence[float]) -> np.ndarray:
    """Unit vector along v."""
    a = np.asarray(v, float)
    return a / np.linalg.norm(a)


def _angles(axis: Sequence[float], front: Sequence[float] = (0.0, 1.0, 0.0)) -> Vec3:
    """Euler angles (deg, extrinsic x-y-z) of a frame with local z along ``axis`` and local y toward ``front``."""
    ez = _unit(axis)
    ey = _unit(np.asarray(front, float) - np.dot(front, ez) * ez)
    ex = np.cross(ey, ez)
    return tuple(float(a) for a in Rotation.from_matrix(np.column_stack([ex, ey, ez])).as_euler("xyz", degrees=True))


def _mirror(p: Vec3) -> Vec3:
    """The point's mirror image across the midline (mm)."""
    return (-p[0], p[1], p[2])


def _shifted(p: Vec3, dx: float) -> Vec3:
    """The point moved dx (mm) to the patient's right."""
    return (p[0] + dx, p[1], p[2])


def _tube(path: Path) -> Tube:
    """A swept tube through (point, radius) pairs (mm)."""
    return Tube(tuple(p for p, _ in path), tuple(r for _, r in path))


def _oriented(centre: Vec3, half: Vec3, axis: Sequence[float], front: Sequence[float]) -> Ellipsoid:
    """Ellipsoid (mm) with its third semi-axis along ``axis`` and its second toward ``front``."""
    return Ellipsoid(centre, half, _angles(axis, front))


# --------------------------------------------------------------------------------------------------
# Shapes.


@cache
def _rectum() -> Shape:
    """Rectum outer surface (mm)."""
    return _flat_tube(RECTUM_PATH)


@cache
def _sigmoid() -> Tube:
    """Sigmoid colon outer surface (mm)."""
    return _tube(SIGMOID_PATH)


@cache
def _mesorectal_wings() -> Shape:
    """The fat either side of and behind the rectum (mm)."""
    return union([Ellipsoid(c, h) for c, h in MESORECTUM_WINGS], 8.0)


@cache
def _rectum_capsules(grow_mm: float) -> tuple[Capsule, ...]:
    """Capsules through the rectum's two lobes, grown by ``grow_mm``: a cheap stand-in for the rectum (mm)."""
    return tuple(
        Capsule(_shifted(a, sx * da), _shifted(b, sx * db), ra + grow_mm, rb + grow_mm)
        for (a, ra, da), (b, rb, db) in pairwise(RECTUM_PATH)
        for sx in (-1.0, 1.0)
    )


@cache
def _mesorectum() -> Shape:
    """Mesorectal envelope (inside the fascia, rectum included) (mm)."""
    return SmoothUnion((union(_rectum_capsules(MESORECTUM_FRONT_MM)), _mesorectal_wings()), 6.0)


@cache
def _uterus_parts() -> dict[str, Shape]:
    """Corpus, isthmus, cervix, endometrial cavity and canal of the uterus (mm)."""
    body_axis = _unit(np.subtract(FUNDUS_TIP, INTERNAL_OS))
    corpus_centre = tuple(np.asarray(FUNDUS_TIP) - CORPUS_HALF_MM[2] * body_axis)
    angles = _angles(body_axis)
    corpus = Ellipsoid(corpus_centre, CORPUS_HALF_MM, angles)
    isthmus = Capsule(INTERNAL_OS, tuple(np.asarray(INTERNAL_OS) + 14.0 * body_axis), 13.0, 18.0)
    cervix_axis = _unit(np.subtract(INTERNAL_OS, EXTERNAL_OS))
    cervix = Capsule(tuple(np.asarray(EXTERNAL_OS) + 2.0 * cervix_axis), INTERNAL_OS, CERVIX_RADIUS_MM, CERVIX_RADIUS_MM + 0.5)
    cavity = Ellipsoid(tuple(np.asarray(corpus_centre) + 1.0 * body_axis), ENDOMETRIUM_HALF_MM, angles)
    canal = Capsule(EXTERNAL_OS, tuple(np.asarray(INTERNAL_OS) + 6.0 * body_axis), 1.8, 2.2)
    # The zones nest without overlapping: the cervix ends at the internal os, the body begins there; the
    # junctional zone is the shell around the endometrium, the outer myometrium the rest of the body.
    below_os, above_os = HalfSpace(INTERNAL_OS, tuple(cervix_axis)), HalfSpace(INTERNAL_OS, tuple(-cervix_axis))
    junctional = Intersect(Offset(cavity, JUNCTIONAL_ZONE_MM), Offset(corpus, -4.0))
    body = Intersect(SmoothUnion((corpus, isthmus), 8.0), above_os)
    endometrium = SmoothUnion((cavity, canal), 3.0)
    return {
        "corpus": corpus,
        "cavity": cavity,
        "body": body,
        "cervix": cervix,
        "cervix_stroma": Subtract(Intersect(cervix, below_os), endometrium),
        "myometrium": Subtract(body, union([junctional, endometrium])),
        "junctional_zone": Subtract(junctional, endometrium),
        "endometrium": endometrium,
    }


def _flat_tube(path: Sequence[tuple[Vec3, float, float]]) -> Shape:
    """A tube wider (x) than deep: two tubes side by side, +-spread apart (mm)."""
    sides = [Tube(tuple((c[0] + sign * dx, c[1], c[2]) for c, _, dx in path), tuple(r for _, r, _ in path))
             for sign in (-1.0, 1.0)]
    return SmoothUnion(tuple(sides), 4.0)


@cache
def _vagina() -> Shape:
    """Vagina (mm)."""
    return _flat_tube(VAGINA_PATH)


@cache
def _ovaries() -> tuple[Shape, Shape]:
    """Both ovaries and their follicles (mm)."""
    ovaries = [Ellipsoid(c, OVARY_HALF_MM, (-15.0, 0.0, 0.0)) for c in OVARY_CENTRES.values()]
    follicles = [Sphere(tuple(np.add(OVARY_CENTRES[side], d)), r) for side in FOLLICLES for d, r in FOLLICLES[side]]
    return union(ovaries), union(follicles)


@cache
def _side_wall() -> Profile:
    """Inner surface of the obturator internus: the lateral pelvic wall (mm)."""
    return Profile(SIDE_WALL_KNOTS, SIDE_WALL_SQUARENESS)


@cache
def _bladder() -> Shape:
    """Bladder outer surface (mm): an envelope cut by the organs behind it, the pubis and the walls."""
    envelope = RoundBox(BLADDER_CENTRE, BLADDER_HALF_MM, BLADDER_ROUNDING_MM, (BLADDER_TILT_DEG, 0.0, 0.0))
    u = _uterus_parts()
    # Cheap stand-ins for the tubes behind the bladder (sigmoid, vagina): capsules through the same points.
    sigmoid = [Capsule(a, b, ra, rb) for (a, ra), (b, rb) in pairwise(SIGMOID_PATH[:4])]
    vagina = [Capsule(a, b, ra + da, rb + db) for (a, ra, da), (b, rb, db) in pairwise(VAGINA_PATH)]
    # The rectum down to z -86 and the upper vagina are all that can touch the bladder.
    rectum = SmoothUnion((union(_rectum_capsules(MESORECTUM_FRONT_MM)[:10]), _mesorectal_wings()), 6.0)
    behind = union([rectum, *sigmoid, *vagina[:3], u["corpus"], u["cervix"], _ovaries()[0]])
    bladder = Subtract(envelope, Offset(behind, 2.5), 6.0)
    walls = Intersect(Offset(_side_wall(), -2.0), Offset(_levator_bowl(), -LEVATOR_MM - 1.0))
    planes = Intersect(Intersect(HalfSpace(*PUBIS_PLANE), HalfSpace(*ANTERIOR_WALL)), HalfSpace(*BLADDER_BACK_PLANE))
    return Intersect(Intersect(bladder, walls), planes)


@cache
def _levator_bowl() -> Ellipsoid:
    """The funnel the levator ani lines (mm)."""
    return Ellipsoid(*LEVATOR_BOWL)


# --------------------------------------------------------------------------------------------------
# Structures.


def _pelvic_floor_and_wall() -> list[Structure]:
    """Obturator internus, levator ani, piriformis, ischioanal fat (mm)."""
    muscle, fat = TISSUES["muscle"], TISSUES["fat"]
    wall = _side_wall()
    oi_box = RoundBox((0.0, 5.0, -95.0), (80.0, 42.0, 37.0), 8.0)
    oi = Intersect(Shell(Offset(wall, OBTURATOR_INTERNUS_MM), OBTURATOR_INTERNUS_MM), oi_box)
    # The tendon leaves through the lesser sciatic foramen, turns round the ischium to the trochanteric fossa.
    oi_exit: Path = (((42.0, -34.0, -110.0), 7.0), ((68.0, -40.0, -105.0), 7.0), ((98.0, -22.0, -98.0), 5.0),
                     ((112.0, -10.0, -96.0), 3.5))
    bowl = _levator_bowl()
    floor_box = RoundBox((0.0, -4.0, -92.0), (70.0, 46.0, 26.0), 4.0)
    hiatus = Cylinder(HIATUS[0], HIATUS[1], 30.0)
    levator = Subtract(Intersect(Intersect(Shell(bowl, LEVATOR_MM), Offset(wall, 3.0)), floor_box), hiatus, 2.0)
    centre, half = ISCHIOANAL
    fossa = Subtract(Intersect(Mirrored(Ellipsoid(centre, half)), wall), bowl, 1.0)
    out = [
        Structure("ischioanal_fat", LABELS["ischioanal_fat"], fossa, fat, "cavity", location="ischioanal fossae"),
        # The pelvic wall and floor sit in the pelvic fat: painted as layer "organ" so the fat never covers them.
        Structure("obturator_internus", LABELS["obturator_internus"], oi, muscle, "organ", location="lateral pelvic walls"),
        Structure("levator_ani", LABELS["levator_ani"], levator, muscle, "organ", location="pelvic floor"),
    ]
    for side_path in (oi_exit, tuple((_mirror(p), r) for p, r in oi_exit)):
        out.append(Structure("obturator_internus", LABELS["obturator_internus"], _tube(side_path), muscle, "organ",
                             location="obturator internus tendon"))
    for side_path in (PIRIFORMIS, tuple((_mirror(p), r) for p, r in PIRIFORMIS)):
        out.append(Structure("piriformis", LABELS["piriformis"], _tube(side_path), muscle, "organ",
                             location="ventral sacrum to greater trochanter"))
    return out


def _buttock(sign: float) -> Shape:
    """Region of one gluteus maximus (sign +1 right, -1 left): lateral to the natal cleft and sacrum, below a
    line from the posterior superior iliac spine to the greater trochanter (mm)."""
    medial = HalfSpace((sign * 10.0, 0.0, -100.0), (-sign, 0.0, 0.2))
    upper = HalfSpace((sign * 45.0, 0.0, 5.0), (sign * 0.81, 0.0, 1.0))
    box = RoundBox((sign * 95.0, -50.0, -67.0), (90.0, 60.0, 91.0))
    return Intersect(Intersect(medial, upper), box)


def _gluteal_and_iliac() -> list[Structure]:
    """Gluteus maximus, medius and minimus, iliacus (mm)."""
    muscle = TISSUES["muscle"]
    fat_line = Ellipsoid(*BUTTOCK_FAT_LINE)
    out = []
    for sign in (1.0, -1.0):
        def m(p: Sequence[float], s: float = sign) -> Vec3:
            return (s * p[0], p[1], p[2])

        (a, ra), (b, rb) = GLUTEAL_DEEP_FORAMEN
        deep = union([*(Ellipsoid(m(c), h) for c, h in GLUTEAL_DEEP), Capsule(m(a), m(b), ra, rb)])
        out.append(Structure("gluteus_maximus", LABELS["gluteus_maximus"], Intersect(Subtract(fat_line, deep), _buttock(sign)),
                             muscle, "wall", location="buttock"))
        c, half, axis, along = GLUTEUS_MEDIUS
        out.append(Structure("gluteus_medius_minimus", LABELS["gluteus_medius_minimus"],
                             _oriented(m(c), half, m(axis), m(along)), muscle, "wall", location="outer iliac wing"))
        (a, ra), (b, rb) = GLUTEUS_MEDIUS_TENDON
        out.append(Structure("gluteus_medius_minimus", LABELS["gluteus_medius_minimus"], Capsule(m(a), m(b), ra, rb),
                             muscle, "wall", location="to the greater trochanter"))
        c, half, axis, along = ILIACUS
        out.append(Structure("iliacus", LABELS["iliacus"], _oriented(m(c), half, m(axis), m(along)), muscle, "organ",
                             location="iliac fossa"))
        out.append(Structure("iliacus", LABELS["iliacus"], _tube(tuple((m(p), r) for p, r in ILIACUS_LOWER)), muscle, "organ",
                             location="iliopsoas"))
    return out


def _vessels() -> list[Structure]:
    """Iliac arteries and veins, pelvic ureters (mm)."""
    blood, urine = TISSUES["blood"], TISSUES["urine"]
    out: list[Structure] = []
    for path in ARTERIES.values():
        out.append(Structure("iliac_arteries", LABELS["iliac_arteries"], _tube(path), blood, "vessel"))
    for path in VEINS.values():
        out.append(Structure("iliac_veins", LABELS["iliac_veins"], _tube(path), blood, "vessel"))
    for side, pts in URETERS.items():
        out.append(Structure("ureters", LABELS["ureters"], Tube(pts, URETER_RADIUS_MM), urine, "vessel",
                             location=f"{side} pelvic ureter"))
    return out


@cache
def _structures() -> tuple[Structure, ...]:
    """Every structure of the region, built once (k-d trees and capsules are reused between calls)."""
    t = TISSUES
    u = _uterus_parts()
    ovaries, follicles = _ovaries()
    rectum, sigmoid, meso = _rectum(), _sigmoid(), _mesorectum()
    wall, bowl = _side_wall(), _levator_bowl()
    # Below the pelvic inlet (promontory to the top of the symphysis; the abdomen's visceral fat is above it),
    # inside the side walls, above the levator ani.
    below_inlet = HalfSpace((0.0, 0.0, 0.0), (0.0, 98.0, 61.0))
    pelvic_fat = Intersect(Intersect(Intersect(wall, below_inlet), Offset(bowl, -LEVATOR_MM)),
                           RoundBox((0.0, 0.0, -60.0), (60.0, 58.0, 62.0)))
    c, half, axis = PRESACRAL_FAT
    presacral = Subtract(_oriented(c, half, axis, (0.0, 1.0, 0.0)), meso, 2.0)
    gas_box = RoundBox((-9.0, 30.0, -54.0), (20.0, 10.0, 16.0))
    rectal_gas = Intersect(Intersect(Offset(rectum, -3.5), HalfSpace((0.0, RECTAL_GAS_LEVEL_Y, 0.0), (0.0, -1.0, 0.0))), gas_box)
    sigmoid_gas = Intersect(Intersect(Offset(sigmoid, -3.5), HalfSpace((0.0, SIGMOID_GAS_LEVEL_Y, 0.0), (0.0, -1.0, 0.0))),
                            RoundBox((-50.0, 56.0, -8.0), (26.0, 12.0, 14.0)))
    gut = {"wall_mm": 3.0, "wall_tissue": t["gut_wall"]}

    def st(name: str, shape: Shape, tissue: Tissue, layer: str, **kw) -> Structure:
        return Structure(name, LABELS[name], shape, tissue, layer, **kw)

    return (
        # Fat compartments, under the organs they hold.
        st("pelvic_fat", pelvic_fat, t["fat"], "cavity", location="extraperitoneal pelvic fat below the inlet"),
        st("mesorectal_fat", Subtract(meso, Offset(rectum, 0.5)), t["fat"], "cavity", wall_mm=MESORECTAL_FASCIA_MM,
           wall_tissue=FASCIA, location="mesorectum, inside the mesorectal fascia"),
        st("presacral_fat", presacral, t["fat"], "cavity", location="retrorectal (presacral) space"),
        *_pelvic_floor_and_wall(),
        *_gluteal_and_iliac(),
        st("ovaries", ovaries, t["ovary"], "organ", location="ovarian fossae"),
        # Hollow organs: later ones overwrite earlier ones where they touch.
        st("bladder", _bladder(), t["urine"], "hollow", wall_mm=BLADDER_WALL_MM, wall_tissue=t["muscle"]),
        st("urethra", _tube(URETHRA_PATH), t["gut_wall"], "hollow"),
        st("vagina", _vagina(), t["gut_fluid"], "hollow", wall_mm=VAGINA_WALL_MM, wall_tissue=t["gut_wall"]),
        st("uterus_cervix", u["cervix_stroma"], t["junctional_zone"], "hollow", location="uterine cervix (stroma)"),
        st("uterus_myometrium", u["myometrium"], t["myometrium"], "hollow", location="uterine body"),
        st("uterus_junctional_zone", u["junctional_zone"], t["junctional_zone"], "hollow"),
        st("uterus_endometrium", u["endometrium"], t["endometrium"], "hollow"),
        st("ovaries", follicles, FOLLICLE, "hollow", location="ovarian follicles"),
        st("colon_sigmoid", sigmoid, t["faeces"], "hollow", **gut),
        st("colon_sigmoid", sigmoid_gas, t["gas"], "hollow", location="sigmoid gas"),
        st("rectum", rectum, t["faeces"], "hollow", location="rectum, displaced forward by the presacral mass", **gut),
        st("rectum", rectal_gas, t["gas"], "hollow", location="rectal gas"),
        st("anal_canal", union([Capsule(a, b, ra, rb) for (a, ra), (b, rb) in pairwise(ANAL_CANAL)]),
           t["gut_wall"], "hollow", wall_mm=5.0, wall_tissue=t["muscle"], location="anal canal and sphincters"),
        *_vessels(),
    )


def structures() -> list[Structure]:
    """Structures of the pelvis (labels 80-102, and 134 shared with the abdomen's ureters)."""
    return list(_structures())


def _corpus_centre() -> Vec3:
    axis = _unit(np.subtract(FUNDUS_TIP, INTERNAL_OS))
    return tuple(float(v) for v in np.asarray(FUNDUS_TIP) - CORPUS_HALF_MM[2] * axis)


LANDMARKS: dict[str, Vec3] = {
    "bladder_centre": (-8.0, 44.0, -82.0),
    "bladder_neck": BLADDER_NECK,
    "uterus_centre": _corpus_centre(),
    "endometrium": tuple(float(v) for v in np.asarray(_corpus_centre()) + 1.0 * _unit(np.subtract(FUNDUS_TIP, INTERNAL_OS))),
    "cervix": tuple(float(v) for v in (np.asarray(EXTERNAL_OS) + np.asarray(INTERNAL_OS)) / 2),
    "ovary_left": OVARY_CENTRES["left"],
    "ovary_right": OVARY_CENTRES["right"],
    "rectum_behind_mass": frame.RECTOSIGMOID_JUNCTION,
    "anorectal_junction": ANORECTAL_JUNCTION,
    "piriformis_left": _mirror(PIRIFORMIS[1][0]),
    "piriformis_right": PIRIFORMIS[1][0],
    "ureter_left_pelvic": URETERS["left"][4],
    "ureter_right_pelvic": URETERS["right"][4],
    "iliac_bifurcation_left": DIVISION["left"],
    "iliac_bifurcation_right": DIVISION["right"],
}
