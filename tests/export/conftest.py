"""A real database with several codebases, questions, label sources and raw recordings."""

from __future__ import annotations

from pathlib import Path

import pytest

from scout.explore.model import Tag
from scout.store import Store
from store.builders import haiku, heuristic, make_exploration

CODEBASES = ("alpha", "beta", "gamma", "delta")
QUESTIONS = (
    ("What breaks if I add a variant to LLMKind?", (Tag.EXHAUSTIVE, Tag.PATTERN_MATCH)),
    ("if I add a field to Config", (Tag.DATA_TYPE,)),
    ("What breaks if I add a method to Pretty?", (Tag.CONSTRAINT,)),
    ("if render takes one more argument", (Tag.FUNCTION,)),
)
NODES_PER_QUERY = 4


def populate(db: Path, tmp_path: Path) -> None:
    """4 codebases x 4 questions x 4 nodes, each node labelled by heuristic and haiku."""
    with Store.open(db, environ={}) as store:
        for codebase in CODEBASES:
            root = tmp_path / codebase
            root.mkdir(exist_ok=True)
            for q, (text, tags) in enumerate(QUESTIONS):
                exploration = make_exploration(NODES_PER_QUERY, text=text, tags=tags,
                                               path=f"src/M{q}.hs")
                answers = [[heuristic(risk=1 + (i + q) % 5, confidence=2 + i % 3), haiku()]
                           for i in range(NODES_PER_QUERY)]
                store.record(exploration, answers, root=root)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "scout.db"
    populate(path, tmp_path)
    return path
