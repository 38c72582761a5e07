"""Benchmark the workspace index against raw tree-sitter parsing of the same files.

    python bench/fetch_debian.py                      # once: the ~700k-line Debian corpus
    python bench/bench_index.py                       # the whole default corpus, 3 runs
    python bench/bench_index.py --packages xmonad --runs 5
    python bench/bench_index.py --root examples --json

Every figure is the median of ``--runs`` runs, each in a fresh Python subprocess (no warm
imports, no shared caches):

- parse:  discover + read the files, then parse every one with tree-sitter in one process,
          timing only the parse loop. This is the baseline.
- cold:   ``WorkspaceIndex.build`` with an empty cache directory (so the index writes its cache),
          using all cores unless ``--workers`` says otherwise.
- warm:   ``WorkspaceIndex.build`` again with a cache directory a cold run filled.
- update: after a warm build, ``update_file`` of a module of about 3,000 lines with a small real
          edit (a new top-level definition), ``--update-repeats`` times. Reported: the median of
          the edits after the first (the steady state of an editing session: incremental
          reparse, queries compiled) and, separately, the first edit of the process (which also
          pays one-time query compilation and a full parse of the file).
- peak:   ``ru_maxrss`` of the subprocess (the process holding the index) during cold and warm
          builds; the largest worker process is reported next to it.

Targets (issue 2): cold <= 1.5x parse, warm < 10% of cold, update < 20 ms, peak < 400 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scout.haskell.model import IndexStats

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEBIAN_DIR = BENCH_DIR / ".cache" / "debian"
CORPUS_DIR = BENCH_DIR / ".cache" / "corpus"
FETCH_MARKER = ".scout-fetched"  # written by fetch_debian.py when a package is complete

UPDATE_TARGET_LINES = 3000
TARGET_COLD_RATIO = 1.5
TARGET_WARM_RATIO = 0.10
TARGET_UPDATE_MS = 20.0
TARGET_PEAK_MB = 400.0


class BenchError(RuntimeError):
    """The benchmark cannot run; the message says what to do next."""


# ---------------------------------------------------------------------------------------------
# Worker side: one measurement per fresh subprocess, result as one JSON line on stdout.


def _peak_mb() -> tuple[float, float]:
    """(this process, largest waited-for child) peak RSS in MB; Linux reports KiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def _stats_dict(stats: IndexStats) -> dict[str, object]:
    return {
        "files": stats.files,
        "lines": stats.lines,
        "definitions": stats.definitions,
        "references": stats.references,
        "match_sites": stats.match_sites,
        "files_with_errors": len(stats.files_with_errors),
        "skipped": len(stats.skipped),
        "cached_files": stats.cached_files,
    }


def worker_parse(root: Path) -> dict[str, object]:
    from scout.haskell.discover import discover, read_source
    from scout.haskell.model import SkippedFile
    from scout.haskell.parser import parser

    sources = []
    skipped = 0
    for rel in discover(root):
        src = read_source(root, rel)
        if isinstance(src, SkippedFile):
            skipped += 1
        else:
            sources.append(src.code)
    ts_parser = parser()
    with_errors = 0
    start = time.perf_counter()
    for code in sources:
        tree = ts_parser.parse(code)
        with_errors += tree.root_node.has_error
    seconds = time.perf_counter() - start
    own, children = _peak_mb()
    return {"seconds": seconds, "files": len(sources), "skipped": skipped,
            "bytes": sum(len(c) for c in sources),
            "lines": sum(c.count(b"\n") for c in sources),
            "files_with_errors": with_errors, "peak_mb": own, "worker_peak_mb": children}


def worker_breakdown(root: Path) -> dict[str, object]:
    """Where one process spends indexing time: parse, extract, pickle (what a worker sends back)."""
    import pickle

    from scout.haskell.discover import discover, read_source
    from scout.haskell.extract import extract
    from scout.haskell.model import SkippedFile
    from scout.haskell.parser import parser

    ts_parser = parser()
    parse_s = extract_s = pickle_s = 0.0
    pickled_bytes = 0
    for rel in discover(root):
        src = read_source(root, rel)
        if isinstance(src, SkippedFile):
            continue
        t0 = time.perf_counter()
        tree = ts_parser.parse(src.code)
        t1 = time.perf_counter()
        file_index = extract(src.path, src.code, tree, language=src.language)
        t2 = time.perf_counter()
        pickled_bytes += len(pickle.dumps(file_index, protocol=pickle.HIGHEST_PROTOCOL))
        t3 = time.perf_counter()
        parse_s += t1 - t0
        extract_s += t2 - t1
        pickle_s += t3 - t2
    return {"parse_s": parse_s, "extract_s": extract_s, "pickle_s": pickle_s,
            "pickled_mb": pickled_bytes / 1e6}


def worker_build(root: Path, cache_dir: Path, workers: int | None) -> dict[str, object]:
    from scout.haskell.index import WorkspaceIndex

    start = time.perf_counter()
    index = WorkspaceIndex.build(root, cache_dir=cache_dir, workers=workers)
    seconds = time.perf_counter() - start
    own, children = _peak_mb()
    return {"seconds": seconds, "stats": _stats_dict(index.stats()), "peak_mb": own,
            "worker_peak_mb": children}


def worker_update(root: Path, cache_dir: Path, workers: int | None, rel: str,
                  repeats: int) -> dict[str, object]:
    from scout.haskell.index import WorkspaceIndex

    index = WorkspaceIndex.build(root, cache_dir=cache_dir, workers=workers)
    if rel not in index.files:
        raise BenchError(f"{rel} is not in the index (skipped or ignored?)")
    original = (root / rel).read_bytes()
    timings = []
    for i in range(repeats):
        # a real edit: a new top-level definition, different each time (no cache hit)
        edited = original + f"\nscoutBenchProbe{i} :: Int\nscoutBenchProbe{i} = {i}\n".encode()
        start = time.perf_counter()
        index.update_file(rel, edited)
        timings.append(time.perf_counter() - start)
    found = index.definitions(f"scoutBenchProbe{repeats - 1}")
    if not any(d.path == rel for d in found):
        raise BenchError(f"update_file({rel!r}) did not make the new definition visible")
    # the first edit of a process also pays one-time costs (query compilation, a full parse of a
    # file the session has no tree for); later edits of the same file reparse incrementally
    later = timings[1:] or timings
    return {"first_ms": timings[0] * 1000, "median_ms": statistics.median(later) * 1000,
            "repeats": repeats, "file": rel,
            "file_lines": original.count(b"\n")}


def run_worker(args: argparse.Namespace) -> int:
    root = Path(args.root)
    if args.worker == "parse":
        result = worker_parse(root)
    elif args.worker == "breakdown":
        result = worker_breakdown(root)
    elif args.worker == "build":
        result = worker_build(root, Path(args.cache_dir), args.workers)
    else:
        result = worker_update(root, Path(args.cache_dir), args.workers, args.update_file,
                               args.update_repeats)
    print(json.dumps(result))
    return 0


# ---------------------------------------------------------------------------------------------
# Driver side.


@dataclass(slots=True)
class Corpus:
    root: Path
    description: str


@dataclass(slots=True)
class Report:
    corpus: str
    root: str
    runs: int
    cpus: int
    load_average: float  # 1-minute load when the run started: other work skews every figure
    workers: int | None
    files: int
    lines: int
    bytes: int
    parse_s: float
    cold_s: float
    warm_s: float
    update_ms: float
    update_first_ms: float
    update_file: str
    update_file_lines: int
    peak_mb: float
    worker_peak_mb: float
    cold_vs_parse: float
    warm_vs_cold: float
    index_stats: dict[str, object]
    parse_files_with_errors: int
    samples: dict[str, list[float]]
    targets: dict[str, bool]
    breakdown: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _package_corpus(packages: list[str]) -> Corpus:
    missing = [p for p in packages if not (DEBIAN_DIR / p / FETCH_MARKER).exists()]
    if missing:
        raise BenchError(f"not fetched yet: {' '.join(missing)}; run "
                         f"`python bench/fetch_debian.py {' '.join(missing)}` first")
    if len(packages) == 1:
        return Corpus(DEBIAN_DIR / packages[0], packages[0])
    # One workspace holding exactly these packages: hard links, so it costs no space.
    name = "+".join(sorted(packages)) if len(packages) <= 3 else f"{len(packages)}-packages"
    root = CORPUS_DIR / name
    wanted = sorted(packages)
    manifest = root / ".scout-corpus"
    if not manifest.exists() or manifest.read_text().split() != wanted:
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        for pkg in wanted:
            shutil.copytree(DEBIAN_DIR / pkg, root / pkg, copy_function=os.link)
        manifest.write_text("\n".join(wanted) + "\n")
    return Corpus(root, f"{len(packages)} Debian packages: {' '.join(wanted)}")


def _default_packages() -> list[str]:
    sys.path.insert(0, str(BENCH_DIR))
    from fetch_debian import DEFAULT_PACKAGES

    return list(DEFAULT_PACKAGES)


def _run_worker(argv: list[str]) -> dict[str, object]:
    cmd = [sys.executable, str(Path(__file__).resolve()), *argv]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    if proc.returncode != 0:
        raise BenchError(f"worker {' '.join(argv[:2])} failed (exit {proc.returncode}):\n"
                         f"{proc.stderr.strip()[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _file_near(root: Path, target_lines: int) -> tuple[str, int]:
    """The indexed file whose line count is closest to ``target_lines``."""
    from scout.haskell.discover import discover

    best: tuple[int, str, int] | None = None
    for rel in discover(root):
        lines = (root / rel).read_bytes().count(b"\n")
        score = abs(lines - target_lines)
        if best is None or score < best[0]:
            best = (score, rel, lines)
    if best is None:
        raise BenchError(f"no Haskell files under {root}")
    return best[1], best[2]


def _median(values: list[float]) -> float:
    return statistics.median(values)


def bench(corpus: Corpus, runs: int, workers: int | None, update_repeats: int,
          progress: bool, breakdown: bool = False) -> Report:
    def say(msg: str) -> None:
        if progress:
            print(msg, file=sys.stderr, flush=True)

    root = str(corpus.root)
    notes: list[str] = []
    load_average = os.getloadavg()[0]
    samples: dict[str, list[float]] = {"parse_s": [], "cold_s": [], "warm_s": [],
                                       "update_ms": [], "update_first_ms": [], "peak_mb": [],
                                       "worker_peak_mb": []}
    worker_flags = [] if workers is None else ["--workers", str(workers)]
    with tempfile.TemporaryDirectory(prefix="scout-bench-") as tmp:
        parse_result: dict[str, object] = {}
        for run in range(runs):
            parse_result = _run_worker(["--worker", "parse", "--root", root])
            samples["parse_s"].append(parse_result["seconds"])
            say(f"parse  run {run + 1}/{runs}: {parse_result['seconds']:.2f}s")
        warm_cache = Path(tmp) / "warm-cache"
        cold_stats: dict[str, object] = {}
        for run in range(runs):
            cache = Path(tmp) / f"cold-{run}"
            result = _run_worker(["--worker", "build", "--root", root,
                                  "--cache-dir", str(cache), *worker_flags])
            samples["cold_s"].append(result["seconds"])
            samples["peak_mb"].append(result["peak_mb"])
            samples["worker_peak_mb"].append(result["worker_peak_mb"])
            cold_stats = result["stats"]
            if run == 0:
                cache.rename(warm_cache)
            else:
                shutil.rmtree(cache, ignore_errors=True)
            say(f"cold   run {run + 1}/{runs}: {result['seconds']:.2f}s "
                f"peak {result['peak_mb']:.0f} MB")
        for run in range(runs):
            result = _run_worker(["--worker", "build", "--root", root,
                                  "--cache-dir", str(warm_cache), *worker_flags])
            samples["warm_s"].append(result["seconds"])
            samples["peak_mb"].append(result["peak_mb"])
            samples["worker_peak_mb"].append(result["worker_peak_mb"])
            warm_stats = result["stats"]
            if run == 0:
                differing = {k: (cold_stats[k], warm_stats[k]) for k in cold_stats
                             if k != "cached_files" and cold_stats[k] != warm_stats[k]}
                if differing:
                    raise BenchError(f"warm index differs from cold (cold, warm): {differing}")
                if warm_stats["cached_files"] != warm_stats["files"]:
                    notes.append(f"warm start took only {warm_stats['cached_files']} of "
                                 f"{warm_stats['files']} files from the cache")
            say(f"warm   run {run + 1}/{runs}: {result['seconds']:.2f}s")
        update_rel, update_lines = _file_near(corpus.root, UPDATE_TARGET_LINES)
        update_result: dict[str, object] = {}
        for run in range(runs):
            update_result = _run_worker(["--worker", "update", "--root", root,
                                         "--cache-dir", str(warm_cache), *worker_flags,
                                         "--update-file", update_rel,
                                         "--update-repeats", str(update_repeats)])
            samples["update_ms"].append(update_result["median_ms"])
            samples["update_first_ms"].append(update_result["first_ms"])
            say(f"update run {run + 1}/{runs}: {update_result['median_ms']:.1f} ms, first edit "
                f"{update_result['first_ms']:.1f} ms ({update_rel}, {update_lines} lines)")
    one_process: dict[str, float] = {}
    if breakdown:
        one_process = _run_worker(["--worker", "breakdown", "--root", root])
        say(f"breakdown: parse {one_process['parse_s']:.2f}s extract "
            f"{one_process['extract_s']:.2f}s pickle {one_process['pickle_s']:.2f}s")
    if parse_result["files"] != cold_stats["files"]:
        notes.append(f"baseline parsed {parse_result['files']} files, the index "
                     f"{cold_stats['files']}")
    if update_lines < UPDATE_TARGET_LINES // 2:
        notes.append(f"largest module has only {update_lines} lines: the update figure is "
                     "not the 3,000-line case")
    med = {k: _median(v) for k, v in samples.items()}
    cold_vs_parse = med["cold_s"] / med["parse_s"] if med["parse_s"] else float("inf")
    warm_vs_cold = med["warm_s"] / med["cold_s"] if med["cold_s"] else float("inf")
    return Report(
        corpus=corpus.description, root=root, runs=runs, cpus=os.cpu_count() or 1,
        load_average=load_average,
        workers=workers, files=int(parse_result["files"]), lines=int(parse_result["lines"]),
        bytes=int(parse_result["bytes"]), parse_s=med["parse_s"], cold_s=med["cold_s"],
        warm_s=med["warm_s"], update_ms=med["update_ms"],
        update_first_ms=med["update_first_ms"], update_file=update_rel,
        update_file_lines=update_lines, peak_mb=max(samples["peak_mb"]),
        worker_peak_mb=max(samples["worker_peak_mb"]), cold_vs_parse=cold_vs_parse,
        warm_vs_cold=warm_vs_cold, index_stats=cold_stats,
        parse_files_with_errors=int(parse_result["files_with_errors"]), samples=samples,
        targets={
            f"cold <= {TARGET_COLD_RATIO}x parse": cold_vs_parse <= TARGET_COLD_RATIO,
            f"warm < {TARGET_WARM_RATIO:.0%} of cold": warm_vs_cold < TARGET_WARM_RATIO,
            f"update < {TARGET_UPDATE_MS:.0f} ms": med["update_ms"] < TARGET_UPDATE_MS,
            f"peak < {TARGET_PEAK_MB:.0f} MB": max(samples["peak_mb"]) < TARGET_PEAK_MB,
        },
        breakdown=one_process,
        notes=notes,
    )


def render(report: Report) -> str:
    s = report.index_stats
    lines = [
        f"corpus   {report.corpus}",
        f"         {report.files} files, {report.lines} lines, {report.bytes / 1e6:.1f} MB; "
        f"median of {report.runs} runs; {report.cpus} CPUs (load {report.load_average:.1f} at "
        f"start), workers={report.workers if report.workers is not None else 'default'}",
        f"index    {s['definitions']} definitions, {s['references']} references, "
        f"{s['match_sites']} match sites, {s['files_with_errors']} files with parse errors, "
        f"{s['skipped']} skipped",
        f"parse    {report.parse_s:8.2f} s   baseline: raw tree-sitter, one process "
        f"({report.parse_files_with_errors} trees with errors)",
        f"cold     {report.cold_s:8.2f} s   {report.cold_vs_parse:.2f}x parse",
        f"warm     {report.warm_s:8.2f} s   {report.warm_vs_cold:.1%} of cold "
        f"({report.warm_s / report.parse_s:.2f}x parse)",
        f"update   {report.update_ms:8.1f} ms  an edit of {report.update_file} "
        f"({report.update_file_lines} lines) in a session; the process's first edit "
        f"{report.update_first_ms:.1f} ms",
        f"peak     {report.peak_mb:8.0f} MB  index process, largest of all cold and warm runs "
        f"(largest worker: {report.worker_peak_mb:.0f} MB)",
        "targets  " + "; ".join(f"{name}: {'PASS' if ok else 'FAIL'}"
                                for name, ok in report.targets.items()),
    ]
    if report.breakdown:
        b = report.breakdown
        lines.append(f"one core parse {b['parse_s']:.2f} s + extract {b['extract_s']:.2f} s + "
                     f"pickle {b['pickle_s']:.2f} s ({b['pickled_mb']:.0f} MB): the work cold "
                     "indexing spreads over the workers")
    lines.extend(f"note     {note}" for note in report.notes)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark the Haskell workspace index against raw tree-sitter parsing.")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--packages", nargs="+", metavar="PKG",
                       help="Debian source packages fetched by fetch_debian.py "
                            "(default: its default set)")
    where.add_argument("--root", type=Path, help="benchmark this directory instead")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument("--workers", type=int, default=None,
                        help="index worker processes (default: the index's own, all cores)")
    parser.add_argument("--update-repeats", type=int, default=6,
                        help="edits per update run (default 6; the first is reported apart)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--breakdown", action="store_true",
                        help="also time parse / extract / pickle per file in one process "
                             "(one extra run; shows where cold indexing spends its time)")
    parser.add_argument("--worker", choices=("parse", "breakdown", "build", "update"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", help=argparse.SUPPRESS)
    parser.add_argument("--update-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.worker:
            if args.root is None:
                raise BenchError("--worker needs --root")
            return run_worker(args)
        if args.runs < 1:
            raise BenchError("--runs must be at least 1")
        if args.update_repeats < 1:
            raise BenchError("--update-repeats must be at least 1")
        if args.root is not None:
            if not args.root.is_dir():
                raise BenchError(f"--root {args.root} is not a directory")
            corpus = Corpus(args.root.resolve(), str(args.root))
        else:
            corpus = _package_corpus(args.packages or _default_packages())
        report = bench(corpus, args.runs, args.workers, args.update_repeats,
                       progress=not args.json, breakdown=args.breakdown)
    except BenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(report), indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
