"""`scout`: the command-line shell over the library (index, query, oracle, eval, export, label).

Each subcommand parses arguments, calls the library, and prints; no analysis happens here.
stdout carries the result (exactly one JSON object with --json); messages go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scout import __version__


class CliError(Exception):
    """An error the user can act on: printed as one line to stderr, exit status 2."""


def _root(value: str) -> Path:
    path = Path(value).expanduser()
    if not path.exists():
        raise CliError(f"workspace root {value} does not exist: pass --root DIR with your "
                       "Haskell project")
    if not path.is_dir():
        raise CliError(f"workspace root {value} is not a directory: pass --root DIR")
    return path.resolve()


def _add_index_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", default=".", help="workspace root (default: current directory)")
    p.add_argument("--no-cache", action="store_true", help="ignore and do not write the cache")
    p.add_argument("--cache-dir", type=Path, help="index cache directory "
                   "(default: $XDG_CACHE_HOME/semantic-scout/index)")
    p.add_argument("--workers", type=int, help="worker processes (default: one per core)")


def build_index(args: argparse.Namespace, *, quiet: bool = False) -> Any:
    from scout.haskell.index import WorkspaceIndex

    root = _root(args.root)
    progress = None
    if not quiet and sys.stderr.isatty():
        from rich.progress import Progress

        bar = Progress(transient=True)
        task = bar.add_task("indexing", total=None)
        bar.start()

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
    try:
        return WorkspaceIndex.build(root, cache_dir=args.cache_dir, use_cache=not args.no_cache,
                                    workers=args.workers, progress=progress)
    finally:
        if progress is not None:
            bar.stop()


def cmd_index(args: argparse.Namespace) -> int:
    index = build_index(args, quiet=args.json)
    st = index.stats()
    if args.json:
        print(json.dumps({
            "files": st.files,
            "files_with_errors": len(st.files_with_errors),
            "definitions": st.definitions,
            "references": st.references,
            "match_sites": st.match_sites,
            "seconds": round(st.seconds, 4),
            "lines": st.lines,
            "error_files": list(st.files_with_errors),
            "skipped": [{"path": s.path, "reason": s.reason} for s in st.skipped],
            "cached_files": st.cached_files,
        }))
        return 0
    print(f"workspace     {index.root}")
    print(f"files         {st.files} ({st.cached_files} from cache)")
    print(f"lines         {st.lines}")
    print(f"definitions   {st.definitions}")
    print(f"references    {st.references}")
    print(f"match sites   {st.match_sites}")
    print(f"parse errors  {len(st.files_with_errors)} file(s)")
    for path in st.files_with_errors:
        first = index.files[path].problems[0]
        print(f"  {path}:{first.line}: {first.message}")
    if st.skipped:
        print(f"skipped       {len(st.skipped)} file(s)")
        for s in st.skipped:
            print(f"  {s.path}: {s.reason}")
    print(f"seconds       {st.seconds:.3f}")
    return 0


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scout", description="Semantic Scout: what breaks if I change X?")
    parser.add_argument("--version", action="version", version=f"scout {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="index a Haskell workspace and print counts")
    _add_index_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_index)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"scout: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("scout: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
