"""The ``review`` command: after an event, what happened against the plan, and learning."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reserve_opt.cli.errors import reported_errors
from reserve_opt.cli.options import (
    ForceOption,
    FormatOption,
    InstancePath,
    SeedOption,
    TopOption,
    out_option,
    output_file,
    output_folder,
    progress,
    show,
    solver_option,
    time_limit_option,
    write_json,
    write_tables,
)
from reserve_opt.cli.render import (
    COMPENSATION_NOTE,
    DEFAULT_TOP,
    OutputFormat,
    pct,
    print_table,
    say,
)

if TYPE_CHECKING:
    from reserve_opt.domain import Instance
    from reserve_opt.review import Learning, Review

DEFAULT_TIME_LIMIT_S = 60.0


def review(
    path: InstancePath,
    actuals: Annotated[Path, typer.Argument(
        help="Actuals folder of one event (actuals.toml, requests.csv and what else is "
        "known: deliveries, damaged, cuts, costs, affected).")],
    plan: Annotated[Path | None, typer.Option(
        "--plan", help="A plan's solution.json (reserve-opt plan --out): review its stock "
        "and the contracts it signs instead of today's.")] = None,
    learn_out: Annotated[Path | None, typer.Option(
        "--learn-out", help="Write the recalibration as a variant file (.toml) for "
        "reserve-opt whatif.")] = None,
    prior_weight: Annotated[float, typer.Option(
        "--prior-weight", help="How many events the instance's own values count as in the "
        "recalibration (0: the reviewed events alone).")] = 1.0,
    learn_from: Annotated[list[Path] | None, typer.Option(
        "--learn-from", help="More reviewed events' actuals folders to learn from "
        "(repeatable).")] = None,
    hindsight: Annotated[bool, typer.Option(
        "--hindsight/--no-hindsight", help="Solve the allocation the engine would have made "
        "with what is known now.")] = True,
    solver: Annotated[str, solver_option("LP solver for the hindsight: highs, pulp-cbc or "
                                         "scip.")] = "highs",
    time_limit: Annotated[float, time_limit_option(
        "Seconds for the hindsight allocation.")] = DEFAULT_TIME_LIMIT_S,
    seed: SeedOption = 0,
    out: Annotated[Path | None, out_option(
        "Folder for every review table (CSV) and review.json.")] = None,
    force: ForceOption = False,
    fmt: FormatOption = OutputFormat.TABLE,
    top: TopOption = DEFAULT_TOP,
) -> None:
    """Review one event against the plan, in hindsight, and learn from it."""
    from reserve_opt.io import load_instance
    from reserve_opt.models.allocation import read_plan
    from reserve_opt.review import held_stock, learn, read_actuals, variant_text
    from reserve_opt.review import review as run_review
    from reserve_opt.review.learn import check_prior_weight
    from reserve_opt.solvers import SolverOptions

    with reported_errors():
        inputs = [path, actuals, plan, *(learn_from or [])]
        dest = output_folder(out, "review", inputs, force)
        learned_file = output_file(learn_out, "--learn-out", inputs)
        if learn_out is not None and learn_out.suffix.lower() != ".toml":
            from reserve_opt.errors import InputError

            raise InputError(f"--learn-out {learn_out}: give a .toml file name (a variant "
                             "file for reserve-opt whatif)")
        check_prior_weight(prior_weight)
        inst = load_instance(path)
        stock = None
        if plan is not None:
            inst, stock = read_plan(plan, inst)
        act = read_actuals(actuals, inst)
        more = [read_actuals(p, inst) for p in (learn_from or [])]
        with progress(f"reviewing {act.event}"):
            result = run_review(inst, act, stock, with_hindsight=hindsight, solver=solver,
                                solver_options=SolverOptions(time_limit_s=time_limit,
                                                             seed=seed))
        events = [act, *more]
        learning = learn(inst, events, held_stock(inst) if stock is None else stock,
                         prior_weight)
        if dest is not None:
            with dest.write() as folder:
                write_tables(folder, {**result.tables(), "learned": learning.estimates})
                write_json(folder / "review.json", _as_json(result, learning))
        if learned_file is not None and learning.changes:
            with learned_file.write() as tmp:
                tmp.write_text(variant_text(learning, events), encoding="utf-8")
    show(fmt, lambda: _as_json(result, learning),
         lambda: print_review(inst, result, learning, top, instance_path=path,
                              wrote_variant=learn_out if learning.changes else None,
                              asked_variant=learn_out is not None), wrote=out)


def _as_json(result: Review, learning: Learning) -> dict[str, object]:
    doc = result.to_dict()
    doc["learning"] = {"prior_weight": learning.prior_weight,
                       "estimates": learning.estimates.to_dict(orient="records"),
                       "changes": learning.changes, "notes": list(learning.notes)}
    return doc


def _h(v: float) -> str:
    return "never" if not math.isfinite(v) else f"{v:.1f}"


def print_review(inst: Instance, r: Review, learning: Learning, top: int = DEFAULT_TOP,
                 wrote_variant: Path | None = None, asked_variant: bool = False,
                 instance_path: Path | None = None) -> None:
    """Print a review for people, ``top`` rows of each long table (0: all).

    What is missing, fill, response, use, settlement, hindsight and what was learned.
    """
    cur = r.currency

    def head(rows: list[list[object]]) -> list[list[object]]:
        return rows if top == 0 else rows[:top]

    say(f"{inst.name}, event {r.event} ({r.name}): review over {r.days} days"
        + (f", scenario {r.scenario}" if r.scenario else ""))
    for n in r.notes:
        say(f"note: {n}")
    say()
    print_table("What was done, by commodity",
                ["commodity", "unit", "requested (units)", "delivered (units)",
                 "never delivered (units)", "late (units x days)", "fill rate"],
                [[x["commodity"], x["unit"], x["requested"], x["delivered"],
                  x["never_delivered"], x["late_unit_days"], pct(x["fill_rate"])]
                 for x in r.by_commodity.to_dict(orient="records")],
                legend=["late: units still owed at the end of each day, summed over the "
                        "days (day 1 = the first 24 h)."])
    days = r.fill.groupby(["day", "commodity"], as_index=False)[
        ["cum_requested", "shortage"]].sum()
    print_table("Fill rate per day (cumulative)", ["day", "commodity", "fill rate"],
                [[int(x["day"]), x["commodity"],
                  pct(1.0 - x["shortage"] / x["cum_requested"] if x["cum_requested"] > 0
                      else 1.0)] for x in days.to_dict(orient="records")])
    rows = [[x["region"], x["level"], x["standard_h"], _h(x["first_arrival_h"]),
             "yes" if x["met"] else "no", x["late_h"] if math.isfinite(x["late_h"]) else None]
            for x in r.response.to_dict(orient="records")]
    print_table("Response time against the standard (h after the event)",
                ["region", "level", "standard (h)", "first arrival (h)", "met", "late (h)"],
                head(rows), total=len(rows), where="all in response.csv (--out)")
    if len(r.stock_use):
        rows = [[x["facility"], x["commodity"], x["held"], x["found_damaged"], x["shipped"],
                 x["left"]] for x in r.stock_use.to_dict(orient="records")]
        print_table("Pre-positioned stock (units)", ["facility", "commodity", "held",
                                                     "found damaged", "shipped", "left"],
                    head(rows), total=len(rows), where="all in stock_use.csv (--out)")
    if len(r.contract_use):
        print_table("Enterprise contracts", ["contract", "commodity", "signed",
                                             "quantity (units)", "drawn (units)",
                                             "within", f"price due ({cur})"],
                    [[x["contract"], x["commodity"], "yes" if x["signed"] else "no",
                      x["quantity"], x["drawn"], "yes" if x["within_quantity"] else "NO",
                      x["due"]] for x in r.contract_use.to_dict(orient="records")])
    if len(r.agreement_use):
        # the lender totals' columns only where some agreement has one
        totals = any(math.isfinite(float(v)) for v in r.agreement_use["total_cap_units"])
        print_table("Agreements called", ["agreement", "lender", "borrower", "commodity",
                                          "lent (units)", "cap (units)", "within cap",
                                          *(["lender's total (units)", "total cap (units)",
                                             "within total cap"] if totals else []),
                                          f"compensation due ({cur})"],
                    [[x["agreement"], x["lender"], x["borrower"], x["commodity"], x["units"],
                      x["cap_units"] if math.isfinite(x["cap_units"]) else "none",
                      "yes" if x["within_cap"] else "NO",
                      *([x["lender_units"], x["total_cap_units"]
                         if math.isfinite(x["total_cap_units"]) else "none",
                         "yes" if x["within_total_cap"] else "NO"] if totals else []),
                      x["due"]]
                     for x in r.agreement_use.to_dict(orient="records")])
    if len(r.settlement):
        print_table(f"Settlement under the terms against what was paid ({cur})",
                    ["debtor", "creditor", "kind", "reference", "due", "paid",
                     "paid - due"],
                    [[x["debtor"], x["creditor"], x["kind"], x["reference"], x["due"],
                      None if math.isnan(x["paid"]) else x["paid"],
                      None if math.isnan(x["difference"]) else x["difference"]]
                     for x in r.settlement.to_dict(orient="records")],
                    legend=[COMPENSATION_NOTE])
    h = r.hindsight
    if h is not None:
        say(f"Hindsight: the engine's allocation with what is known now "
            f"({h.allocation.status.value})")
        for n in h.notes:
            say(f"note: {n}")
        print_table("What better coordination would have saved, by commodity",
                    ["commodity", "never delivered: actual", "hindsight", "saved (units)",
                     "late: actual", "hindsight", "saved (units x days)", "fill: actual",
                     "hindsight"],
                    [[x["commodity"], x["never_delivered_actual"],
                      x["never_delivered_hindsight"], x["never_delivered_saved"],
                      x["late_unit_days_actual"], x["late_unit_days_hindsight"],
                      x["late_unit_days_saved"], pct(x["fill_rate_actual"]),
                      pct(x["fill_rate_hindsight"])]
                     for x in h.savings.to_dict(orient="records")])
        print_table(f"Money ({cur})", ["term", "actual", "hindsight", "saved"],
                    [[x["term"], None if math.isnan(x["actual"]) else x["actual"],
                      None if math.isnan(x["hindsight"]) else x["hindsight"],
                      None if math.isnan(x["saved"]) else x["saved"]]
                     for x in h.costs.to_dict(orient="records")],
                    legend=["actual transport and purchases: costs.csv; hindsight transport: "
                            "the instance's cost per kg km over the engine's routes."])
        rows = [[x["detail"]] for x in h.decisions.to_dict(orient="records")]
        print_table("Decisions that made the difference (largest first)", ["decision"],
                    head(rows), total=len(rows), where="all in hindsight_decisions.csv "
                    "(--out)")
        ex = h.allocation.explanations
        if len(ex):
            rows = [[x["region"], x["commodity"], x["reason"], x["detail"]]
                    for x in ex.to_dict(orient="records")]
            print_table("Why shortage remains in hindsight", ["region", "commodity",
                                                              "reason", "detail"],
                        head(rows), total=len(rows),
                        where="all in hindsight_explanations.csv (--out)")
    est = learning.estimates
    # what the events confirmed unchanged stays in learned.csv; the table shows news
    moved = est[(est["observed_mean"] - est["prior"]).abs() > 1e-9]
    if len(moved):
        rows = [[x["parameter"], x["scenario"], x["item"], x["prior"], x["observed_mean"],
                 x["events"], x["posterior"]] for x in moved.to_dict(orient="records")]
        print_table(f"Learned where the events differ from the instance (prior weight "
                    f"{learning.prior_weight:g} events)",
                    ["parameter", "scenario", "item", "prior", "observed", "events",
                     "posterior"], head(rows), total=len(rows),
                    where="all in learned.csv (--out)",
                    legend=[f"{len(est) - len(moved)} more parameters observed as the "
                            "instance has them (learned.csv)."] if len(est) > len(moved)
                    else [])
    for n in learning.notes:
        say(f"note: {n}")
    if wrote_variant is not None:
        say(f"wrote {wrote_variant}: reserve-opt whatif {instance_path or inst.name} --variant "
            f"{wrote_variant} shows what the next plan would change")
    elif asked_variant:
        say("nothing learned moved the instance's values, so no variant file was written")


def register(app: typer.Typer) -> None:
    """Add the ``review`` command to ``app``."""
    app.command()(review)
