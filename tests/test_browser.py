"""The viewers in a real browser: JupyterLab on loopback, driven by Playwright in Debian's Chromium.

Headless widget tests prove the Python side only; these prove that the front-end draws the frames. They
need Chromium and Playwright (``.ci/run`` installs both: see the README's maintainer notes) and skip
without them.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-angle=swiftshader",
]
TOKEN = "browser-test-token"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise TimeoutError(f"JupyterLab did not open port {port}")


def _write_notebook(path, code: str) -> None:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": code}
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.write_text(
        json.dumps({"cells": [cell], "metadata": {"kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 5})
    )


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on loopback over a folder holding a small CT, a PET with a hot sphere, and notebooks."""
    root = tmp_path_factory.mktemp("lab")
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    ct = np.full((40, 40, 40), 40.0, np.float32)
    ct[:, :, :5] = -1000.0
    pet = np.zeros((40, 40, 40), np.float32)
    grid = np.indices(pet.shape)
    pet[((grid - 20) ** 2).sum(axis=0) < 36] = 8000.0
    nib.save(nib.Nifti1Image(ct, affine), root / "ct.nii.gz")
    nib.save(nib.Nifti1Image(pet, affine), root / "pet.nii.gz")
    load = f"import nibabel as nib\nct, pet = nib.load({str(root / 'ct.nii.gz')!r}), nib.load({str(root / 'pet.nii.gz')!r})\n"
    _write_notebook(
        root / "core.ipynb",
        load + "from utils.widgets import FusionViewer\nFusionViewer(ct, pet, suv_scale=1e-3)",
    )
    _write_notebook(
        root / "niivue.ipynb",
        load
        + "from utils.widgets import niivue_explorer\nniivue_explorer(ct, pet, suv_scale=1e-3, height=400)",
    )
    port = _free_port()
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1"]
    command += [f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, timeout_s=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def _run_notebook(browser, lab: str, name: str):
    """Open a notebook in JupyterLab and run its one cell; returns the page."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    # A workspace per notebook, reset, so that a tab left open by another test cannot hide this one.
    workspace = name.removesuffix(".ipynb")
    page.goto(f"{lab}/lab/workspaces/{workspace}/tree/{name}?token={TOKEN}&reset", timeout=60_000)
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_timeout(2000)  # let the kernel start; running earlier is queued, but can be dropped
    page.locator(".jp-Cell").first.click()
    page.keyboard.press("Shift+Enter")
    return page


def test_core_fusion_viewer_draws_frames_and_a_slider_key_changes_them(browser, lab):
    page = _run_notebook(browser, lab, "core.ipynb")
    image = page.locator(".jp-OutputArea-output img").first
    image.wait_for(timeout=90_000)
    page.wait_for_function("img => img.naturalWidth > 0", arg=image.element_handle(), timeout=30_000)
    before = image.get_attribute("src")
    handle = page.locator(".jp-OutputArea-output .noUi-handle").first
    handle.click()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "([img, old]) => img.src !== old", arg=[image.element_handle(), before], timeout=30_000
    )
    assert image.get_attribute("src") != before, "moving the slider redrew the frame"
    page.close()


def test_niivue_canvas_renders_in_jupyterlab(browser, lab):
    pytest.importorskip("ipyniivue")
    page = _run_notebook(browser, lab, "niivue.ipynb")
    canvas = page.wait_for_selector("canvas", timeout=90_000)
    deadline, count = time.monotonic() + 60, 0
    while time.monotonic() < deadline and count <= 500:
        # toDataURL is blank with software WebGL, so count pixels on a screenshot of the canvas.
        shot = np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")).astype(int)
        count = int((np.abs(shot - shot[0, 0]).sum(axis=2) > 30).sum())
        page.wait_for_timeout(500)
    page.close()
    assert count > 500, "the NiiVue canvas stayed blank"
