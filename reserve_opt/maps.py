"""Maps of an instance: regions shaded by population or risk, facilities, agreements, routes.

``draw_map(instance, "map.png")`` renders a static map with matplotlib;
``draw_map(instance, "map.html")`` an interactive Leaflet page that needs no network:
Leaflet, its style sheet and every layer are inside the file, and the background is a
simplified Natural Earth country outline bundled in ``reserve_opt/mapdata`` (no tiles
unless ``tiles=`` names a tile server). Vehicle routes (a GeoDataFrame of LineStrings,
e.g. from ``reserve_opt.models.routing.route_lines``) and unmet deliveries can be drawn
on top. Regions without polygons are drawn as their Voronoi service areas, clipped to a
buffer around the points, and the map says so in a caption.

Both kinds are drawn from one :class:`Scene`, so the title, the legend and the colours
of what is drawn come from one place.
"""

from __future__ import annotations

import math
import os
import re
import textwrap
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from reserve_opt.domain import FacilityKind, Instance
from reserve_opt.errors import InputError
from reserve_opt.io.outdir import OutputFile, signature

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from matplotlib.figure import Figure

Shade = Literal["population", "risk"]
Symbol = Literal["square", "triangle", "plus", "circle", "cross", "line", "dashed"]

MAPDATA = Path(__file__).resolve().parent / "mapdata"
"""Leaflet, the Natural Earth outline and the fallback CJK font (see its README.md)."""

FACILITY_STYLE: dict[FacilityKind, tuple[Symbol, str, str]] = {
    # kind: (symbol, colour, legend label)
    FacilityKind.GOVERNMENT_WAREHOUSE: ("square", "#1f4e79", "government warehouse"),
    FacilityKind.ENTERPRISE_RESERVE: ("triangle", "#d95f02", "enterprise reserve"),
    FacilityKind.PRODUCTION_CAPACITY: ("plus", "#7570b3", "production capacity"),
    FacilityKind.DISTRIBUTION_POINT: ("circle", "#1b9e77", "distribution point"),
}

MPL_MARKER: dict[Symbol, str] = {"square": "s", "triangle": "^", "plus": "P", "circle": "o",
                                 "cross": "X"}

AGREEMENT_COLOUR = "#2b8cbe"
UNMET_COLOUR = "#b2182b"
DEMAND_POINT_COLOUR = "#555555"
LAND_COLOUR, BORDER_COLOUR = "#f2efe9", "#a0a0a0"
SHADE_CMAP = "OrRd"

ROUTE_COLOURS = ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628",
                 "#f781bf", "#17becf", "#bcbd22", "#000000")
"""Colours cycled over routes."""

MAX_ALLIANCE_LINES = 12
"""Alliances with more members than this are not drawn as member-to-member lines."""

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
                "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC",
                "Hiragino Sans GB", "SimHei", "Noto Sans CJK TC", "Noto Sans CJK JP",
                "AR PL UMing CN")
"""System fonts with Chinese glyphs, in order of preference."""

BUNDLED_CJK = ("Reserve Opt CJK", MAPDATA / "cjk-gb2312.otf")
"""The fallback: Noto Sans CJK SC cut to GB 2312's 6,763 Hanzi (SIL OFL 1.1)."""

GENERATED_AREAS = ("Region shapes are generated service areas (Voronoi cells around each "
                   "region's seat), not administrative boundaries.")
DRAWN_AREAS = ("Region shapes are service areas given with the instance (its [geometry] says "
               "service_areas = true), not administrative boundaries.")
OUTLINE_CREDIT = "Country outlines: Natural Earth 1:50m, simplified (public domain)."


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
    if not areas_are_generated(inst):
        geoms = [r.geometry for r in inst.regions]
    elif len(inst.regions) >= 2:
        from reserve_opt.geo import voronoi_service_areas

        cells = voronoi_service_areas([r.lon for r in inst.regions],
                                      [r.lat for r in inst.regions], ids)
        geoms = list(cells.geometry)
    else:
        geoms = [Point(r.lon, r.lat).buffer(0.1) for r in inst.regions]
    return gpd.GeoDataFrame(attrs, geometry=geoms, crs="EPSG:4326")


def areas_are_generated(inst: Instance) -> bool:
    """Whether :func:`region_frame` draws made-up service areas, not the regions' polygons."""
    return any(r.geometry is None for r in inst.regions)


def region_caption(inst: Instance) -> str | None:
    """The caption a map needs when its region shapes are not real boundaries, else None."""
    if areas_are_generated(inst):
        return GENERATED_AREAS
    if inst.service_areas:
        return DRAWN_AREAS
    return None


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


# --------------------------------------------------------------------------- the scene


@dataclass(frozen=True)
class LegendEntry:
    """One line of a map's legend: what is drawn in ``colour`` as ``symbol``."""

    label: str
    colour: str
    symbol: Symbol
    hollow: bool = False


@dataclass
class Scene:
    """Everything a map shows, decided once for the PNG and the HTML renderer.

    Attributes
    ----------
    title, subtitle
        The heading: instance, what is shown, scenario and day.
    notes
        Captions under the map (generated areas, outline source, unlabelled names).
    regions
        :func:`region_frame` with a ``fill`` colour per region.
    shade, shade_label, vmin, vmax
        What colours the regions, its label with unit, and the colour scale's ends.
    facilities
        :func:`facility_frame` with ``open``, ``symbol`` and ``colour``.
    agreements, routes, unmet
        Lines, lines with a ``colour`` and ``straight`` flag each (drawn dashed when no
        road or link path is known), and points with ``units`` and ``detail``.
    demand_points
        The regions' towns and communities (``id``, ``name``, ``region``, ``population``),
        or ``None``.
    outline
        Natural Earth countries clipped around the map.
    bounds
        (min lon, min lat, max lon, max lat) to show.
    legend
        The legend, in drawing order.
    """

    title: str
    subtitle: str
    notes: list[str]
    regions: gpd.GeoDataFrame
    shade: Shade
    shade_label: str
    vmin: float
    vmax: float
    facilities: gpd.GeoDataFrame
    agreements: gpd.GeoDataFrame
    routes: gpd.GeoDataFrame | None
    unmet: gpd.GeoDataFrame | None
    outline: gpd.GeoDataFrame
    bounds: tuple[float, float, float, float]
    legend: list[LegendEntry] = field(default_factory=list)
    demand_points: gpd.GeoDataFrame | None = None


def scene(inst: Instance, shade: Shade = "population",
          routes: gpd.GeoDataFrame | None = None, *, scenario: str | None = None,
          period: int | None = None, unmet: pd.DataFrame | None = None,
          opened: Collection[str] | None = None) -> Scene:
    """Decide what a map of ``inst`` shows: see :func:`draw_map` for the parameters.

    Returns
    -------
    Scene
        The title, layers, colours and legend both renderers draw.
    """
    import matplotlib
    from matplotlib.colors import Normalize, to_hex

    regions, facilities, agreements = region_frame(inst), facility_frame(inst), \
        agreement_frame(inst)
    values = [float(v) for v in regions[shade]]
    vmin, vmax = min(values), max(values)
    if vmax <= vmin:
        vmax = vmin + 1.0  # one value: the scale still has two ends
    cmap, norm = matplotlib.colormaps[SHADE_CMAP], Normalize(vmin, vmax)
    regions["fill"] = [to_hex(cmap(norm(v))) for v in values]
    shade_label = "population (persons)" if shade == "population" else "risk (index 0-1)"

    open_ids = {f.id for f in inst.facilities if f.existing} if opened is None else set(opened)
    facilities["open"] = [i in open_ids for i in facilities["id"]]
    style = {k.value: s for k, s in FACILITY_STYLE.items()}
    facilities["symbol"] = [style[k][0] for k in facilities["kind"]]
    facilities["colour"] = [style[k][1] for k in facilities["kind"]]

    legend: list[LegendEntry] = []
    for kind, (symbol, colour, label) in FACILITY_STYLE.items():
        sel = facilities[facilities["kind"] == kind.value]
        n_open = int(sel["open"].sum())
        if n_open:
            legend.append(LegendEntry(f"{label}, open ({n_open})", colour, symbol))
        if len(sel) > n_open:
            legend.append(LegendEntry(f"{label}, candidate not opened ({len(sel) - n_open})",
                                      colour, symbol, hollow=True))
    if len(agreements):
        legend.append(LegendEntry(f"sharing agreements ({len(inst.agreements)})",
                                  AGREEMENT_COLOUR, "dashed"))

    dpoints = None
    if inst.demand_points:
        import geopandas as gpd
        from shapely.geometry import Point

        dpoints = gpd.GeoDataFrame(
            {"id": [p.id for p in inst.demand_points],
             "name": [p.name for p in inst.demand_points],
             "region": [p.region for p in inst.demand_points],
             "population": [p.population for p in inst.demand_points]},
            geometry=[Point(p.lon, p.lat) for p in inst.demand_points], crs="EPSG:4326")
        legend.append(LegendEntry(f"demand points ({len(dpoints)})", DEMAND_POINT_COLOUR,
                                  "circle"))

    lines = None
    if routes is not None and len(routes):
        lines = routes.copy()
        lines["colour"] = [ROUTE_COLOURS[n % len(ROUTE_COLOURS)] for n in range(len(lines))]
        lines["straight"] = _straight(lines)
        labels = [str(v) for v in lines["route"]] if "route" in lines.columns else \
            [f"route {n + 1}" for n in range(len(lines))]
        for colour in ROUTE_COLOURS[:len(lines)]:
            # one entry per colour drawn, naming the routes drawn in it
            names = [lab for lab, c in zip(labels, lines["colour"], strict=True) if c == colour]
            first = names[0] if len(names[0]) <= 30 else names[0][:29] + "..."
            shown = first if len(names) == 1 else f"{first} and {len(names) - 1} more"
            legend.append(LegendEntry(
                f"vehicle route{'s' if len(names) > 1 else ''} {shown}", colour, "line"))
        if any(lines["straight"]):
            legend.append(LegendEntry("dashed: straight, no road path known (geodesic or "
                                      "travel table)", ROUTE_COLOURS[0], "dashed"))

    points = _unmet_points(inst, unmet) if unmet is not None and len(unmet) else None
    if points is not None:
        legend.append(LegendEntry(
            f"unmet deliveries ({len(points)} point{'s' if len(points) > 1 else ''}, "
            f"{points['units'].sum():,.0f} units)",
            UNMET_COLOUR, "cross"))

    minx, miny, maxx, maxy = (float(v) for v in regions.total_bounds)
    padx, pady = max((maxx - minx) * 0.04, 0.05), max((maxy - miny) * 0.04, 0.05)
    bounds = (minx - padx, miny - pady, maxx + padx, maxy + pady)

    caption = region_caption(inst)
    notes = [] if caption is None else [caption]
    notes.append(OUTLINE_CREDIT)
    what = f"regions shaded by {shade_label}"
    if lines is not None:
        what = f"{len(lines)} vehicle routes; {what}"
    if scenario is None:
        subtitle = f"{what}; no scenario: the instance as given"
    else:
        name = inst.scenarios[inst.scenario_index[scenario]].name \
            if scenario in inst.scenario_index else ""
        named = f"{scenario} ({name})" if name and name != scenario else scenario
        subtitle = f"{what}; scenario {named}" + ("" if period is None else f", day {period}")
    return Scene(
        title=inst.name, subtitle=subtitle, notes=notes, regions=regions, shade=shade,
        shade_label=shade_label, vmin=vmin, vmax=vmax, facilities=facilities,
        agreements=agreements, routes=lines, unmet=points, outline=_outline(bounds),
        bounds=bounds, legend=legend, demand_points=dpoints)


def _straight(routes: gpd.GeoDataFrame) -> list[bool]:
    """Whether each route is drawn straight: no leg's road path is known (``path_kind``)."""
    if "path_kind" not in routes.columns:
        return [False] * len(routes)
    return ["links" not in str(k) and str(k) != "none" for k in routes["path_kind"]]


def _unmet_points(inst: Instance, unmet: pd.DataFrame) -> gpd.GeoDataFrame:
    """Unmet deliveries (``point``, ``commodity``, ``unmet`` units) summed per point."""
    import geopandas as gpd
    from shapely.geometry import Point

    where = {r.id: (r.lon, r.lat, r.name) for r in inst.regions}
    where.update({f.id: (f.lon, f.lat, f.name) for f in inst.facilities})
    # a region with demand points receives goods at them (routing's stops)
    where.update({p.id: (p.lon, p.lat, p.name or p.id) for p in inst.demand_points})
    rows: dict[str, dict[str, Any]] = {}
    for rec in unmet.to_dict("records"):
        point = str(rec["point"])
        lon, lat, name = where[point]  # the routing model only delivers to these
        row = rows.setdefault(point, {"point": point, "name": name, "units": 0.0,
                                      "detail": {}, "geometry": Point(lon, lat)})
        row["units"] += float(rec["unmet"])
        row["detail"][str(rec["commodity"])] = row["detail"].get(str(rec["commodity"]), 0.0) \
            + float(rec["unmet"])
    frame = list(rows.values())
    for row in frame:
        row["detail"] = ", ".join(f"{c} {u:,.0f}" for c, u in sorted(row["detail"].items()))
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")


@lru_cache(maxsize=1)
def _countries() -> gpd.GeoDataFrame:
    import gzip
    import json

    import geopandas as gpd

    data = json.loads(gzip.decompress((MAPDATA / "ne_countries.geojson.gz").read_bytes()))
    return gpd.GeoDataFrame.from_features(data["features"], crs="EPSG:4326")


def _outline(bounds: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """Natural Earth countries clipped well beyond the map's extent.

    The margin leaves room to pan and for wide windows, so no straight clipping edge shows.
    """
    minx, miny, maxx, maxy = bounds
    pad = max(maxx - minx, maxy - miny) * 1.5 + 1.0
    box = (max(minx - pad, -180), max(miny - pad, -90), min(maxx + pad, 180),
           min(maxy + pad, 90))
    clipped = _countries().clip(box)
    return clipped[~clipped.geometry.is_empty].reset_index(drop=True)


def _number(value: float) -> str:
    """A scale label: whole numbers with thousands separators, fractions as they are."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _scale_km(bounds: tuple[float, float, float, float]) -> tuple[float, float]:
    """A round scale-bar length (km) near a fifth of the map's width, and km per degree lon."""
    from pyproj import Geod

    minx, miny, maxx, maxy = bounds
    lat = (miny + maxy) / 2
    _, _, metres = Geod(ellps="WGS84").inv(minx, lat, minx + 1.0, lat)
    km_per_deg = metres / 1000
    target = (maxx - minx) * km_per_deg / 5
    step = 10 ** math.floor(math.log10(target))
    length = max(m * step for m in (1, 2, 5) if m * step <= target)
    return length, km_per_deg


# --------------------------------------------------------------------------- drawing


def draw_map(inst: Instance, path: str | os.PathLike[str] | OutputFile,
             shade: Shade = "population", routes: gpd.GeoDataFrame | None = None, *,
             scenario: str | None = None, period: int | None = None,
             unmet: pd.DataFrame | None = None, opened: Collection[str] | None = None,
             tiles: str | None = None) -> Path:
    """Draw ``inst`` to a ``.png`` (static) or ``.html`` (interactive, offline) file.

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
    scenario, period
        The scenario and day the routes serve, named in the title.
    unmet
        Deliveries not made: rows with ``point`` (a region or facility id), ``commodity``
        and ``unmet`` (units), as ``delivery_report`` gives them; drawn as crosses.
    opened
        Ids of the facilities that are open; ``None``: the existing ones. The others are
        drawn hollow as candidates not opened.
    tiles
        For ``.html`` only: a tile URL template (``https://.../{z}/{x}/{y}.png``) to draw
        under the map; the page then loads tiles from that server. ``None``: no tiles,
        nothing is fetched.

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
    if tiles is not None:
        check_tiles(tiles, suffix)
    view = scene(inst, shade, routes, scenario=scenario, period=period, unmet=unmet,
                 opened=opened)
    with dest.write() as tmp:
        if suffix == ".png":
            import matplotlib.pyplot as plt

            fig = png_figure(view)
            fig.savefig(tmp, format="png", metadata={"Software": signature()})
            plt.close(fig)
        else:
            tmp.write_text(html_page(view, routes_columns(routes), tiles), encoding="utf-8")
    return out


def check_tiles(tiles: str, suffix: str = ".html") -> None:
    """Refuse a ``--tiles`` value that is not an http(s) template with {z}, {x} and {y}.

    Raises
    ------
    InputError
        If the map is not HTML or the template is not one Leaflet can fill in.
    """
    if suffix != ".html":
        raise InputError(f"--tiles {tiles}: tiles are drawn only under .html maps; write the "
                         "map as .html or leave --tiles out")
    if not re.fullmatch(r"https?://[^\s\"'<>`]+", tiles) or \
            not all(k in tiles for k in ("{z}", "{x}", "{y}")):
        raise InputError(f"--tiles {tiles}: give a tile URL template such as "
                         "https://tile.openstreetmap.org/{z}/{x}/{y}.png")


# --------------------------------------------------------------------------- PNG


@lru_cache(maxsize=2)
def cjk_font(system: bool = True) -> tuple[str, Path]:
    """A font with Chinese glyphs: a system one (see :data:`CJK_FAMILIES`), else bundled.

    Parameters
    ----------
    system
        Look for a system font first; ``False`` takes the bundled subset.

    Returns
    -------
    tuple of str and Path
        The family name for matplotlib and the font file.
    """
    from matplotlib import font_manager

    manager = font_manager.fontManager
    if system:
        known = {f.fname for f in manager.ttflist}
        for fname in font_manager.findSystemFonts():
            # fonts installed after matplotlib cached its list are not in it yet
            if fname not in known and re.search(r"cjk|wqy|hei|han|ming|song|pingfang",
                                                fname, re.IGNORECASE):
                try:
                    manager.addfont(fname)
                except (OSError, RuntimeError, ValueError):
                    continue  # an unreadable font file is simply not a candidate
        families = {f.name: Path(f.fname) for f in manager.ttflist}
        for family in CJK_FAMILIES:
            if family in families:
                return family, families[family]
    family, path = BUNDLED_CJK
    if family not in {f.name for f in manager.ttflist}:
        manager.addfont(str(path))
    return family, path


@lru_cache(maxsize=8)
def _sc_face(path: Path) -> int:
    """The face of a font collection whose name says Simplified Chinese (``SC``), else 0."""
    if path.suffix.lower() != ".ttc":
        return 0
    from fontTools.ttLib import TTCollection

    with TTCollection(str(path), lazy=True) as collection:
        names = [str(f["name"].getDebugName(1) or "") for f in collection.fonts]
    return next((i for i, n in enumerate(names) if n.endswith(" SC")), 0)


@lru_cache(maxsize=8)
def _charmap(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() == ".ttc":
        with TTCollection(str(path), lazy=True) as collection:
            # pan-CJK collections share one repertoire across their faces
            return frozenset(collection.fonts[0].getBestCmap())
    with TTFont(str(path), lazy=True) as font:
        return frozenset(font.getBestCmap())


@lru_cache(maxsize=8)
def _glyphs(fonts: tuple[Path, ...]) -> frozenset[int]:
    return frozenset().union(*(_charmap(p) for p in fonts))


def drawable(text: str, fonts: Collection[Path]) -> bool:
    """Whether every character of ``text`` has a glyph in one of ``fonts``."""
    have = _glyphs(tuple(fonts))
    return all(ord(ch) in have or ch.isspace() for ch in text)


def png_figure(view: Scene, system_fonts: bool = True) -> Figure:
    """The PNG map of ``view`` as a matplotlib figure (the caller saves and closes it).

    Latin text is set in DejaVu Sans and Chinese in :func:`cjk_font`; a name with a
    character neither font has is labelled by its id instead, and a note says so.

    Parameters
    ----------
    view
        What to draw (:func:`scene`).
    system_fonts
        Look for a system CJK font first; ``False`` uses the bundled one.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; artists carry a ``gid`` (``region``, ``route``, ``unmet``,
        ``facility``, ``scale-bar``, ``north-arrow``, ``caption``) for tests to find.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager, rc_context

    family, cjk_path = cjk_font(system_fonts)
    fonts = [Path(font_manager.findfont("DejaVu Sans", fallback_to_default=True)), cjk_path]
    with rc_context({"font.family": ["DejaVu Sans", family]}):
        return _png(view, fonts)


def _png(view: Scene, fonts: list[Path]) -> Figure:
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.patheffects import withStroke
    from matplotlib.ticker import FuncFormatter

    notes = list(view.notes)
    texts = [view.title, view.subtitle, *map(str, view.regions["name"]),
             *(e.label for e in view.legend)]
    undrawable = sorted({ch for t in texts for ch in t if not drawable(ch, fonts)})

    def shown(text: str) -> str:
        # a glyph no font has would print as a box and a warning: write "?" and say so
        return "".join("?" if ch in undrawable else ch for ch in text)

    # the map above, the legend and the caption in a panel below it: nothing hides the map
    rows = math.ceil(len(view.legend) / 2)
    below = 0.25 + 0.2 * rows + 0.16 * (len(notes) + bool(undrawable))
    fig, (ax, panel) = plt.subplots(2, 1, figsize=(10, 8.6 + below), dpi=120,
                                    height_ratios=(8.6, below))
    panel.set_axis_off()
    minx, miny, maxx, maxy = view.bounds
    if len(view.outline):
        view.outline.plot(ax=ax, color=LAND_COLOUR, edgecolor=BORDER_COLOUR, linewidth=0.6,
                          zorder=0, gid="outline")
    ax.set_facecolor("#dfeaf2")  # sea, where the outline leaves it
    view.regions.plot(ax=ax, color=list(view.regions["fill"]), edgecolor="#666666",
                      linewidth=0.4, zorder=1, gid="region")
    bar = fig.colorbar(ScalarMappable(Normalize(view.vmin, view.vmax), plt.get_cmap(SHADE_CMAP)),
                       ax=ax, shrink=0.55, pad=0.02)
    bar.set_label(view.shade_label)
    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _number(v)))
    faint = view.routes is not None
    if len(view.agreements):
        # with routes on top, agreements step back so the routes read first
        view.agreements.plot(ax=ax, color=AGREEMENT_COLOUR, linewidth=0.7 if faint else 1.2,
                             linestyle="--", alpha=0.35 if faint else 0.8, zorder=2,
                             gid="agreement")
    for f in view.facilities.itertuples():
        marker = MPL_MARKER[f.symbol]
        ax.scatter([f.geometry.x], [f.geometry.y], marker=marker, s=46, zorder=3,
                   facecolors=f.colour if f.open else "none", edgecolors=
                   "white" if f.open else f.colour, linewidths=0.6 if f.open else 1.3,
                   gid="facility")
    if view.routes is not None:
        widths = route_widths(len(view.routes))
        for line, colour, width, straight in zip(view.routes.geometry, view.routes["colour"],
                                                 widths, view.routes["straight"], strict=True):
            if line.geom_type != "LineString":  # a route that never leaves its depot's place
                ax.scatter([line.x], [line.y], s=70, facecolors="none", edgecolors=colour,
                           linewidths=1.4, zorder=5, gid="route-stop")
                continue
            xs, ys = line.xy
            ax.plot(xs, ys, color=colour, linewidth=width, alpha=0.9, zorder=4,
                    solid_capstyle="round", linestyle="--" if straight else "-", gid="route")
            # stops too, so a route to a point beside its depot still shows
            ax.scatter(list(xs), list(ys), s=70, facecolors="none", edgecolors=colour,
                       linewidths=1.4, zorder=5, gid="route-stop")
    if view.demand_points is not None:
        dp = view.demand_points
        ax.scatter(dp.geometry.x, dp.geometry.y, s=9, color=DEMAND_POINT_COLOUR, zorder=2,
                   gid="demand-point")
    if view.unmet is not None:
        ax.scatter(view.unmet.geometry.x, view.unmet.geometry.y, marker="X", s=110,
                   color=UNMET_COLOUR, edgecolors="white", linewidths=0.8, zorder=6,
                   gid="unmet")
    handles = [_handle(e, shown(e.label)) for e in view.legend]
    if handles:
        panel.legend(handles=handles, loc="upper left", fontsize=8, ncols=2, frameon=False,
                     bbox_to_anchor=(0.0, 1.0))
    if len(view.regions) <= 40:
        for r in view.regions.itertuples():
            seat = r.geometry.representative_point()
            ax.annotate(r.name if drawable(str(r.name), fonts) else r.id, (seat.x, seat.y),
                        fontsize=7, ha="center", va="bottom", xytext=(0, 4),
                        textcoords="offset points", zorder=7, gid="region-label",
                        path_effects=[withStroke(linewidth=2.5, foreground="white")])
    if undrawable:
        listed = " ".join(f"U+{ord(ch):04X}" for ch in undrawable[:8])
        notes.append(f"Characters no installed font has ({listed}"
                     f"{' ...' if len(undrawable) > 8 else ''}) are shown as '?' and such "
                     "region names by id; install a CJK font such as Noto Sans CJK (Debian: "
                     "fonts-noto-cjk).")
    lat = (miny + maxy) / 2
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect(1 / max(math.cos(math.radians(lat)), 0.1))
    ax.set_xlabel("longitude (degrees east, WGS84)")
    ax.set_ylabel("latitude (degrees north, WGS84)")
    subtitle = "\n".join(textwrap.wrap(shown(view.subtitle), 95))
    ax.set_title(f"{shown(view.title)}\n{subtitle}", fontsize=10.5)
    _scale_bar(ax, view.bounds)
    ax.annotate("N", xy=(0.05, 0.95), xytext=(0.05, 0.84), xycoords="axes fraction",
                ha="center", va="center", fontsize=12, family="DejaVu Sans", weight="bold",
                gid="north-arrow",
                arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.6})
    fig.tight_layout()
    panel.text(0.0, 0.0, "\n".join(notes), fontsize=7.5, ha="left", va="bottom",
               color="#333333", gid="caption", transform=panel.transAxes)
    return fig


def route_widths(n: int) -> list[float]:
    """Line widths (points) for ``n`` routes, widest first.

    Routes drawn later lie on top; narrowing them lets an earlier route along the same
    road still show on both sides instead of vanishing under a later one.
    """
    return [2.0 + 3.0 * (n - 1 - i) / max(n - 1, 1) for i in range(n)]


def _handle(entry: LegendEntry, label: str) -> Any:
    from matplotlib.lines import Line2D

    if entry.symbol in ("line", "dashed"):
        return Line2D([], [], color=entry.colour, linewidth=2.4 if entry.symbol == "line"
                      else 1.2, linestyle="-" if entry.symbol == "line" else "--",
                      label=entry.label)
    return Line2D([], [], marker=MPL_MARKER[entry.symbol], linestyle="", markersize=7,
                  markerfacecolor="none" if entry.hollow else entry.colour,
                  markeredgecolor=entry.colour, label=label)


def _scale_bar(ax: Any, bounds: tuple[float, float, float, float]) -> None:
    """A black-and-white bar of a round length in km at the lower left."""
    length, km_per_deg = _scale_km(bounds)
    minx, miny, maxx, maxy = bounds
    x0, y0 = minx + (maxx - minx) * 0.04, miny + (maxy - miny) * 0.04
    dx = length / km_per_deg
    for i in range(2):
        ax.plot([x0 + i * dx / 2, x0 + (i + 1) * dx / 2], [y0, y0], color="black" if i == 0
                else "white", linewidth=4, solid_capstyle="butt", zorder=8, gid="scale-bar")
    ax.plot([x0, x0 + dx], [y0, y0], color="black", linewidth=5.5, solid_capstyle="butt",
            zorder=7.9, gid="scale-bar")
    ax.annotate(f"{length:g} km", (x0 + dx / 2, y0), xytext=(0, 5), textcoords="offset points",
                ha="center", va="bottom", fontsize=8, zorder=8, gid="scale-bar")


# --------------------------------------------------------------------------- HTML


def html_text(value: object) -> str:
    """``value`` as text that is inert in HTML and in a JavaScript template literal.

    ``html.escape`` covers ``<``, ``>``, ``&`` and both quotes; the backtick and ``$`` are
    written as character references too, so the text stays plain even if it ever lands
    in a template literal where `` ` `` or ``${`` would run. A browser shows the original
    characters.

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


def routes_columns(routes: gpd.GeoDataFrame | None) -> list[str]:
    """The route columns a tooltip shows: all but the geometry."""
    return [] if routes is None else [str(c) for c in routes.columns if c != "geometry"]


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if math.isfinite(value) else str(value)
    return html_text(value)


def _features(frame: gpd.GeoDataFrame, tips: list[list[list[str]]],
              styles: list[dict[str, Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection with only a tooltip and a style per feature."""
    import json

    import shapely

    geoms = [json.loads(g) for g in shapely.to_geojson(frame.geometry.values)]
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": g, "properties": {"tip": t, "style": s}}
        for g, t, s in zip(geoms, tips, styles, strict=True)]}


def html_data(view: Scene, route_columns: list[str], tiles: str | None = None
              ) -> dict[str, Any]:
    """The page's data: layers with tooltip rows and styles, title, legend, tiles.

    Every text from input is :func:`html_text`-escaped here, once; the page's script
    writes it with ``innerHTML`` (so it shows as the original characters) and never
    evaluates it.

    Returns
    -------
    dict
        JSON-ready data for :func:`html_page`.
    """
    layers: list[dict[str, Any]] = []
    if len(view.outline):
        layers.append({"name": "outline", "interactive": False, "data": _features(
            view.outline, [[] for _ in range(len(view.outline))],
            [{"color": BORDER_COLOUR, "weight": 0.8, "fillColor": LAND_COLOUR,
              "fillOpacity": 1.0} for _ in range(len(view.outline))])})
    r = view.regions
    layers.append({"name": "regions", "interactive": True, "data": _features(
        r, [[["region", html_text(i)], ["name", html_text(n)],
             ["population (persons)", f"{p:,}"], ["risk (index 0-1)", f"{k:g}"]]
            for i, n, p, k in zip(r["id"], r["name"], r["population"], r["risk"], strict=True)],
        [{"color": "#666666", "weight": 0.8, "fillColor": c, "fillOpacity": 0.75}
         for c in r["fill"]])})
    a = view.agreements
    if len(a):
        layers.append({"name": "agreements", "interactive": True, "data": _features(
            a, [[["agreement", html_text(i)], ["tier", html_text(t)],
                 ["lender", html_text(le)], ["borrower", html_text(b)]]
                for i, t, le, b in zip(a["id"], a["tier"], a["lender"], a["borrower"],
                                       strict=True)],
            [{"color": AGREEMENT_COLOUR, "weight": 2, "dashArray": "6",
              "opacity": 0.45 if view.routes is not None else 0.85}
             for _ in range(len(a))])})
    if view.routes is not None:
        rt = view.routes[view.routes.geom_type == "LineString"]
        layers.append({"name": "routes", "interactive": True, "data": _features(
            rt, [[[html_text(c), _cell(row[c])] for c in route_columns]
                 for row in rt.to_dict("records")],
            [{"color": c, "weight": w, "opacity": 0.9, **({"dashArray": "8 6"} if s else {})}
             for c, w, s in zip(rt["colour"], route_widths(len(rt)), rt["straight"],
                                strict=True)])})
    dp = view.demand_points
    if dp is not None:
        layers.append({"name": "demand points", "interactive": True, "data": _features(
            dp, [[["demand point", html_text(i)], ["name", html_text(n)],
                  ["region", html_text(r)], ["population (persons)", f"{p:,.0f}"]]
                 for i, n, r, p in zip(dp["id"], dp["name"], dp["region"], dp["population"],
                                       strict=True)],
            [{"symbol": "circle", "colour": DEMAND_POINT_COLOUR, "hollow": False}
             for _ in range(len(dp))])})
    f = view.facilities
    if len(f):
        layers.append({"name": "facilities", "interactive": True, "data": _features(
            f, [[["facility", html_text(i)], ["name", html_text(n)], ["kind", html_text(k)],
                 ["status", "open" if o else "candidate, not opened"]]
                for i, n, k, o in zip(f["id"], f["name"], f["kind"], f["open"], strict=True)],
            [{"symbol": s, "colour": c, "hollow": not o}
             for s, c, o in zip(f["symbol"], f["colour"], f["open"], strict=True)])})
    u = view.unmet
    if u is not None:
        layers.append({"name": "unmet", "interactive": True, "data": _features(
            u, [[["unmet at", html_text(p)], ["name", html_text(n)],
                 ["units", f"{x:,.0f}"], ["by commodity", html_text(d)]]
                for p, n, x, d in zip(u["point"], u["name"], u["units"], u["detail"],
                                      strict=True)],
            [{"symbol": "cross", "colour": UNMET_COLOUR, "hollow": False}
             for _ in range(len(u))])})
    import matplotlib
    from matplotlib.colors import to_hex

    cmap = matplotlib.colormaps[SHADE_CMAP]
    minx, miny, maxx, maxy = view.bounds
    return {
        "title": html_text(view.title), "subtitle": html_text(view.subtitle),
        "notes": [html_text(n) for n in view.notes],
        "bounds": [[miny, minx], [maxy, maxx]],
        "shade": {"label": html_text(view.shade_label), "min": _number(view.vmin),
                  "max": _number(view.vmax),
                  "stops": [to_hex(cmap(i / 4)) for i in range(5)]},
        "legend": [{"label": html_text(e.label), "colour": e.colour, "symbol": e.symbol,
                    "hollow": e.hollow} for e in view.legend],
        "layers": layers,
        "tiles": None if tiles is None else {
            "url": tiles, "attribution": html_text(f"tiles: {tiles.split('/')[2]}")},
    }


PAGE_CSS = """
html, body, #map { height: 100%; margin: 0; }
body, .leaflet-container { font: 13px/1.35 "DejaVu Sans", Arial, "Noto Sans CJK SC",
  "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "Reserve Opt CJK", sans-serif; }
#map { background: #dfeaf2; }
.ro-box { background: rgba(255,255,255,0.92); padding: 6px 9px; border-radius: 4px;
          box-shadow: 0 1px 4px rgba(0,0,0,0.3); max-width: 420px; }
.ro-title h1 { font-size: 15px; margin: 0 0 2px; }
.ro-legend div { white-space: nowrap; margin: 2px 0; }
.ro-legend svg { vertical-align: middle; margin-right: 5px; }
.ro-ramp { height: 10px; width: 180px; }
.ro-notes { font-size: 11px; color: #333; max-width: 520px; }
.ro-north { text-align: center; font-weight: bold; }
.ro-icon { background: none; border: none; }
"""

PAGE_JS = """
(function () {
  var data = JSON.parse(document.getElementById('map-data').textContent);
  var map = L.map('map', {zoomSnap: 0.25});
  window.map_reserve_opt = map;
  map.attributionControl.setPrefix('Leaflet (BSD-2-Clause)');
  if (data.tiles) {
    L.tileLayer(data.tiles.url, {attribution: data.tiles.attribution}).addTo(map);
  }
  function symbol(s, colour, hollow, size) {
    var fill = hollow ? 'none' : colour, edge = hollow ? colour : '#ffffff';
    var h = size / 2, p = {'stroke': edge, 'stroke-width': hollow ? 2 : 1, 'fill': fill};
    var attrs = Object.keys(p).map(function (k) { return k + '="' + p[k] + '"'; }).join(' ');
    var shape;
    if (s === 'square') shape = '<rect x="2" y="2" width="' + (size - 4) + '" height="' +
      (size - 4) + '" ' + attrs + '/>';
    else if (s === 'triangle') shape = '<polygon points="' + h + ',1 ' + (size - 1) + ',' +
      (size - 2) + ' 1,' + (size - 2) + '" ' + attrs + '/>';
    else if (s === 'plus') shape = '<path d="M' + (h - 2) + ' 1h4v' + (h - 3) + 'h' + (h - 3) +
      'v4h-' + (h - 3) + 'v' + (h - 3) + 'h-4v-' + (h - 3) + 'h-' + (h - 3) + 'v-4h' + (h - 3) +
      'z" ' + attrs + '/>';
    else if (s === 'cross') shape = '<path d="M2 2L' + (size - 2) + ' ' + (size - 2) + 'M' +
      (size - 2) + ' 2L2 ' + (size - 2) + '" stroke="' + colour + '" stroke-width="4"/>';
    else if (s === 'line' || s === 'dashed') shape = '<line x1="1" y1="' + h + '" x2="' +
      (size - 1) + '" y2="' + h + '" stroke="' + colour + '" stroke-width="' +
      (s === 'line' ? 3.5 : 2) + '"' + (s === 'dashed' ? ' stroke-dasharray="4 3"' : '') + '/>';
    else shape = '<circle cx="' + h + '" cy="' + h + '" r="' + (h - 2) + '" ' + attrs + '/>';
    return '<svg width="' + size + '" height="' + size + '" viewBox="0 0 ' + size + ' ' + size +
      '">' + shape + '</svg>';
  }
  function tip(rows) {
    return rows.map(function (r) { return '<b>' + r[0] + '</b>: ' + r[1]; }).join('<br>');
  }
  data.layers.forEach(function (layer) {
    L.geoJSON(layer.data, {
      interactive: layer.interactive,
      style: function (f) { return f.properties.style; },
      pointToLayer: function (f, latlng) {
        var st = f.properties.style;
        return L.marker(latlng, {icon: L.divIcon({className: 'ro-icon', iconSize: [16, 16],
          html: symbol(st.symbol, st.colour, st.hollow, 16)})});
      },
      onEachFeature: function (f, l) {
        if (f.properties.tip.length) l.bindTooltip(tip(f.properties.tip), {sticky: true});
      }
    }).addTo(map);
  });
  function box(position, cls, html) {
    var Box = L.Control.extend({onAdd: function () {
      var d = L.DomUtil.create('div', 'ro-box ' + cls);
      d.innerHTML = html;
      L.DomEvent.disableClickPropagation(d);
      return d;
    }});
    new Box({position: position}).addTo(map);
  }
  box('topright', 'ro-title', '<h1>' + data.title + '</h1><div>' + data.subtitle + '</div>');
  box('topleft', 'ro-north', '<svg width="22" height="30" viewBox="0 0 22 30">' +
    '<polygon points="11,2 19,26 11,20 3,26" fill="#222"/></svg><div>N</div>');
  var legend = data.legend.map(function (e) {
    return '<div>' + symbol(e.symbol, e.colour, e.hollow, 16) + e.label + '</div>';
  }).join('');
  var ramp = '<div>' + data.shade.label + '</div><svg class="ro-ramp" viewBox="0 0 180 10" ' +
    'preserveAspectRatio="none"><defs><linearGradient id="ro-ramp">' +
    data.shade.stops.map(function (c, i) {
      return '<stop offset="' + (i * 25) + '%" stop-color="' + c + '"/>'; }).join('') +
    '</linearGradient></defs><rect width="180" height="10" fill="url(#ro-ramp)"/></svg>' +
    '<div>' + data.shade.min + ' &ndash; ' + data.shade.max + '</div>';
  box('bottomright', 'ro-legend', legend + ramp);
  L.control.scale({imperial: false, maxWidth: 200, position: 'bottomleft'}).addTo(map);
  box('bottomleft', 'ro-notes', data.notes.join('<br>'));
  // fit the regions into what the legend and the north arrow leave free
  var legendBox = document.querySelector('.ro-legend');
  map.fitBounds(data.bounds, {paddingTopLeft: [60, 10],
    paddingBottomRight: [legendBox ? legendBox.offsetWidth + 20 : 10, 10]});
})();
"""


def _strings(value: object) -> list[str]:
    """Every string inside ``value`` (dicts, lists), depth first."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def font_face(texts: Collection[str], font: tuple[str, Path] = BUNDLED_CJK) -> str:
    """A CSS ``@font-face`` holding the CJK glyphs ``texts`` need, or ``""``.

    The font (the bundled one by default, or e.g. :func:`cjk_font`'s) is cut with
    fontTools to just those characters (a few kB as WOFF) and inlined as a ``data:`` URL,
    so Chinese names show on a machine without a CJK font and the page fetches nothing.
    In a collection (``.ttc``) the Simplified Chinese face is taken.

    Parameters
    ----------
    texts
        The page's texts.
    font
        CSS family name and font file.

    Returns
    -------
    str
        CSS text, empty when no text needs a character of the font.
    """
    import base64
    import io

    from fontTools import subset
    from fontTools.ttLib import TTFont

    family, path = font
    have = _charmap(path)
    chars = sorted({ch for t in texts for ch in t if ord(ch) > 0x7F and ord(ch) in have})
    if not chars:
        return ""
    options = subset.Options()
    options.flavor, options.layout_features, options.hinting = "woff", [], False
    with TTFont(str(path), fontNumber=_sc_face(path)) as font_file:
        cut = subset.Subsetter(options)
        cut.populate(text="".join(chars))
        cut.subset(font_file)
        buffer = io.BytesIO()
        font_file.flavor = "woff"
        font_file.save(buffer)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'@font-face {{ font-family: "{family}"; '
            f'src: url(data:font/woff;base64,{encoded}) format("woff"); }}\n')


def html_page(view: Scene, route_columns: list[str], tiles: str | None = None) -> str:
    """A self-contained HTML page of ``view``: Leaflet, styles, script and data inline.

    Parameters
    ----------
    view
        What to draw (:func:`scene`).
    route_columns
        The route columns the route tooltips show.
    tiles
        A tile URL template to draw under the map, or ``None`` for none.

    Returns
    -------
    str
        The page; it requests nothing unless ``tiles`` is given.
    """
    import json

    leaflet_css = (MAPDATA / "leaflet.css").read_text(encoding="utf-8")
    # the images it names (layer and marker icons) are not used and not shipped
    leaflet_css = re.sub(r"url\(images/[^)]*\)", "none", leaflet_css)
    leaflet_js = (MAPDATA / "leaflet.min.js").read_text(encoding="utf-8")
    # JSON that cannot close its <script> element or start markup: the same escapes as
    # jinja2's htmlsafe_json_dumps
    content = html_data(view, route_columns, tiles)
    data = json.dumps(content).replace("<", "\\u003c") \
        .replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")
    title = html_text(f"{view.title}: {view.subtitle}")
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
        # recognised by reserve_opt.io.outdir: a later run may replace this page
        f"<meta name=\"generator\" content=\"{html_text(signature())}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{title}</title>\n"
        f"<style>\n{leaflet_css}\n{font_face(_strings(content))}{PAGE_CSS}</style>\n"
        f"<script>\n{leaflet_js}\n</script>\n</head>\n<body>\n<div id=\"map\"></div>\n"
        f"<script type=\"application/json\" id=\"map-data\">{data}</script>\n"
        f"<script>{PAGE_JS}</script>\n</body>\n</html>\n")
