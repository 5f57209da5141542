"""Shared fixtures: paths to the repository's instances and the shared folder."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"
SHARED = ROOT.parent / "shared"


@pytest.fixture
def toy_path() -> Path:
    return INSTANCES / "toy"
