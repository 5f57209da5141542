"""Origin-destination matrices (the wide travel form) merged into the one travel table.

Each matrix's cells are checked by the long table's column rules (:func:`check_float_cells`,
so ``od_hours.csv row 'W_north' column 'dalian': time_h 'x' is not a number; give a value
in h``), then the matrices of one scenario (or of normal conditions) are joined on
(origin, destination): the distance matrix gives the rows, the time matrix their times. A
pair with a distance and no time takes distance / speed_kmh, as an empty ``time_h`` does in
the long table; a time with no distance is refused, since no sound rule turns hours into
kilometres. The merged table then goes through the long table's checks (places, self-pairs,
scenarios), its rows named by the distance matrix's row and column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from reserve_opt.io.raw import RawTable
from reserve_opt.io.spec import TABLE_BY_NAME
from reserve_opt.validation.cells import check_float_cells


def merge_matrices(matrices: list[RawTable], manifest_source: str,
                   problems: list[str]) -> RawTable | None:
    """The matrices as one long ``travel`` table; ``None`` when none is usable.

    Parameters
    ----------
    matrices
        One long table per matrix file (:func:`reserve_opt.io.odmatrix.read_matrices`).
    manifest_source
        The manifest's name, for messages about its keys.
    problems
        Problems found are appended here.
    """
    columns = {c.name: c for c in TABLE_BY_NAME["travel"].columns}
    groups: dict[str | None, dict[str, tuple[RawTable, pd.DataFrame]]] = {}
    for table in matrices:
        column = table.columns[2]
        scenario_cat = table.frame["scenario"].cat.categories
        scenario = str(scenario_cat[0]) if len(scenario_cat) else None
        values = check_float_cells(columns[column], table, problems)
        keyed = pd.DataFrame({"from": table.frame["from"].astype(object),
                              "to": table.frame["to"].astype(object), column: values})
        group = groups.setdefault(scenario, {})
        if column in group:
            problems.append(f"{manifest_source}: [tables] names two {column} matrices for "
                            f"{_conditions(scenario)} ({group[column][0].source} and "
                            f"{table.source}); keep one")
            continue
        group[column] = (table, keyed)
    parts: list[pd.DataFrame] = []
    where: list[tuple[RawTable, Any]] = []
    for scenario, group in groups.items():
        if "distance_km" not in group:
            hours = group["time_h"][0]
            suffix = "" if scenario is None else f":{scenario}"
            problems.append(
                f"{hours.source}: gives travel times for {_conditions(scenario)} but no "
                f"matrix gives their distances; name one under [tables] as "
                f"\"travel_distance_km{suffix}\" (a distance is not derived from a time)")
            continue
        km_table, km = group["distance_km"]
        km = km.reset_index(names="at")
        if "time_h" in group:
            h_table, h_frame = group["time_h"]
            joined = km.merge(h_frame.reset_index(names="h_at"), on=["from", "to"],
                              how="outer", indicator=True, sort=False)
            lone = joined.loc[joined["_merge"] == "right_only", "h_at"].astype(np.int64)
            problems += [f"{h_table.locate(int(k))}: has a time but {km_table.source} gives no "
                         f"distance for the pair; give its distance_km there"
                         for k in sorted(lone)]
            joined = joined[joined["_merge"] != "right_only"].sort_values("at")
        else:
            joined = km.assign(time_h=np.nan)
        joined = joined[np.isfinite(joined["distance_km"].to_numpy(dtype=np.float64))]
        parts.append(pd.DataFrame({
            "from": joined["from"].to_numpy(dtype=object),
            "to": joined["to"].to_numpy(dtype=object),
            "distance_km": joined["distance_km"].to_numpy(dtype=np.float64),
            "time_h": joined["time_h"].to_numpy(dtype=np.float64),
            "scenario": pd.Series([scenario] * len(joined), dtype=object)}))
        where.append((km_table, joined["at"].to_numpy(dtype=np.int64)))
    if not parts:
        return None
    frame = pd.concat(parts, ignore_index=True)
    tables = [t for t, at in where for _ in range(len(at))]
    rows = np.concatenate([at for _, at in where])
    return RawTable("travel", " and ".join(t.source for t, _ in where),
                    list(frame.columns), [],
                    lambda i: tables[i].locate(int(rows[i])), frame=frame)


def _conditions(scenario: str | None) -> str:
    return "normal conditions" if scenario is None else f"scenario '{scenario}'"
