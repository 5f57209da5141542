"""Instance-wide settings: transport defaults, budget and response-time standards."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Settings:
    """Numbers that apply to the whole instance.

    Parameters
    ----------
    detour_factor
        Road length over great-circle length (ratio, >= 1).
    speed_kmh
        Truck speed used for travel times, km/h.
    road_snap_km
        Farthest a facility or region point may lie from the road layer, km.
    transport_cost_per_kg_km
        Cost of moving one kg one km, currency per kg km.
    budget
        Most spent on first-stage decisions, currency; ``None`` for no budget.
    county_response_h, prefecture_response_h, province_response_h
        Deadline for the first batch by administrative level, hours (the Chinese
        national guidance of 2024: 6, 8 and 10 h).
    normalise_probabilities
        Scenario probabilities were divided by their sum when read.
    no_event_remainder
        Scenario probabilities may sum below 1; the rest is the implied scenario
        :data:`~reserve_opt.domain.scenario.NO_EVENT` (no demand, damage or outages).
    """

    detour_factor: float = 1.3
    speed_kmh: float = 60.0
    road_snap_km: float = 5.0
    transport_cost_per_kg_km: float = 0.0
    budget: float | None = None
    county_response_h: float = 6.0
    prefecture_response_h: float = 8.0
    province_response_h: float = 10.0
    normalise_probabilities: bool = False
    no_event_remainder: bool = False

    def response_h(self, level: str) -> float:
        """Deadline for the first batch to a region of ``level``, hours."""
        hours: float = getattr(self, f"{level}_response_h")
        return hours
