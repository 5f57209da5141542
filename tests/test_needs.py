"""Needs that match the goods: consumables per person and day, durable goods once."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from reserve_opt import InstanceBuilder, load_instance, save_instance
from reserve_opt.domain import Instance
from reserve_opt.errors import InputError
from reserve_opt.io import instance_schema, to_document
from reserve_opt.models.allocation import (
    AllocationOptions,
    check_allocation,
    event_instance,
    read_event,
    solve_allocation,
)
from reserve_opt.synthetic import synthetic_instance
from reserve_opt.variants import read_variant
from tests.cli_runner import run_cli

PERSONS = 300_000.0


def _builder(**water: object) -> InstanceBuilder:
    b = InstanceBuilder("needs", currency="CNY")
    b.add_region("town", population=400_000, lon=123.0, lat=41.0)
    b.add_commodity("water", unit="1.5 L bottle", weight_kg=1.6, volume_m3=0.002,
                    purchase_cost=2, shortage_penalty=20, **(water or
                                                            {"need_per_person_day": 2.0}))
    b.add_commodity("quilt", unit="quilt", weight_kg=3, volume_m3=0.03, purchase_cost=150,
                    shortage_penalty=4500, need_per_person=0.25)
    b.add_commodity("tent", unit="family tent", weight_kg=25, volume_m3=0.15,
                    purchase_cost=600, shortage_penalty=6000, persons_per_unit=4)
    b.add_facility("W", kind="government_warehouse", region="town", lon=123.0, lat=41.0,
                   capacity_m3=100_000)
    b.add_stock("W", "water", 900_000)
    b.add_stock("W", "quilt", 50_000)
    b.add_stock("W", "tent", 75_000)
    b.add_scenario("flood", probability=1.0, days=3)
    b.add_affected("flood", "town", PERSONS)
    return b


@pytest.fixture
def inst() -> Instance:
    return _builder().build()


def test_durable_goods_are_needed_once_consumables_each_day(inst: Instance) -> None:
    # 300,000 persons for 3 days: water 2 a day each, a quilt for every 4 (0.25 once, not
    # 0.25 x 3 days = 225,000), a family tent per 4 persons
    assert inst.demand("flood") == {("town", "water"): 1_800_000.0,
                                    ("town", "quilt"): 75_000.0,
                                    ("town", "tent"): 75_000.0}


def test_an_event_file_derives_the_same_demand(inst: Instance, tmp_path: Path) -> None:
    event = tmp_path / "flood.toml"
    event.write_text('id = "flood2"\ndays = 3\n[affected]\ntown = 300000\n')
    reduced, sc = event_instance(inst, read_event(event, inst))
    assert reduced.demand(sc.id) == inst.demand("flood")


def test_scale_demand_writes_out_the_derived_need(inst: Instance, tmp_path: Path) -> None:
    v = tmp_path / "more.toml"
    v.write_text('description = "more quilts"\n[[change]]\nop = "scale_demand"\n'
                 'factor = 2.0\ncommodities = ["quilt"]\n')
    assert read_variant(v).apply(inst).demand("flood") == {("town", "water"): 1_800_000.0,
                                                           ("town", "quilt"): 150_000.0,
                                                           ("town", "tent"): 75_000.0}


def test_allocation_spreads_water_over_the_days_and_wants_quilts_on_day_one(
        inst: Instance) -> None:
    # water: 600,000 a day; 900,000 held cover day 1 and half of day 2 -> fill 0.5.
    # quilts: all 75,000 on day 1, 50,000 held -> fill 2/3. Tents: 75,000 of 75,000.
    res = solve_allocation(inst, "flood", AllocationOptions(periods=3))
    assert check_allocation(inst, "flood", res).ok
    assert res.fill_rates() == pytest.approx({"water": 0.5, "quilt": 2 / 3, "tent": 1.0})
    short = res.fill.set_index(["commodity", "period"])["shortage"]
    assert short[("water", 1)] == pytest.approx(0.0)
    assert short[("water", 3)] == pytest.approx(900_000.0)
    assert short[("quilt", 1)] == pytest.approx(25_000.0)


def test_needs_round_trip_through_json_and_folders(inst: Instance, tmp_path: Path) -> None:
    save_instance(inst, tmp_path / "n.json")
    assert load_instance(tmp_path / "n.json") == inst
    save_instance(inst, tmp_path / "n")
    assert load_instance(tmp_path / "n") == inst
    header = (tmp_path / "n" / "commodities.csv").read_text().splitlines()[0]
    assert "need_per_person_day,need_per_person,persons_per_unit" in header
    jsonschema.validate(to_document(inst), instance_schema())


def test_a_commodity_gives_one_need() -> None:
    with pytest.raises(InputError) as err:
        _builder(need_per_person_day=2.0, need_per_person=1.0).build()
    assert err.value.problems == (
        "commodities row 1 (id 'water'): gives both need_per_person_day and need_per_person; "
        "give one need: need_per_person_day for goods used up each day (water, food), "
        "need_per_person or persons_per_unit for goods needed once (quilts, tents, kits)",)
    with pytest.raises(InputError) as err:
        _builder(persons_per_unit=0).build()
    assert err.value.problems == (
        "commodities row 1 (id 'water'): persons_per_unit is 0; give the persons one unit "
        "serves (a family tent: 4), or leave it empty",)


def test_info_says_how_each_need_is_counted(inst: Instance, tmp_path: Path) -> None:
    save_instance(inst, tmp_path / "n")
    result = run_cli("info", str(tmp_path / "n"))
    assert result.exit_code == 0, result.output
    for words in ("2 per person-day", "0.25 per person", "1 per 4 persons"):
        assert words in result.stdout


def test_synthetic_durables_follow_the_affected_persons() -> None:
    inst = synthetic_instance(20, 8, 4, seed=1)
    sc = inst.scenario("event")
    assert not sc.demand
    rid, persons = next(iter(sc.affected.items()))
    d = inst.demand("event")
    assert d[(rid, "quilt")] == pytest.approx(0.5 * persons)
    assert d[(rid, "medkit")] == pytest.approx(0.1 * persons)
    assert d[(rid, "water")] == pytest.approx(0.5 * persons * sc.days)
