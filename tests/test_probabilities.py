"""Annual probabilities: a 'no event' remainder, explicit or implied, never normalised away."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reserve_opt import InstanceBuilder, load_instance, save_instance
from reserve_opt.errors import InputError
from reserve_opt.io.export import instance_tables
from reserve_opt.models.placement import solve_placement
from reserve_opt.variants import read_variant
from tests.cli_runner import run_cli

ANNUAL = {"typhoon": 0.05, "flood": 0.2, "snow": 0.1}


def _toy(toy_path: Path, folder: Path, probabilities: dict[str, float],
         settings: str = "") -> Path:
    """The toy with other probabilities (and extra [settings] lines)."""
    shutil.copytree(toy_path, folder)
    lines = (folder / "scenarios.csv").read_text().splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[2] = str(probabilities[cells[0]])
        out.append(",".join(cells))
    (folder / "scenarios.csv").write_text("\n".join(out) + "\n")
    manifest = (folder / "instance.toml").read_text()
    (folder / "instance.toml").write_text(
        manifest.replace("normalise_probabilities = false\n",
                         "normalise_probabilities = false\n" + settings))
    return folder


def test_a_sum_below_one_proposes_the_no_event_remainder_first(toy_path: Path,
                                                                tmp_path: Path) -> None:
    folder = _toy(toy_path, tmp_path / "annual", ANNUAL)
    result = run_cli("validate", str(folder))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: scenarios.csv: scenario probabilities sum to 0.35, below 1; if the rest is the "
        "chance that no event happens, set no_event_remainder = true under [settings] in "
        "instance.toml (it adds scenario 'no_event' with probability 0.65 and no demand) or "
        "add that scenario yourself; normalise_probabilities = true would instead divide each "
        "by 0.35 (typhoon 0.05 -> 0.143, flood 0.2 -> 0.571, snow 0.1 -> 0.286)"]


def test_the_builder_message_shows_a_five_percent_quake_becoming_twenty() -> None:
    b = InstanceBuilder("annual", currency="CNY")
    b.add_region("r", population=10, lon=0, lat=0)
    b.add_commodity("w", unit="bottle", weight_kg=1, volume_m3=0.001, purchase_cost=1,
                    shortage_penalty=10)
    b.add_facility("f", kind="government_warehouse", region="r", lon=0, lat=0, capacity_m3=5)
    b.add_scenario("quake", probability=0.05)
    b.add_scenario("flood", probability=0.2)
    with pytest.raises(InputError) as err:
        b.build()
    assert err.value.problems == (
        "scenarios: scenario probabilities sum to 0.25, below 1; if the rest is the chance that "
        "no event happens, pass no_event_remainder=True to the builder (it adds scenario "
        "'no_event' with probability 0.75 and no demand) or add that scenario yourself; "
        "normalise_probabilities=True would instead divide each by 0.25 (quake 0.05 -> 0.2, "
        "flood 0.2 -> 0.8)",)
    b.manifest["settings"]["no_event_remainder"] = True
    inst = b.build()
    assert {s.id: s.probability for s in inst.scenarios} == pytest.approx(
        {"quake": 0.05, "flood": 0.2, "no_event": 0.75})


def test_a_sum_above_one_stays_an_error(toy_path: Path, tmp_path: Path) -> None:
    folder = _toy(toy_path, tmp_path / "over", {"typhoon": 0.3, "flood": 0.2, "snow": 0.7},
                  "no_event_remainder = true\n")
    result = run_cli("validate", str(folder))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: scenarios.csv: scenario probabilities sum to 1.2, above 1, but scenarios are "
        "events that exclude each other (the major event of a year), so their probabilities "
        "sum to at most 1; lower them, or set normalise_probabilities = true under [settings] "
        "in instance.toml to divide each by 1.2 (typhoon 0.3 -> 0.25, flood 0.2 -> 0.167, "
        "snow 0.7 -> 0.583)"]


def test_the_remainder_is_implied_and_round_trips(toy_path: Path, tmp_path: Path) -> None:
    folder = _toy(toy_path, tmp_path / "annual", ANNUAL, "no_event_remainder = true\n")
    inst = load_instance(folder)
    none = inst.scenario("no_event")
    assert none.implied and none.probability == pytest.approx(0.65)
    assert inst.demand("no_event") == {} and not none.damage and not none.outages
    assert [s.probability for s in inst.scenarios[:3]] == [0.05, 0.2, 0.1]
    assert "no_event" not in {r["id"] for r in instance_tables(inst)["scenarios"]}
    save_instance(inst, tmp_path / "again")
    assert "no_event" not in (tmp_path / "again" / "scenarios.csv").read_text()
    assert load_instance(tmp_path / "again") == inst
    save_instance(inst, tmp_path / "a.json")
    assert load_instance(tmp_path / "a.json") == inst


def test_an_implied_remainder_plans_like_an_explicit_no_event_scenario(
        toy_path: Path, tmp_path: Path) -> None:
    implied = load_instance(_toy(toy_path, tmp_path / "implied", ANNUAL,
                                 "no_event_remainder = true\n"))
    explicit_dir = _toy(toy_path, tmp_path / "explicit", ANNUAL)
    with (explicit_dir / "scenarios.csv").open("a") as f:
        f.write("calm,No event,0.65,,0\n")
    explicit = load_instance(explicit_dir)
    a, b = solve_placement(implied), solve_placement(explicit)
    assert a.status.value == b.status.value == "optimal"
    assert a.objective == pytest.approx(b.objective, rel=1e-6)
    assert a.costs is not None and b.costs is not None
    # the calm years hold stock unused: their holding cost counts in both
    assert a.costs.holding == pytest.approx(b.costs.holding, rel=1e-6)
    assert a.costs.shortage == pytest.approx(b.costs.shortage, rel=1e-6)
    assert dict(a.scenario_probabilities)["no_event"] == pytest.approx(0.65)


def test_both_settings_or_a_taken_id_are_refused(toy_path: Path, tmp_path: Path) -> None:
    both = _toy(toy_path, tmp_path / "both", ANNUAL, "no_event_remainder = true\n")
    (both / "instance.toml").write_text((both / "instance.toml").read_text().replace(
        "normalise_probabilities = false", "normalise_probabilities = true"))
    result = run_cli("validate", str(both))
    assert result.stderr.splitlines() == [
        "error: instance.toml: normalise_probabilities and no_event_remainder are both set, "
        "but the first scales the probabilities up to 1 and the second keeps them and adds "
        "the rest as 'no_event'; keep one"]
    taken = _toy(toy_path, tmp_path / "taken", ANNUAL, "no_event_remainder = true\n")
    text = (taken / "scenarios.csv").read_text().replace("snow,", "no_event,")
    (taken / "scenarios.csv").write_text(text)
    for table in ("demand", "outages"):
        path = taken / f"{table}.csv"
        path.write_text(path.read_text().replace("snow,", "no_event,"))
    result = run_cli("validate", str(taken))
    assert result.stderr.splitlines() == [
        "error: scenarios.csv: no_event_remainder adds scenario 'no_event' with the rest of the "
        "probability (0.65), but that id is taken; rename that scenario, or give it the rest "
        "yourself so the probabilities sum to 1"]


def test_a_new_scenario_takes_its_probability_from_the_remainder(toy_path: Path,
                                                                  tmp_path: Path) -> None:
    inst = load_instance(_toy(toy_path, tmp_path / "annual", ANNUAL,
                              "no_event_remainder = true\n"))
    v = tmp_path / "quake.toml"
    v.write_text('description = "a quake"\n[[change]]\nop = "add_scenario"\nid = "quake"\n'
                 'probability = 0.02\n')
    after = read_variant(v).apply(inst)
    assert {s.id: s.probability for s in after.scenarios} == pytest.approx(
        {"typhoon": 0.05, "flood": 0.2, "snow": 0.1, "quake": 0.02, "no_event": 0.63})
    v.write_text('description = "a quake"\n[[change]]\nop = "add_scenario"\nid = "quake"\n'
                 'probability = 0.7\n')
    with pytest.raises(InputError) as err:
        read_variant(v).apply(inst)
    assert err.value.problems[0].endswith(
        "probability 0.7 is more than the 0.65 left for 'no_event' (no_event_remainder); "
        "give take_from")
