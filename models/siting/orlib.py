"""Readers for OR-Library siting instances and their answer files.

* ``orlib-cap`` (Beasley 1988): ``m n``; m lines ``capacity fixed_cost``; then per
  customer ``demand`` followed by m numbers ``c_ij``, the cost of serving *all* of the
  customer's demand from facility i.
  capa, capb and capc write the word ``capacity`` where each warehouse's capacity
  stands: each file is four problems of Beasley (1988), Table 1, one per capacity
  (:data:`SET_CAPACITIES`), which the caller gives.
* ``orlib-pmed`` (Beasley 1985): ``n_vertices n_edges p``; edges ``i j cost`` (1-based,
  undirected). Distances are all-pairs shortest paths; where an edge is listed more
  than once the **last** listing wins.
* ``capopt.txt`` / ``uncapopt.txt`` / ``pmedopt.txt``: a header line, then
  ``name value`` lines; for capa-capc, ``name capacity value`` (or a line
  ``capacity value`` under the name, or ``name-capacity value``).

Files are read as UTF-8, or Latin-1 where they are not (the published ``uncapopt.txt``
has a non-UTF-8 header line).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

from reserve_opt.errors import InputError
from reserve_opt.models.benchtext import MAX_MAGNITUDE, read_published_text, whole_number

#: Capacities of Beasley (1988), Table 1, for the files that write the word ``capacity``.
SET_CAPACITIES: dict[str, tuple[float, ...]] = {
    "capa": (8000, 10000, 12000, 14000),
    "capb": (5000, 6000, 7000, 8000),
    "capc": (5000, 5750, 6500, 7250),
}
#: Most vertices of a p-median file (pmed40 has 900): distances are a dense n x n matrix.
MAX_VERTICES = 5000
#: The word that stands for the capacity in capa, capb and capc.
CAPACITY_WORD = "capacity"

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


def is_number(tok: str) -> bool:
    """Whether ``tok`` reads as a float (the OR-Library files hold only numbers)."""
    try:
        float(tok)
    except ValueError:
        return False
    return True


def _numbers(path: Path, allow_word: bool = False) -> tuple[FloatArray, list[int]]:
    """Every number of the file, and where the word ``capacity`` stood (NaN there)."""
    tokens = read_published_text(path).split()
    values = np.empty(len(tokens), dtype=np.float64)
    words: list[int] = []
    for k, tok in enumerate(tokens):
        if allow_word and tok.lower() == CAPACITY_WORD:
            words.append(k)
            values[k] = math.nan
            continue
        try:
            values[k] = float(tok)
        except ValueError:
            raise InputError(
                f"{path.name}: found {tok[:20]!r} where a number was expected; "
                f"this reader takes the numeric OR-Library layout."
            ) from None
        if not (math.isfinite(values[k]) and abs(values[k]) <= MAX_MAGNITUDE):
            raise InputError(f"{path.name}: number {k + 1} of the file, {tok[:20]}, is not a "
                             f"finite number within {MAX_MAGNITUDE:g}; fix the file.")
    return values, words


def _count(value: float, name: str, what: str, minimum: int) -> int:
    if not whole_number(value) or value < minimum:
        raise InputError(f"{name}: {what} {value:g} in the first line must be a whole number "
                         f"of at least {minimum}; fix the file.")
    return int(value)


def read_orlib_cap(path: str | Path, capacity: float | None = None, *,
                   uncapacitated: bool = False) -> CapInstance:
    """Read an ``orlib-cap`` file (cap41 ... cap134, capa, capb, capc layout).

    Parameters
    ----------
    path
        The file.
    capacity
        Every warehouse's capacity, in place of the file's: needed for capa, capb and
        capc, which write the word ``capacity`` instead (:data:`SET_CAPACITIES` lists the
        values of the literature); ``None`` keeps the file's numbers.
    uncapacitated
        The caller ignores capacities (UFLP): a file with the word ``capacity`` then reads
        without one, its capacities infinite.

    Returns
    -------
    CapInstance
        The instance.

    Raises
    ------
    InputError
        If the file is short, long, or not numeric, a count in its first line is not a
        whole number >= 1, a capacity is not a number > 0, or the file writes
        ``capacity`` and neither ``capacity`` nor ``uncapacitated`` is given.
    """
    p = Path(path)
    if capacity is not None and not (math.isfinite(capacity) and 0 < capacity <= MAX_MAGNITUDE):
        raise InputError(f"capacity {capacity:g} for {p.name}: give a positive number of "
                         "units.")
    t, words = _numbers(p, allow_word=True)
    if t.size < 2 or 0 in words or 1 in words:
        raise InputError(f"{p.name}: expected 'm n' on the first line.")
    m = _count(t[0], p.name, "m (warehouses)", 1)
    n = _count(t[1], p.name, "n (customers)", 1)
    need = 2 + 2 * m + n * (1 + m)
    if t.size != need:
        raise InputError(
            f"{p.name}: expected {need} numbers for {m} facilities and {n} customers, "
            f"found {t.size}."
        )
    stray = [k for k in words if not (k < 2 + 2 * m and k % 2 == 0)]
    if stray:
        raise InputError(f"{p.name}: found {CAPACITY_WORD!r} at number {stray[0] + 1}, where "
                         "no warehouse capacity stands; fix the file.")
    fac = t[2 : 2 + 2 * m].reshape(m, 2)
    cust = t[2 + 2 * m :].reshape(n, 1 + m)
    caps = fac[:, 0].copy()
    if capacity is not None:
        caps[:] = capacity
    elif words:
        if not uncapacitated:
            known = SET_CAPACITIES.get(p.stem.lower())
            hint = "" if known is None else (
                f" ({p.stem}: {', '.join(f'{c:g}' for c in known[:-1])} or {known[-1]:g} in "
                "Beasley 1988)")
            raise InputError(f"{p.name}: writes the word {CAPACITY_WORD!r} in place of the "
                             "warehouse capacities, one file for four problems; give the "
                             f"capacity with --capacity N{hint}.")
        caps[:] = np.inf
    problems = [f"{what} {np.flatnonzero(bad)[0] + 1}" for what, bad in (
        ("warehouse capacity", ~(caps > 0)), ("fixed cost of warehouse", fac[:, 1] < 0),
        ("demand of customer", cust[:, 0] < 0), ("costs of customer", (cust[:, 1:] < 0).any(1)))
        if bad.any()]
    if problems:
        raise InputError(f"{p.name}: the {problems[0]} is negative (or a capacity not above "
                         "0); fix the file.")
    return CapInstance(
        name=p.stem,
        capacity=caps,
        fixed_cost=fac[:, 1].copy(),
        demand=cust[:, 0].copy(),
        cost=cust[:, 1:].copy(),
    )


def read_orlib_pmed(path: str | Path) -> PMedInstance:
    """Read an ``orlib-pmed`` file and compute all-pairs shortest paths.

    Raises
    ------
    InputError
        If the file is malformed, a count or vertex is not a whole number, ``p`` is not
        from 1 to the number of vertices, a cost is negative, or the graph is disconnected.
    """
    p = Path(path)
    t, _ = _numbers(p)
    if t.size < 3:
        raise InputError(f"{p.name}: expected 'n_vertices n_edges p' on the first line.")
    n = _count(t[0], p.name, "n_vertices", 1)
    e = _count(t[1], p.name, "n_edges", 0)
    pm = _count(t[2], p.name, "p", 1)
    if n > MAX_VERTICES:
        raise InputError(f"{p.name}: n_vertices {n} is more than the {MAX_VERTICES} this reader "
                         "takes (it computes all-pairs distances).")
    if pm > n:
        raise InputError(f"{p.name}: p {pm} in the first line is more than its {n} vertices; "
                         "fix the file.")
    if t.size != 3 + 3 * e:
        raise InputError(
            f"{p.name}: expected {e} edges (3 numbers each), found {(t.size - 3) / 3:g}."
        )
    if e < n - 1:
        raise InputError(f"{p.name}: the graph is not connected.")
    edges = t[3:].reshape(e, 3)
    if e and not np.all(edges[:, :2] == np.floor(edges[:, :2])):
        raise InputError(f"{p.name}: an edge names a vertex that is not a whole number.")
    i = edges[:, 0].astype(np.int64) - 1
    j = edges[:, 1].astype(np.int64) - 1
    w = edges[:, 2]
    if e and (i.min() < 0 or j.min() < 0 or max(i.max(), j.max()) >= n):
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


@dataclass(frozen=True)
class Optima:
    """Published optima: per instance name, and per (name, capacity) for capa-capc."""

    values: dict[str, float] = field(default_factory=dict)
    by_capacity: dict[tuple[str, float], float] = field(default_factory=dict)

    def get(self, name: str, capacity: float | None = None) -> float | None:
        """The optimum of ``name`` (with all capacities ``capacity``), if listed."""
        if capacity is None:
            return self.values.get(name)
        return self.by_capacity.get((name, float(capacity)))


_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_UNSIGNED = re.compile(r"\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")


def read_optima_file(path: str | Path) -> Optima:
    """Read an answer file: ``name value``, and ``name capacity value`` for capa-capc.

    The published files start with a header line (not always UTF-8); lines that are not
    ``name`` and one or two numbers are skipped. A line of two numbers without a name
    (``capacity value``) belongs to the name above it; ``name-capacity``,
    ``name (capacity)`` and ``name capacity = c`` spell the capacity too.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    Optima
        The values found.
    """
    out = Optima()
    last: str | None = None
    for line in read_published_text(path).splitlines():
        line = line.strip()
        name = _NAME.match(line)
        rest = line[name.end():] if name else line
        numbers = [float(x) for x in _UNSIGNED.findall(rest)]
        if name is not None:
            last = name.group()
            if len(numbers) == 1:
                out.values[last] = numbers[0]
            elif len(numbers) == 2:
                out.by_capacity[(last, numbers[0])] = numbers[1]
        elif last is not None and len(numbers) == 2 and line[:1].isdigit():
            out.by_capacity[(last, numbers[0])] = numbers[1]
    return out


def read_optima(path: str | Path) -> dict[str, float]:
    """Read an answer file's ``name value`` lines into a dict (see :func:`read_optima_file`)."""
    return dict(read_optima_file(path).values)
