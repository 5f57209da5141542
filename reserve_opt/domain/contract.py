"""Enterprise contracts: stock held for the government, or production capacity."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ContractKind(StrEnum):
    """Contract reserve (physical stock) or capacity reserve (production)."""

    STOCK = "stock"
    CAPACITY = "capacity"


@dataclass(frozen=True, slots=True)
class Contract:
    """An agreement under which a firm holds stock or capacity for the government.

    Parameters
    ----------
    id
        Unique contract id.
    facility
        Id of the firm's facility.
    commodity
        Id of the commodity covered.
    kind
        See :class:`ContractKind`.
    quantity
        Units held (stock) or most units produced over one event (capacity).
    rate_per_day
        Production rate, units per day (capacity contracts).
    retainer
        Fee for keeping the contract over the planning period, currency.
    unit_price
        Price per unit drawn, currency per unit.
    delay_h
        Activation delay (stock) or production lead time (capacity), hours.
    signed
        ``False`` for a contract the planner may choose to sign.
    """

    id: str
    facility: str
    commodity: str
    kind: ContractKind
    quantity: float
    rate_per_day: float = 0.0
    retainer: float = 0.0
    unit_price: float = 0.0
    delay_h: float = 0.0
    signed: bool = True
