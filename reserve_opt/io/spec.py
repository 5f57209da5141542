"""The instance format: every table, its columns, types, units and references.

One declarative description drives the CSV/Parquet reader, the JSON document, the
published JSON Schema, the validator and ``reserve-opt info``'s unit table, so the five
can never disagree. Money is in the instance's ``currency``; commodity quantities are
in each commodity's own ``unit`` (a bottle, a tent, a kit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Dtype = Literal["str", "float", "int", "bool", "list"]

UNIT_MAXIMUM: dict[str, float] = {
    "persons": 1e10,              # more than the world's population
    "units": 1e12,                # a trillion of anything
    "units/day": 1e12,
    "units/person/day": 1e6,
    "kg/unit": 1e6,               # a thousand tonnes per unit
    "m3/unit": 1e6,
    "currency": 1e15,             # money, whatever the currency
    # rates: HiGHS fails on a purchase cost of 1e15, routing hangs on 1e15 per km
    "currency/unit": 1e12,
    "currency/(unit km)": 1e12,
    "currency/(kg km)": 1e12,
    "currency/km": 1e12,
    "m3": 1e9,                    # storage space (a vehicle's is capped lower)
    "kg": 1e6,                    # a vehicle's load: a thousand tonnes
    "km": 5e4,                    # more than the Earth's circumference
    "km/h": 200.0,                # road vehicles
    "h": 8760.0,                  # a year
    "min": 1440.0,                # a day
    "days": 36500.0,              # a century
    "vehicles": 1e4,              # of one type at one depot
    "rank (1 = first)": 1e6,
    "ratio": 10.0,                # road length / great-circle length
}
"""Largest plausible value of a number in each unit, used where a column or setting names
no maximum of its own. Far beyond any real instance, these keep a typo such as ``1e308``
(or a 400-digit number) out of the models: solvers fail on such coefficients, and sizes
derived from them (vehicles, loads) exhaust memory."""

FORMAT_VERSION = "reserve-opt/1"
"""Value of the ``format`` key in every manifest and JSON document."""

FACILITY_KINDS = (
    "government_warehouse",
    "enterprise_reserve",
    "production_capacity",
    "distribution_point",
)
CONTRACT_KINDS = ("stock", "capacity")
REGION_LEVELS = ("county", "prefecture", "province")


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table.

    Parameters
    ----------
    name
        Column name in CSV/Parquet files and key in JSON rows.
    dtype
        ``str``, ``float``, ``int``, ``bool`` or ``list`` (``|``-separated in CSV).
    unit
        Unit of the values, e.g. ``persons`` or ``currency/unit``; empty for labels.
    required
        The column must be present.
    nullable
        Cells may be empty (the entity then uses ``default``).
    default
        Value used when the column is absent or the cell is empty.
    minimum, maximum
        Inclusive bounds on numeric values; a numeric column with a unit and no maximum
        takes that of :data:`UNIT_MAXIMUM`.
    exclusive_minimum
        Values must be above ``minimum``, not equal to it (a speed of 0 moves nothing).
    choices
        Allowed values of a ``str`` column.
    ref
        Name of the table whose ``id`` the values must name.
    doc
        One line saying what the column means.
    omit_when_empty
        Written to folders and JSON only when some row has a value (a later optional
        column, so that instances without it are written as before).
    """

    name: str
    dtype: Dtype
    unit: str = ""
    required: bool = True
    nullable: bool = False
    default: object = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[str, ...] = ()
    ref: str | None = None
    doc: str = ""
    omit_when_empty: bool = False

    def __post_init__(self) -> None:
        if self.maximum is None and self.dtype in ("float", "int"):
            object.__setattr__(self, "maximum", UNIT_MAXIMUM.get(self.unit))


@dataclass(frozen=True, slots=True)
class Table:
    """One table of an instance.

    Parameters
    ----------
    name
        Table name; the default file is ``<name>.csv`` or ``<name>.parquet``.
    entity
        What one row describes, in words used by messages (``region``, ``stock row``).
    columns
        Columns in file order.
    key
        Columns whose values must be unique together (``("id",)`` for entities).
    required
        The table must exist in every instance.
    doc
        One line saying what the table holds.
    columnar
        Read and checked a column at a time (a national OD matrix has millions of rows);
        its columns may only be ``str`` and ``float``, and an empty cell of a nullable
        column reads as ``None`` / NaN.
    """

    name: str
    entity: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ("id",)
    required: bool = False
    doc: str = ""
    columnar: bool = False
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})


def _id(doc: str) -> Column:
    return Column("id", "str", doc=doc)


def _name() -> Column:
    return Column("name", "str", required=False, nullable=True, default="", doc="display name")


LON_RANGE = (-180.0, 180.0)
LAT_RANGE = (-90.0, 90.0)
"""Longitudes and latitudes in degrees, of the lon/lat columns and of region geometry."""


def lonlat_bounds_ok(bounds: tuple[float, ...]) -> bool:
    """Whether ``(minx, miny, maxx, maxy)`` lies within :data:`LON_RANGE` x :data:`LAT_RANGE`.

    False for NaN bounds (no coordinates, or NaN ones).
    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    return (LON_RANGE[0] <= minx <= maxx <= LON_RANGE[1]
            and LAT_RANGE[0] <= miny <= maxy <= LAT_RANGE[1])


def _lonlat() -> tuple[Column, Column]:
    return (
        Column("lon", "float", "degrees east", minimum=LON_RANGE[0], maximum=LON_RANGE[1],
               doc="longitude in the manifest's geographic CRS"),
        Column("lat", "float", "degrees north", minimum=LAT_RANGE[0], maximum=LAT_RANGE[1],
               doc="latitude in the manifest's geographic CRS"),
    )


_NONNEG = 0.0

TABLES: tuple[Table, ...] = (
    Table(
        "regions", "region", required=True,
        doc="administrative units that hold population and demand",
        columns=(
            _id("region id"),
            _name(),
            Column("population", "float", "persons", minimum=_NONNEG, doc="resident population"),
            *_lonlat(),
            Column("level", "str", required=False, nullable=True, default="prefecture",
                   choices=REGION_LEVELS,
                   doc="administrative level; sets the response-time standard"),
            Column("parent", "str", required=False, nullable=True, ref="regions",
                   doc="id of the region one level up"),
            Column("alliance", "str", required=False, nullable=True,
                   doc="name of the reserve alliance the region belongs to"),
            Column("risk", "float", "index 0-1", required=False, nullable=True, default=0.0,
                   minimum=0.0, maximum=1.0, doc="hazard exposure index"),
        ),
    ),
    Table(
        "demand_points", "demand point",
        doc="towns and communities where a region's people live; a region's demand splits "
        "over its points (by population unless shares are given) and travel is measured to "
        "them; a region without points is served at its seat",
        columns=(
            _id("demand point id"),
            _name(),
            Column("region", "str", ref="regions", doc="region the point belongs to"),
            *_lonlat(),
            Column("population", "float", "persons", minimum=_NONNEG,
                   doc="persons living there; sets the point's share of its region's demand"),
            Column("share", "float", "fraction", required=False, nullable=True, minimum=0.0,
                   maximum=1.0, doc="the point's share of its region's demand, instead of "
                   "population; give it for every point of the region (they sum to 1) or "
                   "for none"),
        ),
    ),
    Table(
        "commodities", "commodity", required=True,
        doc="relief goods: what a unit is, what it weighs and costs",
        columns=(
            _id("commodity id"),
            _name(),
            Column("unit", "str", doc="what one unit of the commodity is, e.g. '1.5 L bottle'"),
            Column("weight_kg", "float", "kg/unit", minimum=_NONNEG),
            Column("volume_m3", "float", "m3/unit", minimum=_NONNEG),
            Column("purchase_cost", "float", "currency/unit", minimum=_NONNEG),
            Column("holding_cost", "float", "currency/unit", required=False, nullable=True,
                   default=0.0, minimum=_NONNEG,
                   doc="cost of a unit held and not used in a scenario"),
            Column("shortage_penalty", "float", "currency/unit", minimum=_NONNEG,
                   doc="penalty per unit of unmet demand"),
            Column("transport_cost_per_km", "float", "currency/(unit km)", required=False,
                   nullable=True, minimum=_NONNEG,
                   doc="cost of moving one unit one km; empty uses weight_kg x the "
                   "transport_cost_per_kg_km setting"),
            Column("priority", "int", "rank (1 = first)", required=False, nullable=True,
                   default=1, minimum=1, doc="dispatch priority between commodities"),
            Column("need_per_person_day", "float", "units/person/day", required=False,
                   nullable=True, default=0.0, minimum=_NONNEG,
                   doc="consumables (water, food): units an affected person uses a day; "
                   "demand = persons x this x the scenario's days"),
            Column("need_per_person", "float", "units/person", required=False,
                   nullable=True, default=0.0, minimum=_NONNEG,
                   doc="durable goods (quilts, kits): units an affected person needs once, "
                   "whatever the days; demand = persons x this"),
            Column("persons_per_unit", "float", "persons/unit", required=False, nullable=True,
                   minimum=_NONNEG,
                   doc="durable goods per household (a family tent: 4): affected persons one "
                   "unit serves; demand = persons / this; instead of need_per_person"),
            Column("shelf_life_days", "float", "days", required=False, nullable=True,
                   minimum=_NONNEG, doc="empty when the commodity does not expire"),
        ),
    ),
    Table(
        "facilities", "facility", required=True,
        doc="warehouses, enterprise reserves, production sites and distribution points",
        columns=(
            _id("facility id"),
            _name(),
            Column("kind", "str", choices=FACILITY_KINDS),
            Column("region", "str", ref="regions", doc="owner region"),
            *_lonlat(),
            Column("existing", "bool", required=False, nullable=True, default=True,
                   doc="false for a candidate government warehouse that may be opened"),
            Column("capacity_m3", "float", "m3", required=False, nullable=True, minimum=_NONNEG,
                   doc="storage space of an existing warehouse"),
            Column("shelter_persons", "float", "persons", required=False, nullable=True,
                   minimum=_NONNEG, doc="persons a distribution point or shelter can serve"),
        ),
    ),
    Table(
        "sizes", "size option", key=("facility", "size"),
        doc="size options of candidate government warehouses (at most one is built)",
        columns=(
            Column("facility", "str", ref="facilities"),
            Column("size", "str", doc="size label, e.g. 'small'"),
            Column("capacity_m3", "float", "m3", minimum=_NONNEG),
            Column("fixed_cost", "float", "currency", minimum=_NONNEG,
                   doc="cost of building and running it over the planning period"),
        ),
    ),
    Table(
        "stock", "stock row", key=("facility", "commodity"),
        doc="stock already held at government warehouses",
        columns=(
            Column("facility", "str", ref="facilities"),
            Column("commodity", "str", ref="commodities"),
            Column("quantity", "float", "units", minimum=_NONNEG),
        ),
    ),
    Table(
        "contracts", "contract",
        doc="enterprise reserves: stock held for the government or production capacity",
        columns=(
            _id("contract id"),
            Column("facility", "str", ref="facilities"),
            Column("commodity", "str", ref="commodities"),
            Column("kind", "str", choices=CONTRACT_KINDS,
                   doc="stock: units held; capacity: units produced per day after a lead time"),
            Column("quantity", "float", "units", minimum=_NONNEG,
                   doc="units held (stock) or most units produced over an event (capacity)"),
            Column("rate_per_day", "float", "units/day", required=False, nullable=True,
                   default=0.0, minimum=_NONNEG, doc="production rate (capacity contracts)"),
            Column("retainer", "float", "currency", required=False, nullable=True, default=0.0,
                   minimum=_NONNEG, doc="fee for keeping the contract over the planning period"),
            Column("unit_price", "float", "currency/unit", required=False, nullable=True,
                   default=0.0, minimum=_NONNEG, doc="price paid per unit drawn"),
            Column("delay_h", "float", "h", required=False, nullable=True, default=0.0,
                   minimum=_NONNEG, doc="activation delay (stock) or lead time (capacity)"),
            Column("signed", "bool", required=False, nullable=True, default=True,
                   doc="false for a contract the planner may choose to sign"),
        ),
    ),
    Table(
        "agreements", "agreement",
        doc="sharing agreements: who may draw on whose stock, how much, at what price",
        columns=(
            _id("agreement id"),
            Column("lender", "str", required=False, nullable=True, ref="regions",
                   doc="region whose stock is lent (empty for an alliance-wide agreement)"),
            Column("borrower", "str", required=False, nullable=True, ref="regions",
                   doc="region that may draw (empty for an alliance-wide agreement)"),
            Column("alliance", "str", required=False, nullable=True,
                   doc="alliance whose members all lend to each other"),
            Column("tier", "int", "rank", minimum=1, maximum=3,
                   doc="1 neighbours, 2 wider alliance, 3 higher level (own stock is tier 0)"),
            Column("commodities", "list", required=False, nullable=True, default=(),
                   ref="commodities", doc="commodities covered; empty means all"),
            Column("cap_quantity", "float", "units", required=False, nullable=True,
                   minimum=_NONNEG, doc="most units lent to each borrower per commodity and "
                   "event"),
            Column("cap_share", "float", "fraction", required=False, nullable=True,
                   minimum=0.0, maximum=1.0, doc="most lent to each borrower as a share of the "
                   "lender's stock (per borrower: under an alliance agreement every member "
                   "may take that share, so a lender of n borrowers may give up to n times "
                   "it)"),
            Column("total_cap_quantity", "float", "units", required=False, nullable=True,
                   minimum=_NONNEG, doc="most units one lender gives of a commodity per event "
                   "to all the agreement's borrowers together (the lender's total under an "
                   "alliance agreement)"),
            Column("total_cap_share", "float", "fraction", required=False, nullable=True,
                   minimum=0.0, maximum=1.0, doc="most one lender gives of a commodity per "
                   "event to all the agreement's borrowers together, as a share of its stock "
                   "after damage (0.5: half its stock in all, however many members draw)"),
            Column("compensation", "float", "currency/unit", required=False, nullable=True,
                   default=0.0, minimum=_NONNEG, doc="paid by the borrower per unit received"),
            Column("delay_h", "float", "h", required=False, nullable=True, default=0.0,
                   minimum=_NONNEG, doc="time from request to release"),
            Column("reciprocal", "bool", required=False, nullable=True, default=False,
                   doc="the borrower lends to the lender on the same terms"),
            Column("protect_own", "bool", required=False, nullable=True, default=True,
                   doc="the lender first keeps what its own people need"),
        ),
    ),
    Table(
        "scenarios", "scenario", required=True,
        doc="hazard events with their probabilities",
        columns=(
            _id("scenario id"),
            _name(),
            Column("probability", "float", "probability", minimum=0.0, maximum=1.0),
            Column("hazard", "str", required=False, nullable=True, default="",
                   doc="hazard type, '+'-joined for compound events"),
            Column("days", "float", "days", required=False, nullable=True, default=1.0,
                   minimum=_NONNEG, doc="days of need used when demand is derived"),
        ),
    ),
    Table(
        "demand", "demand row", key=("scenario", "region", "commodity"),
        doc="demand per scenario, region and commodity",
        columns=(
            Column("scenario", "str", ref="scenarios"),
            Column("region", "str", ref="regions"),
            Column("commodity", "str", ref="commodities"),
            Column("quantity", "float", "units", minimum=_NONNEG),
        ),
    ),
    Table(
        "affected", "affected row", key=("scenario", "region"),
        doc="persons in need; where demand is not given it is persons x need_per_person_day "
        "x days, persons x need_per_person, or persons / persons_per_unit",
        columns=(
            Column("scenario", "str", ref="scenarios"),
            Column("region", "str", ref="regions"),
            Column("persons", "float", "persons", minimum=_NONNEG),
        ),
    ),
    Table(
        "damage", "damage row", key=("scenario", "facility"),
        doc="share of a facility's stock that survives and stays reachable",
        columns=(
            Column("scenario", "str", ref="scenarios"),
            Column("facility", "str", ref="facilities"),
            Column("surviving_fraction", "float", "fraction", minimum=0.0, maximum=1.0),
        ),
    ),
    Table(
        "outages", "outage", key=("scenario", "from", "to"),
        doc="links cut (speed_factor 0) or slowed in a scenario",
        columns=(
            Column("scenario", "str", ref="scenarios"),
            Column("from", "str", ref="locations"),
            Column("to", "str", ref="locations"),
            Column("speed_factor", "float", "fraction", required=False, nullable=True,
                   default=0.0, minimum=0.0, maximum=1.0, doc="0 cut, 0.5 half speed"),
        ),
    ),
    Table(
        "links", "link", key=("from", "to"),
        doc="explicit transport links (undirected); without them travel follows great circles",
        columns=(
            Column("from", "str", ref="locations"),
            Column("to", "str", ref="locations"),
            Column("distance_km", "float", "km", required=False, nullable=True, minimum=_NONNEG,
                   doc="road length; empty takes the great-circle length of its ends (the "
                   "links are the road, so no detour factor)"),
            Column("time_h", "float", "h", required=False, nullable=True, minimum=_NONNEG,
                   doc="travel time; empty takes length / speed_kmh"),
            Column("speed_kmh", "float", "km/h", required=False, nullable=True,
                   minimum=_NONNEG, exclusive_minimum=True,
                   doc="speed on the link; empty takes the speed_kmh setting"),
            Column("oneway", "bool", required=False, nullable=True, default=False,
                   doc="true when the link runs from 'from' to 'to' only"),
        ),
    ),
    Table(
        "travel", "travel row", key=("from", "to", "scenario", "vehicle_class"), columnar=True,
        doc="origin-destination travel (a planner's road atlas, GIS or routing service); "
        "a pair given here overrides links and great circles; partial matrices allowed",
        columns=(
            Column("from", "str", ref="locations"),
            Column("to", "str", ref="locations"),
            Column("distance_km", "float", "km", minimum=_NONNEG,
                   doc="road length from 'from' to 'to' (one direction)"),
            Column("time_h", "float", "h", required=False, nullable=True, minimum=_NONNEG,
                   doc="travel time; empty takes distance_km / speed_kmh"),
            Column("scenario", "str", required=False, nullable=True, ref="scenarios",
                   doc="empty for normal conditions; a scenario id gives the pair's travel "
                   "after that scenario's damage (outages then do not apply to it)"),
            Column("vehicle_class", "str", required=False, nullable=True,
                   omit_when_empty=True,
                   doc="empty: the pair's travel for every model; a class named by fleet "
                   "rows' vehicle_class gives those vehicles' time_h (required) on the "
                   "pair in routing; allocation and distances keep the class-free rows"),
        ),
    ),
    Table(
        "fleet", "vehicle type",
        doc="vehicles by depot",
        columns=(
            _id("vehicle type id"),
            Column("depot", "str", ref="facilities"),
            Column("count", "int", "vehicles", minimum=0),
            Column("capacity_kg", "float", "kg", minimum=_NONNEG),
            Column("capacity_m3", "float", "m3", minimum=_NONNEG, maximum=1e5),
            Column("speed_kmh", "float", "km/h", required=False, nullable=True, default=60.0,
                   minimum=_NONNEG, exclusive_minimum=True),
            Column("cost_per_km", "float", "currency/km", required=False, nullable=True,
                   default=0.0, minimum=_NONNEG),
            Column("fixed_cost", "float", "currency", required=False, nullable=True,
                   default=0.0, minimum=_NONNEG, doc="cost of using the vehicle once"),
            Column("max_hours", "float", "h", required=False, nullable=True, default=10.0,
                   minimum=_NONNEG, maximum=24.0, doc="working hours per day"),
            Column("break_min", "float", "min", required=False, nullable=True,
                   minimum=_NONNEG, doc="driver break length; empty: no break rule "
                   "(China: 20 min after 4 h driving)"),
            Column("drive_h_before_break", "float", "h", required=False, nullable=True,
                   minimum=_NONNEG, maximum=24.0,
                   doc="most working hours between two breaks; empty: no break rule"),
            Column("overnight", "bool", required=False, nullable=True, default=True,
                   doc="a round trip longer than max_hours goes on over the night: the "
                   "driver stops when the working day ends, rests the rest of the day "
                   "(24 - max_hours h) and drives on the next working day, the vehicle "
                   "away every day it takes; false: such loads are not carried. Default "
                   "true. Rules: China's Road Traffic Safety Law Implementing Regulations "
                   "art. 62(7), at most 4 h of continuous driving, then at least 20 min "
                   "rest (break_min, drive_h_before_break), and the Ministry of Transport's "
                   "at most 8 h of driving in 24 h (road passenger transport safety "
                   "norms, 2018), which a 10 h working day of loading and driving "
                   "followed by 14 h off keeps"),
            Column("provider", "str", required=False, nullable=True,
                   doc="the logistics firm whose trucks these are under a contract; empty: "
                   "the government's own vehicles"),
            Column("delay_h", "float", "h", required=False, nullable=True, default=0.0,
                   minimum=_NONNEG, doc="hours from the event's start until the vehicles "
                   "are at the depot (a logistics contract's activation delay)"),
            Column("retainer", "float", "currency", required=False, nullable=True,
                   default=0.0, minimum=_NONNEG,
                   doc="fee for having the vehicles on call over the planning period"),
            Column("signed", "bool", required=False, nullable=True, default=True,
                   doc="false for a logistics contract the planner may choose to sign"),
            Column("vehicle_class", "str", required=False, nullable=True,
                   omit_when_empty=True,
                   doc="the travel table's vehicle_class whose time_h these vehicles take "
                   "in routing where it gives a pair; empty: the class-free times scaled "
                   "by speed_kmh"),
        ),
    ),
)

TABLE_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


@dataclass(frozen=True, slots=True)
class Setting:
    """One key of the manifest's ``[settings]`` section.

    Bounds as in :class:`Column`: ``maximum`` defaults to the unit's in
    :data:`UNIT_MAXIMUM`.
    """

    name: str
    dtype: Literal["float", "bool"]
    default: float | bool | None
    unit: str
    doc: str
    minimum: float | None = 0.0
    maximum: float | None = None
    exclusive_minimum: bool = False

    def __post_init__(self) -> None:
        if self.maximum is None and self.dtype == "float":
            object.__setattr__(self, "maximum", UNIT_MAXIMUM.get(self.unit))


SETTINGS: tuple[Setting, ...] = (
    Setting("detour_factor", "float", 1.3, "ratio", "road length / great-circle length", 1.0),
    Setting("speed_kmh", "float", 60.0, "km/h", "truck speed used for travel times",
            exclusive_minimum=True),
    Setting("road_snap_km", "float", 5.0, "km",
            "farthest a facility or region point may lie from the road layer named under "
            "[geometry] roads", exclusive_minimum=True),
    Setting("transport_cost_per_kg_km", "float", 0.0, "currency/(kg km)",
            "cost of moving one kg one km"),
    Setting("budget", "float", None, "currency",
            "most spent on first-stage decisions; empty means no budget"),
    Setting("county_response_h", "float", 6.0, "h", "first batch deadline for counties"),
    Setting("prefecture_response_h", "float", 8.0, "h", "first batch deadline for prefectures"),
    Setting("province_response_h", "float", 10.0, "h", "first batch deadline for provinces"),
    Setting("normalise_probabilities", "bool", False, "",
            "divide scenario probabilities by their sum instead of rejecting them"),
    Setting("no_event_remainder", "bool", False, "",
            "scenario probabilities (annual ones, say) may sum below 1: the rest is an implied "
            "scenario 'no_event' with no demand, damage or outages"),
)
SETTING_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}

MANIFEST_KEYS = ("format", "name", "description", "currency", "crs", "settings", "tables",
                 "geometry", "sources")
"""Top-level keys a manifest may hold."""

GEOMETRY_TABLES = ("regions",)
"""Tables that may take polygons from a GeoPackage, GeoJSON or Shapefile."""
