"""The one solver interface every model uses.

Build a :class:`Model` in vectorised blocks, then :func:`solve` it with any registered
backend; the answer is a frozen :class:`SolveResult` with a normalised
:class:`SolveStatus`.

Backends: ``"highs"`` and ``"scip"`` (OR-Tools MathOpt), ``"pulp-cbc"`` (PuLP's bundled
CBC binary), ``"ortools-cbc"`` (CBC in OR-Tools) and ``"cpsat"`` (CP-SAT, pure-integer
models only).
"""

from __future__ import annotations

from reserve_opt.solvers.backends.base import Backend, Capabilities
from reserve_opt.solvers.model import Block, MatrixModel, Model
from reserve_opt.solvers.mps import mps_text, write_mps
from reserve_opt.solvers.options import SolverOptions
from reserve_opt.solvers.registry import (
    AUTO_ORDER,
    available_solvers,
    get_backend,
    register_backend,
    registered_solvers,
    solve,
)
from reserve_opt.solvers.result import SolveResult, relative_gap
from reserve_opt.solvers.status import SolveStatus

__all__ = [
    "AUTO_ORDER",
    "Backend",
    "Block",
    "Capabilities",
    "MatrixModel",
    "Model",
    "SolveResult",
    "SolveStatus",
    "SolverOptions",
    "available_solvers",
    "get_backend",
    "mps_text",
    "register_backend",
    "registered_solvers",
    "relative_gap",
    "solve",
    "write_mps",
]
