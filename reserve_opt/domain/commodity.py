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
        Consumables (water, food): units each affected person uses a day; demand over an
        event is persons x this x the event's days.
    need_per_person
        Durable goods (quilts, kits): units each affected person needs once, however long
        the event lasts.
    persons_per_unit
        Durable goods counted per household (a family tent: 4): affected persons one unit
        serves, once; ``None`` when not counted this way. At most one of the three needs
        is given (validation refuses more).
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
    need_per_person: float = 0.0
    persons_per_unit: float | None = None
    shelf_life_days: float | None = None

    @property
    def consumable(self) -> bool:
        """Used up each day (a need per person-day): its demand spreads over an event."""
        return self.need_per_person_day > 0

    def units_needed(self, persons: float, days: float) -> float:
        """Units ``persons`` affected persons need over an event of ``days`` days."""
        return units_needed(persons, days, self.need_per_person_day, self.need_per_person,
                            self.persons_per_unit)


def units_needed(persons: float, days: float, need_per_person_day: float,
                 need_per_person: float, persons_per_unit: float | None) -> float:
    """Units affected persons need: the one rule deriving demand from affected persons.

    Consumables count per person and day, durable goods once per person (or one per
    ``persons_per_unit`` persons), whatever the event's length.

    Parameters
    ----------
    persons
        Affected persons.
    days
        Days of need of the event.
    need_per_person_day, need_per_person, persons_per_unit
        The commodity's needs (see :class:`Commodity`); zero or ``None`` when not given.

    Returns
    -------
    float
        Units, 0 when the commodity has no need.
    """
    once = need_per_person + (1.0 / persons_per_unit if persons_per_unit else 0.0)
    return persons * need_per_person_day * days + persons * once
