"""A database written by schema version 1 opens as version 2 with its data intact."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from scout.explore.model import Tag
from scout.store import Store
from scout.store.schema import SCHEMA_V1, SCHEMA_VERSION

from .builders import SNIPPET, heuristic, make_exploration

FACTS = json.dumps({"edge": "catch_all", "breaks": False, "silent": True,
                    "detail": "catch-all", "symbol": "LLMKind", "missing": ["Haiku"], "hop": 1})


def make_v1_database(path: Path, workspace: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA_V1)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO queries VALUES (1, 'What breaks if I add a variant to LLMKind?', "
                 "'LLMKind', 'add_constructor', 'Exhaustive, PatternMatch', 20, ?, NULL, "
                 "'2026-01-15T10:30:00Z')", (workspace.as_posix(),))
    conn.execute("INSERT INTO queries VALUES (2, 'if I add a field to Config', 'Config', "
                 "'add_field', 'DataType', 10, '/elsewhere/other', 'c0ffee', "
                 "'2026-01-16T09:00:00Z')")
    for node_id, query_id in ((1, 1), (2, 1), (3, 2)):
        conn.execute("INSERT INTO nodes VALUES (?, ?, ?, 'src/Types.hs', ?, "
                     "'describe :: LLMKind -> Text', ?, 'catch_all', ?)",
                     (node_id, query_id, node_id - 1, 10 + node_id, SNIPPET, FACTS))
    conn.execute("INSERT INTO rubrics (id, node_id, scorer, label_source, relevance, risk, "
                 "confidence, reasoning, latency_ms, created_at) VALUES "
                 "(1, 1, 'heuristic', 'heuristic', 5, 4, 3, 'Catch-all.', 0.1, "
                 "'2026-01-15T10:30:00Z')")
    conn.execute("INSERT INTO rubrics (id, node_id, scorer, label_source, model, relevance, "
                 "risk, confidence, reasoning, input_tokens, output_tokens, cost_usd, created_at)"
                 " VALUES (2, 1, 'haiku', 'haiku', 'claude-haiku-4-5', 5, 5, 4, 'Wildcard.', "
                 "900, 60, 0.001, '2026-01-15T10:30:01Z')")
    conn.execute("INSERT INTO recordings VALUES (1, 2, 0, 'anthropic', '/v1/messages', '{}', "
                 "'{\"content\": []}', 200, NULL, '2026-01-15T10:30:00Z', 0.8)")
    conn.commit()
    conn.close()


def test_version_1_database_is_migrated_in_place(tmp_path: Path) -> None:
    workspace = tmp_path / "llm-app"
    workspace.mkdir()
    db = tmp_path / "old.db"
    make_v1_database(db, workspace)

    with Store.open(db, environ={}) as store:
        assert store.schema_version() == SCHEMA_VERSION
        conn = store.db.conn
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        codebases = {row[0]: row[1] for row in store.rows("SELECT root, name FROM codebases")}
        assert codebases == {workspace.as_posix(): "llm-app", "/elsewhere/other": "other"}
        tags = dict(store.rows("SELECT id, tags FROM queries"))
        assert json.loads(tags[1]) == ["Exhaustive", "PatternMatch"]
        assert json.loads(tags[2]) == ["DataType"]
        assert store.counts()["rubrics"] == 2 and store.counts()["recordings"] == 1
        new_columns = next(store.db.query("SELECT task, cache_read_tokens, fallback_reason "
                                          "FROM rubrics WHERE id = 2"))
        assert new_columns == {"task": "score_node", "cache_read_tokens": None,
                               "fallback_reason": None}

        pending = store.nodes_without_label("haiku")
        assert [p.node_id for p in pending] == [2, 3]
        assert pending[0].question.tags == (Tag.EXHAUSTIVE, Tag.PATTERN_MATCH)
        assert pending[0].node.facts.missing == ("Haiku",)

        # New writes land next to the old rows, in the migrated codebase.
        query_id = store.record(make_exploration(2), [[heuristic()]] * 2, root=workspace)
        assert query_id == 3
        assert store.counts()["codebases"] == 2
        store.add_batch_job("b1", [3], backend="anthropic", label_source="haiku")
        assert [p.node_id for p in store.nodes_without_label("haiku")] == [2, 4, 5]

    with Store.open(db, environ={}) as again:  # a second open does not migrate twice
        assert again.schema_version() == SCHEMA_VERSION
        assert again.counts()["codebases"] == 2
