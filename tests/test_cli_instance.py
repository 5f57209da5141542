"""The instance commands, through Typer's runner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from reserve_opt import __version__
from tests.cli_runner import run_cli


def test_validate_toy_exits_zero(toy_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # the line whole, as a wide terminal shows it
    result = run_cli("validate", str(toy_path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        f"{toy_path}: valid (4 regions, 2 commodities, 5 facilities, 1 agreements, "
        f"3 scenarios)"
    )


def test_info_json_lists_every_entity_with_its_id(toy_path: Path) -> None:
    result = run_cli("info", str(toy_path), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [r["id"] for r in data["regions"]] == ["north", "river", "hill", "sea"]
    assert [c["id"] for c in data["commodities"]] == ["water", "tent"]
    assert [f["id"] for f in data["facilities"]] == ["W_north", "W_sea", "S_river", "P_hill",
                                                     "D_sea"]
    assert [a["id"] for a in data["agreements"]] == ["A_north_sea"]
    assert [s["id"] for s in data["scenarios"]] == ["typhoon", "flood", "snow"]
    assert data["units"]["commodities"]["purchase_cost"] == "CNY/unit"
    assert data["counts"]["total_population_persons"] == 460000


def test_info_table_is_readable(toy_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # wide enough for every header on one line
    result = run_cli("info", str(toy_path))
    assert result.exit_code == 0, result.output
    for text in ("Regions", "population (persons)", "purchase (CNY/unit)", "A_north_sea",
                 "north <-> sea", "water 18,000, tent 400"):
        assert text in result.stdout


def test_schema_is_a_valid_json_schema() -> None:
    result = run_cli("schema")
    assert result.exit_code == 0
    jsonschema.Draft202012Validator.check_schema(json.loads(result.stdout))


def test_version() -> None:
    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"reserve-opt {__version__}"


@pytest.mark.parametrize("command", [[], ["validate"], ["info"], ["schema"]])
def test_help_everywhere(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    plain = run_cli("validate", str(tmp_path / "nothing"))
    assert plain.exit_code == 1 and "Traceback" not in plain.output
    debug = run_cli("--debug", "validate", str(tmp_path / "nothing"))
    assert debug.exit_code == 1
    assert debug.exception is not None and type(debug.exception).__name__ == "InputError"


def test_importing_the_library_imports_no_cli() -> None:
    code = ("import sys, reserve_opt, reserve_opt.io, reserve_opt.validation;"
            "print(any(m == 'typer' or m.startswith(('typer.', 'reserve_opt.cli'))"
            " for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_console_script_runs_and_fails_cleanly(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("reserve-opt")
    out = subprocess.run([str(exe), "validate", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr == (f"error: {tmp_path}: no instance.toml or instance.yaml found; an "
                          f"instance folder needs a manifest (see instances/toy/instance.toml)\n")
