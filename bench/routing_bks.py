"""Gap to best-known solutions on the shared VRP benchmarks, for both routing engines.

Run from the repository root::

    .venv/bin/python bench/routing_bks.py            # 10 s per instance and engine
    .venv/bin/python bench/routing_bks.py --time 30 --engines pyvrp

Every instance in the benchmark folder is read with its own distance convention, solved,
and checked by the independent route checker. BKS values come from ``BKS.csv`` and, for
the CVRPLIB X instances (not listed there), from the ``Cost`` line of their ``.sol``.
Prints one row per instance and engine, then the mean gap per set and engine.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

from reserve_opt.models.routing import (
    ENGINES,
    RoutingProblem,
    check,
    read_bks,
    read_cordeau,
    read_solomon,
    read_solution,
    read_vrplib,
    solve,
)

DEFAULT_DIR = Path("/work/shared/benchmarks/vrp")
TARGETS = {
    ("CVRP", "pyvrp"): 2.0,
    ("VRPTW", "pyvrp"): 1.0,
    ("MDVRP", "pyvrp"): 1.0,
    ("CVRP", "ortools"): 6.0,
    ("VRPTW", "ortools"): 6.0,
    ("MDVRP", "ortools"): 6.0,
}


def instances(folder: Path) -> list[tuple[str, str, RoutingProblem, float]]:
    """Every instance with its set name, problem and best-known cost."""
    bks = read_bks(folder / "BKS.csv")
    out: list[tuple[str, str, RoutingProblem, float]] = []
    for vrp in sorted((folder / "cvrp").glob("*.vrp")):
        sol = vrp.with_suffix(".sol")
        known = bks[vrp.stem].bks if vrp.stem in bks else read_solution(sol).cost
        out.append((vrp.stem, "CVRP", read_vrplib(vrp), known))
    for entry in bks.values():
        path = folder / entry.file
        if entry.kind == "VRPTW":
            out.append((entry.instance, "VRPTW", read_solomon(path), entry.bks))
        elif entry.kind == "MDVRP":
            out.append((entry.instance, "MDVRP", read_cordeau(path), entry.bks))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", type=float, default=10.0, help="seconds per solve (10)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)

    gaps: dict[tuple[str, str], list[float]] = defaultdict(list)
    failures = 0
    header = f"{'instance':<12} {'set':<6} {'BKS':>10} {'engine':<8} {'cost':>10} {'gap %':>7}"
    print(header)
    print("-" * len(header))
    for name, kind, problem, known in instances(args.dir):
        for engine in args.engines:
            result = solve(problem, engine, args.time, args.seed)
            report = check(problem, result)
            solved = report.ok and not result.unserved
            if not solved:
                failures += 1
                why = "; ".join(report.violations[:2]) or f"{len(result.unserved)} unserved"
                print(f"{name:<12} {kind:<6} {known:>10.2f} {engine:<8} {'FAILED':>10} {why}")
                continue
            gap = 100.0 * (result.cost - known) / known
            gaps[(kind, engine)].append(gap)
            print(
                f"{name:<12} {kind:<6} {known:>10.2f} {engine:<8} {result.cost:>10.2f} {gap:>7.2f}"
            )
            sys.stdout.flush()
    print()
    print(f"{'set':<6} {'engine':<8} {'n':>2} {'mean gap %':>10} {'target %':>8}")
    missed = 0
    for (kind, engine), values in sorted(gaps.items()):
        mean = sum(values) / len(values)
        target = TARGETS.get((kind, engine), float("nan"))
        flag = "" if mean <= target else "  above target"
        missed += mean > target
        print(f"{kind:<6} {engine:<8} {len(values):>2} {mean:>10.2f} {target:>8.1f}{flag}")
    print(f"\n{failures} failed solves, {missed} set means above target, {args.time:g} s per solve")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
