"""Build the Georgia (US) instance: 159 counties with 1990 population and polygons.

Real data: county polygons and 1990 census population from libpysal's ``georgia`` example
(``../shared/data/georgia/G_utm.shp``). The shapefile ships without a ``.prj``; its
coordinates are UTM zone **16N** metres (NAD83, EPSG:26916): that CRS reproduces the
shapefile's own Latitude/Longitud columns to within 0.05 degrees, zone 17N misses them by
6 degrees (checked by :func:`check_crs`). Everything else (depots, contracts, hazards,
probabilities, costs) is illustrative and set here. The script writes this folder,
including README.md and regions.gpkg.

Usage::

    .venv/bin/python instances/georgia/build.py [--shared DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
from pyproj import Transformer

from reserve_opt import InstanceBuilder
from reserve_opt.io import refresh_folder

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_SHARED = REPO.parent / "shared" / "data"
SOURCE_CRS = "EPSG:26916"
"""NAD83 / UTM zone 16N: the CRS of G_utm.shp (no .prj shipped)."""

_COUNTY_NAMES_TEXT = (
    "Appling Atkinson Bacon Baker Baldwin Banks Barrow Bartow Ben_Hill Berrien Bibb Bleckley "
    "Brantley Brooks Bryan Bulloch Burke Butts Calhoun Camden Candler Carroll Catoosa Charlton "
    "Chatham Chattahoochee Chattooga Cherokee Clarke Clay Clayton Clinch Cobb Coffee Colquitt "
    "Columbia Cook Coweta Crawford Crisp Dade Dawson Decatur DeKalb Dodge Dooly Dougherty "
    "Douglas Early Echols Effingham Elbert Emanuel Evans Fannin Fayette Floyd Forsyth Franklin "
    "Fulton Gilmer Glascock Glynn Gordon Grady Greene Gwinnett Habersham Hall Hancock Haralson "
    "Harris Hart Heard Henry Houston Irwin Jackson Jasper Jeff_Davis Jefferson Jenkins Johnson "
    "Jones Lamar Lanier Laurens Lee Liberty Lincoln Long Lowndes Lumpkin McDuffie McIntosh "
    "Macon Madison Marion Meriwether Miller Mitchell Monroe Montgomery Morgan Murray Muscogee "
    "Newton Oconee Oglethorpe Paulding Peach Pickens Pierce Pike Polk Pulaski Putnam Quitman "
    "Rabun Randolph Richmond Rockdale Schley Screven Seminole Spalding Stephens Stewart Sumter "
    "Talbot Taliaferro Tattnall Taylor Telfair Terrell Thomas Tift Toombs Towns Treutlen Troup "
    "Turner Twiggs Union Upson Walker Walton Ware Warren Washington Wayne Webster Wheeler White "
    "Whitfield Wilcox Wilkes Wilkinson Worth"
)
COUNTY_NAMES = tuple(_COUNTY_NAMES_TEXT.split())
"""Georgia's 159 counties in FIPS order (US Census county codes, public domain)."""
_SKIPPED_CODES = {41, 203}
"""County codes 13041 and 13203 are not in use."""


def county_fips() -> dict[int, str]:
    """FIPS code (e.g. 13121) -> county name."""
    codes = [c for c in range(1, 322, 2) if c not in _SKIPPED_CODES]
    assert len(codes) == len(COUNTY_NAMES) == 159
    return {13000 + c: n.replace("_", " ") for c, n in zip(codes, COUNTY_NAMES, strict=True)}


def county_id(fips: int) -> str:
    """Region id of a county: ``c`` + its FIPS code."""
    return f"c{fips}"


# --- Alliance (illustrative) ----------------------------------------------------------------
STATEWIDE = "statewide"
"""Every county is in one statewide mutual-aid alliance (modelled on Georgia's statewide
mutual aid agreement); it is how the state warehouses, owned by their host county, reach
the other counties when the placement model follows agreements."""

# --- Commodities (illustrative USD) --------------------------------------------------------
# id: name, unit, kg, m3, purchase USD, shortage multiple, priority, need/person/day, shelf
COMMODITIES: dict[str, tuple[str, str, float, float, float, float, int, float, float]] = {
    "water": ("Bottled water", "case of 24 x 0.5 L", 12.5, 0.018, 6.0, 10.0, 1, 0.25, 730.0),
    "meal": ("Shelf-stable meal", "meal (MRE)", 0.7, 0.0025, 8.0, 10.0, 1, 2.0, 1825.0),
    "tarp": ("Roof tarp", "tarp 20 x 25 ft", 6.0, 0.012, 30.0, 10.0, 2, 0.0, 0.0),
    "hygiene": ("Hygiene kit", "kit", 1.0, 0.004, 15.0, 10.0, 2, 0.0, 1095.0),
}
DURABLE_NORMS: dict[str, dict[str, float]] = {
    "hurricane": {"tarp": 0.25, "hygiene": 1.0},
    "flood": {"tarp": 0.1, "hygiene": 1.0},
}
"""One-off units per affected person (a tarp per household of about 4 after a hurricane)."""

# existing depots: county -> (capacity m3, design persons)
EXISTING: dict[str, tuple[float, float]] = {
    "Fulton": (30_000.0, 60_000), "Bibb": (20_000.0, 40_000),
    "Dougherty": (12_000.0, 25_000), "Richmond": (12_000.0, 25_000),
}
STOCK_DAYS = 3.0
CANDIDATES = ("Chatham", "Muscogee", "Clarke", "Lowndes", "Glynn", "Hall", "Floyd",
              "Houston", "Laurens", "Ware", "Thomas", "Bulloch")
SIZES = (("small", 5_000.0, 250_000.0), ("medium", 12_000.0, 500_000.0),
         ("large", 25_000.0, 850_000.0))
"""(label, m3, fixed USD per planning year), illustrative."""

# id: (name, kind, county, commodity, quantity, rate/day, retainer, price, delay h, signed)
ENTERPRISES: dict[str, tuple[str, str, str, str, float, float, float, float, float, bool]] = {
    "E_fulton_grocer": ("Atlanta grocery distribution centre", "enterprise_reserve", "Fulton",
                        "water", 80_000, 0, 24_000, 6.5, 12, True),
    "E_gwinnett_grocer": ("Gwinnett grocery distribution centre", "enterprise_reserve",
                          "Gwinnett", "meal", 100_000, 0, 40_000, 8.5, 12, True),
    "E_chatham_port": ("Savannah port logistics warehouse", "enterprise_reserve", "Chatham",
                       "tarp", 20_000, 0, 30_000, 32.0, 8, False),
    "E_lowndes_grocer": ("Valdosta grocery warehouse", "enterprise_reserve", "Lowndes",
                         "water", 30_000, 0, 9_000, 6.5, 12, False),
    "E_bibb_pharmacy": ("Macon pharmacy distributor", "enterprise_reserve", "Bibb",
                        "hygiene", 30_000, 0, 22_500, 16.0, 8, True),
    "P_cobb_bottling": ("Cobb County bottling plant", "production_capacity", "Cobb",
                        "water", 150_000, 25_000, 50_000, 6.2, 24, True),
    "P_whitfield_textile": ("Dalton textile works (tarps)", "production_capacity",
                            "Whitfield", "tarp", 30_000, 3_000, 40_000, 31.0, 48, False),
}
# id: (name, county, persons)
SHELTERS: dict[str, tuple[str, str, float]] = {
    "D_chatham_civic": ("Savannah civic centre shelter", "Chatham", 5_000),
    "D_glynn_school": ("Brunswick high school shelter", "Glynn", 2_000),
    "D_camden_school": ("Camden county school shelter", "Camden", 1_500),
    "D_liberty_school": ("Hinesville school shelter", "Liberty", 1_500),
    "D_dougherty_civic": ("Albany civic centre shelter", "Dougherty", 3_000),
    "D_ware_school": ("Waycross school shelter", "Ware", 1_500),
}
BILATERAL = (("Dougherty", "Lee"), ("Dougherty", "Worth"), ("Lowndes", "Ware"),
             ("Glynn", "Ware"), ("Bibb", "Houston"), ("Richmond", "Columbia"))


@dataclass(frozen=True)
class Hazard:
    """One illustrative scenario (counties by name, affected as % of population)."""

    id: str
    name: str
    hazard: str
    probability: float
    days: float
    affected_pct: dict[str, float]
    damage: dict[str, float]
    outages: dict[tuple[str, str], float]


COASTAL_NORTH = {"Chatham": 4.0, "Bryan": 5.0, "Effingham": 2.0, "Liberty": 4.0,
                 "McIntosh": 6.0, "Bulloch": 1.0}
COASTAL_SOUTH = {"Glynn": 6.0, "Camden": 6.0, "McIntosh": 4.0, "Brantley": 3.0,
                 "Charlton": 2.0, "Ware": 1.0}
FLINT = {"Dougherty": 5.0, "Lee": 3.0, "Sumter": 2.0, "Macon": 2.0, "Worth": 2.0,
         "Mitchell": 2.0, "Baker": 4.0, "Decatur": 2.0}
ALTAMAHA = {"Appling": 3.0, "Wayne": 3.0, "Long": 3.0, "Jeff Davis": 2.0, "Tattnall": 2.0,
            "Montgomery": 2.0, "Toombs": 1.0, "Wheeler": 2.0, "McIntosh": 2.0}
ATLANTA = {"Cobb": 0.5, "Douglas": 1.5, "Paulding": 1.0, "Fulton": 0.3, "Carroll": 1.0,
           "Gwinnett": 0.2}

SCENARIOS: tuple[Hazard, ...] = (
    Hazard("none", "No major event", "", 0.55, 0.0, {}, {}, {}),
    Hazard("hurricane_savannah", "Hurricane landfall near Savannah", "hurricane", 0.08, 4.0,
           COASTAL_NORTH, {"C_chatham": 0.5, "E_chatham_port": 0.6},
           {("Chatham", "Bryan"): 0.5, ("Chatham", "Effingham"): 0.5}),
    Hazard("hurricane_brunswick", "Hurricane landfall near Brunswick", "hurricane", 0.07, 4.0,
           COASTAL_SOUTH, {"C_glynn": 0.5},
           {("Glynn", "McIntosh"): 0.0, ("Glynn", "Camden"): 0.5}),
    Hazard("flood_flint", "Flint river flood (like Alberto 1994)", "flood", 0.10, 5.0,
           FLINT, {"W_dougherty": 0.5},
           {("Dougherty", "Lee"): 0.0, ("Dougherty", "Worth"): 0.5}),
    Hazard("flood_altamaha", "Altamaha basin flood", "flood", 0.08, 5.0, ALTAMAHA, {},
           {("Appling", "Wayne"): 0.5}),
    Hazard("flood_atlanta", "Flash flood in west metro Atlanta (like September 2009)",
           "flood", 0.07, 3.0, ATLANTA, {},
           {("Cobb", "Douglas"): 0.5, ("Fulton", "Douglas"): 0.5}),
    Hazard("hurricane_flood", "Hurricane at Savannah then Altamaha flooding",
           "hurricane+flood", 0.05, 6.0,
           {**ALTAMAHA, **COASTAL_NORTH},
           {"C_chatham": 0.3, "E_chatham_port": 0.5, "C_bulloch": 0.8},
           {("Chatham", "Bryan"): 0.0, ("Appling", "Wayne"): 0.0,
            ("Chatham", "Effingham"): 0.5}),
)

TRANSPORT_USD_PER_KG_KM = 0.0001
"""About 0.16 USD per ton-mile, a road freight order of magnitude (illustrative)."""
BUDGET_USD = 5_000_000.0


def check_crs(frame: gpd.GeoDataFrame, crs: str = SOURCE_CRS, tol_deg: float = 0.2) -> float:
    """Largest gap (degrees) between the shapefile's centroids in ``crs`` and its lon/lat.

    Raises
    ------
    ValueError
        When the gap exceeds ``tol_deg`` (the assumed CRS is wrong).
    """
    t = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    c = frame.geometry.centroid
    lon, lat = t.transform(c.x.to_numpy(), c.y.to_numpy())
    gap = float(max(np.abs(lon - frame["Longitud"]).max(), np.abs(lat - frame["Latitude"]).max()))
    if gap > tol_deg:
        raise ValueError(f"G_utm.shp does not look like {crs}: centroids miss by {gap:.2f} deg")
    return gap


def read_counties(shared: Path) -> tuple[gpd.GeoDataFrame, float]:
    """Counties in WGS84 with name, representative point, and the CRS check's gap."""
    frame = gpd.read_file(shared / "georgia" / "G_utm.shp")
    frame = frame.set_crs(SOURCE_CRS, allow_override=True)
    gap = check_crs(frame)
    points = frame.geometry.representative_point().to_crs("EPSG:4326")
    frame = frame.to_crs("EPSG:4326")
    frame["lon"] = points.x.round(6)
    frame["lat"] = points.y.round(6)
    names = county_fips()
    frame["county"] = [names[int(k)] for k in frame["AreaKey"]]
    frame = frame.sort_values("AreaKey").reset_index(drop=True)
    return frame, gap


def build(shared: Path) -> tuple[InstanceBuilder, dict[str, object]]:
    """Fill a builder with the Georgia instance.

    Parameters
    ----------
    shared
        The shared ``data`` folder (``georgia/`` inside).

    Returns
    -------
    tuple
        The builder and figures used by the README.
    """
    frame, gap = read_counties(shared)
    by_name = {r.county: r for r in frame.itertuples()}

    def rid(name: str) -> str:
        return county_id(int(by_name[name].AreaKey))

    def where(name: str) -> tuple[float, float]:
        r = by_name[name]
        return float(r.lon), float(r.lat)

    b = InstanceBuilder(
        "georgia",
        currency="USD",
        description=(
            "Georgia (US): 159 counties with 1990 census population and polygons; "
            "illustrative depots, contracts, hurricanes and river floods."
        ),
        detour_factor=1.25, speed_kmh=80.0, transport_cost_per_kg_km=TRANSPORT_USD_PER_KG_KM,
        budget=BUDGET_USD, county_response_h=12.0,
    )
    b.manifest["sources"] = {
        "regions": "libpysal 4.14.1 example 'georgia' (G_utm.shp): 1990 US Census county "
                   "population (public domain), polygons in UTM 16N (EPSG:26916, no .prj "
                   "shipped) converted to WGS84; county names from Census FIPS codes; "
                   "statewide alliance illustrative.",
        "commodities": "Illustrative USD.",
        "facilities": "Illustrative; located at county representative points.",
        "contracts": "Illustrative.",
        "agreements": "Illustrative.",
        "scenarios": "Illustrative hurricanes and river floods.",
        "fleet": "Illustrative.",
    }

    exposure = {n: 0.0 for n in by_name}
    for s in SCENARIOS:
        for n, pct in s.affected_pct.items():
            exposure[n] += s.probability * pct / 100.0
    top = max(exposure.values())
    for r in frame.itertuples():
        b.add_region(county_id(int(r.AreaKey)), name=f"{r.county} County",
                     population=float(r.TotPop90), lon=float(r.lon), lat=float(r.lat),
                     level="county", alliance=STATEWIDE,
                     risk=round(exposure[r.county] / top, 2), geometry=r.geometry)

    for cid, (name, unit, kg, m3, cost, mult, prio, need, shelf) in COMMODITIES.items():
        b.add_commodity(cid, name=name, unit=unit, weight_kg=kg, volume_m3=m3,
                        purchase_cost=cost, holding_cost=round(0.2 * cost, 4),
                        shortage_penalty=mult * cost, priority=prio,
                        need_per_person_day=need, shelf_life_days=shelf or None)

    for county, (cap, persons) in EXISTING.items():
        lon, lat = where(county)
        fid = f"W_{county.lower()}"
        b.add_facility(fid, name=f"{county} County state relief warehouse",
                       kind="government_warehouse", region=rid(county), lon=lon, lat=lat,
                       existing=True, capacity_m3=cap)
        for c, spec in COMMODITIES.items():
            need = spec[7] * STOCK_DAYS if spec[7] else 0.0
            qty = persons * need if need else persons * max(
                DURABLE_NORMS[h].get(c, 0.0) for h in DURABLE_NORMS)
            b.add_stock(fid, c, round(qty))
        b.add_vehicle_type(f"V_{county.lower()}", depot=fid, count=6, capacity_kg=10_000,
                           capacity_m3=50, speed_kmh=80, cost_per_km=1.5, fixed_cost=150,
                           max_hours=11)
    for county in CANDIDATES:
        lon, lat = where(county)
        fid = f"C_{county.lower()}"
        b.add_facility(fid, name=f"{county} County candidate warehouse",
                       kind="government_warehouse", region=rid(county), lon=lon, lat=lat,
                       existing=False)
        for label, m3, cost in SIZES:
            b.add_size(fid, label, capacity_m3=m3, fixed_cost=cost)
    for fid, (name, kind, county, com, qty, rate, ret, price, delay, signed) in (
            ENTERPRISES.items()):
        lon, lat = where(county)
        b.add_facility(fid, name=name, kind=kind, region=rid(county), lon=lon, lat=lat)
        b.add_contract(f"K_{fid[2:]}", facility=fid, commodity=com,
                       kind="stock" if kind == "enterprise_reserve" else "capacity",
                       quantity=qty, rate_per_day=rate, retainer=ret, unit_price=price,
                       delay_h=delay, signed=signed)
    for fid, (name, county, persons) in SHELTERS.items():
        lon, lat = where(county)
        b.add_facility(fid, name=name, kind="distribution_point", region=rid(county),
                       lon=lon, lat=lat, shelter_persons=persons)

    for lender, borrower in BILATERAL:
        b.add_agreement(f"A_{lender.lower()}_{borrower.lower()}", tier=1, lender=rid(lender),
                        borrower=rid(borrower), cap_share=0.3, compensation=0.0, delay_h=2.0,
                        reciprocal=True, protect_own=True)
    b.add_agreement("AL_statewide", tier=2, alliance=STATEWIDE, compensation=0.0,
                    delay_h=4.0, protect_own=True)

    for s in SCENARIOS:
        b.add_scenario(s.id, name=s.name, probability=s.probability, hazard=s.hazard,
                       days=s.days)
        kinds = s.hazard.split("+") if s.hazard else []
        norms = {c: max((DURABLE_NORMS[k].get(c, 0.0) for k in kinds), default=0.0)
                 for c in ("tarp", "hygiene")}
        for county, pct in s.affected_pct.items():
            n = round(float(by_name[county].TotPop90) * pct / 100.0)
            b.add_affected(s.id, rid(county), n)
            for c, norm in norms.items():
                if norm > 0:
                    b.add_demand(s.id, rid(county), c, round(n * norm))
        for fid, frac in s.damage.items():
            b.add_damage(s.id, fid, frac)
        for (x, y), f in s.outages.items():
            b.add_outage(s.id, rid(x), rid(y), f)

    facts: dict[str, object] = {"gap": gap, "total": int(frame["TotPop90"].sum()),
                                "frame": frame, "exposure": exposure}
    return b, facts


def readme(facts: dict[str, object]) -> str:
    """The folder's README."""
    frame: gpd.GeoDataFrame = facts["frame"]  # type: ignore[assignment]
    top = frame.sort_values("TotPop90", ascending=False).head(10)
    L = [
        "# georgia: 159 US counties with 1990 population and polygons",
        "",
        "Georgia (United States): every county as a region (level `county`), with its 1990",
        "census population and its polygon (`regions.gpkg`, WGS84), plus an **illustrative**",
        "reserve network: 4 existing state relief warehouses, 12 candidate sites, enterprise",
        "contracts, shelters, agreements, a fleet and 7 hurricane/flood scenarios. Money is in",
        "USD. Written by `build.py` (`.venv/bin/python instances/georgia/build.py`); do not",
        "edit the tables by hand.",
        "",
        "## Sources and licences",
        "- County polygons, 1990 population (`TotPop90`) and FIPS codes (`AreaKey`): the",
        "  `georgia` example of libpysal 4.14.1 (PyPI wheel; upstream github.com/pysal/libpysal,",
        "  package BSD-3-Clause), as used in Fotheringham, Brunsdon & Charlton (2002),",
        "  *Geographically Weighted Regression*, Wiley. The attributes are 1990 US Census",
        "  figures (US public domain). Copied from `../shared/data/georgia` (see SOURCE.txt",
        "  there).",
        f"  Total 1990 population: {facts['total']:,} persons.",
        "- County names: US Census Bureau FIPS county codes (public domain), joined on AreaKey.",
        "",
        "## Coordinate reference system",
        "`G_utm.shp` ships without a `.prj`. Its coordinates are **UTM zone 16N** metres",
        "(NAD83, EPSG:26916), not zone 17N: converted from 16N, the polygon centroids",
        f"land within {facts['gap']:.3f} degrees of the shapefile's own Latitude/Longitud",
        "columns, while zone 17N puts them about 6 degrees too far east. `build.py` checks",
        "this every time it runs. Polygons are converted to WGS84 (EPSG:4326) for",
        "`regions.gpkg`; each region's lon/lat is the polygon's representative point",
        "(computed in UTM, a point guaranteed inside the county), not its centroid.",
        "",
        "## Regions",
        "Ids are `c` + the county FIPS code (`c13121` = Fulton). Level `county` (response",
        "limit raised to 12 h via `county_response_h`, illustrative: US counties are not",
        "Chinese counties). Every county is in one alliance, `statewide` (modelled on",
        "Georgia's statewide mutual aid agreement; illustrative terms). `risk` = expected",
        "affected share of the population over the scenarios, divided by the largest,",
        "rounded to 0.01.",
        "",
        "Largest counties (1990):",
        "",
        "| id | county | population |",
        "|---|---|---|",
    ]
    L += [f"| c{int(r.AreaKey)} | {r.county} | {int(r.TotPop90):,} |" for r in top.itertuples()]
    L += [
        "",
        "## Commodities (illustrative USD)",
        "| id | unit | kg | m3 | purchase | need/person/day | one-off norm per affected person |",
        "|---|---|---|---|---|---|---|",
    ]
    for cid, (_n, unit, kg, m3, cost, _m, _p, need, _s) in COMMODITIES.items():
        norm = ", ".join(f"{h} {v[cid]:g}" for h, v in DURABLE_NORMS.items() if cid in v)
        L.append(f"| {cid} | {unit} | {kg:g} | {m3:g} | {cost:g} | {need:g} | {norm or '-'} |")
    L += [
        "",
        "Holding cost 0.2 x purchase; shortage penalty 10 x purchase. Water 0.25 case (3 L)",
        "and 2 meals per person-day (from `affected.csv` x days); tarps and hygiene kits are",
        "given directly in `demand.csv` = affected persons x the one-off norm (the larger",
        "norm for a compound event). Transport 0.0001 USD per kg-km; roads 1.25 x",
        "great-circle at 80 km/h.",
        "",
        "`commodities.csv` says how need is counted: water and meals per person and day",
        "(`need_per_person_day`), tarps and hygiene kits once per person (their norms depend",
        "on the hazard, so they are the `demand.csv` rows; `need_per_person` is 0). No figure",
        "changed when reserve-opt began counting durable goods once per person instead of",
        "multiplying every need by the event's days: the one-off goods were always given",
        "as demand rows here.",
        "",
        "## Facilities (illustrative)",
        "All at their county's representative point (no seat coordinates in the source).",
        "",
        "- Existing state relief warehouses (`W_*`): "
        + ", ".join(f"{c} ({cap:,.0f} m3, stocked for {p:,.0f} persons for 3 days)"
                    for c, (cap, p) in EXISTING.items()) + "; 6 trucks of 10 t / 50 m3 each.",
        "- Candidate warehouses (`C_*`) at the larger counties: " + ", ".join(CANDIDATES)
        + "; sizes small / medium / large = 5,000 / 12,000 / 25,000 m3 at 250,000 /",
        "  500,000 / 850,000 USD per planning year. Budget 5,000,000 USD.",
        "- Enterprise reserves and production capacity: "
        + "; ".join(f"`{k}` {v[0]} ({v[3]}, {v[4]:,.0f} units"
                    + (f", {v[5]:,.0f}/day" if v[5] else "") + f", {v[8]:g} h"
                    + ("" if v[9] else ", not signed") + ")"
                    for k, v in ENTERPRISES.items()) + ".",
        "- Shelters / distribution points: "
        + ", ".join(f"`{k}` ({v[2]:,.0f} persons)" for k, v in SHELTERS.items()) + ".",
        "",
        "## Agreements (illustrative)",
        "Tier 1, reciprocal, 30% of stock, no compensation, 2 h: "
        + ", ".join(f"{a}-{c}" for a, c in BILATERAL) + ". Tier 2, `AL_statewide`: every",
        "county may draw on every other county's stock, all commodities, no cap, no",
        "compensation, 4 h, lenders keep what their own people need first. This is also how",
        "the state warehouses (owned by their host county) serve the rest of the state.",
        "",
        "## Scenarios (illustrative)",
        "Mutually exclusive 'major event of the year' scenarios, probabilities sum to 1.",
        "Hurricanes affect coastal counties, floods river counties (Flint, Altamaha basin,",
        "west metro Atlanta). No explicit links: travel is great-circle x detour factor, and",
        "an outage between two counties applies to every trip between places in them.",
        "",
        "| id | probability | days | affected (% of 1990 population) | damage | outages |",
        "|---|---|---|---|---|---|",
    ]
    for s in SCENARIOS:
        aff = ", ".join(f"{c} {p:g}%" for c, p in s.affected_pct.items()) or "-"
        dmg = ", ".join(f"{f} {x:g}" for f, x in s.damage.items()) or "-"
        out = ", ".join(f"{a}-{c} {x:g}" for (a, c), x in s.outages.items()) or "-"
        L.append(f"| {s.id} | {s.probability:g} | {s.days:g} | {aff} | {dmg} | {out} |")
    L.append("")
    return "\n".join(L)


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
    inst = b.build()
    return refresh_folder(inst, out, readme(facts))


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    print(main_build(args.shared, args.out))


if __name__ == "__main__":
    main()
