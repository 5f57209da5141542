"""site MODEL --costs FILE: a user's own costs (long, wide, Parquet) and GeoDataFrames."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import Point

from reserve_opt.errors import InputError
from reserve_opt.io.folder import write_folder
from reserve_opt.models import siting as st
from tests.cli_runner import run_cli
from tests.test_travel_table import _far_km, _od

ROOT = Path(__file__).resolve().parents[1]
SF = ROOT / "tests" / "data" / "spopt_sf_205x16.csv"


def _long(tmp_path: Path, name: str = "sf_long") -> tuple[Path, pd.DataFrame]:
    wide = pd.read_csv(SF, dtype={"tract": str})
    long = wide.melt(id_vars=["tract", "demand"], var_name="site", value_name="cost")
    long = long.rename(columns={"tract": "client", "demand": "weight"})
    path = tmp_path / f"{name}.csv"
    long.to_csv(path, index=False)
    return path, long


def _site(*args: str) -> dict[str, object]:
    res = run_cli("site", *args, "--format", "json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert isinstance(doc, dict)
    return doc


def test_long_wide_and_parquet_costs_give_the_same_p_median(tmp_path: Path) -> None:
    long_csv, long = _long(tmp_path)
    long_pq = tmp_path / "sf_long.parquet"
    long.to_parquet(long_pq)
    wide_pq = tmp_path / "sf_wide.parquet"
    pd.read_csv(SF, dtype={"tract": str}).to_parquet(wide_pq)
    docs = [_site("p-median", "--costs", str(p), "-p", "4")
            for p in (long_csv, long_pq, wide_pq, SF)]
    for doc in docs:
        assert doc["objective"] == pytest.approx(2848268129.7145, rel=1e-9)  # the matrix's
        assert doc["open_sites"] == docs[0]["open_sites"]
    center = _site("p-center", "--costs", str(long_csv), "-p", "4")
    assert center["objective"] == pytest.approx(7403.06, abs=0.005)  # spopt's answer


def test_fixed_sites_stay_open_with_costs(tmp_path: Path) -> None:
    long_csv, _ = _long(tmp_path)
    free = _site("p-median", "--costs", str(long_csv), "-p", "4")
    assert "Store_1" not in free["open_sites"]
    fixed = _site("p-median", "--costs", str(long_csv), "-p", "4", "--fixed", "Store_1")
    assert "Store_1" in fixed["open_sites"] and len(fixed["open_sites"]) == 5


@pytest.mark.parametrize(("text", "message"), [
    ("client,site,cost\na,S1,1\na,S2,2\nb,S1,3\n",
     "error: c.csv: no cost from client 'b' to site 'S2' (1 pairs missing); give a row for "
     "every client and site (a missing cost is never assumed)."),
    ("client,site,cost\na,S1,1\na,S1,2\n",
     "error: c.csv line 3: client 'a' and site 'S1' are given twice; give each pair one row."),
    ("client,site,cost,weight\na,S1,1,5\na,S2,2,6\n",
     "error: c.csv line 3: client 'a' has weight 6 here and 5 on an earlier row; give the "
     "client one weight."),
    ("client,site,cost\na,S1,far\n",
     "error: c.csv line 2, column 'cost': 'far' is not a number; give a distance or demand "
     "from 0 up."),
    ("client,site,cost\na,S1,\n",
     "error: c.csv line 2, column 'cost': the cell is empty; give a number from 0 up (a "
     "missing cost is never assumed)."),
    ("client,site,cost,km\na,S1,1,2\n",
     "error: c.csv: column 'km' is not known; a long cost table has the columns client, "
     "site, cost and optionally weight."),
])
def test_bad_long_tables_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.csv"
    path.write_text(text)
    res = run_cli("site", "p-median", "--costs", str(path), "-p", "1")
    assert res.exit_code == 1
    assert res.stderr.splitlines() == [message]


def test_path_and_costs_are_exclusive(tmp_path: Path) -> None:
    long_csv, _ = _long(tmp_path)
    for args in (("p-median", str(SF), "--costs", str(long_csv)), ("p-median",)):
        res = run_cli("site", *args, "-p", "1")
        assert res.exit_code == 1
        assert res.stderr.splitlines() == [
            "error: Give exactly one of PATH (a benchmark file or an instance) or --costs "
            "FILE (a cost table)."]


def test_geodataframes_as_spopt_takes_them() -> None:
    clients = gpd.GeoDataFrame({"id": ["a", "b", "c"], "people": [10.0, 1.0, 1.0]},
                               geometry=[Point(123.0, 41.0), Point(123.2, 41.0),
                                         Point(124.0, 41.0)], crs="EPSG:4326")
    sites = gpd.GeoDataFrame({"name": ["S1", "S2"]},
                             geometry=[Point(123.05, 41.0), Point(123.9, 41.0)],
                             crs="EPSG:4326")
    mx = st.from_geodataframes(clients, sites, weight="people", client_id="id",
                               site_id="name")
    geod = Geod(ellps="WGS84")
    want = geod.inv(123.2, 41.0, 123.9, 41.0)[2] / 1000.0
    assert mx.distance[1, 1] == pytest.approx(want, rel=1e-9)
    r = st.p_median(mx.distance, 1, mx.demand)
    assert [mx.site_ids[j] for j in r.open_sites] == ["S1"]
    # a given matrix is used as it is (costs need not be distances)
    cost = np.array([[5.0, 1.0], [5.0, 1.0], [5.0, 1.0]])
    r = st.p_median(st.from_geodataframes(clients, sites, cost).distance, 1)
    assert r.open_sites.tolist() == [1]
    with pytest.raises(InputError, match=r"^cost_matrix: has shape \(2, 2\), the clients "):
        st.from_geodataframes(clients, sites, cost[:2])


def test_travel_csv_and_costs_table_site_the_same(tmp_path: Path) -> None:
    # the planner's slow pair (W_near -> city, 300 km) as the instance's travel.csv and as
    # a --costs table: site sees the same distance either way
    folder = write_folder(_od(slow=True), tmp_path / "od")
    far_km = _far_km(_od(slow=True))
    on_instance = _site("p-median", str(folder), "-p", "1", "--free-existing")
    costs = tmp_path / "od_costs.csv"
    costs.write_text("client,site,cost,weight\n"
                     f"city,W_near,300,100000\ncity,W_far,{far_km!r},100000\n")
    on_costs = _site("p-median", "--costs", str(costs), "-p", "1")
    assert on_instance["open_sites"] == on_costs["open_sites"] == ["W_far"]
    assert on_costs["objective"] == pytest.approx(on_instance["objective"], rel=1e-9)
