"""Every notebook is committed clean and runs top to bottom on a fresh kernel, from either folder."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbclient import NotebookClient

from utils import DATA_DIR, REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9A-Z][0-9]_*.ipynb"))
REQUIRED_TEXT = ("Learning objectives", "Key points", "References", "Synthetic data, not for clinical use")


def data_snapshot():
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(DATA_DIR.iterdir())}


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS][:1] == ["00_start_here.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, (
                "strip outputs before committing"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_the_course_frame(path):
    text = "\n".join("".join(c["source"]) for c in nbformat.read(path, as_version=4).cells)
    for required in REQUIRED_TEXT:
        assert required in text, f"{path.name} lacks '{required}'"
    assert ("mybinder.org" in text and "10.1055/s-0045-1810099" in text) or not path.name.startswith("00")


@pytest.mark.notebooks
@pytest.mark.parametrize("start", ["repo_root", "notebooks_dir"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_a_fresh_kernel(path, start):
    nb = nbformat.read(path, as_version=4)
    cwd = REPO_ROOT if start == "repo_root" else path.parent
    before = data_snapshot()
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert data_snapshot() == before, "a notebook wrote into data/"
