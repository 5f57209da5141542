"""What-if variants: small patch files over a base instance, and sweeps of many of them.

A variant file is TOML (or YAML with the same keys): a one-line ``description``, an
optional ``name`` (default: the file stem), optional ``include = ["other.toml"]``
(applied first), and a list of changes, each an ``op`` and its parameters::

    description = "Dandong's depot is flooded and the Dalian-Dandong road is cut"

    [[change]]
    op = "close_facility"
    facility = "W_dandong"

    [[change]]
    op = "cut_link"
    from = "dalian"
    to = "dandong"
    scenarios = ["typhoon_east"]      # default: every scenario

Changes apply in order to the base instance's rows; several files compose by applying
one after the other (``--variant a.toml+b.toml``). Every change is checked against the
instance as it stands (unknown ids, bad values), every problem is reported in one
sentence naming the file, the change number and the id, and the patched instance is then
validated as a whole exactly like an instance read from disk.

Operations (parameters and units in ``models/variants.md``, or
:data:`~reserve_opt.variants.ops.OPERATIONS`):

- facilities: ``close_facility``, ``add_facility``, ``change_facility``, ``set_stock``,
  ``damage_facility``
- demand and scenarios: ``scale_demand``, ``add_scenario``, ``drop_scenario``
- transport: ``cut_link``, ``slow_link``
- agreements: ``drop_agreement``, ``change_agreement``, ``add_agreement``,
  ``leave_alliance``
- contracts: ``sign_contract``, ``unsign_contract``, ``drop_contract``,
  ``change_contract``, ``add_contract``
- settings: ``set_budget``, ``set_setting``

Examples
--------
>>> from reserve_opt import load_instance
>>> from reserve_opt.variants import read_variant
>>> base = load_instance("instances/toy")
>>> v = read_variant("instances/toy/variants/storm_doubles_demand.toml")
>>> patched = v.apply(base)
"""

from __future__ import annotations

from reserve_opt.variants.ops import OPERATIONS, Operation
from reserve_opt.variants.variant import (
    Change,
    Variant,
    apply_changes,
    compose,
    read_variant,
    read_variant_arg,
    stable_hash,
    variant_from_dict,
)

__all__ = [
    "OPERATIONS",
    "Change",
    "Operation",
    "Variant",
    "apply_changes",
    "compose",
    "read_variant",
    "read_variant_arg",
    "stable_hash",
    "variant_from_dict",
]
