"""Gap to best-known solutions on the shared VRP benchmarks, for both routing engines.

Run from the repository root::

    .venv/bin/python bench/routing_bks.py            # 10 s per instance and engine
    .venv/bin/python bench/routing_bks.py --time 30 --engines pyvrp
    .venv/bin/python bench/routing_bks.py --before main   # main's routing code side by side

With ``--before REV`` the routing package of git revision ``REV`` (its ``models/routing``)
is loaded next to this tree's and solves every instance too; each row shows both costs
and gaps. The run ends with a small problem, 10 loads on 2 vehicles, timed with each
engine's default stopping rules (``--time`` as the limit).

Every instance in the benchmark folder is read with its own distance convention, solved,
and checked by the independent route checker. BKS values come from ``BKS.csv`` and, for
the CVRPLIB X instances (not listed there), from the ``Cost`` line of their ``.sol``.
Prints one row per instance and engine, then the mean gap per set and engine.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import numpy as np

import reserve_opt.models.routing as current
from reserve_opt.models.routing import ENGINES, RoutingProblem, RoutingProblemBuilder

DEFAULT_DIR = Path("/work/shared/benchmarks/vrp")
TARGETS = {
    ("CVRP", "pyvrp"): 2.0,
    ("VRPTW", "pyvrp"): 1.0,
    ("MDVRP", "pyvrp"): 1.0,
    ("CVRP", "ortools"): 5.0,
    ("VRPTW", "ortools"): 5.0,
    ("MDVRP", "ortools"): 5.0,
}


def instances(folder: Path, lib: ModuleType = current) -> list[tuple[str, str, Path, float]]:
    """Every instance with its set name, file and best-known cost."""
    bks = lib.read_bks(folder / "BKS.csv")
    out: list[tuple[str, str, Path, float]] = []
    for vrp in sorted((folder / "cvrp").glob("*.vrp")):
        sol = vrp.with_suffix(".sol")
        known = bks[vrp.stem].bks if vrp.stem in bks else lib.read_solution(sol).cost
        out.append((vrp.stem, "CVRP", vrp, known))
    for entry in bks.values():
        if entry.kind in ("VRPTW", "MDVRP"):
            out.append((entry.instance, entry.kind, folder / entry.file, entry.bks))
    return out


def read(lib: ModuleType, kind: str, path: Path) -> RoutingProblem:
    """``path`` read by ``lib``'s reader for ``kind``."""
    reader = {"CVRP": lib.read_vrplib, "VRPTW": lib.read_solomon, "MDVRP": lib.read_cordeau}
    problem: RoutingProblem = reader[kind](path)
    return problem


def load_revision(rev: str) -> ModuleType:
    """The routing package as of git revision ``rev``, importable beside this tree's.

    Its files are written to a temporary folder and loaded as
    ``reserve_opt.models._routing_before``; its relative imports stay inside it, and it
    shares the rest of ``reserve_opt`` with this tree.
    """
    root = Path(__file__).resolve().parents[1]
    names = subprocess.run(["git", "-C", str(root), "ls-tree", "--name-only", rev,
                            "models/routing/"], check=True, capture_output=True,
                           text=True).stdout.split()
    folder = Path(tempfile.mkdtemp(prefix="routing-before-"))
    for name in names:
        text = subprocess.run(["git", "-C", str(root), "show", f"{rev}:{name}"], check=True,
                              capture_output=True, text=True).stdout
        (folder / Path(name).name).write_text(text)
    spec = importlib.util.spec_from_file_location(
        "reserve_opt.models._routing_before", folder / "__init__.py",
        submodule_search_locations=[str(folder)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def small_problem(lib: ModuleType, loads: int = 10, vehicles: int = 2) -> RoutingProblem:
    """``loads`` loads around one depot, ``vehicles`` trucks each carrying half of them."""
    rng = np.random.default_rng(7)
    b: RoutingProblemBuilder = lib.RoutingProblemBuilder()
    b.add_depot("depot", x=0, y=0)
    for i, (x, y) in enumerate(rng.uniform(-20, 20, size=(loads, 2))):
        b.add_client(f"load {i}", x=float(x), y=float(y), demand=(1, 0))
    b.add_vehicle_type("truck", depot=0, count=vehicles, capacity=(-(-loads // vehicles), 0))
    problem: RoutingProblem = b.build()
    return problem


def run(lib: ModuleType, problem: RoutingProblem, engine: str, limit: float,
        seed: int) -> tuple[float | None, str, float]:
    """Cost (None if not a full, checked plan), why not, and wall seconds."""
    start = time.perf_counter()
    result = lib.solve(problem, engine, limit, seed)
    wall = time.perf_counter() - start
    report = lib.check(problem, result)
    if report.ok and not result.unserved:
        return float(result.cost), "", wall
    why = "; ".join(report.violations[:2]) or f"{len(result.unserved)} unserved"
    return None, why, wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", type=float, default=10.0, help="seconds per solve (10)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--before", metavar="REV",
                        help="also solve with the routing code of git revision REV")
    args = parser.parse_args(argv)

    libs: list[tuple[str, ModuleType]] = [("now", current)]
    if args.before:
        libs.insert(0, (args.before, load_revision(args.before)))
    gaps: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    failures = 0
    cols = "".join(f" {tag[:8] + ' cost':>14} {'gap %':>7}" for tag, _ in libs)
    header = f"{'instance':<12} {'set':<6} {'BKS':>10} {'engine':<8}{cols}"
    print(header)
    print("-" * len(header))
    for name, kind, path, known in instances(args.dir):
        for engine in args.engines:
            cells = ""
            for tag, lib in libs:
                problem = read(lib, kind, path)
                cost, why, _ = run(lib, problem, engine, args.time, args.seed)
                if cost is None:
                    failures += 1
                    cells += f" {'FAILED':>14} {why[:7]:>7}"
                    continue
                gap = 100.0 * (cost - known) / known
                gaps[(tag, kind, engine)].append(gap)
                cells += f" {cost:>14.2f} {gap:>7.2f}"
            print(f"{name:<12} {kind:<6} {known:>10.2f} {engine:<8}{cells}")
            sys.stdout.flush()
    print()
    print(f"{'code':<8} {'set':<6} {'engine':<8} {'n':>2} {'mean gap %':>10} {'max gap %':>9} "
          f"{'target %':>8}")
    missed = 0
    for (tag, kind, engine), values in sorted(gaps.items()):
        mean = sum(values) / len(values)
        target = TARGETS.get((kind, engine), float("nan"))
        flag = "" if mean <= target else "  above target"
        missed += mean > target and tag == "now"
        print(f"{tag[:8]:<8} {kind:<6} {engine:<8} {len(values):>2} {mean:>10.2f} "
              f"{max(values):>9.2f} {target:>8.1f}{flag}")
    for tag, _ in libs:
        for engine in args.engines:
            values = [g for (t, _, e), v in gaps.items() if t == tag and e == engine for g in v]
            if values:
                print(f"{tag[:8]:<8} {'all':<6} {engine:<8} {len(values):>2} "
                      f"{sum(values) / len(values):>10.2f} {max(values):>9.2f}")
    print(f"\n10 loads on 2 vehicles, limit {args.time:g} s (wall seconds to the answer):")
    for tag, lib in libs:
        for engine in args.engines:
            cost, why, wall = run(lib, small_problem(lib), engine, args.time, args.seed)
            shown = f"cost {cost:.2f}" if cost is not None else f"FAILED {why}"
            print(f"  {tag[:8]:<8} {engine:<8} {wall:>6.2f} s  {shown}")
    print(f"\n{failures} failed solves, {missed} set means above target, {args.time:g} s per solve")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
