"""The server's workspace folders: one ``ScoutSession`` each, and the one thread that mutates
its index.

Every mutation of a folder's index (the first build, edits, saves, watched-file changes) runs on
that folder's owner thread, in arrival order; readers (lenses, code actions, questions) take a
snapshot and never wait for it. Edits are coalesced per file (only the newest text of a file
is indexed) and an edit cancels the explorations still running on older revisions, which the
server then asks again.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from scout.cancel import Cancelled, CancelToken
from scout.haskell.discover import is_haskell  # noqa: F401  (re-exported for the server)
from scout.session import EventSink, ScoutSession
from scout.settings import Settings

log = logging.getLogger(__name__)

IndexProgress = Callable[[int, int], None]


class Folder:
    """One workspace folder of the editor."""

    def __init__(self, root: Path, settings: Settings, on_event: EventSink) -> None:
        self.root = root.resolve()
        self.session = ScoutSession(self.root, settings, on_event=on_event)
        self._owner = ThreadPoolExecutor(max_workers=1,
                                         thread_name_prefix=f"scout-owner-{self.root.name}")
        self._lock = threading.Lock()
        self._pending: dict[str, bytes | None] = {}  # newest text per file, not yet indexed
        self._flush_scheduled = False
        self._watchers: weakref.WeakSet[CancelToken] = weakref.WeakSet()
        self.load_token = CancelToken()
        self.loading: Future[None] | None = None
        self.load_error: str | None = None

    # -- the index ------------------------------------------------------------------------
    def start_loading(self, progress: IndexProgress | None,
                      done: Callable[[Folder], None]) -> Future[None]:
        def work() -> None:
            try:
                self.session.load_index(progress=progress, cancel=self.load_token)
                self.load_error = None
            except Cancelled:
                self.load_error = "indexing was cancelled"
            except Exception as exc:  # report, never crash the server
                log.exception("indexing %s failed", self.root)
                self.load_error = f"indexing failed: {type(exc).__name__}: {exc}"
            finally:
                done(self)
        self.loading = self._owner.submit(work)
        return self.loading

    @property
    def indexing(self) -> bool:
        return self.loading is not None and not self.loading.done()

    def snapshot(self):  # -> IndexSnapshot | None
        return self.session.index.snapshot() if self.session.indexed else None

    # -- edits --------------------------------------------------------------------------
    def relative(self, path: Path) -> str | None:
        try:
            rel = path.resolve().relative_to(self.root)
        except (ValueError, OSError):
            return None
        return rel.as_posix()

    def edit(self, rel: str, text: bytes | None, on_done: Callable[[str], None]) -> None:
        """Index the file's new text (None: from disk again; deleted files disappear) on the
        owner thread, coalescing a burst of edits into one update."""
        with self._lock:
            self._pending[rel] = text
            watchers = list(self._watchers)
            schedule = not self._flush_scheduled
            self._flush_scheduled = True
        for token in watchers:
            token.cancel(f"superseded by an edit of {rel}")
        if schedule:
            self._owner.submit(self._flush, on_done)

    def _flush(self, on_done: Callable[[str], None]) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
            self._flush_scheduled = False
        if not self.session.indexed:
            return  # the first build reads every file from disk anyway
        index = self.session.index
        for rel, text in pending.items():
            try:
                if text is None:
                    index.refresh_from_disk(rel)
                else:
                    index.update_file(rel, text)
            except Exception:  # one bad file must not stop the others
                log.exception("updating %s failed", rel)
            on_done(rel)

    def watch_edits(self) -> CancelToken:
        """A token cancelled by the next edit in this folder (for explorations to restart)."""
        token = CancelToken()
        with self._lock:
            self._watchers.add(token)
        return token

    def configure(self, settings: Settings) -> None:
        self.session.configure(settings)

    def close(self) -> None:
        self.load_token.cancel("the server is shutting down")
        self._owner.shutdown(wait=False, cancel_futures=True)
        self.session.close(wait=False)


class Folders:
    """Every folder the editor opened; a file belongs to the innermost folder holding it."""

    def __init__(self) -> None:
        self._folders: dict[Path, Folder] = {}
        self._lock = threading.Lock()

    def add(self, folder: Folder) -> None:
        with self._lock:
            self._folders[folder.root] = folder

    def remove(self, root: Path) -> Folder | None:
        with self._lock:
            return self._folders.pop(root.resolve(), None)

    def all(self) -> list[Folder]:
        with self._lock:
            return list(self._folders.values())

    def for_path(self, path: Path) -> tuple[Folder, str] | None:
        best: tuple[Folder, str] | None = None
        for folder in self.all():
            rel = folder.relative(path)
            if rel is not None and (best is None or len(folder.root.parts) >
                                    len(best[0].root.parts)):
                best = (folder, rel)
        return best
