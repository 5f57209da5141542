"""The domain: immutable descriptions of regions, goods, facilities and events."""

from reserve_opt.domain.agreement import (
    PARENT_AGREEMENT,
    POOLED_AGREEMENT,
    SHARING_MODES,
    Agreement,
    Sharing,
    Tier,
    resolve_sharing,
)
from reserve_opt.domain.commodity import Commodity
from reserve_opt.domain.contract import Contract, ContractKind
from reserve_opt.domain.facility import Facility, FacilityKind, SizeOption
from reserve_opt.domain.instance import Instance
from reserve_opt.domain.network import Link, TravelTable, VehicleType
from reserve_opt.domain.region import DemandPoint, Region
from reserve_opt.domain.scenario import Outage, Scenario
from reserve_opt.domain.settings import Settings

__all__ = [
    "PARENT_AGREEMENT",
    "POOLED_AGREEMENT",
    "SHARING_MODES",
    "Agreement",
    "Commodity",
    "Contract",
    "ContractKind",
    "DemandPoint",
    "Facility",
    "FacilityKind",
    "Instance",
    "Link",
    "Outage",
    "Region",
    "Scenario",
    "Settings",
    "Sharing",
    "SizeOption",
    "Tier",
    "TravelTable",
    "VehicleType",
    "resolve_sharing",
]
