# Two commands for a fresh machine (Python 3.10+ and make):
#   make lab    set up .venv, check the data, open the course in JupyterLab
#   make test   set up .venv, check the data, lint, unit tests, execute every notebook
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Jupyter refuses to run as root (containers, CI) unless told; a machine without a display gets no browser.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root,) \
             $(if $(or $(DISPLAY),$(WAYLAND_DISPLAY),$(filter Darwin,$(shell uname -s))),,--no-browser)

.PHONY: setup data data-check contact-sheet lab test lint unit notebooks bench browser-setup clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

data-check: setup
	$(BIN)/python -m utils.build_data --ensure

# Maintainers: rebuild data/ and rewrite data/manifest.json after changing utils/anatomy, phantom or sdf.
data: setup
	$(BIN)/python -m utils.build_data

# Unlabelled review pages of the built data (CT, MRI, PET MIPs) in out/contact_sheet/.
contact-sheet: data-check
	$(BIN)/python -m utils.contact_sheet --out out/contact_sheet

lab: data-check
	@echo "Opening the course at notebooks/00_start_here.ipynb; without a browser, open the http://127.0.0.1 URL below."
	$(BIN)/jupyter lab $(LAB_FLAGS) notebooks/00_start_here.ipynb

lint: setup
	$(BIN)/ruff check .

unit: data-check
	$(BIN)/python -m pytest -m "not notebooks"

notebooks: data-check
	$(BIN)/python -m pytest -m notebooks

test: data-check lint
	$(BIN)/python -m pytest

bench: data-check
	$(BIN)/python benchmarks/viewer_frames.py --json
	$(BIN)/python benchmarks/notebooks.py --json

# Maintainers and CI: Debian's Chromium and Playwright for tests/test_browser.py (they skip without them).
browser-setup: setup
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-browser.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
