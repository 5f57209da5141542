"""``reserve-opt route``: benchmark files with their gap, instance allocations, clean errors.

Every run of the command goes through the independent checker (it exits 1 otherwise), so
a zero exit code here means a checked plan.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from tests.cli_runner import run_cli

VRP = Path(__file__).resolve().parent / "data" / "vrp"
ROOT = Path(__file__).resolve().parents[1]
LIAONING = ROOT / "instances" / "liaoning"

TOY_ROWS = [
    ("W_north", "sea", "water", 9000),
    ("W_north", "river", "water", 4000),
    ("S_river", "sea", "water", 1000),
]


@pytest.fixture
def toy_deliveries(tmp_path: Path) -> Path:
    path = tmp_path / "deliveries.csv"
    pd.DataFrame(TOY_ROWS, columns=["source", "region", "commodity", "quantity"]).to_csv(
        path, index=False)
    return path


def test_solomon_file_prints_gap_and_writes_tables(tmp_path: Path) -> None:
    out = tmp_path / "c101"
    result = run_cli("route", str(VRP / "vrptw" / "C101.txt"), "--input-format", "solomon",
                     "--max-iterations", "2000", "--seed", "1", "--out", str(out), "--format",
                     "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "solved" and data["checked"] is True
    assert data["bks"] == pytest.approx(827.3)
    assert 0 <= data["gap"] <= 0.01 and data["vehicles_used"] >= 10
    assert data["unserved"] == []
    assert sorted(p.name for p in out.iterdir()) == [".reserve-opt", "routes.csv",
                                                     "solution.json", "unmet.csv"]
    visits = pd.read_csv(out / "routes.csv")
    assert len(visits) == 100 and visits["client"].nunique() == 100


def test_vrplib_table_output_names_the_gap() -> None:
    result = run_cli("route", str(VRP / "cvrp" / "X-n101-k25.vrp"), "--input-format",
                     "vrplib", "--max-iterations", "30", "--engine", "ortools")
    assert result.exit_code == 0, result.output
    assert "X-n101-k25: solved with ortools" in result.stdout
    assert "best known 27,591.0, gap " in result.stdout


def test_instance_with_deliveries_file(toy_path: Path, toy_deliveries: Path,
                                       tmp_path: Path) -> None:
    out = tmp_path / "routes"
    result = run_cli("route", str(toy_path), "--scenario", "snow", "--deliveries",
                     str(toy_deliveries), "--max-iterations", "2000", "--out", str(out),
                     "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("status", "cost", "vehicles_used", "unserved"):
        assert key in data
    assert data["status"] == "partial"
    assert data["delivered_units"] == pytest.approx(13000)
    assert data["unmet_units"] == pytest.approx(1000)
    assert [u["source"] for u in data["unserved"]] == ["S_river"]
    assert data["unserved"][0]["reason"].startswith("S_river has no vehicles")
    names = sorted(p.name for p in out.iterdir())
    assert names == [".reserve-opt", "deliveries.csv", "routes.csv", "routes.geojson",
                     "solution.json", "unmet.csv"]
    lines = gpd.read_file(out / "routes.geojson")
    assert lines.crs.to_epsg() == 4326
    assert set(lines.geom_type) == {"LineString"} and len(lines) == data["vehicles_used"]
    assert {"route", "vehicle_type", "depot", "home"} <= set(lines.columns)
    assert set(lines["depot"]) == {"W_north"}
    unmet = pd.read_csv(out / "unmet.csv")
    assert list(unmet["source"]) == ["S_river"]


def test_point_only_small_trucks_reach(tmp_path: Path) -> None:
    path = tmp_path / "dalian.csv"
    pd.DataFrame([("W_dalian", "dalian", "water", 3000)],
                 columns=["source", "region", "commodity", "quantity"]).to_csv(path, index=False)
    out = tmp_path / "out"
    result = run_cli("route", str(LIAONING), "--scenario", "none", "--deliveries", str(path),
                     "--max-vehicle-kg", "P_1792260=2000", "--max-iterations", "2000",
                     "--out", str(out))
    assert result.exit_code == 0, result.output
    visits = pd.read_csv(out / "routes.csv")
    # Wafangdian, one of Dalian's demand points (its stops)
    school = visits[visits["point"] == "P_1792260"]
    assert len(school) and set(school["vehicle_type"]) == {"V_dalian_2t"}
    assert visits["delivered_kg"].sum() == pytest.approx(3000 * 7.0)


def test_breaks_need_ortools(toy_path: Path, toy_deliveries: Path) -> None:
    args = ["route", str(toy_path), "--scenario", "snow", "--deliveries", str(toy_deliveries),
            "--max-iterations", "100", "--break-min", "20", "--drive-h", "4"]
    result = run_cli(*args)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: Driver breaks (vehicle type 'T_north': a break of 0.333333 after at most 4 of "
        "work) are not supported by the pyvrp engine; use the ortools engine "
        "(--engine ortools).\n")
    result = run_cli(*args, "--engine", "ortools", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["engine"] == "ortools"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "hail"], "error: --scenario hail: toy has no such scenario; use one of "
                                 "typhoon, flood, snow.\n"),
        ([], "error: {path}: give --scenario ID to route an instance's allocation, or "
             "--input-format for a benchmark file.\n"),
        (["--scenario", "snow", "--engine", "gurobi"], "error: --engine gurobi: use pyvrp or "
                                                       "ortools.\n"),
        (["--input-format", "tsplib"], "error: --input-format tsplib: use one of vrplib, "
                                       "solomon, cordeau.\n"),
        (["--scenario", "snow", "--map", "m.svg"], "error: --map m.svg: a map is written as "
                                                   ".png or .html; change the file name.\n"),
        (["--scenario", "snow", "--max-vehicle-kg", "D_sea"],
         "error: --max-vehicle-kg D_sea: write POINT=KG, e.g. D_dl_school=2000.\n"),
        (["--scenario", "snow", "--max-iterations", "0"],
         "error: --max-iterations 0: give a whole number of 1 or more.\n"),
        (["--scenario", "snow", "--max-vehicle-kg", "D_moon=2000"],
         "error: --max-vehicle-kg D_moon: no region receives goods there (a region with "
         "demand points is served at them, else at its distribution points, else at its "
         "seat); name one of those places\n"),
    ],
)
def test_errors_are_one_line(toy_path: Path, args: list[str], message: str) -> None:
    result = run_cli("route", str(toy_path), *args)
    assert result.exit_code == 1
    assert result.stderr == message.format(path=toy_path)


def test_liaoning_typhoon_allocation_routed_on_a_map(tmp_path: Path) -> None:
    """End to end: allocate the typhoon, route day 1, draw the routes (PNG)."""
    png = tmp_path / "typhoon.png"
    out = tmp_path / "out"
    result = run_cli("route", str(LIAONING), "--scenario", "typhoon_east", "--max-iterations",
                     "2000", "--seed", "1", "--map", str(png), "--out", str(out), "--format",
                     "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] in ("solved", "partial") and data["vehicles_used"] > 0
    report = pd.read_csv(out / "deliveries.csv", dtype={"reason": str})
    planned = report.groupby("delivery")["quantity"].sum()
    accounted = report.groupby("delivery")[["delivered", "unmet"]].sum().sum(axis=1)
    assert (abs(planned - accounted) <= 1e-6 * planned).all()
    assert (report.loc[report["unmet"] > 0, "reason"].str.len() > 0).all()
    assert data["delivered_units"] + data["unmet_units"] == pytest.approx(planned.sum())
    assert png.stat().st_size > 50_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
