"""Demand that nothing can ever serve: a warning before any solve.

A region's demand for a commodity can be served by the region itself, by a region that
lends to it under an agreement covering the commodity (:meth:`Instance.lending_pairs`), or
by a parent region (:attr:`Instance.ancestors`; the models' default ``parent_serves``). Any
of them serves only if it can hold the commodity at all: stock of it at a government
warehouse, a government warehouse with room a plan may fill (existing, or a candidate with
a size option), or an enterprise contract for it, signed or not. Damage and outages are
left out: they differ by scenario, and the allocation report explains those.
"""

from __future__ import annotations

from collections import defaultdict

from reserve_opt.domain import FacilityKind, Instance


def _holders(instance: Instance) -> dict[str, set[str]]:
    """Region id -> commodities some facility of the region holds or could hold."""
    every = {c.id for c in instance.commodities}
    out: dict[str, set[str]] = defaultdict(set)
    for f in instance.facilities:
        if f.kind is not FacilityKind.GOVERNMENT_WAREHOUSE:
            continue
        out[f.region] |= {c for c, q in f.stock.items() if q > 0}
        room = (any(z.capacity_m3 > 0 for z in f.sizes) if f.is_candidate
                else f.capacity_m3 is None or f.capacity_m3 > 0)
        if room:
            out[f.region] |= every
    for con in instance.contracts:
        if con.quantity > 0:
            out[instance.facility(con.facility).region].add(con.commodity)
    return out


def unreachable_demand(instance: Instance) -> list[str]:
    """One warning per region and commodity whose demand no source can ever serve.

    Parameters
    ----------
    instance
        A validated instance.

    Returns
    -------
    list of str
        Sentences without a ``warning:`` prefix, regions and commodities in file order;
        empty when every demand has at least one possible source.
    """
    holders = _holders(instance)
    lenders: dict[tuple[str, str], set[str]] = defaultdict(set)  # (borrower, k) -> lenders
    for a in instance.agreements:
        for lender, borrower in instance.lending_pairs(a):
            for c in instance.commodities:
                if a.covers(c.id):
                    lenders[(borrower, c.id)].add(lender)
    needed: dict[tuple[str, str], list[str]] = defaultdict(list)
    for s in instance.scenarios:
        for key, q in instance.demand(s.id).items():
            if q > 0:
                needed[key].append(s.id)
    out: list[str] = []
    for r in instance.regions:
        for c in instance.commodities:
            scenarios = needed.get((r.id, c.id))
            if not scenarios:
                continue
            sources = {r.id, *instance.ancestors[r.id], *lenders[(r.id, c.id)]}
            if any(c.id in holders[o] for o in sources):
                continue
            shown = ", ".join(scenarios[:3]) + (
                f" and {len(scenarios) - 3} more" if len(scenarios) > 3 else "")
            out.append(
                f"{r.id} needs {c.id} in scenario{'s' if len(scenarios) > 1 else ''} {shown}, "
                f"but nothing can ever serve it: {r.id} has no government warehouse or "
                f"{c.id} contract, and no agreement or parent region lets a region that "
                f"could hold {c.id} lend to it; add a warehouse or contract in {r.id}, or an "
                f"agreement with a region that holds {c.id}")
    return out
