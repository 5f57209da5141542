"""Every label of the report, in English and Chinese: one table, one lookup.

Names and ids from the instance are never translated: they are shown as given. Values the
models write in English prose (a shortage's ``detail``, a routing ``reason``, the what-if's
change lines) are shown as written; their kinds (``binding``, ``late``...) are translated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from reserve_opt.errors import InputError

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")

#: key -> (English, Chinese). ``{name}`` fields are filled by :func:`translator`'s caller.
LABELS: dict[str, tuple[str, str]] = {
    # page
    "report_title": ("Reserve report: {name}", "应急物资储备报告：{name}"),
    "made_by": ("Made by {generator} from {source}.", "由 {generator} 根据 {source} 生成。"),
    "contents": ("Contents", "目录"),
    "covers_plan": ("the reserve plan (expected over {n} scenarios)",
                    "储备方案（{n} 个情景的期望）"),
    "covers_event": ("the event {event}: allocation over {periods} days, routes of day {day}",
                     "事件 {event}：{periods} 天的调配，第 {day} 天的车辆路线"),
    "covers_whatif": ("a what-if comparison of {n} variants", "{n} 个方案变体的比较"),
    "covers": ("This report covers: {what}.", "本报告包括：{what}。"),
    "list_sep": ("; ", "；"),
    "plan_from_folder": ("Plan read from {path}.", "方案读自 {path}。"),
    "plan_solved": ("Plan solved now: {status} in {seconds} s with {solver}.",
                    "方案本次求解：{status}，用时 {seconds} 秒，求解器 {solver}。"),
    "currency_note": ("Money in {currency}; quantities in each commodity's own unit.",
                      "金额单位为 {currency}；数量以各物资自身的单位计。"),
    "sources": ("Sources", "数据来源"),
    "ne_credit": ("Country outlines: Natural Earth (public domain), simplified; de facto "
                  "boundaries, no statement on any border.",
                  "国界轮廓：Natural Earth（公共领域），已简化；"
                  "为实际控制线，不代表对任何边界的立场。"),
    "instance_sources": ("Instance data", "实例数据"),
    # section titles
    "sec_key": ("Key figures", "关键数字"),
    "sec_plan_map": ("Map of the plan", "方案地图"),
    "sec_plan": ("The plan", "储备方案"),
    "sec_plan_short": ("Expected shortages of the plan", "方案的期望缺口"),
    "sec_event": ("Event {event}", "事件 {event}"),
    "sec_event_map": ("Map of event {event}, day {day}", "事件 {event} 地图，第 {day} 天"),
    "sec_why": ("Why shortages happen in event {event}", "事件 {event} 缺口原因"),
    "sec_routes": ("Vehicle routes, day {day}", "车辆路线，第 {day} 天"),
    "sec_settlement": ("Settlement: who owes whom", "结算：谁欠谁"),
    "sec_whatif": ("What-if comparison", "方案变体比较"),
    # key figures
    "kf_money": ("Money spent (expected)", "支出金额（期望）"),
    "kf_penalty": ("Expected shortage penalty (not money)", "期望缺货惩罚（非实际支出）"),
    "kf_objective": ("Objective = money + penalty", "目标值 = 支出 + 惩罚"),
    "kf_fill": ("Expected fill rate", "期望满足率"),
    "kf_lowest": ("Lowest region fill rate", "最低地区满足率"),
    "kf_opened": ("Warehouses to open", "新开仓库"),
    "kf_signed": ("Contracts to sign", "新签合同"),
    "kf_comp": ("(Transfer) expected compensation", "（转移）期望补偿"),
    "kf_event_fill": ("Fill rate in event {event}", "事件 {event} 满足率"),
    "kf_event_money": ("Money spent in event {event}", "事件 {event} 支出"),
    "kf_event_short": ("Never delivered (units of each commodity)", "未送达（各物资数量）"),
    "kf_event_comp": ("(Transfer) compensation in event {event}", "（转移）事件 {event} 补偿"),
    "kf_routes": ("Vehicles on day {day}", "第 {day} 天车辆"),
    "kf_route_cost": ("Routing cost, day {day}", "第 {day} 天运输费用"),
    "kf_unmet": ("Not on a route, day {day} (units of each commodity)",
                 "第 {day} 天未装车（各物资数量）"),
    "kf_debts_event": ("Who owes whom after event {event} (largest first)",
                       "事件 {event} 后谁欠谁（按金额从大到小）"),
    "kf_debts_plan": ("Who owes whom: expected compensation (largest first)",
                      "谁欠谁：期望补偿（按金额从大到小）"),
    "more_rows": ("… and {n} more in the tables below.", "……另有 {n} 行见下文表格。"),
    "penalty_note": ("The shortage penalty (each commodity's shortage cost per unit short) is "
                     "a weight that makes the plan avoid shortage, not money spent.",
                     "缺货惩罚（各物资每单位缺口的惩罚）是促使方案避免缺口的权重，不是实际支出。"),
    "comp_note": ("(Transfer) compensation: what borrowing regions pay lenders under sharing "
                  "agreements; it moves money between regions, so it is not money spent.",
                  "（转移）补偿：借入地区按互助协议付给借出地区的款项；只在地区间转移，不计入支出。"),
    "fill_note": ("Fill rate: share of demand delivered, as a percentage.",
                  "满足率：已送达需求占总需求的百分比。"),
    # tables
    "term": ("term", "项目"),
    "amount": ("amount ({currency})", "金额（{currency}）"),
    "c_fixed": ("fixed (warehouses)", "固定费用（仓库）"),
    "c_purchase": ("purchase (new stock)", "采购（新增储备）"),
    "c_retainer": ("retainers (contracts)", "合同保留费"),
    "c_transport": ("expected transport", "期望运输费"),
    "c_unit_prices": ("expected contract unit prices", "期望合同单价费用"),
    "c_holding": ("expected holding", "期望保管费"),
    "c_money": ("money spent", "支出合计"),
    "c_penalty": ("expected shortage penalty (not money)", "期望缺货惩罚（非支出）"),
    "c_total": ("money + penalty", "支出 + 惩罚"),
    "c_risk": ("risk term (lambda x CVaR)", "风险项（λ × CVaR）"),
    "c_comp": ("(transfer) expected compensation", "（转移）期望补偿"),
    "t_costs": ("Costs", "费用"),
    "t_opened": ("Warehouses to open", "新开仓库"),
    "none_opened": ("No candidate warehouse is opened.", "不新开候选仓库。"),
    "t_stock": ("Government stock by commodity", "政府储备（按物资）"),
    "t_contracts": ("Enterprise contracts", "企业合同"),
    "t_fill": ("Regions below 100% expected fill rate", "期望满足率低于100%的地区"),
    "all_full": ("Every region is fully served (100%) in every scenario.",
                 "所有地区在所有情景下均完全满足（100%）。"),
    "plan_short_note": ("Reasons per event: add --scenario ID (see the event's section).",
                        "各事件的缺口原因：加上 --scenario ID（见事件部分）。"),
    "t_by_commodity": ("By commodity", "按物资"),
    "t_settlement": ("Settlement: who owes whom", "结算：谁欠谁"),
    "t_plan_settlement": ("Expected compensation borrowers owe lenders under agreements",
                          "借入方按协议应付借出方的期望补偿"),
    "no_settlement": ("Nobody owes anybody.", "无人欠款。"),
    "t_response": ("Regions whose first batch misses the response standard",
                   "首批物资未达响应时限的地区"),
    "response_ok": ("Every region's first batch arrives within its response standard.",
                    "所有地区的首批物资均在响应时限内到达。"),
    "no_shortage": ("No shortage: every demand is met on time.", "无缺口：所有需求均按时满足。"),
    "why_note": ("Reasons as the allocation finds them (reserve-opt allocate): binding stock, "
                 "caps and capacity with what one more unit is worth (dual), outages (re-solve), "
                 "no route or too late (structure). Details are in the model's words.",
                 "原因来自调配模型（reserve-opt allocate）：紧约束的库存、上限和能力及其边际价值"
                 "（对偶），道路中断（重新求解），无路径或太晚（结构）。详情为模型原文。"),
    "t_routes": ("Routes", "路线"),
    "t_unmet": ("Deliveries not on a route", "未装车的配送"),
    "no_routes": ("Nothing to route on this day.", "当天没有需要配送的物资。"),
    "all_routed": ("Every delivery of the day is on a route.", "当天所有配送均已安排车辆。"),
    "routes_note": ("Routes carry day {day} of the allocation above; straight lines between "
                    "stops, not the road itself.",
                    "路线承运上述调配的第 {day} 天；图中为站点间直线，并非实际道路。"),
    "t_comparison": ("Runs side by side", "各方案并列"),
    "t_changes": ("What changed against the base", "与基准相比的变化"),
    "whatif_note": ("Each run is solved as reserve-opt whatif --model {model} does (the "
                    "instance's own stock, not --plan's).",
                    "各方案按 reserve-opt whatif --model {model} 求解"
                    "（使用实例自身储备，不用 --plan）。"),
    "no_change": ("no change", "无变化"),
    # columns
    "col_region": ("region", "地区"),
    "col_commodity": ("commodity", "物资"),
    "col_unit": ("unit", "单位"),
    "col_facility": ("facility", "设施"),
    "col_size": ("size", "规模"),
    "col_capacity": ("capacity (m3)", "容量（立方米）"),
    "col_fixed": ("fixed cost ({currency})", "固定费用（{currency}）"),
    "col_existing": ("existing (units)", "现有（数量）"),
    "col_buy": ("to buy (units)", "需采购（数量）"),
    "col_total": ("total (units)", "合计（数量）"),
    "col_contract": ("contract", "合同"),
    "col_decision": ("decision", "决定"),
    "col_retainer": ("retainer ({currency})", "保留费（{currency}）"),
    "col_exp_demand": ("expected demand (units)", "期望需求（数量）"),
    "col_exp_short": ("expected shortage (units)", "期望缺口（数量）"),
    "col_fill": ("fill rate", "满足率"),
    "col_demand": ("demand (units)", "需求（数量）"),
    "col_delivered": ("delivered (units)", "已送达（数量）"),
    "col_never": ("never delivered (units)", "未送达（数量）"),
    "col_late": ("late (units x days)", "迟到（数量 × 天）"),
    "col_debtor": ("debtor", "付款方"),
    "col_creditor": ("creditor", "收款方"),
    "col_kind": ("kind", "类型"),
    "col_units": ("units", "数量"),
    "col_money": ("amount ({currency})", "金额（{currency}）"),
    "col_agreement": ("agreement", "协议"),
    "col_lender": ("lender", "借出方"),
    "col_borrower": ("borrower", "借入方"),
    "col_standard": ("standard (h)", "时限（小时）"),
    "col_first": ("first arrival (h)", "首批到达（小时）"),
    "col_fastest": ("fastest possible (h)", "最快可能（小时）"),
    "col_level": ("level", "级别"),
    "col_short": ("short (units)", "缺口（数量）"),
    "col_reason": ("reason", "原因"),
    "col_detail": ("detail", "详情"),
    "col_days": ("days", "天"),
    "col_worth": ("worth", "边际价值"),
    "col_method": ("method", "方法"),
    "col_route": ("route", "路线"),
    "col_depot": ("depot", "出发点"),
    "col_trips": ("trips", "趟数"),
    "col_stops": ("stops", "站点"),
    "col_km": ("distance (km)", "距离（公里）"),
    "col_cost": ("cost ({currency})", "费用（{currency}）"),
    "col_start": ("start (h)", "出发（小时）"),
    "col_end": ("end (h)", "结束（小时）"),
    "col_kg": ("load (kg)", "载重（公斤）"),
    "col_source": ("source", "来源"),
    "col_point": ("point", "卸货点"),
    "col_run": ("run", "方案"),
    "col_status": ("status", "状态"),
    "col_measure": ("measure", "指标"),
    # values
    "v_in_force": ("in force", "已生效"),
    "v_sign": ("sign", "签订"),
    "v_no_sign": ("do not sign", "不签"),
    "v_agreement": ("agreement", "协议"),
    "v_contract": ("contract", "合同"),
    "v_never": ("never", "无法到达"),
    "r_binding": ("binding", "紧约束"),
    "r_late": ("too late", "太晚"),
    "r_no_route": ("no route", "无路径"),
    "r_no_day": ("no day can deliver", "任何一天都无法送达"),
    "r_outage": ("outage", "道路中断"),
    "m_dual": ("dual", "对偶"),
    "m_re-solve": ("re-solve", "重新求解"),
    "m_structure": ("structure", "结构"),
    "base": ("base", "基准"),
    # what-if rows
    "w_objective": ("objective ({currency})", "目标值（{currency}）"),
    "w_change": ("change from base ({currency})", "较基准变化（{currency}）"),
    "w_money": ("money spent ({currency})", "支出（{currency}）"),
    "w_penalty": ("shortage penalty, not money ({currency})", "缺货惩罚，非支出（{currency}）"),
    "w_short": ("shortage {commodity} (units)", "{commodity} 缺口（数量）"),
    "w_fill": ("fill rate {commodity}", "{commodity} 满足率"),
    "w_lowest": ("lowest region fill rate", "最低地区满足率"),
    "w_opened": ("warehouses opened", "新开仓库数"),
    "w_contracts": ("contracts held", "持有合同数"),
    # maps
    "map_fill": ("Regions shaded by {what}", "地区按{what}着色"),
    "map_fill_plan": ("lowest expected fill rate over commodities", "各物资中最低的期望满足率"),
    "map_fill_event": ("lowest fill rate in the event", "事件中最低的满足率"),
    "legend_full": ("100% served", "完全满足"),
    "legend_95": ("95% to 99.9%", "95% 至 99.9%"),
    "legend_90": ("90% to 94.9%", "90% 至 94.9%"),
    "legend_low": ("below 90%", "低于 90%"),
    "legend_none": ("no demand", "无需求"),
    "legend_gov": ("government warehouse", "政府仓库"),
    "legend_candidate": ("candidate not opened (hollow)", "未启用的候选仓库（空心）"),
    "legend_enterprise": ("enterprise reserve", "企业储备"),
    "legend_production": ("production capacity", "生产能力"),
    "legend_distribution": ("distribution point", "发放点"),
    "legend_flows": ("shipments of the allocation (width: units)", "调配运输（线宽：数量）"),
    "legend_routes": ("vehicle routes of the day (one colour each)",
                      "当天车辆路线（每条一种颜色）"),
    "legend_unmet": ("delivery not on a route", "未装车的配送"),
    "legend_agreements": ("sharing agreement", "互助协议"),
    "service_areas": ("Regions without polygons are drawn as generated service areas "
                      "(nearest seat), not borders.",
                      "没有边界数据的地区以生成的服务区（最近中心）表示，并非行政边界。"),
    "own_polygons": ("Region shapes: the instance's own polygons ({file}).",
                     "地区形状：实例自带的边界（{file}）。"),
    # review of an event (reserve-opt review)
    "sec_review": ("Review of event {event}", "事件 {event} 复盘"),
    "rv_intro": ("What happened in {event} over {days} days, against the plan and against "
                 "what the engine would have done with what is known now.",
                 "{event}（{days} 天）的实际情况，与方案对照，并与按现在已知情况由本引擎"
                 "给出的调配对照。"),
    "rv_requested": ("requested (units)", "申请（数量）"),
    "rv_fill": ("Requested and delivered, by commodity", "按物资的申请与送达"),
    "rv_late_h": ("late by (h)", "超时（小时）"),
    "rv_response_missed": ("Regions whose first delivery missed the response standard",
                           "首批物资未在响应时限内送达的地区"),
    "rv_response_met": ("Every region's first delivery arrived within its response "
                        "standard.", "所有地区的首批物资均在响应时限内送达。"),
    "rv_reference": ("agreement or contract", "协议或合同"),
    "rv_due": ("due under the terms ({currency})", "按条款应付（{currency}）"),
    "rv_paid": ("paid ({currency})", "实付（{currency}）"),
    "rv_difference": ("paid - due ({currency})", "实付 - 应付（{currency}）"),
    "rv_settlement": ("Settlement: due under the terms and paid", "结算：按条款应付与实付"),
    "rv_no_hindsight": ("The hindsight allocation found no solution.",
                        "事后最优调配未找到解。"),
    "rv_never_actual": ("never delivered, actual (units)", "实际未送达（数量）"),
    "rv_never_hindsight": ("never delivered, hindsight (units)", "事后最优未送达（数量）"),
    "rv_late_actual": ("late, actual (units x days)", "实际迟到（数量 × 天）"),
    "rv_late_hindsight": ("late, hindsight (units x days)", "事后最优迟到（数量 × 天）"),
    "rv_fill_actual": ("fill rate, actual", "实际满足率"),
    "rv_fill_hindsight": ("fill rate, hindsight", "事后最优满足率"),
    "rv_hindsight": ("What better coordination would have saved (the engine's allocation "
                     "with what is known now)",
                     "更好的协调本可避免的损失（按现在已知情况由本引擎给出的调配）"),
    "rv_done": ("done (units)", "实际（数量）"),
    "rv_engine": ("engine in hindsight (units)", "事后最优（数量）"),
    "rv_decisions": ("The decisions that made the difference ({n} largest of {total})",
                     "造成差别的决定（最大的 {n} 项，共 {total} 项）"),
    "north": ("N", "北"),
    "km": ("km", "公里"),
}


def translator(lang: Lang) -> Callable[..., str]:
    """The lookup for ``lang``: ``t("key", name=...)`` gives the label with fields filled.

    Parameters
    ----------
    lang
        ``en`` or ``zh``.

    Returns
    -------
    callable
        ``t(key, **fields) -> str``; an unknown key raises ``KeyError`` (a defect).
    """
    index = LANGS.index(lang)

    def t(key: str, **fields: object) -> str:
        text = LABELS[key][index]
        return text.format(**fields) if fields else text

    return t


def check_lang(value: str) -> Lang:
    """``value`` as a :data:`Lang`; anything else is refused in one line naming ``--lang``."""
    if value not in LANGS:
        raise InputError(f"--lang {value}: use zh (Chinese labels) or en (English labels)")
    return "zh" if value == "zh" else "en"
