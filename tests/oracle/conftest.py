"""Fixtures for the oracle tests: the fixture workspaces' indexes and a shared cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from oracle.helpers import FIXTURES


@pytest.fixture(scope="session")
def oracle_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("oracle-cache")


@pytest.fixture(scope="session")
def fixture_index():
    from scout.haskell.index import WorkspaceIndex

    built: dict[str, object] = {}

    def get(name: str):
        if name not in built:
            built[name] = WorkspaceIndex.build(FIXTURES / name, use_cache=False)
        return built[name]

    return get
