"""Fast knock-outs: same ranking as the plain re-solves, exact screening, progress, Ctrl-C."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from reserve_opt import load_instance
from reserve_opt.analysis import knockout_ranking
from reserve_opt.cli.progress import progress_bar
from reserve_opt.io import save_instance
from reserve_opt.models.placement import PlacementOptions, solve_placement
from reserve_opt.synthetic import synthetic_instance

TOY = Path(__file__).resolve().parents[1] / "instances" / "toy"
FIGURES = ["expected_shortage_units", "shortage_increase_units",
           "shortage_increase_cost_CNY", "second_stage_increase_CNY"]


def _same_ranking(fast: pd.DataFrame, plain: pd.DataFrame) -> None:
    """Every figure agrees, and the knock-outs that add shortage rank in the same order."""
    assert sorted(fast["target"]) == sorted(plain["target"])
    m = fast.merge(plain, on=["target_type", "target"], suffixes=("_f", "_p"))
    for c in FIGURES:
        assert m[f"{c}_f"].tolist() == pytest.approx(m[f"{c}_p"].tolist(), rel=1e-6,
                                                     abs=1e-3), c
    # zeros tie up to solver noise; what adds at least one unit or one CNY ranks the same
    def hurts(t: pd.DataFrame) -> list[str]:
        return t[(t["shortage_increase_units"] >= 1)
                 | (t["shortage_increase_cost_CNY"] >= 1)]["target"].tolist()
    assert hurts(fast) == hurts(plain)
    assert len(hurts(fast)) >= 3  # the test ranks something


@pytest.mark.parametrize("sharing", ["agreements", "pooled"])
def test_fast_ranks_as_the_plain_re_solves(sharing: str) -> None:
    # agreements: share caps and protect_own surpluses move with the lost stock
    inst = synthetic_instance(40, 16, 3, seed=3)
    opts = PlacementOptions(sharing=sharing)  # type: ignore[arg-type]
    plan = solve_placement(inst, opts)
    fast = knockout_ranking(inst, opts, plan=plan, workers=1)
    plain = knockout_ranking(inst, opts, plan=plan, method="plain")
    _same_ranking(fast.table, plain.table)
    assert set(plain.table["solved_by"]) == {"re-solve"}
    assert set(fast.table["solved_by"]) <= {"screen", "warm re-solve"}
    assert "were screened" in fast.notes[-1]


def test_fast_on_the_toy_equals_plain_and_screens_the_unused_warehouse() -> None:
    inst = load_instance(TOY)
    fast = knockout_ranking(inst).table
    plain = knockout_ranking(inst, method="plain").table
    assert fast["target"].tolist() == plain["target"].tolist()
    for c in FIGURES:
        assert fast[c].tolist() == pytest.approx(plain[c].tolist(), abs=1e-6), c
    screened = fast[fast["solved_by"] == "screen"]
    # a screened loss adds no shortage; its cost falls by the holding of the lost stock
    assert (screened["shortage_increase_units"] == 0).all()
    assert (screened["second_stage_increase_CNY"] <= 0).all()


def test_fast_on_dask_equals_in_process() -> None:
    inst = synthetic_instance(30, 12, 2, seed=5)
    plan = solve_placement(inst)
    one = knockout_ranking(inst, plan=plan, workers=1).table
    two = knockout_ranking(inst, plan=plan, workers=2).table
    assert two["target"].tolist() == one["target"].tolist()
    for c in FIGURES:
        assert two[c].tolist() == pytest.approx(one[c].tolist(), rel=1e-9, abs=1e-6)


def test_bad_method_is_one_line() -> None:
    from reserve_opt.errors import InputError

    with pytest.raises(InputError, match=r"^method='quick': choose 'fast' or 'plain'\.$"):
        knockout_ranking(load_instance(TOY), method="quick")  # type: ignore[arg-type]


def test_progress_shows_counts_and_an_estimate() -> None:
    inst = synthetic_instance(40, 16, 3, seed=3)
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120, color_system=None)
    with progress_bar("knock-outs", console=console) as hooks:
        ko = knockout_ranking(inst, workers=1, **hooks)
    n = len(ko.table)
    text = buf.getvalue()
    assert "knock-outs" in text and f"{n}/{n}" in text
    assert re.search(r"elapsed \d:\d\d:\d\d left \d:\d\d:\d\d", text), text[-400:]


def test_no_progress_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar("runs") as hooks:
        assert hooks == {"on_start": None, "on_done": None}
    assert capsys.readouterr().err == ""


def _default_sigint() -> None:
    # a shell's background job starts with SIGINT ignored, and Python then keeps ignoring it
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _analyze_in_a_terminal(folder: Path, out: Path, *extra: str
                           ) -> tuple[subprocess.Popen[bytes], int]:
    """``reserve-opt analyze`` with stderr on a pseudo-terminal (so the bar draws)."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "120"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from reserve_opt.cli.app import main; main()", "analyze",
         str(folder), "--out", str(out), *extra], stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=slave, env=env, preexec_fn=_default_sigint)
    os.close(slave)
    return proc, master


def _read_until(fd: int, pattern: re.Pattern[str], limit_s: float = 600.0
                ) -> tuple[re.Match[str] | None, str]:
    text = ""
    end = time.monotonic() + limit_s  # a guard against a hang, not a pace
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        text += chunk.decode("utf-8", "replace")
        found = pattern.search(text)
        if found:
            return found, text
    return None, text


def test_ctrl_c_keeps_the_finished_knockouts(tmp_path: Path) -> None:
    folder = save_instance(synthetic_instance(60, 25, 3, seed=2), tmp_path / "inst")
    out = tmp_path / "out"
    # plain re-solves take a model build and a solve each, so the signal sent after the
    # third lands long before the last (the fast ones can all finish in a second)
    proc, master = _analyze_in_a_terminal(folder, out, "--method", "plain")
    try:
        # wait for the bar to count at least 3 finished knock-outs, then interrupt
        found, _ = _read_until(master, re.compile(r"\b([3-9]|\d\d+)/(\d+)\b"))
        assert found, "no progress counts seen"
        total = int(found.group(2))
        proc.send_signal(signal.SIGINT)
        _, rest = _read_until(master, re.compile(r"interrupted: .*\n"))
        assert proc.wait(timeout=120) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    line = re.search(r"interrupted: ([\d,]+) of ([\d,]+) knock-outs finished; their rows are "
                     r"in (\S+)", rest)
    assert line, rest[-500:]
    done = int(line.group(1).replace(",", ""))
    assert int(line.group(2).replace(",", "")) == total
    assert 3 <= done < total
    assert line.group(3) == str(out / "knockout.csv")
    kept = pd.read_csv(out / "knockout.csv")
    assert len(kept) == done
    assert kept["rank"].tolist() == list(range(1, done + 1))


@pytest.mark.slow
def test_1200_regions_show_counts_and_an_estimate() -> None:
    inst = synthetic_instance(1200, 470, 5, seed=0)
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120, color_system=None)
    with progress_bar("knock-outs", console=console) as hooks:
        ko = knockout_ranking(inst, **hooks)
    n = len(ko.table)
    assert n > 1500
    assert f"{n}/{n}" in buf.getvalue()
    assert re.search(r"left \d:\d\d:\d\d", buf.getvalue())


def test_cli_refuses_a_bad_method_workers_or_scheduler_in_one_line() -> None:
    from tests.cli_runner import run_cli

    cases = {
        ("--method", "quick"): "error: --method 'quick': choose fast or plain.",
        ("--workers", "0"): "error: --workers 0: give at least 1 worker process",
        ("--scheduler", "tcp://10.1.2.3:8786"): (
            "error: --scheduler 'tcp://10.1.2.3:8786': is neither on this machine nor "
            "tls://, and Dask lets whoever answers there run code as you; use tls:// (with "
            "Dask's TLS certificates) or add --trust-scheduler if you trust everyone who can "
            "reach that address"),
    }
    for args, line in cases.items():
        result = run_cli("analyze", str(TOY), *args)
        assert result.exit_code == 1, result.output
        assert " ".join(result.stderr.split()) == line


def test_interrupting_fast_knockouts_keeps_the_finished_ones() -> None:
    from reserve_opt.analysis import KnockoutInterrupted

    inst = synthetic_instance(40, 16, 3, seed=3)
    done = []

    def stop_after_three() -> None:
        done.append(1)
        if len(done) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KnockoutInterrupted) as stop:
        knockout_ranking(inst, workers=1, on_done=stop_after_three)
    partial = stop.value.partial.table
    assert len(partial) == 3 and partial["rank"].tolist() == [1, 2, 3]
    assert stop.value.total > 3
    assert str(stop.value) == f"3 of {stop.value.total} knock-outs finished"
