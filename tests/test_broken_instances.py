"""Every broken instance under tests/broken fails validation with its exact message."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.cli_runner import run_cli

BROKEN = Path(__file__).parent / "broken"
EXPECTED: dict[str, list[str]] = tomllib.loads((BROKEN / "expected.toml").read_text())
CASES = sorted(p for p in BROKEN.iterdir() if p.is_dir() or p.suffix == ".json")


def test_every_broken_instance_has_an_expected_message() -> None:
    assert sorted(p.name for p in CASES) == sorted(EXPECTED)
    assert len(EXPECTED) >= 15


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_broken_instance_is_refused_with_its_message(case: Path) -> None:
    result = run_cli("validate", str(case))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Traceback" not in result.output
    expected = [f"error: {m.replace('{path}', str(case))}" for m in EXPECTED[case.name]]
    assert result.stderr.splitlines() == expected
