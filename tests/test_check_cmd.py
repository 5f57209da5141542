"""``reserve-opt check``: the independent checkers on result files, and plans not trusted blindly.

A plan or an allocation written by the CLI passes; one edited by hand (stock at an unopened
candidate, a bound above the objective, a flow grown), one made for another instance, or a
folder of another command is caught, each with the message the user sees.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reserve_opt.io import load_instance
from reserve_opt.models.result_check import check_result
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "toy"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("check")
    plan, alloc = base / "plan", base / "alloc"
    assert run_cli("plan", str(TOY), "--out", str(plan)).exit_code == 0
    assert run_cli("allocate", str(TOY), "-s", "typhoon", "--out", str(alloc)).exit_code == 0
    return {"plan": plan, "alloc": alloc}


def _edited(src: Path, dest: Path, edit: object) -> Path:
    shutil.copytree(src, dest)
    doc = json.loads((dest / "solution.json").read_text(encoding="utf-8"))
    edit(doc)  # type: ignore[operator]
    (dest / "solution.json").write_text(json.dumps(doc), encoding="utf-8")
    return dest


def test_untouched_plan_and_allocation_pass(outputs: dict[str, Path]) -> None:
    r = run_cli("check", str(TOY), str(outputs["plan"]))
    assert r.exit_code == 0, r.output
    assert r.stdout == (f"{outputs['plan']}: the plan (optimal) passes the independent checker "
                        "against instance toy.\n")
    r = run_cli("check", str(TOY), str(outputs["alloc"] / "solution.json"))
    assert r.exit_code == 0, r.output
    assert "the allocation (optimal) passes the independent checker" in r.stdout
    r = run_cli("check", str(TOY), str(outputs["plan"]), "--format", "json")
    doc = json.loads(r.stdout)
    assert doc["kind"] == "plan" and doc["ok"] is True and doc["violations"] == []
    assert doc["costs"]["retainer"] == pytest.approx(5000.0)


def test_stock_at_unopened_candidate_is_caught_and_refused_by_allocate(
        outputs: dict[str, Path], tmp_path: Path) -> None:
    def add(doc: dict) -> None:  # type: ignore[type-arg]
        doc["stock"].append({"facility": "W_sea", "commodity": "water", "existing": 0.0,
                             "added": 1_000_000.0, "total": 1_000_000.0})

    bad = _edited(outputs["plan"], tmp_path / "p", add)
    r = run_cli("check", str(TOY), str(bad))
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    assert lines[0] == (f"{bad}: the plan (optimal) fails the independent checker against "
                        "instance toy: 8 problems.")
    assert "- W_sea holds stock but is not opened." in lines
    assert ("- New first-stage spending 2,000,000.00 exceeds the budget 1,500,000.00."
            in lines)
    r = run_cli("allocate", str(TOY), "-s", "typhoon", "--plan", str(bad))
    assert r.exit_code == 1
    assert r.stderr == (f"error: {bad / 'solution.json'}: fails the independent plan checker: "
                        "W_sea holds 2000.000 m3 but has 0.000 m3 (and 7 more problems); was "
                        "it edited, or made for another instance? 'reserve-opt check INSTANCE "
                        "PLAN' lists every problem.\n")


def test_bound_above_objective_with_gap_zero_is_caught(outputs: dict[str, Path],
                                                       tmp_path: Path) -> None:
    def lie(doc: dict) -> None:  # type: ignore[type-arg]
        doc["bound"] = doc["objective"] * 1.01
        doc["gap"] = 0.0

    bad = _edited(outputs["plan"], tmp_path / "p", lie)
    report = check_result(load_instance(TOY), bad)
    assert not report.ok and report.kind == "plan"
    assert any(v.startswith("Bound 97,543.954010 is above the objective 96,578.172287")
               for v in report.violations)
    assert any(v.startswith("Gap 0 does not match objective") for v in report.violations)


def test_stock_only_plan_needs_an_opened_candidate_with_room(tmp_path: Path) -> None:
    plan = tmp_path / "mine.json"
    plan.write_text(json.dumps({"stock": [
        {"facility": "W_sea", "commodity": "water", "total": 1_000_000.0}]}), encoding="utf-8")
    r = run_cli("allocate", str(TOY), "-s", "typhoon", "--plan", str(plan))
    assert r.exit_code == 1
    assert r.stderr == (f"error: {plan}: stocks candidate warehouse W_sea, which the plan does "
                        "not open; list it under 'opened' with a size, or move its stock to "
                        "an open warehouse.\n")
    plan.write_text(json.dumps({"opened": [{"facility": "W_sea", "size": "small"}], "stock": [
        {"facility": "W_sea", "commodity": "water", "total": 1_000_000.0}]}), encoding="utf-8")
    r = run_cli("allocate", str(TOY), "-s", "typhoon", "--plan", str(plan))
    assert r.stderr == (f"error: {plan}: stocks 2,000.0 m3 at W_sea, which has room for "
                        "500.0 m3; hold less there.\n")
    plan.write_text(json.dumps({"opened": [{"facility": "W_sea", "size": "small"}], "stock": [
        {"facility": "W_sea", "commodity": "water", "total": 200_000.0}]}), encoding="utf-8")
    assert run_cli("allocate", str(TOY), "-s", "typhoon", "--plan", str(plan)).exit_code == 0


def test_grown_flow_in_an_allocation_is_caught(outputs: dict[str, Path],
                                                tmp_path: Path) -> None:
    def grow(doc: dict) -> None:  # type: ignore[type-arg]
        doc["flows"][0]["quantity"] *= 3

    bad = _edited(outputs["alloc"], tmp_path / "a", grow)
    r = run_cli("check", str(TOY), str(bad))
    assert r.exit_code == 1
    assert "the allocation (optimal) fails the independent checker" in r.stdout
    # the flow's own costs no longer match its tripled quantity, nor do the totals
    assert "- cost transport: reported 4472.53, recomputed 6839.16." in r.stdout.splitlines()


def test_result_of_another_instance_or_command(outputs: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(TOY, other)
    for name in ("facilities.csv",):
        text = (other / name).read_text(encoding="utf-8").replace("W_north", "W_nord")
        (other / name).write_text(text, encoding="utf-8")
    for name in ("stock.csv", "fleet.csv"):
        if (other / name).exists():
            text = (other / name).read_text(encoding="utf-8").replace("W_north", "W_nord")
            (other / name).write_text(text, encoding="utf-8")
    r = run_cli("check", str(other), str(outputs["plan"]))
    assert r.exit_code == 1
    assert ("- The plan names facility 'W_north', which instance 'toy' does not have: it was "
            "made for another instance.") in r.stdout
    r = run_cli("check", str(other), str(outputs["alloc"]))
    assert r.exit_code == 1
    assert "The allocation names facility 'W_north'" in r.stdout
    routes = tmp_path / "routes"
    assert run_cli("route", str(TOY), "-s", "typhoon", "--out", str(routes),
                   "--max-iterations", "50").exit_code == 0
    r = run_cli("check", str(TOY), str(routes))
    assert r.exit_code == 1
    assert r.stderr == (f"error: {routes}: holds the output of reserve-opt route; check takes "
                        "the output of 'reserve-opt plan --out' or 'reserve-opt allocate "
                        "--out'.\n")
