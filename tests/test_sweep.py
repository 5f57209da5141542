"""Sweeps: grid and Monte Carlo expansion, Dask runs equal serial runs, resuming."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from reserve_opt import load_instance
from reserve_opt.errors import InputError
from reserve_opt.variants.grid import read_sweep, sweep_from_dict
from reserve_opt.variants.sweep import PARTS, RESULTS, run_sweep
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "toy"
LIAONING = ROOT / "instances" / "liaoning"
TIMING = ["solve_seconds", "wall_seconds"]

GRID = """
description = "Toy: coastal demand x budget x north depot, two draws of the coast road"

[[axis]]
name = "demand"
op = "scale_demand"
param = "factor"
values = [1.0, 2.0]
regions = ["sea", "river"]

[[axis]]
name = "budget"
op = "set_budget"
param = "budget"
values = [500000, 1500000]

[[axis]]
name = "north_depot"
levels = { open = [], flooded = [{op = "close_facility", facility = "W_north"}] }

[sample]
runs = 2
seed = 3

[[random]]
name = "road"
op = "cut_link"
param = "speed_factor"
distribution = "uniform"
low = 0.0
high = 1.0
from = "north"
to = "sea"
scenarios = ["typhoon"]
"""


@pytest.fixture(scope="module")
def toy():
    return load_instance(TOY)


@pytest.fixture
def grid_file(tmp_path: Path) -> Path:
    path = tmp_path / "toy_grid.toml"
    path.write_text(GRID, encoding="utf-8")
    return path


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns=TIMING).reset_index(drop=True),
                                  b.drop(columns=TIMING).reset_index(drop=True))


def test_grid_expands_to_the_product_of_axes_times_replicates(grid_file: Path, toy) -> None:
    spec = read_sweep(grid_file)
    runs = spec.runs()
    assert spec.size == len(runs) == 2 * 2 * 2 * 2
    assert [dict(r.params) for r in runs[:3]] == [
        {"demand": 1.0, "budget": 500000, "north_depot": "open", "replicate": 0,
         "road": runs[0].params["road"]},
        {"demand": 1.0, "budget": 500000, "north_depot": "open", "replicate": 1,
         "road": runs[1].params["road"]},
        {"demand": 1.0, "budget": 500000, "north_depot": "flooded", "replicate": 0,
         "road": runs[0].params["road"]},
    ]
    # common random numbers: replicate r draws the same value at every grid point
    assert {r.params["road"] for r in runs if r.params["replicate"] == 0} == {
        runs[0].params["road"]}
    assert runs[0].params["road"] != runs[1].params["road"]
    last = runs[-1].variant.apply(toy)
    assert "W_north" not in last.facility_index and last.settings.budget == 1500000
    assert last.demand("typhoon")[("sea", "water")] == 24000
    assert [o.speed_factor for o in last.scenario("typhoon").outages][-1] == pytest.approx(
        runs[-1].params["road"])


def test_monte_carlo_draws_are_seeded_and_stable_as_the_sample_grows() -> None:
    def draws(runs: int, seed: int) -> list[float]:
        spec = sweep_from_dict({
            "description": "x", "sample": {"runs": runs, "seed": seed},
            "random": [{"name": "d", "op": "scale_demand", "param": "factor",
                        "distribution": "lognormal", "mean": 0.0, "sigma": 0.5,
                        "clip": [0.5, 1.5]},
                       {"name": "road", "op": "cut_link", "param": "speed_factor",
                        "distribution": "choice", "values": [0, 0.5, 1],
                        "weights": [1, 1, 2], "from": "north", "to": "sea"}]}, "mc.toml")
        return [(r.params["d"], r.params["road"]) for r in spec.runs()]

    assert draws(20, 1) == draws(20, 1)
    assert draws(40, 1)[:20] == draws(20, 1)
    assert draws(20, 1) != draws(20, 2)
    assert all(0.5 <= d <= 1.5 and road in (0.0, 0.5, 1.0) for d, road in draws(40, 1))


def test_bad_sweep_files_report_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("""
description = "bad"
[options]
solverr = "highs"
[[axis]]
name = "d"
op = "scale_demand"
param = "factr"
values = [1, 2]
[[random]]
name = "r"
op = "cut_link"
param = "speed_factor"
distribution = "beta"
""", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_sweep(bad)
    assert err.value.problems == (
        f"{bad}: option 'solverr' is not known; options are cvar_level, mip_gap, model, "
        f"periods, response_time, risk_weight, scenario, seed, service_level, sharing, "
        f"solver, threads, time_limit_s",
        f"{bad}: axis 1 ('d'): param 'factr' is not a parameter of scale_demand; use one of "
        f"factor, regions, alliances, commodities, scenarios",
        f"{bad}: random 1 ('r'): distribution 'beta' is not known; use one of uniform, "
        f"normal, lognormal, triangular, choice",
    )


def test_runs_are_checked_against_the_base_before_any_solve(toy, tmp_path: Path) -> None:
    spec = sweep_from_dict({"description": "x", "axis": [
        {"name": "gone", "levels": {"a": [{"op": "close_facility", "facility": "W_south"}]}}]},
        "g.toml")
    with pytest.raises(InputError) as err:
        run_sweep(toy, spec, tmp_path / "out", serial=True)
    assert err.value.problems == (
        "g.toml run 1: change 1 (close_facility): facility 'W_south' is not in the instance; "
        "did you mean 'W_north'?",)
    assert not (tmp_path / "out").exists()


def test_interrupted_sweep_resumes_without_redoing_runs_and_dask_equals_serial(
        toy, grid_file: Path, tmp_path: Path) -> None:
    spec = read_sweep(grid_file)
    out = tmp_path / "out"
    first = run_sweep(toy, spec, out, serial=True, max_runs=5)
    assert (first.ran, first.reused, first.left) == (5, 0, 11)
    parts = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in (out / PARTS).iterdir()}
    assert len(parts) == 5 and len(pd.read_parquet(out / RESULTS)) == 5
    time.sleep(0.05)
    second = run_sweep(toy, spec, out, workers=2)
    assert (second.ran, second.reused, second.left) == (11, 5, 0)
    for name, (mtime, data) in parts.items():  # finished runs were not written again
        p = out / PARTS / name
        assert (p.stat().st_mtime_ns, p.read_bytes()) == (mtime, data)
    third = run_sweep(toy, spec, out, serial=True)
    assert (third.ran, third.reused) == (0, 16)
    serial = run_sweep(toy, spec, tmp_path / "serial", serial=True)
    table = pd.read_parquet(out / RESULTS)
    assert list(table["run"]) == list(range(16)) and set(table["status"]) == {"optimal"}
    _same(table, serial.results)
    # the flooded depot can only cost more, and doubling coastal demand too
    flooded = table[table["north_depot"] == "flooded"]["objective"].to_numpy()
    open_ = table[table["north_depot"] == "open"]["objective"].to_numpy()
    assert (flooded >= open_ - 1e-6).all()


def test_sweep_cli_on_an_existing_scheduler_matches_serial(toy, grid_file: Path,
                                                           tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        result = run_cli("sweep", str(TOY), "--grid", str(grid_file), "--out",
                         str(tmp_path / "remote"), "--scheduler", cluster.scheduler_address,
                         "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"ran": 16' in result.stdout and '"optimal": 16' in result.stdout
    serial = run_cli("sweep", str(TOY), "--grid", str(grid_file), "--out",
                     str(tmp_path / "serial"), "--serial")
    assert serial.exit_code == 0, serial.output
    assert "16 runs: 16 run now (16 solves; runs with the same changes share one), 0 already " \
        "done, 0 left" in serial.stdout
    _same(pd.read_parquet(tmp_path / "remote" / RESULTS),
          pd.read_parquet(tmp_path / "serial" / RESULTS))


def test_a_killed_sweep_resumes_from_its_finished_parts(tmp_path: Path) -> None:
    grid = tmp_path / "liaoning.toml"
    grid.write_text("""
description = "Liaoning: coastal demand from 1 to 2.1"
[[axis]]
name = "coastal_demand"
op = "scale_demand"
param = "factor"
values = [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.1]
alliances = ["coastal"]
""", encoding="utf-8")
    out = tmp_path / "out"
    exe = Path(sys.executable).with_name("reserve-opt")
    proc = subprocess.Popen([str(exe), "sweep", str(LIAONING), "--grid", str(grid),
                             "--out", str(out), "--serial"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parts = out / PARTS
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if parts.is_dir() and len([p for p in parts.iterdir() if p.suffix == ".parquet"]) >= 2:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {p.name: p.stat().st_mtime_ns for p in parts.iterdir() if p.suffix == ".parquet"}
    assert 2 <= len(done) < 12
    # a killed writer leaves no half-written part: every part present reads back
    for name in done:
        assert len(pd.read_parquet(parts / name)) == 1
    again = run_cli("sweep", str(LIAONING), "--grid", str(grid), "--out", str(out),
                    "--serial", "--format", "json")
    assert again.exit_code == 0, again.output
    assert f'"reused": {len(done)}' in again.stdout
    assert f'"ran": {12 - len(done)}' in again.stdout
    for name, mtime in done.items():
        assert (parts / name).stat().st_mtime_ns == mtime
    table = pd.read_parquet(out / RESULTS)
    assert list(table["coastal_demand"]) == pytest.approx(
        [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.1])
    assert table["objective"].is_monotonic_increasing


def test_bundled_sweep_files_expand_and_apply_to_liaoning() -> None:
    from reserve_opt.variants.sweep import check_runs

    base = load_instance(LIAONING)
    sizes = {}
    for path in sorted((LIAONING / "variants" / "sweeps").iterdir()):
        spec = read_sweep(path)
        check_runs(base, spec.runs())
        sizes[path.name] = spec.size
    assert sizes == {"demand_budget_depot.toml": 60, "monte_carlo.yaml": 200}


def test_sweep_options_are_checked_with_the_file_name() -> None:
    axis = [{"name": "a", "op": "set_budget", "param": "budget", "values": [1e6]}]
    with pytest.raises(InputError) as err:
        sweep_from_dict({"description": "x", "axis": axis,
                         "options": {"time_limit_s": "long", "threads": True}}, "s.toml")
    assert err.value.problems == ("s.toml: option time_limit_s = 'long' must be int or float",
                                  "s.toml: option threads = True must be int")
    with pytest.raises(InputError) as err:
        sweep_from_dict({"description": "x", "axis": axis, "options": {"model": "allocate"}},
                        "s.toml")
    assert err.value.problems == (
        's.toml: model allocate needs the event: add --scenario ID (in a sweep file, '
        'scenario = "ID" under [options])',)


def test_an_allocate_sweep_runs_each_variant_on_one_event(toy, tmp_path: Path) -> None:
    spec = sweep_from_dict({
        "description": "typhoon allocation as Seaside's demand grows",
        "options": {"model": "allocate", "scenario": "typhoon"},
        "axis": [{"name": "sea_demand", "op": "scale_demand", "param": "factor",
                  "values": [1.0, 3.0], "regions": ["sea"]}]}, "alloc.toml")
    report = run_sweep(toy, spec, tmp_path / "alloc", serial=True)
    table = report.results
    assert list(table["status"]) == ["optimal", "optimal"]
    assert {"cost_transport", "cost_contract_prices", "cost_compensation_transfer"} <= set(
        table.columns)
    short = list(table["expected_shortage_units_water"])
    assert short[0] == pytest.approx(0.0, abs=1e-6) and short[1] > 0


def test_runs_with_the_same_draws_share_one_solve(toy, tmp_path: Path) -> None:
    spec = sweep_from_dict({
        "description": "x", "sample": {"runs": 8, "seed": 5},
        "random": [{"name": "road", "op": "cut_link", "param": "speed_factor",
                    "distribution": "choice", "values": [0.0, 1.0], "from": "north",
                    "to": "sea"}]}, "same.toml")
    report = run_sweep(toy, spec, tmp_path / "same", serial=True)
    drawn = set(report.results["road"])
    assert drawn == {0.0, 1.0}
    assert (report.ran, report.solves) == (8, 2)
    assert len(list((tmp_path / "same" / PARTS).iterdir())) == 2
    for value in drawn:
        assert report.results[report.results["road"] == value]["objective"].nunique() == 1
