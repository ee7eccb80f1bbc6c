"""The build is deterministic, checks itself against its manifest, and never half-writes a folder."""

from __future__ import annotations

import json
import shutil

import pytest

from utils.build_data import check, main


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("data")
    assert main(["--out", str(out)]) == 0
    return out


def test_building_again_gives_identical_files(fresh_build, data_dir):
    """The committed data and a new build in a temporary folder have the same content, file by file."""
    fresh = json.loads((fresh_build / "manifest.json").read_text())
    committed = json.loads((data_dir / "manifest.json").read_text())
    assert fresh == committed
    for name in ("ct.nii.gz", "pet_fdg.nii.gz", "lesions.json"):
        assert (fresh_build / name).read_bytes() == (data_dir / name).read_bytes()


def test_build_leaves_no_staging_folder(fresh_build):
    assert not list(fresh_build.parent.glob(".build-*"))


def test_check_finds_missing_and_corrupted_files(fresh_build, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(fresh_build, copy)
    assert check(copy) == []
    assert main(["--check", "--out", str(copy)]) == 0
    (copy / "lesions.json").write_text("{}")
    (copy / "pet_fdg.nii.gz").unlink()
    problems = check(copy)
    assert "lesions.json does not match the manifest" in problems
    assert "pet_fdg.nii.gz is missing" in problems
    assert main(["--check", "--out", str(copy)]) == 1
    assert "need rebuilding" in capsys.readouterr().out


def test_ensure_rebuilds_a_stale_folder(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"generator_sha256": "old", "files": {}}))
    assert main(["--ensure", "--out", str(tmp_path)]) == 0
    assert check(tmp_path) == []
