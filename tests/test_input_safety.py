"""Nothing from input runs, and nothing outside the instance is read (issue 11, section 2).

* HTML maps: hostile facility, region, agreement and fleet names reach the page only as
  escaped data, never as script or markup (checked on the page text, and in a headless
  Chromium with the network cut off when one is installed).
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
from reserve_opt.errors import InputError
from reserve_opt.maps import draw_map, html_text
from reserve_opt.variants.grid import read_sweep
from reserve_opt.variants.sweep import checked_scheduler
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


BROWSERS = ["chromium", "chromium-browser", "google-chrome"]
# every request that leaves the machine goes to a closed loopback port: the page must draw
# from what is inside it
OFFLINE = ["--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]

HOOK = """<script>
window.__ran = []; window.__shown = [];
window.alert = function (x) { window.__ran.push(String(x)); };
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


def _browser(page: Path, browser: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", *OFFLINE,
         "--virtual-time-budget=5000", *args, page.as_uri()],
        capture_output=True, text=True, timeout=300, check=False)


def _browser_run(page: Path, browser: str) -> tuple[list[str], str, str]:
    """Open ``page`` offline with every tooltip shown: what ran, the tooltips, the DOM."""
    text = page.read_text(encoding="utf-8")
    local = page.with_name(f"browser-{page.name}")
    local.write_text(text.replace("<head>", "<head>" + HOOK, 1), encoding="utf-8")
    done = _browser(local, browser, "--dump-dom")
    ran = re.search(r'data-ran="([^"]*)"', done.stdout)
    shown = re.search(r'data-shown="([^"]*)"', done.stdout)
    assert ran and shown, done.stderr[-2000:]
    import html

    return json.loads(html.unescape(ran.group(1))), html.unescape(shown.group(1)), done.stdout


def test_a_browser_opening_every_tooltip_offline_runs_nothing(hostile: Path,
                                                              tmp_path: Path) -> None:
    browser = next((b for b in BROWSERS if shutil.which(b)), None)
    if browser is None:
        pytest.skip("needs chromium (Debian: apt install chromium)")
    page = tmp_path / "routes.html"
    draw_map(load_instance(hostile), page, routes=_hostile_routes(hostile))  # type: ignore[arg-type]
    ran, shown, dom = _browser_run(page, browser)
    assert ran == []
    # each tooltip shows the name as it was written
    for payload in PAYLOADS.values():
        assert json.dumps(payload)[1:-1] in shown
    # Leaflet ran from the page itself: the title box, the legend and the scale bar are there
    assert 'class="ro-box ro-title' in dom and "leaflet-control-scale-line" in dom
    assert "government warehouse, open (1)" in dom

    # and the page is not blank: the screenshot has the map's colours, not one white sheet
    shot = tmp_path / "shot.png"
    _browser(page, browser, "--window-size=900,700", f"--screenshot={shot}")
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[:, :, :3].reshape(-1, 3)
    white = (pixels > 0.97).all(axis=1).mean()
    colours = len({tuple(p) for p in (pixels * 31).round().astype(int).tolist()})
    assert white < 0.2 and colours > 20, (white, colours)


# --------------------------------------------------------------------------- confinement


def _instance(tmp_path: Path, manifest_tail: str = "") -> Path:
    folder = tmp_path / "inst"
    shutil.copytree(TOY, folder)
    if manifest_tail:
        with (folder / "instance.toml").open("a", encoding="utf-8") as fh:
            fh.write(manifest_tail)
    return folder


def _one_error(*args: str) -> str:
    result = run_cli(*args)
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


OUTSIDE = [
    ("/proc/self/environ", "is an absolute path; give the file's path inside the instance "
                           "folder"),
    ("/etc/hostname", "is an absolute path; give the file's path inside the instance folder"),
    ("../../../../etc/passwd", "leads outside the instance folder; move the file into the "
                               "instance folder and give its path there"),
    ("sub/../../regions.csv", "leads outside the instance folder; move the file into the "
                              "instance folder and give its path there"),
]


@pytest.mark.parametrize("section", ["tables", "geometry"])
@pytest.mark.parametrize(("name", "reason"), OUTSIDE)
def test_a_table_or_geometry_outside_the_instance_is_refused_unread(
        tmp_path: Path, section: str, name: str, reason: str) -> None:
    folder = _instance(tmp_path, f'\n[{section}]\nregions = "{name}"\n')
    assert _one_error("validate", str(folder)) == \
        f'error: instance.toml: [{section}] regions = "{name}" {reason}'


def test_symbolic_links_out_of_the_instance_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("id,population\nSECRET_VALUE,1\n", encoding="utf-8")
    folder = _instance(tmp_path)
    (folder / "regions.csv").unlink()
    (folder / "regions.csv").symlink_to(secret)
    assert _one_error("validate", str(folder)) == (
        "error: regions.csv is a symbolic link leading outside the instance folder; copy the "
        "file into the instance folder instead")
    folder = _instance(tmp_path / "b", '\n[tables]\nregions = "data/regions.csv"\n')
    (folder / "data").symlink_to(tmp_path)  # a linked folder, then a plain name in it
    (tmp_path / "regions.csv").write_text("id\n", encoding="utf-8")
    assert _one_error("validate", str(folder)) == (
        'error: instance.toml: [tables] regions = "data/regions.csv" is a symbolic link '
        'leading outside the instance folder; copy the file into the instance folder instead')


def test_links_and_subfolders_inside_the_instance_still_work(tmp_path: Path) -> None:
    folder = _instance(tmp_path, '\n[tables]\nregions = "tables/regions.csv"\n'
                                 'facilities = "facilities-link.csv"\n')
    (folder / "tables").mkdir()
    (folder / "regions.csv").rename(folder / "tables" / "regions.csv")
    (folder / "facilities-link.csv").symlink_to("facilities.csv")
    result = run_cli("validate", str(folder))
    assert result.exit_code == 0, result.output


def test_folders_and_loops_named_as_files_get_one_line(tmp_path: Path) -> None:
    folder = _instance(tmp_path, '\n[geometry]\nregions = "."\n')
    assert _one_error("validate", str(folder)) == (
        'error: instance.toml: [geometry] regions = "." is a folder; name the geometry file, '
        'e.g. "regions.gpkg"')
    folder = _instance(tmp_path / "b", '\n[tables]\nregions = "."\n')
    assert _one_error("validate", str(folder)) == (
        'error: instance.toml: [tables] regions = "." is a folder; name the table\'s file, '
        'e.g. "regions.csv"')
    folder = _instance(tmp_path / "c", '\n[tables]\nregions = "loop.csv"\n')
    (folder / "loop.csv").symlink_to("loop.csv")
    assert _one_error("validate", str(folder)) == (
        'error: instance.toml: [tables] regions = "loop.csv" is a symbolic link that leads '
        'nowhere (a loop); replace it with the file itself')


def test_a_file_that_is_no_table_is_not_quoted_back(tmp_path: Path) -> None:
    folder = _instance(tmp_path, '\n[tables]\nregions = "notes.txt"\n')
    (folder / "notes.txt").write_text("TOKEN=" + "x" * 500 + "\n", encoding="utf-8")
    result = run_cli("validate", str(folder))
    assert result.exit_code == 1
    assert "x" * 60 not in result.stderr
    assert ("error: notes.txt: column 'TOKEN=" + "x" * 51 + "...' is not known; known "
            "columns are id, name, population, lon, lat, level, parent, alliance, risk"
            ) in result.stderr.splitlines()


def _variant(path: Path, include: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'description = "x"\ninclude = ["{include}"]\n', encoding="utf-8")
    return path


def test_variant_includes_stay_in_their_folder(tmp_path: Path) -> None:
    work = tmp_path / "work"
    top = _variant(work / "top.toml", "../elsewhere.toml")
    _variant(tmp_path / "elsewhere.toml", "top.toml")
    assert _one_error("whatif", str(TOY), "--variant", str(top)) == (
        f'error: {top}: include = "../elsewhere.toml" leads outside {work}; move the file '
        f'into {work} and give its path, relative to the file that names it')
    top = _variant(work / "abs.toml", "/etc/x.toml")
    assert _one_error("whatif", str(TOY), "--variant", str(top)) == (
        f'error: {top}: include = "/etc/x.toml" is an absolute path; give the file\'s path '
        f'inside {work}, relative to the file that names it')
    # a nested include is held to the folder of the file the user named
    top = _variant(work / "nested.toml", "sub/inner.toml")
    inner = _variant(work / "sub" / "inner.toml", "../../elsewhere.toml")
    assert _one_error("whatif", str(TOY), "--variant", str(top)) == (
        f'error: {inner}: include = "../../elsewhere.toml" leads outside {work}; move the '
        f'file into {work} and give its path, relative to the file that names it')


def test_files_of_an_instance_may_name_each_other_across_its_folders(tmp_path: Path) -> None:
    # what instances/liaoning/variants/sweeps/demand_budget_depot.toml does ("../x.toml")
    spec = read_sweep(ROOT / "instances/liaoning/variants/sweeps/demand_budget_depot.toml")
    assert len(spec.runs()) == 60
    folder = _instance(tmp_path)
    top = _variant(folder / "variants" / "sweeps" / "v.toml", "../../variants/close.toml")
    (folder / "variants" / "close.toml").write_text(
        'description = "c"\n[[change]]\nop = "close_facility"\nfacility = "W_north"\n',
        encoding="utf-8")
    result = run_cli("variant", "check", str(folder), "--variant", str(top))
    assert result.exit_code == 0, result.output
    # ... but not beyond the instance folder
    top = _variant(folder / "variants" / "out.toml", "../../outside.toml")
    assert _one_error("variant", "check", str(folder), "--variant", str(top)) == (
        f'error: {top}: include = "../../outside.toml" leads outside {folder}; move the file '
        f'into {folder} and give its path, relative to the file that names it')


def test_sweep_includes_and_level_files_stay_in_their_folder(tmp_path: Path) -> None:
    grid = tmp_path / "work" / "grid.toml"
    grid.parent.mkdir()
    grid.write_text('description = "g"\ninclude = ["/etc/a.toml"]\n[[axis]]\nname = "d"\n'
                    'levels = { open = [], out = "../b.toml" }\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_sweep(grid)
    work = grid.parent
    assert err.value.problems == (
        f'{grid}: include = "/etc/a.toml" is an absolute path; give the file\'s path inside '
        f'{work}, relative to the file that names it',
        f'{grid}: axis 1 (\'d\'): level \'out\' = "../b.toml" leads outside {work}; move the file '
        f'into {work} and give its path, relative to the file that names it')


# --------------------------------------------------------------------------- scheduler

GRID = """description = "one run"
[[axis]]
name = "budget"
op = "set_budget"
param = "budget"
values = [1500000]
"""

FORM = "write SCHEME://HOST:PORT, e.g. tcp://127.0.0.1:8786"
BAD_ADDRESSES = [
    ("tcp://", f"is not an address with a host and a port; {FORM}"),
    ("::::", f"is not an address with a host and a port; {FORM}"),
    ("tcp://host:notaport", f"is not an address with a host and a port; {FORM}"),
    ("tcp://localhost", f"is not an address with a host and a port; {FORM}"),
    ("http://x", "'http' is not an address scheme Dask speaks (inproc, tcp, tls, ucx, ws, "
                 f"wss); {FORM}"),
    ("tcp://a b:1", f"'a b' is not a host name or IP address; {FORM}"),
    ("tcp://127.0.0.1:0", f"port 0 is not between 1 and 65535; {FORM}"),
    ("tcp://10.0.0.5:8786", "is neither on this machine nor tls://, and Dask lets whoever "
                            "answers there run code as you; use tls:// (with Dask's TLS "
                            "certificates) or add --trust-scheduler if you trust everyone "
                            "who can reach that address"),
    ("tcp://scheduler.example.org:8786", "is neither on this machine nor tls://, and Dask "
                                         "lets whoever answers there run code as you; use "
                                         "tls:// (with Dask's TLS certificates) or add "
                                         "--trust-scheduler if you trust everyone who can "
                                         "reach that address"),
    ("tls://10.0.0.5:8786", "Dask has no TLS certificates configured; set "
                            "distributed.comm.tls.ca-file, .client.cert and .client.key in "
                            "Dask's configuration"),
]


@pytest.mark.parametrize(("address", "reason"), BAD_ADDRESSES)
def test_sweep_refuses_a_bad_or_untrusted_scheduler_before_any_work(
        tmp_path: Path, address: str, reason: str) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID, encoding="utf-8")
    out = tmp_path / "out"
    assert _one_error("sweep", str(TOY), "--grid", str(grid), "--out", str(out),
                      "--scheduler", address) == f"error: --scheduler '{address}': {reason}"
    assert not out.exists()


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "127.0.0.1:8786",
                                     "tcp://127.9.9.9:1", "tcp://localhost:8786",
                                     "tcp://LOCALHOST:8786", "tcp://[::1]:8786",
                                     "ws://127.0.0.1:8786", "inproc://10.0.0.5/1/2"])
def test_this_machine_is_accepted_without_trust(address: str) -> None:
    assert checked_scheduler(address) == address


def test_a_remote_scheduler_is_accepted_only_when_trusted() -> None:
    with pytest.raises(InputError):
        checked_scheduler("tcp://10.0.0.5:8786")
    assert checked_scheduler("tcp://10.0.0.5:8786", trusted=True) == "tcp://10.0.0.5:8786"
    with pytest.raises(InputError, match="is not an address with a host and a port"):
        checked_scheduler("tcp://10.0.0.5", trusted=True)  # trust does not fix a typo


def test_a_loopback_scheduler_runs_the_sweep(tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    grid = tmp_path / "grid.toml"
    grid.write_text(GRID, encoding="utf-8")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                      host="127.0.0.1", dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        result = run_cli("sweep", str(TOY), "--grid", str(grid), "--out",
                         str(tmp_path / "out"), "--scheduler", cluster.scheduler_address,
                         "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ran"] == 1


def test_an_unreachable_scheduler_is_one_line(tmp_path: Path) -> None:
    import dask

    grid = tmp_path / "grid.toml"
    grid.write_text(GRID, encoding="utf-8")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        line = _one_error("sweep", str(TOY), "--grid", str(grid), "--out",
                          str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9")
    assert line.startswith("error: --scheduler 'tcp://127.0.0.1:9': cannot connect (")
    assert line.endswith("); check that a Dask scheduler runs there")


def test_trust_scheduler_help_says_what_it_trusts() -> None:
    result = run_cli("sweep", "--help")
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "--trust-scheduler" in text
    assert "everyone who can reach that address" in text and "can run code as you" in text
