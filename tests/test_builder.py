"""The builder validates like the file readers and collects every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from reserve_opt import InstanceBuilder, load_instance
from reserve_opt.domain import FacilityKind, Tier
from reserve_opt.errors import InputError


def test_builder_reproduces_the_toy_instance(toy_path: Path) -> None:
    toy = load_instance(toy_path)
    rebuilt = InstanceBuilder.from_instance(toy).build()
    assert rebuilt == toy


def test_toy_instance_reads_as_documented(toy_path: Path) -> None:
    toy = load_instance(toy_path)
    assert [r.id for r in toy.regions] == ["north", "river", "hill", "sea"]
    assert toy.facility("W_sea").is_candidate
    assert [s.capacity_m3 for s in toy.facility("W_sea").sizes] == [500.0, 1500.0]
    assert toy.facility("W_north").stock == {"water": 20000.0, "tent": 800.0}
    assert toy.agreements[0].tier is Tier.NEIGHBOUR
    assert len(toy.facilities_of_kind(FacilityKind.ENTERPRISE_RESERVE)) == 1
    # flood water comes from 3,000 affected persons x 2 bottles/person/day x 2 days
    assert toy.demand("flood") == {("river", "water"): 12000.0, ("river", "tent"): 200.0}
    assert toy.scenario("typhoon").surviving("W_sea") == 0.5
    assert toy.scenario("typhoon").surviving("W_north") == 1.0
    assert sum(s.probability for s in toy.scenarios) == pytest.approx(1.0)


def test_builder_reports_every_problem_at_once() -> None:
    b = InstanceBuilder("bad", currency="CNY")
    b.add_region("r1", population=-3, lon=200, lat=0)
    b.add_commodity("water", unit="bottle", weight_kg=1.6, volume_m3=0.002, purchase_cost=2,
                    shortage_penalty=20)
    b.add_facility("w1", kind="government_warehouse", region="r9", lon=0, lat=0,
                   capacity_m3=10)
    b.add_scenario("s1", probability=0.5)
    with pytest.raises(InputError) as err:
        b.build()
    assert err.value.problems == (
        "regions row 1 (id 'r1'): population -3 is below 0; give a value of at least 0 persons",
        "regions row 1 (id 'r1'): lon 200 is above 180; give a value of at most 180 degrees east",
        "facilities row 1 (id 'w1'): region 'r9' is not a region in regions; use a region id "
        "from regions, or add the region there",
        "scenarios: scenario probabilities sum to 0.5, below 1; if the rest is the chance "
        "that no event happens, pass no_event_remainder=True to the builder (it adds scenario "
        "'no_event' with probability 0.5 and no demand) or add that scenario yourself; "
        "normalise_probabilities=True would instead divide each by 0.5 (s1 0.5 -> 1)",
    )


def test_instances_are_immutable(toy_path: Path) -> None:
    toy = load_instance(toy_path)
    with pytest.raises(AttributeError):
        toy.regions[0].population = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        toy.facility("W_north").stock["water"] = 0  # type: ignore[index]
