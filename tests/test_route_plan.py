"""``reserve-opt route --plan DIR`` and period-aware ``--deliveries``, through the CLI on the toy.

``route --plan`` must route what ``allocate --plan`` allocated (one plan reader, one
allocation), and a deliveries file with a ``period`` column is routed one day at a time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.cli_runner import run_cli
from tests.conftest import INSTANCES

ITERATIONS = "50"
KEYS = ["source", "region", "commodity"]


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plan") / "plan"
    result = run_cli("plan", str(INSTANCES / "toy"), "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def _routed(folder: Path) -> pd.DataFrame:
    """The deliveries a route run was given: source, region, commodity, quantity."""
    got = pd.read_csv(folder / "deliveries.csv")
    return (got.groupby(KEYS, as_index=False)["quantity"].sum()
            .sort_values(KEYS).reset_index(drop=True))


def test_route_plan_routes_what_allocate_plan_allocated(plan_dir: Path, toy_path: Path,
                                                        tmp_path: Path) -> None:
    alloc = tmp_path / "alloc"
    # route --period N allocates days 1 to N, as allocate --periods N
    result = run_cli("allocate", str(toy_path), "-s", "typhoon", "--plan", str(plan_dir),
                     "--periods", "3", "--out", str(alloc))
    assert result.exit_code == 0, result.output
    # every day of the allocation, one line per delivery, as AllocationResult.deliveries
    flows = pd.read_csv(alloc / "flows.csv", dtype={k: str for k in KEYS})
    days = (flows.groupby(["period", *KEYS], as_index=False)
            .agg(quantity=("quantity", "sum"), ready_h=("depart_h", "min")))
    days = days[days["quantity"] > 0]
    table = tmp_path / "flows_by_day.csv"
    days.to_csv(table, index=False)
    others = int((days["period"] != 3).sum())
    assert others > 0 and (days["period"] == 3).any()

    by_plan, by_file = tmp_path / "by_plan", tmp_path / "by_file"
    result = run_cli("route", str(toy_path), "-s", "typhoon", "--plan", str(plan_dir),
                     "--period", "3", "--max-iterations", ITERATIONS, "--out", str(by_plan))
    assert result.exit_code == 0, result.output
    result = run_cli("route", str(toy_path), "-s", "typhoon", "--deliveries", str(table),
                     "--period", "3", "--max-iterations", ITERATIONS, "--out", str(by_file))
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(_routed(by_plan), _routed(by_file), check_dtype=False)
    one = json.loads((by_plan / "solution.json").read_text())
    two = json.loads((by_file / "solution.json").read_text())
    assert one["deliveries"] == two["deliveries"] == int((days["period"] == 3).sum())
    assert two["notes"][0] == (f"{others} deliveries of other days in flows_by_day.csv left "
                               "for their own day (route them with --period N)")
    assert not any("other days" in n for n in one["notes"])
    assert one["delivered_units"] == pytest.approx(two["delivered_units"])


def test_period_column_routes_only_that_day(toy_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "days.csv"
    pd.DataFrame([("W_north", "sea", "water", 9000, 1), ("W_north", "river", "water", 4000, 2),
                  ("S_river", "sea", "water", 1000, 3)],
                 columns=[*KEYS, "quantity", "period"]).to_csv(path, index=False)
    result = run_cli("route", str(toy_path), "-s", "typhoon", "--deliveries", str(path),
                     "--period", "2", "--max-iterations", ITERATIONS, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["period"] == 2 and data["deliveries"] == 1
    assert data["notes"][0] == ("2 deliveries of other days in days.csv left for their own "
                                "day (route them with --period N)")


def test_without_period_column_every_row_is_routed(toy_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "today.csv"
    pd.DataFrame([("W_north", "sea", "water", 9000), ("S_river", "sea", "water", 1000)],
                 columns=[*KEYS, "quantity"]).to_csv(path, index=False)
    result = run_cli("route", str(toy_path), "-s", "typhoon", "--deliveries", str(path),
                     "--max-iterations", ITERATIONS, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["deliveries"] == 2
    assert not any("other days" in n for n in data["notes"])


def test_a_period_that_is_not_a_day_is_refused(toy_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("source,region,commodity,quantity,period\n"
                    "W_north,sea,water,9000,1\nW_north,river,water,4000,1.5\n")
    result = run_cli("route", str(toy_path), "-s", "typhoon", "--deliveries", str(path))
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"error: --deliveries {path} line 3: period 1.5 is not "
                                     "a day; give a whole number of 1 or more.")


def test_plan_and_deliveries_together_are_refused(toy_path: Path, tmp_path: Path) -> None:
    result = run_cli("route", str(toy_path), "-s", "typhoon", "--plan", str(tmp_path),
                     "--deliveries", str(tmp_path / "d.csv"))
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: --plan, --deliveries: give one; --plan routes "
                                     "the allocation of the plan's stock, --deliveries a "
                                     "file's.")


def test_a_missing_plan_is_refused_by_the_plan_reader(toy_path: Path, tmp_path: Path) -> None:
    result = run_cli("route", str(toy_path), "-s", "typhoon", "--plan", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"error: Plan file {tmp_path / 'solution.json'} does not "
                                     "exist; give the solution.json that 'reserve-opt plan "
                                     "--out DIR' wrote.")


def test_route_plan_routes_the_plans_stock_not_todays(plan_dir: Path, toy_path: Path,
                                                      tmp_path: Path) -> None:
    # the toy's plan keeps today's stock; a plan holding 1,000 water at W_north must
    # route less water from there than today's stock does. A whole plan edited so would
    # fail the plan checker, so the lean plan is a document of stock lines and contracts.
    doc = json.loads((plan_dir / "solution.json").read_text(encoding="utf-8"))
    for line in doc["stock"]:
        if (line["facility"], line["commodity"]) == ("W_north", "water"):
            line["total"] = 1000.0
    lean = tmp_path / "lean_plan"
    lean.mkdir()
    (lean / "solution.json").write_text(json.dumps(
        {"stock": doc["stock"], "contracts": doc["contracts"]}), encoding="utf-8")
    water = {}
    for name, extra in (("today", []), ("lean", ["--plan", str(lean)])):
        out = tmp_path / name
        result = run_cli("route", str(toy_path), "-s", "typhoon", *extra, "--max-iterations",
                         ITERATIONS, "--out", str(out))
        assert result.exit_code == 0, result.output
        got = _routed(out)
        water[name] = float(got[(got["source"] == "W_north")
                                & (got["commodity"] == "water")]["quantity"].sum())
    assert water["lean"] <= 1000.0 < water["today"]
