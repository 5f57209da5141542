"""reserve-opt review: actuals, plan vs actual, hindsight and learning, checked by hand.

The toy event (tests/data/review/toy_event) on instances/toy, scenario typhoon:

- requests: sea water 4,000 on days 1 and 2, sea tents 200 on day 1, river water 3,000 on
  days 1 and 2;
- deliveries: sea water 3,000 at 5 h and 3,000 at 30 h under A_north_sea, sea tents 100 at
  7 h from the parent region's W_north, river water 2,000 at 14 h and 3,000 at 40 h under
  contract C_water (2.5 CNY/unit), a donation of 1,000 water to sea at 50 h (day 3);
- 200 of W_north's 800 tents found damaged; river-sea cut, north-sea at 80% speed (a round trip
  W_north - sea still fits the trucks' 10 h day after the agreement's 2 h delay);
- paid: 3,500 CNY to north for A_north_sea (due 6,000 x 0.5 = 3,000), 12,500 to S_river
  for C_water (due 5,000 x 2.5), 4,000 transport;
- affected: sea 2,000, river 1,000 persons.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reserve_opt import load_instance
from reserve_opt.errors import InputError
from reserve_opt.review import held_stock, learn, read_actuals, review, variant_text
from reserve_opt.variants import read_variant
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "toy"
EVENT = ROOT / "tests" / "data" / "review" / "toy_event"
LIAONING = ROOT / "instances" / "liaoning"
LIAONING_EVENT = LIAONING / "actuals" / "typhoon_east_2026"


@pytest.fixture(scope="module")
def toy_review():  # type: ignore[no-untyped-def]
    inst = load_instance(TOY)
    return inst, review(inst, read_actuals(EVENT, inst))


def _row(df, **key):  # type: ignore[no-untyped-def]
    sel = df
    for k, v in key.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, (key, sel)
    return sel.iloc[0]


def test_fill_rates_per_day_by_hand(toy_review) -> None:  # type: ignore[no-untyped-def]
    _, r = toy_review
    assert r.days == 3  # the donation arrives at 50 h, on day 3
    # sea water: requested 4,000 + 4,000; delivered 3,000 (day 1), 3,000 (day 2), 1,000 (day 3)
    expect = {1: (4000, 3000, 1000, 0.75), 2: (8000, 6000, 2000, 0.75),
              3: (8000, 7000, 1000, 0.875)}
    for day, (cum_r, cum_d, short, rate) in expect.items():
        x = _row(r.fill, day=day, region="sea", commodity="water")
        assert (x["cum_requested"], x["cum_delivered"], x["shortage"]) == (cum_r, cum_d, short)
        assert x["fill_rate"] == pytest.approx(rate)
    # river water: 3,000 + 3,000 requested; 2,000 at 14 h (day 1), 3,000 at 40 h (day 2)
    for day, (short, rate) in {1: (1000, 2 / 3), 2: (1000, 5 / 6), 3: (1000, 5 / 6)}.items():
        x = _row(r.fill, day=day, region="river", commodity="water")
        assert x["shortage"] == short and x["fill_rate"] == pytest.approx(rate)
    for day in (1, 2, 3):
        x = _row(r.fill, day=day, region="sea", commodity="tent")
        assert x["shortage"] == 100 and x["fill_rate"] == pytest.approx(0.5)
    water = _row(r.by_commodity, commodity="water")
    # never delivered: sea 1,000 + river 1,000; late: (1,000 + 2,000 + 1,000) + 3 x 1,000
    assert (water["requested"], water["delivered"], water["never_delivered"],
            water["late_unit_days"]) == (14000, 12000, 2000, 7000)
    assert water["fill_rate"] == pytest.approx(1 - 2000 / 14000)
    tent = _row(r.by_commodity, commodity="tent")
    assert (tent["never_delivered"], tent["late_unit_days"], tent["fill_rate"]) == (
        100, 300, 0.5)


def test_response_times_against_the_standards(toy_review) -> None:  # type: ignore[no-untyped-def]
    _, r = toy_review
    sea = _row(r.response, region="sea")
    river = _row(r.response, region="river")
    # both are counties: 6 h; sea's first batch at 5 h, river's at 14 h (8 h late)
    assert (sea["standard_h"], sea["first_arrival_h"], bool(sea["met"]), sea["late_h"]) == (
        6, 5, True, 0)
    assert (river["standard_h"], river["first_arrival_h"], bool(river["met"]),
            river["late_h"]) == (6, 14, False, 8)


def test_stock_contracts_and_agreements_used(toy_review) -> None:  # type: ignore[no-untyped-def]
    _, r = toy_review
    tent = _row(r.stock_use, facility="W_north", commodity="tent")
    assert (tent["held"], tent["found_damaged"], tent["usable"], tent["shipped"],
            tent["left"]) == (800, 200, 600, 100, 500)
    water = _row(r.stock_use, facility="W_north", commodity="water")
    assert (water["shipped"], water["left"], water["used_share"]) == (6000, 14000, 0.3)
    con = _row(r.contract_use, contract="C_water")
    assert (con["drawn"], bool(con["within_quantity"]), con["due"]) == (5000, True, 12500)
    assert list(r.contract_use["contract"]) == ["C_water"]  # C_tent: unsigned, not drawn
    agr = _row(r.agreement_use, agreement="A_north_sea")
    assert (agr["lender"], agr["borrower"], agr["units"], agr["cap_units"],
            bool(agr["within_cap"]), agr["due"]) == ("north", "sea", 6000, 8000, True, 3000)


def test_settlement_due_next_to_paid(toy_review) -> None:  # type: ignore[no-untyped-def]
    _, r = toy_review
    s = r.settlement
    assert len(s) == 2
    a = _row(s, kind="agreement")
    assert (a["debtor"], a["creditor"], a["reference"], a["units"], a["due"], a["paid"],
            a["difference"]) == ("sea", "north", "A_north_sea", 6000, 3000, 3500, 500)
    c = _row(s, kind="contract")
    assert (c["debtor"], c["creditor"], c["reference"], c["due"], c["paid"],
            c["difference"]) == ("river", "S_river", "C_water", 12500, 12500, 0)
    assert r.paid == {"agreement": 3500, "contract": 12500, "transport": 4000}


def test_hindsight_savings_by_hand(toy_review) -> None:  # type: ignore[no-untyped-def]
    _, r = toy_review
    h = r.hindsight
    assert h is not None and h.allocation.status.value == "optimal"
    # With what is known now the engine serves sea's 8,000 water and 200 tents under
    # A_north_sea (tier 1, cap 8,000, 600 usable tents) and river's 6,000 water from its own
    # contract C_water (tier 0, 12 h delay, day 1): nothing is short or late, the donation
    # on top.
    water = _row(h.savings, commodity="water")
    assert (water["never_delivered_actual"], water["never_delivered_hindsight"],
            water["never_delivered_saved"]) == (2000, 0, 2000)
    assert (water["late_unit_days_actual"], water["late_unit_days_hindsight"],
            water["late_unit_days_saved"]) == (7000, 0, 7000)
    assert water["fill_rate_hindsight"] == 1.0
    tent = _row(h.savings, commodity="tent")
    assert (tent["never_delivered_saved"], tent["late_unit_days_saved"]) == (100, 300)
    # money: contract prices 6,000 x 2.5 = 15,000 against 5,000 x 2.5 = 12,500 due;
    # compensation 8,200 x 0.5 = 4,100 against 3,000
    prices = _row(h.costs, term="contract unit prices (due under the terms)")
    assert (prices["actual"], prices["hindsight"], prices["saved"]) == (12500, 15000, -2500)
    comp = _row(h.costs, term="(transfer) compensation between regions")
    assert (comp["actual"], comp["hindsight"]) == (3000, 4100)
    transport = _row(h.costs, term="transport")
    assert transport["actual"] == 4000
    assert transport["hindsight"] == pytest.approx(h.allocation.costs()["transport"])
    spent = _row(h.costs, term="money spent")
    assert spent["actual"] == 12500 + 4000
    # the decisions that made the difference, largest first
    d = h.decisions
    assert [(x.source, x.region, x.commodity, x.actual_units, x.hindsight_units)
            for x in d.itertuples()] == [("W_north", "sea", "water", 6000, 8000),
                                         ("S_river", "river", "water", 5000, 6000),
                                         ("W_north", "sea", "tent", 100, 200)]
    assert d.iloc[0]["detail"].startswith(
        "the engine sends 2,000 more water from W_north to sea (8,000 instead of 6,000)")
    assert h.allocation.explanations.empty  # nothing short in hindsight: nothing to explain


def test_learning_by_hand() -> None:
    inst = load_instance(TOY)
    ev = read_actuals(EVENT, inst)
    got = learn(inst, [ev], held_stock(inst), prior_weight=1.0)
    est = got.estimates
    # water: x = (2,000 + 1,000) persons x 2 units/person-day x 2 days = 12,000, y = 14,000;
    # theta = (1 x 12,000 + 14,000) / (1 x 12,000 + 12,000) = 13/12
    w = _row(est, item="water")
    assert w["posterior"] == pytest.approx(13 / 12) and w["observed_mean"] == pytest.approx(
        14000 / 12000)
    # W_north: mean(1 - 0/20,000, 1 - 200/800) = 0.875; (1 x 1 + 0.875) / 2
    assert _row(est, item="W_north")["posterior"] == pytest.approx(0.9375)
    assert _row(est, item="S_river")["posterior"] == 1.0  # intact: unchanged
    assert "W_sea" not in set(est["item"])  # held nothing: nothing to see
    # north-sea found at 80% speed, prior open: (1 + 0.8) / 2; river-sea cut as the prior
    assert _row(est, item="north - sea")["posterior"] == pytest.approx(0.9)
    assert _row(est, item="river - sea")["posterior"] == 0.0
    assert got.changes == [
        {"op": "scale_demand", "factor": pytest.approx(13 / 12), "commodities": ["water"]},
        {"op": "set_damage", "facility": "W_north", "surviving_fraction": 0.9375,
         "scenarios": ["typhoon"]},
        {"op": "set_outage", "from": "north", "to": "sea", "speed_factor": pytest.approx(0.9),
         "scenarios": ["typhoon"]}]
    assert got.notes == ("demand per affected person of tent: the instance gives no need per "
                         "person, so there is nothing to rescale",)
    # prior weight 3: (36,000 + 14,000) / (36,000 + 12,000); (3 + 0.875) / 4; (3 + 0.8) / 4
    heavy = learn(inst, [ev], held_stock(inst), prior_weight=3.0).estimates
    assert _row(heavy, item="water")["posterior"] == pytest.approx(25 / 24)
    assert _row(heavy, item="W_north")["posterior"] == pytest.approx(0.96875)
    assert _row(heavy, item="north - sea")["posterior"] == pytest.approx(0.95)


def test_learning_from_two_events(tmp_path: Path) -> None:
    inst = load_instance(TOY)
    second = tmp_path / "second"
    shutil.copytree(EVENT, second)
    (second / "affected.csv").write_text("region,persons\nsea,3000\nriver,500\n",
                                         encoding="utf-8")
    evs = [read_actuals(EVENT, inst), read_actuals(second, inst)]
    est = learn(inst, evs, held_stock(inst), prior_weight=1.0).estimates
    # x = 12,000 and 3,500 x 4 = 14,000, mean 13,000; y = 14,000 twice
    assert _row(est, item="water")["posterior"] == pytest.approx(41000 / 39000)
    # 0.875 observed twice: (1 + 1.75) / 3
    assert _row(est, item="W_north")["posterior"] == pytest.approx(2.75 / 3)
    assert _row(est, item="W_north")["events"] == 2


def test_learned_variant_runs_through_whatif(tmp_path: Path) -> None:
    out = tmp_path / "learned.toml"
    result = run_cli("review", str(TOY), str(EVENT), "--no-hindsight", "--learn-out",
                     str(out))
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: reserve-opt whatif {TOY} --variant {out}" in \
        result.stdout.replace("\n  ", " ")
    patched = read_variant(out).apply(load_instance(TOY))
    assert patched.scenario("typhoon").surviving("W_north") == 0.9375
    assert patched.demand("snow")[("north", "water")] == pytest.approx(4000 * 13 / 12)
    what = run_cli("whatif", str(TOY), "--variant", str(out), "--format", "json")
    assert what.exit_code == 0, what.output
    doc = json.loads(what.stdout)
    assert [v["name"] for v in doc["variants"]] == ["learned"]
    assert [v["changes"] for v in doc["variants"]] != [[]]
    assert doc["base"]["result"]["status"] == doc["variants"][0]["result"]["status"] == \
        "optimal"
    # the file is never replaced
    again = run_cli("review", str(TOY), str(EVENT), "--no-hindsight", "--learn-out", str(out))
    assert again.exit_code == 1
    assert again.stderr.strip() == (f"error: --learn-out {out}: exists; give a new file name "
                                    "(reserve-opt never replaces a .toml file)")


def test_set_damage_and_set_outage_may_improve_a_place(tmp_path: Path) -> None:
    v = tmp_path / "v.toml"
    v.write_text('description = "learned"\n[[change]]\nop = "set_damage"\nfacility = "W_sea"\n'
                 'surviving_fraction = 1.0\nscenarios = ["typhoon"]\n[[change]]\n'
                 'op = "set_outage"\nfrom = "sea"\nto = "river"\nspeed_factor = 0.25\n',
                 encoding="utf-8")
    inst = read_variant(v).apply(load_instance(TOY))
    assert inst.scenario("typhoon").surviving("W_sea") == 1.0  # was 0.5
    assert [(o.origin, o.destination, o.speed_factor) for o in
            inst.scenario("typhoon").outages] == [("sea", "river", 0.25)]  # was cut
    assert [(o.origin, o.destination, o.speed_factor) for o in
            inst.scenario("snow").outages] == [("hill", "north", 0.5), ("sea", "river", 0.25)]


def _bad(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "bad"
    shutil.copytree(EVENT, folder)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


DELIVERY_HEAD = "id,region,commodity,quantity,channel,source,reference,depart_h,arrive_h\n"


@pytest.mark.parametrize(("name", "text", "message"), [
    ("deliveries.csv", DELIVERY_HEAD + "d1,sea,water,3000,agreement,W_nowhere,A_north_sea,2,5\n",
     "deliveries.csv line 2 (id 'd1'): source 'W_nowhere' is not a facility of the instance; "
     "did you mean 'W_north'?"),
    ("deliveries.csv", DELIVERY_HEAD + "d1,sea,water,3000,agreement,W_north,A_north_sea,,-2\n",
     "deliveries.csv line 2 (id 'd1'): arrive_h -2 is before the event (0 h is when it "
     "struck); give hours after the event's start"),
    ("deliveries.csv", DELIVERY_HEAD + "d1,sea,water,3000,agreement,W_north,A_north_sea,9,5\n",
     "deliveries.csv line 2 (id 'd1'): arrive_h 5 is before depart_h 9; give the arrival "
     "after the departure"),
    ("deliveries.csv", DELIVERY_HEAD + "d1,hill,water,300,agreement,W_north,A_north_sea,1,5\n",
     "deliveries.csv line 2 (id 'd1'): agreement 'A_north_sea' does not let north lend water "
     "to hill; name the agreement that does, or channel parent/donation"),
    ("deliveries.csv", DELIVERY_HEAD + "d1,sea,water,300,own_stock,W_north,,1,5\n",
     "deliveries.csv line 2 (id 'd1'): source 'W_north' is in north, not in sea; own stock "
     "comes from the region's own facilities (use channel agreement or parent otherwise)"),
    ("deliveries.csv", DELIVERY_HEAD + "d1,sea,water,300,gift,,,1,5\n",
     "deliveries.csv line 2 (id 'd1'): channel 'gift' is not one of own_stock, agreement, "
     "parent, contract, donation, purchase; use one of them"),
    ("requests.csv", "region,commodity,day,quantity\nsea,water,0,10\n",
     "requests.csv line 2: day 0 is below 1; give a value of at least 1 days"),
    ("damaged.csv", "facility,commodity,quantity\nW_north,tent,900\n",
     "damaged.csv line 2: 900 units of tent found damaged at W_north, which held 800; give "
     "at most what it held (with --plan, the plan's stock)"),
])
def test_bad_actuals_one_line_each(tmp_path: Path, name: str, text: str, message: str) -> None:
    folder = _bad(tmp_path, name, text)
    result = run_cli("review", str(TOY), str(folder), "--no-hindsight")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stderr.splitlines() == [f"error: {message}"]


def test_a_cut_off_the_links_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ev"
    shutil.copytree(LIAONING_EVENT, folder)
    (folder / "cuts.csv").write_text("from,to,speed_factor\ndalian,fuxin,0\n", encoding="utf-8")
    result = run_cli("review", str(LIAONING), str(folder), "--no-hindsight")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: cuts.csv line 2: cut dalian - fuxin names no link of the instance, so it would "
        "change nothing; give a pair its links.csv lists (or a facility and its own region)"]


def test_partial_actuals_say_what_is_missing(tmp_path: Path) -> None:
    folder = tmp_path / "partial"
    folder.mkdir()
    for f in ("actuals.toml", "requests.csv"):
        shutil.copy(EVENT / f, folder / f)
    inst = load_instance(TOY)
    r = review(inst, read_actuals(folder, inst))
    assert r.notes == (
        "no deliveries.csv: fill rates, response times, stock, contract and agreement use and "
        "the settlement due cannot be computed (nothing is taken as delivered)",
        "no damaged.csv: no damage survey, so the hindsight keeps the scenario's damage and "
        "damage fractions are not learned",
        "no cuts.csv: no road survey, so the hindsight keeps the scenario's outages and outage "
        "likelihoods are not learned",
        "no costs.csv: what was paid is unknown, so the settlement shows only what is due and "
        "money spent is not compared",
        "no affected.csv: persons in need are unknown, so demand per affected person is not "
        "learned")
    assert r.hindsight is not None
    assert r.hindsight.notes == ("damage: scenario typhoon's, no survey",
                                 "outages: scenario typhoon's, no road survey",
                                 "money: transport and purchases unknown (no costs.csv), so "
                                 "money spent is not compared")
    got = learn(inst, [read_actuals(folder, inst)], held_stock(inst))
    assert got.changes == []
    assert got.notes == ("demand per affected person: no event has affected.csv",
                         "damage in typhoon: no reviewed event carries damaged.csv",
                         "outages in typhoon: no reviewed event carries cuts.csv")


def test_manifest_problems(tmp_path: Path) -> None:
    folder = tmp_path / "ev"
    shutil.copytree(EVENT, folder)
    (folder / "actuals.toml").write_text('format = "reserve-opt-actuals/1"\ndays = 0\n'
                                         'scenario = "tsunami"\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_actuals(folder, load_instance(TOY))
    assert list(err.value.problems) == [
        "actuals.toml: event is missing; give the event a short id, e.g. event = "
        "\"typhoon-2026-08\"",
        "actuals.toml: days is 0; give the days of need, a number above 0 and at most 366",
        "actuals.toml: scenario 'tsunami' is not a scenario of the instance; use one of "
        "typhoon, flood, snow, or leave scenario out"]


def test_liaoning_example_end_to_end(tmp_path: Path) -> None:
    out, variant = tmp_path / "review", tmp_path / "learned.toml"
    result = run_cli("review", str(LIAONING), str(LIAONING_EVENT), "--out", str(out),
                     "--learn-out", str(variant))
    assert result.exit_code == 0, result.output
    assert "Hindsight: the engine's allocation with what is known now (optimal)" in \
        result.stdout
    for name in ("fill", "by_commodity", "response", "stock_use", "contract_use",
                 "agreement_use", "settlement", "hindsight_savings", "hindsight_costs",
                 "hindsight_decisions", "hindsight_explanations", "learned"):
        assert (out / f"{name}.csv").is_file(), name
    doc = json.loads((out / "review.json").read_text(encoding="utf-8"),
                     parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))
    # AL_coastal_tent: 400 tents at 1,320 CNY due, paid at 990
    tent = next(s for s in doc["settlement"] if s["reference"] == "AL_coastal_tent")
    assert (tent["due"], tent["paid"], tent["difference"]) == (528000, 396000, -132000)
    # Dandong: 9,450 of 63,000 water, 6,000 of 126,000 rations, 420 of 4,200 tents damaged
    dd = next(e for e in doc["learning"]["estimates"] if e["item"] == "W_dandong")
    observed = (1 - 9450 / 63000 + 1 - 6000 / 126000 + 1 + 1 - 420 / 4200 + 1) / 5
    assert dd["observed_mean"] == pytest.approx(observed)
    assert dd["posterior"] == pytest.approx((0.8 + observed) / 2)
    h = doc["hindsight"]
    assert h["status"] == "optimal"
    saved = {s["commodity"]: s["never_delivered_saved"] for s in h["savings"]}
    assert saved["water"] > 0 and min(saved.values()) >= 0
    what = run_cli("whatif", str(LIAONING), "--variant", str(variant), "--model", "allocate",
                   "--scenario", "typhoon_east", "--format", "json")
    assert what.exit_code == 0, what.output
    doc = json.loads(what.stdout)
    assert doc["base"]["result"]["status"] == doc["variants"][0]["result"]["status"] == \
        "optimal"
    js = run_cli("review", str(LIAONING), str(LIAONING_EVENT), "--no-hindsight", "--format",
                 "json")
    assert js.exit_code == 0
    assert json.loads(js.stdout)["hindsight"] is None
    assert variant_text  # the library writes the same text the CLI wrote


def test_plan_learn_from_and_prior_weight_flags(tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    assert run_cli("plan", str(TOY), "--out", str(plan)).exit_code == 0
    second = tmp_path / "second"
    shutil.copytree(EVENT, second)
    (second / "affected.csv").write_text("region,persons\nsea,3000\nriver,500\n",
                                         encoding="utf-8")
    result = run_cli("review", str(TOY), str(EVENT), "--plan", str(plan / "solution.json"),
                     "--learn-from", str(second), "--prior-weight", "1", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    water = next(e for e in doc["learning"]["estimates"] if e["item"] == "water")
    assert water["events"] == 2 and water["posterior"] == pytest.approx(41000 / 39000)
    assert doc["hindsight"]["status"] == "optimal"
    bad = run_cli("review", str(TOY), str(EVENT), "--no-hindsight", "--prior-weight", "-1")
    assert bad.exit_code == 1
    assert bad.stderr.splitlines() == [
        "error: --prior-weight -1: give a number of events, 0 or more (1: the instance counts "
        "as much as one event)"]
    wrong = run_cli("review", str(TOY), str(EVENT), "--no-hindsight", "--learn-out",
                    str(tmp_path / "learned.yaml"))
    assert wrong.exit_code == 1
    assert wrong.stderr.splitlines() == [
        f"error: --learn-out {tmp_path / 'learned.yaml'}: give a .toml file name (a variant "
        "file for reserve-opt whatif)"]


def test_deliveries_where_nothing_was_requested_are_named(tmp_path: Path) -> None:
    folder = _bad(tmp_path, "deliveries.csv", DELIVERY_HEAD
                  + "d1,sea,water,3000,agreement,W_north,A_north_sea,2,5\n"
                  + "d2,north,tent,10,own_stock,W_north,,1,2\n")
    inst = load_instance(TOY)
    r = review(inst, read_actuals(folder, inst), with_hindsight=False)
    assert r.notes[-1] == ("1 deliveries (north tent) went where requests.csv lists no "
                           "request for that commodity; they count in no fill rate")
    assert _row(r.fill, day=1, region="sea", commodity="water")["cum_delivered"] == 3000
