"""Independent checker: recompute a siting plan's feasibility and objective from the data.

Nothing here touches a solver or a model: it reads the instance arrays and the
:class:`~reserve_opt.models.siting.result.SitingResult` and recomputes everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from reserve_opt.models.siting.result import SitingResult

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Outcome of :func:`check`.

    Parameters
    ----------
    ok
        No problem found.
    objective
        Objective recomputed from the plan and the data.
    problems
        One sentence per problem.
    """

    ok: bool
    objective: float
    problems: tuple[str, ...] = field(default_factory=tuple)


def check(
    result: SitingResult,
    *,
    distance: npt.ArrayLike | None = None,
    cost: npt.ArrayLike | None = None,
    weights: npt.ArrayLike | None = None,
    demand: npt.ArrayLike | None = None,
    capacity: npt.ArrayLike | None = None,
    fixed_cost: npt.ArrayLike | None = None,
    coverage: npt.ArrayLike | sp.spmatrix | sp.sparray | None = None,
    p: int | None = None,
    tol: float = 1e-6,
) -> CheckReport:
    """Recompute a plan's feasibility and objective.

    Pass the data of the model that produced ``result``:

    * p-median: ``distance``, ``p``, optional ``weights``;
    * max coverage: ``coverage``, ``p``, optional ``weights``;
    * set cover: ``coverage``, optional ``fixed_cost``;
    * facility location: ``cost``, ``demand``, ``fixed_cost``, optional ``capacity``.

    Parameters
    ----------
    result
        The plan to check.
    tol
        Relative tolerance for capacities, shares and the objective.

    Returns
    -------
    CheckReport
        ``ok`` is true when the plan is feasible and its reported objective matches
        the recomputed one.
    """
    problems: list[str] = []
    if not result.has_solution or result.objective is None:
        return CheckReport(False, float("nan"), ("The result carries no plan.",))
    sites = np.asarray(result.open_sites, dtype=np.int64)
    if np.unique(sites).size != sites.size:
        problems.append("open_sites lists a site twice.")
    if p is not None and sites.size != p:
        problems.append(f"{sites.size} sites are open, expected p = {p}.")
    objective = float("nan")

    if result.model == "p-median":
        d = np.asarray(distance, dtype=np.float64)
        n, m = d.shape
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
        if sites.size == 0:
            problems.append("No site is open.")
        else:
            best = d[:, sites].min(axis=1)
            objective = float(w @ best)
            x = result.assignment
            if x is None or x.shape != (n, m):
                problems.append("The assignment is missing or has the wrong shape.")
            else:
                _shares(x, sites, problems, tol)
                used = float((w[:, None] * d * x).sum())
                if abs(used - objective) > tol * max(1.0, abs(objective)):
                    problems.append(
                        f"Clients are not all at their nearest open site: assignment costs "
                        f"{used:.6f}, nearest-site cost is {objective:.6f}."
                    )
    elif result.model == "facility-location":
        c = np.asarray(cost, dtype=np.float64)
        n, m = c.shape
        x = result.assignment
        f = np.zeros(m) if fixed_cost is None else np.asarray(fixed_cost, dtype=np.float64)
        if x is None or x.shape != (n, m):
            problems.append("The assignment is missing or has the wrong shape.")
        else:
            _shares(x, sites, problems, tol)
            objective = float(f[sites].sum() + (c * x).sum())
            if capacity is not None:
                dem = np.asarray(demand, dtype=np.float64)
                load = dem @ x
                cap = np.asarray(capacity, dtype=np.float64)
                over = np.flatnonzero(load > cap * (1 + tol) + tol)
                if over.size:
                    problems.append(
                        f"Sites {over[:10].tolist()} serve more than their capacity "
                        f"(worst excess {float((load - cap)[over].max()):.6g})."
                    )
    elif result.model in ("max-coverage", "set-cover"):
        a = sp.csr_matrix(coverage)
        n, m = a.shape
        covered = np.asarray((a[:, sites] != 0).sum(axis=1)).ravel() > 0
        if result.covered is None or not np.array_equal(np.asarray(result.covered), covered):
            problems.append("The reported coverage differs from the coverage of the open sites.")
        if result.model == "max-coverage":
            w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
            objective = float(w[covered].sum())
        else:
            f = np.ones(m) if fixed_cost is None else np.asarray(fixed_cost, dtype=np.float64)
            objective = float(f[sites].sum())
            missing = np.flatnonzero(~covered)
            if missing.size:
                problems.append(f"Clients {missing[:10].tolist()} are not covered.")
    else:
        problems.append(f"Unknown model {result.model!r}.")

    if np.isfinite(objective) and abs(objective - result.objective) > tol * max(
        1.0, abs(objective)
    ):
        problems.append(
            f"Reported objective {result.objective:.6f} differs from the recomputed "
            f"{objective:.6f}."
        )
    if result.bound is not None and np.isfinite(objective):
        sense = -1.0 if result.model == "max-coverage" else 1.0
        if sense * (result.bound - objective) > tol * max(1.0, abs(objective)):
            problems.append(
                f"The bound {result.bound:.6f} is on the wrong side of the objective "
                f"{objective:.6f}."
            )
    return CheckReport(not problems, objective, tuple(problems))


def _shares(x: FloatArray, sites: npt.NDArray[np.int64], problems: list[str], tol: float) -> None:
    if (x < -tol).any() or (x > 1 + tol).any():
        problems.append("Assignment shares lie outside [0, 1].")
    short = np.flatnonzero(np.abs(x.sum(axis=1) - 1.0) > tol)
    if short.size:
        problems.append(f"Clients {short[:10].tolist()} are not fully served.")
    closed = np.ones(x.shape[1], dtype=bool)
    closed[sites] = False
    bad = np.flatnonzero((x[:, closed] > tol).any(axis=1))
    if bad.size:
        problems.append(f"Clients {bad[:10].tolist()} are served by a closed site.")
