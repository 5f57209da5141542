"""reserve-opt compare: what changed between two plans, or two allocations of one event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "toy"
FLOODED = TOY / "variants" / "north_depot_flooded.toml"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Plans and typhoon allocations of the toy and of the toy with its north depot flooded."""
    d = tmp_path_factory.mktemp("compare")
    assert run_cli("variant", "apply", str(TOY), "--variant", str(FLOODED), "--out",
                   str(d / "flooded")).exit_code == 0
    for name, inst in (("base", TOY), ("flooded", d / "flooded")):
        for args in (["plan", str(inst)], ["allocate", str(inst), "-s", "typhoon"]):
            out = d / f"{args[0]}_{name}"
            result = run_cli(*args, "--out", str(out))
            assert result.exit_code == 0, result.stderr
    return d


def test_two_plans_compare_in_the_planners_terms(runs: Path) -> None:
    result = run_cli("compare", str(runs / "plan_base"), str(runs / "plan_flooded"), "--json")
    assert result.exit_code == 0, result.stderr
    r = json.loads(result.stdout)
    assert r["kind"] == "plan" and r["currency"] == "CNY"
    assert [c["term"] for c in r["costs"]][-3:] == [
        "money spent", "expected shortage penalty", "(transfer) expected compensation"]
    penalty = next(c for c in r["costs"] if c["term"] == "expected shortage penalty")
    assert penalty["a"] == 0 and penalty["b"] > 0
    moved = {(s["facility"], s["commodity"]): s["change"] for s in r["stock"]}
    assert moved == {("W_north", "water"): -20000.0, ("W_north", "tent"): -800.0}
    appearing = {(s["region"], s["commodity"]) for s in r["shortages"]["appearing"]}
    assert ("sea", "water") in appearing and r["shortages"]["disappearing"] == []
    tent = next(c for c in r["fill_by_commodity"] if c["commodity"] == "tent")
    assert (tent["a"], tent["b"]) == (1.0, 0.0)


def test_reversed_shortages_disappear(runs: Path) -> None:
    result = run_cli("compare", str(runs / "plan_flooded"), str(runs / "plan_base"), "--json")
    r = json.loads(result.stdout)
    assert r["shortages"]["appearing"] == []
    assert {(s["region"], s["commodity"]) for s in r["shortages"]["disappearing"]} >= {
        ("sea", "water")}


def test_two_allocations_and_the_table_fits_80_columns(runs: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli("compare", str(runs / "allocate_base"), str(runs / "allocate_flooded"))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("allocation of typhoon: A = ")
    assert max(len(line) for line in lines) <= 80
    text = result.stdout
    for title in ("Costs (CNY)", "Shipped from each source (units)", "Fill rate by commodity",
                  "Fill rates that changed (regions)", "Shortages in B, not in A",
                  "Shortages in A, gone in B: none."):
        assert title in text
    assert "-100.0 pp" in text


@pytest.mark.parametrize("first, second, message", [
    ("allocate_base", "plan_base", "{a} holds an allocation and {b} a plan; compare two plans "
     "or two allocations"),
    ("plan_base", "missing", "{b}: does not exist; give two folders written by 'reserve-opt "
     "plan --out' or two by 'allocate --out'"),
    ("plan_base", "flooded", "{b}: holds an instance folder reserve-opt wrote, not a plan or an "
     "allocation; give two folders written by 'reserve-opt plan --out' or two by 'allocate "
     "--out'"),
])
def test_mismatched_or_non_result_folders_are_one_line(runs: Path, first: str, second: str,
                                                       message: str) -> None:
    a, b = runs / first, runs / second
    result = run_cli("compare", str(a), str(b))
    assert result.exit_code == 1
    assert result.stderr == f"error: {message.format(a=a, b=b)}\n"


def test_a_folder_not_written_by_reserve_opt(runs: Path, tmp_path: Path) -> None:
    result = run_cli("compare", str(runs / "plan_base"), str(tmp_path))
    assert result.stderr == (f"error: {tmp_path}: was not written by reserve-opt (no "
                             ".reserve-opt file in it); give two folders written by "
                             "'reserve-opt plan --out' or two by 'allocate --out'\n")
