"""Single-file update time on dense modules (issue 12): `WorkspaceIndex.update_file` with the
incremental extraction (only the declarations an edit touches are extracted again).

    .venv/bin/python bench/bench_update.py [--files REL ...] [--edits 12] [--json]

For each module (default: the densest of the Debian corpus, see DEFAULT_FILES; fetch them
with `python bench/fetch_debian.py`), in a fresh process: an index of a workspace holding that
module, one first edit (a full parse and extraction: shown apart), then ``--edits`` edits of
each kind, each a new text given to `update_file` as an editor would:

- append: a new top-level definition at the end (what bench_index.py's update figure does);
- middle: a character typed inside a function in the middle of the module (every declaration
  after it moves);
- line: a new line inserted in the middle (every declaration after it moves one line down).

Baseline, measured in the same process on the same texts: the full extraction of the new tree
(what an update cost before: parse + extract), and the incremental tree-sitter parse alone.
Reported: medians; the ratio update / baseline; the update's CPU time (its thread's: on a
machine other jobs share, the wall time also counts the waits for a core). Target: update
< 20 ms on every module.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEBIAN = Path(__file__).resolve().parent / ".cache" / "debian"
DEFAULT_FILES = [
    "agda/src/full/Agda/TypeChecking/Monad/Base.hs",  # the most definitions in the corpus
    "haskell-ghc-lib-parser/compiler/GHC/Driver/Session.hs",  # the largest hand-written one
    "haskell-ghc-lib-parser/compiler/GHC/Core/Coercion.hs",
    "agda/src/full/Agda/Syntax/Common.hs",  # the ~3,000-line module bench_index.py picks
]
TARGET_MS = 20.0


def edits(original: bytes, kind: str, n: int) -> list[bytes]:
    """``n`` successive texts of one kind of edit (each differs from the one before)."""
    lines = original.split(b"\n")
    middle = len(lines) // 2
    # a line inside a function body near the middle: indented, not a comment
    at = next((i for i in range(middle, len(lines))
               if lines[i].startswith(b"  ") and lines[i].strip()
               and not lines[i].lstrip().startswith((b"--", b"{-"))), middle)
    out = []
    for i in range(n):
        if kind == "append":
            text = original + f"\nscoutBenchProbe{i} :: Int\nscoutBenchProbe{i} = {i}\n".encode()
        elif kind == "middle":  # one more, then one fewer, character at a line's end
            text = b"\n".join(lines[:at] + [lines[at] + b" x" * (i % 2 + 1)] + lines[at + 1:])
        else:
            text = b"\n".join(lines[:middle] + [b""] * (i % 2 + 1) + lines[middle:])
        out.append(text)
    return out


def worker(path: Path, n: int) -> dict[str, object]:
    from scout.haskell import parser as ts
    from scout.haskell.extract import extract
    from scout.haskell.index import WorkspaceIndex, _apply_edit

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rel = path.name
        (root / rel).write_bytes(path.read_bytes())
        index = WorkspaceIndex.build(root, use_cache=False, workers=1)
        original = path.read_bytes()
        start = time.perf_counter()
        index.update_file(rel, original + b"\n")  # the session's first edit: full
        first_ms = (time.perf_counter() - start) * 1000
        result: dict[str, object] = {"file": str(path), "first_ms": first_ms,
                                     "lines": original.count(b"\n")}
        parser = ts.parser()
        for kind in ("append", "middle", "line"):
            update, cpu, full, parse = [], [], [], []
            texts = edits(original, kind, n)
            index.update_file(rel, original)
            tree, code = parser.parse(original), original
            for text in texts:
                t0, c0 = time.perf_counter(), time.thread_time()
                fi = index.update_file(rel, text)
                update.append(time.perf_counter() - t0)
                cpu.append(time.thread_time() - c0)
                # the baseline on the same text: incremental parse, then a full extraction
                t0 = time.perf_counter()
                _apply_edit(tree, code, text)
                tree = parser.parse(text, tree)
                t1 = time.perf_counter()
                extract(rel, text, tree)
                t2 = time.perf_counter()
                parse.append(t1 - t0)
                full.append(t2 - t0)
                code = text
                assert fi is not None and not isinstance(fi, str)
            result[kind] = {"update_ms": statistics.median(update) * 1000,
                            "update_cpu_ms": statistics.median(cpu) * 1000,
                            "full_ms": statistics.median(full) * 1000,
                            "parse_ms": statistics.median(parse) * 1000}
        return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", nargs="*", default=DEFAULT_FILES,
                    help="paths under bench/.cache/debian (or absolute)")
    ap.add_argument("--edits", type=int, default=12)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.edits)))
        return 0
    results = []
    for name in args.files:
        path = Path(name) if Path(name).is_absolute() else DEBIAN / name
        if not path.is_file():
            print(f"{path} is missing: run `python bench/fetch_debian.py`", file=sys.stderr)
            return 2
        proc = subprocess.run([sys.executable, __file__, "--worker", str(path), "--edits",
                               str(args.edits)], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    worst = max(r[k]["update_ms"] for r in results for k in ("append", "middle", "line"))
    if args.json:
        print(json.dumps({"results": results, "worst_update_ms": worst,
                          f"update < {TARGET_MS:.0f} ms": worst < TARGET_MS}, indent=2))
        return 0
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; medians of "
          f"{args.edits} edits per kind, fresh process per module")
    for r in results:
        print(f"{r['file'].split('debian/')[-1]} ({r['lines']} lines; first edit of the session "
              f"{r['first_ms']:.1f} ms)")
        for kind in ("append", "middle", "line"):
            m = r[kind]
            print(f"  {kind:7s} update {m['update_ms']:7.1f} ms (cpu {m['update_cpu_ms']:5.1f})   "
                  f"baseline parse + full extract {m['full_ms']:7.1f} ms "
                  f"({m['update_ms'] / m['full_ms']:.2f}x)   parse alone {m['parse_ms']:6.1f} ms")
    print(f"target: update < {TARGET_MS:.0f} ms: {'met' if worst < TARGET_MS else 'NOT met'} "
          f"(worst {worst:.1f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
