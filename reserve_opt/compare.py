"""What changed between two results: two plans, or two allocations of one event.

:func:`compare_results` reads two folders written by ``reserve-opt plan --out`` or
``reserve-opt allocate --out`` and says what changed in a planner's terms: warehouses
opened or no longer opened and contracts signed or not (plans), stock held per warehouse
and commodity (plans) or units shipped from each source (allocations), money spent against
the shortage penalty, fill rates, and shortages that appear or disappear. Quantities are in
each commodity's own unit, money in the results' currency, fill rates fractions 0-1.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from reserve_opt.errors import InputError, shown
from reserve_opt.io.outdir import written_by

#: What each command's folder holds, in words.
KINDS = {"plan": "a plan", "allocate": "an allocation"}

#: Changes smaller than this (units, currency, or fill-rate fraction) are solver noise.
NOISE = 1e-6

_GIVE = "give two folders written by 'reserve-opt plan --out' or two by 'allocate --out'"


def _read(folder: Path, label: str) -> tuple[str, dict[str, Any]]:
    """The command that wrote ``folder`` and its ``solution.json``; refuse anything else."""
    if not folder.exists():
        raise InputError(f"{label}: does not exist; {_GIVE}")
    if not folder.is_dir():
        raise InputError(f"{label}: is a file, not a result folder; {_GIVE}")
    command = written_by(folder)
    if command is None:
        raise InputError(f"{label}: was not written by reserve-opt (no .reserve-opt file in "
                         f"it); {_GIVE}")
    if command not in KINDS:
        held = ("an instance folder reserve-opt wrote" if command == "instance"
                else f"the output of reserve-opt {command}")
        raise InputError(f"{label}: holds {held}, not a plan or an allocation; {_GIVE}")
    path = folder / "solution.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"{label}/solution.json: cannot be read ({shown(err, 80)}); run "
                         f"reserve-opt {command} --out {label} again") from None
    if not isinstance(doc, dict):
        raise InputError(f"{label}/solution.json: is not a {command} result; run reserve-opt "
                         f"{command} --out {label} again")
    return command, doc


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else 0.0


def compare_results(a: str | Path, b: str | Path) -> dict[str, Any]:
    """Compare two result folders: two plans, or two allocations of one event.

    Parameters
    ----------
    a, b
        Folders written by ``reserve-opt plan --out`` (or ``allocate --out``); ``b`` is
        compared against ``a`` (changes are ``b - a``).

    Returns
    -------
    dict
        JSON-ready: ``kind`` (``plan`` or ``allocation``), ``currency``, ``status`` of
        each, ``costs`` (term, a, b, change; currency), ``stock`` (facility, commodity, a,
        b, change; units held by a plan, or shipped from a source by an allocation),
        ``opened`` and ``contracts`` (plans: ids only in a, only in b), ``fill_by_commodity``
        and ``fill`` (region, commodity, a, b, change; fractions 0-1, changed rows only),
        ``shortages`` (``appearing`` and ``disappearing``: region, commodity, units; a plan's
        expected units, an allocation's units never delivered).

    Raises
    ------
    InputError
        A folder is missing, was not written by ``plan`` or ``allocate``, holds no
        result, or the two are of different kinds, events or currencies.
    """
    pa, pb = Path(a), Path(b)
    ka, da = _read(pa, str(a))
    kb, db = _read(pb, str(b))
    if ka != kb:
        raise InputError(f"{a} holds {KINDS[ka]} and {b} {KINDS[kb]}; compare two plans or "
                         "two allocations")
    for label, doc in ((a, da), (b, db)):
        if doc.get("status") not in ("optimal", "feasible"):
            noun = "plan" if ka == "plan" else "allocation"
            raise InputError(f"{label}: holds no {noun} (status {shown(doc.get('status'))}); "
                             f"compare folders whose {noun} was found")
    if ka == "plan":
        return _plans(str(a), str(b), da, db)
    if da.get("event") != db.get("event"):
        raise InputError(f"{a} is the allocation of event {shown(da.get('event'))} and {b} of "
                         f"{shown(db.get('event'))}; compare allocations of one event")
    return _allocations(str(a), str(b), pa, pb, da, db)


def _currency(a: str, b: str, ca: Any, cb: Any) -> str:
    if ca != cb:
        raise InputError(f"{a}'s money is in {shown(ca)} and {b}'s in {shown(cb)}; compare "
                         "results of one instance")
    return str(ca)


def _pairs(a: dict[tuple[str, str], float], b: dict[tuple[str, str], float],
           names: tuple[str, str]) -> list[dict[str, Any]]:
    """Rows ``names..., a, b, change`` of the keys whose value changed, largest change first."""
    rows = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key, 0.0), b.get(key, 0.0)
        if abs(vb - va) > NOISE * max(1.0, abs(va)):
            rows.append({names[0]: key[0], names[1]: key[1], "a": va, "b": vb,
                         "change": vb - va})
    return sorted(rows, key=lambda r: -abs(r["change"]))


def _cost_rows(terms: list[tuple[str, float, float]]) -> list[dict[str, Any]]:
    return [{"term": t, "a": va, "b": vb, "change": vb - va} for t, va, vb in terms]


def _shortage_moves(a: dict[tuple[str, str], float],
                    b: dict[tuple[str, str], float]) -> dict[str, list[dict[str, Any]]]:
    """Region and commodity pairs short in ``b`` but not ``a`` (appearing), and vice versa."""
    def short(d: dict[tuple[str, str], float]) -> dict[tuple[str, str], float]:
        return {k: v for k, v in d.items() if v > NOISE}

    sa, sb = short(a), short(b)
    return {
        "appearing": [{"region": r, "commodity": c, "units": sb[(r, c)]}
                      for r, c in sorted(set(sb) - set(sa))],
        "disappearing": [{"region": r, "commodity": c, "units": sa[(r, c)]}
                         for r, c in sorted(set(sa) - set(sb))],
    }


def _plan_fill(doc: dict[str, Any]) -> tuple[dict[tuple[str, str], float],
                                             dict[tuple[str, str], float],
                                             dict[str, float]]:
    """Expected fill rate and shortage per region and commodity, fill rate per commodity."""
    p = doc.get("scenario_probabilities") or {}
    demand: dict[tuple[str, str], float] = {}
    short: dict[tuple[str, str], float] = {}
    for line in doc.get("shortages") or []:
        key = (str(line["region"]), str(line["commodity"]))
        w = _num(p.get(line["scenario"]))
        demand[key] = demand.get(key, 0.0) + w * _num(line["demand"])
        short[key] = short.get(key, 0.0) + w * _num(line["shortage"])
    fill = {k: 1.0 - short[k] / d for k, d in demand.items() if d > 0}
    by: dict[str, list[float]] = {}
    for (r, c), d in demand.items():
        t = by.setdefault(c, [0.0, 0.0])
        t[0] += d
        t[1] += short[(r, c)]
    return fill, short, {c: 1.0 - s / d for c, (d, s) in by.items() if d > 0}


def _plans(a: str, b: str, da: dict[str, Any], db: dict[str, Any]) -> dict[str, Any]:
    ca, cb = da.get("costs") or {}, db.get("costs") or {}
    currency = _currency(a, b, ca.get("currency"), cb.get("currency"))

    def terms(c: dict[str, Any]) -> dict[str, float]:
        total, penalty = _num(c.get("total")), _num(c.get("shortage"))
        return {"fixed (warehouses)": _num(c.get("fixed")),
                "purchase (new stock)": _num(c.get("purchase")),
                "retainers (contracts)": _num(c.get("retainer")),
                "expected transport": _num(c.get("transport")),
                "expected contract unit prices": _num(c.get("unit_prices")),
                "expected holding": _num(c.get("holding")),
                "money spent": total - penalty,
                "expected shortage penalty": penalty,
                "(transfer) expected compensation": _num(c.get("expected_compensation"))}

    ta, tb = terms(ca), terms(cb)

    def stock(doc: dict[str, Any]) -> dict[tuple[str, str], float]:
        return {(str(s["facility"]), str(s["commodity"])): _num(s["total"])
                for s in doc.get("stock") or []}

    def opened(doc: dict[str, Any]) -> dict[str, str]:
        return {str(o["facility"]): str(o.get("size", "")) for o in doc.get("opened") or []}

    def signed(doc: dict[str, Any]) -> set[str]:
        return {str(c["contract"]) for c in doc.get("contracts") or [] if c.get("signed")}

    oa, ob = opened(da), opened(db)
    fa, sa, ka = _plan_fill(da)
    fb, sb, kb = _plan_fill(db)
    return {
        "kind": "plan", "a": a, "b": b, "currency": currency,
        "status": {"a": da.get("status"), "b": db.get("status")},
        "costs": _cost_rows([(t, ta[t], tb[t]) for t in ta]),
        "opened": {"only_a": sorted(set(oa) - set(ob)), "only_b": sorted(set(ob) - set(oa)),
                   "resized": sorted(f for f in set(oa) & set(ob) if oa[f] != ob[f])},
        "contracts": {"only_a": sorted(signed(da) - signed(db)),
                      "only_b": sorted(signed(db) - signed(da))},
        "stock": _pairs(stock(da), stock(db), ("facility", "commodity")),
        "fill_by_commodity": _commodity_rows(ka, kb),
        "fill": _pairs(fa, fb, ("region", "commodity")),
        "shortages": _shortage_moves(sa, sb),
    }


def _commodity_rows(a: dict[str, float], b: dict[str, float]) -> list[dict[str, Any]]:
    return [{"commodity": c, "a": a.get(c), "b": b.get(c),
             "change": None if c not in a or c not in b else b[c] - a[c]}
            for c in list(a) + [c for c in b if c not in a]]


def _final_fill(folder: Path, label: str) -> tuple[dict[tuple[str, str], float],
                                                   dict[tuple[str, str], float]]:
    """Fill rate and units never delivered per region and commodity, from ``fill.csv``."""
    import pandas as pd

    try:
        f = pd.read_csv(folder / "fill.csv", encoding="utf-8-sig",
                        dtype={"region": str, "commodity": str})
        last = f[f["period"] == f["period"].max()]
        fill = {(str(r.region), str(r.commodity)): float(r.fill_rate)
                for r in last.itertuples() if not math.isnan(float(r.fill_rate))}
        short = {(str(r.region), str(r.commodity)): float(r.shortage)
                 for r in last.itertuples()}
    except (OSError, ValueError, KeyError, AttributeError, pd.errors.ParserError) as err:
        raise InputError(f"{label}/fill.csv: cannot be read ({shown(err, 80)}); run "
                         f"reserve-opt allocate --out {label} again") from None
    return fill, short


def _allocations(a: str, b: str, pa: Path, pb: Path, da: dict[str, Any],
                 db: dict[str, Any]) -> dict[str, Any]:
    currency = _currency(a, b, da.get("currency"), db.get("currency"))

    def terms(doc: dict[str, Any]) -> dict[str, float]:
        c = doc.get("costs") or {}
        transport, prices = _num(c.get("transport")), _num(c.get("contract_prices"))
        return {"transport": transport, "contract prices": prices,
                "money spent": transport + prices,
                "(transfer) compensation": _num(c.get("compensation_transfer"))}

    def shipped(doc: dict[str, Any]) -> dict[tuple[str, str], float]:
        out: dict[tuple[str, str], float] = {}
        for f in doc.get("flows") or []:
            key = (str(f["source"]), str(f["commodity"]))
            out[key] = out.get(key, 0.0) + _num(f["quantity"])
        return out

    ta, tb = terms(da), terms(db)
    fa, sa = _final_fill(pa, a)
    fb, sb = _final_fill(pb, b)
    ka = {str(k): _num(v) for k, v in (da.get("fill_rate_by_commodity") or {}).items()}
    kb = {str(k): _num(v) for k, v in (db.get("fill_rate_by_commodity") or {}).items()}
    return {
        "kind": "allocation", "a": a, "b": b, "currency": currency, "event": da.get("event"),
        "status": {"a": da.get("status"), "b": db.get("status")},
        "costs": _cost_rows([(t, ta[t], tb[t]) for t in ta]),
        "stock": _pairs(shipped(da), shipped(db), ("facility", "commodity")),
        "fill_by_commodity": _commodity_rows(ka, kb),
        "fill": _pairs(fa, fb, ("region", "commodity")),
        "shortages": _shortage_moves(sa, sb),
    }
