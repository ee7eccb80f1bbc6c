"""Execute each course notebook on a fresh kernel; report wall time (s) and the kernel's peak memory (MB).

    python benchmarks/notebooks.py [--json] [NOTEBOOK ...]

Goals on 2 cores: each notebook <= 10 s, the whole collection <= 60 s, each kernel <= 700 MB peak.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
# Appended to a copy of each notebook: the kernel reports its own peak resident set size.
PEAK_RSS_CELL = (
    "import resource, sys\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == 'darwin' else 2**10))"
)


def run_notebook(path: Path) -> dict[str, float | str]:
    """Execute one notebook from its folder; wall seconds (kernel start included) and peak RSS in MB."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PEAK_RSS_CELL))
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    wall_s = time.perf_counter() - start
    peak_mb = float(nb.cells[-1].outputs[0]["text"].strip())
    return {"notebook": path.name, "wall_s": round(wall_s, 2), "peak_rss_mb": round(peak_mb, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9A-Z][0-9]_*.ipynb"))
    rows = [run_notebook(p.resolve()) for p in paths]
    result = {
        "notebooks": rows,
        "total_wall_s": round(sum(r["wall_s"] for r in rows), 2),
        "max_peak_rss_mb": max(r["peak_rss_mb"] for r in rows),
        "goals": {"each_wall_s": 10, "total_wall_s": 60, "each_peak_rss_mb": 700},
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for r in rows:
            print(f"{r['notebook']:32s} {r['wall_s']:6.2f} s {r['peak_rss_mb']:7.1f} MB")
        print(f"{'total':32s} {result['total_wall_s']:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
