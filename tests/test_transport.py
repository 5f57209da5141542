"""Per-scenario transport arcs: geodesic mode, link graph, outages."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from reserve_opt import load_instance
from reserve_opt.domain import (
    Commodity,
    Facility,
    FacilityKind,
    Instance,
    Link,
    Outage,
    Region,
    Scenario,
    Settings,
)
from reserve_opt.geo import geodesic_matrix_km
from reserve_opt.transport import build_arcs

ROOT = Path(__file__).resolve().parents[1]


def test_toy_geodesic_and_outages() -> None:
    inst = load_instance(ROOT / "instances" / "toy")
    arcs = build_arcs(inst)
    df = arcs.to_frame()
    # geodesic x 1.3 for W_north -> river
    f, r = inst.facility("W_north"), inst.region("river")
    d = geodesic_matrix_km([f.lon], [f.lat], [r.lon], [r.lat])[0, 0] * 1.3
    row = df[(df.scenario == "flood") & (df.source == "W_north") & (df.region == "river")]
    assert row.distance_km.iloc[0] == pytest.approx(d, rel=1e-12)
    assert row.time_h.iloc[0] == pytest.approx(d / 60.0, rel=1e-12)
    assert row.cost_water.iloc[0] == pytest.approx(d * 0.0016, rel=1e-12)
    # typhoon cuts river-sea both ways for facilities located in those regions
    ty = df[df.scenario == "typhoon"]
    assert ty[(ty.source == "W_sea") & (ty.region == "river")].empty
    assert ty[(ty.source == "S_river") & (ty.region == "sea")].empty
    assert len(ty) == len(df[df.scenario == "flood"]) - 2
    # snow halves the hill-north speed: time doubles, distance does not
    sn = df[(df.scenario == "snow") & (df.source == "W_north") & (df.region == "hill")]
    fl = df[(df.scenario == "flood") & (df.source == "W_north") & (df.region == "hill")]
    assert sn.time_h.iloc[0] == pytest.approx(2 * fl.time_h.iloc[0])
    assert sn.distance_km.iloc[0] == pytest.approx(fl.distance_km.iloc[0])


def _line(outages: tuple[Outage, ...] = ()) -> Instance:
    # A - B - C on a line with given link lengths; warehouse at A
    regs = tuple(Region(i, i, 0.0, 120.0 + 0.5 * n, 40.0) for n, i in enumerate("ABC"))
    return Instance(
        name="line", currency="CNY", regions=regs,
        commodities=(Commodity("w", "w", "u", 1.0, 0.01, 1.0, 10.0,
                               transport_cost_per_km=0.5),),
        facilities=(Facility("WA", "WA", FacilityKind.GOVERNMENT_WAREHOUSE, "A", 120.0, 40.0,
                             capacity_m3=10.0),),
        scenarios=(Scenario("s", "s", 1.0, outages=outages),),
        links=(Link("A", "B", 50.0), Link("B", "C", 70.0), Link("A", "C", None)),
        settings=Settings(detour_factor=1.3, speed_kmh=50.0),
    )


def test_link_graph_paths() -> None:
    inst = _line()
    sa = build_arcs(inst).scenarios[0]
    dist = dict(zip(sa.region.tolist(), sa.distance_km.tolist(), strict=True))
    # A-C direct, no length given = its geodesic (85.4 km; the links are the road, no
    # detour factor) beats A-B-C = 120 km
    a, c = inst.region("A"), inst.region("C")
    ac = geodesic_matrix_km([a.lon], [a.lat], [c.lon], [c.lat])[0, 0]
    assert dist[0] == pytest.approx(0.0, abs=1e-9)
    assert dist[1] == pytest.approx(50.0)
    assert dist[2] == pytest.approx(ac)
    # cut A-C: the path goes through B
    sa2 = build_arcs(_line((Outage("C", "A", 0.0),))).scenarios[0]
    assert sa2.distance_km[sa2.region == 2][0] == pytest.approx(120.0)
    # slow A-C to a tenth: fastest path is via B, by time
    sa3 = build_arcs(_line((Outage("A", "C", 0.1),))).scenarios[0]
    assert sa3.time_h[sa3.region == 2][0] == pytest.approx(min(120.0, 10 * ac) / 50.0)
    # cut both links into C: C unreachable, no arc
    sa4 = build_arcs(_line((Outage("A", "C"), Outage("B", "C")))).scenarios[0]
    assert 2 not in sa4.region.tolist()
    cost = build_arcs(inst).unit_cost(0)
    assert np.allclose(cost[:, 0], sa.distance_km * 0.5)


def test_rawls_turnquist_links_if_present() -> None:
    path = ROOT / "instances" / "rawls-turnquist"
    if not path.exists():
        pytest.skip("instance not built yet")
    inst = load_instance(path)
    arcs = build_arcs(inst)
    assert arcs.uses_links
    base = max(len(s) for s in arcs.scenarios)
    assert base == 30 * 30  # connected graph
    # every arc's time is its distance / speed (no slow-downs in this case)
    for s in arcs.scenarios:
        assert np.allclose(s.time_h, s.distance_km / inst.settings.speed_kmh, rtol=1e-9)


def test_repeated_outages_on_one_pair_keep_the_worst_not_the_product() -> None:
    # the instance tables and a variant follow one rule: an outage on top of an outage on the
    # same pair keeps the smaller speed factor (models/variants.md), it does not multiply
    inst = load_instance(ROOT / "instances" / "toy")
    base = build_arcs(inst).to_frame()
    flood = base[(base.scenario == "flood") & (base.source == "W_north") & (base.region == "hill")]
    t0 = float(flood.time_h.iloc[0])
    for extra in ((Outage("hill", "north", 0.5),), (Outage("north", "hill", 0.8),),
                  (Outage("W_north", "hill", 0.5),)):
        snow = inst.scenario("snow")
        twice = dataclasses.replace(snow, outages=snow.outages + extra)
        scenarios = tuple(twice if s.id == "snow" else s for s in inst.scenarios)
        df = build_arcs(dataclasses.replace(inst, scenarios=scenarios)).to_frame()
        row = df[(df.scenario == "snow") & (df.source == "W_north") & (df.region == "hill")]
        assert float(row.time_h.iloc[0]) == pytest.approx(t0 / 0.5), extra
    # on the link graph too: slowing A-C to 0.5 twice is half speed, not a quarter
    once = build_arcs(_line((Outage("A", "C", 0.5),))).scenarios[0]
    twice = build_arcs(_line((Outage("A", "C", 0.5), Outage("C", "A", 0.5)))).scenarios[0]
    assert twice.time_h[twice.region == 2][0] == pytest.approx(once.time_h[once.region == 2][0])
