"""Excel in and out: instance workbooks round-trip, results as workbooks, bad workbooks refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from reserve_opt import InstanceBuilder, load_instance, save_instance
from reserve_opt.errors import InputError
from reserve_opt.io import to_document
from tests.cli_runner import run_cli

INSTANCES = Path(__file__).resolve().parents[1] / "instances"


@pytest.mark.parametrize("name", ["toy", "liaoning", "georgia", "rawls-turnquist"])
def test_bundled_instance_round_trips_through_a_workbook(name: str, tmp_path: Path) -> None:
    original = load_instance(INSTANCES / name)
    save_instance(original, tmp_path / f"{name}.xlsx")
    again = load_instance(tmp_path / f"{name}.xlsx")
    assert again == original
    assert to_document(again) == to_document(original)  # polygons and 17-digit floats too


def test_convert_writes_a_workbook_and_reads_it_back_as_a_folder(tmp_path: Path) -> None:
    book = tmp_path / "toy.xlsx"
    result = run_cli("convert", str(INSTANCES / "toy"), "--out", str(book))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (f"wrote {book} (4 regions, 2 commodities, 5 facilities, "
                             "3 scenarios)\n")
    assert openpyxl.load_workbook(book).sheetnames[:3] == ["instance", "regions", "commodities"]
    again = run_cli("convert", str(INSTANCES / "toy"), "--out", str(book))  # ours: replaced
    assert again.exit_code == 0, again.stderr
    itself = run_cli("convert", str(book), "--out", str(book))
    assert itself.stderr == (f"error: --out {book}: is the input {book}; write to another "
                             "place so the input stays as it is\n")
    folder = tmp_path / "toy"
    assert run_cli("convert", str(book), "--out", str(folder)).exit_code == 0
    assert load_instance(folder) == load_instance(INSTANCES / "toy")


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    b = InstanceBuilder("f", currency="USD")
    b.add_region("a", name="=HYPERLINK(\"http://x\")", population=10, lon=0.5, lat=0.5)
    b.add_commodity("w", unit="bottle", weight_kg=1.5, volume_m3=0.002, purchase_cost=1,
                    shortage_penalty=10)
    b.add_facility("f", kind="government_warehouse", region="a", lon=0.2, lat=0.2,
                   capacity_m3=5)
    b.add_scenario("s", probability=1)
    inst = b.build()
    save_instance(inst, tmp_path / "f.xlsx")
    cell = openpyxl.load_workbook(tmp_path / "f.xlsx")["regions"]["B2"]
    assert (cell.data_type, cell.value) == ("s", "=HYPERLINK(\"http://x\")")
    assert load_instance(tmp_path / "f.xlsx") == inst


def _toy_book(tmp_path: Path) -> Path:
    book = tmp_path / "toy.xlsx"
    save_instance(load_instance(INSTANCES / "toy"), book)
    return book


def test_bad_cells_are_named_by_sheet_and_row(tmp_path: Path) -> None:
    book = _toy_book(tmp_path)
    wb = openpyxl.load_workbook(book)
    wb["regions"]["C3"] = "abc"
    wb["commodities"]["A2"] = None
    wb.create_sheet("Regionz")
    wb.save(book)
    result = run_cli("validate", str(book))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert "error: toy.xlsx: sheet 'Regionz' is not a table of an instance; did you mean " \
           "'regions'?" in lines
    assert "error: toy.xlsx sheet regions row 3 (id 'river'): population 'abc' is not a " \
           "number; give a value in persons" in lines


def test_a_number_typed_into_an_id_column_is_that_id(tmp_path: Path) -> None:
    book = _toy_book(tmp_path)
    wb = openpyxl.load_workbook(book)
    ids = {c.value for c in wb["demand"]["A"][1:]} | {c.value for c in wb["scenarios"]["A"][1:]}
    for sheet in ("scenarios", "demand", "affected", "damage", "outages"):
        if sheet in wb.sheetnames:
            for cell in wb[sheet]["A"][1:]:
                if cell.value == "typhoon":
                    cell.value = 2024
    wb.save(book)
    assert "typhoon" in ids
    assert "2024" in {s.id for s in load_instance(book).scenarios}


def test_a_workbook_without_the_instance_sheet_is_refused(tmp_path: Path) -> None:
    book = _toy_book(tmp_path)
    wb = openpyxl.load_workbook(book)
    del wb["instance"]
    wb.save(book)
    with pytest.raises(InputError) as err:
        load_instance(book)
    assert str(err.value) == ("toy.xlsx: has no sheet 'instance'; add one with the columns "
                              "key and value (name, currency, ...), as 'reserve-opt convert' "
                              "writes it")


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    book = _toy_book(tmp_path)
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (64 << 20))
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    result = run_cli("validate", str(bomb))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: bomb.xlsx: part xl/worksheets/sheet2.xml expands ")
    assert result.stderr.endswith(" more than 200 times (a zip bomb?); save the workbook "
                                  "again from Excel\n")


def test_a_file_that_is_no_workbook_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "fake.xlsx"
    fake.write_text("id,name\n")
    result = run_cli("validate", str(fake))
    assert result.exit_code == 1
    assert result.stderr == ("error: fake.xlsx: is not an Excel workbook (File is not a zip "
                             "file); save it from Excel as \"Excel Workbook (*.xlsx)\"\n")


def _sheets(book: Path) -> dict[str, list[str]]:
    wb = openpyxl.load_workbook(book)
    return {name: [str(c.value) for c in wb[name][1]] for name in wb.sheetnames}


def test_plan_out_xlsx_is_a_workbook_of_its_tables_with_units(tmp_path: Path) -> None:
    book = tmp_path / "plan.xlsx"
    result = run_cli("plan", str(INSTANCES / "toy"), "--out", str(book))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith(f"\nwrote {book}\n")
    sheets = _sheets(book)
    assert next(iter(sheets)) == "solution"  # the figures first, then every table plan writes
    assert {"opened", "stock", "contracts", "flows", "shortages", "settlement",
            "costs"} <= set(sheets)
    assert sheets["stock"] == ["facility", "commodity", "existing (units)", "added (units)",
                               "total (units)"]
    assert sheets["costs"][:3] == ["currency", "fixed (CNY)", "purchase (CNY)"]
    assert "fill_rate (0-1)" in sheets["shortages"]
    assert "distance_km" in sheets["flows"]
    assert sheets["solution"] == ["key", "value"]
    # rerun: our own workbook is replaced; one saved by a person since is not
    assert run_cli("plan", str(INSTANCES / "toy"), "--out", str(book)).exit_code == 0
    wb = openpyxl.load_workbook(book)
    wb.properties.lastModifiedBy = "Zhang San"
    wb.save(book)
    again = run_cli("plan", str(INSTANCES / "toy"), "--out", str(book))
    assert again.exit_code == 1
    assert again.stderr == (f"error: --out {book}: exists and was not written by reserve-opt; "
                            "give a new file name (the file was left as it is)\n")


def test_allocate_and_route_out_xlsx(tmp_path: Path) -> None:
    alloc = tmp_path / "alloc.xlsx"
    result = run_cli("allocate", str(INSTANCES / "toy"), "-s", "typhoon", "--out", str(alloc))
    assert result.exit_code == 0, result.stderr
    sheets = _sheets(alloc)
    assert next(iter(sheets)) == "solution"
    assert {"flows", "fill", "settlement", "response", "explanations"} <= set(sheets)
    assert "quantity (units)" in sheets["flows"]
    assert "period (day)" in sheets["fill"]
    routes = tmp_path / "routes.xlsx"
    result = run_cli("route", str(INSTANCES / "toy"), "-s", "typhoon", "--max-iterations",
                     "200", "--seed", "1", "--out", str(routes))
    assert result.exit_code == 0, result.stderr
    sheets = _sheets(routes)
    assert next(iter(sheets)) == "solution"
    assert {"routes", "unmet", "deliveries"} <= set(sheets)
    assert "delivered_kg" in sheets["routes"]


def test_sweep_out_xlsx_is_refused(tmp_path: Path) -> None:
    result = run_cli("sweep", str(INSTANCES / "toy"), "--grid", str(tmp_path / "g.toml"),
                     "--out", str(tmp_path / "s.xlsx"))
    assert result.exit_code == 1
    assert result.stderr == (f"error: --out {tmp_path / 's.xlsx'}: this command adds to its "
                             "output folder as it goes, which a workbook cannot be; give a "
                             "folder name\n")


def test_a_formula_without_a_saved_value_is_refused_not_read_as_empty(tmp_path: Path) -> None:
    book = _toy_book(tmp_path)
    wb = openpyxl.load_workbook(book)
    wb["regions"]["C3"] = "=C2*2"  # openpyxl saves no value; Excel would
    wb.save(book)
    result = run_cli("validate", str(book))
    assert result.stderr == ("error: toy.xlsx sheet regions row 3: cell C3 holds a formula "
                             "with no value saved; open the workbook in Excel and save it, or "
                             "type the value\n")


def test_xml_entities_are_refused(tmp_path: Path) -> None:
    book = _toy_book(tmp_path)
    laughs = tmp_path / "laughs.xlsx"
    entities = (b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
                b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>')
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(laughs, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = (entities + data).replace(
                    b"<sheetData>", b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
                    b"&b;</t></is></c></row>", 1)
            dst.writestr(info, data)
    result = run_cli("validate", str(laughs))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: laughs.xlsx")
    assert "cannot be read" in result.stderr and result.stderr.count("\n") == 1
