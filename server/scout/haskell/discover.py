"""Finding the Haskell sources of a workspace (`.hs`, `.lhs`, boot files, `.hsc`) and reading
them as GHC's front end sees them (see ``preprocess``)."""

from __future__ import annotations

import os
import re
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


def is_haskell(path: str) -> bool:
    return path.endswith(HASKELL_SUFFIXES)


def _gitignore_spec(directory: Path) -> pathspec.PathSpec | None:
    gi = directory / ".gitignore"
    try:
        lines = gi.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.PathSpec.from_lines("gitignore", lines)


def discover(root: Path, *, suffixes: tuple[str, ...] | None = None) -> list[str]:
    """Workspace-relative POSIX paths of Haskell sources, sorted, honouring .gitignore files
    (at the root and in subdirectories) and skipping build/VCS folders. ``suffixes``: the file
    endings wanted instead of Haskell sources (the oracle also copies ``.cabal``, ``.h``...)."""
    root = root.resolve()
    found: list[str] = []
    # stack of (directory, [(spec, base directory)])
    stack: list[tuple[Path, list[tuple[pathspec.PathSpec, Path]]]] = [(root, [])]
    while stack:
        directory, specs = stack.pop()
        own = _gitignore_spec(directory)
        if own is not None:
            specs = [*specs, (own, directory)]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            if is_dir and name in SKIPPED_DIRS:
                continue
            full = Path(entry.path)
            if _ignored(full, is_dir, specs):
                continue
            if is_dir:
                stack.append((full, specs))
            elif entry.is_file() and (
                    is_haskell(name) if suffixes is None else name.endswith(suffixes)):
                if (suffixes is None and name.endswith(".hsc")
                        and (directory / (name[:-4] + ".hs")).is_file()):
                    continue  # hsc2hs's output sits beside it: GHC compiles that one
                found.append(full.relative_to(root).as_posix())
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
                max_bytes: int | None = None) -> SourceText | SkippedFile:
    if raw is None:
        try:
            raw = (root / rel).read_bytes()
        except OSError as exc:
            return SkippedFile(rel, f"unreadable: {exc.strerror or exc}")
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
    if uses_cpp(code):
        code = select_branches(code, include=header_reader(root, rel))
    return SourceText(rel, raw, code, language)
