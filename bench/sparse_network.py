"""Benchmark: sparse arc table vs the dense all-pairs reference on a synthetic China instance.

Regions and facilities are seeded random points inside the Natural Earth 1:50m China outline
(/work/shared/data/natural_earth). The sparse build keeps arcs within a time limit plus the
k nearest facilities per region, without forming the dense matrix; the reference builds the
dense geodesic matrix and applies the same rule. Each build is timed once without
tracemalloc and measured once with it (tracemalloc slows Python-level allocations).

Run from the repository root::

    .venv/bin/python bench/sparse_network.py
    .venv/bin/python bench/sparse_network.py --regions 20000 --facilities 5000 --no-dense
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from measure import maxrss_mib, measure

from reserve_opt.geo.sparse import dense_arcs, sparse_arcs
from reserve_opt.geo.travel import VehicleClass

NE = (Path(__file__).resolve().parents[1].parent
      / "shared/data/natural_earth/ne_50m_admin_0_countries.geojson")


def china_points(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Seeded uniform-in-lon/lat points inside the Natural Earth China outline."""
    if NE.exists():
        ne = gpd.read_file(NE, engine="pyogrio")
        outline = ne.loc[ne["ADM0_A3"] == "CHN"].geometry.union_all()
    else:  # fall back to the bounding box
        outline = shapely.box(73.5, 18.2, 134.8, 53.6)
    shapely.prepare(outline)
    w, s, e, nn = outline.bounds
    lon: list[np.ndarray] = []
    lat: list[np.ndarray] = []
    got = 0
    while got < n:
        lo = rng.uniform(w, e, 2 * n)
        la = rng.uniform(s, nn, 2 * n)
        ok = shapely.contains_xy(outline, lo, la)
        lon.append(lo[ok])
        lat.append(la[ok])
        got += int(ok.sum())
    return np.concatenate(lon)[:n], np.concatenate(lat)[:n]




def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regions", type=int, default=2500)
    ap.add_argument("--facilities", type=int, default=1000)
    ap.add_argument("--max-time-h", type=float, default=10.0)
    ap.add_argument("--k", type=int, default=30)
    ap.add_argument("--speed-kmh", type=float, default=60.0)
    ap.add_argument("--detour", type=float, default=1.3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-dense", action="store_true", help="skip the dense reference")
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    rlo, rla = china_points(args.regions, rng)
    flo, fla = china_points(args.facilities, rng)
    truck = VehicleClass("truck", speed_kmh=args.speed_kmh, cost_per_km=2.0)
    rule = {"max_time_h": args.max_time_h, "k_nearest": args.k, "detour_factor": args.detour}
    print(f"instance: {args.regions} regions x {args.facilities} facilities inside China "
          f"(seed {args.seed}); keep time <= {args.max_time_h} h at {args.speed_kmh} km/h, "
          f"detour {args.detour}, or among {args.k} nearest per region")
    rss0 = maxrss_mib()

    sp, sp_s, sp_mib = measure(lambda: sparse_arcs(flo, fla, rlo, rla, truck, **rule))
    rss_sparse = maxrss_mib()
    rows = [("build seconds", f"{sp_s:.3f}"),
            ("peak traced MiB", f"{sp_mib:.1f}"),
            ("arcs", f"{len(sp):,}"),
            ("arc table MiB", f"{sp.nbytes / 2**20:.1f}"),
            ("max RSS MiB (process)", f"{rss_sparse:.0f}")]
    if args.no_dense:
        print(f"{'':24}{'sparse':>14}")
        for name, val in rows:
            print(f"{name:24}{val:>14}")
    else:
        de, de_s, de_mib = measure(lambda: dense_arcs(flo, fla, rlo, rla, truck, **rule))
        rss_dense = maxrss_mib()
        same = all(np.array_equal(getattr(sp, f), getattr(de, f))
                   for f in ("origin", "destination", "geodesic_km", "time_h", "cost"))
        pairs = args.regions * args.facilities
        dvals = [f"{de_s:.3f}", f"{de_mib:.1f}", f"{len(de):,} of {pairs:,}",
                 f"{de.nbytes / 2**20:.1f}", f"{rss_dense:.0f}"]
        ratios = [f"{sp_s / de_s:.3f}", f"{sp_mib / de_mib:.3f}", f"{len(sp) / pairs:.3f}",
                  "", ""]
        print(f"{'':24}{'sparse':>14}{'dense reference':>22}{'sparse/dense':>14}")
        for (name, val), dv, rt in zip(rows, dvals, ratios, strict=True):
            print(f"{name:24}{val:>14}{dv:>22}{rt:>14}")
        print(f"identical arcs: {same}")
        if not same:
            raise SystemExit("sparse and dense arc tables differ")
    note = "" if args.no_dense else "; RSS is process-wide and monotone: dense includes sparse"
    print(f"(max RSS before building: {rss0:.0f} MiB{note})")
    if sp_s > 30 or sp_mib > 2048:
        raise SystemExit("target missed: sparse build must take < 30 s and < 2 GiB")


if __name__ == "__main__":
    main()
