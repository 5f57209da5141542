"""Origin-destination matrices (the wide travel form): melted into the one travel table, checked
by its rules with each cell named by its row (origin) and column (destination)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tomli_w

from reserve_opt import InstanceBuilder, load_instance
from reserve_opt.errors import InputError
from reserve_opt.io.folder import write_folder
from reserve_opt.io.jsondoc import write_json
from reserve_opt.models.allocation import solve_allocation
from reserve_opt.transport import build_arcs
from tests.cli_runner import run_cli
from tests.test_travel_table_checks import _od

# the long table the matrices below stand for (in the distance matrix's row order)
LONG = [("W_near", "city", 300.0, 30.0, None), ("W_near", "town", 5.0, 0.1, None),
        ("W_far", "town", 20.0, None, None), ("W_far", "city", 80.0, 2.0, "s")]
ROWS = [(*r, None) for r in LONG]  # as TravelTable.rows() gives them: no vehicle class
KM = "from,city,town,W_near\nW_near,300,5,0\nW_far,,20,\n"
HOURS = "from,city,town\nW_near,30,0.1\nW_far,,\n"


def _folder(tmp_path: Path, files: dict[str, Any], **tables: str) -> Path:
    folder = write_folder(_od(), tmp_path / "od")
    for name, content in files.items():
        if isinstance(content, str):
            (folder / name).write_text(content, encoding="utf-8")
        else:
            pq.write_table(content, folder / name)
    manifest = tomllib.loads((folder / "instance.toml").read_text())
    manifest["tables"].update(tables)
    (folder / "instance.toml").write_text(tomli_w.dumps(manifest))
    return folder


def _wide(tmp_path: Path) -> Path:
    return _folder(tmp_path, {"od_km.csv": KM, "od_hours.csv": HOURS,
                              "s_km.csv": "o,city\nW_far,80\n", "s_h.csv": "o,city\nW_far,2\n"},
                   travel_distance_km="od_km.csv", travel_time_h="od_hours.csv",
                   **{"travel_distance_km:s": "s_km.csv", "travel_time_h:s": "s_h.csv"})


def _problems(folder: Path) -> list[str]:
    with pytest.raises(InputError) as err:
        load_instance(folder)
    return list(err.value.problems)


def test_matrices_give_the_long_table_and_its_arcs_and_answers(tmp_path: Path) -> None:
    wide = load_instance(_wide(tmp_path))
    assert list(wide.travel.rows()) == ROWS
    b = InstanceBuilder.from_instance(_od())
    for a, c, km, h, sc in LONG:
        b.add_travel(a, c, km, h, scenario=sc)
    long = b.build()
    assert wide == long
    read, made = build_arcs(wide), build_arcs(long)
    for x, y in zip(read.scenarios, made.scenarios, strict=True):
        for field in ("source", "region", "distance_km", "time_h", "time_source"):
            assert getattr(x, field).tolist() == getattr(y, field).tolist()
    df = read.to_frame().set_index(["source", "region"])
    assert df.loc[("W_near", "town"), ["distance_km", "time_h", "time_source"]].tolist() == [
        5.0, 0.1, "table"]
    # a distance without a time takes distance / speed_kmh, as an empty time_h does
    assert df.loc[("W_far", "town"), "time_h"] == pytest.approx(20.0 / 60.0)
    got, want = solve_allocation(wide, "s").flows, solve_allocation(long, "s").flows
    assert got.to_dict("records") == want.to_dict("records")


def test_parquet_matrix_reads_as_the_csv_one(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {
        "od_km.parquet": pa.table({"from": ["W_near", "W_far"], "city": [300.0, None],
                                   "town": [5.0, 20.0], "W_near": [0.0, None]}),
        "od_hours.parquet": pa.table({"from": ["W_near", "W_far"], "city": [30.0, None],
                                      "town": [0.1, None]})},
        travel_distance_km="od_km.parquet", travel_time_h="od_hours.parquet")
    assert list(load_instance(folder).travel.rows()) == ROWS[:3]


def test_distances_alone_take_speed_for_time(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"od_km.csv": KM}, travel_distance_km="od_km.csv")
    assert list(load_instance(folder).travel.rows()) == [
        ("W_near", "city", 300.0, None, None, None), ("W_near", "town", 5.0, None, None, None),
        ("W_far", "town", 20.0, None, None, None)]


CASES = {
    "bad cells": ({"od_km.csv": "from,city,town\nW_near,300,-1\nW_far,,20\n",
                   "od_hours.csv": "from,city,town\nW_near,30,x\nW_far,2,\n"}, [
        "od_km.csv row 'W_near' column 'town': distance_km -1 is below 0; give a value of at "
        "least 0 km",
        "od_hours.csv row 'W_near' column 'town': time_h 'x' is not a number; give a value "
        "in h",
        "od_hours.csv row 'W_far' column 'city': has a time but od_km.csv gives no distance "
        "for the pair; give its distance_km there"]),
    "unknown places and a place to itself": (
        {"od_km.csv": "from,cty,W_far\nW_far,3,7\n"}, [
            "od_km.csv row 'W_far' column 'cty': to 'cty' is not a region or facility id; "
            "did you mean 'city'?",
            "od_km.csv row 'W_far' column 'W_far': from and to are both 'W_far'; give two "
            "different places (a place to itself takes no time)"]),
    "repeated origin": ({"od_km.csv": "from,city\nW_far,1\n\nW_far,2\n"}, [
        "od_km.csv: origin 'W_far' heads both line 2 and line 4; keep one"]),
    "repeated destination": ({"od_km.csv": "from,city, city\nW_far,1,2\n"}, [
        "od_km.csv: destination 'city' heads both column 2 and column 3; keep one"]),
    "ragged line": ({"od_km.csv": "from,city,town\nW_far,1\n"}, [
        "od_km.csv line 2: has 2 cells, not the header's 3; give each origin one cell per "
        "destination (empty ones as ',')"]),
    "no origin id": ({"od_km.csv": "from,city\n,1\n"}, [
        "od_km.csv: line 2 has no origin id; give the id of a region or facility"]),
    "times alone": ({"od_hours.csv": HOURS}, [
        "od_hours.csv: gives travel times for normal conditions but no matrix gives their "
        "distances; name one under [tables] as \"travel_distance_km\" (a distance is not "
        "derived from a time)"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matrix_problems_name_file_row_and_column(case: str, tmp_path: Path) -> None:
    files, expected = CASES[case]
    keys = {("travel_time_h" if "hours" in n else "travel_distance_km"): n for n in files}
    assert _problems(_folder(tmp_path, files, **keys)) == expected


def test_one_form_of_travel_at_a_time(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"od_km.csv": KM,
                                "travel.csv": "from,to,distance_km\nW_far,city,5\n"},
                     travel_distance_km="od_km.csv", travel="travel.csv")
    res = run_cli("validate", str(folder))
    assert res.exit_code == 1
    assert res.stderr.splitlines() == [
        "error: instance.toml: [tables] travel_distance_km names an origin-destination matrix "
        "and travel.csv gives travel too; keep one form (the long travel table or the "
        "matrices)"]


def test_manifest_keys_of_matrices(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"od_km.csv": KM},
                     **{"travel_distance_km:": "od_km.csv", "travel_time_h": "gone.csv"})
    assert _problems(folder) == [
        "instance.toml: [tables] 'travel_distance_km:' names no scenario after the ':'; write "
        "e.g. \"travel_distance_km:typhoon\"",
        "instance.toml: [tables] travel_time_h names gone.csv, which is not a file in the "
        "instance folder; fix the file name"]


def test_folder_to_json_to_folder_carries_the_long_table(tmp_path: Path) -> None:
    wide = load_instance(_wide(tmp_path))
    doc = write_json(wide, tmp_path / "od.json")
    assert [tuple(r.values()) for r in json.loads(doc.read_text())["travel"]] == LONG
    again = load_instance(doc)
    assert again == wide
    folder = write_folder(again, tmp_path / "back")
    assert (folder / "travel.csv").read_text().splitlines()[:2] == [
        "from,to,distance_km,time_h,scenario", "W_near,city,300.0,30.0,"]
    assert load_instance(folder) == wide


def test_a_misspelt_matrix_key_names_the_matrix_keys(tmp_path: Path) -> None:
    from reserve_opt.io.spec import TABLE_BY_NAME

    folder = _folder(tmp_path, {"od_km.csv": KM}, travel_km="od_km.csv")
    assert _problems(folder) == [
        f"instance.toml: [tables] names table 'travel_km', which is not known; use one of "
        f"{', '.join(TABLE_BY_NAME)}, travel_distance_km, travel_time_h (origin-destination "
        f"matrices)"]


def test_a_matrix_for_an_unknown_scenario_is_said_once(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"od_km.csv": KM}, **{"travel_distance_km:typhon": "od_km.csv"})
    assert _problems(folder) == [
        "instance.toml: [tables] travel_distance_km:typhon names scenario 'typhon', which is "
        "not in scenarios.csv; use a scenario id from there"]


def test_parquet_matrix_shape_problems(tmp_path: Path) -> None:
    no_id = _folder(tmp_path / "a", {"od_km.parquet": pa.table(
        {"from": ["W_far", None], "city": [1.0, 2.0]})}, travel_distance_km="od_km.parquet")
    assert _problems(no_id) == [
        "od_km.parquet: row 2 has no origin id; give the id of a region or facility"]
    numbers = _folder(tmp_path / "b", {"od_km.parquet": pa.table(
        {"from": [1, 2], "city": [1.0, 2.0]})}, travel_distance_km="od_km.parquet")
    assert _problems(numbers) == [
        "od_km.parquet: its first column 'from' is not text; it holds the origin ids"]
