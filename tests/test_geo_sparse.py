"""Sparse arc tables agree with the dense reference; coverage sets."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from reserve_opt.errors import InputError
from reserve_opt.geo.coverage import (
    RESPONSE_TIME_LIMIT_H,
    coverage_from_arcs,
    coverage_from_matrix,
    response_time_limit_h,
)
from reserve_opt.geo.distance import geodesic_matrix_km
from reserve_opt.geo.sparse import ArcTable, dense_arcs, sparse_arcs
from reserve_opt.geo.travel import VehicleClass, great_circle_travel

TRUCK = VehicleClass("truck", speed_kmh=60.0, cost_per_km=2.5)


def _assert_same(a: ArcTable, b: ArcTable) -> None:
    for f in ("origin", "destination", "geodesic_km", "distance_km", "time_h", "cost"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


@pytest.mark.parametrize(
    ("seed", "max_time_h", "k"),
    [(0, 4.0, None), (1, None, 3), (2, 3.0, 5), (3, 0.5, 2), (4, 100.0, None), (5, None, 500)],
)
def test_sparse_equals_dense(seed: int, max_time_h: float | None, k: int | None) -> None:
    rng = np.random.default_rng(seed)
    n, m = 60, 150
    olo, ola = rng.uniform(73, 135, n), rng.uniform(18, 53, n)
    dlo, dla = rng.uniform(73, 135, m), rng.uniform(18, 53, m)
    # a few coincident points and a duplicated facility, to exercise ties and zero distances
    dlo[:3], dla[:3] = olo[:3], ola[:3]
    olo[10], ola[10] = olo[11], ola[11]
    s = sparse_arcs(olo, ola, dlo, dla, TRUCK, max_time_h=max_time_h, k_nearest=k,
                    detour_factor=1.3)
    d = dense_arcs(olo, ola, dlo, dla, TRUCK, max_time_h=max_time_h, k_nearest=k,
                   detour_factor=1.3)
    _assert_same(s, d)
    assert len(s) > 0
    if k is not None:
        assert np.all(np.bincount(s.destination, minlength=m) >= min(k, n))
    if max_time_h is not None and k is None:
        assert np.all(s.time_h <= max_time_h)


def test_arc_values_and_frame() -> None:
    olo, ola = np.array([123.43278]), np.array([41.79222])  # Shenyang
    dlo, dla = np.array([121.60222, 123.43278]), np.array([38.91222, 41.79222])
    a = sparse_arcs(olo, ola, dlo, dla, TRUCK, max_time_h=10.0, detour_factor=1.3)
    geo = geodesic_matrix_km(olo, ola, dlo, dla)[0]
    np.testing.assert_allclose(a.geodesic_km, geo)
    np.testing.assert_allclose(a.distance_km, geo * 1.3)
    np.testing.assert_allclose(a.time_h, geo * 1.3 / 60.0)
    np.testing.assert_allclose(a.cost, geo * 1.3 * 2.5)
    df = a.to_frame(origin_ids=["SY"], destination_ids=["DL", "SY"])
    assert list(df.columns) == ["origin", "destination", "origin_id", "destination_id",
                                "geodesic_km", "distance_km", "time_h", "cost"]
    assert df["destination_id"].tolist() == ["DL", "SY"]
    tm = great_circle_travel(olo, ola, dlo, dla, TRUCK, detour_factor=1.3)
    np.testing.assert_allclose(tm.time_h[0], a.time_h)


def test_sparse_needs_a_rule() -> None:
    with pytest.raises(InputError, match="give max_time_h, k_nearest or both"):
        sparse_arcs([0.0], [0.0], [1.0], [1.0], TRUCK)


def test_response_time_limits() -> None:
    assert dict(RESPONSE_TIME_LIMIT_H) == {"county": 6.0, "prefecture": 8.0, "province": 10.0}
    assert response_time_limit_h("County") == 6.0
    np.testing.assert_array_equal(response_time_limit_h(["province", "prefecture"]), [10, 8])
    with pytest.raises(InputError, match="administrative level 'township' has no"):
        response_time_limit_h("township")


def test_coverage_hand_built() -> None:
    # facilities F1, F2 x regions county A, prefecture B, province C
    t = np.array([[5.0, 9.0, 11.0],
                  [7.0, 8.0, np.inf]])
    limits = response_time_limit_h(["county", "prefecture", "province"])
    cov = coverage_from_matrix(t, limits, facility_ids=["F1", "F2"], region_ids=["A", "B", "C"])
    assert sparse.issparse(cov.matrix) and cov.matrix.dtype == bool
    np.testing.assert_array_equal(cov.matrix.toarray(), [[True, False, False],
                                                         [False, True, False]])
    assert cov.regions_of("F1") == ["A"]
    assert cov.facilities_of("B") == ["F2"]
    assert cov.uncovered_regions() == ["C"]
    np.testing.assert_array_equal(cov.times_covered(), [1, 1, 0])
    np.testing.assert_array_equal(cov.covered_by(["F1", "F2"]), [True, True, False])
    assert cov.to_frame().values.tolist() == [["F1", "A"], ["F2", "B"]]
    with pytest.raises(InputError, match="facility 'F9' is not in this coverage set"):
        cov.regions_of("F9")


def test_coverage_from_arcs_equals_matrix() -> None:
    rng = np.random.default_rng(9)
    olo, ola = rng.uniform(118, 126, 20), rng.uniform(38, 44, 20)
    dlo, dla = rng.uniform(118, 126, 40), rng.uniform(38, 44, 40)
    limits = rng.choice([6.0, 8.0, 10.0], size=40)
    arcs = sparse_arcs(olo, ola, dlo, dla, TRUCK, max_time_h=10.0)
    dense = great_circle_travel(olo, ola, dlo, dla, TRUCK).time_h
    a = coverage_from_arcs(arcs, limits).matrix.toarray()
    b = coverage_from_matrix(dense, limits).matrix.toarray()
    np.testing.assert_array_equal(a, b)
