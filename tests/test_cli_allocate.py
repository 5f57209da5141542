"""`reserve-opt allocate`: JSON keys, files written, events from files, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from reserve_opt.io import load_instance
from reserve_opt.models.allocation import AllocationResult
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
LIAONING = ROOT / "instances" / "liaoning"


def test_liaoning_typhoon_json_has_the_documented_keys() -> None:
    res = run_cli("allocate", str(LIAONING), "--scenario", "typhoon_east", "--format", "json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    for key in ("status", "objective", "total_shortage", "fill_rate", "settlement", "levels",
                "response", "explanations", "flows"):
        assert key in out
    assert out["status"] == "optimal"
    inst = load_instance(LIAONING)
    assert set(out["total_shortage"]) == {c.id for c in inst.commodities}
    assert 0.0 <= out["fill_rate"] <= 1.0
    # every settlement line names a debtor region and a creditor region or firm
    regions = {r.id for r in inst.regions}
    firms = {f.id for f in inst.facilities}
    for line in out["settlement"]:
        assert line["debtor"] in regions
        assert line["creditor"] in regions | firms
    # with demand points the trucks must reach each region's farthest town; a round trip
    # that does not fit the 10 h working day rides overnight (the driver rests the night),
    # so the coast (Dalian, Dandong), short before overnight trips, is served in full
    assert {k for k, v in out["total_shortage"].items() if v > 1e-6} == set()
    assert [e for e in out["explanations"] if e["shortage"] > 0] == []
    night = [f for f in out["flows"] if f["arrive_h"] - f["depart_h"] > f["time_h"] + 1e-6]
    assert {f["region"] for f in night} <= {"dalian", "dandong"} and night


def test_table_output_reads_like_a_report(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # each reason on one line
    res = run_cli("allocate", str(LIAONING), "-s", "flood_liao")
    assert res.exit_code == 0, res.stderr
    for heading in ("Objectives, in the order they were optimised", "By commodity",
                    "Supply by tier", "Settlement: who owes whom (CNY)",
                    "Response time: every region's first batch arrives within its standard.",
                    "No shortage: every demand is met on time."):
        assert heading in res.stdout
    # without its parent's help the toy's Seaside runs short: the report says why
    res = run_cli("allocate", str(ROOT / "instances" / "toy"), "-s", "typhoon",
                  "--no-parent-serves")
    assert res.exit_code == 0, res.stderr
    assert "Why shortages happen" in res.stdout
    assert "cap of agreement A_north_sea on north -> sea (water)" in res.stdout


def test_out_writes_tables_lines_and_json(tmp_path: Path) -> None:
    out = tmp_path / "alloc"
    res = run_cli("allocate", str(ROOT / "instances" / "toy"), "-s", "typhoon", "--out",
                  str(out))
    assert res.exit_code == 0, res.stderr
    assert {p.name for p in out.iterdir()} == {
        ".reserve-opt", "flows.csv", "fill.csv", "settlement.csv", "response.csv", "explanations.csv",
        "flows.gpkg", "solution.json"}
    flows = pd.read_csv(out / "flows.csv")
    lines = gpd.read_file(out / "flows.gpkg", layer="flows")
    assert len(lines) == len(flows) > 0
    assert lines.crs.to_epsg() == 4326
    doc = json.loads((out / "solution.json").read_text())
    assert doc["status"] == "optimal"


def test_event_file(tmp_path: Path) -> None:
    ev = tmp_path / "storm.yaml"
    ev.write_text("id: storm\ndays: 1\naffected:\n  sea: 500\n")
    res = run_cli("allocate", str(ROOT / "instances" / "toy"), "--event", str(ev),
                  "--format", "json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["event"] == "storm"
    # 500 persons x 2 bottles a day x 1 day, all delivered
    assert sum(r["quantity"] for r in out["flows"] if r["commodity"] == "water") == 1000.0


def test_scenario_and_event_are_exclusive_one_line_exit_1(tmp_path: Path) -> None:
    res = run_cli("allocate", str(ROOT / "instances" / "toy"))
    assert res.exit_code == 1
    assert res.stderr == ("error: Give exactly one of --scenario ID (a scenario of the "
                          "instance) or --event FILE (an event file).\n")
    res = run_cli("allocate", str(ROOT / "instances" / "toy"), "-s", "meteor")
    assert res.exit_code == 1
    assert res.stderr == ("error: Scenario 'meteor' is not in instance 'toy'; choose one of "
                          "typhoon, flood, snow, or give an event file with --event.\n")
    res = run_cli("allocate", str(ROOT / "instances" / "toy"), "-s", "snow", "--periods", "0")
    assert res.exit_code == 1
    assert res.stderr == "error: periods=0 must be a whole number from 1 to 366.\n"


def test_out_is_untouched_when_the_input_is_bad(tmp_path: Path) -> None:
    out = tmp_path / "keep"
    out.mkdir()
    (out / "flows.csv").write_text("precious\n")
    res = run_cli("allocate", str(ROOT / "instances" / "toy"), "-s", "meteor", "--out",
                  str(out))
    assert res.exit_code == 1
    assert (out / "flows.csv").read_text() == "precious\n"


def test_deliveries_for_routing_carry_ready_times() -> None:
    from reserve_opt.models.allocation import solve_allocation

    res: AllocationResult = solve_allocation(load_instance(ROOT / "instances" / "toy"),
                                             "typhoon")
    day1 = res.deliveries(1)
    assert list(day1.columns) == ["source", "region", "commodity", "quantity", "ready_h"]
    supermarket = day1[day1["source"] == "S_river"]
    assert (supermarket["ready_h"] == 12.0).all()  # the contract's activation delay


def test_allocating_a_plan_uses_its_stock_and_contracts(tmp_path: Path) -> None:
    plan_dir = tmp_path / "plan"
    res = run_cli("plan", str(LIAONING), "--out", str(plan_dir), "--format", "json")
    assert res.exit_code == 0, res.stderr
    plan = json.loads(res.stdout)
    newly = {c["contract"] for c in plan["contracts"] if c["signed"] and not c["signed_before"]}
    assert newly and sum(s["added"] for s in plan["stock"]) > 0
    today = json.loads(run_cli("allocate", str(LIAONING), "-s", "typhoon_east", "--format",
                               "json").stdout)
    res = run_cli("allocate", str(LIAONING), "-s", "typhoon_east", "--plan", str(plan_dir),
                  "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert "checker" not in res.stderr  # the checker agreed, on the plan's stock
    planned = json.loads(res.stdout)
    drawn = {r["contract"] for r in planned["flows"] if r["contract"]}
    assert drawn & newly  # contracts the plan signs are drawn on
    # more stock and more contracts can only lower the first shortage level
    assert planned["levels"][0]["value"] <= today["levels"][0]["value"] + 1e-6


def test_a_plan_for_another_instance_is_refused(tmp_path: Path) -> None:
    plan_dir = tmp_path / "plan"
    assert run_cli("plan", str(ROOT / "instances" / "toy"), "--out", str(plan_dir)).exit_code == 0
    res = run_cli("allocate", str(LIAONING), "-s", "typhoon_east", "--plan", str(plan_dir))
    assert res.exit_code == 1
    assert res.stderr.splitlines()[0] == (
        f"error: {plan_dir / 'solution.json'}: stock line 1 names facility 'W_north', which "
        "is not a government warehouse of instance 'liaoning'; was the plan made for another "
        "instance?")


def test_a_solve_stopped_between_levels_says_so(monkeypatch) -> None:
    # a machine where 10 s pass between levels: with 25 s, two levels start, the rest do not
    from reserve_opt.models.allocation import solve as allocation_solve

    ticks = iter(range(10, 10_000, 10))
    monkeypatch.setattr(allocation_solve, "_now", lambda: float(next(ticks)))
    toy = ROOT / "instances" / "toy"
    res = run_cli("allocate", str(toy), "-s", "typhoon", "--time-limit", "25")
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("toy, event typhoon: feasible in ")
    text = " ".join(res.stdout.split())  # lines are wrapped to the terminal's width
    assert (
        "periods of 24 h (sharing: agreements) not every level was solved: the time limit "
        "ran out before level tier3 started; levels solved: shortage_p1, shortage_p2; not solved: tier3, tier1, "
        "cost; the allocation meets the solved levels only; gap unknown overall fill rate"
    ) in text
