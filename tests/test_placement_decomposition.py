"""Placement by scenario decomposition (issue 16): same plans as the extensive form.

Each bundled instance where the decomposition applies is solved both ways; the two answers
agree within the requested gap and the independent checker passes on the decomposition's
plan. Where it does not apply (service level, CVaR), the refusal is
one exact line. Limits are iterations and gaps, never seconds.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from dask.distributed import Client

from reserve_opt.domain import Instance
from reserve_opt.errors import InputError
from reserve_opt.io import load_instance, save_instance
from reserve_opt.models.placement import PlacementOptions, check_placement, solve_placement
from reserve_opt.models.placement.decomposition import (
    cut_groups,
    lp_engine,
    make_blocks,
    solve_decomposition,
)
from reserve_opt.models.placement.model import build_model, prepare
from reserve_opt.solvers import SolverOptions, SolveStatus
from reserve_opt.synthetic import placement_instance
from reserve_opt.variants.sweep import dask_client
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1] / "instances"
POOLED = PlacementOptions(sharing="pooled", fleet_limits=False, explain_shortages=False)
ENGINES = ["linprog"] + (["highspy"] if lp_engine("auto") == "highspy" else [])


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with dask_client(1, None) as c:
        yield c


def _agree(inst: Instance, gap: float, client: Client, engine: str = "auto",
           options: PlacementOptions = POOLED, clusters: int | None = None) -> None:
    sopts = SolverOptions(mip_gap=gap)
    ext = solve_placement(inst, options, solver_options=sopts)
    dec = solve_decomposition(inst, options, sopts, client=client, engine=engine,
                              clusters=clusters)
    assert ext.status is SolveStatus.OPTIMAL and dec.status is SolveStatus.OPTIMAL
    assert ext.objective is not None and dec.objective is not None
    assert dec.bound is not None and ext.bound is not None
    # each proven: the other's plan lies above its bound, up to the LP solvers' feasibility
    # tolerance (1e-7 in HiGHS, scipy's too): a cut from duals that exact is off by ~5e-8
    # relative on Liaoning with scipy's linprog
    assert dec.bound <= ext.objective * (1 + 1e-6)
    assert ext.bound <= dec.objective * (1 + 1e-6)
    assert abs(dec.objective - ext.objective) <= gap * max(dec.objective, ext.objective)
    assert dec.gap is not None and dec.gap <= gap
    report = check_placement(inst, dec)
    assert report.ok, report.violations
    assert "method decomposition" in dec.message


@pytest.mark.parametrize("engine", ENGINES)
def test_toy_pooled_agrees_with_the_extensive_form(client: Client, engine: str) -> None:
    _agree(load_instance(ROOT / "toy"), 1e-6, client, engine)


def test_response_time_and_budget_work_in_the_decomposition(client: Client) -> None:
    # response time only removes flow candidates; the budget is a first-stage row
    options = PlacementOptions(sharing="pooled", fleet_limits=False, explain_shortages=False,
                               response_time=True, budget=5_000_000.0)
    _agree(placement_instance(40, 10, 2, 8, seed=3), 1e-6, client, options=options)


def test_rawls_turnquist_agrees_at_a_loose_gap(client: Client) -> None:
    _agree(load_instance(ROOT / "rawls-turnquist"), 2e-2, client)


def test_synthetic_placement_agrees_with_contract_free_candidates(client: Client) -> None:
    _agree(placement_instance(40, 10, 2, 8, seed=3), 1e-3, client)


@pytest.mark.parametrize("clusters", [1, 3])
def test_aggregated_cuts_agree_with_the_extensive_form(client: Client, clusters: int) -> None:
    # one theta per commodity (single cut) or per 3 scenario clusters and commodity
    _agree(placement_instance(40, 10, 2, 8, seed=3), 1e-3, client, clusters=clusters)


def test_cut_groups_cluster_scenarios_per_commodity() -> None:
    inst = placement_instance(40, 10, 2, 8, seed=3)
    data = prepare(inst, POOLED)
    blocks = make_blocks(data)
    assert cut_groups(data, blocks).tolist() == list(range(len(blocks)))
    groups = cut_groups(data, blocks, 3)
    assert int(groups.max()) + 1 <= 3 * 2
    for t in set(groups.tolist()):  # a group never mixes commodities
        assert len({b.k for b, g in zip(blocks, groups, strict=True) if g == t}) == 1
    with pytest.raises(InputError, match=r"^cut groups 0: give at least 1 scenario cluster$"):
        cut_groups(data, blocks, 0)


def test_iteration_limit_keeps_bound_and_incumbent_honest(client: Client) -> None:
    inst = placement_instance(40, 10, 2, 8, seed=3)
    res = solve_decomposition(inst, POOLED, SolverOptions(mip_gap=1e-6), client=client,
                              max_iterations=3)
    assert res.status in (SolveStatus.FEASIBLE, SolveStatus.NO_SOLUTION)
    if res.objective is not None:
        assert res.bound is not None and res.bound <= res.objective
        assert check_placement(inst, res).ok


@pytest.mark.parametrize(("options", "reason"), [
    (PlacementOptions(sharing="pooled", fleet_limits=False, service_level=0.9),
     "--service-level links every scenario's shortage in one row, which the decomposition "
     "does not split; use --method extensive"),
])
def test_unsupported_options_are_refused_in_one_line(options: PlacementOptions,
                                                     reason: str) -> None:
    with pytest.raises(InputError) as err:
        solve_decomposition(load_instance(ROOT / "toy"), options)
    assert str(err.value) == f"--method decomposition: {reason}."


AGREEMENTS = PlacementOptions(explain_shortages=False)  # the instance's agreements and fleet


@pytest.mark.parametrize("name", ["georgia", "liaoning"])
def test_bundled_instances_agree_with_the_extensive_form(client: Client, name: str) -> None:
    # agreements (share caps, protect_own surpluses, parents' surplus, delays) and fleet
    # limits: the instance as it ships
    inst = load_instance(ROOT / name)
    _agree(inst, 1e-4, client, options=AGREEMENTS)
    # a fleet row joins the commodities: one block per scenario with demand, and the
    # protect_on binaries are master columns, with the fleet's hires
    data = prepare(inst, AGREEMENTS)
    blocks = make_blocks(data, AGREEMENTS)
    assert [b.s for b in blocks] == [s for s in range(data.shape[0])
                                     if data.demand[s].sum() > 0]
    assert all(b.k == -1 and b.rows is not None for b in blocks)
    model, _ = build_model(data, AGREEMENTS)
    assert blocks.extra is not None
    assert blocks.extra.n == len(inst.fleet) + model.var_blocks["protect_on"].size > len(
        inst.fleet)


@pytest.mark.parametrize("engine", ENGINES)
def test_toy_with_agreements_and_fleet_agrees(client: Client, engine: str) -> None:
    _agree(load_instance(ROOT / "toy"), 1e-6, client, engine, options=AGREEMENTS)
    _agree(load_instance(ROOT / "toy"), 1e-6, client, engine,
           options=PlacementOptions(explain_shortages=False, fleet_limits=False,
                                    parent_serves=False))


def test_liaoning_response_time_and_budget_agree(client: Client) -> None:
    # response time drops the flows (agreement delays count) the budget binds
    options = PlacementOptions(explain_shortages=False, response_time=True, budget=200_000.0)
    _agree(load_instance(ROOT / "liaoning"), 1e-4, client, options=options)


@pytest.mark.slow
def test_liaoning_agreements_without_fleet_agree_per_scenario_and_commodity(
        client: Client) -> None:
    options = PlacementOptions(explain_shortages=False, fleet_limits=False)
    inst = load_instance(ROOT / "liaoning")
    blocks = make_blocks(prepare(inst, options), options)
    assert all(b.k >= 0 for b in blocks)
    _agree(inst, 1e-4, client, options=options)


# Liaoning's CVaR run takes about 70 s on a quiet machine: run it with -m slow
@pytest.mark.parametrize("name", ["toy", pytest.param("liaoning", marks=pytest.mark.slow)])
def test_cvar_agrees_with_the_extensive_form(client: Client, name: str) -> None:
    # E[cost] + lambda CVaR: eta and the excess per scenario in the master, over the
    # blocks' thetas; the incumbent's CVaR priced from its scenario costs
    inst = load_instance(ROOT / name)
    options = PlacementOptions(explain_shortages=False, risk_weight=0.5, cvar_level=0.8)
    _agree(inst, 1e-4, client, options=options)
    if name == "toy":  # the transportation blocks too
        _agree(inst, 1e-6, client, options=dataclasses.replace(
            options, sharing="pooled", fleet_limits=False))
    # the risk term is in the objective: risk-neutral plans cost less in expectation
    neutral = solve_placement(inst, AGREEMENTS)
    assert neutral.objective is not None
    assert neutral.costs is not None
    averse = solve_decomposition(inst, options, SolverOptions(mip_gap=1e-4), client=client)
    assert averse.objective is not None and averse.objective > neutral.objective


def test_signed_vehicle_retainers_and_offers_count_as_in_the_extensive_form(
        client: Client) -> None:
    # a retainer on the own fleet and a logistics offer the plan may sign: both methods
    # charge the retainer and decide the offer alike, with and without fleet rows
    inst = load_instance(ROOT / "toy")
    own = dataclasses.replace(inst.fleet[0], retainer=500.0)
    offer = dataclasses.replace(inst.fleet[0], id="T_offer", provider="Haulage Ltd",
                                retainer=800.0, signed=False)
    inst = dataclasses.replace(inst, fleet=(own, offer))
    for fleet_limits in (True, False):
        _agree(inst, 1e-6, client, options=PlacementOptions(
            explain_shortages=False, fleet_limits=fleet_limits))


def test_plan_runs_the_decomposition_on_agreement_instances() -> None:
    res = run_cli("plan", str(ROOT / "liaoning"), "--method", "decomposition", "--workers", "1",
                  "--format", "json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["method"] == "decomposition (asked for by --method decomposition)"
    assert doc["status"] == "optimal"


def test_plan_says_which_method_ran(tmp_path: Path) -> None:
    inst = placement_instance(40, 10, 2, 8, seed=3)
    path = save_instance(inst, tmp_path / "inst")
    res = run_cli("plan", str(path), "--method", "decomposition", "--workers", "1",
                  "--gap", "1e-3", "--format", "json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["method"] == "decomposition (asked for by --method decomposition)"
    assert doc["status"] == "optimal"
    assert "iteration 1 (LP): bound" in res.stderr
    res = run_cli("plan", str(path), "--gap", "1e-3", "--top", "1")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.splitlines()[-1] == (
        "method: extensive (chosen by size: 640 flow columns <= 250,000)")


@pytest.mark.parametrize(("args", "message"), [
    (["--method", "bogus"], "error: --method 'bogus': choose extensive or decomposition"),
    (["--method", "decomposition", "--workers", "0"],
     "error: --workers 0: give at least 1 worker process"),
    (["--workers", "2"],
     "error: --workers/--scheduler run the decomposition, but the extensive form was chosen "
     "by size: 15 flow columns <= 250,000; add --method decomposition or drop them"),
    (["--workers", "2", "--service-level", "0.9"],
     "error: --workers/--scheduler run the decomposition, but the extensive form was chosen "
     "because --service-level links every scenario's shortage in one row, which the "
     "decomposition does not split; add --method decomposition or drop them"),
])
def test_plan_method_flags_are_checked(args: list[str], message: str) -> None:
    res = run_cli("plan", str(ROOT / "toy"), *args)
    assert res.exit_code == 1
    assert res.stderr.strip() == message


def test_plan_runs_the_decomposition_on_an_existing_scheduler(tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    path = save_instance(placement_instance(40, 10, 2, 8, seed=3), tmp_path / "inst")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,  # type: ignore[no-untyped-call]
                      dashboard_address=None) as cluster:
        res = run_cli("plan", str(path), "--method", "decomposition", "--scheduler",
                      cluster.scheduler_address, "--gap", "1e-3", "--format", "json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["status"] == "optimal"
    assert "on 1 Dask worker(s)" in doc["message"]


@pytest.mark.parametrize("case", ["total_share", "total_quantity", "timely_booking"])
def test_lender_totals_and_timely_bookings_agree_with_the_extensive_form(
        client: Client, case: str) -> None:
    # the per-lender totals and the response standard's booking rows come from model.py's
    # rows, which the general blocks cut up: the decomposition must give the same plan
    from tests.test_agreement_totals import _alliance, _two_agreements
    agreements = PlacementOptions(sharing="agreements", explain_shortages=False)
    if case == "total_share":
        inst, options = _alliance(total_cap_share=0.5), agreements
    elif case == "total_quantity":
        inst, options = _alliance(total_cap_quantity=45.0), agreements
    else:
        inst = _two_agreements(fast_cap=10.0)
        options = dataclasses.replace(agreements, response_time=True)
    _agree(inst, 1e-6, client, options=options)
