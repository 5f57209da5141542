"""The decomposition's time limit and its master LP's numerical trouble (issue 16).

The national run's master MIP returned 800 s past the time limit, and its LP phase ended
silently when the master LP had no answer after cuts were removed. No test here depends on
machine speed: the run's clock is the decomposition module's ``time.perf_counter``, which
a test may drive (our own logic, not the solver's), and the LP's trouble is injected.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from dask.distributed import Client

import reserve_opt.models.placement.decomposition as dec
from reserve_opt.models.placement import PlacementOptions, check_placement
from reserve_opt.models.placement.decomposition import lp_engine, make_blocks, solve_decomposition
from reserve_opt.models.placement.model import prepare
from reserve_opt.solvers import SolverOptions, SolveStatus
from reserve_opt.synthetic import placement_instance
from reserve_opt.variants.sweep import dask_client

POOLED = PlacementOptions(sharing="pooled", fleet_limits=False, explain_shortages=False)
ENGINES = ["linprog"] + (["highspy"] if lp_engine("auto") == "highspy" else [])
needs_highspy = pytest.mark.skipif(lp_engine("auto") != "highspy",
                                   reason="the warm engine needs highspy (decomposition extra)")
NO_ANSWER = ("master LP without an answer even rebuilt from its kept cuts (numerical "
             "trouble): the phase ends at its last point")


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with dask_client(1, None) as c:
        yield c


class _Clock:
    """The run's clock: real time, plus ``step`` seconds at every reading in the master MIP."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.offset = 0.0
        self.in_mip = False

    def perf_counter(self) -> float:
        if self.in_mip:
            self.offset += self.step
        return time.perf_counter() + self.offset


@needs_highspy
def test_master_mip_stops_at_the_runs_deadline(client: Client,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # heavy fixed costs: the LP phase and the dive leave a 4% gap to the master MIP, which
    # reads the clock about 230 times (its deadline callback) when left to finish: at 1/20
    # of the limit per reading its deadline passes inside HiGHS
    limit = 1000.0
    clock = _Clock(limit / 20)
    monkeypatch.setattr(dec, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    calls: list[float] = []
    real = dec._Master.solve_mip

    def timed(self: Any, gap: float, seconds: float, start: Any) -> Any:
        calls.append(seconds)
        clock.in_mip = True
        try:
            return real(self, gap, seconds, start)
        finally:
            clock.in_mip = False

    monkeypatch.setattr(dec._Master, "solve_mip", timed)
    inst = placement_instance(40, 10, 2, 8, seed=3, fixed_cost_scale=5)
    lines: list[str] = []
    res = solve_decomposition(inst, POOLED, SolverOptions(mip_gap=1e-6, time_limit_s=limit),
                              client=client, engine="highspy", progress=lines.append)
    # one master MIP, stopped by the run's clock; nothing after it but the final pricing
    assert len(calls) == 1 and calls[0] < limit
    assert res.status is SolveStatus.FEASIBLE
    assert res.solve_seconds <= limit + 5 * clock.step
    assert res.objective is not None and res.bound is not None and res.gap is not None
    assert res.bound <= res.objective and res.gap > 1e-6
    assert not any("MIP plan priced" in line and "as it stands" not in line for line in lines)
    assert check_placement(inst, res).ok


@pytest.mark.parametrize("engine", ENGINES)
def test_lp_phase_keeps_its_last_point_when_the_master_lp_has_no_answer(
        client: Client, monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    # the national run: after cuts were removed, the warm LP had no verdict and the cold
    # one said infeasible; the phase must end at its last point, say so, and go on
    real = dec._Master.solve_lp
    calls = [0]

    def troubled(self: Any, lb: Any, ub: Any, seconds: float = float("inf")) -> Any:
        calls[0] += 1
        return None if calls[0] == 4 else real(self, lb, ub, seconds)

    monkeypatch.setattr(dec._Master, "solve_lp", troubled)
    inst = placement_instance(40, 10, 2, 8, seed=3)
    lines: list[str] = []
    res = solve_decomposition(inst, POOLED, SolverOptions(mip_gap=1e-6), client=client,
                              engine=engine, progress=lines.append)
    said = [i for i, line in enumerate(lines) if NO_ANSWER in line]
    assert len(said) == 1 and lines[said[0]].startswith("iteration 4 (LP): ")
    # the run went on from the last point: rounded and dived, not straight to the MIP
    after = lines[said[0] + 1:]
    assert any("(LP point rounded, priced)" in line or "(dive" in line for line in after)
    assert res.status is SolveStatus.OPTIMAL
    assert res.gap is not None and res.gap <= 1e-6
    assert check_placement(inst, res).ok


@needs_highspy
def test_a_kept_master_lp_that_says_infeasible_is_rebuilt_from_its_cuts() -> None:
    inst = placement_instance(40, 10, 2, 8, seed=3)
    data = prepare(inst, POOLED)
    master = dec._Master(data, make_blocks(data, POOLED), True)
    lb, ub = master.col_lb.copy(), master.col_ub.copy()
    first = master.solve_lp(lb, ub)
    assert first is not None
    # a stale row in the kept HiGHS LP only (as numerical trouble leaves it): open >= 2
    master.h.addRow(2.0, np.inf, 1, np.array([0], dtype=np.int32), np.array([1.0]))
    again = master.solve_lp(lb, ub)
    assert again is not None and again[0] == pytest.approx(first[0], rel=1e-9)
    assert master.h.getNumRow() == master.A0.shape[0]
