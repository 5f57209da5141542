"""Placement is right and speaks the allocation's rules (issue 13, item 0), by hand.

Each case is small enough to solve on paper; every solve passes the independent checker,
and a tampered or wrong plan for the same case is rejected by it with a named reason.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from reserve_opt import InstanceBuilder, load_instance
from reserve_opt.domain import Instance
from reserve_opt.models.allocation import read_plan, solve_allocation
from reserve_opt.models.placement import (
    PlacementOptions,
    PlacementResult,
    check_placement,
    solve_placement,
)
from reserve_opt.solvers import SolveStatus

ROOT = Path(__file__).resolve().parents[1]
GW = "government_warehouse"


def solve_checked(inst: Instance, opts: PlacementOptions | None = None) -> PlacementResult:
    res = solve_placement(inst, opts or PlacementOptions())
    assert res.status is SolveStatus.OPTIMAL, (res.status, res.message)
    report = check_placement(inst, res)
    assert report.ok, report.violations
    return res


# ---------------------------------------------------------------- 1. the cut and damage


def damaged(candidate: bool) -> Instance:
    """One region, demand 100, a warehouse at its point that keeps half its stock."""
    b = InstanceBuilder("damage", currency="CNY")
    b.add_region("R", population=1000, lon=120.0, lat=40.0)
    b.add_commodity("w", unit="unit", weight_kg=1, volume_m3=0.001, purchase_cost=1,
                    shortage_penalty=10, holding_cost=0, transport_cost_per_km=0)
    if candidate:
        b.add_facility("W", kind=GW, region="R", lon=120.0, lat=40.0, existing=False)
        b.add_size("W", "one", 1000.0, 1.0)
    else:
        b.add_facility("W", kind=GW, region="R", lon=120.0, lat=40.0, capacity_m3=1000.0)
    b.add_scenario("s", probability=1.0)
    b.add_demand("s", "R", "w", 100)
    b.add_damage("s", "W", 0.5)
    return b.build()


def test_damage_cut_keeps_the_true_optimum() -> None:
    # 200 units survive as 100 and cover the demand: 1 fixed + 200 x 1 = 201. Holding 100
    # (as the cut D_k = 100 forced) leaves 50 short: 1 + 100 + 50 x 10 = 601.
    res = solve_checked(damaged(candidate=True))
    assert res.objective == pytest.approx(201.0, rel=1e-9)
    assert res.stock_totals()["w"] == pytest.approx(200.0)
    # an existing warehouse in the same place: no fixed cost, the same stock
    existing = solve_checked(damaged(candidate=False))
    assert existing.objective == pytest.approx(200.0, rel=1e-9)
    assert existing.stock_totals()["w"] == pytest.approx(200.0)


def test_checker_rejects_the_cut_off_plan() -> None:
    inst = damaged(candidate=True)
    res = solve_checked(inst)
    assert res.costs is not None
    wrong = dataclasses.replace(
        res, objective=601.0, bound=601.0, gap=0.0,
        stock=(dataclasses.replace(res.stock[0], added=100.0, total=100.0),),
        flows=(dataclasses.replace(res.flows[0], quantity=50.0),),
        shortages=(dataclasses.replace(res.shortages[0], shortage=50.0, fill_rate=0.5),),
        costs=dataclasses.replace(res.costs, purchase=100.0, shortage=500.0,
                                  cvar_shortage=500.0, cvar_second_stage=500.0))
    assert check_placement(inst, wrong).violations == (
        "Bound 601.000000 is wrong: holding 100.000 more w at W (now 100.000) for the short "
        "regions it serves gives a plan costing 201.000000.",)
    # the same plan with a true bound, but called optimal
    claimed = dataclasses.replace(wrong, bound=201.0, gap=400.0 / 601.0,
                                  status=SolveStatus.OPTIMAL, mip_gap=0.7)
    assert check_placement(inst, claimed).ok  # within the requested gap 0.7
    strict = dataclasses.replace(claimed, mip_gap=1e-4)
    assert check_placement(inst, strict).violations == (
        "Status 'optimal' with gap 0.665557, above the requested gap 0.0001; it is 'feasible'.",
        "Status 'optimal' is wrong: holding 100.000 more w at W (now 100.000) for the short "
        "regions it serves lowers the expected total cost from 601.000000 to 201.000000, "
        "beyond the requested gap 0.0001.")


# ---------------------------------------------------------------- 2. protect_own, parents


def lenders(*, a_stock: float = 100.0, a_room: float = 0.1, purchase: float = 1000.0,
            parent: bool = False) -> Instance:
    """A holds a_stock and needs 70; B needs 80 and only A lends to it (protect_own); N holds
    70 and lends to A. With ``parent``, A is B's parent instead of a lender by agreement."""
    b = InstanceBuilder("protect", currency="CNY")
    b.add_region("A", population=1000, lon=120.0, lat=40.0)
    b.add_region("B", population=1000, lon=120.1, lat=40.0, **({"parent": "A"} if parent else {}))
    b.add_region("N", population=1000, lon=120.2, lat=40.0)
    b.add_commodity("w", unit="unit", weight_kg=1, volume_m3=0.001, purchase_cost=purchase,
                    shortage_penalty=10, holding_cost=0, transport_cost_per_km=0.001)
    b.add_facility("WA", kind=GW, region="A", lon=120.0, lat=40.0, capacity_m3=a_room)
    b.add_facility("WN", kind=GW, region="N", lon=120.2, lat=40.0, capacity_m3=0.07)
    b.add_stock("WA", "w", a_stock)
    b.add_stock("WN", "w", 70)
    if not parent:
        b.add_agreement("AB", tier=1, lender="A", borrower="B", protect_own=True)
    b.add_agreement("NA", tier=1, lender="N", borrower="A", protect_own=True)
    b.add_scenario("s", probability=1.0, days=1)
    b.add_demand("s", "A", "w", 70)
    b.add_demand("s", "B", "w", 80)
    return b.build()


def short_of(res: PlacementResult) -> dict[str, float]:
    return {s.region: round(s.shortage, 6) for s in res.shortages}


def allocated_shortage(inst: Instance, res: PlacementResult, tmp_path: Path) -> dict[str, float]:
    """Allocate the plan's stock the way ``allocate --plan`` does (its solution.json)."""
    path = tmp_path / "solution.json"
    path.write_text(json.dumps(res.to_dict()), encoding="utf-8")
    planned, stock = read_plan(path, inst)
    final = solve_allocation(planned, "s", stock=stock).final()
    return {str(r.region): round(float(r.shortage), 6) for r in final.itertuples()}


@pytest.mark.parametrize("parent", [False, True], ids=["agreement", "parent"])
def test_lender_gives_only_its_surplus_in_plan_and_allocation(parent: bool,
                                                               tmp_path: Path) -> None:
    # A's surplus is 100 - 70 = 30 whatever N sends it: B gets 30 and is 50 short
    inst = lenders(parent=parent)
    res = solve_checked(inst)
    assert short_of(res) == {"A": 0.0, "B": 50.0}
    assert sum(f.quantity for f in res.flows if f.region == "B") == pytest.approx(30.0)
    assert allocated_shortage(inst, res, tmp_path) == {"A": 0.0, "B": 50.0}


def test_checker_rejects_lending_beyond_surplus() -> None:
    # the plan placement used to make: A -> B 80, N -> A 50, A keeps 20, nobody short
    inst = lenders()
    res = solve_checked(inst)
    flows = {(f.source, f.region): f for f in res.flows}
    template = flows[("WA", "B")]
    chain = (dataclasses.replace(template, region="A", quantity=20.0),
             dataclasses.replace(template, quantity=80.0),
             dataclasses.replace(template, source="WN", quantity=50.0))
    wrong = dataclasses.replace(res, flows=chain, shortages=tuple(
        dataclasses.replace(s, shortage=0.0, fill_rate=1.0) for s in res.shortages))
    assert ("A lends 80.000 w in s under protect_own terms or as a parent, more than its "
            "surplus 30.000 (holds 100.000, needs 70.000).") in check_placement(
                inst, wrong).violations


def test_lender_buys_to_cover_itself_before_lending() -> None:
    # A holds 60 < its need 70 and has room for 200: buying 90 (90 x 1) lets it keep 70 and
    # lend 80, so nobody is short; without it 10 + 80 units are short (900). Transport:
    # 80 units x 0.001 x km(A->B). Lending while short (buy 10 or less) is not allowed.
    inst = lenders(a_stock=60.0, a_room=0.2, purchase=1.0)
    res = solve_checked(inst)
    assert res.stock_totals()["w"] == pytest.approx(150.0 + 70.0)
    assert short_of(res) == {"A": 0.0, "B": 0.0}
    assert res.costs is not None and res.costs.purchase == pytest.approx(90.0)


# ---------------------------------------------------------------- 3. risk: E + lambda CVaR


def one_region() -> Instance:
    """Demand 10 (p 0.9) or 100 (p 0.1); a candidate with 10 m3 (100) or 100 m3 (300)."""
    b = InstanceBuilder("risk", currency="CNY")
    b.add_region("A", population=1000, lon=120.0, lat=40.0)
    b.add_commodity("w", unit="unit", weight_kg=1, volume_m3=1.0, purchase_cost=10,
                    shortage_penalty=50, holding_cost=0, transport_cost_per_km=0)
    b.add_facility("WA", kind=GW, region="A", lon=120.0, lat=40.0, existing=False)
    b.add_size("WA", "small", 10.0, 100.0)
    b.add_size("WA", "large", 100.0, 300.0)
    for sid, p, d in (("low", 0.9, 10.0), ("high", 0.1, 100.0)):
        b.add_scenario(sid, probability=p)
        b.add_demand(sid, "A", "w", d)
    return b.build()


@pytest.mark.parametrize(("lam", "stock", "objective"), [
    # small, 10 units: 200 + E[Q] 0.1 x 90 x 50 = 450, CVaR_0.9(Q) = Q_high = 4,500
    (0.0, 10.0, 650.0), (0.05, 10.0, 650.0 + 0.05 * 4500.0),
    # a unit above 10 costs 10, saves 0.1 x 50 in E[Q] and 50 x lambda in CVaR: worth it
    # for lambda > 0.1; large, 100 units: 300 + 1,000, no shortage left
    (1.0, 100.0, 1300.0)])
def test_risk_term_by_hand(lam: float, stock: float, objective: float) -> None:
    res = solve_checked(one_region(), PlacementOptions(risk_weight=lam, cvar_level=0.9))
    assert res.stock_totals()["w"] == pytest.approx(stock)
    assert res.objective == pytest.approx(objective, rel=1e-9)
    assert res.costs is not None
    assert res.costs.objective(lam) == pytest.approx(objective, rel=1e-9)


def scenario_costs(inst: Instance, res: PlacementResult) -> dict[str, float]:
    """Second-stage cost of each scenario from the plan's lines, by a plain loop."""
    comm = {c.id: c for c in inst.commodities}
    out = {s.id: 0.0 for s in inst.scenarios}
    shipped: dict[tuple[str, str, str], float] = {}
    for f in res.flows:
        out[f.scenario] += f.quantity * (f.unit_cost + f.unit_price)
        if f.contract is None:
            key = (f.scenario, f.source, f.commodity)
            shipped[key] = shipped.get(key, 0.0) + f.quantity
    for sc in inst.scenarios:
        for line in res.stock:
            left = sc.surviving(line.facility) * line.total - shipped.get(
                (sc.id, line.facility, line.commodity), 0.0)
            out[sc.id] += comm[line.commodity].holding_cost * left
    for s in res.shortages:
        out[s.scenario] += comm[s.commodity].shortage_penalty * s.shortage
    return out


def tail_mean(costs: dict[str, float], probs: dict[str, float], beta: float) -> float:
    """Mean of the worst 1 - beta of the distribution: fill the tail from the top."""
    left, total = 1.0 - beta, 0.0
    for sid in sorted(costs, key=costs.__getitem__, reverse=True):
        take = min(probs[sid], left)
        total += take * costs[sid]
        left -= take
        if left <= 1e-12:
            break
    return total / (1.0 - beta)


def test_risk_weight_one_on_the_toy_keeps_money_in_view() -> None:
    inst = load_instance(ROOT / "instances" / "toy")
    neutral = solve_checked(inst)
    averse = solve_checked(inst, PlacementOptions(risk_weight=1.0))
    assert neutral.costs is not None and averse.costs is not None
    # the toy's plan is never short, so more stock only adds holding to every scenario's
    # cost: the risk-averse plan is the risk-neutral one (it once bought 750,000 water)
    assert averse.stock_totals() == pytest.approx(neutral.stock_totals())
    assert averse.costs.total == pytest.approx(neutral.costs.total, rel=1e-9)
    q = scenario_costs(inst, averse)
    probs = {s.id: s.probability for s in inst.scenarios}
    by_loop = tail_mean(q, probs, 0.9)
    assert averse.costs.cvar_second_stage == pytest.approx(by_loop, rel=1e-9)
    assert averse.objective == pytest.approx(averse.costs.total + by_loop, rel=1e-9)


def test_checker_rejects_the_old_risk_objective() -> None:
    inst = one_region()
    res = solve_checked(inst, PlacementOptions(risk_weight=0.05))
    assert res.costs is not None
    old = 0.95 * res.costs.total + 0.05 * res.costs.cvar_shortage  # 842.5, not 875
    wrong = dataclasses.replace(res, objective=old, bound=old)
    assert ("Objective 842.500000 differs from the recomputed E[cost] + 0.05 x "
            "CVaR_0.9(second-stage cost) 875.000000.") in check_placement(inst,
                                                                           wrong).violations


# ---------------------------------------------------------------- 4. the solver's claims


def test_checker_holds_status_bound_and_gap_to_account() -> None:
    inst = damaged(candidate=True)
    res = solve_checked(inst)
    assert res.mip_gap == 0.0

    def found(**changes: object) -> tuple[str, ...]:
        return check_placement(inst, dataclasses.replace(res, **changes)).violations  # type: ignore[arg-type]

    assert found(bound=250.0) == (
        "Bound 250.000000 is above the objective 201.000000; when minimising, the bound is at "
        "most the objective.",
        "Gap 0 does not match objective 201.000000 and bound 250.000000 (|objective - bound| "
        "/ |objective| = 0.243781).",
        "Status 'optimal' with gap 0.243781, above the requested gap 0; it is 'feasible'.",
        "Bound 250.000000 is above the plan's recomputed expected total cost 201.000000; a "
        "lower bound cannot exceed a plan's cost.")
    assert found(bound=150.0) == (
        "Gap 0 does not match objective 201.000000 and bound 150.000000 (|objective - bound| "
        "/ |objective| = 0.253731).",
        "Status 'optimal' with gap 0.253731, above the requested gap 0; it is 'feasible'.")
    assert found(bound=150.0, gap=51.0 / 201.0, status=SolveStatus.FEASIBLE) == ()
    assert found(status=SolveStatus.INFEASIBLE) == (
        "Status 'infeasible' carries no plan, yet the result has one.",)
    unknown = check_placement(inst, dataclasses.replace(res, mip_gap=None))
    assert unknown.ok and unknown.warnings == (
        "Status 'optimal' with gap 0; the requested gap is unknown, so it cannot be "
        "confirmed.",)
