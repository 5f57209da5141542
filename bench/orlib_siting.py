"""Every OR-Library siting instance: our objective, the published optimum, the relative
difference and the seconds, each plan verified by the independent checker.

Run: .venv/bin/python bench/orlib_siting.py [--solver highs] [--bench /work/shared/benchmarks]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from reserve_opt.models.siting import (
    check,
    facility_location,
    p_median,
    read_optima,
    read_orlib_cap,
    read_orlib_pmed,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--solver", default="highs")
    ap.add_argument("--bench", type=Path, default=Path("/work/shared/benchmarks"))
    args = ap.parse_args()
    cap, pmed = args.bench / "orlib-cap", args.bench / "orlib-pmed"
    rows: list[tuple[str, str, float | None, float, bool, float]] = []

    for name, opt in read_optima(cap / "capopt.txt").items():
        inst = read_orlib_cap(cap / f"{name}.txt")
        t0 = time.perf_counter()
        r = facility_location(
            inst.demand, inst.fixed_cost, inst.cost, inst.capacity, solver=args.solver
        )
        t = time.perf_counter() - t0
        ok = check(
            r, cost=inst.cost, demand=inst.demand, capacity=inst.capacity,
            fixed_cost=inst.fixed_cost,
        ).ok  # fmt: skip
        rows.append((name, "capacitated", r.objective, opt, ok, t))
    for name, opt in read_optima(cap / "uncapopt.txt").items():
        inst = read_orlib_cap(cap / f"{name}.txt")
        t0 = time.perf_counter()
        r = facility_location(
            inst.demand, inst.fixed_cost, inst.cost, capacitated=False, solver=args.solver
        )
        t = time.perf_counter() - t0
        ok = check(r, cost=inst.cost, demand=inst.demand, fixed_cost=inst.fixed_cost).ok
        rows.append((name, "uncapacitated", r.objective, opt, ok, t))
    for name, opt in sorted(
        read_optima(pmed / "pmedopt.txt").items(), key=lambda kv: int(kv[0][4:])
    ):
        inst = read_orlib_pmed(pmed / f"{name}.txt")
        t0 = time.perf_counter()
        r = p_median(inst.distance, inst.p, solver=args.solver)
        t = time.perf_counter() - t0
        ok = check(r, distance=inst.distance, p=inst.p).ok
        rows.append((name, f"p-median p={inst.p}", r.objective, opt, ok, t))

    print(f"solver: {args.solver}")
    print(
        f"{'instance':9s} {'model':16s} {'ours':>16s} {'published':>16s} {'rel diff':>10s} "
        f"{'check':>6s} {'seconds':>8s}"
    )
    worst = 0.0
    for name, kind, obj, opt, ok, t in rows:
        diff = float("nan") if obj is None else (obj - opt) / opt
        worst = max(worst, abs(diff))
        ours = "-" if obj is None else f"{obj:16.3f}"
        print(
            f"{name:9s} {kind:16s} {ours:>16s} {opt:16.3f} {diff:10.1e} "
            f"{'ok' if ok else 'FAIL':>6s} {t:8.2f}"
        )
    print(
        f"{len(rows)} instances, worst relative difference {worst:.1e}, "
        f"total {sum(r[5] for r in rows):.1f} s"
    )


if __name__ == "__main__":
    main()
