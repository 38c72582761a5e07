"""The workspace index: every Haskell file's ``FileIndex`` plus cross-file lookups.

Built in parallel (one parser per worker process), cached on disk keyed by file content, and
updated one file at a time (incremental tree-sitter reparse for files edited in this session).
One instance per workspace; nothing here is global, so a language server can hold several.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Point, Tree

from scout.haskell import parser as ts
from scout.haskell.discover import SourceText, discover, read_source
from scout.haskell.extract import EXTRACTOR_VERSION, digest, extract
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

CACHE_FORMAT = f"scout-index/4/{EXTRACTOR_VERSION}/{ts.GRAMMAR_VERSION}"
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
    return fi


def _body_blob(fi: FileIndex) -> bytes:
    return pickle.dumps((fi.references, fi.match_sites), protocol=pickle.HIGHEST_PROTOCOL)


# A worker's answer per file: skipped, or the summary plus the pickled body (pickled in the
# worker, so the parent process never re-pickles reference rows and match sites).
_Indexed = tuple[bytes, bytes]  # (pickled FileSummary, pickled body)


def _index_chunk(root: str, paths: list[str]) -> list[_Indexed | SkippedFile]:
    with _gc_paused():  # extraction allocates many short-lived, acyclic objects
        return [_index_one(root, rel) for rel in paths]


def _index_one(root: str, rel: str) -> _Indexed | SkippedFile:
    src = read_source(Path(root), rel)
    if isinstance(src, SkippedFile):
        return src
    fi = index_source(src)
    summary = pickle.dumps(FileSummary.of(fi), protocol=pickle.HIGHEST_PROTOCOL)
    return (summary, _body_blob(fi))


@dataclass(slots=True)
class _CacheEntry:
    mtime_ns: int
    size: int
    summary: bytes  # pickled FileSummary
    body: bytes


class LazyFiles(Mapping[str, FileIndex]):
    """``index.files``: every file's full ``FileIndex``, decoded from its pickled body on first
    access. Iterating keys is free; iterating values decodes every file."""

    def __init__(self, owner: WorkspaceIndex) -> None:
        self._owner = owner

    def __getitem__(self, rel: str) -> FileIndex:
        return self._owner._full(rel)

    def __contains__(self, rel: object) -> bool:
        return rel in self._owner.summaries

    def __iter__(self) -> Iterator[str]:
        return iter(self._owner.summaries)

    def __len__(self) -> int:
        return len(self._owner.summaries)


class WorkspaceIndex:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.summaries: dict[str, FileSummary] = {}
        self._bodies: dict[str, bytes] = {}  # pickled (RefsTable, match sites), not yet decoded
        # pickled summaries as they came from a worker or the cache: saving reuses the bytes
        self._summary_blobs: dict[str, bytes] = {}
        self._decoded: dict[str, FileIndex] = {}
        self.files = LazyFiles(self)
        self.skipped: dict[str, SkippedFile] = {}
        self._stat: dict[str, tuple[int, int]] = {}
        self._trees: dict[str, tuple[bytes, Tree]] = {}  # files edited in this session
        self._defs: dict[str, list[Definition]] | None = None
        self._ref_files: dict[str, set[str]] | None = None
        self._by_kind: dict[DefKind, list[Definition]] | None = None
        self._lock = threading.RLock()
        self.build_seconds = 0.0
        self.cached_files = 0

    # -- building ----------------------------------------------------------------------
    @classmethod
    def build(cls, root: Path, *, cache_dir: Path | None = None, use_cache: bool = True,
              workers: int | None = None, progress: Progress | None = None) -> WorkspaceIndex:
        """Index every Haskell file under ``root``; reuse cached results for unchanged files."""
        if not root.is_dir():
            raise NotADirectoryError(f"workspace root {root} is not a directory")
        started = time.perf_counter()
        index = cls(root)
        with _gc_paused():  # hundreds of thousands of objects arrive, all of them live
            paths = discover(index.root)
            cache_file = index._cache_file(cache_dir) if use_cache else None
            cached = _load_cache(cache_file) if cache_file else {}
            todo: list[str] = []
            for rel in paths:
                entry = cached.get(rel)
                try:
                    st = (index.root / rel).stat()
                except OSError as exc:
                    index.skipped[rel] = SkippedFile(rel, f"unreadable: {exc.strerror or exc}")
                    continue
                index._stat[rel] = (st.st_mtime_ns, st.st_size)
                if entry is not None and entry.mtime_ns == st.st_mtime_ns and entry.size == st.st_size:
                    index._adopt(entry.summary, entry.body)
                    index.cached_files += 1
                else:
                    todo.append(rel)
            for result in _run(index.root, todo, workers, progress,
                               already=len(paths) - len(todo), total=len(paths)):
                if isinstance(result, SkippedFile):
                    index.skipped[result.path] = result
                    index._stat.pop(result.path, None)
                else:
                    summary_blob, body = result
                    index._adopt(summary_blob, body)
            if cache_file and (todo or len(cached) != len(index.summaries)):
                index.save_cache(cache_file)
        index.build_seconds = time.perf_counter() - started
        return index

    def _cache_file(self, cache_dir: Path | None) -> Path:
        key = hashlib.blake2b(str(self.root).encode(), digest_size=8).hexdigest()
        return (cache_dir or default_cache_dir()) / f"{self.root.name}-{key}.pickle"

    def save_cache(self, cache_file: Path) -> None:
        """Write the cache atomically (a crash mid-write never leaves a torn file)."""
        entries = {}
        for rel, summary in self.summaries.items():
            if rel not in self._stat:
                continue  # edited in this session: the disk no longer matches it
            blob = self._summary_blobs.get(rel)
            if blob is None:
                blob = pickle.dumps(summary, protocol=pickle.HIGHEST_PROTOCOL)
            body = self._bodies.get(rel)
            if body is None:
                body = _body_blob(self._decoded[rel])
            entries[rel] = _CacheEntry(*self._stat[rel], blob, body)
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=cache_file.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump((CACHE_FORMAT, entries), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, cache_file)
        except OSError:
            # A cache that cannot be written only costs speed on the next start.
            pass

    def _adopt(self, summary_blob: bytes, body: bytes) -> None:
        summary: FileSummary = pickle.loads(summary_blob)
        self.summaries[summary.path] = summary
        self._summary_blobs[summary.path] = summary_blob
        self._bodies[summary.path] = body

    def _full(self, rel: str) -> FileIndex:
        fi = self._decoded.get(rel)
        if fi is not None:
            return fi
        with self._lock:
            fi = self._decoded.get(rel)
            if fi is None:
                summary = self.summaries[rel]  # KeyError for unknown files, as a dict would
                references, match_sites = pickle.loads(self._bodies[rel])
                fi = self._decoded[rel] = summary.with_body(references, match_sites)
            return fi

    # -- incremental updates ------------------------------------------------------------
    def update_file(self, rel: str, text: bytes | None) -> FileIndex | SkippedFile | None:
        """Re-index one file from new contents (``None``: the file was deleted).

        Files edited in this session keep their tree, so the next edit is an incremental
        reparse (tree.edit + parse(new, old_tree)) rather than a full parse."""
        with self._lock:
            self._forget(rel)
            if text is None:
                self._trees.pop(rel, None)
                return None
            src = read_source(self.root, rel, raw=text)
            if isinstance(src, SkippedFile):
                self.skipped[rel] = src
                self._trees.pop(rel, None)
                return src
            self.skipped.pop(rel, None)
            old = self._trees.get(rel)
            parser = ts.parser()
            if old is not None:
                old_code, old_tree = old
                _apply_edit(old_tree, old_code, src.code)
                tree = parser.parse(src.code, old_tree)
            else:
                tree = parser.parse(src.code)
            self._trees[rel] = (src.code, tree)
            with _gc_paused():  # a collection here would rescan the whole index
                fi = extract(rel, src.code, tree, language=src.language)
            fi.digest = digest(src.raw)
            self.summaries[rel] = FileSummary.of(fi)
            self._decoded[rel] = fi
            self._stat.pop(rel, None)
            self._remember(self.summaries[rel])
            return fi

    def refresh_from_disk(self, rel: str) -> FileIndex | SkippedFile | None:
        path = self.root / rel
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return self.update_file(rel, None)
        except OSError as exc:
            self._forget(rel)
            skipped = SkippedFile(rel, f"unreadable: {exc.strerror or exc}")
            self.skipped[rel] = skipped
            return skipped
        return self.update_file(rel, data)

    def _forget(self, rel: str) -> None:
        old = self.summaries.pop(rel, None)
        self._bodies.pop(rel, None)
        self._summary_blobs.pop(rel, None)
        self._decoded.pop(rel, None)
        if old is None:
            return
        self._by_kind = None
        if self._defs is not None:
            for name in {d.name for d in old.definitions}:
                lst = self._defs.get(name)
                if lst:
                    lst[:] = [x for x in lst if x.path != rel]
        if self._ref_files is not None:
            for name in old.ref_names:
                paths = self._ref_files.get(name)
                if paths:
                    paths.discard(rel)

    def _remember(self, summary: FileSummary) -> None:
        self._by_kind = None
        if self._defs is not None:
            for d in summary.definitions:
                self._defs.setdefault(d.name, []).append(d)
        if self._ref_files is not None:
            for name in summary.ref_names:
                self._ref_files.setdefault(name, set()).add(summary.path)

    # -- lookups -------------------------------------------------------------------------
    def _definitions_map(self) -> dict[str, list[Definition]]:
        with self._lock:
            if self._defs is None:
                defs: dict[str, list[Definition]] = {}
                for summary in self.summaries.values():
                    for d in summary.definitions:
                        defs.setdefault(d.name, []).append(d)
                self._defs = defs
            return self._defs

    def _references_map(self) -> dict[str, set[str]]:
        with self._lock:
            if self._ref_files is None:
                ref_files: dict[str, set[str]] = {}
                for path, summary in self.summaries.items():
                    for name in summary.ref_names:
                        ref_files.setdefault(name, set()).add(path)
                self._ref_files = ref_files
            return self._ref_files

    def definitions(self, name: str, kinds: Iterable[DefKind] | None = None) -> list[Definition]:
        found = self._definitions_map().get(name, [])
        if kinds is None:
            return list(found)
        wanted = set(kinds)
        return [d for d in found if d.kind in wanted]

    def definitions_of_kind(self, kind: DefKind) -> list[Definition]:
        with self._lock:
            if self._by_kind is None:
                by_kind: dict[DefKind, list[Definition]] = {}
                for summary in self.summaries.values():
                    for d in summary.definitions:
                        by_kind.setdefault(d.kind, []).append(d)
                self._by_kind = by_kind
            return self._by_kind.get(kind, [])

    def all_definitions(self) -> Iterator[Definition]:
        for summary in self.summaries.values():
            yield from summary.definitions

    def files_referencing(self, name: str) -> list[str]:
        return sorted(self._references_map().get(name, ()))

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
        paths: set[str] = set()
        for con in wanted:
            paths.update(self._references_map().get(con, ()))
        out = []
        for path in sorted(paths):
            out.extend(s for s in self.files[path].match_sites if s.constructors & wanted)
        return out

    def module_of(self, path: str) -> str:
        summary = self.summaries.get(path)
        return summary.module if summary else ""

    def files_of_module(self, module: str) -> list[str]:
        return sorted(p for p, s in self.summaries.items() if s.module == module)

    def source_lines(self, path: str) -> list[str]:
        """The file's current text as lines (from the session's edited text when there is one)."""
        held = self._trees.get(path)
        if held is not None:
            data = held[0]
        else:
            try:
                data = (self.root / path).read_bytes()
            except OSError:
                return []
        return data.decode("utf-8", "replace").splitlines()

    def stats(self) -> IndexStats:
        files = list(self.summaries.values())
        return IndexStats(
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


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Unpickling allocates hundreds of thousands of objects that all survive; the cyclic GC
    would rescan them again and again for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load_cache(cache_file: Path) -> dict[str, _CacheEntry]:
    try:
        with cache_file.open("rb") as fh, _gc_paused():
            fmt, entries = pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError,
            ImportError):
        return {}  # missing, torn or from another version: rebuild
    return entries if fmt == CACHE_FORMAT else {}


def _run(root: Path, todo: list[str], workers: int | None, progress: Progress | None, *,
         already: int, total: int) -> Iterator[_Indexed | SkippedFile]:
    done = already
    if progress:
        progress(done, total)
    if not todo:
        return
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    if n_workers <= 1 or len(todo) < PARALLEL_THRESHOLD:
        for rel in todo:
            yield from _index_chunk(str(root), [rel])
            done += 1
            if progress:
                progress(done, total)
        return
    # Interleave big and small files so chunks cost about the same.
    sized = sorted(todo, key=lambda rel: -_size(root / rel))
    n_chunks = n_workers * 8
    chunks = [sized[i::n_chunks] for i in range(n_chunks)]
    with ProcessPoolExecutor(max_workers=n_workers) as pool:
        futures = [pool.submit(_index_chunk, str(root), chunk) for chunk in chunks if chunk]
        for fut in futures:
            results = fut.result()
            yield from results
            done += len(results)
            if progress:
                progress(done, total)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _point(data: bytes, offset: int) -> Point:
    row = data.count(b"\n", 0, offset)
    col = offset - (data.rfind(b"\n", 0, offset) + 1)
    return Point(row, col)


def _apply_edit(tree: Tree, old: bytes, new: bytes) -> None:
    """Describe old -> new to tree-sitter as one edit (common prefix and suffix kept)."""
    limit = min(len(old), len(new))
    start = 0
    # compare in blocks first: edits are usually small and files large
    block = 4096
    while start + block <= limit and old[start:start + block] == new[start:start + block]:
        start += block
    while start < limit and old[start] == new[start]:
        start += 1
    old_end, new_end = len(old), len(new)
    while (min(old_end, new_end) - block >= start
           and old[old_end - block:old_end] == new[new_end - block:new_end]):
        old_end -= block
        new_end -= block
    while old_end > start and new_end > start and old[old_end - 1] == new[new_end - 1]:
        old_end -= 1
        new_end -= 1
    tree.edit(start_byte=start, old_end_byte=old_end, new_end_byte=new_end,
              start_point=_point(old, start), old_end_point=_point(old, old_end),
              new_end_point=_point(new, new_end))
