"""Shape and value checks shared by the siting models (errors name the offenders)."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from reserve_opt.errors import InputError
from reserve_opt.solvers import Model, SolverOptions

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def _ids(mask: npt.NDArray[np.bool_], limit: int = 10) -> str:
    idx = np.flatnonzero(mask)
    more = f" and {idx.size - limit} more" if idx.size > limit else ""
    return f"{idx[:limit].tolist()}{more}"


def matrix(value: npt.ArrayLike, what: str, *, nonneg: bool = True) -> FloatArray:
    """A finite 2-D float matrix (clients x sites)."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim != 2:
        raise InputError(f"The {what} must be a 2-D array (clients x sites), got shape {a.shape}.")
    bad = np.asarray(~np.isfinite(a).all(axis=1), dtype=bool)
    if bad.any():
        raise InputError(f"The {what} has non-finite values in client rows {_ids(bad)}.")
    if nonneg:
        neg = np.asarray((a < 0).any(axis=1), dtype=bool)
        if neg.any():
            raise InputError(f"The {what} has negative values in client rows {_ids(neg)}.")
    return a


def vector(
    value: npt.ArrayLike | None, n: int, what: str, *, default: float = 1.0, nonneg: bool = True
) -> FloatArray:
    """A finite float vector of length ``n`` (``default`` everywhere when ``None``)."""
    if value is None:
        return np.full(n, default)
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(n, float(a))
    if a.shape != (n,):
        raise InputError(f"The {what} must have length {n}, got shape {a.shape}.")
    bad = ~np.isfinite(a)
    if bad.any():
        raise InputError(f"The {what} has non-finite values at {_ids(bad)}.")
    if nonneg and (a < 0).any():
        raise InputError(f"The {what} has negative values at {_ids(a < 0)}.")
    return a


def count(p: int, n_sites: int, what: str = "p") -> int:
    """A number of sites to open, 1 <= p <= n_sites."""
    if int(p) != p or not 1 <= p <= n_sites:
        raise InputError(f"{what} must be a whole number from 1 to {n_sites} (sites), got {p!r}.")
    return int(p)


def coverage_matrix(value: npt.ArrayLike | sp.spmatrix | sp.sparray, what: str) -> sp.csr_matrix:
    """A boolean clients x sites coverage matrix as CSR with unit data."""
    if sp.issparse(value):
        a = sp.csr_matrix(value)
    else:
        arr = np.asarray(value)
        if arr.ndim != 2:
            raise InputError(f"The {what} must be 2-D (clients x sites), got shape {arr.shape}.")
        a = sp.csr_matrix(arr)
    a.eliminate_zeros()
    a = sp.csr_matrix((np.ones(a.nnz), a.indices, a.indptr), shape=a.shape)
    a.sum_duplicates()
    a.data[:] = 1.0
    return a


def coverage_from_distance(distance: npt.ArrayLike, radius: float) -> sp.csr_matrix:
    """Coverage sets from a distance matrix: client i is covered by site j iff d_ij <= radius.

    Parameters
    ----------
    distance
        ``(n_clients, n_sites)`` distances.
    radius
        Coverage radius, in the distance's units.

    Returns
    -------
    scipy.sparse.csr_matrix
        Boolean-valued (1.0) coverage matrix.
    """
    d = matrix(distance, "distance matrix")
    if not np.isfinite(radius) or radius < 0:
        raise InputError(f"The coverage radius must be a finite number >= 0, got {radius!r}.")
    return coverage_matrix(sp.csr_matrix(d <= radius), "coverage matrix")


def fixed_sites(fixed: npt.ArrayLike | None, n_sites: int, p: int | None = None) -> BoolArray:
    """Sites that must be open, as a mask over the sites (none when ``fixed`` is ``None``).

    Parameters
    ----------
    fixed
        0-based site indices that are already open (existing facilities).
    n_sites
        Number of sites.
    p
        Sites to open in all, fixed ones included, when the model has a count.

    Raises
    ------
    InputError
        On an index out of range or repeated, or more fixed sites than ``p``.
    """
    mask = np.zeros(n_sites, dtype=bool)
    if fixed is None:
        return mask
    idx = np.asarray(fixed).ravel()
    if idx.size and not np.issubdtype(idx.dtype, np.integer):
        raise InputError(f"Fixed sites must be whole site indices, got {idx[:10].tolist()}.")
    idx = idx.astype(np.int64)
    out = idx[(idx < 0) | (idx >= n_sites)]
    if out.size:
        raise InputError(f"Fixed sites {out[:10].tolist()} are not site indices 0 to "
                         f"{n_sites - 1}; name existing sites only.")
    if np.unique(idx).size != idx.size:
        raise InputError("A fixed site is listed twice; list each existing site once.")
    if p is not None and idx.size > p:
        raise InputError(f"{idx.size} sites are fixed open but only p = {p} may be open; "
                         "raise p or fix fewer sites.")
    mask[idx] = True
    return mask


def add_open(model: Model, n_sites: int, fixed: BoolArray, obj: npt.ArrayLike = 0.0,
             *, integer: bool = True) -> IntArray:
    """The block ``"open"`` (binary unless ``integer=False``), fixed sites' lower bound 1."""
    return model.add_variables("open", n_sites, lb=fixed.astype(np.float64), ub=1.0,
                               integer=integer, obj=obj)


def add_count(model: Model, y: IntArray, p: int) -> None:
    """The row ``sum_j y_j = p`` (block ``"count"``)."""
    model.add_constraints("count", (np.zeros(y.size, dtype=np.int64), y, 1.0), lb=p, ub=p,
                          n_rows=1)


def distance_problem(
    distance: npt.ArrayLike, p: int, weights: npt.ArrayLike | None, fixed: npt.ArrayLike | None
) -> tuple[FloatArray, int, FloatArray, BoolArray]:
    """Validated ``(d, p, w, fixed mask)`` of a model on a distance matrix."""
    d = matrix(distance, "distance matrix")
    n, m = d.shape
    p = count(p, m)
    return d, p, vector(weights, n, "client weights"), fixed_sites(fixed, m, p)


def rest_of_budget(opts: SolverOptions, t0: float) -> SolverOptions:
    """``opts`` with the time limit cut to what is left since ``t0`` (at least 0.01 s)."""
    if opts.time_limit_s is None:
        return opts
    left = opts.time_limit_s - (time.perf_counter() - t0)
    return replace(opts, time_limit_s=max(left, 0.01))
