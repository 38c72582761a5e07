"""End-to-end `scout query` time with a warm index (issue 3).

For a real project (default: xmonad + xmonad-contrib from Debian, see fetch_debian.py), sample
questions deterministically (add a constructor to each sum type, add a method to each class,
change the arity of functions), then time, per question and budget: explore + heuristic scoring
+ the JSON answer (what `scout query --json` does after the index is warm; process start and
index load excluded), optionally with logging to a fresh SQLite file. The baseline, measured in
the same run on the same questions, is a grep: a regex search for the target's name over every
file's text already in memory.

    python bench/bench_query.py [--packages xmonad xmonad-contrib] [--budgets 20 100] [--log]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from scout.explore.model import ChangeKind, Question
from scout.haskell.index import WorkspaceIndex
from scout.haskell.model import DefKind
from scout.scoring.heuristic import HeuristicScorer
from scout.session import ScoutSession
from scout.settings import Settings

CORPUS = Path(__file__).resolve().parent / ".cache" / "debian"


def sample_questions(index: WorkspaceIndex, per_kind: int) -> list[Question]:
    qs: list[Question] = []
    types = sorted((d for d in index.definitions_of_kind(DefKind.DATA)
                    if len(d.constructors) >= 2 and len(index.definitions(d.name, (DefKind.DATA,
                                                                                    ))) == 1),
                   key=lambda d: (-len(index.files_referencing(d.constructors[0])), d.name))
    classes = sorted((d for d in index.definitions_of_kind(DefKind.CLASS)
                      if len(index.definitions(d.name, (DefKind.CLASS,))) == 1),
                     key=lambda d: (-len(index.files_referencing(d.name)), d.name))
    functions = sorted((d for d in index.definitions_of_kind(DefKind.FUNCTION)
                        if d.signature and len(index.definitions(d.name)) == 1),
                       key=lambda d: (-len(index.files_referencing(d.name)), d.name))
    for defs, change in ((types, ChangeKind.ADD_CONSTRUCTOR), (classes, ChangeKind.ADD_METHOD),
                         (functions, ChangeKind.CHANGE_ARITY)):
        for d in defs[:per_kind]:
            qs.append(Question(f"{change.value} {d.name}", f"{d.module}.{d.name}", change, ()))
    return qs


def grep_baseline(texts: list[str], name: str) -> int:
    pattern = re.compile(r"\b" + re.escape(name) + r"\b")
    return sum(len(pattern.findall(t)) for t in texts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packages", nargs="+", default=["xmonad", "xmonad-contrib"])
    ap.add_argument("--budgets", nargs="+", type=int, default=[20, 100])
    ap.add_argument("--per-kind", type=int, default=10, help="questions per change kind")
    ap.add_argument("--repeat", type=int, default=5, help="timed repetitions per question")
    ap.add_argument("--log", action="store_true", help="also log every answer to SQLite")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    missing = [p for p in args.packages if not (CORPUS / p).is_dir()]
    if missing:
        print(f"missing sources for {missing}: run python bench/fetch_debian.py {' '.join(missing)}",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "workspace"
        for p in args.packages:
            shutil.copytree(CORPUS / p, root / p, symlinks=True)
        started = time.perf_counter()
        index = WorkspaceIndex.build(root, use_cache=False)
        index_seconds = time.perf_counter() - started
        texts = ["\n".join(index.source_lines(p)) for p in index.files]
        questions = sample_questions(index, args.per_kind)
        db = Path(tmp) / "bench.db" if args.log else None
        session = ScoutSession(root, Settings(scorer="heuristic", db=db, log=args.log),
                               index=index, scorers=(HeuristicScorer(), None))
        session.ask(questions[0])  # warm lazily built lookup tables, as a first query would
        results: dict[str, dict[str, float]] = {}
        for budget in args.budgets:
            times, grep_times = [], []
            for q in questions:
                q_b = Question(q.text, q.target, q.change, q.tags, budget)
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    answer = session.ask(q_b)
                    json.dumps(answer.to_json())
                    answer.wait_logged()  # logging runs in the background: count it
                    times.append(time.perf_counter() - t0)
                    name = q.target.rsplit(".", 1)[-1]
                    t0 = time.perf_counter()
                    grep_baseline(texts, name)
                    grep_times.append(time.perf_counter() - t0)
            med, gmed = statistics.median(times), statistics.median(grep_times)
            results[str(budget)] = {"median_ms": med * 1000, "p90_ms":
                                    statistics.quantiles(times, n=10)[-1] * 1000,
                                    "grep_median_ms": gmed * 1000, "ratio_vs_grep": med / gmed}
    stats = index.stats()
    report = {"packages": args.packages, "files": stats.files, "lines": stats.lines,
              "index_seconds": index_seconds, "questions": len(questions), "log": args.log,
              "budgets": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{' + '.join(args.packages)}: {stats.files} files, {stats.lines} lines, indexed in "
          f"{index_seconds:.2f} s; {len(questions)} questions x {args.repeat} runs"
          + (", logging to SQLite" if args.log else ""))
    print(f"{'budget':>6}  {'median ms':>10}  {'p90 ms':>8}  {'grep ms':>8}  {'ratio':>6}")
    for budget, r in results.items():
        print(f"{budget:>6}  {r['median_ms']:>10.2f}  {r['p90_ms']:>8.2f}  "
              f"{r['grep_median_ms']:>8.2f}  {r['ratio_vs_grep']:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
