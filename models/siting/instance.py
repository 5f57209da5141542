"""Siting data from a reserve-opt instance: regions as clients, supply sites as sites.

* **Clients** are the regions. Their weight is the population (persons) or, for a
  scenario, that scenario's demand as volume (m3: units x the commodity's m3/unit, so
  that commodities add up).
* **Sites** are the supply facilities: government warehouses (existing and candidate),
  enterprise reserves and production sites (:func:`reserve_opt.transport.default_sources`).
* **Distances and times** come from :func:`reserve_opt.transport.build_arcs` (link graph or
  geodesic x detour factor, at ``settings.speed_kmh``): under normal conditions (no
  outages) by default, or with a scenario's outages. A pair that a scenario's cuts make
  unreachable costs :data:`UNREACHABLE_FACTOR` x the largest reachable distance, so the
  models stay feasible and such assignments are visible (``reachable`` is false).
* **Coverage**: a site covers a region when its travel time is within the region's
  response standard (6/8/10 h by level), or within ``max_hours``, or its road distance is
  within ``radius_km``.
* **Facility location** works in money: the cost of serving all of region i from site j is
  ``road km x sum_k demand_ik x transport cost of k (currency per unit km)``; demand is
  one day of need of the whole population (persons x need per person-day) or the
  scenario's demand. Capacity is storage space in m3: an existing warehouse's space
  (unlimited when not given), a candidate's largest size (its fixed cost is that size's),
  an enterprise site's contracted quantities x m3/unit (fixed cost: retainers of its
  contracts not yet signed).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reserve_opt.domain import FacilityKind, Instance
from reserve_opt.errors import InputError
from reserve_opt.transport import build_arcs, default_sources

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: An unreachable region-site pair costs this many times the largest reachable distance.
UNREACHABLE_FACTOR = 10.0


@dataclass(frozen=True, eq=False)
class SitingData:
    """Arrays of a siting problem built from an instance (clients = regions).

    Parameters
    ----------
    client_ids, site_ids
        Region ids and facility ids, in array order.
    site_kinds
        Facility kind of each site.
    existing
        Whether each site is an existing government warehouse (not a candidate).
    weight
        Client weight: persons, or m3 of scenario demand (see ``weight_unit``).
    weight_unit
        ``"persons"`` or ``"m3"``.
    distance_km
        ``(n_clients, n_sites)`` road km; unreachable pairs priced (see ``reachable``).
    time_h
        ``(n_clients, n_sites)`` travel hours, ``inf`` when unreachable.
    reachable
        Whether each pair is reachable (after the scenario's outages).
    coverage
        Whether each site covers each client under the coverage rule.
    coverage_rule
        The rule in words, for reports.
    demand_m3
        Client demand for facility location, m3.
    assign_cost
        ``(n_clients, n_sites)`` cost of serving all of a client's demand from a site,
        currency.
    fixed_cost
        Site fixed cost, currency.
    capacity_m3
        Site capacity, m3 (``inf`` for unlimited).
    scenario
        The scenario whose demand and outages were used, or ``None``.
    currency
        The instance's currency.
    locations
        Region and site id -> (lon, lat), degrees on WGS84.
    """

    client_ids: tuple[str, ...]
    site_ids: tuple[str, ...]
    site_kinds: tuple[str, ...]
    existing: BoolArray
    weight: FloatArray
    weight_unit: str
    distance_km: FloatArray
    time_h: FloatArray
    reachable: BoolArray
    coverage: BoolArray
    coverage_rule: str
    demand_m3: FloatArray
    assign_cost: FloatArray
    fixed_cost: FloatArray
    capacity_m3: FloatArray
    scenario: str | None
    currency: str
    locations: Mapping[str, tuple[float, float]]

    def finite_capacity(self) -> FloatArray:
        """Capacities with unlimited ones replaced by the total demand (m3)."""
        total = float(self.demand_m3.sum())
        return np.where(np.isfinite(self.capacity_m3), self.capacity_m3, max(total, 1.0))


def siting_data(
    instance: Instance,
    *,
    scenario: str | None = None,
    radius_km: float | None = None,
    max_hours: float | None = None,
) -> SitingData:
    """Build the siting arrays of an instance.

    Parameters
    ----------
    instance
        The instance.
    scenario
        Scenario id whose demand weights the regions and whose outages apply; ``None`` for
        population weights and normal conditions.
    radius_km
        Coverage by road distance, km (exclusive with ``max_hours``).
    max_hours
        Coverage by travel time, hours; default: each region's response standard.

    Returns
    -------
    SitingData

    Raises
    ------
    InputError
        On an unknown scenario, both coverage rules, a bad radius, or no supply site.
    """
    if radius_km is not None and max_hours is not None:
        raise InputError("Give either --radius-km or --max-hours for coverage, not both.")
    for name, v in (("radius-km", radius_km), ("max-hours", max_hours)):
        if v is not None and not (np.isfinite(v) and v > 0):
            raise InputError(f"--{name} must be a positive number, got {v!r}.")
    if scenario is not None and scenario not in instance.scenario_index:
        known = ", ".join(s.id for s in instance.scenarios)
        raise InputError(f"Scenario {scenario!r} is not in {instance.name!r}; choose one of: "
                         f"{known}.")
    sites = default_sources(instance)
    if not sites:
        raise InputError(f"Instance {instance.name!r} has no government warehouse or "
                         "enterprise site to choose from; add facilities.")
    regions = instance.regions
    n, m = len(regions), len(sites)
    if scenario is None:
        # normal conditions: the first scenario with its outages removed
        base = dataclasses.replace(instance.scenarios[0], outages=())
        arcs_inst = dataclasses.replace(instance, scenarios=(base,))
        arcs = build_arcs(arcs_inst, sources=sites).scenarios[0]
    else:
        arcs = build_arcs(instance, sources=sites).scenario(scenario)
    dist = np.full((n, m), np.inf)
    time_h = np.full((n, m), np.inf)
    dist[arcs.region, arcs.source] = arcs.distance_km
    time_h[arcs.region, arcs.source] = arcs.time_h
    reachable = np.isfinite(time_h) & np.isfinite(dist)
    if not reachable.any():
        raise InputError("No site reaches any region; check the links and outages.")
    priced = np.where(reachable, dist, UNREACHABLE_FACTOR * float(dist[reachable].max()))

    if radius_km is not None:
        coverage = reachable & (dist <= radius_km)
        rule = f"road distance <= {radius_km:g} km"
    elif max_hours is not None:
        coverage = reachable & (time_h <= max_hours)
        rule = f"travel time <= {max_hours:g} h"
    else:
        std = np.array([instance.settings.response_h(r.level) for r in regions])
        coverage = reachable & (time_h <= std[:, None] + 1e-9)
        rule = "travel time within each region's response standard (6/8/10 h by level)"

    comms = instance.commodities
    kidx = instance.commodity_index
    ridx = instance.region_index
    vol = np.array([c.volume_m3 for c in comms])
    cpk = np.array([instance.transport_cost_per_unit_km(c.id) for c in comms])
    units = np.zeros((n, len(comms)))  # demand per region and commodity, units
    if scenario is None:
        pop = np.array([r.population for r in regions], dtype=np.float64)
        # a day of consumables and the durable goods, for everyone
        units = np.array([[c.units_needed(p, 1.0) for c in comms] for p in pop])
        weight, unit = pop, "persons"
    else:
        for (rid, cid), q in instance.demand(scenario).items():
            units[ridx[rid], kidx[cid]] += q
        weight, unit = units @ vol, "m3"
    demand_m3 = units @ vol
    assign_cost = priced * (units @ cpk)[:, None]

    fixed = np.zeros(m)
    cap = np.full(m, np.inf)
    for j, fid in enumerate(sites):
        f = instance.facility(fid)
        if f.kind is FacilityKind.GOVERNMENT_WAREHOUSE:
            if f.is_candidate and f.sizes:
                big = max(f.sizes, key=lambda z: z.capacity_m3)
                fixed[j], cap[j] = big.fixed_cost, big.capacity_m3
            elif f.capacity_m3 is not None:
                cap[j] = f.capacity_m3
        else:
            mine = [c for c in instance.contracts if c.facility == fid]
            fixed[j] = sum(c.retainer for c in mine if not c.signed)
            cap[j] = sum(c.quantity * vol[kidx[c.commodity]] for c in mine)
    return SitingData(
        client_ids=tuple(r.id for r in regions),
        site_ids=tuple(sites),
        site_kinds=tuple(instance.facility(s).kind.value for s in sites),
        existing=np.array([instance.facility(s).kind is FacilityKind.GOVERNMENT_WAREHOUSE
                           and not instance.facility(s).is_candidate for s in sites],
                          dtype=bool),
        weight=np.asarray(weight, dtype=np.float64),
        weight_unit=unit,
        distance_km=priced,
        time_h=time_h,
        reachable=reachable,
        coverage=coverage,
        coverage_rule=rule,
        demand_m3=demand_m3,
        assign_cost=assign_cost,
        fixed_cost=fixed,
        capacity_m3=cap,
        scenario=scenario,
        currency=instance.currency,
        locations=instance.locations(),
    )
