"""Read-only mappings for the immutable domain types."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any


def frozen_empty() -> Mapping[Any, Any]:
    """A fresh empty read-only mapping (the default of mapping fields)."""
    return MappingProxyType({})
