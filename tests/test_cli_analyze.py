"""``reserve-opt analyze`` through Typer's runner: tables, JSON, files, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from reserve_opt import load_instance
from reserve_opt.analysis import knockout_ranking
from tests.cli_runner import run_cli

TOY = Path(__file__).resolve().parents[1] / "instances" / "toy"


def test_analyze_json_has_every_part_and_matches_the_library() -> None:
    result = run_cli("analyze", str(TOY), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"instance", "currency", "transport_centrality",
                         "agreement_centrality", "knockout", "mismatch"}
    assert data["transport_centrality"]["path_length_unit"] == "km"
    assert data["agreement_centrality"]["path_length_unit"] == "hops"
    lib = knockout_ranking(load_instance(TOY)).table
    ranking = data["knockout"]["ranking"]
    assert [r["target"] for r in ranking] == lib["target"].tolist()
    assert [r["shortage_increase_cost_CNY"] for r in ranking] == pytest.approx(
        lib["shortage_increase_cost_CNY"].tolist())
    flags = {r["region"]: r["flag"] for r in data["mismatch"]["regions"]}
    assert flags == {"north": "low-risk over-stocked", "river": "high-risk under-stocked",
                     "hill": "", "sea": "high-risk under-stocked"}


def test_analyze_table_output_is_readable(toy_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # wide enough for every header and note on a line
    result = run_cli("analyze", str(toy_path), "--top", "2")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for text in ("Transport centrality, top 2 by betweenness", "closeness (1/km)",
                 "Agreement centrality, top 2", "Knock-out ranking, top 2",
                 "increase (CNY)", "Risk-reserve mismatch (existing stock, in CNY per person "
                 "at risk; persons at risk = population x risk", "3 of 4 regions flagged",
                 "note: The instance has no links table"):
        assert text in out, text
    # --top 2 shows two knock-outs: W_north and the north--sea connection, not S_river
    shown = out.split("Knock-out ranking")[1].split("note:")[0]
    assert "W_north" in shown and "north--sea" in shown and "S_river" not in shown


def test_analyze_writes_csv_tables_and_json(tmp_path: Path) -> None:
    out = tmp_path / "analysis"
    result = run_cli("analyze", str(TOY), "--out", str(out), "--plan")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        ".reserve-opt", "analysis.json", "centrality_agreements.csv", "centrality_transport.csv",
        "knockout.csv", "mismatch.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["analysis"]  # no temporary left over
    ko = pd.read_csv(out / "knockout.csv")
    assert ko["target"].tolist() == ["W_north", "north--sea", "hill--north", "north--river",
                                     "P_hill", "S_river"]
    assert json.loads((out / "analysis.json").read_text())["mismatch"]["stock_source"] == "plan"
    assert f"wrote {out}/" in result.stdout


def test_analyze_without_knockouts_solves_nothing() -> None:
    result = run_cli("analyze", str(TOY), "--no-knockout", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["knockout"] is None
    assert data["mismatch"]["stock_source"] == "existing"


@pytest.mark.parametrize(("args", "message"), [
    (["--top", "0"], "error: --top 0: give at least 1 row per table."),
    (["--time-limit", "0"], "error: --time-limit 0: give a positive number of seconds."),
    (["--under", "1.5"], "error: under=1.5: give a share between 0 and 1 (e.g. 0.5)."),
    (["--over", "0.5"], "error: over=0.5: give a multiple of at least 1 (e.g. 2)."),
    (["--commodity", "rice"], "error: Unknown commodity 'rice'; choose one of water, tent."),
    (["--rank-by", "speed"], "error: rank_by='speed': choose 'cost' or 'units'."),
    (["--exposure", "everyone"], "error: exposure='everyone': choose 'population_risk' or "
                                 "'expected_affected'."),
    (["--sharing", "everyone"], "error: sharing='everyone': choose 'auto', 'pooled' or "
                                "'agreements'."),
])
def test_analyze_refuses_bad_options_in_one_line(args: list[str], message: str) -> None:
    result = run_cli("analyze", str(TOY), *args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stderr.splitlines() == [message]


def test_analyze_refuses_a_missing_instance(tmp_path: Path) -> None:
    result = run_cli("analyze", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1 and "nowhere" in result.stderr
    assert not (tmp_path / "nowhere").exists()
