"""The database schema, its version (``PRAGMA user_version``) and the migrations between versions.

Version 1 is the first released layout: queries carried their workspace and comma-separated
tags directly, rubrics lacked the cache-token, task and fallback columns, and there were no
codebases or batch jobs. Rubrics are rows, one per answer (scorer x node), never overwritten: a
later label from the same scorer is a new row, and exports pick the latest. Version 2 adds
codebases (so one database spans many workspaces and exports can split by codebase), JSON tags,
full provenance and batch jobs. Version 3 adds the hover source of nodes, version 4 how each
question was read, version 5 the plans of ``scout gen-training``. Version 6 (current) adds the
fine-tuning record: ``trained_models`` (which dataset and base produced which GGUF, by digest),
``served_models`` (which Ollama digest serves which GGUF), ``evaluations`` (a model measured
against a teacher on a codebase: what promotion reads), and a ``note`` on rubrics (e.g. the
facts pin that raised a model's risk).
Migrations run inside one ``BEGIN IMMEDIATE`` transaction, so two processes opening an old
database at once migrate it exactly once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import PurePosixPath

SCHEMA_VERSION = 6

# Kept verbatim: the migration test builds a version-1 database from it.
SCHEMA_V1 = """
CREATE TABLE queries (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    target TEXT NOT NULL,
    change TEXT NOT NULL,
    tags TEXT NOT NULL,              -- comma-separated
    budget INTEGER NOT NULL,
    workspace TEXT NOT NULL,
    git_commit TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE nodes (
    id INTEGER PRIMARY KEY,
    query_id INTEGER NOT NULL REFERENCES queries(id),
    position INTEGER NOT NULL,
    path TEXT NOT NULL,
    line INTEGER NOT NULL,
    hover TEXT NOT NULL,
    snippet TEXT NOT NULL,
    edge TEXT NOT NULL,
    facts TEXT NOT NULL
);
CREATE TABLE rubrics (
    id INTEGER PRIMARY KEY,
    node_id INTEGER NOT NULL REFERENCES nodes(id),
    scorer TEXT NOT NULL,
    label_source TEXT NOT NULL,
    model TEXT,
    model_digest TEXT,
    task_version TEXT,
    prompt_hash TEXT,
    relevance INTEGER,
    risk INTEGER,
    confidence INTEGER,
    reasoning TEXT,
    latency_ms REAL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cost_usd REAL,
    error TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE recordings (
    id INTEGER PRIMARY KEY,
    rubric_id INTEGER NOT NULL REFERENCES rubrics(id),
    position INTEGER NOT NULL,
    backend TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT,
    status INTEGER,
    error TEXT,
    started_at TEXT NOT NULL,
    seconds REAL NOT NULL
);
CREATE INDEX nodes_query ON nodes(query_id);
CREATE INDEX rubrics_node ON rubrics(node_id);
CREATE INDEX recordings_rubric ON recordings(rubric_id);
"""

SCHEMA_V2 = """
CREATE TABLE codebases (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,              -- directory name of the root: held-out splits use it
    root TEXT NOT NULL UNIQUE,
    git_remote TEXT,
    git_commit TEXT,                 -- last commit seen
    created_at TEXT NOT NULL
);
CREATE TABLE queries (
    id INTEGER PRIMARY KEY,
    codebase_id INTEGER NOT NULL REFERENCES codebases(id),
    text TEXT NOT NULL,
    target TEXT NOT NULL,
    target_module TEXT,
    target_kind TEXT,
    target_path TEXT,
    target_line INTEGER,
    change TEXT NOT NULL,
    subject TEXT,
    tags TEXT NOT NULL,              -- JSON array of Tag values
    budget INTEGER NOT NULL,
    workspace TEXT NOT NULL,
    git_commit TEXT,
    files_indexed INTEGER,
    files_with_errors INTEGER,
    nodes_found INTEGER,
    nodes_kept INTEGER,
    created_at TEXT NOT NULL
);
CREATE TABLE nodes (
    id INTEGER PRIMARY KEY,
    query_id INTEGER NOT NULL REFERENCES queries(id),
    position INTEGER NOT NULL,
    path TEXT NOT NULL,
    line INTEGER NOT NULL,
    col INTEGER NOT NULL DEFAULT 0,
    end_line INTEGER,
    enclosing TEXT,
    hover TEXT NOT NULL,
    snippet TEXT NOT NULL,
    edge TEXT NOT NULL,
    facts TEXT NOT NULL              -- JSON of SiteFacts
);
CREATE TABLE rubrics (
    id INTEGER PRIMARY KEY,
    node_id INTEGER NOT NULL REFERENCES nodes(id),
    scorer TEXT NOT NULL,
    label_source TEXT NOT NULL,
    task TEXT NOT NULL DEFAULT 'score_node',
    task_version TEXT,
    model TEXT,
    model_digest TEXT,
    prompt_hash TEXT,
    relevance INTEGER,
    risk INTEGER,
    confidence INTEGER,
    reasoning TEXT,
    latency_ms REAL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cache_read_tokens INTEGER,
    cache_write_tokens INTEGER,
    cost_usd REAL,
    error TEXT,
    fallback_reason TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE recordings (
    id INTEGER PRIMARY KEY,
    rubric_id INTEGER NOT NULL REFERENCES rubrics(id),
    position INTEGER NOT NULL,
    backend TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    request TEXT NOT NULL,           -- JSON, secrets removed
    response TEXT,                   -- JSON (a text body is stored as a JSON string)
    status INTEGER,
    error TEXT,
    started_at TEXT NOT NULL,
    seconds REAL NOT NULL
);
CREATE TABLE batch_jobs (
    id INTEGER PRIMARY KEY,
    batch_id TEXT NOT NULL UNIQUE,
    backend TEXT NOT NULL,
    model TEXT,
    task TEXT NOT NULL,
    label_source TEXT NOT NULL,
    status TEXT NOT NULL,
    node_ids TEXT NOT NULL,          -- JSON array of nodes.id
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX queries_codebase ON queries(codebase_id);
CREATE INDEX nodes_query ON nodes(query_id);
CREATE INDEX rubrics_node ON rubrics(node_id);
CREATE INDEX recordings_rubric ON recordings(rubric_id);
"""


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    run_script(conn, """
        CREATE TABLE codebases (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            root TEXT NOT NULL UNIQUE,
            git_remote TEXT,
            git_commit TEXT,
            created_at TEXT NOT NULL
        );
        ALTER TABLE queries ADD COLUMN codebase_id INTEGER REFERENCES codebases(id);
        ALTER TABLE queries ADD COLUMN target_module TEXT;
        ALTER TABLE queries ADD COLUMN target_kind TEXT;
        ALTER TABLE queries ADD COLUMN target_path TEXT;
        ALTER TABLE queries ADD COLUMN target_line INTEGER;
        ALTER TABLE queries ADD COLUMN subject TEXT;
        ALTER TABLE queries ADD COLUMN files_indexed INTEGER;
        ALTER TABLE queries ADD COLUMN files_with_errors INTEGER;
        ALTER TABLE queries ADD COLUMN nodes_found INTEGER;
        ALTER TABLE queries ADD COLUMN nodes_kept INTEGER;
        ALTER TABLE nodes ADD COLUMN col INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE nodes ADD COLUMN end_line INTEGER;
        ALTER TABLE nodes ADD COLUMN enclosing TEXT;
        ALTER TABLE rubrics ADD COLUMN task TEXT NOT NULL DEFAULT 'score_node';
        ALTER TABLE rubrics ADD COLUMN cache_read_tokens INTEGER;
        ALTER TABLE rubrics ADD COLUMN cache_write_tokens INTEGER;
        ALTER TABLE rubrics ADD COLUMN fallback_reason TEXT;
        CREATE TABLE batch_jobs (
            id INTEGER PRIMARY KEY,
            batch_id TEXT NOT NULL UNIQUE,
            backend TEXT NOT NULL,
            model TEXT,
            task TEXT NOT NULL,
            label_source TEXT NOT NULL,
            status TEXT NOT NULL,
            node_ids TEXT NOT NULL,
            error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX queries_codebase ON queries(codebase_id);
    """)
    # One codebase per distinct workspace; its name is the root's directory name.
    workspaces = [row[0] for row in conn.execute(
        "SELECT workspace, min(created_at) FROM queries GROUP BY workspace ORDER BY 2")]
    for workspace in workspaces:
        first_seen = conn.execute("SELECT min(created_at) FROM queries WHERE workspace = ?",
                                  (workspace,)).fetchone()[0]
        conn.execute("INSERT INTO codebases (name, root, created_at) VALUES (?, ?, ?)",
                     (PurePosixPath(workspace).name or workspace, workspace, first_seen))
    conn.execute("UPDATE queries SET codebase_id = "
                 "(SELECT id FROM codebases WHERE codebases.root = queries.workspace)")
    # Tags: "Exhaustive,PatternMatch" -> ["Exhaustive", "PatternMatch"]
    rows = conn.execute("SELECT id, tags FROM queries").fetchall()
    conn.executemany("UPDATE queries SET tags = ? WHERE id = ?", [
        (json.dumps([t.strip() for t in tags.split(",") if t.strip()]), qid) for qid, tags in rows])


def _migrate_2_to_3(conn: sqlite3.Connection) -> None:
    # Which source supplied a node's hover: "index" (its declaration text) or "hls" (the type
    # the Haskell Language Server inferred, asked through the editor).
    conn.execute("ALTER TABLE nodes ADD COLUMN hover_source TEXT NOT NULL DEFAULT 'index'")


def _migrate_3_to_4(conn: sqlite3.Connection) -> None:
    """How each question was understood. ``asked`` is the question exactly as the user wrote
    it (``text`` is the normalised form); ``reading`` is the JSON of ``explore.model.Reading``
    without ``asked``: the method, how the reading was chosen, the chosen definition's kind
    and module, the context names, the lexicon excerpt. Rows written before version 4 keep
    NULL (their reading was not recorded)."""
    run_script(conn, """
        ALTER TABLE queries ADD COLUMN asked TEXT;
        ALTER TABLE queries ADD COLUMN reading TEXT;
    """)


# Version 5: the plans of `scout gen-training` (one row per run key, one per planned question),
# so an interrupted run resumes where it stopped and a finished one is not done twice.
SCHEMA_V5_TRAINING = """
CREATE TABLE training_runs (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,        -- digest of the workspaces and the seed
    roots TEXT NOT NULL,             -- JSON array of workspace roots
    seed INTEGER NOT NULL,
    settings TEXT NOT NULL,          -- JSON: the options of the last invocation
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE training_items (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES training_runs(id),
    position INTEGER NOT NULL,
    root TEXT NOT NULL,
    text TEXT NOT NULL,              -- the question as generated
    phrasing TEXT NOT NULL,          -- which phrasing template
    intended TEXT NOT NULL,          -- JSON: the structured reading the text was made for
    budget INTEGER NOT NULL,
    target_kind TEXT,
    target_module TEXT,
    predicted TEXT,                  -- JSON: nodes and heuristic risks when planned
    status TEXT NOT NULL,            -- pending | done | failed
    query_id INTEGER REFERENCES queries(id),
    parsed TEXT,                     -- JSON: how question understanding read the text
    misread INTEGER,                 -- 1: the text was read as another question
    teacher_errors TEXT,             -- JSON: teacher -> why it gave no labels
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (run_id, position)
);
CREATE INDEX training_items_run ON training_items(run_id, status);
"""


def _migrate_4_to_5(conn: sqlite3.Connection) -> None:
    run_script(conn, SCHEMA_V5_TRAINING)


SCHEMA_V6_TABLES = """
CREATE TABLE trained_models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,              -- the name `scout train` suggested for `ollama create`
    task TEXT NOT NULL,
    task_version TEXT,
    prompt_hash TEXT,                -- the task + renderer the training text was rendered with
    gguf_sha256 TEXT NOT NULL UNIQUE,
    gguf_path TEXT NOT NULL,
    base_path TEXT NOT NULL,
    base_digest TEXT NOT NULL,       -- sha256 over the base checkpoint's files
    dataset_path TEXT NOT NULL,
    dataset_digest TEXT NOT NULL,    -- sha256 over train.jsonl and validation.jsonl
    train_examples INTEGER NOT NULL,
    validation_examples INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    train_seconds REAL NOT NULL,
    train_loss REAL,
    validation_loss REAL,
    params TEXT NOT NULL,            -- JSON: steps, learning rate, LoRA rank, token types, ...
    created_at TEXT NOT NULL
);
CREATE TABLE served_models (
    model_digest TEXT NOT NULL,      -- the digest Ollama lists (rubrics.model_digest)
    model TEXT NOT NULL,
    gguf_sha256 TEXT,                -- the GGUF blob it serves (trained_models.gguf_sha256)
    first_seen TEXT NOT NULL,
    PRIMARY KEY (model_digest, model)
);
CREATE TABLE evaluations (
    id INTEGER PRIMARY KEY,
    model TEXT NOT NULL,
    model_digest TEXT NOT NULL,
    codebase_id INTEGER REFERENCES codebases(id),
    root TEXT NOT NULL,
    teacher TEXT NOT NULL,
    nodes INTEGER NOT NULL,          -- nodes the model was asked about
    answered INTEGER NOT NULL,       -- nodes it gave a valid answer for
    agreement REAL,                  -- share of pairs where both say risk >= 4, or both < 4
    kappa REAL,                      -- quadratic-weighted kappa on risk
    report TEXT NOT NULL,            -- JSON: the eval report's overall metrics
    created_at TEXT NOT NULL
);
CREATE INDEX evaluations_model ON evaluations(model_digest, root);
"""


def _migrate_5_to_6(conn: sqlite3.Connection) -> None:
    run_script(conn, SCHEMA_V6_TABLES)
    conn.execute("ALTER TABLE rubrics ADD COLUMN note TEXT")


# MIGRATIONS[v] turns a version-v database into version v+1. A new database is created at
# version 2 and migrated up, so every change to the schema is written once, here.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _migrate_1_to_2, 2: _migrate_2_to_3, 3: _migrate_3_to_4, 4: _migrate_4_to_5,
    5: _migrate_5_to_6}


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run DDL statement by statement: ``executescript`` would COMMIT the open transaction
    first, and migrations must stay atomic."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def create_current(conn: sqlite3.Connection) -> None:
    run_script(conn, SCHEMA_V2)
    for version in range(2, SCHEMA_VERSION):
        MIGRATIONS[version](conn)
