"""validate warns about demand that no source, agreement or parent can ever serve."""

from __future__ import annotations

import shutil
from pathlib import Path

from reserve_opt import load_instance
from reserve_opt.validation import unreachable_demand
from tests.cli_runner import run_cli


def test_bundled_toy_has_no_unreachable_demand(toy_path: Path) -> None:
    assert unreachable_demand(load_instance(toy_path)) == []


def test_validate_warns_once_per_region_and_commodity(toy_path: Path, tmp_path: Path) -> None:
    # without parents: Rivermouth has a water contract but nothing that could hold tents;
    # Hill County has a tent works (an unsigned contract) but nothing for water. Seaside
    # borrows both from Northtown under its agreement.
    folder = tmp_path / "orphans"
    shutil.copytree(toy_path, folder)
    regions = folder / "regions.csv"
    regions.write_text(regions.read_text().replace(",north,", ",,"))
    result = run_cli("validate", str(folder))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "warning: river needs tent in scenarios typhoon, flood, but nothing can ever serve "
        "it: river has no government warehouse or tent contract, and no agreement or parent "
        "region lets a region that could hold tent lend to it; add a warehouse or contract "
        "in river, or an agreement with a region that holds tent",
        "warning: hill needs water in scenario snow, but nothing can ever serve it: hill has "
        "no government warehouse or water contract, and no agreement or parent region lets "
        "a region that could hold water lend to it; add a warehouse or contract in hill, or "
        "an agreement with a region that holds water",
    ]
    assert result.stdout.startswith(f"{folder}: valid (4 regions")
