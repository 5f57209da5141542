"""Learning: recalibrate the instance from reviewed events, as a variant file.

The method (``models/review.md`` gives the derivation) is a conjugate Bayesian update with
the instance's own values as the prior and ``prior_weight`` W the number of events the
prior counts as:

- **demand per affected person**, per commodity: a Gamma-Poisson update of the factor θ on
  the instance's need. Event i exposes x_i = sum over its affected regions of persons x the
  instance's need per person over the event (units), and shows y_i units requested there.
  Prior Gamma(W x̄, W x̄) (mean 1, x̄ the mean exposure); posterior mean
  θ = (W x̄ + Σ y_i) / (W x̄ + Σ x_i). Written as ``scale_demand`` of that commodity, every
  scenario.
- **damage**, per facility and scenario: a Beta update of the surviving share. Prior mean
  the scenario's share f0 with W pseudo-events; each event observes its share f_i at each
  facility that held stock (mean over the commodities held of 1 - damaged / held; 1 for a
  facility the survey did not list); posterior mean (W f0 + Σ f_i) / (W + n). Written as
  ``set_damage``.
- **outages**, per link and scenario: the same Beta update of the share of speed left
  (the likelihood of a cut enters the instance as the expected speed factor): prior the
  scenario's speed factor (1 for no outage), each event observes the factor found (1 for a
  link its road survey does not list). Written as ``set_outage``.

Damage and outages are learned only for events that name their scenario and carry a survey;
demand only for events with ``affected.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import tomli_w

from reserve_opt.domain import Instance
from reserve_opt.errors import InputError

from .actuals import Actuals
from .compare import surviving_shares

__all__ = ["Learning", "check_prior_weight", "learn", "variant_text"]

ESTIMATE_COLUMNS = ["parameter", "scenario", "item", "prior", "observed_mean", "events",
                    "posterior", "unit", "change"]
#: A posterior this close to the prior changes nothing.
_TOL = 1e-9


@dataclass(frozen=True, eq=False)
class Learning:
    """What the reviewed events teach, and the variant that says it.

    Attributes
    ----------
    prior_weight
        W: how many events the instance's values count as.
    estimates
        One row per parameter learned (:data:`ESTIMATE_COLUMNS`).
    changes
        The variant's changes (``[[change]]`` tables), one per parameter that moved.
    notes
        What could not be learned, and why.
    """

    prior_weight: float
    estimates: pd.DataFrame = field(repr=False)
    changes: list[dict[str, Any]]
    notes: tuple[str, ...] = ()


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def check_prior_weight(prior_weight: float) -> float:
    """The prior weight, refused unless a finite number of events >= 0."""
    if not 0 <= prior_weight < float("inf"):
        raise InputError(f"--prior-weight {prior_weight:g}: give a number of events, 0 or "
                         "more (1: the instance counts as much as one event)")
    return float(prior_weight)


def learn(instance: Instance, events: Sequence[Actuals],
          stock: Mapping[tuple[str, str], float], prior_weight: float = 1.0) -> Learning:
    """Recalibrate demand per person, damage and outages from reviewed events.

    Parameters
    ----------
    instance
        The instance (its values are the prior).
    events
        Reviewed events (actuals).
    stock
        Government stock held when the events struck, (facility, commodity) -> units.
    prior_weight
        W >= 0: the prior counts as W events (0: the events alone).

    Returns
    -------
    Learning
    """
    w = check_prior_weight(prior_weight)
    rows: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    notes: list[str] = []

    # demand per affected person: Gamma-Poisson on the factor over the instance's need
    with_persons = [a for a in events if "affected" in a.present]
    if not with_persons:
        notes.append("demand per affected person: no event has affected.csv")
    for c in instance.commodities:
        xs, ys = [], []
        for a in with_persons:
            persons = {r["region"]: float(r["persons"]) for r in a.affected}
            xs.append(sum(c.units_needed(p, a.days) for p in persons.values()))
            ys.append(sum(float(r["quantity"]) for r in a.requests
                          if r["commodity"] == c.id and r["region"] in persons))
        if not xs:
            continue
        if sum(xs) <= 0:
            if any(ys):
                notes.append(f"demand per affected person of {c.id}: the instance gives no "
                             "need per person, so there is nothing to rescale")
            continue
        xbar = sum(xs) / len(xs)
        theta = (w * xbar + sum(ys)) / (w * xbar + sum(xs))
        ch: dict[str, Any] = {}
        if abs(theta - 1.0) > _TOL:
            ch = {"op": "scale_demand", "factor": theta, "commodities": [c.id]}
            changes.append(ch)
        rows.append({"parameter": "demand factor on need per affected person",
                     "scenario": "(every)", "item": c.id, "prior": 1.0,
                     "observed_mean": sum(ys) / sum(xs), "events": len(xs),
                     "posterior": theta, "unit": "ratio to the instance's need",
                     "change": ch.get("op", "")})

    # damage and outages: Beta means per scenario, with the scenario's values as prior
    by_scenario: dict[str, list[Actuals]] = {}
    for a in events:
        if a.scenario is None:
            notes.append(f"damage and outages: event {a.event} names no scenario of the "
                         "instance, so it teaches neither")
        else:
            by_scenario.setdefault(a.scenario, []).append(a)
    for sid, evs in by_scenario.items():
        sc = instance.scenario(sid)
        surveyed = [a for a in evs if "damaged" in a.present]
        # only what held stock could be seen damaged or intact
        seen = [surviving_shares(instance, stock, a) for a in surveyed]
        for fid in sorted(seen[0]) if seen else []:
            f0 = sc.surviving(fid)
            obs = [s[fid] for s in seen]
            post = (w * f0 + sum(obs)) / (w + len(obs))
            ch = {}
            if abs(post - f0) > _TOL:
                ch = {"op": "set_damage", "facility": fid, "surviving_fraction": post,
                      "scenarios": [sid]}
                changes.append(ch)
            rows.append({"parameter": "surviving share of stock", "scenario": sid,
                         "item": fid, "prior": f0, "observed_mean": sum(obs) / len(obs),
                         "events": len(obs), "posterior": post, "unit": "fraction",
                         "change": ch.get("op", "")})
        roads = [a for a in evs if "cuts" in a.present]
        prior_links = {_pair(o.origin, o.destination): o.speed_factor for o in sc.outages}
        found = [{_pair(c["from"], c["to"]): float(c["speed_factor"]) for c in a.cuts}
                 for a in roads]
        links = sorted(set(prior_links) | {k for f in found for k in f}) if roads else []
        for link in links:
            s0 = prior_links.get(link, 1.0)
            obs = [f.get(link, 1.0) for f in found]
            post = (w * s0 + sum(obs)) / (w + len(obs))
            ch = {}
            if abs(post - s0) > _TOL:
                ch = {"op": "set_outage", "from": link[0], "to": link[1],
                      "speed_factor": post, "scenarios": [sid]}
                changes.append(ch)
            rows.append({"parameter": "speed factor of link", "scenario": sid,
                         "item": f"{link[0]} - {link[1]}", "prior": s0,
                         "observed_mean": sum(obs) / len(obs), "events": len(obs),
                         "posterior": post, "unit": "fraction of normal speed",
                         "change": ch.get("op", "")})
        if not surveyed:
            notes.append(f"damage in {sid}: no reviewed event carries damaged.csv")
        if not roads:
            notes.append(f"outages in {sid}: no reviewed event carries cuts.csv")
    return Learning(prior_weight=w, estimates=pd.DataFrame(rows, columns=ESTIMATE_COLUMNS),
                    changes=changes, notes=tuple(notes))


def variant_text(learning: Learning, events: Sequence[Actuals]) -> str:
    """The variant file (TOML) that applies what was learned; see ``models/variants.md``."""
    names = ", ".join(a.event for a in events)
    doc: dict[str, Any] = {
        "description": (f"Recalibrated from reviewed events {names} (reserve-opt review, "
                        f"conjugate update, prior weight {learning.prior_weight:g} events; "
                        "see models/review.md)"),
        "change": learning.changes,
    }
    return tomli_w.dumps(doc)
