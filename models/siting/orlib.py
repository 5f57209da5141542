"""Readers for OR-Library siting instances and their answer files.

* ``orlib-cap`` (Beasley 1988): ``m n``; m lines ``capacity fixed_cost``; then per
  customer ``demand`` followed by m numbers ``c_ij``, the cost of serving *all* of the
  customer's demand from facility i.
* ``orlib-pmed`` (Beasley 1985): ``n_vertices n_edges p``; edges ``i j cost`` (1-based,
  undirected). Distances are all-pairs shortest paths; where an edge is listed more
  than once the **last** listing wins.
* ``capopt.txt`` / ``uncapopt.txt`` / ``pmedopt.txt``: a header line, then
  ``name value`` lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

from reserve_opt.errors import InputError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class CapInstance:
    """An OR-Library capacitated warehouse location instance.

    Parameters
    ----------
    name
        File stem (e.g. ``"cap41"``).
    capacity, fixed_cost
        Per facility (length m).
    demand
        Per customer (length n).
    cost
        ``(n_customers, m_facilities)``: cost of serving all of customer i's demand
        from facility j (the file's layout transposed to clients x sites).
    """

    name: str
    capacity: FloatArray
    fixed_cost: FloatArray
    demand: FloatArray
    cost: FloatArray


@dataclass(frozen=True, slots=True, eq=False)
class PMedInstance:
    """An OR-Library p-median instance.

    Parameters
    ----------
    name
        File stem (e.g. ``"pmed1"``).
    distance
        ``(n, n)`` all-pairs shortest-path distances; every vertex is both a client and
        a candidate site.
    p
        Number of medians.
    """

    name: str
    distance: FloatArray
    p: int


def _numbers(path: Path) -> FloatArray:
    text = path.read_text()
    try:
        return np.array(text.split(), dtype=np.float64)
    except ValueError:
        bad = next(t for t in text.split() if not is_number(t))
        raise InputError(
            f"{path.name}: found {bad!r} where a number was expected; "
            f"this reader takes the numeric OR-Library layout."
        ) from None


def is_number(tok: str) -> bool:
    """Whether ``tok`` reads as a float (the OR-Library files hold only numbers)."""
    try:
        float(tok)
    except ValueError:
        return False
    return True


def read_orlib_cap(path: str | Path) -> CapInstance:
    """Read an ``orlib-cap`` file (cap41 ... cap134 layout).

    Raises
    ------
    InputError
        If the file is short, long, or not numeric.
    """
    p = Path(path)
    t = _numbers(p)
    if t.size < 2:
        raise InputError(f"{p.name}: expected 'm n' on the first line.")
    m, n = int(t[0]), int(t[1])
    need = 2 + 2 * m + n * (1 + m)
    if t.size != need:
        raise InputError(
            f"{p.name}: expected {need} numbers for {m} facilities and {n} customers, "
            f"found {t.size}."
        )
    fac = t[2 : 2 + 2 * m].reshape(m, 2)
    cust = t[2 + 2 * m :].reshape(n, 1 + m)
    return CapInstance(
        name=p.stem,
        capacity=fac[:, 0].copy(),
        fixed_cost=fac[:, 1].copy(),
        demand=cust[:, 0].copy(),
        cost=cust[:, 1:].copy(),
    )


def read_orlib_pmed(path: str | Path) -> PMedInstance:
    """Read an ``orlib-pmed`` file and compute all-pairs shortest paths.

    Raises
    ------
    InputError
        If the file is malformed, a cost is negative, or the graph is disconnected.
    """
    p = Path(path)
    t = _numbers(p)
    if t.size < 3:
        raise InputError(f"{p.name}: expected 'n_vertices n_edges p' on the first line.")
    n, e, pm = int(t[0]), int(t[1]), int(t[2])
    if t.size != 3 + 3 * e:
        raise InputError(
            f"{p.name}: expected {e} edges (3 numbers each), found {(t.size - 3) / 3:g}."
        )
    edges = t[3:].reshape(e, 3)
    i = edges[:, 0].astype(np.int64) - 1
    j = edges[:, 1].astype(np.int64) - 1
    w = edges[:, 2]
    if i.min() < 0 or j.min() < 0 or max(i.max(), j.max()) >= n:
        raise InputError(f"{p.name}: an edge names a vertex outside 1..{n}.")
    if (w < 0).any():
        raise InputError(
            f"{p.name}: negative edge costs at edge lines {np.flatnonzero(w < 0)[:10] + 2}."
        )
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    key = lo * n + hi
    # the last listing of a repeated edge wins: take first occurrences in reversed order
    _, first_rev = np.unique(key[::-1], return_index=True)
    last = e - 1 - first_rev
    last = last[lo[last] != hi[last]]  # self-loops carry no distance
    g = sp.csr_matrix((w[last], (lo[last], hi[last])), shape=(n, n))
    dist = csgraph.shortest_path(g, method="D", directed=False)
    if not np.isfinite(dist).all():
        raise InputError(f"{p.name}: the graph is not connected.")
    return PMedInstance(name=p.stem, distance=dist, p=pm)


def read_optima(path: str | Path) -> dict[str, float]:
    """Read an answer file (``name value`` lines after a header) into a dict."""
    out: dict[str, float] = {}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and is_number(parts[1]):
            out[parts[0]] = float(parts[1])
    return out
