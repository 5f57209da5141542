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
    sites = (out / "sites.csv").read_text().splitlines()
    assert sites[0] == "site,opened,fixed,clients_served" and sites[2].startswith("2,True,True,")
    assert (out / "clients.csv").read_text().splitlines()[0] == "client,site,covered,backed_up"


def test_refusals_are_one_line(tmp_path: Path) -> None:
    f = pmed_file(tmp_path)
    assert one_error_line("p-median", str(f), "--fixed", "1,9") == (
        "error: --fixed: ring8.txt has no site '9'; give site numbers from 1 to 8 separated by "
        "commas.")
    assert one_error_line("p-median", str(f), "--fixed", "3,3") == (
        "error: --fixed: site 3 is listed twice; list each site once.")
    assert one_error_line("p-median", str(f), "--fixed", "1,2,3", "--count-fixed") == (
        "error: 3 sites are fixed open but only p = 2 may be open; raise p or fix fewer sites.")
    assert one_error_line("p-median", str(f), "--count-fixed") == (
        "error: --count-fixed: no site is fixed open here; leave it out or name the fixed "
        "sites with --fixed.")
    assert one_error_line("capacitated-p-median", str(f)) == (
        "error: capacitated-p-median on an orlib-pmed file needs --capacity N: the vertices "
        "one median may serve.")
    assert one_error_line("capacitated-p-median", str(f), "--capacity", "3") == (
        "error: The 2 sites with the most capacity (fixed sites included) hold 6, below the "
        "total demand 8; raise p or the capacities.")
    assert one_error_line("set-cover", str(f), "--radius-km", "3", "--count-fixed") == (
        "error: --count-fixed: not used by set-cover; leave it out.")
    assert one_error_line("p-median", str(TOY), "-p", "1", "--fixed", "W_sea") == (
        "error: --fixed W_sea: applies to OR-Library files; an instance's existing government "
        "warehouses are fixed open already (--free-existing lets them close).")
    assert one_error_line("p-median", str(f), "--free-existing") == (
        "error: --free-existing: applies to instances, not to orlib-pmed files; leave it out.")
    assert one_error_line("p-center", str(TOY), "-p", "1", "--capacity", "5") == (
        "error: --capacity 5: applies to cflp on an orlib-cap file and capacitated-p-median on "
        "an orlib-pmed file; leave it out here.")
