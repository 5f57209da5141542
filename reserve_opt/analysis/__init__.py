"""Network and risk analysis of an instance: centrality, knock-out ranking, mismatch.

Start from :func:`analyze`, or call the parts:

* :func:`transport_centrality`, :func:`agreement_centrality`: degree, closeness and
  betweenness centrality (the three measures of seed 001) of the transport and agreement
  networks;
* :func:`knockout_ranking`: which single facility or link, if lost, raises expected shortage
  most, with the plan's first stage frozen;
* :func:`risk_reserve_mismatch`: regions whose reserve per person at risk is far from their
  alliance's.

Definitions and units are in ``models/analysis.md``.
"""

from reserve_opt.analysis.centrality import (
    agreement_centrality,
    agreement_graph,
    centrality_table,
    transport_centrality,
    transport_graph,
)
from reserve_opt.analysis.knockout import (
    KNOCKOUT_KINDS,
    KnockoutInterrupted,
    KnockoutRanking,
    freeze_plan,
    knockout_ranking,
)
from reserve_opt.analysis.mismatch import (
    HIGH_RISK_UNDER,
    LOW_RISK_OVER,
    MismatchResult,
    risk_reserve_mismatch,
)
from reserve_opt.analysis.report import AnalysisReport, analyze

__all__ = [
    "HIGH_RISK_UNDER",
    "KNOCKOUT_KINDS",
    "LOW_RISK_OVER",
    "AnalysisReport",
    "KnockoutInterrupted",
    "KnockoutRanking",
    "MismatchResult",
    "agreement_centrality",
    "agreement_graph",
    "analyze",
    "centrality_table",
    "freeze_plan",
    "knockout_ranking",
    "risk_reserve_mismatch",
    "transport_centrality",
    "transport_graph",
]
