"""reserve-opt: plan emergency material reserves.

The package flows from instance to answer: :mod:`reserve_opt.domain` describes an
instance, :mod:`reserve_opt.io` reads and writes it, :mod:`reserve_opt.validation`
checks it, :mod:`reserve_opt.geo` derives distances and travel times, and
:mod:`reserve_opt.models` turns it into plans, allocations and routes through the
solver layer in :mod:`reserve_opt.solvers`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from reserve_opt.builder import InstanceBuilder
from reserve_opt.domain import Instance
from reserve_opt.errors import InputError, ReserveOptError, SolverError
from reserve_opt.io import load_instance, save_instance

try:
    __version__ = version("reserve-opt")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "InputError",
    "Instance",
    "InstanceBuilder",
    "ReserveOptError",
    "SolverError",
    "__version__",
    "load_instance",
    "save_instance",
]
