"""The frozen answer every siting model returns."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from reserve_opt.solvers import SolveResult, SolveStatus, relative_gap

if TYPE_CHECKING:
    import pandas as pd

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True, eq=False)
class SitingResult:
    """What a siting model decided.

    Sites and clients are 0-based indices into the model's inputs (an OR-Library file's
    or matrix's order; for an instance, ``site`` and ``client`` tables of ``site --out``
    name them). :meth:`tables` gives the decision as DataFrames, as every model's result
    gives its tables.

    Parameters
    ----------
    model
        Which model produced it (``"p-median"``, ``"p-center"``, ``"capacitated-p-median"``,
        ``"max-coverage"``, ``"set-cover"``, ``"backup-cover"``, ``"facility-location"``).
    status
        Normalised solver status.
    objective
        Objective of the returned plan (recomputed from the plan, in the model's own
        units), or ``None`` without a solution.
    bound
        Best proven bound on the optimum, or ``None``.
    gap
        Relative gap between ``objective`` and ``bound``.
    open_sites
        Sorted indices of the sites opened (empty without a solution).
    assignment
        ``(n_clients, n_sites)`` fraction of each client's demand served by each site,
        for the allocation models (p-median, facility location); ``None`` otherwise.
    covered
        Per-client coverage flags, for the coverage models; ``None`` otherwise.
    solve_seconds
        Seconds spent building and solving.
    solver
        Registry name of the solver backend.
    backup
        Per-client flags "covered by two open sites or more", for backup coverage;
        ``None`` otherwise.
    """

    model: str
    status: SolveStatus
    objective: float | None
    bound: float | None
    gap: float | None
    open_sites: IntArray
    assignment: FloatArray | None
    covered: BoolArray | None
    solve_seconds: float
    solver: str
    backup: BoolArray | None = None

    @property
    def has_solution(self) -> bool:
        """Whether the result carries a plan."""
        return self.status.has_solution

    def tables(self) -> dict[str, pd.DataFrame]:
        """The decision as tables, as every model's result gives them (sites by index).

        Returns
        -------
        dict of str to pandas.DataFrame
            ``opened``: a row per open site, ``site`` (0-based index into the model's
            sites). ``clients``: a row per client (0-based ``client``) with, as the model
            has them, ``site`` (the open site serving the largest share of its demand, -1
            for none: allocation models), ``covered`` and ``backup`` (coverage models);
            empty when the model has neither.
        """
        import pandas as pd

        clients: dict[str, Any] = {}
        if self.assignment is not None:
            clients["site"] = self.assigned_site()
        if self.covered is not None:
            clients["covered"] = self.covered
        if self.backup is not None:
            clients["backup"] = self.backup
        size = len(next(iter(clients.values()))) if clients else 0
        return {"opened": pd.DataFrame({"site": self.open_sites}),
                "clients": pd.DataFrame({"client": np.arange(size), **clients})}

    def assigned_site(self) -> IntArray:
        """For each client, the site serving the largest share of its demand (-1 if none)."""
        if self.assignment is None:
            raise ValueError(f"A {self.model} result has no assignment.")
        best: IntArray = np.argmax(self.assignment, axis=1).astype(np.int64)
        best[self.assignment.max(axis=1, initial=0.0) <= 0] = -1
        return best


def _frozen(a: npt.NDArray[np.generic] | None) -> None:
    if a is not None:
        a.setflags(write=False)


def siting_result(
    model: str,
    res: SolveResult,
    *,
    objective: float | None,
    open_sites: IntArray | None,
    assignment: FloatArray | None = None,
    covered: BoolArray | None = None,
    backup: BoolArray | None = None,
    seconds: float,
    status: SolveStatus | None = None,
    bound: float | None = None,
) -> SitingResult:
    """Assemble a :class:`SitingResult` (arrays made read-only), for the model functions.

    ``status`` and ``bound`` default to the solver's; the gap is recomputed from
    ``objective`` and the bound.
    """
    sites = np.zeros(0, dtype=np.int64) if open_sites is None else np.sort(open_sites)
    for a in (sites, assignment, covered, backup):
        _frozen(a)
    bnd = res.bound if bound is None else bound
    return SitingResult(
        model=model,
        status=res.status if status is None else status,
        objective=objective,
        bound=bnd,
        gap=relative_gap(objective, bnd),
        open_sites=sites,
        assignment=assignment,
        covered=covered,
        solve_seconds=seconds,
        solver=res.solver,
        backup=backup,
    )


def opened(res: SolveResult) -> IntArray:
    """The sites a solution opens: indices where block ``"open"`` is above 0.5."""
    return np.flatnonzero(res.value("open") > 0.5).astype(np.int64)


def no_plan(model: str, res: SolveResult, t0: float) -> SitingResult:
    """The result of a solve that found no plan (no sites, no objective)."""
    return siting_result(model, res, objective=None, open_sites=None,
                         seconds=time.perf_counter() - t0)


def allocation_result(
    model: str,
    res: SolveResult,
    t0: float,
    objective: Callable[[IntArray, FloatArray], float],
) -> SitingResult:
    """Open sites, assignment shares (block ``"assign"``) and ``objective(open_sites, x)``.

    Shares are clipped to [0, 1] and solver noise below 1e-12 is set to 0.
    """
    if not res.has_solution:
        return no_plan(model, res, t0)
    x = np.clip(res.value("assign"), 0.0, 1.0)
    x[x < 1e-12] = 0.0
    open_sites = opened(res)
    return siting_result(
        model,
        res,
        objective=objective(open_sites, x),
        open_sites=open_sites,
        assignment=x,
        seconds=time.perf_counter() - t0,
    )
