"""CP-SAT (OR-Tools) for pure-integer models, through MathOpt.

CP-SAT is a constraint-programming / SAT solver: every variable must be integer with
finite bounds, and every coefficient and bound integral. Anything else is refused with
a :class:`~reserve_opt.errors.SolverError` rather than silently scaled or rounded.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from reserve_opt.errors import SolverError
from reserve_opt.solvers.backends.base import Capabilities
from reserve_opt.solvers.backends.ortools_mathopt import MathOptBackend
from reserve_opt.solvers.model import MatrixModel


def _non_integral(a: npt.NDArray[np.float64]) -> bool:
    f = a[np.isfinite(a)]
    return bool(np.any(f != np.round(f)))


class CpSatBackend(MathOptBackend):
    """CP-SAT: integer-only models with integer data; parallel when ``threads > 1``."""

    def __init__(self) -> None:
        super().__init__(
            "cpsat",
            "CP_SAT",
            Capabilities(supports_mip=True, supports_lp_duals=False, integer_only=True),
        )

    def check_model(self, model: MatrixModel) -> None:
        """Refuse continuous variables, unbounded variables and fractional data.

        Raises
        ------
        SolverError
            Naming the first offending variable block or constraint block.
        """
        super().check_model(model)
        for blk in model.var_blocks.values():
            sl = slice(blk.start, blk.stop)
            if not model.integer[sl].all():
                raise SolverError(
                    f"CP-SAT needs integer variables only; block {blk.name!r} has continuous "
                    f"ones. Use 'highs', 'scip' or 'pulp-cbc'."
                )
            if not (np.isfinite(model.col_lb[sl]).all() and np.isfinite(model.col_ub[sl]).all()):
                raise SolverError(
                    f"CP-SAT needs finite variable bounds; block {blk.name!r} has infinite ones."
                )
            if _non_integral(model.col_lb[sl]) or _non_integral(model.col_ub[sl]):
                raise SolverError(f"CP-SAT needs integer bounds; block {blk.name!r} has others.")
            if _non_integral(model.c[sl]):
                raise SolverError(
                    f"CP-SAT needs integer objective coefficients; block {blk.name!r} has "
                    f"fractional ones. Scale the objective to integers first."
                )
        rows_per_entry = np.repeat(np.arange(model.num_constraints), np.diff(model.A.indptr))
        for blk in model.con_blocks.values():
            sl = slice(blk.start, blk.stop)
            entries = (rows_per_entry >= blk.start) & (rows_per_entry < blk.stop)
            if (
                _non_integral(model.A.data[entries])
                or _non_integral(model.row_lb[sl])
                or _non_integral(model.row_ub[sl])
            ):
                raise SolverError(
                    f"CP-SAT needs integer coefficients and bounds; constraint block "
                    f"{blk.name!r} has fractional ones."
                )
