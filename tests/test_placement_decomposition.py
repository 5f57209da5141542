"""Placement by scenario decomposition (issue 16): same plans as the extensive form.

Each bundled instance where the decomposition applies is solved both ways; the two answers
agree within the requested gap and the independent checker passes on the decomposition's
plan. Where it does not apply (agreements, fleets, service level, CVaR), the refusal is
one exact line. Limits are iterations and gaps, never seconds.
"""

from __future__ import annotations

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
from reserve_opt.models.placement.model import prepare
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
    # each proven: the other's plan lies above its bound
    assert dec.bound <= ext.objective * (1 + 1e-9)
    assert ext.bound <= dec.objective * (1 + 1e-9)
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
    (PlacementOptions(sharing="agreements", fleet_limits=False),
     "sharing 'agreements' (caps and protect_own surpluses, whose rows need binaries per "
     "scenario) is not in the decomposition; use --sharing pooled or --method extensive"),
    (PlacementOptions(sharing="pooled"),
     "fleet limits (the instance's fleet table) join every commodity of a scenario, which "
     "the decomposition does not split; use --method extensive"),
    (PlacementOptions(sharing="pooled", fleet_limits=False, service_level=0.9),
     "--service-level links every scenario's shortage in one row, which the decomposition "
     "does not split; use --method extensive"),
    (PlacementOptions(sharing="pooled", fleet_limits=False, risk_weight=0.5),
     "--risk-weight (CVaR) is not in the decomposition; use --method extensive"),
])
def test_unsupported_options_are_refused_in_one_line(options: PlacementOptions,
                                                     reason: str) -> None:
    with pytest.raises(InputError) as err:
        solve_decomposition(load_instance(ROOT / "toy"), options)
    assert str(err.value) == f"--method decomposition: {reason}."


@pytest.mark.parametrize("name", ["georgia", "liaoning"])
def test_plan_refuses_the_decomposition_for_agreement_instances(name: str) -> None:
    res = run_cli("plan", str(ROOT / name), "--method", "decomposition")
    assert res.exit_code == 1
    assert res.stderr.strip() == (
        "error: --method decomposition: sharing 'agreements' (caps and protect_own "
        "surpluses, whose rows need binaries per scenario) is not in the decomposition; use "
        "--sharing pooled or --method extensive.")
    res = run_cli("plan", str(ROOT / name), "--method", "decomposition", "--sharing", "pooled")
    assert res.exit_code == 1
    assert res.stderr.strip() == (
        "error: --method decomposition: fleet limits (the instance's fleet table) join every "
        "commodity of a scenario, which the decomposition does not split; use --method "
        "extensive.")


def test_plan_says_which_method_ran(tmp_path: Path) -> None:
    inst = placement_instance(40, 10, 2, 8, seed=3)
    path = save_instance(inst, tmp_path / "inst")
    res = run_cli("plan", str(path), "--method", "decomposition", "--workers", "1",
                  "--gap", "1e-3", "--format", "json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["method"] == "decomposition (asked for (--method decomposition))"
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
     "because sharing 'agreements' (caps and protect_own surpluses, whose rows need "
     "binaries per scenario) is not in the decomposition; add --method decomposition or "
     "drop them"),
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
