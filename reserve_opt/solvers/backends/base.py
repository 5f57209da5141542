"""What every backend provides: a name, capability flags, availability, and solve."""

from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np

from reserve_opt.errors import SolverError
from reserve_opt.solvers.model import MatrixModel
from reserve_opt.solvers.options import SolverOptions
from reserve_opt.solvers.result import SolveResult


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can solve and report.

    Parameters
    ----------
    supports_mip
        Accepts integer variables.
    supports_lp_duals
        Returns row duals for models without integer variables.
    integer_only
        Accepts only models whose variables are all integer with integer bounds and
        integer coefficients (CP-SAT).
    """

    supports_mip: bool
    supports_lp_duals: bool
    integer_only: bool = False


class Backend(abc.ABC):
    """A solver behind the registry.

    Subclasses set :attr:`name` and :attr:`capabilities` and implement
    :meth:`is_available` and :meth:`_solve`.
    """

    name: str
    capabilities: Capabilities

    @abc.abstractmethod
    def is_available(self) -> bool:
        """Whether the solver can run in this environment (import works, binary found)."""

    def solve(self, model: MatrixModel, options: SolverOptions) -> SolveResult:
        """Solve a compiled model.

        Parameters
        ----------
        model
            The compiled model.
        options
            Time limit, gap, threads, seed, verbosity.

        Returns
        -------
        SolveResult
            The normalised answer; solver failures come back as status ``ERROR``.

        Raises
        ------
        SolverError
            If the backend is unavailable or cannot accept this kind of model.
        """
        if not self.is_available():
            raise SolverError(f"Solver {self.name!r} is not available in this environment.")
        if model.is_mip and not self.capabilities.supports_mip:
            raise SolverError(
                f"Solver {self.name!r} solves only LPs, but model {model.name!r} has "
                f"{int(model.integer.sum())} integer variables; pick a MIP solver."
            )
        self.check_model(model)
        return self._solve(model, options)

    def check_model(self, model: MatrixModel) -> None:
        """Refuse models this backend cannot take (raise :class:`SolverError`)."""
        if not (np.isfinite(model.A.data).all() and np.isfinite(model.c).all()):
            raise SolverError(f"Model {model.name!r} has non-finite coefficients.")

    @abc.abstractmethod
    def _solve(self, model: MatrixModel, options: SolverOptions) -> SolveResult: ...
