"""``scout-export``: turn the store into fine-tuning datasets without calling a model.

Exit status: 0 written; 1 nothing matched the selection; 2 bad arguments or filters;
3 the database is missing or unusable, or the output folder cannot be written.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from scout.export.audit import Audit, audit, audit_markdown
from scout.export.card import CardContext, dataset_card
from scout.export.formats import FORMATS
from scout.export.questions import TASK as QUESTION_TASK
from scout.export.questions import load_question_examples, question_card
from scout.export.select import (
    DEFAULT_PRIORITY,
    TASK,
    Example,
    Filters,
    SelectionError,
    SelectionReport,
    parse_label_sources,
    parse_multi,
    parse_priority,
    parse_tags,
    parse_when,
    select,
)
from scout.export.split import GROUP_BY, SPLITS, SplitError, SplitPlan, assign_splits, parse_ratios
from scout.export.write import ExportWriteError, worker_count, write_splits
from scout.store import Store, StoreError, resolve_db_path
from scout.store.db import now_utc
from scout.tasks import load_task

EXIT_EMPTY, EXIT_USAGE, EXIT_STORE = 1, 2, 3
PROGRESS_MIN_EXAMPLES = 2000  # below this an export takes well under a second


@dataclass(frozen=True, slots=True)
class ExportOptions:
    fmt: str
    out: Path
    filters: Filters
    plan: SplitPlan
    dedupe: bool = True
    balance: bool = False
    balance_cap: int | None = None
    audit: bool = False
    from_recordings: bool = False
    priority: tuple[str, ...] | None = DEFAULT_PRIORITY  # None: one example per label source
    progress: bool = True
    workers: int | None = 1  # render processes; None = automatic (the CLI's default)
    task: str = TASK  # or "parse_question": how logged questions were understood


@dataclass(frozen=True, slots=True)
class ExportResult:
    examples: int
    per_split: dict[str, int]
    files: tuple[Path, ...]
    card: Path
    report: SelectionReport
    audit: Audit | None


class EmptySelection(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scout-export",
        description="Export logged (query, node, rubric) triples as fine-tuning datasets.")
    parser.add_argument("--format", dest="fmt", required=True, choices=FORMATS)
    parser.add_argument("--task", choices=(TASK, QUESTION_TASK), default=TASK,
                        help="score_node: (query, node, rubric) triples (default); "
                        "parse_question: each logged question with the reading it was given")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--db", type=Path, help="database (default: $SCOUT_DB, the workspace "
                        "setting, then ~/.local/share/semantic-scout/scout.db)")
    parser.add_argument("--workspace", type=Path, default=Path.cwd(),
                        help="workspace whose .scout/config.toml may name the database")
    f = parser.add_argument_group("filters (repeat a flag or use commas for several values)")
    f.add_argument("--label-source", action="append", help="haiku, ghc, heuristic, model, human")
    f.add_argument("--scorer", action="append", help="scorer name, e.g. heuristic, ollama, haiku")
    f.add_argument("--tags", action="append", help="keep examples with any of these tags")
    f.add_argument("--min-confidence", type=int)
    f.add_argument("--since", help="labelled at or after (YYYY-MM-DD or ISO timestamp)")
    f.add_argument("--until", help="labelled up to (a bare date includes the whole day)")
    f.add_argument("--codebase", action="append", help="codebase name(s) to include")
    s = parser.add_argument_group("splits")
    s.add_argument("--split", default="80/10/10", help="train/validation/test (default 80/10/10)")
    s.add_argument("--group-by", choices=GROUP_BY, default="query",
                   help="keep each query's or each codebase's examples in one split")
    s.add_argument("--holdout", action="append",
                   help="codebase name(s) that form the whole test split")
    s.add_argument("--seed", type=int, default=13)
    parser.add_argument("--priority", action="append",
                        help="when several sources labelled a node, export the label of the "
                        f"first one listed (default: {','.join(DEFAULT_PRIORITY)}; sources not "
                        "listed are left out)")
    parser.add_argument("--all-sources", action="store_true",
                        help="export every label source's label as its own example")
    parser.add_argument("--no-dedupe", action="store_true",
                        help="keep repeated (query, node, label source) examples (implies "
                        "--all-sources)")
    parser.add_argument("--balance-tags", action="store_true",
                        help="down-sample each tag combination to the rarest one's size")
    parser.add_argument("--balance-max", type=int,
                        help="with --balance-tags: cap each tag combination at N instead")
    parser.add_argument("--audit", action="store_true",
                        help="print and record label distribution, tag balance, duplicate rate "
                        "and a keyword-overlap shortcut's accuracy")
    parser.add_argument("--from-recordings", action="store_true",
                        help="re-parse labels from the raw model responses (no model calls)")
    parser.add_argument("--workers", type=int,
                        help="render processes (default: one per CPU, up to 4, for large exports)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    return parser


def options_from_args(args: argparse.Namespace) -> ExportOptions:
    filters = Filters(
        label_sources=parse_label_sources(args.label_source), scorers=parse_multi(args.scorer),
        tags=parse_tags(args.tags), min_confidence=args.min_confidence,
        since=parse_when(args.since, end=False), until=parse_when(args.until, end=True),
        codebases=parse_multi(args.codebase))
    plan = SplitPlan(ratios=parse_ratios(args.split), group_by=args.group_by,
                     holdout=parse_multi(args.holdout), seed=args.seed)
    if args.workers is not None and args.workers < 1:
        raise SelectionError("--workers must be at least 1")
    if args.balance_max is not None and (not args.balance_tags or args.balance_max < 1):
        raise SelectionError("--balance-max N needs --balance-tags and N >= 1")
    if args.priority and (args.all_sources or args.no_dedupe):
        raise SelectionError("--priority picks one label per node; --all-sources and "
                             "--no-dedupe keep them all: choose one")
    priority = None if (args.all_sources or args.no_dedupe) else parse_priority(args.priority)
    return ExportOptions(fmt=args.fmt, out=args.out, filters=filters, plan=plan,
                         dedupe=not args.no_dedupe, balance=args.balance_tags,
                         balance_cap=args.balance_max, audit=args.audit,
                         from_recordings=args.from_recordings, priority=priority,
                         progress=not args.quiet, workers=args.workers, task=args.task)


def _write_atomically(path: Path, chunks: Sequence[str] | list[str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.writelines(chunks)
    os.replace(tmp, path)


def export_dataset(store: Store, options: ExportOptions, console: Console | None = None
                   ) -> ExportResult:
    """Select, split, render and write one dataset with its card. Raises SelectionError or
    SplitError for bad options and EmptySelection when nothing matches."""
    console = console or Console(stderr=True)
    if options.task == QUESTION_TASK:
        return _export_questions(store, options)
    task = load_task(TASK)
    known = {row[0] for row in store.rows("SELECT name FROM codebases")}
    unknown = [name for name in options.plan.holdout if name not in known]
    if unknown:
        raise SelectionError(f"no codebase named {unknown} to hold out; known: {sorted(known)}")
    show = (options.progress and console.is_terminal
            and store.counts()["rubrics"] >= PROGRESS_MIN_EXAMPLES)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console, transient=True,
                  disable=not show) as progress:
        reading = progress.add_task("reading the store", total=None)
        examples, report = select(store, options.filters, task=task,
                                  from_recordings=options.from_recordings,
                                  do_dedupe=options.dedupe, balance=options.balance,
                                  balance_cap=options.balance_cap, seed=options.plan.seed,
                                  priority=options.priority)
        progress.remove_task(reading)
        if not examples:
            total = store.counts()["rubrics"]
            hint = (f"the database has {total} rubrics; loosen the filters "
                    f"({'; '.join(options.filters.describe()) or 'none given'})") if total else \
                "the database holds no labels yet: run `scout query` (it logs by default) first"
            if options.from_recordings and report.unparseable:
                hint += f"; {sum(report.unparseable.values())} recordings did not parse"
            raise EmptySelection(f"no examples to export from {store.path}: {hint}")
        examples = assign_splits(examples, options.plan)
        options.out.mkdir(parents=True, exist_ok=True)
        by_split: dict[str, list[Example]] = {split: [] for split in SPLITS}
        for example in examples:
            by_split[example.split].append(example)
        bar = progress.add_task(f"exporting {options.fmt}", total=len(examples))
        files = write_splits(options.fmt, task, by_split, options.out,
                             workers=worker_count(options.workers, len(examples)),
                             on_progress=lambda done: progress.update(bar, completed=done))
    audit_result = audit(examples, report, fmt=options.fmt, task=task) if options.audit else None
    card = dataset_card(examples, report, CardContext(
        fmt=options.fmt, db_path=str(store.path), generated_at=now_utc(), task_name=task.name,
        task_version=task.version, filters=options.filters, plan=options.plan,
        dedupe=options.dedupe, balance=options.balance,
        from_recordings=options.from_recordings, task=task), audit_result)
    card_path = options.out / "README.md"
    _write_atomically(card_path, [card])
    return ExportResult(examples=len(examples),
                        per_split={s: len(by_split[s]) for s in SPLITS}, files=tuple(files),
                        card=card_path, report=report, audit=audit_result)


def _export_questions(store: Store, options: ExportOptions) -> ExportResult:
    """``--task parse_question``: the same splits and formats over understood questions."""
    task = load_task(QUESTION_TASK)
    report = SelectionReport()
    with store.read_snapshot():
        examples = load_question_examples(store, options.filters, report)
    if not examples:
        raise EmptySelection(f"no understood questions to export from {store.path}: ask "
                             "questions in words with `scout query` (it logs by default) first")
    examples = assign_splits(examples, options.plan)  # type: ignore[arg-type]
    options.out.mkdir(parents=True, exist_ok=True)
    by_split: dict[str, list[Any]] = {split: [] for split in SPLITS}
    for example in examples:
        by_split[example.split].append(example)
    files = write_splits(options.fmt, task, by_split, options.out,
                         workers=worker_count(options.workers, len(examples)))
    card_path = options.out / "README.md"
    _write_atomically(card_path, [question_card(
        examples, report, fmt=options.fmt, db_path=str(store.path), generated_at=now_utc(),
        task_version=task.version)])  # type: ignore[arg-type]
    return ExportResult(examples=len(examples),
                        per_split={s: len(by_split[s]) for s in SPLITS}, files=tuple(files),
                        card=card_path, report=report, audit=None)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    try:
        options = options_from_args(args)
    except (SelectionError, SplitError) as exc:
        parser.print_usage(sys.stderr)
        console.print(f"scout-export: error: {exc}", markup=False, highlight=False)
        return EXIT_USAGE
    try:
        resolved = resolve_db_path(args.db, workspace=args.workspace)
    except StoreError as exc:
        console.print(f"scout-export: {exc}", markup=False, highlight=False)
        return EXIT_STORE
    if not resolved.path.exists():
        console.print(f"scout-export: no database at {resolved.path} (from {resolved.source}); "
                      "run `scout query` first (it logs by default) or pass --db PATH",
                      markup=False, highlight=False)
        return EXIT_STORE
    try:
        store = Store.open(resolved.path)
    except StoreError as exc:
        console.print(f"scout-export: {exc}", markup=False, highlight=False)
        return EXIT_STORE
    try:
        result = export_dataset(store, options, console)
    except (SelectionError, SplitError) as exc:
        console.print(f"scout-export: error: {exc}", markup=False, highlight=False)
        return EXIT_USAGE
    except EmptySelection as exc:
        console.print(f"scout-export: {exc}", markup=False, highlight=False)
        return EXIT_EMPTY
    except StoreError as exc:
        console.print(f"scout-export: {exc}", markup=False, highlight=False)
        return EXIT_STORE
    except (ExportWriteError, OSError) as exc:
        console.print(f"scout-export: writing {options.out} failed: {exc}", markup=False,
                      highlight=False)
        return EXIT_STORE
    finally:
        store.close()
    if not args.quiet:
        counts = ", ".join(f"{split} {n}" for split, n in result.per_split.items())
        print(f"wrote {result.examples} {options.fmt} examples to {options.out} ({counts}); "
              f"card: {result.card}")
        for split, n in result.per_split.items():
            if n == 0:
                console.print(f"note: the {split} split is empty (too few groups for the "
                              f"ratios; see --group-by)", markup=False, highlight=False)
    if result.audit is not None:
        print(audit_markdown(result.audit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
