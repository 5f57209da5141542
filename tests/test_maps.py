"""``reserve-opt map`` draws PNG and HTML maps and refuses other outputs cleanly."""

from __future__ import annotations

from pathlib import Path

from reserve_opt import load_instance
from reserve_opt.maps import agreement_frame, region_frame
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
