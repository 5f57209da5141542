"""Sharing agreements between regions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

#: The ``agreement`` a parent region's help is booked under in flows and settlements: it
#: lends without an agreement (tier 3), so no agreement id can name it.
PARENT_AGREEMENT = "(parent region)"
#: The ``agreement`` of a flow between regions under pooled sharing (a central planner
#: moves any stock to any region, with no agreement, cap or compensation).
POOLED_AGREEMENT = "(pooled)"

#: How regions share stock: ``pooled`` (a central planner), ``agreements`` (own stock,
#: sharing agreements and parent regions only), ``auto`` (agreements when the instance has
#: any, else pooled).
Sharing = Literal["auto", "pooled", "agreements"]
SHARING_MODES: tuple[str, ...] = ("auto", "pooled", "agreements")


class Tier(IntEnum):
    """Order in which stock is drawn: own first, then neighbours, alliance, higher level.

    ``POOLED`` is another region's stock moved by a central planner under pooled sharing,
    where there are no agreements (it is never an agreement's tier).
    """

    OWN = 0
    NEIGHBOUR = 1
    ALLIANCE = 2
    HIGHER_LEVEL = 3
    POOLED = 4


@dataclass(frozen=True, slots=True)
class Agreement:
    """Who may draw on whose stock, how much, in what order and at what price.

    Either ``lender`` and ``borrower`` name two regions, or ``alliance`` names an
    alliance whose members all lend to each other.

    Parameters
    ----------
    id
        Unique agreement id.
    tier
        See :class:`Tier` (1-3).
    lender, borrower
        Region ids, or ``None`` for an alliance-wide agreement.
    alliance
        Alliance name, or ``None``.
    commodities
        Commodity ids covered; empty means all.
    cap_quantity
        Most units lent per commodity and event, or ``None``.
    cap_share
        Most lent as a share of the lender's stock, or ``None``.
    total_cap_quantity
        Most units one lender gives of a commodity in an event to all the agreement's
        borrowers together, or ``None``.
    total_cap_share
        The same total as a share of the lender's stock (after damage), or ``None``.
    compensation
        Paid by the borrower per unit received, currency per unit.
    delay_h
        Time from request to release, hours.
    reciprocal
        The borrower lends to the lender on the same terms.
    protect_own
        The lender first keeps what its own people need.
    """

    id: str
    tier: Tier
    lender: str | None = None
    borrower: str | None = None
    alliance: str | None = None
    commodities: tuple[str, ...] = ()
    cap_quantity: float | None = None
    cap_share: float | None = None
    total_cap_quantity: float | None = None
    total_cap_share: float | None = None
    compensation: float = 0.0
    delay_h: float = 0.0
    reciprocal: bool = False
    protect_own: bool = True

    def covers(self, commodity: str) -> bool:
        """Whether the agreement covers ``commodity``."""
        return not self.commodities or commodity in self.commodities

    def borrower_cap(self, supply: float) -> float:
        """Most one borrower may draw of a commodity over an event (inf without a cap).

        ``supply`` is what the lender holds of the commodity for the event, after damage.
        """
        return _tighter(self.cap_quantity, self.cap_share, supply)

    def lender_cap(self, supply: float) -> float:
        """Most the lender gives of a commodity over an event to all borrowers together.

        Inf without a total; ``supply`` as in :meth:`borrower_cap`.
        """
        return _tighter(self.total_cap_quantity, self.total_cap_share, supply)


def _tighter(quantity: float | None, share: float | None, supply: float) -> float:
    """The tighter of a cap in units and a cap as a share of ``supply``; inf for neither."""
    cap = math.inf if quantity is None else float(quantity)
    return cap if share is None else min(cap, share * supply)


def resolve_sharing(sharing: Sharing, agreements: Sequence[Agreement]
                    ) -> Literal["pooled", "agreements"]:
    """The sharing mode ``sharing`` stands for on an instance with these agreements.

    ``auto`` is ``agreements`` when there is any agreement, else ``pooled``: the rule both
    placement and allocation follow, so a plan is allocated under the rules it was made by.
    """
    if sharing == "auto":
        return "agreements" if agreements else "pooled"
    return sharing
