"""Indexes of the suite's workspaces, built once per session; Debian ones skip when absent."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from suite import WORKSPACES, available, build  # noqa: E402

from scout.haskell.index import WorkspaceIndex  # noqa: E402


@pytest.fixture(scope="session")
def workspace_index(tmp_path_factory: pytest.TempPathFactory
                    ) -> Callable[[str], WorkspaceIndex]:
    built: dict[str, WorkspaceIndex] = {}
    cache = tmp_path_factory.mktemp("question-index-cache")

    def get(ws: str) -> WorkspaceIndex:
        if not available(ws):
            pytest.skip(f"{WORKSPACES[ws]} is not fetched: run `python bench/fetch_debian.py "
                        "xmonad haskell-megaparsec`")
        if ws not in built:
            built[ws] = build(ws, cache)
        return built[ws]

    return get
