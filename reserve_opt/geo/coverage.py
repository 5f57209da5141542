"""Coverage sets: which facilities reach which regions within a response-time limit.

Chinese national guidance (2024) asks that the first batch of relief goods reach the disaster
area within 6 h for a county, 8 h for a prefecture and 10 h for a province after the dispatch
order (see data/reserve_facts/FACTS.md); :data:`RESPONSE_TIME_LIMIT_H` holds that mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from reserve_opt.errors import InputError
from reserve_opt.geo.sparse import ArcTable

__all__ = [
    "RESPONSE_TIME_LIMIT_H",
    "Coverage",
    "coverage_from_arcs",
    "coverage_from_matrix",
    "response_time_limit_h",
]

#: First-batch response-time limit by administrative level, hours (national guidance, 2024).
RESPONSE_TIME_LIMIT_H: Mapping[str, float] = MappingProxyType(
    {"county": 6.0, "prefecture": 8.0, "province": 10.0}
)


def response_time_limit_h(level: str | Sequence[str]) -> float | NDArray[np.float64]:
    """Response-time limit for an administrative level, or an array for a sequence of levels.

    Parameters
    ----------
    level
        ``"county"``, ``"prefecture"`` or ``"province"`` (case-insensitive), or a sequence.

    Returns
    -------
    float or numpy.ndarray
        Hours.

    Raises
    ------
    InputError
        For an unknown level.
    """
    def one(lv: str) -> float:
        key = str(lv).strip().lower()
        if key not in RESPONSE_TIME_LIMIT_H:
            raise InputError(
                f"administrative level {lv!r} has no response-time limit; use one of "
                f"{', '.join(RESPONSE_TIME_LIMIT_H)} or pass the limit in hours."
            )
        return RESPONSE_TIME_LIMIT_H[key]

    if isinstance(level, str):
        return one(level)
    return np.array([one(lv) for lv in level], dtype=np.float64)


@dataclass(frozen=True)
class Coverage:
    """Boolean facility x region coverage matrix with its IDs.

    Attributes
    ----------
    matrix
        ``scipy.sparse.csr_matrix`` of bool, shape (n_facilities, n_regions); True where the
        facility reaches the region within the region's limit.
    facility_ids, region_ids
        IDs by position (default: positions).
    """

    matrix: sparse.csr_matrix
    facility_ids: tuple[Any, ...]
    region_ids: tuple[Any, ...]

    def _fpos(self, facility_id: Any) -> int:
        try:
            return self.facility_ids.index(facility_id)
        except ValueError:
            raise InputError(f"facility {facility_id!r} is not in this coverage set; "
                             "check the facility ID.") from None

    def _rpos(self, region_id: Any) -> int:
        try:
            return self.region_ids.index(region_id)
        except ValueError:
            raise InputError(f"region {region_id!r} is not in this coverage set; "
                             "check the region ID.") from None

    def regions_of(self, facility_id: Any) -> list[Any]:
        """IDs of the regions a facility covers."""
        i = self._fpos(facility_id)
        row = self.matrix.indices[self.matrix.indptr[i]:self.matrix.indptr[i + 1]]
        return [self.region_ids[j] for j in np.sort(row)]

    def facilities_of(self, region_id: Any) -> list[Any]:
        """IDs of the facilities that cover a region."""
        j = self._rpos(region_id)
        col = self.matrix.tocsc()[:, j].indices
        return [self.facility_ids[i] for i in np.sort(col)]

    def times_covered(self) -> NDArray[np.int64]:
        """Number of facilities covering each region, by region position."""
        return np.asarray(self.matrix.sum(axis=0), dtype=np.int64).ravel()

    def uncovered_regions(self) -> list[Any]:
        """IDs of regions no facility covers."""
        return [self.region_ids[j] for j in np.flatnonzero(self.times_covered() == 0)]

    def covered_by(self, open_facilities: Sequence[Any]) -> NDArray[np.bool_]:
        """Which regions (by position) at least one of ``open_facilities`` covers."""
        rows = [self._fpos(f) for f in open_facilities]
        if not rows:
            return np.zeros(len(self.region_ids), dtype=bool)
        return np.asarray(self.matrix[rows].sum(axis=0)).ravel() > 0

    def to_frame(self) -> pd.DataFrame:
        """Covered pairs as a frame with columns ``facility_id`` and ``region_id``."""
        coo = self.matrix.tocoo()
        order = np.lexsort((coo.col, coo.row))
        return pd.DataFrame({
            "facility_id": [self.facility_ids[i] for i in coo.row[order]],
            "region_id": [self.region_ids[j] for j in coo.col[order]],
        })


def _limits(limit_h: float | ArrayLike, m: int) -> NDArray[np.float64]:
    lim = np.broadcast_to(np.asarray(limit_h, dtype=np.float64), (m,))
    if not np.all(np.isfinite(lim) & (lim >= 0)):
        j = int(np.flatnonzero(~(np.isfinite(lim) & (lim >= 0)))[0])
        raise InputError(f"the response-time limit of region position {j} is {lim[j]}; "
                         "give a non-negative number of hours.")
    return lim


def _ids(ids: Sequence[Any] | None, size: int, what: str) -> tuple[Any, ...]:
    if ids is None:
        return tuple(range(size))
    out = tuple(ids)
    if len(out) != size:
        raise InputError(f"{len(out)} {what} IDs were given for {size} {what}s; "
                         "give one ID per row.")
    return out


def coverage_from_matrix(
    time_h: ArrayLike,
    limit_h: float | ArrayLike,
    *,
    facility_ids: Sequence[Any] | None = None,
    region_ids: Sequence[Any] | None = None,
) -> Coverage:
    """Coverage from a dense facility x region travel-time matrix.

    Parameters
    ----------
    time_h
        Hours, shape (n_facilities, n_regions); ``inf`` or NaN = unreachable.
    limit_h
        One limit in hours, or one per region (e.g. from :func:`response_time_limit_h`).
    facility_ids, region_ids
        IDs by position.

    Returns
    -------
    Coverage
        ``time_h <= limit`` as a sparse boolean matrix.
    """
    t = np.asarray(time_h, dtype=np.float64)
    if t.ndim != 2:
        raise ValueError(f"time_h must be 2-D (facilities x regions), got shape {t.shape}")
    lim = _limits(limit_h, t.shape[1])
    with np.errstate(invalid="ignore"):
        covered = t <= lim[None, :]
    return Coverage(
        matrix=sparse.csr_matrix(covered, dtype=bool),
        facility_ids=_ids(facility_ids, t.shape[0], "facility"),
        region_ids=_ids(region_ids, t.shape[1], "region"),
    )


def coverage_from_arcs(
    arcs: ArcTable,
    limit_h: float | ArrayLike,
    *,
    facility_ids: Sequence[Any] | None = None,
    region_ids: Sequence[Any] | None = None,
) -> Coverage:
    """Coverage from a sparse arc table (origins = facilities, destinations = regions).

    Arcs missing from the table count as not covering; build the table with a time limit
    at least as large as ``limit_h`` so that no covering arc is missing.

    Parameters
    ----------
    arcs
        Arc table, e.g. from :func:`reserve_opt.geo.sparse.sparse_arcs`.
    limit_h
        One limit in hours, or one per region.
    facility_ids, region_ids
        IDs by position.

    Returns
    -------
    Coverage
    """
    n, m = arcs.n_origins, arcs.n_destinations
    lim = _limits(limit_h, m)
    ok = arcs.time_h <= lim[arcs.destination]
    mat = sparse.csr_matrix(
        (np.ones(int(ok.sum()), dtype=bool), (arcs.origin[ok], arcs.destination[ok])),
        shape=(n, m),
    )
    return Coverage(
        matrix=mat,
        facility_ids=_ids(facility_ids, n, "facility"),
        region_ids=_ids(region_ids, m, "region"),
    )
