"""``reserve-opt site``: real solves on OR-Library files and bundled instances, checked
against published optima, brute force and the independent checker; exact error lines."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from reserve_opt import load_instance
from reserve_opt.models.siting import read_optima
from reserve_opt.models.siting.instance import siting_data
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "tests" / "data"
CAP = BENCH / "orlib-cap"
PMED = BENCH / "orlib-pmed"
TOY = ROOT / "instances" / "toy"
LIAONING = ROOT / "instances" / "liaoning"


def site_json(*args: str) -> dict[str, Any]:
    result = run_cli("site", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    for key in ("status", "objective", "bound", "gap", "solve_seconds", "cost_breakdown"):
        assert key in data
    return data


@pytest.mark.parametrize(("model", "file", "optima", "solver"), [
    ("cflp", "cap41", "capopt.txt", "highs"),
    ("cflp", "cap62", "capopt.txt", "highs"),
    ("uflp", "cap71", "uncapopt.txt", "highs"),
    ("cflp", "cap42", "capopt.txt", "pulp-cbc"),
    ("p-median", "pmed1", "pmedopt.txt", "highs"),
    ("p-median", "pmed2", "pmedopt.txt", "pulp-cbc"),
])
def test_orlib_files_reach_their_published_optima(model: str, file: str, optima: str,
                                                  solver: str) -> None:
    folder = CAP if file.startswith("cap") else PMED
    known = read_optima(folder / optima)[file]
    data = site_json(model, str(folder / f"{file}.txt"), "--solver", solver)
    assert data["status"] == "optimal"
    assert data["objective"] == pytest.approx(known, rel=1e-6)
    assert data["check"]["ok"], data["check"]["problems"]
    assert data["known_optimum"]["value"] == known
    assert data["known_optimum"]["matches"] is True
    assert data["input_format"] == ("orlib-cap" if folder == CAP else "orlib-pmed")
    if model in ("cflp", "uflp"):
        parts = data["cost_breakdown"]
        assert parts["fixed"] + parts["assignment"] == pytest.approx(data["objective"], rel=1e-9)


def test_orlib_table_output_compares_with_the_optimum_and_reports_the_check() -> None:
    result = run_cli("site", "p-median", str(PMED / "pmed1.txt"))
    assert result.exit_code == 0, result.output
    assert "known optimum 5,819 (pmedopt.txt): matches" in result.stdout
    assert "independent check: ok" in result.stdout


def test_explicit_input_format_and_optima_file(tmp_path: Path) -> None:
    copy = tmp_path / "mine.dat"
    copy.write_bytes((CAP / "cap41.txt").read_bytes())
    optima = tmp_path / "answers.txt"
    optima.write_text("name value\nmine 1040444.375\n")
    data = site_json("cflp", str(copy), "--input-format", "orlib-cap", "--optima", str(optima))
    assert data["known_optimum"]["matches"] is True
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("name value\nmine 1000000\n")
    data = site_json("cflp", str(copy), "--optima", str(wrong))
    assert data["known_optimum"]["matches"] is False
    assert data["known_optimum"]["relative_difference"] == pytest.approx(0.040444375)


def test_p_other_than_the_files_is_not_compared() -> None:
    data = site_json("p-median", str(PMED / "pmed1.txt"), "-p", "6")
    assert data["p"] == 6 and data["n_open"] == 6
    assert data["known_optimum"] is None
    assert data["objective"] < 5819  # one more median can only help
    assert data["check"]["ok"]


def _toy_brute_force(model: str, p: int, free_existing: bool = False) -> float:
    """Best objective over every set of p sites (besides the existing warehouses, fixed
    open, unless ``free_existing``), straight from the data."""
    d = siting_data(load_instance(TOY))
    m = len(d.site_ids)
    fixed = [] if free_existing else [j for j in range(m) if d.existing[j]]
    best = np.inf if model == "p-median" else -np.inf
    for sites in itertools.combinations([j for j in range(m) if j not in fixed], p):
        s = [*fixed, *sites]
        if model == "p-median":
            best = min(best, float(d.weight @ d.distance_km[:, s].min(axis=1)))
        else:
            best = max(best, float(d.weight[d.coverage[:, s].any(axis=1)].sum()))
    return best


@pytest.mark.parametrize("model", ["p-median", "max-coverage"])
def test_toy_matches_brute_force(model: str) -> None:
    data = site_json(model, str(TOY), "-p", "2")
    assert data["status"] == "optimal" and data["check"]["ok"]
    assert data["objective"] == pytest.approx(_toy_brute_force(model, 2), rel=1e-9)
    assert data["n_open"] == 3 and data["fixed_sites"] == ["W_north"]
    free = site_json(model, str(TOY), "-p", "2", "--free-existing")
    assert free["objective"] == pytest.approx(_toy_brute_force(model, 2, True), rel=1e-9)
    assert free["n_open"] == 2 and free["fixed_sites"] == []
    counted = site_json(model, str(TOY), "-p", "2", "--count-fixed")
    assert counted["objective"] == pytest.approx(_toy_brute_force(model, 1), rel=1e-9)
    assert counted["n_open"] == 2 and "W_north" in counted["open_sites"]


@pytest.mark.parametrize("model", ["set-cover", "cflp", "uflp"])
def test_toy_other_models_pass_the_checker(model: str) -> None:
    data = site_json(model, str(TOY), "--solver", "pulp-cbc")
    assert data["status"] == "optimal"
    assert data["check"]["ok"], data["check"]["problems"]
    assert data["gap"] == pytest.approx(0.0, abs=1e-6)
    d = siting_data(load_instance(TOY))
    if model == "set-cover":
        opened = [d.site_ids.index(s) for s in data["open_sites"]]
        assert d.coverage[:, opened].any(axis=1).all()
        assert data["uncovered"] == []
    else:
        assert set(data["assignment"]) == set(d.client_ids)


def test_uflp_is_never_dearer_than_cflp() -> None:
    cflp = site_json("cflp", str(TOY))["objective"]
    uflp = site_json("uflp", str(TOY))["objective"]
    assert uflp <= cflp + 1e-6


def test_liaoning_scenario_weights_and_outputs(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = run_cli("site", "p-median", str(LIAONING), "-p", "3", "--scenario",
                     "typhoon_east", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "independent check: ok" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [".reserve-opt", "clients.csv", "sites.csv",
                                                     "sites.gpkg", "solution.json"]
    sol = json.loads((out / "solution.json").read_text())
    assert sol["check"]["ok"] and sol["scenario"] == "typhoon_east"
    assert sol["units"]["objective"].startswith("m3 x road km")
    # the objective is the scenario's demand volume x km to the nearest open site
    d = siting_data(load_instance(LIAONING), scenario="typhoon_east")
    opened = [d.site_ids.index(s) for s in sol["open_sites"]]
    assert sol["objective"] == pytest.approx(
        float(d.weight @ d.distance_km[:, opened].min(axis=1)), rel=1e-9)
    opened_layer = gpd.read_file(out / "sites.gpkg", layer="opened_sites")
    lines = gpd.read_file(out / "sites.gpkg", layer="assignments")
    assert sorted(opened_layer["site"]) == sorted(sol["open_sites"])
    assert len(lines) == len(d.client_ids) and set(lines["site"]) <= set(sol["open_sites"])
    clients = pd.read_csv(out / "clients.csv")
    assert {"client", "weight_m3", "site", "distance_km", "time_h"} <= set(clients.columns)
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_liaoning_coverage_by_response_standard_and_radius() -> None:
    std = site_json("max-coverage", str(LIAONING), "-p", "2")
    assert std["check"]["ok"] and "response standard" in std["coverage_rule"]
    tight = site_json("max-coverage", str(LIAONING), "-p", "2", "--radius-km", "50")
    assert tight["check"]["ok"] and tight["coverage_rule"] == "road distance <= 50 km"
    assert tight["objective"] <= std["objective"]
    # a site covers a region when it reaches all its demand points in time: Dalian's
    # towns lie 3.2 h apart (Zhuanghe), so 3 h covers nobody there; 4 h covers all
    no = one_error_line("set-cover", str(LIAONING), "--max-hours", "3")
    assert no == ("error: No site covers regions ['dalian'] (travel time <= 3 h); widen "
                  "--max-hours or --radius-km, or use max-coverage.")
    cover = site_json("set-cover", str(LIAONING), "--max-hours", "4")
    assert cover["check"]["ok"] and cover["uncovered"] == []


def one_error_line(*args: str) -> str:
    result = run_cli("site", *args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_unknown_model_is_one_line() -> None:
    assert one_error_line("k-center", str(TOY)) == (
        "error: Unknown model 'k-center'; choose one of p-median, p-center, "
        "capacitated-p-median, max-coverage, set-cover, backup-cover, cflp, uflp.")


def test_missing_p_is_one_line() -> None:
    assert one_error_line("p-median", str(TOY)) == (
        "error: p-median needs the number of sites to open; pass -p/--facilities N.")
    assert one_error_line("max-coverage", str(TOY)) == (
        "error: max-coverage needs the number of sites to open; pass -p/--facilities N.")


def test_unreadable_files_are_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.txt"
    assert one_error_line("cflp", str(missing)) == (
        f"error: {missing} does not exist; give an OR-Library file or an instance folder or "
        "JSON document.")
    junk = tmp_path / "junk.txt"
    junk.write_text("hello world, this is not a benchmark\n")
    assert one_error_line("cflp", str(junk)) == (
        f"error: Cannot tell the format of {junk} from its first line; pass --input-format "
        "orlib-cap, orlib-pmed, matrix or instance.")
    short = tmp_path / "short.txt"
    short.write_text("2 3\n10 5\n")
    assert one_error_line("cflp", str(short)) == (
        "error: short.txt: expected 15 numbers for 2 facilities and 3 customers, found 4.")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    assert one_error_line("cflp", str(binary)).startswith(f"error: Cannot read {binary}: ")


def test_model_that_does_not_fit_the_file_is_one_line() -> None:
    assert one_error_line("p-median", str(CAP / "cap41.txt"), "-p", "3") == (
        "error: Model 'p-median' does not apply to an orlib-cap file; use cflp or uflp.")
    assert one_error_line("cflp", str(PMED / "pmed1.txt")) == (
        "error: Model 'cflp' does not apply to an orlib-pmed file; use p-median, p-center, "
        "capacitated-p-median, max-coverage, set-cover or backup-cover.")


def test_instance_option_errors_are_one_line() -> None:
    assert one_error_line("p-median", str(TOY), "-p", "9") == (
        "error: -p 9 new sites and the 1 site fixed open exceed the 4 sites of 'toy'; give -p "
        "from 0 to 3, or --count-fixed.")
    assert one_error_line("p-median", str(TOY), "-p", "9", "--count-fixed") == (
        "error: p must be a whole number from 1 to 4 (sites), got 9.")
    assert one_error_line("p-median", str(TOY), "-p", "2", "--scenario", "meteor").startswith(
        "error: Scenario 'meteor' is not in 'toy'; choose one of: ")
    assert one_error_line("set-cover", str(TOY), "--max-hours", "0.01") .startswith(
        "error: No site covers regions [")
    assert one_error_line("cflp", str(LIAONING)) == (
        "error: Total site capacity 215,408 m3 is below the demand of one day of need of the "
        "whole population (422,940 m3); use uflp or another --scenario.")
    assert one_error_line("set-cover", str(TOY), "--radius-km", "5", "--max-hours", "2") == (
        "error: Give either --radius-km or --max-hours for coverage, not both.")
