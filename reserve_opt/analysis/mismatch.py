"""Risk-reserve mismatch: regions whose reserve per person at risk is far from their peers'.

Definitions (see ``models/analysis.md``):

* **reserve** of a region: the stock held at facilities it owns, valued at purchase cost
  (currency = units x ``purchase_cost``) so commodities add up; or, with ``commodity``, the
  units of that one commodity. It counts government warehouse stock (the instance's existing
  stock, or a plan's stock) and the quantity of enterprise *stock* contracts in force (signed,
  or held by the plan). Production capacity contracts are not stock and are not counted.
* **persons at risk**: ``population x risk`` (persons; ``exposure="population_risk"``,
  default) or the expected affected persons over scenarios, ``sum_s P_s affected_s``
  (``exposure="expected_affected"``; needs the ``affected`` table).
* **ratio**: reserve / persons at risk (currency or units per person).
* **peer ratio**: the same ratio over the region's alliance (sum of reserves / sum of persons
  at risk of its members), or over the whole instance for a region in no alliance.
* **relative** = ratio / peer ratio.
* **flags**: ``high-risk under-stocked`` when risk is above the median risk of all regions
  and relative < ``under`` (default 0.5); ``low-risk over-stocked`` when risk is below the
  median and relative > ``over`` (default 2). Risk is the regions' ``risk`` index (0-1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from reserve_opt.analysis._records import records
from reserve_opt.domain import ContractKind, FacilityKind, Instance
from reserve_opt.errors import InputError
from reserve_opt.models.placement import PlacementResult

__all__ = ["HIGH_RISK_UNDER", "LOW_RISK_OVER", "MismatchResult", "risk_reserve_mismatch"]

HIGH_RISK_UNDER = "high-risk under-stocked"
LOW_RISK_OVER = "low-risk over-stocked"
WHOLE_INSTANCE = "(whole instance)"

Exposure = Literal["population_risk", "expected_affected"]


@dataclass(frozen=True, eq=False)
class MismatchResult:
    """The mismatch table and the definitions used.

    Attributes
    ----------
    table
        One row per region, in instance order. Columns: ``region``, ``name``, ``alliance``,
        ``peers``
        (alliance or ``(whole instance)``), ``population_persons``, ``risk``,
        ``persons_at_risk``, ``reserve_<unit>``, ``reserve_per_person_<unit>``,
        ``peer_reserve_per_person_<unit>``, ``relative`` (ratio / peer ratio), ``flag``
        (empty, ``high-risk under-stocked`` or ``low-risk over-stocked``), and one
        ``stock_<commodity>_units`` column per commodity.
    unit
        What reserves are counted in: the currency code (purchase value) or the commodity's
        unit.
    stock_source
        ``"existing"`` (the instance's stock and signed contracts) or ``"plan"``.
    exposure
        How persons at risk were counted.
    median_risk
        Median of the regions' risk index.
    under, over
        Thresholds on ``relative``.
    """

    table: pd.DataFrame
    unit: str
    stock_source: str
    exposure: str
    median_risk: float
    under: float
    over: float

    @property
    def flagged(self) -> pd.DataFrame:
        """Rows with a flag."""
        return self.table[self.table["flag"] != ""]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the definitions and one record per region."""
        return {
            "reserve_unit": self.unit,
            "stock_source": self.stock_source,
            "exposure": self.exposure,
            "median_risk": self.median_risk,
            "under": self.under,
            "over": self.over,
            "definition": ("ratio = reserve / persons at risk; relative = ratio / the "
                           "alliance's (or whole instance's) ratio; 'high-risk "
                           "under-stocked' if risk > median and relative < under, "
                           "'low-risk over-stocked' if risk < median and relative > over."),
            "regions": records(self.table),
        }


def _safe_div(a: float, b: float) -> float:
    if b > 0:
        return a / b
    return math.inf if a > 0 else math.nan


def risk_reserve_mismatch(
    instance: Instance,
    plan: PlacementResult | None = None,
    *,
    exposure: Exposure = "population_risk",
    commodity: str | None = None,
    under: float = 0.5,
    over: float = 2.0,
) -> MismatchResult:
    """Compare each region's reserve per person at risk with its alliance's.

    Parameters
    ----------
    instance
        The instance.
    plan
        Use this plan's stock and contracts instead of the instance's existing ones.
    exposure
        ``"population_risk"`` (population x risk) or ``"expected_affected"``.
    commodity
        Count units of this commodity only; default: purchase value of all commodities.
    under, over
        Flag thresholds on reserve ratio / peer ratio (``0 < under <= 1 <= over``).

    Returns
    -------
    MismatchResult

    Raises
    ------
    InputError
        On a bad threshold, exposure or commodity, or a plan without a solution.
    """
    problems: list[str] = []
    if not (0 < under <= 1):
        problems.append(f"under={under!r}: give a share between 0 and 1 (e.g. 0.5).")
    if not (over >= 1 and math.isfinite(over)):
        problems.append(f"over={over!r}: give a multiple of at least 1 (e.g. 2).")
    if exposure not in ("population_risk", "expected_affected"):
        problems.append(f"exposure={exposure!r}: choose 'population_risk' or "
                        "'expected_affected'.")
    if commodity is not None and commodity not in instance.commodity_index:
        problems.append(f"Unknown commodity {commodity!r}; choose one of "
                        f"{', '.join(c.id for c in instance.commodities)}.")
    if plan is not None and not plan.has_plan:
        problems.append(f"The plan has no solution (status {plan.status.value!r}); analyse "
                        "existing stock instead or fix the instance.")
    if problems:
        raise InputError(problems)

    kid = [c.id for c in instance.commodities]
    kpos = instance.commodity_index
    ridx = instance.region_index
    J = len(instance.regions)
    units = np.zeros((J, len(kid)))  # stock per region and commodity, units
    if plan is None:
        for f in instance.facilities:
            if f.kind is FacilityKind.GOVERNMENT_WAREHOUSE:
                for c, q in f.stock.items():
                    units[ridx[f.region], kpos[c]] += q
        held = {c.id for c in instance.contracts if c.signed}
    else:
        for s in plan.stock:
            units[ridx[instance.facility(s.facility).region], kpos[s.commodity]] += s.total
        held = {c.contract for c in plan.contracts if c.signed}
    for con in instance.contracts:
        if con.id in held and con.kind is ContractKind.STOCK:
            units[ridx[instance.facility(con.facility).region], kpos[con.commodity]] += (
                con.quantity)
    if commodity is None:
        reserve = units @ np.array([c.purchase_cost for c in instance.commodities])
        unit = instance.currency
    else:
        reserve = units[:, kpos[commodity]]
        unit = "units"

    if exposure == "population_risk":
        at_risk = np.array([r.population * r.risk for r in instance.regions])
    else:
        at_risk = np.zeros(J)
        for sc in instance.scenarios:
            for rid, persons in sc.affected.items():
                at_risk[ridx[rid]] += sc.probability * persons
        if not at_risk.any():
            raise InputError("exposure='expected_affected' needs affected persons, but the "
                             "affected table is empty; use exposure='population_risk'.")

    peers = [r.alliance or WHOLE_INSTANCE for r in instance.regions]
    total_ratio = _safe_div(float(reserve.sum()), float(at_risk.sum()))
    group_ratio: dict[str, float] = {WHOLE_INSTANCE: total_ratio}
    for name in sorted({p for p in peers if p != WHOLE_INSTANCE}):
        m = np.array([p == name for p in peers])
        group_ratio[name] = _safe_div(float(reserve[m].sum()), float(at_risk[m].sum()))
    risk = np.array([r.risk for r in instance.regions])
    median = float(np.median(risk)) if J else math.nan

    rows = []
    suffix = unit if commodity is None else f"{commodity}_units"
    for j, r in enumerate(instance.regions):
        ratio = _safe_div(float(reserve[j]), float(at_risk[j]))
        peer = group_ratio[peers[j]]
        if math.isnan(ratio) or math.isnan(peer) or peer == 0 or math.isinf(peer):
            rel = math.nan
        else:
            rel = ratio / peer
        flag = ""
        if r.risk > median and not math.isnan(rel) and rel < under:
            flag = HIGH_RISK_UNDER
        elif r.risk < median and not math.isnan(rel) and rel > over:
            flag = LOW_RISK_OVER
        row: dict[str, Any] = {
            "region": r.id,
            "name": r.name,
            "alliance": r.alliance or "",
            "peers": peers[j],
            "population_persons": r.population,
            "risk": r.risk,
            "persons_at_risk": float(at_risk[j]),
            f"reserve_{suffix}": float(reserve[j]),
            f"reserve_per_person_{suffix}": ratio,
            f"peer_reserve_per_person_{suffix}": peer,
            "relative": rel,
            "flag": flag,
        }
        for k, c in enumerate(kid):
            row[f"stock_{c}_units"] = float(units[j, k])
        rows.append(row)
    return MismatchResult(pd.DataFrame(rows), unit if commodity is None else
                          instance.commodity(commodity).unit,
                          "existing" if plan is None else "plan", exposure, median, under, over)
