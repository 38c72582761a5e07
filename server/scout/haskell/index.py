"""The workspace index: every Haskell file's ``FileIndex`` plus cross-file lookups.

Built in parallel (one parser per worker process), cached on disk keyed by file content, and
updated one file at a time (incremental tree-sitter reparse for files edited in this session).

State model: ``WorkspaceIndex`` is the one owner that mutates; each edit publishes a new
``IndexSnapshot`` (a revision) and never changes an old one, so readers (queries, code lenses,
the language server's handlers) work on a consistent snapshot without locks while edits keep
arriving. Caches are bounded: decoded file bodies (LRU) and syntax trees kept for incremental
reparse (LRU). Nothing here is global, so a language server can hold several workspaces.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import hashlib
import logging
import multiprocessing
import os
import pickle
import re
import signal
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tree_sitter import Point, Tree

from scout.cancel import NEVER, CancelToken
from scout.haskell import parser as ts
from scout.haskell.discover import SourceText, discover, is_haskell, read_source
from scout.haskell.extract import EXTRACTOR_VERSION, Edit, digest, extract, extract_incremental
from scout.haskell.model import (
    Definition,
    DefKind,
    FileIndex,
    FileSummary,
    IndexStats,
    MatchSite,
    Reference,
    SkippedFile,
)
from scout.supervise import running

log = logging.getLogger(__name__)

CACHE_FORMAT = f"scout-index/6/{EXTRACTOR_VERSION}/{ts.GRAMMAR_VERSION}"
# Below this many files, process start-up costs more than it saves.
PARALLEL_THRESHOLD = 64

Progress = Callable[[int, int], None]  # (done, total)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "semantic-scout" / "index"


def index_source(src: SourceText) -> FileIndex:
    tree = ts.parser().parse(src.code)
    fi = extract(src.path, src.code, tree, language=src.language)
    fi.digest = digest(src.raw)
    fi.includes = tuple(path for path, _ in src.includes)
    return fi


def index_included(root: Path, path: str, includers: Sequence[FileSummary],
                   texts: Mapping[str, bytes] | None = None) -> FileIndex | None:
    """The entry of a file whose code other files `#include` (CPP), or None when none of them
    keeps any of it. Each includer's cpp keeps some of its lines (its branches are selected
    with the macros of the include point); a line any includer keeps is kept (the one that
    keeps most lines first, then path order), at its own line number, and the whole is parsed
    once. The code is the includers' module's: it has their imports (besides its own;
    inherited ones have line 0, they are not in this file), the module and exports of the
    includer that keeps most of it, and each definition belongs to the module of the includer
    that kept its line. ``texts``: editors' texts by path."""
    texts = texts or {}
    pieces: list[tuple[FileSummary, list[bytes]]] = []
    for summary in includers:
        src = read_source(root, summary.path, raw=texts.get(summary.path), texts=texts)
        if isinstance(src, SkippedFile):
            continue
        code = dict(src.includes).get(path)
        if code:  # b"": a header of macros only
            pieces.append((summary, code.split(b"\n")))
    if not pieces:
        return None
    # the includer that keeps most of it first: its module is the entry's
    pieces.sort(key=lambda p: -sum(1 for line in p[1] if line.strip()))
    merged: list[bytes] = []
    owner: list[int] = []
    for i in range(max(len(lines) for _, lines in pieces)):
        for k, (_, lines) in enumerate(pieces):
            if i < len(lines) and lines[i].strip():
                merged.append(lines[i])
                owner.append(k)
                break
        else:
            merged.append(b"")
            owner.append(0)
    code = b"\n".join(merged)
    fi = extract(path, code, ts.parser().parse(code), language="haskell")
    first = pieces[0][0]
    fi.module = first.module
    own = list(fi.imports)
    inherited = {imp._replace(line=0) for s, _ in pieces for imp in s.imports}
    fi.imports = own + sorted(inherited, key=lambda i: (i.module, i.alias or "", i.qualified))
    fi.exports = first.exports
    for d in fi.definitions:
        line = d.span.start_line
        d.module = pieces[owner[line - 1]][0].module if 0 < line <= len(owner) else first.module
    fi.digest = digest(code)
    fi.included_by = tuple(s.path for s, _ in pieces)
    fi.incremental = None
    return fi


def _included_entries(root: Path, summaries: Mapping[str, FileSummary],
                      texts: Mapping[str, bytes], wanted: Iterable[str] | None = None
                      ) -> dict[str, FileIndex | None]:
    """The entries of the `#include`d files ``wanted`` (all when None) from their includers in
    ``summaries``: None for one nobody includes any more. A file indexed as itself (an
    `#include`d `.hs` module) keeps its own entry: nothing is indexed twice."""
    by: dict[str, list[FileSummary]] = {}
    for rel in sorted(summaries):
        summary = summaries[rel]
        if not summary.included_by:
            for inc in summary.includes:
                by.setdefault(inc, []).append(summary)
    out: dict[str, FileIndex | None] = {}
    for inc in sorted(by if wanted is None else set(wanted)):
        known = summaries.get(inc)
        if known is not None and not known.included_by:
            continue
        try:
            out[inc] = index_included(root, inc, by.get(inc, ()), texts)
        except Exception:  # an extractor bug must cost one file, never the index
            log.exception("indexing the included file %s failed", inc)
            out[inc] = None
    return out


def _body_blob(fi: FileIndex) -> bytes:
    return pickle.dumps((fi.references, fi.match_sites), protocol=pickle.HIGHEST_PROTOCOL)


# A worker's answer per file: skipped, or the summary plus the pickled body (pickled in the
# worker, so the parent process never re-pickles reference rows and match sites).
_Indexed = tuple[bytes, bytes]  # (pickled FileSummary, pickled body)


def _index_chunk(root: str, paths: list[str]) -> list[_Indexed | SkippedFile]:
    with gc_paused():  # extraction allocates many short-lived, acyclic objects
        return [_index_one(root, rel) for rel in paths]


def _index_one(root: str, rel: str) -> _Indexed | SkippedFile:
    src = read_source(Path(root), rel)
    if isinstance(src, SkippedFile):
        return src
    try:
        fi = index_source(src)
    except Exception as exc:  # an extractor bug must cost one file, never the index
        return SkippedFile(rel, f"could not be indexed ({type(exc).__name__}: {exc}); "
                                "please report it")
    summary = pickle.dumps(FileSummary.of(fi), protocol=pickle.HIGHEST_PROTOCOL)
    return (summary, _body_blob(fi))


@dataclass(slots=True)
class _CacheEntry:
    mtime_ns: int
    size: int
    summary: bytes  # pickled FileSummary
    body: bytes


class _DecodedBodies:
    """Decoded file bodies shared by every revision: keyed by (path, content digest), so a
    revision never sees another content's body, and bounded (least recently used goes)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple[str, str], FileIndex] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> FileIndex | None:
        with self._lock:
            fi = self._items.get(key)
            if fi is not None:
                self._items.move_to_end(key)
            return fi

    def put(self, key: tuple[str, str], fi: FileIndex) -> None:
        with self._lock:
            self._items[key] = fi
            self._items.move_to_end(key)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class LazyFiles(Mapping[str, FileIndex]):
    """``snapshot.files``: every file's full ``FileIndex``, decoded from its pickled body on
    first access. Iterating keys is free; iterating values decodes every file."""

    __slots__ = ("_snapshot",)

    def __init__(self, snapshot: IndexSnapshot) -> None:
        self._snapshot = snapshot

    def __getitem__(self, rel: str) -> FileIndex:
        return self._snapshot._full(rel)

    def __contains__(self, rel: object) -> bool:
        return rel in self._snapshot.summaries

    def __iter__(self) -> Iterator[str]:
        return iter(self._snapshot.summaries)

    def __len__(self) -> int:
        return len(self._snapshot.summaries)


# A file's body in a revision: pickled bytes (from a worker or the cache), or the FileIndex
# itself (extracted in this process after an edit).
_Body = bytes | FileIndex


class IndexSnapshot:
    """One immutable revision of the index: what every reader works on.

    Nothing here changes after construction, except memoised lookups (built once, under a
    lock, from immutable data): an edit makes a new revision and leaves this one intact, so a
    query that holds a snapshot sees one consistent workspace however many edits arrive.
    """

    def __init__(self, root: Path, revision: int, *, summaries: dict[str, FileSummary],
                 bodies: dict[str, _Body], skipped: dict[str, SkippedFile],
                 texts: dict[str, bytes], decoded: _DecodedBodies,
                 base: IndexSnapshot | None = None, changed: frozenset[str] = frozenset(),
                 build_seconds: float = 0.0, cached_files: int = 0, complete: bool = True,
                 expected_files: int | None = None) -> None:
        self.root = root
        self.revision = revision
        # False while the first build is still running: answers may miss files (and say so).
        self.complete = complete
        self.expected_files = len(summaries) if expected_files is None else expected_files
        self.summaries: Mapping[str, FileSummary] = MappingProxyType(summaries)
        self.skipped: Mapping[str, SkippedFile] = MappingProxyType(skipped)
        self.files = LazyFiles(self)
        self.build_seconds = build_seconds
        self.cached_files = cached_files
        self._bodies = bodies
        self._texts = texts  # files whose text differs from disk (edited in the editor)
        self._decoded = decoded
        # Lookups are derived from ``base`` (an older revision whose lookups are built) by
        # patching the ``changed`` paths, so an edit costs the changed files, not the index.
        self._base = base
        self._changed = changed
        self._lock = threading.Lock()
        self._defs: dict[str, tuple[Definition, ...]] | None = None
        self._ref_files: dict[str, frozenset[str]] | None = None
        self._by_kind: dict[DefKind, tuple[Definition, ...]] | None = None
        self._modules: dict[str, tuple[str, ...]] | None = None
        self._stats: IndexStats | None = None

    def snapshot(self) -> IndexSnapshot:
        return self

    # -- bodies ----------------------------------------------------------------------------
    def _full(self, rel: str) -> FileIndex:
        body = self._bodies[rel]  # KeyError for unknown files, as a dict would
        if isinstance(body, FileIndex):
            return body
        summary = self.summaries[rel]
        key = (rel, summary.digest)
        fi = self._decoded.get(key)
        if fi is None:
            try:
                references, match_sites = pickle.loads(body)
                fi = summary.with_body(references, match_sites)
            except Exception as exc:  # a damaged cache entry: rebuild it, never fail queries
                log.warning("index cache entry for %s is damaged (%s: %s); re-indexing it",
                            rel, type(exc).__name__, exc)
                fi = self._reindexed(rel)
                self._bodies[rel] = fi  # memoised like a decoded body; the next cache write
                # keeps the rebuilt entry instead of the damaged bytes
            self._decoded.put(key, fi)
        return fi

    def _reindexed(self, rel: str) -> FileIndex:
        """The file indexed again from its current text (a damaged cached body)."""
        src = read_source(self.root, rel, raw=self._texts.get(rel))
        if isinstance(src, SkippedFile):  # gone or unreadable since: no rows, and say so
            log.warning("%s cannot be re-indexed: %s", rel, src.reason)
            src = SourceText(rel, b"", b"", "haskell")
        return index_source(src)

    def _body_bytes(self, rel: str) -> bytes:
        body = self._bodies[rel]
        return body if isinstance(body, bytes) else _body_blob(body)

    # -- memoised lookups --------------------------------------------------------------------
    def _lookups(self) -> tuple[dict[str, tuple[Definition, ...]], dict[str, frozenset[str]],
                                dict[DefKind, tuple[Definition, ...]]]:
        if self._defs is None or self._ref_files is None or self._by_kind is None:
            with self._lock:
                if self._defs is None or self._ref_files is None or self._by_kind is None:
                    self._build_lookups()
        assert self._defs is not None and self._ref_files is not None
        assert self._by_kind is not None
        return self._defs, self._ref_files, self._by_kind

    def _build_lookups(self) -> None:
        base = self._base
        if base is not None and base._defs is not None and base._ref_files is not None \
                and base._by_kind is not None:
            defs, refs, by_kind = _patched(base, self, self._changed)
        else:
            defs_l: dict[str, list[Definition]] = {}
            refs_l: dict[str, set[str]] = {}
            kinds_l: dict[DefKind, list[Definition]] = {}
            for path, summary in self.summaries.items():
                for d in summary.definitions:
                    defs_l.setdefault(d.name, []).append(d)
                    kinds_l.setdefault(d.kind, []).append(d)
                for name in summary.ref_names:
                    refs_l.setdefault(name, set()).add(path)
            defs = {k: tuple(v) for k, v in defs_l.items()}
            refs = {k: frozenset(v) for k, v in refs_l.items()}
            by_kind = {k: tuple(v) for k, v in kinds_l.items()}
        self._defs, self._ref_files, self._by_kind = defs, refs, by_kind
        self._base = None  # the older revision may now be freed

    def definitions(self, name: str, kinds: Iterable[DefKind] | None = None) -> list[Definition]:
        found = self._lookups()[0].get(name, ())
        if kinds is None:
            return list(found)
        wanted = set(kinds)
        return [d for d in found if d.kind in wanted]

    def definitions_of_kind(self, kind: DefKind) -> list[Definition]:
        return list(self._lookups()[2].get(kind, ()))

    def all_definitions(self) -> Iterator[Definition]:
        for summary in self.summaries.values():
            yield from summary.definitions

    def files_referencing(self, name: str) -> list[str]:
        return sorted(self._lookups()[1].get(name, ()))

    def references(self, name: str) -> list[Reference]:
        out: list[Reference] = []
        for path in self.files_referencing(name):
            out.extend(self.files[path].references.lookup(name, path))
        out.sort(key=lambda r: (r.path, r.line, r.col))
        return out

    def constructors_of(self, type_name: str) -> tuple[str, ...] | None:
        for d in self.definitions(type_name, (DefKind.DATA, DefKind.NEWTYPE)):
            return d.constructors
        return None

    def type_of_constructor(self, con: str) -> str | None:
        for d in self.definitions(con, (DefKind.CONSTRUCTOR,)):
            return d.parent
        return None

    def match_sites_mentioning(self, constructors: Iterable[str]) -> list[MatchSite]:
        wanted = frozenset(constructors)
        refs = self._lookups()[1]
        paths: set[str] = set()
        for con in wanted:
            paths.update(refs.get(con, ()))
        out = []
        for path in sorted(paths):
            out.extend(s for s in self.files[path].match_sites if s.constructors & wanted)
        return out

    def module_of(self, path: str) -> str:
        summary = self.summaries.get(path)
        return summary.module if summary else ""

    def files_of_module(self, module: str) -> list[str]:
        if self._modules is None:
            with self._lock:
                if self._modules is None:
                    modules: dict[str, list[str]] = {}
                    for path, summary in self.summaries.items():
                        modules.setdefault(summary.module, []).append(path)
                    self._modules = {m: tuple(sorted(ps)) for m, ps in modules.items()}
        return list(self._modules.get(module, ()))

    def text(self, path: str) -> bytes | None:
        """The file's current bytes: the editor's text when it differs from disk."""
        held = self._texts.get(path)
        if held is not None:
            return held
        try:
            return (self.root / path).read_bytes()
        except OSError:
            return None

    @functools.cached_property
    def _included(self) -> frozenset[str]:
        return frozenset(inc for s in self.summaries.values() for inc in s.includes
                         if not is_haskell(inc))

    def included_paths(self) -> frozenset[str]:
        """Files that are no Haskell source but whose code a Haskell file `#include`s (an
        extension-less instances file): an edit to one changes what is indexed, so an editor
        must report them too."""
        return self._included

    def is_edited(self, path: str) -> bool:
        return path in self._texts

    def code(self, path: str) -> bytes | None:
        """The file's current text as it was indexed: after the C preprocessor (its macros
        expanded on their lines, the branches not taken blanked: the same lines)."""
        src = read_source(self.root, path, raw=self._texts.get(path), texts=self._texts)
        return None if isinstance(src, SkippedFile) else src.code

    def source_lines(self, path: str) -> list[str]:
        """The file's current text as lines (the editor's text when there is one)."""
        data = self.text(path)
        return data.decode("utf-8", "replace").splitlines() if data is not None else []

    def stats(self) -> IndexStats:
        if self._stats is None:
            files = list(self.summaries.values())
            self._stats = IndexStats(
                files=len(files),
                lines=sum(f.lines for f in files),
                definitions=sum(len(f.definitions) for f in files),
                references=sum(f.reference_count for f in files),
                match_sites=sum(f.match_site_count for f in files),
                files_with_errors=tuple(sorted(f.path for f in files if f.problems)),
                skipped=tuple(sorted(self.skipped.values(), key=lambda s: s.path)),
                seconds=self.build_seconds,
                cached_files=self.cached_files,
            )
        return self._stats


def _patched(base: IndexSnapshot, new: IndexSnapshot, changed: frozenset[str]
             ) -> tuple[dict[str, tuple[Definition, ...]], dict[str, frozenset[str]],
                        dict[DefKind, tuple[Definition, ...]]]:
    """``base``'s lookups with the ``changed`` files replaced by their ``new`` summaries.
    Shares every untouched entry with ``base`` (entries are immutable tuples/frozensets)."""
    assert base._defs is not None and base._ref_files is not None
    assert base._by_kind is not None
    defs, refs, by_kind = dict(base._defs), dict(base._ref_files), dict(base._by_kind)
    old = [base.summaries[p] for p in changed if p in base.summaries]
    now = [new.summaries[p] for p in changed if p in new.summaries]
    names = {d.name for s in (*old, *now) for d in s.definitions}
    kinds = {d.kind for s in (*old, *now) for d in s.definitions}
    for name in names:
        kept = [d for d in defs.get(name, ()) if d.path not in changed]
        kept += [d for s in now for d in s.definitions if d.name == name]
        if kept:
            defs[name] = tuple(kept)
        else:
            defs.pop(name, None)
    for kind in kinds:
        kept = [d for d in by_kind.get(kind, ()) if d.path not in changed]
        kept += [d for s in now for d in s.definitions if d.kind is kind]
        by_kind[kind] = tuple(kept)
    for name in {n for s in (*old, *now) for n in s.ref_names}:
        paths = {p for p in refs.get(name, ()) if p not in changed}
        paths.update(s.path for s in now if name in s.ref_names)
        if paths:
            refs[name] = frozenset(paths)
        else:
            refs.pop(name, None)
    return defs, refs, by_kind


class WorkspaceIndex:
    """The owner of a workspace's index: builds it, applies edits, publishes revisions.

    One owner mutates (``update_file`` and friends serialise on a lock); readers call
    ``snapshot()`` and work on that immutable revision. For convenience the read API of the
    current revision is available here too (``index.definitions(...)``), but a reader that makes
    several calls and needs them to agree must take a snapshot first, as the engine does.
    """

    # Trees kept for incremental reparse of files being edited (a tree costs ~10x its source).
    TREE_LIMIT = 16
    DECODED_LIMIT = 1024

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._lock = threading.RLock()
        self._trees: OrderedDict[str, tuple[bytes, Tree]] = OrderedDict()
        self._stat: dict[str, tuple[int, int]] = {}  # files whose index matches the disk
        # pickled summaries as they came from a worker or the cache: saving reuses the bytes
        self._summary_blobs: dict[str, bytes] = {}
        # (includer, included file) -> digest of the code the includer's cpp kept of it at its
        # last edit: an edit that keeps the same code does not rebuild the included entry
        self._spliced: dict[tuple[str, str], str] = {}
        self._decoded = _DecodedBodies(self.DECODED_LIMIT)
        self._current = IndexSnapshot(self.root, 0, summaries={}, bodies={}, skipped={},
                                      texts={}, decoded=self._decoded, complete=False)

    def snapshot(self) -> IndexSnapshot:
        """The current revision (atomic: a reference read)."""
        return self._current

    @property
    def revision(self) -> int:
        return self._current.revision

    # Read API of the current revision, for callers that make one call at a time.
    _READS = frozenset({
        "summaries", "skipped", "files", "definitions", "definitions_of_kind",
        "all_definitions", "files_referencing", "references", "constructors_of",
        "type_of_constructor", "match_sites_mentioning", "module_of", "files_of_module",
        "source_lines", "text", "is_edited", "stats", "build_seconds", "cached_files",
        "complete"})

    def __getattr__(self, name: str) -> object:
        if name in WorkspaceIndex._READS:
            return getattr(self._current, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # -- building ----------------------------------------------------------------------
    @classmethod
    def build(cls, root: Path, *, cache_dir: Path | None = None, use_cache: bool = True,
              workers: int | None = None, progress: Progress | None = None,
              cancel: CancelToken = NEVER) -> WorkspaceIndex:
        """Index every Haskell file under ``root``; reuse cached results for unchanged files.
        ``cancel`` stops the build between files (raising ``Cancelled``)."""
        if not root.is_dir():
            raise NotADirectoryError(f"workspace root {root} is not a directory")
        index = cls(root)
        index.load(cache_dir=cache_dir, use_cache=use_cache, workers=workers,
                   progress=progress, cancel=cancel)
        return index

    def load(self, *, cache_dir: Path | None = None, use_cache: bool = True,
             workers: int | None = None, progress: Progress | None = None,
             cancel: CancelToken = NEVER, publish_every: float = 0.5) -> None:
        """Fill this (empty) index from disk. While it runs, readers see partial revisions
        (``snapshot().complete`` is False) published every ``publish_every`` seconds, so a
        language server can answer with what is indexed so far, and say so."""
        started = time.perf_counter()
        summaries: dict[str, FileSummary] = {}
        bodies: dict[str, _Body] = {}
        skipped: dict[str, SkippedFile] = {}
        cached_files = 0
        last_publish = time.monotonic()

        def adopt(summary_blob: bytes, body: bytes) -> None:
            summary: FileSummary = pickle.loads(summary_blob)
            summaries[summary.path] = summary
            self._summary_blobs[summary.path] = summary_blob
            bodies[summary.path] = body

        def adopt_cached(rel: str, entry: _CacheEntry) -> bool:
            try:
                summary = pickle.loads(entry.summary)
                if not isinstance(summary, FileSummary) or summary.path != rel \
                        or not isinstance(entry.body, bytes):
                    raise TypeError(f"not the summary of {rel}")
            except Exception as exc:  # a damaged cache entry: index the file again
                log.warning("index cache entry for %s is damaged (%s); re-indexing it", rel,
                            exc)
                return False
            summaries[rel] = summary
            self._summary_blobs[rel] = entry.summary
            bodies[rel] = entry.body
            return True

        def publish(complete: bool, total: int) -> None:
            self._current = IndexSnapshot(
                self.root, self._current.revision + 1, summaries=dict(summaries),
                bodies=dict(bodies), skipped=dict(skipped), texts={}, decoded=self._decoded,
                build_seconds=time.perf_counter() - started, cached_files=cached_files,
                complete=complete, expected_files=total)

        with self._lock, gc_paused():  # hundreds of thousands of objects arrive, all live
            walk_skipped: list[SkippedFile] = []
            paths = discover(self.root, walk_skipped)
            skipped.update((s.path, s) for s in walk_skipped)
            cache_file = self._cache_file(cache_dir) if use_cache else None
            cached = _load_cache(cache_file) if cache_file else {}
            todo: list[str] = []
            for rel in paths:
                cancel.check()
                entry = cached.get(rel)
                try:
                    st = (self.root / rel).stat()
                except OSError as exc:
                    skipped[rel] = SkippedFile(rel, f"unreadable: {exc.strerror or exc}")
                    continue
                self._stat[rel] = (st.st_mtime_ns, st.st_size)
                if entry is not None and entry.mtime_ns == st.st_mtime_ns and \
                        entry.size == st.st_size and adopt_cached(rel, entry):
                    cached_files += 1
                else:
                    todo.append(rel)
            # Closed on the way out whatever happens here (a signal, a bad entry), so worker
            # processes stop now, not when the traceback holding the generator is freed.
            with contextlib.closing(_run(self.root, todo, workers, progress, cancel,
                                         already=len(paths) - len(todo),
                                         total=len(paths))) as results:
                for result in results:
                    if isinstance(result, SkippedFile):
                        skipped[result.path] = result
                        self._stat.pop(result.path, None)
                    else:
                        adopt(*result)
                    if time.monotonic() - last_publish >= publish_every:
                        publish(False, len(paths))
                        last_publish = time.monotonic()
            for inc, fi in _included_entries(self.root, summaries, {}).items():
                if fi is not None:
                    summaries[inc] = FileSummary.of(fi)
                    bodies[inc] = fi
            publish(True, len(paths))
            own = sum(1 for s in summaries.values() if not s.included_by)
            if cache_file and (todo or len(cached) != own):
                self.save_cache(cache_file)

    def _cache_file(self, cache_dir: Path | None) -> Path:
        key = hashlib.blake2b(str(self.root).encode(), digest_size=8).hexdigest()
        return (cache_dir or default_cache_dir()) / f"{self.root.name}-{key}.pickle"

    def save_cache(self, cache_file: Path) -> None:
        """Write the cache atomically (a crash mid-write never leaves a torn file)."""
        snap = self._current
        entries = {}
        for rel, summary in snap.summaries.items():
            if rel not in self._stat:
                continue  # edited in this session (the disk no longer matches it), or the
                # entry of an included file (rebuilt from its includers at each load)
            blob = self._summary_blobs.get(rel)
            if blob is None:
                blob = pickle.dumps(summary, protocol=pickle.HIGHEST_PROTOCOL)
            entries[rel] = _CacheEntry(*self._stat[rel], blob, snap._body_bytes(rel))
        tmp: str | None = None
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=cache_file.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump((CACHE_FORMAT, entries), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, cache_file)
            tmp = None
        except OSError as exc:
            # A cache that cannot be written (a full disk) only costs speed on the next start.
            log.info("index cache not written to %s: %s", cache_file, exc)
        finally:
            if tmp is not None:  # never leave a half-written temporary file behind
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    # -- incremental updates (the owner's side) -----------------------------------------
    def _publish(self, changed: str, *, summary: FileSummary | None,
                 body: FileIndex | None, skipped: SkippedFile | None,
                 text: bytes | None, more: Mapping[str, FileIndex | None] | None = None
                 ) -> IndexSnapshot:
        """Make the next revision: ``changed`` gets ``summary``/``body`` (or is removed), is
        skipped for a reason, and holds the editor's ``text`` (None: the disk's); in the same
        revision, the entries of included files in ``more`` are replaced (None: removed)."""
        old = self._current
        more = {} if more is None else more
        summaries = dict(old.summaries)
        bodies = dict(old._bodies)
        skips = dict(old.skipped)
        texts = dict(old._texts)
        summaries.pop(changed, None)
        bodies.pop(changed, None)
        skips.pop(changed, None)
        texts.pop(changed, None)
        self._summary_blobs.pop(changed, None)
        if summary is not None and body is not None:
            summaries[changed] = summary
            bodies[changed] = body
        if skipped is not None:
            skips[changed] = skipped
        if text is not None:
            texts[changed] = text
        for inc, fi in more.items():
            summaries.pop(inc, None)
            bodies.pop(inc, None)
            if fi is not None:
                summaries[inc] = FileSummary.of(fi)
                bodies[inc] = fi
        if old._defs is not None:
            base, pending = old, frozenset({changed, *more})
        elif old._base is not None:  # lookups not built since the last edit: accumulate
            base, pending = old._base, old._changed | {changed, *more}
        else:
            base, pending = None, frozenset()
        self._current = IndexSnapshot(
            self.root, old.revision + 1, summaries=summaries, bodies=bodies, skipped=skips,
            texts=texts, decoded=self._decoded, base=base, changed=pending,
            build_seconds=old.build_seconds, cached_files=old.cached_files,
            complete=old.complete, expected_files=old.expected_files)
        return self._current

    def update_file(self, rel: str, text: bytes | None, *,
                    from_disk: bool = False) -> FileIndex | SkippedFile | None:
        """Re-index one file from new contents (``None``: the file was deleted) and publish a
        new revision. ``from_disk``: ``text`` is what the disk holds (a save, a watched-file
        change), so the revision reads the file from disk again rather than keeping the text.

        Files edited in this session keep their tree (a bounded number), so the next edit is
        an incremental reparse (tree.edit + parse(new, old_tree)) rather than a full parse."""
        with self._lock:
            self._stat.pop(rel, None)
            if _is_included(self._current, rel):
                return self._update_included(rel, text, from_disk=from_disk)
            return self._reindex(rel, text, from_disk=from_disk)

    def _reindex(self, rel: str, text: bytes | None, *, from_disk: bool,
                 header_changed: bool = False, code_before: bytes | None = None
                 ) -> FileIndex | SkippedFile | None:
        """`update_file` of a Haskell source, under the lock. ``header_changed``: a file it
        includes changed, not its own bytes, so it is indexed again unless its cpp keeps
        ``code_before`` (when known)."""
        with self._lock:
            if text is None:
                self._trees.pop(rel, None)
                self._publish(rel, summary=None, body=None, skipped=None, text=None,
                              more=self._includes_after(rel, None, None))
                return None
            src = read_source(self.root, rel, raw=text, texts=self._current._texts)
            if isinstance(src, SkippedFile):
                self._trees.pop(rel, None)
                self._publish(rel, summary=None, body=None, skipped=src, text=None,
                              more=self._includes_after(rel, None, None))
                return src
            raw_digest = digest(src.raw)
            current = self._current
            known = current.summaries.get(rel)
            if code_before is not None and code_before == src.code:
                return current.files[rel]
            if not header_changed and known is not None and known.digest == raw_digest:
                # The same bytes as indexed (an editor opening a file, a save of what was
                # typed): nothing to do, and no tree to keep for a file nobody edits.
                return current.files[rel]
            old = self._trees.pop(rel, None)
            parser = ts.parser()
            previous = current._bodies.get(rel)
            try:
                fi, tree = self._extract(rel, src, parser, old, previous, raw_digest)
            except Exception as exc:  # an extractor bug must cost one file, never the index
                log.exception("indexing %s failed", rel)
                skipped = SkippedFile(rel, f"could not be indexed ({type(exc).__name__}: "
                                           f"{exc}); please report it")
                self._publish(rel, summary=None, body=None, skipped=skipped, text=None)
                return skipped
            self._trees[rel] = (src.code, tree)
            while len(self._trees) > self.TREE_LIMIT:
                self._trees.popitem(last=False)
            fi.digest = raw_digest
            fi.includes = tuple(path for path, _ in src.includes)
            summary = FileSummary.of(fi)
            kept = None if from_disk else text
            self._publish(rel, summary=summary, body=fi, skipped=None, text=kept,
                          more=self._includes_after(rel, summary, kept, src.includes))
            return fi

    def _includes_after(self, rel: str, summary: FileSummary | None, text: bytes | None,
                        spliced: tuple[tuple[str, bytes], ...] = ()
                        ) -> dict[str, FileIndex | None]:
        """The entries of the files ``rel`` `#include`s (before or after its change) as they
        are once ``rel`` has ``summary`` (None: gone), the editor's ``text`` and keeps
        ``spliced`` of them; an entry whose code from ``rel`` is the same is not rebuilt."""
        current = self._current
        before = set(current.summaries[rel].includes) if rel in current.summaries else set()
        now = {path: digest(code) for path, code in spliced}
        wanted = before ^ set(now)
        old = current.summaries.get(rel)
        context_changed = old is None or summary is None or (
            (old.module, old.imports, old.exports)
            != (summary.module, summary.imports, summary.exports))
        for path, code_digest in now.items():
            if context_changed or self._spliced.get((rel, path)) != code_digest:
                wanted.add(path)
        for path in before - set(now):
            self._spliced.pop((rel, path), None)
        self._spliced.update(((rel, path), d) for path, d in now.items())
        if not wanted:
            return {}
        summaries = dict(current.summaries)
        texts = dict(current._texts)
        summaries.pop(rel, None)
        texts.pop(rel, None)
        if summary is not None:
            summaries[rel] = summary
        if text is not None:
            texts[rel] = text
        return _included_entries(self.root, summaries, texts, wanted)

    def _update_included(self, rel: str, text: bytes | None, *, from_disk: bool
                         ) -> FileIndex | None:
        """An `#include`d file changed: its entry is rebuilt from its includers, which read
        the new text."""
        current = self._current
        texts = dict(current._texts)
        texts.pop(rel, None)
        kept = None if from_disk or text is None else text
        if kept is not None:
            texts[rel] = kept
        entry = _included_entries(self.root, current.summaries, texts, {rel}).get(rel)
        # A header's macros may change its includers' own code. What their cpp kept before
        # is known when the header's old text is (the editor's, typed: the common case); a
        # change on disk re-indexes them.
        includers = sorted(inc for inc, summary in current.summaries.items()
                           if rel in summary.includes and not summary.included_by)
        before: dict[str, bytes | None] = {}
        for inc in includers:
            src = read_source(self.root, inc, raw=current._texts.get(inc),
                              texts=current._texts) if rel in current._texts else None
            before[inc] = None if src is None or isinstance(src, SkippedFile) else src.code
        self._publish(rel, summary=None, body=None, skipped=None, text=kept,
                      more={rel: entry})
        for inc in includers:
            own = self._current._texts.get(inc)
            try:
                raw = own if own is not None else (self.root / inc).read_bytes()
            except OSError:
                continue  # gone or unreadable: its own change event says so
            self._reindex(inc, raw, from_disk=own is None, header_changed=True,
                          code_before=before[inc])
        return entry

    @staticmethod
    def _extract(rel: str, src: SourceText, parser: Any, old: tuple[bytes, Tree] | None,
                 previous: _Body | None, raw_digest: str) -> tuple[FileIndex, Tree]:
        """Parse (incrementally when the old tree is kept) and extract (only the touched
        declarations when the file was extracted in this session)."""
        with gc_paused():  # a collection here would rescan the whole index
            if old is not None:
                old_code, old_tree = old
                edit = _apply_edit(old_tree, old_code, src.code)
                tree = parser.parse(src.code, old_tree)
                if isinstance(previous, FileIndex):  # extracted in this session
                    # re-extract only the declarations the edit touches
                    fi = extract_incremental(previous, old_code, src.code, tree, old_tree,
                                             edit, language=src.language,
                                             file_digest=raw_digest)
                else:
                    fi = extract(rel, src.code, tree, language=src.language)
            else:
                tree = parser.parse(src.code)
                fi = extract(rel, src.code, tree, language=src.language)
        return fi, tree

    def refresh_from_disk(self, rel: str) -> FileIndex | SkippedFile | None:
        """Re-read one file from disk (saved, closed in the editor, changed outside it)."""
        path = self.root / rel
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return self.update_file(rel, None)
        except OSError as exc:
            skipped = SkippedFile(rel, f"unreadable: {exc.strerror or exc}")
            with self._lock:
                self._stat.pop(rel, None)
                self._trees.pop(rel, None)
                self._publish(rel, summary=None, body=None, skipped=skipped, text=None)
            return skipped
        return self.update_file(rel, data, from_disk=True)


class _GcPause:
    """Pauses the cyclic GC while long-lived objects arrive in bulk (unpickling the cache,
    extracting a file): it would rescan them again and again for nothing (warm start 1.0 s with
    the pause, 1.7 s without, on the 700k-line corpus). The collector is process-wide, so the
    pause is counted: overlapping pauses from several threads end when the last one ends, and
    a collector the process had disabled itself stays disabled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._restore = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                self._restore = gc.isenabled()
                gc.disable()
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0 and self._restore:
                    gc.enable()


gc_paused = _GcPause()


def _load_cache(cache_file: Path) -> dict[str, _CacheEntry]:
    try:
        with cache_file.open("rb") as fh, gc_paused():
            fmt, entries = pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError,
            ImportError):
        return {}  # missing, torn or from another version: rebuild
    return entries if fmt == CACHE_FORMAT else {}


def _run(root: Path, todo: list[str], workers: int | None, progress: Progress | None,
         cancel: CancelToken, *, already: int, total: int) -> Iterator[_Indexed | SkippedFile]:
    done = already
    if progress:
        progress(done, total)
    if not todo:
        return
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    if n_workers <= 1 or len(todo) < PARALLEL_THRESHOLD:
        for rel in todo:
            cancel.check()
            yield from _index_chunk(str(root), [rel])
            done += 1
            if progress:
                progress(done, total)
        return
    # Interleave big and small files so chunks cost about the same.
    sized = sorted(todo, key=lambda rel: -_size(root / rel))
    n_chunks = n_workers * 8
    chunks = [sized[i::n_chunks] for i in range(n_chunks)]
    chunks = [chunk for chunk in chunks if chunk]
    context = _worker_context()
    try:
        if context is None:
            raise RuntimeError("a threaded process started as a script: worker processes "
                               "would import that script again")
        pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=context,
                                   initializer=_worker_init,
                                   initargs=(os.getpid(),))
        futures = [pool.submit(_index_chunk, str(root), chunk) for chunk in chunks]
    except (OSError, RuntimeError, BrokenProcessPool) as exc:
        # No worker processes here (a fork server refused by a script without a __main__
        # guard, no /dev/shm, a process limit): index in this process instead.
        log.warning("indexing without worker processes: %s", exc)
        pool, futures = None, []
    try:
        cancel.on_cancel(lambda: [f.cancel() for f in futures])
        for i, chunk in enumerate(chunks):
            cancel.check()
            try:
                results = futures[i].result() if futures else _index_chunk(str(root), chunk)
            except BrokenProcessPool as exc:  # a worker died (killed, out of memory)
                log.warning("an index worker died (%s); indexing its files here", exc)
                results = _index_chunk(str(root), chunk)
            yield from results
            done += len(results)
            if progress:
                progress(done, total)
    except BaseException:
        # Cancelled, Ctrl-C, SIGTERM/SIGHUP (raised by the CLI's handlers): stop the workers
        # now rather than wait for every chunk still queued or running.
        if pool is not None:
            _stop_pool(pool)
        raise
    else:
        if pool is not None:
            pool.shutdown(wait=True)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel what is queued, kill the workers, and let its manager thread
    end. (A worker killed while writing a result leaves half a message in the result pipe; the
    manager thread would wait for the rest for ever, and the interpreter waits for it at exit.
    Closing this process's own end of that pipe turns the wait into an end-of-file.)"""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    results = getattr(pool, "_result_queue", None)
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout=2)
            if process.is_alive():
                process.kill()
                process.join(timeout=2)
    if results is not None:
        with contextlib.suppress(Exception):
            results._writer.close()
    if manager is not None:
        manager.join(timeout=5)


def _worker_init(owner: int) -> None:
    """Index workers die with the process that wanted them, however it ends: Ctrl-C is the
    owner's to handle (it stops the pool), the kernel kills a worker whose parent dies (Linux:
    PR_SET_PDEATHSIG; with a fork server, the server exits when the owner does), and on every
    platform a watchdog thread exits once the owner is gone (SIGKILL leaves no time to
    clean up)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in (signal.SIGTERM, signal.SIGHUP):  # not the owner's handlers (fork copies them)
        signal.signal(signum, signal.SIG_DFL)
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if not running(owner) or os.getppid() != parent:
        os._exit(1)  # the owner died before the death signal was armed
    threading.Thread(target=_watch_owner, args=(owner, parent), daemon=True,
                     name="scout-owner-watch").start()


def _watch_owner(owner: int, parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent or not running(owner):
            os._exit(1)


def _worker_context() -> Any:
    """How to start index workers. A single-threaded process (the CLI) forks: fast and safe.
    A threaded one (the language server) must not fork (the child would inherit other
    threads' locks in whatever state they were), so it uses a fork server, which imports the
    main module again in each worker: harmless for `python -m scout` (multiprocessing skips a
    package's __main__) but not for an arbitrary script, which then indexes in-process."""
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    path = getattr(main, "__file__", None)
    if main is not None and (not path or (spec is not None and spec.name.endswith("__main__"))
                             or _guarded(path)):
        return multiprocessing.get_context("forkserver")
    return None


def _guarded(path: str) -> bool:
    """Does a (small) script run its work only under `if __name__ == "__main__"`, as the
    console scripts pip writes (`scout serve`) do?"""
    try:
        with open(path, "rb") as fh:
            text = fh.read(20_000)
    except OSError:
        return False
    return re.search(rb"^if __name__ == ['\"]__main__['\"]:", text, re.M) is not None and \
        re.search(rb"^[A-Za-z_][\w.]*\(", text, re.M) is None  # no top-level calls


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _is_included(snapshot: IndexSnapshot, rel: str) -> bool:
    """Is ``rel`` a file whose code others `#include` (and not indexed as itself: the walker
    indexes every Haskell source as itself)?"""
    return not is_haskell(rel) and rel in snapshot.included_paths()


def _point(data: bytes, offset: int) -> Point:
    row = data.count(b"\n", 0, offset)
    col = offset - (data.rfind(b"\n", 0, offset) + 1)
    return Point(row, col)


def _apply_edit(tree: Tree, old: bytes, new: bytes) -> Edit:
    """Describe old -> new to tree-sitter as one edit (common prefix and suffix kept)."""
    start = _common(old, new, min(len(old), len(new)), False)
    tail = _common(old, new, min(len(old), len(new)) - start, True)
    old_end, new_end = len(old) - tail, len(new) - tail
    start_point, old_point, new_point = (_point(old, start), _point(old, old_end),
                                         _point(new, new_end))
    tree.edit(start_byte=start, old_end_byte=old_end, new_end_byte=new_end,
              start_point=start_point, old_end_point=old_point, new_end_point=new_point)
    return Edit(start, old_end, new_end, start_point.row, old_point.row, new_point.row,
                old_point.column, new_point.column)


def _common(old: bytes, new: bytes, limit: int, suffix: bool) -> int:
    """The length of the common prefix (or suffix) of ``old`` and ``new``, at most ``limit``:
    whole blocks first (edits are small, files large), then halving inside the block that
    differs (slices compare in C; a byte at a time costs a Python step per byte)."""
    lo_old, lo_new = len(old), len(new)

    def same(a: int, b: int) -> bool:  # the bytes a..b from the start (or the end) agree
        if suffix:
            return old[lo_old - b:lo_old - a] == new[lo_new - b:lo_new - a]
        return old[a:b] == new[a:b]

    n, block = 0, 4096
    while n + block <= limit and same(n, n + block):
        n += block
    hi = min(n + block, limit)
    while n < hi:
        mid = (n + hi + 1) // 2
        if same(n, mid):
            n = mid
        else:
            hi = mid - 1
    return n
