"""Helpers for checks that may skip on a developer's machine but must run in CI."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason: str) -> NoReturn:
    """Skip locally; under ``CI=true`` a check that cannot run is a failure, not a silent skip."""
    if in_ci():
        pytest.fail(f"must run in CI but cannot: {reason}")
    pytest.skip(reason)
