"""``reserve-opt report``: one self-contained HTML file for a plan, an event and a what-if.

- :mod:`~reserve_opt.report.figures`: the figures, read from a plan's JSON (checked) and
  an event's results; the one percentage rule of every output (:func:`percent`).
- :mod:`~reserve_opt.report.svgmap`: maps as inline SVG over Natural Earth outlines.
- :mod:`~reserve_opt.report.i18n`: every label in English and Chinese, one table.
- :mod:`~reserve_opt.report.fonts`: a CJK font subset embedded in the page.
- :mod:`~reserve_opt.report.html`: the page; :func:`write_report` writes it under the
  single-file output rules, and ``extra`` section makers add sections (a later review).
"""

from reserve_opt.report.figures import PlanFigures, percent, plan_figures
from reserve_opt.report.html import (
    ReportData,
    Section,
    SectionMaker,
    build_sections,
    paragraph,
    render_report,
    table,
    write_report,
)
from reserve_opt.report.i18n import LABELS, LANGS, Lang, check_lang, translator

__all__ = [
    "LABELS",
    "LANGS",
    "Lang",
    "PlanFigures",
    "ReportData",
    "Section",
    "SectionMaker",
    "build_sections",
    "check_lang",
    "paragraph",
    "percent",
    "plan_figures",
    "render_report",
    "table",
    "translator",
    "write_report",
]
