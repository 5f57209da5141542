"""Sparse origin -> destination arc tables for large instances.

An arc (i, j) from origin i (a facility) to destination j (a region) is kept when

* its travel time is within ``max_time_h`` (if given), or
* i is among the ``k_nearest`` origins of j by geodesic distance (if given; ties go to the
  lower origin index), so that no region is left without candidate suppliers.

:func:`sparse_arcs` never forms the dense all-pairs matrix: origins and destinations are put
on the unit sphere, a KD-tree (:class:`scipy.spatial.cKDTree`) proposes candidate pairs
within a chord radius that provably contains every qualifying pair (see
:func:`reserve_opt.geo.distance.chord_for_distance_km`), and exact geodesic distances are then
computed on the candidates only. :func:`dense_arcs` applies the same rule to the full matrix
and is the reference it must agree with, arc for arc.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from reserve_opt.errors import InputError
from reserve_opt.geo.distance import (
    _as_lonlat,
    chord_for_distance_km,
    geodesic_arcs_km,
    geodesic_matrix_km,
    unit_vectors,
)
from reserve_opt.geo.travel import DEFAULT_DETOUR_FACTOR, VehicleClass

__all__ = ["ArcTable", "dense_arcs", "sparse_arcs"]

_I64 = NDArray[np.int64]
_F64 = NDArray[np.float64]


@dataclass(frozen=True)
class ArcTable:
    """Arcs origin -> destination as parallel numpy arrays, sorted by (origin, destination).

    Attributes
    ----------
    origin, destination
        Positional indexes into the origin and destination arrays the table was built from.
    geodesic_km
        Great-circle (WGS84 geodesic) distance, km.
    distance_km
        Road distance, km: ``geodesic_km * detour_factor``.
    time_h
        Travel time, hours, at the vehicle class's speed.
    cost
        Travel cost: ``distance_km * cost_per_km``.
    n_origins, n_destinations
        Sizes of the full origin and destination sets.
    """

    origin: _I64
    destination: _I64
    geodesic_km: _F64
    distance_km: _F64
    time_h: _F64
    cost: _F64
    n_origins: int
    n_destinations: int

    def __len__(self) -> int:
        return int(self.origin.size)

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays, bytes."""
        return sum(
            a.nbytes for a in (self.origin, self.destination, self.geodesic_km,
                               self.distance_km, self.time_h, self.cost)
        )

    def to_frame(
        self,
        origin_ids: Sequence[Any] | None = None,
        destination_ids: Sequence[Any] | None = None,
    ) -> pd.DataFrame:
        """Return the arcs as a DataFrame.

        Parameters
        ----------
        origin_ids, destination_ids
            Optional IDs by position; when given, columns ``origin_id`` and
            ``destination_id`` are added.

        Returns
        -------
        pandas.DataFrame
            Columns ``origin``, ``destination``, ``geodesic_km``, ``distance_km``,
            ``time_h``, ``cost`` (plus the ID columns).
        """
        df = pd.DataFrame({
            "origin": self.origin,
            "destination": self.destination,
            "geodesic_km": self.geodesic_km,
            "distance_km": self.distance_km,
            "time_h": self.time_h,
            "cost": self.cost,
        })
        if origin_ids is not None:
            df.insert(2, "origin_id", np.asarray(origin_ids, dtype=object)[self.origin])
        if destination_ids is not None:
            pos = 3 if origin_ids is not None else 2
            df.insert(pos, "destination_id",
                      np.asarray(destination_ids, dtype=object)[self.destination])
        return df


def _check_rule(max_time_h: float | None, k_nearest: int | None, detour_factor: float) -> None:
    if max_time_h is None and k_nearest is None:
        raise InputError("give max_time_h, k_nearest or both to say which arcs to keep.")
    if max_time_h is not None and not (math.isfinite(max_time_h) and max_time_h >= 0):
        raise InputError(f"max_time_h={max_time_h} must be a non-negative number of hours.")
    if k_nearest is not None and (int(k_nearest) != k_nearest or k_nearest < 1):
        raise InputError(f"k_nearest={k_nearest} must be a positive whole number.")
    if not (math.isfinite(detour_factor) and detour_factor >= 1.0):
        raise InputError(f"detour_factor={detour_factor} must be at least 1, e.g. 1.3.")


def _finish(
    origin: _I64, dest: _I64, geo: _F64, vehicle: VehicleClass, detour_factor: float,
    n: int, m: int,
) -> ArcTable:
    order = np.lexsort((dest, origin))
    origin, dest, geo = origin[order], dest[order], geo[order]
    road = geo * detour_factor
    return ArcTable(
        origin=origin.astype(np.int64, copy=False),
        destination=dest.astype(np.int64, copy=False),
        geodesic_km=geo,
        distance_km=road,
        time_h=road / vehicle.speed_kmh,
        cost=road * vehicle.cost_per_km,
        n_origins=n,
        n_destinations=m,
    )


def sparse_arcs(
    origin_lon: ArrayLike,
    origin_lat: ArrayLike,
    dest_lon: ArrayLike,
    dest_lat: ArrayLike,
    vehicle: VehicleClass,
    *,
    max_time_h: float | None = None,
    k_nearest: int | None = None,
    detour_factor: float = DEFAULT_DETOUR_FACTOR,
) -> ArcTable:
    """Build the arcs that matter without the dense matrix (KD-tree prefilter + exact geodesic).

    Parameters
    ----------
    origin_lon, origin_lat
        n origins (facilities), degrees WGS84.
    dest_lon, dest_lat
        m destinations (regions), degrees WGS84.
    vehicle
        Speed (km/h) and cost per km used for ``time_h`` and ``cost``.
    max_time_h
        Keep arcs with ``time_h <= max_time_h``.
    k_nearest
        Also keep, for every destination, its ``k_nearest`` geodesically nearest origins.
    detour_factor
        Road km per geodesic km.

    Returns
    -------
    ArcTable
        Identical to :func:`dense_arcs` with the same arguments.

    Notes
    -----
    Time limit: a pair can qualify only if its geodesic distance is at most
    ``max_time_h * speed_kmh / detour_factor``; every such pair lies within the chord radius
    from :func:`~reserve_opt.geo.distance.chord_for_distance_km`, found in one
    ``cKDTree.sparse_distance_matrix`` call. k nearest: the k chord-nearest origins of each
    destination give an upper bound D_j on its true k-th geodesic distance; a ball query with
    the chord for D_j then holds all true k nearest, which are picked exactly.
    """
    _check_rule(max_time_h, k_nearest, detour_factor)
    olo, ola = _as_lonlat(origin_lon, origin_lat, "origins")
    dlo, dla = _as_lonlat(dest_lon, dest_lat, "destinations")
    n, m = olo.size, dlo.size
    empty_i = np.empty(0, dtype=np.int64)
    empty_f = np.empty(0, dtype=np.float64)
    if n == 0 or m == 0:
        return _finish(empty_i, empty_i, empty_f, vehicle, detour_factor, n, m)
    o_tree = cKDTree(unit_vectors(olo, ola))
    d_xyz = unit_vectors(dlo, dla)

    keys: list[_I64] = []
    geos: list[_F64] = []

    if max_time_h is not None:
        limit_km = max_time_h * vehicle.speed_kmh / detour_factor
        d_tree = cKDTree(d_xyz)
        pairs = d_tree.sparse_distance_matrix(
            o_tree, float(chord_for_distance_km(limit_km)), output_type="ndarray"
        )
        dj = np.asarray(pairs["i"], dtype=np.int64)
        oi = np.asarray(pairs["j"], dtype=np.int64)
        del pairs
        geo = geodesic_arcs_km(olo[oi], ola[oi], dlo[dj], dla[dj])
        keep = (geo * detour_factor) / vehicle.speed_kmh <= max_time_h
        keys.append(oi[keep] * m + dj[keep])
        geos.append(geo[keep])

    if k_nearest is not None:
        kk = min(int(k_nearest), n)
        _, idx = o_tree.query(d_xyz, k=kk)
        idx = np.asarray(idx, dtype=np.int64).reshape(m, kk)
        rows = np.repeat(np.arange(m, dtype=np.int64), kk)
        g0 = geodesic_arcs_km(olo[idx.ravel()], ola[idx.ravel()], dlo[rows], dla[rows])
        bound_km = g0.reshape(m, kk).max(axis=1)
        balls = o_tree.query_ball_point(d_xyz, r=chord_for_distance_km(bound_km))
        counts = np.fromiter((len(b) for b in balls), dtype=np.int64, count=m)
        oi = np.fromiter((i for b in balls for i in b), dtype=np.int64, count=int(counts.sum()))
        del balls
        dj = np.repeat(np.arange(m, dtype=np.int64), counts)
        geo = geodesic_arcs_km(olo[oi], ola[oi], dlo[dj], dla[dj])
        order = np.lexsort((oi, geo, dj))
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        rank = np.arange(order.size) - np.repeat(starts, counts)
        sel = order[rank < kk]
        keys.append(oi[sel] * m + dj[sel])
        geos.append(geo[sel])

    all_keys = np.concatenate(keys)
    all_geo = np.concatenate(geos)
    uniq, first = np.unique(all_keys, return_index=True)
    return _finish(uniq // m, uniq % m, all_geo[first], vehicle, detour_factor, n, m)


def dense_arcs(
    origin_lon: ArrayLike,
    origin_lat: ArrayLike,
    dest_lon: ArrayLike,
    dest_lat: ArrayLike,
    vehicle: VehicleClass,
    *,
    max_time_h: float | None = None,
    k_nearest: int | None = None,
    detour_factor: float = DEFAULT_DETOUR_FACTOR,
) -> ArcTable:
    """Reference for :func:`sparse_arcs`: the same rule applied to the dense geodesic matrix.

    Memory grows with n x m (8 bytes per pair plus temporaries); use it for small instances
    and to check :func:`sparse_arcs`.

    Parameters
    ----------
    origin_lon, origin_lat, dest_lon, dest_lat, vehicle, max_time_h, k_nearest, detour_factor
        As for :func:`sparse_arcs`.

    Returns
    -------
    ArcTable
    """
    _check_rule(max_time_h, k_nearest, detour_factor)
    olo, ola = _as_lonlat(origin_lon, origin_lat, "origins")
    dlo, dla = _as_lonlat(dest_lon, dest_lat, "destinations")
    n, m = olo.size, dlo.size
    geo = geodesic_matrix_km(olo, ola, dlo, dla)
    keep = np.zeros((n, m), dtype=bool)
    if max_time_h is not None:
        keep |= (geo * detour_factor) / vehicle.speed_kmh <= max_time_h
    if k_nearest is not None and n > 0:
        kk = min(int(k_nearest), n)
        nearest = np.argsort(geo, axis=0, kind="stable")[:kk]
        keep[nearest, np.arange(m)[None, :]] = True
    oi, dj = np.nonzero(keep)
    return _finish(oi.astype(np.int64), dj.astype(np.int64), geo[oi, dj], vehicle,
                   detour_factor, n, m)
