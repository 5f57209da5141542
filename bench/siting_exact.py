"""Exact siting, the numbers of issue 15 item 1 in one run (each plan through ``check``):

1. OR-Library pmed files: the Lagrangian branch-and-bound (``formulation="lagrangian"``,
   the default) proves each optimal; seconds, CPU seconds, the published optimum matched.
   By default pmed1-10; ``--full`` runs pmed1-40 (every file present; missing ones are
   named and skipped). ``--data DIR`` reads the pmed files (and ``pmedopt.txt``) from DIR
   instead of ``BENCH/orlib-pmed``: OR-Library's pmed11-40 are not in the shared folder
   (models/siting.md says where to get them); ``--pmed-optima FILE`` adds optima. Each
   row shows the 1-minute load average when it finished (the machine is shared).
   ``--compare`` also runs the radius MIP (the default before) for the ratio.
   ``--synthetic`` adds random graphs with the sizes of pmed11-40 (n, edges, p as in
   Beasley 1990; weights 1-100, seeded): NOT the OR-Library files, for timing only.
2. capa, capb, capc (with ``--capacity`` as published, Beasley 1988 Table 1: capa
   8000/10000/12000/14000, capb 5000/6000/7000/8000, capc 5000/5750/6500/7250) and the
   cap41-134 files present in ``--cap-dir`` (default ``<bench>/orlib-cap``):
   ``facility_location(method="lagrangian")`` (root bound, fixing, Lagrangian
   branch-and-bound); ``--compare`` adds, side by side, the method before (root bound,
   fixing, a kernel MIP and one MIP on the sites left: ``finish="mip"``). Optima from
   ``capopt.txt`` / ``uncapopt.txt`` in that folder (capa-capc by capacity). Each row
   shows the 1-minute load average when it finished (the machine is shared).
   capa.txt, capb.txt, capc.txt and capopt (about 1.2 MB each; not in this repository)
   are Beasley's OR-Library files, http://people.brunel.ac.uk/~mastjjb/jeb/orlib/capinfo.html
   (files under .../orlib/files/); put them in the ``--cap-dir`` folder.
3. p-median 500 x 100, p = 10: the dense textbook PuLP + CBC model (built with Python
   loops like spopt's) against ours, side by side, with the speed-up.

Run: .venv/bin/python bench/siting_exact.py [--bench /work/shared/benchmarks]
     [--full] [--data DIR] [--pmed-optima FILE] [--cap-dir DIR] [--synthetic] [--compare]
     [--skip-dense] [--only pmed|cap|dense] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import resource
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from reserve_opt.models.siting import (
    check,
    facility_location,
    flp_lagrangian,
    p_median,
    read_optima,
    read_orlib_cap,
    read_orlib_pmed,
)
from reserve_opt.models.siting.facility_location import SMALL_PAIRS
from reserve_opt.models.siting.orlib import SET_CAPACITIES, read_optima_file
from reserve_opt.models.siting.result import SitingResult
from reserve_opt.solvers import SolverOptions

#: n, edges, p of OR-Library pmed11-40 (Beasley 1990), for the synthetic stand-ins.
PMED_SIZES = {
    11: (300, 1800, 5), 12: (300, 1800, 10), 13: (300, 1800, 30), 14: (300, 1800, 60),
    15: (300, 1800, 100), 16: (400, 3200, 5), 17: (400, 3200, 10), 18: (400, 3200, 40),
    19: (400, 3200, 80), 20: (400, 3200, 133), 21: (500, 5000, 5), 22: (500, 5000, 10),
    23: (500, 5000, 50), 24: (500, 5000, 100), 25: (500, 5000, 167), 26: (600, 7200, 5),
    27: (600, 7200, 10), 28: (600, 7200, 60), 29: (600, 7200, 120), 30: (600, 7200, 200),
    31: (700, 9800, 5), 32: (700, 9800, 10), 33: (700, 9800, 70), 34: (700, 9800, 140),
    35: (800, 12800, 5), 36: (800, 12800, 10), 37: (800, 12800, 80), 38: (900, 16200, 5),
    39: (900, 16200, 10), 40: (900, 16200, 90),
}


def synthetic_pmed(k: int) -> tuple[np.ndarray, int]:
    """A connected random graph of pmed``k``'s size, shortest-path distances."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import shortest_path

    n, e, p = PMED_SIZES[k]
    rng = np.random.default_rng(k)
    perm = rng.permutation(n)
    edges = {(min(a, b), max(a, b)) for a, b in itertools.pairwise(perm)}
    while len(edges) < e:
        a, b = (int(v) for v in rng.integers(0, n, 2))
        if a != b:
            edges.add((min(a, b), max(a, b)))
    ij = np.array(sorted(edges))
    wt = rng.integers(1, 101, len(ij)).astype(float)
    g = coo_matrix((wt, (ij[:, 0], ij[:, 1])), shape=(n, n)).tocsr()
    return shortest_path(g, method="D", directed=False), p


#: CPU seconds of the last ``timed`` call (this process, all threads): the machine is
#: shared, so wall seconds alone overstate the work.
CPU = [0.0]


def timed(f: Callable[[], SitingResult]) -> tuple[SitingResult, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    r = f()
    CPU[0] = time.process_time() - c0
    return r, time.perf_counter() - t0


def matches(value: float | None, known: float | None) -> str:
    if known is None:
        return "-"
    if value is None:
        return "NO PLAN"
    return "yes" if abs(value - known) <= 1e-6 * max(1.0, abs(known)) else "NO"


def run_pmed(args: argparse.Namespace, opts: SolverOptions) -> None:
    folder = args.data or args.bench / "orlib-pmed"
    optima = read_optima(folder / "pmedopt.txt") if (folder / "pmedopt.txt").is_file() else {}
    for f in args.pmed_optima:
        optima.update(read_optima(f))
    wanted = range(1, 41) if args.full else range(1, 11)
    cases: list[tuple[str, np.ndarray, int, float | None]] = []
    missing = []
    for k in wanted:
        f = folder / f"pmed{k}.txt"
        if f.is_file():
            inst = read_orlib_pmed(f)
            cases.append((f"pmed{k}", inst.distance, inst.p, optima.get(f"pmed{k}")))
        else:
            missing.append(f"pmed{k}")
    if args.synthetic:
        for k in PMED_SIZES:
            if not (args.full or k <= 20):
                continue
            d, p = synthetic_pmed(k)
            cases.append((f"syn{k}", d, p, None))
    print(f"\n## p-median (lagrangian B&B{', vs radius MIP + HiGHS' if args.compare else ''}), "
          f"time limit {opts.time_limit_s:g} s each")
    if missing:
        print(f"not present in {folder}, skipped: {', '.join(missing)}")
    head = f"{'instance':10s} {'n':>4s} {'p':>4s} {'objective':>10s} {'status':>8s} " \
           f"{'s':>7s} {'cpu s':>7s} {'optimum':>9s} {'match':>5s} {'check':>5s} {'load':>5s}"
    print(head + (f" {'radius s':>9s} {'ratio':>6s}" if args.compare else ""))
    total, worst, proven, cpu = 0.0, 0.0, 0, 0.0
    for name, d, p, known in cases:
        r, s = timed(lambda d=d, p=p: p_median(d, p, formulation="lagrangian", options=opts))
        total += s
        cpu += CPU[0]
        worst = max(worst, s)
        proven += r.status.value == "optimal"
        ok = check(r, distance=d, p=p).ok
        row = (f"{name:10s} {d.shape[0]:4d} {p:4d} {r.objective:10.0f} {r.status.value:>8s} "
               f"{s:7.2f} {CPU[0]:7.2f} {'-' if known is None else f'{known:9.0f}':>9s} "
               f"{matches(r.objective, known):>5s} {'ok' if ok else 'FAIL':>5s} "
               f"{os.getloadavg()[0]:5.1f}")
        if args.compare:
            rr, sr = timed(lambda d=d, p=p: p_median(d, p, formulation="radius",
                                                     solver="highs", options=opts))
            same = matches(rr.objective, r.objective) if rr.status.value == "optimal" else \
                rr.status.value
            row += f" {sr:9.2f} {sr / max(s, 1e-9):6.1f} {same}"
        print(row, flush=True)
    print(f"{len(cases)} p-median cases: {proven} proven optimal, slowest {worst:.2f} s, "
          f"total {total:.1f} s (cpu {cpu:.1f} s)")


def run_cap(args: argparse.Namespace, opts: SolverOptions) -> None:
    folder = args.cap_dir or args.bench / "orlib-cap"
    print(f"\n## CFLP / UFLP in {folder} (lagrangian bound + fixing + branch-and-bound"
          f"{'; vs the method before: bound + fixing + kernel MIP + MIP' if args.compare else ''}"
          f"), time limit {opts.time_limit_s:g} s each, MIP solver {args.solver}")
    optima = [read_optima_file(f) for f in (folder / "capopt.txt", *args.cap_optima)
              if f.is_file()]
    uncap = [read_optima_file(f) for f in (folder / "uncapopt.txt", *args.uncap_optima)
             if f.is_file()]
    files = sorted(folder.glob("cap*.txt"), key=lambda f: (len(f.stem), f.stem))
    files = [f for f in files if re.fullmatch(r"cap(\d+|[abc])", f.stem)]
    files += [f for f in args.cap_file if f.is_file()]
    if not any(f.stem in SET_CAPACITIES for f in files):
        print(f"capa/capb/capc not in {folder}: see this file's docstring for where to get them")
    print(f"{'instance':16s} {'objective':>16s} {'status':>8s} {'s':>7s} {'cpu s':>7s} "
          f"{'optimum':>16s} {'match':>5s} {'check':>5s} {'load':>5s}"
          + (f" {'before s':>8s} {'status':>8s} {'match':>5s} {'load':>5s}" if args.compare
             else ""))
    for f in files:
        name = f.stem
        caps: list[float | None] = list(SET_CAPACITIES.get(name, (None,)))
        runs = [(cap, True) for cap in caps]
        if any(o.get(name) is not None for o in uncap):
            runs.append((None, False))
        for cap, capacitated in runs:
            inst = read_orlib_cap(f, capacity=cap, uncapacitated=not capacitated)
            known = next((v for o in (optima if capacitated else uncap)
                          if (v := o.get(name, cap)) is not None), None)
            caps_used = inst.capacity if capacitated else None

            def solve(method: str, inst=inst, caps_used=caps_used,  # type: ignore[no-untyped-def]
                      capacitated=capacitated) -> SitingResult:
                return facility_location(inst.demand, inst.fixed_cost, inst.cost,
                                         caps_used, capacitated=capacitated,
                                         solver=args.solver, options=opts,
                                         method=method)

            def before(inst=inst, caps_used=caps_used) -> SitingResult:  # type: ignore[no-untyped-def]
                t0 = time.perf_counter()  # the method before this tree, same budget
                return flp_lagrangian.facility_location_lagrangian(
                    inst.demand, inst.fixed_cost, inst.cost, caps_used,
                    np.zeros(inst.cost.shape[1], dtype=bool), solver=args.solver,
                    options=opts, t0=t0, finish="mip")

            r, s = timed(lambda: solve("lagrangian"))
            ok = check(r, cost=inst.cost, demand=inst.demand, capacity=caps_used,
                       fixed_cost=inst.fixed_cost).ok
            label = name if cap is None else f"{name}-{cap:g}"
            label += "" if capacitated else " uflp"
            row = (f"{label:16s} {r.objective:16.3f} {r.status.value:>8s} {s:7.2f} "
                   f"{CPU[0]:7.2f} {'-' if known is None else f'{known:16.3f}':>16s} "
                   f"{matches(r.objective, known):>5s} {'ok' if ok else 'FAIL':>5s} "
                   f"{os.getloadavg()[0]:5.1f}")
            if args.compare:
                big = inst.cost.size > SMALL_PAIRS  # smaller ones go to the one MIP anyway
                rm, sm = timed(before if big else lambda: solve("mip"))
                row += (f" {sm:8.2f} {rm.status.value:>8s} {matches(rm.objective, known):>5s}"
                        f" {os.getloadavg()[0]:5.1f}")
            print(row, flush=True)


def run_dense(args: argparse.Namespace) -> None:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(
        "sparse_vs_dense", Path(__file__).with_name("pmedian_sparse_vs_dense.py"))
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["sparse_vs_dense"] = mod
    spec.loader.exec_module(mod)
    rng = np.random.default_rng(0)
    clients, sites = rng.random((500, 2)) * 1000, rng.random((100, 2)) * 1000
    d = np.linalg.norm(clients[:, None, :] - sites[None, :, :], axis=2)
    print("\n## p-median 500 clients x 100 sites, p = 10 (seed 0), side by side")
    def cpu_all() -> float:  # this process and its children (CBC runs as one)
        me, kids = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    c0 = cpu_all()
    obj, _, dense_s = mod.dense_pulp_cbc(d, 10)
    dense_cpu = cpu_all() - c0
    print(f"{'model':40s} {'objective':>14s} {'seconds':>8s} {'speed-up':>9s}")
    print(f"{'dense textbook, PuLP loops + CBC':40s} {obj:14.4f} {dense_s:8.2f} {1.0:9.1f}"
          f"   (cpu {dense_cpu:.2f} s, CBC included)")
    for label, kw in (("ours, lagrangian B&B (default)", {"formulation": "lagrangian"}),
                      ("ours, radius MIP + HiGHS", {"formulation": "radius",
                                                    "solver": "highs"})):
        r, s = timed(lambda kw=kw: p_median(d, 10, **kw))  # type: ignore[arg-type]
        same = matches(r.objective, obj)
        ok = check(r, distance=d, p=10).ok
        print(f"{label:40s} {r.objective:14.4f} {s:8.2f} {dense_s / s:9.1f}   "
              f"(cpu {CPU[0]:.2f} s) {r.status.value}, same optimum: {same}, "
              f"check {'ok' if ok else 'FAIL'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, default=Path("/work/shared/benchmarks"))
    ap.add_argument("--full", action="store_true", help="pmed1-40 (default pmed1-10)")
    ap.add_argument("--data", type=Path, default=None,
                    help="folder of pmed*.txt (default BENCH/orlib-pmed)")
    ap.add_argument("--pmed-optima", type=Path, action="append", default=[],
                    help="another pmedopt.txt-style file (repeatable)")
    ap.add_argument("--synthetic", action="store_true",
                    help="add random graphs of pmed11-40's sizes (timing only)")
    ap.add_argument("--compare", action="store_true",
                    help="also run the previous defaults (radius MIP, one-shot CFLP MIP)")
    ap.add_argument("--cap-dir", type=Path, default=None,
                    help="folder of cap*.txt, capopt.txt, uncapopt.txt (default "
                         "<bench>/orlib-cap); capa-capc: see the docstring")
    ap.add_argument("--cap-file", type=Path, action="append", default=[],
                    help="another capa/capb/capc file (repeatable)")
    ap.add_argument("--cap-optima", type=Path, action="append", default=[],
                    help="another capopt.txt-style file (capa-capc lines by capacity)")
    ap.add_argument("--uncap-optima", type=Path, action="append", default=[],
                    help="another uncapopt.txt-style file")
    ap.add_argument("--skip-dense", action="store_true")
    ap.add_argument("--only", choices=["pmed", "cap", "dense"], default=None)
    ap.add_argument("--solver", default="highs")
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args()
    opts = SolverOptions(time_limit_s=args.time_limit)
    if args.only in (None, "pmed"):
        run_pmed(args, opts)
    if args.only in (None, "cap"):
        run_cap(args, opts)
    if args.only in (None, "dense") and not args.skip_dense:
        run_dense(args)


if __name__ == "__main__":
    main()
