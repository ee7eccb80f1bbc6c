"""requirements.txt (pip) and environment.yml (conda-forge, Binder) pin the same versions."""

from __future__ import annotations

import re

from utils import REPO_ROOT


def pip_pins(name="requirements.txt"):
    pins = {}
    for line in (REPO_ROOT / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"requirements.txt: {line!r} is not pinned with =="
            pins[name.strip().lower()] = version.strip()
    return pins


def conda_pins():
    pins = {}
    for match in re.finditer(
        r"^\s*-\s*([A-Za-z0-9_.\-]+)\s*(==|=)\s*([^\s#]+)", (REPO_ROOT / "environment.yml").read_text(), re.M
    ):
        pins[match.group(1).lower()] = match.group(3)
    return pins


def test_every_requirement_is_pinned_and_environment_yml_agrees():
    pip, conda = pip_pins(), conda_pins()
    assert {"jupyterlab", "notebook", "ipywidgets", "matplotlib", "nibabel", "numpy", "scipy"} <= pip.keys()
    assert conda.pop("python") == "3.11"
    assert conda == pip, "environment.yml and requirements.txt must pin the same packages and versions"


def test_course_versions_are_the_supported_majors():
    pip = pip_pins()
    assert pip["jupyterlab"].startswith("4.") and pip["notebook"].startswith("7.")
    assert pip["ipywidgets"].startswith("8.")


def test_browser_test_requirements_are_pinned_and_separate():
    browser = pip_pins("requirements-browser.txt")
    assert browser and not browser.keys() & pip_pins().keys(), "the learner's install stays without them"
