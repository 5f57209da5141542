"""The bundled instances: they validate, hold what their sources say, and rebuild exactly."""

from __future__ import annotations

import csv
import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

from reserve_opt import load_instance
from reserve_opt.domain import Instance

REPO = Path(__file__).resolve().parent.parent
INSTANCES = REPO / "instances"
DATA = REPO / "tests" / "data"
RT_SOURCE = DATA / "rawls-turnquist-2010"
BUNDLED = sorted(p.parent.name for p in INSTANCES.glob("*/instance.toml"))


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_bundled_{path.parent.name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


@pytest.fixture(scope="module")
def loaded() -> dict[str, Instance]:
    return {name: load_instance(INSTANCES / name) for name in BUNDLED}


def test_the_three_instances_are_bundled():
    assert {"liaoning", "georgia", "rawls-turnquist"} <= set(BUNDLED)


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_instance_validates_and_has_a_readme(name, loaded):
    inst = loaded[name]
    assert inst.regions and inst.scenarios
    assert math.isclose(sum(s.probability for s in inst.scenarios), 1.0, abs_tol=1e-9)
    assert (INSTANCES / name / "README.md").is_file()


# --- Rawls & Turnquist ---------------------------------------------------------------------

def test_rt_counts(loaded):
    inst = loaded["rawls-turnquist"]
    assert [r.id for r in inst.regions] == [f"n{i:02d}" for i in range(30)]
    assert len(inst.facilities) == 30 and all(f.is_candidate for f in inst.facilities)
    assert len(inst.scenarios) == 51
    assert len(inst.links) == 54
    assert all(link.distance_km is None for link in inst.links)
    assert math.isclose(sum(s.probability for s in inst.scenarios), 1.0, abs_tol=1e-9)
    assert inst.currency == "USD" and inst.settings.budget is None


def test_rt_commodities_and_sizes_match_the_paper(loaded):
    inst = loaded["rawls-turnquist"]
    water = inst.commodity("water")
    assert water.purchase_cost == 647.7
    assert math.isclose(water.holding_cost, 0.25 * 647.7)
    assert math.isclose(water.shortage_penalty, 6477.0)
    assert math.isclose(water.volume_m3, 144.6 * 0.028316846592)
    assert math.isclose(water.transport_cost_per_km, 0.3 / 1.609344)
    assert math.isclose(inst.commodity("food").purchase_cost, 5420.0)
    assert math.isclose(inst.commodity("medical_kits").volume_m3, 1.16 * 0.028316846592)
    got = {s.size: (s.capacity_m3, s.fixed_cost) for s in inst.facility("w00").sizes}
    want = {"small": (36400, 19600.0), "medium": (408200, 188400.0),
            "large": (780000, 300000.0)}
    assert set(got) == set(want)
    for size, (ft3, fixed) in want.items():
        assert got[size][0] == pytest.approx(ft3 * 0.028316846592)
        assert got[size][1] == fixed


def test_rt_scenarios_follow_tables_3_and_4(loaded):
    inst = loaded["rawls-turnquist"]
    with (RT_SOURCE / "rt2010_table4_scenarios.csv").open() as fh:
        table4 = list(csv.DictReader(fh))
    assert [s.probability for s in inst.scenarios] == [float(r["probability"]) for r in table4]
    # s01 = Alicia alone: category 3, landfall node 5 (1-based) -> n04, link (4;5) -> n03-n04
    alicia = inst.scenario("s01")
    assert dict(alicia.damage) == {"w04": 0.0}
    assert [(o.origin, o.destination) for o in alicia.outages] == [("n03", "n04")]
    assert sum(alicia.demand.values()) == pytest.approx(350 + 525 + 500)
    # s13 = Katrina alone: per-node rows x 0.1 reproduce Table 3 totals
    katrina = inst.scenario("s13")
    totals = {c: sum(q for (_, k), q in katrina.demand.items() if k == c)
              for c in ("water", "food", "medical_kits")}
    assert totals == pytest.approx({"water": 1040, "food": 13300, "medical_kits": 95000},
                                   abs=1.0)
    # s36 = Fran (cat 3) + Isabel (cat 2) both hit n20: the smaller fraction wins
    assert inst.scenario("s36").damage["w20"] == 0.0
    assert not inst.scenario("s51").demand


def test_rt_convert_reproduces_the_committed_folder(tmp_path):
    convert = _module(INSTANCES / "rawls-turnquist" / "convert.py")
    out = convert.convert(RT_SOURCE, tmp_path / "rt")
    written = sorted(p.name for p in out.iterdir())
    committed = sorted(p.name for p in (INSTANCES / "rawls-turnquist").iterdir()
                       if p.is_file() and p.name != "convert.py")
    assert written == committed
    for name in written:
        assert (out / name).read_bytes() == (INSTANCES / "rawls-turnquist" / name).read_bytes(), (
            f"{name} differs: re-run instances/rawls-turnquist/convert.py and commit")


# --- Liaoning ------------------------------------------------------------------------------

def test_liaoning_regions_and_population(loaded):
    inst = loaded["liaoning"]
    assert len(inst.regions) == 14
    assert all(r.level == "prefecture" and r.parent is None for r in inst.regions)
    assert sum(r.population for r in inst.regions) == pytest.approx(4229.4 * 10_000)
    assert inst.region("shenyang").population == pytest.approx(911.8 * 10_000)
    assert inst.currency == "CNY"


def test_liaoning_has_the_demo_ingredients(loaded):
    inst = loaded["liaoning"]
    kinds = {f.kind.value for f in inst.facilities}
    assert kinds == {"government_warehouse", "enterprise_reserve", "production_capacity",
                     "distribution_point"}
    assert 40 <= len(inst.facilities) <= 60
    assert 8 <= len(inst.scenarios) <= 12
    assert {c.id for c in inst.commodities} >= {"water", "food", "quilt", "tent", "medkit"}
    existing = [f for f in inst.facilities
                if f.kind.value == "government_warehouse" and not f.is_candidate]
    assert len(existing) == 14 and {f.region for f in existing} == {r.id for r in inst.regions}
    assert {a.tier for a in inst.agreements} == {1, 2}
    assert {v.depot for v in inst.fleet} == {f.id for f in existing}
    assert any("+" in s.hazard for s in inst.scenarios)
    assert any(s.id == "none" for s in inst.scenarios)
    for f in existing:
        used = sum(q * inst.commodity(c).volume_m3 for c, q in f.stock.items())
        assert used <= f.capacity_m3


def test_liaoning_coordinates_come_from_geonames(loaded):
    inst = loaded["liaoning"]
    path = DATA / "geonames" / "liaoning_cities500.csv"
    with path.open(encoding="utf-8") as fh:
        points = {(float(r["longitude"]), float(r["latitude"])) for r in csv.DictReader(fh)}
    assert all((f.lon, f.lat) in points for f in inst.facilities)
    assert all((r.lon, r.lat) in points for r in inst.regions)


# --- Georgia -------------------------------------------------------------------------------

def test_georgia_counties_population_and_polygons(loaded):
    inst = loaded["georgia"]
    assert len(inst.regions) == 159
    assert all(r.geometry is not None for r in inst.regions)
    total = sum(r.population for r in inst.regions)
    assert total == 6_478_216
    import pyogrio

    frame = pyogrio.read_dataframe(DATA / "georgia" / "G_utm.shp", read_geometry=False)
    assert total == int(frame["TotPop90"].sum())
    assert {f"c{k}" for k in frame["AreaKey"]} == {r.id for r in inst.regions}


def test_georgia_points_lie_in_their_polygons_in_georgia(loaded):
    from shapely.geometry import Point

    inst = loaded["georgia"]
    for r in inst.regions:
        assert -85.7 < r.lon < -80.7 and 30.3 < r.lat < 35.1
        assert r.geometry.contains(Point(r.lon, r.lat)), r.id
    assert inst.region("c13121").name == "Fulton County"
