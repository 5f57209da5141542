"""Output that fits the terminal and numbers in one style (issue 14).

Every command's output is checked at 80 and 130 columns: no line wider than the terminal,
no header word broken. Rendering decisions (blocks when a table cannot fit, one precision
per column, percentages) are checked on ``print_table`` directly.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.cells import cell_len

from reserve_opt.cli.render import pct, print_table
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "toy"
LIAONING = ROOT / "instances" / "liaoning"

COMMANDS = {
    "info": ["info", str(LIAONING)],
    "plan": ["plan", str(TOY)],
    "allocate": ["allocate", str(TOY), "-s", "typhoon", "--no-parent-serves"],
    "analyze": ["analyze", str(TOY)],
    "whatif": ["whatif", str(TOY), "--variant", str(TOY / "variants")],
}


def _lines(text: str) -> list[str]:
    return text.split("\n")


@pytest.mark.parametrize("columns", [80, 130])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_no_line_is_wider_than_the_terminal(command: str, columns: int,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    got = run_cli(*COMMANDS[command])
    assert got.exit_code == 0, got.output
    wide = [line for line in _lines(got.stdout) if cell_len(line) > columns]
    assert wide == []


def test_headers_are_never_broken_mid_word(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    header = ["region", "population (persons)", "expected shortage (units)",
              "compensation (CNY/unit)", "closeness in (1/hop)", "betweenness"]
    rows = [["shenyang", 9118000, 820.47, 0.5, 0.3333, 0.0714],
            ["dalian", 7488000, 27.0, 1.25, 0.25, 0.0]]
    for columns in (60, 80, 100, 130):
        monkeypatch.setenv("COLUMNS", str(columns))
        print_table("Regions", header, rows)
        text = capsys.readouterr().out
        assert max(cell_len(line) for line in _lines(text)) <= columns, columns
        tokens = set(re.findall(r"[^\s│┃━╇:;—]+", text))
        # a row printed as a paragraph starts with its first cell, without the header
        shown = header if "━" in text else header[1:]
        for word in " ".join(shown).split():
            assert word in tokens, (columns, word, text)


def test_a_table_that_cannot_fit_is_one_paragraph_per_row(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "52")
    print_table("Knock-outs", ["rank", "lost", "kind", "exp. shortage (units)",
                               "increase (CNY)"],
                [[1, "W_north", "government_warehouse", 7735.2, 1560000.0]])
    assert capsys.readouterr().out.splitlines() == [
        "Knock-outs",
        " rank 1 — lost: W_north; kind: government_warehouse",
        "    exp. shortage (units): 7,735",
        "    increase (CNY): 1,560,000",
        ""]


def test_numbers_share_one_precision_per_column(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    print_table("T", ["id", "short (units)", "risk (0-1)", "closeness (1/km)", "fill rate"],
                [["a", 820.47, 0.2, 0.01144, pct(0.9671)],
                 ["b", 27.0, 0.65, 0.009269, pct(0.99999)]])
    rows = [line.split("│") for line in capsys.readouterr().out.splitlines()[3:5]]
    assert [[c.strip() for c in r] for r in rows] == [
        ["a", "820", "0.20", "0.0114", "96.7%"],
        ["b", "27", "0.65", "0.0093", "99.9%"]]


def test_percentages_never_round_a_shortage_up_to_100() -> None:
    assert [None if p is None else p.text for p in map(pct, [1.0, 0.999999999999, 0.99951,
                                                                0.29, 0.0, None])] == [
        "100.0%", "100.0%", "99.9%", "29.0%", "0.0%", None]


def test_long_tables_stop_at_top_and_say_how_many_more(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "130")
    got = run_cli("info", str(LIAONING), "--top", "3")
    assert got.exit_code == 0, got.output
    assert "… and 11 more; every row is in --format json" in got.stdout
    assert "shenyang" in got.stdout and "huludao" not in got.stdout
    assert "… and" not in run_cli("info", str(LIAONING), "--top", "0").stdout


def test_plan_splits_money_from_the_penalty_and_says_all_are_served(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "130")
    got = run_cli("plan", str(TOY))
    assert got.exit_code == 0, got.output
    lines = got.stdout.splitlines()
    assert lines[1] == ("money spent (expected) 96,578 CNY; expected shortage penalty 0 CNY "
                        "(not money)")
    assert lines[2].startswith("objective 96,578 = money + penalty; bound 96,578 CNY")
    assert "Expected fill rates: all regions fully served (100%) in every scenario." in lines
    assert any(line.startswith("(transfer) compensation: what borrowing regions pay")
               for line in lines)


def test_analyze_lists_only_knock_outs_that_hurt_and_marks_candidates(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    out = run_cli("analyze", str(TOY)).stdout
    ranking = out.split("Knock-out ranking")[1].split("note:")[0]
    assert "P_hill" not in ranking and "S_river" not in ranking
    assert "2 knock-out(s) add no expected shortage and are not listed." in ranking
    assert "government_warehouse (candidate)" in out
