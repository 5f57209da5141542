"""Analysis: centrality against hand values, knock-outs against a brute force, mismatch flags.

The knock-out brute force is a separate route: it freezes the plan by editing a copy of the
toy instance's CSV files with pandas (unopened candidates deleted, not converted), knocks
each facility out by deleting its stock and contract rows, cuts each link by writing outage
rows, then loads and solves every edited folder with ``solve_placement``.
"""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from reserve_opt import InstanceBuilder, load_instance
from reserve_opt.analysis import (
    HIGH_RISK_UNDER,
    LOW_RISK_OVER,
    agreement_centrality,
    analyze,
    freeze_plan,
    knockout_ranking,
    risk_reserve_mismatch,
    transport_centrality,
)
from reserve_opt.domain import FacilityKind
from reserve_opt.errors import InputError
from reserve_opt.models.placement import PlacementResult, check_placement, solve_placement

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "toy"
REL = 1e-6

# links added to a copy of the toy to rank link knock-outs (km as given): a star round
# Northtown, so cutting north--sea stops Northtown lending to Seaside in the typhoon
TOY_LINKS = [("north", "river", 150.0), ("north", "sea", 160.0), ("north", "hill", 80.0)]


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 + REL * max(abs(a), abs(b))


# ---------------------------------------------------------------- centrality


def _base_builder() -> InstanceBuilder:
    b = InstanceBuilder("tiny", currency="CNY")
    b.add_commodity("water", name="Water", unit="bottle", weight_kg=1.5, volume_m3=0.002,
                    purchase_cost=2.0, shortage_penalty=20.0)
    b.add_scenario("s1", probability=1.0)
    return b


def test_transport_centrality_matches_hand_values_on_a_path() -> None:
    # F --0 km-- a --10 km-- b --20 km-- c (F sits on a's point: its local link is 0 km)
    b = _base_builder()
    b.add_region("a", population=100, lon=120.0, lat=40.0)
    b.add_region("b", population=100, lon=120.1, lat=40.0)
    b.add_region("c", population=100, lon=120.3, lat=40.0)
    b.add_facility("F", kind="government_warehouse", region="a", lon=120.0, lat=40.0,
                   capacity_m3=100)
    b.add_link("a", "b", 10.0)
    b.add_link("b", "c", 20.0)
    b.add_demand("s1", "c", "water", 10)
    df = transport_centrality(b.build()).set_index("node")
    assert df.attrs["edges_from"] == "links" and df.attrs["edges"] == 3
    # degree / (n - 1), n = 4
    assert df["degree"].to_dict() == {"F": 1, "a": 2, "b": 2, "c": 1}
    assert df["degree_centrality"].to_dict() == pytest.approx(
        {"F": 1 / 3, "a": 2 / 3, "b": 2 / 3, "c": 1 / 3})
    # closeness = 3 / sum of km to the others: F 0+10+30, a 0+10+30, b 10+10+20, c 30+30+20
    assert df["closeness_centrality_per_km"].to_dict() == pytest.approx(
        {"F": 3 / 40, "a": 3 / 40, "b": 3 / 40, "c": 3 / 80})
    # betweenness: a lies on F-b and F-c, b on F-c and a-c: 2 pairs / (3*2/2)
    assert df["betweenness_centrality"].to_dict() == pytest.approx(
        {"F": 0.0, "a": 2 / 3, "b": 2 / 3, "c": 0.0})


def test_agreement_centrality_matches_hand_values_directed() -> None:
    # r1 -> r2 (one way), r2 <-> r3 (reciprocal), alliance {r3, r4}: r3 <-> r4
    b = _base_builder()
    for i, (lon, ally) in enumerate([(120.0, None), (120.2, None), (120.4, "A"),
                                     (120.6, "A")], start=1):
        b.add_region(f"r{i}", population=100, lon=lon, lat=40.0, alliance=ally)
    b.add_facility("F", kind="government_warehouse", region="r1", lon=120.0, lat=40.0,
                   capacity_m3=100)
    b.add_agreement("one_way", tier=1, lender="r1", borrower="r2", reciprocal=False)
    b.add_agreement("both_ways", tier=1, lender="r2", borrower="r3", reciprocal=True)
    b.add_agreement("ally", tier=2, alliance="A")
    b.add_demand("s1", "r2", "water", 10)
    df = agreement_centrality(b.build()).set_index("node")
    assert df.attrs["edges"] == 5
    assert df["out_degree"].to_dict() == {"r1": 1, "r2": 1, "r3": 2, "r4": 1}
    assert df["in_degree"].to_dict() == {"r1": 0, "r2": 2, "r3": 2, "r4": 1}
    assert df["degree_centrality"].to_dict() == pytest.approx(
        {"r1": 1 / 3, "r2": 2 / 3, "r3": 2 / 3, "r4": 1 / 3})
    # closeness in (hops from lenders): r2 from r1 1, r3 1, r4 2 -> 3/4; r4 from r3 1,
    # r2 2, r1 3 -> 3/6; nobody lends to r1 -> 0
    assert df["closeness_in_per_hop"].to_dict() == pytest.approx(
        {"r1": 0.0, "r2": 3 / 4, "r3": 3 / 4, "r4": 1 / 2})
    # closeness out, Wasserman-Faust: r2 reaches 2 of 3 at 1 + 2 hops -> (2/3)(2/3)
    assert df["closeness_out_per_hop"].to_dict() == pytest.approx(
        {"r1": 1 / 2, "r2": 4 / 9, "r3": 2 / 3, "r4": 4 / 9})
    # betweenness over (n-1)(n-2) = 6 ordered pairs: r2 on r1->r3, r1->r4; r3 on r1->r4,
    # r2->r4, r4->r2
    assert df["betweenness_centrality"].to_dict() == pytest.approx(
        {"r1": 0.0, "r2": 2 / 6, "r3": 3 / 6, "r4": 0.0})


def test_transport_without_links_uses_arcs_within_the_response_standard() -> None:
    inst = load_instance(TOY)
    df = transport_centrality(inst)
    assert df.attrs["edges_from"] == "arcs within the response standard"
    # every toy facility is within 6-8 h of every region at 60 km/h: a complete bipartite net
    assert df.attrs["edges"] == len(inst.facilities) * len(inst.regions)
    regions = df[df["node_type"] == "region"]
    assert (regions["degree"] == len(inst.facilities)).all()


# ---------------------------------------------------------------- knock-out brute force


def _solve(path: Path) -> PlacementResult:
    inst = load_instance(path)
    res = solve_placement(inst)
    assert res.has_plan, res.status
    report = check_placement(inst, res)  # every brute-force solve passes the checker
    assert report.ok, report.violations
    return res


def _expected_shortage(res: PlacementResult) -> tuple[float, float]:
    p = dict(res.scenario_probabilities)
    units = sum(p[s.scenario] * s.shortage for s in res.shortages)
    assert res.costs is not None
    return units, res.costs.shortage


def _frozen_folder(src: Path, plan: PlacementResult, dest: Path) -> Path:
    """Freeze ``plan`` by editing a copy of the folder's CSV files."""
    shutil.copytree(src, dest)
    fac = pd.read_csv(dest / "facilities.csv", keep_default_na=False)
    opened = {o.facility: o.capacity_m3 for o in plan.opened}
    cand = fac[(fac["kind"] == "government_warehouse")
               & (fac["existing"].astype(str).str.lower() == "false")]["id"].tolist()
    dropped = [c for c in cand if c not in opened]
    fac = fac[~fac["id"].isin(dropped)].copy()
    for fid, cap in opened.items():
        fac.loc[fac["id"] == fid, ["existing", "capacity_m3"]] = ["true", cap]
    fac.to_csv(dest / "facilities.csv", index=False)
    for table in ("sizes", "damage"):
        if (dest / f"{table}.csv").exists():
            df = pd.read_csv(dest / f"{table}.csv", keep_default_na=False)
            df = df[~df["facility"].isin(dropped + list(opened))] if table == "sizes" else (
                df[~df["facility"].isin(dropped)])
            df.to_csv(dest / f"{table}.csv", index=False)
    pd.DataFrame([{"facility": s.facility, "commodity": s.commodity, "quantity": s.total}
                  for s in plan.stock]).to_csv(dest / "stock.csv", index=False)
    con = pd.read_csv(dest / "contracts.csv", keep_default_na=False)
    held = [c.contract for c in plan.contracts if c.signed]
    con = con[con["id"].isin(held)].copy()
    con["signed"] = "true"
    con.to_csv(dest / "contracts.csv", index=False)
    toml = (dest / "instance.toml").read_text()
    (dest / "instance.toml").write_text(re.sub(r"budget = [0-9.]+", "budget = 0.0", toml))
    return dest


def _knock_facility(frozen: Path, fid: str, dest: Path) -> Path:
    shutil.copytree(frozen, dest)
    for table in ("stock", "contracts"):
        df = pd.read_csv(dest / f"{table}.csv", keep_default_na=False)
        df[df["facility"] != fid].to_csv(dest / f"{table}.csv", index=False)
    return dest


def _cut_link(frozen: Path, a: str, b: str, scenarios: list[str], dest: Path) -> Path:
    shutil.copytree(frozen, dest)
    out = pd.read_csv(dest / "outages.csv", keep_default_na=False)
    same = out.apply(lambda r: {r["from"], r["to"]} == {a, b}, axis=1)
    out = out[~same]
    new = pd.DataFrame([{"scenario": s, "from": a, "to": b, "speed_factor": 0.0}
                        for s in scenarios])
    pd.concat([out, new]).to_csv(dest / "outages.csv", index=False)
    return dest


def _toy_with_links(dest: Path) -> Path:
    shutil.copytree(TOY, dest)
    pd.DataFrame(TOY_LINKS, columns=["from", "to", "distance_km"]).to_csv(
        dest / "links.csv", index=False)
    # outages must name a link: the typhoon's Rivermouth-Seaside cut has no link here
    out = pd.read_csv(dest / "outages.csv")
    joined = {frozenset((a, b)) for a, b, _ in TOY_LINKS}
    out[[frozenset((a, b)) in joined for a, b in zip(out["from"], out["to"], strict=True)]
        ].to_csv(dest / "outages.csv", index=False)
    return dest


def _brute_force(src: Path, tmp: Path, links: list[tuple[str, str]] | None) -> pd.DataFrame:
    """Every knock-out solved from edited folders; ``links=None``: region pairs with flow."""
    plan = _solve(src)
    frozen = _frozen_folder(src, plan, tmp / "frozen")
    frozen_res = _solve(frozen)
    base_units, base_cost = _expected_shortage(frozen_res)
    inst = load_instance(frozen)
    cut_type = "link"
    if links is None:  # no links table: cut the region pairs the frozen base ships between
        cut_type = "region_pair"
        owner = {f.id: f.region for f in inst.facilities}
        links = sorted({tuple(sorted((owner[f.source], f.region))) for f in frozen_res.flows
                        if f.quantity > 1e-7 and owner[f.source] != f.region})
    rows = []
    sources = sorted(f.id for f in inst.facilities if f.kind in (
        FacilityKind.GOVERNMENT_WAREHOUSE, FacilityKind.ENTERPRISE_RESERVE,
        FacilityKind.PRODUCTION_CAPACITY))
    for fid in sources:
        u, c = _expected_shortage(_solve(_knock_facility(frozen, fid, tmp / f"ko_{fid}")))
        rows.append(("facility", fid, u - base_units, c - base_cost, u, c))
    scen = [s.id for s in inst.scenarios]
    for a, b in links:
        u, c = _expected_shortage(_solve(_cut_link(frozen, a, b, scen, tmp / f"cut_{a}_{b}")))
        rows.append((cut_type, f"{a}--{b}", u - base_units, c - base_cost, u, c))
    df = pd.DataFrame(rows, columns=["type", "target", "du", "dc", "units", "cost"])
    # rank: increase in shortage penalty, then units, then type and id
    df["key_c"] = df["dc"].round(3)
    df["key_u"] = df["du"].round(3)
    return df.sort_values(["key_c", "key_u", "type", "target"],
                          ascending=[False, False, True, True]).reset_index(drop=True)


def _assert_matches(ranking: pd.DataFrame, brute: pd.DataFrame) -> None:
    assert ranking["target"].tolist() == brute["target"].tolist()
    for r, b in zip(ranking.itertuples(), brute.itertuples(), strict=True):
        assert _close(r.expected_shortage_units, b.units), (r.target, r, b)
        assert _close(r.shortage_increase_units, b.du), r.target
        assert _close(r.expected_shortage_cost_CNY, b.cost), r.target
        assert _close(r.shortage_increase_cost_CNY, b.dc), r.target
        assert r.status == "optimal"


def test_toy_knockout_ranking_matches_brute_force(tmp_path: Path) -> None:
    inst = load_instance(TOY)
    ko = knockout_ranking(inst)
    brute = _brute_force(TOY, tmp_path, None)
    _assert_matches(ko.table, brute)
    # what the toy says: losing Northtown's depot hurts most, then its roads to the three
    # counties it serves as their parent region (Seaside also by agreement); the
    # supermarket and the tent works (its contract unsigned) are not missed
    assert ko.table["target"].tolist() == ["W_north", "north--sea", "hill--north",
                                           "north--river", "P_hill", "S_river"]
    assert ko.table.iloc[0]["shortage_increase_cost_CNY"] > 0
    assert any("no links table" in n and "3 pairs carry flow" in n for n in ko.notes)
    # a pair without flow is not listed because cutting it adds no cost: check one
    frozen = tmp_path / "frozen"
    scen = [s.id for s in inst.scenarios]
    base, cut = _solve(frozen), _solve(_cut_link(frozen, "hill", "river", scen,
                                                 tmp_path / "cut_unlisted"))
    assert base.costs is not None and cut.costs is not None
    assert _close(cut.costs.total, base.costs.total)
    assert any("W_sea" in n for n in ko.notes)  # the unopened candidate is named


def test_toy_with_links_ranks_facilities_and_links_like_brute_force(tmp_path: Path) -> None:
    src = _toy_with_links(tmp_path / "toy_links")
    ko = knockout_ranking(load_instance(src))
    pairs = sorted({tuple(sorted((a, b))) for a, b, _ in TOY_LINKS})
    brute = _brute_force(src, tmp_path, [(a, b) for a, b in pairs])
    _assert_matches(ko.table, brute)
    assert ko.table["target"].tolist()[:2] == ["W_north", "north--sea"]
    assert ko.table.iloc[1]["shortage_increase_cost_CNY"] > 0
    assert all("no links" not in n for n in ko.notes)


def test_frozen_base_keeps_the_plan_second_stage() -> None:
    inst = load_instance(TOY)
    plan = solve_placement(inst)
    ko = knockout_ranking(inst, plan=plan)
    assert plan.costs is not None
    assert _close(ko.base["expected_shortage_cost"], plan.costs.shortage)
    assert _close(ko.base["expected_second_stage_cost"], plan.costs.expected_second_stage)
    frozen = freeze_plan(inst, plan)
    assert frozen.settings.budget == 0.0
    assert {c.id for c in frozen.contracts} == {c.contract for c in plan.contracts if c.signed}
    assert frozen.facility("W_sea").kind is FacilityKind.DISTRIBUTION_POINT


def test_knockout_is_deterministic_and_ranks_by_units_on_request() -> None:
    inst = load_instance(TOY)
    a = knockout_ranking(inst).table
    b = knockout_ranking(inst).table
    pd.testing.assert_frame_equal(a, b)
    by_units = knockout_ranking(inst, rank_by="units").table
    inc = by_units["shortage_increase_units"].tolist()
    assert inc == sorted(inc, reverse=True)


def test_knockout_refuses_unknown_and_non_supplying_facilities() -> None:
    inst = load_instance(TOY)
    with pytest.raises(InputError) as e:
        knockout_ranking(inst, facilities=["W_nowhere"])
    assert e.value.problems == ("Unknown facility 'W_nowhere' to knock out; give ids from "
                                "the facilities table.",)
    with pytest.raises(InputError) as e:
        knockout_ranking(inst, facilities=["D_sea"])
    assert e.value.problems == (
        "Facility 'D_sea' supplies nothing in the plan (a distribution point or an unopened "
        "candidate); knock out a warehouse, enterprise reserve or production site.",)
    with pytest.raises(InputError) as e:
        knockout_ranking(inst, rank_by="speed")  # type: ignore[arg-type]
    assert e.value.problems == ("rank_by='speed': choose 'cost' or 'units'.",)


# ---------------------------------------------------------------- mismatch


def _mismatch_instance() -> InstanceBuilder:
    b = _base_builder()
    # risk 0.8, 0.2, 0.5 in alliance A; 0.4 alone. Median risk 0.45.
    for rid, risk, ally, lon in [("r1", 0.8, "A", 120.0), ("r2", 0.2, "A", 120.2),
                                 ("r3", 0.5, "A", 120.4), ("r4", 0.4, None, 120.6)]:
        b.add_region(rid, population=1000, lon=lon, lat=40.0, risk=risk, alliance=ally)
        b.add_facility(f"W_{rid}", kind="government_warehouse", region=rid, lon=lon, lat=40.0,
                       capacity_m3=100)
    for rid, q in [("r1", 100), ("r2", 500), ("r3", 300), ("r4", 200)]:
        b.add_stock(f"W_{rid}", "water", q)
    b.add_facility("E_r3", kind="enterprise_reserve", region="r3", lon=120.4, lat=40.1)
    b.add_facility("P_r4", kind="production_capacity", region="r4", lon=120.6, lat=40.1)
    # counted: a signed stock contract; not counted: unsigned, or capacity
    b.add_contract("K_stock", facility="E_r3", commodity="water", kind="stock", quantity=100)
    b.add_contract("K_maybe", facility="E_r3", commodity="water", kind="stock", quantity=900,
                   signed=False)
    b.add_contract("K_cap", facility="P_r4", commodity="water", kind="capacity",
                   quantity=5000, rate_per_day=100)
    b.add_demand("s1", "r1", "water", 10)
    return b


def test_mismatch_flags_a_constructed_case() -> None:
    m = risk_reserve_mismatch(_mismatch_instance().build())
    t = m.table.set_index("region")
    assert m.median_risk == pytest.approx(0.45) and m.unit == "CNY"
    # reserve = units x 2 CNY; r3 = (300 + 100 signed stock contract) x 2
    assert t["reserve_CNY"].to_dict() == {"r1": 200.0, "r2": 1000.0, "r3": 800.0, "r4": 400.0}
    assert t["persons_at_risk"].to_dict() == pytest.approx(
        {"r1": 800.0, "r2": 200.0, "r3": 500.0, "r4": 400.0})
    # alliance A: 2000 CNY / 1500 persons; r4 (no alliance) against the instance 2400 / 1900
    assert t.loc["r1", "peer_reserve_per_person_CNY"] == pytest.approx(2000 / 1500)
    assert t.loc["r4", "peer_reserve_per_person_CNY"] == pytest.approx(2400 / 1900)
    assert t["relative"].to_dict() == pytest.approx({
        "r1": 0.25 / (4 / 3), "r2": 5.0 / (4 / 3), "r3": 1.6 / (4 / 3),
        "r4": 1.0 / (2400 / 1900)})
    assert t["flag"].to_dict() == {"r1": HIGH_RISK_UNDER, "r2": LOW_RISK_OVER, "r3": "",
                                   "r4": ""}
    assert t.loc["r4", "peers"] == "(whole instance)"


def test_mismatch_thresholds_units_and_errors() -> None:
    inst = _mismatch_instance().build()
    m = risk_reserve_mismatch(inst, under=0.1, over=4.0)
    assert set(m.table["flag"]) == {""}  # r1 at 0.19x and r2 at 3.75x pass these
    units = risk_reserve_mismatch(inst, commodity="water").table.set_index("region")
    assert units["reserve_water_units"].to_dict() == {"r1": 100.0, "r2": 500.0, "r3": 400.0,
                                                      "r4": 200.0}
    with pytest.raises(InputError) as e:
        risk_reserve_mismatch(inst, under=0.0, over=0.5, commodity="rice")
    assert e.value.problems == (
        "under=0.0: give a share between 0 and 1 (e.g. 0.5).",
        "over=0.5: give a multiple of at least 1 (e.g. 2).",
        "Unknown commodity 'rice'; choose one of water.",
    )
    with pytest.raises(InputError) as e:
        risk_reserve_mismatch(inst, exposure="expected_affected")
    assert e.value.problems == ("exposure='expected_affected' needs affected persons, but the "
                                "affected table is empty; use exposure='population_risk'.",)


def test_mismatch_on_the_plan_counts_the_plan_stock() -> None:
    inst = load_instance(TOY)
    plan = solve_placement(inst)
    m = risk_reserve_mismatch(inst, plan).table.set_index("region")
    price = {c.id: c.purchase_cost for c in inst.commodities}
    want = sum(s.total * price[s.commodity] for s in plan.stock
               if inst.facility(s.facility).region == "north")
    assert m.loc["north", "reserve_CNY"] == pytest.approx(want)
    # Rivermouth's supermarket contract is in force: 10,000 bottles x 2 CNY
    assert m.loc["river", "reserve_CNY"] == pytest.approx(20000.0)


def test_analyze_solves_the_plan_once_and_reports_json_ready() -> None:
    report = analyze(load_instance(TOY), plan_stock=True)
    d = report.to_dict()
    assert d["knockout"]["ranking"][0]["target"] == "W_north"
    assert d["mismatch"]["stock_source"] == "plan"
    assert report.plan is not None
    assert all(v is None or math.isfinite(v) for r in d["mismatch"]["regions"]
               for v in r.values() if isinstance(v, float))
