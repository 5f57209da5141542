"""How much of a truck one unit of a commodity fills: the allocation's load weight.

Routing (``models/routing/from_allocation.py::_pack``) fills a vehicle with one
(source, point) pair's goods commodity after commodity, until its kg or its m3 is full.
Dense goods (water) fill a truck's kg before its m3, bulky ones (quilts, tents) its m3
before its kg, and a load of one commodity leaves the other dimension partly empty. Kg and
m3 rows that add up all commodities' kg and m3 separately assume every load is mixed to
fill both at once; the trucks then need more loads than the rows allow (Liaoning's
W_yingkou on quake_haicheng day 1: 87 loads of 10 t / 45 m3 for 71 t-loads of kg and 61
of m3, with 81 trips).

So the fleet's kg rows charge each unit its **load weight**: its weight, or its volume
times the trucks' kg per m3 where that is larger (the share of a truck it takes, in kg):
a commodity's loads then use a truck's kg and m3 as routing packs them. For a depot with
one vehicle type this is exact for loads of one commodity; mixed at the boundary between
two commodities, a load is fuller than this counts (the rows are then conservative by at
most one load per (source, point) pair and commodity change). See ``models/allocation.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from reserve_opt.domain import Instance

FloatArray = npt.NDArray[np.float64]

__all__ = ["depot_kg_per_m3", "load_kg"]


def depot_kg_per_m3(instance: Instance, depots: Sequence[str]) -> FloatArray:
    """Each depot's trucks' kg capacity per m3 of capacity (its signed vehicles together).

    Parameters
    ----------
    instance
        The instance (its signed ``vehicles``).
    depots
        Depot ids.

    Returns
    -------
    numpy.ndarray
        kg per m3 by depot; 0 for a depot with no signed vehicle or no m3 capacity (its
        loads are then counted by weight alone, as routing packs them by kg).
    """
    out = np.zeros(len(depots), dtype=np.float64)
    for i, d in enumerate(depots):
        kg = sum(v.count * v.capacity_kg for v in instance.vehicles if v.depot == d)
        m3 = sum(v.count * v.capacity_m3 for v in instance.vehicles if v.depot == d)
        out[i] = kg / m3 if m3 > 0 else 0.0
    return out


def load_kg(weight_kg: FloatArray | float, volume_m3: FloatArray | float,
            kg_per_m3: FloatArray | float) -> FloatArray:
    """A unit's load weight on trucks of ``kg_per_m3``: ``max(weight, volume x kg_per_m3)``.

    Parameters
    ----------
    weight_kg, volume_m3
        The commodity's weight (kg) and volume (m3) per unit.
    kg_per_m3
        The trucks' kg capacity per m3 of capacity (:func:`depot_kg_per_m3`).

    Returns
    -------
    numpy.ndarray
        kg of truck capacity one unit takes.
    """
    out: FloatArray = np.maximum(np.asarray(weight_kg, dtype=np.float64),
                                 np.asarray(volume_m3, dtype=np.float64)
                                 * np.asarray(kg_per_m3, dtype=np.float64))
    return out
