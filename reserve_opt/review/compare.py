"""Plan against actual: fill, response, stock, contracts, agreements, settlement.

Fill per day, response times, use of stock, contracts and agreements, and the settlement
due under the terms next to what was paid.

Every figure is computed by one rule used for what happened and for the hindsight
allocation alike (:func:`fill_table`, :func:`by_commodity`, :func:`response_table`), so the
two can be subtracted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from reserve_opt.domain import PARENT_AGREEMENT, ContractKind, FacilityKind, Instance, Tier
from reserve_opt.models.allocation import settlement_ledger

from .actuals import PLANNED_CHANNELS, Actuals

__all__ = [
    "PERIOD_H",
    "agreement_use",
    "arrivals",
    "by_commodity",
    "contract_use",
    "day_of",
    "delivery_flows",
    "fill_table",
    "horizon_days",
    "request_table",
    "response_table",
    "settlement_table",
    "stock_use",
    "usable_stock",
]

#: A review counts days of 24 h from the event's start, as allocation's periods.
PERIOD_H = 24.0

FILL_COLUMNS = ["day", "region", "commodity", "requested", "delivered", "cum_requested",
                "cum_delivered", "shortage", "fill_rate"]
COMMODITY_COLUMNS = ["commodity", "unit", "requested", "delivered", "never_delivered",
                     "late_unit_days", "fill_rate"]
RESPONSE_COLUMNS = ["region", "level", "standard_h", "first_arrival_h", "met", "late_h"]


def day_of(hours: float) -> int:
    """The (1-based) day an arrival at ``hours`` after the event's start counts in.

    Day 1 is (0, 24] h (an arrival at 0 h too), as allocation's arrival periods.
    """
    return max(math.ceil(hours / PERIOD_H - 1e-9), 1)


def request_table(actuals: Actuals) -> pd.DataFrame:
    """Requests as a table: ``region, commodity, day, quantity`` (units)."""
    return pd.DataFrame(actuals.requests, columns=["region", "commodity", "day", "quantity"])


def arrivals(actuals: Actuals, channels: Iterable[str] | None = None) -> pd.DataFrame:
    """Deliveries as ``region, commodity, quantity, arrive_h`` (of ``channels``, default all)."""
    keep = None if channels is None else set(channels)
    rows = [d for d in actuals.deliveries if keep is None or d["channel"] in keep]
    return pd.DataFrame(rows, columns=["region", "commodity", "quantity", "arrive_h",
                                       "channel", "source", "reference", "depart_h"])


def horizon_days(actuals: Actuals) -> int:
    """Days the review covers: the event's days, the last request and the last arrival."""
    last = max((int(r["day"]) for r in actuals.requests), default=1)
    arr = max((day_of(float(d["arrive_h"])) for d in actuals.deliveries), default=1)
    return max(last, arr, math.ceil(actuals.days - 1e-9), 1)


def fill_table(requests: pd.DataFrame, arrived: pd.DataFrame, days: int) -> pd.DataFrame:
    """Requested, delivered, backlog and cumulative fill rate per day, region, commodity.

    Parameters
    ----------
    requests
        ``region, commodity, day, quantity``.
    arrived
        ``region, commodity, quantity, arrive_h``.
    days
        Days covered; pairs without any request are left out (as allocation does).

    Returns
    -------
    pandas.DataFrame
        :data:`FILL_COLUMNS`: ``shortage`` is what is still owed at the end of the day
        (units), ``fill_rate`` = 1 - shortage / cum_requested.
    """
    req = requests[requests["quantity"] > 0]
    pairs = list(dict.fromkeys(zip(req["region"], req["commodity"], strict=True)))
    if not pairs:
        return pd.DataFrame(columns=FILL_COLUMNS)
    pos = {p: i for i, p in enumerate(pairs)}
    r_arr = np.zeros((len(pairs), days))
    d_arr = np.zeros((len(pairs), days))
    for reg, com, day, q in req[["region", "commodity", "day", "quantity"]].itertuples(
            index=False):
        r_arr[pos[(reg, com)], int(day) - 1] += float(q)
    for reg, com, q, h in arrived[["region", "commodity", "quantity", "arrive_h"]].itertuples(
            index=False):
        i = pos.get((reg, com))
        if i is not None:
            d_arr[i, min(day_of(float(h)), days) - 1] += float(q)
    cum_r, cum_d = np.cumsum(r_arr, axis=1), np.cumsum(d_arr, axis=1)
    short = np.maximum(cum_r - cum_d, 0.0)
    short[short <= 1e-9 * cum_r + 1e-6] = 0.0
    rows = []
    for t in range(days):
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(cum_r[:, t] > 0, 1.0 - short[:, t] / cum_r[:, t], 1.0)
        rows.append(pd.DataFrame({
            "day": t + 1, "region": [p[0] for p in pairs], "commodity": [p[1] for p in pairs],
            "requested": r_arr[:, t], "delivered": d_arr[:, t], "cum_requested": cum_r[:, t],
            "cum_delivered": cum_d[:, t], "shortage": short[:, t], "fill_rate": rate}))
    return pd.concat(rows, ignore_index=True)[FILL_COLUMNS]


def by_commodity(instance: Instance, fill: pd.DataFrame) -> pd.DataFrame:
    """Totals per commodity over the review.

    Units requested, delivered (up to the request), never delivered, late (units x days
    still owed, summed over the days) and the fill rate.
    """
    rows = []
    if fill.empty:
        return pd.DataFrame(columns=COMMODITY_COLUMNS)
    last = fill[fill["day"] == fill["day"].max()]
    for k, g in last.groupby("commodity", sort=False):
        req = float(g["cum_requested"].sum())
        never = float(g["shortage"].sum())
        late = float(fill.loc[fill["commodity"] == k, "shortage"].sum())
        rows.append({"commodity": k, "unit": instance.commodity(str(k)).unit,
                     "requested": req, "delivered": req - never, "never_delivered": never,
                     "late_unit_days": late,
                     "fill_rate": 1.0 if req <= 0 else 1.0 - never / req})
    return pd.DataFrame(rows, columns=COMMODITY_COLUMNS)


def response_table(instance: Instance, requests: pd.DataFrame,
                   arrived: pd.DataFrame) -> pd.DataFrame:
    """Per region with requests: its 6/8/10 h standard, the first arrival and how late."""
    need = requests.loc[requests["quantity"] > 0, "region"]
    got = arrived[arrived["quantity"] > 0].groupby("region")["arrive_h"].min()
    rows = []
    for rid in dict.fromkeys(need):
        level = instance.regions[instance.region_index[rid]].level
        std = instance.settings.response_h(level)
        first = float(got.get(rid, math.inf))
        rows.append({"region": rid, "level": level, "standard_h": std,
                     "first_arrival_h": first, "met": first <= std + 1e-9,
                     "late_h": max(first - std, 0.0)})
    return pd.DataFrame(rows, columns=RESPONSE_COLUMNS)


def usable_stock(instance: Instance, stock: Mapping[tuple[str, str], float],
                 actuals: Actuals) -> dict[tuple[str, str], float]:
    """Government stock left after the damage found, (facility, commodity) -> units."""
    dam = {(r["facility"], r["commodity"]): float(r["quantity"]) for r in actuals.damaged}
    return {key: max(q - dam.get(key, 0.0), 0.0) for key, q in stock.items()}


def held_units(instance: Instance, stock: Mapping[tuple[str, str], float],
               ) -> dict[str, dict[str, float]]:
    """Facility -> commodity -> units held: government stock and firms' stock contracts."""
    out: dict[str, dict[str, float]] = {}
    for (f, k), q in stock.items():
        if q > 0:
            out.setdefault(f, {})[k] = out.get(f, {}).get(k, 0.0) + q
    for c in instance.contracts:
        if c.signed and c.kind is ContractKind.STOCK and c.quantity > 0:
            out.setdefault(c.facility, {})[c.commodity] = (
                out.get(c.facility, {}).get(c.commodity, 0.0) + c.quantity)
    return out


def surviving_shares(instance: Instance, stock: Mapping[tuple[str, str], float],
                     actuals: Actuals) -> dict[str, float]:
    """Share of its stock each facility that held some kept, from the damage found.

    The mean over the commodities it held of 1 - damaged / held (the instance's damage is
    one share per facility); 1 for a facility the survey does not list.
    """
    dam = {(r["facility"], r["commodity"]): float(r["quantity"]) for r in actuals.damaged}
    out = {}
    for fid, held in held_units(instance, stock).items():
        shares = [1.0 - min(dam.get((fid, k), 0.0), q) / q for k, q in held.items()]
        out[fid] = sum(shares) / len(shares)
    return out


def _shipped(actuals: Actuals) -> pd.DataFrame:
    d = arrivals(actuals, PLANNED_CHANNELS)
    return d[d["channel"] != "contract"]


def stock_use(instance: Instance, stock: Mapping[tuple[str, str], float],
              actuals: Actuals) -> pd.DataFrame:
    """Which pre-positioned government stock was used: held, found damaged, shipped, left."""
    dam = {(r["facility"], r["commodity"]): float(r["quantity"]) for r in actuals.damaged}
    sent = _shipped(actuals).groupby(["source", "commodity"])["quantity"].sum()
    keys = dict.fromkeys([*sorted(stock), *((str(f), str(k)) for f, k in sent.index)])
    rows = []
    for fid, cid in keys:
        if instance.facility(fid).kind is not FacilityKind.GOVERNMENT_WAREHOUSE:
            continue
        held = float(stock.get((fid, cid), 0.0))
        bad = dam.get((fid, cid), 0.0)
        usable = max(held - bad, 0.0)
        out = float(sent.get((fid, cid), 0.0))
        rows.append({"facility": fid, "commodity": cid, "held": held, "found_damaged": bad,
                     "usable": usable, "shipped": out, "left": usable - out,
                     "used_share": (out / usable) if usable > 0 else math.nan,
                     "shipped_more_than_usable": out > usable + 1e-6})
    return pd.DataFrame(rows, columns=["facility", "commodity", "held", "found_damaged",
                                       "usable", "shipped", "left", "used_share",
                                       "shipped_more_than_usable"])


def contract_use(instance: Instance, actuals: Actuals) -> pd.DataFrame:
    """Each contract: signed or not, its quantity, what was drawn, within it, price due."""
    d = arrivals(actuals, ["contract"])
    drawn = d.groupby("reference")["quantity"].sum()
    rows = []
    for con in instance.contracts:
        q = float(drawn.get(con.id, 0.0))
        if not con.signed and q <= 0:
            continue
        rows.append({"contract": con.id, "facility": con.facility, "commodity": con.commodity,
                     "kind": con.kind.value, "signed": con.signed, "quantity": con.quantity,
                     "drawn": q, "within_quantity": q <= con.quantity + 1e-6,
                     "unit_price": con.unit_price, "due": q * con.unit_price})
    return pd.DataFrame(rows, columns=["contract", "facility", "commodity", "kind", "signed",
                                       "quantity", "drawn", "within_quantity", "unit_price",
                                       "due"])


def _lender_supply(instance: Instance, usable: Mapping[tuple[str, str], float],
                   region: str, commodity: str) -> float:
    held = sum(q for (f, k), q in usable.items()
               if k == commodity and instance.facility(f).region == region)
    held += sum(c.quantity for c in instance.contracts
                if c.signed and c.kind is ContractKind.STOCK and c.commodity == commodity
                and instance.facility(c.facility).region == region)
    return held


def agreement_use(instance: Instance, usable: Mapping[tuple[str, str], float],
                  actuals: Actuals) -> pd.DataFrame:
    """Each agreement called: units lent per lender, borrower and commodity against its cap.

    ``cap_units`` is the per-borrower cap; ``lender_units`` what the lender gave of the
    commodity under the agreement to all its borrowers, against the lender total
    ``total_cap_units`` (``total_cap_quantity``, ``total_cap_share`` x its stock; inf
    when the agreement has none).
    """
    d = arrivals(actuals, ["agreement"])
    cols = ["agreement", "lender", "borrower", "commodity", "units", "cap_units",
            "within_cap", "lender_units", "total_cap_units", "within_total_cap",
            "compensation_per_unit", "due"]
    if d.empty:
        return pd.DataFrame(columns=cols)
    d = d.assign(lender=[instance.facility(s).region for s in d["source"]])
    g = d.groupby(["reference", "lender", "region", "commodity"], sort=True,
                  as_index=False)["quantity"].sum()
    in_all = g.groupby(["reference", "lender", "commodity"])["quantity"].sum()
    rows = []
    for ref, lender, borrower, com, q in g.itertuples(index=False):
        a = next(x for x in instance.agreements if x.id == ref)
        supply = _lender_supply(instance, usable, lender, com)
        cap, total = a.borrower_cap(supply), a.lender_cap(supply)
        given = float(in_all[(ref, lender, com)])
        rows.append({"agreement": ref, "lender": lender, "borrower": borrower,
                     "commodity": com, "units": float(q), "cap_units": cap,
                     "within_cap": float(q) <= cap + 1e-6, "lender_units": given,
                     "total_cap_units": total, "within_total_cap": given <= total + 1e-6,
                     "compensation_per_unit": a.compensation,
                     "due": float(q) * a.compensation})
    return pd.DataFrame(rows, columns=cols)


def delivery_flows(instance: Instance, actuals: Actuals) -> pd.DataFrame:
    """Planned-channel deliveries as allocation flows (the columns settlement reads)."""
    recs = []
    agreements = {a.id: a for a in instance.agreements}
    contracts = {c.id: c for c in instance.contracts}
    for d in actuals.deliveries:
        ch = d["channel"]
        if ch not in PLANNED_CHANNELS:
            continue
        q = float(d["quantity"])
        lender = instance.facility(d["source"]).region
        agr, tier, comp, con, price = "", 0, 0.0, "", 0.0
        if ch == "agreement":
            a = agreements[d["reference"]]
            agr, tier, comp = a.id, int(a.tier), q * a.compensation
        elif ch == "parent":
            agr, tier = PARENT_AGREEMENT, int(Tier.HIGHER_LEVEL)
        elif ch == "contract":
            con, price = d["reference"], q * contracts[d["reference"]].unit_price
        recs.append({"tier": tier, "agreement": agr, "region": d["region"], "lender": lender,
                     "commodity": d["commodity"], "quantity": q, "compensation": comp,
                     "contract": con, "source": d["source"], "contract_cost": price})
    return pd.DataFrame(recs, columns=["tier", "agreement", "region", "lender", "commodity",
                                       "quantity", "compensation", "contract", "source",
                                       "contract_cost"])


SETTLEMENT_COLUMNS = ["debtor", "creditor", "kind", "reference", "units", "due", "paid",
                      "difference"]


def settlement_table(instance: Instance, actuals: Actuals) -> pd.DataFrame:
    """The settlement due under the agreements' and contracts' terms next to what was paid.

    Due comes from allocation's own ledger rule
    (:func:`reserve_opt.models.allocation.settlement_ledger`) applied to the deliveries;
    paid from ``costs.csv`` rows of kind ``agreement`` or ``contract`` (``payer`` the
    debtor region, ``payee`` the lending region or the firm's facility id). ``difference``
    = paid - due (currency; > 0 overpaid); ``paid`` is NaN when costs.csv is absent.
    """
    flows = delivery_flows(instance, actuals)
    ledger = settlement_ledger(instance, flows) if len(flows) else pd.DataFrame(
        columns=["debtor", "creditor", "kind", "reference", "commodity", "units", "amount"])
    key = ["debtor", "creditor", "kind", "reference"]
    due = (ledger.groupby(key, as_index=False, sort=True)[["units", "amount"]].sum()
           .rename(columns={"amount": "due"}) if len(ledger)
           else pd.DataFrame(columns=[*key, "units", "due"]))
    pays = [c for c in actuals.costs if c["kind"] in ("agreement", "contract")]
    paid = pd.DataFrame([{"debtor": c["payer"], "creditor": c["payee"], "kind": c["kind"],
                          "reference": c["reference"] or "", "paid": float(c["amount"])}
                         for c in pays], columns=[*key, "paid"])
    paid_sum = paid.groupby(key, as_index=False, sort=True)["paid"].sum()
    out = due.merge(paid_sum, on=key, how="outer")
    out["units"] = out["units"].astype(float).fillna(0.0)
    out["due"] = out["due"].astype(float).fillna(0.0)
    out["paid"] = out["paid"].astype(float)
    if "costs" in actuals.present:
        out["paid"] = out["paid"].fillna(0.0)
    out["difference"] = out["paid"] - out["due"]
    return out.sort_values(key, kind="stable").reset_index(drop=True)[SETTLEMENT_COLUMNS]


def paid_by_kind(actuals: Actuals) -> dict[str, float]:
    """Money paid per kind (``costs.csv``), currency."""
    out: dict[str, float] = {}
    for c in actuals.costs:
        out[c["kind"]] = out.get(c["kind"], 0.0) + float(c["amount"])
    return out
