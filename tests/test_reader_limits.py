"""Readers refuse bombs, bad encodings and silent defaults with one line each (issue 11).

Every case runs the command a user would and asserts exit code 1 and the exact message.
Instance folders live in tests/broken (see test_broken_instances.py); these are the
cases of manifests, variants, sweeps and JSON documents built on the fly.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest

from reserve_opt.io import load_instance, to_document
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "toy"

#: Nine aliases of nine aliases ... of nine values: 9**9 values once expanded.
LAUGHS = "lol0: &l0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9))


def refused(result: object, *lines: str) -> None:
    """Exit code 1, nothing on stdout, exactly ``lines`` (each 'error: ...') on stderr."""
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    assert result.stdout == ""  # type: ignore[attr-defined]
    assert result.stderr.splitlines() == [f"error: {x}" for x in lines]  # type: ignore[attr-defined]


def toy_copy(tmp_path: Path, name: str = "inst") -> Path:
    folder = tmp_path / name
    shutil.copytree(TOY, folder, ignore=shutil.ignore_patterns("README.md", "variants"))
    return folder


def yaml_manifest(folder: Path, extra: str) -> None:
    """Replace the folder's instance.toml by the same keys in instance.yaml, plus ``extra``."""
    import yaml

    manifest = tomllib.loads((folder / "instance.toml").read_text(encoding="utf-8"))
    (folder / "instance.toml").unlink()
    (folder / "instance.yaml").write_text(yaml.safe_dump(manifest) + extra, encoding="utf-8")


# -- YAML ---------------------------------------------------------------------------------

def test_billion_laughs_in_a_manifest_is_refused_before_it_expands(tmp_path: Path) -> None:
    folder = toy_copy(tmp_path)
    yaml_manifest(folder, LAUGHS)
    refused(run_cli("validate", str(folder)),
            "instance.yaml: its aliases (*name) expand it to more than 1,000,000 values; write "
            "the values out or use fewer aliases")


def test_billion_laughs_in_a_variant_and_a_sweep_are_refused(tmp_path: Path) -> None:
    variant = tmp_path / "lol.yaml"
    variant.write_text(LAUGHS + "description: x\nchange:\n  - {op: set_budget, budget: *l8}\n",
                       encoding="utf-8")
    refused(run_cli("variant", "check", str(TOY), "--variant", str(variant)),
            f"{variant}: its aliases (*name) expand it to more than 1,000,000 values; write "
            f"the values out or use fewer aliases")
    sweep = tmp_path / "lol_sweep.yaml"
    sweep.write_text(LAUGHS + "description: x\naxis:\n  - {name: b, op: set_budget, "
                     "param: budget, values: *l8}\n", encoding="utf-8")
    refused(run_cli("sweep", str(TOY), "--grid", str(sweep), "--serial"),
            f"{sweep}: its aliases (*name) expand it to more than 1,000,000 values; write the "
            f"values out or use fewer aliases")


def test_yaml_aliases_within_the_limits_still_work(tmp_path: Path) -> None:
    variant = tmp_path / "merge.yaml"
    variant.write_text(
        "description: two damages with shared terms\nchange:\n"
        "  - &d {op: damage_facility, facility: W_north, surviving_fraction: 0.5}\n"
        "  - {<<: *d, facility: W_sea}\n", encoding="utf-8")
    result = run_cli("variant", "check", str(TOY), "--variant", str(variant))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("text", "message"), [
    ("description: x\nchange:\n  - op: set_budget\n    1: 2\n",
     " line 4: key 1 is not text; write keys as names (quote it, \"1\", if it must look like a "
     "number)"),
    ("description: x\nchange: &c\n  - op: set_budget\n    budget: *c\n",
     " line 2: an alias (*name) refers to a list or mapping that holds it; remove the loop"),
    ("description: x\nchange: " + "[" * 100 + "]" * 100 + "\n",
     ": nests lists and tables more than 64 deep; no document of reserve-opt needs that, "
     "flatten it"),
    ("description: x\nchange:\n  - {op: set_budget, budget: " + "1" * 5000 + "}\n",
     ": holds a whole number of more than 4,300 digits; no value needs that many, shorten it"),
])
def test_yaml_keys_loops_depth_and_huge_numbers_are_one_line(tmp_path: Path, text: str,
                                                            message: str) -> None:
    variant = tmp_path / "bad.yaml"
    variant.write_text(text, encoding="utf-8")
    refused(run_cli("variant", "check", str(TOY), "--variant", str(variant)),
            f"{variant}{message}")


def test_an_integer_key_in_a_yaml_manifest_is_one_line(tmp_path: Path) -> None:
    folder = toy_copy(tmp_path)
    yaml_manifest(folder, "1: one\n")
    refused(run_cli("validate", str(folder)),
            "instance.yaml line 24: key 1 is not text; write keys as names (quote it, \"1\", "
            "if it must look like a number)")


# -- encodings and sizes ------------------------------------------------------------------

def test_files_that_are_not_utf8_are_one_line(tmp_path: Path) -> None:
    folder = toy_copy(tmp_path)
    manifest = folder / "instance.toml"
    manifest.write_bytes(manifest.read_bytes().replace(b"Four regions", b"Four r\xe9gions"))
    refused(run_cli("validate", str(folder)),
            "instance.toml: is not UTF-8 text (byte 0xe9 at offset 59); save it as UTF-8")
    doc = tmp_path / "latin1.json"
    doc.write_bytes(b'{"name": "r\xe9gion"}')
    refused(run_cli("validate", str(doc)),
            "latin1.json: is not UTF-8 text (byte 0xe9 at offset 11); save it as UTF-8")
    variant = tmp_path / "latin1.toml"
    variant.write_bytes(b'description = "r\xe9gion"\n[[change]]\nop = "set_budget"\n'
                        b'factor = 1.0\n')
    refused(run_cli("variant", "check", str(TOY), "--variant", str(variant)),
            f"{variant}: is not UTF-8 text (byte 0xe9 at offset 16); save it as UTF-8")
    refused(run_cli("sweep", str(TOY), "--grid", str(variant), "--serial"),
            f"{variant}: is not UTF-8 text (byte 0xe9 at offset 16); save it as UTF-8")


def test_a_variant_file_larger_than_the_cap_is_refused_unread(tmp_path: Path) -> None:
    variant = tmp_path / "big.toml"
    variant.write_text('description = "x"\n' + "#" * (4 * 1024 * 1024), encoding="utf-8")
    refused(run_cli("variant", "check", str(TOY), "--variant", str(variant)),
            f"{variant}: is 4,194,322 bytes, more than the 4,194,304 this reader accepts; a "
            f"manifest, variant, sweep or event file is far smaller")


# -- JSON documents -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def toy_doc() -> str:
    return json.dumps(to_document(load_instance(TOY)))


@pytest.mark.parametrize(("edit", "message"), [
    (lambda doc: "[" * 100_000 + "]" * 100_000,
     ": nests lists and tables more than 64 deep; no document of reserve-opt needs that, "
     "flatten it"),
    (lambda doc: doc.replace('"count": 5', '"count": ' + "1" * 400),
     " line 1: number 111111111111... (400 digits) is larger than any value an instance may "
     "hold; write a smaller number"),
    (lambda doc: doc.replace('"count": 5', '"count": ' + "1" * 5000),
     " line 1: number 111111111111... (5000 digits) is larger than any value an instance may "
     "hold; write a smaller number"),
    (lambda doc: doc.replace('"quantity": 20000.0', '"quantity": ' + "1" * 400 + ".0"),
     " line 1: number 111111111111... (402 characters) is larger than any value an instance "
     "may hold; write a smaller number"),
    (lambda doc: doc.replace('"quantity": 20000.0', '"quantity": 1e400'),
     " line 1: number 1e400 is larger than any value an instance may hold; write a smaller "
     "number"),
])
def test_json_depth_and_huge_numbers_are_one_line(tmp_path: Path, toy_doc: str, edit: object,
                                                  message: str) -> None:
    doc = tmp_path / "inst.json"
    doc.write_text(edit(toy_doc), encoding="utf-8")  # type: ignore[operator]
    refused(run_cli("validate", str(doc)), f"inst.json{message}")


# -- variant includes ---------------------------------------------------------------------

def test_an_include_fan_out_stops_at_the_depth_limit(tmp_path: Path) -> None:
    for i in range(24):
        include = f'include = ["f{i + 1}.toml", "f{i + 1}.toml"]\n' if i < 23 else ""
        change = '[[change]]\nop = "set_budget"\nfactor = 1.0\n' if i == 23 else ""
        (tmp_path / f"f{i}.toml").write_text(f'{include}description = "x"\n{change}',
                                             encoding="utf-8")
    refused(run_cli("variant", "check", str(TOY), "--variant", str(tmp_path / "f0.toml")),
            f"{tmp_path / 'f7.toml'}: includes {tmp_path / 'f8.toml'}, which nests includes "
            f"more than 8 files deep; include fewer levels")


def test_a_file_included_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d.toml").write_text('description = "d"\n[[change]]\nop = "scale_demand"\n'
                                     'factor = 2.0\n', encoding="utf-8")
    for name in ("b", "c"):
        (tmp_path / f"{name}.toml").write_text(f'description = "{name}"\ninclude = ["d.toml"]\n',
                                               encoding="utf-8")
    (tmp_path / "a.toml").write_text('description = "a"\ninclude = ["b.toml", "c.toml"]\n',
                                     encoding="utf-8")
    refused(run_cli("variant", "check", str(TOY), "--variant", str(tmp_path / "a.toml")),
            f"{tmp_path / 'c.toml'}: includes {tmp_path / 'd.toml'}, which "
            f"{tmp_path / 'b.toml'} includes already; include each file once (its changes "
            f"would apply twice)")


def test_more_includes_than_the_cap_are_refused(tmp_path: Path) -> None:
    for i in range(65):
        (tmp_path / f"p{i}.toml").write_text(
            'description = "p"\n[[change]]\nop = "set_budget"\nfactor = 1.0\n', encoding="utf-8")
    names = ", ".join(f'"p{i}.toml"' for i in range(65))
    (tmp_path / "all.toml").write_text(f'description = "all"\ninclude = [{names}]\n',
                                       encoding="utf-8")
    refused(run_cli("variant", "check", str(TOY), "--variant", str(tmp_path / "all.toml")),
            f"{tmp_path / 'all.toml'}: includes {tmp_path / 'p64.toml'}, one file more than "
            f"the 64 allowed in all; merge some of them")


# -- variant selectors --------------------------------------------------------------------

@pytest.mark.parametrize(("param", "message"), [
    ("alliances = 5", "'alliances' must be a list of alliance names, got 5"),
    ("regions = 5", "'regions' must be a list of ids, got 5"),
    ("regions = []", "'regions' is an empty list, so the change would select nothing; name at "
     "least one, or leave 'regions' out to mean all"),
    ("commodities = {water = 1}", "'commodities' must be a list of ids, got {'water': 1}"),
])
def test_selectors_of_the_wrong_type_are_refused(tmp_path: Path, param: str,
                                                 message: str) -> None:
    variant = tmp_path / "sel.toml"
    variant.write_text(f'description = "x"\n[[change]]\nop = "scale_demand"\nfactor = 2.0\n'
                       f'{param}\n', encoding="utf-8")
    refused(run_cli("variant", "check", str(TOY), "--variant", str(variant)),
            f"{variant}: change 1 (scale_demand): {message}")


# -- sweeps -------------------------------------------------------------------------------

def test_a_huge_grid_is_refused_from_its_size_before_expanding(tmp_path: Path) -> None:
    values = ", ".join(str(1e6 + j) for j in range(10))
    sweep = tmp_path / "huge.toml"
    sweep.write_text('description = "x"\n' + "".join(
        f'[[axis]]\nname = "a{i}"\nop = "set_budget"\nparam = "budget"\nvalues = [{values}]\n'
        for i in range(8)), encoding="utf-8")
    refused(run_cli("sweep", str(TOY), "--grid", str(sweep), "--serial"),
            f"{sweep}: expands to 100,000,000 runs (10 (a0) x 10 (a1) x 10 (a2) x 10 (a3) x "
            f"10 (a4) x 10 (a5) x 10 (a6) x 10 (a7)), more than the 10,000 a sweep may hold; "
            f"use fewer values or runs, or split it into several sweeps")


def test_a_billion_monte_carlo_runs_are_refused(tmp_path: Path) -> None:
    sweep = tmp_path / "mc.toml"
    sweep.write_text('description = "x"\n[sample]\nruns = 1000000000\nseed = 1\n[[random]]\n'
                     'name = "r"\nop = "set_budget"\nparam = "budget"\n'
                     'distribution = "uniform"\nlow = 1e6\nhigh = 2e6\n', encoding="utf-8")
    refused(run_cli("sweep", str(TOY), "--grid", str(sweep), "--serial"),
            f"{sweep}: expands to 1,000,000,000 runs (1,000,000,000 Monte Carlo runs), more "
            f"than the 10,000 a sweep may hold; use fewer values or runs, or split it into "
            f"several sweeps")


@pytest.mark.parametrize(("name", "text", "message"), [
    ("nan.yaml", "description: x\nsample: {runs: 2, seed: 1}\nrandom:\n  - {name: r, op: "
     "set_budget, param: budget, distribution: choice, values: [1e6, 2e6], weights: [.nan, 1]}\n",
     "random 1 ('r'): weights must be 2 finite numbers >= 0, not all 0"),
    ("inf.toml", 'description = "x"\n[sample]\nruns = 2\nseed = 1\n[[random]]\nname = "r"\n'
     'op = "set_budget"\nparam = "budget"\ndistribution = "choice"\nvalues = [1e6, 2e6]\n'
     'weights = [inf, 1]\n', "random 1 ('r'): weights must be 2 finite numbers >= 0, not all 0"),
    ("nanlow.toml", 'description = "x"\n[sample]\nruns = 2\nseed = 1\n[[random]]\nname = "r"\n'
     'op = "set_budget"\nparam = "budget"\ndistribution = "uniform"\nlow = nan\nhigh = 2e6\n',
     "random 1 ('r'): uniform needs low = <finite number>"),
])
def test_nan_and_inf_in_a_sweep_are_one_line(tmp_path: Path, name: str, text: str,
                                             message: str) -> None:
    sweep = tmp_path / name
    sweep.write_text(text, encoding="utf-8")
    refused(run_cli("sweep", str(TOY), "--grid", str(sweep), "--serial"), f"{sweep}: {message}")


def test_negative_max_runs_is_refused(tmp_path: Path) -> None:
    sweep = tmp_path / "ok.toml"
    sweep.write_text('description = "x"\n[[axis]]\nname = "b"\nop = "set_budget"\n'
                     'param = "budget"\nvalues = [1e6, 2e6]\n', encoding="utf-8")
    refused(run_cli("sweep", str(TOY), "--grid", str(sweep), "--serial", "--max-runs", "-1",
                    "--out", str(tmp_path / "out")),
            "--max-runs -1: give 0 or more runs (0 runs none now and writes the results table "
            "of the runs already done)")
    assert not (tmp_path / "out").exists()


# -- tables, events and the published schema ----------------------------------------------

def test_a_parquet_table_with_a_repeated_column_is_refused(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = toy_copy(tmp_path)
    (folder / "stock.csv").unlink()
    table = pa.Table.from_arrays(
        [pa.array(["W_north"]), pa.array(["water"]), pa.array([20000.0]), pa.array([0.0])],
        names=["facility", "commodity", "quantity", "quantity"])
    pq.write_table(table, folder / "stock.parquet")
    text = (folder / "instance.toml").read_text(encoding="utf-8")
    (folder / "instance.toml").write_text(text.replace("[sources]", "[tables]\n"
                                          'stock = "stock.parquet"\n\n[sources]'),
                                          encoding="utf-8")
    refused(run_cli("validate", str(folder)),
            "stock.parquet: column 'quantity' appears twice (columns 3 and 4); keep one")


def test_an_event_file_goes_through_the_same_safe_reader(tmp_path: Path) -> None:
    event = tmp_path / "storm.yaml"
    event.write_text("id: storm\ndays: 2\naffected:\n  1: 3000\n", encoding="utf-8")
    refused(run_cli("allocate", str(TOY), "--event", str(event)),
            f"{event} line 4: key 1 is not text; write keys as names (quote it, \"1\", if it "
            f"must look like a number)")


def test_values_at_the_caps_are_valid_and_one_beyond_is_refused(tmp_path: Path) -> None:
    folder = toy_copy(tmp_path)
    demand = folder / "demand.csv"
    demand.write_text(demand.read_text(encoding="utf-8").replace(
        "typhoon,sea,water,12000", "typhoon,sea,water,1e12"), encoding="utf-8")
    fleet = folder / "fleet.csv"
    fleet.write_text(fleet.read_text(encoding="utf-8").replace(
        "T_north,W_north,5,10000,40,60", "T_north,W_north,10000,1e6,1e5,200"), encoding="utf-8")
    assert run_cli("validate", str(folder)).exit_code == 0
    fleet.write_text(fleet.read_text(encoding="utf-8").replace(",200,", ",201,"),
                     encoding="utf-8")
    refused(run_cli("validate", str(folder)),
            "fleet.csv line 2 (id 'T_north'): speed_kmh 201 is above 200; give a value of at "
            "most 200 km/h")


def test_the_schema_publishes_the_caps() -> None:
    from reserve_opt.io import instance_schema

    schema = instance_schema()["properties"]
    speed = schema["fleet"]["items"]["properties"]["speed_kmh"]["anyOf"][0]
    assert (speed["exclusiveMinimum"], speed["maximum"]) == (0.0, 200.0)
    assert schema["demand"]["items"]["properties"]["quantity"]["maximum"] == 1e12
    setting = schema["settings"]["properties"]["speed_kmh"]
    assert (setting["exclusiveMinimum"], setting["maximum"]) == (0.0, 200.0)


def test_a_variant_cannot_set_what_plan_would_refuse(tmp_path: Path) -> None:
    variant = tmp_path / "v.toml"
    variant.write_text('description = "x"\n[[change]]\nop = "set_setting"\nname = "speed_kmh"\n'
                       'value = 0\n[[change]]\nop = "set_stock"\nfacility = "W_north"\n'
                       'commodity = "water"\nquantity = 1e308\n', encoding="utf-8")
    refused(run_cli("variant", "check", str(TOY), "--variant", str(variant)),
            f"{variant}: the patched instance is not valid: builder: setting 'speed_kmh' = 0 "
            f"is not above 0; give more than 0 km/h",
            f"{variant}: the patched instance is not valid: stock row 1: quantity 1e+308 is "
            f"above 1e+12; give a value of at most 1e+12 units")


@pytest.mark.parametrize(("text", "message"), [
    ("description: x\naxis:\n  - {name: b, op: {a: 1}, param: budget, values: [1]}\n",
     "axis 1 ('b'): op {'a': 1} is not known; use one of"),
    ("description: x\noptions: fast\naxis:\n  - {name: b, op: set_budget, param: budget, "
     "values: [1]}\n", "[options] must be a table of option = value"),
    ("description: x\ninclude: 3\naxis:\n  - {name: b, op: set_budget, param: budget, "
     "values: [1]}\n", "include must be a list of variant files"),
    ("description: x\noptions: {time_limit_s: " + "9" * 400 + "}\naxis:\n  - {name: b, "
     "op: set_budget, param: budget, values: [1]}\n",
     "time limit must be a finite number of seconds"),
])
def test_sweep_keys_of_the_wrong_type_are_one_line(tmp_path: Path, text: str,
                                                   message: str) -> None:
    sweep = tmp_path / "bad.yaml"
    sweep.write_text(text, encoding="utf-8")
    result = run_cli("sweep", str(TOY), "--grid", str(sweep), "--serial")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"error: {sweep}: {message}")
    assert len(result.stderr.splitlines()) == 1


def test_a_400_digit_number_in_a_variant_is_one_line(tmp_path: Path) -> None:
    variant = tmp_path / "v.toml"
    variant.write_text('description = "x"\n[[change]]\nop = "change_facility"\n'
                       f'facility = "W_north"\nlon = {"9" * 400}\n', encoding="utf-8")
    refused(run_cli("variant", "check", str(TOY), "--variant", str(variant)),
            f"{variant}: change 1 (change_facility): lon 999999999999999999999999999999... "
            f"(400 characters) is too large; give a value of at most 180 degrees east")


def test_problems_past_a_hundred_are_counted_not_printed(tmp_path: Path) -> None:
    folder = tmp_path / "toy"
    shutil.copytree(Path(__file__).resolve().parents[1] / "instances" / "toy", folder)
    demand = folder / "demand.csv"
    lines = demand.read_text(encoding="utf-8").splitlines()
    demand.write_text("\n".join([lines[0]] + [lines[1]] * 151) + "\n", encoding="utf-8")
    result = run_cli("validate", str(folder))
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert len(errors) == 101
    assert all(e.startswith("error: ") for e in errors)
    assert errors[-1] == ("error: ... and 50 more problems not shown; fix those above and "
                          "run again")


def test_running_out_of_memory_is_one_line_not_an_internal_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import reserve_opt.io as rio

    def exhausted(*_: object, **__: object) -> None:
        raise MemoryError

    monkeypatch.setattr(rio, "load_instance", exhausted)
    result = run_cli("validate", "instances/toy")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: ran out of memory; the input is larger than this process may hold (its files, "
        "rows or limits), so give it more memory or a smaller input\n")
