"""``reserve-opt whatif``: the comparison equals separate ``plan`` runs of each variant."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
LIAONING = ROOT / "instances" / "liaoning"
TOY = ROOT / "instances" / "toy"
THREE = ("dandong_depot_flooded.toml", "coastal_demand_doubles.toml",
         "sign_panjin_supermarket.toml")


def _without_timing(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "solve_seconds"}


def _plan_result(stdout: str) -> dict[str, Any]:
    """plan's JSON without the method it names (whatif runs the extensive form)."""
    doc: dict[str, Any] = json.loads(stdout)
    assert doc.pop("method").startswith("extensive (")
    return doc


@pytest.fixture(scope="module")
def liaoning_whatif() -> dict[str, Any]:
    args = ["whatif", str(LIAONING)]
    for name in THREE:
        args += ["--variant", str(LIAONING / "variants" / name)]
    result = run_cli(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_whatif_json_matches_separate_plan_runs_of_each_variant(
        liaoning_whatif: dict[str, Any], tmp_path: Path) -> None:
    base = run_cli("plan", str(LIAONING), "--format", "json")
    assert base.exit_code == 0
    assert _without_timing(liaoning_whatif["base"]["result"]) == _without_timing(
        _plan_result(base.stdout))
    assert [v["name"] for v in liaoning_whatif["variants"]] == [n[:-5] for n in THREE]
    for name, entry in zip(THREE, liaoning_whatif["variants"], strict=True):
        folder = tmp_path / Path(name).stem  # a folder, not a .toml
        applied = run_cli("variant", "apply", str(LIAONING), "-v",
                          str(LIAONING / "variants" / name), "--out", str(folder))
        assert applied.exit_code == 0, applied.output
        plan = run_cli("plan", str(folder), "--format", "json")
        assert plan.exit_code == 0, plan.output
        assert _without_timing(entry["result"]) == _without_timing(_plan_result(plan.stdout))


def test_whatif_comparison_reflects_what_each_variant_models(
        liaoning_whatif: dict[str, Any]) -> None:
    rows = {r["name"]: r for r in liaoning_whatif["comparison"]}
    base = rows["base"]
    for row in rows.values():
        parts = sum(row[f"cost_{t}"] for t in ("fixed", "purchase", "retainer", "transport",
                                                "unit_prices", "holding", "shortage"))
        assert parts == pytest.approx(row["objective"], rel=1e-9)
        assert row["objective_change"] == pytest.approx(row["objective"] - base["objective"])
    # losing a depot or doubling demand cannot make the optimum cheaper; a signed contract
    # adds an option (its retainer is sunk in the objective, but the plan may do better)
    assert rows["dandong_depot_flooded"]["objective"] > base["objective"]
    assert rows["coastal_demand_doubles"]["objective"] > base["objective"]
    assert rows["coastal_demand_doubles"]["fill_rate_water"] < base["fill_rate_water"]
    flooded = liaoning_whatif["variants"][0]
    assert "W_dandong" not in flooded["summary"]["stock"]
    assert any(s["facility"] == "W_dandong" and s["variant"] == 0
               for s in flooded["diff"]["stock"])
    signed = liaoning_whatif["variants"][2]
    assert {c["contract"] for c in signed["diff"]["contracts"]} >= {"K_pj_water", "K_pj_food"}
    assert signed["notes"][0] == "added enterprise_reserve E_pj_market in panjin"


def test_whatif_table_csv_and_out_folder(tmp_path: Path) -> None:
    v = [str(TOY / "variants" / n) for n in ("north_depot_flooded.toml",
                                             "north_withdraws.toml")]
    out = tmp_path / "cmp"
    table = run_cli("whatif", str(TOY), "-v", v[0], "-v", v[1], "--out", str(out))
    assert table.exit_code == 0, table.output
    for text in ("Comparison (CNY", "Fill rate by region", "What changed in the plan",
                 "stock of water: -20,000 units in all (W_north -20,000)",
                 "sharing kept to 'agreements'"):
        assert text in table.stdout, text
    assert {p.name for p in out.iterdir()} == {".reserve-opt", "whatif.json",
                                               "comparison.csv", "fill_by_region.csv",
                                               "plan_changes.csv", "runs"}
    assert {p.name for p in (out / "runs").iterdir()} == {"base", "north_depot_flooded",
                                                          "north_withdraws"}
    assert (out / "runs" / "north_withdraws" / "solution.json").is_file()
    got = run_cli("whatif", str(TOY), "-v", v[0], "-v", v[1], "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(got.stdout)))
    assert [r["name"] for r in rows] == ["base", "north_depot_flooded", "north_withdraws"]
    saved = list(csv.DictReader((out / "comparison.csv").open(encoding="utf-8-sig")))
    assert [r["objective"] for r in rows] == [r["objective"] for r in saved]
    # withdrawing from the only agreement keeps agreement sharing (no pooling), but
    # Northtown is Seaside's parent region and still serves it at tier 3: nothing changes
    assert float(rows[2]["cost_shortage"]) == pytest.approx(float(rows[0]["cost_shortage"]))
    assert float(rows[2]["objective"]) == pytest.approx(float(rows[0]["objective"]))


def test_whatif_refuses_bad_variants_before_solving_anything(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('description = "x"\n[[change]]\nop = "cut_link"\nfrom = "north"\n'
                   'to = "atlantis"\n', encoding="utf-8")
    result = run_cli("whatif", str(TOY), "-v", str(bad), "-v", str(tmp_path / "none.toml"))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / 'none.toml'}: does not exist; give a variant file (.toml or .yaml)"
    ]
    result = run_cli("whatif", str(TOY), "-v", str(bad))
    assert result.stderr.splitlines() == [
        f"error: {bad}: change 1 (cut_link): link end 'atlantis' is not a region or facility; "
        f"use one of their ids"]


def test_whatif_allocate_matches_separate_allocate_runs(tmp_path: Path) -> None:
    v = TOY / "variants" / "north_depot_flooded.toml"
    result = run_cli("whatif", str(TOY), "-v", str(v), "--model", "allocate", "--scenario",
                     "typhoon", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    base = run_cli("allocate", str(TOY), "--scenario", "typhoon", "--format", "json")
    assert _without_timing(data["base"]["result"]) == _without_timing(json.loads(base.stdout))
    folder = tmp_path / "flooded"
    assert run_cli("variant", "apply", str(TOY), "-v", str(v), "--out",
                   str(folder)).exit_code == 0
    alone = run_cli("allocate", str(folder), "--scenario", "typhoon", "--format", "json")
    assert _without_timing(data["variants"][0]["result"]) == _without_timing(
        json.loads(alone.stdout))
    # without Northtown's depot nothing reaches Seaside and Rivermouth in the typhoon
    rows = {r["name"]: r for r in data["comparison"]}
    assert rows["base"]["expected_shortage_units_water"] == pytest.approx(0.0, abs=1e-6)
    assert rows["north_depot_flooded"]["expected_shortage_units_water"] == pytest.approx(12000)
    assert "W_north ships -12,000 units of water" in data["variants"][0]["diff"]["lines"]
    missing = run_cli("whatif", str(TOY), "-v", str(v), "--model", "allocate")
    assert missing.exit_code == 1
    assert missing.stderr.strip() == (
        'error: model allocate needs the event: add --scenario ID (in a sweep file, '
        'scenario = "ID" under [options])')


# -- --model route ------------------------------------------------------------------------

ROUTE_VARIANTS = ("coast_road_cut.toml", "storm_doubles_demand.toml")
# 2,000 iterations per routing solve are plenty for the toy's few loads; seed fixed, so
# whatif and separate route runs give the same routes on any machine
ROUTE_ARGS = ("--model", "route", "--scenario", "typhoon", "--route-max-iterations", "2000")


def _route_args() -> list[str]:
    args = ["whatif", str(TOY)]
    for name in ROUTE_VARIANTS:
        args += ["-v", str(TOY / "variants" / name)]
    return [*args, *ROUTE_ARGS]


@pytest.fixture(scope="module")
def toy_route_whatif() -> dict[str, Any]:
    result = run_cli(*_route_args(), "--format", "json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _shared(whatif_run: dict[str, Any], route_run: dict[str, Any]) -> tuple[dict[str, Any],
                                                                           dict[str, Any]]:
    keys = (set(whatif_run) & set(route_run)) - {"runtime_s"}
    # the fields a planner compares must be among them, or the test proves nothing
    assert keys >= {"status", "engine", "cost", "distance", "vehicles_used", "seed", "loads",
                    "deliveries", "delivered_units", "unmet_units", "unserved", "notes",
                    "scenario", "period", "currency", "instance", "checked"}
    return ({k: whatif_run[k] for k in keys}, {k: route_run[k] for k in keys})


def test_whatif_route_json_matches_separate_route_runs_of_each_variant(
        toy_route_whatif: dict[str, Any], tmp_path: Path) -> None:
    base = run_cli("route", str(TOY), "--scenario", "typhoon", "--max-iterations", "2000",
                   "--format", "json")
    assert base.exit_code == 0, base.output
    got, want = _shared(toy_route_whatif["base"]["result"], json.loads(base.stdout))
    assert got == want
    entries = toy_route_whatif["variants"]
    assert [v["name"] for v in entries] == [n[:-5] for n in ROUTE_VARIANTS]
    for name, entry in zip(ROUTE_VARIANTS, entries, strict=True):
        folder = tmp_path / Path(name).stem  # a folder, not a .toml
        applied = run_cli("variant", "apply", str(TOY), "-v", str(TOY / "variants" / name),
                          "--out", str(folder))
        assert applied.exit_code == 0, applied.output
        alone = run_cli("route", str(folder), "--scenario", "typhoon", "--max-iterations", "2000",
                        "--format", "json")
        assert alone.exit_code == 0, alone.output
        got, want = _shared(entry["result"], json.loads(alone.stdout))
        assert got == want


def test_whatif_route_comparison_and_diff_say_what_each_variant_does(
        toy_route_whatif: dict[str, Any]) -> None:
    rows = {r["name"]: r for r in toy_route_whatif["comparison"]}
    base, cut, storm = rows["base"], rows["coast_road_cut"], rows["storm_doubles_demand"]
    for row, entry in zip(rows.values(), [toy_route_whatif["base"],
                                          *toy_route_whatif["variants"]], strict=True):
        res = entry["result"]
        assert row["objective"] == res["cost"] and row["distance_km"] == res["distance"]
        assert row["vehicles_used"] == res["vehicles_used"]
        assert row["unmet_units"] == res["unmet_units"] == pytest.approx(
            row["unmet_units_water"] + row["unmet_units_tent"])
        assert row["unmet_deliveries"] == len(res["unserved"])
        assert row["objective_change"] == pytest.approx(row["objective"] - base["objective"])
    # Rivermouth's supplier has no trucks in any run: its water is unmet with the reason
    reason = ("S_river has no vehicles and there is no fleet depot in region river to borrow "
              "from; add fleet rows for S_river or use fleetless='nearest'")
    assert toy_route_whatif["base"]["summary"]["unmet_reasons"] == {reason: 1}
    # the cut coast road leaves Seaside unreachable from Northtown's depot: fewer trucks
    # drive and the allocation itself fills less; doubled demand needs more trucks
    assert cut["vehicles_used"] < base["vehicles_used"] < storm["vehicles_used"]
    assert cut["fill_rate_water"] < base["fill_rate_water"] == pytest.approx(1.0)
    assert storm["unmet_units_water"] == pytest.approx(2 * base["unmet_units_water"])
    cut_diff = toy_route_whatif["variants"][0]["diff"]
    assert cut_diff["vehicles"] == {"base": base["vehicles_used"],
                                    "variant": cut["vehicles_used"],
                                    "change": cut["vehicles_used"] - base["vehicles_used"]}
    assert cut_diff["cost"]["change"] == pytest.approx(cut["objective"] - base["objective"])
    assert {(d["depot"], d["commodity"]) for d in cut_diff["depots"]} == {
        ("W_north", "water"), ("W_north", "tent")}
    assert all(d["change"] < 0 for d in cut_diff["depots"])
    storm_diff = toy_route_whatif["variants"][1]["diff"]
    assert storm_diff["unmet_units"]["change"] == pytest.approx(base["unmet_units"])


def test_whatif_route_table_is_readable_and_out_folder_holds_each_run(
        toy_route_whatif: dict[str, Any], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # each line whole, as a wide terminal shows it
    out = tmp_path / "routes"
    table = run_cli(*_route_args(), "--out", str(out))
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0] == ("toy: base and 2 variant(s), model route (event typhoon, day 1), "
                        "solver highs, engine pyvrp (2000 iterations, seed 0)")
    rows = {r["name"]: r for r in toy_route_whatif["comparison"]}
    vehicles = [str(rows[n]["vehicles_used"]) for n in rows]
    assert any(line.split()[:2] == ["vehicles", "used"] and line.split("│")[1:] and
               [c.strip() for c in line.split("│")[1:]] == vehicles for line in lines)
    base = rows["base"]["vehicles_used"]
    cut = rows["coast_road_cut"]["vehicles_used"]
    for text in ("Comparison (CNY; units in each commodity's unit)", "routing cost",
                 "units unmet", "allocation fill rate water", "Unmet deliveries and why:",
                 "  base: 1 x S_river has no vehicles",
                 "Allocation fill rate by region", "What changed in the routes",
                 f"      - {cut - base:+d} vehicles ({cut} in all)",
                 "      - W_north loads -"):
        assert text in table.stdout, text
    # the same runs again: the fixed seed repeats them
    saved = json.loads((out / "whatif.json").read_text(encoding="utf-8"))
    assert [r["vehicles_used"] for r in saved["comparison"]] == [
        r["vehicles_used"] for r in toy_route_whatif["comparison"]]
    assert [r["objective"] for r in saved["comparison"]] == [
        r["objective"] for r in toy_route_whatif["comparison"]]
    assert {p.name for p in (out / "runs" / "coast_road_cut").iterdir()} == {
        "flows.csv", "deliveries.csv", "unmet.csv", "routes.csv", "result.json"}
    got = run_cli(*_route_args(), "--format", "csv")
    header = next(csv.reader(io.StringIO(got.stdout)))
    assert {"distance_km", "vehicles_used", "unmet_units_water", "unmet_deliveries",
            "fill_rate_water"} <= set(header)


def test_whatif_route_needs_a_scenario_and_sweeps_refuse_route(tmp_path: Path) -> None:
    v = str(TOY / "variants" / "coast_road_cut.toml")
    missing = run_cli("whatif", str(TOY), "-v", v, "--model", "route")
    assert missing.exit_code == 1 and "Traceback" not in missing.output
    assert missing.stderr.splitlines() == [
        "error: model route needs the event whose allocation is routed: add --scenario ID"]
    late = run_cli("whatif", str(TOY), "-v", v, "--model", "route", "-s", "typhoon",
                   "--period", "3", "--periods", "2")
    assert late.exit_code == 1
    assert late.stderr.splitlines() == [
        "error: periods 2 ends before the routed day 3; give --periods 3 or more"]
    grid = tmp_path / "route_grid.toml"
    grid.write_text('description = "routes"\n[options]\nmodel = "route"\n'
                    'scenario = "typhoon"\n[[axis]]\nname = "demand"\nop = "scale_demand"\n'
                    'param = "factor"\nvalues = [1.0, 2.0]\n', encoding="utf-8")
    sweep = run_cli("sweep", str(TOY), "--grid", str(grid), "--out", str(tmp_path / "s"))
    assert sweep.exit_code == 1 and "Traceback" not in sweep.output
    assert sweep.stderr.splitlines() == [
        f"error: {grid}: sweeps do not run model route; use plan or allocate, or compare "
        "routes with reserve-opt whatif --model route"]
