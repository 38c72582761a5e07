"""Finding the Haskell sources of a workspace (`.hs`, `.lhs`, boot files, `.hsc`) and reading
them as GHC's front end sees them (see ``preprocess``)."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pathspec

from scout.haskell.model import SkippedFile
from scout.haskell.preprocess import (
    header_reader,
    neutralise_hsc,
    repair_utf8,
    select_branches,
    uses_cpp,
)

HASKELL_SUFFIXES = (".hs", ".hs-boot", ".lhs", ".lhs-boot", ".hsc")
SKIPPED_DIRS = frozenset({"dist-newstyle", "dist", ".stack-work", ".git", ".hg", ".svn",
                          "node_modules", ".scout", "__pycache__", ".venv"})
MAX_FILE_BYTES = 4 * 1024 * 1024  # generated tables beyond this are not worth parsing


@dataclass(frozen=True, slots=True)
class SourceText:
    """A file's bytes as tree-sitter will see them, line for line: un-literated (.lhs), through
    hsc2hs's constructs (.hsc) and the C preprocessor's branch selection (CPP), with stray
    non-UTF-8 bytes replaced (see ``preprocess``)."""

    path: str
    raw: bytes  # the bytes on disk (the cache key is their digest)
    code: bytes  # what gets parsed
    language: str  # "haskell" | "literate" | "hsc"
    # code of `#include`d files (not headers of `#define`s only), by workspace-relative path:
    # what cpp keeps of it at the include point, at the included file's own lines
    includes: tuple[tuple[str, bytes], ...] = ()


def is_haskell(path: str) -> bool:
    return path.endswith(HASKELL_SUFFIXES)


MAX_GITIGNORE_BYTES = 1024 * 1024


def read_regular(path: Path, limit: int) -> bytes | str:
    """The bytes of a regular file of at most ``limit`` bytes, or why not (a short reason).

    Size-checked before reading (a 1 GB file is never read whole) and opened without blocking,
    so a FIFO or a device never hangs the walk; what is read stops at ``limit`` + 1 bytes even
    if the file grows meanwhile."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return "not a regular file (a FIFO, socket or device)"
        if info.st_size > limit:
            return f"larger than {limit} bytes ({info.st_size} bytes): generated code is not indexed"
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            return f"larger than {limit} bytes (it grew while read): generated code is not indexed"
        return data
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    finally:
        os.close(fd)


def _gitignore_spec(directory: Path, root: Path, skipped: list[SkippedFile] | None
                    ) -> pathspec.PathSpec | None:
    gi = directory / ".gitignore"
    if not os.path.lexists(gi):
        return None
    data = read_regular(gi, MAX_GITIGNORE_BYTES)
    if isinstance(data, str):
        if skipped is not None:
            skipped.append(SkippedFile(_rel(gi, root), f"{data}; its ignore rules were not "
                                       "applied"))
        return None
    lines = data.decode("utf-8", errors="replace").splitlines()
    return pathspec.PathSpec.from_lines("gitignore", lines)


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def discover(root: Path, skipped: list[SkippedFile] | None = None, *,
             suffixes: tuple[str, ...] | None = None) -> list[str]:
    """Workspace-relative POSIX paths of Haskell sources, sorted, honouring .gitignore files
    (at the root and in subdirectories) and skipping build/VCS folders. ``suffixes``: the file
    endings wanted instead of Haskell sources (the oracle also copies ``.cabal``, ``.h``...).

    Hostile trees are walked, not followed: directory symlinks are not entered, a symlink
    loop, a FIFO or an unreadable or too deep directory never stops or hangs the walk; what
    could not be looked at is appended to ``skipped`` with the reason."""
    root = root.resolve()
    found: list[str] = []
    # stack of (directory, [(spec, base directory)])
    stack: list[tuple[Path, list[tuple[pathspec.PathSpec, Path]]]] = [(root, [])]
    while stack:
        directory, specs = stack.pop()
        own = _gitignore_spec(directory, root, skipped)
        if own is not None:
            specs = [*specs, (own, directory)]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            if skipped is not None and directory != root:
                skipped.append(SkippedFile(_rel(directory, root) + "/", f"directory not "
                                           f"read: {exc.strerror or exc}"))
            continue
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir and name in SKIPPED_DIRS:
                continue
            full = Path(entry.path)
            if _ignored(full, is_dir, specs):
                continue
            if is_dir:
                stack.append((full, specs))
                continue
            if not (is_haskell(name) if suffixes is None else name.endswith(suffixes)):
                continue
            rel = _rel(full, root)
            try:
                regular = entry.is_file()  # follows a symlink: ELOOP for a loop
                rel.encode("utf-8")
            except OSError as exc:
                if skipped is not None:
                    skipped.append(SkippedFile(rel, f"unreadable: {exc.strerror or exc}"))
                continue
            except UnicodeEncodeError:
                if skipped is not None:
                    skipped.append(SkippedFile(rel.encode("utf-8", "surrogateescape").decode(
                        "utf-8", "replace"), "the file name is not UTF-8"))
                continue
            if regular:
                if (suffixes is None and name.endswith(".hsc")
                        and (directory / (name[:-4] + ".hs")).is_file()):
                    continue  # hsc2hs's output sits beside it: GHC compiles that one
                found.append(rel)
            elif skipped is not None and os.path.lexists(full):
                skipped.append(SkippedFile(rel, "not a regular file (a FIFO, socket, device "
                                           "or dangling symlink)"))
    found.sort()
    return found


def _ignored(path: Path, is_dir: bool, specs: list[tuple[pathspec.PathSpec, Path]]) -> bool:
    for spec, base in specs:
        rel = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        if spec.match_file(rel):
            return True
    return False


_BIRD = re.compile(rb"^>( |$)")


def unlit(raw: bytes) -> bytes:
    """Literate Haskell to Haskell, keeping line numbers (and columns for bird tracks):
    code lines keep their text, everything else becomes an empty line."""
    lines = raw.split(b"\n")
    latex = any(line.strip().startswith(b"\\begin{code}") for line in lines)
    out: list[bytes] = []
    in_code = False
    for line in lines:
        if latex:
            stripped = line.strip()
            if stripped.startswith(b"\\begin{code}"):
                in_code = True
                out.append(b"")
            elif stripped.startswith(b"\\end{code}"):
                in_code = False
                out.append(b"")
            else:
                out.append(line if in_code else b"")
        elif line.startswith(b">"):
            out.append(b" " + line[1:])  # keep columns: '>' becomes a space
        else:
            out.append(b"")
    return b"\n".join(out)


def classify(raw: bytes, max_bytes: int | None = None) -> str | None:
    """Why a file must be skipped, or None if it can be indexed."""
    max_bytes = MAX_FILE_BYTES if max_bytes is None else max_bytes
    if len(raw) > max_bytes:
        return f"larger than {max_bytes} bytes ({len(raw)} bytes): generated code is not indexed"
    if b"\x00" in raw[:8192]:
        return "binary (contains NUL bytes)"
    _, bad = repair_utf8(raw[:65536])
    if bad > max(64, len(raw[:65536]) // 20):
        return f"not text: {bad} of its first {min(len(raw), 65536)} bytes are not UTF-8"
    return None


def read_source(root: Path, rel: str, raw: bytes | None = None,
                max_bytes: int | None = None, texts: Mapping[str, bytes] | None = None
                ) -> SourceText | SkippedFile:
    """The file ``rel`` as GHC's front end sees it (``raw``: its bytes when known, an
    editor's; ``texts``: editors' texts of other files, for the headers it includes)."""
    if raw is None:
        data = read_regular(root / rel, MAX_FILE_BYTES if max_bytes is None else max_bytes)
        if isinstance(data, str):
            return SkippedFile(rel, data)
        raw = data
    reason = classify(raw, max_bytes)
    if reason:
        return SkippedFile(rel, reason)
    # A stray Latin-1 byte (in a comment, typically) does not stop GHC: it must not stop us.
    code, _ = repair_utf8(raw)
    if rel.endswith((".lhs", ".lhs-boot")):
        code, language = unlit(code), "literate"
    elif rel.endswith(".hsc"):
        return SourceText(rel, raw, neutralise_hsc(code), "hsc")
    else:
        language = "haskell"
    includes: dict[str, bytes] = {}
    if uses_cpp(code):
        code = select_branches(code, include=header_reader(root, rel, texts),
                               spliced=includes)
        includes.pop(rel, None)  # a file including itself: its code is indexed once
    return SourceText(rel, raw, code, language, tuple(sorted(includes.items())))
