"""Fast knock-out re-solves: one reduced LP in blocks, exact screening, warm GLOP re-solves.

The blocks a knock-out really changes are the only ones re-solved.

The frozen second stage (see :mod:`reserve_opt.analysis.knockout`) is an LP once its fixed
columns are folded into the row bounds: every contract is signed (``sign`` fixed at 1), the
budget is 0 and every good has a purchase cost, so ``buy`` is 0. A knock-out then changes
only bounds of that reduced LP:

* losing government warehouse g: its existing stock e_g acts in every row exactly as a fixed
  purchase of e_g would (stock balance, share caps, protect_own surplus), so the rows'
  bounds move by ``A[:, buy_g] @ e_g``; a protect_own surplus row ``P <= H - d`` becomes
  ``P <= max(H' - d, 0)`` (the plain model's ``P <= 0`` once the region no longer covers
  its own need);
* losing a contract holder: its ``sign`` columns move from 1 to 0, which zeroes the
  contract's supply and its part of its region's share caps and surplus;
* cutting region pair a--b: the flow columns of sources located in a (or b) to b (or a)
  get upper bound 0.

The reduced LP falls apart into independent blocks (connected components of its
row-column graph; on the synthetic instances one per commodity and scenario plus small
islands). A knock-out touches only the blocks holding a changed bound, and each touched
block is first **screened**:

**Screen (exact).** Let x* be an optimal solution of the frozen base LP and x' the same
point with the lost warehouse's unused stock (its ``unused`` column) lowered by the stock
it loses. If x' satisfies every bound and row of the knocked-out block, x' is optimal for
it. Proof: the knock-out only lowers supply, so any feasible point of the knocked-out LP,
with the lost stock put back as unused (and the lost contracts signed again), is feasible
for the base LP (stock rows hold, share caps and surpluses only grow with stock, flows
from the lost facility are 0); its cost rises by exactly the holding cost h of the stock
put back. Hence opt(knock-out) >= opt(base) - h, and x' reaches it. So the block keeps its
shortage and its cost falls by the holding cost of the lost unused stock. In words: a
warehouse or contract from which the base solution draws nothing, whose loss leaves its
region's lending within the share caps and the protect_own surplus, adds no shortage; a
region pair whose cut flows are all 0 in the block changes nothing there. The screen is
exact when the base LP was solved to optimality (it is not used otherwise); the shortage
it reports is that of an optimal solution, so a plain re-solve can differ only by picking
another optimum of equal total cost.

**Warm re-solve.** A block that fails the screen is re-solved by GLOP (OR-Tools MathOpt,
dual simplex, presolve off) kept alive per block: the knock-out's bounds are sent as an
incremental update, solved from the basis of the previous solve, and reverted. HiGHS
through OR-Tools or scipy rebuilds its model on every solve and cannot start from a basis.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

from reserve_opt.models.placement.model import Layout, PlacementData
from reserve_opt.solvers import MatrixModel

__all__ = ["FastOutcome", "FrozenLP", "Knockout", "evaluate", "frozen_lp"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# a bound counts as met within this tolerance (relative to the bound's size, at least 1)
_FEAS_TOL = 1e-7


@dataclass(frozen=True, slots=True)
class Knockout:
    """One knock-out: a facility (warehouse index and contract indices) or a region pair."""

    target_type: str  # "facility" or "region_pair"
    target: str
    gov: int = -1  # government warehouse position, -1 for none
    contracts: tuple[int, ...] = ()
    pair: tuple[str, str] | None = None  # region ids


@dataclass(frozen=True, slots=True)
class FastOutcome:
    """What a knock-out changes against the frozen base.

    ``d_short`` per commodity (expected units), ``d_short_cost`` and ``d_cost`` (expected
    shortage penalty and second-stage cost, currency); ``solved_by`` is ``screen`` when no
    block had to be re-solved, else ``warm re-solve``.
    """

    target_type: str
    target: str
    status: str
    d_short: tuple[float, ...]
    d_short_cost: float
    d_cost: float
    solved_by: str


@dataclass(eq=False)
class FrozenLP:
    """The frozen second stage as a reduced LP in blocks, with the base solution.

    Only arrays: it is shipped to Dask workers as it is.
    """

    token: str
    c: FloatArray
    A: sp.csr_matrix
    row_lb: FloatArray
    row_ub: FloatArray
    col_lb: FloatArray
    col_ub: FloatArray
    x: FloatArray  # base optimum, reduced columns
    comp_col: IntArray
    comp_row: IntArray
    protect: npt.NDArray[np.bool_]  # protect_own surplus rows
    z_of_row: IntArray  # the unused-stock column of a stock balance row, else -1
    ph_gov: sp.csc_matrix  # rows x (G*K): the buy columns (existing stock acts as them)
    existing: FloatArray  # (G, K)
    ph_con: sp.csc_matrix  # rows x C: the sign columns (fixed at 1)
    short_col: IntArray  # reduced index of each shortage column
    short_k: IntArray
    short_p: FloatArray  # scenario probability
    penalty: FloatArray  # (K,)
    flow_col: IntArray  # reduced index of each flow column
    flow_src_region: IntArray  # region of its source
    flow_region: IntArray  # region it serves
    region_ids: tuple[str, ...]
    time_limit_s: float | None = None
    _blocks: dict[int, tuple[IntArray, IntArray, sp.csr_matrix]] = field(
        default_factory=dict, repr=False)

    def block(self, comp: int) -> tuple[IntArray, IntArray, sp.csr_matrix]:
        """Columns, rows (reduced indices) and matrix of block ``comp``, kept once built."""
        if comp not in self._blocks:
            cols = np.flatnonzero(self.comp_col == comp)
            rows = np.flatnonzero(self.comp_row == comp)
            a = self.A[rows][:, cols].tocsr()
            a.sort_indices()
            self._blocks[comp] = (cols, rows, a)
        return self._blocks[comp]

    def __getstate__(self) -> dict[str, Any]:
        state = {k: getattr(self, k) for k in self.__dataclass_fields__}
        state["_blocks"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            setattr(self, k, v)


def frozen_lp(data: PlacementData, model: MatrixModel, layout: Layout, x_full: FloatArray,
              time_limit_s: float | None = None) -> FrozenLP | None:
    """The reduced, blocked LP of a frozen second stage, or ``None`` if it is not one.

    Parameters
    ----------
    data, model, layout
        The frozen base: prepared data, its compiled model and layout.
    x_full
        An optimal solution of ``model``.
    time_limit_s
        Seconds per block re-solve.

    Returns
    -------
    FrozenLP or None
        ``None`` when the model is not the frozen LP this method assumes (a free integer
        column, a positive budget, a good without purchase cost, CVaR rows).
    """
    fixed = model.col_lb == model.col_ub
    buy = model.var_blocks["buy"]
    if (model.integer & ~fixed).any() or "cvar" in model.con_blocks:
        return None
    if data.budget is None or data.budget > 0 or not (data.purchase > 0).all():
        return None
    fixed[buy.start:buy.stop] = True  # the zero budget holds every buy at 0
    val = np.where(fixed, model.col_lb, 0.0)
    val[buy.start:buy.stop] = 0.0
    free = np.flatnonzero(~fixed)
    pos = np.full(model.num_variables, -1, dtype=np.int64)
    pos[free] = np.arange(free.size)
    A = model.A.tocsc()
    shift = A[:, np.flatnonzero(fixed)] @ val[fixed]
    Ar = A[:, free].tocsr()
    nr = Ar.shape[0]
    graph = sp.bmat([[None, Ar], [Ar.T, None]]).tocsr()
    _, lab = csgraph.connected_components(graph, directed=False)
    z = model.var_blocks["unused"]
    sb = model.con_blocks["stock_balance"]
    z_of_row = np.full(nr, -1, dtype=np.int64)
    z_of_row[sb.start:sb.stop] = pos[z.start:z.stop]  # same (s, g, k) order
    protect = np.zeros(nr, dtype=bool)
    if "protect_own" in model.con_blocks:
        pb = model.con_blocks["protect_own"]
        protect[pb.start:pb.stop] = True
    sign = model.var_blocks["sign"]
    w = model.var_blocks["short"]
    fl = model.var_blocks["flow"]
    inst = data.instance
    src_reg = np.array([inst.region_index[inst.facility(s).region]
                        for s in data.arcs.source_ids], dtype=np.int64)
    return FrozenLP(
        token=uuid.uuid4().hex, c=model.c[free], A=Ar,
        row_lb=model.row_lb - shift, row_ub=model.row_ub - shift,
        col_lb=model.col_lb[free], col_ub=model.col_ub[free], x=x_full[free],
        comp_col=lab[nr:].astype(np.int64), comp_row=lab[:nr].astype(np.int64),
        protect=protect, z_of_row=z_of_row,
        ph_gov=A[:, buy.start:buy.stop].tocsc(), existing=data.existing.copy(),
        ph_con=A[:, sign.start:sign.stop].tocsc(),
        short_col=pos[w.start:w.stop], short_k=layout.demand_k.copy(),
        short_p=data.prob[layout.demand_s], penalty=data.penalty.copy(),
        flow_col=pos[fl.start:fl.stop], flow_src_region=src_reg[data.f_src],
        flow_region=data.f_j.copy(), region_ids=tuple(r.id for r in inst.regions),
        time_limit_s=time_limit_s)


def _changes(lp: FrozenLP, ko: Knockout) -> tuple[IntArray, FloatArray, FloatArray,
                                                   IntArray, FloatArray]:
    """Rows with new (lb, ub) and columns with a new ub, of one knock-out."""
    delta = np.zeros(lp.A.shape[0])
    K = lp.existing.shape[1]
    if ko.gov >= 0:  # stock e_g goes as a fixed purchase of e_g would: rhs moves by A e_g
        cols = slice(ko.gov * K, (ko.gov + 1) * K)
        delta += lp.ph_gov[:, cols] @ lp.existing[ko.gov]
    if ko.contracts:  # sign 1 -> 0
        delta += lp.ph_con[:, list(ko.contracts)] @ np.ones(len(ko.contracts))
    rows = np.flatnonzero(delta != 0.0)
    lb = lp.row_lb[rows] + delta[rows]
    ub = lp.row_ub[rows] + delta[rows]
    pr = lp.protect[rows]
    ub[pr] = np.maximum(ub[pr], 0.0)  # P <= max(H' - d, 0), as the plain model writes it
    cols_i = np.zeros(0, dtype=np.int64)
    if ko.pair is not None:
        # a source is "in a" by its region (ids of regions and facilities never coincide)
        a, b = (lp.region_ids.index(r) for r in ko.pair)
        o, j = lp.flow_src_region, lp.flow_region
        hit = ((o == a) & (j == b)) | ((o == b) & (j == a))
        cols_i = lp.flow_col[hit]
    return rows, lb, ub, cols_i, np.zeros(cols_i.size)


def _screen(lp: FrozenLP, comp: int, ch_rows: IntArray,
            ch_lb: FloatArray, ch_ub: FloatArray, ch_cols: IntArray,
            ch_cub: FloatArray) -> FloatArray | None:
    """The base point of one block, moved onto the knock-out, if it stays feasible."""
    cols, rows, a = lp.block(comp)
    x = lp.x[cols].copy()
    at = np.full(lp.A.shape[1], -1, dtype=np.int64)
    at[cols] = np.arange(cols.size)
    cub = lp.col_ub[cols].copy()
    cub[at[ch_cols]] = ch_cub
    # the lost warehouse's unused stock goes with it: z moves with its balance row
    zr = lp.z_of_row[ch_rows]
    eq = zr >= 0
    x[at[zr[eq]]] += ch_lb[eq] - lp.row_lb[ch_rows[eq]]
    tol_c = _FEAS_TOL * np.maximum(1.0, np.abs(cub))
    if (x < lp.col_lb[cols] - _FEAS_TOL).any() or (x > cub + tol_c).any():
        return None
    rat = np.full(lp.A.shape[0], -1, dtype=np.int64)
    rat[rows] = np.arange(rows.size)
    lb = lp.row_lb[rows].copy()
    ub = lp.row_ub[rows].copy()
    lb[rat[ch_rows]] = ch_lb
    ub[rat[ch_rows]] = ch_ub
    act = a @ x
    if (act < lb - _FEAS_TOL * np.maximum(1.0, np.abs(lb))).any() or (
            act > ub + _FEAS_TOL * np.maximum(1.0, np.abs(ub))).any():
        return None
    return x


class _BlockSolver:
    """A GLOP solver kept alive for one block: base bounds, changed and reverted per call."""

    def __init__(self, lp: FrozenLP, comp: int) -> None:
        from ortools.math_opt.core.python import solver
        from ortools.math_opt.python import init_arguments, mathopt, model_parameters

        from reserve_opt.solvers.backends.ortools_mathopt import model_proto

        cols, rows, a = lp.block(comp)
        self.cols, self.rows = cols, rows
        sub = MatrixModel(
            name=f"knockout-block-{comp}", sense="min", c=lp.c[cols], c0=0.0,
            A=a, row_lb=lp.row_lb[rows], row_ub=lp.row_ub[rows],
            col_lb=lp.col_lb[cols], col_ub=lp.col_ub[cols],
            integer=np.zeros(cols.size, dtype=bool), var_blocks={}, con_blocks={})
        self.col_at = {int(c): i for i, c in enumerate(cols)}
        self.row_at = {int(r): i for i, r in enumerate(rows)}
        short_mask = np.isin(lp.short_col, cols)
        self.short_i = np.flatnonzero(short_mask)  # positions in lp.short_col
        self.short_local = np.searchsorted(cols, lp.short_col[short_mask])
        kw: dict[str, Any] = {"lp_algorithm": mathopt.LPAlgorithm.DUAL_SIMPLEX,
                              "presolve": mathopt.Emphasis.OFF}
        if lp.time_limit_s is not None:
            import datetime

            kw["time_limit"] = datetime.timedelta(seconds=lp.time_limit_s)
        self.params = mathopt.SolveParameters(**kw).to_proto()
        mp = model_parameters.ModelSolveParameters().to_proto()
        mp.variable_values_filter.filter_by_ids = True
        mp.variable_values_filter.filtered_ids.extend(self.short_local.tolist())
        mp.dual_values_filter.filter_by_ids = True
        mp.reduced_costs_filter.filter_by_ids = True
        self.model_params = mp
        self.sub = sub
        self.solver = solver.new(mathopt.SolverType.GLOP.value, model_proto(sub),
                                 init_arguments.StreamableSolverInitArguments().to_proto())
        status, self.obj0, self.w0 = self._solve()
        if status != "optimal":
            raise RuntimeError(f"block {comp} of the frozen base: {status}")

    def _solve(self) -> tuple[str, float, FloatArray]:
        from ortools.math_opt import result_pb2
        from ortools.math_opt.python import callback

        res = self.solver.solve(self.params, self.model_params, None,
                                callback.CallbackRegistration().to_proto(), None, None)
        reason = res.termination.reason
        if reason != result_pb2.TERMINATION_REASON_OPTIMAL or not res.solutions:
            name = result_pb2.TerminationReasonProto.Name(reason)
            return name.removeprefix("TERMINATION_REASON_").lower(), math.nan, np.zeros(0)
        vv = res.solutions[0].primal_solution.variable_values
        w = np.zeros(self.sub.num_variables)
        w[np.asarray(vv.ids, dtype=np.int64)] = np.asarray(vv.values, dtype=np.float64)
        return "optimal", float(res.solutions[0].primal_solution.objective_value), w

    def _update(self, rows: IntArray, lb: FloatArray, ub: FloatArray, cols: IntArray,
                cub: FloatArray) -> None:
        from ortools.math_opt import model_update_pb2

        up = model_update_pb2.ModelUpdateProto()
        if rows.size:
            ids = [self.row_at[int(r)] for r in rows]
            lc = up.linear_constraint_updates
            lc.lower_bounds.ids.extend(ids)
            lc.lower_bounds.values.extend(lb.tolist())
            lc.upper_bounds.ids.extend(ids)
            lc.upper_bounds.values.extend(ub.tolist())
        if cols.size:
            vu = up.variable_updates
            vu.upper_bounds.ids.extend(self.col_at[int(c)] for c in cols)
            vu.upper_bounds.values.extend(cub.tolist())
        if not self.solver.update(up):
            raise RuntimeError("GLOP refused an incremental bound change")

    def resolve(self, lp: FrozenLP, rows: IntArray, lb: FloatArray, ub: FloatArray,
                cols: IntArray, cub: FloatArray) -> tuple[str, float, FloatArray]:
        """Objective and shortage change of this block under the changed bounds."""
        # ids come sorted (np.flatnonzero), as MathOpt wants them
        self._update(rows, lb, ub, cols, cub)
        try:
            status, obj, w = self._solve()
        finally:
            self._update(rows, lp.row_lb[rows], lp.row_ub[rows], cols, lp.col_ub[cols])
        if status != "optimal":
            return status, math.nan, np.zeros(0)
        return status, obj - self.obj0, (w - self.w0)[self.short_local]


# blocks kept alive in this process, per frozen LP (a Dask worker keeps its own)
_SOLVERS: dict[str, dict[int, _BlockSolver]] = {}


def _block_solver(lp: FrozenLP, comp: int) -> _BlockSolver:
    mine = _SOLVERS.get(lp.token)
    if mine is None:
        _SOLVERS.clear()  # another analysis's blocks are no longer needed
        mine = _SOLVERS[lp.token] = {}
    if comp not in mine:
        mine[comp] = _BlockSolver(lp, comp)
    return mine[comp]


def evaluate(lp: FrozenLP, ko: Knockout) -> FastOutcome:
    """The change one knock-out makes to the frozen base: screened, else warm re-solved.

    Parameters
    ----------
    lp
        The frozen LP.
    ko
        The knock-out.

    Returns
    -------
    FastOutcome
    """
    rows, lb, ub, cols, cub = _changes(lp, ko)
    K = lp.penalty.size
    d_short = np.zeros(K)
    d_cost = 0.0
    d_pen = 0.0
    resolved = 0
    for comp in np.unique(np.concatenate([lp.comp_row[rows], lp.comp_col[cols]])):
        bcols = lp.block(int(comp))[0]
        in_r = lp.comp_row[rows] == comp
        in_c = lp.comp_col[cols] == comp
        r_, lb_, ub_, c_, cub_ = rows[in_r], lb[in_r], ub[in_r], cols[in_c], cub[in_c]
        x = _screen(lp, int(comp), r_, lb_, ub_, c_, cub_)
        if x is not None:
            d_cost += float(lp.c[bcols] @ (x - lp.x[bcols]))
            continue
        if not bcols.size:  # a row left without columns whose bounds exclude 0
            return FastOutcome(ko.target_type, ko.target, "infeasible", (math.nan,) * K,
                               math.nan, math.nan, "warm re-solve")
        bs = _block_solver(lp, int(comp))
        status, dobj, dw = bs.resolve(lp, r_, lb_, ub_, c_, cub_)
        if status != "optimal":
            return FastOutcome(ko.target_type, ko.target, status, (math.nan,) * K,
                               math.nan, math.nan, "warm re-solve")
        resolved += 1
        pw = lp.short_p[bs.short_i] * dw
        k = lp.short_k[bs.short_i]
        d_short += np.bincount(k, weights=pw, minlength=K)
        d_pen += float(pw @ lp.penalty[k])
        d_cost += dobj
    return FastOutcome(ko.target_type, ko.target, "optimal",
                       tuple(float(v) for v in d_short), d_pen, d_cost,
                       "warm re-solve" if resolved else "screen")


def evaluate_many(lp: FrozenLP, kos: Sequence[Knockout]) -> list[FastOutcome]:
    """:func:`evaluate` over a chunk (one Dask task)."""
    return [evaluate(lp, ko) for ko in kos]


def run_all(lp: FrozenLP, kos: Sequence[Knockout], *, workers: int | None = None,
            scheduler: str | None = None, trust_scheduler: bool = False,
            in_process: bool = False, chunk: int = 8,
            on_done: Callable[[FastOutcome], None] | None = None) -> list[FastOutcome]:
    """Evaluate every knock-out, in this process or as Dask tasks; ``on_done`` per result.

    Dask runs use :func:`reserve_opt.variants.sweep.dask_client` (an embedded local
    cluster of ``workers`` processes, or ``scheduler`` under the rules of ``sweep``). The
    frozen LP is scattered to every worker once; each worker keeps its block solvers
    between tasks. Results come back in completion order.
    """
    out: list[FastOutcome] = []
    if in_process or not kos:
        for ko in kos:
            res = evaluate(lp, ko)
            out.append(res)
            if on_done:
                on_done(res)
        return out
    from dask.distributed import as_completed

    from reserve_opt.variants.sweep import dask_client

    with dask_client(workers, scheduler, trust_scheduler) as client:
        lp_future = client.scatter(lp, broadcast=True)  # type: ignore[no-untyped-call]
        futures = [client.submit(evaluate_many, lp_future, list(kos[i:i + chunk]),
                                 pure=False)
                   for i in range(0, len(kos), chunk)]
        for fut in as_completed(futures):  # type: ignore[no-untyped-call]
            for res in fut.result():
                out.append(res)
                if on_done:
                    on_done(res)
    return out
