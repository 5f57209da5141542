"""The large bad-input run: thousands of generated cases, counted by outcome.

Run from the repository root::

    .venv/bin/python bench/fuzz_inputs.py                     # full catalogue + 3000 random
    .venv/bin/python bench/fuzz_inputs.py --core --random 0   # what the default test runs
    .venv/bin/python bench/fuzz_inputs.py --seed 7 --random 10000 --no-catalogue
    .venv/bin/python bench/fuzz_inputs.py --bombs --mem-mb 2048   # resource bombs, capped
    .venv/bin/python bench/fuzz_inputs.py --case 'table/regions.csv:short-row' --write /tmp/c

Cases come from ``tests/fuzz_cases.py``: the systematic catalogue (every mutation of
every table, key, value and file layout, with stable ids; cell values in the first row of
each table, or every row with ``--all-rows``), random cases ``r<seed>-<k>``
(1-3 mutations of one family drawn from ``random.Random(f"{seed}:{k}")``), and with
``--bombs`` inputs that exhaust memory or time unless capped (each run in a forked child
whose address space is capped ``--mem-mb`` above the parent's). Each case runs in-process
through the CLI with a per-case deadline, as in ``tests/test_fuzz_inputs.py``.

Prints the counts by outcome (valid / clean error / usage error / internal error /
traceback / hang / silent acceptance / wrongly refused / unclean error / data loss / leak /
crash), then by family, then the failures grouped by family and cause with a reproducer
each: the case id (``--case ID --write DIR`` rebuilds it) and, with ``--keep DIR``, a
folder per failing case holding its files and ``REPRODUCE.txt``. A failing random case
with several mutations is shrunk to the fewest that still fail the same way.
Exit code 1 when any case failed.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz_cases import (
    Case,
    bomb_cases,
    catalogue,
    core_cases,
    find_case,
    random_case,
)
from tests.fuzz_harness import (
    OUTCOMES,
    Outcome,
    run_case,
    run_isolated,
    slug,
    write_reproducer,
)


def signature(out: Outcome) -> str:
    """The cause of a failure, with ids, numbers and quoted values blurred, for grouping."""
    if out.outcome in ("internal error", "traceback"):
        text = out.detail or out.stderr
        m = re.search(r"internal error (\w+)", text) or re.match(r"(\w+):", text)
        kind = m.group(1) if m else "?"
        msg = re.sub(r".*internal error \w+: ", "", text.splitlines()[0] if text else "")
        return f"{kind}: {_blur(msg)[:90]}"
    if out.outcome in ("silent acceptance", "wrongly refused"):
        return _blur(out.why)[:110]
    return _blur(out.detail or out.first_line())[:110]


def _blur(text: str) -> str:
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'*'", text)
    text = re.sub(r"\b[\w.-]+\.(csv|toml|yaml|json|txt|vrp|sol)\b", "<file>", text)
    return re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "N", text)


def shrink(case: Case, target: str, run: object, folder: Path) -> tuple[Case, int]:
    """Drop mutations of ``case`` while it still ends in ``target``; return it and the runs."""
    keep = list(range(len(case.mutations)))
    runs = 0
    changed = True
    while changed and len(keep) > 1:
        changed = False
        for i in keep:
            trial = [j for j in keep if j != i]
            runs += 1
            sub = folder / f"shrink{runs}"
            out = run(case.keep(trial), sub)  # type: ignore[operator]
            shutil.rmtree(sub, ignore_errors=True)
            if out.outcome == target:
                keep = trial
                changed = True
                break
    return (case.keep(keep) if len(keep) < len(case.mutations) else case), runs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0, help="seed of the random cases")
    ap.add_argument("--random", type=int, default=3000, help="number of random cases")
    ap.add_argument("--max-mutations", type=int, default=3,
                    help="most mutations combined in one random case")
    ap.add_argument("--core", action="store_true",
                    help="only the catalogue's core tier (the default test's cases)")
    ap.add_argument("--no-catalogue", action="store_true", help="random cases only")
    ap.add_argument("--all-rows", action="store_true",
                    help="try every cell value in every row, not only the first")
    ap.add_argument("--families", default="",
                    help="comma-separated families to run (table, json, manifest, ...)")
    ap.add_argument("--bombs", action="store_true",
                    help="add resource bombs, each in a child under --mem-mb")
    ap.add_argument("--isolate", action="store_true",
                    help="run every case in a forked child under --mem-mb")
    ap.add_argument("--mem-mb", type=int, default=2048,
                    help="address space a child may add, MB (with --isolate/--bombs)")
    ap.add_argument("--deadline", type=float, default=20.0, help="seconds per case")
    ap.add_argument("--limit", type=int, default=0, help="stop after this many cases")
    ap.add_argument("--keep", type=Path, default=None,
                    help="write each failing case's files and REPRODUCE.txt under DIR")
    ap.add_argument("--no-shrink", action="store_true", help="do not shrink random cases")
    ap.add_argument("--json", type=Path, default=None, help="write every outcome (JSON lines)")
    ap.add_argument("--case", default=None, help="run one case by id")
    ap.add_argument("--write", type=Path, default=None,
                    help="with --case: build the case in this (new) folder and run it there")
    args = ap.parse_args()

    if args.case:
        return _one(args)

    cases: list[Case] = []
    if not args.no_catalogue:
        cases += core_cases() if args.core else catalogue(full=True, all_rows=args.all_rows)
    cases += [random_case(args.seed, k, args.max_mutations) for k in range(args.random)]
    if args.bombs:
        cases += list(bomb_cases())
    if args.families:
        wanted = set(args.families.split(","))
        cases = [c for c in cases if c.family in wanted]
    if args.limit:
        cases = cases[: args.limit]

    work_root = Path(tempfile.mkdtemp(prefix="fuzz-inputs-"))
    try:
        return _run_all(args, cases, work_root)
    finally:
        shutil.rmtree(work_root, ignore_errors=True)


def _run_all(args: argparse.Namespace, cases: list[Case], work_root: Path) -> int:

    def run(case: Case, folder: Path) -> Outcome:
        if args.isolate or case.bomb:
            return run_isolated(case, folder, args.deadline, args.mem_mb)
        return run_case(case, folder, args.deadline)

    print(f"{len(cases)} cases (seed {args.seed}, {args.random} random, deadline "
          f"{args.deadline:g} s{', isolated' if args.isolate else ''}"
          f"{', bombs under ' + str(args.mem_mb) + ' MB' if args.bombs else ''})",
          flush=True)
    t0 = time.perf_counter()
    outcomes: list[Outcome] = []
    failed: list[tuple[Case, Outcome]] = []
    shrink_runs = 0
    out_json = args.json.open("w", encoding="utf-8") if args.json else None
    for i, case in enumerate(cases):
        folder = work_root / f"c{i}"
        out = run(case, folder)
        shutil.rmtree(folder, ignore_errors=True)
        if out.failed and len(case.mutations) > 1 and case.tier == "random" and (
                not args.no_shrink):
            small, n = shrink(case, out.outcome, run, work_root)
            shrink_runs += n
            if small is not case:
                again = run(small, work_root / f"s{i}")
                shutil.rmtree(work_root / f"s{i}", ignore_errors=True)
                if again.outcome == out.outcome:
                    case, out = small, again
        outcomes.append(out)
        if out.failed:
            failed.append((case, out))
            if args.keep:
                write_reproducer(case, out, args.keep / slug(case.id))
        if out_json:
            out_json.write(json.dumps(asdict(out)) + "\n")
        if (i + 1) % 250 == 0:
            print(f"  {i + 1}/{len(cases)} cases, {len(failed)} failed, "
                  f"{time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    if out_json:
        out_json.close()
    wall = time.perf_counter() - t0
    _report(outcomes, failed, wall, shrink_runs, args.keep)
    return 1 if failed else 0


def _report(outcomes: list[Outcome], failed: list[tuple[Case, Outcome]], wall: float,
            shrink_runs: int, keep: Path | None) -> None:
    counts = Counter(o.outcome for o in outcomes)
    print(f"\n{len(outcomes)} cases in {wall:.0f} s ({shrink_runs} shrinking runs)")
    print("\nby outcome")
    for name in OUTCOMES:
        mark = "  <- defect" if name in {o.outcome for _, o in failed} else ""
        print(f"  {name:<18} {counts.get(name, 0):>6}{mark}")
    families = sorted({o.family for o in outcomes})
    shown = [n for n in OUTCOMES if counts.get(n)]
    print("\nby family\n  " + f"{'family':<11}" + "".join(f"{n[:14]:>16}" for n in shown))
    for fam in families:
        fc = Counter(o.outcome for o in outcomes if o.family == fam)
        print(f"  {fam:<11}" + "".join(f"{fc.get(n, 0):>16}" for n in shown))
    if not failed:
        print("\nno failures")
        return
    groups: dict[tuple[str, str, str], list[tuple[Case, Outcome]]] = defaultdict(list)
    for case, out in failed:
        groups[(out.family, out.outcome, signature(out))].append((case, out))
    print(f"\n{len(failed)} failures in {len(groups)} groups (family, outcome, cause); "
          f"reproduce one with: .venv/bin/python bench/fuzz_inputs.py --case ID --write DIR")
    for (fam, outcome, sig), items in sorted(groups.items(), key=lambda kv: (
            kv[0][0], -len(kv[1]), kv[0][1])):
        case, out = items[0]
        print(f"\n[{fam}] {outcome} x{len(items)}: {sig}")
        print(f"  e.g. {case.id}\n       {out.command}\n       -> {out.first_line()[:200]}")
        if keep:
            print(f"       files: {keep / slug(case.id)}")
        rest = [c.id for c, _ in items[1:]]
        if rest:
            print(f"  also: {', '.join(rest[:12])}{' ...' if len(rest) > 12 else ''}")


def _one(args: argparse.Namespace) -> int:
    case = find_case(args.case)
    folder = args.write or Path(tempfile.mkdtemp(prefix="fuzz-case-")) / "case"
    if folder.exists() and any(folder.iterdir()):
        sys.exit(f"{folder} is not empty; give a new folder to --write")
    out = (run_isolated(case, folder, args.deadline, args.mem_mb)
           if args.isolate or case.bomb else run_case(case, folder, args.deadline))
    # the run may have changed the files (that is a finding): write them afresh beside
    write_reproducer(case, out, folder.with_name(folder.name + ".fresh"))
    print(f"case: {case.id}\nfamily: {case.family}\noutcome: {out.outcome}"
          f"{' (DEFECT)' if out.failed else ''}\nexpected: {case.expect or 'any clean end'}"
          f"{' - ' + case.why if case.why else ''}\nfolder: {folder} (as run), "
          f"{folder.name}.fresh (as built)\ncommand: cd {folder} && {out.command}\n"
          f"exit code: {out.exit_code}\ndetail: {out.detail}\n--- stderr\n{out.stderr}"
          f"--- stdout\n{out.stdout[:3000]}")
    return 1 if out.failed else 0


if __name__ == "__main__":
    sys.exit(main())
