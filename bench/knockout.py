"""Benchmark: knock-out ranking, plain re-solves against the fast method, side by side.

The instance is :func:`reserve_opt.synthetic.synthetic_instance` (``--regions``,
``--facilities``, 5 commodities). The base plan is solved once (its time is printed apart)
and given to both methods, so they time only the knock-outs:

* ``plain``: one full model build and HiGHS solve per knock-out (``method="plain"``);
* ``fast``: exact screening and warm GLOP re-solves of the blocks a knock-out changes, on
  a local Dask cluster of ``--workers`` processes (``method="fast"``; 1 = in process).

On big instances the plain method takes very long (the issue measured more than 21
minutes on 1,200 regions); ``--plain-sample N`` then times it on the first N facility
knock-outs and scales the time per knock-out to all of them (printed as an estimate).
With both run in full, the bench also checks that they rank alike. Run from the
repository root::

    .venv/bin/python bench/knockout.py                                   # 183 regions
    .venv/bin/python bench/knockout.py --regions 1200 --facilities 470 --plain-sample 60
"""

from __future__ import annotations

import argparse
import time

from measure import maxrss_mib

from reserve_opt.analysis import knockout_ranking
from reserve_opt.models.placement import PlacementOptions, solve_placement
from reserve_opt.synthetic import synthetic_instance


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--regions", type=int, default=183)
    ap.add_argument("--facilities", type=int, default=70)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None,
                    help="Dask processes of the fast method (default: analyze's rule)")
    ap.add_argument("--plain-sample", type=int, default=None,
                    help="time plain on this many facility knock-outs and scale up")
    args = ap.parse_args()

    inst = synthetic_instance(args.regions, args.facilities, 5, seed=args.seed)
    opts = PlacementOptions()
    t0 = time.perf_counter()
    plan = solve_placement(inst, opts)
    t_plan = time.perf_counter() - t0
    print(f"instance {inst.name}: {args.regions} regions, {args.facilities} facilities, "
          f"5 commodities; base plan {plan.status.value} in {t_plan:.1f} s")

    t0 = time.perf_counter()
    fast = knockout_ranking(inst, opts, plan=plan, workers=args.workers)
    t_fast = time.perf_counter() - t0
    n = len(fast.table)
    screened = int((fast.table["solved_by"] == "screen").sum())

    if args.plain_sample is None:
        t0 = time.perf_counter()
        plain = knockout_ranking(inst, opts, plan=plan, method="plain")
        t_plain = time.perf_counter() - t0
        how = f"all {n}"
        same = _same(fast.table, plain.table)
    else:
        sample = fast.table[fast.table["target_type"] == "facility"]["target"]
        sample = sorted(sample)[:args.plain_sample]
        t0 = time.perf_counter()
        knockout_ranking(inst, opts, plan=plan, method="plain", facilities=sample,
                         links=False)
        t_plain = (time.perf_counter() - t0) / len(sample) * n
        how = f"estimate: {len(sample)} timed, x {n / len(sample):.1f}"
        same = "not checked (sampled)"

    print(f"\n{'method':<8} {'knock-outs':>10} {'seconds':>9} {'plain / fast':>13}  notes")
    print(f"{'plain':<8} {n:>10,} {t_plain:>9.1f} {'':>13}  {how}")
    print(f"{'fast':<8} {n:>10,} {t_fast:>9.1f} {t_plain / t_fast:>12.1f}x  "
          f"{screened} screened, {n - screened} warm re-solves")
    print(f"\nfast + base plan: {t_fast + t_plan:.1f} s; same ranking: {same}; "
          f"peak RSS {maxrss_mib():,.0f} MiB")


def _same(a: object, b: object) -> str:
    import pandas as pd

    assert isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame)

    def hurts(t: pd.DataFrame) -> list[str]:
        return t[(t["shortage_increase_units"] >= 1)
                 | (t["shortage_increase_cost_CNY"] >= 1)]["target"].tolist()

    m = a.merge(b, on=["target_type", "target"], suffixes=("_f", "_p"))
    diff = float((m["shortage_increase_cost_CNY_f"] - m["shortage_increase_cost_CNY_p"])
                 .abs().max())
    return (f"{'yes' if hurts(a) == hurts(b) else 'NO'} ({len(hurts(a))} losses add "
            f"shortage; largest difference {diff:.2g} CNY)")


if __name__ == "__main__":
    main()
