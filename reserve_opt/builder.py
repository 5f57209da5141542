"""A builder for embedding code: add entities one call at a time, then :meth:`build`.

The builder collects rows exactly as the file readers do and hands them to the same
validator, so an instance built in code is checked like one read from disk.

Examples
--------
>>> from reserve_opt import InstanceBuilder
>>> b = InstanceBuilder("demo", currency="CNY")
>>> b.add_region("r1", population=1000, lon=123.4, lat=41.8)
>>> b.add_commodity("water", unit="1.5 L bottle", weight_kg=1.6, volume_m3=0.002,
...                 purchase_cost=2, shortage_penalty=20)
>>> b.add_facility("w1", kind="government_warehouse", region="r1", lon=123.4, lat=41.8,
...                capacity_m3=100)
>>> b.add_scenario("s1", probability=1.0)
>>> b.add_demand("s1", "r1", "water", 500)
>>> inst = b.build()
>>> inst.demand("s1")
{('r1', 'water'): 500.0}
"""

from __future__ import annotations

from typing import Any

from reserve_opt.domain import Instance
from reserve_opt.io.export import instance_manifest, instance_tables
from reserve_opt.io.raw import RawInstance, RawTable
from reserve_opt.io.spec import FORMAT_VERSION, TABLES


def _builder_locator(table: str) -> Any:
    return lambda i: f"{table} row {i + 1}"


class InstanceBuilder:
    """Mutable collector of an instance's rows; :meth:`build` validates and freezes them.

    Parameters
    ----------
    name
        Short name of the instance.
    currency
        ISO 4217 code of every money figure.
    description
        Free text.
    **settings
        Keys of the manifest's ``[settings]`` (``budget``, ``speed_kmh``, ...).
    """

    def __init__(self, name: str, currency: str, description: str = "",
                 **settings: Any) -> None:
        self.manifest: dict[str, Any] = {
            "format": FORMAT_VERSION, "name": name, "currency": currency,
            "description": description, "crs": "EPSG:4326", "settings": dict(settings),
            "sources": {},
        }
        self.rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in TABLES}
        self.geometry: dict[str, Any] = {}

    @classmethod
    def from_instance(cls, inst: Instance) -> InstanceBuilder:
        """A builder holding everything in ``inst``, to change and build again."""
        b = cls(inst.name, inst.currency)
        b.manifest = instance_manifest(inst)
        for name, rows in instance_tables(inst).items():
            b.rows[name] = [dict(r) for r in rows]
        b.geometry = {r.id: r.geometry for r in inst.regions if r.geometry is not None}
        return b

    def add(self, table: str, **row: Any) -> InstanceBuilder:
        """Add one row to ``table`` (see :data:`reserve_opt.io.spec.TABLES`)."""
        self.rows[table].append(row)
        return self

    def add_region(self, id: str, *, population: float, lon: float, lat: float,
                   geometry: Any = None, **extra: Any) -> None:
        """Add a region (population in persons, lon/lat in WGS84 degrees)."""
        self.add("regions", id=id, population=population, lon=lon, lat=lat, **extra)
        if geometry is not None:
            self.geometry[id] = geometry

    def add_commodity(self, id: str, **columns: Any) -> None:
        """Add a commodity (see the ``commodities`` table for columns and units)."""
        self.add("commodities", id=id, **columns)

    def add_facility(self, id: str, *, kind: str, region: str, lon: float, lat: float,
                     **extra: Any) -> None:
        """Add a facility of ``kind`` owned by ``region``."""
        self.add("facilities", id=id, kind=kind, region=region, lon=lon, lat=lat, **extra)

    def add_size(self, facility: str, size: str, capacity_m3: float, fixed_cost: float) -> None:
        """Add a size option (m3, currency) to a candidate warehouse."""
        self.add("sizes", facility=facility, size=size, capacity_m3=capacity_m3,
                 fixed_cost=fixed_cost)

    def add_stock(self, facility: str, commodity: str, quantity: float) -> None:
        """Add units of existing stock at a government warehouse."""
        self.add("stock", facility=facility, commodity=commodity, quantity=quantity)

    def add_contract(self, id: str, *, facility: str, commodity: str, kind: str,
                     quantity: float, **extra: Any) -> None:
        """Add an enterprise contract (``kind`` is ``stock`` or ``capacity``)."""
        self.add("contracts", id=id, facility=facility, commodity=commodity, kind=kind,
                 quantity=quantity, **extra)

    def add_agreement(self, id: str, *, tier: int, **extra: Any) -> None:
        """Add a sharing agreement (lender/borrower, or alliance)."""
        self.add("agreements", id=id, tier=tier, **extra)

    def add_scenario(self, id: str, *, probability: float, **extra: Any) -> None:
        """Add a scenario with its probability."""
        self.add("scenarios", id=id, probability=probability, **extra)

    def add_demand(self, scenario: str, region: str, commodity: str, quantity: float) -> None:
        """Add demand in units of the commodity."""
        self.add("demand", scenario=scenario, region=region, commodity=commodity,
                 quantity=quantity)

    def add_affected(self, scenario: str, region: str, persons: float) -> None:
        """Add persons in need, from which demand is derived."""
        self.add("affected", scenario=scenario, region=region, persons=persons)

    def add_damage(self, scenario: str, facility: str, surviving_fraction: float) -> None:
        """Add the share of a facility's stock that survives a scenario."""
        self.add("damage", scenario=scenario, facility=facility,
                 surviving_fraction=surviving_fraction)

    def add_outage(self, scenario: str, origin: str, destination: str,
                   speed_factor: float = 0.0) -> None:
        """Cut (``speed_factor`` 0) or slow a link in a scenario."""
        self.add("outages", scenario=scenario, speed_factor=speed_factor,
                 **{"from": origin, "to": destination})

    def add_link(self, origin: str, destination: str, distance_km: float | None = None,
                 **extra: Any) -> None:
        """Add an explicit transport link (km; ``time_h``, ``speed_kmh``, ``oneway``)."""
        self.add("links", distance_km=distance_km, **{"from": origin, "to": destination},
                 **extra)

    def add_travel(self, origin: str, destination: str, distance_km: float,
                   time_h: float | None = None, scenario: str | None = None,
                   vehicle_class: str | None = None) -> None:
        """Add an origin -> destination travel row (km, h; scenario: after damage).

        ``vehicle_class`` makes it the time of the fleet rows naming that class.
        """
        extra = {} if vehicle_class is None else {"vehicle_class": vehicle_class}
        self.add("travel", distance_km=distance_km, time_h=time_h, scenario=scenario,
                 **{"from": origin, "to": destination}, **extra)

    def add_demand_point(self, id: str, *, region: str, lon: float, lat: float,
                         population: float, **extra: Any) -> None:
        """Add a town of ``region`` (persons; ``share=`` gives its share of the demand)."""
        self.add("demand_points", id=id, region=region, lon=lon, lat=lat,
                 population=population, **extra)

    def add_vehicle_type(self, id: str, *, depot: str, count: int, capacity_kg: float,
                         capacity_m3: float, **extra: Any) -> None:
        """Add vehicles stationed at a depot."""
        self.add("fleet", id=id, depot=depot, count=count, capacity_kg=capacity_kg,
                 capacity_m3=capacity_m3, **extra)

    def raw(self) -> RawInstance:
        """The rows collected so far, as the validator reads them."""
        raw = RawInstance(manifest=dict(self.manifest), manifest_source="builder")
        for spec in TABLES:
            rows = self.rows[spec.name]
            if not rows and not spec.required:
                continue
            columns: list[str] = []
            for r in rows:
                columns += [k for k in r if k not in columns]
            if spec.name in {"regions", "commodities", "facilities", "scenarios"}:
                columns += [c.name for c in spec.columns if c.required and c.name not in columns]
            raw.tables[spec.name] = RawTable(spec.name, spec.name, columns, rows,
                                             _builder_locator(spec.name))
        raw.geometry = dict(self.geometry)
        return raw

    def build(self) -> Instance:
        """Validate everything added and return the immutable instance.

        Raises
        ------
        InputError
            Listing every problem, e.g. ``regions row 2 (id 'r2'): population is empty``.
        """
        from reserve_opt.validation import validate_raw

        return validate_raw(self.raw())
