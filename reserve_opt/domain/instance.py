"""The instance: everything a planning, allocation or routing model reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from reserve_opt.domain.agreement import Agreement
from reserve_opt.domain.commodity import Commodity
from reserve_opt.domain.contract import Contract
from reserve_opt.domain.facility import Facility, FacilityKind
from reserve_opt.domain.network import Link, TravelTable, VehicleType
from reserve_opt.domain.region import DemandPoint, Region
from reserve_opt.domain.scenario import Scenario
from reserve_opt.domain.settings import Settings


@dataclass(frozen=True, eq=True)
class Instance:
    """A validated, immutable reserve-planning instance.

    Build one with :func:`reserve_opt.load_instance` (a folder or a JSON document) or
    :class:`reserve_opt.InstanceBuilder`; both validate before they return.

    Parameters
    ----------
    name
        Short name.
    currency
        ISO 4217 code of every money figure (``CNY``, ``USD``).
    regions, commodities, facilities, contracts, agreements, scenarios, links, fleet
        The entities, in file order.
    travel
        Given origin-destination travel (empty: links or great circles only).
    roads
        The road network of ``[geometry] roads``
        (:class:`~reserve_opt.geo.roads.RoadNetwork`), or ``None``.
    demand_points
        Towns and communities of the regions (empty: every region is served at its seat).
    settings
        Instance-wide numbers.
    description
        Free text.
    sources
        Where the numbers came from, by table name (free text).
    service_areas
        The region polygons are service areas someone drew (e.g. Voronoi cells), not
        administrative boundaries: maps say so (manifest ``[geometry] service_areas``).
    """

    name: str
    currency: str
    regions: tuple[Region, ...]
    commodities: tuple[Commodity, ...]
    facilities: tuple[Facility, ...]
    scenarios: tuple[Scenario, ...]
    contracts: tuple[Contract, ...] = ()
    agreements: tuple[Agreement, ...] = ()
    links: tuple[Link, ...] = ()
    fleet: tuple[VehicleType, ...] = ()
    travel: TravelTable = field(default_factory=TravelTable)
    roads: Any = field(default=None, compare=False)
    demand_points: tuple[DemandPoint, ...] = ()
    settings: Settings = field(default_factory=Settings)
    description: str = ""
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    service_areas: bool = False

    @cached_property
    def region_index(self) -> Mapping[str, int]:
        """Region id -> position in :attr:`regions`."""
        return MappingProxyType({r.id: i for i, r in enumerate(self.regions)})

    @cached_property
    def commodity_index(self) -> Mapping[str, int]:
        """Commodity id -> position in :attr:`commodities`."""
        return MappingProxyType({c.id: i for i, c in enumerate(self.commodities)})

    @cached_property
    def facility_index(self) -> Mapping[str, int]:
        """Facility id -> position in :attr:`facilities`."""
        return MappingProxyType({f.id: i for i, f in enumerate(self.facilities)})

    @cached_property
    def scenario_index(self) -> Mapping[str, int]:
        """Scenario id -> position in :attr:`scenarios`."""
        return MappingProxyType({s.id: i for i, s in enumerate(self.scenarios)})

    def region(self, region_id: str) -> Region:
        """The region with id ``region_id``."""
        return self.regions[self.region_index[region_id]]

    def commodity(self, commodity_id: str) -> Commodity:
        """The commodity with id ``commodity_id``."""
        return self.commodities[self.commodity_index[commodity_id]]

    def facility(self, facility_id: str) -> Facility:
        """The facility with id ``facility_id``."""
        return self.facilities[self.facility_index[facility_id]]

    def scenario(self, scenario_id: str) -> Scenario:
        """The scenario with id ``scenario_id``."""
        return self.scenarios[self.scenario_index[scenario_id]]

    @property
    def vehicles(self) -> tuple[VehicleType, ...]:
        """Fleet rows that move goods: own vehicles and signed logistics contracts.

        An unsigned logistics contract is an offer only placement may take up.
        """
        return tuple(v for v in self.fleet if v.signed)

    @cached_property
    def alliance_members(self) -> Mapping[str, tuple[str, ...]]:
        """Alliance name -> ids of its member regions, in file order."""
        out: dict[str, list[str]] = {}
        for r in self.regions:
            if r.alliance is not None:
                out.setdefault(r.alliance, []).append(r.id)
        return MappingProxyType({a: tuple(m) for a, m in out.items()})

    @cached_property
    def ancestors(self) -> Mapping[str, tuple[str, ...]]:
        """Region id -> its parent, the parent's parent, ... (nearest first)."""
        out: dict[str, tuple[str, ...]] = {}
        for r in self.regions:
            chain: list[str] = []
            p = r.parent
            while p and p in self.region_index and p != r.id and p not in chain:
                chain.append(p)
                p = self.regions[self.region_index[p]].parent
            out[r.id] = tuple(chain)
        return MappingProxyType(out)

    def lending_pairs(self, agreement: Agreement) -> tuple[tuple[str, str], ...]:
        """(lender, borrower) region ids an agreement lets lend.

        Lender to borrower, and back when ``reciprocal``; every ordered pair of members for
        an alliance agreement. Empty for an agreement that names neither (validation
        refuses those).
        """
        a = agreement
        if a.alliance is not None:
            members = self.alliance_members.get(a.alliance, ())
            return tuple((o, j) for o in members for j in members if o != j)
        if a.lender is None or a.borrower is None:
            return ()
        if a.reciprocal:
            return ((a.lender, a.borrower), (a.borrower, a.lender))
        return ((a.lender, a.borrower),)

    def facilities_of_kind(self, kind: FacilityKind) -> tuple[Facility, ...]:
        """Facilities of one kind, in file order."""
        return tuple(f for f in self.facilities if f.kind is kind)

    def demand(self, scenario_id: str) -> dict[tuple[str, str], float]:
        """Effective demand of a scenario, (region id, commodity id) -> units.

        Explicit demand rows win; elsewhere demand is what the affected persons need
        (:meth:`Commodity.units_needed`: consumables per person and day of the scenario,
        durable goods once per person).
        """
        sc = self.scenario(scenario_id)
        out: dict[tuple[str, str], float] = {}
        for region_id, persons in sc.affected.items():
            for c in self.commodities:
                q = c.units_needed(persons, sc.days)
                if q > 0:
                    out[(region_id, c.id)] = q
        out.update(sc.demand)
        return {k: v for k, v in out.items() if v > 0}

    def transport_cost_per_unit_km(self, commodity_id: str) -> float:
        """Cost of moving one unit of a commodity one km, currency per unit km."""
        c = self.commodity(commodity_id)
        if c.transport_cost_per_km is not None:
            return c.transport_cost_per_km
        return c.weight_kg * self.settings.transport_cost_per_kg_km

    def locations(self) -> dict[str, tuple[float, float]]:
        """Every region and facility id -> (lon, lat) in degrees."""
        pts = {r.id: (r.lon, r.lat) for r in self.regions}
        pts.update({f.id: (f.lon, f.lat) for f in self.facilities})
        pts.update({p.id: (p.lon, p.lat) for p in self.demand_points})
        return pts

    @cached_property
    def point_shares(self) -> Mapping[str, tuple[tuple[str, float], ...]]:
        """Region id -> its demand points and the share of its demand each receives.

        A region's shares are the points' ``share`` when given, else their populations
        over the region's total (equal shares when every point has population 0). Regions
        without points are absent: they are served at their seat.
        """
        by_region: dict[str, list[DemandPoint]] = {}
        for p in self.demand_points:
            by_region.setdefault(p.region, []).append(p)
        out: dict[str, tuple[tuple[str, float], ...]] = {}
        for rid, pts in by_region.items():
            if all(p.share is not None for p in pts):
                weights = [float(p.share or 0.0) for p in pts]
            else:
                weights = [p.population for p in pts]
            total = sum(weights)
            out[rid] = tuple((p.id, w / total if total > 0 else 1.0 / len(pts))
                             for p, w in zip(pts, weights, strict=True))
        return MappingProxyType(out)

    def summary(self) -> dict[str, Any]:
        """Counts of each kind of entity, for listings."""
        kinds = {k.value: len(self.facilities_of_kind(k)) for k in FacilityKind}
        return {
            "regions": len(self.regions),
            "commodities": len(self.commodities),
            "facilities": len(self.facilities),
            **{f"facilities.{k}": n for k, n in kinds.items()},
            "contracts": len(self.contracts),
            "agreements": len(self.agreements),
            "scenarios": len(self.scenarios),
            "links": len(self.links),
            "travel": len(self.travel),
            **({"demand_points": len(self.demand_points)} if self.demand_points else {}),
            "vehicle_types": len(self.fleet),
            "total_population_persons": sum(r.population for r in self.regions),
        }
