"""Generated bad inputs (issue 11, section 7): every one ends valid or in one-line errors.

Each case mutates the bundled toy instance (tables, manifest, JSON document, variant,
sweep and event files, command-line arguments) or a tiny VRPLIB, Solomon, Cordeau or
OR-Library file, runs a cheap command on it in-process, and must end either valid
(exit 0) or with exit 1 and only ``error: ...`` lines: never ``internal error`` (exit 2),
a traceback, a hang (a per-case deadline), a changed input file, or the content of a file
outside the instance in the output. Where the format states a rule the mutation breaks
(a duplicated header, a short row, a negative population, a non-finite number, an
unknown id) the case must not exit 0 either. The generator is ``tests/fuzz_cases.py``;
``bench/fuzz_inputs.py`` runs thousands more (every value, random and combined
mutations, resource bombs under a memory cap).

A failing case names its files (kept under pytest's temporary folder) and the command
that rebuilds it anywhere: ``.venv/bin/python bench/fuzz_inputs.py --case ID --write DIR``.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.fuzz_cases import (
    INVALID,
    VALID,
    Case,
    Mutation,
    catalogue,
    core_cases,
    find_case,
    random_case,
)
from tests.fuzz_harness import FAILURES, classify, describe, run_case, slug

DEADLINE_S = 20.0
"""Seconds before a case counts as a hang; every cheap command here answers in well under 1."""

CASES = core_cases()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_ends_valid_or_in_one_line_errors(case: Case, root: Path) -> None:
    folder = root / slug(case.id)
    out = run_case(case, folder, DEADLINE_S)
    assert not out.failed, (
        f"{describe(out)}\n"
        f"files: {folder}\n"
        f"rebuild: .venv/bin/python bench/fuzz_inputs.py --case {shlex.quote(case.id)} "
        f"--write DIR\n"
        f"--- stderr\n{out.stderr[-2000:]}\n--- stdout\n{out.stdout[:1000]}")


def test_the_default_run_has_at_least_300_cases_over_every_family() -> None:
    families = {c.family for c in CASES}
    assert len(CASES) >= 300
    assert families >= {"table", "manifest", "json", "variant", "sweep", "event", "cli",
                        "vrplib", "solomon", "cordeau", "orlib-cap", "orlib-pmed"}
    assert sum(c.expect == INVALID for c in CASES) >= 300


def test_cases_rebuild_from_their_ids() -> None:
    case = next(c for c in CASES if c.id == "table/regions.csv:short-row")
    again = find_case(case.id)
    assert again.build().files == case.build().files
    first = random_case(7, 42)
    assert random_case(7, 42).build().files == first.build().files
    assert find_case(first.id).build().files == first.build().files
    if len(first.mutations) > 1:
        assert find_case(f"{first.id}:0").mutations == first.mutations[:1]


def test_the_full_catalogue_is_larger_and_keeps_the_core() -> None:
    full = catalogue(full=True)
    assert len(full) > 5 * len(CASES)
    assert {c.id for c in CASES} <= {c.id for c in full}


def _case(expect: str | None) -> Case:
    return Case("x", "test", "toy", ("validate", "toy"),
                (Mutation("m", lambda work: None, expect, "a rule"),), expect, "a rule")


@pytest.mark.parametrize(
    ("expect", "code", "stderr", "exc", "changed", "outcome"),
    [
        (None, 0, "", None, [], "valid"),
        (INVALID, 0, "", None, [], "silent acceptance"),
        (None, 1, "error: a.csv line 2: x is empty; give a value\n", None, [], "clean error"),
        (VALID, 1, "error: nope\n", None, [], "wrongly refused"),
        (None, 1, "error: two\nlines\n", None, [], "unclean error"),
        (None, 1, "", None, [], "unclean error"),
        (None, 2, "error: internal error KeyError: 'x' (run with --debug ...)\n", None, [],
         "internal error"),
        (None, 2, "Usage: root route [OPTIONS] PATH\nTry 'root route --help'\n", None, [],
         "usage error"),
        (None, 1, "", ValueError("boom"), [], "traceback"),
        (None, 0, "", None, ["toy/regions.csv"], "data loss"),
        (None, 1, "error: FUZZ-SECRET-5d1c0a77\n", None, [], "leak"),
    ],
)
def test_outcomes_are_sorted_by_exit_code_messages_and_oracle(
        expect: str | None, code: int, stderr: str, exc: BaseException | None,
        changed: list[str], outcome: str) -> None:
    got, _ = classify(_case(expect), code, "", stderr, exc, changed)
    assert got == outcome
    assert (got in FAILURES) == (outcome not in ("valid", "clean error", "usage error"))
