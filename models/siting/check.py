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
    fixed: npt.ArrayLike | None = None,
    single_source: bool = True,
    tol: float = 1e-6,
) -> CheckReport:
    """Recompute a plan's feasibility and objective.

    Pass the data of the model that produced ``result``:

    * p-median: ``distance``, ``p``, optional ``weights``;
    * p-center: ``distance``, ``p``, optional ``weights``;
    * capacitated p-median: ``distance``, ``p``, ``demand``, ``capacity``,
      ``single_source``;
    * max coverage: ``coverage``, ``p``, optional ``weights``;
    * set cover: ``coverage``, optional ``fixed_cost``;
    * backup cover: ``coverage``, optional ``weights``;
    * facility location: ``cost``, ``demand``, ``fixed_cost``, optional ``capacity``.

    Every model takes ``fixed``: indices of sites that must be open. The models added
    later (p-center, capacitated p-median, backup cover) are checked with plain loops
    over clients and sites, sharing nothing with the models' array code.

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
    if fixed is not None:
        is_open = set(sites.tolist())
        shut = [int(j) for j in np.asarray(fixed).ravel() if int(j) not in is_open]
        if shut:
            problems.append(f"Fixed sites {shut[:10]} are not open.")
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
    elif result.model == "p-center":
        objective = _check_center(result, distance, weights, sites, problems, tol)
    elif result.model == "capacitated-p-median":
        objective = _check_capacitated(result, distance, demand, capacity, sites,
                                       single_source, problems, tol)
    elif result.model == "backup-cover":
        objective = _check_backup(result, coverage, weights, sites, problems)
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
        sense = -1.0 if result.model in ("max-coverage", "backup-cover") else 1.0
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


def _rows(value: npt.ArrayLike | None) -> list[list[float]]:
    return [[float(v) for v in row] for row in np.asarray(value, dtype=np.float64)]


def _assignment_rows(result: SitingResult, n: int, m: int,
                     problems: list[str]) -> list[list[float]] | None:
    x = result.assignment
    if x is None or x.shape != (n, m):
        problems.append("The assignment is missing or has the wrong shape.")
        return None
    return _rows(x)


def _check_center(result: SitingResult, distance: npt.ArrayLike | None,
                  weights: npt.ArrayLike | None, sites: npt.NDArray[np.int64],
                  problems: list[str], tol: float) -> float:
    """p-center: the largest weighted distance from a client to its nearest open site."""
    d = _rows(distance)
    n, m = len(d), len(d[0]) if d else 0
    w = [1.0] * n if weights is None else [float(v) for v in np.asarray(weights).ravel()]
    if not sites.size:
        problems.append("No site is open.")
        return float("nan")
    worst = 0.0
    for i in range(n):
        if w[i] > 0:
            near = min(d[i][j] for j in sites.tolist())
            worst = max(worst, w[i] * near)
    x = _assignment_rows(result, n, m, problems)
    if x is not None:
        _shares(np.asarray(x), sites, problems, tol)
        for i in range(n):
            for j in range(m):
                if x[i][j] > tol and w[i] * d[i][j] > worst * (1 + tol) + tol:
                    problems.append(f"Client {i} is assigned beyond the reported radius.")
                    break
    return worst


def _check_capacitated(result: SitingResult, distance: npt.ArrayLike | None,
                       demand: npt.ArrayLike | None, capacity: npt.ArrayLike | None,
                       sites: npt.NDArray[np.int64], single_source: bool,
                       problems: list[str], tol: float) -> float:
    """Capacitated p-median: shares, single sourcing, capacities and the weighted distance."""
    d = _rows(distance)
    n, m = len(d), len(d[0]) if d else 0
    q = [float(v) for v in np.asarray(demand).ravel()]
    s = [float(v) for v in np.asarray(capacity).ravel()]
    x = _assignment_rows(result, n, m, problems)
    if x is None:
        return float("nan")
    _shares(np.asarray(x), sites, problems, tol)
    total = 0.0
    load = [0.0] * m
    split = []
    for i in range(n):
        for j in range(m):
            total += q[i] * d[i][j] * x[i][j]
            load[j] += q[i] * x[i][j]
            if single_source and tol < x[i][j] < 1 - tol:
                split.append(i)
    if split:
        problems.append(f"Clients {sorted(set(split))[:10]} are split between sites.")
    over = [j for j in range(m) if load[j] > s[j] * (1 + tol) + tol]
    if over:
        problems.append(f"Sites {over[:10]} serve more than their capacity.")
    return total


def _check_backup(result: SitingResult, coverage: npt.ArrayLike | sp.spmatrix | sp.sparray
                  | None, weights: npt.ArrayLike | None, sites: npt.NDArray[np.int64],
                  problems: list[str]) -> float:
    """Backup cover: every client covered once; backed-up weight of those covered twice."""
    a = sp.csr_matrix(coverage)
    n = a.shape[0]
    w = [1.0] * n if weights is None else [float(v) for v in np.asarray(weights).ravel()]
    is_open = set(sites.tolist())
    times = []
    for i in range(n):
        cols = a.indices[a.indptr[i]:a.indptr[i + 1]].tolist()
        times.append(sum(1 for j in cols if j in is_open))
    missing = [i for i in range(n) if times[i] == 0]
    if missing:
        problems.append(f"Clients {missing[:10]} are not covered.")
    twice = [t >= 2 for t in times]
    if result.backup is None or [bool(b) for b in result.backup] != twice:
        problems.append("The reported backup coverage differs from that of the open sites.")
    if result.covered is None or [bool(c) for c in result.covered] != [t >= 1 for t in times]:
        problems.append("The reported coverage differs from the coverage of the open sites.")
    return sum(w[i] for i in range(n) if twice[i])
