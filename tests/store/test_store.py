"""The store on real SQLite files: schema, round trip, labels, batch jobs, resolution, failures."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from scout.scoring.model import LabelSource
from scout.store import Store, StoreError, StoreUnavailable, default_db_path, resolve_db_path
from scout.store.schema import SCHEMA_VERSION

from .builders import haiku, heuristic, make_exploration


@pytest.fixture
def store(tmp_path: Path):
    s = Store.open(tmp_path / "scout.db", environ={})
    yield s
    s.close()


def test_new_database_is_wal_current_schema_and_sound(store: Store) -> None:
    conn = store.db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.schema_version() == SCHEMA_VERSION
    assert set(store.db.table_names()) >= {"codebases", "queries", "nodes", "rubrics",
                                           "recordings", "batch_jobs"}
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_record_keeps_query_nodes_rubrics_and_recordings(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "myproject"
    root.mkdir()
    exploration = make_exploration(3)
    query_id = store.record(exploration, [[heuristic(), haiku()], [heuristic()], []], root=root)

    q = next(store.db.query("SELECT * FROM queries WHERE id = ?", [query_id]))
    assert q["text"] == exploration.question.text
    assert json.loads(q["tags"]) == ["Exhaustive", "PatternMatch"]
    assert (q["target"], q["change"], q["budget"]) == ("LLMKind", "add_constructor", 20)
    assert q["workspace"] == root.resolve().as_posix()
    assert (q["nodes_found"], q["nodes_kept"]) == (5, 3)
    codebase = next(store.db.query("SELECT * FROM codebases"))
    assert (codebase["name"], codebase["id"]) == ("myproject", q["codebase_id"])

    nodes = list(store.db.query("SELECT * FROM nodes WHERE query_id = ? ORDER BY position",
                                [query_id]))
    assert [n["line"] for n in nodes] == [10, 11, 12]
    assert json.loads(nodes[0]["facts"])["missing"] == ["Haiku"]
    assert nodes[0]["snippet"] == exploration.nodes[0].snippet

    rubrics = list(store.db.query("SELECT * FROM rubrics ORDER BY id"))
    assert [(r["node_id"], r["scorer"]) for r in rubrics] == [
        (nodes[0]["id"], "heuristic"), (nodes[0]["id"], "haiku"), (nodes[1]["id"], "heuristic")]
    teacher = rubrics[1]
    assert (teacher["model"], teacher["prompt_hash"], teacher["input_tokens"],
            teacher["cache_read_tokens"], teacher["cost_usd"]) == (
        "claude-haiku-4-5", "abc123", 900, 700, 0.0012)
    assert (teacher["relevance"], teacher["risk"], teacher["confidence"]) == (5, 5, 4)

    recording = next(store.db.query("SELECT * FROM recordings"))
    assert recording["rubric_id"] == teacher["id"]
    request = json.loads(recording["request"])
    assert request["headers"]["x-api-key"] == "[REDACTED]"
    assert request["body"]["max_tokens"] == 512
    response = json.loads(recording["response"])
    assert response["content"][1]["input"]["risk"] == 5
    assert (recording["seconds"], recording["status"]) == (0.8, 200)


def test_record_rejects_misaligned_answers(store: Store, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="2 answer lists for 3 nodes"):
        store.record(make_exploration(3), [[heuristic()], [heuristic()]], root=tmp_path)
    assert store.counts()["queries"] == 0


def test_nodes_without_label_and_later_labels(store: Store, tmp_path: Path) -> None:
    store.record(make_exploration(3), [[heuristic()]] * 3, root=tmp_path)
    pending = store.nodes_without_label("haiku")
    assert [p.node.line for p in pending] == [10, 11, 12]
    assert pending[0].question.tags == make_exploration(1).question.tags
    assert pending[0].node == make_exploration(1).nodes[0]
    assert store.nodes_without_label("heuristic") == []
    assert len(store.nodes_without_label("haiku", limit=2)) == 2

    store.add_scored(pending[0].node_id, haiku())
    store.add_scored(pending[1].node_id, haiku(with_rubric=False))  # an error is not a label
    assert [p.node_id for p in store.nodes_without_label("haiku")] == [
        pending[1].node_id, pending[2].node_id]
    with pytest.raises(StoreError, match="no node with id 999"):
        store.add_scored(999, haiku())
    # Many at once: one transaction, all or nothing.
    before = store.counts()["rubrics"]
    with pytest.raises(StoreError, match=r"no node with id 998 in .* \(and 1 more\)"):
        store.add_scored_many([(pending[2].node_id, haiku()), (998, haiku()), (999, haiku())])
    assert store.counts()["rubrics"] == before
    store.add_scored_many([(pending[1].node_id, haiku()), (pending[2].node_id, haiku())])
    assert store.nodes_without_label("haiku") == []
    assert store.counts()["recordings"] == 4


def test_batch_jobs_hold_their_nodes_until_done(store: Store, tmp_path: Path) -> None:
    store.record(make_exploration(3), [[heuristic()]] * 3, root=tmp_path)
    ids = [p.node_id for p in store.nodes_without_label("haiku")]
    store.add_batch_job("msgbatch_1", ids[:2], backend="anthropic", label_source="haiku",
                        model="claude-haiku-4-5")
    assert [p.node_id for p in store.nodes_without_label("haiku")] == [ids[2]]
    assert store.nodes_without_label("ghc") != []  # other label sources are unaffected
    assert [j.batch_id for j in store.batch_jobs(pending_only=True)] == ["msgbatch_1"]
    with pytest.raises(StoreError, match="already recorded"):
        store.add_batch_job("msgbatch_1", ids, backend="anthropic", label_source="haiku")

    store.add_scored(ids[0], haiku())
    store.update_batch_job("msgbatch_1", "collected")
    assert [p.node_id for p in store.nodes_without_label("haiku")] == [ids[1], ids[2]]
    assert store.batch_jobs()[0].status == "collected"
    with pytest.raises(StoreError, match="no batch job"):
        store.update_batch_job("nope", "ended")


def test_path_resolution_order(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / ".scout").mkdir(parents=True)
    (workspace / ".scout" / "config.toml").write_text('db = "data/scout.db"\n')
    env = {"SCOUT_DB": str(tmp_path / "env.db"), "XDG_DATA_HOME": str(tmp_path / "xdg")}

    assert resolve_db_path(tmp_path / "flag.db", workspace=workspace, environ=env).path == \
        tmp_path / "flag.db"
    assert resolve_db_path(None, workspace=workspace, environ=env).path == tmp_path / "env.db"
    no_env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    chosen = resolve_db_path(None, workspace=workspace, environ=no_env)
    assert (chosen.path, chosen.source) == (workspace / "data" / "scout.db",
                                            "workspace .scout/config.toml")
    assert resolve_db_path(None, workspace=tmp_path, environ=no_env).source == "default"

    store = Store.open(None, workspace=workspace, environ=no_env)
    assert store.path == workspace / "data" / "scout.db" and store.path.exists()
    store.close()


def test_default_path_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "semantic-scout" / "scout.db"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_db_path() == Path.home() / ".local/share/semantic-scout/scout.db"


def test_bad_workspace_setting_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / ".scout").mkdir()
    (tmp_path / ".scout" / "config.toml").write_text("db = [1, 2]\n")
    with pytest.raises(StoreError, match="expected a path"):
        resolve_db_path(None, workspace=tmp_path, environ={})
    (tmp_path / ".scout" / "config.toml").write_text("db = \n")
    with pytest.raises(StoreError, match="not valid TOML"):
        resolve_db_path(None, workspace=tmp_path, environ={})


def test_unusable_locations_raise_store_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreUnavailable, match="--db"):
        Store.open(blocker / "sub" / "scout.db", environ={})
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreUnavailable, match="not an SQLite database"):
        Store.open(junk, environ={})


def test_foreign_sqlite_and_newer_schema_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreError, match="not a scout database"):
        Store.open(other, environ={})
    newer = tmp_path / "newer.db"
    Store.open(newer, environ={}).close()
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this scout"):
        Store.open(newer, environ={})


def test_locked_database_raises_store_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "scout.db"
    Store.open(path, environ={}).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    store = Store.open(path, timeout_seconds=0.05, retries=1, environ={})
    try:
        with pytest.raises(StoreUnavailable, match="locked by another process"):
            store.record(make_exploration(2), [[heuristic()]] * 2, root=tmp_path)
        holder.execute("ROLLBACK")
        store.record(make_exploration(2), [[heuristic()]] * 2, root=tmp_path)  # works again
        assert store.counts()["nodes"] == 2
    finally:
        store.close()
        holder.close()


def test_git_metadata_is_recorded_without_credentials(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    git = root / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "packed-refs").write_text(
        "# pack-refs with: peeled fully-peeled sorted\n"
        f"{'a' * 40} refs/heads/main\n")
    (git / "config").write_text(
        '[core]\n\tbare = false\n[remote "origin"]\n'
        "\turl = https://bob:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/x/y.git\n")
    sub = root / "pkg"
    sub.mkdir()
    query_id = store.record(make_exploration(1), [[heuristic()]], root=sub)
    q = next(store.db.query("SELECT q.git_commit, c.git_remote FROM queries q "
                            "JOIN codebases c ON c.id = q.codebase_id WHERE q.id = ?", [query_id]))
    assert q["git_commit"] == "a" * 40
    assert q["git_remote"] == "https://bob:[REDACTED]@github.com/x/y.git"

    (git / "refs" / "heads" / "main").write_text("b" * 40 + "\n")  # a loose ref wins
    store.record(make_exploration(1), [[heuristic()]], root=sub)
    assert next(store.db.query("SELECT git_commit FROM codebases"))["git_commit"] == "b" * 40


def test_label_source_must_be_known(store: Store) -> None:
    with pytest.raises(ValueError):
        store.nodes_without_label("oracle")
    assert LabelSource("ghc") == LabelSource.GHC


def test_one_store_shared_by_threads(store: Store, tmp_path: Path) -> None:
    import threading

    errors: list[BaseException] = []
    added: list[int] = []

    def writer(label: str) -> None:
        try:
            for i in range(15):
                node_ids = [p.node_id for p in store.nodes_without_label("ghc", limit=1)]
                store.record(make_exploration(4, text=f"{label} {i}"), [[heuristic()]] * 4,
                             root=tmp_path)
                if node_ids:
                    store.add_scored(node_ids[0], haiku())
                    added.append(node_ids[0])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    counts = store.counts()
    assert (counts["queries"], counts["nodes"]) == (45, 180)
    assert len(added) >= 42  # only calls before any record finished can find no node
    assert counts["rubrics"] == 180 + len(added)
    assert counts["recordings"] == len(added)
    assert store.db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
