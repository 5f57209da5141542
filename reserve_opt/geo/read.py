"""Read points and polygons from GeoPackage, GeoJSON, Shapefile or CSV into WGS84.

Every reader returns a :class:`geopandas.GeoDataFrame` in EPSG:4326 with float columns
``lon`` and ``lat``: the point itself, or for polygons a *representative point* (a point
guaranteed to lie inside the polygon, unlike a centroid, which can fall outside a crescent or
a multi-part region). Files without a CRS are refused unless ``crs=`` is passed; CRSs that
cannot be right (out-of-range degrees, projected coordinates far outside the CRS's area of
use) are refused too, see :func:`reserve_opt.geo.crs.ensure_crs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from reserve_opt.errors import InputError
from reserve_opt.geo.crs import WGS84, ensure_crs

__all__ = ["LAT_COLUMNS", "LON_COLUMNS", "read_points", "read_polygons"]

#: Column names recognised (case-insensitively) as longitude / latitude in CSV files.
LON_COLUMNS: tuple[str, ...] = ("lon", "lng", "long", "longitude", "x")
LAT_COLUMNS: tuple[str, ...] = ("lat", "latitude", "y")


def _find_column(columns: Sequence[str], wanted: str | None, candidates: Sequence[str],
                 what: str, source: str) -> str:
    if wanted is not None:
        if wanted not in columns:
            raise InputError(
                f"{source}: no column {wanted!r} for the {what}; columns are {list(columns)}, "
                f"so pass the right name as {what}_column=..."
            )
        return wanted
    lower = {str(c).lower(): str(c) for c in columns}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    raise InputError(
        f"{source}: found no {what} column (looked for {', '.join(candidates)}); "
        f"rename it or pass {what}_column=..."
    )


def _read_vector(path: Path, layer: str | int | None) -> gpd.GeoDataFrame:
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path.")
    try:
        kwargs: dict[str, Any] = {"engine": "pyogrio"}
        if layer is not None:
            kwargs["layer"] = layer
        gdf = gpd.read_file(path, **kwargs)
    except InputError:
        raise
    except Exception as exc:  # pyogrio raises DataSourceError / DataLayerError, etc.
        raise InputError(f"{path}: cannot be read as a vector file ({exc}); "
                         "check that it is a valid GeoPackage, GeoJSON or Shapefile.") from exc
    if gdf.geometry.isna().any() or gdf.geometry.is_empty.any():
        bad = np.flatnonzero((gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy())
        raise InputError(
            f"{path}: feature {int(bad[0])} has no geometry; give it one or delete it."
        )
    return gdf


def _set_ids(gdf: gpd.GeoDataFrame, id_column: str | None, source: str) -> gpd.GeoDataFrame:
    if id_column is None:
        return gdf
    if id_column not in gdf.columns:
        raise InputError(
            f"{source}: no column {id_column!r} to use as ID; columns are "
            f"{[c for c in gdf.columns if c != gdf.geometry.name]}, so pass the right id_column."
        )
    ids = gdf[id_column]
    if ids.isna().any():
        row = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise InputError(f"{source}: row {row} has an empty {id_column!r}; give every row an ID.")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise InputError(
            f"{source}: ID {dup.iloc[0]!r} in column {id_column!r} appears more than once; "
            "make the IDs unique."
        )
    return gdf.set_index(id_column, drop=False)


def read_points(
    path: str | Path,
    *,
    crs: Any = None,
    id_column: str | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    layer: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read point locations (facilities, region seats) into WGS84.

    Parameters
    ----------
    path
        A vector file (``.gpkg``, ``.geojson``, ``.shp``, ...; read with pyogrio) or a
        ``.csv`` with longitude/latitude columns. Polygon or line features are reduced to
        representative points.
    crs
        CRS override for files that lack one (e.g. ``"EPSG:26917"``). A CSV without
        ``crs`` is taken to be WGS84 degrees (EPSG:4326) and its values are range-checked.
    id_column
        Column holding unique IDs; it becomes the index (and stays a column).
    lon_column, lat_column
        CSV coordinate columns; by default the first of :data:`LON_COLUMNS` /
        :data:`LAT_COLUMNS` present (case-insensitive). With a projected ``crs`` they hold
        eastings / northings.
    layer
        Layer name or index for multi-layer files (GeoPackage).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points, with every input attribute plus float columns ``lon`` and ``lat``.

    Raises
    ------
    InputError
        Missing file or columns, missing CRS, implausible coordinates, duplicate IDs.
    """
    p = Path(path)
    source = str(p)
    if p.suffix.lower() in {".csv", ".txt", ".tsv"}:
        if not p.exists():
            raise InputError(f"{p}: file not found; check the path.")
        df = pd.read_csv(p, sep="\t" if p.suffix.lower() == ".tsv" else ",")
        xcol = _find_column(list(df.columns), lon_column, LON_COLUMNS, "lon", source)
        ycol = _find_column(list(df.columns), lat_column, LAT_COLUMNS, "lat", source)
        x = pd.to_numeric(df[xcol], errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(df[ycol], errors="coerce").to_numpy(dtype=float)
        bad = ~(np.isfinite(x) & np.isfinite(y))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{source}: line {row + 2} (data row {row}) has no numeric "
                f"{xcol}/{ycol}; fill it in or drop the row."
            )
        the_crs = ensure_crs("EPSG:4326", x, y, override=crs, source=source)
        gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(x, y), crs=the_crs)
    else:
        gdf = _read_vector(p, layer)
        types = set(gdf.geom_type)
        if not types <= {"Point"}:
            gdf = gdf.set_geometry(gdf.representative_point())
        coords = shapely.get_coordinates(gdf.geometry.to_numpy())
        the_crs = ensure_crs(gdf.crs, coords[:, 0], coords[:, 1], override=crs, source=source)
        gdf = gdf.set_crs(the_crs, allow_override=True)
    gdf = gdf.to_crs(WGS84)
    gdf["lon"] = gdf.geometry.x.to_numpy(dtype=float)
    gdf["lat"] = gdf.geometry.y.to_numpy(dtype=float)
    return _set_ids(gdf, id_column, source)


def read_polygons(
    path: str | Path,
    *,
    crs: Any = None,
    id_column: str | None = None,
    layer: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read region polygons into WGS84, with a representative point per polygon.

    The representative point is computed in the file's own CRS (planar, so for a projected
    file it lies inside the polygon as drawn in that projection) and then transformed.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile or any vector format pyogrio reads.
    crs
        CRS override for files without one, e.g. ``crs="EPSG:26917"`` for a shapefile
        without a ``.prj``.
    id_column
        Column holding unique IDs; it becomes the index (and stays a column).
    layer
        Layer name or index for multi-layer files.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 (Multi)Polygons with all attributes plus float columns ``lon``/``lat`` (the
        representative point).

    Raises
    ------
    InputError
        Missing file, non-polygon features, missing or implausible CRS, duplicate IDs.
    """
    p = Path(path)
    source = str(p)
    gdf = _read_vector(p, layer)
    poly = gdf.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if not poly.all():
        i = int(np.flatnonzero(~poly)[0])
        raise InputError(
            f"{source}: feature {i} is a {gdf.geom_type.iloc[i]}, not a polygon; "
            "regions read with read_polygons must be polygons (use read_points for points)."
        )
    coords = shapely.get_coordinates(gdf.geometry.to_numpy())
    the_crs = ensure_crs(gdf.crs, coords[:, 0], coords[:, 1], override=crs, source=source)
    gdf = gdf.set_crs(the_crs, allow_override=True)
    rep = gdf.representative_point().to_crs(WGS84)
    gdf = gdf.to_crs(WGS84)
    gdf["lon"] = rep.x.to_numpy(dtype=float)
    gdf["lat"] = rep.y.to_numpy(dtype=float)
    return _set_ids(gdf, id_column, source)
