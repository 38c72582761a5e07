"""Fixtures for the oracle tests: the fixture workspaces, their indexes and a shared cache."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "oracle"
NO_GHC = "ghc is not on PATH: install it (Debian: `apt-get install ghc`, GHC 9.0.2)"


def needs_ghc() -> pytest.MarkDecorator:
    return pytest.mark.skipif(shutil.which("ghc") is None, reason=NO_GHC)


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under root (names, bytes) and every directory, to prove nothing changed."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        out[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def expected_cases(name: str) -> list[dict]:
    return json.loads((FIXTURES / name / "expected.json").read_text())["mutations"]


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
