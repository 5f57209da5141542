"""Generated bad inputs for the command line: the cases, their oracles, how to build them.

A case is a small set of files (the bundled ``instances/toy`` or a tiny benchmark file,
with ``secret.txt`` beside it) changed by one or more *mutations*, and the command to run
on it from the case's folder. Everything is derived from the case's id, so a case can be
rebuilt anywhere: the systematic catalogue (:func:`catalogue`) enumerates every mutation
with stable ids, and random cases (:func:`random_case`) draw 1-3 mutations from
``random.Random(f"{seed}:{k}")`` and are named ``r<seed>-<k>``; ``r<seed>-<k>:0,2`` keeps
only those mutations (what shrinking reports).

Each mutation may carry an oracle: ``"invalid"`` when the changed input breaks a rule the
format states (a duplicated header, a short row, a negative population, a non-finite
number, an unknown id, ...) so the command must not exit 0; ``"valid"`` when it must still
be accepted (a BOM, a corrupt ``.sol`` beside a benchmark file). A case combining several
mutations is invalid when any of them is; combined mutations touch distinct files or
disjoint keys so one cannot undo another.

Used by ``tests/test_fuzz_inputs.py`` (the ``core`` tier) and ``bench/fuzz_inputs.py``
(every tier, random cases and resource bombs).
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import re
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import tomli_w
import yaml

from reserve_opt.io.spec import SETTINGS, TABLES, Column

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "toy"
SECRET = "FUZZ-SECRET-5d1c0a77"
"""Content of ``secret.txt`` beside every case's input: it must never appear in output."""

INVALID = "invalid"
VALID = "valid"


# --------------------------------------------------------------------------- case model


@dataclass(frozen=True)
class Link:
    """A symbolic link to ``target`` (``{case}`` stands for the case folder)."""

    target: str


@dataclass(frozen=True)
class Folder:
    """An (empty) folder."""


FOLDER = Folder()
Content = bytes | Link | Folder
Files = dict[str, Content]


@dataclass
class Work:
    """What a mutation changes: the case's files and the command's arguments."""

    files: Files
    args: list[str]


@dataclass(frozen=True)
class Mutation:
    """One change to a case's files or arguments, with its oracle.

    ``target`` names what it touches (a file, a key path); mutations combined in one
    case touch disjoint targets so one cannot undo another's breakage.
    """

    name: str
    fn: Callable[[Work], None]
    expect: str | None = None
    why: str = ""
    target: str = ""


@dataclass(frozen=True)
class Case:
    """One fuzz case: a base, mutations, a command, an oracle."""

    id: str
    family: str
    base: str
    args: tuple[str, ...]
    mutations: tuple[Mutation, ...] = ()
    expect: str | None = None
    why: str = ""
    tier: str = "core"
    bomb: bool = False

    def build(self) -> Work:
        """The files and arguments of this case (fresh copies)."""
        work = Work(dict(BASES[self.base]()), list(self.args))
        for m in self.mutations:
            m.fn(work)
        return work

    def keep(self, indices: Sequence[int]) -> Case:
        """The same case with only the mutations at ``indices`` (for shrinking)."""
        muts = tuple(self.mutations[i] for i in indices)
        expect, why = combine(muts)
        base_id = self.id.split(":", 1)[0] if re.match(r"r\d+-\d+", self.id) else self.id
        return Case(f"{base_id}:{','.join(map(str, indices))}", self.family, self.base,
                    self.args, muts, expect, why, self.tier, self.bomb)


def combine(muts: Sequence[Mutation]) -> tuple[str | None, str]:
    """The oracle of mutations applied together: invalid if any is; valid if all are."""
    bad = [m for m in muts if m.expect == INVALID]
    if bad:
        return INVALID, bad[0].why
    if muts and all(m.expect == VALID for m in muts):
        return VALID, muts[0].why
    return None, ""


def make(cid: str, family: str, base: str, args: Sequence[str],
         muts: Sequence[Mutation] = (), *, expect: str | None = None, why: str = "",
         tier: str = "core", bomb: bool = False) -> Case:
    """A case whose oracle is ``expect`` if given, else that of its mutations."""
    if expect is None:
        expect, why = combine(muts)
    return Case(cid, family, base, tuple(args), tuple(muts), expect, why, tier, bomb)


# --------------------------------------------------------------------------- bases


def _secret() -> Files:
    return {"secret.txt": f"{SECRET}\n".encode()}


@cache
def _toy_files() -> tuple[tuple[str, bytes], ...]:
    out = []
    for p in sorted(TOY.rglob("*")):
        if p.is_file() and p.name != "README.md":
            out.append((f"toy/{p.relative_to(TOY).as_posix()}", p.read_bytes()))
    return tuple(out)


def toy_base() -> Files:
    """The bundled toy instance under ``toy/``, with ``secret.txt`` beside it."""
    return {**dict(_toy_files()), **_secret()}


@cache
def _toy_document() -> bytes:
    from reserve_opt.io import load_instance, to_document

    doc = to_document(load_instance(TOY))
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode()


def toy_json_base() -> Files:
    """The toy instance as one JSON document ``toy.json``."""
    return {"toy.json": _toy_document(), **_secret()}


def toy_yaml_base() -> Files:
    """The toy instance with its manifest as ``instance.yaml``."""
    files = toy_base()
    data = tomllib.loads(files.pop("toy/instance.toml").decode())
    files["toy/instance.yaml"] = yaml.safe_dump(data, sort_keys=False).encode()
    return files


VRPLIB = """NAME : tiny
COMMENT : four clients round a depot
TYPE : CVRP
DIMENSION : 5
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
NODE_COORD_SECTION
1 0 0
2 3 4
3 -3 4
4 3 -4
5 -3 -4
DEMAND_SECTION
1 0
2 3
3 4
4 5
5 2
DEPOT_SECTION
1
-1
EOF
"""

SOLOMON = """TINY

VEHICLE
NUMBER     CAPACITY
  3         20

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      40         50          0          0       1000          0
    1      45         68         10          0        900         10
    2      45         70          5          0        900         10
    3      42         66          8          0        900         10
    4      35         30          7          0        900         10
    5      20         50          9          0        900         10
"""

CORDEAU = """2 2 4 2
0 20
0 20
1 -10 10 0 5 1 2 1 2
2 10 10 0 5 1 2 1 2
3 -10 -10 0 5 1 2 1 2
4 10 -10 0 5 1 2 1 2
5 -5 0 0 0
6 5 0 0 0
"""

ORLIB_CAP = """2 3
50 100
50 120
10
5 8
20
7 3
15
4 6
"""

ORLIB_PMED = """4 5 2
1 2 3
2 3 4
3 4 5
4 1 6
1 3 2
"""

BENCH_FILES = {"vrplib": ("tiny.vrp", VRPLIB), "solomon": ("tiny.txt", SOLOMON),
               "cordeau": ("p01.txt", CORDEAU), "orlib-cap": ("cap1.txt", ORLIB_CAP),
               "orlib-pmed": ("pmed1.txt", ORLIB_PMED)}

def _bench_base(name: str, text: str) -> Callable[[], Files]:
    return lambda: {name: text.encode(), **_secret()}


BASES: dict[str, Callable[[], Files]] = {
    "toy": toy_base,
    "toy_json": toy_json_base,
    "toy_yaml": toy_yaml_base,
    **{kind: _bench_base(name, text) for kind, (name, text) in BENCH_FILES.items()},
}


# --------------------------------------------------------------------------- CSV tables

TRUE_WORDS = {"true", "1", "yes", "y", "t"}
FALSE_WORDS = {"false", "0", "no", "n", "f"}

# Measured on main: ``plan`` ends in a solver error when one of these holds 1e308, so
# ``validate`` must refuse it first (issue 11, section 4: values plan refuses).
PLAN_REFUSES_HUGE = {
    ("commodities", "volume_m3"), ("commodities", "purchase_cost"),
    ("commodities", "holding_cost"), ("commodities", "need_per_person_day"),
    ("sizes", "capacity_m3"), ("sizes", "fixed_cost"), ("stock", "quantity"),
    ("contracts", "quantity"), ("contracts", "retainer"), ("demand", "quantity"),
    ("affected", "persons"),
}

#: Cell values tried in CSV cells (label, text). Labels go into case ids.
CELL_POOL: tuple[tuple[str, str], ...] = (
    ("empty", ""), ("blank", "  "), ("abc", "abc"), ("neg1", "-1"), ("negzero", "-0"),
    ("zero", "0"), ("half", "0.5"), ("two", "2"), ("nan", "nan"), ("NaN", "NaN"),
    ("inf", "inf"), ("neginf", "-inf"), ("e308", "1e308"), ("e309", "1e309"),
    ("subnormal", "1e-320"), ("digits400", "9" * 400), ("hex", "0x10"),
    ("underscore", "1_000"), ("fullwidth", "\uff11\uff12"), ("true", "true"),
    ("yes", "yes"), ("maybe", "maybe"), ("comma", "1,5"), ("padded", "  12  "),
    ("null", "null"), ("greek", "\u03a9\u03bc"), ("formula", "=1+1"),
    ("script", "${alert(1)}</script>"), ("quote", '"'), ("newline", "a\nb"),
    ("nul", "a\x00b"), ("pipe", "|"), ("pipes", "a||b"), ("long", "x" * 5000),
    ("unknown", "nope"), ("bidi", "\u202e"), ("emoji", "\U0001f600"), ("crlf", "1\r\n2"),
    ("tab", "\t7"), ("e_notation", "1e3"), ("plus", "+5"), ("dot", "."),
)
POOL = dict(CELL_POOL)


def read_rows(data: bytes) -> list[list[str]]:
    """Rows of a UTF-8 CSV file."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def write_rows(rows: Sequence[Sequence[str]]) -> bytes:
    """CSV bytes (``\\n`` line ends, minimal quoting)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


def toy_tables() -> list[str]:
    """Names of the tables the toy instance has as CSV files, in spec order."""
    names = {p.stem for p in TOY.glob("*.csv")}
    return [t.name for t in TABLES if t.name in names]


@cache
def toy_rows(table: str) -> tuple[tuple[str, ...], ...]:
    """The toy's rows of ``table`` (header first)."""
    return tuple(tuple(r) for r in read_rows((TOY / f"{table}.csv").read_bytes()))


@cache
def known_ids() -> dict[str, frozenset[str]]:
    """Ids the toy defines, by the ``ref`` names the spec uses."""
    ids = {t: frozenset(r[0] for r in toy_rows(t)[1:])
           for t in ("regions", "facilities", "commodities", "scenarios")}
    ids["locations"] = ids["regions"] | ids["facilities"]
    return ids


SPEC = {t.name: t for t in TABLES}


def _edit_csv(table: str, edit: Callable[[list[list[str]]], None]) -> Callable[[Work], None]:
    def fn(work: Work) -> None:
        key = f"toy/{table}.csv"
        data = work.files[key]
        assert isinstance(data, bytes)
        rows = read_rows(data)
        edit(rows)
        work.files[key] = write_rows(rows)
    return fn


def _edit_bytes(path: str, edit: Callable[[bytes], bytes]) -> Callable[[Work], None]:
    def fn(work: Work) -> None:
        data = work.files[path]
        assert isinstance(data, bytes)
        work.files[path] = edit(data)
    return fn


def _set(path: str, content: Content) -> Callable[[Work], None]:
    def fn(work: Work) -> None:
        work.files[path] = content
    return fn


def cell_oracle(table: str, col: Column, text: str) -> tuple[str | None, str]:
    """Whether ``text`` in column ``col`` must be refused, and why (from the format spec)."""
    where = f"{table}.csv {col.name}"
    value = text.strip()
    if value == "":
        if col.nullable:
            return None, ""
        return INVALID, f"{where} may not be empty"
    if col.dtype in ("float", "int"):
        try:
            x = float(value)
        except ValueError:
            return INVALID, f"{where} {text!r} is not a number"
        if not math.isfinite(x):
            return INVALID, f"{where} {text!r} is not finite"
        if col.dtype == "int" and x != int(x):
            return INVALID, f"{where} {text!r} is not a whole number"
        if col.minimum is not None and x < col.minimum:
            return INVALID, f"{where} {text!r} is below {col.minimum:g}"
        if col.maximum is not None and x > col.maximum:
            return INVALID, f"{where} {text!r} is above {col.maximum:g}"
        if x >= 1e307 and (table, col.name) in PLAN_REFUSES_HUGE:
            return INVALID, f"{where} {text!r}: plan refuses it, so validate must"
        return None, ""
    if col.dtype == "bool":
        if value.lower() in TRUE_WORDS | FALSE_WORDS:
            return None, ""
        return INVALID, f"{where} {text!r} is not true or false"
    if col.choices and value not in col.choices:
        return INVALID, f"{where} {text!r} is not one of {', '.join(col.choices)}"
    if col.ref:
        items = value.split("|") if col.dtype == "list" else [value]
        known = known_ids().get(col.ref)
        if known is not None:
            unknown = [i.strip() for i in items if i.strip() and i.strip() not in known]
            if unknown:
                return INVALID, f"{where} names unknown id {unknown[0]!r}"
    return None, ""


def m_cell(table: str, row: int, column: str, label: str, text: str | None = None
           ) -> Mutation:
    """Set one cell (``row`` 1-based among data rows) to a pool value or ``text``."""
    value = POOL[label] if text is None else text
    if label == "unknown":
        value = f"nope_{table}_{column}"  # never matches another mutation's id
    col = SPEC[table].by_name[column]
    expect, why = cell_oracle(table, col, value)

    def edit(rows: list[list[str]]) -> None:
        rows[row][rows[0].index(column)] = value
    return Mutation(f"{table}.csv:r{row}:{column}={label}", _edit_csv(table, edit), expect,
                    why, f"toy/{table}.csv")


def table_mutations(table: str) -> Iterator[Mutation]:
    """Structural mutations of one table: header, row shape, encodings, file kind."""
    spec = SPEC[table]
    rows = toy_rows(table)
    header = list(rows[0])
    path = f"toy/{table}.csv"
    t = path
    required = spec.required
    other = header[1] if len(header) > 1 else header[0]

    def dup_header(rows: list[list[str]]) -> None:
        rows[0].append(other)
        for r in rows[1:]:
            r.append("0")
    yield Mutation(f"{table}.csv:dup-header:{other}", _edit_csv(table, dup_header), INVALID,
                   f"{table}.csv has column {other!r} twice", t)

    def short(rows: list[list[str]]) -> None:
        rows[1].pop()
    yield Mutation(f"{table}.csv:short-row", _edit_csv(table, short), INVALID,
                   f"{table}.csv line 2 is shorter than its header", t)

    def long(rows: list[list[str]]) -> None:
        rows[1].append("extra")
    yield Mutation(f"{table}.csv:long-row", _edit_csv(table, long), INVALID,
                   f"{table}.csv line 2 is longer than its header", t)

    def dup_row(rows: list[list[str]]) -> None:
        rows.append(list(rows[1]))
    yield Mutation(f"{table}.csv:dup-row", _edit_csv(table, dup_row), INVALID,
                   f"{table}.csv repeats the key of line 2", t)

    yield Mutation(f"{table}.csv:empty-file", _set(path, b""), INVALID,
                   f"{table}.csv is empty (not even a header)", t)
    yield Mutation(f"{table}.csv:header-only", _set(path, write_rows([header])),
                   INVALID if required else None,
                   f"{table} is required and has no rows" if required else "", t)
    for col in spec.columns:
        if col.name in header and col.required:
            def drop(rows: list[list[str]], name: str = col.name) -> None:
                j = rows[0].index(name)
                for r in rows:
                    del r[j]
            yield Mutation(f"{table}.csv:drop-column:{col.name}", _edit_csv(table, drop),
                           INVALID, f"{table}.csv lacks required column {col.name!r}", t)

    def upper(rows: list[list[str]]) -> None:
        rows[0][0] = rows[0][0].upper()
    yield Mutation(f"{table}.csv:header-upper:{header[0]}", _edit_csv(table, upper),
                   INVALID, f"{table}.csv lacks required column {header[0]!r} (only "
                   f"{header[0].upper()!r})", t)
    yield Mutation(f"{table}.csv:utf16", _edit_bytes(path, lambda b: b.decode().encode(
        "utf-16")), INVALID, f"{table}.csv is UTF-16, not UTF-8", t)
    yield Mutation(f"{table}.csv:bom-crlf", _edit_bytes(
        path, lambda b: b"\xef\xbb\xbf" + b.replace(b"\n", b"\r\n")), VALID,
        "a UTF-8 BOM and CRLF line ends are ordinary CSV", t)
    yield Mutation(f"{table}.csv:binary", _set(path, bytes(range(256)) * 4), INVALID,
                   f"{table}.csv is binary garbage", t)
    yield Mutation(f"{table}.csv:unterminated-quote", _edit_bytes(
        path, lambda b: b.replace(b"\n", b'\n"', 1)), None, "", t)
    yield Mutation(f"{table}.csv:nul-byte", _edit_bytes(
        path, lambda b: b.replace(b",", b",\x00", 1)), None, "", t)
    yield Mutation(f"{table}.csv:cut-mid-line", _edit_bytes(
        path, lambda b: b[: len(b) - 3]), None, "", t)
    yield Mutation(f"{table}.csv:folder", _set(path, FOLDER), INVALID if required else None,
                   f"{table} is required and {table}.csv is a folder" if required else "", t)
    yield Mutation(f"{table}.csv:dangling-link", _set(path, Link("no-such-file.csv")),
                   INVALID, f"{table}.csv is a dangling symlink (issue 11: read as 'no "
                   f"table')", t)
    yield Mutation(f"{table}.csv:link-outside", _set(path, Link("../secret.txt")), INVALID,
                   f"{table}.csv links outside the instance folder", t)


def latin1_mutation(table: str) -> Mutation:
    """A non-ASCII name written in Latin-1: not UTF-8."""
    path = f"toy/{table}.csv"

    def fn(work: Work) -> None:
        data = work.files[path]
        assert isinstance(data, bytes)
        rows = read_rows(data)
        j = rows[0].index("name")
        rows[1][j] = "Caf\u00e9 \u00e7a"
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        work.files[path] = buf.getvalue().encode("latin-1")
    return Mutation(f"{table}.csv:latin1", fn, INVALID, f"{table}.csv is Latin-1, not UTF-8",
                    path)


CORE_STRUCTURE = {"dup-header", "short-row", "long-row", "dup-row", "utf16", "dangling-link",
                  "link-outside"}


def _parquet(columns: Sequence[str], arrays: Sequence[Sequence[Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(pa.Table.from_arrays([pa.array(a) for a in arrays], names=list(columns)),
                   sink)
    return sink.getvalue()


def parquet_mutations() -> Iterator[Mutation]:
    """The regions table as Parquet: as text columns, with bad numbers, broken files."""
    rows = toy_rows("regions")
    header, data = list(rows[0]), [list(r) for r in rows[1:]]
    cols = [[r[j] for r in data] for j in range(len(header))]
    pop = header.index("population")

    def swap(content: bytes) -> Callable[[Work], None]:
        def fn(work: Work) -> None:
            del work.files["toy/regions.csv"]
            work.files["toy/regions.parquet"] = content
        return fn

    def numbers(value: float) -> bytes:
        values = [float(v) for v in cols[pop]]
        values[0] = value
        return _parquet(header, [*cols[:pop], values, *cols[pop + 1:]])
    t = "toy/regions.csv"
    yield Mutation("regions.parquet:as-text", swap(_parquet(header, cols)), VALID,
                   "the regions table as Parquet (text columns)", t)
    yield Mutation("regions.parquet:population=nan", swap(numbers(math.nan)), INVALID,
                   "regions.parquet population NaN (required)", t)
    yield Mutation("regions.parquet:population=inf", swap(numbers(math.inf)), INVALID,
                   "regions.parquet population is not finite", t)
    yield Mutation("regions.parquet:population=neg1", swap(numbers(-1.0)), INVALID,
                   "regions.parquet population is negative", t)
    yield Mutation("regions.parquet:dup-column", swap(_parquet(
        [*header, "population"], [*cols, ["0"] * len(data)])), INVALID,
        "regions.parquet has column 'population' twice", t)
    yield Mutation("regions.parquet:garbage", swap(bytes(range(256))), INVALID,
                   "regions.parquet is not Parquet", t)
    yield Mutation("regions.parquet:truncated", swap(_parquet(header, cols)[:-20]), INVALID,
                   "regions.parquet is cut short", t)

    def both(work: Work) -> None:
        work.files["toy/regions.parquet"] = _parquet(header, cols)
    yield Mutation("regions.parquet:beside-csv", both, INVALID,
                   "both regions.csv and regions.parquet", t)


def core_cell_labels(table: str, col: Column) -> list[str]:
    """The two pool values the default run tries in a column (from its rules)."""
    labels = _cell_labels(table, col)
    return sorted(labels, key=lambda label: _bucket(f"{table}.{col.name}={label}", 1 << 30)
                  )[:2]


def _cell_labels(table: str, col: Column) -> list[str]:
    if col.name == "id":
        return ["empty"]
    if col.dtype in ("float", "int"):
        labels = ["abc", "nan"]
        if col.minimum is not None and col.minimum >= 0:
            labels.append("neg1")
        if col.maximum is not None:
            labels.append("two" if col.maximum < 2 else "digits400")
        if not col.nullable:
            labels.append("empty")
        if (table, col.name) in PLAN_REFUSES_HUGE:
            labels.append("e308")
        if col.dtype == "int":
            labels.append("half")
        return labels
    if col.dtype == "bool":
        return ["maybe"]
    if col.ref:
        return ["unknown"]
    if col.choices:
        return ["abc"]
    return ["script"]


def table_cases(tier_cells: str = "core", all_rows: bool = False) -> Iterator[Case]:
    """Table cases: structure of each toy table, and values in its cells."""
    for m in parquet_mutations():
        yield make(f"table/{m.name}", "table", "toy", _table_cmd(m.name), [m])
    for table in toy_tables():
        first_drop = True
        for m in table_mutations(table):
            # regions gets every structural mutation by default, other tables the main ones
            kind = m.name.split(":")[1]
            core = table == "regions" or kind in CORE_STRUCTURE or (
                kind == "drop-column" and first_drop)
            first_drop = first_drop and kind != "drop-column"
            if core or tier_cells != "core":
                yield make(f"table/{m.name}", "table", "toy", _table_cmd(m.name), [m],
                           tier="core" if core else "extra")
        if "name" in toy_rows(table)[0]:
            m = latin1_mutation(table)
            yield make(f"table/{m.name}", "table", "toy", _table_cmd(m.name), [m],
                       tier="core" if table == "regions" else "extra")
        header = toy_rows(table)[0]
        n_rows = len(toy_rows(table)) - 1
        for col in SPEC[table].columns:
            if col.name not in header:
                continue
            core = core_cell_labels(table, col)
            for label, _ in CELL_POOL:
                for row in range(1, n_rows + 1 if all_rows else 2):
                    tier = "core" if (row == 1 and label in core) else "extra"
                    if tier == "extra" and tier_cells == "core":
                        continue
                    m = m_cell(table, row, col.name, label)
                    yield make(f"table/{m.name}", "table", "toy", _table_cmd(m.name), [m],
                               tier=tier)


def _table_cmd(name: str) -> list[str]:
    # most cases validate; one in five prints the instance as JSON (info reads it too)
    return ["info", "toy", "--format", "json"] if _bucket(name, 5) == 0 else [
        "validate", "toy"]


def _bucket(text: str, n: int) -> int:
    import zlib

    return zlib.crc32(text.encode()) % n


# --------------------------------------------------------------------------- manifest


def _edit_toml(path: str, edit: Callable[[dict[str, Any]], None]) -> Callable[[Work], None]:
    def fn(work: Work) -> None:
        data = work.files[path]
        assert isinstance(data, bytes)
        doc = tomllib.loads(data.decode())
        edit(doc)
        work.files[path] = tomli_w.dumps(doc).encode()
    return fn


def _edit_yaml(path: str, edit: Callable[[dict[str, Any]], None]) -> Callable[[Work], None]:
    def fn(work: Work) -> None:
        data = work.files[path]
        assert isinstance(data, bytes)
        doc = yaml.safe_load(data.decode())
        edit(doc)
        work.files[path] = yaml.safe_dump(doc, sort_keys=False).encode()
    return fn


def _put(keys: Sequence[str], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        node = doc
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return edit


def _drop(keys: Sequence[str]) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        node = doc
        for k in keys[:-1]:
            node = node[k]
        node.pop(keys[-1], None)
    return edit


MANIFEST = "toy/instance.toml"


def mm(label: str, edit: Callable[[dict[str, Any]], None], expect: str | None = None,
       why: str = "", target: str = "") -> Mutation:
    """A change to the toy's TOML manifest."""
    return Mutation(f"instance.toml:{label}", _edit_toml(MANIFEST, edit), expect, why,
                    target or f"{MANIFEST}#{label.split('=')[0]}")


def mraw(label: str, edit: Callable[[bytes], bytes], expect: str | None = None,
         why: str = "", path: str = MANIFEST) -> Mutation:
    """A change to a file's bytes."""
    return Mutation(f"{Path(path).name}:{label}", _edit_bytes(path, edit), expect, why, path)


GEOJSON_OK = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "properties": {"id": "sea"},
         "geometry": {"type": "Polygon", "coordinates": [[[122.7, 40.0], [122.9, 40.0],
                                                          [122.9, 40.2], [122.7, 40.2],
                                                          [122.7, 40.0]]]}},
        {"type": "Feature", "properties": {"id": "river"},
         "geometry": {"type": "Polygon", "coordinates": [[[122.3, 40.6], [122.5, 40.6],
                                                          [122.5, 40.8], [122.3, 40.8],
                                                          [122.3, 40.6]]]}},
    ],
}


def _geojson(edit: Callable[[dict[str, Any]], None] | None = None) -> bytes:
    doc = json.loads(json.dumps(GEOJSON_OK))
    if edit:
        edit(doc)
    return json.dumps(doc).encode()


def _with_geometry(name: str, content: Content, path: str | None = None
                   ) -> Callable[[Work], None]:
    def fn(work: Work) -> None:
        _edit_toml(MANIFEST, _put(["geometry", "regions"], path or name))(work)
        work.files[f"toy/{name}"] = content
    return fn


def manifest_mutations() -> Iterator[Mutation]:
    """Keys and values of the TOML manifest, its syntax, encoding and geometry."""
    for key in ("format", "name", "currency", "crs"):
        yield mm(f"drop:{key}", _drop([key]), INVALID, f"manifest key {key!r} is required")
    for key in ("description", "settings", "sources"):
        yield mm(f"drop:{key}", _drop([key]), VALID, f"{key} is optional")
    bad: list[tuple[str, Any, str | None, str]] = [
        ("format", "reserve-opt/2", INVALID, "an unsupported format"),
        ("format", 1, INVALID, "format is not text"),
        ("name", 5, INVALID, "name is not text"),
        ("name", "", INVALID, "name is empty"),
        ("name", ["a"], INVALID, "name is a list"),
        ("description", {"a": 1}, INVALID, "a description that is a table (issue 11)"),
        ("description", [1, 2], INVALID, "a description that is a list"),
        ("description", "x" * 100_000, None, ""),
        ("currency", "cny", INVALID, "currency is not an ISO 4217 code"),
        ("currency", "CNYY", INVALID, "currency is not an ISO 4217 code"),
        ("currency", 156, INVALID, "currency is not text"),
        ("currency", "", INVALID, "currency is empty"),
        ("crs", "EPSG:3857", INVALID, "a projected CRS for degrees"),
        ("crs", "garbage", INVALID, "an unknown CRS"),
        ("crs", "", INVALID, "an empty CRS"),
        ("crs", {"a": 1}, INVALID, "a CRS that is a table"),
        ("crs", 4326, None, ""),
        ("settings", "fast", INVALID, "[settings] is text"),
        ("settings", [1], INVALID, "[settings] is a list"),
        ("sources", "x", INVALID, "[sources] is text"),
        ("tables", "regions.csv", INVALID, "[tables] is text"),
        ("geometry", 5, INVALID, "[geometry] is a number"),
        ("regions", 5, INVALID, "a table name as a top-level key with a number"),
        ("colour", "blue", INVALID, "an unknown top-level key"),
    ]
    for key, value, expect, why in bad:
        yield mm(f"{key}={_label(value)}", _put([key], value), expect, why)
    for s in SETTINGS:
        if s.dtype == "bool":
            for value in ("yes", 1):
                yield mm(f"settings.{s.name}={_label(value)}", _put(["settings", s.name], value),
                         INVALID, f"setting {s.name} must be true or false")
            continue
        cases: list[tuple[Any, str | None, str]] = [
            (math.nan, INVALID, "a non-finite setting"),
            (math.inf, INVALID, "a non-finite setting"),
            ("fast", INVALID, "a setting that is text"),
            (True, INVALID, "a setting that is a boolean"),
            (-1.0, INVALID, "a negative setting"),
            (1e308, None, ""),
        ]
        if s.name == "speed_kmh":
            cases.append((0.0, INVALID, "speed_kmh = 0: plan refuses it, so validate must"))
        if s.name == "detour_factor":
            cases.append((0.5, INVALID, "detour_factor below 1"))
        for value, expect, why in cases:
            yield mm(f"settings.{s.name}={_label(value)}", _put(["settings", s.name], value),
                     expect, why)
    yield mm("settings.colour=1", _put(["settings", "colour"], 1), INVALID,
             "an unknown setting")
    # table paths: never outside the instance folder (issue 11, section 2)
    paths: list[tuple[str, str, str | None, str]] = [
        ("secret-relative", "../secret.txt", INVALID, "a table outside the instance folder"),
        ("secret-absolute", "{case}/secret.txt", INVALID,
         "an absolute table path outside the instance folder"),
        ("dot", ".", INVALID, "a table path that is the instance folder"),
        ("missing", "nope.csv", INVALID, "a table file that does not exist"),
        ("empty", "", INVALID, "an empty table path"),
        ("variants-dir", "variants", INVALID, "a table path that is a folder"),
        ("manifest", "instance.toml", INVALID, "the manifest as a table"),
        ("nul", "regions\x00.csv", INVALID, "a NUL byte in a path"),
        ("long", "x" * 5000 + ".csv", INVALID, "a path longer than the system allows"),
    ]
    for label, value, expect, why in paths:
        yield mm(f"tables.regions={label}", _put(["tables", "regions"], value), expect, why,
                 target=f"{MANIFEST}#tables")
    yield mm("tables.stock=secret", _put(["tables", "stock"], "../secret.txt"), INVALID,
             "an optional table outside the instance folder", target=f"{MANIFEST}#tables")
    yield mm("tables.colour=x", _put(["tables", "colour"], "regions.csv"), INVALID,
             "[tables] names an unknown table", target=f"{MANIFEST}#tables")
    yield mm("tables.regions=5", _put(["tables", "regions"], 5), INVALID,
             "[tables] maps a table to a number", target=f"{MANIFEST}#tables")
    # geometry
    geo: list[tuple[str, Callable[[Work], None], str | None, str]] = [
        ("ok", _with_geometry("regions.geojson", _geojson()), VALID, "a correct GeoJSON"),
        ("dot", _edit_toml(MANIFEST, _put(["geometry", "regions"], ".")), INVALID,
         "a geometry path that is the instance folder (issue 11)"),
        ("missing", _edit_toml(MANIFEST, _put(["geometry", "regions"], "nope.gpkg")),
         INVALID, "a geometry file that does not exist"),
        ("secret", _edit_toml(MANIFEST, _put(["geometry", "regions"], "../secret.txt")),
         INVALID, "a geometry file outside the instance folder"),
        ("garbage", _with_geometry("regions.geojson", b"{not json"), INVALID,
         "a geometry file that is not geodata"),
        ("empty", _with_geometry("regions.geojson", b""), INVALID,
         "an empty geometry file"),
        ("unknown-type", _with_geometry("regions.geojson", _geojson(
            lambda d: d["features"][0]["geometry"].update(type="Blob"))), INVALID,
         "a GeoJSON geometry of unknown type (issue 11)"),
        ("duplicate-ids", _with_geometry("regions.geojson", _geojson(
            lambda d: d["features"][1]["properties"].update(id="sea"))), INVALID,
         "duplicate GeoJSON feature ids (issue 11: a polygon dropped)"),
        ("unknown-id", _with_geometry("regions.geojson", _geojson(
            lambda d: d["features"][1]["properties"].update(id="nope"))), INVALID,
         "a polygon for a region that does not exist"),
        ("no-id", _with_geometry("regions.geojson", _geojson(
            lambda d: [f["properties"].clear() for f in d["features"]])), INVALID,
         "geometry without an id column"),
        ("nan-coords", _with_geometry("regions.geojson", _geojson(
            lambda d: d["features"][0]["geometry"]["coordinates"][0][1].__setitem__(
                0, "NaN"))), INVALID, "a coordinate that is not a number"),
        ("huge-coords", _with_geometry("regions.geojson", _geojson(
            lambda d: d["features"][0]["geometry"]["coordinates"][0][1].__setitem__(
                0, 1e300))), INVALID, "coordinates far outside lon/lat"),
        ("null-geometry", _with_geometry("regions.geojson", _geojson(
            lambda d: d["features"][0].update(geometry=None))), None, ""),
        ("folder", _with_geometry("regions.geojson", FOLDER), INVALID,
         "a geometry path that is a folder"),
        ("binary", _with_geometry("regions.gpkg", bytes(range(256)) * 8), INVALID,
         "a GeoPackage that is garbage"),
    ]
    for label, fn, expect, why in geo:
        yield Mutation(f"instance.toml:geometry={label}", fn, expect, why,
                       f"{MANIFEST}#geometry")
    # syntax and encoding
    yield mraw("truncated", lambda b: b[: len(b) // 2], None, "")
    yield mraw("syntax", lambda b: b + b"\n[settings\n", INVALID, "a TOML syntax error")
    yield mraw("empty", lambda b: b"", INVALID, "an empty manifest")
    yield mraw("latin1", lambda b: b.replace(b"Four regions", b"Quatre r\xe9gions"),
               INVALID, "a manifest that is not UTF-8")
    yield mraw("utf16", lambda b: b.decode().encode("utf-16"), INVALID,
               "a manifest in UTF-16")
    yield mraw("bom", lambda b: b"\xef\xbb\xbf" + b, None, "")
    yield mraw("binary", lambda b: bytes(range(256)), INVALID, "a binary manifest")
    yield mraw("duplicate-key", lambda b: b'name = "again"\n' + b, INVALID,
               "a TOML key given twice")
    yield Mutation("instance.toml:folder", _set(MANIFEST, FOLDER), INVALID,
                   "the manifest is a folder", MANIFEST)
    yield Mutation("instance.toml:link-outside", _set(MANIFEST, Link("../secret.txt")),
                   INVALID, "the manifest links outside the instance folder", MANIFEST)
    yield Mutation("instance.toml:and-yaml", _set("toy/instance.yaml", b"name: toy\n"),
                   INVALID, "both instance.toml and instance.yaml", "toy/instance.yaml")


def _label(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "neginf"
        return f"{value:g}"
    if isinstance(value, str):
        if not value:
            return "empty"
        clean = "".join(c if c.isalnum() or c in "-_./" else "_" for c in value[:20])
        return f"{clean}~{len(value)}" if len(value) > 20 else clean
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "table"
    if isinstance(value, list):
        return "list"
    return str(value)[:20]


YAML = "toy/instance.yaml"


def yaml_mutations() -> Iterator[Mutation]:
    """The manifest as YAML: types TOML cannot express, aliases, tags."""
    def raw(label: str, edit: Callable[[bytes], bytes], expect: str | None, why: str
            ) -> Mutation:
        return Mutation(f"instance.yaml:{label}", _edit_bytes(YAML, edit), expect, why, YAML)

    def ed(label: str, edit: Callable[[dict[str, Any]], None], expect: str | None,
           why: str) -> Mutation:
        return Mutation(f"instance.yaml:{label}", _edit_yaml(YAML, edit), expect, why, YAML)

    yield ed("as-is", lambda d: None, VALID, "the toy manifest as YAML")
    yield raw("integer-key", lambda b: b + b"1: one\n", INVALID,
              "an integer key (issue 11: internal error)")
    yield raw("integer-setting-key", lambda b: b.replace(b"settings:\n",
                                                         b"settings:\n  7: 1\n"),
              INVALID, "an integer key in [settings]")
    yield raw("null-key", lambda b: b + b"~: x\n", INVALID, "a null key")
    yield raw("list-key", lambda b: b + b"? [a, b]\n: x\n", INVALID, "a list as a key")
    yield raw("top-list", lambda b: b"- a\n- b\n", INVALID, "a manifest that is a list")
    yield raw("top-scalar", lambda b: b"toy\n", INVALID, "a manifest that is text")
    yield raw("empty", lambda b: b"", INVALID, "an empty manifest")
    yield raw("python-tag", lambda b: b + b"x: !!python/object/apply:os.getcwd []\n",
              INVALID, "a Python object tag")
    yield raw("small-aliases", lambda b: b + b"x: &a [1, 2]\ny: [*a, *a]\n", INVALID,
              "unknown keys (with aliases)")
    yield raw("syntax", lambda b: b + b"name: [unclosed\n", INVALID, "a YAML syntax error")
    yield raw("tabs", lambda b: b + b"\tname: x\n", INVALID, "a tab in indentation")
    yield raw("latin1", lambda b: b.replace(b"Four regions", b"Quatre r\xe9gions"), INVALID,
              "a manifest that is not UTF-8")
    yield raw("duplicate-key", lambda b: b + b"name: again\n", None, "")
    yield ed("name-date", _put(["name"], __import__("datetime").date(2024, 1, 1)), INVALID,
             "a name that is a date")
    yield ed("name-null", _put(["name"], None), INVALID, "a name that is null")
    yield ed("currency-null", _put(["currency"], None), INVALID, "a currency that is null")
    yield ed("speed-nan", _put(["settings", "speed_kmh"], math.nan), INVALID,
             "a non-finite setting")
    yield ed("speed-bigint", _put(["settings", "speed_kmh"], 10**400), INVALID,
             "a 400-digit setting (issue 11: OverflowError)")
    yield ed("budget-null", _put(["settings", "budget"], None), None, "")
    yield ed("tables-null", _put(["tables"], None), INVALID, "[tables] that is null")
    yield ed("sources-list", _put(["sources"], ["a"]), INVALID, "[sources] that is a list")
    yield ed("settings-list", _put(["settings"], [1, 2]), INVALID,
             "[settings] that is a list")
    yield ed("description-table", _put(["description"], {"a": 1}), INVALID,
             "a description that is a table")
    yield ed("format-float", _put(["format"], 1.0), INVALID, "a format that is a number")


def manifest_cases(full: bool = False) -> Iterator[Case]:
    """Manifest cases (TOML and YAML), validated."""
    for m in manifest_mutations():
        # settings: by default NaN, a negative value and the special cases
        extra = m.name.startswith("instance.toml:settings.") and not m.name.endswith(
            ("=nan", "=-1", "=0", "=0.5", "=yes", "colour=1"))
        if extra and not full:
            continue
        yield make(f"manifest/{m.name}", "manifest", "toy", ["validate", "toy"], [m],
                   tier="extra" if extra else "core")
    for m in yaml_mutations():
        yield make(f"manifest/{m.name}", "manifest", "toy_yaml", ["validate", "toy"], [m])


# --------------------------------------------------------------------------- JSON document


@dataclass(frozen=True)
class RawJSON:
    """JSON text put in place of a value as is (numbers json cannot write, deep nests)."""

    text: str


def _edit_json(path: str, edit: Callable[[Any], None]) -> Callable[[Work], None]:
    def fn(work: Work) -> None:
        data = work.files[path]
        assert isinstance(data, bytes)
        # integers json cannot turn into int (over 4300 digits) stay as written
        doc = json.loads(data, parse_int=lambda t: RawJSON(t) if len(t) > 4000 else int(t))
        raws: list[str] = []

        def sub(node: Any) -> Any:
            if isinstance(node, RawJSON):
                raws.append(node.text)
                return f"__RAW_{len(raws) - 1}__"
            if isinstance(node, dict):
                return {k: sub(v) for k, v in node.items()}
            if isinstance(node, list):
                return [sub(v) for v in node]
            return node
        edit(doc)
        text = json.dumps(sub(doc), indent=1, ensure_ascii=False)
        for i, r in enumerate(raws):
            text = text.replace(f'"__RAW_{i}__"', r)
        work.files[path] = text.encode()
    return fn


def _json_set(path: Sequence[str | int], value: Any) -> Callable[[Any], None]:
    def edit(doc: Any) -> None:
        node = doc
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
    return edit


def _json_del(path: Sequence[str | int]) -> Callable[[Any], None]:
    def edit(doc: Any) -> None:
        node = doc
        for k in path[:-1]:
            node = node[k]
        del node[path[-1]]
    return edit


DOC = "toy.json"

#: JSON values tried in JSON cells (label, value).
JSON_POOL: tuple[tuple[str, Any], ...] = (
    ("null", None), ("true", True), ("false", False), ("zero", 0), ("neg1", -1),
    ("half", 0.5), ("e300", 1e300), ("NaN", math.nan), ("Infinity", math.inf),
    ("e400", RawJSON("1e400")), ("int400", RawJSON("9" * 400)),
    ("int5000", RawJSON("9" * 5000)), ("empty", ""), ("abc", "abc"), ("list", []),
    ("object", {}), ("nested", RawJSON("[" * 200 + "]" * 200)), ("numtext", "12"),
    ("unknown", "nope"), ("long", "x" * 5000),
)
JPOOL = dict(JSON_POOL)


def json_oracle(table: str, col: Column, value: Any) -> tuple[str | None, str]:
    """Whether a JSON value in column ``col`` must be refused, and why."""
    where = f"toy.json {table}.{col.name}"
    if isinstance(value, RawJSON):
        text = value.text
        if text.startswith("["):
            return INVALID, f"{where} is a nested list"
        if col.dtype in ("float", "int"):
            return INVALID, f"{where} {text[:12]}...: out of any sensible range"
        if col.dtype == "str" and text.isdigit():
            return None, ""  # a whole number in a text column reads as its digits
        return INVALID, f"{where} a number where {col.dtype} is expected"
    if value is None or value == "" or value == []:
        if col.nullable:
            return None, ""
        return INVALID, f"{where} may not be empty"
    if col.dtype in ("float", "int"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return INVALID, f"{where} {value!r} is not a number"
        if isinstance(value, str):
            return cell_oracle(table, col, value)
        return cell_oracle(table, col, repr(float(value)))
    if col.dtype == "bool":
        if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
            return None, ""  # 0 and 1 read as false and true, as in CSV
        if isinstance(value, str):
            return cell_oracle(table, col, value)
        return INVALID, f"{where} {value!r} is not true or false"
    if col.dtype == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return INVALID, f"{where} {value!r} is not a list of ids"
        return cell_oracle(table, col, "|".join(value))
    if isinstance(value, bool) or not isinstance(value, str | int):
        return INVALID, f"{where} {value!r} is not text (issue 11: \"id\": true)"
    if isinstance(value, str):
        return cell_oracle(table, col, value)
    return None, ""


@cache
def _doc_rows() -> dict[str, list[dict[str, Any]]]:
    doc = json.loads(_toy_document())
    return {t.name: doc[t.name] for t in TABLES if t.name in doc}


def m_json_cell(table: str, row: int, column: str, label: str) -> Mutation:
    """Set one value of a JSON table row (``row`` 0-based)."""
    value = JPOOL[label]
    if label == "unknown":
        value = f"nope_{table}_{column}"
    expect, why = json_oracle(table, SPEC[table].by_name[column], value)
    return Mutation(f"toy.json:{table}[{row}].{column}={label}",
                    _edit_json(DOC, _json_set([table, row, column], value)), expect, why,
                    f"{DOC}#{table}[{row}].{column}")


def json_mutations(full: bool, all_rows: bool = False) -> Iterator[tuple[Mutation, str]]:
    """JSON document mutations with their tier."""
    raw: list[tuple[str, Callable[[bytes], bytes], str | None, str]] = [
        ("truncated", lambda b: b[: len(b) // 2], INVALID, "a cut JSON document"),
        ("empty", lambda b: b"", INVALID, "an empty document"),
        ("latin1", lambda b: b.replace(b"Four regions", b"Quatre r\xe9gions"), INVALID,
         "a document that is not UTF-8"),
        ("utf16", lambda b: b.decode().encode("utf-16"), INVALID, "a document in UTF-16"),
        ("bom", lambda b: b"\xef\xbb\xbf" + b, None, ""),
        ("top-array", lambda b: b"[" + b + b"]", INVALID, "a document that is an array"),
        ("top-string", lambda b: b'"toy"', INVALID, "a document that is a string"),
        ("top-null", lambda b: b"null", INVALID, "a document that is null"),
        ("deep-100k", lambda b: b.replace(b'"population": 200000',
                                          b'"population": ' + b"[" * 100_000 + b"]" * 100_000,
                                          1),
         INVALID, "a value nested 10^5 deep (issue 11: RecursionError)"),
        ("deep-top", lambda b: b"[" * 100_000 + b"]" * 100_000, INVALID,
         "a document nested 10^5 deep"),
        ("dup-key", lambda b: b.replace(b'"name": "toy"', b'"name": "toy", "name": 5', 1),
         None, ""),
        ("trailing-comma", lambda b: b.rstrip().rstrip(b"}") + b",}", INVALID,
         "a trailing comma"),
        ("binary", lambda b: bytes(range(256)), INVALID, "a binary document"),
    ]
    for label, fn, expect, why in raw:
        yield Mutation(f"toy.json:{label}", _edit_bytes(DOC, fn), expect, why, DOC), "core"
    for t in ("regions", "commodities", "facilities", "scenarios"):
        for label, value in (("null", None), ("object", {}), ("text", "x"), ("numbers", [1]),
                             ("empty", [])):
            yield Mutation(f"toy.json:{t}={label}", _edit_json(DOC, _json_set([t], value)),
                           INVALID, f"required table {t} is {label}", f"{DOC}#{t}"), "core"
        yield Mutation(f"toy.json:drop:{t}", _edit_json(DOC, _json_del([t])), INVALID,
                       f"required table {t} is missing", f"{DOC}#{t}"), "core"
    for t in ("stock", "fleet"):
        yield Mutation(f"toy.json:{t}=numbers", _edit_json(DOC, _json_set([t], [1])), INVALID,
                       f"table {t} holds numbers, not rows", f"{DOC}#{t}"), "core"
    for key, label, value, expect, why in (
        ("format", "null", None, INVALID, "format is null"),
        ("name", "true", True, INVALID, "name is a boolean"),
        ("currency", "list", ["CNY"], INVALID, "currency is a list"),
        ("settings", "speed-e400", {"speed_kmh": RawJSON("1e400")}, INVALID,
         "an infinite setting"),
        ("settings", "speed-NaN", {"speed_kmh": RawJSON("NaN")}, INVALID, "a NaN setting"),
        ("settings", "budget-int400", {"budget": RawJSON("9" * 400)}, INVALID,
         "a 400-digit setting (issue 11)"),
        ("tables", "secret", {"regions": "../secret.txt"}, INVALID,
         "[tables] in a JSON document (tables are inline)"),
        ("description", "object", {"a": 1}, INVALID, "a description that is an object"),
        ("colour", "1", 1, INVALID, "an unknown key"),
    ):
        yield Mutation(f"toy.json:{key}={label}",
                       _edit_json(DOC, _json_set([key], value)), expect, why,
                       f"{DOC}#{key}"), "core"
    for label, geometry, expect, why in (
        ("unknown-type", {"type": "Blob", "coordinates": []}, INVALID,
         "a GeoJSON geometry of unknown type (issue 11)"),
        ("text", "POLYGON", INVALID, "a geometry that is text"),
        ("empty-polygon", {"type": "Polygon", "coordinates": []}, None, ""),
        ("nan", {"type": "Point", "coordinates": [RawJSON("NaN"), 1]}, INVALID,
         "a geometry with a NaN coordinate"),
        ("huge", {"type": "Polygon", "coordinates": [[[0, 0], [1e300, 0], [0, 1], [0, 0]]]},
         INVALID, "a polygon far outside lon/lat"),
        ("ok", GEOJSON_OK["features"][1]["geometry"], VALID, "a correct polygon"),
    ):
        yield Mutation(f"toy.json:regions[1].geometry={label}",
                       _edit_json(DOC, _json_set(["regions", 1, "geometry"], geometry)),
                       expect, why, f"{DOC}#regions[1].geometry"), "core"
    yield Mutation("toy.json:regions[0].colour=1",
                   _edit_json(DOC, _json_set(["regions", 0, "colour"], 1)), INVALID,
                   "an unknown column", f"{DOC}#regions[0].colour"), "core"
    yield Mutation("toy.json:regions[0]=list",
                   _edit_json(DOC, _json_set(["regions", 0], ["north"])), INVALID,
                   "a row that is a list", f"{DOC}#regions[0]"), "core"
    # cells: the core values for every column of row 0, everything in the bench
    core_json = ("null", "true", "object", "e400", "int400", "NaN")
    for table, rows in _doc_rows().items():
        columns = [c for c in SPEC[table].columns if c.name in rows[0]]
        for col in columns:
            # one of the core values per column by default, chosen by a stable hash
            pick = core_json[_bucket(f"{table}.{col.name}", len(core_json))]
            for label, _ in JSON_POOL:
                for row in range(len(rows) if all_rows else 1):
                    core = row == 0 and (label == pick or (
                        label == "e300" and col.name in ("lon", "lat")) or (
                        label == "int5000" and col.name == "population"))
                    if not core and not full:
                        continue
                    yield m_json_cell(table, row, col.name, label), (
                        "core" if core else "extra")


def json_cases(full: bool = False, all_rows: bool = False) -> Iterator[Case]:
    """Cases on the JSON instance document."""
    yield make("json/as-is", "json", "toy_json", ["validate", "toy.json"], expect=VALID,
               why="the toy as a JSON document")
    for m, tier in json_mutations(full, all_rows):
        cmd = ["info", "toy.json", "--format", "json"] if _bucket(m.name, 5) == 0 else [
            "validate", "toy.json"]
        yield make(f"json/{m.name}", "json", "toy_json", cmd, [m], tier=tier)


# --------------------------------------------------------------------------- variants

#: One valid change per operation on the toy, and what each parameter is (for values).
VARIANT_TEMPLATES: dict[str, dict[str, Any]] = {
    "close_facility": {"facility": "W_north"},
    "add_facility": {"id": "W_new", "kind": "government_warehouse", "region": "river",
                     "lon": 122.5, "lat": 40.7, "existing": True, "capacity_m3": 100.0},
    "change_facility": {"facility": "W_north", "capacity_m3": 3000.0},
    "set_stock": {"facility": "W_north", "commodity": "water", "quantity": 100.0},
    "damage_facility": {"facility": "W_north", "surviving_fraction": 0.5,
                        "scenarios": ["typhoon"]},
    "scale_demand": {"factor": 2.0, "regions": ["sea"], "commodities": ["water"],
                     "scenarios": ["typhoon"]},
    "add_scenario": {"id": "quake", "probability": 0.1, "take_from": "snow",
                     "demand": [{"region": "sea", "commodity": "water", "quantity": 100.0}]},
    "drop_scenario": {"scenario": "snow", "give_to": "flood"},
    "cut_link": {"from": "north", "to": "sea", "scenarios": ["typhoon"]},
    "slow_link": {"from": "north", "to": "river", "speed_factor": 0.5},
    "drop_agreement": {"agreement": "A_north_sea"},
    "change_agreement": {"agreement": "A_north_sea", "cap_quantity": 100.0},
    "add_agreement": {"id": "A_new", "lender": "river", "borrower": "hill", "tier": 1},
    "leave_alliance": {"region": "sea"},
    "sign_contract": {"contract": "C_tent"},
    "unsign_contract": {"contract": "C_water"},
    "drop_contract": {"contract": "C_tent"},
    "change_contract": {"contract": "C_tent", "quantity": 500.0},
    "add_contract": {"id": "C_new", "facility": "S_river", "commodity": "tent",
                     "kind": "stock", "quantity": 10.0},
    "set_budget": {"budget": 1000000.0},
    "set_setting": {"name": "speed_kmh", "value": 50.0},
}

#: What each parameter holds: an id kind, a number kind, a list of ids, or text.
PARAM_KIND: dict[str, str] = {
    "facility": "id", "contract": "id", "agreement": "id", "region": "id", "scenario": "id",
    "commodity": "id", "from": "id", "to": "id", "lender": "id", "borrower": "id",
    "take_from": "id", "give_to": "id", "kind": "choice",
    "regions": "ids", "commodities": "ids", "scenarios": "ids",
    "quantity": "nonneg", "capacity_m3": "nonneg", "cap_quantity": "nonneg",
    "budget": "nonneg", "factor": "nonneg", "lon": "lon", "lat": "lat",
    "surviving_fraction": "fraction", "speed_factor": "fraction", "probability": "fraction",
    "tier": "tier", "value": "nonneg", "existing": "bool", "name": "setting", "id": "newid",
    "demand": "rows",
}

VARIANT = "v.toml"

#: An id each add_* operation would take twice.
TAKEN_IDS = {"add_facility": "W_north", "add_scenario": "snow", "add_agreement": "A_north_sea",
             "add_contract": "C_water"}


def _variant_file(changes: list[dict[str, Any]], extra: dict[str, Any] | None = None
                  ) -> bytes:
    doc: dict[str, Any] = {"description": "fuzz variant", **(extra or {}), "change": changes}
    return tomli_w.dumps(doc).encode()


def _param_values(param: str) -> list[tuple[str, Any, str | None, str]]:
    kind = PARAM_KIND.get(param, "text")
    out: list[tuple[str, Any, str | None, str]] = [
        ("table", {"a": 1}, INVALID, f"{param} is a table"),
    ]
    if kind == "id":
        out += [("unknown", f"nope_{param}", INVALID, f"{param} names an unknown id"),
                ("number", 5, INVALID, f"{param} is a number, not an id"),
                ("list", ["a"], INVALID, f"{param} is a list, not an id"),
                ("empty", "", INVALID, f"{param} is empty")]
    elif kind == "ids":
        one = {"scenarios": "flood", "commodities": "water"}.get(param, "sea")
        out += [("text", one, VALID,  # models/variants.md: one text is a list of one
                 f"{param} as one text selects that one id"),
                ("numbers", [5], INVALID, f"{param} holds numbers, not ids"),
                ("unknown", [f"nope_{param}"], INVALID, f"{param} names an unknown id"),
                ("empty", [], None, "")]
    elif kind in ("nonneg", "fraction", "lon", "lat", "tier"):
        out += [("nan", math.nan, INVALID, f"{param} is not finite"),
                ("inf", math.inf, INVALID, f"{param} is not finite"),
                ("text", "x", INVALID, f"{param} is text, not a number"),
                ("true", True, INVALID, f"{param} is a boolean, not a number"),
                ("e308", 1e308, None, "")]
        if kind in ("nonneg", "fraction", "tier"):
            out.append(("neg1", -1.0, INVALID, f"{param} is negative"))
        if kind == "fraction":
            out.append(("two", 2.0, INVALID, f"{param} is above 1"))
        if kind == "lon":
            out.append(("e300", 1e300, INVALID, "a longitude beyond 180"))
        if kind == "lat":
            out.append(("e300", 1e300, INVALID, "a latitude beyond 90"))
        if kind == "tier":
            out.append(("nine", 9, INVALID, "tier above 3"))
    elif kind == "bool":
        out += [("text", "maybe", INVALID, f"{param} is not true or false")]
    elif kind == "choice":
        out += [("bogus", "bogus", INVALID, f"{param} is not a known kind")]
    elif kind == "setting":
        out += [("unknown", "colour", INVALID, "an unknown setting")]
    elif kind == "newid":
        out += [("taken", "W_north", None, "")]
    elif kind == "rows":
        out += [("text", "x", INVALID, "demand rows given as text")]
    return out


def variant_mutations(full: bool) -> Iterator[tuple[Mutation, str]]:
    """Variant file mutations with their tier."""
    for op, params in VARIANT_TEMPLATES.items():
        change = {"op": op, **params}

        def write(work: Work, c: dict[str, Any] = change) -> None:
            work.files[VARIANT] = _variant_file([c])
        yield Mutation(f"{op}:as-is", write, VALID, f"a correct {op} change",
                       VARIANT), "core"
        for param in params:
            def dropped(work: Work, c: dict[str, Any] = change, p: str = param) -> None:
                work.files[VARIANT] = _variant_file([{k: v for k, v in c.items() if k != p}])
            from reserve_opt.variants.ops import OPERATIONS

            required = param in OPERATIONS[op].required
            yield Mutation(f"{op}:drop:{param}", dropped, INVALID if required else None,
                           f"{op} without required {param}" if required else "",
                           VARIANT), "core"
            values = _param_values(param)
            if param == "id":
                taken = TAKEN_IDS[op]
                values = [v for v in values if v[0] != "taken"] + [
                    ("taken", taken, INVALID, f"{op} id {taken!r} is already in use")]
            # by default one value per parameter (a stable pick), and text for id lists
            pick = values[_bucket(f"{op}.{param}", len(values))][0]
            for label, value, expect, why in values:
                def setv(work: Work, c: dict[str, Any] = change, p: str = param,
                         v: Any = value) -> None:
                    work.files[VARIANT] = _variant_file([{**c, p: v}])
                tier = "core" if label == pick or (
                    label == "text" and PARAM_KIND.get(param) == "ids") else "extra"
                if tier == "extra" and not full:
                    continue
                yield Mutation(f"{op}:{param}={label}", setv, expect, why, VARIANT), tier
        if op == "set_setting":
            def speed0(work: Work, c: dict[str, Any] = change) -> None:
                work.files[VARIANT] = _variant_file([{**c, "value": 0.0}])
            yield Mutation(f"{op}:value=zero-speed", speed0, INVALID,
                           "speed_kmh = 0: plan refuses it", VARIANT), "core"

        def unknown_param(work: Work, c: dict[str, Any] = change) -> None:
            work.files[VARIANT] = _variant_file([{**c, "colour": "blue"}])
        yield Mutation(f"{op}:param-unknown", unknown_param, INVALID,
                       f"{op} with an unknown parameter", VARIANT), "core"

    ok = {"op": "close_facility", "facility": "W_north"}
    shapes: list[tuple[str, bytes, str | None, str]] = [
        ("op-unknown", _variant_file([{"op": "flood_everything"}]), INVALID, "an unknown op"),
        ("op-missing", _variant_file([{"facility": "W_north"}]), INVALID, "a change without op"),
        ("op-number", _variant_file([{"op": 5}]), INVALID, "an op that is a number"),
        ("change-text", tomli_w.dumps({"description": "d", "change": "x"}).encode(), INVALID,
         "change is text"),
        ("change-table", tomli_w.dumps({"description": "d", "change": {"op": "x"}}).encode(),
         INVALID, "change is a table, not a list"),
        ("change-numbers", tomli_w.dumps({"description": "d", "change": [1, 2]}).encode(),
         INVALID, "changes that are numbers"),
        ("no-changes", tomli_w.dumps({"description": "d"}).encode(), None, ""),
        ("description-missing", tomli_w.dumps({"change": [ok]}).encode(), INVALID,
         "no description"),
        ("description-table", tomli_w.dumps({"description": {"a": 1}, "change": [ok]}).encode(),
         INVALID, "a description that is a table"),
        ("name-number", tomli_w.dumps({"description": "d", "name": 5, "change": [ok]}).encode(),
         INVALID, "a name that is a number"),
        ("key-unknown", tomli_w.dumps({"description": "d", "colour": 1, "change": [ok]}
                                      ).encode(), INVALID, "an unknown key"),
        ("include-missing", _variant_file([ok], {"include": ["nope.toml"]}), INVALID,
         "include of a missing file"),
        ("include-self", _variant_file([ok], {"include": ["v.toml"]}), INVALID,
         "a file including itself"),
        ("include-number", _variant_file([ok], {"include": 5}), INVALID,
         "include that is a number"),
        ("include-folder", _variant_file([ok], {"include": ["."]}), INVALID,
         "include of a folder"),
        ("include-secret", _variant_file([ok], {"include": ["secret.txt"]}), INVALID,
         "include of a file that is not a variant"),
        ("include-numbers", _variant_file([ok], {"include": [1, 2]}), INVALID,
         "include of numbers"),
        ("two-changes", _variant_file([ok, {"op": "sign_contract", "contract": "C_tent"}]),
         VALID, "two correct changes"),
        ("close-twice", _variant_file([ok, ok]), INVALID,
         "closing a facility already closed"),
        ("syntax", b"description = 'x'\n[[change]\nop = 1\n", INVALID, "a TOML syntax error"),
        ("empty", b"", INVALID, "an empty file (no description)"),
        ("latin1", b"description = 'caf\xe9'\n", INVALID, "a file that is not UTF-8"),
        ("binary", bytes(range(256)), INVALID, "a binary file"),
        ("bom", b"\xef\xbb\xbf" + _variant_file([ok]), None, ""),
    ]
    for label, content, expect, why in shapes:
        yield Mutation(f"file:{label}", _set(VARIANT, content), expect, why, VARIANT), "core"

    def cycle(work: Work) -> None:
        work.files[VARIANT] = _variant_file([ok], {"include": ["w.toml"]})
        work.files["w.toml"] = _variant_file([ok], {"include": ["v.toml"]})
    yield Mutation("file:include-cycle", cycle, INVALID, "two files including each other",
                   VARIANT), "core"


YAML_VARIANTS: list[tuple[str, bytes, str | None, str]] = [
    ("as-is", b"description: close the depot\nchange:\n  - {op: close_facility, "
     b"facility: W_north}\n", VALID, "a correct YAML variant"),
    ("integer-key", b"description: d\n1: x\nchange: []\n", INVALID, "an integer key"),
    ("integer-param", b"description: d\nchange:\n  - {op: close_facility, 5: W_north}\n",
     INVALID, "an integer parameter name"),
    ("list", b"- a\n", INVALID, "a variant that is a list"),
    ("null", b"~\n", INVALID, "a variant that is null"),
    ("change-null", b"description: d\nchange: ~\n", None, ""),
    ("param-null", b"description: d\nchange:\n  - {op: close_facility, facility: ~}\n",
     INVALID, "facility that is null"),
    ("factor-nan", b"description: d\nchange:\n  - {op: scale_demand, factor: .nan}\n",
     INVALID, "a factor that is NaN"),
    ("factor-bigint", b"description: d\nchange:\n  - {op: scale_demand, factor: "
     + b"9" * 400 + b"}\n", INVALID, "a 400-digit factor"),
    ("date", b"description: 2024-01-01\nchange: []\n", INVALID, "a description that is a date"),
    ("python-tag", b"description: !!python/object/apply:os.getcwd []\nchange: []\n", INVALID,
     "a Python object tag"),
    ("small-aliases", b"description: d\nx: &a [1]\nchange: [*a]\n", INVALID,
     "an unknown key and a change that is a list"),
]


def variant_cases(full: bool = False) -> Iterator[Case]:
    """Variant files checked against the toy (``variant check``)."""
    for path, _data in _toy_files():
        if path.startswith("toy/variants/"):
            name = Path(path).name
            yield make(f"variant/bundled:{name}", "variant", "toy",
                       ["variant", "check", "toy", "--variant", path], expect=VALID,
                       why="a bundled variant")
    for m, tier in variant_mutations(full):
        yield make(f"variant/{m.name}", "variant", "toy",
                   ["variant", "check", "toy", "--variant", VARIANT], [m], tier=tier)
    for label, content, expect, why in YAML_VARIANTS:
        m = Mutation(f"yaml:{label}", _set("v.yaml", content), expect, why, "v.yaml")
        yield make(f"variant/{m.name}", "variant", "toy",
                   ["variant", "check", "toy", "--variant", "v.yaml"], [m])
    v = "toy/variants/coast_road_cut.toml"
    for label, arg, expect, why in (
        ("missing", "nope.toml", INVALID, "a variant file that does not exist"),
        ("folder", "toy/variants", VALID, "a folder: each variant file in it (documented)"),
        ("txt", "secret.txt", INVALID, "a .txt file as a variant"),
        ("plus", f"{v}+toy/variants/north_withdraws.toml", VALID, "two variants composed"),
        ("plus-missing", f"{v}+nope.toml", INVALID, "composition with a missing file"),
        ("plus-empty", f"{v}+", INVALID, "composition with an empty name"),
        ("empty", "", INVALID, "an empty variant path"),
    ):
        yield make(f"variant/arg:{label}", "variant", "toy",
                   ["variant", "check", "toy", "--variant", arg], expect=expect, why=why)


# --------------------------------------------------------------------------- sweeps

SWEEP: dict[str, Any] = {
    "description": "fuzz sweep: hill demand x one draw of the north-hill road",
    "options": {"model": "allocate", "scenario": "snow", "time_limit_s": 20},
    "axis": [{"name": "demand", "op": "scale_demand", "param": "factor",
              "values": [1.0, 2.0], "regions": ["hill"]}],
    "sample": {"runs": 1, "seed": 3},
    "random": [{"name": "road", "op": "cut_link", "param": "speed_factor",
                "distribution": "choice", "values": [0.0, 1.0], "weights": [0.5, 0.5],
                "from": "north", "to": "hill"}],
}
GRID = "g.toml"
SWEEP_CMD = ["sweep", "toy", "--grid", GRID, "--serial", "--out", "out"]


def _sweep_with(edit: Callable[[dict[str, Any]], None] | None = None) -> Callable[[Work], None]:
    def fn(work: Work) -> None:
        doc = json.loads(json.dumps(SWEEP))
        if edit:
            edit(doc)
        work.files[GRID] = tomli_w.dumps(doc).encode()
    return fn


def sweep_mutations() -> Iterator[Mutation]:
    """Sweep file mutations."""
    yield Mutation("as-is", _sweep_with(), VALID, "a correct sweep", GRID)
    edits: list[tuple[str, Sequence[str | int], Any, str | None, str]] = [
        ("weights-nan", ["random", 0, "weights"], [math.nan, 1.0], INVALID,
         "NaN weights (issue 11: internal error)"),
        ("weights-inf", ["random", 0, "weights"], [math.inf, 1.0], INVALID, "infinite weights"),
        ("weights-negative", ["random", 0, "weights"], [-1.0, 2.0], INVALID,
         "a negative weight"),
        ("weights-zero", ["random", 0, "weights"], [0.0, 0.0], INVALID, "weights summing to 0"),
        ("weights-short", ["random", 0, "weights"], [1.0], INVALID,
         "fewer weights than values"),
        ("weights-text", ["random", 0, "weights"], "even", INVALID, "weights as text"),
        ("values-empty", ["random", 0, "values"], [], INVALID, "a choice among no values"),
        ("values-text", ["random", 0, "values"], "0 1", INVALID, "values as text"),
        ("distribution-unknown", ["random", 0, "distribution"], "zipf", INVALID,
         "an unknown distribution"),
        ("uniform-no-bounds", ["random", 0, "distribution"], "uniform", INVALID,
         "a uniform draw without low and high"),
        ("param-unknown", ["random", 0, "param"], "colour", INVALID,
         "a parameter the operation lacks"),
        ("op-unknown", ["random", 0, "op"], "flood", INVALID, "an unknown operation"),
        ("runs-negative", ["sample", "runs"], -1, INVALID, "a negative number of runs"),
        ("runs-zero", ["sample", "runs"], 0, INVALID, "zero runs"),
        ("runs-text", ["sample", "runs"], "many", INVALID, "runs as text"),
        ("runs-float", ["sample", "runs"], 1.5, INVALID, "a fractional number of runs"),
        ("runs-nan", ["sample", "runs"], math.nan, INVALID, "runs that is NaN"),
        ("seed-negative", ["sample", "seed"], -1, None, ""),
        ("seed-text", ["sample", "seed"], "x", INVALID, "a seed that is text"),
        ("seed-float", ["sample", "seed"], 1.5, INVALID, "a fractional seed"),
        ("seed-huge", ["sample", "seed"], 2**63, None, ""),
        ("axis-values-text", ["axis", 0, "values"], "1 2", INVALID, "axis values as text"),
        ("axis-values-empty", ["axis", 0, "values"], [], INVALID, "an axis with no values"),
        ("axis-values-nan", ["axis", 0, "values"], [math.nan], INVALID, "a NaN axis value"),
        ("axis-values-negative", ["axis", 0, "values"], [-1.0], INVALID,
         "a negative demand factor"),
        ("axis-values-mixed", ["axis", 0, "values"], [1.0, "x"], INVALID,
         "an axis value that is text"),
        ("axis-op-unknown", ["axis", 0, "op"], "flood", INVALID, "an unknown axis operation"),
        ("axis-param-unknown", ["axis", 0, "param"], "colour", INVALID,
         "an axis parameter the operation lacks"),
        ("axis-regions-text", ["axis", 0, "regions"], "hill", VALID,
         "regions as one text selects that one region (models/variants.md)"),
        ("axis-regions-unknown", ["axis", 0, "regions"], ["nope"], INVALID,
         "an unknown region"),
        ("axis-name-number", ["axis", 0, "name"], 5, INVALID, "an axis name that is a number"),
        ("axis-levels-number", ["axis", 0, "levels"], 5, INVALID, "levels that is a number"),
        ("axis-levels-missing-file", ["axis", 0, "levels"], {"a": "nope.toml"}, INVALID,
         "a level naming a missing file"),
        ("axis-levels-secret", ["axis", 0, "levels"], {"a": "secret.txt"}, INVALID,
         "a level naming a file that is not a variant"),
        ("axis-text", ["axis"], "x", INVALID, "axis that is text"),
        ("random-text", ["random"], "x", INVALID, "random that is text"),
        ("options-unknown", ["options", "colour"], 1, INVALID, "an unknown option"),
        ("options-time-nan", ["options", "time_limit_s"], math.nan, INVALID,
         "a NaN time limit"),
        ("options-time-negative", ["options", "time_limit_s"], -1.0, INVALID,
         "a negative time limit"),
        ("options-model-route", ["options", "model"], "route", INVALID,
         "sweeps do not run route"),
        ("options-model-unknown", ["options", "model"], "guess", INVALID, "an unknown model"),
        ("options-scenario-unknown", ["options", "scenario"], "nope", INVALID,
         "an unknown scenario"),
        ("options-threads-zero", ["options", "threads"], 0, INVALID, "zero threads"),
        ("options-text", ["options"], "fast", INVALID, "options that is text"),
        ("description-table", ["description"], {"a": 1}, INVALID,
         "a description that is a table"),
        ("key-unknown", ["colour"], 1, INVALID, "an unknown key"),
        ("include-missing", ["include"], ["nope.toml"], INVALID, "include of a missing file"),
    ]
    for label, path, value, expect, why in edits:
        yield Mutation(label, _sweep_with(_json_set(path, value)), expect, why, GRID)
    for label, content, expect, why in (
        ("empty", b"", INVALID, "an empty sweep file"),
        ("syntax", b"[[axis]\n", INVALID, "a TOML syntax error"),
        ("latin1", b"description = 'caf\xe9'\n", INVALID, "a sweep file that is not UTF-8"),
        ("binary", bytes(range(256)), INVALID, "a binary sweep file"),
        ("folder", FOLDER, INVALID, "a sweep file that is a folder"),
    ):
        yield Mutation(label, _set(GRID, content), expect, why, GRID)


YAML_SWEEPS: list[tuple[str, bytes, str | None, str]] = [
    ("integer-key", b"description: d\n1: x\n", INVALID, "an integer key"),
    ("weights-nan", b"description: d\noptions: {model: allocate, scenario: snow}\n"
     b"random:\n  - {name: r, op: cut_link, param: speed_factor, distribution: choice, "
     b"values: [0, 1], weights: [.nan, 1], from: north, to: hill}\nsample: {runs: 1}\n",
     INVALID, "NaN weights in YAML"),
    ("runs-bigint", b"description: d\nsample: {runs: " + b"9" * 400 + b"}\n", INVALID,
     "a 400-digit number of runs"),
    ("list", b"- a\n", INVALID, "a sweep file that is a list"),
    ("small-aliases", b"description: d\nx: &a [1]\ny: *a\n", INVALID, "unknown keys"),
]


def sweep_cases() -> Iterator[Case]:
    """Sweep files, run serially with allocate on the toy's snow scenario."""
    for m in sweep_mutations():
        yield make(f"sweep/{m.name}", "sweep", "toy", SWEEP_CMD, [m])
    for label, content, expect, why in YAML_SWEEPS:
        m = Mutation(f"yaml:{label}", _set("g.yaml", content), expect, why, "g.yaml")
        yield make(f"sweep/{m.name}", "sweep", "toy",
                   ["sweep", "toy", "--grid", "g.yaml", "--serial", "--out", "out"], [m])
    ok = _sweep_with()
    serial = ["--serial", "--out", "out"]
    for label, args, expect, why, tier in (
        ("max-runs=-1", [*serial, "--max-runs", "-1"], INVALID, "--max-runs -1 (issue 11)",
         "core"),
        ("workers=0", ["--workers", "0", "--out", "out"], INVALID, "zero workers", "core"),
        ("workers=-1", ["--workers", "-1", "--out", "out"], INVALID, "negative workers",
         "core"),
        ("out=secret", ["--serial", "--out", "secret.txt"], INVALID, "--out naming a file",
         "core"),
        ("out=toy", ["--serial", "--out", "toy"], INVALID, "--out naming the input instance",
         "core"),
        # a sweep adds parts/ and results beside the user's files (checked untouched)
        ("out=user-folder", ["--serial", "--out", "mine"], None, "", "core"),
        ("scheduler=garbage", ["--scheduler", "not an address", "--out", "out"], INVALID,
         "a malformed --scheduler address (issue 11)", "core"),
        # Dask tries to connect for 30 s before it gives up: the bench has the time
        ("scheduler=port", ["--scheduler", "tcp://127.0.0.1:99999", "--out", "out"],
         INVALID, "a port out of range", "extra"),
        ("scheduler=remote", ["--scheduler", "tcp://192.0.2.1:8786", "--out", "out"],
         INVALID, "a non-loopback scheduler without the flag that trusts it (issue 11)",
         "extra"),
    ):
        files = {"mine/keep.txt": b"the user's notes\n"} if "user" in label else {}

        def fn(work: Work, f: Files = files) -> None:
            ok(work)
            work.files.update(f)
        m = Mutation(f"cli:{label}", fn, None, "", GRID)
        yield make(f"sweep/cli:{label}", "sweep", "toy", ["sweep", "toy", "--grid", GRID, *args],
                   [m], expect=expect, why=why, tier=tier)
    m = Mutation("cli:grid=missing", lambda work: None, None, "", GRID)
    yield make("sweep/cli:grid=missing", "sweep", "toy", ["sweep", "toy", "--grid", "nope.toml",
                                                          *serial],
               [m], expect=INVALID, why="a sweep file that does not exist")


# --------------------------------------------------------------------------- event files

EVENT: dict[str, Any] = {
    "id": "storm", "days": 2, "affected": {"river": 1000}, "damage": {"W_north": 0.5},
    "demand": [{"region": "sea", "commodity": "tent", "quantity": 50}],
    "outages": [{"from": "river", "to": "sea", "speed_factor": 0.0}],
}
EVENT_FILE = "e.toml"


def event_cases() -> Iterator[Case]:
    """Event files for ``allocate --event``."""
    cmd = ["allocate", "toy", "--event", EVENT_FILE, "--periods", "2"]

    def with_event(edit: Callable[[dict[str, Any]], None] | None) -> Callable[[Work], None]:
        def fn(work: Work) -> None:
            doc = json.loads(json.dumps(EVENT))
            if edit:
                edit(doc)
            work.files[EVENT_FILE] = tomli_w.dumps(doc).encode()
        return fn
    items: list[tuple[str, Callable[[dict[str, Any]], None] | None, str | None, str]] = [
        ("as-is", None, VALID, "a correct event"),
        ("id-missing", _drop(["id"]), INVALID, "an event without id"),
        ("days-negative", _put(["days"], -1), INVALID, "negative days"),
        ("days-nan", _put(["days"], math.nan), INVALID, "NaN days"),
        ("days-text", _put(["days"], "two"), INVALID, "days as text"),
        ("affected-unknown", _put(["affected"], {"nope": 5}), INVALID, "an unknown region"),
        ("affected-negative", _put(["affected"], {"river": -5}), INVALID,
         "negative persons"),
        ("affected-list", _put(["affected"], [1]), INVALID, "affected as a list"),
        ("damage-two", _put(["damage"], {"W_north": 2.0}), INVALID, "damage above 1"),
        ("damage-unknown", _put(["damage"], {"nope": 0.5}), INVALID, "an unknown facility"),
        ("demand-nan", _json_set(["demand", 0, "quantity"], math.nan), INVALID,
         "a NaN quantity"),
        ("demand-unknown", _json_set(["demand", 0, "commodity"], "nope"), INVALID,
         "an unknown commodity"),
        ("demand-text", _put(["demand"], "lots"), INVALID, "demand as text"),
        ("outage-unknown", _json_set(["outages", 0, "to"], "nope"), INVALID,
         "an unknown place"),
        ("outage-speed", _json_set(["outages", 0, "speed_factor"], 5.0), INVALID,
         "a speed factor above 1"),
        ("key-unknown", _put(["colour"], 1), INVALID, "an unknown field"),
    ]
    for label, edit, expect, why in items:
        m = Mutation(f"event:{label}", with_event(edit), expect, why, EVENT_FILE)
        yield make(f"event/{label}", "event", "toy", cmd, [m])
    for label, name, content, expect, why in (
        ("missing", "e.toml", None, INVALID, "an event file that does not exist"),
        ("folder", "e.toml", FOLDER, INVALID, "an event file that is a folder"),
        ("latin1", "e.toml", b"id = 'caf\xe9'\n", INVALID, "an event file not in UTF-8"),
        ("yaml-integer-key", "e.yaml", b"id: x\n1: 2\n", INVALID, "an integer key"),
        ("json-nan", "e.json", b'{"id": "x", "days": NaN}', INVALID, "NaN days"),
        ("json-deep", "e.json", b'{"id": "x", "days": ' + b"[" * 100_000 + b"]" * 100_000
         + b"}", INVALID, "a value nested 10^5 deep"),
        ("txt", "e.txt", b"id = 'x'\n", INVALID, "an unknown event file type"),
    ):
        fn = _set(name, content) if content is not None else (lambda work: None)
        m = Mutation(f"event:{label}", fn, expect, why, name)
        yield make(f"event/{label}", "event", "toy",
                   ["allocate", "toy", "--event", name, "--periods", "2"], [m])


# --------------------------------------------------------------------------- benchmark files

# OR-Tools finds its first routes by a deterministic construction, so a valid file solves
# at any machine load; PyVRP's search could in theory find nothing in 0.2 s of a busy CPU
ROUTE_LIMIT = ["--engine", "ortools", "--max-iterations", "50"]


def bench_cmd(kind: str, name: str) -> list[str]:
    """The command that reads a benchmark file of ``kind``."""
    if kind in ("vrplib", "solomon", "cordeau"):
        return ["route", name, "--input-format", kind, *ROUTE_LIMIT]
    if kind == "orlib-cap":
        return ["site", "cflp", name, "--time-limit", "20"]
    return ["site", "p-median", name, "--time-limit", "20"]


def _lines_edit(path: str, edit: Callable[[list[str]], None]) -> Callable[[Work], None]:
    def fn(work: Work) -> None:
        data = work.files[path]
        assert isinstance(data, bytes)
        lines = data.decode().split("\n")
        edit(lines)
        work.files[path] = "\n".join(lines).encode()
    return fn


def _replace_line(old: str, new: str) -> Callable[[list[str]], None]:
    def edit(lines: list[str]) -> None:
        i = lines.index(old)
        lines[i] = new
    return edit


def _replace_lines(old: str, new: str) -> Callable[[list[str]], None]:
    def edit(lines: list[str]) -> None:
        for i, line in enumerate(lines):
            if line == old:
                lines[i] = new
    return edit


def _delete_line(old: str) -> Callable[[list[str]], None]:
    def edit(lines: list[str]) -> None:
        lines.remove(old)
    return edit


def _insert_after(old: str, new: str) -> Callable[[list[str]], None]:
    def edit(lines: list[str]) -> None:
        lines.insert(lines.index(old) + 1, new)
    return edit


def _cut(fraction: float) -> Callable[[bytes], bytes]:
    return lambda b: b[: int(len(b) * fraction)]


LineEdit = Callable[[list[str]], None]


def bench_mutations(kind: str) -> Iterator[Mutation]:
    """Hand-written breakages of each benchmark layout, then of any file, with oracles."""
    name = BENCH_FILES[kind][0]
    for label, edit, expect, why in _layout_edits(kind):
        yield Mutation(f"{name}:{label}", _lines_edit(name, edit), expect, why, name)
    for label, raw, expect, why in _file_edits():
        yield Mutation(f"{name}:{label}", _edit_bytes(name, raw), expect, why, name)


def _layout_edits(kind: str) -> list[tuple[str, LineEdit, str | None, str]]:
    if kind == "vrplib":
        items: list[tuple[str, LineEdit, str | None, str]] = [
            ("demand-missing", _delete_line("3 4"), INVALID,
             "a node missing from DEMAND_SECTION (issue 11)"),
            ("depot-unknown", _replace_line("1", "9"), INVALID,
             "a depot id not among the nodes (issue 11)"),
            ("node-duplicate", _insert_after("5 -3 -4", "5 9 9"), INVALID,
             "a node id given twice (issue 11)"),
            ("demand-duplicate", _insert_after("5 2", "5 7"), INVALID,
             "a demand given twice"),
            ("dimension-mismatch", _replace_line("DIMENSION : 5", "DIMENSION : 50"), INVALID,
             "DIMENSION says 50 nodes, the file has 5"),
            ("dimension-text", _replace_line("DIMENSION : 5", "DIMENSION : five"), INVALID,
             "DIMENSION is not a number"),
            ("vehicles-negative", _insert_after("CAPACITY : 10", "VEHICLES : -1"), INVALID,
             "a negative number of vehicles"),
            ("vehicles-zero", _insert_after("CAPACITY : 10", "VEHICLES : 0"), None, ""),
            ("vehicles-text", _insert_after("CAPACITY : 10", "VEHICLES : many"), INVALID,
             "VEHICLES is not a number"),
            ("capacity-negative", _replace_line("CAPACITY : 10", "CAPACITY : -5"), INVALID,
             "a negative capacity"),
            ("capacity-zero", _replace_line("CAPACITY : 10", "CAPACITY : 0"), None, ""),
            ("capacity-text", _replace_line("CAPACITY : 10", "CAPACITY : lots"), INVALID,
             "CAPACITY is not a number"),
            ("capacity-float", _replace_line("CAPACITY : 10", "CAPACITY : 10.5"), None, ""),
            ("capacity-missing", _delete_line("CAPACITY : 10"), INVALID, "no CAPACITY"),
            ("demand-negative", _replace_line("3 4", "3 -4"), INVALID, "a negative demand"),
            ("demand-nan", _replace_line("3 4", "3 nan"), INVALID, "a NaN demand"),
            ("demand-float", _replace_line("3 4", "3 4.5"), None, ""),
            ("coord-nan", _replace_line("3 -3 4", "3 nan 4"), INVALID, "a NaN coordinate"),
            ("coord-inf", _replace_line("3 -3 4", "3 inf 4"), INVALID,
             "an infinite coordinate"),
            ("coord-huge", _replace_line("3 -3 4", "3 1e300 4"), INVALID,
             "a coordinate whose distances overflow"),
            ("coord-missing", _replace_line("3 -3 4", "3 -3"), INVALID,
             "a node line with one coordinate"),
            ("coord-text", _replace_line("3 -3 4", "3 west 4"), INVALID,
             "a coordinate that is text"),
            ("edge-weight-geo", _replace_line("EDGE_WEIGHT_TYPE : EUC_2D",
                                              "EDGE_WEIGHT_TYPE : GEO"), INVALID,
             "an unsupported EDGE_WEIGHT_TYPE"),
            ("edge-weight-missing", _delete_line("EDGE_WEIGHT_TYPE : EUC_2D"), INVALID,
             "no EDGE_WEIGHT_TYPE"),
            ("coords-section-missing", _delete_line("NODE_COORD_SECTION"), INVALID,
             "no NODE_COORD_SECTION"),
            ("depot-section-missing", _delete_line("DEPOT_SECTION"), INVALID,
             "no DEPOT_SECTION"),
            ("depot-twice", _replace_lines("-1", "1\n-1"), INVALID, "a depot listed twice"),
            ("two-depots", _insert_after("1", "2"), None, ""),
            ("section-unknown", _insert_after("EOF", "TIME_WINDOW_SECTION"), None, ""),
        ]
    elif kind == "solomon":
        items = [
            ("customer-duplicate", _insert_after(
                "    5      20         50          9          0        900         10",
                "    5      25         55          9          0        900         10"),
             INVALID, "a customer id given twice"),
            ("row-short", _replace_line(
                "    3      42         66          8          0        900         10",
                "    3      42         66          8          0        900"), INVALID,
             "a customer line with 6 numbers (skipped today)"),
            ("demand-negative", _replace_line(
                "    3      42         66          8          0        900         10",
                "    3      42         66         -8          0        900         10"),
             INVALID, "a negative demand"),
            ("demand-nan", _replace_line(
                "    3      42         66          8          0        900         10",
                "    3      42         66        nan          0        900         10"),
             INVALID, "a NaN demand"),
            ("window-reversed", _replace_line(
                "    3      42         66          8          0        900         10",
                "    3      42         66          8        900          0         10"),
             INVALID, "a time window that closes before it opens"),
            ("service-negative", _replace_line(
                "    3      42         66          8          0        900         10",
                "    3      42         66          8          0        900        -10"),
             INVALID, "a negative service time"),
            ("vehicles-negative", _replace_line("  3         20", "  -3         20"), INVALID,
             "a negative number of vehicles"),
            ("capacity-negative", _replace_line("  3         20", "  3         -20"), INVALID,
             "a negative capacity"),
            ("capacity-text", _replace_line("  3         20", "  3         lots"), INVALID,
             "a capacity that is text"),
            ("vehicle-line-missing", _delete_line("  3         20"), INVALID,
             "no vehicle line"),
            ("depot-missing", _delete_line(
                "    0      40         50          0          0       1000          0"),
             INVALID, "no depot (customer 0)"),
            ("coord-huge", _replace_line(
                "    3      42         66          8          0        900         10",
                "    3      1e300      66          8          0        900         10"),
             INVALID, "a coordinate whose distances overflow"),
            ("no-customers", lambda lines: lines.__delitem__(slice(10, None)), None, ""),
        ]
    elif kind == "cordeau":
        items = [
            ("n-negative", _replace_line("2 2 4 2", "2 2 -50 2"), INVALID,
             "n = -50 customers (issue 11)"),
            ("m-negative", _replace_line("2 2 4 2", "2 -1 4 2"), INVALID,
             "a negative number of vehicles"),
            ("t-zero", _replace_line("2 2 4 2", "2 2 4 0"), INVALID, "no depots"),
            ("type-3", _replace_line("2 2 4 2", "3 2 4 2"), INVALID, "a problem type not MDVRP"),
            ("n-too-many", _replace_line("2 2 4 2", "2 2 9 2"), INVALID,
             "n announces more customers than the file has"),
            ("customer-duplicate", _replace_line("2 10 10 0 5 1 2 1 2",
                                                 "1 10 10 0 5 1 2 1 2"), INVALID,
             "a customer id given twice"),
            ("depot-same-id", _replace_line("6 5 0 0 0", "1 5 0 0 0"), INVALID,
             "a depot with a customer's id"),
            ("capacity-negative", _replace_lines("0 20", "0 -20"), INVALID,
             "a negative capacity"),
            ("capacity-nan", _replace_lines("0 20", "0 nan"), INVALID, "a NaN capacity"),
            ("duration-negative", _replace_lines("0 20", "-5 20"), INVALID,
             "a negative route duration"),
            ("demand-negative", _replace_line("3 -10 -10 0 5 1 2 1 2",
                                              "3 -10 -10 0 -5 1 2 1 2"), INVALID,
             "a negative demand"),
            ("demand-nan", _replace_line("3 -10 -10 0 5 1 2 1 2",
                                         "3 -10 -10 0 nan 1 2 1 2"), INVALID,
             "a NaN demand"),
            ("customer-short", _replace_line("3 -10 -10 0 5 1 2 1 2", "3 -10 -10"), INVALID,
             "a customer line without demand"),
            ("header-short", _replace_line("2 2 4 2", "2 2"), INVALID, "a short first line"),
            ("coord-huge", _replace_line("3 -10 -10 0 5 1 2 1 2",
                                         "3 1e300 -10 0 5 1 2 1 2"), INVALID,
             "a coordinate whose distances overflow"),
        ]
    elif kind == "orlib-cap":
        items = [
            ("capacity-word", _replace_lines("50 100", "capacity 100"), None, ""),
            ("capacity-negative", _replace_line("50 120", "-50 120"), INVALID,
             "a negative capacity"),
            ("fixed-negative", _replace_line("50 120", "50 -120"), INVALID,
             "a negative fixed cost"),
            ("demand-negative", _replace_line("20", "-20"), INVALID, "a negative demand"),
            ("cost-nan", _replace_line("7 3", "7 nan"), INVALID, "a NaN cost"),
            ("cost-inf", _replace_line("7 3", "7 inf"), INVALID, "an infinite cost"),
            ("cost-negative", _replace_line("7 3", "7 -3"), INVALID, "a negative cost"),
            ("m-negative", _replace_line("2 3", "-2 3"), INVALID, "a negative m"),
            ("m-zero", _replace_line("2 3", "0 3"), INVALID, "no facilities"),
            ("m-float", _replace_line("2 3", "2.5 3"), INVALID, "a fractional m"),
            ("m-huge", _replace_line("2 3", "1000000000 3"), INVALID,
             "a count the file does not hold"),
            ("n-zero", _replace_line("2 3", "2 0"), INVALID, "no customers"),
            ("short", lambda lines: lines.__delitem__(slice(-3, None)), INVALID,
             "a file cut short"),
            ("extra", lambda lines: lines.append("1 2 3"), INVALID, "numbers after the end"),
        ]
    else:
        items = [
            ("vertex-outside", _replace_line("1 3 2", "1 9 2"), INVALID,
             "an edge to vertex 9 of 4"),
            ("vertex-zero", _replace_line("1 3 2", "0 3 2"), INVALID, "an edge to vertex 0"),
            ("cost-negative", _replace_line("1 3 2", "1 3 -2"), INVALID, "a negative cost"),
            ("cost-nan", _replace_line("1 3 2", "1 3 nan"), INVALID, "a NaN cost"),
            ("cost-inf", _replace_line("1 3 2", "1 3 inf"), INVALID, "an infinite cost"),
            ("p-zero", _replace_line("4 5 2", "4 5 0"), INVALID, "p = 0"),
            ("p-negative", _replace_line("4 5 2", "4 5 -1"), INVALID, "a negative p"),
            ("p-too-big", _replace_line("4 5 2", "4 5 9"), INVALID, "p above the vertices"),
            ("p-float", _replace_line("4 5 2", "4 5 1.5"), INVALID, "a fractional p"),
            ("n-zero", _replace_line("4 5 2", "0 5 2"), INVALID, "no vertices"),
            ("e-mismatch", _replace_line("4 5 2", "4 7 2"), INVALID,
             "more edges announced than given"),
            ("disconnected", lambda lines: lines.__setitem__(
                slice(0, None), ["5 5 2", *lines[1:]]), INVALID, "a vertex without edges"),
            ("vertex-float", _replace_line("1 3 2", "1.5 3 2"), INVALID,
             "a fractional vertex id"),
            ("self-loop", _replace_line("1 3 2", "3 3 2"), None, ""),
        ]
    return items


def _file_edits() -> list[tuple[str, Callable[[bytes], bytes], str | None, str]]:
    return [
        ("empty", lambda b: b"", INVALID, "an empty file"),
        ("cut-third", _cut(1 / 3), INVALID,
         "a file cut at a third (issue 11: Solomon solved with a third of its clients)"),
        ("cut-mid-line", _cut(0.8), INVALID, "a file cut in the middle of a line"),
        ("latin1-comment", lambda b: b"\xe9\xe9\xe9 " + b, None, ""),
        ("utf16", lambda b: b.decode().encode("utf-16"), INVALID, "a file in UTF-16"),
        ("binary", lambda b: bytes(range(256)) * 4, INVALID, "a binary file"),
        ("crlf", lambda b: b.replace(b"\n", b"\r\n"), VALID, "CRLF line ends"),
        ("tabs", lambda b: b.replace(b" ", b"\t"), None, ""),
        ("nul", lambda b: b.replace(b"\n", b"\n\x00", 1), None, ""),
    ]


def bench_cases() -> Iterator[Case]:
    """Benchmark files (VRPLIB, Solomon, Cordeau, OR-Library cap and pmed)."""
    for kind, (name, _) in BENCH_FILES.items():
        fam = kind
        cmd = bench_cmd(kind, name)
        yield make(f"{fam}/as-is", fam, kind, cmd, expect=VALID, why=f"a correct {kind} file")
        for m in bench_mutations(kind):
            yield make(f"{fam}/{m.name.split(':', 1)[1]}", fam, kind, cmd, [m])
        for label, arg_edit, expect, why in (
            ("file-is-folder", lambda a: a.__setitem__(1, "dir"), INVALID,
             "a folder where a file is expected"),
            ("missing", lambda a: a.__setitem__(1, "nope.txt"), INVALID,
             "a file that does not exist"),
        ):
            def fn(work: Work, e: Callable[[list[str]], None] = arg_edit) -> None:
                e(work.args)
                work.files["dir"] = FOLDER
            yield make(f"{fam}/{label}", fam, kind, cmd,
                       [Mutation(label, fn, expect, why, "args")])
    # files beside a benchmark must never break the run (issue 11, section 3)
    beside: list[tuple[str, str, str, bytes]] = [
        ("vrplib", "sol-corrupt", "tiny.sol", b"Route #1: 2 x\nCost abc\n"),
        ("vrplib", "sol-binary", "tiny.sol", bytes(range(256))),
        ("vrplib", "sol-folder", "tiny.sol", b""),
        ("vrplib", "bks-other-layout", "BKS.csv", b"name,value\ntiny,12\n"),
        ("vrplib", "bks-bad-number", "BKS.csv",
         b"instance,kind,file,n_customers,n_depots,bks,bks_routes,distance_convention\n"
         b"tiny,CVRP,tiny.vrp,four,1,abc,,\n"),
        ("vrplib", "bks-latin1", "BKS.csv", b"instance,kind\n\xe9,x\n"),
        ("solomon", "sol-corrupt", "tiny.sol", b"Route #1: 1 2 3 oops\nCost nan\n"),
        ("cordeau", "bks-empty", "BKS.csv", b""),
        ("orlib-cap", "optima-latin1", "capopt.txt",
         b"Donn\xe9es  Valeur optimale\ncap1 123.0\n"),
        ("orlib-cap", "optima-garbage", "capopt.txt", bytes(range(256))),
        ("orlib-pmed", "optima-latin1", "pmedopt.txt", b"\xe9t\xe9\npmed1 5\n"),
        ("orlib-pmed", "optima-folder", "pmedopt.txt", b""),
    ]
    for kind, label, name, content in beside:
        file_name = BENCH_FILES[kind][0]
        value: Content = FOLDER if label.endswith("folder") else content
        m = Mutation(f"beside:{label}", _set(name, value), VALID,
                     f"a {name} beside the file must never break the run (issue 11)", name)
        yield make(f"{kind}/beside:{label}", kind, kind, bench_cmd(kind, file_name), [m])
    # uncapacitated and coverage models read the same files
    yield make("orlib-cap/uflp", "orlib-cap", "orlib-cap",
               ["site", "uflp", "cap1.txt", "--time-limit", "20"], expect=VALID,
               why="uflp on a correct cap file")
    for label, extra, expect, why in (
        ("max-coverage", ["site", "max-coverage", "pmed1.txt", "-p", "1", "--radius-km", "4"],
         VALID, "max-coverage on a correct pmed file"),
        ("set-cover", ["site", "set-cover", "pmed1.txt", "--radius-km", "4"], VALID,
         "set-cover on a correct pmed file"),
        ("radius-negative", ["site", "set-cover", "pmed1.txt", "--radius-km", "-4"], INVALID,
         "a negative radius"),
        ("radius-nan", ["site", "max-coverage", "pmed1.txt", "-p", "1", "--radius-km", "nan"],
         INVALID, "a NaN radius"),
        ("p-zero-flag", ["site", "p-median", "pmed1.txt", "-p", "0"], INVALID, "-p 0"),
        ("p-too-big-flag", ["site", "p-median", "pmed1.txt", "-p", "9"], INVALID,
         "-p above the vertices"),
        ("cap-model", ["site", "cflp", "pmed1.txt"], INVALID, "cflp on a pmed file"),
        ("optima-missing", ["site", "p-median", "pmed1.txt", "--optima", "nope.txt"], INVALID,
         "an --optima file that does not exist"),
        ("optima-folder", ["site", "p-median", "pmed1.txt", "--optima", "."], INVALID,
         "an --optima that is a folder"),
        ("optima-secret", ["site", "p-median", "pmed1.txt", "--optima", "secret.txt"], None,
         ""),
    ):
        yield make(f"orlib-pmed/{label}", "orlib-pmed", "orlib-pmed", [*extra, "--time-limit",
                                                                      "20"],
                   expect=expect, why=why)
    for label, extra, expect, why in (
        ("engine-bogus", ["--engine", "bogus"], INVALID, "an unknown engine"),
        ("format-bogus", ["--input-format", "bogus"], INVALID, "an unknown format"),
        ("format-wrong", ["--input-format", "solomon"], INVALID,
         "a VRPLIB file read as Solomon"),
        ("time-limit-negative", ["--time-limit", "-1"], INVALID, "a negative time limit"),
        ("time-limit-nan", ["--time-limit", "nan"], INVALID, "a NaN time limit"),
        ("seed-negative", ["--engine", "pyvrp", "--seed", "-1"], None, ""),
        ("with-scenario", ["-s", "typhoon"], INVALID, "--scenario with a benchmark file"),
        ("out-file", ["--out", "secret.txt"], INVALID, "--out naming a file"),
        ("out-xls", ["--out", "routes.xls"], INVALID, "--out with a file-like name"),
    ):
        yield make(f"vrplib/cli:{label}", "vrplib", "vrplib",
                   [*bench_cmd("vrplib", "tiny.vrp"), *extra], expect=expect, why=why)


# --------------------------------------------------------------------------- CLI arguments

PLAN = {"stock": [{"facility": "W_north", "commodity": "water", "total": 20000.0},
                  {"facility": "W_north", "commodity": "tent", "total": 800.0}],
        "contracts": [{"contract": "C_water", "signed": True},
                      {"contract": "C_tent", "signed": False}]}

DELIVERIES = b"source,region,commodity,quantity\nW_north,sea,water,500\nW_north,river,tent,20\n"


def _plan(edit: Callable[[dict[str, Any]], None] | None = None) -> bytes:
    doc = json.loads(json.dumps(PLAN))
    if edit:
        edit(doc)
    return json.dumps(doc).encode()


USER_FILES: Files = {"mine/keep.txt": b"the user's notes\n", "mine/sub/data.csv": b"a,b\n1,2\n"}

CliItem = tuple[str, list[str], str | None, str, Files]


def cli_items() -> Iterator[CliItem]:
    """(label, args, expect, why, extra files) of the command-line cases on the toy."""
    ok_route = ["route", "toy", "-s", "typhoon", "--engine", "ortools", "--max-iterations", "50"]
    yield ("validate/ok", ["validate", "toy"], VALID, "the toy", {})
    yield ("validate/missing", ["validate", "nope"], INVALID, "a path that does not exist", {})
    yield ("validate/table-file", ["validate", "toy/regions.csv"], INVALID,
           "a table file, not an instance", {})
    yield ("validate/empty-folder", ["validate", "empty"], INVALID, "a folder without manifest",
           {"empty": FOLDER})
    yield ("validate/json-folder", ["validate", "x.json"], INVALID,
           "a folder named like a JSON document", {"x.json": FOLDER})
    yield ("validate/empty-arg", ["validate", ""], INVALID, "an empty path", {})
    yield ("validate/secret", ["validate", "secret.txt"], INVALID, "a text file", {})
    yield ("info/format-xml", ["info", "toy", "--format", "xml"], INVALID,
           "an unknown output format", {})
    yield ("schema/ok", ["schema"], VALID, "the schema", {})
    yield ("version", ["--version"], VALID, "the version", {})
    plan_bad: list[tuple[str, list[str], str | None, str]] = [
        ("time-limit=-1", ["--time-limit", "-1"], INVALID, "a negative time limit"),
        ("time-limit=nan", ["--time-limit", "nan"], INVALID, "a NaN time limit"),
        ("time-limit=inf", ["--time-limit", "inf"], None, ""),
        ("time-limit=0", ["--time-limit", "0"], None, ""),
        ("gap=-1", ["--gap", "-1"], INVALID, "a negative gap"),
        ("gap=nan", ["--gap", "nan"], INVALID, "a NaN gap"),
        ("gap=inf", ["--gap", "inf"], INVALID, "an infinite gap"),
        ("gap=2", ["--gap", "2"], None, ""),
        ("threads=-1", ["--threads", "-1"], INVALID, "negative threads"),
        ("seed=-1", ["--seed", "-1"], None, ""),
        ("service-level=-0.5", ["--service-level", "-0.5"], INVALID, "a service level below 0"),
        ("service-level=1.5", ["--service-level", "1.5"], INVALID, "a service level above 1"),
        ("service-level=nan", ["--service-level", "nan"], INVALID, "a NaN service level"),
        ("risk-weight=-1", ["--risk-weight", "-1"], INVALID, "a negative risk weight"),
        ("risk-weight=2", ["--risk-weight", "2"], INVALID, "a risk weight above 1"),
        ("risk-weight=nan", ["--risk-weight", "nan"], INVALID, "a NaN risk weight"),
        ("cvar-level=1.5", ["--cvar-level", "1.5"], INVALID, "a CVaR level above 1"),
        ("cvar-level=nan", ["--cvar-level", "nan"], INVALID, "a NaN CVaR level"),
        ("solver=bogus", ["--solver", "bogus"], INVALID, "an unknown solver"),
        ("sharing=bogus", ["--sharing", "bogus"], INVALID, "an unknown sharing mode"),
        ("seed=text", ["--seed", "abc"], INVALID, "a seed that is text"),
        ("out=xls", ["--out", "results.xls"], INVALID,
         "--out results.xls makes a folder of that name (issue 11)"),
        ("out=xlsx", ["--out", "results.xlsx"], VALID,
         "--out results.xlsx writes one workbook (issue 14)"),
        ("out=user-folder", ["--out", "mine"], INVALID,
         "--out into a folder of the user's files (issue 11)"),
        ("out=input", ["--out", "toy"], INVALID, "--out onto the input instance (issue 11)"),
        ("out=file", ["--out", "secret.txt"], INVALID, "--out naming a file (issue 11)"),
        ("out=file-sub", ["--out", "secret.txt/sub"], INVALID,
         "--out under a file (issue 11)"),
        ("out=dot", ["--out", "."], INVALID, "--out . (issue 11: ValueError)"),
        ("out=empty", ["--out", ""], INVALID, "an empty --out"),
    ]
    for label, extra, expect, why in plan_bad:
        files = USER_FILES if "user-folder" in label else {}
        yield (f"plan/{label}", ["plan", "toy", "--time-limit", "30", *extra], expect, why,
               files)
    alloc: list[tuple[str, list[str], str | None, str, Files]] = [
        ("ok", ["-s", "typhoon"], VALID, "a scenario of the toy", {}),
        ("scenario-unknown", ["-s", "nope"], INVALID, "an unknown scenario", {}),
        ("no-scenario", [], INVALID, "neither --scenario nor --event", {}),
        ("periods=0", ["-s", "typhoon", "--periods", "0"], INVALID, "zero periods", {}),
        ("periods=-1", ["-s", "typhoon", "--periods", "-1"], INVALID, "negative periods", {}),
        ("period-h=0", ["-s", "typhoon", "--period-h", "0"], INVALID, "a zero-hour period", {}),
        ("period-h=nan", ["-s", "typhoon", "--period-h", "nan"], INVALID, "a NaN period", {}),
        ("period-h=inf", ["-s", "typhoon", "--period-h", "inf"], INVALID,
         "an infinite period", {}),
        ("time-limit=-1", ["-s", "typhoon", "--time-limit", "-1"], INVALID,
         "a negative time limit", {}),
        ("solver=bogus", ["-s", "typhoon", "--solver", "bogus"], INVALID, "an unknown solver",
         {}),
        ("plan=ok", ["-s", "typhoon", "--plan", "p.json"], VALID, "a correct plan",
         {"p.json": _plan()}),
        ("plan=missing", ["-s", "typhoon", "--plan", "nope.json"], INVALID,
         "a plan that does not exist", {}),
        ("plan=folder", ["-s", "typhoon", "--plan", "empty"], INVALID,
         "a folder without solution.json", {"empty": FOLDER}),
        ("plan=garbage", ["-s", "typhoon", "--plan", "secret.txt"], INVALID,
         "a plan that is not JSON", {}),
        ("plan=negative-stock", ["-s", "typhoon", "--plan", "p.json"], INVALID,
         "a plan whose stock is negative (issue 11)",
         {"p.json": _plan(_json_set(["stock", 0, "total"], -500.0))}),
        ("plan=nan-stock", ["-s", "typhoon", "--plan", "p.json"], INVALID,
         "a plan whose stock is NaN", {"p.json": _plan(_json_set(["stock", 0, "total"],
                                                                  math.nan))}),
        ("plan=text-stock", ["-s", "typhoon", "--plan", "p.json"], INVALID,
         "a plan whose stock is text", {"p.json": _plan(_json_set(["stock", 0, "total"],
                                                                   "many"))}),
        ("plan=stock-rows-text", ["-s", "typhoon", "--plan", "p.json"], INVALID,
         "a plan whose stock rows are text", {"p.json": _plan(_json_set(["stock", 0], "x"))}),
        ("plan=unknown-facility", ["-s", "typhoon", "--plan", "p.json"], INVALID,
         "a plan naming an unknown facility",
         {"p.json": _plan(_json_set(["stock", 0, "facility"], "nope"))}),
        ("plan=contracts-text", ["-s", "typhoon", "--plan", "p.json"], INVALID,
         "a plan whose contracts are text", {"p.json": _plan(_json_set(["contracts"], "x"))}),
        ("plan=latin1", ["-s", "typhoon", "--plan", "p.json"], INVALID,
         "a plan that is not UTF-8", {"p.json": b'{"stock": [], "x": "\xe9"}'}),
        ("out=xls", ["-s", "typhoon", "--out", "flows.xls"], INVALID,
         "--out with a file-like name", {}),
        ("out=user-folder", ["-s", "typhoon", "--out", "mine"], INVALID,
         "--out into a folder of the user's files", USER_FILES),
    ]
    for label, extra, expect, why, files in alloc:
        yield (f"allocate/{label}", ["allocate", "toy", *extra], expect, why, files)
    route: list[tuple[str, list[str], str | None, str, Files]] = [
        ("ok", [], VALID, "day 1 of the typhoon", {}),
        ("period=0", ["--period", "0"], INVALID, "day 0", {}),
        ("period=-1", ["--period", "-1"], INVALID, "a negative day", {}),
        ("period=99", ["--period", "99"], INVALID,
         "day 99 of a 3-day event (issue 11: 'solved, 0 deliveries')", {}),
        ("seed=-1", ["--seed", "-1", "--engine", "pyvrp"], None, "", {}),
        ("time-limit=-1", ["--time-limit", "-1"], INVALID, "a negative time limit", {}),
        ("time-limit=nan", ["--time-limit", "nan"], INVALID, "a NaN time limit", {}),
        ("max-trips=0", ["--max-trips", "0"], INVALID, "zero trips per vehicle", {}),
        ("max-trips=-1", ["--max-trips", "-1"], INVALID, "negative trips per vehicle", {}),
        ("break-min=-5", ["--break-min", "-5", "--drive-h", "4"], INVALID,
         "a negative break", {}),
        ("break-min=nan", ["--break-min", "nan", "--drive-h", "4"], INVALID,
         "a NaN break", {}),
        ("break-min=inf", ["--break-min", "inf", "--drive-h", "4"], INVALID,
         "an endless break", {}),
        ("drive-h=-1", ["--break-min", "20", "--drive-h", "-1"], INVALID,
         "negative driving hours", {}),
        ("drive-h=nan", ["--break-min", "20", "--drive-h", "nan"], INVALID,
         "NaN driving hours", {}),
        ("max-vehicle-kg=neg", ["--max-vehicle-kg", "D_sea=-5"], INVALID,
         "--max-vehicle-kg X=-5 (issue 11)", {}),
        ("max-vehicle-kg=nan", ["--max-vehicle-kg", "D_sea=nan"], INVALID,
         "a NaN vehicle limit", {}),
        ("max-vehicle-kg=unknown", ["--max-vehicle-kg", "nope=5000"], INVALID,
         "a vehicle limit for an unknown point", {}),
        ("max-vehicle-kg=no-equals", ["--max-vehicle-kg", "D_sea"], INVALID,
         "a vehicle limit without =KG", {}),
        ("max-vehicle-kg=text", ["--max-vehicle-kg", "D_sea=abc"], INVALID,
         "a vehicle limit that is text", {}),
        ("max-vehicle-kg=no-point", ["--max-vehicle-kg", "=5000"], INVALID,
         "a vehicle limit without a point", {}),
        ("engine=bogus", ["--engine", "bogus"], INVALID, "an unknown engine", {}),
        ("fleetless=bogus", ["--fleetless", "bogus"], INVALID, "an unknown fleetless rule", {}),
        ("scenario=unknown", ["-s", "nope"], INVALID, "an unknown scenario", {}),
        ("deliveries=ok", ["--deliveries", "d.csv"], VALID, "hand-made deliveries",
         {"d.csv": DELIVERIES}),
        ("deliveries=missing", ["--deliveries", "nope.csv"], INVALID,
         "a deliveries file that does not exist", {}),
        ("deliveries=empty", ["--deliveries", "d.csv"], INVALID,
         "an empty deliveries file (issue 11)", {"d.csv": b""}),
        ("deliveries=folder", ["--deliveries", "d.csv"], INVALID,
         "a deliveries path that is a folder", {"d.csv": FOLDER}),
        ("deliveries=header-only", ["--deliveries", "d.csv"], None, "",
         {"d.csv": DELIVERIES.split(b"\n")[0] + b"\n"}),
        ("deliveries=binary", ["--deliveries", "d.csv"], INVALID, "a binary deliveries file",
         {"d.csv": bytes(range(256))}),
        ("deliveries=latin1", ["--deliveries", "d.csv"], INVALID,
         "a deliveries file that is not UTF-8",
         {"d.csv": DELIVERIES + b"W_north,sea,caf\xe9,1\n"}),
        ("deliveries=column-missing", ["--deliveries", "d.csv"], INVALID,
         "deliveries without a quantity column",
         {"d.csv": b"source,region,commodity\nW_north,sea,water\n"}),
        ("deliveries=unknown-source", ["--deliveries", "d.csv"], INVALID,
         "a delivery from an unknown source",
         {"d.csv": DELIVERIES.replace(b"W_north,sea", b"nope,sea")}),
        ("deliveries=unknown-commodity", ["--deliveries", "d.csv"], INVALID,
         "a delivery of an unknown commodity",
         {"d.csv": DELIVERIES.replace(b"sea,water", b"sea,gold")}),
        ("deliveries=negative", ["--deliveries", "d.csv"], INVALID, "a negative quantity",
         {"d.csv": DELIVERIES.replace(b"500", b"-500")}),
        ("deliveries=nan", ["--deliveries", "d.csv"], INVALID, "a NaN quantity",
         {"d.csv": DELIVERIES.replace(b"500", b"nan")}),
        ("deliveries=text", ["--deliveries", "d.csv"], INVALID, "a quantity that is text",
         {"d.csv": DELIVERIES.replace(b"500", b"lots")}),
        ("deliveries=ready-nan", ["--deliveries", "d.csv"], INVALID, "a NaN ready time",
         {"d.csv": b"source,region,commodity,quantity,ready_h\nW_north,sea,water,5,nan\n"}),
        ("deliveries=short-row", ["--deliveries", "d.csv"], INVALID,
         "a delivery row shorter than its header",
         {"d.csv": DELIVERIES + b"W_north,sea\n"}),
        ("map=txt", ["--map", "routes.txt"], INVALID, "a map that is neither .png nor .html",
         {}),
        ("out=xls", ["--out", "routes.xls"], INVALID, "--out with a file-like name", {}),
        ("out=input", ["--out", "toy"], INVALID, "--out onto the input instance", {}),
        ("input-format=folder", ["--input-format", "vrplib"], INVALID,
         "a folder read as a VRPLIB file", {}),
    ]
    for label, extra, expect, why, files in route:
        args = [*ok_route, *extra]
        if label == "input-format=folder":
            args = ["route", "toy", "--input-format", "vrplib"]
        yield (f"route/{label}", args, expect, why, files)
    site: list[tuple[str, list[str], str | None, str]] = [
        ("p-median-ok", ["p-median", "toy", "-p", "1"], VALID, "one site"),
        ("model-unknown", ["q-median", "toy", "-p", "1"], INVALID, "an unknown model"),
        ("p-missing", ["p-median", "toy"], INVALID, "no -p"),
        ("p=0", ["p-median", "toy", "-p", "0"], VALID,
         "-p 0: the existing warehouse, fixed open, alone"),
        ("p=0-free", ["p-median", "toy", "-p", "0", "--free-existing"], INVALID,
         "-p 0 with nothing fixed open"),
        ("p=-1", ["p-median", "toy", "-p", "-1"], INVALID, "-p -1"),
        ("p=99", ["p-median", "toy", "-p", "99"], INVALID, "-p above the sites"),
        ("radius=-1", ["max-coverage", "toy", "-p", "1", "--radius-km", "-1"], INVALID,
         "a negative radius"),
        ("radius=nan", ["max-coverage", "toy", "-p", "1", "--radius-km", "nan"], INVALID,
         "a NaN radius"),
        ("max-hours=-1", ["max-coverage", "toy", "-p", "1", "--max-hours", "-1"], INVALID,
         "negative hours"),
        ("max-hours=nan", ["max-coverage", "toy", "-p", "1", "--max-hours", "nan"], INVALID,
         "NaN hours"),
        ("gap=nan", ["p-median", "toy", "-p", "1", "--gap", "nan"], INVALID, "a NaN gap"),
        ("threads=-1", ["p-median", "toy", "-p", "1", "--threads", "-1"], INVALID,
         "negative threads"),
        ("time-limit=-1", ["p-median", "toy", "-p", "1", "--time-limit", "-1"], INVALID,
         "a negative time limit"),
        ("scenario=unknown", ["p-median", "toy", "-p", "1", "--scenario", "nope"], INVALID,
         "an unknown scenario"),
        ("optima-with-instance", ["p-median", "toy", "-p", "1", "--optima", "secret.txt"],
         INVALID, "--optima with an instance"),
        ("format=bogus", ["p-median", "toy", "-p", "1", "--input-format", "bogus"], INVALID,
         "an unknown format"),
        ("format=cap-on-folder", ["cflp", "toy", "--input-format", "orlib-cap"], INVALID,
         "a folder read as an OR-Library file"),
        ("missing", ["uflp", "nope.txt"], INVALID, "a file that does not exist"),
        ("secret", ["uflp", "secret.txt"], INVALID, "a text file of unknown layout"),
        ("out=xls", ["p-median", "toy", "-p", "1", "--out", "sites.xls"], INVALID,
         "--out with a file-like name"),
    ]
    for label, extra, expect, why in site:
        yield (f"site/{label}", ["site", *extra, "--time-limit", "30"]
               if "time-limit" not in label else ["site", *extra], expect, why, {})
    analyze: list[tuple[str, list[str], str | None, str]] = [
        ("ok", ["--no-knockout"], VALID, "the toy without knock-outs"),
        ("top=-1", ["--no-knockout", "--top", "-1"], INVALID, "a negative --top"),
        ("rank-by=bogus", ["--rank-by", "bogus"], INVALID, "an unknown ranking"),
        ("exposure=bogus", ["--no-knockout", "--exposure", "bogus"], INVALID,
         "an unknown exposure"),
        ("commodity=unknown", ["--no-knockout", "--commodity", "nope"], INVALID,
         "an unknown commodity"),
        ("under=nan", ["--no-knockout", "--under", "nan"], INVALID, "a NaN --under"),
        ("under=-1", ["--no-knockout", "--under", "-1"], INVALID, "a negative --under"),
        ("over=inf", ["--no-knockout", "--over", "inf"], INVALID, "an infinite --over"),
        ("over=nan", ["--no-knockout", "--over", "nan"], INVALID, "a NaN --over"),
        ("out=xls", ["--no-knockout", "--out", "a.xls"], INVALID,
         "--out with a file-like name"),
    ]
    for label, extra, expect, why in analyze:
        yield (f"analyze/{label}", ["analyze", "toy", *extra], expect, why, {})
    v = "toy/variants/coast_road_cut.toml"
    whatif: list[tuple[str, list[str], str | None, str]] = [
        ("ok", ["--variant", v], VALID, "one bundled variant"),
        ("model-bogus", ["--variant", v, "--model", "bogus"], INVALID, "an unknown model"),
        ("variant-missing", ["--variant", "nope.toml"], INVALID, "a missing variant"),
        ("variant-folder", ["--variant", "toy/variants"], VALID,
         "a folder: each variant file in it (documented)"),
        ("allocate-no-scenario", ["--variant", v, "--model", "allocate"], INVALID,
         "allocate without a scenario"),
        ("allocate-scenario-unknown", ["--variant", v, "--model", "allocate", "-s", "nope"],
         INVALID, "an unknown scenario"),
        ("periods=0", ["--variant", v, "--model", "allocate", "-s", "snow", "--periods", "0"],
         INVALID, "zero periods"),
        ("route-period=0", ["--variant", v, "--model", "route", "-s", "snow", "--period", "0"],
         INVALID, "day 0"),
        ("route-time-limit=-1", ["--variant", v, "--model", "route", "-s", "snow",
                                 "--route-time-limit", "-1"], INVALID,
         "a negative route time limit"),
        ("service-level=2", ["--variant", v, "--service-level", "2"], INVALID,
         "a service level above 1"),
        ("risk-weight=nan", ["--variant", v, "--risk-weight", "nan"], INVALID,
         "a NaN risk weight"),
        ("format=bogus", ["--variant", v, "--format", "bogus"], INVALID, "an unknown format"),
        ("out=xls", ["--variant", v, "--out", "w.xls"], INVALID,
         "--out with a file-like name"),
    ]
    for label, extra, expect, why in whatif:
        yield (f"whatif/{label}", ["whatif", "toy", "--time-limit", "30", *extra], expect, why,
               {})
    for label, extra, expect, why, files in (
        ("out=user-folder", ["--out", "mine"], INVALID,
         "--out into a folder of the user's files", USER_FILES),
        ("out=input", ["--out", "toy"], INVALID, "--out onto the input instance", {}),
        ("out=input-overwrite", ["--out", "toy", "--overwrite"], INVALID,
         "--overwrite onto the input instance", {}),
        ("out=file", ["--out", "secret.txt"], INVALID, "--out naming a file", {}),
        ("out=new-json", ["--out", "patched.json"], VALID, "a new JSON document", {}),
        ("out=new-folder", ["--out", "patched"], VALID, "a new folder", {}),
    ):
        yield (f"variant-apply/{label}", ["variant", "apply", "toy", "--variant", v, *extra],
               expect, why, files)
    for label, extra, expect, why in (
        ("out=txt", ["--out", "m.txt"], INVALID, "a map that is neither .png nor .html"),
        ("out=folder", ["--out", "toy"], INVALID, "a map onto a folder"),
        ("shade=bogus", ["--out", "m.html", "--shade", "bogus"], INVALID, "an unknown shade"),
    ):
        yield (f"map/{label}", ["map", "toy", *extra], expect, why, {})


def cli_cases() -> Iterator[Case]:
    """Command-line argument cases on the toy."""
    for label, args, expect, why, files in cli_items():
        def add(work: Work, f: Files = files) -> None:
            work.files.update(f)
        muts = [Mutation("files", add, None, "", "files")] if files else []
        yield make(f"cli/{label}", "cli", "toy", args, muts, expect=expect, why=why)


# --------------------------------------------------------------------------- resource bombs


def _billion_laughs(levels: int = 9, width: int = 10) -> bytes:
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * width)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return ("\n".join(lines) + "\n").encode()


def bomb_cases() -> Iterator[Case]:
    """Inputs that exhaust memory or time unless capped (bench only, under a memory cap)."""
    laughs = _billion_laughs()

    def add(path: str, content: bytes) -> Callable[[Work], None]:
        def fn(work: Work) -> None:
            work.files[path] = content
        return fn
    # the aliases sit where the reader walks or prints them (10^9 leaves once expanded)
    manifest = (b"format: reserve-opt/1\nname: toy\ncurrency: CNY\ncrs: EPSG:4326\n" + laughs
                + b"settings:\n  speed_kmh: *a9\n")
    yield make("bomb/manifest-yaml-aliases", "bomb", "toy_yaml", ["validate", "toy"],
               [Mutation("laughs", add("toy/instance.yaml", manifest), INVALID,
                         "YAML alias expansion in a setting (issue 11)", "toy/instance.yaml")],
               bomb=True)
    yield make("bomb/variant-yaml-aliases", "bomb", "toy",
               ["variant", "check", "toy", "--variant", "v.yaml"],
               [Mutation("laughs", add("v.yaml", b"description: d\n" + laughs
                                       + b"change: *a9\n"), INVALID,
                         "YAML alias expansion in a variant's changes", "v.yaml")], bomb=True)
    yield make("bomb/sweep-yaml-aliases", "bomb", "toy",
               ["sweep", "toy", "--grid", "g.yaml", "--serial", "--out", "out"],
               [Mutation("laughs", add("g.yaml", b"description: d\n" + laughs
                                       + b"axis:\n  - {name: x, op: scale_demand, param: "
                                       b"factor, values: *a9}\n"), INVALID,
                         "YAML alias expansion in a sweep axis", "g.yaml")], bomb=True)

    def fanout(work: Work) -> None:
        for i in range(24):
            nxt = [f"f{i + 1}.toml", f"f{i + 1}.toml"] if i < 23 else []
            work.files[f"f{i}.toml"] = _variant_file(
                [{"op": "sign_contract", "contract": "C_tent"}], {"include": nxt})
    yield make("bomb/variant-include-fanout", "bomb", "toy",
               ["variant", "check", "toy", "--variant", "f0.toml"],
               [Mutation("fanout", fanout, INVALID, "2^24 includes (issue 11)", "f0.toml")],
               bomb=True)
    yield make("bomb/sweep-1e9-runs", "bomb", "toy", [*SWEEP_CMD, "--max-runs", "1"],
               [Mutation("runs", _sweep_with(_json_set(["sample", "runs"], 10**9)), INVALID,
                         "10^9 runs expanded before --max-runs (issue 11)", GRID)], bomb=True)

    def big_grid(doc: dict[str, Any]) -> None:
        doc["axis"] = [{"name": f"a{i}", "op": "scale_demand", "param": "factor",
                        "values": [1.0 + j / 100 for j in range(100)], "regions": ["hill"]}
                       for i in range(4)]
    yield make("bomb/sweep-1e8-grid", "bomb", "toy", [*SWEEP_CMD, "--max-runs", "1"],
               [Mutation("grid", _sweep_with(big_grid), INVALID,
                         "a 10^8-point grid (issue 11)", GRID)], bomb=True)
    yield make("bomb/vrplib-vehicles-1e9", "bomb", "vrplib", bench_cmd("vrplib", "tiny.vrp"),
               [Mutation("vehicles", _lines_edit("tiny.vrp", _insert_after(
                   "CAPACITY : 10", "VEHICLES : 1000000000")), VALID,
                   "VEHICLES : 10^9 is cut to one vehicle per client, which changes no "
                   "solution (models/routing/readers.py)", "tiny.vrp")], bomb=True)
    yield make("bomb/vrplib-demand-1e308", "bomb", "vrplib", bench_cmd("vrplib", "tiny.vrp"),
               [Mutation("demand", _lines_edit("tiny.vrp", _replace_line("3 4", "3 1e308")),
                         INVALID, "a 1e308 demand (issue 11)", "tiny.vrp")], bomb=True)
    yield make("bomb/vrplib-demand-1e9", "bomb", "vrplib", bench_cmd("vrplib", "tiny.vrp"),
               [Mutation("demand", _lines_edit("tiny.vrp", _replace_line("3 4",
                                                                         "3 1000000000")),
                         INVALID, "a demand 10^8 vehicles deep", "tiny.vrp")], bomb=True)
    yield make("bomb/solomon-demand-1e9", "bomb", "solomon", bench_cmd("solomon", "tiny.txt"),
               [Mutation("demand", _lines_edit("tiny.txt", _replace_line(
                   "    3      42         66          8          0        900         10",
                   "    3      42         66 1000000000          0        900         10")),
                   INVALID, "a demand 10^8 vehicles deep", "tiny.txt")], bomb=True)
    yield make("bomb/deliveries-1e308", "bomb", "toy",
               ["route", "toy", "-s", "typhoon", "--engine", "ortools", "--max-iterations", "50",
                "--deliveries", "d.csv"],
               [Mutation("deliveries", add("d.csv", DELIVERIES.replace(b"500", b"1e308")),
                         INVALID, "a delivery of 1e308 units (issue 11)", "d.csv")], bomb=True)
    yield make("bomb/deliveries-1e12", "bomb", "toy",
               ["route", "toy", "-s", "typhoon", "--engine", "ortools", "--max-iterations", "50",
                "--deliveries", "d.csv"],
               [Mutation("deliveries", add("d.csv", DELIVERIES.replace(b"500", b"1e12")),
                         INVALID, "a delivery of 10^12 units", "d.csv")], bomb=True)

    def big_table(work: Work) -> None:
        rows = [list(r) for r in toy_rows("demand")]
        rows += [["typhoon", "sea", "water", str(i)] for i in range(2_000_000)]
        work.files["toy/demand.csv"] = write_rows(rows)
    yield make("bomb/demand-2e6-rows", "bomb", "toy", ["validate", "toy"],
               [Mutation("rows", big_table, INVALID,
                         "2 million demand rows with one key: 2 million messages",
                         "toy/demand.csv")], bomb=True)
    yield make("bomb/json-deep-1e6", "bomb", "toy_json", ["validate", "toy.json"],
               [Mutation("deep", _edit_bytes(DOC, lambda b: b"[" * 10**6 + b"]" * 10**6),
                         INVALID, "a document nested 10^6 deep", DOC)], bomb=True)


# --------------------------------------------------------------------------- catalogue


def catalogue(full: bool = False, all_rows: bool = False) -> list[Case]:
    """Every systematic case: the ``core`` tier, and with ``full`` the ``extra`` tier.

    Cell values are tried in the first row of each table, or with ``all_rows`` in every row.
    """
    gens: list[Iterator[Case]] = [
        table_cases("full" if full else "core", all_rows), manifest_cases(full),
        json_cases(full, all_rows),
        variant_cases(full), sweep_cases(), event_cases(), bench_cases(), cli_cases(),
    ]
    cases = [c for g in gens for c in g]
    seen: set[str] = set()
    for c in cases:
        assert c.id not in seen, f"duplicate case id {c.id}"
        seen.add(c.id)
    return cases


def core_cases() -> list[Case]:
    """The cases of the default test run."""
    return [c for c in catalogue() if c.tier == "core"]


# --------------------------------------------------------------------------- random cases

FAMILY_WEIGHTS = {"table": 40, "json": 15, "manifest": 8, "variant": 12, "bench": 10,
                  "sweep": 4}


def _random_table_mutation(rng: random.Random, table: str) -> Mutation:
    rows = toy_rows(table)
    roll = rng.random()
    if roll < 0.75:
        header = rows[0]
        column = rng.choice(header)
        if column not in SPEC[table].by_name:
            column = header[0]
        label = rng.choice(CELL_POOL)[0]
        return m_cell(table, rng.randrange(1, len(rows)), column, label)
    if roll < 0.9:
        muts = list(table_mutations(table))
        return rng.choice(muts)
    # byte-level damage: delete, duplicate or insert at a random offset
    path = f"toy/{table}.csv"
    size = len((TOY / f"{table}.csv").read_bytes())
    at = rng.randrange(size)
    n = rng.randint(1, 8)
    kind = rng.choice(["delete", "insert", "dup"])
    junk = bytes(rng.choice(b',"\n\r\x00|;x9-.\xff ') for _ in range(n))

    def edit(b: bytes) -> bytes:
        if kind == "delete":
            return b[:at] + b[at + n:]
        if kind == "insert":
            return b[:at] + junk + b[at:]
        return b[:at] + b[at:at + n] + b[at:]
    return Mutation(f"{table}.csv:bytes-{kind}@{at}+{n}", _edit_bytes(path, edit), None, "",
                    path)


def _random_json_mutation(rng: random.Random) -> Mutation:
    tables = _doc_rows()
    table = rng.choice(sorted(tables))
    rows = tables[table]
    row = rng.randrange(len(rows))
    column = rng.choice([c.name for c in SPEC[table].columns if c.name in rows[row]])
    return m_json_cell(table, row, column, rng.choice(JSON_POOL)[0])


def disjoint(a: str, b: str) -> bool:
    """Whether mutations with targets ``a`` and ``b`` cannot undo each other.

    A target is a file, or a file and a key path (``toy.json#regions[0].id``); a whole
    file overlaps everything in it, a key path overlaps the paths below it.
    """
    fa, _, ka = a.partition("#")
    fb, _, kb = b.partition("#")
    if fa != fb:
        return True
    if not ka or not kb:
        return False
    pa, pb = re.split(r"[.\[]", ka), re.split(r"[.\[]", kb)
    n = min(len(pa), len(pb))
    return pa[:n] != pb[:n]


def random_case(seed: int, k: int, max_mutations: int = 3) -> Case:
    """Random case ``k`` of ``seed``: 1 to ``max_mutations`` mutations of one family."""
    rng = random.Random(f"{seed}:{k}")
    families = list(FAMILY_WEIGHTS)
    family = rng.choices(families, weights=[FAMILY_WEIGHTS[f] for f in families])[0]
    n = rng.randint(1, max_mutations)
    cid = f"r{seed}-{k}"
    if family == "table":
        tables = rng.sample(toy_tables(), k=min(n, len(toy_tables())))
        muts = [_random_table_mutation(rng, t) for t in tables]
        return make(cid, "table", "toy", _table_cmd(cid), muts, tier="random")
    if family == "json":
        muts: list[Mutation] = []
        for _ in range(n):
            m = _random_json_mutation(rng)
            if all(disjoint(m.target, x.target) for x in muts):
                muts.append(m)
        cmd = ["info", "toy.json", "--format", "json"] if rng.random() < 0.2 else [
            "validate", "toy.json"]
        return make(cid, "json", "toy_json", cmd, muts, tier="random")
    if family == "manifest":
        pool = list(manifest_mutations())
        muts = []
        for m in rng.sample(pool, k=n):
            if all(disjoint(m.target, x.target) for x in muts):
                muts.append(m)
        return make(cid, "manifest", "toy", ["validate", "toy"], muts, tier="random")
    if family == "variant":
        # several changes in one file: each a template, perhaps with one bad value
        changes: list[dict[str, Any]] = []
        expect: str | None = VALID
        why = ""
        names = []
        for _ in range(n):
            op = rng.choice(sorted(VARIANT_TEMPLATES))
            change = {"op": op, **VARIANT_TEMPLATES[op]}
            param = rng.choice(sorted(VARIANT_TEMPLATES[op]))
            values = _param_values(param)
            if rng.random() < 0.7:
                label, value, e, w = rng.choice(values)
                change[param] = value
                names.append(f"{op}:{param}={label}")
                if e == INVALID and expect != INVALID:
                    expect, why = INVALID, w
                elif e is None and expect == VALID:
                    expect = None
            else:
                names.append(f"{op}:as-is")
            changes.append(change)
        if expect == VALID:
            expect = None  # correct changes may still clash (close, then change, a facility)

        def write(work: Work, cs: list[dict[str, Any]] = changes) -> None:
            work.files[VARIANT] = _variant_file(cs)
        m = Mutation("+".join(names), write, expect, why, VARIANT)
        return make(cid, "variant", "toy", ["variant", "check", "toy", "--variant", VARIANT],
                    [m], tier="random")
    if family == "sweep":
        m = rng.choice(list(sweep_mutations()))
        return make(cid, "sweep", "toy", SWEEP_CMD, [m], tier="random")
    # benchmark files: a random token replaced, or a line dropped or doubled
    kind = rng.choice(sorted(BENCH_FILES))
    name, text = BENCH_FILES[kind]
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    tokens = lines[i].split()
    op = rng.choice(["token", "token", "delete", "dup"])
    if op == "token" and tokens:
        j = rng.randrange(len(tokens))
        label, value = rng.choice([p for p in CELL_POOL if p[0] not in (
            "e308", "e309", "digits400", "long")])

        def tok(lines: list[str], i: int = i, j: int = j, value: str = value) -> None:
            parts = lines[i].split()
            parts[j] = value
            lines[i] = " ".join(parts)
        edit: Callable[[list[str]], None] = tok
        mname = f"{name}:line{i + 1}:token{j + 1}={label}"
    elif op == "delete":
        def edit(lines: list[str], i: int = i) -> None:
            del lines[i]
        mname = f"{name}:line{i + 1}:delete"
    else:
        def edit(lines: list[str], i: int = i) -> None:
            lines.insert(i, lines[i])
        mname = f"{name}:line{i + 1}:dup"
    m = Mutation(mname, _lines_edit(name, edit), None, "", name)
    return make(cid, kind, kind, bench_cmd(kind, name), [m], tier="random")


def find_case(cid: str, seed_full: bool = True) -> Case:
    """Rebuild a case from its id (catalogue, bomb or ``r<seed>-<k>[:i,j]``)."""
    if cid.startswith("r") and "-" in cid and cid[1].isdigit():
        head, _, keep = cid.partition(":")
        seed, k = head[1:].split("-")
        case = random_case(int(seed), int(k))
        if keep:
            return case.keep([int(i) for i in keep.split(",")])
        return case
    for c in [*catalogue(full=seed_full, all_rows=True), *bomb_cases()]:
        if c.id == cid:
            return c
    raise KeyError(f"no case {cid!r}")
