"""The store: every (query, node, rubric) triple and every raw model exchange, in SQLite.

Safety model: WAL journal, ``synchronous=NORMAL`` (a killed process loses nothing it committed;
only a power cut can lose the last transactions, never corrupt the file), one ``BEGIN
IMMEDIATE`` transaction per write call so concurrent writers queue on the busy timeout instead
of deadlocking, and bounded retries after that. A database that stays locked, is read-only or
cannot be created raises :class:`StoreUnavailable` with what to do; callers answer anyway.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from scout.explore.model import (
    ChangeKind,
    EdgeKind,
    Exploration,
    Node,
    Question,
    Reading,
    SiteFacts,
    Tag,
)
from scout.scoring.model import Exchange, LabelSource, Scored
from scout.store.codebase import (
    CodebaseInfo,
    CodebaseLocation,
    describe_codebase,
    locate_codebase,
)
from scout.store.redact import Redactor, redact, redact_value
from scout.store.schema import MIGRATIONS, SCHEMA_VERSION, create_current

ENV_DB = "SCOUT_DB"
WORKSPACE_CONFIG = Path(".scout") / "config.toml"  # `db = "path"`, relative to the workspace
# Environment variables whose values must never reach the database, whatever they look like.
SECRET_ENV_SUFFIXES = ("_API_KEY", "_TOKEN", "_SECRET", "_PASSWORD")
# Batch job states after which its nodes may be submitted again.
BATCH_DONE_STATES = frozenset({"collected", "failed", "expired", "canceled", "cancelled"})

T = TypeVar("T")


class StoreError(Exception):
    """The store cannot do what was asked (bad input, newer schema, bad setting)."""


class StoreUnavailable(StoreError):
    """The database is locked, read-only or cannot be opened; the message says what to do."""


@dataclass(frozen=True, slots=True)
class PendingNode:
    node_id: int
    question: Question
    node: Node


@dataclass(frozen=True, slots=True)
class BatchJob:
    batch_id: str
    backend: str
    model: str | None
    task: str
    label_source: str
    status: str
    node_ids: tuple[int, ...]
    error: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class ResolvedPath:
    path: Path
    source: str  # "--db", "SCOUT_DB", "workspace .scout/config.toml", "default"


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_db_path() -> Path:
    """One database per user, so a dataset spans every codebase: the XDG data directory."""
    data_home = os.environ.get("XDG_DATA_HOME")
    base = Path(data_home) if data_home and Path(data_home).is_absolute() else (
        Path.home() / ".local" / "share")
    return base / "semantic-scout" / "scout.db"


def resolve_db_path(path: Path | None = None, *, workspace: Path | None = None,
                    environ: Mapping[str, str] | None = None) -> ResolvedPath:
    """``--db`` > ``SCOUT_DB`` > the workspace's ``.scout/config.toml`` ``db`` > the default."""
    env = os.environ if environ is None else environ
    if path is not None:
        return ResolvedPath(Path(path).expanduser(), "--db")
    if env.get(ENV_DB):
        return ResolvedPath(Path(env[ENV_DB]).expanduser(), ENV_DB)
    if workspace is not None:
        config = workspace / WORKSPACE_CONFIG
        if config.is_file():
            try:
                setting = tomllib.loads(config.read_text(encoding="utf-8")).get("db")
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise StoreError(f"{config} is not valid TOML ({exc}); fix it or pass --db") from exc
            if setting is not None:
                if not isinstance(setting, str) or not setting.strip():
                    raise StoreError(f"{config}: `db` must be a path string, got {setting!r}")
                db = Path(setting).expanduser()
                return ResolvedPath(db if db.is_absolute() else workspace / db,
                                    f"workspace {WORKSPACE_CONFIG.as_posix()}")
    return ResolvedPath(default_db_path(), "default")


def _secret_env_values(environ: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(sorted({value for name, value in environ.items()
                         if name.upper().endswith(SECRET_ENV_SUFFIXES) and len(value) >= 8},
                        key=len, reverse=True))


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


_JSON = json.JSONEncoder(ensure_ascii=False).encode  # stateless; json.dumps(**kw) builds one per call
_quote = json.encoder.encode_basestring  # C-accelerated JSON string literal


def _facts_json(facts: SiteFacts, clean: Callable[[str], str]) -> str:
    # Hand-assembled (same JSON as json.dumps): this runs once per logged node.
    symbol = "null" if facts.symbol is None else _quote(facts.symbol)
    missing = ", ".join(_quote(m) for m in facts.missing)
    return (f'{{"edge": {_quote(str(facts.edge))}, "breaks": {"true" if facts.breaks else "false"}, '
            f'"silent": {"true" if facts.silent else "false"}, "detail": {_quote(clean(facts.detail))}, '
            f'"symbol": {symbol}, "missing": [{missing}], "hop": {int(facts.hop)}}}')


def facts_from_json(text: str) -> SiteFacts:
    data = json.loads(text)
    return SiteFacts(edge=EdgeKind(data["edge"]), breaks=bool(data["breaks"]),
                     silent=bool(data.get("silent", False)), detail=data.get("detail", ""),
                     symbol=data.get("symbol"), missing=tuple(data.get("missing", ())),
                     hop=int(data.get("hop", 1)))


_LABEL_SOURCES = frozenset(source.value for source in LabelSource)
_RUBRIC_COLUMNS = (
    "id", "node_id", "scorer", "label_source", "task", "task_version", "model", "model_digest",
    "prompt_hash", "relevance", "risk", "confidence", "reasoning", "latency_ms", "input_tokens",
    "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd", "error",
    "fallback_reason", "note", "created_at")
_RECORDING_COLUMNS = ("rubric_id", "position", "backend", "endpoint", "request", "response",
                      "status", "error", "started_at", "seconds")
_NODE_COLUMNS = ("id", "query_id", "position", "path", "line", "col", "end_line", "enclosing",
                 "hover", "snippet", "edge", "facts", "hover_source")


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})")


_INSERT_NODE = _insert_sql("nodes", _NODE_COLUMNS)
_INSERT_RUBRIC = _insert_sql("rubrics", _RUBRIC_COLUMNS)
_INSERT_RECORDING = _insert_sql("recordings", _RECORDING_COLUMNS)


class Store:
    """A handle on one SQLite database. Safe to share between threads (calls are serialised
    on one connection: the language server logs shadow results from a background thread);
    separate processes each open their own Store."""

    def __init__(self, db: sqlite_utils.Database, path: Path, *, secrets: tuple[str, ...],
                 retries: int) -> None:
        self.db = db
        self.path = path
        self._secrets = secrets
        self._retries = retries
        self._lock = threading.RLock()
        # root -> resolved root and git dir (stable); HEAD and remote are re-read per record.
        self._locations: dict[str, CodebaseLocation] = {}

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | None = None, *, workspace: Path | None = None,
             timeout_seconds: float = 5.0, retries: int = 3,
             environ: Mapping[str, str] | None = None) -> Store:
        """Open (creating and migrating as needed) the database chosen by
        :func:`resolve_db_path`. Raises StoreUnavailable when it cannot be opened for writing."""
        env = os.environ if environ is None else environ
        resolved = resolve_db_path(path, workspace=workspace, environ=env)
        db_path = resolved.path
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(
                f"cannot create the directory for the scout database {db_path} "
                f"(from {resolved.source}): {exc}. Choose a writable location with --db PATH "
                f"or the {ENV_DB} environment variable.") from exc
        try:
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
            conn = sqlite3.connect(db_path, timeout=timeout_seconds, isolation_level=None,
                                   check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreUnavailable(
                f"cannot open the scout database {db_path} (from {resolved.source}): {exc}. "
                f"Choose a writable location with --db PATH or {ENV_DB}.") from exc
        store = cls(sqlite_utils.Database(conn), db_path, secrets=_secret_env_values(env),
                    retries=retries)
        try:
            store._prepare()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise store._unavailable(exc, "opening") from exc
        except BaseException:
            conn.close()
            raise
        return store

    def _prepare(self) -> None:
        conn = self.db.conn
        conn.execute("PRAGMA foreign_keys = ON")
        if self.db.journal_mode != "wal":
            self._with_busy_retries(self.db.enable_wal)
        conn.execute("PRAGMA synchronous = NORMAL")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this scout understands "
                f"({SCHEMA_VERSION}); upgrade semantic-scout or choose another --db")
        if version < SCHEMA_VERSION:
            self._write(self._migrate)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        # Re-read under the write lock: another process may have migrated meanwhile.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            has_tables = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if has_tables:
                raise StoreError(f"{self.path} is an SQLite database but not a scout database "
                                 "(no schema version); choose another --db")
            create_current(conn)
        else:
            while version < SCHEMA_VERSION:
                MIGRATIONS[version](conn)
                version += 1
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def schema_version(self) -> int:
        return int(self.db.conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- transactions ------------------------------------------------------------------------

    def _unavailable(self, exc: sqlite3.Error, doing: str) -> StoreError:
        text = str(exc).lower()
        if _is_busy(exc):
            return StoreUnavailable(
                f"the scout database {self.path} stayed locked by another process while "
                f"{doing} ({exc}); the answer was not logged. Retry later, or close the other "
                f"writer, or use a separate --db.")
        if "readonly" in text or "read-only" in text or "unable to open" in text \
                or "disk" in text or "i/o" in text:
            return StoreUnavailable(
                f"the scout database {self.path} cannot be written while {doing} ({exc}); "
                f"fix its permissions or free disk space, or choose another --db / {ENV_DB}.")
        if isinstance(exc, sqlite3.DatabaseError) and "not a database" in text:
            return StoreUnavailable(
                f"{self.path} is not an SQLite database ({exc}); choose another --db.")
        return StoreError(f"the scout database {self.path} failed while {doing}: {exc}")

    def _with_busy_retries(self, action: Callable[[], T]) -> T:
        for attempt in range(self._retries + 1):
            try:
                return action()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or attempt == self._retries:
                    raise
                time.sleep(0.05 * 2 ** attempt)
        raise AssertionError("unreachable")

    def _write(self, work: Callable[[sqlite3.Connection], T], doing: str = "writing") -> T:
        """Run ``work`` in one BEGIN IMMEDIATE transaction; retry when the database is busy.
        ``work`` must only touch the database, since it may run more than once."""
        with self._lock:
            return self._write_locked(work, doing)

    def _write_locked(self, work: Callable[[sqlite3.Connection], T], doing: str) -> T:
        conn = self.db.conn
        for attempt in range(self._retries + 1):
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if _is_busy(exc) and attempt < self._retries:
                    time.sleep(0.05 * 2 ** attempt)
                    continue
                raise self._unavailable(exc, doing) from exc
            try:
                result = work(conn)
                conn.execute("COMMIT")
                return result
            except sqlite3.OperationalError as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if _is_busy(exc) and attempt < self._retries:
                    time.sleep(0.05 * 2 ** attempt)
                    continue
                raise self._unavailable(exc, doing) from exc
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        raise AssertionError("unreachable")

    # -- writing -----------------------------------------------------------------------------

    def _describe(self, root: Path) -> CodebaseInfo:
        location = self._locations.get(str(root))
        if location is None:
            location = self._locations[str(root)] = locate_codebase(root)
        return describe_codebase(location)

    def _codebase_id(self, conn: sqlite3.Connection, info: CodebaseInfo) -> tuple[int, str | None]:
        row = conn.execute("SELECT id, git_remote, git_commit FROM codebases WHERE root = ?",
                           (info.root,)).fetchone()
        if row is None:
            cursor = conn.execute(
                "INSERT INTO codebases (name, root, git_remote, git_commit, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (info.name, info.root, info.git_remote, info.git_commit, now_utc()))
            return int(cursor.lastrowid or 0), info.git_commit
        codebase_id, remote, commit = row
        if (info.git_remote or remote, info.git_commit or commit) != (remote, commit):
            conn.execute("UPDATE codebases SET git_remote = ?, git_commit = ? WHERE id = ?",
                         (info.git_remote or remote, info.git_commit or commit, codebase_id))
        return int(codebase_id), info.git_commit

    def _rubric_rows(self, rubric_id: int, node_id: int, scored: Scored, created: str,
                     recordings: list[tuple[Any, ...]], clean: Redactor) -> tuple[Any, ...]:
        rubric = scored.rubric
        for position, exchange in enumerate(scored.exchanges):
            recordings.append(self._recording_row(rubric_id, position, exchange))
        source = str(scored.label_source)
        if source not in _LABEL_SOURCES:
            raise StoreError(f"unknown label source {source!r}; use one of {sorted(_LABEL_SOURCES)}")
        return (
            rubric_id, node_id, scored.scorer, source, scored.task,
            scored.task_version, scored.model, scored.model_digest, scored.prompt_hash,
            rubric.relevance if rubric else None, rubric.risk if rubric else None,
            rubric.confidence if rubric else None,
            clean(rubric.reasoning) if rubric else None,
            scored.latency_ms, scored.input_tokens, scored.output_tokens,
            scored.cache_read_tokens, scored.cache_write_tokens, scored.cost_usd,
            clean(scored.error) if scored.error else None,
            clean(scored.fallback_reason) if scored.fallback_reason else None,
            clean(scored.note) if scored.note else None,
            created)

    def _recording_row(self, rubric_id: int, position: int, exchange: Exchange) -> tuple[Any, ...]:
        secrets = self._secrets
        return (rubric_id, position, exchange.backend, exchange.endpoint,
                _JSON(redact_value(exchange.request, secrets)),
                _JSON(redact_value(exchange.response, secrets)),
                exchange.status, redact(exchange.error, secrets) if exchange.error else None,
                exchange.started_at, exchange.seconds)

    @staticmethod
    def _next_id(conn: sqlite3.Connection, table: str) -> int:
        # Safe under BEGIN IMMEDIATE: no other writer can insert until we commit.
        return int(conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0])

    def record(self, exploration: Exploration, scored: Sequence[Sequence[Scored]], *,
               root: Path,
               also: Callable[[sqlite3.Connection, int], None] | None = None) -> int:
        """Log one answered question: the query, its nodes, every scorer's answer per node and
        the raw exchanges behind them, in one transaction. Returns the query id.
        ``scored[i]`` holds the answers for ``exploration.nodes[i]`` (primary first).
        ``also(conn, query_id)`` runs inside the same transaction (e.g. marking a planned
        question done), so both happen or neither does."""
        nodes = exploration.nodes
        if len(scored) != len(nodes):
            raise StoreError(f"record: {len(scored)} answer lists for {len(nodes)} nodes; "
                             "pass one (possibly empty) list of Scored per node")
        clean = Redactor(self._secrets)
        question, target, coverage = exploration.question, exploration.target, exploration.coverage
        created = now_utc()
        codebase = self._describe(root)
        workspace = codebase.root
        tags_json = json.dumps([str(Tag(t)) for t in question.tags])
        reading_columns = _reading_columns(question.reading, clean)
        # Everything that does not need ids is prepared before taking the write lock; slots 0
        # and 1 (node id, query id) are filled in under it.
        node_rows = [[
            0, 0, position, node.path, node.line, node.col, node.end_line,
            clean(node.enclosing) if node.enclosing else None,
            clean(node.hover), clean(node.snippet),
            str(node.facts.edge), _facts_json(node.facts, clean), node.hover_source]
            for position, node in enumerate(nodes)]

        def work(conn: sqlite3.Connection) -> int:
            codebase_id, commit = self._codebase_id(conn, codebase)
            query_id = int(conn.execute(
                "INSERT INTO queries (codebase_id, text, target, target_module, target_kind, "
                "target_path, target_line, change, subject, tags, budget, workspace, git_commit, "
                "files_indexed, files_with_errors, nodes_found, nodes_kept, created_at, asked, "
                "reading) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (codebase_id, clean(question.text), question.target, target.module,
                 target.kind, target.path, target.line, str(question.change), question.subject,
                 tags_json, question.budget, workspace, commit, coverage.files_indexed,
                 coverage.files_with_errors, coverage.nodes_found, coverage.nodes_kept,
                 created, *reading_columns)).lastrowid or 0)
            first_node = self._next_id(conn, "nodes")
            for node_id, row in enumerate(node_rows, start=first_node):
                row[0] = node_id
                row[1] = query_id
            conn.executemany(_INSERT_NODE, node_rows)
            rubric_id = self._next_id(conn, "rubrics")
            rubric_rows: list[tuple[Any, ...]] = []
            recordings: list[tuple[Any, ...]] = []
            for i, answers in enumerate(scored):
                for answer in with_also(answers):
                    rubric_rows.append(self._rubric_rows(rubric_id, first_node + i, answer,
                                                         created, recordings, clean))
                    rubric_id += 1
            conn.executemany(_INSERT_RUBRIC, rubric_rows)
            if recordings:
                conn.executemany(_INSERT_RECORDING, recordings)
            if also is not None:
                also(conn, query_id)
            return query_id

        return self._write(work, "logging a query")

    def node_ids(self, query_id: int) -> list[int]:
        """The ids of a logged query's nodes, in exploration order."""
        return [row[0] for row in self.rows(
            "SELECT id FROM nodes WHERE query_id = ? ORDER BY position", (query_id,))]

    def add_scored(self, node_id: int, scored: Scored) -> None:
        """Add a later answer for a logged node (a shadow result, GHC, a batch label)."""
        self.add_scored_many([(node_id, scored)])

    def add_scored_many(self, answers: Sequence[tuple[int, Scored]]) -> None:
        """Add many later answers in one transaction (collecting a Message Batch): all or
        nothing. Raises StoreError naming the first node id that is not in the database."""
        created = now_utc()
        clean = Redactor(self._secrets)
        node_ids = sorted({node_id for node_id, _ in answers})

        def work(conn: sqlite3.Connection) -> None:
            known: set[int] = set()
            for start in range(0, len(node_ids), 500):
                chunk = node_ids[start:start + 500]
                known.update(row[0] for row in conn.execute(
                    f"SELECT id FROM nodes WHERE id IN ({', '.join('?' for _ in chunk)})", chunk))
            missing = [node_id for node_id in node_ids if node_id not in known]
            if missing:
                raise StoreError(f"add_scored: no node with id {missing[0]} in {self.path}"
                                 + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
            recordings: list[tuple[Any, ...]] = []
            first = self._next_id(conn, "rubrics")
            flat = [(node_id, answer) for node_id, scored in answers
                    for answer in with_also([scored])]
            rows = [self._rubric_rows(first + i, node_id, scored, created, recordings, clean)
                    for i, (node_id, scored) in enumerate(flat)]
            conn.executemany(_INSERT_RUBRIC, rows)
            if recordings:
                conn.executemany(_INSERT_RECORDING, recordings)

        self._write(work, "adding labels")

    def transaction(self, work: Callable[[sqlite3.Connection], T], doing: str = "writing") -> T:
        """Run ``work(conn)`` in one write transaction (retried while the database is busy, so
        ``work`` must only touch the database). For tables the store does not model itself."""
        return self._write(work, doing)

    # -- batch jobs (resumable bulk labelling) ----------------------------------------------

    def add_batch_job(self, batch_id: str, node_ids: Sequence[int], *, backend: str,
                      label_source: str, task: str = "score_node", model: str | None = None,
                      status: str = "submitted") -> None:
        created = now_utc()
        source = str(LabelSource(label_source))

        def work(conn: sqlite3.Connection) -> None:
            self.db["batch_jobs"].insert({
                "batch_id": batch_id, "backend": backend, "model": model, "task": task,
                "label_source": source, "status": status,
                "node_ids": json.dumps(list(node_ids)), "error": None,
                "created_at": created, "updated_at": created})

        try:
            self._write(work, "saving a batch job")
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"batch {batch_id!r} is already recorded") from exc

    def update_batch_job(self, batch_id: str, status: str, error: str | None = None) -> None:
        def work(conn: sqlite3.Connection) -> None:
            cursor = conn.execute(
                "UPDATE batch_jobs SET status = ?, error = ?, updated_at = ? WHERE batch_id = ?",
                (status, redact(error, self._secrets) if error else None, now_utc(), batch_id))
            if cursor.rowcount == 0:
                raise StoreError(f"no batch job {batch_id!r} in {self.path}")

        self._write(work, "updating a batch job")

    def batch_jobs(self, *, pending_only: bool = False) -> list[BatchJob]:
        with self._lock:
            rows = list(self.db.query("SELECT * FROM batch_jobs ORDER BY id"))
        jobs = [BatchJob(batch_id=row["batch_id"], backend=row["backend"], model=row["model"],
                         task=row["task"], label_source=row["label_source"],
                         status=row["status"], node_ids=tuple(json.loads(row["node_ids"])),
                         error=row["error"], created_at=row["created_at"],
                         updated_at=row["updated_at"])
                for row in rows]
        return [job for job in jobs if job.status not in BATCH_DONE_STATES] if pending_only \
            else jobs

    # -- reading -----------------------------------------------------------------------------

    def nodes_without_label(self, label_source: str, limit: int | None = None) -> list[PendingNode]:
        """Logged nodes that have no rubric from ``label_source`` yet (errors do not count as
        labels) and are not part of a batch job still in flight for that source."""
        source = str(LabelSource(label_source))
        sql = """
            SELECT n.id AS node_id, n.path, n.line, n.col, n.end_line, n.enclosing, n.hover,
                   n.snippet, n.facts, q.text, q.target, q.change, q.tags, q.budget, q.subject
            FROM nodes n JOIN queries q ON q.id = n.query_id
            WHERE NOT EXISTS (SELECT 1 FROM rubrics r WHERE r.node_id = n.id
                              AND r.label_source = :source AND r.relevance IS NOT NULL)
              AND n.id NOT IN (SELECT value FROM batch_jobs b, json_each(b.node_ids)
                               WHERE b.label_source = :source
                                 AND b.status NOT IN ({done}))
            ORDER BY n.id
        """.format(done=", ".join(f"'{s}'" for s in sorted(BATCH_DONE_STATES)))
        params: dict[str, Any] = {"source": source}
        if limit is not None:
            sql += " LIMIT :limit"
            params["limit"] = limit
        with self._lock:
            return [PendingNode(row["node_id"], question_from_row(row), node_from_row(row))
                    for row in self.db.query(sql, params)]

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {table: self.db[table].count for table in
                    ("codebases", "queries", "nodes", "rubrics", "recordings", "batch_jobs")}

    def rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple]:
        """Raw read access for exports and tools."""
        with self._lock:
            return self.db.conn.execute(sql, params).fetchall()

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """One consistent view for several reads (a WAL read transaction)."""
        with self._lock:
            conn = self.db.conn
            conn.execute("BEGIN")
            try:
                yield
            finally:
                conn.execute("COMMIT")


def with_also(answers: Sequence[Scored]) -> list[Scored]:
    """Each answer followed by the answers it carries in ``also`` (recorded beside it)."""
    flat: list[Scored] = []
    for answer in answers:
        flat.append(answer)
        flat.extend(with_also(answer.also))
    return flat


def _reading_columns(reading: Reading | None, clean: Callable[[str], str]
                     ) -> tuple[str | None, str | None]:
    """(asked, reading JSON) of a question's reading, redacted; (None, None) without one."""
    if reading is None:
        return None, None
    fields = reading.as_dict()
    del fields["asked"]
    return clean(reading.asked), clean(json.dumps(fields, ensure_ascii=False))


def question_from_row(row: Mapping[str, Any]) -> Question:
    try:
        return Question(text=row["text"], target=row["target"], change=ChangeKind(row["change"]),
                        tags=tuple(Tag(t) for t in json.loads(row["tags"])),
                        budget=int(row["budget"]), subject=row["subject"])
    except ValueError as exc:
        raise StoreError(f"a stored query has a value this scout does not know: {exc}") from exc


def node_from_row(row: Mapping[str, Any]) -> Node:
    return Node(path=row["path"], line=int(row["line"]), hover=row["hover"],
                snippet=row["snippet"], facts=facts_from_json(row["facts"]),
                enclosing=row["enclosing"], end_line=row["end_line"], col=int(row["col"] or 0),
                hover_source=row["hover_source"] if "hover_source" in row.keys() else "index")
