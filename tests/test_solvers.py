"""The solver layer: every available backend on small models with known answers."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from reserve_opt.errors import InputError, SolverError
from reserve_opt.solvers import (
    Model,
    SolverOptions,
    SolveStatus,
    available_solvers,
    get_backend,
    mps_text,
    registered_solvers,
    relative_gap,
    solve,
)

AVAILABLE = available_solvers()
CONTINUOUS_OK = [s for s in AVAILABLE if not get_backend(s).capabilities.integer_only]
DUALS = [s for s in AVAILABLE if get_backend(s).capabilities.supports_lp_duals]


def test_expected_backends_are_registered_and_available() -> None:
    assert set(registered_solvers()) >= {"highs", "scip", "pulp-cbc", "ortools-cbc", "cpsat"}
    # The venv ships all of them; if one disappears we want to know.
    assert set(AVAILABLE) == set(registered_solvers())


def lp_min() -> Model:
    # min 2x + 3y  s.t.  x + y >= 4,  x + 3y >= 6,  x, y >= 0  ->  (3, 1), 9
    # duals by hand: u1 + u2 = 2, u1 + 3 u2 = 3  ->  u = (1.5, 0.5)
    m = Model("lp_min")
    m.add_variables("xy", 2, obj=[2, 3])
    m.add_constraints("cover", sp.csr_matrix([[1.0, 1.0], [1.0, 3.0]]), lb=[4, 6])
    return m


def lp_max() -> Model:
    # max 3x + 2y  s.t.  x + y <= 4,  x + 3y <= 7,  x <= 3  ->  (3, 1), 11 (+ constant 5)
    # duals: binding rows 0 and 2: u0 = 2 (from y), u2 = 3 - 2 = 1, u1 = 0
    m = Model("lp_max", sense="max")
    m.add_variables("xy", 2, obj=[3, 2])
    m.add_constraints("caps", sp.csr_matrix([[1.0, 1.0], [1.0, 3.0], [1.0, 0.0]]), ub=[4, 7, 3])
    m.objective_constant = 5.0
    return m


def mip_max() -> Model:
    # max 5a + 4b + 3c, 2a+3b+c <= 5, 4a+b+2c <= 11, 3a+4b+2c <= 8, integer 0..10 -> 13
    m = Model("mip_max", sense="max")
    m.add_variables("v", 3, ub=10, integer=True, obj=[5, 4, 3])
    m.add_constraints("c", sp.csr_matrix([[2.0, 3, 1], [4, 1, 2], [3, 4, 2]]), ub=[5, 11, 8])
    return m


@pytest.mark.parametrize("solver", CONTINUOUS_OK)
def test_lp_min_optimum(solver: str) -> None:
    r = solve(lp_min(), solver)
    assert r.status is SolveStatus.OPTIMAL
    assert r.objective == pytest.approx(9.0, rel=1e-9)
    assert r.bound == pytest.approx(9.0, rel=1e-6)
    assert r.gap == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(r.value("xy"), [3.0, 1.0], atol=1e-7)
    assert r.solver == solver


@pytest.mark.parametrize("solver", CONTINUOUS_OK)
def test_lp_max_optimum_with_constant(solver: str) -> None:
    r = solve(lp_max(), solver)
    assert r.status is SolveStatus.OPTIMAL
    assert r.objective == pytest.approx(16.0, rel=1e-9)
    np.testing.assert_allclose(r.value("xy"), [3.0, 1.0], atol=1e-7)


@pytest.mark.parametrize("solver", DUALS)
def test_lp_duals_match_hand_values(solver: str) -> None:
    r = solve(lp_min(), solver)
    np.testing.assert_allclose(r.dual("cover"), [1.5, 0.5], atol=1e-7)
    r = solve(lp_max(), solver)
    np.testing.assert_allclose(r.dual("caps"), [2.0, 0.0, 1.0], atol=1e-7)


@pytest.mark.parametrize("solver", [s for s in AVAILABLE if s not in DUALS])
def test_backends_without_duals_return_none(solver: str) -> None:
    model = mip_max()
    r = solve(model, solver)
    assert r.duals is None
    with pytest.raises(InputError, match="no duals"):
        r.dual("c")


@pytest.mark.parametrize("solver", AVAILABLE)
def test_mip_optimum(solver: str) -> None:
    r = solve(mip_max(), solver)
    assert r.status is SolveStatus.OPTIMAL
    assert r.objective == 13.0
    assert r.bound == pytest.approx(13.0, abs=1e-6)
    np.testing.assert_array_equal(r.value("v"), [2.0, 0.0, 1.0])


@pytest.mark.parametrize("solver", CONTINUOUS_OK)
def test_equality_ranged_and_free_rows(solver: str) -> None:
    # max x + 2y, x + y in [1, 2] (ranged), x - y == 0, free row ignored -> x = y = 1, 3
    m = Model("rows", sense="max")
    xy = m.add_variables("xy", 2, obj=[1, 2], ub=5)
    m.add_constraints("ranged", (np.zeros(2), xy, np.ones(2)), lb=1, ub=2)
    m.add_constraints("eq", (np.zeros(2), xy, [1.0, -1.0]), lb=0, ub=0)
    m.add_constraints("free", (np.zeros(2), xy, [7.0, 7.0]))
    r = solve(m, solver)
    assert r.status is SolveStatus.OPTIMAL
    assert r.objective == pytest.approx(3.0)
    np.testing.assert_allclose(r.value("xy"), [1.0, 1.0], atol=1e-7)


def binaries_over_two() -> Model:
    m = Model("infeasible")
    v = m.add_binaries("v", 2, obj=[1, 1])
    m.add_constraints("too_much", (np.zeros(2), v, np.ones(2)), lb=3)
    return m


@pytest.mark.parametrize("solver", AVAILABLE)
def test_infeasible_mip(solver: str) -> None:
    r = solve(binaries_over_two(), solver)
    assert r.status is SolveStatus.INFEASIBLE
    assert r.x is None and r.objective is None and not r.has_solution
    with pytest.raises(InputError, match="without a solution"):
        r.value("v")


@pytest.mark.parametrize("solver", CONTINUOUS_OK)
def test_infeasible_lp(solver: str) -> None:
    m = Model("infeasible_lp")
    v = m.add_variables("v", 2, ub=1)
    m.add_constraints("too_much", (np.zeros(2), v, np.ones(2)), lb=3)
    assert solve(m, solver).status is SolveStatus.INFEASIBLE


@pytest.mark.parametrize("solver", CONTINUOUS_OK)
def test_unbounded_lp(solver: str) -> None:
    m = Model("unbounded", sense="max")
    v = m.add_variables("v", 2, obj=[1, 1])
    m.add_constraints("diff", (np.zeros(2), v, [1.0, -1.0]), ub=3)
    assert solve(m, solver).status is SolveStatus.UNBOUNDED


def multidim_knapsack() -> Model:
    rng = np.random.default_rng(1)
    n, k = 100, 10
    w = rng.integers(1, 1000, size=(k, n))
    p = w.sum(axis=0) // k + rng.integers(1, 500, size=n)
    m = Model("mknap", sense="max")
    m.add_binaries("x", n, obj=p)
    m.add_constraints("cap", sp.csr_matrix(w.astype(float)), ub=w.sum(axis=1) // 2)
    return m


@pytest.mark.parametrize("solver", AVAILABLE)
def test_time_limit_returns_feasible_with_bound_and_gap(solver: str) -> None:
    # This tests the time limit itself, so it needs one; its outcome does not hang on the
    # machine's speed: every backend has a solution with gap < 0.1 at 0.05 s and none
    # proves optimality in 10 s (measured on a 2-core machine shared with other jobs).
    model = multidim_knapsack()
    r = solve(model, solver, SolverOptions(time_limit_s=1.0))
    assert r.status is SolveStatus.FEASIBLE
    assert r.objective is not None and r.bound is not None and r.gap is not None
    assert r.bound >= r.objective - 1e-6  # maximisation: the bound is an upper bound
    assert 0 < r.gap < 0.1
    assert r.solve_seconds < 10
    x = r.value("x")
    compiled = model.compile()
    assert compiled.max_violation(r.x) <= 1e-9  # type: ignore[arg-type]
    assert r.objective == pytest.approx(compiled.objective_value(x))


@pytest.mark.parametrize("solver", AVAILABLE)
def test_time_limit_without_solution(solver: str) -> None:
    # A market-split instance (Cornuejols & Dawande): feasible points are very rare; no
    # backend finds one in 10 s, 20 times the limit given here.
    rng = np.random.default_rng(0)
    a = rng.integers(0, 100, size=(6, 50))
    m = Model("market_split")
    m.add_binaries("x", 50, obj=rng.integers(1, 10, 50))
    m.add_constraints("split", sp.csr_matrix(a.astype(float)), lb=a.sum(1) // 2, ub=a.sum(1) // 2)
    r = solve(m, solver, SolverOptions(time_limit_s=0.5))
    assert r.status is SolveStatus.NO_SOLUTION
    assert r.x is None and r.objective is None


@pytest.mark.parametrize("solver", AVAILABLE)
def test_same_model_and_seed_give_the_same_answer(solver: str) -> None:
    rng = np.random.default_rng(7)
    n = 30
    w = rng.integers(1, 100, size=(3, n)).astype(float)
    m = Model("small_mknap", sense="max")
    m.add_binaries("x", n, obj=rng.integers(1, 100, n))
    m.add_constraints("cap", sp.csr_matrix(w), ub=w.sum(axis=1) // 3)
    opts = SolverOptions(seed=3)
    a, b = solve(m, solver, opts), solve(m, solver, opts)
    assert a.status is b.status is SolveStatus.OPTIMAL
    assert a.objective == b.objective
    np.testing.assert_array_equal(a.x, b.x)  # type: ignore[arg-type]


def test_cpsat_refuses_continuous_and_fractional_models() -> None:
    with pytest.raises(SolverError, match="integer variables only"):
        solve(lp_min(), "cpsat")
    m = Model("fractional")
    v = m.add_binaries("v", 2, obj=[1, 1])
    m.add_constraints("half", (np.zeros(2), v, [0.5, 1.0]), lb=1)
    with pytest.raises(SolverError, match="constraint block 'half'"):
        solve(m, "cpsat")
    m = Model("fractional_obj")
    m.add_binaries("v", 2, obj=[1.5, 1])
    with pytest.raises(SolverError, match="objective"):
        solve(m, "cpsat")
    m = Model("unbounded_int")
    m.add_variables("v", 2, integer=True, obj=[1, 1])
    with pytest.raises(SolverError, match="finite variable bounds"):
        solve(m, "cpsat")


def test_unknown_solver_is_a_clear_error() -> None:
    with pytest.raises(SolverError, match="Unknown solver 'gurobi'"):
        solve(lp_min(), "gurobi")


def test_auto_picks_an_available_solver() -> None:
    r = solve(mip_max())
    assert r.solver in AVAILABLE and r.objective == 13.0


def test_result_is_frozen_and_read_only() -> None:
    r = solve(mip_max(), "highs")
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.objective = 0.0  # type: ignore[misc]
    assert r.x is not None
    with pytest.raises(ValueError):
        r.x[0] = 1.0


def test_blocks_return_shaped_indices_and_values() -> None:
    m = Model("blocks")
    y = m.add_binaries("y", 3, obj=[1, 2, 3])
    x = m.add_variables("x", (2, 3), ub=1, obj=np.arange(6).reshape(2, 3))
    assert y.tolist() == [0, 1, 2]
    assert x.shape == (2, 3) and x[1, 2] == 8
    # each client assigned once; x_ij <= y_j aggregated per site
    rows = m.add_constraints("assign", (np.repeat([0, 1], 3), x.ravel(), 1.0), lb=1, ub=1)
    assert rows.tolist() == [0, 1]
    link_rows = np.concatenate([np.arange(3), np.arange(3), np.arange(3)])
    link_cols = np.concatenate([x[0], x[1], y])
    link_vals = np.concatenate([np.ones(6), np.full(3, -2.0)])
    m.add_constraints("link", (link_rows, link_cols, link_vals), ub=0)
    r = solve(m, "highs")
    assert r.status is SolveStatus.OPTIMAL
    assert r.value("x").shape == (2, 3)
    # site 0 (cost 1) serves both clients at assignment cost 0 + 3
    assert r.objective == pytest.approx(4.0)
    np.testing.assert_array_equal(r.value("y"), [1, 0, 0])


def test_triplet_duplicates_are_summed() -> None:
    m = Model("dups")
    v = m.add_variables("v", 1, obj=1)
    m.add_constraints("twice", ([0, 0], [v[0], v[0]], [1.0, 1.0]), lb=4)  # 2v >= 4
    compiled = m.compile()
    assert compiled.A.nnz == 1 and compiled.A[0, 0] == 2.0
    assert solve(m, "highs").objective == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda m: m.add_variables("v", 2, lb=[0, 2], ub=1), "lb > ub"),
        (lambda m: m.add_variables("w", 2), "already has a variable block"),
        (lambda m: m.add_variables("n", 2, ub=[1.0, math.nan]), "NaN"),
        (lambda m: m.add_variables("s", 3, ub=[1.0, 2.0]), "does not fit"),
        (lambda m: m.add_constraints("r", ([0], [5], [1.0])), "outside 0..1"),
        (lambda m: m.add_constraints("r", ([0], [0], [1.0]), lb=2, ub=1), "lb > ub"),
        (lambda m: m.add_constraints("r", ([0], [0], [math.inf])), "finite"),
        (lambda m: m.add_constraints("r", sp.csr_matrix(np.ones((1, 5)))), "5 columns"),
        (lambda m: m.add_objective([7], [1.0]), "outside"),
    ],
)
def test_bad_input_raises_input_error(build: object, match: str) -> None:
    m = Model("bad")
    m.add_variables("w", 2)
    with pytest.raises(InputError, match=match):
        build(m)  # type: ignore[operator]


def test_options_are_validated() -> None:
    with pytest.raises(InputError, match="time_limit_s"):
        SolverOptions(time_limit_s=0)
    with pytest.raises(InputError, match="mip_gap"):
        SolverOptions(mip_gap=-1)
    with pytest.raises(InputError, match="threads"):
        SolverOptions(threads=0)


def test_relative_gap() -> None:
    assert relative_gap(100.0, 90.0) == pytest.approx(0.1)
    assert relative_gap(0.0, 0.0) == 0.0
    assert relative_gap(None, 1.0) is None
    assert relative_gap(1.0, -math.inf) == math.inf


def test_mps_text_names_rows_and_columns_by_index() -> None:
    text = mps_text(mip_max().compile())
    assert " C0 OBJ -5.0" in text  # maximisation written negated
    assert "'INTORG'" in text and " UP BND C2 10.0" in text


# --- "infeasible" only when proven ----------------------------------------------------------
# CBC 2.10 (PuLP's binary) on the bundled toy placement at -sec 0.001: the solution file's
# first line and the log lines that decide (2 of 10 runs ended like this before the fix).
TOY_PREPROCESSING_CUT_SHORT = (
    "Integer infeasible - objective value 96578.17228731",
    "Continuous objective value is 96578.2 - 0.00 seconds\n"
    "Cgl0000I Cut generators found to be infeasible! (or unbounded)\n"
    "Pre-processing says infeasible or unbounded\n"
    "Total time (CPU seconds):       0.00   (Wallclock seconds):       0.00\n",
)
TOY_STOPPED_ON_TIME = (
    "Stopped on time (no integer solution - continuous used) - objective value 96578.17228731",
    "Cbc0020I Exiting on maximum time\n"
    "Cbc0005I Partial search - best objective 1e+50 (best possible 96578.172), took 0 "
    "iterations and 0 nodes (0.00 seconds)\n"
    "Result - Stopped on time limit\n\nNo feasible solution found\n"
    "Lower bound:                    96578.172\n",
)
# x + y >= 3 over two binaries: the LP relaxation is infeasible, CBC proves it.
LP_PROVEN_INFEASIBLE = ("Infeasible - objective value 3.00000000",
                        "Problem is infeasible - 0.00 seconds\n")


@pytest.mark.parametrize(("head", "log", "want"), [
    (*TOY_PREPROCESSING_CUT_SHORT, SolveStatus.NO_SOLUTION),
    (*TOY_STOPPED_ON_TIME, SolveStatus.NO_SOLUTION),
    (*LP_PROVEN_INFEASIBLE, SolveStatus.INFEASIBLE),
    ("Stopped on time - objective value 96578.17228731", "Result - Stopped on time limit\n",
     SolveStatus.FEASIBLE),
])
def test_cbc_says_infeasible_only_when_proven(head: str, log: str, want: SolveStatus) -> None:
    from reserve_opt.solvers.backends.pulp_cbc import cbc_status

    assert cbc_status(head, log, is_mip=True) is want


def test_ortools_cbc_checks_an_infeasible_claim_made_when_time_ran_out() -> None:
    from reserve_opt.solvers.backends.ortools_cbc import claim_unproven

    mip = mip_max().compile()
    assert claim_unproven(mip, SolverOptions(time_limit_s=0.03), solve_s=0.031)
    assert not claim_unproven(mip, SolverOptions(time_limit_s=0.03), solve_s=0.01)
    assert not claim_unproven(mip, SolverOptions(), solve_s=100.0)
    assert not claim_unproven(lp_min().compile(), SolverOptions(time_limit_s=0.03), 1.0)


def integer_infeasible() -> Model:
    # 2a + 2b = 3 over integers in 0..1: the LP relaxation is feasible (a = 1.5 - b), no
    # integer point is; CBC's pre-processing says so, and a search without it proves it.
    m = Model("odd_sum")
    v = m.add_variables("v", 2, ub=1, integer=True, obj=[1, 1])
    m.add_constraints("odd", (np.zeros(2), v, [2.0, 2.0]), lb=3, ub=3)
    return m


@pytest.mark.parametrize("solver", ["pulp-cbc", "ortools-cbc"])
def test_cbc_still_proves_real_infeasibility_under_a_time_limit(solver: str) -> None:
    for model in (integer_infeasible(), binaries_over_two()):
        r = solve(model, solver, SolverOptions(time_limit_s=60))
        assert r.status is SolveStatus.INFEASIBLE, (model.name, r.message)


@pytest.mark.parametrize("solver", ["pulp-cbc", "ortools-cbc"])
def test_tiny_time_limits_never_report_the_toy_plan_infeasible(solver: str) -> None:
    # The toy's optimum is 96,578 CNY. Before the fix pulp-cbc said "infeasible" in 2 of 10
    # runs at 0.001 s; whatever the machine's speed, each run now ends in one of these.
    from reserve_opt import load_instance
    from reserve_opt.models.placement import PlacementOptions
    from reserve_opt.models.placement.model import build_model, prepare

    inst = load_instance(Path(__file__).resolve().parents[1] / "instances" / "toy")
    data = prepare(inst, PlacementOptions())
    model = build_model(data, PlacementOptions())[0].compile()
    seen = set()
    for limit in (0.0005, 0.001, 0.002, 0.003) * 5:
        r = solve(model, solver, SolverOptions(time_limit_s=limit))
        seen.add(r.status)
        assert r.status is not SolveStatus.INFEASIBLE, (limit, r.message)
    assert seen <= {SolveStatus.OPTIMAL, SolveStatus.FEASIBLE, SolveStatus.NO_SOLUTION}


def test_a_stopped_lp_iterate_is_no_solution() -> None:
    # CLP stopped by its limit leaves a simplex iterate that breaks rows; it is no solution.
    from reserve_opt.solvers.backends.pulp_cbc import PulpCbcBackend

    model = lp_min().compile()
    x_breaks_rows = ["Stopped on iterations - objective value 0.00000000",
                     "      0 C0                     0                       0",
                     "      1 C1                     0                       0"]
    r = PulpCbcBackend()._parse(model, x_breaks_rows, "", 1.0, 0.0)
    assert r.status is SolveStatus.NO_SOLUTION and r.x is None
