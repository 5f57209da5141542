"""Scenario link outages and slow-downs on arc lists and matrices.

An outage ``(from_id, to_id, speed_factor)`` multiplies the speed of the link from
``from_id`` to ``to_id`` by ``speed_factor``: 0 cuts it (unusable), 0.5 halves the speed
(doubles the time), 1 leaves it as is. Several outages on the same link compound
(their factors multiply). Distances and per-km costs are unchanged; only time changes.
For user-supplied road networks, see :meth:`reserve_opt.geo.roads.RoadNetwork.with_outages`,
which changes the roads and lets shortest paths be re-run.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from reserve_opt.errors import InputError
from reserve_opt.geo.sparse import ArcTable

__all__ = [
    "LinkOutage",
    "apply_outages_to_arc_table",
    "apply_outages_to_arcs",
    "apply_outages_to_matrix",
    "as_outages",
    "outage_factors",
]


@dataclass(frozen=True)
class LinkOutage:
    """A link cut or slowed in a scenario.

    Parameters
    ----------
    from_id, to_id
        IDs of the link's ends (facility / region IDs for arcs, road IDs for roads).
    speed_factor
        Multiplier on speed in [0, 1]: 0 = cut, 0.5 = half speed.
    """

    from_id: Hashable
    to_id: Hashable
    speed_factor: float

    def __post_init__(self) -> None:
        f = self.speed_factor
        if not (isinstance(f, int | float) and math.isfinite(f) and 0.0 <= f <= 1.0):
            raise InputError(
                f"outage {self.from_id!r} -> {self.to_id!r}: speed_factor={f!r} must be between "
                "0 (cut) and 1 (unchanged); fix the factor."
            )

    @property
    def is_cut(self) -> bool:
        """True when the link is unusable."""
        return self.speed_factor == 0.0


def as_outages(items: Iterable[LinkOutage | Sequence[Any]]) -> tuple[LinkOutage, ...]:
    """Normalise ``(from_id, to_id, speed_factor)`` tuples and :class:`LinkOutage` objects.

    Parameters
    ----------
    items
        Outages as objects or 3-tuples.

    Returns
    -------
    tuple of LinkOutage
    """
    out: list[LinkOutage] = []
    for k, it in enumerate(items):
        if isinstance(it, LinkOutage):
            out.append(it)
            continue
        if len(it) != 3:
            raise InputError(
                f"outage {k} is {tuple(it)!r}; give it as (from_id, to_id, speed_factor)."
            )
        a, b, f = it
        try:
            ff = float(f)
        except (TypeError, ValueError):
            raise InputError(
                f"outage {k} ({a!r} -> {b!r}) has speed_factor {f!r}; give a number in [0, 1]."
            ) from None
        out.append(LinkOutage(a, b, ff))
    return tuple(out)


def outage_factors(
    from_ids: ArrayLike,
    to_ids: ArrayLike,
    outages: Iterable[LinkOutage | Sequence[Any]],
    *,
    both_directions: bool = True,
    what: str = "arc list",
) -> NDArray[np.float64]:
    """Speed factor per link (1 where no outage applies).

    Parameters
    ----------
    from_ids, to_ids
        End IDs of each link, length n.
    outages
        Outages to apply.
    both_directions
        Apply an outage ``(a, b)`` to the link ``b -> a`` too (a closed road is closed both
        ways). With False only ``a -> b`` is affected.
    what
        Name of the link set, used in the error message.

    Returns
    -------
    numpy.ndarray
        Shape (n,), product of the factors of all outages hitting each link.

    Raises
    ------
    InputError
        When an outage matches no link (a typo in an ID would otherwise go unnoticed).
    """
    fr = pd.Index(np.asarray(from_ids, dtype=object))
    to = pd.Index(np.asarray(to_ids, dtype=object))
    factors = np.ones(len(fr), dtype=np.float64)
    if len(fr) == 0:
        pos: dict[tuple[Any, Any], list[int]] = {}
    else:
        pos = {}
        for i, key in enumerate(zip(fr, to, strict=True)):
            pos.setdefault(key, []).append(i)
    for o in as_outages(outages):
        hits = list(pos.get((o.from_id, o.to_id), []))
        if both_directions and o.from_id != o.to_id:
            hits += pos.get((o.to_id, o.from_id), [])
        if not hits:
            raise InputError(
                f"outage {o.from_id!r} -> {o.to_id!r} matches no link in the {what}; "
                "check both IDs."
            )
        factors[hits] *= o.speed_factor
    return factors


def apply_outages_to_arcs(
    arcs: pd.DataFrame,
    outages: Iterable[LinkOutage | Sequence[Any]],
    *,
    from_column: str = "origin_id",
    to_column: str = "destination_id",
    time_column: str = "time_h",
    both_directions: bool = True,
    drop_cut: bool = True,
) -> pd.DataFrame:
    """Apply outages to an arc list frame.

    Parameters
    ----------
    arcs
        One row per arc, with end-ID columns and a time column in hours.
    outages
        ``(from_id, to_id, speed_factor)`` tuples or :class:`LinkOutage` objects.
    from_column, to_column, time_column
        Column names.
    both_directions
        See :func:`outage_factors`.
    drop_cut
        Drop cut arcs (default); with False they stay with ``time_h = inf``.

    Returns
    -------
    pandas.DataFrame
        A new frame: time divided by the speed factor; a column ``speed_factor`` added.
    """
    for col in (from_column, to_column, time_column):
        if col not in arcs.columns:
            raise InputError(f"the arc list has no column {col!r}; columns are "
                             f"{list(arcs.columns)}.")
    f = outage_factors(arcs[from_column].to_numpy(), arcs[to_column].to_numpy(), outages,
                       both_directions=both_directions)
    out = arcs.copy()
    with np.errstate(divide="ignore"):
        out[time_column] = np.where(f > 0, out[time_column].to_numpy(dtype=float) / f, np.inf)
    out["speed_factor"] = f
    if drop_cut:
        out = out.loc[f > 0].reset_index(drop=True)
    return out


def apply_outages_to_matrix(
    time_h: ArrayLike,
    origin_ids: Sequence[Any],
    destination_ids: Sequence[Any],
    outages: Iterable[LinkOutage | Sequence[Any]],
    *,
    both_directions: bool = True,
) -> NDArray[np.float64]:
    """Apply outages to a dense origin x destination time matrix.

    Parameters
    ----------
    time_h
        Hours, shape (n_origins, n_destinations).
    origin_ids, destination_ids
        IDs by row and by column.
    outages
        Outages; ``from_id`` is looked up among origins and ``to_id`` among destinations
        (or the reverse, when ``both_directions``).
    both_directions
        See :func:`outage_factors`.

    Returns
    -------
    numpy.ndarray
        A new matrix; cut cells are ``inf``.
    """
    t = np.array(time_h, dtype=np.float64)  # copy
    n, m = t.shape
    if len(origin_ids) != n or len(destination_ids) != m:
        raise InputError(f"the time matrix is {n} x {m} but {len(origin_ids)} origin and "
                         f"{len(destination_ids)} destination IDs were given.")
    rows = {k: i for i, k in enumerate(origin_ids)}
    cols = {k: j for j, k in enumerate(destination_ids)}
    for o in as_outages(outages):
        cells = []
        if o.from_id in rows and o.to_id in cols:
            cells.append((rows[o.from_id], cols[o.to_id]))
        if both_directions and o.to_id in rows and o.from_id in cols:
            cells.append((rows[o.to_id], cols[o.from_id]))
        if not cells:
            raise InputError(
                f"outage {o.from_id!r} -> {o.to_id!r} matches no origin/destination pair of "
                "the time matrix; check both IDs."
            )
        for i, j in set(cells):
            t[i, j] = np.inf if o.is_cut else t[i, j] / o.speed_factor
    return t


def apply_outages_to_arc_table(
    arcs: ArcTable,
    outages: Iterable[LinkOutage | Sequence[Any]],
    origin_ids: Sequence[Any],
    destination_ids: Sequence[Any],
    *,
    both_directions: bool = True,
) -> ArcTable:
    """Apply outages to an :class:`~reserve_opt.geo.sparse.ArcTable`; cut arcs are removed.

    Parameters
    ----------
    arcs
        The table (origin/destination positions).
    outages
        Outages on IDs.
    origin_ids, destination_ids
        IDs by position, to translate outages into positions.
    both_directions
        See :func:`outage_factors`.

    Returns
    -------
    ArcTable
        A new table with slowed times and without cut arcs.
    """
    oid = np.asarray(origin_ids, dtype=object)[arcs.origin]
    did = np.asarray(destination_ids, dtype=object)[arcs.destination]
    f = outage_factors(oid, did, outages, both_directions=both_directions,
                       what="arc table")
    keep = f > 0
    return ArcTable(
        origin=arcs.origin[keep],
        destination=arcs.destination[keep],
        geodesic_km=arcs.geodesic_km[keep],
        distance_km=arcs.distance_km[keep],
        time_h=arcs.time_h[keep] / f[keep],
        cost=arcs.cost[keep],
        n_origins=arcs.n_origins,
        n_destinations=arcs.n_destinations,
    )
