"""Placement at scale: the extensive form against the scenario decomposition (issue 16).

Run from the repository root::

    .venv/bin/python bench/placement_national.py [--rt] [--national] [--skip-extensive]

Instances come from :func:`reserve_opt.synthetic.placement_instance` (candidate sites with
sizes, equally likely scenarios each striking ~10% of regions, pooled sharing). For each
size it prints, side by side: the extensive form (HiGHS, where it fits) and the
decomposition on 1 and 2 Dask workers: objective, proven bound and gap, seconds, the
subproblem phase's seconds (block LPs with their Dask round trips) and its speed-up from 1 to
2 workers, and the checker's verdict. Targets (issue 16): 400 x 100 x 3 x 100 at a 1% proven
gap in under 2 minutes; with ``--national`` 2,554 x 1,000 x 10 x 200 at 1% in under 30
minutes and a peak memory under 12 GiB (this process's peak RSS and the largest finished
child's, a Dask worker; their sum over the workers bounds the total); workers 1 -> 2 at
least 1.7x on the subproblem phase. ``--rt`` adds Rawls-Turnquist at gap 1e-4,
decomposition against the extensive form.

The decomposition's progress lines go to stderr. Timings on a shared machine are
contended: compare the ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from reserve_opt import load_instance
from reserve_opt.domain import Instance
from reserve_opt.models.placement import PlacementOptions, check_placement, solve_placement
from reserve_opt.models.placement.decomposition import solve_decomposition
from reserve_opt.solvers import SolverOptions
from reserve_opt.synthetic import placement_instance

ROOT = Path(__file__).resolve().parents[1]
OPTIONS = PlacementOptions(explain_shortages=False)


def _peak_gib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 2**20


def _row(name: str, res: Any, seconds: float, inst: Instance,
         stats: dict[str, float] | None = None) -> dict[str, Any]:
    ok = check_placement(inst, res).ok if res.costs is not None else None
    return {"run": name, "status": res.status.value, "objective": res.objective,
            "bound": res.bound, "gap": res.gap, "seconds": seconds,
            "block_s": (stats or {}).get("block_seconds"),
            "master_s": (stats or {}).get("master_seconds"),
            "iterations": (stats or {}).get("iterations"),
            "thetas": (stats or {}).get("thetas"), "checker": ok}


def _print(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    head = f"{'run':<26}{'status':<12}{'objective':>18}{'bound':>18}{'gap %':>9}" \
           f"{'seconds':>9}{'blocks s':>9}{'master s':>9}{'iter':>6}{'thetas':>7}  checker"
    print(head)
    for r in rows:
        def f(v: Any, fmt: str) -> str:
            return "-" if v is None else format(v, fmt)
        gap = None if r["gap"] is None else 100 * r["gap"]
        print(f"{r['run']:<26}{r['status']:<12}{f(r['objective'], ',.0f'):>18}"
              f"{f(r['bound'], ',.0f'):>18}{f(gap, '.3f'):>9}"
              f"{r['seconds']:>9.1f}{f(r['block_s'], '.1f'):>9}{f(r['master_s'], '.1f'):>9}"
              f"{f(r['iterations'], '.0f'):>6}{f(r['thetas'], '.0f'):>7}  {r['checker']}")


def compare(inst: Instance, gap: float, limit: float, extensive: bool,
            workers: tuple[int, ...], options: PlacementOptions = OPTIONS) -> None:
    """Print the extensive form and the decomposition on each worker count, side by side."""
    rows = []
    sopts = SolverOptions(mip_gap=gap, time_limit_s=limit)
    if extensive:
        t = time.perf_counter()
        res = solve_placement(inst, options, solver_options=sopts)
        rows.append(_row("extensive (HiGHS)", res, time.perf_counter() - t, inst))
    blocks: dict[int, float] = {}
    for w in workers:
        stats: dict[str, float] = {}
        t = time.perf_counter()
        res = solve_decomposition(inst, options, sopts, workers=w, stats=stats,
                                  progress=lambda line: print(line, file=sys.stderr,
                                                              flush=True))
        rows.append(_row(f"decomposition, {w} worker(s)", res, time.perf_counter() - t,
                         inst, stats))
        blocks[w] = stats.get("block_seconds", float("nan")) / max(stats.get("block_lps", 1),
                                                                     1)
    _print(f"{inst.name}: gap target {gap:g}, time limit {limit:.0f} s", rows)
    if 1 in blocks and 2 in blocks:
        print(f"subproblem phase per block LP, 1 -> 2 workers: {blocks[1] * 1e3:.2f} -> "
              f"{blocks[2] * 1e3:.2f} ms, speed-up {blocks[1] / blocks[2]:.2f}x (target 1.7x)")
    print(f"peak RSS: this process {_peak_gib():.2f} GiB, largest finished child process "
          f"(a Dask worker or nanny) {_peak_gib(resource.RUSAGE_CHILDREN):.2f} GiB")
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--skip-extensive", action="store_true")
    ap.add_argument("--national", action="store_true",
                    help="also 2,554 x 1,000 x 10 x 200 (decomposition only, 2 workers)")
    ap.add_argument("--rt", action="store_true",
                    help="also Rawls-Turnquist at gap 1e-4, both methods")
    ap.add_argument("--national-time-limit", type=float, default=1800.0)
    ap.add_argument("--no-synthetic", action="store_true",
                    help="skip the --size instance (e.g. only --rt or --national)")
    ap.add_argument("--max-arc-hours", type=float, default=None,
                    help="national run: drop arcs slower than this (PlacementOptions."
                    "max_arc_time_h); without it every candidate serves every struck region")
    ap.add_argument("--size", type=int, nargs=4, default=(400, 100, 3, 100),
                    metavar=("REGIONS", "CANDIDATES", "COMMODITIES", "SCENARIOS"))
    a = ap.parse_args()
    if not a.no_synthetic:
        inst = placement_instance(*a.size)
        compare(inst, 1e-2, a.time_limit, not a.skip_extensive, (1, 2))
    if a.rt:
        rt = load_instance(ROOT / "instances" / "rawls-turnquist")
        compare(rt, 1e-4, a.time_limit, True, (2,),
                PlacementOptions(sharing="pooled", explain_shortages=False))
    if a.national:
        big = placement_instance(2554, 1000, 10, 200)
        compare(big, 1e-2, a.national_time_limit, False, (2,),
                PlacementOptions(explain_shortages=False, max_arc_time_h=a.max_arc_hours))


if __name__ == "__main__":
    main()
