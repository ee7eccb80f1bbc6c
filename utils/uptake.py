"""PET measurements of the case: SUV of every lesion and of the liver and spleen references, per tracer.

One table per tracer, computed from the committed data with ``utils.pet``: what notebooks 03-05 read and
what their answer keys are tested against.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .io import load_labels, load_lesions, load_sidecar, load_volume
from .pet import label_mask, reference_region_mask, suv_max, suv_mean, suv_peak, suv_volume, uptake_ratio
from .validation import require_choice

TRACERS = ("fdg", "dotatate")


def lesion_mask(labels_img: Any, label_id: int, like_img: Any) -> np.ndarray:
    """Lesion VOI on the PET grid: voxels at least half inside the lesion, or every voxel it touches when
    the lesion is smaller than a voxel (a 5-mm lesion on a 4-mm grid)."""
    mask = label_mask(labels_img, label_id, like_img, min_fraction=0.5)
    return mask if mask.any() else label_mask(labels_img, label_id, like_img, min_fraction=0.01)


@lru_cache(maxsize=4)
def _suv_and_labels(tracer: str, data_dir: Path | None) -> tuple[Any, Any, dict[int, str]]:
    """SUV image of one tracer with the label map and names, loaded once per kernel."""
    suv = suv_volume(load_volume(f"pet_{tracer}", data_dir=data_dir), load_sidecar(f"pet_{tracer}", data_dir))
    return suv, load_volume("labels", data_dir=data_dir), load_labels(data_dir)


def reference_suv_mean(tracer: str, organ: str = "liver", data_dir: Path | None = None) -> float:
    """Mean SUV (g/mL) of a normal-organ reference region (liver or spleen, 10 mm inside its edge)."""
    tracer = require_choice("tracer", tracer, TRACERS)
    suv, labels, names = _suv_and_labels(tracer, data_dir)
    return suv_mean(suv, reference_region_mask(labels, names, suv, organ=organ))


def lesion_uptake_table(tracer: str, data_dir: Path | None = None) -> list[dict[str, Any]]:
    """One row per lesion: SUVmax, SUVpeak, SUVmean (g/mL) and their ratios to liver and spleen SUVmean."""
    tracer = require_choice("tracer", tracer, TRACERS)
    suv, labels, _ = _suv_and_labels(tracer, data_dir)
    liver = reference_suv_mean(tracer, "liver", data_dir)
    spleen = reference_suv_mean(tracer, "spleen", data_dir)
    rows = []
    for lesion in load_lesions(data_dir):
        voi = lesion_mask(labels, lesion["id"], suv)
        peak = suv_peak(suv, voi)
        rows.append(
            {
                "name": lesion["name"],
                "location": lesion["location"],
                "volume_ml": lesion["volume_ml"],
                "suv_max": round(suv_max(suv, voi), 2),
                "suv_peak": round(peak, 2),
                "suv_mean": round(suv_mean(suv, voi), 2),
                "liver_suv_mean": round(liver, 2),
                "spleen_suv_mean": round(spleen, 2),
                "max_to_liver": round(uptake_ratio(suv_max(suv, voi), liver), 2),
                "peak_to_liver": round(uptake_ratio(peak, liver), 2),
                "max_to_spleen": round(uptake_ratio(suv_max(suv, voi), spleen), 2),
            }
        )
    return rows
