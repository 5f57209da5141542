"""Nothing from input runs, and nothing outside the instance is read (issue 11, section 2).

* HTML maps: hostile facility, region, agreement and fleet names reach the page only as
  escaped data, never as script or markup (checked on the page text, and in a headless
  Chromium when one and a local Leaflet are installed).
* Files named by a manifest, a variant or a sweep stay inside their folder.
* ``sweep --scheduler`` connects only to this machine or a TLS scheduler unless trusted.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2.utils import htmlsafe_json_dumps

from reserve_opt import load_instance
from reserve_opt.maps import draw_map, html_text
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "toy"

# --------------------------------------------------------------------------- HTML maps

PAYLOADS = {
    "dollar": "${alert('dollar')}",
    "backtick": "`+alert('backtick')+`",
    "script": "</script><script>alert('script')</script>",
    "attribute": "\"><img src=x onerror=alert('attribute')>",
    "quote": "'+alert('quote')+'",
}


def _edit(path: Path, row: int, column: str, value: str) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[row][column] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """The toy instance with a hostile string in every kind of name a map shows."""
    folder = tmp_path / "hostile"
    shutil.copytree(TOY, folder)
    p = PAYLOADS
    for i, key in enumerate(["dollar", "backtick", "script", "attribute"]):
        _edit(folder / "facilities.csv", i, "name", p[key])
    for i, key in enumerate(["attribute", "script", "quote", "dollar"]):
        _edit(folder / "regions.csv", i, "name", p[key])
    _edit(folder / "agreements.csv", 0, "id", p["backtick"])
    _edit(folder / "fleet.csv", 0, "id", p["dollar"])
    return folder


def _hostile_routes(inst_path: Path) -> object:
    """A route frame as ``route_lines`` gives it, with hostile labels and column names."""
    import geopandas as gpd
    from shapely.geometry import LineString

    inst = load_instance(inst_path)
    fleet = inst.fleet[0]
    return gpd.GeoDataFrame(
        {"route": [f"{fleet.id}#0"], "depot": [PAYLOADS["script"]],
         PAYLOADS["attribute"]: [PAYLOADS["quote"]], "distance_km": [12.5]},
        geometry=[LineString([(123.0, 41.2), (122.8, 40.1)])], crs="EPSG:4326")


class _Page(HTMLParser):
    """Every start tag with its attributes, and the text of every script."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _assert_inert(page_file: Path, clean_file: Path) -> None:
    text = page_file.read_text(encoding="utf-8")
    page, clean = _parse(page_file), _parse(clean_file)
    for payload in PAYLOADS.values():
        assert payload not in text
        # the one form it takes: text escaped for HTML (and template literals), as JSON
        assert str(htmlsafe_json_dumps(html_text(payload))) in text
    # no element, attribute or script was added by a name
    assert [t for t, _ in page.tags] == [t for t, _ in clean.tags]
    assert not [a for _, attrs in page.tags for a, _ in attrs if a.startswith("on")]
    assert len(page.scripts) == len(clean.scripts)
    for script in page.scripts:
        # every alert( left is inside a JSON string, its quote escaped twice over
        assert re.findall(r"alert\((?!\\u0026#x27;)", script) == []
        for payload in PAYLOADS.values():
            assert payload not in script


def test_html_escapes_what_python_escapes_and_the_template_literal_characters() -> None:
    assert html_text("${a}`<b>\"'&") == "&#36;{a}&#96;&lt;b&gt;&quot;&#x27;&amp;"


def test_hostile_names_in_a_map_and_its_routes_stay_text(hostile: Path, tmp_path: Path) -> None:
    result = run_cli("map", str(hostile), "--out", str(tmp_path / "map.html"))
    assert result.exit_code == 0, result.output
    clean = run_cli("map", str(TOY), "--out", str(tmp_path / "clean.html"))
    assert clean.exit_code == 0, clean.output
    _assert_inert(tmp_path / "map.html", tmp_path / "clean.html")

    draw_map(load_instance(hostile), tmp_path / "routes.html",
             routes=_hostile_routes(hostile))  # type: ignore[arg-type]
    draw_map(load_instance(TOY), tmp_path / "clean_routes.html",
             routes=_hostile_routes(TOY))  # type: ignore[arg-type]
    _assert_inert(tmp_path / "routes.html", tmp_path / "clean_routes.html")
    # the column name is only a tooltip label, escaped too
    assert str(htmlsafe_json_dumps(html_text(PAYLOADS["attribute"]))) in \
        (tmp_path / "routes.html").read_text(encoding="utf-8")


LEAFLET = [Path("/usr/share/javascript/leaflet/leaflet.js"),
           Path("/usr/share/nodejs/leaflet/dist/leaflet.js")]
BROWSERS = ["chromium", "chromium-browser", "google-chrome"]

HOOK = """<script src="LEAFLET"></script><script>
window.__ran = []; window.__shown = [];
window.alert = function (x) { window.__ran.push(String(x)); };
/* a stand-in for d3 (the legend's; loaded from a CDN, offline here) that absorbs calls */
const __any = new Proxy(function () {}, {
  get: (t, k) => k === Symbol.toPrimitive ? () => 0 : __any, apply: () => __any});
window.d3 = __any;
window.addEventListener('load', function () {
  for (const k of Object.keys(window)) {
    const m = window[k];
    if (!k.startsWith('map_') || !m || !m.eachLayer) continue;
    m.eachLayer(function (g) {
      if (!g.getTooltip || !g.getTooltip()) return;
      for (const l of (g.getLayers ? g.getLayers() : [g])) {
        g.openTooltip(l, l.getLatLng ? l.getLatLng() : l.getCenter());
        window.__shown.push(g.getTooltip().getElement().textContent);
      }
    });
  }
  setTimeout(function () {
    document.body.setAttribute('data-ran', JSON.stringify(window.__ran));
    document.body.setAttribute('data-shown', JSON.stringify(window.__shown));
  }, 1000);
});
</script>"""


def _browser_run(page: Path, leaflet: Path, browser: str) -> tuple[list[str], str]:
    """Open ``page`` offline with every tooltip shown; what ran, and the tooltips' text."""
    text = page.read_text(encoding="utf-8")
    text = re.sub(r'<script src="https://[^"]*"></script>', "", text)  # offline: CDN out
    text = re.sub(r'<link rel="stylesheet" href="https://[^"]*"/>', "", text)
    text = text.replace("<head>", "<head>" + HOOK.replace("LEAFLET", leaflet.as_uri()), 1)
    local = page.with_name(f"browser-{page.name}")
    local.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--allow-file-access-from-files", "--virtual-time-budget=5000", "--dump-dom",
         local.as_uri()], capture_output=True, text=True, timeout=300, check=False)
    ran = re.search(r'data-ran="([^"]*)"', done.stdout)
    shown = re.search(r'data-shown="([^"]*)"', done.stdout)
    assert ran and shown, done.stderr[-2000:]
    import html

    return json.loads(html.unescape(ran.group(1))), html.unescape(shown.group(1))


def test_a_browser_opening_every_tooltip_runs_nothing(hostile: Path, tmp_path: Path) -> None:
    browser = next((b for b in BROWSERS if shutil.which(b)), None)
    leaflet = next((p for p in LEAFLET if p.is_file()), None)
    if browser is None or leaflet is None:
        pytest.skip("needs chromium and a local Leaflet (Debian: apt install chromium "
                    "libjs-leaflet)")
    page = tmp_path / "routes.html"
    draw_map(load_instance(hostile), page, routes=_hostile_routes(hostile))  # type: ignore[arg-type]
    ran, shown = _browser_run(page, leaflet, browser)
    assert ran == []
    # each tooltip shows the name as it was written
    for payload in PAYLOADS.values():
        assert json.dumps(payload)[1:-1] in shown
