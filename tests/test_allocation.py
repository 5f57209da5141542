"""Event allocation: a hand-computed toy case, tiers, caps, protect_own, production timing,
fleet limits and priorities, fairness, explanations, and the checker on every result."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reserve_opt.domain import Instance, Scenario
from reserve_opt.errors import InputError
from reserve_opt.fleet import charged_trip_h
from reserve_opt.io import load_instance
from reserve_opt.models.allocation import (
    AllocationOptions,
    AllocationResult,
    check_allocation,
    read_event,
    solve_allocation,
)

INSTANCES = Path(__file__).resolve().parents[1] / "instances"


@pytest.fixture(scope="module")
def toy() -> Instance:
    return load_instance(INSTANCES / "toy")


def checked(inst: Instance, event: str | Scenario, opts: AllocationOptions | None = None,
            **kw: object) -> AllocationResult:
    res = solve_allocation(inst, event, opts, **kw)  # type: ignore[arg-type]
    assert res.status.value == "optimal", res.message
    report = check_allocation(inst, event, res)
    assert report.ok, report.violations
    return res


def totals(res: AllocationResult) -> dict[tuple[str, str, str, int], float]:
    g = res.flows.groupby(["source", "region", "commodity", "tier"])["quantity"].sum()
    return {k: round(float(v), 6) for k, v in g.items()}


def test_toy_typhoon_matches_the_hand_computed_allocation(toy: Instance) -> None:
    """Typhoon at Seaside, 3 days of 24 h, default options.

    Demand. Water is a consumable (2 bottles per person-day), so the 12,000 bottles Seaside
    needs over the 3-day event are spread evenly: 4,000 a day; Rivermouth's 6,000 -> 2,000
    a day. Tents are durable and all needed on day 1: Seaside 300, Rivermouth 100.

    Supply. Northtown's depot W_north holds 20,000 water and 800 tents (no damage). The
    Rivermouth supermarket contract C_water holds 10,000 water for Rivermouth, released
    after 12 h at 2.5 CNY a bottle. The tent works contract is not signed; the Seaside
    candidate depot is not built. Seaside holds nothing.

    Who may serve whom. Northtown is the parent of both counties (tier 3, no agreement,
    no compensation). A_north_sea lets Northtown lend to Seaside at tier 1: 8,000 units of
    each commodity at most, 0.5 CNY a unit, 2 h delay, protect_own (Northtown's own need in
    this event is 0, so its whole stock is surplus).

    Levels. (1) No shortage is possible: Seaside gets 8,000 water on tier 1 and the other
    4,000 from its parent; Rivermouth's contract water leaves at 12 h and arrives within
    day 1; tents come from Northtown. (2) Tier 3 as low as possible: Seaside's water beyond
    the 8,000 cap (4,000) and Rivermouth's 100 tents have no other source -> 4,100.
    Rivermouth's water then must come from its own contract (tier 0). (3) Tier 1 given
    that: 8,000 water + 300 tents = 8,300. (4) Cost picks days and is checked independently.

    Settlement. Seaside owes Northtown 8,300 x 0.5 = 4,150 CNY under A_north_sea;
    Rivermouth owes the supermarket 6,000 x 2.5 = 15,000 CNY; the parent's help is free.
    """
    res = checked(toy, "typhoon")
    assert totals(res) == {
        ("S_river", "river", "water", 0): 6000.0,
        ("W_north", "river", "tent", 3): 100.0,
        ("W_north", "sea", "tent", 1): 300.0,
        ("W_north", "sea", "water", 1): 8000.0,
        ("W_north", "sea", "water", 3): 4000.0,
    }
    levels = {lv.name: lv.value for lv in res.levels}
    assert levels["shortage_p1"] == pytest.approx(0.0, abs=1e-6)
    assert levels["shortage_p2"] == pytest.approx(0.0, abs=1e-6)
    assert levels["tier3"] == pytest.approx(4100.0)
    assert levels["tier1"] == pytest.approx(8300.0)
    fill = res.fill.set_index(["period", "region", "commodity"])
    assert fill.loc[(1, "sea", "water"), "demand"] == pytest.approx(4000.0)
    assert fill.loc[(2, "river", "water"), "cum_demand"] == pytest.approx(4000.0)
    assert fill.loc[(1, "sea", "tent"), "demand"] == pytest.approx(300.0)
    assert fill.loc[(2, "sea", "tent"), "demand"] == pytest.approx(0.0)
    assert res.total_shortage() == {"water": 0.0, "tent": 0.0}
    assert res.fill_rate == pytest.approx(1.0)
    owed = {(o["debtor"], o["creditor"], o["kind"]): (o["units"], o["amount"])
            for o in res.settlement_totals()}
    assert owed == {("sea", "north", "agreement"): pytest.approx((8300.0, 4150.0)),
                    ("river", "S_river", "contract"): pytest.approx((6000.0, 15000.0))}
    assert res.costs()["contract_prices"] == pytest.approx(15000.0)
    assert res.costs()["compensation_transfer"] == pytest.approx(4150.0)
    # the supermarket's water is released at 12 h: it can never be in the first hour
    river_water = res.flows[(res.flows["source"] == "S_river")]
    assert (river_water["depart_h"] >= 12.0).all()
    assert res.response.set_index("region")["met"].all()
    assert res.explanations.empty


def test_without_parent_help_the_cap_binds_and_is_worth_one_unit_period(toy: Instance) -> None:
    res = checked(toy, "typhoon", AllocationOptions(parent_serves=False))
    short = res.total_shortage()
    # Seaside: 12,000 water, at most 8,000 under the cap; Rivermouth: no tent anywhere it may
    # draw from
    assert short == {"water": pytest.approx(4000.0), "tent": pytest.approx(100.0)}
    levels = {lv.name: lv.value for lv in res.levels}
    # 4,000 bottles short on day 3 only (20 CNY each); 100 tents short all 3 days (6,000 each)
    assert levels["shortage_p1"] == pytest.approx(20.0 * 4000.0)
    assert levels["shortage_p2"] == pytest.approx(6000.0 * 100.0 * 3)
    ex = res.explanations.set_index(["region", "commodity"])
    cap = ex.loc[("sea", "water")]
    assert cap["reason"] == "binding" and cap["method"] == "dual"
    assert cap["detail"] == "cap of agreement A_north_sea on north -> sea (water)"
    # one more unit of cap avoids one bottle short for one day
    assert cap["worth"] == pytest.approx(1.0)
    assert ex.loc[("river", "tent"), "detail"] == (
        "river holds no tent and no agreement or parent region lets a region holding it lend "
        "to river")


def test_protect_own_lends_only_the_surplus(toy: Instance) -> None:
    event = Scenario(id="twin", name="twin", probability=1.0, days=1.0,
                     demand={("north", "water"): 4000.0, ("sea", "water"): 4000.0})
    res = checked(toy, event, AllocationOptions(parent_serves=False),
                  stock={("W_north", "water"): 5000.0})
    fin = res.final().set_index(["region", "commodity"])
    assert fin.loc[("north", "water"), "delivered"] == pytest.approx(4000.0)
    assert fin.loc[("sea", "water"), "delivered"] == pytest.approx(1000.0)
    ex = res.explanations.set_index(["region", "commodity"])
    assert ex.loc[("sea", "water"), "detail"] == (
        "north's surplus of water over its own need (protect_own)")


def test_production_arrives_after_lead_time_at_its_daily_rate(toy: Instance) -> None:
    # sign the tent works: 100 tents a day after a 48 h lead time, at most 600
    signed = tuple(dataclasses.replace(c, signed=True) for c in toy.contracts)
    inst = dataclasses.replace(toy, contracts=signed)
    res = checked(inst, "snow", AllocationOptions(periods=5, parent_serves=False))
    tents = res.fill[(res.fill["region"] == "hill") & (res.fill["commodity"] == "tent")]
    # produced by the end of day 3: 100, day 4: 200; each day's output leaves at its end
    # and (3 km away) arrives the next day: 100 on day 4, 50 more on day 5
    assert tents["cum_delivered"].round(6).tolist() == [0.0, 0.0, 0.0, 100.0, 150.0]
    assert tents["shortage"].round(6).tolist() == [150.0, 150.0, 150.0, 50.0, 0.0]


def test_fleet_limits_serve_water_before_tents(toy: Instance) -> None:
    small = (dataclasses.replace(toy.fleet[0], count=1, capacity_kg=1000.0, max_hours=2.0),)
    inst = dataclasses.replace(toy, fleet=small)
    res = checked(inst, "snow", AllocationOptions(periods=1))
    fin = res.final().set_index(["region", "commodity"])
    # every kg x h of the only truck goes to water (priority 1); tents (2) get none
    assert fin.loc[("hill", "tent"), "delivered"] == pytest.approx(0.0)
    assert fin.loc[("hill", "water"), "shortage"] > 0
    f = res.flows
    # each load is charged the 2 h day over the whole round trips that fit it
    charged = charged_trip_h(np.full(len(f), 2.0), f["depart_h"].to_numpy(),
                             f["time_h"].to_numpy(), 1.0)
    used = (f["quantity"] * 1.6 * charged).sum()
    assert used == pytest.approx(1000.0 * 2.0)
    reasons = set(res.explanations["detail"])
    assert "fleet at W_north (load weight x hours)" in reasons


def test_fairness_lifts_the_lowest_fill_rate(toy: Instance) -> None:
    event = Scenario(id="both", name="both", probability=1.0, days=1.0,
                     demand={("river", "water"): 4000.0, ("sea", "water"): 4000.0})
    stock = {("W_north", "water"): 5000.0}
    # without the supermarket's water, Northtown's 5,000 bottles are all there is for 8,000
    # bottles of need: max-min gives each county 5,000 / 8,000 of its need
    no_contract = dataclasses.replace(toy, contracts=())
    res = checked(no_contract, event, AllocationOptions(fairness=True, periods=1), stock=stock)
    fin = res.final().set_index("region")
    assert res.min_fill_rate == pytest.approx(0.625)
    assert res.fill_rate == pytest.approx(0.625)
    assert fin.loc["river", "delivered"] == pytest.approx(2500.0)
    assert fin.loc["sea", "delivered"] == pytest.approx(2500.0)


def test_outage_explained_by_re_solve(toy: Instance) -> None:
    # Seaside can only be reached over the cut Rivermouth-Seaside road in this variant:
    # the region graph is made of links, and the only link to Seaside is cut
    from reserve_opt.domain import Link, Outage

    links = (Link("north", "river"), Link("river", "sea"), Link("north", "hill"))
    inst = dataclasses.replace(toy, links=links)
    event = Scenario(id="cut", name="cut", probability=1.0, days=1.0,
                     demand={("sea", "water"): 1000.0},
                     outages=(Outage("river", "sea", 0.0),))
    res = checked(inst, event, AllocationOptions(periods=1))
    ex = res.explanations.set_index(["region", "commodity", "reason"])
    assert ex.loc[("sea", "water", "no_route"), "detail"].startswith(
        "every source allowed to serve sea with water is cut off")
    link = ex.loc[("sea", "water", "outage")]
    assert link["detail"] == "link river - sea cut or slowed in this event"
    assert link["method"] == "re-solve"
    assert link["worth"] == pytest.approx(1000.0)


def test_every_bundled_scenario_passes_the_checker_with_both_solver_families() -> None:
    liaoning = load_instance(INSTANCES / "liaoning")
    for sc in ("typhoon_east", "compound_west"):
        a = checked(liaoning, sc)
        b = checked(liaoning, sc, solver="pulp-cbc")
        # CBC prints 8 significant digits per value: a shortage level of 0 may come back
        # as a few CNY x periods (thousandths of a bottle late)
        for la, lb in zip(a.levels, b.levels, strict=True):
            assert la.name == lb.name
            assert la.value == pytest.approx(lb.value, rel=1e-6, abs=10.0)


def test_event_file_round_trip_and_errors(toy: Instance, tmp_path: Path) -> None:
    good = tmp_path / "storm.toml"
    good.write_text('id = "storm"\ndays = 2\n[affected]\nsea = 1000\n[damage]\nW_north = 0.5\n'
                    '[[outages]]\nfrom = "river"\nto = "sea"\n')
    ev = read_event(good, toy)
    assert ev.days == 2.0 and ev.damage == {"W_north": 0.5}
    res = checked(toy, ev)
    # 1,000 persons x 2 bottles x 2 days
    assert res.final()["demand"].sum() == pytest.approx(4000.0)
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\n[affected]\nmoon = 5\n[damage]\nW_north = 1.5\n')
    with pytest.raises(InputError) as err:
        read_event(bad, toy)
    assert err.value.problems == (
        f"{bad}: affected names region 'moon', which is not in the instance; use a region id "
        "from regions.",
        f"{bad}: damage['W_north'] (surviving share) is 1.5; give a number from 0 to 1.",
    )


def test_unknown_scenario_is_one_sentence(toy: Instance) -> None:
    with pytest.raises(InputError) as err:
        solve_allocation(toy, "meteor")
    assert err.value.problems == (
        "Scenario 'meteor' is not in instance 'toy'; choose one of typhoon, flood, snow, or "
        "give an event file with --event.",)


def test_same_input_same_answer(toy: Instance) -> None:
    a = solve_allocation(toy, "typhoon")
    b = solve_allocation(toy, "typhoon")
    pd.testing.assert_frame_equal(a.flows, b.flows)


# --- a solve stopped by its time limit says which levels it solved -------------------------

class SlowClock:
    """A machine where reading the clock between levels takes 10 s: with a 25 s limit the
    first two levels start (with 15 s and 5 s left), the third finds none left."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 10.0
        return self.t


def test_a_time_limit_between_levels_reports_the_solved_ones(toy: Instance, monkeypatch) -> None:
    from reserve_opt.models.allocation import solve as allocation_solve
    from reserve_opt.solvers import SolverOptions, SolveStatus

    monkeypatch.setattr(allocation_solve, "_now", SlowClock())
    res = solve_allocation(toy, "typhoon", AllocationOptions(explain=False),
                           solver_options=SolverOptions(time_limit_s=25))
    names = [lv.name for lv in res.levels]
    assert names == ["shortage_p1", "shortage_p2", "tier3", "tier1", "cost"]
    assert [lv.status for lv in res.levels] == ["optimal"] * 2 + ["not_solved"] * 3
    assert [lv.value is None for lv in res.levels] == [False] * 2 + [True] * 3
    assert res.status is SolveStatus.FEASIBLE and res.gap is None
    assert res.solved_levels == ("shortage_p1", "shortage_p2")
    assert res.message == (
        "the time limit ran out before level tier3 started; levels solved: shortage_p1, "
        "shortage_p2; not solved: tier3, tier1, cost; the allocation meets the solved "
        "levels only")
    d = res.to_dict()
    assert d["status"] == "feasible" and d["gap"] is None and d["objective"] is None
    assert d["gap_note"] == "unknown: levels not solved: tier3, tier1, cost"
    assert d["solved_levels"] == ["shortage_p1", "shortage_p2"]
    # what it delivers meets the solved levels: the checker agrees on flows and shortage
    assert check_allocation(toy, "typhoon", res).ok
    assert res.levels[0].value == checked(toy, "typhoon").levels[0].value


def test_no_time_left_for_the_first_level_is_no_solution(toy: Instance, monkeypatch) -> None:
    from reserve_opt.models.allocation import solve as allocation_solve
    from reserve_opt.solvers import SolverOptions, SolveStatus

    monkeypatch.setattr(allocation_solve, "_now", SlowClock())
    res = solve_allocation(toy, "typhoon", AllocationOptions(explain=False),
                           solver_options=SolverOptions(time_limit_s=5))
    assert res.status is SolveStatus.NO_SOLUTION and not res.has_plan and res.gap is None
    assert {lv.status for lv in res.levels} == {"not_solved"} and res.solved_levels == ()
    assert res.message == (
        "the time limit ran out before level shortage_p1 started; levels solved: none; "
        "not solved: shortage_p1, shortage_p2, tier3, tier1, cost")


def test_every_level_solved_is_optimal_with_its_gap(toy: Instance) -> None:
    res = checked(toy, "typhoon")
    assert res.gap == 0.0 and res.message == "" and len(res.solved_levels) == len(res.levels)
    assert "gap_note" not in res.to_dict()
