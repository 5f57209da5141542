"""Road networks, shortest paths by time, outages and slow-downs."""

from __future__ import annotations

from itertools import pairwise

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString

from reserve_opt.errors import InputError
from reserve_opt.geo.distance import geodesic_arcs_km
from reserve_opt.geo.outages import LinkOutage
from reserve_opt.geo.roads import build_road_network
from reserve_opt.geo.travel import VehicleClass

A, B, C, D = (120.0, 40.0), (120.1, 40.0), (120.2, 40.0), (120.1, 40.1)


def _km(p: tuple[float, float], q: tuple[float, float]) -> float:
    return float(geodesic_arcs_km([p[0]], [p[1]], [q[0]], [q[1]])[0])


@pytest.fixture
def roads() -> gpd.GeoDataFrame:
    # A-B-C is a fast road (100 km/h); A-D-C a slower detour (50 and default 80 km/h).
    return gpd.GeoDataFrame(
        {"rid": ["ab", "bc", "ad", "dc"], "u": ["A", "B", "A", "D"], "v": ["B", "C", "D", "C"],
         "speed": [100.0, 100.0, 50.0, None]},
        geometry=[LineString([A, B]), LineString([B, C]), LineString([A, D]),
                  LineString([D, C])],
        crs="EPSG:4326",
    ).to_crs("EPSG:32651")  # hand the builder a projected frame; it converts to WGS84


def test_shortest_path_by_time(roads: gpd.GeoDataFrame) -> None:
    net = build_road_network(roads, speed_column="speed", default_speed_kmh=80.0,
                             id_column="rid", from_column="u", to_column="v")
    assert net.n_nodes == 4
    tm = net.travel([A[0]], [A[1]], [C[0], D[0]], [C[1], D[1]],
                    vehicle=VehicleClass("van", 120.0, cost_per_km=3.0))
    abc = _km(A, B) + _km(B, C)
    assert tm.distance_km[0, 0] == pytest.approx(abc, rel=1e-9)
    assert tm.time_h[0, 0] == pytest.approx(abc / 100.0, rel=1e-9)
    assert tm.cost[0, 0] == pytest.approx(abc * 3.0, rel=1e-9)
    # to D: direct A-D at 50 km/h (0.314 h) beats A-B-C-D (0.22 + 0.196 h)
    assert tm.time_h[0, 1] == pytest.approx(_km(A, D) / 50.0, rel=1e-9)
    # a slow vehicle caps every road's speed
    slow = net.travel([A[0]], [A[1]], [C[0]], [C[1]], vehicle=VehicleClass("tractor", 20.0))
    assert slow.time_h[0, 0] == pytest.approx(abc / 20.0, rel=1e-9)


def test_road_cut_and_slowdown_rerun(roads: gpd.GeoDataFrame) -> None:
    net = build_road_network(roads, speed_column="speed", default_speed_kmh=80.0,
                             id_column="rid", from_column="u", to_column="v")
    cut = net.with_outages([("C", "B", 0.0)])  # either direction matches road B-C
    tm = cut.travel([A[0]], [A[1]], [C[0]], [C[1]])
    assert tm.time_h[0, 0] == pytest.approx(_km(A, D) / 50.0 + _km(D, C) / 80.0, rel=1e-9)
    assert tm.distance_km[0, 0] == pytest.approx(_km(A, D) + _km(D, C), rel=1e-9)
    half = net.with_outages(road_factors={"ab": 0.5})
    tm2 = half.travel([A[0]], [A[1]], [C[0]], [C[1]])
    assert tm2.time_h[0, 0] == pytest.approx(_km(A, B) / 50.0 + _km(B, C) / 100.0, rel=1e-9)
    isolated = net.with_outages([LinkOutage("A", "B", 0.0), LinkOutage("A", "D", 0.0)])
    tm3 = isolated.travel([A[0]], [A[1]], [C[0], A[0]], [C[1], A[1]])
    assert np.isinf(tm3.time_h[0, 0]) and np.isinf(tm3.distance_km[0, 0])
    assert tm3.time_h[0, 1] == 0.0
    with pytest.raises(InputError, match="outage 'A' -> 'C' matches no road"):
        net.with_outages([("A", "C", 0.0)])


def test_oneway_and_snapping(roads: gpd.GeoDataFrame) -> None:
    roads = roads.assign(oneway=[True, True, False, False])
    net = build_road_network(roads, speed_column="speed", oneway_column="oneway")
    back = net.travel([C[0]], [C[1]], [A[0]], [A[1]])
    assert back.time_h[0, 0] == pytest.approx(_km(D, C) / 60.0 + _km(A, D) / 50.0, rel=1e-9)
    near = net.travel([A[0] + 0.001], [A[1]], [B[0]], [B[1]], access_speed_kmh=10.0)
    leg = _km((A[0] + 0.001, A[1]), A)
    assert near.time_h[0, 0] == pytest.approx(_km(A, B) / 100.0 + leg / 10.0, rel=1e-9)
    with pytest.raises(InputError, match=r"origin 'far' is .* km from the nearest road node"):
        net.travel([125.0], [40.0], [B[0]], [B[1]], origin_ids=["far"])


def test_grid_network_matches_networkx() -> None:
    import networkx as nx

    rng = np.random.default_rng(11)
    k = 15
    lines, speeds = [], []
    for i in range(k):
        for j in range(k):
            p = (120 + 0.05 * i, 40 + 0.05 * j)
            if i + 1 < k:
                lines.append(LineString([p, (p[0] + 0.05, p[1])]))
                speeds.append(rng.uniform(20, 120))
            if j + 1 < k:
                lines.append(LineString([p, (p[0], p[1] + 0.05)]))
                speeds.append(rng.uniform(20, 120))
    gdf = gpd.GeoDataFrame({"speed": speeds}, geometry=lines, crs="EPSG:4326")
    net = build_road_network(gdf, speed_column="speed")
    g = nx.DiGraph()
    for u, v, km, sp in zip(net.edge_from, net.edge_to, net.edge_km, net.edge_speed_kmh,
                            strict=True):
        g.add_edge(int(u), int(v), t=km / sp, km=km)
    olon, olat = rng.uniform(120, 120.7, 6), rng.uniform(40, 40.7, 6)
    dlon, dlat = rng.uniform(120, 120.7, 9), rng.uniform(40, 40.7, 9)
    tm = net.travel(olon, olat, dlon, dlat, max_snap_km=10.0)
    o_node, _ = net.snap(olon, olat, max_snap_km=10.0)
    d_node, _ = net.snap(dlon, dlat, max_snap_km=10.0)
    for a, u in enumerate(o_node):
        t_ref, paths = nx.single_source_dijkstra(g, int(u), weight="t")
        for b, v in enumerate(d_node):
            path = paths[int(v)]
            km_ref = sum(g[x][y]["km"] for x, y in pairwise(path))
            assert tm.time_h[a, b] == pytest.approx(t_ref[int(v)], rel=1e-9)
            assert tm.distance_km[a, b] == pytest.approx(km_ref, rel=1e-9)


def test_osm_oneway_tags(roads: gpd.GeoDataFrame) -> None:
    # ab along the line only, bc against it only (C -> B), ad and dc both ways
    roads = roads.assign(oneway=["yes", "-1", "no", None])
    net = build_road_network(roads, speed_column="speed", oneway_column="oneway")
    tm = net.travel([A[0], C[0], B[0]], [A[1], C[1], B[1]], [C[0], A[0], B[0]],
                    [C[1], A[1], B[1]])
    detour = _km(A, D) / 50.0 + _km(D, C) / 60.0  # A-D-C, dc at the 60 km/h default
    assert tm.time_h[0, 0] == pytest.approx(detour, rel=1e-9)  # A -> C: B -> C is one-way
    assert tm.time_h[1, 1] == pytest.approx(detour, rel=1e-9)  # C -> A: B -> A is one-way
    assert tm.time_h[1, 2] == pytest.approx(_km(B, C) / 100.0, rel=1e-9)  # C -> B allowed
    assert np.isinf(tm.time_h[2, 0])  # B -> C: the road runs C -> B only
    # "no", "false", "0", "reversible" and False are all two-way: A -> C over A-B-C
    for two_way in ("no", "false", "0", "reversible", False):
        net2 = build_road_network(roads.assign(oneway=[two_way] * 4), speed_column="speed",
                                  oneway_column="oneway")
        back = net2.travel([C[0]], [C[1]], [A[0]], [A[1]])
        assert back.time_h[0, 0] == pytest.approx(_km(A, B) / 100 + _km(B, C) / 100, rel=1e-9)
    with pytest.raises(InputError) as err:
        build_road_network(roads.assign(oneway=["yes", "maybe", "no", "no"]),
                           oneway_column="oneway")
    assert str(err.value) == (
        "road network: column 'oneway': row 1 has oneway 'maybe'; give yes, no, -1 or "
        "reversible (or true/false/1/0), or leave it empty for a two-way road.")


def test_osm_maxspeed_tags(roads: gpd.GeoDataFrame) -> None:
    roads = roads.assign(maxspeed=["50 mph", "80 km/h", "30;50", None])
    net = build_road_network(roads, speed_column="maxspeed", default_speed_kmh=60.0)
    assert net.edge_speed_kmh.tolist() == pytest.approx(
        [80.4672, 80.0, 40.0, 60.0, 80.4672, 80.0, 40.0, 60.0])
    tm = net.travel([A[0]], [A[1]], [C[0]], [C[1]])
    # A-B-C at 80.4672 then 80 km/h beats A-D-C at 40 then 60 km/h
    abc = _km(A, B) / 80.4672 + _km(B, C) / 80.0
    assert abc < _km(A, D) / 40.0 + _km(D, C) / 60.0
    assert tm.time_h[0, 0] == pytest.approx(abc, rel=1e-9)
    # implicit limits take the default, as a missing tag does
    dflt = build_road_network(roads.assign(maxspeed=["none", "DE:urban", "signals", 70]),
                              speed_column="maxspeed", default_speed_kmh=60.0)
    assert dflt.edge_speed_kmh[:4].tolist() == [60.0, 60.0, 60.0, 70.0]
    with pytest.raises(InputError) as err:
        build_road_network(roads.assign(maxspeed=["50 mph", "fast", None, None]),
                           speed_column="maxspeed")
    assert str(err.value) == (
        "road network: column 'maxspeed': row 1 has speed 'fast'; give a positive km/h, a "
        "tag such as '50 mph' or '30 km/h', or leave it empty for the default.")
