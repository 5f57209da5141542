"""OR-Library siting benchmarks: published optima, checked independently of the solver."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reserve_opt.errors import InputError
from reserve_opt.models.siting import (
    check,
    facility_location,
    p_median,
    read_optima,
    read_orlib_cap,
    read_orlib_pmed,
)
from reserve_opt.solvers import SolveStatus

BENCH = Path(__file__).resolve().parent / "data"
CAP = BENCH / "orlib-cap"
PMED = BENCH / "orlib-pmed"

CAP_OPT = read_optima(CAP / "capopt.txt")
UNCAP_OPT = read_optima(CAP / "uncapopt.txt")
PMED_OPT = read_optima(PMED / "pmedopt.txt")
SMALL_CAP = ["cap41", "cap51", "cap61", "cap71"]
SMALL_PMED = ["pmed1", "pmed2", "pmed4", "pmed5"]


def test_answer_files_list_every_instance() -> None:
    assert len(CAP_OPT) == 13 and len(UNCAP_OPT) == 4 and len(PMED_OPT) == 10
    assert set(UNCAP_OPT) == {"cap71", "cap72", "cap73", "cap74"}


@pytest.mark.parametrize("name", sorted(CAP_OPT))
def test_capacitated_optima(name: str) -> None:
    inst = read_orlib_cap(CAP / f"{name}.txt")
    res = facility_location(inst.demand, inst.fixed_cost, inst.cost, inst.capacity, solver="highs")
    assert res.status is SolveStatus.OPTIMAL
    rep = check(
        res, cost=inst.cost, demand=inst.demand, capacity=inst.capacity,
        fixed_cost=inst.fixed_cost,
    )  # fmt: skip
    assert rep.ok, rep.problems
    assert rep.objective == pytest.approx(CAP_OPT[name], rel=1e-6)


@pytest.mark.parametrize("name", sorted(UNCAP_OPT))
def test_uncapacitated_optima(name: str) -> None:
    inst = read_orlib_cap(CAP / f"{name}.txt")
    res = facility_location(
        inst.demand, inst.fixed_cost, inst.cost, capacitated=False, solver="highs"
    )
    rep = check(res, cost=inst.cost, demand=inst.demand, fixed_cost=inst.fixed_cost)
    assert res.status is SolveStatus.OPTIMAL and rep.ok, rep.problems
    assert rep.objective == pytest.approx(UNCAP_OPT[name], rel=1e-6)


@pytest.mark.parametrize("name", SMALL_CAP)
@pytest.mark.parametrize("solver", ["pulp-cbc", "scip"])
def test_capacitated_optima_other_solver_family(name: str, solver: str) -> None:
    inst = read_orlib_cap(CAP / f"{name}.txt")
    res = facility_location(inst.demand, inst.fixed_cost, inst.cost, inst.capacity, solver=solver)
    rep = check(
        res, cost=inst.cost, demand=inst.demand, capacity=inst.capacity,
        fixed_cost=inst.fixed_cost,
    )  # fmt: skip
    assert rep.ok, rep.problems
    assert rep.objective == pytest.approx(CAP_OPT[name], rel=1e-6)


@pytest.mark.parametrize("name", sorted(PMED_OPT, key=lambda s: int(s[4:])))
def test_pmedian_optima(name: str) -> None:
    inst = read_orlib_pmed(PMED / f"{name}.txt")
    res = p_median(inst.distance, inst.p, solver="highs")
    assert res.status is SolveStatus.OPTIMAL
    rep = check(res, distance=inst.distance, p=inst.p)
    assert rep.ok, rep.problems
    assert rep.objective == pytest.approx(PMED_OPT[name], rel=1e-9)


@pytest.mark.parametrize("name", SMALL_PMED)
def test_pmedian_optima_pulp_cbc_and_classic_formulation(name: str) -> None:
    inst = read_orlib_pmed(PMED / f"{name}.txt")
    a = p_median(inst.distance, inst.p, solver="pulp-cbc")
    b = p_median(inst.distance, inst.p, solver="highs", formulation="classic")
    for res in (a, b):
        rep = check(res, distance=inst.distance, p=inst.p)
        assert rep.ok, rep.problems
        assert rep.objective == pytest.approx(PMED_OPT[name], rel=1e-9)


def test_pmed_reader_last_listing_of_an_edge_wins(tmp_path: Path) -> None:
    f = tmp_path / "tiny.txt"
    # 3 vertices; edge 1-2 listed twice (5 then 1), 2-3 cost 2, listed reversed as 3 2.
    f.write_text("3 3 1\n1 2 5\n3 2 2\n2 1 1\n")
    inst = read_orlib_pmed(f)
    np.testing.assert_array_equal(inst.distance, [[0, 1, 3], [1, 0, 2], [3, 2, 0]])
    assert inst.p == 1


def test_pmed_reader_matches_networkx_on_pmed1() -> None:
    nx = pytest.importorskip("networkx")
    lines = (PMED / "pmed1.txt").read_text().split("\n")
    n = int(lines[0].split()[0])
    edges: dict[tuple[int, int], float] = {}
    for line in lines[1:]:
        if line.strip():
            i, j, c = line.split()
            edges[tuple(sorted((int(i) - 1, int(j) - 1)))] = float(c)  # type: ignore[index]
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from((i, j, c) for (i, j), c in edges.items())
    dist = dict(nx.all_pairs_dijkstra_path_length(g))
    inst = read_orlib_pmed(PMED / "pmed1.txt")
    for i in range(0, n, 7):
        for j in range(n):
            assert inst.distance[i, j] == dist[i][j]


def test_cap_reader_layout() -> None:
    inst = read_orlib_cap(CAP / "cap41.txt")
    assert inst.cost.shape == (50, 16)
    assert inst.capacity.shape == inst.fixed_cost.shape == (16,)
    assert inst.demand[0] == 146 and inst.cost[0, 0] == pytest.approx(6739.725)
    assert inst.fixed_cost[10] == 0.0  # this copy of cap41 has one free facility


def test_cap_reader_rejects_truncated_file(tmp_path: Path) -> None:
    f = tmp_path / "broken.txt"
    f.write_text("2 1\n10 5\n10 5\n3 1.0\n")
    with pytest.raises(InputError, match="expected 9 numbers"):
        read_orlib_cap(f)
