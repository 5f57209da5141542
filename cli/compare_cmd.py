"""The ``compare`` command: what changed between two plans, or two allocations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from reserve_opt.cli.errors import reported_errors
from reserve_opt.cli.options import TopOption
from reserve_opt.cli.render import (
    COMPENSATION_NOTE,
    DEFAULT_TOP,
    SHORTAGE_PENALTY_NOTE,
    Num,
    echo_json,
    pct,
    print_table,
    say,
)


def _points(change: float | None) -> Num | None:
    """A change of fill rate (fraction) in percentage points: +2.5 pp."""
    if change is None:
        return None
    return Num(f"{change * 100:+.1f} pp")


def _ids(ids: list[str]) -> str:
    return ", ".join(ids) if ids else "none"


def compare(
    a: Annotated[Path, typer.Argument(help="The first result folder (plan --out or "
                                      "allocate --out): the reference.")],
    b: Annotated[Path, typer.Argument(help="The second result folder, of the same kind; "
                                      "changes are B - A.")],
    json_: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON for "
                                        "machines (every row, fill rates as fractions 0-1).")
                     ] = False,
    top: TopOption = DEFAULT_TOP,
) -> None:
    """Say what changed from plan A to plan B (or allocation A to B of one event).

    Warehouses opened or no longer opened, contracts signed or not, stock held per warehouse
    and commodity (an allocation: units shipped from each source), money spent against the
    expected shortage penalty, fill rates, and the shortages that appear or disappear.
    """
    from reserve_opt.compare import compare_results

    with reported_errors():
        report = compare_results(a, b)
    if json_:
        echo_json(report)
        return
    _print(report, top)


def _head(rows: list[Any], top: int) -> list[Any]:
    return rows if top == 0 else rows[:top]


def _print(r: dict[str, Any], top: int) -> None:
    cur = r["currency"]
    plan = r["kind"] == "plan"
    noun = "plan" if plan else f"allocation of {r['event']}"
    say(f"{noun}: A = {r['a']} ({r['status']['a']}), B = {r['b']} ({r['status']['b']})")
    say(f"changes are B - A; money in {cur}, quantities in each commodity's own unit\n")
    print_table(f"Costs ({cur})", ["term", "A", "B", "change"],
                [[c["term"], c["a"], c["b"], c["change"]] for c in r["costs"]],
                legend=([SHORTAGE_PENALTY_NOTE] if plan else []) + [COMPENSATION_NOTE])
    if plan:
        o, k = r["opened"], r["contracts"]
        say(f"Warehouses opened in B only: {_ids(o['only_b'])}; opened in A only: "
            f"{_ids(o['only_a'])}" + (f"; another size: {_ids(o['resized'])}"
                                       if o["resized"] else ""))
        say(f"Contracts signed in B only: {_ids(k['only_b'])}; signed in A only: "
            f"{_ids(k['only_a'])}\n")
    stock = r["stock"]
    what = "Stock held" if plan else "Shipped from each source"
    if stock:
        print_table(f"{what} (units)", ["facility", "commodity", "A", "B", "change"],
                    [[s["facility"], s["commodity"], s["a"], s["b"], s["change"]]
                     for s in _head(stock, top)],
                    total=len(stock), where="every row is in --json")
    else:
        say(f"{what}: no change.\n")
    print_table("Fill rate by commodity" + (" (expected)" if plan else ""),
                ["commodity", "A", "B", "change"],
                [[c["commodity"], pct(c["a"]), pct(c["b"]), _points(c["change"])]
                 for c in r["fill_by_commodity"]])
    fill = r["fill"]
    if fill:
        print_table("Fill rates that changed (regions)", ["region", "commodity", "A", "B",
                                                          "change"],
                    [[f["region"], f["commodity"], pct(f["a"]), pct(f["b"]),
                      _points(f["change"])] for f in _head(fill, top)],
                    total=len(fill), where="every row is in --json")
    else:
        say("No region's fill rate changed.\n")
    units = "expected units short" if plan else "units never delivered"
    for key, title in (("appearing", "Shortages in B, not in A"),
                       ("disappearing", "Shortages in A, gone in B")):
        rows = r["shortages"][key]
        if rows:
            print_table(title, ["region", "commodity", units],
                        [[s["region"], s["commodity"], s["units"]] for s in _head(rows, top)],
                        total=len(rows), where="every row is in --json")
        else:
            say(f"{title}: none.")


def register(app: typer.Typer) -> None:
    """Add the ``compare`` command to ``app``."""
    app.command()(compare)
