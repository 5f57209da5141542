"""Large synthetic instances for scale benchmarks and property tests.

Everything here is illustrative: regions are points scattered in provinces over eastern
China (lon 100-122 E, lat 22-45 N), populations log-normal around 300,000 persons, stock
about one day of need for 1% of the population (Beijing's 1% rule of thumb), hazards at
random centres. Same arguments and seed -> the same instance.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree

from reserve_opt.domain import (
    Agreement,
    Commodity,
    Contract,
    ContractKind,
    Facility,
    FacilityKind,
    Instance,
    Region,
    Scenario,
    Settings,
    SizeOption,
    Tier,
    VehicleType,
)

__all__ = ["COMMODITIES", "placement_instance", "synthetic_instance"]

#: (id, unit, kg/unit, m3/unit, purchase CNY/unit, penalty CNY/unit, priority,
#: need per person-day (0 = durable: needed once, see _DURABLE_PER_PERSON))
COMMODITIES: tuple[tuple[str, str, float, float, float, float, int, float], ...] = (
    ("water", "case of 12 x 550 mL", 7.0, 0.012, 18.0, 720.0, 1, 0.5),
    ("food", "ration pack (1 person-day)", 1.2, 0.004, 40.0, 1600.0, 1, 1.0),
    ("medkit", "household first-aid kit", 1.5, 0.006, 80.0, 3200.0, 1, 0.0),
    ("quilt", "cotton quilt", 3.0, 0.03, 150.0, 4500.0, 2, 0.0),
    ("tent", "12 m2 tent", 35.0, 0.2, 1200.0, 36000.0, 2, 0.0),
    ("lamp", "solar lamp", 0.8, 0.003, 60.0, 1200.0, 3, 0.0),
)
#: Durable goods needed once per affected person (units per person).
_DURABLE_PER_PERSON = {"medkit": 0.1, "quilt": 0.5, "tent": 0.05, "lamp": 0.1}


def synthetic_instance(n_regions: int = 2554, n_facilities: int = 1000,
                       n_commodities: int = 5, *, seed: int = 0, provinces: int = 30,
                       alliance_size: int = 10, neighbours: int = 3, hazards: int = 6,
                       days: float = 3.0,
                       stock_days: float = 1.0) -> Instance:
    """A national-scale instance with one event scenario ``"event"``.

    Parameters
    ----------
    n_regions
        Counties (the first region of each province is its prefecture-level capital and
        the parent of the others).
    n_facilities
        Supply facilities: 60% government warehouses (with a fleet), 30% enterprise
        reserves (a stock contract each), 10% production sites (a capacity contract each).
    n_commodities
        How many of :data:`COMMODITIES` to use (1-6).
    seed
        Random seed.
    provinces
        Provinces; the first county of each is the parent of the others.
    alliance_size
        Neighbouring counties of a province form reserve alliances of about this many
        members (tier 2, 20% of the lender's stock, 6 h, 1 CNY a unit), like the city
        clusters of the seeds; below 2, no alliances.
    neighbours
        Each region signs a reciprocal tier-1 agreement with this many nearest regions
        (30% of the lender's stock, 2 h, protect_own).
    hazards
        Hazard centres: people within about 150 km are affected heavily, everyone a little.
    days
        Days of need of the event.
    stock_days
        Government stock in days of need of 1% of the population.

    Returns
    -------
    Instance
    """
    if not 1 <= n_commodities <= len(COMMODITIES):
        raise ValueError(f"n_commodities must be 1-{len(COMMODITIES)}")
    rng = np.random.default_rng(seed)
    P = max(1, min(provinces, n_regions // 8))  # at least 8 counties a province on average
    centre = np.column_stack([rng.uniform(102, 120, P), rng.uniform(24, 43, P)])
    prov = np.sort(np.concatenate([np.arange(P), rng.integers(0, P, n_regions - P)]))
    lonlat = centre[prov] + rng.normal(0, 1.2, (n_regions, 2))
    lonlat[:, 0] = np.clip(lonlat[:, 0], 100, 122)
    lonlat[:, 1] = np.clip(lonlat[:, 1], 22, 45)
    pop = np.round(np.exp(rng.normal(math.log(300_000), 0.6, n_regions)), -2)
    first = {int(p): int(np.flatnonzero(prov == p)[0]) for p in np.unique(prov)}
    rid = [f"r{i:04d}" for i in range(n_regions)]
    # alliances: neighbouring counties of a province in groups of about alliance_size
    alliance: list[str | None] = [None] * n_regions
    for p in np.unique(prov) if alliance_size >= 2 else ():
        members = np.flatnonzero(prov == p)
        members = members[np.lexsort((lonlat[members, 1], lonlat[members, 0]))]
        n_groups = max(1, round(members.size / alliance_size))
        for g, chunk in enumerate(np.array_split(members, n_groups)):
            if chunk.size >= 2:
                for i in chunk:
                    alliance[int(i)] = f"p{int(p):02d}a{g:02d}"
    regions = tuple(
        Region(id=rid[i], name=f"County {i}", population=float(pop[i]),
               lon=float(lonlat[i, 0]), lat=float(lonlat[i, 1]),
               level="prefecture" if first[int(prov[i])] == i else "county",
               parent=None if first[int(prov[i])] == i else rid[first[int(prov[i])]],
               alliance=alliance[i], risk=float(rng.uniform(0.05, 0.6)))
        for i in range(n_regions))
    comm_rows = COMMODITIES[:n_commodities]
    commodities = tuple(
        Commodity(id=c[0], name=c[0], unit=c[1], weight_kg=c[2], volume_m3=c[3],
                  purchase_cost=c[4], shortage_penalty=c[5], holding_cost=0.1 * c[4],
                  priority=c[6], need_per_person_day=c[7],
                  need_per_person=_DURABLE_PER_PERSON.get(c[0], 0.0))
        for c in comm_rows)

    # facilities in regions drawn by population
    where = rng.choice(n_regions, n_facilities, p=pop / pop.sum())
    kinds = np.where(np.arange(n_facilities) < 0.6 * n_facilities, 0,
                     np.where(np.arange(n_facilities) < 0.9 * n_facilities, 1, 2))
    per_person = {c[0]: (c[7] if c[7] > 0 else _DURABLE_PER_PERSON[c[0]] / days)
                  for c in comm_rows}
    facilities, contracts, fleet = [], [], []
    for n, (j, kind) in enumerate(zip(where, kinds, strict=True)):
        j = int(j)
        lon = float(lonlat[j, 0] + rng.normal(0, 0.05))
        lat = float(lonlat[j, 1] + rng.normal(0, 0.05))
        fid = f"f{n:04d}"
        if kind == 0:
            stock = {c: float(round(0.01 * pop[j] * per_person[c] * days * stock_days
                                    * rng.uniform(0.5, 3.0)))
                     for c in per_person}
            space = 1.5 * sum(q * next(c[3] for c in comm_rows if c[0] == k)
                              for k, q in stock.items())
            facilities.append(Facility(id=fid, name=f"Depot {n}", lon=lon, lat=lat,
                                       kind=FacilityKind.GOVERNMENT_WAREHOUSE,
                                       region=rid[j], stock=stock,
                                       capacity_m3=float(max(round(space), 100))))
            fleet.append(VehicleType(id=f"v{n:04d}", depot=fid, count=int(rng.integers(3, 12)),
                                     capacity_kg=10_000.0, capacity_m3=45.0, speed_kmh=60.0,
                                     cost_per_km=4.5, fixed_cost=300.0, max_hours=10.0))
        else:
            k = comm_rows[int(rng.integers(0, len(comm_rows)))][0]
            q = float(round(0.01 * pop[j] * per_person[k] * days * rng.uniform(0.5, 2.0)))
            kind_f = (FacilityKind.ENTERPRISE_RESERVE if kind == 1
                      else FacilityKind.PRODUCTION_CAPACITY)
            facilities.append(Facility(id=fid, name=f"Firm {n}", kind=kind_f,
                                       region=rid[j], lon=lon, lat=lat))
            price = next(c[4] for c in comm_rows if c[0] == k) * 1.2
            contracts.append(Contract(
                id=f"c{n:04d}", facility=fid, commodity=k,
                kind=ContractKind.STOCK if kind == 1 else ContractKind.CAPACITY,
                quantity=q, rate_per_day=q / 3.0 if kind == 2 else 0.0,
                retainer=0.02 * q * price, unit_price=price,
                delay_h=float(rng.choice([6.0, 12.0, 24.0])) if kind == 1 else 24.0))

    # agreements: provinces are alliances; each region with its nearest neighbours
    agreements = [Agreement(id=f"alliance_{a}", tier=Tier.ALLIANCE, alliance=a,
                            cap_share=0.2, compensation=1.0, delay_h=6.0)
                  for a in sorted({a for a in alliance if a is not None})]
    xyz = _unit_vectors(lonlat)
    _, nn = cKDTree(xyz).query(xyz, k=min(neighbours + 1, n_regions))
    seen: set[tuple[int, int]] = set()
    for i in range(n_regions):
        for j in np.atleast_1d(nn[i])[1:]:
            a, b = sorted((i, int(j)))
            if (a, b) in seen:
                continue
            seen.add((a, b))
            agreements.append(Agreement(id=f"n_{rid[a]}_{rid[b]}", tier=Tier.NEIGHBOUR,
                                        lender=rid[a], borrower=rid[b], cap_share=0.3,
                                        compensation=0.5, delay_h=2.0, reciprocal=True))

    # the event: heavy near the hazard centres, light everywhere
    hc = lonlat[rng.choice(n_regions, min(hazards, n_regions), replace=False)]
    d_deg = np.sqrt(((lonlat[:, None, :] - hc[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    severity = 0.002 + 0.05 * np.exp(-((d_deg / 1.5) ** 2))
    # demand follows from the affected persons (Instance.demand)
    affected = {rid[i]: float(round(pop[i] * severity[i])) for i in range(n_regions)}
    near = {facilities[n].id: 0.7 for n in range(n_facilities)
            if np.sqrt(((lonlat[where[n]] - hc) ** 2).sum(axis=1)).min() < 0.5}
    scenario = Scenario(id="event", name="Synthetic national event", probability=1.0,
                        hazard="typhoon+flood", days=days, affected=affected,
                        damage=near)
    return Instance(name=f"synthetic-{n_regions}x{n_facilities}", currency="CNY",
                    regions=regions, commodities=commodities, facilities=tuple(facilities),
                    scenarios=(scenario,), contracts=tuple(contracts),
                    agreements=tuple(agreements), fleet=tuple(fleet),
                    settings=Settings(detour_factor=1.3, speed_kmh=60.0,
                                      transport_cost_per_kg_km=0.001),
                    description="Synthetic, illustrative: see reserve_opt.synthetic.",
                    sources={"all": "Illustrative, generated by reserve_opt.synthetic."})


#: Candidate warehouse sizes: (label, m3, fixed cost CNY over the planning period).
PLACEMENT_SIZES: tuple[tuple[str, float, float], ...] = (
    ("small", 2_000.0, 600_000.0), ("medium", 5_000.0, 1_200_000.0),
    ("large", 10_000.0, 2_000_000.0), ("xl", 20_000.0, 3_400_000.0),
    ("xxl", 40_000.0, 6_000_000.0))


def placement_instance(n_regions: int = 400, n_candidates: int = 100, n_commodities: int = 3,
                       n_scenarios: int = 100, *, seed: int = 0, sizes: int = 3,
                       hit_share: float = 0.1, days: float = 3.0,
                       fixed_cost_scale: float = 1.0) -> Instance:
    """A placement instance: candidate sites with sizes and many scenarios, pooled sharing.

    Regions are scattered as in :func:`synthetic_instance` (no provinces, agreements,
    contracts or fleets, so sharing resolves to pooled); every facility is a candidate
    government warehouse with ``sizes`` of :data:`PLACEMENT_SIZES`, placed in regions drawn
    by population. Each scenario (equally likely) strikes the ``hit_share`` of regions
    nearest a random centre: 2-20% of their people affected (more near the centre) for
    ``days`` days, and candidates in the struck regions keep 40-90% of their stock.

    Parameters
    ----------
    n_regions, n_candidates, n_commodities, n_scenarios
        Sizes of the instance; commodities are :data:`COMMODITIES` in order, then (7-12)
        a second line of each (``water_2``, ...) at 1.5x the purchase cost and penalty.
    seed
        Random seed; same arguments and seed -> the same instance.
    sizes
        Size options per candidate (1-5, smallest first).
    hit_share
        Share of regions struck per scenario, in (0, 1].
    days
        Days of need of each event.
    fixed_cost_scale
        Multiplies every size's fixed cost (heavy fixed costs make the MILP harder).

    Returns
    -------
    Instance
    """
    if not 1 <= n_commodities <= 2 * len(COMMODITIES):
        raise ValueError(f"n_commodities must be 1-{2 * len(COMMODITIES)}")
    if not 1 <= sizes <= len(PLACEMENT_SIZES):
        raise ValueError(f"sizes must be 1-{len(PLACEMENT_SIZES)}")
    if not 0 < hit_share <= 1:
        raise ValueError("hit_share must be in (0, 1]")
    rng = np.random.default_rng(seed)
    lonlat = np.column_stack([rng.uniform(100, 122, n_regions), rng.uniform(22, 45, n_regions)])
    pop = np.round(np.exp(rng.normal(math.log(300_000), 0.6, n_regions)), -2)
    rid = [f"r{i:04d}" for i in range(n_regions)]
    regions = tuple(Region(id=rid[i], name=f"County {i}", population=float(pop[i]),
                           lon=float(lonlat[i, 0]), lat=float(lonlat[i, 1]),
                           level="county", risk=float(rng.uniform(0.05, 0.6)))
                    for i in range(n_regions))
    rows = [(c, c[0], 1.0) for c in COMMODITIES] + [(c, f"{c[0]}_2", 1.5) for c in COMMODITIES]
    commodities = tuple(
        Commodity(id=cid, name=cid, unit=c[1], weight_kg=c[2], volume_m3=c[3],
                  purchase_cost=f * c[4], shortage_penalty=f * c[5], holding_cost=0.1 * f * c[4],
                  priority=c[6], need_per_person_day=c[7],
                  need_per_person=_DURABLE_PER_PERSON.get(c[0], 0.0))
        for c, cid, f in rows[:n_commodities])
    where = rng.choice(n_regions, n_candidates, p=pop / pop.sum())
    options = tuple(SizeOption(size=z, capacity_m3=m3, fixed_cost=fixed_cost_scale * cost)
                    for z, m3, cost in PLACEMENT_SIZES[:sizes])
    facilities = tuple(
        Facility(id=f"w{n:04d}", name=f"Candidate {n}", kind=FacilityKind.GOVERNMENT_WAREHOUSE,
                 region=rid[int(j)], lon=float(lonlat[j, 0] + rng.normal(0, 0.05)),
                 lat=float(lonlat[j, 1] + rng.normal(0, 0.05)), existing=False, sizes=options)
        for n, j in enumerate(where))
    tree = cKDTree(_unit_vectors(lonlat))
    hit = max(1, round(hit_share * n_regions))
    scenarios = []
    for s in range(n_scenarios):
        centre = int(rng.integers(0, n_regions))
        _, near = tree.query(_unit_vectors(lonlat[[centre]]), k=hit)
        near = np.atleast_1d(near.ravel())
        share = np.linspace(0.2, 0.02, near.size) * rng.uniform(0.7, 1.3, near.size)
        struck = {rid[int(j)] for j in near}
        damage = {f.id: float(rng.uniform(0.4, 0.9)) for f in facilities if f.region in struck}
        scenarios.append(Scenario(
            id=f"s{s:03d}", name=f"Event {s}", probability=1.0 / n_scenarios,
            hazard="earthquake", days=days, damage=damage,
            affected={rid[int(j)]: float(round(pop[j] * q)) for j, q in zip(near, share,
                                                                          strict=True)}))
    return Instance(name=f"placement-{n_regions}x{n_candidates}x{n_commodities}x{n_scenarios}",
                    currency="CNY", regions=regions, commodities=commodities,
                    facilities=facilities, scenarios=tuple(scenarios),
                    settings=Settings(detour_factor=1.3, speed_kmh=60.0,
                                      transport_cost_per_kg_km=0.001),
                    description="Synthetic, illustrative: see reserve_opt.synthetic.",
                    sources={"all": "Illustrative, generated by reserve_opt.synthetic."})


def _unit_vectors(lonlat: np.ndarray) -> np.ndarray:
    lon, lat = np.radians(lonlat[:, 0]), np.radians(lonlat[:, 1])
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
