"""Helpers for the presacral NET teaching notebooks (synthetic data, not for clinical use)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
REBUILD_COMMAND = "python -m utils.build_data   (or: make data)"

__all__ = ["DATA_DIR", "REBUILD_COMMAND", "REPO_ROOT"]
