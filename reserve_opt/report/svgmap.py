"""Maps as inline SVG: the instance's own polygons over Natural Earth country outlines.

No tiles, no script: every shape is a path in the page. Longitude and latitude are drawn
in an equirectangular projection scaled by the cosine of the middle latitude (true to
shape at the scale of a province). Every name and id reaches the SVG only as escaped text
(``<title>`` tooltips and labels).
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from reserve_opt.domain import FacilityKind
from reserve_opt.maps import MAPDATA

if TYPE_CHECKING:
    from reserve_opt.domain import Instance

OUTLINE = MAPDATA / "ne_countries.geojson.gz"
"""Natural Earth 1:50m countries, simplified: the maps' outline (``mapdata/README.md``)."""

WIDTH = 860.0
"""Width of the map drawing, px (its height follows the extent)."""
MARGIN = 0.06
"""Share of the regions' extent added around them."""
MAX_ASPECT = 0.8
"""Most height per width of a map (a taller extent is widened)."""
MAX_LABELS = 40
"""Regions are labelled on the map up to this many."""

#: Fill-rate classes: (lowest share, colour, legend key), highest first.
FILL_CLASSES = ((1 - 1e-9, "#d9ead3", "legend_full"), (0.95, "#fdd49e", "legend_95"),
                (0.90, "#fc8d59", "legend_90"), (-1.0, "#d7301f", "legend_low"))
NO_DEMAND = "#f3f3f3"
SEA, LAND, BORDER = "#dbe8f2", "#f5f2ea", "#b7b0a2"
ROUTE_COLOURS = ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628",
                 "#f781bf", "#17becf", "#bcbd22", "#000000")
FACILITY_MARKS: dict[FacilityKind, tuple[str, str, str]] = {
    # kind: (shape, colour, legend key)
    FacilityKind.GOVERNMENT_WAREHOUSE: ("square", "#1f4e79", "legend_gov"),
    FacilityKind.ENTERPRISE_RESERVE: ("triangle", "#d95f02", "legend_enterprise"),
    FacilityKind.PRODUCTION_CAPACITY: ("diamond", "#7570b3", "legend_production"),
    FacilityKind.DISTRIBUTION_POINT: ("circle", "#1b9e77", "legend_distribution"),
}


def fill_colour(share: float | None) -> str:
    """The colour of a fill-rate share (``None``: no demand)."""
    if share is None:
        return NO_DEMAND
    return next(colour for low, colour, _ in FILL_CLASSES if share >= low)


@dataclass(frozen=True)
class MapLayers:
    """What a map shows over the regions and facilities.

    Attributes
    ----------
    fill
        Region id -> share of demand served (0-1); regions not in it have no demand.
    opened
        Candidate warehouses the plan opens (drawn solid; other candidates hollow).
    flows
        Shipments: (from lon/lat, to lon/lat, units, tooltip text).
    routes
        Vehicle routes: (label, lon/lat points).
    unmet
        Deliveries not on a route: (lon/lat, tooltip text).
    """

    fill: dict[str, float] = field(default_factory=dict)
    opened: frozenset[str] = frozenset()
    flows: Sequence[tuple[tuple[float, float], tuple[float, float], float, str]] = ()
    routes: Sequence[tuple[str, Sequence[tuple[float, float]]]] = ()
    unmet: Sequence[tuple[tuple[float, float], str]] = ()


@lru_cache(maxsize=1)
def _outline() -> list[tuple[Any, str]]:
    """Country outlines (shapely geometry, name), read once."""
    from shapely.geometry import shape

    doc = json.loads(gzip.decompress(OUTLINE.read_bytes()).decode("utf-8"))
    return [(shape(f["geometry"]), str(f["properties"].get("NAME", "")))
            for f in doc["features"]]


class _Projection:
    """Lon/lat degrees to SVG px over a bounding box."""

    def __init__(self, bounds: tuple[float, float, float, float]) -> None:
        minx, miny, maxx, maxy = bounds
        dx, dy = max(maxx - minx, 0.05), max(maxy - miny, 0.05)
        self.miny, self.maxy = miny - dy * MARGIN, maxy + dy * MARGIN
        self.kx = math.cos(math.radians((self.miny + self.maxy) / 2))
        # a tall extent is widened to landscape, so the map fits a printed page
        dx = max(dx * (1 + 2 * MARGIN), (self.maxy - self.miny) / (MAX_ASPECT * self.kx))
        mid = (minx + maxx) / 2
        self.minx, self.maxx = mid - dx / 2, mid + dx / 2
        self.scale = WIDTH / ((self.maxx - self.minx) * self.kx)
        self.height = (self.maxy - self.miny) * self.scale

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return ((lon - self.minx) * self.kx * self.scale, (self.maxy - lat) * self.scale)

    def km_per_px(self) -> float:
        return 111.32 * math.cos(math.radians((self.miny + self.maxy) / 2)) / (
            self.kx * self.scale)

    def box(self) -> tuple[float, float, float, float]:
        return self.minx, self.miny, self.maxx, self.maxy


def _path(geom: Any, proj: _Projection) -> str:
    """SVG path data of a (multi)polygon's rings."""
    polys = list(getattr(geom, "geoms", [geom]))
    parts = []
    for poly in polys:
        if poly.is_empty or not hasattr(poly, "exterior"):
            continue
        for ring in [poly.exterior, *poly.interiors]:
            pts = [proj.xy(x, y) for x, y in ring.coords]
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + "Z")
    return "".join(parts)


def _line(points: Iterable[tuple[float, float]], proj: _Projection) -> str:
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in (proj.xy(*p) for p in points))


def _marker(shape: str, x: float, y: float, colour: str, solid: bool, tip: str) -> Markup:
    fill = colour if solid else "#ffffff"
    r = 5.0
    if shape == "square":
        body = Markup('<rect x="{}" y="{}" width="{}" height="{}"').format(
            f"{x - r:.1f}", f"{y - r:.1f}", f"{2 * r:.1f}", f"{2 * r:.1f}")
    elif shape == "triangle":
        body = Markup('<polygon points="{}"').format(
            f"{x:.1f},{y - r - 1:.1f} {x - r:.1f},{y + r:.1f} {x + r:.1f},{y + r:.1f}")
    elif shape == "diamond":
        body = Markup('<polygon points="{}"').format(
            f"{x:.1f},{y - r - 1:.1f} {x + r + 1:.1f},{y:.1f} {x:.1f},{y + r + 1:.1f} "
            f"{x - r - 1:.1f},{y:.1f}")
    else:
        body = Markup('<circle cx="{}" cy="{}" r="{}"').format(f"{x:.1f}", f"{y:.1f}", r)
    return body + Markup(' fill="{}" stroke="{}" stroke-width="1.6"><title>{}</title>'
                         '</{}>').format(fill, colour, tip, body.split(" ")[0][1:])


def _scale_bar(proj: _Projection, t: Callable[..., str]) -> Markup:
    """A scale bar of a round length near a fifth of the width, and a north arrow."""
    target = WIDTH / 5 * proj.km_per_px()
    step = 10 ** math.floor(math.log10(target))
    km = max((m * step for m in (1, 2, 5) if m * step <= target), default=step)
    px = km / proj.km_per_px()
    x0, y0 = 16.0, proj.height - 18
    return Markup(
        '<g class="scale"><rect x="{x0}" y="{y1}" width="{w}" height="6" fill="#333"/>'
        '<rect x="{xm}" y="{y1}" width="{half}" height="6" fill="#fff" stroke="#333"/>'
        '<text x="{x0}" y="{yt}">0</text><text x="{xe}" y="{yt}" text-anchor="end">{km} {unit}'
        '</text></g><g class="north"><path d="M{nx},{ny0}L{nxl},{ny1}L{nx},{ny2}L{nxr},{ny1}Z"'
        ' fill="#333"/><text x="{nx}" y="{nyt}" text-anchor="middle">{n}</text></g>').format(
        x0=f"{x0:.1f}", y1=f"{y0 - 6:.1f}", w=f"{px:.1f}", xm=f"{x0 + px / 2:.1f}",
        half=f"{px / 2:.1f}", yt=f"{y0 - 10:.1f}", xe=f"{x0 + px:.1f}", km=f"{km:g}",
        unit=t("km"), nx=f"{WIDTH - 24:.1f}", ny0="30.0", nxl=f"{WIDTH - 32:.1f}",
        ny1="52.0", ny2="46.0", nxr=f"{WIDTH - 16:.1f}", nyt="24.0", n=t("north"))


def draw_svg(inst: Instance, layers: MapLayers, t: Callable[..., str],
             caption_id: str) -> Markup:
    """The map of ``inst`` with ``layers`` as an inline ``<svg>`` element.

    Parameters
    ----------
    inst
        The instance (its region polygons, or generated service areas without them).
    layers
        Fill rates, shipments, routes and unmet deliveries to draw.
    t
        The report's label lookup (:func:`reserve_opt.report.i18n.translator`).
    caption_id
        Id of the caption element that describes the map (``aria-describedby``).

    Returns
    -------
    Markup
        The SVG, every name escaped.
    """
    from shapely.geometry import box

    from reserve_opt.maps import region_frame

    regions = region_frame(inst)
    minx, miny, maxx, maxy = (float(v) for v in regions.total_bounds)
    proj = _Projection((minx, miny, maxx, maxy))
    tolerance = 0.8 / proj.scale  # under a pixel: the file stays small, the shape the same
    frame = box(*proj.box())
    out: list[Markup] = [Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="0 0 {w} {h}" '
        'role="img" aria-describedby="{cap}"><rect width="{w}" height="{h}" fill="{sea}"/>'
        ).format(w=f"{WIDTH:.0f}", h=f"{proj.height:.0f}", cap=caption_id, sea=SEA)]
    for geom, name in _outline():
        if not geom.intersects(frame):
            continue
        clipped = geom.intersection(frame)
        out.append(Markup('<path d="{}" fill="{}" stroke="{}" stroke-width="0.8">'
                          '<title>{}</title></path>').format(
            _path(clipped, proj), LAND, BORDER, name))
    names = {r.id: r.name for r in inst.regions}
    for rid, geom in zip(regions["id"], regions.geometry, strict=True):
        share = layers.fill.get(str(rid))
        tip = f"{names[str(rid)]} ({rid})" + ("" if share is None else
                                               f": {share * 100:.1f}%")
        out.append(Markup('<path class="region" d="{}" fill="{}" fill-opacity="0.85" '
                          'stroke="#6b6b6b" stroke-width="0.7"><title>{}</title></path>')
                   .format(_path(geom.simplify(tolerance, preserve_topology=True), proj),
                           fill_colour(share), tip))
    if layers.flows:
        most = max(q for *_, q, _ in layers.flows) or 1.0
        for a, b, q, tip in layers.flows:
            out.append(Markup('<path d="{}" fill="none" stroke="#5e6f80" stroke-opacity="0.55" '
                              'stroke-width="{}" stroke-dasharray="4 3"><title>{}</title></path>')
                       .format(_line([a, b], proj), f"{0.8 + 3.2 * q / most:.1f}", tip))
    for n, (label, points) in enumerate(layers.routes):
        colour = ROUTE_COLOURS[n % len(ROUTE_COLOURS)]
        out.append(Markup('<path d="{}" fill="none" stroke="{}" stroke-width="2.4" '
                          'stroke-linejoin="round" stroke-opacity="0.9"><title>{}</title>'
                          '</path>').format(_line(points, proj), colour, label))
    for f in inst.facilities:
        shape, colour, _ = FACILITY_MARKS[f.kind]
        x, y = proj.xy(f.lon, f.lat)
        solid = f.existing or f.id in layers.opened or not f.is_candidate
        out.append(_marker(shape, x, y, colour, solid, f"{f.name} ({f.id})"))
    for (lon, lat), tip in layers.unmet:
        x, y = proj.xy(lon, lat)
        out.append(Markup('<path d="M{a},{b}L{c},{d}M{a},{d}L{c},{b}" stroke="#b10026" '
                          'stroke-width="3"><title>{tip}</title></path>').format(
            a=f"{x - 6:.1f}", b=f"{y - 6:.1f}", c=f"{x + 6:.1f}", d=f"{y + 6:.1f}", tip=tip))
    if len(inst.regions) <= MAX_LABELS:
        for r in inst.regions:
            x, y = proj.xy(r.lon, r.lat)
            out.append(Markup('<text class="label" x="{}" y="{}" text-anchor="middle">{}'
                              '</text>').format(f"{x:.1f}", f"{y - 8:.1f}", r.name))
    out.append(_scale_bar(proj, t))
    out.append(Markup("</svg>"))
    return Markup("").join(out)


def legend(t: Callable[..., str], layers: MapLayers, inst: Instance) -> Markup:
    """The map's legend as an HTML list (colours as in :func:`draw_svg`)."""
    items: list[tuple[str, str]] = [(colour, t(key)) for _, colour, key in FILL_CLASSES]
    items.append((NO_DEMAND, t("legend_none")))
    out = [Markup('<ul class="legend">')]
    for colour, text in items:
        out.append(Markup('<li><span class="swatch" style="background:{}"></span>{}</li>')
                   .format(colour, text))
    kinds = {f.kind for f in inst.facilities}
    for kind, (_, colour, key) in FACILITY_MARKS.items():
        if kind in kinds:
            out.append(Markup('<li><span class="dot" style="background:{}"></span>{}</li>')
                       .format(colour, t(key)))
    if any(f.is_candidate and f.id not in layers.opened for f in inst.facilities):
        out.append(Markup('<li><span class="dot hollow"></span>{}</li>').format(
            t("legend_candidate")))
    if layers.flows:
        out.append(Markup('<li><span class="line dashed"></span>{}</li>').format(
            t("legend_flows")))
    if layers.routes:
        colours = "".join(f'<span class="line" style="background:{c}"></span>'
                          for c in ROUTE_COLOURS[:min(len(layers.routes), 4)])
        out.append(Markup("<li>") + Markup(colours) + Markup("{}</li>").format(
            t("legend_routes")))
    if layers.unmet:
        out.append(Markup('<li><span class="cross">×</span>{}</li>').format(t("legend_unmet")))
    out.append(Markup("</ul>"))
    return Markup("").join(out)
