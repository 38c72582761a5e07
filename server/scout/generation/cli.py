"""``scout gen-training N``: the thin shell over :mod:`scout.generation.generate`.

Exit status: 0 the plan is done (or stopped at the cost cap, which it says); 2 bad arguments or
a run that cannot start; 3 the database cannot be used; 130 interrupted (rerun to continue).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from scout.cancel import Cancelled, CancelToken
from scout.explore.model import ChangeKind

EXIT_USAGE, EXIT_STORE, EXIT_INTERRUPTED = 2, 3, 130


def add_gen_training_parser(subparsers: Any) -> argparse.ArgumentParser:
    from scout.generation.teachers import STUDENTS, TEACHERS

    p = subparsers.add_parser(
        "gen-training", help="generate questions over workspaces, label them with teachers, "
        "log everything (resumable)",
        description="Plan N diverse questions over the workspaces' own symbols (every change "
                    "kind, varied phrasings and budgets, balanced across tags and risk levels), "
                    "explore them, label every node with each teacher (and the student), and "
                    "log it all. Rerunning the same command continues an interrupted run and "
                    "does nothing once it is done; a larger N extends the plan.")
    p.add_argument("count", type=int, metavar="N", help="questions in the run's plan")
    p.add_argument("--root", action="append", type=Path, dest="roots", required=True,
                   help="workspace root (repeat for several codebases)")
    p.add_argument("--teacher", action="append", choices=TEACHERS, dest="teachers",
                   help="label source (repeat; default: heuristic)")
    p.add_argument("--student", choices=STUDENTS, help="also label with the local model")
    p.add_argument("--db", type=Path, help="database (default: $SCOUT_DB, then the per-user one)")
    p.add_argument("--seed", type=int, default=0, help="plan seed (a new seed is a new plan)")
    p.add_argument("--changes", help="comma-separated change kinds to ask about (default: all)")
    p.add_argument("--max-cost", type=float, metavar="USD",
                   help="stop before the paid teachers' cost passes this (required with haiku)")
    p.add_argument("--retry-failed", action="store_true",
                   help="ask failed questions again and retry teachers that gave no labels")
    p.add_argument("--anthropic-model", default="claude-haiku-4-5")
    p.add_argument("--ollama-host")
    p.add_argument("--ollama-model", default="functiongemma")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per model call")
    p.add_argument("--oracle-cache", type=Path, help="GHC baseline cache for the ghc teacher")
    p.add_argument("--typecheck-cmd", help="type-check command template for the ghc teacher "
                   "(see scout oracle --help)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_gen_training)
    return p


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"scout gen-training: {message}", file=sys.stderr)
    return code


def run_gen_training(args: argparse.Namespace) -> int:
    from scout.generation.generate import (
        GenerationError,
        GenOptions,
        TrainingRun,
        summarise,
        summary_table,
    )
    from scout.generation.teachers import build_teacher
    from scout.oracle.cli import _sigterm_as_interrupt
    from scout.scoring.factory import ScorerConfigError
    from scout.store import Store, StoreError

    if args.count < 1:
        return _fail("N must be at least 1")
    teacher_names = list(dict.fromkeys(args.teachers or ["heuristic"]))
    if "haiku" in teacher_names and args.max_cost is None:
        return _fail("haiku is a paid teacher: pass --max-cost USD (the estimate is printed "
                     "before anything is spent)")
    try:
        changes = tuple(ChangeKind(c.strip()) for c in args.changes.split(",")) \
            if args.changes else tuple(ChangeKind)
    except ValueError as exc:
        return _fail(f"{exc}; change kinds are {', '.join(c.value for c in ChangeKind)}")
    options = dict(anthropic_model=args.anthropic_model, ollama_host=args.ollama_host,
                   ollama_model=args.ollama_model, timeout=args.timeout,
                   oracle_cache=args.oracle_cache, typecheck_cmd=args.typecheck_cmd)
    try:
        teachers = tuple(build_teacher(name, **options) for name in teacher_names)
        student = build_teacher(args.student, **options) if args.student else None
    except ScorerConfigError as exc:
        return _fail(str(exc))
    gen = GenOptions(count=args.count, roots=tuple(args.roots), teachers=teachers,
                     student=student, seed=args.seed, changes=changes, max_cost=args.max_cost,
                     retry_failed=args.retry_failed)
    try:
        store = Store.open(args.db)
    except StoreError as exc:
        return _fail(str(exc), EXIT_STORE)
    console = Console(stderr=True)
    token = CancelToken()
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True,
                  disable=args.quiet or not console.is_terminal) as bar:
        tasks: dict[str, Any] = {}

        def progress(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total)
            bar.update(tasks[what], completed=done, total=total)

        def say(message: str) -> None:
            console.print(message, markup=False, highlight=False)

        run = TrainingRun(store, gen, token=token, progress=progress, say=say)
        code = 0
        try:
            with _sigterm_as_interrupt():
                report = run.execute()
        except GenerationError as exc:
            store.close()
            return _fail(str(exc))
        except (KeyboardInterrupt, Cancelled):
            token.cancel("interrupted")
            store.close()
            return _fail("interrupted; rerun the same command to continue where it stopped",
                         EXIT_INTERRUPTED)
        except StoreError as exc:
            store.close()
            return _fail(str(exc), EXIT_STORE)
    summary = summarise(store, report.run_id)
    store.close()
    rate = report.examples_now / report.seconds if report.seconds else 0.0
    if args.json:
        print(json.dumps({"run": report.key, "planned": report.planned,
                          "new_in_plan": report.new_in_plan, "asked_now": report.done_now,
                          "labelled_later_now": report.catch_up, "failed_now": report.failed_now,
                          "misread_now": report.misread_now,
                          "examples_now": report.examples_now,
                          "labels_now": dict(report.labels_now),
                          "estimated_cost_usd": report.estimated_cost,
                          "spent_now_usd": round(report.spent_now, 6),
                          "stopped": report.stopped, "exhausted": report.exhausted,
                          "seconds": round(report.seconds, 2),
                          "examples_per_second": round(rate, 2),
                          "summary": summary.as_json()}))
    else:
        print(f"run {report.key}: {report.planned} question(s) planned ({report.new_in_plan} "
              f"new); asked now {report.done_now}, labelled later {report.catch_up}, failed "
              f"{report.failed_now}; {report.examples_now} example(s) in {report.seconds:.1f} s "
              f"({rate:.1f}/s)")
        if report.exhausted:
            print(f"note: the workspaces offered only {report.planned} distinct questions")
        if report.stopped:
            print(f"stopped: {report.stopped}; raise --max-cost and rerun to continue")
        print(summary_table(summary))
    return code
