"""The frozen answer every backend returns."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from reserve_opt.errors import InputError
from reserve_opt.solvers.model import Block, MatrixModel
from reserve_opt.solvers.status import SolveStatus

FloatArray = npt.NDArray[np.float64]


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """Relative gap ``|objective - bound| / max(|objective|, 1e-10)``.

    Parameters
    ----------
    objective
        Objective of the incumbent, or ``None`` without one.
    bound
        Best proven bound, or ``None`` if unknown.

    Returns
    -------
    float or None
        0 when both are equal, ``None`` when either is missing, ``inf`` when the bound
        is infinite.
    """
    if objective is None or bound is None or math.isnan(objective) or math.isnan(bound):
        return None
    if objective == bound:
        return 0.0
    if math.isinf(bound):
        return math.inf
    return abs(objective - bound) / max(abs(objective), 1e-10)


@dataclass(frozen=True, slots=True, eq=False)
class SolveResult:
    """What a solve returned, normalised across backends.

    Parameters
    ----------
    status
        Normalised status.
    objective
        Objective of the returned solution, including the model's constant, or ``None``
        when there is no solution.
    bound
        Best proven bound on the optimum (a lower bound when minimising, an upper bound
        when maximising), including the constant; ``None`` when the solver gives none.
    gap
        Relative gap between ``objective`` and ``bound`` (see :func:`relative_gap`).
    solve_seconds
        Wall-clock seconds spent in the backend, model translation included.
    solver
        Registry name of the backend.
    x
        Primal values, one per variable (read-only), or ``None`` without a solution.
    duals
        Row duals of an LP (read-only) when the backend provides them, else ``None``.
        Convention: ``duals[i]`` is the rate of change of the optimal objective per unit
        increase of row ``i``'s active bound (positive for a binding ``>=`` row of a
        minimisation).
    var_blocks, con_blocks
        The model's blocks, for the accessors.
    message
        Free text from the backend (why it failed, what it reported).
    """

    status: SolveStatus
    objective: float | None
    bound: float | None
    gap: float | None
    solve_seconds: float
    solver: str
    x: FloatArray | None = None
    duals: FloatArray | None = None
    var_blocks: Mapping[str, Block] = field(default_factory=dict)
    con_blocks: Mapping[str, Block] = field(default_factory=dict)
    message: str = ""

    @property
    def has_solution(self) -> bool:
        """Whether primal values are available."""
        return self.x is not None

    def value(self, block: str) -> FloatArray:
        """Primal values of a variable block, shaped like the block.

        Raises
        ------
        InputError
            If there is no solution or no block of that name.
        """
        if self.x is None:
            raise InputError(
                f"The solve ended {self.status.value!r} without a solution; "
                f"check status before reading values."
            )
        b = self._block(block, self.var_blocks, "variable")
        return self.x[b.start : b.stop].reshape(b.shape)

    def dual(self, block: str) -> FloatArray:
        """Row duals of a constraint block.

        Raises
        ------
        InputError
            If the backend returned no duals or there is no block of that name.
        """
        if self.duals is None:
            raise InputError(
                f"Solver {self.solver!r} returned no duals; duals exist only for LPs solved "
                f"by a backend with supports_lp_duals."
            )
        b = self._block(block, self.con_blocks, "constraint")
        return self.duals[b.start : b.stop].reshape(b.shape)

    @staticmethod
    def _block(name: str, blocks: Mapping[str, Block], kind: str) -> Block:
        try:
            return blocks[name]
        except KeyError:
            raise InputError(
                f"No {kind} block named {name!r}; the model has {sorted(blocks)}."
            ) from None


def make_result(
    model: MatrixModel,
    *,
    status: SolveStatus,
    solver: str,
    seconds: float,
    objective: float | None = None,
    bound: float | None = None,
    x: FloatArray | None = None,
    duals: FloatArray | None = None,
    message: str = "",
) -> SolveResult:
    """Assemble a :class:`SolveResult`, for backends.

    ``objective`` and ``bound`` are the solver's values *without* the model constant;
    this adds it. When ``x`` is given the objective is recomputed from it, so that every
    backend reports ``c @ x + c0`` exactly. Missing values for statuses without a
    solution are dropped.
    """
    if not status.has_solution:
        x = None
        objective = None
    if x is not None:
        x = np.asarray(x, dtype=np.float64).copy()
        # snap integral variables: solvers return 0.9999999 for 1
        if model.is_mip:
            x[model.integer] = np.round(x[model.integer])
        x.setflags(write=False)
        objective = model.objective_value(x)
    elif objective is not None:
        objective = float(objective) + model.c0
    if bound is not None:
        bound = float(bound) + model.c0 if math.isfinite(bound) else float(bound)
        if status is SolveStatus.OPTIMAL and objective is not None and not model.is_mip:
            bound = objective
    if duals is not None:
        duals = np.asarray(duals, dtype=np.float64).copy()
        duals.setflags(write=False)
    return SolveResult(
        status=status,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound),
        solve_seconds=float(seconds),
        solver=solver,
        x=x,
        duals=duals,
        var_blocks=model.var_blocks,
        con_blocks=model.con_blocks,
        message=message,
    )
