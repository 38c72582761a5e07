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
import re
import sqlite3
import stat
import threading
import time
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


def default_db_path(environ: Mapping[str, str] | None = None) -> Path:
    """One database per user, so a dataset spans every codebase: the XDG data directory."""
    from scout.settings import default_db_path as settings_default

    return settings_default(environ)


def resolve_db_path(path: Path | None = None, *, workspace: Path | None = None,
                    environ: Mapping[str, str] | None = None) -> ResolvedPath:
    """The database the settings choose (``--db`` > ``SCOUT_DB`` > the workspace's
    ``.scout/config.toml`` > the user's config > the default), by the one settings resolver:
    a repository's config may not name a database outside the repository."""
    from scout.settings import SettingsError, resolve_settings

    env = os.environ if environ is None else environ
    try:
        settings = resolve_settings(workspace, flags={"db": path} if path is not None else None,
                                    environ=env)
    except SettingsError as exc:
        raise StoreError(str(exc)) from exc
    if settings.db is None:
        return ResolvedPath(default_db_path(env), "default")
    source = settings.source("db")
    return ResolvedPath(settings.db, {"command line": "--db", "environment": ENV_DB}.get(source,
                                                                                        source))


def _secret_env_values(environ: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(sorted({value for name, value in environ.items()
                         if name.upper().endswith(SECRET_ENV_SUFFIXES) and len(value) >= 8},
                        key=len, reverse=True))


# What one record keeps of a model's reply or request, and of one text field: a hostile or
# broken server can send megabytes (a 30 MB reply must not cost the database 94 MB). Longer
# values are cut, after redaction, and say how much was cut.
MAX_EXCHANGE_CHARS = 64 * 1024
MAX_TEXT_CHARS = 16 * 1024
_SURROGATES = re.compile("[\ud800-\udfff]")
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _text(value: str) -> str:
    """A string SQLite can store: lone surrogates (undecodable bytes of a question or a file
    name, carried by Python's surrogateescape) become U+FFFD instead of failing the write."""
    return _SURROGATES.sub("\ufffd", value) if not value.isascii() else value


def _cap(value: str, limit: int = MAX_TEXT_CHARS) -> str:
    value = _text(value)
    if len(value) <= limit:
        return value
    return f"{value[:limit]}... [{len(value) - limit} more characters not kept]"


def _cap_json(text: str) -> str:
    """A recorded request or response, as JSON text, kept whole up to MAX_EXCHANGE_CHARS;
    beyond that a JSON object saying what was cut, with the head of the original."""
    text = _text(text)
    if len(text) <= MAX_EXCHANGE_CHARS:
        return text
    return _JSON({"truncated": True, "characters": len(text),
                  "head": text[:MAX_EXCHANGE_CHARS]})


def _check_location(path: Path, source: str, *, read_only: bool) -> None:
    """A database is a regular file: never a device (``--db /dev/null`` would make SQLite
    create ``/dev/null-journal``), a FIFO (opening one blocks) or a directory."""
    try:
        info = path.stat()
    except FileNotFoundError:
        if read_only:
            raise StoreUnavailable(f"no database at {path} (from {source})") from None
        return
    except OSError as exc:
        raise StoreUnavailable(f"cannot use {path} (from {source}) as the scout database: "
                               f"{exc.strerror or exc}; choose another --db or {ENV_DB}") from exc
    if not stat.S_ISREG(info.st_mode):
        kind = ("a directory" if stat.S_ISDIR(info.st_mode) else
                "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else
                "a FIFO" if stat.S_ISFIFO(info.st_mode) else
                "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
        raise StoreUnavailable(
            f"{path} (from {source}) is {kind}, not a database file; choose a file with --db "
            f"PATH or {ENV_DB}")
    if info.st_size:
        try:
            with path.open("rb") as fh:
                head = fh.read(len(_SQLITE_MAGIC))
        except OSError as exc:
            raise StoreUnavailable(f"cannot read the scout database {path} (from {source}): "
                                   f"{exc.strerror or exc}") from exc
        if head != _SQLITE_MAGIC[:len(head)] or len(head) < len(_SQLITE_MAGIC):
            raise StoreUnavailable(
                f"{path} (from {source}) is not an SQLite database; choose another --db")


class _Clean(Redactor):
    """What every stored text goes through: redaction first (a cut must never leave half a
    secret), then the cap and the surrogate repair."""

    def __call__(self, text: str) -> str:
        return _cap(super().__call__(text))

    def json(self, text: str) -> str:
        """A JSON document: redacted, then capped as a whole (a cut must stay valid JSON)."""
        return _cap_json(super().__call__(text))


def _row(values: Sequence[Any]) -> list[Any]:
    return [_text(v) if isinstance(v, str) else v for v in values]


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # a damaged file may refuse even that; the connection is dropped anyway


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


_JSON = json.JSONEncoder(ensure_ascii=False).encode  # stateless; json.dumps(**kw) builds one per call
_quote = json.encoder.encode_basestring  # C-accelerated JSON string literal


def _facts_json(facts: SiteFacts, clean: Callable[[str], str]) -> str:
    # Hand-assembled (same JSON as json.dumps): this runs once per logged node.
    symbol = "null" if facts.symbol is None else _quote(facts.symbol)
    missing = ", ".join(_quote(m) for m in facts.missing)
    return _text(f'{{"edge": {_quote(str(facts.edge))}, "breaks": {"true" if facts.breaks else "false"}, '
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
             environ: Mapping[str, str] | None = None, read_only: bool = False) -> Store:
        """Open (creating and migrating as needed) the database chosen by
        :func:`resolve_db_path`. Raises StoreUnavailable when it cannot be opened for writing.

        ``read_only``: open an existing database for reading only, writing nothing to it or
        beside it (an export of a database the user may only read). An older schema is
        migrated first, which needs write access once."""
        env = os.environ if environ is None else environ
        resolved = resolve_db_path(path, workspace=workspace, environ=env)
        _check_location(resolved.path, resolved.source, read_only=read_only)
        try:
            store = cls._connect(resolved, env, timeout_seconds, retries, read_only)
        except StoreUnavailable as exc:
            if not (read_only and "unable to open" in str(exc)):
                raise
            # A WAL database in a folder nobody may write: SQLite cannot create the shared-
            # memory file a reader needs, so read it as an immutable file instead (the folder
            # is read-only: no writer can be appending a WAL beside it).
            store = cls._connect(resolved, env, timeout_seconds, retries, read_only,
                                 immutable=True)
        if read_only and store.schema_version() == 0:
            store.close()
            raise StoreUnavailable(f"{resolved.path} (from {resolved.source}) is not a scout "
                                   "database: it is empty or has no scout schema")
        if read_only and store.schema_version() < SCHEMA_VERSION:
            store.close()
            cls._connect(resolved, env, timeout_seconds, retries, False).close()
            store = cls._connect(resolved, env, timeout_seconds, retries, True)
        return store

    @classmethod
    def _connect(cls, resolved: ResolvedPath, env: Mapping[str, str], timeout_seconds: float,
                 retries: int, read_only: bool, *, immutable: bool = False) -> Store:
        db_path = resolved.path
        if not read_only:
            try:
                db_path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailable(
                    f"cannot create the directory for the scout database {db_path} "
                    f"(from {resolved.source}): {exc}. Choose a writable location with --db "
                    f"PATH or the {ENV_DB} environment variable.") from exc
        try:
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
            target = (f"{db_path.resolve().as_uri()}?mode=ro{'&immutable=1' if immutable else ''}"
                      if read_only else db_path)
            conn = sqlite3.connect(target, timeout=timeout_seconds, isolation_level=None,
                                   check_same_thread=False, uri=read_only)
        except sqlite3.Error as exc:
            raise StoreUnavailable(
                f"cannot open the scout database {db_path} (from {resolved.source}): {exc}. "
                f"Choose a writable location with --db PATH or {ENV_DB}.") from exc
        store = cls(sqlite_utils.Database(conn), db_path, secrets=_secret_env_values(env),
                    retries=retries)
        try:
            store._prepare(read_only=read_only)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise store._unavailable(exc, "opening") from exc
        except BaseException:
            conn.close()
            raise
        return store

    def _prepare(self, *, read_only: bool = False) -> None:
        conn = self.db.conn
        if read_only:
            conn.execute("PRAGMA query_only = ON")
        else:
            conn.execute("PRAGMA foreign_keys = ON")
            if self.db.journal_mode != "wal":
                self._with_busy_retries(self.db.enable_wal)
            conn.execute("PRAGMA synchronous = NORMAL")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        self._check_version(version)
        if version < SCHEMA_VERSION and not read_only:
            self._write(self._migrate, "migrating")

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this scout understands "
                f"({SCHEMA_VERSION}); upgrade semantic-scout or choose another --db")
        if version < 0 or (0 < version < SCHEMA_VERSION and version not in MIGRATIONS):
            raise StoreError(
                f"{self.path} has schema version {version}, which no scout ever wrote: it is "
                "not a scout database, or it was damaged; choose another --db")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        # Re-read under the write lock: another process may have migrated meanwhile.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        self._check_version(version)
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
        if isinstance(exc, sqlite3.DatabaseError) and (
                "malformed" in text or "not a database" in text or "corrupt" in text):
            # Before the disk/permission advice: a truncated file says "disk image malformed".
            return StoreUnavailable(
                f"the scout database {self.path} is damaged (truncated or corrupt: {exc}) "
                f"while {doing}; move it aside (the next query starts a new one) or restore a "
                f"backup, `sqlite3 {self.path} .recover` may save its rows; or choose another "
                f"--db / {ENV_DB}.")
        if _is_busy(exc):
            return StoreUnavailable(
                f"the scout database {self.path} stayed locked by another process while "
                f"{doing} ({exc}). Retry later, or close the other writer, or use a separate "
                "--db.")
        if "readonly" in text or "read-only" in text or "unable to open" in text \
                or "disk" in text or "i/o" in text or "full" in text:
            return StoreUnavailable(
                f"the scout database {self.path} cannot be written while {doing} ({exc}); "
                f"fix its permissions or free disk space, or choose another --db / {ENV_DB}.")
        return StoreError(f"the scout database {self.path} failed while {doing}: {exc}")

    @contextmanager
    def _reading(self, doing: str) -> Iterator[None]:
        """Reads raise StoreError, never sqlite3's exceptions (a damaged page shows up late)."""
        try:
            yield
        except sqlite3.IntegrityError:
            raise
        except sqlite3.DatabaseError as exc:
            raise self._unavailable(exc, doing) from exc

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
            except sqlite3.DatabaseError as exc:  # a damaged file fails as early as BEGIN
                raise self._unavailable(exc, doing) from exc
            try:
                result = work(conn)
                conn.execute("COMMIT")
                return result
            except sqlite3.OperationalError as exc:
                _rollback(conn)
                if _is_busy(exc) and attempt < self._retries:
                    time.sleep(0.05 * 2 ** attempt)
                    continue
                raise self._unavailable(exc, doing) from exc
            except sqlite3.IntegrityError:
                _rollback(conn)
                raise
            except sqlite3.DatabaseError as exc:
                _rollback(conn)
                raise self._unavailable(exc, doing) from exc
            except BaseException:
                _rollback(conn)
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
                           (_text(info.root),)).fetchone()
        if row is None:
            cursor = conn.execute(
                "INSERT INTO codebases (name, root, git_remote, git_commit, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                _row((info.name, info.root, info.git_remote, info.git_commit, now_utc())))
            return int(cursor.lastrowid or 0), info.git_commit
        codebase_id, remote, commit = row
        if (info.git_remote or remote, info.git_commit or commit) != (remote, commit):
            conn.execute("UPDATE codebases SET git_remote = ?, git_commit = ? WHERE id = ?",
                         (info.git_remote or remote, info.git_commit or commit, codebase_id))
        return int(codebase_id), info.git_commit

    def _rubric_rows(self, rubric_id: int, node_id: int, scored: Scored, created: str,
                     recordings: list[tuple[Any, ...]], clean: Redactor) -> list[Any]:
        rubric = scored.rubric
        for position, exchange in enumerate(scored.exchanges):
            recordings.append(self._recording_row(rubric_id, position, exchange))
        source = str(scored.label_source)
        if source not in _LABEL_SOURCES:
            raise StoreError(f"unknown label source {source!r}; use one of {sorted(_LABEL_SOURCES)}")
        return _row((
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
            created))

    def _recording_row(self, rubric_id: int, position: int, exchange: Exchange) -> tuple[Any, ...]:
        secrets = self._secrets
        return _row((rubric_id, position, exchange.backend, exchange.endpoint,
                     _cap_json(_JSON(redact_value(exchange.request, secrets))),
                     _cap_json(_JSON(redact_value(exchange.response, secrets))),
                     exchange.status,
                     _cap(redact(exchange.error, secrets)) if exchange.error else None,
                     exchange.started_at, exchange.seconds))

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
        clean = _Clean(self._secrets)
        question, target, coverage = exploration.question, exploration.target, exploration.coverage
        created = now_utc()
        codebase = self._describe(root)
        workspace = codebase.root
        tags_json = json.dumps([str(Tag(t)) for t in question.tags])
        reading_columns = _reading_columns(question.reading, clean)
        # Everything that does not need ids is prepared before taking the write lock; slots 0
        # and 1 (node id, query id) are filled in under it.
        node_rows = [_row((
            0, 0, position, node.path, node.line, node.col, node.end_line,
            clean(node.enclosing) if node.enclosing else None,
            clean(node.hover), clean(node.snippet),
            str(node.facts.edge), _facts_json(node.facts, clean), node.hover_source))
            for position, node in enumerate(nodes)]

        def work(conn: sqlite3.Connection) -> int:
            codebase_id, commit = self._codebase_id(conn, codebase)
            query_id = int(conn.execute(
                "INSERT INTO queries (codebase_id, text, target, target_module, target_kind, "
                "target_path, target_line, change, subject, tags, budget, workspace, git_commit, "
                "files_indexed, files_with_errors, nodes_found, nodes_kept, created_at, asked, "
                "reading) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _row((codebase_id, clean(question.text), question.target, target.module,
                      target.kind, target.path, target.line, str(question.change),
                      question.subject, tags_json, question.budget, workspace, commit,
                      coverage.files_indexed, coverage.files_with_errors, coverage.nodes_found,
                      coverage.nodes_kept, created, *reading_columns))).lastrowid or 0)
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
        clean = _Clean(self._secrets)
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
        with self._lock, self._reading("reading batch jobs"):
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
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                # SQLite reads a negative LIMIT as no limit: every node, paid calls and all.
                raise StoreError(f"a limit must be a whole number of nodes, 1 or more; got "
                                 f"{limit!r}")
            limit = min(limit, 2**63 - 1)
            sql += " LIMIT :limit"
            params["limit"] = limit
        with self._lock, self._reading("reading logged nodes"):
            return [PendingNode(row["node_id"], question_from_row(row), node_from_row(row))
                    for row in self.db.query(sql, params)]

    def counts(self) -> dict[str, int]:
        with self._lock, self._reading("counting rows"):
            return {table: self.db[table].count for table in
                    ("codebases", "queries", "nodes", "rubrics", "recordings", "batch_jobs")}

    def rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple]:
        """Raw read access for exports and tools."""
        with self._lock, self._reading("reading"):
            return self.db.conn.execute(sql, params).fetchall()

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """One consistent view for several reads (a WAL read transaction)."""
        with self._lock, self._reading("reading"):
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
    as_json = getattr(clean, "json", clean)
    return clean(reading.asked), as_json(json.dumps(fields, ensure_ascii=False))


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
