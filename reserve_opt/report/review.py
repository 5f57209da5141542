"""The report's review section: an event as it happened, against the plan and in hindsight.

:func:`review_section` turns a :class:`reserve_opt.review.Review` into a section maker for
:func:`reserve_opt.report.build_sections`: fill rates per commodity, regions whose first
arrival missed the 6/8/10 h standard, the settlement due under the terms beside what was
paid, and what better coordination would have saved (the hindsight allocation).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from reserve_opt.report.figures import percent
from reserve_opt.report.html import ReportData, Section, SectionMaker, paragraph, table

if TYPE_CHECKING:
    from reserve_opt.review import Review

Translate = Callable[..., str]


def _hours(v: Any) -> str:
    return "" if v is None or not math.isfinite(float(v)) else f"{float(v):.1f}"


def _kind(t: Translate, kind: str) -> str:
    from reserve_opt.report.i18n import LABELS

    return t(f"v_{kind}") if f"v_{kind}" in LABELS else kind


def review_section(review: Review) -> SectionMaker:
    """A section maker showing ``review`` (see the module).

    Parameters
    ----------
    review
        The reviewed event (:func:`reserve_opt.review.review`).

    Returns
    -------
    SectionMaker
        ``(data, t) -> Section``, for ``build_sections(..., extra=[...])``.
    """

    def make(data: ReportData, t: Translate) -> Section:
        cur = review.currency
        parts: list[Markup] = [paragraph(t("rv_intro", event=review.name or review.event,
                                           days=review.days))]
        parts += [paragraph(note, "note") for note in review.notes]
        bc = review.by_commodity
        parts.append(table(
            [t("col_commodity"), t("col_unit"), t("rv_requested"), t("col_delivered"),
             t("col_never"), t("col_late"), t("col_fill")],
            [[r["commodity"], r["unit"], float(r["requested"]), float(r["delivered"]),
              float(r["never_delivered"]), float(r["late_unit_days"]),
              percent(float(r["fill_rate"]))] for r in bc.to_dict(orient="records")],
            numeric=(2, 3, 4, 5, 6), caption=t("rv_fill")))
        late = review.response[~review.response["met"].astype(bool)]
        if len(late):
            parts.append(table(
                [t("col_region"), t("col_level"), t("col_standard"), t("col_first"),
                 t("rv_late_h")],
                [[r["region"], r["level"], float(r["standard_h"]),
                  _hours(r["first_arrival_h"]) or t("v_never"), _hours(r["late_h"])]
                 for r in late.to_dict(orient="records")],
                numeric=(2, 3, 4), caption=t("rv_response_missed")))
        else:
            parts.append(paragraph(t("rv_response_met")))
        st = review.settlement
        if len(st):
            parts.append(table(
                [t("col_debtor"), t("col_creditor"), t("col_kind"), t("rv_reference"),
                 t("col_units"), t("rv_due", currency=cur), t("rv_paid", currency=cur),
                 t("rv_difference", currency=cur)],
                [[r["debtor"], r["creditor"], _kind(t, str(r["kind"])), r["reference"],
                  float(r["units"]), float(r["due"]),
                  None if r["paid"] is None or r["paid"] != r["paid"] else float(r["paid"]),
                  None if r["difference"] is None or r["difference"] != r["difference"]
                  else float(r["difference"])] for r in st.to_dict(orient="records")],
                numeric=(4, 5, 6, 7), caption=t("rv_settlement")))
        h = review.hindsight
        if h is None:
            parts.append(paragraph(t("rv_no_hindsight")))
        else:
            parts += [paragraph(note, "note") for note in h.notes]
            parts.append(table(
                [t("col_commodity"), t("col_unit"), t("rv_never_actual"),
                 t("rv_never_hindsight"), t("rv_late_actual"), t("rv_late_hindsight"),
                 t("rv_fill_actual"), t("rv_fill_hindsight")],
                [[r["commodity"], r["unit"], float(r["never_delivered_actual"]),
                  float(r["never_delivered_hindsight"]), float(r["late_unit_days_actual"]),
                  float(r["late_unit_days_hindsight"]), percent(float(r["fill_rate_actual"])),
                  percent(float(r["fill_rate_hindsight"]))]
                 for r in h.savings.to_dict(orient="records")],
                numeric=(2, 3, 4, 5, 6, 7), caption=t("rv_hindsight")))
            top = h.decisions.head(10)
            if len(top):
                parts.append(table(
                    [t("col_source"), t("col_region"), t("col_commodity"), t("rv_done"),
                     t("rv_engine"), t("col_detail")],
                    [[r["source"], r["region"], r["commodity"], float(r["actual_units"]),
                      float(r["hindsight_units"]), r["detail"]]
                     for r in top.to_dict(orient="records")],
                    numeric=(3, 4), caption=t("rv_decisions", n=len(top),
                                               total=len(h.decisions))))
        return Section("review", t("sec_review", event=review.name or review.event),
                       Markup("").join(parts))

    return make
