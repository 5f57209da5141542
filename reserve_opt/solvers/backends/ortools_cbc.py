"""CBC through OR-Tools' linear solver wrapper (``pywraplp``).

MathOpt has no CBC interface, so this backend fills OR-Tools' ``model_builder`` helper
from the sparse matrix in one call, exports the ``MPModelProto`` and loads it into a
``pywraplp`` CBC solver, which exposes time limit, relative gap, threads and the best
bound. CBC is a MIP solver here: LP duals are not available through this path.
"""

from __future__ import annotations

import importlib
import time
from typing import Any

import numpy as np

from reserve_opt.solvers.backends.base import Backend, Capabilities
from reserve_opt.solvers.model import MatrixModel
from reserve_opt.solvers.options import SolverOptions
from reserve_opt.solvers.result import SolveResult, make_result
from reserve_opt.solvers.status import SolveStatus


class OrtoolsCbcBackend(Backend):
    """CBC compiled into OR-Tools, driven through ``pywraplp``."""

    name = "ortools-cbc"
    capabilities = Capabilities(supports_mip=True, supports_lp_duals=False)

    def is_available(self) -> bool:
        """Whether OR-Tools imports and was built with CBC."""
        try:
            pywraplp = importlib.import_module("ortools.linear_solver.pywraplp")
        except ImportError:
            return False
        return pywraplp.Solver.CreateSolver("CBC") is not None

    def _solve(self, model: MatrixModel, options: SolverOptions) -> SolveResult:
        pywraplp: Any = importlib.import_module("ortools.linear_solver.pywraplp")
        mbh: Any = importlib.import_module("ortools.linear_solver.python.model_builder_helper")

        t0 = time.perf_counter()
        helper = mbh.ModelBuilderHelper()
        helper.fill_model_from_sparse_data(
            np.ascontiguousarray(model.col_lb),
            np.ascontiguousarray(model.col_ub),
            np.ascontiguousarray(model.c),
            np.ascontiguousarray(model.row_lb),
            np.ascontiguousarray(model.row_ub),
            model.A,
        )
        for j in np.flatnonzero(model.integer).tolist():
            helper.set_var_integrality(j, True)
        helper.set_maximize(model.sense == "max")
        proto = mbh.to_mpmodel_proto(helper)

        solver = pywraplp.Solver.CreateSolver("CBC")
        err = solver.LoadModelFromProto(proto)
        if err:
            return make_result(
                model,
                status=SolveStatus.ERROR,
                solver=self.name,
                seconds=time.perf_counter() - t0,
                message=f"OR-Tools could not load the model: {err}",
            )
        if options.time_limit_s is not None:
            solver.SetTimeLimit(max(1, round(options.time_limit_s * 1000)))
        solver.SetNumThreads(options.threads)
        if options.verbose:
            solver.EnableOutput()
        params = pywraplp.MPSolverParameters()
        params.SetDoubleParam(params.RELATIVE_MIP_GAP, options.mip_gap)
        t_solve = time.perf_counter()
        code = solver.Solve(params)
        solve_s = time.perf_counter() - t_solve
        has_sol = solver.NumVariables() == 0 or code in (solver.OPTIMAL, solver.FEASIBLE)
        message = f"pywraplp result code {code}"
        if code == solver.OPTIMAL:
            status = SolveStatus.OPTIMAL
        elif code == solver.FEASIBLE:
            status = SolveStatus.FEASIBLE
        elif code == solver.INFEASIBLE:
            status = SolveStatus.INFEASIBLE
            if claim_unproven(model, options, solve_s) and not _lp_infeasible(proto, options):
                status = SolveStatus.NO_SOLUTION
                message += UNPROVEN_NOTE
        elif code == solver.UNBOUNDED:
            status = SolveStatus.UNBOUNDED
        elif code == solver.NOT_SOLVED:
            status = SolveStatus.NO_SOLUTION
        else:
            status = SolveStatus.ERROR
        x = None
        bound = None
        if has_sol and status.has_solution:
            x = np.array([v.solution_value() for v in solver.variables()], dtype=np.float64)
            bound = solver.Objective().BestBound() if model.is_mip else solver.Objective().Value()
        return make_result(
            model,
            status=status,
            solver=self.name,
            seconds=time.perf_counter() - t0,
            bound=bound,
            x=x,
            message=message,
        )


#: Why a CBC "infeasible" became "no solution".
UNPROVEN_NOTE = (": CBC gave up as its time limit ran out (its pre-processing then claims "
                 "that no solution exists) and the LP relaxation has solutions: nothing is "
                 "proven")


def claim_unproven(model: MatrixModel, options: SolverOptions, solve_s: float) -> bool:
    """Whether CBC's "infeasible" on ``model`` needs a proof before it is believed.

    CBC's pre-processing reports a MIP infeasible when the time limit interrupts it, so a
    claim made once ``solve_s`` reached the limit is checked (by the LP relaxation); one
    made before is CBC's proof. OR-Tools cannot switch that pre-processing off.

    Parameters
    ----------
    model
        The model solved.
    options
        Its solver options (the time limit).
    solve_s
        Wall-clock seconds CBC ran.

    Returns
    -------
    bool
    """
    limit = options.time_limit_s
    return model.is_mip and limit is not None and solve_s >= limit


def _lp_infeasible(proto: Any, options: SolverOptions) -> bool:
    """Whether CLP proves the LP relaxation of ``proto`` infeasible (within the time limit)."""
    pywraplp: Any = importlib.import_module("ortools.linear_solver.pywraplp")
    relaxed = type(proto)()
    relaxed.CopyFrom(proto)
    for v in relaxed.variable:
        v.is_integer = False
    lp = pywraplp.Solver.CreateSolver("CLP")
    if lp is None or lp.LoadModelFromProto(relaxed):
        return False
    if options.time_limit_s is not None:
        lp.SetTimeLimit(max(1, round(options.time_limit_s * 1000)))
    return bool(lp.Solve() == lp.INFEASIBLE)
