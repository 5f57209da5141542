"""Placement is right and speaks the allocation's rules (issue 13, item 0), by hand.

Each case is small enough to solve on paper; every solve passes the independent checker,
and a tampered or wrong plan for the same case is rejected by it with a named reason.
"""

from __future__ import annotations

import pytest

from reserve_opt import InstanceBuilder
from reserve_opt.domain import Instance
from reserve_opt.models.placement import (
    PlacementOptions,
    PlacementResult,
    check_placement,
    solve_placement,
)
from reserve_opt.solvers import SolveStatus

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
