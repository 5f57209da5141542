"""Benchmark: import a 100,000-edge road layer and compute a 1,000 x 2,554 travel table.

The road layer is a synthetic grid of two-vertex lines (about 1 km apart, 100,000 of
them; one line in seven, at random, one-way; speeds 30/50/80 km/h as OSM ``maxspeed`` tags), written
as a GeoPackage. Measured, in one run:

* ``import``: what ``reserve-opt roads import`` does with a line file: read it
  (:func:`reserve_opt.geo.osm.read_lines`), normalise tags, keep the largest strongly
  connected part, and build the network;
* ``travel table``: 1,000 facilities x 2,554 demand points (seeded uniform points, snapped
  to the network) with :meth:`RoadNetwork.travel` (scipy.sparse.csgraph Dijkstra, one
  shortest-path routine for the package: :func:`reserve_opt.geo.network.fastest_paths`);
* ``scipy vs networkx``: the same graph (the network's directed edges, fastest of
  parallels) from the first ``--nx-sources`` facilities' nodes with
  ``networkx.single_source_dijkstra_path_length`` against ``fastest_paths``; the times
  agree and the ratio is printed (networkx on all 1,000 sources would take minutes).

Run from the repository root::

    .venv/bin/python bench/road_travel.py
    .venv/bin/python bench/road_travel.py --edges 20000 --facilities 100 --points 300  # quick
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from measure import maxrss_mib, measure

from reserve_opt.geo.network import fastest_paths
from reserve_opt.geo.osm import largest_strong_component, normalise_roads, read_lines
from reserve_opt.geo.roads import RoadNetwork, build_road_network


def grid_layer(edges: int, seed: int) -> gpd.GeoDataFrame:
    """About ``edges`` two-vertex lines on a square grid ~1 km apart near 30 N, 110 E."""
    side = math.ceil((1 + math.sqrt(1 + 2 * edges)) / 2)  # 2 side (side-1) >= edges
    step = 0.01
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    lon0, lat0 = 110.0 + ii * step, 30.0 + jj * step
    h = np.stack([np.stack([lon0[:-1, :], lat0[:-1, :]], -1),
                  np.stack([lon0[1:, :], lat0[1:, :]], -1)], axis=-2).reshape(-1, 2, 2)
    v = np.stack([np.stack([lon0[:, :-1], lat0[:, :-1]], -1),
                  np.stack([lon0[:, 1:], lat0[:, 1:]], -1)], axis=-2).reshape(-1, 2, 2)
    seg = np.concatenate([h, v])[:edges]
    rng = np.random.default_rng(seed)
    speed = rng.choice(["30", "50", "80"], size=len(seg), p=[0.5, 0.35, 0.15])
    # one line in seven one-way, at random (a fixed pattern can cut whole rows of the grid)
    oneway = np.where(rng.random(len(seg)) < 1 / 7, "yes", "no")
    return gpd.GeoDataFrame({"id": np.arange(len(seg)), "highway": "unclassified",
                             "maxspeed": speed, "oneway": oneway},
                            geometry=list(shapely.linestrings(seg)), crs="EPSG:4326")


def import_layer(path: Path) -> RoadNetwork:
    """The steps of ``roads import`` on a line file, up to the network."""
    roads = normalise_roads(read_lines(path), country=None, name=path.name)
    comp = largest_strong_component(roads)
    return build_road_network(comp.segments, speed_column="speed_kmh", oneway_column="oneway")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--edges", type=int, default=100_000)
    ap.add_argument("--facilities", type=int, default=1000)
    ap.add_argument("--points", type=int, default=2554)
    ap.add_argument("--nx-sources", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    layer = grid_layer(args.edges, args.seed)
    lo, la, hi_lon, hi_lat = layer.total_bounds
    rng = np.random.default_rng(args.seed + 1)

    def pts(n: int) -> tuple[np.ndarray, np.ndarray]:
        return rng.uniform(lo, hi_lon, n), rng.uniform(la, hi_lat, n)

    f_lon, f_lat = pts(args.facilities)
    d_lon, d_lat = pts(args.points)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "grid.gpkg"
        layer.to_file(path, driver="GPKG")
        net, t_import, mem_import = measure(lambda: import_layer(path))
    print(f"road layer: {len(layer):,} lines, network {net.n_nodes:,} nodes, "
          f"{net.edge_from.size:,} directed edges")
    print(f"import (read, normalise, largest strong part, build): {t_import:.2f} s, "
          f"peak {mem_import:.0f} MiB traced")
    tm, t_table, mem_table = measure(lambda: net.travel(f_lon, f_lat, d_lon, d_lat,
                                                        max_snap_km=5.0))
    reached = np.isfinite(tm.time_h).mean()
    print(f"travel table {args.facilities:,} x {args.points:,}: {t_table:.2f} s, peak "
          f"{mem_table:.0f} MiB traced; {reached:.1%} of pairs joined; "
          f"median {np.median(tm.time_h[np.isfinite(tm.time_h)]):.2f} h")
    print(f"import + travel table: {t_import + t_table:.2f} s (target: under 60 s on 2 cores)")

    # the same graph in scipy and networkx, from the same sources
    t_edge = net.edge_km / net.edge_speed_kmh
    o_node, _ = net.snap(f_lon[:args.nx_sources], f_lat[:args.nx_sources])
    t0 = time.perf_counter()
    t_sp, _ = fastest_paths(net.edge_from, net.edge_to, t_edge, net.edge_km, net.n_nodes,
                            o_node)
    sec_sp = time.perf_counter() - t0
    g = nx.DiGraph()
    for a, b, w in zip(net.edge_from.tolist(), net.edge_to.tolist(), t_edge.tolist(),
                       strict=True):
        if not g.has_edge(a, b) or g[a][b]["weight"] > w:
            g.add_edge(a, b, weight=w)
    t0 = time.perf_counter()
    worst = 0.0
    for k, s in enumerate(o_node.tolist()):
        dist = nx.single_source_dijkstra_path_length(g, s, weight="weight")
        nodes = np.fromiter(dist.keys(), dtype=np.int64)
        worst = max(worst, float(np.max(np.abs(t_sp[k, nodes] -
                                                np.fromiter(dist.values(), dtype=float)))))
    sec_nx = time.perf_counter() - t0
    print(f"{args.nx_sources} sources on the same graph: scipy.sparse.csgraph {sec_sp:.3f} s "
          f"(with path lengths), networkx {sec_nx:.3f} s; networkx / scipy = "
          f"{sec_nx / sec_sp:.1f}x; largest time difference {worst:.1e} h")
    print(f"peak RSS {maxrss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
