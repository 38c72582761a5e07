"""Ground truth from real GHC for engine tests: mutate a copy, type-check, read the warnings
that the mutation added. Kept minimal on purpose (the product's oracle lives in scout.oracle);
tests use it to check the engine independently of the oracle."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

WARNING = re.compile(r"^(?P<path>[^\s:]+\.l?hs):(?P<line>\d+):(?P<col>\d+): warning: "
                     r"\[(?P<flag>-W[\w-]+)\]", re.M)
FLAGS = ["-fno-code", "-Wincomplete-patterns", "-Wincomplete-uni-patterns",
         "-Wincomplete-record-updates", "-Wmissing-methods", "-Wmissing-fields", "-Wdeprecations"]


@dataclass(frozen=True)
class Mutation:
    path: str  # workspace-relative
    old: str  # exact text to replace (must occur once)
    new: str


def ghc_available() -> bool:
    return shutil.which("ghc") is not None


def _warnings(root: Path, src_dirs: tuple[str, ...]) -> set[tuple[str, int, str]]:
    files = sorted(str(p.relative_to(root)) for d in src_dirs for p in (root / d).rglob("*.hs"))
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run(
            ["ghc", "--make", *FLAGS, *(f"-i{d}" for d in src_dirs), "-outputdir", out, *files],
            cwd=root, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise AssertionError(f"ghc failed:\n{proc.stdout}\n{proc.stderr}")
    return {(m["path"], int(m["line"]), m["flag"]) for m in WARNING.finditer(proc.stderr)}


def added_warning_sites(root: Path, mutation: Mutation,
                        src_dirs: tuple[str, ...] = ("src",)) -> set[str]:
    """``path:line`` of every warning the mutation adds, lines mapped back to the original."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "ws"
        shutil.copytree(root, copy)
        before = _warnings(copy, src_dirs)
        target = copy / mutation.path
        text = target.read_text()
        assert text.count(mutation.old) == 1, f"{mutation.old!r} must occur once"
        at_line = text[: text.index(mutation.old)].count("\n") + 1
        delta = mutation.new.count("\n") - mutation.old.count("\n")
        target.write_text(text.replace(mutation.old, mutation.new))
        after = _warnings(copy, src_dirs)
    sites = set()
    for path, line, flag in after:
        if path == mutation.path and line > at_line + max(delta, 0):
            line -= delta
        if (path, line, flag) not in before:
            sites.add(f"{path}:{line}")
    return sites
