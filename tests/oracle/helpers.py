"""Helpers shared by the oracle tests (imported as ``oracle.helpers``)."""

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
