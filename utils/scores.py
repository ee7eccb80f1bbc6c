"""Uptake scores for SSTR and dual-tracer PET: Krenning-type score, NETPET grade, concordance table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .validation import require_finite, require_in_range, require_non_negative, require_positive

#: Per-lesion dual-tracer categories (SSTR = somatostatin-receptor PET, here 68Ga-DOTATATE).
SSTR_NEG_FDG_NEG = "SSTR-/FDG-"
SSTR_POS_FDG_NEG = "SSTR+/FDG-"
FDG_BELOW_SSTR = "SSTR+/FDG+ (FDG<SSTR)"
FDG_EQUALS_SSTR = "SSTR+/FDG+ (FDG=SSTR)"
FDG_ABOVE_SSTR = "SSTR+/FDG+ (FDG>SSTR)"
SSTR_NEG_FDG_POS = "SSTR-/FDG+"
LESION_CATEGORIES = (
    SSTR_NEG_FDG_NEG,
    SSTR_POS_FDG_NEG,
    FDG_BELOW_SSTR,
    FDG_EQUALS_SSTR,
    FDG_ABOVE_SSTR,
    SSTR_NEG_FDG_POS,
)

#: Default "equal" band: values within 10 % of each other count as visually equal (course convention).
EQUAL_TOLERANCE = 0.10
#: Default "much lower than liver": below half of the liver uptake (course convention).
MUCH_LOWER_FRACTION = 0.5


def _ratio(value: float, reference: float) -> float:
    """value / reference, rounded to 9 decimals so that a boundary typed by hand (8.25 / 7.5) is exact."""
    return round(value / reference, 9)


def krenning_score(
    lesion_uptake: float,
    liver_uptake: float,
    spleen_uptake: float,
    *,
    background_uptake: float | None = None,
    equal_tolerance: float = EQUAL_TOLERANCE,
    much_lower_fraction: float = MUCH_LOWER_FRACTION,
) -> int:
    """Krenning-type uptake score 0-4 of a lesion against normal liver and spleen (same tracer, same scan).

    Scale (Kwekkeboom DJ & Krenning EP, Semin Nucl Med 2002;32:84-91, DOI 10.1053/snuc.2002.31022; wording
    per Radiopaedia): 0 no uptake; 1 much lower than liver; 2 slightly lower than or
    equal to liver; 3 greater than liver; 4 greater than spleen. Planar texts name "spleen or kidneys" for
    4; on PET we use the spleen (pass kidney uptake as ``spleen_uptake`` only when there is no spleen, and
    say so).

    The published scale is visual. The numeric thresholds here are this course's operational convention,
    not part of the guideline: "equal" means within ``equal_tolerance`` (default 10 %) of the reference, so
    3 needs lesion > 1.10 x liver and 4 needs lesion > 1.10 x spleen; "much lower" means below
    ``much_lower_fraction`` (default 0.5) x liver; 0 means not above ``background_uptake`` (or exactly zero
    uptake when no background is given). Boundaries belong to the lower score.

    PET reads higher than planar scintigraphy: it is more sensitive, so "equal to liver" on PET means less
    receptor expression than on planar imaging, and many centres want >= 3 on PET before PRRT (the Lutathera
    SmPC asks uptake at least as high as normal liver; NETTER-2 required 3 or 4). Always name the modality
    and the reference organ with the score.
    """
    lesion = float(require_non_negative("lesion_uptake", lesion_uptake))
    liver = float(require_positive("liver_uptake", liver_uptake))
    spleen = float(require_positive("spleen_uptake", spleen_uptake))
    tolerance = float(require_in_range("equal_tolerance", equal_tolerance, 0.0, 0.5))
    much_lower = float(require_in_range("much_lower_fraction", much_lower_fraction, 0.05, 0.95))
    if spleen <= liver:
        raise ValueError(
            f"spleen_uptake ({spleen:g}) must exceed liver_uptake ({liver:g}) for the Krenning scale; "
            "without a spleen, pass kidney uptake instead and say so"
        )
    if _ratio(lesion, spleen) > 1.0 + tolerance:
        return 4
    if _ratio(lesion, liver) > 1.0 + tolerance:
        return 3
    if _ratio(lesion, liver) >= much_lower:
        return 2
    if background_uptake is None:
        return 1 if lesion > 0 else 0
    return 1 if lesion > float(require_non_negative("background_uptake", background_uptake)) else 0


def lesion_category(
    fdg_suv: float,
    fdg_background: float,
    sstr_suv: float,
    sstr_background: float,
    *,
    equal_tolerance: float = EQUAL_TOLERANCE,
) -> str:
    """Dual-tracer category of one lesion (one of ``LESION_CATEGORIES``) from its FDG and SSTR uptake.

    NETPET rules (Chan DLH et al., Theranostics 2017;7:1149-1158, DOI 10.7150/thno.18068; table also in
    Cancer Imaging 2022, DOI 10.1186/s40644-022-00465-3): a lesion is positive for a tracer when its uptake
    is above background (modified Krenning 2-4), not above liver. Operational convention of this course
    (the published reading is visual): positive means lesion > (1 + ``equal_tolerance``) x background, and
    FDG is compared with SSTR through the lesion-to-background ratios on each scan, which count as equal
    within ``equal_tolerance`` (default 10 %).
    """
    tolerance = float(require_in_range("equal_tolerance", equal_tolerance, 0.0, 0.5))
    fdg_ratio = _ratio(
        float(require_non_negative("fdg_suv", fdg_suv)),
        float(require_positive("fdg_background", fdg_background)),
    )
    sstr_ratio = _ratio(
        float(require_non_negative("sstr_suv", sstr_suv)),
        float(require_positive("sstr_background", sstr_background)),
    )
    fdg_positive = fdg_ratio > 1.0 + tolerance
    if sstr_ratio <= 1.0 + tolerance:
        return SSTR_NEG_FDG_POS if fdg_positive else SSTR_NEG_FDG_NEG
    if not fdg_positive:
        return SSTR_POS_FDG_NEG
    relative = _ratio(fdg_ratio, sstr_ratio)
    if relative > 1.0 + tolerance:
        return FDG_ABOVE_SSTR
    if relative < 1.0 - tolerance:
        return FDG_BELOW_SSTR
    return FDG_EQUALS_SSTR


def netpet_score(lesions: Iterable[Mapping[str, Any] | str]) -> str:
    """NETPET grade "P0", "P1", "P2", "P3", "P4a", "P4b" or "P5" of a patient from per-lesion categories.

    Chan DLH et al., Theranostics 2017;7:1149-1158, DOI 10.7150/thno.18068 (table also in Cancer Imaging
    2022, DOI 10.1186/s40644-022-00465-3); the worst lesion drives the grade: P5 any SSTR-/FDG+ lesion;
    P4 FDG > SSTR (P4a with 1-2 such lesions, P4b with 3 or more); P3 FDG = SSTR; P2 FDG < SSTR (all
    SSTR+/FDG+); P1 SSTR+/FDG- only; P0 SSTR-/FDG- only. ``lesions`` are rows of ``concordance_table``
    (any mapping with a "category" key) or category strings.
    """
    categories = [row["category"] if isinstance(row, Mapping) else row for row in lesions]
    if not categories:
        raise ValueError("lesions is empty: give at least one lesion (a row with a 'category')")
    unknown = sorted({str(c) for c in categories} - set(LESION_CATEGORIES))
    if unknown:
        raise ValueError(f"unknown lesion category {unknown}; allowed: {', '.join(LESION_CATEGORIES)}")
    if SSTR_NEG_FDG_POS in categories:
        return "P5"
    n_fdg_above = categories.count(FDG_ABOVE_SSTR)
    if n_fdg_above:
        return "P4a" if n_fdg_above <= 2 else "P4b"
    if FDG_EQUALS_SSTR in categories:
        return "P3"
    if FDG_BELOW_SSTR in categories:
        return "P2"
    if SSTR_POS_FDG_NEG in categories:
        return "P1"
    return "P0"


def concordance_table(
    lesions: Iterable[Mapping[str, Any]],
    fdg_liver_suv: float,
    dotatate_liver_suv: float,
    *,
    equal_tolerance: float = EQUAL_TOLERANCE,
) -> list[dict[str, Any]]:
    """Per-lesion dual-tracer table: lesion, FDG and DOTATATE SUVmax, each / liver SUVmean, and category.

    Each input row needs "name" (or "lesion"), "fdg_suvmax" and "dotatate_suvmax"; optional
    "fdg_background" and "dotatate_background" (SUVmean of the tissue around the lesion) default to the
    liver values, which is the right background for liver lesions. When a row also has "fdg_suvpeak" and
    "dotatate_suvpeak", the category uses them (and the table shows them): SUVmax is a single noisy voxel
    that can lift a truly FDG-negative lesion above background, SUVpeak much less so (Lodge MA et al.,
    J Nucl Med 2012;53:1041, DOI 10.2967/jnumed.111.101733). Categories follow ``lesion_category``; feed
    the result to ``netpet_score``.
    """
    fdg_liver = float(require_positive("fdg_liver_suv", fdg_liver_suv))
    dotatate_liver = float(require_positive("dotatate_liver_suv", dotatate_liver_suv))
    table = []
    for row in lesions:
        name = row.get("name", row.get("lesion"))
        if name is None:
            raise ValueError(f"each lesion row needs a 'name'; got keys {sorted(row)}")
        missing = [key for key in ("fdg_suvmax", "dotatate_suvmax") if key not in row]
        if missing:
            raise ValueError(f"lesion {name!r} needs {', '.join(missing)}")
        values = {
            key: float(require_finite(f"{name} {key}", row[key]))
            for key in ("fdg_suvmax", "dotatate_suvmax", "fdg_suvpeak", "dotatate_suvpeak")
            if key in row
        }
        use_peak = "fdg_suvpeak" in values and "dotatate_suvpeak" in values
        measure = "suvpeak" if use_peak else "suvmax"
        category = lesion_category(
            values[f"fdg_{measure}"],
            row.get("fdg_background", fdg_liver),
            values[f"dotatate_{measure}"],
            row.get("dotatate_background", dotatate_liver),
            equal_tolerance=equal_tolerance,
        )
        table.append(
            {
                "lesion": name,
                **values,
                "fdg_to_liver": values["fdg_suvmax"] / fdg_liver,
                "dotatate_to_liver": values["dotatate_suvmax"] / dotatate_liver,
                "category": category,
            }
        )
    if not table:
        raise ValueError("lesions is empty: give at least one lesion row")
    return table
