"""Store and export benchmark: medians of several runs, with baselines measured in the same run.

- insert: batched (query, node, rubric) triples per second through ``Store.record`` (redaction,
  JSON facts, one transaction per call) vs raw ``sqlite3.executemany`` of the same rows into the
  same schema. Target >= 50k triples/s.
- export: seconds to export 100k examples per format (select, split, render, write) vs
  ``json.dumps`` of the same 100k seed records to one file. Target < 5 s per format.
- size: database bytes per 10k examples, heuristic labels only and with a Haiku shadow label
  plus its raw exchange per node.

usage: .venv/bin/python bench/bench_store.py [--examples 100000] [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from scout.explore.model import (
    ChangeKind,
    Coverage,
    EdgeKind,
    Exploration,
    Node,
    Question,
    SiteFacts,
    Tag,
    Target,
)
from scout.export.cli import ExportOptions, export_dataset
from scout.export.formats import FORMATS
from scout.export.select import Filters
from scout.export.split import SplitPlan
from scout.export.write import worker_count
from scout.scoring.model import Exchange, LabelSource, Rubric, Scored
from scout.store import Store
from scout.store.schema import SCHEMA_V2, run_script

NODES_PER_QUERY = 100


def exploration(q: int, nodes: int = NODES_PER_QUERY) -> Exploration:
    kind = f"Kind{q % 97}"
    question = Question(text=f"What breaks if I add a variant to {kind}?", target=kind,
                        change=ChangeKind.ADD_CONSTRUCTOR,
                        tags=(Tag.EXHAUSTIVE, Tag.PATTERN_MATCH) if q % 3 else (Tag.DATA_TYPE,))
    return Exploration(
        question=question,
        target=Target(name=kind, module="Types", kind="data", path="src/Types.hs", line=3),
        nodes=[Node(path=f"src/Module{q % 40}/File{i % 25}.hs", line=10 + i,
                    hover=f"describe{i % 7} :: {kind} -> Text",
                    snippet=(f"describe{i % 7} :: {kind} -> Text\ndescribe{i % 7} k = case k of\n"
                             f"  A{i} -> \"a\"\n  B{q} -> \"b\"\n  _ -> \"other\""),
                    facts=SiteFacts(edge=EdgeKind.CATCH_ALL, breaks=False, silent=True,
                                    detail=f"catch-all absorbs a new {kind} constructor",
                                    symbol=kind, missing=("C",), hop=1),
                    enclosing=f"describe{i % 7}", end_line=14 + i, col=2)
               for i in range(nodes)],
        coverage=Coverage(40, 0, nodes + 5, nodes))


def heuristic(i: int) -> Scored:
    return Scored(rubric=Rubric(1 + i % 5, 1 + (i * 3) % 5, 1 + (i * 7) % 5,
                                "Catch-all absorbs the new constructor silently."),
                  scorer="heuristic", label_source=LabelSource.HEURISTIC, task_version="1",
                  latency_ms=0.05)


def haiku(i: int) -> Scored:
    args = {"relevance": 5, "risk": 1 + i % 5, "confidence": 4,
            "reasoning": "Wildcard hides the missing case."}
    return Scored(
        rubric=Rubric(**args), scorer="haiku", label_source=LabelSource.HAIKU,
        model="claude-haiku-4-5", task_version="1", prompt_hash="0123456789abcdef",
        latency_ms=700.0, input_tokens=900, output_tokens=60, cost_usd=0.001,
        exchanges=[Exchange(
            backend="anthropic", endpoint="/v1/messages",
            request={"model": "claude-haiku-4-5", "max_tokens": 512,
                     "messages": [{"role": "user", "content": "query: ...\nsnippet: ..." * 8}]},
            response={"content": [{"type": "tool_use", "name": "score_node", "input": args}],
                      "usage": {"input_tokens": 900, "output_tokens": 60}},
            status=200, error=None, started_at="2026-01-15T10:30:00Z", seconds=0.7)])


def median_of(runs: int, action: Callable[[], float]) -> float:
    return statistics.median(action() for _ in range(runs))


def fresh_store(directory: Path, name: str) -> Store:
    path = directory / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return Store.open(path, environ={})


def bench_insert(directory: Path, triples: int, runs: int) -> tuple[float, float]:
    queries = triples // NODES_PER_QUERY
    explorations = [exploration(q) for q in range(queries)]
    answers = [[[heuristic(i)] for i in range(NODES_PER_QUERY)] for _ in range(queries)]
    root = directory / "codebase"
    root.mkdir(exist_ok=True)

    def store_run() -> float:
        store = fresh_store(directory, "insert.db")
        start = time.perf_counter()
        for e, a in zip(explorations, answers, strict=True):
            store.record(e, a, root=root)
        elapsed = time.perf_counter() - start
        store.close()
        return triples / elapsed

    def raw_run() -> float:
        # Baseline: exactly the rows Store.record wrote (read back from its database), inserted
        # with plain executemany, one BEGIN IMMEDIATE transaction per query as the store does.
        source = sqlite3.connect(directory / "insert.db")
        per_query: list[tuple[tuple, list[tuple], list[tuple]]] = []
        nodes_by_query: dict[int, list[tuple]] = {}
        for row in source.execute("SELECT * FROM nodes ORDER BY id"):
            nodes_by_query.setdefault(row[1], []).append(row)
        rubrics_by_query: dict[int, list[tuple]] = {}
        for row in source.execute("SELECT n.query_id, r.* FROM rubrics r JOIN nodes n "
                                  "ON n.id = r.node_id ORDER BY r.id"):
            rubrics_by_query.setdefault(row[0], []).append(row[1:])
        for query in source.execute("SELECT * FROM queries ORDER BY id"):
            per_query.append((query, nodes_by_query[query[0]], rubrics_by_query[query[0]]))
        codebase = source.execute("SELECT * FROM codebases").fetchone()
        source.close()
        path = directory / "raw.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode = wal")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("BEGIN")
        run_script(conn, SCHEMA_V2)
        conn.execute("INSERT INTO codebases VALUES (?, ?, ?, ?, ?, ?)", codebase)
        conn.execute("COMMIT")
        insert_query = f"INSERT INTO queries VALUES ({', '.join('?' * len(per_query[0][0]))})"
        insert_node = f"INSERT INTO nodes VALUES ({', '.join('?' * len(per_query[0][1][0]))})"
        insert_rubric = f"INSERT INTO rubrics VALUES ({', '.join('?' * len(per_query[0][2][0]))})"
        start = time.perf_counter()
        for query, nodes, rubrics in per_query:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(insert_query, query)
            conn.executemany(insert_node, nodes)
            conn.executemany(insert_rubric, rubrics)
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - start
        conn.close()
        return triples / elapsed

    # Interleaved, so load from other processes hits both sides alike.
    store_rates, raw_rates = [], []
    for _ in range(runs):
        store_rates.append(store_run())
        raw_rates.append(raw_run())
    return statistics.median(store_rates), statistics.median(raw_rates)


def populate(path: Path, examples: int, root: Path, with_haiku: bool = False) -> None:
    with Store.open(path, environ={}) as store:
        for q in range(examples // NODES_PER_QUERY):
            answers = [[heuristic(i), haiku(i)] if with_haiku else [heuristic(i)]
                       for i in range(NODES_PER_QUERY)]
            store.record(exploration(q), answers, root=root)


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the render workers): unlike wall
    time, it does not depend on what else the machine is running."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bench_export(directory: Path, examples: int, runs: int, formats: tuple[str, ...],
                 workers: int | None, cpu_seconds: dict[str, float]
                 ) -> tuple[dict[str, float], float]:
    db = directory / "export.db"
    root = directory / "codebase"
    root.mkdir(exist_ok=True)
    populate(db, examples, root)
    results: dict[str, float] = {}
    with Store.open(db, environ={}) as store:
        for fmt in formats:
            options = ExportOptions(fmt=fmt, out=directory / f"out-{fmt}", filters=Filters(),
                                    plan=SplitPlan(ratios=(0.8, 0.1, 0.1)), progress=False,
                                    workers=workers)

            cpu: list[float] = []

            def run(options: ExportOptions = options, cpu: list[float] = cpu) -> float:
                start, cpu_start = time.perf_counter(), _cpu_seconds()
                result = export_dataset(store, options)
                assert result.examples == examples, result.examples
                cpu.append(_cpu_seconds() - cpu_start)
                return time.perf_counter() - start

            results[fmt] = median_of(runs, run)
            cpu_seconds[fmt] = statistics.median(cpu)
        # Baseline: json.dumps of the same seed records (already in memory) to one file.
        records = [{"query": {"query": row[0], "tags": json.loads(row[1])},
                    "node": {"location": f"{row[2]}:{row[3]}", "hover": row[4],
                             "snippet": row[5]},
                    "rubric": {"relevance": row[6], "risk": row[7], "confidence": row[8],
                               "reasoning": row[9]}, "timestamp": row[10]}
                   for row in store.rows(
                       "SELECT q.text, q.tags, n.path, n.line, n.hover, n.snippet, r.relevance, "
                       "r.risk, r.confidence, r.reasoning, r.created_at FROM rubrics r JOIN nodes "
                       "n ON n.id = r.node_id JOIN queries q ON q.id = n.query_id")]

    def baseline() -> float:
        start = time.perf_counter()
        with (directory / "baseline.jsonl").open("w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        return time.perf_counter() - start

    return results, median_of(runs, baseline)


def bench_size(directory: Path) -> tuple[int, int]:
    sizes = []
    for with_haiku in (False, True):
        path = directory / f"size-{with_haiku}.db"
        root = directory / "codebase"
        root.mkdir(exist_ok=True)
        populate(path, 10_000, root, with_haiku=with_haiku)
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        sizes.append(path.stat().st_size)
    return sizes[0], sizes[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--insert-triples", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="10k examples, 1 run (smoke)")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--workers", type=int, help="render processes (default: as the CLI)")
    args = parser.parse_args()
    if args.quick:
        args.examples, args.insert_triples, args.runs = 10_000, 10_000, 1
    formats = tuple(f for f in args.formats.split(",") if f)
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        directory = Path(tmp)
        store_rate, raw_rate = bench_insert(directory, args.insert_triples, args.runs)
        print(f"insert: {store_rate:,.0f} triples/s via Store.record "
              f"(raw executemany baseline {raw_rate:,.0f}/s, ratio {store_rate / raw_rate:.2f}; "
              f"target >= 50,000/s: {'met' if store_rate >= 50_000 else 'NOT met'})")
        cpu: dict[str, float] = {}
        exports, baseline = bench_export(directory, args.examples, args.runs, formats,
                                         args.workers, cpu)
        for fmt, seconds in exports.items():
            print(f"export {fmt}: {seconds:.2f} s wall, {cpu[fmt]:.2f} s CPU for "
                  f"{args.examples:,} examples ({args.examples / seconds:,.0f}/s; "
                  f"json.dumps baseline {baseline:.2f} s, "
                  f"ratio {seconds / baseline:.1f}x; target < 5 s per 100k: "
                  f"{'met' if seconds * 100_000 / args.examples < 5 else 'NOT met'})")
        plain, shadowed = bench_size(directory)
        print(f"size: {plain / 1e6:.1f} MB per 10k examples (heuristic labels); "
              f"{shadowed / 1e6:.1f} MB with a Haiku label and its raw exchange per node")
    workers = worker_count(args.workers, args.examples)
    print(f"(medians of {args.runs} runs; {workers} render process(es) on {os.cpu_count()} "
          f"CPUs, load average {os.getloadavg()[0]:.1f}; python {sys.version.split()[0]}, "
          f"sqlite {sqlite3.sqlite_version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
