"""HiGHS and SCIP through OR-Tools MathOpt.

MathOpt (not ``model_builder``) is used because it exposes everything the layer needs
in one place: time limit, relative gap, seed, threads, the dual bound, and LP duals.
Measured on OR-Tools 9.15: ``model_builder``'s HiGHS returns row *activities* where the
duals should be, and it cannot run CBC at all; MathOpt's HiGHS duals are right.

The model is translated to a MathOpt ``ModelProto`` with packed numpy arrays (no
per-variable Python objects) and solved with MathOpt's proto-level entry point, the
same one :func:`ortools.math_opt.python.mathopt.solve` calls after exporting its model.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

import numpy as np

from reserve_opt.solvers.backends.base import Backend, Capabilities
from reserve_opt.solvers.model import FloatArray, MatrixModel
from reserve_opt.solvers.options import SolverOptions
from reserve_opt.solvers.result import SolveResult, make_result
from reserve_opt.solvers.status import SolveStatus


def _mathopt_available() -> bool:
    try:
        from ortools.math_opt.core.python import solver  # noqa: F401
        from ortools.math_opt.python import mathopt  # noqa: F401
    except ImportError:
        return False
    return True


def model_proto(model: MatrixModel) -> Any:
    """Translate a compiled model to a MathOpt ``ModelProto`` (vectorised)."""
    from ortools.math_opt import model_pb2

    p = model_pb2.ModelProto(name=model.name)
    n, m = model.num_variables, model.num_constraints
    v = p.variables
    v.ids.extend(range(n))
    v.lower_bounds.extend(model.col_lb.tolist())
    v.upper_bounds.extend(model.col_ub.tolist())
    v.integers.extend(model.integer.tolist())
    p.objective.maximize = model.sense == "max"
    nz = np.flatnonzero(model.c)
    p.objective.linear_coefficients.ids.extend(nz.tolist())
    p.objective.linear_coefficients.values.extend(model.c[nz].tolist())
    lc = p.linear_constraints
    lc.ids.extend(range(m))
    lc.lower_bounds.extend(model.row_lb.tolist())
    lc.upper_bounds.extend(model.row_ub.tolist())
    a = model.A  # CSR with sorted indices: row-major order, as MathOpt requires
    mat = p.linear_constraint_matrix
    mat.row_ids.extend(np.repeat(np.arange(m), np.diff(a.indptr)).tolist())
    mat.column_ids.extend(a.indices.tolist())
    mat.coefficients.extend(a.data.tolist())
    return p


class MathOptBackend(Backend):
    """One MathOpt solver type behind the registry.

    Parameters
    ----------
    name
        Registry name.
    solver_type
        Name of a :class:`ortools.math_opt.python.mathopt.SolverType` member.
    capabilities
        Capability flags.
    threads_supported
        Whether MathOpt accepts the ``threads`` parameter for this solver.
    """

    def __init__(
        self,
        name: str,
        solver_type: str,
        capabilities: Capabilities,
        *,
        threads_supported: bool = True,
    ) -> None:
        self.name = name
        self.solver_type = solver_type
        self.capabilities = capabilities
        self.threads_supported = threads_supported

    def is_available(self) -> bool:
        """Whether OR-Tools MathOpt imports and this solver is compiled in."""
        return _mathopt_available()

    def _params(self, options: SolverOptions, *, presolve_off: bool = False) -> Any:
        from ortools.math_opt.python import mathopt

        kw: dict[str, Any] = {
            "enable_output": options.verbose,
            "random_seed": options.seed,
        }
        if options.time_limit_s is not None:
            kw["time_limit"] = datetime.timedelta(seconds=options.time_limit_s)
        if self.capabilities.supports_mip:
            kw["relative_gap_tolerance"] = options.mip_gap
            kw["absolute_gap_tolerance"] = 1e-9
        if self.threads_supported:
            kw["threads"] = options.threads
        if presolve_off:
            kw["presolve"] = mathopt.Emphasis.OFF
        return mathopt.SolveParameters(**kw).to_proto()

    def _run(self, proto: Any, options: SolverOptions, *, presolve_off: bool = False,
             start: FloatArray | None = None) -> Any:
        from ortools.math_opt.core.python import solver
        from ortools.math_opt.python import callback, init_arguments, model_parameters, parameters

        model_params = model_parameters.ModelSolveParameters().to_proto()
        if start is not None:
            # a partial hint is fine: HiGHS fixes the given integers and solves an LP for
            # the rest; SCIP completes it as a partial solution
            ids = np.flatnonzero(np.isfinite(start))
            if ids.size:
                hint = model_params.solution_hints.add()
                hint.variable_values.ids.extend(ids.tolist())
                hint.variable_values.values.extend(start[ids].tolist())
        return solver.solve(
            proto,
            getattr(parameters.SolverType, self.solver_type).value,
            init_arguments.StreamableSolverInitArguments().to_proto(),
            self._params(options, presolve_off=presolve_off),
            model_params,
            None,
            callback.CallbackRegistration().to_proto(),
            None,
            None,
        )

    def _solve(self, model: MatrixModel, options: SolverOptions) -> SolveResult:
        from ortools.math_opt import result_pb2

        t0 = time.perf_counter()
        proto = model_proto(model)
        try:
            start = model.start
            if not (model.is_mip and start is not None
                    and start.shape == (model.num_variables,)):
                start = None
            res = self._run(proto, options, start=start)
            reason = res.termination.reason
            if reason == result_pb2.TERMINATION_REASON_INFEASIBLE_OR_UNBOUNDED:
                res = self._run(proto, options, presolve_off=True)
        except Exception as exc:  # the pybind layer raises StatusNotOk and others
            return make_result(
                model,
                status=SolveStatus.ERROR,
                solver=self.name,
                seconds=time.perf_counter() - t0,
                message=f"{type(exc).__name__}: {exc}",
            )
        return self._parse(model, res, t0)

    def _parse(self, model: MatrixModel, res: Any, t0: float) -> SolveResult:
        from ortools.math_opt import result_pb2, solution_pb2

        term = res.termination
        reason = term.reason
        feasible = solution_pb2.SOLUTION_STATUS_FEASIBLE
        sol = next(
            (
                s
                for s in res.solutions
                if s.HasField("primal_solution")
                and s.primal_solution.feasibility_status == feasible
            ),
            None,
        )
        r = result_pb2
        if reason == r.TERMINATION_REASON_OPTIMAL:
            status = SolveStatus.OPTIMAL
        elif reason == r.TERMINATION_REASON_FEASIBLE:
            status = SolveStatus.FEASIBLE
        elif reason == r.TERMINATION_REASON_NO_SOLUTION_FOUND:
            status = SolveStatus.NO_SOLUTION
        elif reason == r.TERMINATION_REASON_INFEASIBLE:
            status = SolveStatus.INFEASIBLE
        elif reason == r.TERMINATION_REASON_UNBOUNDED:
            status = SolveStatus.UNBOUNDED
        else:
            status = SolveStatus.ERROR
        if status.has_solution and sol is None:
            status = SolveStatus.ERROR if status is SolveStatus.OPTIMAL else SolveStatus.NO_SOLUTION
        x = None
        duals = None
        if sol is not None and status.has_solution:
            vv = sol.primal_solution.variable_values
            x = np.zeros(model.num_variables)
            x[np.asarray(vv.ids, dtype=np.int64)] = np.asarray(vv.values, dtype=np.float64)
            if (
                not model.is_mip
                and self.capabilities.supports_lp_duals
                and sol.HasField("dual_solution")
            ):
                dv = sol.dual_solution.dual_values
                duals = np.zeros(model.num_constraints)
                duals[np.asarray(dv.ids, dtype=np.int64)] = np.asarray(dv.values, dtype=np.float64)
        bound = float(term.objective_bounds.dual_bound) if status.has_solution else None
        if status is SolveStatus.NO_SOLUTION:
            bound = float(term.objective_bounds.dual_bound)
        message = r.TerminationReasonProto.Name(reason)
        if term.detail:
            message += f": {term.detail}"
        if term.limit:
            message += f" ({r.LimitProto.Name(term.limit)})"
        return make_result(
            model,
            status=status,
            solver=self.name,
            seconds=time.perf_counter() - t0,
            bound=bound,
            x=x,
            duals=duals,
            message=message,
        )


def highs_backend() -> MathOptBackend:
    """HiGHS 1.12 (bundled in OR-Tools): MIP and LP with duals; ignores ``threads``."""
    return MathOptBackend(
        "highs",
        "HIGHS",
        Capabilities(supports_mip=True, supports_lp_duals=True),
        threads_supported=False,
    )


def scip_backend() -> MathOptBackend:
    """SCIP (bundled in OR-Tools, via MathOpt's GSCIP): MIP; no LP duals."""
    return MathOptBackend("scip", "GSCIP", Capabilities(supports_mip=True, supports_lp_duals=False))
