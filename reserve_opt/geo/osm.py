"""Road lines from OpenStreetMap (or any line file) made into an instance's road layer.

:func:`read_lines` reads an OSM ``.pbf`` extract (with pyrosm, its driving network) or any
line file GeoPandas reads; :func:`normalise_roads` turns OSM tags into the layer's two
columns, as OSMnx reads them:

* ``oneway``: ``yes``/``true``/``1`` along the line, ``-1``/``reverse`` against it (the line
  is reversed and written as ``yes``), ``no``/``false``/``0``/``reversible``/``alternating``/
  empty both ways (``no``); ``junction=roundabout`` is one way along the line.
* ``speed_kmh``: ``maxspeed`` in km/h or mph (:func:`~reserve_opt.geo.roads.parse_maxspeed`);
  a country tag (``FI:urban``, ``GB:nsl_single``, or ``national`` with ``--country``) takes
  :data:`COUNTRY_LIMITS_KMH`; a road without a number takes its highway class's
  :data:`CLASS_SPEED_KMH` (``models/roads.md`` lists both tables). Each road's
  ``speed_source`` says which.

:func:`largest_strong_component` keeps the largest strongly connected part of the
segments and says what it dropped.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph

from reserve_opt.errors import InputError
from reserve_opt.geo.crs import WGS84
from reserve_opt.geo.distance import geodesic_arcs_km
from reserve_opt.geo.roads import MPH_KMH, parse_maxspeed, parse_oneway

__all__ = ["CLASS_SPEED_KMH", "COUNTRY_LIMITS_KMH", "Component", "clip_to", "extent_box",
           "largest_strong_component", "normalise_roads", "read_lines"]

#: Speed of a road without a usable ``maxspeed``, by its ``highway`` class, km/h.
CLASS_SPEED_KMH: dict[str, float] = {
    "motorway": 110.0, "motorway_link": 60.0, "trunk": 90.0, "trunk_link": 50.0,
    "primary": 70.0, "primary_link": 50.0, "secondary": 60.0, "secondary_link": 40.0,
    "tertiary": 50.0, "tertiary_link": 40.0, "unclassified": 40.0, "road": 40.0,
    "residential": 30.0, "living_street": 10.0, "service": 20.0,
}

#: Legal limits by country and zone, km/h (OSM wiki "Default speed limits"); GB in mph.
COUNTRY_LIMITS_KMH: dict[str, dict[str, float]] = {
    "CN": {"urban": 50.0, "rural": 70.0, "motorway": 120.0},
    "DE": {"urban": 50.0, "rural": 100.0, "motorway": 130.0},
    "FI": {"urban": 50.0, "rural": 80.0, "motorway": 120.0},
    "FR": {"urban": 50.0, "rural": 80.0, "motorway": 130.0},
    "GB": {"urban": 30 * MPH_KMH, "rural": 60 * MPH_KMH, "nsl_single": 60 * MPH_KMH,
           "nsl_dual": 70 * MPH_KMH, "motorway": 70 * MPH_KMH},
}

#: The zone of each class, for ``national`` tags and ``--country`` (else ``rural``).
_CLASS_ZONE = {"motorway": "motorway", "motorway_link": "motorway", "residential": "urban",
               "living_street": "urban", "service": "urban"}

#: ``maxspeed`` values that post no number (OSM): the road takes its default.
_NO_NUMBER = frozenset({"none", "signals", "variable", "walk", "national"})

_HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
_COUNTRY_TAG = re.compile(r"^([a-z]{2}):([a-z_]+)$")


def read_lines(path: Path, box: tuple[float, float, float, float] | None = None
               ) -> gpd.GeoDataFrame:
    """Read road lines: an OSM ``.pbf`` (its driving network) or any line file.

    Parameters
    ----------
    path
        The ``.pbf`` extract, or a GeoPackage/Shapefile/GeoJSON of lines.
    box
        (min lon, min lat, max lon, max lat): pyrosm reads only the ways that reach into
        it, so a national extract need not be held whole (line files are read whole).

    Returns
    -------
    geopandas.GeoDataFrame
        In WGS84, with ``highway``, ``oneway`` and ``maxspeed`` (or ``speed_kmh``) when the
        source has them; GDAL's OSM ``other_tags`` are unpacked into those columns.

    Raises
    ------
    InputError
        An unreadable file, or one without lines.
    """
    name = path.name
    if not path.is_file():
        raise InputError(f"{path}: does not exist; give an OSM .pbf extract or a line file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if path.suffix.lower() == ".pbf":
                import pyrosm

                frame = pyrosm.OSM(str(path), bounding_box=None if box is None else list(box)
                                   ).get_network(network_type="driving")
            else:
                frame = gpd.read_file(path)
    except InputError:
        raise
    except Exception as err:  # pyrosm and pyogrio raise their own types
        raise InputError(f"{name}: cannot be read as roads ({str(err)[:200]}); give an OSM "
                         ".pbf extract or a GeoPackage/Shapefile/GeoJSON of lines") from None
    if not isinstance(frame, gpd.GeoDataFrame) or not len(frame):
        raise InputError(f"{name}: holds no roads for driving; give an extract with roads")
    if frame.crs is None:
        raise InputError(f"{name}: has no CRS; write it with one (a Shapefile needs its .prj)")
    kinds = set(frame.geometry.geom_type.dropna())
    if not kinds <= {"LineString", "MultiLineString"}:
        other = ", ".join(sorted(kinds - {"LineString", "MultiLineString"}))
        raise InputError(f"{name}: holds {other} geometries; give a layer of road lines")
    if "other_tags" in frame.columns:  # GDAL's OSM driver keeps most tags in an hstore
        tags = [dict(_HSTORE.findall(t)) if isinstance(t, str) else {}
                for t in frame["other_tags"]]
        for key in ("oneway", "maxspeed", "junction"):
            if key not in frame.columns:
                frame[key] = [t.get(key) for t in tags]
    return frame.to_crs(WGS84).reset_index(drop=True)


def extent_box(lon: NDArray[np.float64], lat: NDArray[np.float64],
               margin_km: float) -> tuple[float, float, float, float]:
    """The points' extent plus a margin.

    Parameters
    ----------
    lon, lat
        The instance's points, degrees.
    margin_km
        Added on every side, km (converted at the extent's largest absolute latitude,
        where a degree of longitude is shortest, so the margin is at least that everywhere).

    Returns
    -------
    tuple
        (min lon, min lat, max lon, max lat), degrees.
    """
    dlat = margin_km / 111.32
    widest = min(89.0, float(np.max(np.abs(lat))) + dlat)
    dlon = margin_km / (111.32 * math.cos(math.radians(widest)))
    return (float(lon.min()) - dlon, float(lat.min()) - dlat,
            float(lon.max()) + dlon, float(lat.max()) + dlat)


def clip_to(frame: gpd.GeoDataFrame, box: tuple[float, float, float, float]
            ) -> gpd.GeoDataFrame:
    """The lines inside ``box`` (:func:`extent_box`), cut at its edge."""
    clipped = gpd.clip(frame, shapely.box(*box))
    clipped = clipped[clipped.geometry.geom_type.isin(["LineString", "MultiLineString"])]
    return clipped.reset_index(drop=True)


def normalise_roads(frame: gpd.GeoDataFrame, *, country: str | None,
                    name: str) -> gpd.GeoDataFrame:
    """Lines with ``oneway`` (yes/no, drawn in the driving direction) and ``speed_kmh``.

    Parameters
    ----------
    frame
        Road lines, WGS84, with OSM ``oneway``/``maxspeed``/``highway`` columns or a numeric
        ``speed_kmh`` column.
    country
        ISO code whose legal limits ``national`` and a missing ``maxspeed`` take
        (:data:`COUNTRY_LIMITS_KMH`); ``None``: class defaults only.
    name
        Source name for messages.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``osm_id, highway, oneway, speed_kmh, speed_source, geometry``.

    Raises
    ------
    InputError
        An unknown country, a tag that is not a speed, or a road without any speed.
    """
    n = len(frame)
    if country is not None and country.upper() not in COUNTRY_LIMITS_KMH:
        raise InputError(f"--country {country}: has no default limits here; use one of "
                         f"{', '.join(COUNTRY_LIMITS_KMH)} or leave it out for class defaults")
    limits = COUNTRY_LIMITS_KMH.get((country or "").upper())
    highway = [str(h) if isinstance(h, str) else "" for h in
               (frame["highway"] if "highway" in frame.columns else [""] * n)]
    oneway = frame["oneway"].tolist() if "oneway" in frame.columns else [None] * n
    if "junction" in frame.columns:  # a roundabout is one way along the line (OSMnx)
        oneway = ["yes" if j == "roundabout" and (o is None or o != o) else o
                  for o, j in zip(oneway, frame["junction"], strict=True)]
    forward, backward = parse_oneway(oneway, source=f"{name}: oneway")
    speed = np.full(n, np.nan)
    source = np.full(n, "", dtype=object)
    if "speed_kmh" in frame.columns:
        speed = pd.to_numeric(frame["speed_kmh"], errors="coerce").to_numpy(np.float64)
        source[np.isfinite(speed)] = "speed_kmh"
    elif "maxspeed" in frame.columns:
        for i, tag in enumerate(frame["maxspeed"]):
            if not isinstance(tag, str) or not tag.strip():
                continue
            zone = _zone_of(tag.strip().lower(), highway[i], limits)
            if zone is not None:
                speed[i], source[i] = zone, "country default"
                continue
            low = tag.strip().lower()
            if low in _NO_NUMBER or _COUNTRY_TAG.match(low):
                continue  # no number posted: the class (or country) default below
            speed[i] = parse_maxspeed([tag], math.nan, source=f"{name}: maxspeed of road "
                                      f"{i + 1}")[0]
            source[i] = "maxspeed"
    for i in (int(k) for k in np.flatnonzero(~np.isfinite(speed))):
        if limits is not None and highway[i] in CLASS_SPEED_KMH:
            speed[i] = limits[_CLASS_ZONE.get(highway[i], "rural")]
            source[i] = "country default"
        elif highway[i] in CLASS_SPEED_KMH:
            speed[i], source[i] = CLASS_SPEED_KMH[highway[i]], "class default"
        else:
            raise InputError(
                f"{name}: road {i + 1} (highway '{highway[i] or 'empty'}') has no speed and no "
                "class default; give it a maxspeed or speed_kmh, or drop it from the file")
    geoms = frame.geometry.to_numpy()
    back_only = backward & ~forward
    geoms = np.where(back_only, shapely.reverse(geoms), geoms)
    ids = frame["id"] if "id" in frame.columns else frame.get("osm_id", pd.Series(range(n)))
    return gpd.GeoDataFrame({
        "osm_id": [str(x) for x in ids],
        "highway": highway,
        "oneway": np.where(forward & backward, "no", "yes"),
        "speed_kmh": speed,
        "speed_source": source.astype(str),
    }, geometry=list(geoms), crs=WGS84)


def _zone_of(tag: str, highway: str, limits: dict[str, float] | None) -> float | None:
    """km/h of a country tag (``FI:urban``, ``GB:nsl_single``, ``national``), else None."""
    if tag == "national":
        if limits is None:
            return None
        return limits[_CLASS_ZONE.get(highway, "rural")]
    m = _COUNTRY_TAG.match(tag)
    if m is None:
        return None
    table = COUNTRY_LIMITS_KMH.get(m.group(1).upper())
    if table is None or m.group(2) not in table:
        return None
    return table[m.group(2)]


@dataclass(frozen=True)
class Component:
    """The segments kept and what was dropped to keep one strongly connected part.

    Attributes
    ----------
    segments
        One feature per kept segment (two consecutive vertices of a road), its road's
        columns and its geodesic ``length_km``.
    dropped_segments, dropped_km, kept_km
        Segments dropped, their length and the length kept, km.
    """

    segments: gpd.GeoDataFrame
    dropped_segments: int
    dropped_km: float
    kept_km: float


def largest_strong_component(roads: gpd.GeoDataFrame, *,
                             node_precision_deg: float = 1e-7) -> Component:
    """Split roads into segments and keep those of the largest strongly connected part.

    Parameters
    ----------
    roads
        Output of :func:`normalise_roads`.
    node_precision_deg
        Vertices equal to this many degrees are one node (as in
        :func:`~reserve_opt.geo.roads.build_road_network`).

    Returns
    -------
    Component
    """
    parts, road = shapely.get_parts(roads.geometry.to_numpy(), return_index=True)
    xy, part_of = shapely.get_coordinates(parts, return_index=True)
    a = np.flatnonzero(part_of[1:] == part_of[:-1])
    key = np.round(xy / node_precision_deg).astype(np.int64)
    _, node = np.unique(key, axis=0, return_inverse=True)
    node = node.ravel()
    u, v = node[a], node[a + 1]
    keep_seg = u != v
    a, u, v = a[keep_seg], u[keep_seg], v[keep_seg]
    seg_road = road[part_of[a]]
    two = (roads["oneway"].to_numpy() == "no")[seg_road]
    n = int(node.max()) + 1 if node.size else 0
    g = sparse.csr_matrix((np.ones(u.size + int(two.sum())),
                           (np.concatenate([u, v[two]]), np.concatenate([v, u[two]]))),
                          shape=(n, n))
    _, label = csgraph.connected_components(g, directed=True, connection="strong")
    biggest = int(np.bincount(label[np.concatenate([u, v])]).argmax()) if u.size else 0
    inside = (label[u] == biggest) & (label[v] == biggest)
    km = geodesic_arcs_km(xy[a, 0], xy[a, 1], xy[a + 1, 0], xy[a + 1, 1])
    lines = shapely.linestrings(np.stack([xy[a], xy[a + 1]], axis=1)[inside])
    cols = roads.drop(columns="geometry").iloc[seg_road[inside]].reset_index(drop=True)
    cols["length_km"] = km[inside]
    seg = gpd.GeoDataFrame(cols, geometry=list(lines), crs=WGS84)
    return Component(seg, int((~inside).sum()), float(km[~inside].sum()),
                     float(km[inside].sum()))

