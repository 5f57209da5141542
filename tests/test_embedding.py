"""Embedding: every model's result gives its tables the same way, and a plan object feeds
the allocation and routing directly, without touching disk."""

from __future__ import annotations

import pydoc
from pathlib import Path

import pandas as pd
import pytest

from reserve_opt import load_instance
from reserve_opt.errors import InputError
from reserve_opt.io.jsontext import dumps
from reserve_opt.models.allocation import check_allocation, read_plan, solve_allocation
from reserve_opt.models.placement import PlacementResult, solve_placement
from reserve_opt.models.routing import (
    RoutingResult,
    check_deliveries,
    from_allocation,
    solve,
)
from reserve_opt.models.siting import SitingResult, p_median

TOY = Path(__file__).resolve().parents[1] / "instances" / "toy"


@pytest.fixture(scope="module")
def toy_plan() -> tuple[object, PlacementResult]:
    inst = load_instance(TOY)
    return inst, solve_placement(inst)


def test_a_plan_feeds_allocation_and_routing_in_memory(toy_plan, tmp_path: Path) -> None:
    inst, plan = toy_plan
    assert plan.has_plan
    by_plan = solve_allocation(inst, "typhoon", plan=plan)
    by_stock = solve_allocation(inst, "typhoon", stock=plan.stock)
    by_table = solve_allocation(inst, "typhoon", stock=plan.tables()["stock"])
    # the same as allocate --plan reading the plan's solution.json from disk
    (tmp_path / "solution.json").write_text(dumps(plan.to_dict()))
    planned_inst, stock = read_plan(tmp_path, inst)
    by_file = solve_allocation(planned_inst, "typhoon", stock=stock)
    assert check_allocation(planned_inst, "typhoon", by_plan).ok
    pd.testing.assert_frame_equal(by_plan.flows, by_file.flows)
    # stock alone (the instance's contracts as they are) reads the same in either form
    pd.testing.assert_frame_equal(by_stock.flows, by_table.flows)
    # one day of it on vehicles
    deliveries = by_plan.deliveries(1)
    assert len(deliveries) > 0
    problem = from_allocation(planned_inst, deliveries, "typhoon", period=1)
    routes = solve(problem.problem, "pyvrp", seed=1, max_iterations=500)
    assert check_deliveries(problem, routes).ok
    tables = routes.tables()
    assert list(tables) == ["routes", "unmet"]
    assert tables["routes"]["delivered_weight"].sum() > 0


def test_plan_stock_fed_as_a_mapping_equals_the_stock_lines(toy_plan) -> None:
    inst, plan = toy_plan
    mapping = {(s.facility, s.commodity): s.total for s in plan.stock}
    a = solve_allocation(inst, "typhoon", stock=mapping)
    b = solve_allocation(inst, "typhoon", stock=plan.stock)
    pd.testing.assert_frame_equal(a.flows, b.flows)


def test_plan_and_stock_together_are_refused(toy_plan) -> None:
    inst, plan = toy_plan
    with pytest.raises(InputError) as err:
        solve_allocation(inst, "typhoon", stock=plan.stock, plan=plan)
    assert str(err.value) == ("solve_allocation: give the plan or the stock, not both (the "
                              "plan brings its own stock)")
    with pytest.raises(InputError) as err:
        solve_allocation(inst, "typhoon", stock=pd.DataFrame({"facility": ["W_north"]}))
    assert str(err.value) == ("stock table: has no commodity, total column; give facility, "
                              "commodity and total (units), as plan.tables()['stock'] has them")


def test_every_result_gives_its_tables_as_dataframes(toy_plan) -> None:
    import numpy as np

    inst, plan = toy_plan
    alloc = solve_allocation(inst, "typhoon", plan=plan)
    cost = np.array([[0.0, 4.0, 9.0], [4.0, 0.0, 5.0], [9.0, 5.0, 0.0]])
    site = p_median(cost, 1)
    for result in (plan, alloc, site):
        tables = result.tables()
        assert tables and all(isinstance(t, pd.DataFrame) for t in tables.values())
    assert list(plan.tables()["stock"].columns) == ["facility", "commodity", "existing",
                                                    "added", "total"]
    assert alloc.tables()["flows"] is alloc.flows
    assert site.tables()["opened"]["site"].tolist() == [1]
    assert site.tables()["clients"]["site"].tolist() == [1, 1, 1]


@pytest.mark.parametrize("cls, words", [
    (PlacementResult, ["currency", "tables", "plan=result", "commodity's own unit"]),
    (RoutingResult, ["hours", "kg", "tables", "seconds"]),
    (SitingResult, ["tables", "0-based"]),
])
def test_help_names_the_fields_with_units(cls: type, words: list[str]) -> None:
    text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    for word in words:
        assert word in text
