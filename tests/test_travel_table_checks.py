"""The travel table's checks run a column at a time (millions of rows) and still name the
row or line of each problem, in the one-line messages of the row-by-row checks.

Each expected list below is what the row-by-row validator printed for the same file
before the columnar path existed (same order, same wording)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tomli_w

from reserve_opt import InstanceBuilder, load_instance
from reserve_opt.domain import Instance
from reserve_opt.errors import InputError
from reserve_opt.io.folder import write_folder
from reserve_opt.io.jsondoc import write_json
from reserve_opt.transport import build_arcs

_AGAIN = ("give each travel row its own from and to and scenario and vehicle_class")
_PLACE = "a region or facility id"


def _od() -> Instance:
    b = InstanceBuilder("od", currency="CNY", speed_kmh=60.0, detour_factor=1.3,
                        transport_cost_per_kg_km=0.001)
    b.add_region("city", population=100000, lon=123.0, lat=41.0)
    b.add_region("town", population=1000, lon=123.2, lat=41.1)
    b.add_commodity("water", unit="bottle", weight_kg=1.5, volume_m3=0.002, purchase_cost=2,
                    shortage_penalty=20)
    for fid, lon in (("W_near", 123.05), ("W_far", 123.6)):
        b.add_facility(fid, kind="government_warehouse", region="city", lon=lon, lat=41.0,
                       capacity_m3=100)
        b.add_stock(fid, "water", 1000)
    b.add_scenario("s", probability=1.0)
    b.add_demand("s", "city", "water", 1000)
    return b.build()


def _with_table(tmp_path: Path, name: str, write: Any) -> Path:
    folder = write_folder(_od(), tmp_path / "od")
    write(folder / name)
    manifest = tomllib.loads((folder / "instance.toml").read_text())
    manifest.setdefault("tables", {})["travel"] = name
    (folder / "instance.toml").write_text(tomli_w.dumps(manifest))
    return folder


def _problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as err:
        load_instance(path)
    return list(err.value.problems)


H = "from,to,distance_km,time_h,scenario\n"
CSV_CASES = {
    "not a number": (H + "W_near,city,300,30,\nW_far,city,abc,,\n", [
        "travel.csv line 3: distance_km 'abc' is not a number; give a value in km"]),
    "not finite": (H + "W_far,city,inf,,\nW_near,city,nan,1,\n", [
        "travel.csv line 2: distance_km 'inf' is not a finite number; give a value in km",
        "travel.csv line 3: distance_km 'nan' is not a finite number; give a value in km"]),
    "empty number": (H + "W_near,city,300,30,\nW_far,city, ,,\n", [
        "travel.csv line 3: distance_km is empty; give a value in km"]),
    "empty id": (H + ",city,3,,\nW_far,,4,,\n", [
        "travel.csv line 2: from is empty; give a value",
        "travel.csv line 3: to is empty; give a value"]),
    "below zero": (H + "W_near,city,300,-0.5,\nW_far,city,-1,,\n", [
        "travel.csv line 3: distance_km -1 is below 0; give a value of at least 0 km",
        "travel.csv line 2: time_h -0.5 is below 0; give a value of at least 0 h"]),
    "unknown ids": (H + "W_nar,city,3,,\nW_far,zzzzzz,4,,\nW_far,city,5,1,storm\n", [
        f"travel.csv line 2: from 'W_nar' is not {_PLACE}; did you mean 'W_near'?",
        f"travel.csv line 3: to 'zzzzzz' is not {_PLACE}; use the id of a region or "
        "facility, or add it",
        "travel.csv line 4: scenario 'storm' is not a scenario in scenarios.csv; use a "
        "scenario id from scenarios.csv, or add the scenario there"]),
    "normal pair again": (H + "W_near,city,3,,\nW_far,city,4,,\nW_near,city,5,,\n"
                          "W_near,city,6,,\n", [
        "travel.csv line 4: from 'W_near', to 'city' is used again (first at travel.csv "
        f"line 2); {_AGAIN}",
        "travel.csv line 5: from 'W_near', to 'city' is used again (first at travel.csv "
        f"line 2); {_AGAIN}"]),
    "scenario pair again": (H + "W_near,city,3,,\nW_near,city,4,,s\nW_near,city,5,,s\n", [
        "travel.csv line 4: from 'W_near', to 'city', scenario 's' is used again (first at "
        f"travel.csv line 3); {_AGAIN}"]),
    "self pair": (H + "city,city,3,,\nW_far,city,4,,\nW_far,W_far,5,,\n", [
        "travel.csv line 2: from and to are both 'city'; give two different places (a place "
        "to itself takes no time)",
        "travel.csv line 4: from and to are both 'W_far'; give two different places (a "
        "place to itself takes no time)"]),
    "unknown column": ("from,to,distance_km,time,scenario\nW_near,city,3,1,\n", [
        "travel.csv: column 'time' is not known; did you mean 'time_h'?"]),
    "missing column": ("from,to,time_h\nW_near,city,1\n", [
        "travel.csv: column 'distance_km' is missing; add it (km)"]),
    "short and long rows": (H + "W_near,city,3,,\nW_far,city,4\nW_far,town,5,,,,\n", [
        "travel.csv line 3: has 3 cells, fewer than the header's 5 columns (no time_h, "
        "scenario); add the missing cells, empty ones as ','",
        "travel.csv line 4: has more cells than the header's 5 columns; remove the extra "
        "cells or quote them"]),
    "quoted cells": ('"from","to","distance_km","time_h"\n"W_near","city","-3",""\n'
                     '"W_far","cty","4","1"\n', [
        "travel.csv line 2: distance_km -3 is below 0; give a value of at least 0 km",
        f"travel.csv line 3: to 'cty' is not {_PLACE}; did you mean 'city'?"]),
    "ids with spaces": (H + " W_near ,city,3,,\nW_near,city ,4,,\n", [
        "travel.csv line 3: from 'W_near', to 'city' is used again (first at travel.csv "
        f"line 2); {_AGAIN}"]),
    "header with a trailing comma": ("from,to,distance_km,\nW_near,city,3,\nW_far,cty,4,\n", [
        "travel.csv: column '' is not known; known columns are from, to, distance_km, time_h, "
        "scenario, vehicle_class",
        f"travel.csv line 3: to 'cty' is not {_PLACE}; did you mean 'city'?"]),
    "CRLF and a byte-order mark": ("\ufeff" + H.replace("\n", "\r\n")
                                   + "W_near,city,3,,\r\nW_near,city,4,,\r\n", [
        "travel.csv line 3: from 'W_near', to 'city' is used again (first at travel.csv "
        f"line 2); {_AGAIN}"]),
    "quoted comma and line break": (H + '"W_near, x",city,3,,\nW_far,"ci\nty",4,,\n'
                                    "W_far,town,-2,,\n", [
        "travel.csv line 4: distance_km -2 is below 0; give a value of at least 0 km",
        f"travel.csv line 2: from 'W_near, x' is not {_PLACE}; did you mean 'W_near'?",
        f"travel.csv line 3: to 'ci\nty' is not {_PLACE}; did you mean 'city'?"]),
    "Chinese ids": (H + "仓库,city,3,,\nW_far,城市,4,,\n", [
        f"travel.csv line 2: from '仓库' is not {_PLACE}; use the id of a region or facility, "
        "or add it",
        f"travel.csv line 3: to '城市' is not {_PLACE}; use the id of a region or facility, "
        "or add it"]),
    "several at once": (H + "W_near,cty,x,-1,\n,city,,,\nW_near,cty,x,-1,\ntown,town,2,,s\n", [
        "travel.csv line 3: from is empty; give a value",
        "travel.csv line 2: distance_km 'x' is not a number; give a value in km",
        "travel.csv line 3: distance_km is empty; give a value in km",
        "travel.csv line 4: distance_km 'x' is not a number; give a value in km",
        "travel.csv line 2: time_h -1 is below 0; give a value of at least 0 h",
        "travel.csv line 4: time_h -1 is below 0; give a value of at least 0 h",
        "travel.csv line 4: from 'W_near', to 'cty' is used again (first at travel.csv line "
        f"2); {_AGAIN}",
        f"travel.csv line 2: to 'cty' is not {_PLACE}; did you mean 'city'?",
        f"travel.csv line 4: to 'cty' is not {_PLACE}; did you mean 'city'?",
        "travel.csv line 5: from and to are both 'town'; give two different places (a place "
        "to itself takes no time)"]),
}


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_csv_travel_problems_name_their_line(case: str, tmp_path: Path) -> None:
    text, expected = CSV_CASES[case]
    folder = _with_table(tmp_path, "travel.csv", lambda p: p.write_text(text))
    assert _problems(folder) == expected


PARQUET_CASES: dict[str, tuple[dict[str, list[Any]], list[str]]] = {
    "several at once": ({
        "from": ["W_near", "W_far", "W_near", "city", None, "W_far"],
        "to": ["city", "cty", "city", "city", "town", "town"],
        "distance_km": [300.0, 10.0, 310.0, 1.0, 2.0, float("inf")],
        "time_h": [30.0, None, None, None, -1.0, None]}, [
        "travel.parquet row 5: from is empty; give a value",
        "travel.parquet row 6: distance_km inf is not a finite number; give a value in km",
        "travel.parquet row 5: time_h -1 is below 0; give a value of at least 0 h",
        "travel.parquet row 3: from 'W_near', to 'city' is used again (first at "
        f"travel.parquet row 1); {_AGAIN}",
        f"travel.parquet row 2: to 'cty' is not {_PLACE}; did you mean 'city'?",
        "travel.parquet row 4: from and to are both 'city'; give two different places (a "
        "place to itself takes no time)"]),
    "unknown scenario": ({
        "from": ["W_near"] * 3, "to": ["city"] * 3, "distance_km": [1.0, 2.0, 3.0],
        "scenario": [None, "s", "t"]}, [
        "travel.parquet row 3: scenario 't' is not a scenario in scenarios.csv; use a "
        "scenario id from scenarios.csv, or add the scenario there"]),
    "ids as numbers": ({"from": [1, 2], "to": ["city", "city"], "distance_km": [1.0, 2.0]}, [
        "travel.parquet row 1: from 1 is not text; write it as text (in quotes)",
        "travel.parquet row 2: from 2 is not text; write it as text (in quotes)",
        "travel.parquet row 2: to 'city' is used again (first at travel.parquet row 1); "
        f"{_AGAIN}"]),
    "numbers as text": ({"from": ["W_near", "W_far"], "to": ["city", "city"],
                         "distance_km": ["1", "x"]}, [
        "travel.parquet row 2: distance_km 'x' is not a number; give a value in km"]),
}


@pytest.mark.parametrize("case", list(PARQUET_CASES))
def test_parquet_travel_problems_name_their_row(case: str, tmp_path: Path) -> None:
    columns, expected = PARQUET_CASES[case]
    folder = _with_table(tmp_path, "travel.parquet",
                         lambda p: pq.write_table(pa.table(columns), p))
    assert _problems(folder) == expected


def test_json_travel_problems_name_their_element(tmp_path: Path) -> None:
    path = write_json(_od(), tmp_path / "od.json")
    doc = json.loads(path.read_text())
    doc["travel"] = [{"from": "W_near", "to": "city", "distance_km": True},
                     {"from": 7, "to": "city", "distance_km": 1},
                     {"from": "W_far", "to": "city", "distance_km": "2.5", "time_h": "x"}]
    path.write_text(json.dumps(doc))
    assert _problems(path) == [
        "od.json travel[1]: from 7 is not text; write it as text (in quotes)",
        "od.json travel[0]: distance_km true is not a number; give a value in km",
        "od.json travel[2]: time_h 'x' is not a number; give a value in h"]


def test_rows_in_later_row_groups_keep_their_number(tmp_path: Path) -> None:
    # one row per row group, each group with its own dictionary: the codes are merged
    places = ["W_near", "W_far", "city", "town"]
    pairs = [(a, b) for a in places for b in places if a != b]  # 12 pairs
    frm, to = [a for a, _ in pairs], [b for _, b in pairs]
    to[10] = "cty"
    frm.append("W_near")
    to.append("W_far")  # row 13 repeats row 1
    columns = {"from": frm, "to": to, "distance_km": np.arange(13.0),
               "scenario": pa.array([None] * 13, pa.string())}
    folder = _with_table(tmp_path, "travel.parquet", lambda p: pq.write_table(
        pa.table(columns), p, row_group_size=1))
    assert pq.ParquetFile(folder / "travel.parquet").metadata.num_row_groups == 13
    assert _problems(folder) == [
        "travel.parquet row 13: from 'W_near', to 'W_far' is used again (first at "
        f"travel.parquet row 1); {_AGAIN}",
        f"travel.parquet row 11: to 'cty' is not {_PLACE}; did you mean 'city'?"]


def test_a_read_table_is_codes_and_numbers_and_gives_the_same_arcs(tmp_path: Path) -> None:
    inst = _od()
    rows = [("W_near", "city", 300.0, 30.0, None), ("W_far", "town", 20.0, None, None),
            ("W_far", "city", 80.0, 2.0, "s"), ("W_near", "town", 5.0, 0.1, None)]
    folder = _with_table(tmp_path, "travel.parquet", lambda p: pq.write_table(pa.table({
        "from": [r[0] for r in rows], "to": [r[1] for r in rows],
        "distance_km": [r[2] for r in rows], "time_h": [r[3] for r in rows],
        "scenario": [r[4] for r in rows]}), p, row_group_size=2))
    tr = load_instance(folder).travel
    # no Python object per row: places and scenarios are integer codes
    assert (tr.origin.dtype, tr.destination.dtype, tr.scenario.dtype) == (np.int32,) * 3
    assert (tr.distance_km.dtype, tr.time_h.dtype) == (np.float64,) * 2
    assert list(tr.rows()) == [(*r, None) for r in rows]
    b = InstanceBuilder.from_instance(inst)
    for a, c, km, h, sc in rows:
        b.add_travel(a, c, km, h, scenario=sc)
    built = b.build()
    assert built.travel == tr
    read, made = build_arcs(load_instance(folder)), build_arcs(built)
    for x, y in zip(read.scenarios, made.scenarios, strict=True):
        for field in ("source", "region", "distance_km", "time_h", "time_source"):
            assert getattr(x, field).tolist() == getattr(y, field).tolist()
    # in scenario s, W_far -> city is the scenario's row; W_far -> town takes km / speed
    df = read.to_frame().set_index(["source", "region"])
    assert df.loc[("W_far", "city"), ["distance_km", "time_h", "time_source"]].tolist() == [
        80.0, 2.0, "table"]
    assert df.loc[("W_far", "town"), ["distance_km", "time_h"]].tolist() == [
        20.0, pytest.approx(20.0 / 60.0)]


def test_arcs_do_not_share_the_instance_s_table(tmp_path: Path) -> None:
    b = InstanceBuilder.from_instance(_od())
    for a in ("W_near", "W_far"):
        for c, km in (("city", 10.0), ("town", 20.0)):
            b.add_travel(a, c, km, 1.0)
    inst = b.build()
    sa = build_arcs(inst).scenario("s")
    assert sa.time_source.tolist() == [0, 0, 0, 0]  # a full matrix, in order: no sort
    sa.distance_km[:] = 0.0
    assert inst.travel.distance_km.tolist() == [10.0, 20.0, 10.0, 20.0]
    with pytest.raises(ValueError, match="read-only"):
        inst.travel.distance_km[0] = 1.0


@pytest.mark.parametrize(("text", "by_arrow"), [
    (H + "W_near,city,3,,\nW_far,cty,-4,1,s\n", True),
    (H + "W_near,city,3,,\nW_far,city,4\n", False),   # a short row: the row reader names it
    (H + "W_near,city,inf,,\n", False),                 # 'inf' is quoted as written
    (H + "W_near,city,abc,,\n", False),
])
def test_plain_csv_is_read_by_arrow_and_the_rest_row_by_row(text: str, by_arrow: bool,
                                                            tmp_path: Path) -> None:
    from reserve_opt.io.folder import read_table_file

    (tmp_path / "travel.csv").write_text(text)
    table = read_table_file("travel", tmp_path / "travel.csv", [])
    assert table is not None
    assert (table.frame is not None) is by_arrow
    assert (len(table.rows) == 0) is by_arrow
