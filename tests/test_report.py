"""``reserve-opt report``: one self-contained HTML file (issue 14, item 1).

The Liaoning session (plan, then an event with its routes) is opened in headless Chromium
with the network disabled (an unreachable proxy); Chromium's NetLog lists every request the
page started, and there must be none. The screenshot must not be blank, and ``--lang zh``
must give Chinese labels. Hostile names stay text; bad flags get one line each.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import Markup

from reserve_opt import load_instance
from reserve_opt.report import LABELS, ReportData, Section, plan_figures, render_report
from tests.cli_runner import run_cli
from tests.test_input_safety import _one_error

ROOT = Path(__file__).resolve().parents[1]
LIAONING = ROOT / "instances" / "liaoning"
TOY = ROOT / "instances" / "toy"
BROWSERS = ["chromium", "chromium-browser", "google-chrome"]
# routes stop on iterations, so the same report comes out on any machine
ROUTE = ["--max-iterations", "200"]


class _Page(HTMLParser):
    """Tags, attributes, scripts and the visible text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._style else self.text).append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def _references(page: _Page) -> list[str]:
    """Every URL the page could fetch: attributes that load, and url(...) in styles."""
    urls = [v or "" for _, attrs in page.tags for k, v in attrs
            if k in ("src", "href", "xlink:href", "srcset", "poster", "data", "action",
                     "background", "formaction")]
    styles = page.styles + [v or "" for _, attrs in page.tags for k, v in attrs if k == "style"]
    urls += [u for s in styles for u in re.findall(r"url\(\s*['\"]?([^'\")]*)", s)]
    return urls


def _offline(urls: list[str]) -> list[str]:
    """The URLs that would leave the page: anything but in-page anchors and data: URLs."""
    return [u for u in urls if not (u.startswith("#") or u.startswith("data:"))]


@pytest.fixture(scope="module")
def liaoning_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Liaoning's plan folder, as the README's session makes it."""
    folder = tmp_path_factory.mktemp("session") / "plan"
    result = run_cli("plan", str(LIAONING), "--out", str(folder))
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="module")
def liaoning_reports(liaoning_plan: Path) -> dict[str, Path]:
    """The session's report in Chinese and English: the plan, then compound_west's day 1."""
    pages = {}
    for lang in ("zh", "en"):
        page = liaoning_plan.parent / f"report-{lang}.html"
        result = run_cli("report", str(LIAONING), "--plan", str(liaoning_plan), "--scenario",
                         "compound_west", "--lang", lang, "--out", str(page), *ROUTE)
        assert result.exit_code == 0, result.output
        assert result.stdout == f"wrote {page}\n"
        pages[lang] = page
    return pages


def test_the_report_is_one_file_that_asks_for_nothing(liaoning_reports: dict[str, Path]) -> None:
    for page_file in liaoning_reports.values():
        text = page_file.read_text(encoding="utf-8")
        page = _parse(text)
        tags = {t for t, _ in page.tags}
        assert not tags & {"script", "link", "iframe", "img", "object", "embed", "base"}
        assert _offline(_references(page)) == []
        # the only http(s) text left is the SVG namespace, which is a name, not a request
        assert set(re.findall(r"https?://[^\s\"'<>)]+", text)) == {"http://www.w3.org/2000/svg"}
        csp = [dict(attrs).get("content") or "" for t, attrs in page.tags
               if t == "meta" and dict(attrs).get("http-equiv") == "Content-Security-Policy"]
        assert len(csp) == 1 and csp[0].startswith("default-src 'none';")
        assert text.count("<svg") == 2  # the plan's map and the event's map


def test_key_figures_come_first_and_shortages_have_reasons(
        liaoning_reports: dict[str, Path]) -> None:
    text = liaoning_reports["en"].read_text(encoding="utf-8")
    sections = re.findall(r'<section id="([^"]+)">', text)
    assert sections == ["key-figures", "plan-map", "plan", "plan-shortages", "event",
                        "event-map", "why", "routes"]
    figures = text[text.index('id="key-figures"'):text.index('id="plan-map"')]
    assert "Money spent (expected)" in figures
    assert "Expected shortage penalty (not money)" in figures
    assert "Who owes whom after event compound_west" in figures
    assert re.search(r'<div class="value">\d+\.\d%</div><div class="label">Expected fill '
                     r"rate</div>", figures)
    why = text[text.index('id="why"'):text.index('id="routes"')]
    # compound_west leaves Panjin short of quilts: its binding stock is named with its worth
    assert "<td>stock of quilt at W_panjin</td>" in why
    assert "<td>binding</td>" in why


def test_chinese_labels_with_lang_zh(liaoning_reports: dict[str, Path]) -> None:
    zh = liaoning_reports["zh"].read_text(encoding="utf-8")
    en = liaoning_reports["en"].read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in zh
    for key in ("sec_key", "sec_plan", "kf_money", "t_costs", "col_region"):
        english, chinese = LABELS[key]
        assert chinese in zh and f">{english}<" not in zh
        assert english in en
    # names as given, in both languages
    assert "Panjin 盘锦市" in zh and "Panjin 盘锦市" in en


def test_the_page_carries_its_chinese_glyphs(liaoning_reports: dict[str, Path]) -> None:
    import base64
    import io

    from fontTools.ttLib import TTFont

    # a system CJK font, or else the bundled OFL subset: always some font
    zh = liaoning_reports["zh"].read_text(encoding="utf-8")
    embedded = re.search(r'font-family: "reserve-opt-cjk"; src: url\(data:font/woff;base64,'
                         r"([A-Za-z0-9+/=]+)\)", zh)
    assert embedded
    cmap = TTFont(io.BytesIO(base64.b64decode(embedded.group(1)))).getBestCmap()
    shown = {ch for ch in "".join(_parse(zh).text) if ord(ch) > 0x2E80}
    assert shown and not {ch for ch in shown if ord(ch) not in cmap}


def test_every_label_is_translated() -> None:
    for key, (english, chinese) in LABELS.items():
        assert english and chinese, key
        assert re.findall(r"\{(\w+)\}", english) == re.findall(r"\{(\w+)\}", chinese), key


def _browser() -> str | None:
    return next((b for b in BROWSERS if shutil.which(b)), None)


def _open_offline(browser: str, page: Path, work: Path) -> tuple[Path, list[str], str]:
    """Screenshot ``page`` with the network disabled; the URLs it requested; its DOM."""
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-extensions", "--no-default-browser-check",
             # network disabled: every request goes to a port where nobody answers
             "--proxy-server=127.0.0.1:9", f"--user-data-dir={work / 'profile'}",
             "--window-size=1100,2400"]
    shot, log = work / f"{page.stem}.png", work / f"{page.stem}-net.json"
    done = subprocess.run([*flags, f"--log-net-log={log}", f"--screenshot={shot}",
                           page.as_uri()], capture_output=True, text=True, timeout=300,
                          check=False)
    assert shot.is_file(), done.stderr[-2000:]
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=300, check=False).stdout
    net = json.loads(log.read_text(encoding="utf-8"))
    kinds = {v: k for k, v in net["constants"]["logEventTypes"].items()}
    # the page's own requests carry its file:// origin; the browser's own services do not
    asked = [e["params"]["url"] for e in net["events"]
             if kinds.get(e["type"]) == "URL_REQUEST_START_JOB"
             and str(e.get("params", {}).get("network_isolation_key", "")).startswith("file:")]
    return shot, asked, dom


def _colours(shot: Path) -> tuple[int, float]:
    from PIL import Image

    with Image.open(shot) as im:
        rgb = im.convert("RGB").resize((275, 600))
        pixels = [rgb.getpixel((x, y)) for y in range(600) for x in range(275)]
    white = sum(1 for p in pixels if min(p) > 245) / len(pixels)
    return len(set(pixels)), white


def test_the_report_opens_offline_in_a_real_browser(
        liaoning_reports: dict[str, Path], tmp_path: Path) -> None:
    browser = _browser()
    if browser is None:
        pytest.skip("needs a headless browser (Debian: apt install chromium)")
    # the check sees requests: a page that loads a picture from the web is caught
    leak = tmp_path / "leak.html"
    leak.write_text('<!DOCTYPE html><p>x</p><img src="http://example.invalid/a.png">',
                    encoding="utf-8")
    assert _open_offline(browser, leak, tmp_path)[1] == ["http://example.invalid/a.png"]
    for lang, page in liaoning_reports.items():
        shot, asked, dom = _open_offline(browser, page, tmp_path)
        assert asked == [], lang
        colours, white = _colours(shot)
        assert colours > 200 and white < 0.9, (lang, colours, white)
        title = LABELS["sec_key"][0 if lang == "en" else 1]
        assert f"<h2>{title}</h2>" in dom
        assert _offline(_references(_parse(dom))) == []


# --------------------------------------------------------------------------- hostile names

PAYLOADS = ["<script>alert(1)</script>", "\"><img src=x onerror=alert(2)>",
            "${alert(3)}", "`+alert(4)+`", "'; alert(5); '"]


def _hostile(tmp_path: Path) -> Path:
    import csv

    folder = tmp_path / "hostile"
    shutil.copytree(TOY, folder)

    def edit(name: str, column: str, values: list[str]) -> None:
        path = folder / name
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        for row, value in zip(rows, values, strict=False):
            row[column] = value
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

    edit("regions.csv", "name", PAYLOADS)
    edit("facilities.csv", "name", PAYLOADS[::-1])
    # ids too: an agreement's (settlement, reasons) and a fleet's (route labels)
    edit("agreements.csv", "id", PAYLOADS[:1])
    edit("fleet.csv", "id", PAYLOADS[1:2])
    manifest = folder / "instance.toml"
    text = manifest.read_text(encoding="utf-8")
    text = re.sub(r'^description = .*$', f"description = {json.dumps(PAYLOADS[0])}", text,
                  count=1, flags=re.M)
    manifest.write_text(text, encoding="utf-8")
    return folder


def test_hostile_names_stay_text(tmp_path: Path) -> None:
    folder = _hostile(tmp_path)
    pages = []
    for inst in (folder, TOY):
        page = tmp_path / f"{inst.name}.html"
        result = run_cli("report", str(inst), "--scenario", "typhoon", "--out", str(page),
                         *ROUTE)
        assert result.exit_code == 0, result.output
        pages.append(page.read_text(encoding="utf-8"))
    hostile, clean = pages
    # markup characters are escaped; ${...} and backticks are plain text in a page that
    # has no script at all
    for payload in PAYLOADS:
        if set(payload) & set("<>\"'&"):
            assert payload not in hostile
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile
    page = _parse(hostile)
    assert [t for t, _ in page.tags] == [t for t, _ in _parse(clean).tags]
    assert "script" not in {t for t, _ in page.tags}
    assert not [a for _, attrs in page.tags for a, _ in attrs if a.startswith("on")]
    assert _offline(_references(page)) == []
    # the names are shown as written
    for payload in PAYLOADS:
        assert payload in "".join(page.text)


def test_a_browser_shows_hostile_names_and_runs_nothing(tmp_path: Path) -> None:
    browser = _browser()
    if browser is None:
        pytest.skip("needs a headless browser (Debian: apt install chromium)")
    folder = _hostile(tmp_path)
    page = tmp_path / "hostile.html"
    assert run_cli("report", str(folder), "--out", str(page)).exit_code == 0
    _, asked, dom = _open_offline(browser, page, tmp_path)
    assert asked == []
    parsed = _parse(dom)
    assert not [t for t, _ in parsed.tags if t in ("script", "img")]
    assert PAYLOADS[0] in "".join(parsed.text)


# --------------------------------------------------------------------------- the hook


def test_more_sections_come_in_through_extra() -> None:
    from reserve_opt.models.placement import solve_placement

    inst = load_instance(TOY)
    data = ReportData(instance=inst, source="toy",
                      plan=plan_figures(solve_placement(inst)))

    def review(d: ReportData, t: object) -> Section:
        return Section("review", "Review <b>", Markup("<p>{}</p>").format(d.instance.name))

    text = render_report(data, "en", extra=[review, lambda d, t: None])
    assert re.findall(r'<section id="([^"]+)">', text)[-1] == "review"
    assert '<a href="#review">Review &lt;b&gt;</a>' in text
    assert "<p>toy</p></section>" in text


# --------------------------------------------------------------------------- refusals


def test_bad_flags_are_one_line_each(tmp_path: Path) -> None:
    out = str(tmp_path / "r.html")
    assert _one_error("report", str(TOY), "--out", out, "--lang", "fr") == (
        "error: --lang fr: use zh (Chinese labels) or en (English labels)")
    assert _one_error("report", str(TOY), "--out", str(tmp_path / "r.pdf")) == (
        f"error: --out {tmp_path / 'r.pdf'}: a report is written as .html; change the file "
        "name")
    assert _one_error("report", str(TOY), "--out", out, "--period", "2") == (
        "error: --period 2: give --scenario ID too; the period is a day of that event")
    assert _one_error("report", str(TOY), "--out", out, "--scenario", "quake") == (
        "error: --scenario quake: toy has no such scenario; use one of typhoon, flood, snow.")
    assert _one_error("report", str(TOY), "--out", out, "--scenario", "snow", "--period",
                      "9") == ("error: --period 9: scenario snow (1 days) is allocated over "
                               "periods 1 to 3; give a period from 1 to 3.")
    assert _one_error("report", str(TOY), "--out", out, "--scenario", "snow", "--engine",
                      "foo") == "error: engine 'foo' is not known; use pyvrp or ortools"
    mine = tmp_path / "mine.html"
    mine.write_text("<p>my notes</p>", encoding="utf-8")
    assert _one_error("report", str(TOY), "--out", str(mine)) == (
        f"error: --out {mine}: exists and was not written by reserve-opt; give a new file "
        "name (the file was left as it is)")
    assert mine.read_text(encoding="utf-8") == "<p>my notes</p>"
    assert not Path(out).exists()


def test_a_plan_folder_is_read_and_checked(tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    assert run_cli("plan", str(TOY), "--out", str(plan)).exit_code == 0
    page = tmp_path / "r.html"
    result = run_cli("report", str(TOY), "--plan", str(plan), "--out", str(page))
    assert result.exit_code == 0, result.output
    assert f"Plan read from {plan}." in page.read_text(encoding="utf-8")
    # the same file again replaces our own page
    assert run_cli("report", str(TOY), "--plan", str(plan), "--out", str(page)).exit_code == 0

    doc = json.loads((plan / "solution.json").read_text(encoding="utf-8"))
    doc["costs"]["fixed"] = "abc"
    edited = tmp_path / "edited"
    edited.mkdir()
    (edited / "solution.json").write_text(json.dumps(doc), encoding="utf-8")
    assert _one_error("report", str(TOY), "--plan", str(edited), "--out", str(page)) == (
        f"error: {edited / 'solution.json'}: costs has fixed 'abc'; it must be a finite "
        "number; give the solution.json that 'reserve-opt plan --out DIR' wrote.")
    doc = json.loads((plan / "solution.json").read_text(encoding="utf-8"))
    doc["shortages"][0]["region"] = "atlantis"
    (edited / "solution.json").write_text(json.dumps(doc), encoding="utf-8")
    assert _one_error("report", str(TOY), "--plan", str(edited), "--out", str(page)) == (
        f"error: {edited / 'solution.json'}: the plan names region 'atlantis', which "
        "instance 'toy' does not have: it was made for another instance.")


def test_a_whatif_comparison(tmp_path: Path) -> None:
    page = tmp_path / "w.html"
    variant = TOY / "variants" / "north_depot_flooded.toml"
    result = run_cli("report", str(TOY), "--variant", str(variant), "--out", str(page),
                     "--lang", "zh")
    assert result.exit_code == 0, result.output
    text = page.read_text(encoding="utf-8")
    assert re.findall(r'<section id="([^"]+)">', text)[-1] == "whatif"
    whatif = text[text.index('id="whatif"'):]
    assert "<th>基准</th>" in whatif.replace(' class="num"', "")
    assert "north_depot_flooded" in whatif


def test_a_review_section_from_an_event_s_actuals(tmp_path: Path) -> None:
    # the toy event of tests/test_review.py, whose every figure is worked by hand there:
    # the section shows the same figures (sea water 87.5% filled, river's first batch 8 h
    # late, the agreement overpaid by 500 CNY) in the report's own tables
    event = ROOT / "tests" / "data" / "review" / "toy_event"
    page = tmp_path / "review.html"
    result = run_cli("report", str(TOY), "--actuals", str(event), "--out", str(page))
    assert result.exit_code == 0, result.output
    text = page.read_text(encoding="utf-8")
    parsed = _parse(text)
    assert "Review of event" in text
    assert "Regions whose first delivery missed the response standard" in text
    assert "Settlement: due under the terms and paid" in text
    assert "What better coordination would have saved" in text
    assert _offline(_references(parsed)) == []
    zh = tmp_path / "review-zh.html"
    assert run_cli("report", str(TOY), "--actuals", str(event), "--lang", "zh", "--out",
                   str(zh)).exit_code == 0
    assert "复盘" in zh.read_text(encoding="utf-8")
    # bad actuals are refused before anything is solved, in the review's own words
    bad = tmp_path / "bad"
    shutil.copytree(event, bad)
    deliveries = (bad / "deliveries.csv").read_text(encoding="utf-8")
    (bad / "deliveries.csv").write_text(deliveries.replace("W_north", "W_nowhere", 1),
                                        encoding="utf-8")
    r = run_cli("report", str(TOY), "--actuals", str(bad), "--out", str(tmp_path / "x.html"))
    assert r.exit_code == 1
    assert "source 'W_nowhere' is not a facility of the instance" in r.stderr
    assert not (tmp_path / "x.html").exists()
