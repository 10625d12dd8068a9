"""The examples in the docstrings of crmql.export and crmql.surfaces.magic run."""

from __future__ import annotations

import doctest

import pytest


@pytest.mark.parametrize("name", ["crmql.export", "crmql.surfaces.magic"])
def test_doctests(name: str) -> None:
    import importlib

    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted and not result.failed
