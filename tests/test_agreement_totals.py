"""Agreements: a lender's total over all the agreement's borrowers (``total_cap_share``,
``total_cap_quantity``) in allocation and placement, and response times that follow the
agreement carrying the units. Every case is small enough to compute by hand."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from reserve_opt import load_instance
from reserve_opt.domain import (
    Agreement,
    Commodity,
    Facility,
    FacilityKind,
    Instance,
    Region,
    Scenario,
    Settings,
    Tier,
)
from reserve_opt.models.allocation import AllocationOptions, check_allocation, solve_allocation
from reserve_opt.models.placement import PlacementOptions, check_placement, solve_placement
from reserve_opt.solvers import SolveStatus
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
GW = FacilityKind.GOVERNMENT_WAREHOUSE
BORROWERS = ("B1", "B2", "B3")


def _alliance(**terms: float) -> Instance:
    """L holds 100 water and needs none; B1-B3 each need 40 and hold none; one alliance.

    The warehouse is full (100 units x 0.01 m3 in 1 m3), so a plan cannot add stock.
    """
    return Instance(
        name="alliance", currency="CNY",
        regions=(Region("L", "L", 1000, 120.0, 40.0, alliance="north"),
                 *(Region(b, b, 1000, 120.0 + 0.05 * (i + 1), 40.0, alliance="north")
                   for i, b in enumerate(BORROWERS))),
        commodities=(Commodity("w", "water", "unit", 1.0, 0.01, 1.0, 100.0,
                               holding_cost=0.0, transport_cost_per_km=0.001),),
        facilities=(Facility("WL", "WL", GW, "L", 120.0, 40.0, capacity_m3=1.0,
                             stock={"w": 100.0}),),
        scenarios=(Scenario("s", "s", 1.0, demand={(b, "w"): 40.0 for b in BORROWERS}),),
        agreements=(Agreement("north", Tier.ALLIANCE, alliance="north", cap_share=0.3,
                              **terms),),
        settings=Settings(),
    )


def _allocated(inst: Instance) -> dict[str, float]:
    """Units each borrower receives in the allocation (checked)."""
    res = solve_allocation(inst, "s")
    assert res.status is SolveStatus.OPTIMAL, res.message
    report = check_allocation(inst, "s", res)
    assert report.ok, report.violations
    got = res.flows.groupby("region")["quantity"].sum()
    return {b: float(got.get(b, 0.0)) for b in BORROWERS}


def _planned(inst: Instance, **opts: object) -> float:
    """Units the plan delivers to the borrowers in all (checked)."""
    res = solve_placement(inst, PlacementOptions(sharing="agreements", **opts))  # type: ignore[arg-type]
    assert res.status is SolveStatus.OPTIMAL
    report = check_placement(inst, res)
    assert report.ok, report.violations
    return sum(f.quantity for f in res.flows if f.region in BORROWERS)


def test_per_borrower_share_gives_each_member_its_share() -> None:
    # 0.3 x 100 = 30 to each of three members: 90 of L's 100 in all
    assert _allocated(_alliance()) == pytest.approx({b: 30.0 for b in BORROWERS})
    assert _planned(_alliance()) == pytest.approx(90.0)


def test_total_share_caps_what_the_lender_gives_in_all() -> None:
    # 0.5 x 100 = 50 in all, each member still at most 30
    inst = _alliance(total_cap_share=0.5)
    got = _allocated(inst)
    assert sum(got.values()) == pytest.approx(50.0)
    assert max(got.values()) <= 30.0 + 1e-9
    assert _planned(inst) == pytest.approx(50.0)
    # a quantity total works the same way, and the tighter of the two applies
    assert sum(_allocated(_alliance(total_cap_quantity=45.0)).values()) == pytest.approx(45.0)
    both = _alliance(total_cap_share=0.5, total_cap_quantity=70.0)
    assert sum(_allocated(both).values()) == pytest.approx(50.0)
    assert _planned(_alliance(total_cap_quantity=45.0)) == pytest.approx(45.0)


def test_the_total_share_counts_stock_left_after_damage() -> None:
    # half of WL's stock is destroyed: 50 left, 0.5 of it = 25 in all (0.3 x 50 = 15 each)
    inst = _alliance(total_cap_share=0.5)
    ev = dataclasses.replace(inst.scenarios[0], damage={"WL": 0.5})
    inst = dataclasses.replace(inst, scenarios=(ev,))
    assert sum(_allocated(inst).values()) == pytest.approx(25.0)
    assert _planned(inst) == pytest.approx(25.0)


def test_checkers_refuse_a_lender_over_its_total() -> None:
    # the 90 units given without a total, checked against the agreement with one
    loose, tight = _alliance(), _alliance(total_cap_share=0.5)
    res = solve_allocation(loose, "s")
    assert check_allocation(loose, "s", res).ok
    assert ("agreement north: L gives 90 w to its borrowers in all, over 0.5 of its 100."
            in check_allocation(tight, "s", res).violations)
    plan = solve_placement(loose, PlacementOptions(sharing="agreements"))
    assert ("L lends 90.000 w in s to B1, B2, B3, but no booking of these units to its "
            "agreements keeps their caps, lender totals, protect_own surplus."
            in check_placement(tight, plan).violations)


def _two_agreements(fast_cap: float) -> Instance:
    """L holds 100 and lends to B1 under a fast agreement (1 h, cap ``fast_cap``) and a
    slow one (20 h, cap 100); B1 (prefecture: 8 h standard) needs 40."""
    inst = _alliance()
    return dataclasses.replace(
        inst, regions=inst.regions[:2],
        scenarios=(Scenario("s", "s", 1.0, demand={("B1", "w"): 40.0}),),
        agreements=(Agreement("fast", Tier.NEIGHBOUR, lender="L", borrower="B1",
                              cap_quantity=fast_cap, delay_h=1.0),
                    Agreement("slow", Tier.NEIGHBOUR, lender="L", borrower="B1",
                              cap_quantity=100.0, delay_h=20.0)))


def test_response_time_follows_the_agreement_carrying_the_units() -> None:
    # 4 h periods: water is needed over the day, so units arriving earlier are worth more
    inst = _two_agreements(fast_cap=10.0)
    opts = AllocationOptions(periods=6, period_h=4.0)
    res = solve_allocation(inst, "s", opts)
    assert check_allocation(inst, "s", res).ok
    travel = float(res.flows["time_h"].iloc[0])
    by = res.flows.groupby("agreement").agg(q=("quantity", "sum"), arrive=("arrive_h", "min"))
    # 10 units under "fast" arrive 1 h + travel after the event, 30 under "slow" 20 h later
    assert by.loc["fast", "q"] == pytest.approx(10.0)
    assert by.loc["slow", "q"] == pytest.approx(30.0)
    assert by.loc["fast", "arrive"] == pytest.approx(1.0 + travel)
    assert by.loc["slow", "arrive"] == pytest.approx(20.0 + travel)
    assert float(res.response["first_arrival_h"].iloc[0]) == pytest.approx(1.0 + travel)
    # the fast agreement carries nothing: the first arrival is the slow one's, standard missed
    none = _two_agreements(fast_cap=0.0)
    res0 = solve_allocation(none, "s")
    assert check_allocation(none, "s", res0).ok
    row = res0.response.iloc[0]
    assert row["first_arrival_h"] == pytest.approx(20.0 + travel)
    assert row["fastest_possible_h"] == pytest.approx(1.0 + travel)
    assert not row["met"]


def test_plan_under_response_times_books_only_timely_agreements() -> None:
    # within 8 h only the fast agreement (cap 10) delivers: 30 short, not 0 as the fastest
    # agreement's delay for all 40 units would say
    assert _planned(_two_agreements(fast_cap=10.0), response_time=True) == pytest.approx(10.0)
    # without response times both agreements carry: 40
    assert _planned(_two_agreements(fast_cap=10.0)) == pytest.approx(40.0)
    # the checker refuses the 40-unit plan when response times apply
    inst = _two_agreements(fast_cap=10.0)
    loose = solve_placement(inst, PlacementOptions(sharing="agreements"))
    timed = dataclasses.replace(loose, options=dataclasses.replace(loose.options,
                                                                   response_time=True))
    assert ("L lends 40.000 w in s to B1, but no booking of these units to its agreements "
            "keeps their caps, lender totals, protect_own surplus and response standards "
            "(each agreement's own delay)." in check_placement(inst, timed).violations)


HEADER = ("id,lender,borrower,alliance,tier,commodities,cap_quantity,cap_share,"
          "total_cap_quantity,total_cap_share,compensation,delay_h,reciprocal,protect_own\n")


@pytest.mark.parametrize(("quantity", "share", "message"), [
    ("", "1.5", "total_cap_share 1.5 is above 1; give a value of at most 1"),
    ("", "half", "total_cap_share 'half' is not a number; give a value as a fraction "
                 "(0.5 is half)"),
    ("-3", "", "total_cap_quantity -3 is below 0; give a value of at least 0 units"),
    ("many", "", "total_cap_quantity 'many' is not a number; give a value in units"),
])
def test_bad_lender_totals_are_refused_with_line_value_and_fix(
        tmp_path: Path, quantity: str, share: str, message: str) -> None:
    inst = tmp_path / "toy"
    shutil.copytree(ROOT / "instances" / "toy", inst)
    (inst / "agreements.csv").write_text(
        HEADER + f"A_north_sea,north,sea,,1,water|tent,8000,,{quantity},{share},0.5,2,true,"
        "true\n", encoding="utf-8")
    result = run_cli("validate", str(inst))
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: agreements.csv line 2 (id 'A_north_sea'): "
                                     + message)


def test_a_lender_total_loads_from_the_agreements_table(tmp_path: Path) -> None:
    inst = tmp_path / "toy"
    shutil.copytree(ROOT / "instances" / "toy", inst)
    (inst / "agreements.csv").write_text(
        HEADER + "A_north_sea,north,sea,,1,water|tent,8000,,5000,0.25,0.5,2,true,true\n",
        encoding="utf-8")
    a = load_instance(inst).agreements[0]
    assert (a.cap_quantity, a.total_cap_quantity, a.total_cap_share) == (8000, 5000, 0.25)


def test_review_reports_the_lender_total_against_its_cap() -> None:
    # the toy event lends 6,000 water north -> sea under A_north_sea (tests/test_review.py)
    from reserve_opt.review import read_actuals, review

    toy = load_instance(ROOT / "instances" / "toy")
    a = toy.agreements[0]
    inst = dataclasses.replace(toy, agreements=(dataclasses.replace(
        a, total_cap_quantity=5000.0),))
    r = review(inst, read_actuals(ROOT / "tests" / "data" / "review" / "toy_event", inst))
    row = r.agreement_use[r.agreement_use["commodity"] == "water"].iloc[0]
    assert (row["units"], row["cap_units"], bool(row["within_cap"]), row["lender_units"],
            row["total_cap_units"], bool(row["within_total_cap"])) == (
        6000, 8000, True, 6000, 5000, False)
    shown = run_cli("review", str(ROOT / "instances" / "toy"),
                    str(ROOT / "tests" / "data" / "review" / "toy_event"))
    assert shown.exit_code == 0 and "within total cap" not in shown.stdout
