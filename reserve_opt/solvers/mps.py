"""Vectorised free-format MPS writer for a :class:`MatrixModel`.

Variables are named ``C<j>`` and rows ``R<i>`` after their flat indices, so a solver's
solution file maps straight back to array positions. The objective is always written
as a minimisation (a maximisation is negated); its constant is left out.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reserve_opt.solvers.model import MatrixModel


def kept_rows(model: MatrixModel) -> npt.NDArray[np.int64]:
    """Rows written to the file: every row with at least one finite bound."""
    free = np.isneginf(model.row_lb) & np.isposinf(model.row_ub)
    return np.flatnonzero(~free).astype(np.int64)


def mps_text(model: MatrixModel) -> str:
    """Return the model as free-format MPS text.

    Parameters
    ----------
    model
        Compiled model.

    Returns
    -------
    str
        MPS text; rows with no finite bound are omitted.
    """
    c = -model.c if model.sense == "max" else model.c
    rows = kept_rows(model)
    lo, hi = model.row_lb[rows], model.row_ub[rows]
    eq = lo == hi
    le = ~eq & np.isneginf(lo)
    ge = ~eq & ~le  # lower bound finite (possibly ranged)
    rtype = np.where(eq, "E", np.where(le, "L", "G"))
    out: list[str] = [f"NAME {_safe_name(model.name)}", "ROWS", " N OBJ"]
    out.extend(f" {t} R{i}" for t, i in zip(rtype.tolist(), rows.tolist(), strict=True))

    # COLUMNS: matrix entries of kept rows plus objective entries, in column order.
    a = model.A[rows].tocsc()
    a.sort_indices()
    n = model.num_variables
    a_cols = np.repeat(np.arange(n), np.diff(a.indptr))
    a_rows = rows[a.indices]  # back to original row numbers
    empty = np.diff(a.indptr) == 0
    obj_cols = np.flatnonzero((c != 0) | empty)
    cols = np.concatenate([obj_cols, a_cols])
    rnames = np.concatenate([np.full(obj_cols.size, -1), a_rows])
    vals = np.concatenate([c[obj_cols], a.data])
    order = np.argsort(cols, kind="stable")
    cols, rnames, vals = cols[order], rnames[order], vals[order]
    lines = [
        f" C{j} {'OBJ' if r < 0 else 'R' + str(r)} {v!r}"
        for j, r, v in zip(cols.tolist(), rnames.tolist(), vals.tolist(), strict=True)
    ]
    starts = np.searchsorted(cols, np.arange(n + 1))  # first line of each column
    out.append("COLUMNS")
    integer = model.integer
    if n:
        change = np.flatnonzero(np.diff(integer.astype(np.int8))) + 1
        bounds = np.concatenate([[0], change, [n]])
        for k in range(bounds.size - 1):
            s, e = int(bounds[k]), int(bounds[k + 1])
            if integer[s]:
                out.append(f" M{k} 'MARKER' 'INTORG'")
            out.extend(lines[starts[s] : starts[e]])
            if integer[s]:
                out.append(f" M{k}E 'MARKER' 'INTEND'")

    out.append("RHS")
    rhs = np.where(le, hi, lo)
    nz = np.flatnonzero(rhs != 0)
    out.extend(f" RHS R{i} {v!r}" for i, v in zip(rows[nz].tolist(), rhs[nz].tolist(), strict=True))
    ranged = np.flatnonzero(ge & np.isfinite(hi))
    if ranged.size:
        out.append("RANGES")
        out.extend(
            f" RNG R{i} {v!r}"
            for i, v in zip(rows[ranged].tolist(), (hi - lo)[ranged].tolist(), strict=True)
        )

    out.append("BOUNDS")
    for j, (lb, ub) in enumerate(zip(model.col_lb.tolist(), model.col_ub.tolist(), strict=True)):
        if lb == ub:
            out.append(f" FX BND C{j} {lb!r}")
            continue
        out.append(f" MI BND C{j}" if math.isinf(lb) else f" LO BND C{j} {lb!r}")
        out.append(f" PL BND C{j}" if math.isinf(ub) else f" UP BND C{j} {ub!r}")
    out.append("ENDATA")
    out.append("")
    return "\n".join(out)


def write_mps(model: MatrixModel, path: str | Path) -> Path:
    """Write the model to a free-format MPS file and return its path."""
    p = Path(path)
    p.write_text(mps_text(model))
    return p


def _safe_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_-." else "_" for ch in name) or "model"
