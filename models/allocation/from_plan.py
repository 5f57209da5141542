"""Allocate against a placement plan: its stock where it put it, its contracts signed."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypeGuard

from reserve_opt.domain import FacilityKind, Instance
from reserve_opt.errors import InputError

if TYPE_CHECKING:
    from reserve_opt.models.placement import PlacementResult

__all__ = ["apply_plan", "plan_inputs", "read_plan", "stock_units"]

#: What ``solve_allocation(..., stock=...)`` takes: (facility, commodity) -> units, a
#: DataFrame with ``facility``, ``commodity`` and ``total`` columns (``plan.tables()["stock"]``),
#: or stock lines with those attributes (``plan.stock``).
#: (A DataFrame is an iterable too.)
StockInput: TypeAlias = Mapping[tuple[str, str], float] | Iterable[Any]


def stock_units(stock: StockInput) -> dict[tuple[str, str], float]:
    """Warehouse stock in any form a caller holds it, as (facility, commodity) -> units.

    Parameters
    ----------
    stock
        A mapping (facility id, commodity id) -> units; a DataFrame with columns
        ``facility``, ``commodity`` and ``total`` (units), as ``PlacementResult.tables()
        ["stock"]``; or lines with those attributes, as ``PlacementResult.stock``.

    Returns
    -------
    dict of (str, str) to float
        Units held, per warehouse and commodity.

    Raises
    ------
    InputError
        A table or line without facility, commodity and total, or a (facility,
        commodity) given twice.
    """
    if isinstance(stock, Mapping):
        return {(str(f), str(c)): float(q) for (f, c), q in stock.items()}
    import pandas as pd

    if isinstance(stock, pd.DataFrame):
        missing = [c for c in ("facility", "commodity", "total") if c not in stock.columns]
        if missing:
            raise InputError(f"stock table: has no {', '.join(missing)} column; give "
                             "facility, commodity and total (units), as plan.tables()"
                             "['stock'] has them")
        lines: Iterable[Any] = stock.itertuples(index=False)
    else:
        lines = stock
    out: dict[tuple[str, str], float] = {}
    for i, line in enumerate(lines, start=1):
        try:
            key, total = (str(line.facility), str(line.commodity)), float(line.total)
        except AttributeError:
            raise InputError(f"stock line {i}: {_shown(line)} has no facility, commodity and "
                             "total; pass plan.stock, plan.tables()['stock'] or a mapping "
                             "(facility, commodity) -> units") from None
        if key in out:
            raise InputError(f"stock line {i}: {key[0]}, {key[1]} is given a second time; "
                             "keep one line per warehouse and commodity")
        out[key] = total
    return out


def plan_inputs(plan: PlacementResult, instance: Instance,
                ) -> tuple[Instance, dict[tuple[str, str], float]]:
    """What an allocation takes from a plan in memory, as :func:`read_plan` from its file.

    Parameters
    ----------
    plan
        A placement result with a plan (``plan.has_plan``).
    instance
        The instance the plan was made for.

    Returns
    -------
    tuple of Instance and dict
        The instance with the contracts the plan signs marked signed (and the others
        not), and the plan's warehouse stock, (facility id, commodity id) -> units.

    Raises
    ------
    InputError
        The result holds no plan, or names a warehouse, commodity or contract the
        instance does not have.
    """
    if not plan.has_plan:
        raise InputError(f"the plan is {plan.status.value} and holds no stock; solve it to "
                         "a plan first (status optimal or feasible)")
    # the plan's own JSON, checked by the rule that reads it from a file
    return apply_plan(plan.to_dict(), instance, "the plan")


def read_plan(path: str | Path, instance: Instance,
              ) -> tuple[Instance, dict[tuple[str, str], float]]:
    """Read a plan's ``solution.json`` (from ``reserve-opt plan --out``).

    Parameters
    ----------
    path
        The plan's ``solution.json``, or the folder that holds it.
    instance
        The instance the plan was made for.

    Returns
    -------
    tuple of Instance and dict
        The instance with the contracts the plan signs marked signed (and the others
        not), and the plan's warehouse stock, (facility id, commodity id) -> units, to pass
        as ``solve_allocation(..., stock=...)``.

    Raises
    ------
    InputError
        If the file is missing or unreadable, names a facility, commodity or contract
        the instance does not have, gives a stock total that is not a finite number >= 0
        or a ``signed`` that is not true or false, or lists a line twice.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "solution.json"
    if not p.is_file():
        raise InputError(f"Plan file {p} does not exist; give the solution.json that "
                         "'reserve-opt plan --out DIR' wrote.")
    try:
        doc: Any = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{p}: not a JSON plan ({err}); give the solution.json that "
                         "'reserve-opt plan --out DIR' wrote.") from None
    return apply_plan(doc, instance, str(p))


def apply_plan(doc: Any, instance: Instance, p: str,
               ) -> tuple[Instance, dict[tuple[str, str], float]]:
    """A plan's stock and contracts from its JSON, as :func:`read_plan` reads the file.

    Parameters
    ----------
    doc
        The plan's JSON document (``PlacementResult.to_dict()`` of a plan solved in code
        gives the same).
    instance
        The instance the plan was made for.
    p
        How messages name the plan (its file).

    Returns
    -------
    tuple of Instance and dict
        As :func:`read_plan`.

    Raises
    ------
    InputError
        As :func:`read_plan`.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("stock"), list):
        raise InputError(f"{p}: has no 'stock' list; give the solution.json that "
                         "'reserve-opt plan --out DIR' wrote.")
    problems: list[str] = []
    warehouses = {f.id for f in instance.facilities
                  if f.kind is FacilityKind.GOVERNMENT_WAREHOUSE}
    stock: dict[tuple[str, str], float] = {}
    for i, line in enumerate(doc["stock"], start=1):
        if not isinstance(line, dict):
            problems.append(f"{p}: stock line {i} is not an object with facility, commodity "
                            "and total; give the solution.json that 'reserve-opt plan --out "
                            "DIR' wrote.")
            continue
        fid, cid, total = line.get("facility"), line.get("commodity"), line.get("total")
        if fid not in warehouses:
            problems.append(f"{p}: stock line {i} names facility {_shown(fid)}, which is not a "
                            f"government warehouse of instance {instance.name!r}; was the "
                            "plan made for another instance?")
        elif cid not in instance.commodity_index:
            problems.append(f"{p}: stock line {i} names commodity {_shown(cid)}, which "
                            f"instance {instance.name!r} does not have.")
        elif not _units(total):
            problems.append(f"{p}: stock line {i} ({fid}, {cid}) has total {_shown(total)}; "
                            "give the units held as a finite number >= 0.")
        elif (fid, cid) in stock:
            problems.append(f"{p}: stock line {i} gives {fid}, {cid} a second time; keep one "
                            "line per warehouse and commodity.")
        else:
            stock[(str(fid), str(cid))] = float(total)
    signed = _signed(p, doc.get("contracts", []), "contract", "contract", "contract",
                     {c.id for c in instance.contracts}, instance.name, problems)
    hired = _signed(p, doc.get("vehicles", []), "vehicles", "vehicle", "vehicle type",
                    {v.id for v in instance.fleet}, instance.name, problems)
    if not problems:
        problems = (_checked(p, doc, instance) if "status" in doc
                    else _space(p, doc, instance, stock))
    if problems:
        raise InputError(problems)
    contracts = tuple(dataclasses.replace(c, signed=signed.get(c.id, c.signed))
                      for c in instance.contracts)
    fleet = tuple(dataclasses.replace(v, signed=hired.get(v.id, v.signed))
                  for v in instance.fleet)
    return dataclasses.replace(instance, contracts=contracts, fleet=fleet), stock


def _signed(p: str, lines: Any, label: str, key: str, noun: str, known: set[str],
            name: str, problems: list[str]) -> dict[str, bool]:
    """The plan's ``signed`` flag by id, from its contract or vehicle lines.

    Each line is ``{key: id, "signed": bool}``; an unknown id, a flag that is not a bool or
    an id given twice adds one sentence to ``problems`` (``label line i``, the ``noun``).
    """
    if not isinstance(lines, list):
        lines = [lines]
    out: dict[str, bool] = {}
    for i, line in enumerate(lines, start=1):
        rid = line.get(key) if isinstance(line, dict) else None
        flag = line.get("signed") if isinstance(line, dict) else None
        if rid not in known:
            problems.append(f"{p}: {label} line {i} names {noun} {_shown(rid)}, which "
                            f"instance {name!r} does not have.")
        elif not isinstance(flag, bool):
            problems.append(f"{p}: {label} line {i} ({rid}) has signed {_shown(flag)}; give "
                            "true or false.")
        elif rid in out:
            problems.append(f"{p}: {label} line {i} gives {rid} a second time; keep one line "
                            f"per {noun}.")
        else:
            out[str(rid)] = flag
    return out


def _checked(p: str, doc: dict[str, Any], instance: Instance) -> list[str]:
    """A whole plan, as ``plan --out`` writes it, must pass the independent plan checker."""
    from reserve_opt.models.placement.check import check_placement
    from reserve_opt.models.placement.result import PlacementResult

    report = check_placement(instance, PlacementResult.from_dict(doc, str(p)))
    if report.ok:
        return []
    first = report.violations[0]
    if first.startswith("The plan names "):  # ids of another instance: nothing else checked
        return [f"{p}: {first[0].lower()}{first[1:]}"]
    more = len(report.violations) - 1
    return [f"{p}: fails the independent plan checker: {report.violations[0].rstrip('.')}"
            + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
            + "; was it edited, or made for another instance? 'reserve-opt check INSTANCE "
            "PLAN' lists every problem."]


def _space(p: str, doc: dict[str, Any], instance: Instance,
           stock: dict[tuple[str, str], float]) -> list[str]:
    """A plan of stock lines alone: stock only where a warehouse stands, within its space.

    A candidate warehouse holds stock only when the document's ``opened`` list opens it
    at one of its sizes; its space is that size's, an existing warehouse's its own.
    """
    opened: dict[str, float] = {}
    for i, line in enumerate(doc.get("opened") or [], start=1):
        fid = line.get("facility") if isinstance(line, dict) else None
        size = line.get("size") if isinstance(line, dict) else None
        idx = instance.facility_index.get(fid) if isinstance(fid, str) else None
        fac = instance.facilities[idx] if idx is not None else None
        sizes = {z.size: z.capacity_m3 for z in fac.sizes} if fac is not None else {}
        if fac is None or not fac.is_candidate or size not in sizes:
            return [f"{p}: opened line {i} ({_shown(fid)}, size {_shown(size)}) is not a "
                    f"candidate warehouse and size of instance {instance.name!r}; give the "
                    "solution.json that 'reserve-opt plan --out DIR' wrote."]
        opened[str(fid)] = sizes[size]
    volume: dict[str, float] = {}
    for (fid, cid), q in stock.items():
        volume[fid] = volume.get(fid, 0.0) + q * instance.commodity(cid).volume_m3
    out: list[str] = []
    for fid, m3 in sorted(volume.items()):
        fac = instance.facility(fid)
        room = opened.get(fid) if fac.is_candidate else fac.capacity_m3
        if fac.is_candidate and room is None and m3 > 0:
            out.append(f"{p}: stocks candidate warehouse {fid}, which the plan does not "
                       "open; list it under 'opened' with a size, or move its stock to an "
                       "open warehouse.")
        elif room is not None and m3 > room * (1 + 1e-9) + 1e-9:
            out.append(f"{p}: stocks {m3:,.1f} m3 at {fid}, which has room for "
                       f"{room:,.1f} m3; hold less there.")
    return out


def _units(value: Any) -> TypeGuard[float]:
    """Whether ``value`` is a JSON number of units: finite and >= 0 (a bool is not)."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)


def _shown(value: Any) -> str:
    """A JSON value for a message, cut short."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
