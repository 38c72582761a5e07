"""store layer: the SQLite record of every query, node, rubric and raw model exchange.

Redaction lives in :mod:`scout.store.redact` (``redact``, ``redact_value``).
"""

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

__all__ = [
    "BatchJob", "PendingNode", "ResolvedPath", "Store", "StoreError", "StoreUnavailable",
    "default_db_path", "resolve_db_path",
]
