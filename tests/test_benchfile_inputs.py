"""Hostile benchmark files and command arguments of route, site and allocate (issue 11).

Each case ends valid, or with one ``error:`` line and exit code 1 (never an internal
error, a hang or a silent acceptance). Every file is written here, in ``tmp_path``; the
few solves run a handful of clients with an iteration limit, never a time limit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reserve_opt.errors import InputError
from reserve_opt.models.routing import read_bks, read_cordeau, read_solomon, read_vrplib
from reserve_opt.models.siting import read_orlib_cap, read_orlib_pmed
from reserve_opt.models.siting.orlib import read_optima_file
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "toy"

# ---------------------------------------------------------------------------- VRPLIB

VRP = """NAME : tiny
COMMENT : four nodes
TYPE : CVRP
DIMENSION : 4
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
NODE_COORD_SECTION
1 0 0
2 3 4
3 6 8
4 -3 4
DEMAND_SECTION
1 0
2 3
3 4
4 5
DEPOT_SECTION
1
-1
EOF
"""


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def one_error(*args: str) -> str:
    """The single stderr line of a command that must fail with exit code 1."""
    result = run_cli(*args)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr.rstrip("\n")


def reader_error(reader, path: Path) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as err:
        reader(path)
    assert len(err.value.problems) == 1
    return err.value.problems[0]


def route_file(path: Path, fmt: str, *more: str) -> tuple[int, str, str]:
    result = run_cli("route", str(path), "--input-format", fmt, "--max-iterations", "50",
                     *more)
    return result.exit_code, result.stdout, result.stderr


def test_vrplib_a_billion_vehicles_is_one_per_client(tmp_path: Path) -> None:
    path = write(tmp_path, "fleet.vrp", VRP.replace("CAPACITY : 10\n",
                                                    "CAPACITY : 10\nVEHICLES : 1000000000\n"))
    assert read_vrplib(path).vehicle_types[0].count == 3
    code, out, err = route_file(path, "vrplib")
    assert (code, err) == (0, "")
    assert out.startswith("fleet: solved with pyvrp")


def test_vrplib_non_utf8_comment_reads(tmp_path: Path) -> None:
    path = write(tmp_path, "latin.vrp",
                 VRP.replace("four nodes", "caf\xe9").encode("latin-1") + b"\xff\n")
    assert read_vrplib(path).n_clients == 3


@pytest.mark.parametrize(("old", "new", "message"), [
    ("4 5\nDEPOT", "DEPOT",
     "{path}: node 4 has no line in DEMAND_SECTION; give every node its demand (0 for a "
     "depot)."),
    ("SECTION\n1\n-1", "SECTION\n7\n-1",
     "{path} line 18: depot 7 is not a node of NODE_COORD_SECTION; name one of its nodes."),
    ("3 6 8", "2 6 8",
     "{path} line 10: node 2 is listed a second time in NODE_COORD_SECTION (first on line "
     "9); give each node once."),
    ("3 4\n4 5", "3 4\n3 5",
     "{path} line 16: node 3 is listed a second time in DEMAND_SECTION (first on line 15); "
     "give each node once."),
    ("4 -3 4\n", "",
     "{path}: DIMENSION is 4 but NODE_COORD_SECTION lists 3 nodes; the file is cut short or "
     "DIMENSION is wrong."),
    ("1\n-1\nEOF", "1\n",
     "{path}: DEPOT_SECTION does not end with -1; the file looks cut short."),
    ("CAPACITY : 10", "CAPACITY : 10\nDISTANCE : 50",
     "{path} line 7: header key DISTANCE is not supported; this reader takes CVRP files "
     "(NAME, COMMENT, TYPE, DIMENSION, EDGE_WEIGHT_TYPE, CAPACITY, VEHICLES)."),
    ("CAPACITY : 10", "CAPACITY : 10\nVEHICLES : 0",
     "{path} line 7: VEHICLES 0 must be at least 1; fix the file."),
    ("DIMENSION : 4", "DIMENSION : 1000000000",
     "{path}: DIMENSION gives 1000000000 locations (depots and clients); this reader takes "
     "at most 5000, as it builds dense distance matrices."),
    ("2 3 4", "2 3 1e400",
     "{path} line 9: y 1e400 is beyond 1e+09, the largest this reader takes; fix the file."),
    ("3 4\n4 5", "3 1000000000\n4 5",  # it was split into 10^8 loads and never answered
     "{path}: client 3 has demand 1e+09, above the vehicle capacity 10; one vehicle serves "
     "each client of this format, so lower the demand or raise the capacity."),
])
def test_vrplib_refusals(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in VRP
    path = write(tmp_path, "bad.vrp", VRP.replace(old, new))
    assert reader_error(read_vrplib, path) == message.format(path=path)
    assert one_error("route", str(path), "--input-format", "vrplib") == (
        "error: " + message.format(path=path))


# ---------------------------------------------------------------------------- Solomon

SOLOMON = """TINY1

VEHICLE
NUMBER     CAPACITY
  3         200

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      40         50          0          0       1236          0
    1      45         68         10        912        967         90
    2      45         70         30        825        870         90
    3      42         66         10         65        146         90
    4      42         68         10        727        782         90
    5      42         65         10         15         67         90
    6      40         69         20        621        702         90
"""


def test_solomon_cut_inside_a_customer_line_is_refused(tmp_path: Path) -> None:
    cut = SOLOMON[: SOLOMON.index("    4      42") + 30] + "\n"
    path = write(tmp_path, "cut.txt", cut)
    assert reader_error(read_solomon, path) == (
        f"{path} line 14: stops after 3 of the 7 columns (customer, x, y, demand, ready time, "
        "due date, service time); the file looks cut short.")


def test_solomon_cut_inside_the_last_number_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "cut.txt", SOLOMON.rstrip("\n")[:-1])
    assert reader_error(read_solomon, path) == (
        f"{path}: its last line (16) has no line break, so the file may be cut inside it; if "
        "the file is complete, end it with a newline.")


@pytest.mark.parametrize(("old", "new", "message"), [
    ("    3      42", "    2      42",
     "{path} line 13: customer 2 is listed a second time; give each customer once."),
    ("    3      42", "    9      42",
     "{path} line 13: customer 9 stands where customer 3 belongs; Solomon files number "
     "customers 0 (the depot), 1, 2, ... in order."),
    ("  3         200", "  -3         200",
     "{path} line 5: vehicle NUMBER -3 must be at least 1; fix the file."),
    ("10        912        967", "10        968        967",
     "{path} line 11: ready time 968 is after due date 967; fix the time window."),
])
def test_solomon_refusals(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in SOLOMON
    path = write(tmp_path, "bad.txt", SOLOMON.replace(old, new, 1))
    assert reader_error(read_solomon, path) == message.format(path=path)


def test_solomon_whole_file_and_a_huge_fleet_solve(tmp_path: Path) -> None:
    path = write(tmp_path, "tiny1.txt", SOLOMON.replace("  3         200",
                                                        "  1000000000         200"))
    problem = read_solomon(path)
    assert (problem.n_clients, problem.vehicle_types[0].count) == (6, 6)
    code, out, err = route_file(path, "solomon")
    assert (code, err) == (0, "")
    assert out.startswith("tiny1: solved with pyvrp")


# ---------------------------------------------------------------------------- Cordeau

CORDEAU = """2 2 3 2
0 80
0 80
1 37 52 0 7 1 4 1 2 4 8
2 49 49 0 30 1 4 1 2 4 8
3 52 64 0 16 1 4 1 2 4 8
4 20 20 0 0 0 0
5 30 40 0 0 0 0
"""


@pytest.mark.parametrize(("header", "message"), [
    ("2 2 -50 2", "{path} line 1: n (customers) -50 must be at least 1; fix the file."),
    ("2 -2 3 2", "{path} line 1: m (vehicles per depot) -2 must be at least 1; fix the file."),
    ("2 2 3 0", "{path} line 1: t (depots) 0 must be at least 1; fix the file."),
    ("2 2 3.5 2", "{path} line 1: n (customers) 3.5 is not a whole number; fix the file."),
    ("2 2 1000000000 2",
     "{path}: the header announces 1000000002 locations (depots and clients); this reader "
     "takes at most 5000, as it builds dense distance matrices."),
    ("2 2 4 2",
     "{path}: the header announces 4 customers and 2 depots, so 9 lines (header, 2 limits, 4 "
     "customers, 2 depots), but the file has 8; it is cut short or the header is wrong."),
])
def test_cordeau_absurd_headers(tmp_path: Path, header: str, message: str) -> None:
    path = write(tmp_path, "p99", CORDEAU.replace("2 2 3 2", header, 1))
    assert reader_error(read_cordeau, path) == message.format(path=path)


def test_cordeau_duplicate_id_and_cut_line(tmp_path: Path) -> None:
    path = write(tmp_path, "p98", CORDEAU.replace("5 30 40", "2 30 40"))
    assert reader_error(read_cordeau, path) == (
        f"{path} line 8: id 2 is used a second time (first on line 5); give each customer and "
        "depot its own id.")
    path = write(tmp_path, "p97", CORDEAU.replace("3 52 64 0 16 1 4 1 2 4 8", "3 52 64"))
    assert reader_error(read_cordeau, path) == (
        f"{path} line 6: a customer line holds at least 5 values, found 3; the file looks cut "
        "short or damaged.")


def test_cordeau_a_huge_fleet_is_one_vehicle_per_customer(tmp_path: Path) -> None:
    path = write(tmp_path, "p96", CORDEAU.replace("2 2 3 2", "2 1000000000 3 2", 1))
    problem = read_cordeau(path)
    assert [vt.count for vt in problem.vehicle_types] == [3, 3]


# ------------------------------------------------------------ files beside a benchmark


def test_a_corrupt_sol_beside_the_file_is_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "tiny.vrp", VRP)
    sol = write(tmp_path, "tiny.sol", "Route #1: 2 x\nCost 30\n")
    code, out, err = route_file(path, "vrplib")
    assert code == 0
    assert err == (f"warning: {sol} line 1: route stop 'x' is not a client number; going on "
                   "without the best-known comparison.\n")
    assert "no best-known solution found beside the file" in out
    write(tmp_path, "tiny.sol", "Route #1: 2 3\nRoute #2: 4\n")
    code, out, err = route_file(path, "vrplib")
    assert code == 0 and err == (f"warning: {sol}: has no 'Cost' line; a .sol file ends with "
                                 "'Cost <value>'; going on without the best-known "
                                 "comparison.\n")
    write(tmp_path, "tiny.sol", "Route #1: 2 3\nRoute #2: 4\nCost 30\n")
    code, out, err = route_file(path, "vrplib")
    assert (code, err) == (0, "")
    assert "best known 30.0, gap 0.00%" in out


@pytest.mark.parametrize(("table", "warning"), [
    ("name,value\ntiny,3\n",
     "{bks}: has no column instance, bks; a BKS.csv has instance and bks columns (and "
     "optionally kind, file, n_customers, n_depots, bks_routes, distance_convention)"),
    ("instance,bks\ntiny,abc\n", "{bks} line 2: bks 'abc' is not a number; fix the file"),
    ("instance,bks,n_customers\ntiny,30,100\n",
     "{bks} lists tiny with 100 customers, but tiny.vrp has 3"),
    (b"\xff\xfe\x00", "{bks}: has no column instance, bks; a BKS.csv has instance and bks "
     "columns (and optionally kind, file, n_customers, n_depots, bks_routes, "
     "distance_convention)"),
])
def test_a_bks_table_of_another_layout_is_a_warning(tmp_path: Path, table: str | bytes,
                                                    warning: str) -> None:
    folder = tmp_path / "cvrp"
    folder.mkdir()
    path = write(folder, "tiny.vrp", VRP)
    bks = write(tmp_path, "BKS.csv", table)
    code, out, err = route_file(path, "vrplib")
    assert code == 0
    assert err == ("warning: " + warning.format(bks=bks)
                   + "; going on without the best-known comparison.\n")
    assert out.startswith("tiny: solved with pyvrp")


def test_bks_reader_takes_a_minimal_table(tmp_path: Path) -> None:
    entry = read_bks(write(tmp_path, "BKS.csv", "instance,bks\ntiny,30\n"))["tiny"]
    assert (entry.bks, entry.n_customers, entry.kind) == (30.0, None, "")


# ------------------------------------------------------------------- route arguments

def test_route_seed_out_of_range() -> None:
    assert one_error("route", str(TOY), "--scenario", "snow", "--seed", "-1") == (
        "error: --seed -1: give a whole number from 0 to 4294967295.")


def test_route_empty_deliveries_files(tmp_path: Path) -> None:
    empty = write(tmp_path, "empty.csv", "")
    assert one_error("route", str(TOY), "--scenario", "snow", "--deliveries", str(empty)) == (
        f"error: --deliveries {empty}: the file is empty; give a header line with source, "
        "region, commodity, quantity and an optional ready_h and period, and one line per "
        "delivery.")
    header = write(tmp_path, "header.csv", "source,region,commodity,quantity\n")
    assert one_error("route", str(TOY), "--scenario", "snow", "--deliveries", str(header)) == (
        f"error: --deliveries {header}: lists no delivery under its header; add one line per "
        "delivery, or route the allocation without --deliveries.")


@pytest.mark.parametrize("quantity", ["1e308", "1e9"])
def test_route_a_quantity_beyond_any_fleet_is_refused_before_packing(tmp_path: Path,
                                                                     quantity: str) -> None:
    rows = write(tmp_path, "d.csv",
                 f"source,region,commodity,quantity\nW_north,sea,water,{quantity}\n")
    shown = f"{float(quantity):g}"
    assert one_error("route", str(TOY), "--scenario", "snow", "--deliveries", str(rows)) == (
        f"error: Delivery row 0: {shown} units need more than 5000 vehicle loads; a day's "
        "routing takes at most 5000: check the quantity, or route the day in parts.")


def test_route_period_outside_the_event(tmp_path: Path) -> None:
    rows = write(tmp_path, "d.csv", "source,region,commodity,quantity\nW_north,sea,water,1\n")
    for period in ("99", "0"):
        assert one_error("route", str(TOY), "--scenario", "typhoon", "--deliveries", str(rows),
                         "--period", period) == (
            f"error: --period {period}: scenario typhoon (3 days) is allocated over periods 1 "
            "to 3; give a period from 1 to 3.")


@pytest.mark.parametrize(("item", "message"), [
    ("D_sea=-5", "--max-vehicle-kg D_sea=-5: KG must be a positive number of kilograms, e.g. "
                 "D_dl_school=2000."),
    ("D_sea=nan", "--max-vehicle-kg D_sea=nan: KG must be a positive number of kilograms, "
                  "e.g. D_dl_school=2000."),
    ("D_sea=inf", "--max-vehicle-kg D_sea=inf: KG must be a positive number of kilograms, "
                  "e.g. D_dl_school=2000."),
    ("D_sea=heavy", "--max-vehicle-kg D_sea=heavy: KG must be a positive number of "
                    "kilograms, e.g. D_dl_school=2000."),
    ("=500", "--max-vehicle-kg =500: write POINT=KG, e.g. D_dl_school=2000."),
    ("X=500", "--max-vehicle-kg X: no region receives goods there (a region with demand "
              "points is served at them, else at its distribution points, else at its seat); "
              "name one of those places"),
])
def test_route_max_vehicle_kg(item: str, message: str) -> None:
    assert one_error("route", str(TOY), "--scenario", "snow", "--max-vehicle-kg", item) == (
        "error: " + message)


def test_route_instance_options_refused_for_a_benchmark_file(tmp_path: Path) -> None:
    path = write(tmp_path, "tiny.vrp", VRP)
    assert one_error("route", str(path), "--input-format", "vrplib", "--period", "2",
                     "--max-vehicle-kg", "A=5") == (
        "error: --period, --max-vehicle-kg: for instances only; a benchmark file takes "
        "--input-format with the engine, time, seed and output options.")


def test_route_infinite_time_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "tiny.vrp", VRP)
    assert one_error("route", str(path), "--input-format", "vrplib", "--time-limit", "inf") == (
        "error: time_limit_s must be a positive number of seconds, got inf.")


# ------------------------------------------------------------------------ OR-Library

# m=2 warehouses, n=2 customers (demand 5 each); serving all of customer 1 costs 1 from
# warehouse 1 and 5 from 2, customer 2 costs 8 and 2. Fixed costs 10 and 20.
# UFLP optimum: open warehouse 1 only, 10 + 1 + 8 = 19. With capacity 6 both must open:
# 30 + 1 + 2 = 33; with capacity 10, 19 again.
CAPX = "2 2\n capacity 10.\n capacity 20.\n 5 1 5\n 5 8 2\n"


def test_uflp_reads_an_optima_file_whose_header_is_not_utf8(tmp_path: Path) -> None:
    cap = write(tmp_path, "cap81.txt", CAPX.replace("capacity", "100"))
    write(tmp_path, "uncapopt.txt", b"Data file\xa0\xe9 Optimal solution value\ncap81 19.000\n")
    result = run_cli("site", "uflp", str(cap))
    assert result.exit_code == 0, result.output
    assert "known optimum 19 (uncapopt.txt): matches" in result.stdout


def test_capa_needs_a_capacity_and_reads_its_optima_lines(tmp_path: Path) -> None:
    capa = write(tmp_path, "capa.txt", CAPX)
    write(tmp_path, "capopt.txt", "Data file   Optimal solution value\ncap41 1040444.375\n"
                                  "capa        6     33.000\n            10    19.000\n")
    write(tmp_path, "uncapopt.txt", "Data file   Optimal solution value\ncapa 19.000\n")
    assert one_error("site", "cflp", str(capa)) == (
        "error: capa.txt: writes the word 'capacity' in place of the warehouse capacities, one "
        "file for four problems; give the capacity with --capacity N (capa: 8000, 10000, 12000 "
        "or 14000 in Beasley 1988).")
    for capacity, optimum in (("6", 33), ("10", 19)):
        result = run_cli("site", "cflp", str(capa), "--capacity", capacity, "--format", "json")
        assert result.exit_code == 0, result.output
        known = json.loads(result.stdout)["known_optimum"]
        assert (known["value"], known["matches"]) == (optimum, True)
    result = run_cli("site", "uflp", str(capa), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["known_optimum"]["matches"] is True
    assert one_error("site", "uflp", str(capa), "--capacity", "6") == (
        "error: --capacity 6: applies to cflp on an orlib-cap file and capacitated-p-median "
        "on an orlib-pmed or matrix file; leave it out here.")
    assert one_error("site", "cflp", str(capa), "--capacity", "-6") == (
        "error: capacity -6 for capa.txt: give a positive number of units.")


@pytest.mark.parametrize(("text", "hint"), [
    ("capa   6   33.0\n", "capa-6 33.0"),
    ("capa (6) 33.0\n", "capa capacity = 6: 33.0"),
])
def test_optima_lines_with_a_capacity(tmp_path: Path, text: str, hint: str) -> None:
    for body in (text, hint + "\n"):
        table = read_optima_file(write(tmp_path, "capopt.txt", "Data file \xa3\n" + body))
        assert table.get("capa", 6) == 33.0 and table.get("capa") is None


@pytest.mark.parametrize(("text", "message"), [
    ("0 0\n", "cap.txt: m (warehouses) 0 in the first line must be a whole number of at least "
              "1; fix the file."),
    ("2 2\n 10 10.\n 10 nan\n 5 1 5\n 5 8 2\n",
     "cap.txt: number 6 of the file, nan, is not a finite number within 1e+09; fix the file."),
    ("2 2\n 10 10.\n 10 20\n 5 1 capacity\n 5 8 2\n",
     "cap.txt: found 'capacity' at number 9, where no warehouse capacity stands; fix the "
     "file."),
    ("2 2\n 10 10.\n 10 20\n -5 1 5\n 5 8 2\n",
     "cap.txt: the demand of customer 1 is negative (or a capacity not above 0); fix the "
     "file."),
])
def test_cap_reader_refusals(tmp_path: Path, text: str, message: str) -> None:
    assert reader_error(read_orlib_cap, write(tmp_path, "cap.txt", text)) == message


@pytest.mark.parametrize(("text", "message"), [
    ("3 2 -1\n1 2 5\n2 3 1\n", "pmed.txt: p -1 in the first line must be a whole number of at "
                               "least 1; fix the file."),
    ("1000000 0 1\n", "pmed.txt: n_vertices 1000000 is more than the 5000 this reader takes "
                      "(it computes all-pairs distances)."),
    ("3 2 1\n1 2.5 5\n2 3 1\n", "pmed.txt: an edge names a vertex that is not a whole number."),
])
def test_pmed_reader_refusals(tmp_path: Path, text: str, message: str) -> None:
    assert reader_error(read_orlib_pmed, write(tmp_path, "pmed.txt", text)) == message


def test_site_options_the_model_does_not_use(tmp_path: Path) -> None:
    cap = write(tmp_path, "cap81.txt", CAPX.replace("capacity", "100"))
    assert one_error("site", "cflp", str(cap), "-p", "3") == (
        "error: -p/--facilities: not used by cflp; leave it out.")
    assert one_error("site", "uflp", str(cap), "--radius-km", "3") == (
        "error: --radius-km: not used by uflp; leave it out.")
    assert one_error("site", "cflp", str(cap), "--seed", "99999999999") == (
        "error: seed must be a whole number from 0 to 2147483647, got 99999999999.")


# --------------------------------------------------------------------- allocate --plan

@pytest.mark.parametrize(("plan", "message"), [
    ({"stock": [{"facility": "W_north", "commodity": "water", "total": -500}]},
     "stock line 1 (W_north, water) has total -500; give the units held as a finite number "
     ">= 0."),
    ({"stock": [{"facility": "W_north", "commodity": "water"}]},
     "stock line 1 (W_north, water) has total None; give the units held as a finite number "
     ">= 0."),
    ({"stock": [{"facility": "W_north", "commodity": "water", "total": 5},
                {"facility": "W_north", "commodity": "water", "total": 7}]},
     "stock line 2 gives W_north, water a second time; keep one line per warehouse and "
     "commodity."),
    ({"stock": [], "contracts": [{"contract": "C_tent", "signed": "no"}]},
     "contract line 1 (C_tent) has signed 'no'; give true or false."),
])
def test_allocate_plan_edited_by_hand(tmp_path: Path, plan: dict[str, object],
                                      message: str) -> None:
    folder = tmp_path / "plan"
    folder.mkdir()
    (folder / "solution.json").write_text(json.dumps(plan))
    assert one_error("allocate", str(TOY), "-s", "snow", "--plan", str(folder)) == (
        f"error: {folder / 'solution.json'}: {message}")
