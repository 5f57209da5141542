"""p-median, 500 clients x 100 sites, p = 10: the dense textbook model built the spopt way
(PuLP objects, x_ij <= y_j for every pair, Python loops) solved by CBC, against ours
(sparse radius formulation, vectorised) on the same CBC and on HiGHS.

The Lagrangian branch-and-bound (the default formulation now) is measured against the same
dense model by bench/siting_exact.py.

Run: .venv/bin/python bench/pmedian_sparse_vs_dense.py [--seed 0] [--clients 500] [-p 10]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pulp

from reserve_opt.models.siting import p_median


def dense_pulp_cbc(d: np.ndarray, p: int) -> tuple[float, float, float]:
    """Build with Python loops like spopt's PMedian, solve with PuLP's CBC.

    Returns objective, build seconds, total seconds.
    """
    t0 = time.perf_counter()
    n, m = d.shape
    prob = pulp.LpProblem("pmedian_dense", pulp.LpMinimize)
    y = [pulp.LpVariable(f"y_{j}", cat="Binary") for j in range(m)]
    x = [[pulp.LpVariable(f"x_{i}_{j}", lowBound=0, upBound=1) for j in range(m)] for i in range(n)]
    prob += pulp.lpSum(float(d[i, j]) * x[i][j] for i in range(n) for j in range(m))
    for i in range(n):
        prob += pulp.lpSum(x[i][j] for j in range(m)) == 1
    prob += pulp.lpSum(y) == p
    for i in range(n):
        for j in range(m):
            prob += x[i][j] <= y[j]
    t_build = time.perf_counter() - t0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        solver = pulp.PULP_CBC_CMD(msg=False, gapRel=0)
    prob.solve(solver)
    assert pulp.LpStatus[prob.status] == "Optimal", pulp.LpStatus[prob.status]
    return float(pulp.value(prob.objective)), t_build, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--clients", type=int, default=500)
    ap.add_argument("--sites", type=int, default=100)
    ap.add_argument("-p", type=int, default=10)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    clients = rng.random((args.clients, 2)) * 1000
    sites = rng.random((args.sites, 2)) * 1000
    d = np.linalg.norm(clients[:, None, :] - sites[None, :, :], axis=2)
    print(f"p-median: {args.clients} clients x {args.sites} sites, p = {args.p}, seed {args.seed}")

    obj_dense, t_build, t_dense = dense_pulp_cbc(d, args.p)
    print(f"{'model':34s} {'objective':>16s} {'seconds':>9s} {'speed-up':>9s}")
    print(
        f"{'dense textbook, PuLP loops + CBC':34s} {obj_dense:16.6f} {t_dense:9.2f} {1.0:9.1f}"
        f"   (build {t_build:.2f} s)"
    )
    ok = True
    for solver in ("pulp-cbc", "highs"):
        t0 = time.perf_counter()
        res = p_median(d, args.p, solver=solver, formulation="radius")
        t = time.perf_counter() - t0
        assert res.objective is not None
        same = abs(res.objective - obj_dense) <= 1e-6 * max(1.0, abs(obj_dense))
        ok &= same
        label = f"ours (radius) + {solver}"
        print(
            f"{label:34s} {res.objective:16.6f} {t:9.2f} {t_dense / t:9.1f}"
            f"   {'same optimum' if same else 'DIFFERENT OPTIMUM'}"
        )
    if not ok:
        raise SystemExit("objectives differ")


if __name__ == "__main__":
    main()
