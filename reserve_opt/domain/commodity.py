"""Commodities: relief goods and what one unit of each weighs and costs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Commodity:
    """A relief good. Quantities of it are counted in its own ``unit``.

    Parameters
    ----------
    id
        Unique commodity id.
    name
        Display name.
    unit
        What one unit is, e.g. ``"1.5 L bottle"``.
    weight_kg
        Weight, kg per unit.
    volume_m3
        Volume, m3 per unit.
    purchase_cost
        Cost of buying one unit for stock, currency per unit.
    holding_cost
        Cost of a unit held and not used in a scenario, currency per unit.
    shortage_penalty
        Penalty per unit of unmet demand, currency per unit.
    transport_cost_per_km
        Cost of moving one unit one km, currency per unit km, or ``None`` to use the
        weight times the instance's ``transport_cost_per_kg_km``.
    priority
        Dispatch rank between commodities, 1 = first (water before quilts).
    need_per_person_day
        Per-capita norm, units per person per day.
    shelf_life_days
        Days before a unit expires, or ``None``.
    """

    id: str
    name: str
    unit: str
    weight_kg: float
    volume_m3: float
    purchase_cost: float
    shortage_penalty: float
    holding_cost: float = 0.0
    transport_cost_per_km: float | None = None
    priority: int = 1
    need_per_person_day: float = 0.0
    shelf_life_days: float | None = None
