"""Every JSON the tool writes is strict JSON: no NaN or Infinity, null with a reason instead."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reserve_opt import load_instance
from reserve_opt.io.jsontext import dumps, finite
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "toy"
LIAONING = ROOT / "instances" / "liaoning"


def strict(text: str) -> Any:
    """Parse as a strict JSON parser does: NaN, Infinity and -Infinity are errors."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def notes(data: Any) -> dict[str, str]:
    """Every ``<key>_note`` anywhere in ``data``."""
    found: dict[str, str] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            if k.endswith("_note"):
                found[k] = v
            found.update(notes(v))
    elif isinstance(data, list):
        for v in data:
            found.update(notes(v))
    return found


def test_non_finite_numbers_become_null_with_a_reason() -> None:
    data = {"bound": -math.inf, "gap": math.inf, "objective": None, "ratio": np.float64("nan"),
            "by_day": [1.0, math.inf], "rows": [{"first_h": math.inf, "x": 1}], "value": None}
    assert finite(data) == {
        "bound": None, "bound_note": "no finite bound: the solver proved none (see status)",
        "gap": None, "gap_note": "no gap: it needs an objective and a finite bound",
        "objective": None,
        "objective_note": "no objective: the solve ended without a solution (see status)",
        "ratio": None, "ratio_note": "not a finite number (NaN), which JSON cannot hold",
        "by_day": [1.0, None],
        "by_day_note": "entries that are not finite numbers are given as null",
        "rows": [{"first_h": None,
                  "first_h_note": "not a finite number (infinity), which JSON cannot hold",
                  "x": 1}],
        "value": None}
    assert strict(dumps(data)) == finite(data)
    # a note the data already has is kept
    assert finite({"gap": None, "gap_note": "levels unsolved"}) == {
        "gap": None, "gap_note": "levels unsolved"}


def test_a_plan_without_a_bound_writes_strict_json(capsys: pytest.CaptureFixture[str]) -> None:
    # HiGHS stopped after 1 ns has proven no bound: the library holds -inf, JSON holds null.
    from reserve_opt.cli.render import echo_json
    from reserve_opt.models.placement import PlacementOptions, solve_placement
    from reserve_opt.solvers import SolverOptions, SolveStatus

    res = solve_placement(load_instance(TOY), PlacementOptions(primal_heuristic=False), "highs",
                          SolverOptions(time_limit_s=1e-9))
    assert res.status is SolveStatus.NO_SOLUTION and res.bound == -math.inf
    echo_json(res.to_dict())
    data = strict(capsys.readouterr().out)
    assert data["bound"] is None
    assert data["bound_note"] == "no finite bound: the solver proved none (see status)"


# One run of every command with --format json; at 1e-9 s Liaoning's solves end without a
# bound (on any machine we know of: nothing is solved in a nanosecond).
COMMANDS = {
    "info": ["info", str(TOY)],
    "plan": ["plan", str(LIAONING), "--time-limit", "1e-9"],
    "site": ["site", "p-median", str(LIAONING), "-p", "3", "--time-limit", "1e-9"],
    "allocate": ["allocate", str(LIAONING), "-s", "typhoon_east", "--time-limit", "1e-9"],
    "whatif": ["whatif", str(LIAONING), "--variant",
               str(LIAONING / "variants" / "dandong_depot_flooded.toml"), "--time-limit", "1e-9"],
    "route": ["route", str(TOY), "-s", "typhoon", "--max-iterations", "2000"],
    "analyze": ["analyze", str(TOY), "--no-knockout"],
    "review": ["review", str(LIAONING), str(LIAONING / "actuals" / "typhoon_east_2026"),
               "--time-limit", "1e-9"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_writes_strict_json(command: str, tmp_path: Path) -> None:
    out = [] if command == "info" else ["--out", str(tmp_path / "out")]
    result = run_cli(*COMMANDS[command], "--format", "json", *out)
    assert result.exit_code in (0, 1), result.output
    data = strict(result.stdout)
    for key in ("objective", "bound", "gap"):
        if key in data and data[key] is None:
            assert f"{key}_note" in data, (command, key)
    for path in sorted((tmp_path / "out").rglob("*.json")):
        strict(path.read_text(encoding="utf-8"))


def test_schema_and_sweep_write_strict_json(tmp_path: Path) -> None:
    strict(run_cli("schema").stdout)
    grid = tmp_path / "g.toml"
    grid.write_text('description = "toy demand x1, x2"\n[[axis]]\nname = "demand"\n'
                    'op = "scale_demand"\nparam = "factor"\nvalues = [1.0, 2.0]\n',
                    encoding="utf-8")
    result = run_cli("sweep", str(TOY), "--grid", str(grid), "--serial", "--out",
                     str(tmp_path / "sw"), "--format", "json")
    assert result.exit_code == 0, result.output
    assert strict(result.stdout)["runs"] == 2
    strict((tmp_path / "sw" / "sweep.json").read_text(encoding="utf-8"))


def test_no_bound_reads_n_a_for_people() -> None:
    result = run_cli("plan", str(LIAONING), "--time-limit", "1e-9")
    if result.exit_code == 1:  # no plan in a nanosecond: no bound either
        assert "objective n/a, bound n/a, gap n/a" in result.stdout.splitlines()
    assert "inf" not in result.stdout
