"""Convert the Rawls & Turnquist (2010) hurricane case into a reserve-opt instance folder.

Reads the shared benchmark tables (``../shared/benchmarks/rawls-turnquist-2010`` relative
to the repository root) and writes this folder's ``instance.toml``, CSV tables and
``README.md``. The conversion is deterministic: running it again gives identical files.

Usage::

    .venv/bin/python instances/rawls-turnquist/convert.py [--source DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from reserve_opt import InstanceBuilder
from reserve_opt.io import refresh_folder

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "benchmarks" / "rawls-turnquist-2010"

FT3_TO_M3 = 0.028316846592
"""Cubic feet to cubic metres (exact)."""
MILE_KM = 1.609344
"""Kilometres in a statute mile (exact)."""
DETOUR_FACTOR = 1.2
"""Road length / great-circle length: illustrative, the paper's link lengths are unknown."""
KATRINA_SCALE = 0.1
"""Katrina's per-node demand rows are the dissertation's values, 10x the paper's Table 3."""
SIZE_LABELS = {"Small": "small", "Medium": "medium", "Large": "large"}
WEIGHT_KG = {"water": 3785.41, "food": 680.0, "medical_kits": 5.0}
"""Assumed mass per unit (not in the paper; only routing reads it)."""
UNIT_NAMES = {
    "water": ("Water", "1000 gallons"),
    "food": ("Food (meals ready to eat)", "1000 MREs"),
    "medical_kits": ("Medical kits", "1 kit"),
}


@dataclass(frozen=True)
class Hurricane:
    """One row of the paper's Table 3 (node ids converted to 0-based)."""

    number: int
    name: str
    category: int
    landfall: tuple[int, ...]
    unusable: tuple[tuple[int, int], ...]
    totals: tuple[float, float, float]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def read_nodes(source: Path) -> list[tuple[int, str, float, float]]:
    """Nodes as (0-based id, city, lon, lat) from ``tsdro_node_coordinates.csv``."""
    out = []
    with (source / "tsdro_node_coordinates.csv").open(newline="", encoding="utf-8") as fh:
        for name, node, lat, lon in csv.reader(fh):
            out.append((int(node), name.strip(), float(lon), float(lat)))
    return sorted(out)


def read_hurricanes(source: Path) -> dict[int, Hurricane]:
    """Table 3: category, landfall nodes and unusable links, converted to 0-based ids."""
    out = {}
    for r in _rows(source / "rt2010_table3_hurricanes.csv"):
        land = tuple(int(x) - 1 for x in r["landfall_nodes_1based"].split("|") if x)
        links = []
        for pair in r["links_unusable_1based"].split("|"):
            if pair:
                a, b = pair.strip("()").split(";")
                links.append((int(a) - 1, int(b) - 1))
        out[int(r["hurricane"])] = Hurricane(
            int(r["hurricane"]), r["name_per_dissertation"].strip(), int(r["category"]),
            land, tuple(links),
            (float(r["water_1000gal"]), float(r["food_1000meals"]), float(r["medical_units"])),
        )
    return out


def read_node_demand(source: Path) -> dict[str, dict[int, tuple[float, float, float]]]:
    """Per-node demand by hurricane name (0-based node ids, Katrina scaled by 0.1)."""
    out: dict[str, dict[int, tuple[float, float, float]]] = {}
    current = ""
    for line in (source / "tsdro_demands_per_node.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if not parts:
            continue
        if not parts[0].isdigit():
            current = parts[0]
            out[current] = {}
            continue
        scale = KATRINA_SCALE if current == "Katrina" else 1.0
        w, f, m = (float(x) * scale for x in parts[-3:])
        out[current][int(parts[0]) - 1] = (w, f, m)
    return out


def build(source: Path) -> tuple[InstanceBuilder, dict[str, object]]:
    """Build the instance from the shared tables.

    Parameters
    ----------
    source
        Folder holding the Rawls & Turnquist benchmark CSVs.

    Returns
    -------
    tuple
        The filled builder and figures used by the README.
    """
    nodes = read_nodes(source)
    hurricanes = read_hurricanes(source)
    node_demand = read_node_demand(source)
    commodities = _rows(source / "rt2010_table1_commodities.csv")
    sizes = _rows(source / "rt2010_table2_facility_sizes.csv")
    scenarios = _rows(source / "rt2010_table4_scenarios.csv")
    edges = _rows(source / "tsdro_edges.csv")

    b = InstanceBuilder(
        "rawls-turnquist",
        currency="USD",
        description=(
            "Rawls & Turnquist (2010) hurricane pre-positioning case: 30 US Gulf and Atlantic "
            "coast nodes, 3 commodities, 51 scenarios (15 hurricanes, alone or in pairs)."
        ),
        detour_factor=DETOUR_FACTOR,
        transport_cost_per_kg_km=0.0,
    )
    b.manifest["sources"] = {
        "regions": "tsdro_node_coordinates.csv (30 nodes, lat/lon) from a public replication; "
                   "population unknown in the source, set to 0.",
        "commodities": "Rawls & Turnquist (2010) Table 1; volume ft3 -> m3; USD per unit-mile "
                       "/ 1.609344 -> per unit-km; holding 0.25 q, shortage 10 q as in the "
                       "paper; weight_kg assumed (water mass, 0.68 kg per MRE, 5 kg per kit).",
        "facilities": "A candidate warehouse at every node (paper's model P1).",
        "sizes": "Rawls & Turnquist (2010) Table 2; capacity ft3 -> m3.",
        "scenarios": "Rawls & Turnquist (2010) Table 4 (51 scenarios and probabilities).",
        "demand": "tsdro_demands_per_node.txt (per-node split of Table 3), Katrina's rows x 0.1; "
                  "compound scenarios add their hurricanes' demands.",
        "damage": "Table 3 landfall nodes: surviving fraction 0 for category 3-5, 0.5 for "
                  "category 1-2; the smaller fraction where two hurricanes hit one node.",
        "outages": "Table 3 unusable links (1-based in the paper, converted to 0-based ids).",
        "links": "tsdro_edges.csv (54 undirected links; the paper says 58); distance_km empty: "
                 "great-circle x detour factor 1.2 (illustrative).",
    }
    for node, city, lon, lat in nodes:
        b.add_region(f"n{node:02d}", name=city, population=0.0, lon=lon, lat=lat)

    for r in commodities:
        cid = r["commodity"]
        q = float(r["purchase_price_q_usd_per_unit"])
        name, unit = UNIT_NAMES[cid]
        b.add_commodity(
            cid, name=name, unit=unit, weight_kg=WEIGHT_KG[cid],
            volume_m3=float(r["volume_b_ft3_per_unit"]) * FT3_TO_M3,
            purchase_cost=q, holding_cost=0.25 * q, shortage_penalty=10.0 * q,
            transport_cost_per_km=float(r["transport_cost_usd_per_unit_mile"]) / MILE_KM,
        )

    for node, city, lon, lat in nodes:
        fid = f"w{node:02d}"
        b.add_facility(fid, name=f"Candidate warehouse at {city}", kind="government_warehouse",
                       region=f"n{node:02d}", lon=lon, lat=lat, existing=False)
        for s in sizes:
            b.add_size(fid, SIZE_LABELS[s["descriptor"]],
                       capacity_m3=float(s["capacity_M_ft3"]) * FT3_TO_M3,
                       fixed_cost=float(s["fixed_cost_F_usd"]))

    for e in edges:
        b.add_link(f"n{int(e['node_a_0based']):02d}", f"n{int(e['node_b_0based']):02d}")

    shared_hits: list[str] = []
    for r in scenarios:
        sid = f"s{int(r['scenario']):02d}"
        members = [] if r["hurricanes"] == "none" else [
            hurricanes[int(h)] for h in r["hurricanes"].split("+")]
        name = " + ".join(h.name for h in members) or "No hurricane"
        hazard = "+".join("hurricane" for _ in members)
        b.add_scenario(sid, name=name, probability=float(r["probability"]), hazard=hazard,
                       days=1.0)
        demand: dict[tuple[int, str], float] = defaultdict(float)
        for h in members:
            for node, qty in node_demand[h.name].items():
                for cid, x in zip(("water", "food", "medical_kits"), qty, strict=True):
                    demand[(node, cid)] += x
        for (node, cid), x in sorted(demand.items()):
            if x > 0:
                b.add_demand(sid, f"n{node:02d}", cid, round(x, 6))
        surviving: dict[int, float] = {}
        for h in members:
            frac = 0.0 if h.category >= 3 else 0.5
            for node in h.landfall:
                if node in surviving:
                    shared_hits.append(f"{sid} ({name}): node n{node:02d}")
                surviving[node] = min(frac, surviving.get(node, 1.0))
        for node, frac in sorted(surviving.items()):
            b.add_damage(sid, f"w{node:02d}", frac)
        cut = sorted({tuple(sorted(pair)) for h in members for pair in h.unusable})
        for a, c in cut:
            b.add_outage(sid, f"n{a:02d}", f"n{c:02d}", 0.0)

    sums = {
        h.name: tuple(sum(v[k] for v in node_demand[h.name].values()) for k in range(3))
        for h in hurricanes.values()
    }
    facts: dict[str, object] = {
        "hurricanes": hurricanes, "sums": sums, "shared_hits": shared_hits,
        "probability_sum": sum(float(r["probability"]) for r in scenarios),
        "commodities": commodities, "sizes": sizes, "n_edges": len(edges),
    }
    return b, facts


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 else f"{x:,.1f}"


def readme(facts: dict[str, object]) -> str:
    """The folder's README, with the figures taken from the source tables."""
    hurricanes: dict[int, Hurricane] = facts["hurricanes"]  # type: ignore[assignment]
    sums: dict[str, tuple[float, float, float]] = facts["sums"]  # type: ignore[assignment]
    hits: list[str] = facts["shared_hits"]  # type: ignore[assignment]
    commodities: list[dict[str, str]] = facts["commodities"]  # type: ignore[assignment]
    sizes: list[dict[str, str]] = facts["sizes"]  # type: ignore[assignment]
    lines = [
        "# rawls-turnquist: the hurricane pre-positioning case of Rawls & Turnquist (2010)",
        "",
        "Rawls, C. G. and Turnquist, M. A. (2010). Pre-positioning of emergency supplies for",
        "disaster response. *Transportation Research Part B* 44(4), 521-534. The paper's",
        "model (P1) is the reference formulation of reserve-opt's placement model. This folder",
        "is written by `convert.py` from `../shared/benchmarks/rawls-turnquist-2010` (see that",
        "folder's README); do not edit the tables by hand, change the script and re-run it:",
        "",
        "    .venv/bin/python instances/rawls-turnquist/convert.py",
        "",
        "Money is in USD.",
        "",
        "## Paper's reported optimum (for comparison)",
        "CPLEX extensive form, Table 7 of the paper (`rt2010_reported_solutions.csv`):",
        "objective **$89.5M**, of which first-stage cost (facilities + purchase) **$28.9M**;",
        "stock totals **9,001** (1000 gallons of water) / **3,609** (1000 MREs) / **19,631**",
        "(medical kits). Transport and holding are about 5% of the objective and the link",
        "lengths are unknown, so a faithful model lands within about 1% of $89.5M with stock",
        "totals within a few units of the paper's; the facility layout is not unique.",
        "",
        "## Regions (nodes)",
        "`n00`..`n29` are the 30 nodes of `tsdro_node_coordinates.csv`, keeping its 0-based",
        "ids (the paper's tables number nodes from 1: paper node k is `n{k-1}`). Coordinates",
        "are the file's latitude/longitude (WGS84 assumed). **Population is not given in the",
        "source and is set to 0**; level is the default (prefecture: the paper has no",
        "response-time limit); parent, alliance and risk are empty.",
        "",
        "## Commodities (Table 1)",
        "| id | unit | purchase q (USD/unit) | volume (ft3 -> m3/unit) | "
        "transport (USD/unit-mile -> USD/unit-km) | holding 0.25 q | shortage 10 q | "
        "weight_kg (assumed) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in commodities:
        cid = r["commodity"]
        q = float(r["purchase_price_q_usd_per_unit"])
        v = float(r["volume_b_ft3_per_unit"])
        t = float(r["transport_cost_usd_per_unit_mile"])
        lines.append(
            f"| {cid} | {UNIT_NAMES[cid][1]} | {q:g} | {v:g} -> {v * FT3_TO_M3:.6g} | "
            f"{t:g} -> {t / MILE_KM:.6g} | {0.25 * q:g} | {10 * q:g} | {WEIGHT_KG[cid]:g} |"
        )
    lines += [
        "",
        "Conversions: 1 ft3 = 0.028316846592 m3; 1 mile = 1.609344 km. The paper gives no",
        "weights; `weight_kg` is an assumption used only by routing (vehicle capacity): the",
        "mass of 1000 US gallons of water (3,785.41 kg, packaging ignored), 0.68 kg per MRE",
        "(680 kg per 1000), 5 kg per medical kit. Transport cost is set per commodity",
        "(`transport_cost_per_km`), so `transport_cost_per_kg_km` is 0 and weight does not",
        "enter the placement cost. Holding cost 0.25 q and shortage penalty 10 q are the",
        "paper's nominal values.",
        "",
        "## Facilities (Table 2)",
        "`w00`..`w29`: one candidate government warehouse at each node (`existing = false`),",
        "owned by the node's region, each with the three size options of Table 2:",
        "",
        "| size | fixed cost (USD) | capacity (ft3 -> m3) |",
        "|---|---|---|",
    ]
    for s in sizes:
        m = float(s["capacity_M_ft3"])
        lines.append(f"| {SIZE_LABELS[s['descriptor']]} | {float(s['fixed_cost_F_usd']):,.0f} | "
                     f"{m:,.0f} -> {m * FT3_TO_M3:,.4f} |")
    lines += [
        "",
        "No existing stock, contracts, agreements or fleet: the paper has none. No budget.",
        "",
        "## Scenarios (Table 4) and hurricanes (Table 3)",
        f"`s01`..`s51` are Table 4's scenarios with their probabilities (sum "
        f"{facts['probability_sum']:.12g}, i.e. 1 up to float rounding; not normalised). A",
        "compound scenario (e.g. `1+2`) combines two hurricanes: demands add up, damage and",
        "outages are the union. `s51` is 'no hurricane' (probability 0.0174, no demand).",
        "`days` is 1 (demand is given directly, not derived from affected persons).",
        "The commodities carry no need per person (`need_per_person_day` and",
        "`need_per_person` 0, `persons_per_unit` empty), so counting durable goods once per",
        "person instead of per day changed no figure here.",
        "",
        "| # | hurricane | cat. | landfall (0-based) | unusable links (0-based) | "
        "Table 3 totals w/f/m | per-node sums w/f/m |",
        "|---|---|---|---|---|---|---|",
    ]
    for h in hurricanes.values():
        land = ", ".join(f"n{n:02d}" for n in h.landfall) or "-"
        cut = ", ".join(f"n{a:02d}-n{c:02d}" for a, c in h.unusable) or "-"
        tot = " / ".join(_fmt(x) for x in h.totals)
        per = " / ".join(_fmt(x) for x in sums[h.name])
        lines.append(f"| {h.number} | {h.name} | {h.category} | {land} | {cut} | {tot} | {per} |")
    lines += [
        "",
        "- **Demand** per node and commodity comes from `tsdro_demands_per_node.txt` (a public",
        "  replication's split of each hurricane's Table 3 total over the cities; its node",
        "  numbers are 1-based). Katrina's rows there are the dissertation's values, 10x the",
        "  paper's, and are multiplied by 0.1 to reproduce the paper. The per-node sums differ",
        "  from Table 3's totals by at most 2 units for some hurricanes (rounding in the",
        "  source); the per-node values are used as given.",
        "- **Damage**: every warehouse at a landfall node of a hurricane in the scenario keeps",
        "  `surviving_fraction` 0 (category 3-5) or 0.5 (category 1-2) of its stock, as in the",
        "  paper. Where two hurricanes of one scenario hit the same node the smaller fraction",
        "  is used (no compounding).",
    ]
    if hits:
        lines.append("  This happens in: " + "; ".join(hits) + ".")
    lines += [
        "- **Outages**: Table 3's unusable links (paper's 1-based node pairs, minus 1) are cut",
        "  (`speed_factor` 0) in every scenario containing that hurricane.",
        "",
        "## Links",
        f"`links.csv` holds the {facts['n_edges']} undirected links of `tsdro_edges.csv` (the "
        "paper says",
        "58; the replication lists 54). The paper never published link lengths and the",
        "edges file's weights have no stated unit, so `distance_km` is left **empty**: the",
        "engine derives it as great-circle distance x `detour_factor` = 1.2 (**illustrative**).",
        "Warehouse `wNN` stands at node `nNN`'s coordinates.",
        "",
        "## What is from the paper, what is derived, what is assumed",
        "- From the paper / shared tables: coordinates, links, purchase costs, volumes,",
        "  transport costs, sizes, fixed costs, hurricanes, scenarios, probabilities, demands.",
        "- Derived: m3 and per-km figures (exact unit conversions), holding 0.25 q and",
        "  shortage 10 q, compound demands, damage fractions, 0-based ids.",
        "- Assumed / illustrative: `weight_kg`, detour factor 1.2, population 0.",
        "",
        "## Licence",
        "Facts from a published paper; the node coordinates, edges and per-node demands are from",
        "a public replication (no licence file). See `../shared/benchmarks/README.md`.",
        "",
    ]
    return "\n".join(lines)


def convert(source: Path = DEFAULT_SOURCE, out: Path = HERE) -> Path:
    """Read the shared tables in ``source`` and write the instance folder ``out``.

    Parameters
    ----------
    source
        Folder of the Rawls & Turnquist benchmark files.
    out
        Target folder; generated files there are replaced, other files kept.

    Returns
    -------
    Path
        ``out``.
    """
    builder, facts = build(Path(source))
    inst = builder.build()
    return refresh_folder(inst, out, readme(facts))


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    print(convert(args.source, args.out))


if __name__ == "__main__":
    main()
