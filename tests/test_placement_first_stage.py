"""The candidate stock rows are written only where they cut (issue 16).

``buy_gk <= sum_l min(bound_gk, M_l / b_k) y_gl`` says nothing the space row does not when
no size's bound is below what it holds; the national master had 10,000 such rows of its
14,399. Leaving them out must not change the model: the optimum with every pair's row added
back is the same.
"""

from __future__ import annotations

import numpy as np
import pytest

from reserve_opt.models.placement import PlacementOptions
from reserve_opt.models.placement.model import build_model, prepare, stock_bound
from reserve_opt.solvers import SolverOptions, solve
from reserve_opt.synthetic import placement_instance

POOLED = PlacementOptions(sharing="pooled", fleet_limits=False, explain_shortages=False)


def test_candidate_stock_rows_only_where_a_bound_cuts_and_the_optimum_is_unchanged() -> None:
    # many regions, few candidates: water's bound (a scenario's whole need) exceeds what
    # any size holds, the tents' does not
    data = prepare(placement_instance(400, 6, 5, 4, seed=2), POOLED)
    K = data.shape[2]
    cand, row_of = np.unique(data.size_gov, return_inverse=True)
    bound = stock_bound(data)[cand]  # (candidates, K)
    fits = data.size_capacity[:, None] / data.volume[None, :]  # (L, K)
    cuts = np.zeros_like(bound, dtype=bool)
    np.logical_or.at(cuts, row_of, bound[row_of] < fits)
    assert cuts.any() and not cuts.all()  # the instance has both kinds of pair

    m, _ = build_model(data, POOLED)
    mm = m.compile()
    kept = mm.con_blocks["candidate_stock_link"]
    assert kept.stop - kept.start == int(cuts.sum())
    lean = solve(mm, "highs", SolverOptions(mip_gap=1e-9))

    # every pair's row added back, as written before the filter
    full, _ = build_model(data, POOLED)
    vb = mm.var_blocks  # the same columns: only rows are added below
    y0, buy0 = vb["open"].start, vb["buy"].start
    pc, pk = np.nonzero(~cuts)
    rows, cols, vals = [np.arange(pc.size)], [buy0 + cand[pc] * K + pk], [np.ones(pc.size)]
    for n, (c, k) in enumerate(zip(pc, pk, strict=True)):
        ls = np.flatnonzero(row_of == c)
        rows.append(np.full(ls.size, n))
        cols.append(y0 + ls)
        vals.append(-np.minimum(bound[c, k], fits[ls, k]))
    full.add_constraints("every_pair", (np.concatenate(rows), np.concatenate(cols),
                                        np.concatenate(vals)), ub=0.0, n_rows=pc.size)
    every = solve(full.compile(), "highs", SolverOptions(mip_gap=1e-9))
    assert lean.objective is not None and every.objective is not None
    assert lean.objective == pytest.approx(every.objective, rel=1e-7)
