"""Shared fixtures: paths to the repository's instances."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"


@pytest.fixture
def toy_path() -> Path:
    return INSTANCES / "toy"
