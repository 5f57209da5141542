"""Everything ``reserve-opt analyze`` reports, computed in one call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from reserve_opt.analysis._records import records
from reserve_opt.analysis.centrality import agreement_centrality, transport_centrality
from reserve_opt.analysis.knockout import KnockoutRanking, Method, RankBy, knockout_ranking
from reserve_opt.analysis.mismatch import Exposure, MismatchResult, risk_reserve_mismatch
from reserve_opt.domain import Instance
from reserve_opt.errors import InputError
from reserve_opt.models.placement import PlacementOptions, PlacementResult, solve_placement
from reserve_opt.solvers import SolverOptions

__all__ = ["AnalysisReport", "analyze"]


@dataclass(frozen=True, eq=False)
class AnalysisReport:
    """Centrality tables, knock-out ranking and risk-reserve mismatch of one instance.

    Attributes
    ----------
    instance
        Instance name.
    currency
        ISO 4217 code of every money figure.
    transport
        :func:`~reserve_opt.analysis.transport_centrality` table (lengths in km).
    agreements
        :func:`~reserve_opt.analysis.agreement_centrality` table (hops).
    knockout
        The ranking, or ``None`` when not asked for.
    mismatch
        The mismatch table.
    plan
        The base plan when one was solved (knock-outs or plan stock), else ``None``.
    """

    instance: str
    currency: str
    transport: pd.DataFrame
    agreements: pd.DataFrame
    knockout: KnockoutRanking | None
    mismatch: MismatchResult
    plan: PlacementResult | None

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables written as CSV: file stem -> table."""
        out = {"centrality_transport": self.transport,
               "centrality_agreements": self.agreements,
               "mismatch": self.mismatch.table}
        if self.knockout is not None:
            out["knockout"] = self.knockout.table
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the whole analysis, definitions and units included."""
        return {
            "instance": self.instance,
            "currency": self.currency,
            "transport_centrality": {
                "edges_from": self.transport.attrs.get("edges_from"),
                "edges": self.transport.attrs.get("edges"),
                "path_length_unit": "km",
                "definition": ("undirected; degree/(n-1); closeness (Wasserman-Faust) in "
                               "1/km; betweenness share of km-shortest paths, /((n-1)(n-2)/2)"),
                "nodes": records(self.transport),
            },
            "agreement_centrality": {
                "edges": self.agreements.attrs.get("edges"),
                "path_length_unit": "hops",
                "definition": ("directed lender -> borrower; alliances as cliques; "
                               "degree/(n-1); closeness (Wasserman-Faust) in 1/hop, in = "
                               "from lenders, out = to borrowers; betweenness "
                               "/((n-1)(n-2))"),
                "nodes": records(self.agreements),
            },
            "knockout": None if self.knockout is None else self.knockout.to_dict(),
            "mismatch": self.mismatch.to_dict(),
        }


def analyze(
    instance: Instance,
    *,
    knockout: bool = True,
    plan_stock: bool = False,
    options: PlacementOptions | None = None,
    solver: str = "highs",
    solver_options: SolverOptions | None = None,
    rank_by: RankBy = "cost",
    exposure: Exposure = "population_risk",
    commodity: str | None = None,
    under: float = 0.5,
    over: float = 2.0,
    method: Method = "fast",
    workers: int | None = None,
    scheduler: str | None = None,
    trust_scheduler: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_done: Callable[[], None] | None = None,
) -> AnalysisReport:
    """Centrality, knock-out ranking and risk-reserve mismatch of an instance.

    The base placement plan is solved at most once and shared by the knock-out ranking and
    (with ``plan_stock``) the mismatch.

    Parameters
    ----------
    instance
        The instance.
    knockout
        Compute the knock-out ranking (solves the plan and one LP per knock-out).
    plan_stock
        Measure mismatch on the plan's stock instead of the existing stock.
    options, solver, solver_options
        Placement options and solver of the base plan and the re-solves.
    rank_by
        Knock-out ranking key, ``"cost"`` or ``"units"``.
    exposure, commodity, under, over
        See :func:`~reserve_opt.analysis.risk_reserve_mismatch`.
    method, workers, scheduler, trust_scheduler, on_start, on_done
        How the knock-outs run, and their progress callbacks; see
        :func:`~reserve_opt.analysis.knockout_ranking`.

    Returns
    -------
    AnalysisReport
    """
    # check the cheap options before any solve
    if rank_by not in ("cost", "units"):
        raise InputError(f"rank_by={rank_by!r}: choose 'cost' or 'units'.")
    mism_existing = risk_reserve_mismatch(instance, exposure=exposure, commodity=commodity,
                                          under=under, over=over)
    opts = options or PlacementOptions()
    plan = None
    if knockout or plan_stock:
        plan = solve_placement(instance, opts, solver=solver, solver_options=solver_options)
    ko = (knockout_ranking(instance, opts, solver=solver, solver_options=solver_options,
                           plan=plan, rank_by=rank_by, method=method, workers=workers,
                           scheduler=scheduler, trust_scheduler=trust_scheduler,
                           on_start=on_start, on_done=on_done) if knockout else None)
    mism = (risk_reserve_mismatch(instance, plan, exposure=exposure, commodity=commodity,
                                  under=under, over=over) if plan_stock else mism_existing)
    return AnalysisReport(instance.name, instance.currency, transport_centrality(instance),
                          agreement_centrality(instance), ko, mism, plan)
