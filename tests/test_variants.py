"""Variant files: every operation's effect, composition, and exact error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from reserve_opt import load_instance
from reserve_opt.errors import InputError
from reserve_opt.io.export import instance_tables
from reserve_opt.variants import (
    OPERATIONS,
    apply_changes,
    compose,
    read_variant,
    read_variant_arg,
    variant_from_dict,
)
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "toy"
BUNDLED = sorted((ROOT / "instances").glob("*/variants/*.*ml"))


@pytest.fixture(scope="module")
def toy():
    return load_instance(TOY)


def patch(base, *changes, source="v.toml"):
    return apply_changes(base, variant_from_dict(
        {"description": "test", "change": list(changes)}, source).changes)


def test_every_bundled_variant_applies_to_its_base_and_says_what_it_models() -> None:
    assert len(BUNDLED) >= 10
    bases = {}
    for path in BUNDLED:
        inst_dir = path.parent.parent
        base = bases.setdefault(inst_dir, load_instance(inst_dir))
        v = read_variant(path)
        assert v.description and "\n" not in v.description, path
        patched, notes = apply_changes(base, v.changes)
        assert len(notes) == len(v.changes) and patched != base


def test_close_facility_removes_the_facility_and_everything_attached(toy) -> None:
    inst, notes = patch(toy, {"op": "close_facility", "facility": "W_north"})
    assert "W_north" not in inst.facility_index
    assert inst.fleet == ()  # the trucks were stationed there
    assert sum(len(f.stock) for f in inst.facilities) == 0
    assert notes == ["closed W_north (also removed 2 stock row(s), 1 fleet row(s))"]
    inst, _ = patch(toy, {"op": "close_facility", "facility": "P_hill"})
    assert [c.id for c in inst.contracts] == ["C_water"]


def test_scale_demand_scales_given_and_derived_demand_in_chosen_regions_only(toy) -> None:
    inst, _ = patch(toy, {"op": "scale_demand", "factor": 1.5, "regions": ["river"],
                          "commodities": ["water"]})
    # given demand: typhoon river water 6,000; derived: flood river 3,000 persons x 2 x 2 days
    assert inst.demand("typhoon")[("river", "water")] == 9000
    assert inst.demand("flood")[("river", "water")] == 18000
    assert inst.demand("flood")[("river", "tent")] == 200
    assert inst.demand("typhoon")[("sea", "water")] == 12000
    inst, _ = patch(toy, {"op": "scale_demand", "factor": 2, "alliances": ["bay"],
                          "scenarios": ["snow"]})
    assert inst.demand("snow") == {("north", "water"): 8000, ("hill", "water"): 3000,
                                   ("hill", "tent"): 150}
    assert inst.demand("typhoon") == toy.demand("typhoon")


def test_cut_link_adds_outages_and_never_speeds_a_link_up(toy) -> None:
    inst, _ = patch(toy, {"op": "slow_link", "from": "north", "to": "hill",
                          "speed_factor": 0.8})
    snow = {(o.origin, o.destination): o.speed_factor for o in inst.scenario("snow").outages}
    assert snow == {("hill", "north"): 0.5}  # already at half speed: stays at the slower
    typhoon = {(o.origin, o.destination): o.speed_factor
               for o in inst.scenario("typhoon").outages}
    assert typhoon == {("river", "sea"): 0.0, ("north", "hill"): 0.8}
    inst, _ = patch(toy, {"op": "cut_link", "from": "hill", "to": "north",
                          "scenarios": ["snow"]})
    assert [o.speed_factor for o in inst.scenario("snow").outages] == [0.0]
    assert inst.scenario("flood").outages == ()


def test_add_and_drop_scenario_keep_probabilities_summing_to_one(toy) -> None:
    inst, _ = patch(toy, {"op": "add_scenario", "id": "quake", "probability": 0.1,
                          "take_from": "snow", "days": 2,
                          "affected": [{"region": "hill", "persons": 100}],
                          "damage": [{"facility": "W_north", "surviving_fraction": 0.5}]})
    p = {s.id: s.probability for s in inst.scenarios}
    assert p == pytest.approx({"typhoon": 0.3, "flood": 0.2, "snow": 0.4, "quake": 0.1})
    assert inst.demand("quake") == {("hill", "water"): 400.0}
    inst, _ = patch(toy, {"op": "add_scenario", "id": "quake", "probability": 0.5})
    p = {s.id: s.probability for s in inst.scenarios}
    assert p == pytest.approx({"typhoon": 0.15, "flood": 0.1, "snow": 0.25, "quake": 0.5})
    inst, _ = patch(toy, {"op": "drop_scenario", "scenario": "snow", "give_to": "flood"})
    assert {s.id: s.probability for s in inst.scenarios} == pytest.approx(
        {"typhoon": 0.3, "flood": 0.7})


def test_agreement_alliance_contract_and_budget_changes(toy) -> None:
    inst, _ = patch(
        toy,
        {"op": "change_agreement", "agreement": "A_north_sea", "cap_quantity": "none",
         "cap_share": 0.25, "compensation": 1.5},
        {"op": "leave_alliance", "region": "sea", "drop_agreements": True},
        {"op": "unsign_contract", "contract": "C_water"},
        {"op": "sign_contract", "contract": "C_tent"},
        {"op": "change_contract", "contract": "C_tent", "retainer": 15000},
        {"op": "set_budget", "factor": 0.5},
        {"op": "set_setting", "name": "speed_kmh", "value": 40},
    )
    assert inst.agreements == ()
    assert inst.region("sea").alliance is None
    assert [(c.id, c.signed, c.retainer) for c in inst.contracts] == [
        ("C_water", False, 5000.0), ("C_tent", True, 15000.0)]
    assert inst.settings.budget == 750000 and inst.settings.speed_kmh == 40
    inst, _ = patch(toy, {"op": "change_agreement", "agreement": "A_north_sea",
                          "cap_quantity": "none", "cap_share": 0.25})
    a = inst.agreements[0]
    assert (a.cap_quantity, a.cap_share) == (None, 0.25)
    inst, _ = patch(toy, {"op": "set_budget", "budget": "none"})
    assert inst.settings.budget is None


def test_add_facility_with_sizes_stock_and_a_contract(toy) -> None:
    inst, _ = patch(
        toy,
        {"op": "add_facility", "id": "W_hill", "kind": "government_warehouse",
         "region": "hill", "lon": 123.3, "lat": 40.6, "existing": False,
         "sizes": [{"size": "small", "capacity_m3": 300, "fixed_cost": 100000}]},
        {"op": "add_facility", "id": "S_sea", "kind": "enterprise_reserve", "region": "sea",
         "lon": 122.8, "lat": 40.1},
        {"op": "add_contract", "id": "C_sea", "facility": "S_sea", "commodity": "water",
         "kind": "stock", "quantity": 5000, "retainer": 2000, "signed": False},
        {"op": "set_stock", "facility": "W_north", "commodity": "water", "quantity": 100},
    )
    w = inst.facility("W_hill")
    assert w.is_candidate and w.sizes[0].capacity_m3 == 300
    assert inst.contracts[-1].id == "C_sea" and not inst.contracts[-1].signed
    assert dict(inst.facility("W_north").stock) == {"water": 100, "tent": 800}


def test_problems_name_the_file_the_change_and_the_id(toy, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'description = "bad"\n'
        '[[change]]\nop = "close_facilty"\nfacility = "W_north"\n'
        '[[change]]\nop = "cut_link"\nfrom = "north"\nto = "sea"\nspeed = 0\n'
        '[[change]]\nop = "drop_agreement"\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_variant(bad)
    assert err.value.problems == (
        f"{bad}: change 1: op 'close_facilty' is not known; did you mean 'close_facility'?",
        f"{bad}: change 2 (cut_link): parameter 'speed' is not known; did you mean "
        f"'speed_factor'?",
        f"{bad}: change 3 (drop_agreement): parameter 'agreement' is missing; add "
        f"agreement = ... (agreement id)",
    )
    with pytest.raises(InputError) as err:
        patch(toy, {"op": "close_facility", "facility": "W_nort"},
              {"op": "scale_demand", "factor": -1, "regions": ["nowhere"]},
              {"op": "change_agreement", "agreement": "A_north_sea", "cap_share": 1.5},
              {"op": "cut_link", "from": "north", "to": "moon"})
    assert err.value.problems == (
        "v.toml: change 1 (close_facility): facility 'W_nort' is not in the instance; did "
        "you mean 'W_north'?",
        "v.toml: change 2 (scale_demand): 'factor' -1 is below 0; give at least 0",
        "v.toml: change 2 (scale_demand): region 'nowhere' is not in the instance; use a "
        "region id of the instance (reserve-opt info lists them)",
        "v.toml: change 3 (change_agreement): cap_share 1.5 is above 1; give a value of at "
        "most 1",
        "v.toml: change 4 (cut_link): link end 'moon' is not a region or facility; use one "
        "of their ids",
    )


def test_the_patched_instance_is_validated_again_as_a_whole(toy) -> None:
    with pytest.raises(InputError) as err:
        patch(toy, {"op": "add_agreement", "id": "A_x", "tier": 2, "alliance": "bay",
                    "lender": "north", "borrower": "hill"}, source="x.toml")
    assert len(err.value.problems) == 1
    msg = err.value.problems[0]
    assert msg.startswith("x.toml: the patched instance is not valid: agreements row 2 "
                          "(id 'A_x'): give either lender and borrower, or alliance")


def test_variants_compose_in_order_and_include_and_yaml_agree(toy, tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(
        'description = "double"\n[[change]]\nop = "scale_demand"\nfactor = 2\n',
        encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        "description: then half in the snow\nchange:\n"
        "  - {op: scale_demand, factor: 0.5, scenarios: [snow]}\n", encoding="utf-8")
    (tmp_path / "c.toml").write_text(
        'description = "both"\ninclude = ["a.toml", "b.yaml"]\n', encoding="utf-8")
    ab = read_variant_arg(f"{tmp_path / 'a.toml'}+{tmp_path / 'b.yaml'}")
    assert len(ab) == 1 and ab[0].name == "a+b"
    c = read_variant(tmp_path / "c.toml")
    step = read_variant(tmp_path / "b.yaml").apply(read_variant(tmp_path / "a.toml").apply(toy))
    assert ab[0].apply(toy) == c.apply(toy) == step
    assert step.demand("snow") == toy.demand("snow")
    assert step.demand("flood")[("river", "tent")] == 400
    assert compose([read_variant(tmp_path / "a.toml")]).fingerprint() == \
        read_variant(tmp_path / "a.toml").fingerprint()
    assert [v.name for v in read_variant_arg(str(tmp_path))] == ["a", "b", "c"]


def test_every_operation_is_documented() -> None:
    doc = (ROOT / "models" / "variants.md").read_text(encoding="utf-8")
    for name, op in OPERATIONS.items():
        assert f"`{name}`" in doc, name
        for param in op.params:
            assert f"`{param}`" in doc, (name, param)


def test_variant_apply_writes_an_instance_equal_to_the_patched_one(toy, tmp_path: Path) -> None:
    v = TOY / "variants" / "storm_doubles_demand.toml"
    out = tmp_path / "patched"
    result = run_cli("variant", "apply", str(TOY), "-v", str(v), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert instance_tables(load_instance(out)) == instance_tables(read_variant(v).apply(toy))
    check = run_cli("variant", "check", str(TOY), "-v", str(v))
    assert check.exit_code == 0 and "demand x 2 in river, sea" in check.stdout


def test_cli_reports_every_problem_in_one_line_each(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('description = "bad"\n[[change]]\nop = "close_facility"\n'
                   'facility = "W_nowhere"\n[[change]]\nop = "drop_contract"\n'
                   'contract = "C_none"\n', encoding="utf-8")
    result = run_cli("variant", "check", str(TOY), "-v", str(bad))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        f"error: {bad}: change 1 (close_facility): facility 'W_nowhere' is not in the "
        f"instance; did you mean 'W_north'?",
        f"error: {bad}: change 2 (drop_contract): contract 'C_none' is not in the instance; "
        f"use a contract id of the instance (reserve-opt info lists them)",
    ]


def test_change_commodity_sets_parameters_and_moves_the_plan(tmp_path: Path) -> None:
    from reserve_opt.models.placement import solve_placement

    base = load_instance(TOY)
    v = tmp_path / "free_water.toml"
    v.write_text('description = "water costs nothing to hold"\n[[change]]\n'
                 'op = "change_commodity"\ncommodity = "water"\nholding_cost = 0\n'
                 'shortage_penalty = 200\n', encoding="utf-8")
    changed = read_variant(v).apply(base)
    water = changed.commodity("water")
    assert (water.holding_cost, water.shortage_penalty) == (0.0, 200.0)
    assert changed.commodity("tent") == base.commodity("tent")
    a, b = solve_placement(base), solve_placement(changed)
    assert a.costs is not None and b.costs is not None
    # holding is charged on stock left unused in each scenario: free water leaves the tents'
    assert b.costs.holding < a.costs.holding
    bad = tmp_path / "bad.toml"
    bad.write_text('description = "x"\n[[change]]\nop = "change_commodity"\n'
                   'commodity = "water"\nprice = 3\n', encoding="utf-8")
    r = run_cli("variant", "check", str(TOY), "-v", str(bad))
    assert r.exit_code == 1
    assert r.stderr == (f"error: {bad}: change 1 (change_commodity): parameter 'price' is not "
                        "known; change_commodity takes commodity, name, unit, weight_kg, "
                        "volume_m3, purchase_cost, holding_cost, shortage_penalty, "
                        "transport_cost_per_km, priority, need_per_person_day, "
                        "need_per_person, persons_per_unit, shelf_life_days\n")
