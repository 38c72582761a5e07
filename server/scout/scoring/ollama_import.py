"""Import the ``ollama`` package whatever ``OLLAMA_HOST`` holds.

The package builds a default client from ``OLLAMA_HOST`` at import time and raises ValueError
when it cannot parse the value (``OLLAMA_HOST='http://[::1'``), which made every module that
imports it unimportable, and every default query crash. Scout never uses that default client:
it passes the host it resolved to its own clients, and a host it cannot use is reported by the
scorers (ollama refuses with the reason, hybrid lets the heuristics answer and says why). So a
value the package cannot parse is hidden from it while it is imported, and only then.
"""

from __future__ import annotations

import os
import threading

_lock = threading.Lock()


def _load():  # type: ignore[no-untyped-def]
    try:
        import ollama
    except ValueError:
        with _lock:
            saved = os.environ.pop("OLLAMA_HOST", None)
            try:
                import ollama
            finally:
                if saved is not None:
                    os.environ["OLLAMA_HOST"] = saved
    return ollama


ollama = _load()
from ollama._client import _parse_host as parse_host  # noqa: E402  (the package is loaded now)

__all__ = ["ollama", "parse_host"]
