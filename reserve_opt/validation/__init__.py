"""Validation: every table checked alone and against the others before any solve."""

from __future__ import annotations

from reserve_opt.validation.build import find_problems, validate_raw
from reserve_opt.validation.reach import unreachable_demand

__all__ = ["find_problems", "unreachable_demand", "validate_raw"]
