"""store layer: the SQLite record of every query, node, rubric and raw model exchange."""

from scout.store.db import (
    BatchJob,
    PendingNode,
    ResolvedPath,
    Store,
    StoreError,
    StoreUnavailable,
    default_db_path,
    resolve_db_path,
)
from scout.store.redact import redact, redact_value

__all__ = [
    "BatchJob", "PendingNode", "ResolvedPath", "Store", "StoreError", "StoreUnavailable",
    "default_db_path", "resolve_db_path", "redact", "redact_value",
]
