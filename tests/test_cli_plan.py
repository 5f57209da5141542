"""``reserve-opt plan`` through Typer's runner: JSON keys, output files, clean failures."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import run_cli


def test_plan_json_has_the_documented_keys(toy_path: Path) -> None:
    result = run_cli("plan", str(toy_path), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("status", "objective", "bound", "gap", "solve_seconds", "costs"):
        assert key in data
    assert data["status"] == "optimal"
    costs = data["costs"]
    parts = ("fixed", "purchase", "retainer", "transport", "unit_prices", "holding", "shortage")
    assert abs(sum(costs[p] for p in parts) - data["objective"]) <= 1e-6 * data["objective"]


def test_plan_writes_tables_geopackage_and_json(toy_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan"
    result = run_cli("plan", str(toy_path), "--out", str(out))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert {"stock.csv", "opened.csv", "costs.csv", "plan.gpkg", "solution.json"} <= set(names)
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]
    assert "objective" in result.stdout and "Costs (CNY)" in result.stdout


def test_plan_refuses_a_bad_option_in_one_line(toy_path: Path) -> None:
    result = run_cli("plan", str(toy_path), "--sharing", "everyone")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert len(result.stderr.splitlines()) == 1 and "sharing='everyone'" in result.stderr


NO_PLAN_LINE = ("no plan: no solution found within the time limit (none is proven not to "
                "exist); give it more seconds with --time-limit.")


def test_a_tiny_time_limit_never_reads_infeasible(toy_path: Path) -> None:
    # The toy's optimum is 96,578 CNY; pulp-cbc at 0.001 s said "infeasible" and explained
    # "why no plan exists" in 2 of 10 runs. Now: a plan, or no plan within the time limit.
    for _ in range(5):
        result = run_cli("plan", str(toy_path), "--solver", "pulp-cbc", "--time-limit", "0.001")
        assert "infeasible" not in result.stdout and "why no plan" not in result.stdout
        if result.exit_code == 1:
            assert result.stdout.startswith("toy: no_solution in ")
            assert NO_PLAN_LINE in " ".join(result.stdout.split())  # wrapped to the width
        else:
            assert result.exit_code == 0 and "Costs (CNY)" in result.stdout
