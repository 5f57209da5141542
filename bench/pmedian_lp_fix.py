"""p-median, side by side in one run: today's radius MIP (``formulation="radius"``) and the
LP bound + reduced-cost fixing + MIP on what is left (``formulation="lp-fix"``), on the
OR-Library pmed files present and on random Euclidean instances, each plan checked and
compared with the published optimum; ratios radius / lp-fix of the seconds.

Run: .venv/bin/python bench/pmedian_lp_fix.py [--bench ../shared/benchmarks/orlib-pmed]
     [--random 300x300p5,400x400p10] [--time-limit 120]
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np

from reserve_opt.models.siting import check, p_median, read_optima, read_orlib_pmed
from reserve_opt.solvers import SolverOptions

FORMULATIONS = ("radius", "lp-fix")


def random_instance(spec: str, seed: int = 0) -> tuple[np.ndarray, int]:
    """``NxMpP``: N clients and M sites uniform in a 1000 x 1000 square, rounded distances."""
    n, m, p = (int(v) for v in re.fullmatch(r"(\d+)x(\d+)p(\d+)", spec).groups())  # type: ignore[union-attr]
    rng = np.random.default_rng(seed)
    a, b = rng.random((n, 2)) * 1000, rng.random((m, 2)) * 1000
    return np.round(np.linalg.norm(a[:, None] - b[None], axis=2)), p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    here = Path(__file__).resolve().parents[1]
    ap.add_argument("--bench", type=Path,
                    default=here.parent / "shared" / "benchmarks" / "orlib-pmed")
    ap.add_argument("--random", default="300x300p5,500x100p10")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--solver", default="highs")
    args = ap.parse_args()
    cases: list[tuple[str, np.ndarray, int, float | None]] = []
    optima = read_optima(args.bench / "pmedopt.txt") if args.bench.is_dir() else {}
    for name in sorted(optima, key=lambda s: int(s[4:])):
        inst = read_orlib_pmed(args.bench / f"{name}.txt")
        cases.append((name, inst.distance, inst.p, optima[name]))
    for spec in filter(None, args.random.split(",")):
        d, p = random_instance(spec)
        cases.append((f"rand{spec}", d, p, None))
    opts = SolverOptions(time_limit_s=args.time_limit)
    print(f"solver {args.solver}, time limit {args.time_limit:g} s each")
    print(f"{'instance':16s} {'p':>4s} " + " ".join(
        f"{f + ' obj':>12s} {'status':>8s} {'s':>7s}" for f in FORMULATIONS)
        + f" {'optimum':>9s} {'ratio s':>8s}")
    totals = dict.fromkeys(FORMULATIONS, 0.0)
    for name, d, p, opt in cases:
        cells = []
        secs = {}
        for f in FORMULATIONS:
            t0 = time.perf_counter()
            r = p_median(d, p, formulation=f, solver=args.solver, options=opts)
            secs[f] = time.perf_counter() - t0
            totals[f] += secs[f]
            ok = check(r, distance=d, p=p).ok
            mark = "" if ok else " CHECK FAILED"
            cells.append(f"{r.objective:12.0f} {r.status.value:>8s} {secs[f]:7.2f}{mark}")
        known = "-" if opt is None else f"{opt:9.0f}"
        ratio = secs["radius"] / max(secs["lp-fix"], 1e-9)
        print(f"{name:16s} {p:4d} " + " ".join(cells) + f" {known:>9s} {ratio:8.2f}")
    ratio = totals["radius"] / max(totals["lp-fix"], 1e-9)
    print(f"total seconds: radius {totals['radius']:.1f}, lp-fix {totals['lp-fix']:.1f}, "
          f"ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
