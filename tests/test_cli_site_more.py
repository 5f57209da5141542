"""``reserve-opt site`` with p-center, capacitated p-median, backup coverage and fixed
sites: small pmed-format files written here and the bundled toy, against brute force; the
exact one-line refusals."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reserve_opt import load_instance
from reserve_opt.models.siting.instance import siting_data
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "toy"
# a ring of 8 vertices with two chords: i j cost, 1-based, as OR-Library writes them
EDGES = [(1, 2, 4), (2, 3, 7), (3, 4, 3), (4, 5, 9), (5, 6, 2), (6, 7, 6), (7, 8, 5),
         (8, 1, 8), (1, 5, 10), (3, 7, 6)]


def pmed_file(tmp_path: Path, p: int = 2) -> Path:
    f = tmp_path / "ring8.txt"
    f.write_text(f"8 {len(EDGES)} {p}\n" + "".join(f"{i} {j} {c}\n" for i, j, c in EDGES))
    return f


def ring_distances() -> list[list[float]]:
    """All-pairs shortest paths by Floyd-Warshall in plain loops (independent of scipy)."""
    d = [[0.0 if i == j else float("inf") for j in range(8)] for i in range(8)]
    for i, j, c in EDGES:
        d[i - 1][j - 1] = d[j - 1][i - 1] = float(c)
    for k in range(8):
        for i in range(8):
            for j in range(8):
                d[i][j] = min(d[i][j], d[i][k] + d[k][j])
    return d


def site_json(*args: str) -> dict[str, Any]:
    result = run_cli("site", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    assert data["check"]["ok"], data["check"]["problems"]
    return data


def one_error_line(*args: str) -> str:
    result = run_cli("site", *args)
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("p", [1, 2, 3])
def test_p_center_on_a_pmed_file_matches_brute_force(tmp_path: Path, p: int) -> None:
    d = ring_distances()
    best = min(max(min(d[i][j] for j in c) for i in range(8))
               for c in itertools.combinations(range(8), p))
    data = site_json("p-center", str(pmed_file(tmp_path, p)))
    assert data["status"] == "optimal" and data["p"] == p
    assert data["objective"] == best and data["bound"] == best
    assert data["cost_breakdown"] == {"radius": best}


def test_fixed_sites_on_a_pmed_file(tmp_path: Path) -> None:
    d = ring_distances()
    best = min(sum(min(d[i][j] for j in (0, 6, k)) for i in range(8))
               for k in range(8) if k not in (0, 6))
    data = site_json("p-median", str(pmed_file(tmp_path, 1)), "--fixed", "1,7")
    assert data["objective"] == best and data["p"] == 3
    assert data["fixed_sites"] == ["1", "7"] and {"1", "7"} <= set(data["open_sites"])
    assert data["known_optimum"] is None
    counted = site_json("p-median", str(pmed_file(tmp_path, 3)), "--fixed", "1,7",
                        "--count-fixed")
    assert counted["objective"] == best and counted["n_open"] == 3
    result = run_cli("site", "p-median", str(pmed_file(tmp_path, 1)), "--fixed", "1,7")
    assert "fixed open: 1, 7" in result.stdout


def test_capacitated_p_median_on_a_pmed_file_matches_brute_force(tmp_path: Path) -> None:
    d = ring_distances()
    best = float("inf")
    for c in itertools.combinations(range(8), 2):
        for to in itertools.product(c, repeat=8):
            if max(to.count(j) for j in c) <= 4:
                best = min(best, sum(d[i][j] for i, j in enumerate(to)))
    data = site_json("capacitated-p-median", str(pmed_file(tmp_path)), "--capacity", "4")
    assert data["status"] == "optimal" and data["objective"] == best
    loads = [list(data["assignment"].values()).count(s) for s in data["open_sites"]]
    assert max(loads) <= 4
    free = site_json("p-median", str(pmed_file(tmp_path)))
    assert free["objective"] <= best


def test_backup_cover_on_a_pmed_file_matches_brute_force(tmp_path: Path) -> None:
    d = np.array(ring_distances())
    a = d <= 7
    fewest = next(k for k in range(1, 9) if any(
        a[:, list(c)].any(axis=1).all() for c in itertools.combinations(range(8), k)))
    best = max(int((a[:, list(c)].sum(axis=1) >= 2).sum())
               for c in itertools.combinations(range(8), fewest)
               if a[:, list(c)].any(axis=1).all())
    data = site_json("backup-cover", str(pmed_file(tmp_path)), "--radius-km", "7")
    assert data["status"] == "optimal" and data["n_open"] == fewest
    assert data["objective"] == best and len(data["backed_up"]) == best
    assert data["uncovered"] == []


def test_toy_p_center_and_capacitated_p_median_keep_the_existing_warehouse() -> None:
    d = siting_data(load_instance(TOY))
    fixed = [j for j, e in enumerate(d.existing) if e]
    others = [j for j in range(len(d.site_ids)) if j not in fixed]
    best = min(float(d.distance_km[:, [*fixed, k]].min(axis=1).max()) for k in others)
    data = site_json("p-center", str(TOY), "-p", "1")
    assert data["status"] == "optimal" and data["objective"] == pytest.approx(best)
    assert data["fixed_sites"] == ["W_north"] and "W_north" in data["open_sites"]
    cap = site_json("capacitated-p-median", str(TOY), "-p", "1")
    assert cap["status"] == "optimal" and "W_north" in cap["open_sites"]


def test_outputs_mark_fixed_and_backed_up(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = run_cli("site", "backup-cover", str(pmed_file(tmp_path)), "--radius-km", "7",
                     "--fixed", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    sites = (out / "sites.csv").read_text(encoding="utf-8-sig").splitlines()
    assert sites[0] == "site,opened,fixed,clients_served" and sites[2].startswith("2,True,True,")
    assert (out / "clients.csv").read_text(encoding="utf-8-sig").splitlines()[0] == "client,site,covered,backed_up"


def test_refusals_are_one_line(tmp_path: Path) -> None:
    f = pmed_file(tmp_path)
    assert one_error_line("p-median", str(f), "--fixed", "1,9") == (
        "error: --fixed: ring8.txt has no site '9'; give site numbers from 1 to 8 separated by "
        "commas.")
    assert one_error_line("p-median", str(f), "--fixed", "3,3") == (
        "error: --fixed: site 3 is listed twice; list each site once.")
    assert one_error_line("p-median", str(f), "--fixed", "1,2,3", "--count-fixed") == (
        "error: -p 2 with --count-fixed is fewer than the 3 sites fixed open in ring8.txt; give "
        "-p 3 or more, or leave out --count-fixed.")
    assert one_error_line("p-median", str(TOY), "-p", "0", "--count-fixed") == (
        "error: -p 0 with --count-fixed is fewer than the 1 site fixed open in 'toy'; give -p 1 "
        "or more, or leave out --count-fixed.")
    assert one_error_line("p-median", str(f), "--count-fixed") == (
        "error: --count-fixed: no site is fixed open here; leave it out or name the fixed "
        "sites with --fixed.")
    assert one_error_line("capacitated-p-median", str(f)) == (
        "error: capacitated-p-median on an orlib-pmed file needs --capacity N: the demand one "
        "site may serve (each vertex has demand 1).")
    assert one_error_line("capacitated-p-median", str(f), "--capacity", "3") == (
        "error: The 2 sites with the most capacity (fixed sites included) hold 6, below the "
        "total demand 8; raise p or the capacities.")
    assert one_error_line("set-cover", str(f), "--radius-km", "3", "--count-fixed") == (
        "error: --count-fixed: not used by set-cover; leave it out.")
    assert one_error_line("p-median", str(TOY), "-p", "1", "--fixed", "W_sea") == (
        "error: --fixed W_sea: applies to OR-Library and matrix files; an instance's existing "
        "government warehouses are fixed open already (--free-existing lets them close).")
    assert one_error_line("p-median", str(f), "--free-existing") == (
        "error: --free-existing: applies to instances, not to orlib-pmed files; leave it out.")
    assert one_error_line("p-center", str(TOY), "-p", "1", "--capacity", "5") == (
        "error: --capacity 5: applies to cflp on an orlib-cap file and capacitated-p-median on "
        "an orlib-pmed or matrix file; leave it out here.")


SF = ROOT / "tests" / "data" / "spopt_sf_205x16.csv"


def test_a_cost_matrix_reaches_spopts_san_francisco_optima() -> None:
    center = site_json("p-center", str(SF), "-p", "4")
    assert center["input_format"] == "matrix" and center["status"] == "optimal"
    assert center["objective"] == pytest.approx(7403.06, abs=0.005)
    assert len(center["open_sites"]) == 4 and center["open_sites"][0].startswith("Store_")
    median = site_json("p-median", str(SF), "-p", "4")
    assert median["objective"] == pytest.approx(2848268129.7145, rel=1e-9)
    assert median["units"]["objective"] == ("sum of demand x distances to the serving site "
                                            "(matrix units)")
    fixed = site_json("p-median", str(SF), "-p", "3", "--fixed", "Store_1")
    assert "Store_1" in fixed["open_sites"] and fixed["n_open"] == 4
    assert fixed["objective"] >= median["objective"]


def test_a_small_cost_matrix_with_every_model(tmp_path: Path) -> None:
    f = tmp_path / "m.csv"
    f.write_text("client,A,demand,B,C\nx,1,2,5,9\ny,4,1,1,8\nz,7,3,6,2\n")
    # {A, C}: 1 x 2 + 4 x 1 + 2 x 3; {A, B}: 21; {B, C}: 17
    assert site_json("p-median", str(f), "-p", "2")["objective"] == 12
    assert site_json("p-center", str(f), "-p", "1")["objective"] == 6  # B: 5, 1, 6
    two = tmp_path / "two.csv"
    two.write_text("client,A,B\nx,1,5\ny,2,6\n")
    assert site_json("p-median", str(two), "-p", "2")["objective"] == 3  # both at A
    cap = site_json("capacitated-p-median", str(two), "-p", "2", "--capacity", "1")
    assert cap["objective"] == 7 and cap["assignment"] in ({"x": "A", "y": "B"},
                                                           {"x": "B", "y": "A"})
    cover = site_json("set-cover", str(f), "--radius-km", "4")
    assert cover["objective"] == 2 and cover["uncovered"] == []
    backup = site_json("backup-cover", str(f), "--radius-km", "6")
    assert backup["n_open"] == 1 and backup["objective"] == 0


@pytest.mark.parametrize(("text", "message"), [
    ("client,A,B\nx,1,2\ny,3\n", "m.csv line 3: has 2 cells, the header 3; give one cell per "
     "column."),
    ("client,A,B\nx,1,2\nx,3,4\n", "m.csv line 3: client 'x' is named twice; give each client "
     "one row."),
    ("client,A,A\nx,1,2\n", "m.csv line 1: site 'A' is named twice; name each column once."),
    ("client,A,B\nx,1,\n", "m.csv line 2, column 'B': '' is not a number; give a distance or "
     "demand from 0 up."),
    ("client,A,B\nx,1,-2\n", "m.csv line 2, column 'B': -2 is outside 0 to 1e+15; give a "
     "finite number from 0 up."),
    ("client,demand\nx,1\n", "m.csv: needs a header with at least one site column and a row "
     "per client; give 'client,S1,S2,...' then the rows."),
    ("client,A,B\nx,1,nan\n", "m.csv line 2, column 'B': nan is outside 0 to 1e+15; give a "
     "finite number from 0 up."),
])
def test_bad_cost_matrices_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "m.csv"
    f.write_text(text)
    assert one_error_line("p-median", str(f), "-p", "1") == f"error: {message}"


def test_cost_matrix_refusals_are_one_line(tmp_path: Path) -> None:
    f = tmp_path / "m.csv"
    f.write_text("client,A,B\nx,1,2\n")
    assert one_error_line("p-median", str(f)) == (
        "error: p-median needs the number of sites to open; pass -p/--facilities N.")
    assert one_error_line("cflp", str(f)) == (
        "error: Model 'cflp' does not apply to an matrix file; use p-median, p-center, "
        "capacitated-p-median, max-coverage, set-cover or backup-cover.")
    assert one_error_line("p-median", str(f), "-p", "1", "--fixed", "C") == (
        "error: --fixed: m.csv has no site 'C'; give site names from its header separated by "
        "commas.")
