"""Pooled sharing in allocation: a plan made pooled is allocated under the rules it was made by.

Rawls-Turnquist has no agreements, so placement plans pooled (a central planner moves any
stock anywhere). Allocation follows the same ``auto`` rule; before, it served own stock,
agreements and parents only, and the plan that promised 100% / 27% / 21% for Katrina
(water / food / kits) got 4.4% / 0% / 4.4%.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from reserve_opt.errors import InputError
from reserve_opt.io import load_instance
from reserve_opt.models.allocation import AllocationOptions, check_allocation, solve_allocation
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
RT = ROOT / "instances" / "rawls-turnquist"
TOY = ROOT / "instances" / "toy"
KATRINA = "s13"


def test_rawls_turnquist_plan_allocated_for_katrina_fills_as_the_plan_expected(
        tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    r = run_cli("plan", str(RT), "--gap", "0.01", "--out", str(plan))
    assert r.exit_code == 0, r.output
    short = pd.read_csv(plan / "shortages.csv", encoding="utf-8-sig")
    k = short[short["scenario"] == KATRINA].groupby("commodity")[["demand", "shortage"]].sum()
    expected = {c: 1.0 - row["shortage"] / row["demand"] for c, row in k.iterrows()}
    assert expected["water"] == pytest.approx(1.0)
    assert 0.2 < expected["food"] < 0.35 and 0.15 < expected["medical_kits"] < 0.3

    r = run_cli("allocate", str(RT), "-s", KATRINA, "--plan", str(plan), "--format", "json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got["sharing"] == "pooled"
    assert got["fill_rate_by_commodity"] == pytest.approx(expected, abs=1e-6)
    pooled = [f for f in got["flows"] if f["agreement"] == "(pooled)"]
    assert pooled and all(f["tier"] == 4 and f["compensation"] == 0 for f in pooled)

    # under agreements alone (there are none) only own stock serves: far less
    r = run_cli("allocate", str(RT), "-s", KATRINA, "--plan", str(plan), "--sharing",
                "agreements", "--format", "json")
    alone = json.loads(r.stdout)["fill_rate_by_commodity"]
    assert alone["food"] < expected["food"] - 0.1


def test_pooled_allocation_passes_the_checker_and_draws_own_stock_first() -> None:
    toy = load_instance(TOY)
    res = solve_allocation(toy, "typhoon", AllocationOptions(sharing="pooled"))
    assert res.sharing == "pooled"
    assert check_allocation(toy, "typhoon", res).ok
    assert [lv.name for lv in res.levels] == ["shortage_p1", "shortage_p2", "pooled", "cost"]
    f = res.flows
    # other regions' stock moves with no agreement and no compensation
    assert set(f["agreement"]) <= {"", "(pooled)"}
    assert float(f["compensation"].sum()) == 0.0
    assert res.settlement[res.settlement["kind"] == "agreement"].empty
    agreed = solve_allocation(toy, "typhoon", AllocationOptions())
    assert agreed.sharing == "agreements" and "(pooled)" not in set(agreed.flows["agreement"])
    with pytest.raises(InputError, match=re.escape("sharing='shared': choose 'auto', 'pooled' or "
                                                         "'agreements'.")):
        AllocationOptions(sharing="shared")  # type: ignore[arg-type]
