"""Allocate against a placement plan: its stock where it put it, its contracts signed."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from reserve_opt.domain import FacilityKind, Instance
from reserve_opt.errors import InputError

__all__ = ["read_plan"]


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
        If the file is missing or unreadable, or names a facility, commodity or contract
        the instance does not have.
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
    if not isinstance(doc, dict) or not isinstance(doc.get("stock"), list):
        raise InputError(f"{p}: has no 'stock' list; give the solution.json that "
                         "'reserve-opt plan --out DIR' wrote.")
    problems: list[str] = []
    warehouses = {f.id for f in instance.facilities
                  if f.kind is FacilityKind.GOVERNMENT_WAREHOUSE}
    stock: dict[tuple[str, str], float] = {}
    for i, line in enumerate(doc["stock"], start=1):
        fid, cid = line.get("facility"), line.get("commodity")
        if fid not in warehouses:
            problems.append(f"{p}: stock line {i} names facility {fid!r}, which is not a "
                            f"government warehouse of instance {instance.name!r}; was the "
                            "plan made for another instance?")
        elif cid not in instance.commodity_index:
            problems.append(f"{p}: stock line {i} names commodity {cid!r}, which instance "
                            f"{instance.name!r} does not have.")
        else:
            stock[(str(fid), str(cid))] = float(line.get("total", 0.0))
    signed = {str(c.get("contract")): bool(c.get("signed")) for c in doc.get("contracts", [])}
    unknown = sorted(set(signed) - {c.id for c in instance.contracts})
    if unknown:
        problems.append(f"{p}: names contract {unknown[0]!r}, which instance "
                        f"{instance.name!r} does not have.")
    if problems:
        raise InputError(problems)
    contracts = tuple(dataclasses.replace(c, signed=signed.get(c.id, c.signed))
                      for c in instance.contracts)
    return dataclasses.replace(instance, contracts=contracts), stock
