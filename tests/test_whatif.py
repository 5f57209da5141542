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
        json.loads(base.stdout))
    assert [v["name"] for v in liaoning_whatif["variants"]] == [n[:-5] for n in THREE]
    for name, entry in zip(THREE, liaoning_whatif["variants"], strict=True):
        folder = tmp_path / name
        applied = run_cli("variant", "apply", str(LIAONING), "-v",
                          str(LIAONING / "variants" / name), "--out", str(folder))
        assert applied.exit_code == 0, applied.output
        plan = run_cli("plan", str(folder), "--format", "json")
        assert plan.exit_code == 0, plan.output
        assert _without_timing(entry["result"]) == _without_timing(json.loads(plan.stdout))


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
    assert {p.name for p in out.iterdir()} == {"whatif.json", "comparison.csv",
                                               "fill_by_region.csv", "plan_changes.csv",
                                               "runs"}
    assert {p.name for p in (out / "runs").iterdir()} == {"base", "north_depot_flooded",
                                                          "north_withdraws"}
    assert (out / "runs" / "north_withdraws" / "solution.json").is_file()
    got = run_cli("whatif", str(TOY), "-v", v[0], "-v", v[1], "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(got.stdout)))
    assert [r["name"] for r in rows] == ["base", "north_depot_flooded", "north_withdraws"]
    saved = list(csv.DictReader((out / "comparison.csv").open(encoding="utf-8")))
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
