"""A small matrix-form linear / mixed-integer model built in vectorised blocks.

Models build variables and constraints in named blocks from numpy arrays and
``scipy.sparse`` matrices, never one client-site pair at a time::

    m = Model("pmedian")
    y = m.add_variables("open", n_sites, ub=1, integer=True)
    x = m.add_variables("assign", (n_clients, n_sites), ub=1, obj=cost)
    rows = np.repeat(np.arange(n_clients), n_sites)
    m.add_constraints("one_site", (rows, x.ravel(), np.ones(x.size)), lb=1, ub=1)

Every backend consumes the frozen :class:`MatrixModel` that :meth:`Model.compile`
returns: ``min/max c @ x + c0`` subject to ``row_lb <= A @ x <= row_ub`` and
``col_lb <= x <= col_ub``, with ``x[integer]`` integral.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from reserve_opt.errors import InputError

Sense: TypeAlias = Literal["min", "max"]
ArrayLike: TypeAlias = npt.ArrayLike
IntArray: TypeAlias = npt.NDArray[np.int64]
FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
Triplets: TypeAlias = tuple[ArrayLike, ArrayLike, ArrayLike]


@dataclass(frozen=True, slots=True)
class Block:
    """A named, contiguous range of variables or constraint rows.

    Parameters
    ----------
    name
        Block name, unique among the model's variable blocks (or constraint blocks).
    start, stop
        Half-open range of flat indices the block occupies.
    shape
        Shape the block's values are reshaped to by the accessors.
    """

    name: str
    start: int
    stop: int
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        """Number of variables (or rows) in the block."""
        return self.stop - self.start

    def indices(self) -> IntArray:
        """Flat indices of the block, reshaped to :attr:`shape`."""
        return np.arange(self.start, self.stop, dtype=np.int64).reshape(self.shape)


_A = TypeVar("_A", bound=npt.NDArray[Any])


def _readonly(a: _A) -> _A:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, slots=True, eq=False)
class MatrixModel:
    """The compiled, immutable form of a :class:`Model` that backends solve.

    Parameters
    ----------
    name
        Model name.
    sense
        ``"min"`` or ``"max"``.
    c
        Objective coefficients, one per variable.
    c0
        Objective constant.
    A
        Constraint matrix, CSR, ``num_constraints x num_variables``, no duplicate or
        explicit-zero entries, sorted indices.
    row_lb, row_ub
        Row bounds (``-inf`` / ``inf`` where absent).
    col_lb, col_ub
        Variable bounds.
    integer
        Integrality mask.
    var_blocks, con_blocks
        Named blocks, in order of creation.
    start
        Optional starting point for a MIP (a "hint"): one value per variable, ``NaN``
        where there is none. Backends that take hints (HiGHS and SCIP through MathOpt)
        pass the finite values on and complete the rest themselves; the others ignore it.
    """

    name: str
    sense: Sense
    c: FloatArray
    c0: float
    A: sp.csr_matrix
    row_lb: FloatArray
    row_ub: FloatArray
    col_lb: FloatArray
    col_ub: FloatArray
    integer: BoolArray
    var_blocks: Mapping[str, Block]
    con_blocks: Mapping[str, Block]
    start: FloatArray | None = None

    @property
    def num_variables(self) -> int:
        """Number of variables."""
        return int(self.c.shape[0])

    @property
    def num_constraints(self) -> int:
        """Number of constraint rows."""
        return int(self.A.shape[0])

    @property
    def is_mip(self) -> bool:
        """Whether any variable is integral."""
        return bool(self.integer.any())

    def objective_value(self, x: FloatArray) -> float:
        """Objective ``c @ x + c0`` of a primal vector, computed without a solver."""
        return float(self.c @ x) + self.c0

    def max_violation(self, x: FloatArray) -> float:
        """Largest bound, row or integrality violation of a primal vector.

        Parameters
        ----------
        x
            One value per variable.

        Returns
        -------
        float
            0 for a feasible point; otherwise the largest absolute violation.
        """
        ax = self.A @ x
        parts = [
            np.maximum(self.row_lb - ax, 0.0),
            np.maximum(ax - self.row_ub, 0.0),
            np.maximum(self.col_lb - x, 0.0),
            np.maximum(x - self.col_ub, 0.0),
            np.abs(x[self.integer] - np.round(x[self.integer])),
        ]
        return float(max((p.max() if p.size else 0.0) for p in parts))


class Model:
    """Mutable builder of a matrix-form LP / MIP.

    Parameters
    ----------
    name
        Model name, used in logs and exported files.
    sense
        ``"min"`` (default) or ``"max"``.

    Notes
    -----
    Variable and constraint blocks are appended in order; each ``add_*`` call returns
    the flat indices it created, shaped like the block, so that later blocks can refer
    to them with plain numpy indexing.
    """

    def __init__(self, name: str = "model", sense: Sense = "min") -> None:
        if sense not in ("min", "max"):
            raise InputError(f"Model sense must be 'min' or 'max', got {sense!r}.")
        self.name = name
        self.sense: Sense = sense
        self.objective_constant = 0.0
        self._n_vars = 0
        self._n_rows = 0
        self._lb: list[FloatArray] = []
        self._ub: list[FloatArray] = []
        self._int: list[BoolArray] = []
        self._obj: list[FloatArray] = []
        self._obj_extra: list[tuple[IntArray, FloatArray]] = []
        self._rows: list[tuple[IntArray, IntArray, FloatArray]] = []
        self._row_lb: list[FloatArray] = []
        self._row_ub: list[FloatArray] = []
        self._var_blocks: dict[str, Block] = {}
        self._con_blocks: dict[str, Block] = {}
        self._compiled: MatrixModel | None = None

    # ------------------------------------------------------------------ sizes
    @property
    def num_variables(self) -> int:
        """Number of variables added so far."""
        return self._n_vars

    @property
    def num_constraints(self) -> int:
        """Number of constraint rows added so far."""
        return self._n_rows

    @property
    def var_blocks(self) -> Mapping[str, Block]:
        """Variable blocks by name."""
        return dict(self._var_blocks)

    @property
    def con_blocks(self) -> Mapping[str, Block]:
        """Constraint blocks by name."""
        return dict(self._con_blocks)

    # -------------------------------------------------------------- variables
    def add_variables(
        self,
        name: str,
        shape: int | tuple[int, ...],
        *,
        lb: ArrayLike = 0.0,
        ub: ArrayLike = math.inf,
        integer: bool | ArrayLike = False,
        obj: ArrayLike = 0.0,
    ) -> IntArray:
        """Add a named block of variables.

        Parameters
        ----------
        name
            Unique block name.
        shape
            Block shape; the block holds ``prod(shape)`` variables in C order.
        lb, ub
            Bounds, scalars or arrays broadcastable to ``shape``; ``-inf`` / ``inf``
            for none.
        integer
            Integrality, a bool or a bool array broadcastable to ``shape``.
        obj
            Objective coefficients, broadcastable to ``shape``.

        Returns
        -------
        numpy.ndarray
            The new variables' flat indices (int64), shaped like ``shape``.

        Raises
        ------
        InputError
            On a duplicate name, a bound or coefficient that is NaN, or ``lb > ub``.
        """
        shp = (shape,) if isinstance(shape, int | np.integer) else tuple(int(s) for s in shape)
        if any(s < 0 for s in shp):
            raise InputError(f"Variable block {name!r} has a negative dimension in {shp}.")
        self._check_new_name(name, self._var_blocks, "variable")
        lo = _broadcast_float(lb, shp, f"lower bounds of variable block {name!r}")
        hi = _broadcast_float(ub, shp, f"upper bounds of variable block {name!r}")
        cc = _broadcast_float(obj, shp, f"objective of variable block {name!r}")
        if not np.isfinite(cc).all():
            raise InputError(f"Objective coefficients of variable block {name!r} must be finite.")
        bad = np.flatnonzero(lo > hi)
        if bad.size:
            raise InputError(
                f"Variable block {name!r} has lb > ub at flat positions {bad[:10].tolist()}."
            )
        isint = np.broadcast_to(np.asarray(integer, dtype=bool), shp).ravel().copy()
        n = lo.size
        block = Block(name, self._n_vars, self._n_vars + n, shp)
        self._var_blocks[name] = block
        self._lb.append(lo)
        self._ub.append(hi)
        self._int.append(isint)
        self._obj.append(cc)
        self._n_vars += n
        self._compiled = None
        return block.indices()

    def add_binaries(
        self, name: str, shape: int | tuple[int, ...], *, obj: ArrayLike = 0.0
    ) -> IntArray:
        """Add a block of 0/1 variables; see :meth:`add_variables`."""
        return self.add_variables(name, shape, lb=0.0, ub=1.0, integer=True, obj=obj)

    def add_objective(self, cols: ArrayLike, coeffs: ArrayLike) -> None:
        """Add ``coeffs`` to the objective coefficients of variables ``cols``.

        Repeated indices accumulate.

        Parameters
        ----------
        cols
            Flat variable indices.
        coeffs
            Coefficients, broadcastable to ``cols``.
        """
        ci = np.asarray(cols, dtype=np.int64).ravel()
        cv = np.broadcast_to(np.asarray(coeffs, dtype=np.float64), np.shape(cols)).ravel()
        self._check_cols(ci, "objective")
        if not np.isfinite(cv).all():
            raise InputError("Objective coefficients must be finite.")
        self._obj_extra.append((ci.copy(), cv.copy()))
        self._compiled = None

    # ------------------------------------------------------------ constraints
    def add_constraints(
        self,
        name: str,
        coeffs: sp.spmatrix | sp.sparray | Triplets,
        *,
        lb: ArrayLike = -math.inf,
        ub: ArrayLike = math.inf,
        n_rows: int | None = None,
    ) -> IntArray:
        """Add a named block of rows ``lb <= coeffs @ x <= ub``.

        Parameters
        ----------
        name
            Unique block name.
        coeffs
            Either a scipy sparse matrix with one row per constraint and at most
            :attr:`num_variables` columns (columns are flat variable indices), or a
            COO triplet ``(rows, cols, vals)`` with block-local row numbers and flat
            variable indices. Duplicate entries are summed.
        lb, ub
            Row bounds, scalars or arrays of length ``n_rows``. Use ``lb == ub`` for
            equalities.
        n_rows
            Number of rows; required for triplets when trailing rows are empty,
            otherwise taken from the data.

        Returns
        -------
        numpy.ndarray
            Flat row indices of the new block (int64).

        Raises
        ------
        InputError
            On a duplicate name, out-of-range or non-finite data, or ``lb > ub``.
        """
        self._check_new_name(name, self._con_blocks, "constraint")
        if isinstance(coeffs, tuple):
            r = np.asarray(coeffs[0], dtype=np.int64).ravel()
            c = np.asarray(coeffs[1], dtype=np.int64).ravel()
            v = np.broadcast_to(np.asarray(coeffs[2], dtype=np.float64), np.shape(coeffs[0]))
            v = v.ravel()
            if not (r.shape == c.shape == v.shape):
                raise InputError(
                    f"Constraint block {name!r}: rows, cols and vals must have one length, "
                    f"got {r.shape[0]}, {c.shape[0]}, {v.shape[0]}."
                )
            if r.size and r.min() < 0:
                raise InputError(f"Constraint block {name!r} has a negative row number.")
            m = int(n_rows) if n_rows is not None else (int(r.max()) + 1 if r.size else 0)
            if r.size and r.max() >= m:
                raise InputError(f"Constraint block {name!r} has a row number >= n_rows={m}.")
        else:
            coo = sp.coo_matrix(coeffs)
            m = int(coo.shape[0])
            if n_rows is not None and n_rows != m:
                raise InputError(
                    f"Constraint block {name!r}: n_rows={n_rows} but the matrix has {m} rows."
                )
            if coo.shape[1] > self._n_vars:
                raise InputError(
                    f"Constraint block {name!r} has {coo.shape[1]} columns but the model has "
                    f"only {self._n_vars} variables."
                )
            r = coo.row.astype(np.int64)
            c = coo.col.astype(np.int64)
            v = coo.data.astype(np.float64)
        self._check_cols(c, f"constraint block {name!r}")
        if not np.isfinite(v).all():
            raise InputError(f"Coefficients of constraint block {name!r} must be finite.")
        lo = _broadcast_float(lb, (m,), f"lower bounds of constraint block {name!r}")
        hi = _broadcast_float(ub, (m,), f"upper bounds of constraint block {name!r}")
        bad = np.flatnonzero(lo > hi)
        if bad.size:
            raise InputError(f"Constraint block {name!r} has lb > ub at rows {bad[:10].tolist()}.")
        block = Block(name, self._n_rows, self._n_rows + m, (m,))
        self._con_blocks[name] = block
        self._rows.append((r + self._n_rows, c.copy(), v.copy()))
        self._row_lb.append(lo)
        self._row_ub.append(hi)
        self._n_rows += m
        self._compiled = None
        return block.indices()

    # ---------------------------------------------------------------- compile
    def compile(self) -> MatrixModel:
        """Freeze the model into a :class:`MatrixModel` (cached until the next change)."""
        if self._compiled is not None and self._compiled.c0 == self.objective_constant:
            return self._compiled
        n = self._n_vars

        def cat(parts: list[FloatArray]) -> FloatArray:
            return np.concatenate(parts) if parts else np.zeros(0)

        c = cat(self._obj)
        for ci, cv in self._obj_extra:
            np.add.at(c, ci, cv)
        if self._rows:
            r = np.concatenate([t[0] for t in self._rows])
            cc = np.concatenate([t[1] for t in self._rows])
            v = np.concatenate([t[2] for t in self._rows])
        else:
            r = cc = np.zeros(0, dtype=np.int64)
            v = np.zeros(0)
        a = sp.csr_matrix((v, (r, cc)), shape=(self._n_rows, n))  # sums duplicates
        a.eliminate_zeros()
        a.sort_indices()
        integer = np.concatenate(self._int) if self._int else np.zeros(0, dtype=bool)
        self._compiled = MatrixModel(
            name=self.name,
            sense=self.sense,
            c=_readonly(c),
            c0=float(self.objective_constant),
            A=a,
            row_lb=_readonly(cat(self._row_lb)),
            row_ub=_readonly(cat(self._row_ub)),
            col_lb=_readonly(cat(self._lb)),
            col_ub=_readonly(cat(self._ub)),
            integer=_readonly(integer),
            var_blocks=dict(self._var_blocks),
            con_blocks=dict(self._con_blocks),
        )
        return self._compiled

    # ---------------------------------------------------------------- helpers
    def _check_new_name(self, name: str, blocks: Mapping[str, Block], kind: str) -> None:
        if not name:
            raise InputError(f"A {kind} block needs a non-empty name.")
        if name in blocks:
            raise InputError(f"The model already has a {kind} block named {name!r}.")

    def _check_cols(self, cols: IntArray, what: str) -> None:
        if cols.size and (cols.min() < 0 or cols.max() >= self._n_vars):
            raise InputError(
                f"The {what} refers to variable indices outside 0..{self._n_vars - 1}."
            )


def _broadcast_float(value: ArrayLike, shape: tuple[int, ...], what: str) -> FloatArray:
    try:
        arr = np.broadcast_to(np.asarray(value, dtype=np.float64), shape)
    except ValueError:
        raise InputError(
            f"The {what} have shape {np.shape(value)}, which does not fit shape {shape}."
        ) from None
    if np.isnan(arr).any():
        raise InputError(f"The {what} contain NaN.")
    return arr.ravel().copy()
