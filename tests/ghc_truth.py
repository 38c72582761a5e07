"""Ground truth from real GHC for engine tests: mutate a copy, type-check, read the diagnostics
that the mutation added. Kept minimal on purpose (the product's oracle lives in scout.oracle);
tests use it to check the engine independently of the oracle.

A diagnostic counts as added when no diagnostic with the same file, line, flag and message
existed before (as the oracle counts: a match that was already incomplete and now also misses
the new constructor has a new message)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# any path: code an `#include` brings is reported at the included file's own path and lines
WARNING = re.compile(r"^(?P<path>[^\s:]+):(?P<line>\d+):(?P<col>\d+)(?:-\d+)?: "
                     r"(?P<kind>warning|error):"
                     r"(?: \[(?P<flag>-W[\w-]+)\])?", re.M)  # some warnings have no flag
_LOCATION = re.compile(r"\.l?hs:\d+:\d+(?:-\d+)?|\(\d+,\d+\)-\(\d+,\d+\)")
FLAGS = ["-fno-code", "-Wincomplete-patterns", "-Wincomplete-uni-patterns",
         "-Wincomplete-record-updates", "-Wmissing-methods", "-Wmissing-fields", "-Wdeprecations"]
DEFER = ["-fdefer-type-errors"]  # a changed signature: every error becomes a warning


@dataclass(frozen=True)
class Mutation:
    path: str  # workspace-relative
    old: str  # exact text to replace (must occur once)
    new: str


def ghc_available() -> bool:
    return shutil.which("ghc") is not None


def _diagnostics(root: Path, src_dirs: tuple[str, ...], flags: Sequence[str],
                 errors: bool = False) -> set[tuple[str, int, str, str]]:
    files = sorted(str(p.relative_to(root)) for d in src_dirs for p in (root / d).rglob("*.hs"))
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run(
            ["ghc", "--make", *FLAGS, *flags, *(["-fkeep-going"] if errors else []),
             *(f"-i{d}" for d in src_dirs), "-outputdir", out, *files], cwd=root,
            capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 and not errors:
        raise AssertionError(f"ghc failed:\n{proc.stdout}\n{proc.stderr}")
    text = proc.stderr
    found = set()
    matches = [m for m in WARNING.finditer(text) if errors or m["kind"] == "warning"]
    for m, nxt in zip(matches, [*matches[1:], None], strict=False):
        body = text[m.end():nxt.start() if nxt else len(text)]
        message = " ".join(ln.strip() for ln in body.splitlines()
                           if ln.strip() and not re.match(r"^\s*(\d+\s*)?\|", ln))
        found.add((m["path"], int(m["line"]), m["flag"] or "", _LOCATION.sub("", message)))
    return found


def _apply(text: str, mutations: Sequence[Mutation]) -> tuple[str, list[int]]:
    """The mutated text and, for each of its lines, the original line it comes from."""
    origin = list(range(1, text.count("\n") + 2))
    for mutation in mutations:
        assert text.count(mutation.old) == 1, f"{mutation.old!r} must occur once"
        at = text[: text.index(mutation.old)].count("\n")
        old_lines, new_lines = mutation.old.count("\n") + 1, mutation.new.count("\n") + 1
        origin[at:at + old_lines] = [origin[at]] * new_lines
        text = text.replace(mutation.old, mutation.new)
    return text, origin


def added_warning_sites(root: Path, mutation: Mutation | Sequence[Mutation],
                        src_dirs: tuple[str, ...] = ("src",),
                        flags: Sequence[str] = (), errors: bool = False) -> set[str]:
    """``path:line`` of every warning the mutation(s) add, lines mapped back to the original;
    with ``errors``, the errors they add too (GHC goes on past them: -fkeep-going)."""
    mutations = [mutation] if isinstance(mutation, Mutation) else list(mutation)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "ws"
        shutil.copytree(root, copy)
        before = _diagnostics(copy, src_dirs, flags, errors)
        origins: dict[str, list[int]] = {}
        for path in dict.fromkeys(m.path for m in mutations):
            target = copy / path
            text, origins[path] = _apply(target.read_text(encoding="latin-1"),
                                         [m for m in mutations if m.path == path])
            target.write_text(text, encoding="latin-1")
        after = _diagnostics(copy, src_dirs, flags, errors)
    sites = set()
    for path, line, flag, message in after:
        if path in origins:
            line = origins[path][line - 1]
        if (path, line, flag, message) not in before:
            sites.add(f"{path}:{line}")
    return sites
