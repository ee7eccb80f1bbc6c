"""Shared fixtures: the analytic patient and the committed data, loaded once per session."""

from __future__ import annotations

import numpy as np
import pytest

from utils import DATA_DIR, REBUILD_COMMAND
from utils.anatomy import build_patient
from utils.build_data import VOLUMES
from utils.io import load_labels, load_lesions, load_sidecar, load_volume


@pytest.fixture(scope="session")
def structures():
    return build_patient()


@pytest.fixture(scope="session")
def data_dir():
    if not (DATA_DIR / "manifest.json").exists():
        pytest.fail(f"data/ is missing; build it with: {REBUILD_COMMAND}")
    return DATA_DIR


@pytest.fixture(scope="session")
def volumes(data_dir):
    """Every committed volume, RAS+ canonical, keyed by name."""
    return {
        name: load_volume(name) for name in VOLUMES
    }


@pytest.fixture(scope="session")
def label_ids(data_dir):
    return {name: i for i, name in load_labels().items()}


@pytest.fixture(scope="session")
def lesion_truth(data_dir):
    return {row["name"]: row for row in load_lesions()}


def suv_per_bq_ml(sidecar: dict) -> float:
    """1 / (Bq/mL of SUV 1): the hand calculation a learner does from the sidecar."""
    half_life_s = sidecar["RadionuclideHalfLife"]
    elapsed_s = sidecar["ScanStart"] - sidecar["InjectionStart"]
    decayed_bq = sidecar["InjectedRadioactivity"] * 0.5 ** (elapsed_s / half_life_s)
    return sidecar["BodyWeight"] * 1000.0 / decayed_bq


@pytest.fixture(scope="session")
def suv(volumes):
    """SUV volumes (float32) per tracer, on the PET grid."""
    return {
        tracer: volumes[f"pet_{tracer}"].get_fdata(dtype=np.float32)
        * suv_per_bq_ml(load_sidecar(f"pet_{tracer}"))
        for tracer in ("fdg", "dotatate")
    }
