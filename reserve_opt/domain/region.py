"""Regions: the administrative units that hold people and demand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Region:
    """An administrative unit (county, prefecture or province).

    Parameters
    ----------
    id
        Unique region id.
    name
        Display name.
    population
        Resident population, persons.
    lon, lat
        Representative point, degrees on WGS84.
    level
        ``county``, ``prefecture`` or ``province``; sets the response-time standard.
    parent
        Id of the region one level up, if any.
    alliance
        Name of the reserve alliance the region belongs to, if any.
    risk
        Hazard exposure index in [0, 1].
    geometry
        Boundary polygon (a shapely geometry, WGS84), if known.
    """

    id: str
    name: str
    population: float
    lon: float
    lat: float
    level: str = "prefecture"
    parent: str | None = None
    alliance: str | None = None
    risk: float = 0.0
    geometry: Any = None


@dataclass(frozen=True, slots=True)
class DemandPoint:
    """A town or community of a region: where part of its people live and goods go.

    Parameters
    ----------
    id
        Unique demand point id.
    region
        Id of the region it belongs to.
    lon, lat
        Position, degrees on WGS84.
    population
        Persons living there; sets its share of the region's demand when ``share`` is None.
    share
        Its share of the region's demand (the region's points' shares sum to 1), or None.
    name
        Display name.
    """

    id: str
    region: str
    lon: float
    lat: float
    population: float
    share: float | None = None
    name: str = ""
