"""Maps of an instance: regions shaded by population or risk, facilities, agreements.

``draw_map(instance, "map.png")`` renders a static map with matplotlib;
``draw_map(instance, "map.html")`` an interactive Leaflet map with folium. Vehicle routes
(a GeoDataFrame of LineStrings, e.g. from ``reserve_opt.models.routing.route_lines``) can
be drawn on top with ``routes=``. Regions without
polygons are drawn as their Voronoi service areas, clipped to a buffer around the points.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from reserve_opt.domain import FacilityKind, Instance
from reserve_opt.errors import InputError
from reserve_opt.io.outdir import OutputFile, signature

if TYPE_CHECKING:
    import geopandas as gpd

Shade = Literal["population", "risk"]

FACILITY_STYLE: dict[FacilityKind, tuple[str, str, str]] = {
    # kind: (marker, colour, legend label)
    FacilityKind.GOVERNMENT_WAREHOUSE: ("s", "#1f4e79", "government warehouse"),
    FacilityKind.ENTERPRISE_RESERVE: ("^", "#d95f02", "enterprise reserve"),
    FacilityKind.PRODUCTION_CAPACITY: ("P", "#7570b3", "production capacity"),
    FacilityKind.DISTRIBUTION_POINT: ("o", "#1b9e77", "distribution point"),
}


MAX_ALLIANCE_LINES = 12
"""Alliances with more members than this are not drawn as member-to-member lines."""


def region_frame(inst: Instance) -> gpd.GeoDataFrame:
    """Regions as polygons (their own, or Voronoi service areas), EPSG:4326."""
    import geopandas as gpd
    from shapely.geometry import Point

    ids = [r.id for r in inst.regions]
    attrs = {
        "id": ids,
        "name": [r.name for r in inst.regions],
        "population": [r.population for r in inst.regions],
        "risk": [r.risk for r in inst.regions],
    }
    if all(r.geometry is not None for r in inst.regions):
        geoms = [r.geometry for r in inst.regions]
    elif len(inst.regions) >= 2:
        from reserve_opt.geo import voronoi_service_areas

        cells = voronoi_service_areas([r.lon for r in inst.regions],
                                      [r.lat for r in inst.regions], ids)
        geoms = list(cells.geometry)
    else:
        geoms = [Point(r.lon, r.lat).buffer(0.1) for r in inst.regions]
    return gpd.GeoDataFrame(attrs, geometry=geoms, crs="EPSG:4326")


def facility_frame(inst: Instance) -> gpd.GeoDataFrame:
    """Facilities as points with their kind, EPSG:4326."""
    import geopandas as gpd
    from shapely.geometry import Point

    return gpd.GeoDataFrame(
        {"id": [f.id for f in inst.facilities], "name": [f.name for f in inst.facilities],
         "kind": [f.kind.value for f in inst.facilities],
         "existing": [f.existing for f in inst.facilities]},
        geometry=[Point(f.lon, f.lat) for f in inst.facilities], crs="EPSG:4326",
    )


def agreement_frame(inst: Instance) -> gpd.GeoDataFrame:
    """One line per pair of regions joined by an agreement, EPSG:4326.

    Alliances of more than :data:`MAX_ALLIANCE_LINES` members are left out.
    """
    import geopandas as gpd
    from shapely.geometry import LineString

    rows: list[dict[str, Any]] = []
    for a in inst.agreements:
        if a.alliance is not None:
            members = [r for r in inst.regions if r.alliance == a.alliance]
            if len(members) > MAX_ALLIANCE_LINES:
                continue  # a statewide alliance would hide the map under n^2 lines
            pairs = [(p, q) for i, p in enumerate(members) for q in members[i + 1:]]
        elif a.lender is not None and a.borrower is not None:
            pairs = [(inst.region(a.lender), inst.region(a.borrower))]
        else:
            continue
        for p, q in pairs:
            rows.append({"id": a.id, "tier": int(a.tier), "lender": p.id, "borrower": q.id,
                         "geometry": LineString([(p.lon, p.lat), (q.lon, q.lat)])})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326") if rows else \
        gpd.GeoDataFrame({"id": [], "tier": []}, geometry=[], crs="EPSG:4326")


def _straight(routes: gpd.GeoDataFrame) -> list[bool]:
    """Whether each route is drawn straight: no leg's road path is known (``path_kind``)."""
    if "path_kind" not in routes.columns:
        return [False] * len(routes)
    return ["links" not in str(k) and str(k) != "none" for k in routes["path_kind"]]


def draw_map(inst: Instance, path: str | os.PathLike[str] | OutputFile,
             shade: Shade = "population", routes: gpd.GeoDataFrame | None = None) -> Path:
    """Draw ``inst`` to a ``.png`` (static) or ``.html`` (interactive) file.

    The file is written to a temporary name first and renamed at the end, so a failed
    drawing never leaves a half-written map behind. It carries reserve-opt's signature
    (PNG ``Software`` text, HTML ``generator`` meta tag): an existing file is replaced only
    if it carries it too (see :mod:`reserve_opt.io.outdir`).

    Parameters
    ----------
    inst
        The instance.
    path
        Output file, or an :class:`~reserve_opt.io.outdir.OutputFile` naming it; the
        suffix chooses the kind.
    shade
        Colour regions by ``population`` (persons) or ``risk`` (index 0-1).
    routes
        Vehicle routes to draw over the map: LineStrings in EPSG:4326 with a ``route``
        label column (other columns show in the HTML tooltip); ``None`` draws none.

    Returns
    -------
    Path
        The file written.
    """
    dest = path if isinstance(path, OutputFile) else OutputFile(Path(path))
    out = dest.path
    suffix = out.suffix.lower()
    if suffix not in {".png", ".html"}:
        raise InputError(f"{out}: a map is written as .png or .html; change the file name")
    with dest.write() as tmp:
        if suffix == ".png":
            _draw_png(inst, tmp, shade, routes)
        else:
            _draw_html(inst, tmp, shade, routes)
    return out


ROUTE_COLOURS = ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628",
                 "#f781bf", "#17becf", "#bcbd22", "#000000")
"""Colours cycled over routes."""


def _draw_png(inst: Instance, path: Path, shade: Shade,
              routes: gpd.GeoDataFrame | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import math

    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    regions, facilities, agreements = region_frame(inst), facility_frame(inst), \
        agreement_frame(inst)
    fig, ax = plt.subplots(figsize=(10, 9), dpi=120)
    unit = "persons" if shade == "population" else "index 0-1"
    regions.plot(column=shade, ax=ax, cmap="OrRd", edgecolor="#666666", linewidth=0.4,
                 legend=True, legend_kwds={"label": f"{shade} ({unit})", "shrink": 0.6})
    if len(agreements):
        # with routes on top, agreements step back so the routes read first
        faint = routes is not None and len(routes) > 0
        agreements.plot(ax=ax, color="#2b8cbe", linewidth=0.7 if faint else 1.2,
                        linestyle="--", alpha=0.3 if faint else 0.8)
    handles = []
    if inst.demand_points:
        ax.scatter([p.lon for p in inst.demand_points], [p.lat for p in inst.demand_points],
                   s=9, color="#555555", zorder=2)
        handles.append(Line2D([], [], marker=".", color="#555555", linestyle="",
                              label=f"demand points ({len(inst.demand_points)})"))
    for kind, (marker, colour, label) in FACILITY_STYLE.items():
        sel = facilities[facilities["kind"] == kind.value]
        if len(sel) == 0:
            continue
        hollow = sel[~sel["existing"]]
        solid = sel[sel["existing"]]
        if len(solid):
            solid.plot(ax=ax, marker=marker, color=colour, markersize=40, edgecolor="white",
                       linewidth=0.6, zorder=3)
        if len(hollow):
            hollow.plot(ax=ax, marker=marker, facecolor="none", edgecolor=colour,
                        markersize=40, linewidth=1.2, zorder=3)
        handles.append(Line2D([], [], marker=marker, color=colour, linestyle="",
                              label=f"{label} ({len(sel)})"))
    if routes is not None and len(routes):
        straight = _straight(routes)
        for n, line in enumerate(routes.geometry):
            xs, ys = line.xy
            colour = ROUTE_COLOURS[n % len(ROUTE_COLOURS)]
            ax.plot(xs, ys, color=colour, linewidth=2.4, alpha=0.9, zorder=4,
                    solid_capstyle="round", linestyle="--" if straight[n] else "-")
            # stops too, so a route to a point beside its depot still shows
            ax.scatter(list(xs), list(ys), s=70, facecolors="none", edgecolors=colour,
                       linewidths=1.4, zorder=5)
        handles.append(Line2D([], [], color=ROUTE_COLOURS[0], linewidth=2.4,
                              label=f"vehicle routes ({len(routes)})"))
        if any(straight):
            handles.append(Line2D([], [], color=ROUTE_COLOURS[0], linewidth=2.4,
                                  linestyle="--", label="dashed: straight, no road path known "
                                  "(geodesic or travel table)"))
    if any(f.is_candidate for f in inst.facilities):
        handles.append(Line2D([], [], marker="s", markerfacecolor="none", color="#1f4e79",
                              linestyle="", label="candidate (hollow)"))
    if len(agreements):
        handles.append(Line2D([], [], color="#2b8cbe", linestyle="--",
                              label=f"sharing agreements ({len(inst.agreements)})"))
    ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9)
    if len(inst.regions) <= 40:
        for r in inst.regions:
            # Matplotlib's bundled font has no CJK glyphs: keep the Latin part of the name.
            label = "".join(ch for ch in r.name if ch.isascii()).strip() or r.id
            ax.annotate(label, (r.lon, r.lat), fontsize=7, ha="center", va="bottom",
                        xytext=(0, 4), textcoords="offset points")
    mean_lat = sum(r.lat for r in inst.regions) / len(inst.regions)
    ax.set_aspect(1 / max(math.cos(math.radians(mean_lat)), 0.1))
    ax.set_xlabel("longitude (degrees east, WGS84)")
    ax.set_ylabel("latitude (degrees north, WGS84)")
    title = (f"{inst.name}: {len(inst.regions)} regions, {len(inst.facilities)} "
             f"facilities, shaded by {shade}")
    if routes is not None:
        title += f"; {len(routes)} vehicle routes"
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, format="png", metadata={"Software": signature()})
    plt.close(fig)


def html_text(value: object) -> str:
    """``value`` as text that is inert in HTML and in a JavaScript template literal.

    ``html.escape`` covers ``<``, ``>``, ``&`` and both quotes; the backtick and ``$`` are
    written as character references too, so the text stays plain even if it ever lands
    in a template literal (folium renders tooltips that way) where `` ` `` or ``${``
    would run. A browser shows the original characters.

    Parameters
    ----------
    value
        Anything; ``str(value)`` is escaped.

    Returns
    -------
    str
        The escaped text.
    """
    import html

    return html.escape(str(value), quote=True).replace("`", "&#96;").replace("$", "&#36;")


def _html_safe(frame: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    """``frame[columns]`` with every non-numeric value as :func:`html_text`.

    Folium's ``GeoJsonTooltip`` writes property values into ``innerHTML`` as they are, so
    a name such as ``<img src=x onerror=...>`` would run when hovered. The values travel
    into the page as JSON (folium's ``tojson`` escapes ``<``, ``>``, ``&`` and ``'``),
    never as script text; escaping them here makes them plain text in the tooltip too.
    """
    import pandas as pd

    out = frame[[*columns, "geometry"]].copy()
    for col in columns:
        if not pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col]):
            out[col] = [None if v is None else html_text(v) for v in out[col]]
    return out


def _tooltip(columns: list[str], aliases: list[str]) -> Any:
    """A folium tooltip showing the properties ``columns`` under ``aliases``."""
    import folium

    return folium.GeoJsonTooltip(columns, aliases=[html_text(a) for a in aliases])


def _draw_html(inst: Instance, path: Path, shade: Shade,
               routes: gpd.GeoDataFrame | None = None) -> None:
    # Every input string reaches the page only as a GeoJSON property (JSON data, escaped
    # by folium) and is HTML-escaped before a tooltip shows it: no name, id or column
    # label is ever written into script text, where ``${...}`` or ``</script>`` would run.
    import folium

    regions, facilities, agreements = region_frame(inst), facility_frame(inst), \
        agreement_frame(inst)
    minx, miny, maxx, maxy = regions.total_bounds
    fmap = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=7,
                      tiles="OpenStreetMap")
    # keyed by position, so not even a region id has to be written into the page raw
    shading = regions[[shade, "geometry"]].assign(key=[f"r{i}" for i in range(len(regions))])
    folium.Choropleth(geo_data=shading.to_json(), data=shading,
                      columns=["key", shade], key_on="feature.properties.key",
                      fill_color="OrRd", fill_opacity=0.6, line_opacity=0.4,
                      legend_name=f"{shade} ({'persons' if shade == 'population' else '0-1'})"
                      ).add_to(fmap)
    cols = ["id", "name", "population", "risk"]
    folium.GeoJson(_html_safe(regions, cols).to_json(),
                   style_function=lambda _: {"fillOpacity": 0, "weight": 0},
                   tooltip=_tooltip(cols, ["region", *cols[1:]])).add_to(fmap)
    if len(agreements):
        cols = ["id", "tier", "lender", "borrower"]
        folium.GeoJson(_html_safe(agreements, cols).to_json(),
                       style_function=lambda _: {"color": "#2b8cbe", "dashArray": "6",
                                                 "weight": 2},
                       tooltip=_tooltip(cols, ["agreement", *cols[1:]])
                       ).add_to(fmap)
    if inst.demand_points:
        import geopandas as gpd
        from shapely.geometry import Point

        pts = gpd.GeoDataFrame(
            {"id": [p.id for p in inst.demand_points],
             "name": [p.name for p in inst.demand_points],
             "region": [p.region for p in inst.demand_points],
             "population": [p.population for p in inst.demand_points]},
            geometry=[Point(p.lon, p.lat) for p in inst.demand_points], crs="EPSG:4326")
        cols = ["id", "name", "region", "population"]
        folium.GeoJson(_html_safe(pts, cols).to_json(),
                       marker=folium.CircleMarker(radius=3, fill_opacity=0.8),
                       style_function=lambda _: {"color": "#555555", "fillColor": "#555555"},
                       tooltip=_tooltip(cols, ["demand point", *cols[1:]])).add_to(fmap)
    if len(facilities):
        colours = {k.value: c for k, (_, c, _) in FACILITY_STYLE.items()}
        facilities["colour"] = [colours[k] for k in facilities["kind"]]
        facilities["fill"] = facilities["existing"].astype(int)  # candidates hollow
        cols = ["id", "name", "kind"]
        data = _html_safe(facilities, [*cols, "colour", "fill"])
        folium.GeoJson(data.to_json(),
                       marker=folium.CircleMarker(radius=6, fill_opacity=0.9),
                       style_function=lambda f: {
                           "color": f["properties"]["colour"],
                           "fillColor": f["properties"]["colour"],
                           "fill": bool(f["properties"]["fill"])},
                       tooltip=_tooltip(cols, ["facility", *cols[1:]])
                       ).add_to(fmap)
    if routes is not None and len(routes):
        # columns become c0, c1, ...: a column name is shown only as an escaped label
        columns = [c for c in routes.columns if c != "geometry"]
        labels = [str(c) for c in columns]
        keys = [f"c{i}" for i in range(len(columns))]
        lines = routes.rename(columns=dict(zip(columns, keys, strict=True)))
        lines["colour"] = [ROUTE_COLOURS[n % len(ROUTE_COLOURS)] for n in range(len(lines))]
        lines["dash"] = ["8 6" if s else "" for s in _straight(routes)]
        folium.GeoJson(_html_safe(lines, [*keys, "colour", "dash"]).to_json(),
                       style_function=lambda f: {"color": f["properties"]["colour"],
                                                 "dashArray": f["properties"]["dash"],
                                                 "weight": 3, "opacity": 0.85},
                       tooltip=_tooltip(keys, labels)).add_to(fmap)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    # recognised by reserve_opt.io.outdir: a later run may replace this page
    fmap.get_root().header.add_child(  # type: ignore[attr-defined]
        folium.Element(f'<meta name="generator" content="{signature()}">'), name="generator")
    fmap.save(str(path))
