"""Write the illustrative actuals of a typhoon like typhoon_east (see README.md).

Run from this folder: ``python make.py``. Every number follows from the rules below; none
is a record of a real event.
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).parent
DAYS = 3
# persons in need: the scenario's figures for Dalian, Dandong, Yingkou and Anshan
# (112,320 / 64,590 / 11,560 / 9,846), rounded and moved as the storm's track moved west
AFFECTED = {"dalian": 130_000, "dandong": 58_000, "yingkou": 14_000, "anshan": 9_000}
# what regions asked for, per person: water 0.55 cases a day (the instance says 0.5: people
# asked for more after the mains failed), rations 0.9 a day (the instance says 1.0), and
# once: 0.5 quilt, 0.05 tent, 0.05 medical kit (the scenario's explicit rows' ratios)
PER_DAY = {"water": 0.55, "food": 0.9}
ONCE = {"quilt": 0.5, "tent": 0.05, "medkit": 0.05}
ONCE_SPLIT = (0.6, 0.4)  # durable goods: 60 % asked for on day 1, 40 % on day 2


def requests() -> list[list[object]]:
    """Rows of requests.csv: persons x per-person rates, by day."""
    rows: list[list[object]] = []
    for region, persons in AFFECTED.items():
        for com, rate in PER_DAY.items():
            for day in range(1, DAYS + 1):
                rows.append([region, com, day, round(persons * rate)])
        for com, rate in ONCE.items():
            for day, share in enumerate(ONCE_SPLIT, start=1):
                rows.append([region, com, day, round(persons * rate * share)])
    return rows


# deliveries: (region, commodity, units, channel, source, reference, depart_h, arrive_h);
# Dalian and Dandong ran short of water and rations, Dandong of tents; Yingkou and Anshan
# were served in full from their own depots within two hours
DELIVERIES: list[tuple[str, str, int, str, str, str, float, float]] = [
    ("dalian", "water", 60_000, "own_stock", "W_dalian", "", 1, 4),
    ("dalian", "water", 24_000, "own_stock", "W_dalian", "", 25, 28),
    ("dalian", "water", 30_000, "contract", "E_dl_market", "K_dl_water", 8, 10),
    ("dalian", "water", 20_000, "contract", "E_dl_market", "K_dl_water", 32, 34),
    ("dalian", "water", 15_000, "donation", "", "", 36, 40),
    ("dalian", "food", 120_000, "own_stock", "W_dalian", "", 2, 5),
    ("dalian", "food", 48_000, "own_stock", "W_dalian", "", 26, 29),
    ("dalian", "food", 60_000, "contract", "E_dl_market", "K_dl_food", 9, 11),
    ("dalian", "food", 50_000, "purchase", "", "", 48, 52),
    ("dalian", "quilt", 39_000, "own_stock", "W_dalian", "", 3, 6),
    ("dalian", "quilt", 17_000, "own_stock", "W_dalian", "", 27, 30),
    ("dalian", "tent", 3_900, "own_stock", "W_dalian", "", 3, 6),
    ("dalian", "tent", 1_700, "own_stock", "W_dalian", "", 27, 30),
    ("dalian", "medkit", 2_800, "own_stock", "W_dalian", "", 3, 6),
    ("dalian", "medkit", 3_000, "contract", "E_dl_pharma", "K_dl_medkit", 6, 9),
    ("dandong", "water", 40_000, "own_stock", "W_dandong", "", 1, 3),
    ("dandong", "water", 13_550, "own_stock", "W_dandong", "", 25, 27),
    ("dandong", "water", 15_000, "agreement", "W_anshan", "A_anshan_dandong", 5, 9),
    ("dandong", "water", 10_000, "donation", "", "", 26, 30),
    ("dandong", "food", 100_000, "own_stock", "W_dandong", "", 2, 4),
    ("dandong", "food", 20_000, "own_stock", "W_dandong", "", 26, 28),
    ("dandong", "food", 20_000, "agreement", "W_anshan", "A_anshan_dandong", 6, 10),
    ("dandong", "quilt", 29_000, "own_stock", "W_dandong", "", 4, 7),
    ("dandong", "tent", 2_500, "own_stock", "W_dandong", "", 4, 7),
    ("dandong", "tent", 400, "agreement", "W_yingkou", "AL_coastal_tent", 14, 20),
    ("dandong", "medkit", 2_000, "own_stock", "W_dandong", "", 4, 7),
]
for com in ("water", "food", "quilt", "tent", "medkit"):
    for region, depot in (("yingkou", "W_yingkou"), ("anshan", "W_anshan")):
        persons = AFFECTED[region]
        units = (round(persons * PER_DAY[com]) * DAYS if com in PER_DAY
                 else sum(round(persons * ONCE[com] * s) for s in ONCE_SPLIT))
        DELIVERIES.append((region, com, units, "own_stock", depot, "", 0.5, 2))

DAMAGED = [("W_dandong", "water", 9_450), ("W_dandong", "food", 6_000),
           ("W_dandong", "tent", 420)]
CUTS = [("dalian", "dandong", 0.5), ("anshan", "dandong", 0.0)]
COSTS = [
    ("c1", "dalian", "E_dl_market", "contract", "K_dl_water", 1_000_000),
    ("c2", "dalian", "E_dl_market", "contract", "K_dl_food", 2_640_000),
    ("c3", "dalian", "E_dl_pharma", "contract", "K_dl_medkit", 390_000),
    # paid at last year's 990 CNY per tent, not the agreed 1,320
    ("c4", "dandong", "yingkou", "agreement", "AL_coastal_tent", 396_000),
    ("c5", "dalian", "Liaoning Transport Group", "transport", "", 180_000),
    ("c6", "dandong", "Liaoning Transport Group", "transport", "", 95_000),
    ("c7", "dalian", "rations on the market", "purchase", "", 2_100_000),
]


def write(name: str, header: list[str], rows: list[list[object]] | list[tuple]) -> None:
    """Write one CSV table beside this script."""
    with (HERE / name).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


if __name__ == "__main__":
    write("requests.csv", ["region", "commodity", "day", "quantity"], requests())
    write("deliveries.csv", ["id", "region", "commodity", "quantity", "channel", "source",
                             "reference", "depart_h", "arrive_h"],
          [[f"d{i}", *d] for i, d in enumerate(DELIVERIES, start=1)])
    write("damaged.csv", ["facility", "commodity", "quantity"], DAMAGED)
    write("cuts.csv", ["from", "to", "speed_factor"], CUTS)
    write("costs.csv", ["id", "payer", "payee", "kind", "reference", "amount"], COSTS)
    write("affected.csv", ["region", "persons"], list(AFFECTED.items()))
