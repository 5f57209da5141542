"""Validation: every table checked alone and against the others before any solve."""

from __future__ import annotations

from reserve_opt.validation.build import find_problems, validate_raw

__all__ = ["find_problems", "validate_raw"]
