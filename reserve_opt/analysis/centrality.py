"""Degree, closeness and betweenness centrality of the transport and agreement networks.

The three measures are the ones seed 001 (Chen, urban social networks) names: degree (DC),
closeness (CC) and betweenness (BC) centrality. The seed does not give formulas, so the
standard (Freeman) definitions are used with networkx's normalisation, on n nodes:

* degree: ``deg(v) / (n - 1)``, the share of the other nodes ``v`` is joined to;
* closeness: ``(r - 1) / sum_u d(u, v)`` over the ``r - 1`` other nodes ``u`` that reach
  ``v``, times ``(r - 1) / (n - 1)`` (Wasserman and Faust), so a node in a small component
  does not look central; 0 for a node nobody reaches;
* betweenness: ``sum_{s != v != t} sigma_st(v) / sigma_st`` over shortest paths, divided by
  ``(n - 1)(n - 2) / 2`` (undirected) or ``(n - 1)(n - 2)`` (directed): the share of
  shortest paths between other pairs that pass through ``v``, 0 to 1.

Networks (``models/analysis.md`` has the details):

* **transport**: nodes are regions and facilities. With a links table, edges are its links
  (km as given, else their ends' geodesic) plus one local link from every facility to
  its region's point (geodesic x detour factor), from
  :func:`reserve_opt.transport.link_edges`. Without links, edges are the facility ->
  region arcs of :func:`reserve_opt.transport.build_arcs` under normal conditions (no
  outages) whose travel time is within the region's response standard
  (6/8/10 h by level). Undirected; path lengths in km (an edge of 0 km counts as 1 mm, as
  networkx miscounts shortest paths over zero-length edges).
* **agreement**: nodes are regions; an arc lender -> borrower for each bilateral agreement
  (both ways when reciprocal) and for every ordered pair of an alliance agreement's members
  (a clique). Directed, unweighted (hops).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from reserve_opt.domain import Instance
from reserve_opt.transport import build_arcs, link_edges

#: Shortest length given to an edge, km (zero-length edges break path counting).
_MIN_KM = 1e-6

__all__ = [
    "agreement_centrality",
    "agreement_graph",
    "centrality_table",
    "transport_centrality",
    "transport_graph",
]


def transport_graph(instance: Instance) -> nx.Graph:
    """The transport network under normal conditions (no outages).

    Parameters
    ----------
    instance
        The instance.

    Returns
    -------
    networkx.Graph
        Nodes: every region (``type="region"``) and facility (``type`` = its kind); edges
        carry ``km`` (road length) and ``h`` (hours), from
        :func:`reserve_opt.transport.link_edges` (links) or the arcs (otherwise). Graph attribute
        ``edges_from`` says ``"links"`` or ``"arcs within the response standard"``.
    """
    st = instance.settings
    g = nx.Graph()
    for r in instance.regions:
        g.add_node(r.id, type="region", region=r.id)
    for f in instance.facilities:
        g.add_node(f.id, type=f.kind.value, region=f.region)
    if instance.links:
        g.graph["edges_from"] = "links"
        e = link_edges(instance)
        for a, b, d, h in zip(e.origin, e.destination, e.distance_km, e.time_h, strict=True):
            # networkx miscounts shortest paths over zero-length edges (a facility on its
            # region's point): count them as 1 mm
            km = max(float(d), _MIN_KM)
            if a == b:
                continue
            # parallel links: keep the shortest, as the fastest-path search does
            if g.has_edge(a, b) and g.edges[a, b]["km"] <= km:
                continue
            g.add_edge(a, b, km=km, h=max(float(h), _MIN_KM / st.speed_kmh))
        return g
    g.graph["edges_from"] = "arcs within the response standard"
    if not instance.facilities or not instance.scenarios:
        return g
    calm = dataclasses.replace(
        instance, scenarios=(dataclasses.replace(instance.scenarios[0], outages=()),))
    std = max(st.county_response_h, st.prefecture_response_h, st.province_response_h)
    arcs = build_arcs(calm, sources=[f.id for f in instance.facilities], max_time_h=std)
    sa = arcs.scenarios[0]
    limit = np.array([st.response_h(instance.regions[j].level) for j in sa.region])
    keep = sa.time_h <= limit + 1e-9
    for s, j, d, t in zip(sa.source[keep], sa.region[keep], sa.distance_km[keep],
                          sa.time_h[keep], strict=True):
        g.add_edge(arcs.source_ids[s], arcs.region_ids[j], km=max(float(d), _MIN_KM),
                   h=float(t))
    return g


def agreement_graph(instance: Instance) -> nx.DiGraph:
    """The agreement network: who may lend to whom.

    Parameters
    ----------
    instance
        The instance.

    Returns
    -------
    networkx.DiGraph
        Nodes: regions. Arc lender -> borrower per bilateral agreement (and back when
        ``reciprocal``), and between every ordered pair of an alliance agreement's members.
        Arc attribute ``agreements``: the ids that create it, sorted.
    """
    g = nx.DiGraph()
    for r in instance.regions:
        g.add_node(r.id, alliance=r.alliance or "")
    for a in instance.agreements:
        for o, j in instance.lending_pairs(a):
            if g.has_edge(o, j):
                g.edges[o, j]["agreements"] = sorted({*g.edges[o, j]["agreements"], a.id})
            else:
                g.add_edge(o, j, agreements=[a.id])
    return g


def centrality_table(graph: nx.Graph | nx.DiGraph, weight: str | None) -> pd.DataFrame:
    """Degree, closeness and betweenness of every node of a graph, sorted by id.

    Parameters
    ----------
    graph
        Undirected or directed graph.
    weight
        Edge attribute used as path length (e.g. ``"km"``), or ``None`` for hops.

    Returns
    -------
    pandas.DataFrame
        Columns ``node, degree, degree_centrality, closeness_centrality,
        betweenness_centrality``; for a directed graph also ``in_degree``, ``out_degree``,
        ``in_degree_centrality``, ``out_degree_centrality`` and ``closeness_out_centrality``
        (closeness on the reversed graph: how near the others are *from* the node), and
        ``degree`` counts distinct neighbours in either direction.
    """
    nodes = sorted(graph.nodes)
    n = len(nodes)
    scale = 1.0 / (n - 1) if n > 1 else 0.0
    und = graph.to_undirected(as_view=True) if graph.is_directed() else graph
    cols: dict[str, Any] = {"node": nodes}
    cols["degree"] = [und.degree(v) for v in nodes]
    cols["degree_centrality"] = [und.degree(v) * scale for v in nodes]
    if graph.is_directed():
        dg: nx.DiGraph = graph  # type: ignore[assignment]
        cols["in_degree"] = [dg.in_degree(v) for v in nodes]
        cols["out_degree"] = [dg.out_degree(v) for v in nodes]
        cols["in_degree_centrality"] = [dg.in_degree(v) * scale for v in nodes]
        cols["out_degree_centrality"] = [dg.out_degree(v) * scale for v in nodes]
    close = nx.closeness_centrality(graph, distance=weight, wf_improved=True)
    cols["closeness_centrality"] = [close[v] for v in nodes]
    if graph.is_directed():
        close_out = nx.closeness_centrality(graph.reverse(copy=False), distance=weight,
                                            wf_improved=True)
        cols["closeness_out_centrality"] = [close_out[v] for v in nodes]
    between = nx.betweenness_centrality(graph, normalized=True, weight=weight)
    cols["betweenness_centrality"] = [between[v] for v in nodes]
    return pd.DataFrame(cols)


def transport_centrality(instance: Instance) -> pd.DataFrame:
    """Centrality of every region and facility in the transport network (lengths in km).

    Parameters
    ----------
    instance
        The instance.

    Returns
    -------
    pandas.DataFrame
        Columns ``node, node_type, region, degree, degree_centrality,
        closeness_centrality_per_km, betweenness_centrality``; ``degree`` counts
        neighbours, degree and betweenness centralities are 0-1 (see the module docstring),
        closeness is the reciprocal mean path length in 1/km (Wasserman-Faust scaled),
        betweenness counts shortest paths by km. Sorted by node id. ``attrs`` holds
        ``edges_from`` and the number of ``edges``.
    """
    g = transport_graph(instance)
    df = _labelled_table(g, "km", {"node_type": "type", "region": "region"},
                         {"closeness_centrality": "closeness_centrality_per_km"})
    df.attrs["edges_from"] = g.graph["edges_from"]
    return df


def agreement_centrality(instance: Instance) -> pd.DataFrame:
    """Centrality of every region in the directed agreement network (path lengths in hops).

    Parameters
    ----------
    instance
        The instance.

    Returns
    -------
    pandas.DataFrame
        Columns ``node, alliance, degree, degree_centrality, in_degree, out_degree,
        in_degree_centrality, out_degree_centrality, closeness_in_per_hop,
        closeness_out_per_hop, betweenness_centrality``. ``in`` = regions it may borrow
        from, ``out`` = regions it may lend to; ``closeness_in_per_hop`` is how near its
        lenders are (reciprocal mean hops of paths into the node, Wasserman-Faust scaled),
        ``closeness_out_per_hop`` how near its borrowers are. Sorted by region id.
    """
    g = agreement_graph(instance)
    return _labelled_table(g, None, {"alliance": "alliance"},
                           {"closeness_centrality": "closeness_in_per_hop",
                            "closeness_out_centrality": "closeness_out_per_hop"})


def _labelled_table(graph: nx.Graph | nx.DiGraph, weight: str | None,
                    node_columns: dict[str, str], rename: dict[str, str]) -> pd.DataFrame:
    # centrality_table with node attributes as columns after "node" (column -> attribute),
    # measures renamed to carry their units, and the number of edges in attrs
    df = centrality_table(graph, weight)
    for i, (column, attr) in enumerate(node_columns.items(), start=1):
        df.insert(i, column, [graph.nodes[v][attr] for v in df["node"]])
    df = df.rename(columns=rename)
    df.attrs["edges"] = graph.number_of_edges()
    return df
