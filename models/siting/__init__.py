"""Classic siting models on arrays.

p-median, capacitated p-median, p-center, maximal coverage, set covering, backup
coverage (LSCP-B), and capacitated / uncapacitated facility location, each with fixed
(existing) sites, plus OR-Library readers and an independent checker. Formulations:
``models/siting.md``.
"""

from __future__ import annotations

from reserve_opt.models.siting.backup import backup_cover, backup_cover_model
from reserve_opt.models.siting.capacitated import (
    capacitated_p_median,
    capacitated_p_median_model,
)
from reserve_opt.models.siting.center import center_value, p_center
from reserve_opt.models.siting.check import CheckReport, check
from reserve_opt.models.siting.costs import from_geodataframes, read_costs
from reserve_opt.models.siting.coverage import (
    max_coverage,
    max_coverage_model,
    set_cover,
    set_cover_model,
)
from reserve_opt.models.siting.facility_location import (
    facility_location,
    facility_location_model,
)
from reserve_opt.models.siting.inputs import coverage_from_distance
from reserve_opt.models.siting.matrix import MatrixInstance, read_cost_matrix
from reserve_opt.models.siting.orlib import (
    CapInstance,
    PMedInstance,
    read_optima,
    read_orlib_cap,
    read_orlib_pmed,
)
from reserve_opt.models.siting.pmedian import classic_model, p_median
from reserve_opt.models.siting.result import SitingResult

__all__ = [
    "CapInstance",
    "CheckReport",
    "MatrixInstance",
    "PMedInstance",
    "SitingResult",
    "backup_cover",
    "backup_cover_model",
    "capacitated_p_median",
    "capacitated_p_median_model",
    "center_value",
    "check",
    "classic_model",
    "coverage_from_distance",
    "facility_location",
    "facility_location_model",
    "from_geodataframes",
    "max_coverage",
    "max_coverage_model",
    "p_center",
    "p_median",
    "read_cost_matrix",
    "read_costs",
    "read_optima",
    "read_orlib_cap",
    "read_orlib_pmed",
    "set_cover",
    "set_cover_model",
]
