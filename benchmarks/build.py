"""Build the course data into a temporary folder; report wall time (s), peak memory (MB) and size (MB).

    python benchmarks/build.py [--json] [--workers N] [--profile]

Goals on 2 cores: at most 40 s, at most 3 GB peak memory (main process plus workers), data at most 80 MB.
``--profile`` also times every structure's sampling on the CT grid (one process) and lists the slowest.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from utils.build_data import CT_GRID, build


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0


def run_build(workers: int) -> dict[str, float]:
    """One full build: wall seconds, peak RSS of the main process and of the largest worker (MB), size (MB)."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        build(Path(tmp), update_manifest=False, verbose=False, workers=workers)
        wall = time.perf_counter() - start
        size = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
    main_mb, worker_mb = _peak_mb(resource.RUSAGE_SELF), _peak_mb(resource.RUSAGE_CHILDREN)
    return {
        "build_s": round(wall, 1),
        "peak_main_mb": round(main_mb),
        "peak_largest_worker_mb": round(worker_mb),
        "peak_upper_bound_mb": round(main_mb + workers * worker_mb),
        "data_mb": round(size, 1),
    }


def profile_structures(top: int = 15) -> list[dict[str, float | str]]:
    """Seconds to sample each structure on the CT grid (one process), slowest first."""
    from utils.anatomy import build_patient
    from utils.sampling import index_box, occupancy

    rows = []
    for s in build_patient():
        box = index_box(CT_GRID, *s.shape.bounds_mm())
        if box is None:
            continue
        t = time.perf_counter()
        occupancy(s.shape, CT_GRID, box, (0.0, s.wall_mm) if s.wall_mm > 0 else (0.0,))
        rows.append({"structure": s.name, "s": round(time.perf_counter() - t, 3)})
    rows.sort(key=lambda r: -r["s"])
    total = round(sum(r["s"] for r in rows), 1)
    return [{"structure": "ALL", "s": total}, *rows[:top]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON only")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="time each structure on the CT grid")
    args = parser.parse_args()
    result: dict = {"build": run_build(args.workers)}
    if args.profile:
        result["ct_grid_structures"] = profile_structures()
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
