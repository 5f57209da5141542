"""``reserve-opt map`` draws PNG and HTML maps and refuses other outputs cleanly."""

from __future__ import annotations

import json
import re
import shutil
import warnings
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from shapely.geometry import LineString

from reserve_opt import load_instance
from reserve_opt.maps import (
    DRAWN_AREAS,
    GENERATED_AREAS,
    OUTLINE_CREDIT,
    ROUTE_COLOURS,
    UNMET_COLOUR,
    agreement_frame,
    html_data,
    html_text,
    png_figure,
    region_frame,
    scene,
)
from tests.cli_runner import run_cli


def test_png_and_html_maps_are_written(toy_path: Path, tmp_path: Path) -> None:
    png = run_cli("map", str(toy_path), "--out", str(tmp_path / "toy.png"))
    assert png.exit_code == 0, png.output
    assert (tmp_path / "toy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = run_cli("map", str(toy_path), "--out", str(tmp_path / "toy.html"), "--shade", "risk")
    assert html.exit_code == 0, html.output
    text = (tmp_path / "toy.html").read_text()
    assert "leaflet" in text.lower() and "A_north_sea" in text and "W_north" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy.html", "toy.png"]


def test_regions_without_polygons_get_service_areas_that_hold_their_seat(toy_path: Path) -> None:
    inst = load_instance(toy_path)
    frame = region_frame(inst)
    from shapely.geometry import Point

    for r, cell in zip(inst.regions, frame.geometry, strict=True):
        assert cell.contains(Point(r.lon, r.lat))
    assert not frame.geometry.union_all().is_empty
    lines = agreement_frame(inst)
    assert list(lines["lender"]) == ["north"] and list(lines["borrower"]) == ["sea"]


def test_map_refuses_unknown_suffix(toy_path: Path, tmp_path: Path) -> None:
    result = run_cli("map", str(toy_path), "--out", str(tmp_path / "toy.pdf"))
    assert result.exit_code == 1
    assert result.stderr == (f"error: {tmp_path / 'toy.pdf'}: a map is written as .png or "
                             f".html; change the file name\n")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- offline, truthful


ROOT = Path(__file__).resolve().parents[1]
# the only URLs inside the page, neither of them fetched: the SVG namespace, and Leaflet's
# default attribution link in leaflet.min.js, which the page replaces with plain text
INERT_URLS = {"http://www.w3.org/2000/svg", "https://leafletjs.com"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _page_data(text: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', text,
                      re.S)
    assert found
    data: dict[str, object] = json.loads(found.group(1))
    return data


def _routes() -> gpd.GeoDataFrame:
    """Twelve routes from Northtown's depot: more than there are route colours."""
    return gpd.GeoDataFrame(
        {"route": [f"T_north#{i}" for i in range(12)], "distance_km": [10.0 + i for i in
                                                                       range(12)]},
        geometry=[LineString([(123.02, 41.18), (122.4 + i * 0.05, 40.7)]) for i in range(12)],
        crs="EPSG:4326")


UNMET = pd.DataFrame({"point": ["river", "river", "D_sea"], "commodity": ["water", "tents",
                                                                            "water"],
                      "unmet": [2000.0, 50.0, 10.0]})


def test_html_map_requests_nothing(toy_path: Path, tmp_path: Path) -> None:
    result = run_cli("map", str(toy_path), "--out", str(tmp_path / "toy.html"))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "toy.html").read_text(encoding="utf-8")
    page = _Tags()
    page.feed(text)
    assert [t for t, _ in page.tags if t in ("link", "img", "iframe")] == []
    assert [a for _, a in page.tags if "src" in a] == []  # every script is inline
    assert [a["href"] for _, a in page.tags if "href" in a] == []
    assert set(re.findall(r"url\(([^)]*)\)", text)) <= {"#default#VML", "#ro-ramp"}
    assert set(re.findall(r"https?://[^\s\"'<>)\\]+", text)) == INERT_URLS
    assert _page_data(text)["tiles"] is None

    tiles = "https://tile.example.org/{z}/{x}/{y}.png"
    online = run_cli("map", str(toy_path), "--out", str(tmp_path / "online.html"),
                     "--tiles", tiles)
    assert online.exit_code == 0, online.output
    data = _page_data((tmp_path / "online.html").read_text(encoding="utf-8"))
    assert data["tiles"] == {"url": tiles, "attribution": "tiles: tile.example.org"}


@pytest.mark.parametrize(("tiles", "out", "message"), [
    ("https://t.example.org/{z}/{x}/{y}.png", "m.png",
     "--tiles https://t.example.org/{z}/{x}/{y}.png: tiles are drawn only under .html maps; "
     "write the map as .html or leave --tiles out"),
    ("https://t.example.org/tiles.png", "m.html",
     "--tiles https://t.example.org/tiles.png: give a tile URL template such as "
     "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
    ("javascript:alert(1)//{z}/{x}/{y}", "m.html",
     "--tiles javascript:alert(1)//{z}/{x}/{y}: give a tile URL template such as "
     "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
])
def test_map_refuses_tiles_it_cannot_draw(toy_path: Path, tmp_path: Path, tiles: str, out: str,
                                          message: str) -> None:
    result = run_cli("map", str(toy_path), "--out", str(tmp_path / out), "--tiles", tiles)
    assert result.exit_code == 1
    assert result.stderr == f"error: {message}\n"
    assert list(tmp_path.iterdir()) == []


def _legend_lines(fig: object) -> list[object]:
    panel = fig.axes[1]  # type: ignore[attr-defined]
    return list(panel.get_legend().legend_handles)


def test_png_legend_title_and_marks_match_what_is_drawn(toy_path: Path) -> None:
    inst = load_instance(toy_path)
    view = scene(inst, routes=_routes(), scenario="typhoon", period=1, unmet=UNMET)
    fig = png_figure(view)
    try:
        ax = fig.axes[0]
        # the subtitle is wrapped to the map's width
        assert ax.get_title().replace("\n", " ") == (
            "toy 12 vehicle routes; regions shaded by population (persons); scenario typhoon "
            "(Typhoon landfall at Seaside), day 1")
        handles = _legend_lines(fig)
        labels = [h.get_label() for h in handles]
        assert labels == [
            "government warehouse, open (1)",
            "government warehouse, candidate not opened (1)",
            "enterprise reserve, open (1)", "production capacity, open (1)",
            "distribution point, open (1)", "sharing agreements (1)",
            "vehicle routes T_north#0 and 1 more", "vehicle routes T_north#1 and 1 more",
            *[f"vehicle route T_north#{i}" for i in range(2, 10)],
            "unmet deliveries (2 points, 2,060 units)"]
        # every route colour drawn has its legend line, in the same colour
        drawn = [to_hex(line.get_color()) for line in ax.get_lines() if line.get_gid() == "route"]
        assert drawn == [ROUTE_COLOURS[i % 10] for i in range(12)]
        legend_routes = [to_hex(h.get_color()) for h in handles
                         if h.get_label().startswith("vehicle route")]
        assert legend_routes == list(ROUTE_COLOURS)
        # facilities: each (colour, filled) drawn is in the legend and the other way round
        marks = {(to_hex(c.get_edgecolor()[0]) if not len(c.get_facecolor()) else
                  to_hex(c.get_facecolor()[0]), bool(len(c.get_facecolor())))
                 for c in ax.collections if c.get_gid() == "facility"}
        keyed = {(to_hex(h.get_markeredgecolor()), h.get_markerfacecolor() != "none")
                 for h in handles if h.get_marker() not in ("None", "", None)
                 and not h.get_label().startswith("unmet")}
        assert marks == keyed
        unmet = [c for c in ax.collections if c.get_gid() == "unmet"]
        assert len(unmet) == 1 and to_hex(unmet[0].get_facecolor()[0]) == UNMET_COLOUR
        inst_at = {p.id: (p.lon, p.lat) for p in [*inst.regions, *inst.facilities]}
        assert unmet[0].get_offsets().tolist() == [list(inst_at["river"]),
                                                   list(inst_at["D_sea"])]
        assert handles[-1].get_markerfacecolor() == UNMET_COLOUR
        # scale bar, north arrow, caption
        texts = {t.get_gid(): t.get_text() for t in ax.texts}
        assert texts["scale-bar"] == "20 km" and texts["north-arrow"] == "N"
        caption = [t.get_text() for t in fig.axes[1].texts if t.get_gid() == "caption"]
        assert caption == [f"{GENERATED_AREAS}\n{OUTLINE_CREDIT}"]
    finally:
        plt.close(fig)


def test_html_legend_matches_the_features_drawn(toy_path: Path) -> None:
    inst = load_instance(toy_path)
    view = scene(inst, routes=_routes(), scenario="typhoon", period=1, unmet=UNMET)
    data = html_data(view, ["route", "distance_km"])
    layers = {layer["name"]: layer["data"]["features"] for layer in data["layers"]}
    legend = data["legend"]
    assert data["title"] == "toy"
    assert data["subtitle"] == ("12 vehicle routes; regions shaded by population (persons); "
                                "scenario typhoon (Typhoon landfall at Seaside), day 1")
    assert [e["colour"] for e in legend if e["symbol"] == "line"] == list(ROUTE_COLOURS)
    assert [f["properties"]["style"]["color"] for f in layers["routes"]] == \
        [ROUTE_COLOURS[i % 10] for i in range(12)]
    drawn = {(s["symbol"], s["colour"], s["hollow"]) for s in
             (f["properties"]["style"] for f in layers["facilities"] + layers["unmet"])}
    keyed = {(e["symbol"], e["colour"], e["hollow"]) for e in legend
             if e["symbol"] not in ("line", "dashed")}
    assert drawn == keyed
    assert {f["properties"]["style"]["color"] for f in layers["agreements"]} == \
        {e["colour"] for e in legend if e["symbol"] == "dashed"}
    assert [f["properties"]["tip"] for f in layers["unmet"]] == [
        [["unmet at", "river"], ["name", "Rivermouth"], ["units", "2,050"],
         ["by commodity", "tents 50, water 2,000"]],
        [["unmet at", "D_sea"], ["name", "Seaside No. 1 School (shelter)"], ["units", "10"],
         ["by commodity", "water 10"]]]
    assert data["notes"] == [html_text(GENERATED_AREAS), html_text(OUTLINE_CREDIT)]


def test_open_facilities_and_candidates_are_counted_apart(toy_path: Path) -> None:
    inst = load_instance(toy_path)
    labels = [e.label for e in scene(inst).legend]
    assert labels[:2] == ["government warehouse, open (1)",
                          "government warehouse, candidate not opened (1)"]
    opened = [f.id for f in inst.facilities]
    assert [e.label for e in scene(inst, opened=opened).legend][:2] == [
        "government warehouse, open (2)", "enterprise reserve, open (1)"]


def _chinese(toy_path: Path, tmp_path: Path, extra: str = "") -> Path:
    folder = tmp_path / "zh"
    shutil.copytree(toy_path, folder)
    text = (folder / "regions.csv").read_text(encoding="utf-8")
    for old, new in [("Northtown", "沈阳市"), ("Rivermouth", "营口市鲅鱼圈区"),
                     ("Hill County", "本溪满族自治县"), ("Seaside", "大连市旅顺口区" + extra)]:
        text = text.replace(f",{old},", f",{new},")
    (folder / "regions.csv").write_text(text, encoding="utf-8")
    manifest = (folder / "instance.toml").read_text(encoding="utf-8")
    (folder / "instance.toml").write_text(manifest.replace('name = "toy"', 'name = "辽宁演练"'),
                                          encoding="utf-8")
    return folder


@pytest.mark.parametrize("system_fonts", [True, False])
def test_chinese_names_are_drawn_without_missing_glyphs(toy_path: Path, tmp_path: Path,
                                                        system_fonts: bool) -> None:
    inst = load_instance(_chinese(toy_path, tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = png_figure(scene(inst, scenario="flood", period=2), system_fonts=system_fonts)
        fig.savefig(tmp_path / "zh.png")
        plt.close(fig)
    assert [str(w.message) for w in caught] == []
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts if t.get_gid() == "region-label"] == [
        "沈阳市", "营口市鲅鱼圈区", "本溪满族自治县", "大连市旅顺口区"]
    assert ax.get_title().startswith("辽宁演练\n")


def test_a_character_no_font_has_is_named_not_boxed(toy_path: Path, tmp_path: Path) -> None:
    # U+2A6A5 (CJK Extension B) is outside GB 2312, so the bundled font lacks it
    inst = load_instance(_chinese(toy_path, tmp_path, extra="\U0002a6a5"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = png_figure(scene(inst), system_fonts=False)
        fig.savefig(tmp_path / "zh.png")
        plt.close(fig)
    assert [str(w.message) for w in caught] == []
    labels = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "region-label"]
    assert labels[-1] == "sea"
    caption = next(t.get_text() for t in fig.axes[1].texts if t.get_gid() == "caption")
    assert caption.endswith(
        "Characters no installed font has (U+2A6A5) are shown as '?' and such region names "
        "by id; install a CJK font such as Noto Sans CJK (Debian: fonts-noto-cjk).")


def test_service_area_polygons_are_captioned_and_boundaries_are_not() -> None:
    liaoning = load_instance(ROOT / "instances" / "liaoning")
    assert liaoning.service_areas
    assert scene(liaoning).notes == [DRAWN_AREAS, OUTLINE_CREDIT]
    georgia = load_instance(ROOT / "instances" / "georgia")
    assert scene(georgia).notes == [OUTLINE_CREDIT]


def test_service_areas_must_be_true_or_false(tmp_path: Path) -> None:
    folder = tmp_path / "inst"
    shutil.copytree(ROOT / "instances" / "liaoning", folder)
    manifest = folder / "instance.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        "service_areas = true", 'service_areas = "yes"'), encoding="utf-8")
    result = run_cli("validate", str(folder))
    assert result.exit_code == 1
    assert result.stderr == ("error: instance.toml: [geometry] service_areas is not true or "
                             "false; write true when the region polygons are service areas "
                             "you drew, false when they are administrative boundaries\n")


def test_route_map_names_scenario_and_day_and_marks_unmet(toy_path: Path,
                                                          tmp_path: Path) -> None:
    result = run_cli("route", str(toy_path), "--scenario", "typhoon", "--max-iterations", "200",
                     "--map", str(tmp_path / "day1.html"))
    assert result.exit_code == 0, result.output
    data = _page_data((tmp_path / "day1.html").read_text(encoding="utf-8"))
    assert str(data["subtitle"]).endswith(
        "; regions shaded by population (persons); scenario typhoon (Typhoon landfall at "
        "Seaside), day 1")
    legend = [e["label"] for e in data["legend"]]  # type: ignore[attr-defined]
    assert "unmet deliveries (1 point, 2,000 units)" in legend
    png = run_cli("route", str(toy_path), "--scenario", "typhoon", "--max-iterations", "200",
                  "--map", str(tmp_path / "day1.png"))
    assert png.exit_code == 0, png.output
    assert (tmp_path / "day1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    alone = run_cli("route", str(toy_path), "--scenario", "typhoon", "--tiles",
                    "https://t.example.org/{z}/{x}/{y}.png")
    assert alone.exit_code == 1
    assert alone.stderr == ("error: --tiles https://t.example.org/{z}/{x}/{y}.png: draws under "
                            "the --map; give --map FILE.html too, or leave --tiles out\n")


def test_html_map_carries_the_glyphs_its_chinese_names_need(toy_path: Path,
                                                             tmp_path: Path) -> None:
    import base64
    import io

    from fontTools.ttLib import TTFont

    folder = _chinese(toy_path, tmp_path)
    result = run_cli("map", str(folder), "--out", str(tmp_path / "zh.html"))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "zh.html").read_text(encoding="utf-8")
    fonts = re.findall(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", text)
    assert len(fonts) == 1
    with TTFont(io.BytesIO(base64.b64decode(fonts[0]))) as font:
        have = {chr(c) for c in font.getBestCmap()}
    assert have == set("辽宁演练沈阳市营口市鲅鱼圈区本溪满族自治县大连市旅顺口区")
    assert len(fonts[0]) < 20_000  # a few kB: only those glyphs
    assert set(re.findall(r"https?://[^\s\"'<>)\\]+", text)) == INERT_URLS
