"""The build is deterministic, agrees with the committed manifest, and never half-writes a folder."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from utils.build_data import VOLUMES, compare_with_manifest, local_problems, main, volume_stats


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory, data_dir):
    """One new build in a temporary folder, next to a copy of the committed manifest (built once per run)."""
    out = tmp_path_factory.mktemp("data")
    shutil.copy(data_dir / "manifest.json", out / "manifest.json")
    assert main(["--ensure", "--out", str(out)]) == 0
    return out


def test_a_rebuild_is_bit_identical_on_this_machine(fresh_build, data_dir):
    """data/ was built by `make test` (or `make data`) on this machine: the new build matches it byte for byte."""
    fresh = json.loads((fresh_build / ".build-record.json").read_text())
    local = json.loads((data_dir / ".build-record.json").read_text())
    assert fresh["files"] == local["files"]
    for name in ("pet_fdg.nii.gz", "labels.nii.gz", "lesions.json", "landmarks.json"):
        assert (fresh_build / name).read_bytes() == (data_dir / name).read_bytes(), name


def test_build_agrees_with_the_committed_manifest_and_writes_no_staging_folder(fresh_build):
    assert compare_with_manifest(fresh_build) == []
    assert local_problems(fresh_build) == []
    assert not list(fresh_build.parent.glob(".build-*"))
    assert {f"{v}.nii.gz" for v in VOLUMES} <= {p.name for p in fresh_build.iterdir()}


def test_problems_name_the_file(fresh_build, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(fresh_build, copy)
    (copy / "pet_fdg.nii.gz").unlink()
    (copy / "ct.nii.gz").write_bytes((copy / "labels.nii.gz").read_bytes())
    problems = local_problems(copy)
    assert "pet_fdg.nii.gz is missing" in problems
    assert "ct.nii.gz was changed or corrupted after the build" in problems
    assert main(["--check", "--out", str(copy)]) == 1
    assert "need building" in capsys.readouterr().out


def test_a_stale_manifest_is_reported_by_file(fresh_build, tmp_path):
    """When the generator changes the data but manifest.json is not updated, the check names the file."""
    copy = tmp_path / "stale"
    shutil.copytree(fresh_build, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"]["labels.nii.gz"]["sha256"] = "0" * 64
    manifest["files"]["labels.nii.gz"]["stats"]["mean"] += 5.0
    manifest["files"]["lesions.json"]["sha256"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest))
    problems = compare_with_manifest(copy)
    assert any(p.startswith("labels.nii.gz differs") for p in problems)
    assert any(p.startswith("lesions.json differs") for p in problems)
    assert all("make data" in p for p in problems)


def test_rounding_differences_on_another_cpu_are_accepted(fresh_build, tmp_path):
    """A volume whose hash differs but whose statistics agree (last-bit rounding) is not a change."""
    copy = tmp_path / "cpu"
    shutil.copytree(fresh_build, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"]["ct.nii.gz"]["sha256"] = "f" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert compare_with_manifest(copy) == []


def test_volume_stats_are_exact_for_integer_data():
    data = np.arange(-50, 150, dtype=np.int16).reshape(10, 20)
    stats = volume_stats(data)
    assert stats["mean"] == pytest.approx(data.mean()) and stats["std"] == pytest.approx(data.std())
    assert stats["p1_p50_p99"][1] in (49.0, 50.0) and stats["min"] == -50 and stats["max"] == 149
    with pytest.raises(ValueError, match="integer"):
        volume_stats(data.astype(np.float32))
