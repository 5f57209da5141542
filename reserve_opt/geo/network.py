"""Shortest paths over any directed graph of timed edges, and road layers read from files.

:func:`fastest_paths` is the one shortest-path routine of the package: the link graph of
:mod:`reserve_opt.transport` and the road network of :mod:`reserve_opt.geo.roads` both call
it. It keeps the fastest of parallel edges, runs :func:`scipy.sparse.csgraph.dijkstra` by
time from each distinct source in blocks (so the predecessor arrays stay near 32 MB), and
measures the length of each fastest path with :func:`path_lengths`.

:func:`read_road_layer` reads the line layer named by an instance manifest's
``[geometry] roads`` (GeoPackage, Shapefile or GeoJSON) into a
:class:`~reserve_opt.geo.roads.RoadNetwork`. The layer must hold a speed column
(``speed_kmh`` in km/h, or OSM ``maxspeed`` tags) and an ``oneway`` column (OSM values,
see :func:`~reserve_opt.geo.roads.parse_oneway`); ``reserve-opt roads import`` writes both.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph

from reserve_opt.errors import InputError

if TYPE_CHECKING:
    from reserve_opt.geo.roads import RoadNetwork

__all__ = ["ROAD_SPEED_COLUMNS", "fastest_paths", "path_lengths", "read_road_layer"]

_I64 = NDArray[np.int64]
_F64 = NDArray[np.float64]

#: Columns a road layer may give its speeds in, in order of preference.
ROAD_SPEED_COLUMNS = ("speed_kmh", "maxspeed")

#: Time given to a zero-time edge so that csgraph keeps it as an edge (an explicit zero in
#: a sparse matrix is no edge), hours.
_ZERO_TIME_H = 1e-12


def path_lengths(pred: NDArray[np.int32], lengths: sparse.csr_matrix, src: _I64) -> _F64:
    """Length (km) along each shortest-path tree, by pointer doubling over predecessors.

    Parameters
    ----------
    pred
        Predecessor matrix from ``scipy.sparse.csgraph`` (-9999 where none), (k, n).
    lengths
        Edge lengths, km, (n, n) sparse.
    src
        Source node of each row of ``pred``, (k,).

    Returns
    -------
    numpy.ndarray
        (k, n) km along the tree; ``inf`` where a node is not reached.
    """
    k, n = pred.shape
    node = np.broadcast_to(np.arange(n), (k, n))
    has = pred >= 0
    p = np.where(has, pred, node).astype(np.int64)
    acc = np.zeros((k, n), dtype=np.float64)
    if has.any():
        acc[has] = np.asarray(lengths[p[has], node[has]]).ravel()
    rows = np.arange(k)[:, None]
    while True:
        pp = p[rows, p]
        if np.array_equal(pp, p):
            break
        acc = acc + acc[rows, p]
        p = pp
    reached = has.copy()
    reached[np.arange(k), src] = True
    return np.where(reached, acc, np.inf)


def fastest_paths(
    edge_from: _I64,
    edge_to: _I64,
    time_h: _F64,
    length_km: _F64,
    n_nodes: int,
    sources: _I64,
    targets: _I64 | None = None,
) -> tuple[_F64, _F64]:
    """Time and length of the fastest path from each source node to each target node.

    Parameters
    ----------
    edge_from, edge_to
        Node index of each directed edge's tail and head.
    time_h
        Time of each edge, hours (``inf`` or negative: the edge is unusable).
    length_km
        Length of each edge, km.
    n_nodes
        Number of nodes.
    sources
        Origin nodes (repeats allowed), shape (k,).
    targets
        Destination nodes; ``None`` for every node.

    Returns
    -------
    time_h, distance_km : numpy.ndarray
        Shape (k, n_targets); ``inf`` where no path exists. A node to itself is 0.
    """
    g, times, lengths = _graphs(edge_from, edge_to, time_h, length_km, n_nodes)
    cols = np.arange(n_nodes) if targets is None else np.asarray(targets, dtype=np.int64)
    src = np.asarray(sources, dtype=np.int64)
    if src.size == 0 or n_nodes == 0:
        return np.zeros((src.size, cols.size)), np.zeros((src.size, cols.size))
    uniq, inv = np.unique(src, return_inverse=True)
    t_out = np.empty((uniq.size, cols.size))
    d_out = np.empty((uniq.size, cols.size))
    block = max(1, (1 << 22) // max(1, n_nodes))
    for s in range(0, uniq.size, block):
        idx = uniq[s:s + block]
        _, pred = csgraph.dijkstra(g, directed=True, indices=idx, return_predecessors=True)
        # times summed along the tree: exact, with no stand-in for zero-time edges
        t_out[s:s + block] = path_lengths(pred, times, idx)[:, cols]
        d_out[s:s + block] = path_lengths(pred, lengths, idx)[:, cols]
    return t_out[inv.ravel()], d_out[inv.ravel()]


def fastest_trees(
    edge_from: _I64,
    edge_to: _I64,
    time_h: _F64,
    length_km: _F64,
    n_nodes: int,
    sources: _I64,
) -> tuple[_I64, NDArray[np.int32], _F64, _F64]:
    """The fastest-path trees from each distinct source: for paths as well as their sums.

    Parameters
    ----------
    edge_from, edge_to, time_h, length_km, n_nodes, sources
        As for :func:`fastest_paths`.

    Returns
    -------
    tuple
        ``(nodes, predecessors, time_h, distance_km)``: the distinct source nodes (sorted),
        csgraph's predecessor matrix (-9999 where none) and the (k, n) time and length to
        every node (``inf`` where no path exists).
    """
    g, times, lengths = _graphs(edge_from, edge_to, time_h, length_km, n_nodes)
    uniq = np.unique(np.asarray(sources, dtype=np.int64))
    if uniq.size == 0 or n_nodes == 0:
        empty = np.zeros((uniq.size, n_nodes))
        return uniq, np.zeros((uniq.size, n_nodes), dtype=np.int32), empty, empty.copy()
    _, pred = csgraph.dijkstra(g, directed=True, indices=uniq, return_predecessors=True)
    return uniq, pred, path_lengths(pred, times, uniq), path_lengths(pred, lengths, uniq)


def _graphs(edge_from: _I64, edge_to: _I64, time_h: _F64, length_km: _F64, n_nodes: int,
            ) -> tuple[sparse.csr_matrix, sparse.csr_matrix, sparse.csr_matrix]:
    """The search graph (zero times as a tiny stand-in), and the exact times and lengths."""
    u, v = np.asarray(edge_from, dtype=np.int64), np.asarray(edge_to, dtype=np.int64)
    t, km = np.asarray(time_h, dtype=np.float64), np.asarray(length_km, dtype=np.float64)
    ok = np.isfinite(t) & (t >= 0)
    u, v, t, km = u[ok], v[ok], t[ok], km[ok]
    # parallel edges: keep the fastest
    order = np.lexsort((t, v, u))
    u, v, t, km = u[order], v[order], t[order], km[order]
    first = np.ones(u.size, dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, t, km = u[first], v[first], t[first], km[first]
    shape = (n_nodes, n_nodes)
    g = sparse.csr_matrix((np.where(t > 0, t, _ZERO_TIME_H), (u, v)), shape=shape)
    times = sparse.csr_matrix((t, (u, v)), shape=shape)
    return g, times, sparse.csr_matrix((km, (u, v)), shape=shape)


def read_road_layer(path: Path, name: str, *, default_speed_kmh: float) -> RoadNetwork:
    """Read a road line layer into a :class:`~reserve_opt.geo.roads.RoadNetwork`.

    Parameters
    ----------
    path
        The file (GeoPackage, Shapefile, GeoJSON), already confined to the instance folder.
    name
        Its name as the manifest gives it, for messages.
    default_speed_kmh
        Speed of a road whose ``maxspeed`` tag gives no number (``none``, ``signals``,
        a country tag), km/h; a ``speed_kmh`` column must be complete instead.

    Returns
    -------
    RoadNetwork

    Raises
    ------
    InputError
        One sentence naming the file (and column or row) and the fix.
    """
    import geopandas as gpd

    from reserve_opt.geo.roads import build_road_network

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = gpd.read_file(path)
    except Exception as err:  # pyogrio raises DataSourceError and friends
        raise InputError(f"{name}: cannot be read as geodata ({str(err)[:200]}); re-export "
                         "it as a GeoPackage, Shapefile or GeoJSON of lines") from None
    if not isinstance(frame, gpd.GeoDataFrame) or not len(frame):
        raise InputError(f"{name}: holds no road lines; name a GeoPackage, Shapefile or "
                         "GeoJSON of lines under [geometry] roads")
    if frame.crs is None:
        raise InputError(f"{name}: has no CRS, so its roads cannot be placed; write it with "
                         "a CRS (for a Shapefile, add the .prj file)")
    speed = next((c for c in ROAD_SPEED_COLUMNS if c in frame.columns), None)
    if speed is None:
        raise InputError(f"{name}: has no 'speed_kmh' or 'maxspeed' column; add the speed of "
                         "each road in km/h (or OSM maxspeed tags such as '50 mph')")
    if "oneway" not in frame.columns:
        raise InputError(f"{name}: has no 'oneway' column; add one saying yes, no or -1 for "
                         "each road (reserve-opt roads import writes it)")
    if speed == "speed_kmh":
        blank = frame["speed_kmh"].isna().to_numpy()
        if blank.any():
            raise InputError(f"{name}: feature {int(np.flatnonzero(blank)[0]) + 1} has no "
                             "speed_kmh; give every road its speed in km/h")
    return build_road_network(frame, speed_column=speed, oneway_column="oneway",
                              default_speed_kmh=default_speed_kmh, source=name)
