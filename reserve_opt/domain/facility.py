"""Facilities: government warehouses, enterprise reserves and distribution points."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from reserve_opt.domain.frozen import frozen_empty


class FacilityKind(StrEnum):
    """What a facility is."""

    GOVERNMENT_WAREHOUSE = "government_warehouse"
    ENTERPRISE_RESERVE = "enterprise_reserve"
    PRODUCTION_CAPACITY = "production_capacity"
    DISTRIBUTION_POINT = "distribution_point"


@dataclass(frozen=True, slots=True)
class SizeOption:
    """One size a candidate government warehouse may be built at.

    Parameters
    ----------
    size
        Label, e.g. ``"small"``.
    capacity_m3
        Storage space, m3.
    fixed_cost
        Cost of building and running it over the planning period, currency.
    """

    size: str
    capacity_m3: float
    fixed_cost: float


@dataclass(frozen=True, slots=True)
class Facility:
    """A place that holds, makes or hands out relief goods.

    Parameters
    ----------
    id
        Unique facility id.
    name
        Display name.
    kind
        See :class:`FacilityKind`.
    region
        Id of the owner region.
    lon, lat
        Location, degrees on WGS84.
    existing
        ``False`` for a candidate government warehouse that may be opened.
    capacity_m3
        Storage space of an existing warehouse, m3, or ``None``.
    shelter_persons
        Persons a distribution point or shelter serves, or ``None``.
    sizes
        Size options of a candidate warehouse.
    stock
        Stock already held, commodity id -> units.
    """

    id: str
    name: str
    kind: FacilityKind
    region: str
    lon: float
    lat: float
    existing: bool = True
    capacity_m3: float | None = None
    shelter_persons: float | None = None
    sizes: tuple[SizeOption, ...] = ()
    stock: Mapping[str, float] = field(default_factory=frozen_empty)

    @property
    def is_candidate(self) -> bool:
        """Whether this is a government warehouse that may be opened."""
        return self.kind is FacilityKind.GOVERNMENT_WAREHOUSE and not self.existing
