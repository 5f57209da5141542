"""Placement by scenario decomposition: multi-cut L-shaped (Benders) method on Dask.

Why: the extensive form holds every scenario's flows in one MILP and stops scaling at about
a million columns (issue 16). Without fleet limits and with pooled sharing the second stage
splits into one transportation LP per scenario and commodity, a *block* (s, k):

    q_sk(r) = min  sum_f (c_f + price_f - h_k [f from a warehouse] - p_k) x_f + p_k D_sk
              s.t. sum_{f from unit i} x_f <= r_i  (surviving stock rho_sg (e_gk + buy_gk),
                                                    contract availability avail_sc u_c)
                   sum_{f into j} x_f <= d_sjk,  x >= 0

(unused stock and shortage eliminated: z = r - sum x costs h_k per unit, which moves
``h_k rho_sg (e_gk + buy_gk)`` into the master's objective, and w = d - sum x). Flows with
a coefficient >= 0 never pay and are left out. Every block is feasible at x = 0, so only
optimality cuts arise. The master holds the first stage (sizes, purchases, contracts: the
same rows as the extensive form, :func:`models.placement.model.first_stage_rows`) and one
theta_sk per block (multi-cut), theta_sk >= q_sk(r^) + pi (r - r^), pi the block's row duals.

With agreements or fleet limits the blocks are *general* (:func:`general_blocks`): cut from
the extensive form's own rows (:func:`models.placement.model.build_model`), so caps, share
caps, protect_own surpluses, parents' lending, delays and fleet rows are one definition for
both methods. Their first-stage parts move to the rows' bounds; a block is one scenario and
commodity, or one scenario when a fleet row joins its commodities. The protect_on binaries
(which make the extensive second stage a MIP) and the fleet's hires become master columns,
with the first-stage rows the blocks' rows imply (:func:`_implied_rows`: protect_on = 1
needs the lender to hold its own need), so every block is a feasible LP. CVaR is the
master's (:class:`RiskTerm`); the service level (one row over all scenarios) is refused.

The method:

1. **LP phase** (Kelley cuts with in-out stabilisation, Ben-Ameur & Neto 2007; Fischetti,
   Ljubic & Sinnl 2017): the master LP's point is moved towards a stability centre before
   the blocks are solved; a cut is kept only if the master's point violates it; cuts slack
   for ``CUT_AGE`` master solves are removed (``CUT_AGE_AGGREGATED`` once the master is
   big). With transportation blocks the first centre is a plan that stocks everywhere
   (:meth:`_Master.core_point`). A big master is solved by the interior point without
   crossover, its point snapped to the bounds. The master LP's value is a proven lower
   bound.
2. **Incumbents**: every ``ROUND_EVERY`` master solves the stability centre rounded up to
   sizes that hold its stock (and again with the candidates storing little closed); after
   the LP phase the incumbent's sizes with its purchases re-optimised; then today's LP
   diving (:mod:`models.placement.heuristic`) on the master: fix the largest fractional
   size or contract to 1 (and every one at :data:`DIVE_FIX` or more), re-run the LP phase,
   until integral; each integral plan is priced exactly.
3. **Integer phase**: solve the master MIP (HiGHS), whose bound is a proven lower bound;
   price its plan (its purchases re-optimised by the LP phase with the integers fixed),
   add the cuts, repeat until the gap is closed.

Every point whose integers are integral is priced exactly (first stage + sum_s P_s Q_s), so
the incumbent is an honest upper bound at every iteration. Blocks are solved by HiGHS
through highspy, in batches of many blocks per Dask task: each worker builds a block's LP
once and re-solves it from its last basis when the first stage moves (only the supply rows'
bounds change; 0.4 ms against 4 ms for a fresh ``scipy.optimize.linprog`` on a small
block); HiGHS's ``row_dual`` is d objective / d right-hand side, the cut's slope (the same
values as linprog's ``ineqlin.marginals``). The master LP is solved by HiGHS through
``linprog``, the master MIP by HiGHS through the solver layer (with the incumbent as start).
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import linprog

from reserve_opt.domain import Instance
from reserve_opt.errors import InputError
from reserve_opt.fleet import depot_capacity, home_fleets
from reserve_opt.solvers import Model, SolverOptions, SolveStatus, relative_gap, solve
from reserve_opt.solvers.model import Block as VarBlock
from reserve_opt.solvers.model import MatrixModel

from .model import Layout, PlacementData, build_model, first_stage_rows, prepare
from .options import PlacementOptions
from .result import PlacementResult, cvar
from .solve import plan_lines

if TYPE_CHECKING:
    from dask.distributed import Client

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: A cut slack at this many master solves in a row is removed (LP phase only).
CUT_AGE = 25
#: ... and at this many when the cuts are aggregated (the national master, whose rows hold
#: hundreds of non-zeros each, slows with every row it keeps).
CUT_AGE_AGGREGATED = 5
#: Share of the step from the stability centre to the master's point (in-out).
IN_OUT_STEP = 0.5
#: Blocks are batched into this many tasks per worker, for balance at low overhead.
TASKS_PER_WORKER = 3
#: With this many non-zeros in its cuts the master LP is solved by HiGHS's interior point
#: without crossover instead of the warm dual simplex (2,554 x 1,000 x 10 x 40 after 7
#: iterations, 2,798 cuts, 424 k non-zeros in all: 4.9 s against 30 s cold and 47 s warm).
MASTER_IPM_NNZ = 200_000
#: In the LP phase, every this many master solves the master's point rounded to sizes
#: that hold its stock is priced (an incumbent long before the LP converges: the national
#: run ended its time with the empty plan as incumbent).
ROUND_EVERY = 5
#: The stability centre is rounded with candidates storing less than these shares of
#: their smallest size closed (each priced: one pass over the blocks).
ROUND_CLOSE = (0.0, 0.5)
#: The dive fixes every fractional integer at least this large at once (and the largest).
DIVE_FIX = 0.5
#: With more blocks than this, cuts are aggregated over scenario clusters (cut_groups):
#: the national instance's 2,000 block cuts per iteration (354 k non-zeros) made each
#: master LP take minutes.
MAX_THETAS = 500
#: The extensive form is the default up to this many flow columns (``plan --method``).
EXTENSIVE_MAX_FLOWS = 250_000


@dataclass(frozen=True, eq=False)
class Block:
    """One scenario-commodity transportation LP (see the module docstring).

    ``unit`` is the first-stage position each supply row depends on (``g*K + k`` for a
    warehouse's purchase, ``G*K + c`` for a contract), its right-hand side
    ``fixed + scale * v[unit]``.
    """

    s: int
    k: int
    flows: IntArray  # global flow candidate of each column
    cost: FloatArray
    A: sp.csr_matrix  # supply rows, then demand rows
    unit: IntArray
    fixed: FloatArray
    scale: FloatArray
    demand: FloatArray  # right-hand side of the demand rows
    const: float  # p_k D_sk
    rows: BlockRows | None = None  # the extensive form's own rows (general blocks), if any


@dataclass(frozen=True, slots=True)
class BlockAnswer:
    """A block's value at a point, its cut's gradient over ``unit``, and its flows."""

    value: float
    unit: IntArray
    grad: FloatArray
    x: FloatArray | None


@dataclass(frozen=True, eq=False)
class BlockRows:
    """A general block's LP: the extensive form's own rows of one scenario (and commodity).

    Columns: the block's flows first (in the order of ``Block.flows``), then its unused
    stock, shortages and lent amounts; ``cols`` are their extensive-form columns. Rows:
    ``row_lb - V v <= A x <= row_ub - V v`` at first-stage point ``v`` over ``Block.unit``
    (purchases, contracts, hires and the binaries moved to the master). The block reports
    its value net of the holding cost of all stock of its commodities,
    ``hold_const + hold @ v``, which the master charges itself (as for the transportation
    blocks), so its cut means the same to the master.
    """

    cols: IntArray
    cost: FloatArray
    col_lb: FloatArray
    col_ub: FloatArray
    A: sp.csr_matrix
    row_lb: FloatArray
    row_ub: FloatArray
    V: sp.csr_matrix  # rows x Block.unit: first-stage coefficients, moved to the bounds
    hold: FloatArray  # (units,)
    hold_const: float


@dataclass(frozen=True, eq=False)
class FirstStageExtra:
    """First-stage columns the general blocks' cuts reach beyond purchases and contracts.

    The fleet table's ``hire`` columns (all ``n_hire`` of them, in its order) come first,
    then the extensive form's second-stage binaries (``protect_on``): with them in the
    master, every block is an LP, and the master decides what the binaries mean (Benders
    cuts are valid only for LPs). ``rows`` (over the whole first-stage vector v: purchases
    ``G*K``, contracts ``C``, then these) are the extensive form's rows with their
    continuous part at its most favourable bound: implied by the extensive form, they keep
    every block feasible (``protect_on`` = 1 needs the lender to hold its own need).
    """

    n_hire: int
    lb: FloatArray
    ub: FloatArray
    obj: FloatArray
    rows: sp.csr_matrix
    row_lb: FloatArray
    row_ub: FloatArray

    @property
    def n(self) -> int:
        """Number of extra first-stage columns."""
        return int(self.lb.size)


class BlockList(list[Block]):
    """The blocks, with what the master and the plan need beyond transportation blocks.

    ``extra``: the master's further first-stage columns and rows (general blocks), or
    ``None``; ``layout``, ``var_blocks`` and ``n_cols``: the extensive form the general
    blocks were cut from, to read the plan back (lent amounts); ``risk``: the CVaR term's
    weight and level (:class:`RiskTerm`), or ``None``.
    """

    def __init__(self, blocks: Sequence[Block], extra: FirstStageExtra | None = None,
                 layout: Layout | None = None,
                 var_blocks: Mapping[str, VarBlock] | None = None, n_cols: int = 0) -> None:
        super().__init__(blocks)
        self.extra = extra
        self.layout = layout
        self.var_blocks = var_blocks
        self.n_cols = n_cols
        self.risk: tuple[float, float] | None = None  # CVaR (lambda, beta), if any


def unsupported(instance: Instance, data: PlacementData, options: PlacementOptions) -> str | None:
    """Why the decomposition cannot solve this model, in one sentence, or ``None``.

    Agreements (caps, protect_own surpluses, parent lending, delays) and fleet limits are
    solved by general blocks (:func:`make_blocks`), CVaR by the master (:class:`RiskTerm`);
    the service level is not.
    """
    if options.service_level is not None:
        return ("--service-level links every scenario's shortage in one row, which the "
                "decomposition does not split; use --method extensive")
    return None


def choose_method(instance: Instance, options: PlacementOptions, method: str | None
                  ) -> tuple[str, str, PlacementData]:
    """The method ``plan`` runs, why, and the prepared data.

    Rule (``method`` None): the decomposition when it supports the options and the
    extensive form would hold more than :data:`EXTENSIVE_MAX_FLOWS` flow columns, else the
    extensive form.

    Parameters
    ----------
    instance, options
        The instance and model options.
    method
        ``"extensive"``, ``"decomposition"`` or ``None`` (by size).

    Returns
    -------
    tuple
        ``(method, reason, data)``.

    Raises
    ------
    InputError
        An unknown method, or the decomposition asked for options it does not support.
    """
    if method not in (None, "extensive", "decomposition"):
        raise InputError(f"--method {method!r}: choose extensive or decomposition")
    data = prepare(instance, options)
    n = int(data.f_s.size)
    if method == "extensive":
        return "extensive", "asked for by --method extensive", data
    why = unsupported(instance, data, options)
    if method == "decomposition":
        if why is not None:
            raise InputError(f"--method decomposition: {why}.")
        return "decomposition", "asked for by --method decomposition", data
    if why is not None:
        return "extensive", f"chosen because {why.split(';')[0]}", data
    if n > EXTENSIVE_MAX_FLOWS:
        return "decomposition", (f"chosen by size: {n:,} flow columns > "
                                 f"{EXTENSIVE_MAX_FLOWS:,}"), data
    return "extensive", f"chosen by size: {n:,} flow columns <= {EXTENSIVE_MAX_FLOWS:,}", data


def make_blocks(data: PlacementData, options: PlacementOptions | None = None) -> BlockList:
    """The second stage as independent LPs, one per scenario and commodity.

    Pooled sharing without fleet rows: the transportation LPs of the module docstring.
    With agreements or the fleet's rows, the blocks are cut from the extensive form's own
    rows (:func:`general_blocks`): one per scenario and commodity, or one per scenario when
    a row (a fleet's) joins the commodities.
    """
    opts = options or PlacementOptions()
    blocks = (general_blocks(data, opts) if data.sharing == "agreements"
              or _fleet_active(data, opts) else _transport_blocks(data))
    if opts.risk_weight > 0:
        blocks.risk = (opts.risk_weight, opts.cvar_level)
    return blocks


def _transport_blocks(data: PlacementData) -> BlockList:
    """The transportation blocks of the module docstring (pooled, no fleet rows)."""
    S, _, K = data.shape
    G = data.n_gov
    fk = data.f_k
    gov = data.f_u < G * K
    coef = (data.f_cost + data.f_price - np.where(gov, data.holding[fk], 0.0)
            - data.penalty[fk])
    keep = np.flatnonzero(coef < 0)
    order = keep[np.lexsort((data.f_u[keep], fk[keep], data.f_s[keep]))]
    key = data.f_s[order] * K + fk[order]
    bounds = np.searchsorted(key, np.arange(S * K + 1))
    blocks: list[Block] = []
    for s in range(S):
        for k in range(K):
            dem = data.demand[s, :, k]
            if not dem.sum() > 0:
                continue
            fl = order[bounds[s * K + k]:bounds[s * K + k + 1]]
            units, urow = np.unique(data.f_u[fl], return_inverse=True)
            regs, jrow = np.unique(data.f_j[fl], return_inverse=True)
            n = fl.size
            A = sp.csr_matrix((np.ones(2 * n), (np.concatenate([urow, units.size + jrow]),
                                                np.tile(np.arange(n), 2))),
                              shape=(units.size + regs.size, n))
            is_gov = units < G * K
            g = np.where(is_gov, units // K, 0)
            c = np.where(is_gov, 0, units - G * K)
            fixed = np.where(is_gov, data.rho[s, g] * data.existing[g, k], 0.0)
            scale = np.where(is_gov, data.rho[s, g],
                             data.con_avail[s, c] if data.con_avail.size else 0.0)
            blocks.append(Block(s, k, fl, coef[fl], A, units.astype(np.int64), fixed, scale,
                                dem[regs], float(data.penalty[k] * dem.sum())))
    # the fleet table's hire columns, as in the extensive form (its objective holds signed
    # vehicles' retainers, its budget hired offers'), though no block row reads them
    fleet = data.instance.fleet
    G, C, V = data.n_gov, len(data.con_ids), len(fleet)
    extra = FirstStageExtra(
        V, np.array([float(v.signed) for v in fleet]), np.ones(V),
        np.array([v.retainer for v in fleet], dtype=np.float64),
        sp.csr_matrix((0, G * K + C + V)), np.zeros(0), np.zeros(0)) if V else None
    return BlockList(blocks, extra)


def _fleet_active(data: PlacementData, options: PlacementOptions) -> bool:
    """Whether the extensive form has fleet rows (:func:`models.placement.model.fleet_rows`)."""
    instance = data.instance
    return bool(options.fleet_limits and depot_capacity(instance, 24.0, options.max_trips)
                and any(home_fleets(instance, data.arcs.source_ids).values()))


#: First-stage rows of the extensive form; the master holds them (``first_stage_rows``).
_FIRST_STAGE_ROWS = frozenset({"one_size", "space", "candidate_stock_link", "budget"})


def general_blocks(data: PlacementData, options: PlacementOptions) -> BlockList:
    """Blocks cut from the extensive form's rows, so the second stage is exactly its own.

    The extensive form is built once (:func:`models.placement.model.build_model`, every
    probability 1 so a block's value is its scenario's cost, without the service level
    and CVaR, which :func:`unsupported` refuses). Its columns split into first stage
    (sizes, purchases, contracts, hires, and the integer second-stage columns, the
    ``protect_on`` binaries, which go to the master) and second stage, keyed by scenario
    and commodity; when a row joins commodities (a fleet's), by scenario. Every row with a
    second-stage column goes to its key's block, its first-stage part moved to the bounds.

    Parameters
    ----------
    data, options
        The prepared data and model options.

    Returns
    -------
    BlockList
        The blocks, with the master's extra columns and the rows they imply.
    """
    S, _, K = data.shape
    G = data.n_gov
    C = len(data.con_ids)
    opts = dataclasses.replace(options, risk_weight=0.0, service_level=None)
    model, layout = build_model(dataclasses.replace(data, prob=np.ones(S)), opts)
    mm = model.compile()
    vb = mm.var_blocks
    n = mm.c.size
    n_hire = vb["hire"].size if "hire" in vb else 0
    unit = np.full(n, -1, dtype=np.int64)  # position in v of each first-stage column
    first = np.zeros(n, dtype=bool)
    key = np.full(n, -1, dtype=np.int64)  # scenario * K + commodity of second-stage columns
    base = G * K + C + n_hire
    ext_lb: list[FloatArray] = []
    ext_ub: list[FloatArray] = []
    ext_obj: list[FloatArray] = []
    for name, blk in vb.items():
        cols = np.arange(blk.start, blk.stop, dtype=np.int64)
        if name in ("open", "buy", "sign", "hire"):
            first[cols] = True
            if name != "open":
                unit[cols] = {"buy": 0, "sign": G * K, "hire": G * K + C}[name] + np.arange(
                    cols.size)
        elif name == "flow":
            key[cols] = data.f_s * K + data.f_k
        elif name == "unused":
            key[cols] = np.broadcast_to((np.arange(S)[:, None, None] * K
                                         + np.arange(K)[None, None, :]), (S, G, K)).ravel()
        elif name == "short":
            key[cols] = layout.demand_s * K + layout.demand_k
        elif name == "lent":
            key[cols] = (np.arange(S)[:, None] * K + data.tri_k[None, :]).ravel()
        elif mm.integer[cols].all():  # second-stage binaries (protect_on): to the master
            first[cols] = True
            unit[cols] = base + np.arange(cols.size)
            base += cols.size
            ext_lb.append(mm.col_lb[cols])
            ext_ub.append(mm.col_ub[cols])
            ext_obj.append(mm.c[cols])
        else:
            raise RuntimeError(f"placement column block {name!r} has no place in a block")
    A = mm.A.tocoo()
    sec_nz = key[A.col] >= 0
    nr = mm.A.shape[0]
    big = np.iinfo(np.int64).max

    def row_keys(kc: IntArray) -> tuple[IntArray, IntArray]:
        lo = np.full(nr, big, dtype=np.int64)
        hi = np.full(nr, -1, dtype=np.int64)
        np.minimum.at(lo, A.row[sec_nz], kc[A.col[sec_nz]])
        np.maximum.at(hi, A.row[sec_nz], kc[A.col[sec_nz]])
        return lo, hi

    lo, hi = row_keys(key)
    has = hi >= 0
    if np.any(lo[has] != hi[has]):  # a row joins commodities (fleets): per scenario
        key = np.where(key >= 0, key // K, -1)
        lo, hi = row_keys(key)
        if np.any(lo[has] != hi[has]):
            raise RuntimeError("a second-stage placement row joins scenarios")
        n_key, per_k = S, False
    else:
        n_key, per_k = S * K, True
    # rows of the second stage (a contract's supply in a scenario without flows may hold
    # first-stage columns only: then it is a first-stage row, checked by _implied_rows)
    stage2 = np.ones(nr, dtype=bool)
    for name, rb in mm.con_blocks.items():
        if name in _FIRST_STAGE_ROWS:
            stage2[rb.start:rb.stop] = False
    if np.any(has[A.row] & first[A.col] & (unit[A.col] < 0)):
        raise RuntimeError("a second-stage placement row holds a size column")

    # the master's box on v, to drop implied rows that hold for every plan
    nv = base
    vlo = np.zeros(nv)
    vhi = np.full(nv, math.inf)
    fc = np.flatnonzero(unit >= 0)
    vlo[unit[fc]], vhi[unit[fc]] = mm.col_lb[fc], mm.col_ub[fc]
    hc = np.flatnonzero((unit >= G * K + C) & (unit < G * K + C + n_hire))
    extra = FirstStageExtra(n_hire, _cat([mm.col_lb[hc], *ext_lb]),
                            _cat([mm.col_ub[hc], *ext_ub]), _cat([mm.c[hc], *ext_obj]),
                            *_implied_rows(mm, stage2, first, unit, vlo, vhi, nv))

    # the blocks: columns by key (flows first: the flow columns precede the others)
    gk = data.f_u < G * K
    fk = data.f_k
    coef = (data.f_cost + data.f_price - np.where(gk, data.holding[fk], 0.0)
            - data.penalty[fk])
    sec = np.flatnonzero(key >= 0)
    sec = sec[np.argsort(key[sec], kind="stable")]
    cb = np.searchsorted(key[sec], np.arange(n_key + 1))
    rows_all = np.flatnonzero(has)
    rows_all = rows_all[np.argsort(hi[rows_all], kind="stable")]
    rbnd = np.searchsorted(hi[rows_all], np.arange(n_key + 1))
    Acsr = mm.A.tocsr()
    fcols = np.flatnonzero(first & (unit >= 0))
    flow0 = vb["flow"].start
    blocks: list[Block] = []
    for kb in range(n_key):
        s = kb // K if per_k else kb
        ks = np.array([kb % K]) if per_k else np.arange(K)
        dem = data.demand[s][:, ks]
        if not dem.sum() > 0:
            continue
        cols = sec[cb[kb]:cb[kb + 1]]
        rows = rows_all[rbnd[kb]:rbnd[kb + 1]]
        sub = Acsr[rows]
        Ab = sub[:, cols].tocsr()
        Vf = sub[:, fcols].tocoo()
        gs_k = (np.arange(G)[:, None] * K + ks[None, :]).ravel()  # stock units held
        units = np.union1d(unit[fcols[Vf.col]], gs_k)
        Vb = sp.csr_matrix((Vf.data, (Vf.row, np.searchsorted(units, unit[fcols[Vf.col]]))),
                           shape=(rows.size, units.size))
        hold = np.zeros(units.size)
        is_buy = units < G * K
        ug, uk = units[is_buy] // K, units[is_buy] % K
        hold[is_buy] = data.holding[uk] * data.rho[s, ug]
        flows = cols[(cols >= flow0) & (cols < vb["flow"].stop)] - flow0
        d_all = dem[dem > 0]
        rws = BlockRows(cols, mm.c[cols], mm.col_lb[cols], mm.col_ub[cols], Ab,
                        mm.row_lb[rows], mm.row_ub[rows], Vb, hold,
                        float((hold[is_buy] * data.existing[ug, uk]).sum()))
        blocks.append(Block(s, int(ks[0]) if per_k else -1, flows.astype(np.int64),
                            coef[flows], Ab, units.astype(np.int64), np.zeros(0), np.zeros(0),
                            d_all, float(data.penalty[ks] @ dem.sum(axis=0)), rws))
    return BlockList(blocks, extra, layout, vb, n)


def _cat(parts: list[FloatArray]) -> FloatArray:
    return np.concatenate(parts) if parts else np.zeros(0)


def _implied_rows(mm: MatrixModel, stage2: BoolArray, first: BoolArray, unit: IntArray,
                  vlo: FloatArray, vhi: FloatArray, nv: int
                  ) -> tuple[sp.csr_matrix, FloatArray, FloatArray]:
    """The first-stage rows the second stage's rows imply, those some plan in the box breaks.

    Row ``lb <= a x + b v <= ub`` with x in its box implies
    ``lb - max(a x) <= b v <= ub - min(a x)``; kept where the master's box on v does not
    already meet it (``protect_on`` = 1 needs H >= d in protect_own's rows).
    """
    A = mm.A.tocoo()
    nr = mm.A.shape[0]
    xs = stage2[A.row] & ~first[A.col]
    a, r, c = A.data[xs], A.row[xs], A.col[xs]
    amin = np.zeros(nr)
    amax = np.zeros(nr)
    np.add.at(amin, r, np.where(a > 0, a * mm.col_lb[c], a * mm.col_ub[c]))
    np.add.at(amax, r, np.where(a > 0, a * mm.col_ub[c], a * mm.col_lb[c]))
    vs = stage2[A.row] & first[A.col] & (unit[A.col] >= 0)
    a, r, c = A.data[vs], A.row[vs], unit[A.col[vs]]
    with np.errstate(invalid="ignore"):
        bmin = np.zeros(nr)
        bmax = np.zeros(nr)
        np.add.at(bmin, r, np.where(a > 0, a * vlo[c], a * vhi[c]))
        np.add.at(bmax, r, np.where(a > 0, a * vhi[c], a * vlo[c]))
        ub = mm.row_ub - amin
        lb = mm.row_lb - amax
        need_u = np.isfinite(ub) & (bmax > ub + 1e-9 * np.maximum(1.0, np.abs(ub)))
        need_l = np.isfinite(lb) & (bmin < lb - 1e-9 * np.maximum(1.0, np.abs(lb)))
    keep = np.flatnonzero(stage2 & (need_u | need_l))
    pos = np.full(nr, -1, dtype=np.int64)
    pos[keep] = np.arange(keep.size)
    sel = pos[r] >= 0
    R = sp.csr_matrix((a[sel], (pos[r[sel]], c[sel])), shape=(keep.size, nv))
    return (R, np.where(need_l[keep], lb[keep], -math.inf),
            np.where(need_u[keep], ub[keep], math.inf))


def cut_groups(data: PlacementData, blocks: Sequence[Block], clusters: int | None = None
               ) -> IntArray:
    """The theta (cut group) of each block: one per block, or per scenario cluster and commodity.

    Scenarios are clustered by where they strike (k-means, fixed seed, on the
    demand-weighted centre of their regions), so a cluster's blocks draw on the same
    candidates and the aggregated cut stays sparse (partial aggregation: Trukhanov, Ntaimo
    & Schaefer 2010; Song & Luedtke 2015).

    Parameters
    ----------
    data, blocks
        The prepared data and its blocks.
    clusters
        Scenario clusters per commodity; ``None``: one theta per block up to
        :data:`MAX_THETAS` blocks, else ``MAX_THETAS // K`` clusters (at least 1).

    Returns
    -------
    numpy.ndarray
        Group of each block, ``0 .. n_groups - 1``.
    """
    S, _, K = data.shape
    if clusters is None:
        clusters = S if len(blocks) <= MAX_THETAS else max(1, MAX_THETAS // max(K, 1))
    if clusters < 1:
        raise InputError(f"cut groups {clusters}: give at least 1 scenario cluster")
    if clusters >= S:
        return np.arange(len(blocks), dtype=np.int64)
    from scipy.cluster.vq import kmeans2

    regs = data.instance.regions
    xy = np.array([[r.lon, r.lat] for r in regs], dtype=np.float64)
    w = data.demand.sum(axis=2)  # (S, J)
    centre = (w @ xy) / np.maximum(w.sum(axis=1), 1e-12)[:, None]
    if clusters == 1:
        label = np.zeros(S, dtype=np.int64)
    else:
        _, label = kmeans2(centre, clusters, minit="++", rng=0)
        label = np.unique(label, return_inverse=True)[1].astype(np.int64)
    # a block of a whole scenario (fleet rows join its commodities) has k = -1
    key = np.array([label[b.s] * (K + 1) + b.k + 1 for b in blocks], dtype=np.int64)
    return np.unique(key, return_inverse=True)[1].astype(np.int64)


@dataclass(frozen=True, eq=False)
class Batch:
    """The blocks of one Dask task; ``token`` names its warm LPs in the worker's cache."""

    token: str
    blocks: tuple[Block, ...]
    warm: bool  # highspy with warm re-solves, else scipy's linprog


#: Each worker process keeps its batches' HiGHS LPs between iterations (only the supply
#: rows' bounds change), so every re-solve starts from the last basis (dual simplex).
_LPS: dict[str, list[Any]] = {}
_BANNER_DONE = False


def _highs() -> Any:
    """A silent HiGHS instance (its banner, printed once per process, kept off stdout)."""
    import highspy

    global _BANNER_DONE
    if not _BANNER_DONE:
        saved = os.dup(1)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 1)
                highspy.Highs()  # type: ignore[no-untyped-call]
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _BANNER_DONE = True
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    return h


def _block_lp(b: Block) -> Any:
    import highspy

    h = _highs()
    A = b.A.tocsc()
    lp = highspy.HighsLp()
    lp.num_col_ = int(A.shape[1])
    lp.num_row_ = int(A.shape[0])
    if b.rows is not None:  # a general block: the extensive form's rows at v = 0
        inf = highspy.kHighsInf
        r = b.rows
        lp.col_cost_ = r.cost
        lp.col_lower_ = np.where(np.isfinite(r.col_lb), r.col_lb, -inf)
        lp.col_upper_ = np.where(np.isfinite(r.col_ub), r.col_ub, inf)
        lp.row_lower_ = np.where(np.isfinite(r.row_lb), r.row_lb, -inf)
        lp.row_upper_ = np.where(np.isfinite(r.row_ub), r.row_ub, inf)
    else:
        lp.col_cost_ = b.cost
        lp.col_lower_ = np.zeros(lp.num_col_)
        lp.col_upper_ = np.full(lp.num_col_, highspy.kHighsInf)
        lp.row_lower_ = np.full(lp.num_row_, -highspy.kHighsInf)
        lp.row_upper_ = np.concatenate([b.fixed, b.demand])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr
    lp.a_matrix_.index_ = A.indices
    lp.a_matrix_.value_ = A.data
    h.passModel(lp)
    return h


def solve_blocks(batch: Batch, v: FloatArray, want_x: bool = False) -> list[BlockAnswer]:
    """Solve a batch of blocks at first-stage point ``v`` (one Dask task).

    HiGHS through highspy: each block's LP is built once per worker and re-solved from its
    last basis; ``row_dual`` is d objective / d right-hand side, the cut's slope.

    Parameters
    ----------
    batch
        The blocks.
    v
        Purchases (G*K, flattened) then contracts held (C).
    want_x
        Return each block's flows too.

    Returns
    -------
    list of BlockAnswer
    """
    if not batch.warm:
        return _solve_linprog(batch.blocks, v, want_x)
    import highspy

    lps = _LPS.get(batch.token)
    if lps is None:
        lps = _LPS[batch.token] = [_block_lp(b) if b.flows.size else None
                                   for b in batch.blocks]
    out: list[BlockAnswer] = []
    for b, h in zip(batch.blocks, lps, strict=True):
        if h is None:
            out.append(BlockAnswer(b.const, b.unit[:0], np.zeros(0), np.zeros(0) if want_x
                                   else None))
            continue
        if b.rows is not None:
            out.append(_solve_general(b, h, v, want_x))
            continue
        nu = b.unit.size
        rhs = np.maximum(b.fixed + b.scale * v[b.unit], 0.0)
        h.changeRowsBounds(nu, np.arange(nu, dtype=np.int32),
                           np.full(nu, -highspy.kHighsInf), rhs)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"block (s={b.s}, k={b.k}) ended "
                               f"{h.modelStatusToString(h.getModelStatus())}")
        sol = h.getSolution()
        grad = np.asarray(sol.row_dual, dtype=np.float64)[:nu] * b.scale
        out.append(BlockAnswer(float(h.getInfo().objective_function_value) + b.const, b.unit,
                               grad, np.asarray(sol.col_value, dtype=np.float64)
                               if want_x else None))
    return out


def _general_bounds(b: Block, v: FloatArray) -> tuple[FloatArray, FloatArray]:
    """A general block's row bounds at first-stage point ``v``."""
    assert b.rows is not None
    # every first-stage column is >= 0 in the master: a master's -1e-15 would leave stock
    # balances (= rho (e + buy)) without a solution
    shift = b.rows.V @ np.maximum(v[b.unit], 0.0)
    return b.rows.row_lb - shift, b.rows.row_ub - shift


def _general_answer(b: Block, v: FloatArray, objective: float, row_dual: FloatArray,
                    x: FloatArray | None) -> BlockAnswer:
    """A general block's answer from its LP's value and row duals (d value / d bound).

    The bounds move by ``-V v``, so the slope over v is ``-V' y``; the holding of the
    block's stock, charged by the master, comes off value and slope.
    """
    assert b.rows is not None
    r = b.rows
    vu = np.maximum(v[b.unit], 0.0)
    grad = -(r.V.T @ row_dual) - r.hold
    return BlockAnswer(objective - r.hold_const - float(r.hold @ vu) + 0.0, b.unit,
                       np.asarray(grad, dtype=np.float64), x)


def _solve_general(b: Block, h: Any, v: FloatArray, want_x: bool) -> BlockAnswer:
    """Re-solve a general block's warm HiGHS LP at ``v``."""
    import highspy

    inf = highspy.kHighsInf
    lo, hi = _general_bounds(b, v)
    nr = lo.size
    h.changeRowsBounds(nr, np.arange(nr, dtype=np.int32), np.where(np.isfinite(lo), lo, -inf),
                       np.where(np.isfinite(hi), hi, inf))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"block (s={b.s}, k={b.k}) ended "
                           f"{h.modelStatusToString(h.getModelStatus())}")
    sol = h.getSolution()
    return _general_answer(b, v, float(h.getInfo().objective_function_value),
                           np.asarray(sol.row_dual, dtype=np.float64),
                           np.asarray(sol.col_value, dtype=np.float64) if want_x else None)


def _linprog_general(b: Block, v: FloatArray, want_x: bool) -> BlockAnswer:
    """A general block by :func:`scipy.optimize.linprog`: rows split into <=, >= and =."""
    assert b.rows is not None
    r = b.rows
    lo, hi = _general_bounds(b, v)
    eq = np.isfinite(lo) & np.isfinite(hi) & (lo == hi)
    up = np.flatnonzero(np.isfinite(hi) & ~eq)
    dn = np.flatnonzero(np.isfinite(lo) & ~eq)
    e = np.flatnonzero(eq)
    A = r.A.tocsr()
    A_ub = sp.vstack([A[up], -A[dn]], format="csr")
    res = linprog(r.cost, A_ub=A_ub if A_ub.shape[0] else None,
                  b_ub=np.concatenate([hi[up], -lo[dn]]) if A_ub.shape[0] else None,
                  A_eq=A[e] if e.size else None, b_eq=lo[e] if e.size else None,
                  bounds=np.column_stack([r.col_lb, r.col_ub]), method="highs")
    if res.status != 0:
        raise RuntimeError(f"block (s={b.s}, k={b.k}) ended {res.message}")
    y = np.zeros(lo.size)
    if A_ub.shape[0]:
        m = np.asarray(res.ineqlin.marginals, dtype=np.float64)
        np.add.at(y, up, m[:up.size])
        np.add.at(y, dn, -m[up.size:])  # d value / d lb = -(d value / d (-lb))
    if e.size:
        y[e] += np.asarray(res.eqlin.marginals, dtype=np.float64)
    return _general_answer(b, v, float(res.fun), y,
                           np.asarray(res.x, dtype=np.float64) if want_x else None)


def _solve_linprog(blocks: Sequence[Block], v: FloatArray, want_x: bool
                   ) -> list[BlockAnswer]:
    """The blocks by :func:`scipy.optimize.linprog` (HiGHS, built fresh each time)."""
    out: list[BlockAnswer] = []
    for b in blocks:
        if b.flows.size == 0:
            out.append(BlockAnswer(b.const, b.unit[:0], np.zeros(0), np.zeros(0) if want_x
                                   else None))
            continue
        if b.rows is not None:
            out.append(_linprog_general(b, v, want_x))
            continue
        rhs = np.concatenate([np.maximum(b.fixed + b.scale * v[b.unit], 0.0), b.demand])
        res = linprog(b.cost, A_ub=b.A, b_ub=rhs, bounds=(0, None), method="highs")
        if res.status != 0:
            raise RuntimeError(f"block (s={b.s}, k={b.k}) ended {res.message}")
        grad = np.asarray(res.ineqlin.marginals[:b.unit.size], dtype=np.float64) * b.scale
        out.append(BlockAnswer(float(res.fun) + b.const, b.unit, grad,
                               np.asarray(res.x, dtype=np.float64) if want_x else None))
    return out


def lp_engine(engine: str) -> str:
    """``"highspy"`` or ``"linprog"``: the block LP engine ``engine`` (or ``"auto"``) means.

    ``auto`` is highspy (warm re-solves) when it is installed (the ``decomposition``
    extra), else linprog.
    """
    if engine == "auto":
        try:
            import highspy  # noqa: F401
        except ImportError:
            return "linprog"
        return "highspy"
    if engine not in ("highspy", "linprog"):
        raise InputError(f"lp_engine {engine!r}: choose auto, highspy or linprog")
    return engine


def drop_lps(token_prefix: str) -> int:
    """Free this worker's cached LPs of one run (Dask ``client.run``); how many batches."""
    gone = [t for t in _LPS if t.startswith(token_prefix)]
    for t in gone:
        del _LPS[t]
    return len(gone)


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send what C code writes on file descriptor 1 to 2 meanwhile (keeps JSON clean)."""
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


@contextmanager
def _client(workers: int | None, scheduler: str | None, trust: bool) -> Iterator[Client]:
    from reserve_opt.variants.sweep import dask_client

    with dask_client(workers, scheduler, trust) as client:
        yield client


class RiskTerm:
    """The CVaR term of the objective in the master, as the extensive form has it.

    ``lambda (eta + sum_s P_s xi_s / (1 - beta))``, ``xi_s >= Q_s - eta``, ``xi >= 0``
    (Rockafellar-Uryasev), where the scenario's second-stage cost is
    ``Q_s = sum_{b in s} theta_b + sum_gk h_k rho_sg (e_gk + buy_gk)``: every block reports
    its value net of its stock's holding, and a scenario without demand holds its stock
    only. The thetas underestimate the blocks, so the master's value stays a lower bound;
    :meth:`cost` prices a point exactly from its blocks' values (the incumbent).
    eta and xi are master columns after the thetas, outside the first stage v.
    """

    def __init__(self, m: Model, data: PlacementData, blocks: Sequence[Block],
                 theta: IntArray, buy: IntArray, weight: float, level: float) -> None:
        S, _, K = data.shape
        G = data.n_gov
        P = data.prob
        self.weight, self.level, self.prob = weight, level, P
        self.block_s = np.array([b.s for b in blocks], dtype=np.int64)
        # holding of all stock per scenario: hold_const + hold @ buy.ravel()
        self.hold = (data.rho[:, :, None] * data.holding[None, None, :]).reshape(S, G * K)
        self.hold_const = self.hold @ data.existing.ravel()
        eta = m.add_variables("cvar_eta", 1, lb=-math.inf, obj=weight)
        xi = m.add_variables("cvar_excess", S, obj=weight * P / (1.0 - level))
        ss = np.repeat(np.arange(S), G * K)
        # theta_b is P_b times block b's value (probability-weighted cuts): Q_s counts
        # theta_b / P_b; a scenario of probability 0 adds nothing to the term's objective
        pb = P[self.block_s]
        inv = np.divide(1.0, pb, out=np.zeros_like(pb), where=pb > 0)
        m.add_constraints(
            "cvar", (np.concatenate([np.arange(S), np.arange(S), self.block_s, ss]),
                     np.concatenate([xi, np.repeat(eta, S), theta, np.tile(buy.ravel(), S)]),
                     np.concatenate([np.ones(2 * S), -inv, -self.hold.ravel()])),
            lb=self.hold_const, n_rows=S)

    def cost(self, v: FloatArray, answers: Sequence[BlockAnswer]) -> float:
        """The term, lambda CVaR_beta(Q_s), at first-stage point ``v`` (purchases first)."""
        q = self.hold_const + self.hold @ v[:self.hold.shape[1]]
        np.add.at(q, self.block_s, np.array([a.value for a in answers]))
        return self.weight * cvar(q, self.prob, self.level)


class _Master:
    """The master problem: first-stage columns, one theta per block, and the cuts."""

    def __init__(self, data: PlacementData, blocks: Sequence[Block], warm: bool,
                 groups: IntArray | None = None) -> None:
        self.warm = warm
        self.h: Any = None
        self.synced = 0  # cuts[:synced] are rows of the warm LP
        K = data.shape[2]
        G = data.n_gov
        C = len(data.con_ids)
        L = data.size_gov.size
        m = Model("placement-master")
        P = data.prob
        held = (P @ data.rho)[:, None] * data.holding[None, :]  # expected holding per unit
        y = m.add_binaries("open", L, obj=data.size_cost)
        buy = m.add_variables("buy", (G, K), obj=np.broadcast_to(data.purchase, (G, K)) + held)
        u = m.add_variables("sign", C, lb=data.con_signed.astype(float), ub=1.0, integer=True,
                            obj=data.con_retainer)
        # general blocks: hires and the second-stage binaries, and the rows they imply
        ext = blocks.extra if isinstance(blocks, BlockList) else None
        n_ext = ext.n if ext is not None else 0
        hire = None
        if ext is not None and n_ext:
            xe = m.add_variables("extra", n_ext, lb=ext.lb, ub=ext.ub, integer=True,
                                 obj=ext.obj)
            hire = xe[:ext.n_hire] if ext.n_hire else None
        first_stage_rows(m, data, y, buy, u, hire=hire)
        if ext is not None and ext.rows.shape[0]:
            R = ext.rows.tocoo()
            m.add_constraints("implied", (R.row, L + R.col, R.data), lb=ext.row_lb,
                              ub=ext.row_ub, n_rows=R.shape[0])
        # one theta per cut group (a block, or blocks aggregated: cut_groups), the group's
        # expected recourse; theta >= its least value: each block's total flow <= D_sk,
        # each unit at most |min coef|
        self.probs = P[[b.s for b in blocks]]
        self.groups = (np.arange(len(blocks), dtype=np.int64) if groups is None
                       else np.asarray(groups, dtype=np.int64))
        self.members = [np.flatnonzero(self.groups == t)
                        for t in range(int(self.groups.max(initial=-1)) + 1)]
        self.aggregated = len(self.members) < len(blocks)
        self.max_age = CUT_AGE_AGGREGATED if self.aggregated else CUT_AGE
        lb = np.array([b.const + min(0.0, float(b.cost.min(initial=0.0))) * b.demand.sum()
                       for b in blocks])
        theta = m.add_variables("theta", len(self.members),
                                lb=np.bincount(self.groups, self.probs * lb, len(self.members)),
                                obj=1.0)
        risk = blocks.risk if isinstance(blocks, BlockList) else None
        if risk and self.aggregated:
            raise ValueError("the CVaR term needs one theta per block (no cut aggregation)")
        # theta_b = P_b x block b's value (the cuts are probability-weighted)
        self.risk = RiskTerm(m, data, blocks, theta, buy, *risk) if risk else None
        mm = m.compile()
        self.compiled = mm
        self.c = mm.c
        self.c0 = float(P @ (data.rho @ (data.existing * data.holding[None, :])).sum(axis=1))
        self.A0 = mm.A
        self.row_lb, self.row_ub = mm.row_lb, mm.row_ub
        self.col_lb, self.col_ub = mm.col_lb, mm.col_ub
        self.integer = mm.integer
        self.n_first = L + G * K + C + n_ext
        self.L = L
        self.v_start = L  # v = columns L .. n_first (purchases, then contracts)
        self.theta0 = self.n_first
        self.size_gov = data.size_gov
        self.cuts: list[tuple[int, IntArray, FloatArray, float]] = []  # group, unit, g, rhs
        self.age: list[int] = []

    def core_point(self, data: PlacementData) -> FloatArray:
        """The in-out method's first stability centre: a plan that stocks everywhere.

        Every candidate at its largest size and every warehouse's free space filled with
        one basket of the commodities in proportion to their expected demand (by volume);
        contracts and hires at their upper bounds. Cuts at points between it and the
        master's vertices describe the recourse where stock is spread, as the optimum's
        is (Fischetti, Ljubic & Sinnl 2017 start from all sites open): on 2,554 x 1,000 x
        10 x 40 the bound after 2 master solves is 65.3 G against 43.0 G from the first
        master point. Need not meet the first-stage rows: a transportation block's cut
        holds at every point (general blocks need the rows they imply, so they do without).
        """
        x = np.zeros(self.c.size)
        L, G, K = self.L, data.n_gov, data.shape[2]
        cap = np.where(data.gov_candidate, 0.0, data.gov_capacity)
        for g in np.unique(data.size_gov):
            ls = np.flatnonzero(data.size_gov == g)
            big = ls[np.argmax(data.size_capacity[ls])]
            x[big] = 1.0
            cap[g] = data.size_capacity[big]
        cap = np.where(np.isfinite(cap), cap, 0.0) - data.existing @ data.volume
        w = data.prob @ data.demand.sum(axis=1)  # (K,) expected units
        basket = w / max(float(w @ data.volume), 1e-12)
        x[L:L + G * K] = (np.maximum(cap, 0.0)[:, None] * basket[None, :]).ravel()
        x[L + G * K:self.n_first] = self.col_ub[L + G * K:self.n_first]
        return x

    def first_feasible(self, x: FloatArray) -> bool:
        """Whether a point's first stage meets the first-stage rows and column bounds."""
        ax = self.A0 @ x
        tol = 1e-6 * np.maximum(1.0, np.abs(ax))
        n = self.n_first
        return bool(np.all(ax >= self.row_lb - tol) and np.all(ax <= self.row_ub + tol)
                    and np.all(x[:n] >= self.col_lb[:n] - 1e-9)
                    and np.all(x[:n] <= self.col_ub[:n] + 1e-9))

    def risk_cost(self, x: FloatArray, answers: Sequence[BlockAnswer]) -> float:
        """The CVaR term at a point, from its blocks' exact values (0 without one)."""
        if self.risk is None:
            return 0.0
        return self.risk.cost(x[self.v_start:self.n_first], answers)

    def first_cost(self, x: FloatArray) -> float:
        """First-stage cost of a point, including the expected holding of its stock."""
        return float(self.c[:self.n_first] @ x[:self.n_first]) + self.c0

    def group_answer(self, group: int, answers: Sequence[BlockAnswer]) -> BlockAnswer:
        """The cut of a group: its blocks' cuts weighted by probability and summed.

        theta_t >= sum_b P_b (q_b + g_b (v - v^)) holds wherever each block's cut does, so
        the aggregated cut is valid for theta_t = sum_b P_b q_b (Birge & Louveaux's
        single cut when one group holds every block).
        """
        idx = [int(i) for i in self.members[group]]
        p = self.probs[idx]
        value = float(p @ np.array([answers[i].value for i in idx]))
        if len(idx) == 1:
            a = answers[idx[0]]
            return BlockAnswer(value, a.unit, p[0] * a.grad, None)
        unit = np.concatenate([answers[i].unit for i in idx])
        grad = np.concatenate([p[n] * answers[i].grad for n, i in enumerate(idx)])
        units, pos = np.unique(unit, return_inverse=True)
        summed = np.bincount(pos, grad, units.size).astype(np.float64)
        return BlockAnswer(value, units.astype(np.int64), summed, None)

    def add_cut(self, group: int, ans: BlockAnswer, v: FloatArray) -> None:
        """theta_t - g v_unit >= value - g v^_unit (negligible coefficients dropped).

        ``ans`` is the group's probability-weighted cut (:meth:`group_answer`).
        """
        g = ans.grad
        nz = np.abs(g) > 1e-9 * max(1.0, float(np.abs(g).max(initial=0.0)))
        unit, g = ans.unit[nz], g[nz]
        self.cuts.append((group, unit, g, ans.value - float(g @ v[unit])))
        self.age.append(0)

    def cut_value(self, i: int, x: FloatArray) -> float:
        """How far the cut is above theta at ``x`` (positive: violated)."""
        b, unit, g, rhs = self.cuts[i]
        return rhs + float(g @ x[self.v_start + unit]) - float(x[self.theta0 + b])

    def _rows(self) -> tuple[sp.csr_matrix, FloatArray, FloatArray]:
        if not self.cuts:
            return self.A0, self.row_lb, self.row_ub
        cuts = self._cut_rows(self.cuts)
        rhs = [c[3] for c in self.cuts]
        return (sp.vstack([self.A0, cuts], format="csr"),
                np.concatenate([self.row_lb, rhs]),
                np.concatenate([self.row_ub, np.full(len(rhs), np.inf)]))

    def solve_lp(self, lb: FloatArray, ub: FloatArray, seconds: float = math.inf
                 ) -> tuple[float, FloatArray] | None:
        """Master LP with these column bounds: value (a bound) and point, or None.

        With highspy the LP is kept and re-solved from its last basis as cuts come and go
        (dual simplex); else scipy's linprog solves it afresh. Raises :class:`_TimeUp` when
        ``seconds`` run out first.
        """
        if self.warm:
            got = self._solve_warm(lb, ub, seconds)
            if got is not False:
                return got
        return self._solve_cold(lb, ub, seconds)

    def _solve_cold(self, lb: FloatArray, ub: FloatArray, seconds: float
                    ) -> tuple[float, FloatArray] | None:
        A, rl, ru = self._rows()
        fin_u = np.isfinite(ru)
        fin_l = np.isfinite(rl)
        eq = fin_u & fin_l & (rl == ru)
        ubr = fin_u & ~eq
        lbr = fin_l & ~eq
        A_ub = sp.vstack([A[ubr], -A[lbr]], format="csr")
        b_ub = np.concatenate([ru[ubr], -rl[lbr]])
        for method in ("highs-ds", "highs-ipm"):  # the interior point where simplex stalls
            res = linprog(self.c, A_ub=A_ub if A_ub.shape[0] else None,
                          b_ub=b_ub if A_ub.shape[0] else None,
                          A_eq=A[eq] if eq.any() else None, b_eq=rl[eq] if eq.any() else None,
                          bounds=np.column_stack([lb, ub]), method=method,
                          options={"time_limit": seconds} if math.isfinite(seconds) else None)
            if res.status == 1:
                raise _TimeUp
            if res.status in (0, 2):
                break
        if res.status == 2:
            return None
        if res.status != 0:
            raise RuntimeError(f"master LP: {res.message}")
        x = np.asarray(res.x, dtype=np.float64)
        self._age(x)
        return float(res.fun) + self.c0, x

    def _cut_rows(self, cuts: Sequence[tuple[int, IntArray, FloatArray, float]]
                  ) -> sp.csr_matrix:
        n = self.c.size
        r, c, v = [], [], []
        for i, (b, unit, g, _) in enumerate(cuts):
            r.append(np.full(unit.size + 1, i))
            c.append(np.append(self.v_start + unit, self.theta0 + b))
            v.append(np.append(-g, 1.0))
        return sp.csr_matrix((np.concatenate(v), (np.concatenate(r), np.concatenate(c))),
                             shape=(len(cuts), n))

    def _solve_warm(self, lb: FloatArray, ub: FloatArray, seconds: float
                    ) -> tuple[float, FloatArray] | Literal[False] | None:
        """The warm LP's answer; ``False`` when HiGHS ends without a verdict even rebuilt.

        ``None`` (infeasible) only from an LP built afresh in this call: a kept LP that
        says infeasible or ends without a verdict is rebuilt from the first-stage rows and
        the kept cuts and solved once more (numerical trouble after rows were deleted; the
        national run lost its LP phase to it).
        """
        import highspy

        n = self.c.size
        inf = highspy.kHighsInf
        fresh, t_in = self.h is None, time.perf_counter()
        if self.h is None:
            h = _highs()
            A = self.A0.tocsc()
            lp = highspy.HighsLp()
            lp.num_col_, lp.num_row_ = n, int(A.shape[0])
            lp.col_cost_ = self.c
            lp.col_lower_, lp.col_upper_ = lb, np.where(np.isfinite(ub), ub, inf)
            lp.row_lower_ = np.where(np.isfinite(self.row_lb), self.row_lb, -inf)
            lp.row_upper_ = np.where(np.isfinite(self.row_ub), self.row_ub, inf)
            lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
            lp.a_matrix_.start_, lp.a_matrix_.index_ = A.indptr, A.indices
            lp.a_matrix_.value_ = A.data
            h.passModel(lp)
            self.h = h
        h = self.h
        h.changeColsBounds(n, np.arange(n, dtype=np.int32), lb,
                           np.where(np.isfinite(ub), ub, inf))
        new = self.cuts[self.synced:]
        if new:
            R = self._cut_rows(new)
            h.addRows(len(new), np.array([c[3] for c in new]), np.full(len(new), inf),
                      R.nnz, R.indptr[:-1].astype(np.int32), R.indices.astype(np.int32),
                      R.data)
            self.synced = len(self.cuts)
        nnz = self.cut_nnz(self.synced)
        # many dense cuts: the warm dual simplex needs as many pivots as a cold solve (the
        # national proxy's master: 22,828 after 400 cuts against 25,761 cold, 47 s), the
        # interior point without crossover 5 s; its point is snapped to the bounds below
        ipm = nnz >= MASTER_IPM_NNZ
        h.setOptionValue("solver", "ipm" if ipm else "choose")
        h.setOptionValue("run_crossover", "off" if ipm else "on")
        # HiGHS measures time_limit against the run time this instance has summed over all
        # its runs (HiGHS 1.12-1.16; issue ERGO-Code/HiGHS#1477): the kept LP would stop at
        # once when the master's summed LP time passed the time left
        h.setOptionValue("time_limit", h.getRunTime() + seconds if math.isfinite(seconds)
                         else highspy.kHighsInf)
        h.run()
        if h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit:
            raise _TimeUp
        done = (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kInfeasible)
        if h.getModelStatus() not in done:  # numerical trouble from the old basis: cold
            h.clearSolver()
            h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kTimeLimit:
            raise _TimeUp
        if status != highspy.HighsModelStatus.kOptimal and not fresh:
            # a kept LP's "infeasible" or no verdict may be numerical trouble (rows were
            # deleted, the basis is stale): rebuilt from the kept rows, ask once more
            self.h, self.synced = None, 0
            seconds -= time.perf_counter() - t_in
            if seconds <= 0:
                raise _TimeUp
            return self._solve_warm(lb, ub, seconds)
        if status == highspy.HighsModelStatus.kInfeasible:
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            return False
        x = np.asarray(h.getSolution().col_value, dtype=np.float64)
        if ipm:
            x = self._snapped(x, lb, ub)
        self._age(x)
        return float(h.getInfo().objective_function_value) + self.c0, x

    def cut_nnz(self, upto: int | None = None) -> int:
        """Non-zeros of the (first ``upto``) cuts' rows."""
        return sum(c[1].size + 1 for c in self.cuts[:upto])

    def _snapped(self, x: FloatArray, lb: FloatArray, ub: FloatArray) -> FloatArray:
        """An interior point's first stage with its near-bound values on the bound.

        Without crossover, thousands of purchases the simplex leaves at 0 come back as
        1e-6 - 1 units (the national proxy: 8,208 below one unit, 1,787 above ten), and
        every one moves a block's supply row, so the blocks' warm re-solves take six times
        the pivots. Tolerance: 1e-6 of the column's finite bound or, unbounded, of the
        largest value among the first-stage columns.
        """
        n = self.n_first
        out = x.copy()
        v = out[:n]
        big = max(1.0, float(np.abs(v).max(initial=0.0)))
        span = np.where(np.isfinite(ub[:n]), np.maximum(np.abs(ub[:n]), 1.0), big)
        tol = 1e-6 * span
        v[:] = np.where(np.abs(v - lb[:n]) <= tol, lb[:n], v)
        v[:] = np.where(np.abs(ub[:n] - v) <= tol, ub[:n], v)
        return out

    def solve_mip(self, gap: float, seconds: float, start: FloatArray | None
                  ) -> tuple[float, float | None, FloatArray | None, bool] | None:
        """Master MIP by HiGHS: proven bound, value, plan, whether the time ran out; or None.

        Value and plan are ``None`` when no plan was found in time; the answer is ``None``
        when the MIP ended without a bound (infeasible, solver error). The whole call,
        building the model included, keeps within ``seconds``: with highspy (the warm
        engine) a callback stops HiGHS at that wall-clock deadline wherever it polls
        (simplex, interior point, branch and bound); else the solver layer's time limit.

        ``start`` (the incumbent's first stage) is handed over as a *complete* MIP start,
        each theta at its highest cut: given the integers only, HiGHS first solves the
        master LP with them fixed, cold and outside its MIP time limit, then runs the MIP
        for the whole limit again (1,000 x 300 x 6 x 60 with 7,000 cuts: a 7 s LP, then
        30 s of MIP for a 30 s limit); and OR-Tools' MathOpt reported no solution at the
        limit though HiGHS held that start. A start the rows refuse is left out.
        """
        t_end = time.perf_counter() + seconds
        A, rl, ru = self._rows()
        nt = len(self.members)

        def complete(first: FloatArray) -> FloatArray | None:
            x = np.zeros(self.c.size)
            x[:self.n_first] = first[:self.n_first]
            x[self.integer] = np.round(x[self.integer])
            th = self.col_lb[self.theta0:self.theta0 + nt].copy()
            if self.cuts:  # theta_t - g v >= rhs, with room for rounding (HiGHS checks 1e-7)
                R = self._cut_rows(self.cuts)
                rhs = np.array([c[3] for c in self.cuts])
                need = rhs - R @ x + 1e-9 * (np.abs(rhs) + abs(R) @ np.abs(x)) + 1e-6
                np.maximum.at(th, np.array([c[0] for c in self.cuts], dtype=np.int64), need)
            x[self.theta0:self.theta0 + nt] = th
            if self.risk is not None:  # eta at the level's quantile of Q_s, xi the excess
                r = self.risk
                P = r.prob
                q = r.hold_const + r.hold @ x[self.v_start:self.v_start + r.hold.shape[1]]
                pb = P[r.block_s]
                np.add.at(q, r.block_s, np.divide(th, pb, out=np.zeros_like(th), where=pb > 0))
                order = np.argsort(q)
                k = int(np.searchsorted(np.cumsum(P[order]), r.level - 1e-12))
                eta = float(q[order[min(k, q.size - 1)]])
                e0 = self.theta0 + nt
                x[e0] = eta
                x[e0 + 1:e0 + 1 + q.size] = np.maximum(q - eta, 0.0) + 1e-9 * np.abs(q) + 1e-6
            ax = A @ x
            ok = (np.all(ax >= rl - 5e-8) and np.all(ax <= ru + 5e-8)
                  and np.all(x >= self.col_lb - 5e-8) and np.all(x <= self.col_ub + 5e-8))
            return x if ok else None

        x0 = complete(start) if start is not None else None
        left = t_end - time.perf_counter()
        if left <= 0:
            return None
        if self.warm:
            return self._mip_highspy(A, rl, ru, gap, t_end, x0)
        mm = dataclasses.replace(self.compiled, A=A, row_lb=rl, row_ub=ru, start=x0)
        with _stdout_to_stderr():  # HiGHS's MIP prints debug lines on stdout (C level)
            res = solve(mm, "highs", SolverOptions(
                mip_gap=gap, time_limit_s=left if math.isfinite(left) else None))
        if res.bound is None and res.objective is None:
            return None
        bound = res.bound if res.bound is not None else -math.inf
        limited = "LIMIT_TIME" in res.message
        if res.x is None or res.objective is None:
            return bound + self.c0, None, None, limited
        return (bound + self.c0, res.objective + self.c0, np.asarray(res.x, dtype=np.float64),
                limited)

    def _mip_highspy(self, A: sp.csr_matrix, rl: FloatArray, ru: FloatArray, gap: float,
                     t_end: float, x0: FloatArray | None
                     ) -> tuple[float, float | None, FloatArray | None, bool] | None:
        """:meth:`solve_mip` by highspy, stopped at ``t_end`` (``time.perf_counter``)."""
        import highspy

        inf = highspy.kHighsInf
        h = _highs()
        Ac = A.tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = int(Ac.shape[1]), int(Ac.shape[0])
        lp.col_cost_ = self.c
        lp.col_lower_ = np.where(np.isfinite(self.col_lb), self.col_lb, -inf)
        lp.col_upper_ = np.where(np.isfinite(self.col_ub), self.col_ub, inf)
        lp.row_lower_ = np.where(np.isfinite(rl), rl, -inf)
        lp.row_upper_ = np.where(np.isfinite(ru), ru, inf)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_ = Ac.indptr, Ac.indices
        lp.a_matrix_.value_ = Ac.data
        kind = highspy.HighsVarType
        lp.integrality_ = [kind.kInteger if i else kind.kContinuous for i in self.integer]
        h.passModel(lp)
        h.setOptionValue("mip_rel_gap", gap)
        h.setOptionValue("mip_abs_gap", 1e-9)  # as the solver layer: the relative gap rules
        if x0 is not None:
            sol = highspy.HighsSolution()
            sol.col_value = x0
            sol.value_valid = True
            h.setSolution(sol)

        def stop(e: Any) -> None:
            if time.perf_counter() >= t_end:
                e.interrupt()

        for name in ("cbSimplexInterrupt", "cbIpmInterrupt", "cbMipInterrupt"):
            event = getattr(h, name, None)  # highspy >= 1.8; else HiGHS's own limit only
            if event is not None:
                event.subscribe(stop)
        left = t_end - time.perf_counter()
        h.setOptionValue("time_limit", h.getRunTime() + max(left, 0.0))
        with _stdout_to_stderr():  # HiGHS's MIP prints debug lines on stdout (C level)
            h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        ms = highspy.HighsModelStatus
        limited = status in (ms.kTimeLimit, ms.kInterrupt)
        bound = float(info.mip_dual_bound)
        if status not in (ms.kOptimal, ms.kTimeLimit, ms.kInterrupt) or not math.isfinite(bound):
            return None
        if int(info.primal_solution_status) != int(highspy.kSolutionStatusFeasible):
            return bound + self.c0, None, None, limited
        x = np.asarray(h.getSolution().col_value, dtype=np.float64)
        return (bound + self.c0, float(info.objective_function_value) + self.c0, x, limited)

    def _age(self, x: FloatArray) -> None:
        for i in range(len(self.cuts)):
            self.age[i] = self.age[i] + 1 if self.cut_value(i, x) < -1e-6 * max(
                1.0, abs(self.cuts[i][3])) else 0

    def prune(self) -> int:
        """Remove cuts slack at the last ``max_age`` master solves; how many.

        Once the master is big (its cuts hold :data:`MASTER_IPM_NNZ` non-zeros) slack cuts
        go after :data:`CUT_AGE_AGGREGATED` solves: its interior point's solve grows with
        every row (2,554 x 1,000 x 10 x 40: 8,391 cuts, none 25 solves old, 47 s a solve
        by the 21st). Keeping at most 8 cuts per theta, the most recently binding, was
        tried on that instance: the bound stalled at 78.5 G (cuts dropped and found again)
        where keeping them reached 79.2 G by the same 221 s.
        """
        n = len(self.cuts)
        if not n:
            return 0
        big = self.cut_nnz() >= MASTER_IPM_NNZ
        ok = np.asarray(self.age) < (CUT_AGE_AGGREGATED if big else self.max_age)
        gone = int(n - ok.sum())
        if gone and self.h is not None:  # drop them from the warm LP too
            drop = np.flatnonzero(~ok[:self.synced]).astype(np.int32) + self.A0.shape[0]
            self.h.deleteRows(drop.size, drop)
            self.synced -= drop.size
        keep = np.flatnonzero(ok)
        self.cuts = [self.cuts[i] for i in keep]
        self.age = [self.age[i] for i in keep]
        return gone


class _TimeUp(Exception):
    """The time limit ran out inside a master LP."""


@dataclass
class _State:
    lb: float = -math.inf
    ub: float = math.inf
    best: FloatArray | None = None  # first-stage columns of the incumbent
    it: int = 0
    subproblem_s: float = 0.0
    master_s: float = 0.0
    lps: int = 0


def solve_decomposition(
    instance: Instance,
    options: PlacementOptions | None = None,
    solver_options: SolverOptions | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    trust_scheduler: bool = False,
    client: Client | None = None,
    max_iterations: int = 500,
    progress: Callable[[str], None] | None = None,
    data: PlacementData | None = None,
    engine: str = "auto",
    stats: dict[str, float] | None = None,
    clusters: int | None = None,
) -> PlacementResult:
    """Solve placement by the multi-cut L-shaped method, blocks solved on Dask.

    Parameters
    ----------
    instance
        The instance.
    options
        Model options; without a service level (refused with the reason otherwise).
    solver_options
        ``mip_gap`` (the target gap) and ``time_limit_s``.
    workers, scheduler, trust_scheduler
        The Dask cluster, as for sweeps (:func:`reserve_opt.variants.sweep.dask_client`).
    client
        An open Dask client to use instead.
    max_iterations
        Most master solves (LP and MIP) in all.
    progress
        Receives a line per iteration: phase, iteration, bound, incumbent, gap.
    data
        The data prepared from ``instance`` and ``options`` (:func:`choose_method`), if
        already at hand.
    engine
        Block LP engine: ``"auto"``, ``"highspy"`` or ``"linprog"`` (:func:`lp_engine`).
    stats
        Filled with ``iterations``, ``block_lps``, ``blocks``, ``block_seconds`` (the
        subproblem phase, Dask round trips included), ``master_seconds``, ``workers`` and
        ``thetas`` (cut groups).
    clusters
        Scenario clusters per commodity whose block cuts are aggregated into one
        (:func:`cut_groups`); ``None`` chooses by size.

    Returns
    -------
    PlacementResult
        As :func:`models.placement.solve_placement`, the second stage of the final plan
        recovered from the blocks.
    """
    t0 = time.perf_counter()
    opts = options or PlacementOptions()
    sopts = solver_options or SolverOptions()
    data = data if data is not None else prepare(instance, opts)
    why = unsupported(instance, data, opts)
    if why is not None:
        raise InputError(f"--method decomposition: {why}.")
    blocks = make_blocks(data, opts)
    # the CVaR term reads each scenario's cost from its blocks' thetas: no aggregation then
    thetas = cut_groups(data, blocks, data.shape[0] if blocks.risk else clusters)
    if client is not None:
        return _run(data, opts, sopts, blocks, client, t0, max_iterations, progress, engine,
                    stats, thetas)
    with _client(workers, scheduler, trust_scheduler) as cl:
        return _run(data, opts, sopts, blocks, cl, t0, max_iterations, progress, engine, stats,
                    thetas)


def _run(data: PlacementData, opts: PlacementOptions, sopts: SolverOptions,
         blocks: list[Block], client: Client, t0: float, max_iterations: int,
         progress: Callable[[str], None] | None, engine: str,
         stats: dict[str, float] | None, thetas: IntArray) -> PlacementResult:
    n_workers = max(1, sum(client.nthreads().values()))  # type: ignore[no-untyped-call]
    n_tasks = max(1, min(len(blocks), TASKS_PER_WORKER * n_workers))
    # spread blocks round-robin by size so tasks are of like cost
    by_size = np.argsort([-b.flows.size for b in blocks])
    groups = [by_size[i::n_tasks] for i in range(n_tasks)]
    run_id = uuid.uuid4().hex
    warm = lp_engine(engine) == "highspy"
    batches = [Batch(f"{run_id}/{i}", tuple(blocks[j] for j in g), warm)
               for i, g in enumerate(groups)]
    futs = client.scatter(batches)  # type: ignore[no-untyped-call]
    try:
        return _iterate(data, opts, sopts, blocks, client, futs, groups, t0, max_iterations,
                        progress, n_workers, "highspy, warm" if warm else "scipy linprog",
                        stats if stats is not None else {}, thetas)
    finally:
        client.cancel(futs)  # type: ignore[no-untyped-call]
        client.run(drop_lps, run_id)  # type: ignore[no-untyped-call]


def _iterate(data: PlacementData, opts: PlacementOptions, sopts: SolverOptions,
             blocks: list[Block], client: Client, futs: list[Any],
             groups: list[IntArray], t0: float, max_iterations: int,
             progress: Callable[[str], None] | None, n_workers: int,
             engine: str, stats: dict[str, float], thetas: IntArray) -> PlacementResult:
    target = sopts.mip_gap
    limit = sopts.time_limit_s if sopts.time_limit_s is not None else math.inf
    master = _Master(data, blocks, engine.startswith("highspy"), thetas)
    st = _State()

    def left() -> float:
        return limit - (time.perf_counter() - t0)

    def evaluate(x: FloatArray, want_x: bool = False) -> tuple[float, list[BlockAnswer]]:
        v = x[master.v_start:master.n_first]
        ts = time.perf_counter()
        tasks = client.map(solve_blocks, futs, [v] * len(futs),  # type: ignore[no-untyped-call]
                           [want_x] * len(futs), pure=False)
        got = client.gather(tasks)  # type: ignore[no-untyped-call]
        st.subproblem_s += time.perf_counter() - ts
        st.lps += len(blocks)
        answers: list[BlockAnswer] = [None] * len(blocks)  # type: ignore[list-item]
        for g, res in zip(groups, got, strict=True):
            for i, a in zip(g, res, strict=True):
                answers[i] = a
        q = float(master.probs @ np.array([a.value for a in answers]))
        return master.first_cost(x) + q + master.risk_cost(x, answers), answers

    def integral(x: FloatArray) -> bool:
        xi = x[master.integer]
        return bool(np.all(np.abs(xi - np.round(xi)) <= 1e-6))

    def report(phase: str, extra: str = "") -> None:
        if progress is None:
            return
        ub = "-" if not math.isfinite(st.ub) else f"{st.ub:,.2f}"
        lb = "-" if not math.isfinite(st.lb) else f"{st.lb:,.2f}"
        gap = relative_gap(st.ub, st.lb) if math.isfinite(st.ub) and math.isfinite(st.lb) \
            else None
        g = "-" if gap is None else f"{100 * gap:.4f}%"
        progress(f"iteration {st.it} ({phase}): bound {lb}, incumbent {ub}, gap {g}"
                 f"{extra}; {time.perf_counter() - t0:.1f} s (blocks {st.subproblem_s:.1f} s, "
                 f"master {st.master_s:.1f} s)")

    def gap_closed() -> bool:
        if not (math.isfinite(st.ub) and math.isfinite(st.lb)):
            return False
        gap = relative_gap(st.ub, st.lb)
        return gap is not None and gap <= target

    def lp_phase(lb: FloatArray, ub: FloatArray, *, bound: bool, tol: float,
                 max_it: int, phase: str, core: FloatArray | None = None
                 ) -> FloatArray | None:
        """Kelley + in-out on the master LP with these bounds; its last master point.

        Stops when the best separation point's cost is within ``tol`` of the master's
        value (the LP is solved to ``tol``), when no cut cuts off the master's point (the
        LP optimum), or when the value gains less than ``tol / 5`` over five solves.
        """
        centre: FloatArray | None = core
        x_last: FloatArray | None = None
        best_sep = math.inf
        step = IN_OUT_STEP
        vals: list[float] = []
        for _ in range(max_it):
            if st.it >= max_iterations or left() <= 0:
                break
            tm = time.perf_counter()
            try:
                got = master.solve_lp(lb, ub, left())
            except _TimeUp:
                st.master_s += time.perf_counter() - tm
                break
            except RuntimeError:  # linprog's numerical failure (both methods)
                if x_last is None:
                    raise
                got = None
            st.master_s += time.perf_counter() - tm
            st.it += 1
            if got is None:
                if x_last is None:
                    return None  # these bounds admit no first stage (a fresh LP's verdict)
                # only cuts changed since the last answer, which no cut can make infeasible
                # (theta has no upper bound): numerical trouble, and the LP rebuilt from the
                # kept cuts (solve_lp) had no answer either
                report(phase, ", master LP without an answer even rebuilt from its kept cuts "
                       "(numerical trouble): the phase ends at its last point")
                break
            val, x = got
            x_last = x
            vals.append(val)
            if bound:
                st.lb = max(st.lb, val)
            centre = x.copy() if centre is None else centre
            sep = x if step >= 1.0 else centre + step * (x - centre)
            xi = sep[master.integer]
            sep[master.integer] = np.where(np.abs(xi - np.round(xi)) <= 1e-9, np.round(xi), xi)
            cost, ans = evaluate(sep)
            if integral(sep) and cost < st.ub and master.first_feasible(sep):
                st.ub, st.best = cost, sep[:master.n_first].copy()
            best_sep = min(best_sep, cost)
            added = 0
            for t in range(len(master.members)):  # keep the cuts that cut off the point
                a = master.group_answer(t, ans)
                master.add_cut(t, a, sep[master.v_start:master.n_first])
                if master.cut_value(len(master.cuts) - 1, x) > 1e-7 * max(1.0, abs(a.value)):
                    added += 1
                else:
                    master.cuts.pop()
                    master.age.pop()
            # only the relaxation sheds cuts: the master MIP and the priced plans need every
            # cut seen (a single cut per commodity stalled at 1.5% on a 40-region test when
            # they went; Liaoning with its fleet cycled 500 master solves at 1.5% with
            # per-scenario cuts pruned in the MIP phase, and is proven in 134 without)
            gone = master.prune() if bound else 0
            report(phase, f", cuts +{added} -{gone} = {len(master.cuts)}")
            if bound and st.it % ROUND_EVERY == 0 and added and centre is not None:
                for close in ROUND_CLOSE:
                    if left() > 0:
                        try_rounded(centre, close)
            centre = 0.5 * (centre + sep)  # in-out: the centre follows the separation points
            if added == 0:
                if step >= 1.0:
                    break  # no cut at the master's point: its value is the LP optimum
                step = 1.0  # the next cuts at the master's point itself
            else:
                step = IN_OUT_STEP
            if (best_sep - val) <= tol * max(1.0, abs(best_sep)):
                break
            if len(vals) > 5 and vals[-1] - vals[-6] <= tol / 5 * max(1.0, abs(vals[-1])):
                break
            if bound and gap_closed():
                break
        return x_last

    def rounded(x: FloatArray, close: float = 0.0) -> FloatArray:
        """Integers from an LP point that keep its purchases feasible.

        Each candidate at the smallest size holding what the point stores there (the
        largest if none does), a contract held if the point uses it at all. A candidate
        storing less than ``close`` times its smallest size is left closed and its
        purchases dropped (the priced phase moves them to open sites).
        """
        out = x.copy()
        L, n_first = master.L, master.n_first
        vol = (x[L:L + G * K].reshape(G, K) @ data.volume) if K else np.zeros(G)
        out[:L] = 0.0
        for g in np.unique(data.size_gov):
            ls = np.flatnonzero(data.size_gov == g)
            if x[ls].sum() <= 1e-6 and vol[g] <= 1e-9:
                continue
            if vol[g] < close * data.size_capacity[ls].min():
                out[L + g * K:L + (g + 1) * K] = 0.0
                continue
            fits = ls[data.size_capacity[ls] >= vol[g] - 1e-9]
            pick = fits[np.argmin(data.size_capacity[fits])] if fits.size else ls[
                np.argmax(data.size_capacity[ls])]
            out[pick] = 1.0
        out[L + G * K:n_first] = np.ceil(x[L + G * K:n_first] - 1e-6)
        return out

    def try_rounded(x: FloatArray, close: float = 0.0) -> None:
        """Price a point rounded (its purchases kept): a cheap incumbent."""
        r = rounded(x, close)
        if not master.first_feasible(r):
            return
        cost, _ = evaluate(r)
        if cost < st.ub:
            st.ub, st.best = cost, r[:master.n_first].copy()
        report("stability centre rounded" + (f", candidates below {close:g} of their "
                                             "smallest size closed" if close else ""))

    G, K = data.n_gov, data.shape[2]
    L = master.L
    lb0, ub0 = master.col_lb.copy(), master.col_ub.copy()
    ints = np.flatnonzero(master.integer)
    # 1. LP phase on the relaxation
    # general blocks are feasible only where the rows they imply hold (protect_on = 1
    # needs the lender's own stock): their centre starts at the first master point
    transport = all(b.rows is None for b in blocks)
    x = lp_phase(lb0, ub0, bound=True, tol=target / 4, max_it=max_iterations,
                 phase="LP", core=master.core_point(data) if transport else None)
    status = SolveStatus.FEASIBLE
    if x is None and st.it and not math.isfinite(st.lb):
        return _no_plan(data, opts, sopts, t0, SolveStatus.INFEASIBLE,
                        "the first-stage rows (space, budget) admit no plan")
    # 1b. the incumbent's integers (else the LP point rounded up to sizes that hold its
    # stock), its purchases re-optimised from the incumbent as the stability centre
    if x is not None and not gap_closed():
        core = None
        if st.best is not None:
            core = np.zeros(master.c.size)
            core[:master.n_first] = st.best
        r = core if core is not None else rounded(x)
        lo, hi = lb0.copy(), ub0.copy()
        lo[ints] = hi[ints] = np.round(r[ints])
        lp_phase(lo, hi, bound=False, tol=target / 10, max_it=max_iterations,
                 phase="incumbent's sizes, purchases priced", core=core)
    # 2. dive: fix the largest fractional integer to 1 (a size's siblings to 0), re-run
    lo, hi = lb0.copy(), ub0.copy()
    while x is not None and not gap_closed() and left() > 0 and st.it < max_iterations:
        xi = x[ints]
        frac = np.flatnonzero(np.abs(xi - np.round(xi)) > 1e-6)
        ones = ints[xi > 1 - 1e-6]
        lo[ones] = 1.0
        if frac.size == 0:
            lo[ints], hi[ints] = np.round(xi), np.round(xi)
            lp_phase(lo, hi, bound=False, tol=target / 10, max_it=max_iterations,
                     phase="dive, plan priced")
            break
        order = frac[np.argsort(-xi[frac])]
        # the largest, and with it every one at DIVE_FIX or more (one LP phase for many
        # on big instances, where the LP opens hundreds of candidates)
        for i in [j for j in order if xi[j] >= DIVE_FIX] or [order[0]]:
            pick = int(ints[i])
            if hi[pick] == 0.0:
                continue  # a sibling size was fixed first
            if pick < L:
                hi[np.flatnonzero(master.size_gov == master.size_gov[pick])] = 0.0
            lo[pick] = hi[pick] = 1.0
        x = lp_phase(lo, hi, bound=False, tol=target, max_it=20, phase="dive")
    # 3. integer phase: master MIP, then its plan priced with its purchases re-optimised.
    # The MIP gets the time left less one pricing (the blocks at one point, as measured):
    # a plan it found when the time ran out is priced as it stands, and the run ends
    # within its limit plus the final plan's pricing (_result)
    seen: set[bytes] = set()
    while not gap_closed() and left() > 0 and st.it < max_iterations:
        pricings = st.lps / max(1, len(blocks))
        budget = left() - (st.subproblem_s / pricings if pricings else 0.0)
        if budget <= 0:
            break
        tm = time.perf_counter()
        got_m = master.solve_mip(target / 2, budget, st.best)
        st.master_s += time.perf_counter() - tm
        st.it += 1
        if got_m is None:
            break
        bound, _, xm, limited = got_m
        st.lb = max(st.lb, bound)
        report("MIP master", ", stopped at the time limit" if limited else "")
        if gap_closed() or xm is None:
            break
        if limited or left() <= 0:
            r = xm.copy()
            r[ints] = np.round(r[ints])
            if master.first_feasible(r) and (st.best is None or not np.allclose(
                    r[:master.n_first], st.best, rtol=1e-9, atol=1e-9)):
                cost, _ = evaluate(r)
                if cost < st.ub:
                    st.ub, st.best = cost, r[:master.n_first].copy()
                report("MIP plan priced as it stands")
            break
        key = np.round(xm[ints]).astype(np.int8).tobytes()
        lo, hi = lb0.copy(), ub0.copy()
        lo[ints] = hi[ints] = np.round(xm[ints])
        before = len(master.cuts)
        lp_phase(lo, hi, bound=False, tol=target / 10, max_it=max_iterations,
                 phase="MIP plan priced")
        if key in seen and len(master.cuts) == before:
            break  # the master returns a plan already priced and no cut changes it
        seen.add(key)
    stats.update(iterations=st.it, block_lps=st.lps, blocks=len(blocks),
                 thetas=len(master.members),
                 block_seconds=st.subproblem_s, master_seconds=st.master_s, workers=n_workers)
    if st.best is None:
        return _no_plan(data, opts, sopts, t0, SolveStatus.NO_SOLUTION,
                        "no integral plan priced within the time or iteration limit")
    if gap_closed():
        status = SolveStatus.OPTIMAL
    return _result(data, opts, sopts, master, st, blocks, evaluate, status, t0,
                   f"{n_workers} Dask worker(s), block LPs by HiGHS ({engine})")


def _no_plan(data: PlacementData, opts: PlacementOptions, sopts: SolverOptions, t0: float,
             status: SolveStatus, why: str) -> PlacementResult:
    return PlacementResult(
        status=status, objective=None, bound=None, gap=None, mip_gap=sopts.mip_gap,
        solve_seconds=time.perf_counter() - t0, solver="highs", sharing=data.sharing,
        options=opts, message=f"method decomposition: {why}",
        scenario_probabilities=tuple((s.id, s.probability) for s in data.instance.scenarios))


def _result(data: PlacementData, opts: PlacementOptions, sopts: SolverOptions,
            master: _Master, st: _State, blocks: list[Block],
            evaluate: Callable[..., tuple[float, list[BlockAnswer]]], status: SolveStatus,
            t0: float, where: str) -> PlacementResult:
    S, J, K = data.shape
    G = data.n_gov
    assert st.best is not None
    xfull = np.zeros(master.c.size)
    xfull[:master.n_first] = st.best
    cost, answers = evaluate(xfull, want_x=True)
    first = st.best
    L = master.L
    y = np.round(first[:L])
    buy = np.maximum(first[L:L + G * K], 0.0).reshape(G, K)
    C = len(data.con_ids)
    u = np.round(first[L + G * K:L + G * K + C])
    ext = blocks.extra if isinstance(blocks, BlockList) else None
    hire = (np.round(first[L + G * K + C:L + G * K + C + ext.n_hire])
            if ext is not None and ext.n_hire else None)
    x = np.zeros(data.f_s.size)
    full = np.zeros(blocks.n_cols if isinstance(blocks, BlockList) else 0)
    for b, a in zip(blocks, answers, strict=True):
        if a.x is not None and a.x.size:
            x[b.flows] = a.x[:b.flows.size]
            if b.rows is not None:
                full[b.rows.cols] = a.x
    out = np.zeros((S, G, K))
    gov = np.flatnonzero(data.f_u < G * K)
    np.add.at(out, (data.f_s[gov], data.f_u[gov] // K, data.f_u[gov] % K), x[gov])
    z = np.maximum(data.rho[:, :, None] * (data.existing + buy)[None, :, :] - out, 0.0)
    ds, dj, dk = np.nonzero(data.demand > 0)
    dq = data.demand[ds, dj, dk]
    got = np.zeros((S, J, K))
    np.add.at(got, (data.f_s, data.f_j, data.f_k), x)
    w = np.maximum(dq - got[ds, dj, dk], 0.0)
    layout = Layout(ds.astype(np.int64), dj.astype(np.int64), dk.astype(np.int64), dq,
                    *(np.zeros(0, dtype=np.int64),) * 5, False)
    lent = None
    if isinstance(blocks, BlockList) and blocks.layout is not None:
        layout = blocks.layout
        vb = blocks.var_blocks or {}
        if "lent" in vb:
            lent = full[vb["lent"].start:vb["lent"].stop].reshape(vb["lent"].shape)
    lines = plan_lines(data, layout, opts, y=y, buy=buy, u=u, x=x, z=z, w=w, lent=lent,
                       hire=hire)
    objective = min(cost, st.ub)
    bound = min(st.lb, objective)
    gap = relative_gap(objective, bound)
    message = (f"method decomposition: {st.it} master solves, {st.lps:,} block LPs "
               f"({len(blocks):,} blocks) in {st.subproblem_s:.1f} s on {where}, "
               f"{len(master.cuts):,} cuts kept over {len(master.members):,} thetas"
               + ("; why shortages happen is priced by the extensive form only (--method "
                  "extensive)" if opts.explain_shortages else ""))
    return PlacementResult(
        status=status, objective=objective, bound=bound, gap=gap, mip_gap=sopts.mip_gap,
        solve_seconds=time.perf_counter() - t0, solver="highs", sharing=data.sharing,
        options=opts, message=message,
        scenario_probabilities=tuple((s.id, s.probability) for s in data.instance.scenarios),
        **lines)  # type: ignore[arg-type]

