"""Geodesic distances against independent references."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reserve_opt.errors import InputError
from reserve_opt.geo.distance import (
    MIN_RADIUS_OF_CURVATURE_KM,
    chord_for_distance_km,
    geodesic_arcs_km,
    geodesic_matrix_km,
    unit_vectors,
)

GEONAMES = Path(__file__).resolve().parent / "data" / "geonames" / "liaoning_cities500.csv"


def vincenty_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Vincenty (1975) inverse on WGS84: an independent reference for pyproj.Geod (Karney)."""
    a, f = 6378137.0, 1 / 298.257223563
    b = (1 - f) * a
    lam0 = math.radians(lon2 - lon1)
    u1 = math.atan((1 - f) * math.tan(math.radians(lat1)))
    u2 = math.atan((1 - f) * math.tan(math.radians(lat2)))
    su1, cu1, su2, cu2 = math.sin(u1), math.cos(u1), math.sin(u2), math.cos(u2)
    lam = lam0
    for _ in range(200):
        sl, cl = math.sin(lam), math.cos(lam)
        ss = math.hypot(cu2 * sl, cu1 * su2 - su1 * cu2 * cl)
        cs = su1 * su2 + cu1 * cu2 * cl
        sig = math.atan2(ss, cs)
        sa = cu1 * cu2 * sl / ss
        c2a = 1 - sa * sa
        c2sm = cs - 2 * su1 * su2 / c2a
        c = f / 16 * c2a * (4 + f * (4 - 3 * c2a))
        prev = lam
        lam = lam0 + (1 - c) * f * sa * (sig + c * ss * (c2sm + c * cs * (-1 + 2 * c2sm**2)))
        if abs(lam - prev) < 1e-13:
            break
    u_sq = c2a * (a * a - b * b) / (b * b)
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    ds = big_b * ss * (c2sm + big_b / 4 * (cs * (-1 + 2 * c2sm**2)
                                          - big_b / 6 * c2sm * (-3 + 4 * ss**2)
                                          * (-3 + 4 * c2sm**2)))
    return b * big_a * (sig - ds) / 1000.0


def _city(name: str) -> tuple[float, float]:
    df = pd.read_csv(GEONAMES)
    row = df.loc[(df["name"] == name) & (df["in_cities15000"] == 1)].iloc[0]
    return float(row["longitude"]), float(row["latitude"])


def test_shenyang_dalian_about_355_km() -> None:
    (lo1, la1), (lo2, la2) = _city("Shenyang"), _city("Dalian")
    assert (la1, lo1) == (41.79222, 123.43278)
    assert (la2, lo2) == (38.91222, 121.60222)
    d = float(geodesic_matrix_km([lo1], [la1], [lo2], [la2])[0, 0])
    ref = vincenty_km(la1, lo1, la2, lo2)  # independent Vincenty (1975) implementation
    assert abs(d - ref) / ref < 0.005
    assert abs(d - ref) < 1e-6  # both converge to the same geodesic, to the millimetre
    assert abs(d - 355.0) / 355.0 < 0.005
    # a sphere of mean radius 6371.0088 km is within 0.5% too (haversine)
    p1, p2, dl = math.radians(la1), math.radians(la2), math.radians(lo2 - lo1)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    assert abs(d - 2 * 6371.0088 * math.asin(math.sqrt(h))) / d < 0.005


def test_published_geodesic_examples() -> None:
    # Vincenty (1975), Survey Review 23(176) example: Flinders Peak -> Buninyong, 54,972.271 m
    # (on GRS80; WGS84 differs by < 1 mm over this line).
    fp = (144 + 25 / 60 + 29.52440 / 3600, -(37 + 57 / 60 + 3.72030 / 3600))
    bu = (143 + 55 / 60 + 35.38390 / 3600, -(37 + 39 / 60 + 10.15610 / 3600))
    d1 = geodesic_arcs_km([fp[0]], [fp[1]], [bu[0]], [bu[1]])[0]
    assert d1 == pytest.approx(54.972271, abs=2e-6)
    # GeographicLib documentation (Karney): Wellington -> Salamanca, 19,959,679.267 m
    d2 = geodesic_arcs_km([174.81], [-41.32], [-5.50], [40.96])[0]
    assert d2 == pytest.approx(19959.679267, abs=1e-5)
    # a quarter meridian of WGS84 is 10,001.965729 km
    d3 = geodesic_arcs_km([0.0], [0.0], [0.0], [90.0])[0]
    assert d3 == pytest.approx(10001.965729, abs=1e-5)


def test_matrix_matches_arcs_and_shapes() -> None:
    rng = np.random.default_rng(3)
    olo, ola = rng.uniform(100, 130, 7), rng.uniform(20, 50, 7)
    dlo, dla = rng.uniform(100, 130, 5), rng.uniform(20, 50, 5)
    mat = geodesic_matrix_km(olo, ola, dlo, dla)
    assert mat.shape == (7, 5)
    i, j = np.meshgrid(np.arange(7), np.arange(5), indexing="ij")
    arcs = geodesic_arcs_km(olo[i.ravel()], ola[i.ravel()], dlo[j.ravel()], dla[j.ravel()])
    np.testing.assert_array_equal(mat.ravel(), arcs)
    assert geodesic_matrix_km([], [], dlo, dla).shape == (0, 5)


def test_chord_bound_never_misses() -> None:
    rng = np.random.default_rng(5)
    lo1, la1 = rng.uniform(-180, 180, 5000), rng.uniform(-89, 89, 5000)
    lo2, la2 = rng.uniform(-180, 180, 5000), rng.uniform(-89, 89, 5000)
    d = geodesic_arcs_km(lo1, la1, lo2, la2)
    chord = np.linalg.norm(unit_vectors(lo1, la1) - unit_vectors(lo2, la2), axis=1)
    assert np.all(chord <= chord_for_distance_km(d))
    assert abs(MIN_RADIUS_OF_CURVATURE_KM - 6335.439) < 1e-3


def test_degrees_out_of_range_refused() -> None:
    with pytest.raises(InputError) as err:
        geodesic_matrix_km([200.0], [10.0], [0.0], [0.0])
    assert "outside lon [-180, 180]" in str(err.value)
