"""Road outages given as ``(from_id, to_id, speed_factor)`` for a user's road network.

An outage multiplies the speed of the road between ``from_id`` and ``to_id`` by
``speed_factor``: 0 cuts it, 0.5 halves the speed; see
:meth:`reserve_opt.geo.roads.RoadNetwork.with_outages`. The instance's own outages (on
links, travel-table and geodesic pairs) are applied in :mod:`reserve_opt.transport`, the
one home of travel; the arc-list and matrix twins that used to live here are gone.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from reserve_opt.errors import InputError

__all__ = ["LinkOutage", "as_outages"]


@dataclass(frozen=True)
class LinkOutage:
    """A link cut or slowed in a scenario.

    Parameters
    ----------
    from_id, to_id
        IDs of the link's ends (facility / region IDs for arcs, road IDs for roads).
    speed_factor
        Multiplier on speed in [0, 1]: 0 = cut, 0.5 = half speed.
    """

    from_id: Hashable
    to_id: Hashable
    speed_factor: float

    def __post_init__(self) -> None:
        f = self.speed_factor
        if not (isinstance(f, int | float) and math.isfinite(f) and 0.0 <= f <= 1.0):
            raise InputError(
                f"outage {self.from_id!r} -> {self.to_id!r}: speed_factor={f!r} must be between "
                "0 (cut) and 1 (unchanged); fix the factor."
            )

    @property
    def is_cut(self) -> bool:
        """True when the link is unusable."""
        return self.speed_factor == 0.0


def as_outages(items: Iterable[LinkOutage | Sequence[Any]]) -> tuple[LinkOutage, ...]:
    """Normalise ``(from_id, to_id, speed_factor)`` tuples and :class:`LinkOutage` objects.

    Parameters
    ----------
    items
        Outages as objects or 3-tuples.

    Returns
    -------
    tuple of LinkOutage
    """
    out: list[LinkOutage] = []
    for k, it in enumerate(items):
        if isinstance(it, LinkOutage):
            out.append(it)
            continue
        if len(it) != 3:
            raise InputError(
                f"outage {k} is {tuple(it)!r}; give it as (from_id, to_id, speed_factor)."
            )
        a, b, f = it
        try:
            ff = float(f)
        except (TypeError, ValueError):
            raise InputError(
                f"outage {k} ({a!r} -> {b!r}) has speed_factor {f!r}; give a number in [0, 1]."
            ) from None
        out.append(LinkOutage(a, b, ff))
    return tuple(out)
