"""Hazard scenarios: demand, damage and outages, each with a probability."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reserve_opt.domain.frozen import frozen_empty

NO_EVENT = "no_event"
"""Id of the scenario the ``no_event_remainder`` setting adds: no event, the rest of the
probability."""


@dataclass(frozen=True, slots=True)
class Outage:
    """A transport link cut or slowed in a scenario.

    Parameters
    ----------
    origin, destination
        Ids of the two locations (regions or facilities) the link joins.
    speed_factor
        Share of normal speed left: 0 = cut, 0.5 = half speed.
    """

    origin: str
    destination: str
    speed_factor: float = 0.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """A hazard event (or a compound of several).

    Parameters
    ----------
    id
        Unique scenario id.
    name
        Display name.
    probability
        Probability of the event.
    hazard
        Hazard type, ``+``-joined for compound events.
    days
        Days of need, used to derive demand from affected persons.
    demand
        Explicit demand, (region id, commodity id) -> units.
    affected
        Persons in need, region id -> persons.
    damage
        Share of stock that survives, facility id -> fraction (1 where absent).
    outages
        Links cut or slowed.
    implied
        Added by the ``no_event_remainder`` setting rather than read from a table (files
        and documents written from the instance leave it out; reading adds it again).
    """

    id: str
    name: str
    probability: float
    hazard: str = ""
    days: float = 1.0
    demand: Mapping[tuple[str, str], float] = field(default_factory=frozen_empty)
    affected: Mapping[str, float] = field(default_factory=frozen_empty)
    damage: Mapping[str, float] = field(default_factory=frozen_empty)
    outages: tuple[Outage, ...] = ()
    implied: bool = False

    def surviving(self, facility: str) -> float:
        """Share of ``facility``'s stock that survives this scenario."""
        return self.damage.get(facility, 1.0)
