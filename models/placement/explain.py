"""Why a plan leaves expected shortage, and whether its budget binds.

The plan's integer decisions (warehouses opened, contracts signed) are fixed and the rest is
re-solved as an LP, whose duals price each constraint at the plan: the budget (currency of
objective per currency of budget), the space of each warehouse (per m3) and the stock a
warehouse or contract can give. For each region and commodity with expected shortage the
reasons are, strongest first:

- ``structure``: in some scenarios no source can reach the region at all (no stock,
  contract, agreement or parent within reach, or every route cut), with their probability;
- ``binding``: the budget, or the space of a warehouse that can serve the region, binds,
  with what one more unit of it is worth;
- ``cost``: nothing binds: holding one more unit costs more than the expected penalty it
  would avoid (the penalty times the probability of the scenarios where it is short).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from reserve_opt.fleet import depot_capacity
from reserve_opt.solvers import MatrixModel, SolveResult, SolverOptions, solve

from .model import FloatArray, Layout, PlacementData, flow_depots, space_rows
from .result import BudgetUse, ShortageReason

#: Duals and shortages below these are solver dust.
_DUAL_EPS = 1e-7
_SHORT_EPS = 1e-6
#: LP used to price the plan: any backend with duals would do; HiGHS is always present.
PRICING_SOLVER = "highs"
#: Full warehouses named per short region and commodity, most valuable space first.
SPACE_SHOWN = 2


def fixed_lp(model: MatrixModel, x: FloatArray) -> MatrixModel:
    """``model`` with its integer columns fixed at ``x`` (rounded) and no integrality."""
    lb, ub = model.col_lb.copy(), model.col_ub.copy()
    ints = np.flatnonzero(model.integer)
    lb[ints] = ub[ints] = np.round(x[ints])
    return dataclasses.replace(model, col_lb=lb, col_ub=ub,
                               integer=np.zeros_like(model.integer), start=None)


def explain_plan(data: PlacementData, layout: Layout, model: MatrixModel, res: SolveResult,
                 solver_options: SolverOptions | None = None,
                 ) -> tuple[tuple[ShortageReason, ...], BudgetUse | None, str]:
    """Reasons for each expected shortage of a plan, and its use of the budget.

    Parameters
    ----------
    data, layout
        The prepared data and the model's layout.
    model
        The compiled placement model that was solved.
    res
        The solve's result, with a plan.
    solver_options
        Limits for the pricing LP (its time limit and threads).

    Returns
    -------
    tuple
        ``(reasons, budget use, note)``; ``note`` says why prices are missing when the
        pricing LP did not solve (the reasons then hold structure and cost only).
    """
    inst = data.instance
    S, J, K = data.shape
    P = data.prob
    cur = inst.currency
    rid = [r.id for r in inst.regions]
    kid = [c.id for c in inst.commodities]
    assert res.x is not None
    w = np.zeros((S, J, K))
    w[layout.demand_s, layout.demand_j, layout.demand_k] = np.maximum(res.value("short"), 0.0)
    expected = np.einsum("s,sjk->jk", P, w)
    spent = _new_spending(data, res)
    spends_all = data.budget is not None and spent >= data.budget * (1 - 1e-6) - 1e-6
    lp: SolveResult | None = None
    if (expected > _SHORT_EPS).any() or spends_all:
        # the duals only matter where something is short or the budget is spent
        lp = solve(fixed_lp(model, res.x), PRICING_SOLVER,
                   dataclasses.replace(solver_options or SolverOptions(), mip_gap=0.0))
    priced = lp is not None and lp.duals is not None and lp.status.has_solution
    note = "" if priced or lp is None else (
        f"the pricing LP ended {lp.status.value!r}: constraints are not priced")

    budget_use = None
    if data.budget is not None:
        worth = (float(-lp.dual("budget")[0])
                 if priced and lp is not None and "budget" in lp.con_blocks else 0.0)
        binding = spends_all or worth > _DUAL_EPS
        budget_use = BudgetUse(budget=float(data.budget), spent=spent, binding=binding,
                               worth=max(worth, 0.0) if binding else 0.0)

    reach = np.zeros((S, J, K), dtype=bool)
    reach[data.f_s, data.f_j, data.f_k] = True
    # warehouses that can serve (j, k) in some scenario: their space may bind for it
    gov = data.f_u < data.n_gov * K
    g_of = data.f_u[gov] // K
    short_jk = zip(*np.nonzero(expected > _SHORT_EPS), strict=True)
    serves: dict[tuple[int, int], set[int]] = {(int(j), int(k)): set() for j, k in short_jk}
    for g, j, k in zip(g_of, data.f_j[gov], data.f_k[gov], strict=True):
        key = (int(j), int(k))
        if key in serves:
            serves[key].add(int(g))
    # space of a warehouse that stands (existing, or opened by the plan); an unopened
    # candidate's row prices space it does not have
    space_worth: dict[int, float] = {}
    if priced and lp is not None and "space" in lp.con_blocks:
        y = res.value("open")
        opened = set(data.size_gov[y > 0.5].tolist()) if y.size else set()
        for g, d in zip(space_rows(data), lp.dual("space"), strict=True):
            if -d > _DUAL_EPS and (not data.gov_candidate[g] or int(g) in opened):
                space_worth[int(g)] = float(-d)

    fleet_worth = _fleet_worth(data, lp, set(serves)) if priced and lp is not None else {}
    out: list[ShortageReason] = []
    for (j, k), gs in sorted(serves.items(), key=lambda kv: -expected[kv[0]]):
        e = float(expected[j, k])
        dem = data.demand[:, j, k] > 0
        cut = dem & ~reach[:, j, k]
        lines: list[tuple[str, str, float | None, str]] = []
        if cut.any():
            p = float(P[cut].sum())
            if cut.sum() == dem.sum():
                lines.append(("structure", f"no source can reach {rid[j]} with {kid[k]} in any "
                              "scenario with demand: no stock, contract, agreement or parent "
                              "within reach", None, ""))
            else:
                lines.append(("structure", f"in {int(cut.sum())} of {int(dem.sum())} scenarios "
                              f"with demand (probability {p:.3g}) no source can reach it: "
                              "damage or cut routes", None, ""))
        if budget_use is not None and budget_use.binding:
            lines.append(("binding", f"the budget is spent ({spent:,.0f} of "
                          f"{budget_use.budget:,.0f} {cur})", budget_use.worth,
                          f"{cur} per {cur} of budget"))
        for d, (unit, worth) in sorted(fleet_worth.get((j, k), {}).items(),
                                       key=lambda kv: -kv[1][1])[:SPACE_SHOWN]:
            lines.append(("binding", f"the fleet at {d} is fully used ({unit})", worth,
                          f"{cur} per {unit}"))
        full = sorted((g for g in gs if g in space_worth), key=lambda g: -space_worth[g])
        for i, g in enumerate(full[:SPACE_SHOWN], start=1):
            more = len(full) - SPACE_SHOWN if i == SPACE_SHOWN else 0
            lines.append(("binding", f"space at {data.gov_ids[g]} is full"
                          + (f" (and at {more} more warehouses that can serve it)" if more > 0
                             else ""), space_worth[g], f"{cur}/m3"))
        # nothing binds where a source reaches it: it does not pay to avoid
        if all(r == "structure" for r, *_ in lines) and cut.sum() < dem.sum():
            short = (w[:, j, k] > _SHORT_EPS)
            p_short = float(P[short].sum())
            pen = float(data.penalty[k])
            lines.append(("cost", f"one more unit costs {data.purchase[k]:,.2f} {cur} to buy "
                          f"and {data.holding[k]:,.2f} {cur} a scenario to hold unused, more "
                          f"than the expected penalty it would avoid: {pen:,.2f} {cur}/unit x "
                          f"probability {p_short:.3g} of the scenarios short = "
                          f"{pen * p_short:,.2f} {cur}/unit", pen * p_short, f"{cur}/unit"))
        out += [ShortageReason(rid[j], kid[k], e, r, d, wv, u) for r, d, wv, u in lines]
    return tuple(out), budget_use, note


def _new_spending(data: PlacementData, res: SolveResult) -> float:
    """First-stage spending the budget counts: fixed costs, purchases, new retainers."""
    y = res.value("open")
    buy = np.maximum(res.value("buy"), 0.0)
    u = res.value("sign")
    unsigned = ~data.con_signed
    hire = res.value("hire")
    offers = [v.retainer * h for v, h in zip(data.instance.fleet, hire, strict=True)
              if not v.signed]
    return float((data.size_cost @ y if y.size else 0.0)
                 + (buy * data.purchase[None, :]).sum()
                 + (data.con_retainer[unsigned] @ u[unsigned] if u.size else 0.0)
                 + sum(offers))


# kg rows count each unit's load weight (reserve_opt.fleet.load_kg), so say so
_FLEET_ROWS = (("fleet_kg_h", "load-weight kg x h"), ("fleet_m3_h", "m3 x h"),
               ("fleet_kg", "load-weight kg"), ("fleet_m3", "m3"))


def _fleet_worth(data: PlacementData, lp: SolveResult, pairs: set[tuple[int, int]],
                 ) -> dict[tuple[int, int], dict[str, tuple[str, float]]]:
    """Per short (region, commodity): fleets that carry to it and bind, with their worth.

    A fleet row of scenario s and depot d binds for (j, k) when a flow candidate of s on
    d's vehicles reaches j with k; its worth is the largest dual over such scenarios (what
    one more unit of that row lowers the expected cost by), the tightest unit kept.
    """
    if "fleet_kg_h" not in lp.con_blocks:
        return {}
    depots = tuple(depot_capacity(data.instance, 24.0, 1))
    f_depot = flow_depots(data, depots)
    D = len(depots)
    out: dict[tuple[int, int], dict[str, tuple[str, float]]] = {}
    for name, unit in _FLEET_ROWS:
        dual = -lp.dual(name).reshape(-1)  # (S * D,), rows s * D + d
        for f in np.flatnonzero(f_depot >= 0):
            key = (int(data.f_j[f]), int(data.unit_k[data.f_u[f]]))
            if key not in pairs:
                continue
            worth = float(dual[data.f_s[f] * D + f_depot[f]])
            if worth > _DUAL_EPS:
                d = depots[f_depot[f]]
                have = out.setdefault(key, {}).get(d)
                if have is None or worth > have[1]:
                    out[key][d] = (unit, worth)
    return out
