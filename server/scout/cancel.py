"""Cancellation for long work: exploration, scoring, batch waits, GHC runs, index builds.

A ``CancelToken`` is handed down the call chain; long loops call ``check()`` between steps and
blocking waits use ``wait(seconds)`` instead of ``time.sleep``. The language server cancels a
token when ``$/cancelRequest`` arrives or a newer edit makes the work stale; the CLI cancels on
Ctrl-C. A token may carry a deadline (``with_deadline``): past it, ``check()`` raises too, so one
overall time limit covers every step of a query. This module imports nothing from the project:
every layer may use it.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable


class Cancelled(Exception):
    """The work was cancelled (or ran past its deadline); ``reason`` says why."""

    def __init__(self, reason: str = "cancelled") -> None:
        super().__init__(reason)
        self.reason = reason


class CancelToken:
    """Thread-safe, one-way: once cancelled it stays cancelled. Tokens can be chained: a child
    is cancelled when its parent is (``child()``), and may add its own deadline."""

    __slots__ = ("__weakref__", "_callbacks", "_children", "_deadline", "_event", "_lock",
                 "_parent", "_reason")

    def __init__(self, *, deadline: float | None = None,
                 parent: CancelToken | None = None) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._deadline = deadline  # time.monotonic() value, or None
        self._parent = parent
        self._callbacks: list[Callable[[], None]] = []
        # Live children only: a long-lived parent (a server's session) never accumulates them.
        self._children: weakref.WeakSet[CancelToken] = weakref.WeakSet()
        if parent is not None:
            parent._adopt(self)

    def _adopt(self, child: CancelToken) -> None:
        with self._lock:
            if not self._event.is_set():
                self._children.add(child)
                return
        child.cancel(self._reason or "cancelled")

    # -- state -------------------------------------------------------------------------
    def cancel(self, reason: str = "cancelled") -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._reason = reason
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
            children = list(self._children)
        for child in children:
            child.cancel(reason)
        for callback in callbacks:
            try:
                callback()
            except Exception:  # a callback must never stop the cancellation of others
                pass

    @property
    def cancelled(self) -> bool:
        if self._event.is_set():
            return True
        deadline = self.deadline
        if deadline is not None and time.monotonic() >= deadline:
            self.cancel("deadline passed")
            return True
        return False

    @property
    def reason(self) -> str | None:
        return self._reason

    @property
    def deadline(self) -> float | None:
        """The earliest deadline of this token and its ancestors (monotonic seconds)."""
        own = self._deadline
        inherited = self._parent.deadline if self._parent is not None else None
        if own is None:
            return inherited
        return own if inherited is None else min(own, inherited)

    def remaining(self, default: float | None = None) -> float | None:
        """Seconds left before the deadline (never negative); ``default`` when there is none."""
        deadline = self.deadline
        if deadline is None:
            return default
        left = max(0.0, deadline - time.monotonic())
        return left if default is None else min(left, default)

    # -- use -----------------------------------------------------------------------------
    def check(self) -> None:
        """Raise ``Cancelled`` if the work should stop."""
        if self.cancelled:
            raise Cancelled(self._reason or "cancelled")

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` (or to the deadline); True when cancelled meanwhile."""
        left = self.remaining(seconds)
        if self._event.wait(seconds if left is None else left):
            return True
        return self.cancelled

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once when cancelled (at once if already cancelled): kill a child
        process, close a connection."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def child(self, *, timeout: float | None = None) -> CancelToken:
        deadline = time.monotonic() + timeout if timeout is not None else None
        return CancelToken(deadline=deadline, parent=self)

    @classmethod
    def with_deadline(cls, seconds: float | None) -> CancelToken:
        return cls(deadline=None if seconds is None else time.monotonic() + seconds)


class _Never(CancelToken):
    """The default for callers that cannot cancel: ``cancel`` is ignored and no callback or
    child is kept, so sharing the one instance is safe."""

    __slots__ = ()

    def cancel(self, reason: str = "cancelled") -> None:
        return None

    def on_cancel(self, callback: Callable[[], None]) -> None:
        return None

    def _adopt(self, child: CancelToken) -> None:
        return None


NEVER: CancelToken = _Never()
