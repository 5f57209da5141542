"""``plan`` says why each expected shortage happens and whether the budget binds.

The budget's worth is the dual of the budget row with the plan's integer decisions fixed; it
is checked here against two independent re-solves with a little more budget. A shortage no
constraint forces is explained by cost: one more unit costs more than the expected penalty.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from reserve_opt.io import load_instance
from reserve_opt.models.placement import PlacementOptions, solve_placement
from reserve_opt.variants import read_variant
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "toy"


def _variant(tmp_path: Path, body: str) -> Path:
    v = tmp_path / "v.toml"
    v.write_text('description = "test"\n' + body, encoding="utf-8")
    return v


def test_a_binding_budget_is_priced_as_a_re_solve_with_more_budget_says(tmp_path: Path) -> None:
    v = _variant(tmp_path, '[[change]]\nop = "set_budget"\nbudget = 100000\n'
                           '[[change]]\nop = "scale_demand"\nfactor = 4\n')
    inst = read_variant(v).apply(load_instance(TOY))
    plan = solve_placement(inst)
    b = plan.budget_use
    assert b is not None and b.binding and b.spent == pytest.approx(100_000.0)
    more = solve_placement(dataclasses.replace(
        inst, settings=dataclasses.replace(inst.settings, budget=101_000.0)))
    assert plan.objective is not None and more.objective is not None
    assert (plan.objective - more.objective) / 1_000.0 == pytest.approx(b.worth, rel=1e-6)
    assert {(r.region, r.commodity, r.reason) for r in plan.reasons} == {
        ("sea", "water", "binding"), ("sea", "tent", "binding")}
    assert all(r.detail == "the budget is spent (100,000 of 100,000 CNY)" for r in plan.reasons)

    out = tmp_path / "plan"
    patched = tmp_path / "inst"
    assert run_cli("variant", "apply", str(TOY), "-v", str(v), "--out", str(patched)
                   ).exit_code == 0
    r = run_cli("plan", str(patched), "--out", str(out))
    assert r.exit_code == 0, r.output
    text = " ".join(r.stdout.split())
    assert (f"budget 100,000 CNY: 100,000 spent on new warehouses, stock and contracts; it "
            f"binds: one more CNY of budget lowers the expected cost by {b.worth:,.2f} CNY"
            ) in text
    assert "Why expected shortages happen" in text
    # the reasons travel in solution.json and the plan still passes its checker
    assert run_cli("check", str(patched), str(out)).exit_code == 0
    assert (out / "reasons.csv").is_file()


def test_a_shortage_that_does_not_pay_to_avoid_is_explained_by_cost(tmp_path: Path) -> None:
    v = _variant(tmp_path, '[[change]]\nop = "change_commodity"\ncommodity = "water"\n'
                           'shortage_penalty = 3\n[[change]]\nop = "scale_demand"\n'
                           'factor = 4\ncommodities = ["water"]\n')
    plan = solve_placement(read_variant(v).apply(load_instance(TOY)))
    water = [r for r in plan.reasons if r.commodity == "water"]
    assert water and all(r.reason == "cost" for r in water)
    short = plan.tables()["shortages"]
    for r in water:
        rows = short[(short["region"] == r.region) & (short["commodity"] == "water")
                     & (short["shortage"] > 1e-6)]
        p_short = sum(dict(plan.scenario_probabilities)[s] for s in rows["scenario"])
        assert r.worth == pytest.approx(3.0 * p_short)
        assert r.detail == (f"one more unit costs 2.00 CNY to buy and 0.50 CNY a scenario to "
                            "hold unused, more than the expected penalty it would avoid: 3.00 "
                            f"CNY/unit x probability {p_short:.3g} of the scenarios short = "
                            f"{3.0 * p_short:,.2f} CNY/unit")
    no = solve_placement(load_instance(TOY), PlacementOptions(explain_shortages=False))
    assert no.reasons == () and no.budget_use is None
