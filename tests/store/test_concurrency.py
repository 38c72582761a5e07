"""Several real writer processes on one database file, and a writer killed mid-transaction."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from scout.store import Store

from .builders import heuristic, make_exploration

WRITER = Path(__file__).with_name("writer_process.py")


def _writer(db: Path, root: Path, queries: int, nodes: int, label: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WRITER), str(db), str(root), str(queries),
                             str(nodes), label], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _committed(lines: str) -> dict[int, int]:
    out: dict[int, int] = {}
    for line in lines.splitlines():
        _, query_id, nodes = line.split()
        out[int(query_id)] = int(nodes)
    return out


def test_two_writer_processes_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "scout.db"  # not created yet: both writers race to create and migrate it
    for name in ("alpha", "beta"):
        (tmp_path / name).mkdir()
    writers = [_writer(db, tmp_path / name, 30, 40, name) for name in ("alpha", "beta")]
    outputs = [w.communicate(timeout=120) for w in writers]
    for writer, (_, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
    committed = [_committed(out) for out, _ in outputs]
    assert all(len(c) == 30 for c in committed)
    assert not set(committed[0]) & set(committed[1])

    with Store.open(db, environ={}) as store:
        counts = store.counts()
        assert (counts["queries"], counts["nodes"], counts["rubrics"], counts["recordings"]) == (
            60, 60 * 40, 60 * 40 * 2, 60 * 40)
        per_query = dict(store.rows("SELECT query_id, count(*) FROM nodes GROUP BY query_id"))
        assert per_query == {**committed[0], **committed[1]}
        assert sorted(r[0] for r in store.rows("SELECT name FROM codebases")) == ["alpha", "beta"]
        assert store.db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_writer_killed_mid_batch_loses_nothing_committed(tmp_path: Path) -> None:
    db = tmp_path / "scout.db"
    Store.open(db, environ={}).close()
    # Big records, so most of the writer's time is spent inside an open transaction.
    writer = _writer(db, tmp_path, 10_000, 3000, "victim")
    assert writer.stdout is not None
    seen: list[str] = []
    while len(seen) < 3:
        line = writer.stdout.readline()
        assert line, writer.stderr.read() if writer.stderr else "writer exited"
        seen.append(line)
    # Kill only once the writer holds the write lock, i.e. inside an open transaction.
    probe = sqlite3.connect(db, timeout=0, isolation_level=None)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            time.sleep(0.002)
        except sqlite3.OperationalError:  # locked: the writer is mid-transaction
            break
    else:
        raise AssertionError("the writer never held the write lock")
    os.kill(writer.pid, signal.SIGKILL)
    probe.close()
    rest, _ = writer.communicate(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    committed = _committed("".join(seen) + rest)

    # Read the file as a fresh process would: raw sqlite3 first, then through the store.
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        per_query = dict(conn.execute("SELECT query_id, count(*) FROM nodes GROUP BY query_id"))
        orphans = conn.execute("SELECT count(*) FROM rubrics r LEFT JOIN nodes n "
                               "ON n.id = r.node_id WHERE n.id IS NULL").fetchone()[0]
    for query_id, nodes in committed.items():
        assert per_query.get(query_id) == nodes  # every committed query is whole
    # At most the commit whose "committed" line the kill cut off; never a partial query.
    assert set(per_query) - set(committed) <= {max(committed) + 1}
    assert all(count == 3000 for count in per_query.values())
    assert orphans == 0
    with Store.open(db, environ={}) as store:  # and the database is writable again
        store.record(make_exploration(2), [[heuristic()], [heuristic()]], root=tmp_path)
        assert store.db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
