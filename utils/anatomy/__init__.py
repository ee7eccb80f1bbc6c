"""The analytic patient: structures, lesions and landmarks in world millimetres (RAS+), with no grid.

Coordinates: +x toward the patient's right, +y anterior, +z superior; the origin is the midline at the
sacral promontory (the anterosuperior lip of S1), the point the case's key image is read from.

The patient is assembled from one module per region (``skeleton``, ``pelvis``, ``abdomen``, ``thorax``,
``findings``: the case's lesions), each a list of ``Structure`` objects. Every structure carries an explicit label id that never
depends on the order of the lists: adding a structure renumbers nothing. Structures are painted by
``layer`` (lower first; later layers overwrite earlier ones where they overlap), then in list order.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..sdf import Shape
from .tissues import TISSUES, Tissue

Vec3 = tuple[float, float, float]

LAYERS = {
    "body": 0,  # body outline, subcutaneous fat
    "wall": 1,  # muscles of the trunk and limbs
    "cavity": 2,  # visceral fat and cavities that organs sit in
    "organ": 3,  # solid organs
    "hollow": 4,  # bowel, bladder, gallbladder, uterus
    "vessel": 5,  # vessels, ureters
    "bone": 6,  # skeleton
    "content": 7,  # what bones hold: canal, roots, discs
    "lesion": 8,  # the case's lesions, painted last
}


@dataclass(frozen=True, eq=False)
class Structure:
    """A named part of the patient: label id, solid (mm), tissue, optional wall, layer, lesion flag.

    With ``wall_mm`` > 0 the outer ``wall_mm`` of the solid is ``wall_tissue`` (cortical bone, bowel wall,
    bladder wall) and the inside is ``tissue`` (marrow, gas or fluid, urine); both carry the same label.
    """

    name: str
    label: int
    shape: Shape
    tissue: Tissue
    layer: str = "organ"
    wall_mm: float = 0.0
    wall_tissue: Tissue | None = None
    location: str = ""
    is_lesion: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.label <= 255:
            raise ValueError(f"{self.name}: label {self.label} must be 1-255 (uint8 label map)")
        if self.layer not in LAYERS:
            raise ValueError(f"{self.name}: layer {self.layer!r} is not one of {sorted(LAYERS)}")
        if self.wall_mm > 0 and self.wall_tissue is None:
            raise ValueError(f"{self.name}: wall_mm > 0 needs a wall_tissue")


REGIONS = ("thorax", "abdomen", "bowel", "pelvis", "pelvis_bones", "skeleton", "findings")


def _region_modules(regions: tuple[str, ...] | None = None) -> list:
    import importlib

    names = REGIONS if regions is None else regions
    unknown = set(names) - set(REGIONS)
    if unknown:
        raise ValueError(f"unknown regions {sorted(unknown)}; choose from {REGIONS}")
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def build_patient(regions: tuple[str, ...] | None = None) -> list[Structure]:
    """Every structure of the synthetic patient (or of some ``regions``), in painting order by layer."""
    structures = [s for module in _region_modules(regions) for s in module.structures()]
    seen: dict[int, str] = {}
    for s in structures:
        if seen.setdefault(s.label, s.name) != s.name:
            raise ValueError(f"label {s.label} is used by both {seen[s.label]} and {s.name}")
    return sorted(structures, key=lambda s: LAYERS[s.layer])


def label_table(structures: list[Structure]) -> dict[str, int]:
    """Label id of each structure name (0 is outside the body)."""
    return {s.name: s.label for s in structures}


def lesions(structures: list[Structure] | None = None) -> list[Structure]:
    """The lesions of the case (presacral mass, precoccygeal mass, liver lesions)."""
    return [s for s in (structures if structures is not None else build_patient()) if s.is_lesion]


def landmarks() -> dict[str, Vec3]:
    """Named points (mm, RAS+) that notebooks point at: promontory, foramina, coccyx tip, organs."""
    from . import frame

    points: dict[str, Vec3] = dict(frame.LANDMARKS)
    for module in _region_modules():
        points.update(module.LANDMARKS)
    return points


__all__ = ["LAYERS", "REGIONS", "TISSUES", "Structure", "Tissue", "build_patient", "label_table", "landmarks", "lesions"]
