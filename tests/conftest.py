"""Shared fixtures: the bundled example workspace and small workspaces written per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "llm-service"


@pytest.fixture(scope="session")
def example_root() -> Path:
    return EXAMPLE


@pytest.fixture(scope="session")
def example_index():
    from scout.haskell.index import WorkspaceIndex

    return WorkspaceIndex.build(EXAMPLE, use_cache=False)


@pytest.fixture
def make_workspace(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    """Write {relative path: text} under a fresh directory and return its root."""

    def make(files: dict[str, str | bytes]) -> Path:
        root = tmp_path / "ws"
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return root

    return make


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "llm-service"
    shutil.copytree(EXAMPLE, dest)
    return dest
