"""Readers on the bundled benchmark files: sizes, distances by hand, BKS solutions."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from reserve_opt.errors import InputError
from reserve_opt.models.routing import (
    check,
    prepare,
    read_bks,
    read_cordeau,
    read_solomon,
    read_solution,
    read_vrplib,
)
from reserve_opt.models.routing.result import EngineRoute, assemble

VRP = Path(__file__).resolve().parent / "data" / "vrp"


def _bks_result(problem, sol):  # type: ignore[no-untyped-def]
    """Turn a .sol file into a RoutingResult (.sol numbers clients 1..n, depot excluded)."""
    prepared = prepare(problem)
    piece_of = {p.client: n for n, p in enumerate(prepared.pieces)}
    routes = [
        EngineRoute(vehicle_type=0, departure=0, trips=(tuple(piece_of[i - 1] for i in r),))
        for r in sol.routes
    ]
    return assemble(
        problem, prepared, routes, engine="bks", runtime_s=0.0, seed=0, left_out_reason="-"
    )


def test_vrplib_x_set_sizes_and_rounded_distances() -> None:
    p = read_vrplib(VRP / "cvrp/X-n101-k25.vrp")
    assert (p.n_depots, p.n_clients) == (1, 100)
    assert p.vehicle_types[0].capacity == (206, 0)
    assert p.vehicle_types[0].count == 100  # unlimited fleet: one per client
    assert p.scaling.distance == 1
    # depot (365, 689) to node 2 (146, 180): sqrt(219^2 + 509^2) = 554.11 -> 554
    assert p.clients[0].name == "2"
    assert p.distances[0, 1] == 554
    # node 2 (146, 180) to node 3 (792, 5): sqrt(646^2 + 175^2) = 669.28 -> 669
    assert p.distances[1, 2] == 669
    assert sum(c.demand[0] for c in p.clients) > 0


@pytest.mark.parametrize("name", ["X-n101-k25", "X-n157-k13", "X-n200-k36"])
def test_vrplib_bks_solution_reproduces_its_cost(name: str) -> None:
    p = read_vrplib(VRP / f"cvrp/{name}.vrp")
    sol = read_solution(VRP / f"cvrp/{name}.sol")
    result = _bks_result(p, sol)
    report = check(p, result)
    assert report.ok, report.violations
    assert report.distance == sol.cost


def test_solomon_sizes_truncated_distances_and_windows() -> None:
    p = read_solomon(VRP / "vrptw/C101.txt")
    assert (p.n_depots, p.n_clients) == (1, 100)
    assert p.vehicle_types[0].count == 25
    assert p.vehicle_types[0].capacity == (200, 0)
    assert p.scaling.distance == 10 and p.scaling.time == 10
    # depot (40, 50) to customer 1 (45, 68): sqrt(349) = 18.681 -> truncated 18.6
    assert p.distances[0, 1] == 186
    assert p.durations[0][0, 1] == 186
    c1 = p.clients[0]
    assert (c1.tw_early, c1.tw_late, c1.service_time) == (9120, 9670, 900)
    assert p.depots[0].closes == 12360


@pytest.mark.parametrize(("name", "routes"), [("C101", 10), ("R101", 20)])
def test_solomon_bks_solution_is_feasible_and_costs_bks(name: str, routes: int) -> None:
    p = read_solomon(VRP / f"vrptw/{name}.txt")
    sol = read_solution(VRP / f"vrptw/{name}.sol")
    bks = read_bks(VRP / "BKS.csv")[name]
    result = _bks_result(p, sol)
    report = check(p, result)
    assert report.ok, report.violations
    assert len(sol.routes) == routes == bks.bks_routes
    assert report.distance == pytest.approx(bks.bks, abs=1e-9)


def test_cordeau_sizes_and_unrounded_distances() -> None:
    p = read_cordeau(VRP / "mdvrp/p01.txt")
    assert (p.n_depots, p.n_clients) == (4, 50)
    assert [vt.depot for vt in p.vehicle_types] == [0, 1, 2, 3]
    assert all(vt.count == 4 and vt.capacity == (80, 0) for vt in p.vehicle_types)
    assert all(vt.returns_to_depot for vt in p.vehicle_types)
    assert [d.name for d in p.depots] == ["51", "52", "53", "54"]
    # depot 51 (20, 20) to customer 1 (37, 52): sqrt(1313) = 36.2353...
    assert p.distances[0, 4] / p.scaling.distance == pytest.approx(math.sqrt(1313), abs=1e-4)
    p4 = read_cordeau(VRP / "mdvrp/p04.txt")
    assert (p4.n_depots, p4.n_clients) == (2, 100)
    assert all(vt.count == 8 and vt.capacity == (100, 0) for vt in p4.vehicle_types)


def test_bks_csv() -> None:
    bks = read_bks(VRP / "BKS.csv")
    assert bks["p01"].bks == pytest.approx(576.87)
    assert bks["p04"].n_depots == 2
    assert bks["C101"].kind == "VRPTW"


def test_readers_refuse_malformed_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.vrp"
    bad.write_text("NAME : x\nEDGE_WEIGHT_TYPE : GEO\nCAPACITY : 5\n")
    with pytest.raises(InputError, match="EUC_2D"):
        read_vrplib(bad)
    bad.write_text("1 2 3 1\n0 10\n")
    with pytest.raises(InputError, match="not MDVRP"):
        read_cordeau(bad)
    bad.write_text("nonsense\n")
    with pytest.raises(InputError):
        read_solomon(bad)


def test_vrplib_without_edge_weight_type_is_one_sentence(tmp_path: Path) -> None:
    f = tmp_path / "bad.vrp"
    f.write_text("NAME : x\nTYPE : CVRP\nDIMENSION : 3\n")
    with pytest.raises(InputError) as err:
        read_vrplib(f)
    assert err.value.problems == (
        f"{f}: has no EDGE_WEIGHT_TYPE line; a VRPLIB file gives 'EDGE_WEIGHT_TYPE : EUC_2D' "
        "in its header (or pass the right --input-format).",)
