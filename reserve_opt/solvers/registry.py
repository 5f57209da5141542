"""The registry of solver backends, and the one ``solve`` entry point models call."""

from __future__ import annotations

from reserve_opt.errors import SolverError
from reserve_opt.solvers.backends.base import Backend
from reserve_opt.solvers.backends.cpsat import CpSatBackend
from reserve_opt.solvers.backends.ortools_cbc import OrtoolsCbcBackend
from reserve_opt.solvers.backends.ortools_mathopt import highs_backend, scip_backend
from reserve_opt.solvers.backends.pulp_cbc import PulpCbcBackend
from reserve_opt.solvers.model import MatrixModel, Model
from reserve_opt.solvers.options import SolverOptions
from reserve_opt.solvers.result import SolveResult

_BACKENDS: dict[str, Backend] = {}

#: Preference order for ``solver="auto"``.
AUTO_ORDER: tuple[str, ...] = ("highs", "scip", "pulp-cbc", "ortools-cbc")


def register_backend(backend: Backend, *, replace: bool = False) -> None:
    """Add a backend under ``backend.name``.

    Raises
    ------
    SolverError
        If the name is taken and ``replace`` is false.
    """
    if backend.name in _BACKENDS and not replace:
        raise SolverError(f"A solver backend named {backend.name!r} is already registered.")
    _BACKENDS[backend.name] = backend


for _b in (highs_backend(), scip_backend(), PulpCbcBackend(), OrtoolsCbcBackend(), CpSatBackend()):
    register_backend(_b)


def registered_solvers() -> list[str]:
    """Names of every registered backend, available or not."""
    return list(_BACKENDS)


def available_solvers() -> list[str]:
    """Names of the registered backends that can run here."""
    return [n for n, b in _BACKENDS.items() if b.is_available()]


def get_backend(name: str) -> Backend:
    """Return a backend by name (``"auto"`` picks the first available of :data:`AUTO_ORDER`).

    Raises
    ------
    SolverError
        If the name is unknown or no solver is available.
    """
    if name == "auto":
        for n in AUTO_ORDER:
            if n in _BACKENDS and _BACKENDS[n].is_available():
                return _BACKENDS[n]
        raise SolverError("No MIP solver is available; install ortools or pulp.")
    try:
        return _BACKENDS[name]
    except KeyError:
        raise SolverError(
            f"Unknown solver {name!r}; choose one of {sorted(_BACKENDS)} or 'auto'."
        ) from None


def solve(
    model: Model | MatrixModel,
    solver: str = "auto",
    options: SolverOptions | None = None,
) -> SolveResult:
    """Solve a model with a registered backend.

    Parameters
    ----------
    model
        A :class:`Model` (compiled here) or an already compiled :class:`MatrixModel`.
    solver
        Registry name (``"highs"``, ``"scip"``, ``"pulp-cbc"``, ``"ortools-cbc"``,
        ``"cpsat"``) or ``"auto"``.
    options
        Solver options; defaults to :class:`SolverOptions()`.

    Returns
    -------
    SolveResult
        The normalised answer.

    Raises
    ------
    SolverError
        If the solver is unknown, unavailable, or cannot take this model.
    """
    compiled = model.compile() if isinstance(model, Model) else model
    return get_backend(solver).solve(compiled, options or SolverOptions())
