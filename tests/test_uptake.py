"""The per-lesion uptake tables that notebooks 03-05 teach from."""

from __future__ import annotations

import pytest

from utils.anatomy import TISSUES
from utils.uptake import lesion_uptake_table, reference_suv_mean


@pytest.fixture(scope="module")
def tables(data_dir):
    return {
        tracer: {row["name"]: row for row in lesion_uptake_table(tracer)} for tracer in ("fdg", "dotatate")
    }


@pytest.mark.parametrize("tracer", ["fdg", "dotatate"])
@pytest.mark.parametrize("organ", ["liver", "spleen"])
def test_reference_regions_read_the_true_organ_uptake(data_dir, tracer, organ):
    assert reference_suv_mean(tracer, organ) == pytest.approx(
        getattr(TISSUES[organ], f"suv_{tracer}"), rel=0.03
    )


def test_one_row_per_lesion_with_ordered_statistics(tables, lesion_truth):
    for table in tables.values():
        assert list(table) == list(lesion_truth)
        for row in table.values():
            assert row["suv_max"] >= row["suv_mean"] > 0 and row["suv_peak"] > 0
            if row["peak_to_liver"] > 1.2:  # a cold lesion's 12-mm peak sphere may reach hotter liver
                assert row["suv_max"] >= row["suv_peak"], row["name"]


def test_masses_are_fdg_avid_and_liver_lesions_are_not(tables):
    for name, row in tables["fdg"].items():
        if name.endswith("_mass"):
            assert row["peak_to_liver"] > 2.5, name
        else:
            assert row["peak_to_liver"] < 1.1, name  # at or below liver, as the case says


def test_every_lesion_is_above_liver_on_dotatate_and_small_ones_read_low(tables, lesion_truth):
    dotatate = tables["dotatate"]
    for name, row in dotatate.items():
        assert row["max_to_liver"] > 1.2, name
    small = [n for n in dotatate if lesion_truth[n]["longest_diameter_mm"] < 10]
    assert small
    for name in small:
        assert dotatate[name]["suv_max"] < 0.7 * lesion_truth[name]["suv_dotatate"], "partial-volume loss"


def test_unknown_tracer_is_rejected():
    with pytest.raises(ValueError, match="tracer"):
        lesion_uptake_table("psma")
