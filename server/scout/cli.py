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


# argparse destination -> Settings field, for the flags a user actually passed.
_SETTING_FLAGS = {
    "scorer": "scorer", "ollama_host": "ollama_host", "ollama_model": "ollama_model",
    "ollama_mode": "ollama_mode", "anthropic_model": "anthropic_model",
    "timeout": "model_timeout", "deadline": "deadline", "budget": "budget", "db": "db",
    "cache_dir": "cache_dir", "workers": "workers",
    "promote_min_agreement": "promote_min_agreement", "promote_min_kappa": "promote_min_kappa",
}


def resolve_cli_settings(args: argparse.Namespace, root: Path | None) -> Any:
    """The one Settings value for this command: flags over the environment and config files."""
    from scout.settings import SettingsError, resolve_settings

    flags = {field: getattr(args, dest) for dest, field in _SETTING_FLAGS.items()
             if getattr(args, dest, None) is not None}
    if getattr(args, "shadow", None):
        flags["shadow"] = True
    if getattr(args, "no_log", False):
        flags["log"] = False
    if getattr(args, "no_cache", False):
        flags["use_cache"] = False
    try:
        settings = resolve_settings(root, flags=flags)
    except SettingsError as exc:
        raise CliError(str(exc)) from exc
    for warning in settings.warnings:
        print(f"scout: warning: {warning}", file=sys.stderr)
    return settings


def _progress_bar(quiet: bool) -> tuple[Any, Any]:
    """A transient progress bar on an interactive stderr, else nothing."""
    if quiet or not sys.stderr.isatty():
        return None, None
    from rich.progress import Progress

    bar = Progress(transient=True)
    task = bar.add_task("indexing", total=None)
    bar.start()

    def progress(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)
    return bar, progress


def open_session(args: argparse.Namespace, *, quiet: bool = False) -> Any:
    """A session over ``--root`` with its index loaded (a progress bar on a terminal)."""
    from scout.session import ScoutSession

    root = _root(args.root)
    session = ScoutSession(root, resolve_cli_settings(args, root))
    bar, progress = _progress_bar(quiet)
    try:
        session.load_index(progress=progress)
    finally:
        if bar is not None:
            bar.stop()
    return session


def cmd_index(args: argparse.Namespace) -> int:
    index = open_session(args, quiet=args.json).index
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


def _add_scorer_options(p: argparse.ArgumentParser) -> None:
    from scout.settings import DEFAULT_SCORER, OLLAMA_MODES, SCORER_NAMES

    p.add_argument("--scorer", choices=SCORER_NAMES,
                   help=f"who scores the nodes (default: {DEFAULT_SCORER}: the local model, "
                   "and the heuristics when it does not answer)")
    p.add_argument("--shadow", choices=("haiku",), help="also score every node with Claude "
                   "Haiku as the teacher (sends code to the Anthropic API; needs "
                   "ANTHROPIC_API_KEY)")
    p.add_argument("--ollama-host", help="Ollama server (default: $OLLAMA_HOST or "
                   "http://127.0.0.1:11434)")
    p.add_argument("--ollama-model", help="Ollama model name (default: functiongemma)")
    p.add_argument("--ollama-mode", choices=OLLAMA_MODES,
                   help="raw (default): our FunctionGemma rendering (training bytes = serving "
                   "bytes); chat: Ollama's chat API with tools, for stock models only (Ollama's "
                   "renderer sends other bytes than Google's template: an extra <bos>, its own "
                   "function-calling line, enum/items dropped, another key order)")
    p.add_argument("--anthropic-model", help="teacher model (default: claude-haiku-4-5)")
    p.add_argument("--timeout", help="seconds per model call (default: 30)")
    p.add_argument("--deadline", help="seconds of model time per question, all calls "
                   "together (default: 60); the heuristics answer for what did not arrive")


def _question_input(args: argparse.Namespace) -> str | dict[str, Any]:
    if args.target:
        structured: dict[str, Any] = {"target": args.target}
        if args.change:
            structured["change"] = args.change
        if args.tags:
            structured["tags"] = args.tags
        if args.question:
            structured["query"] = args.question
        return structured
    if not args.question:
        raise CliError("ask a question (scout query \"What breaks if I add a variant to "
                       "LLMKind?\") or name a symbol with --target NAME [--change KIND]")
    if args.change or args.tags:
        return {"query": args.question, **({"change": args.change} if args.change else {}),
                **({"tags": args.tags} if args.tags else {})}
    return args.question


def cmd_query(args: argparse.Namespace) -> int:
    from scout.explore.engine import ExploreError
    from scout.explore.question import QuestionError, interpret
    from scout.report import fallback_reasons, format_log_outcome, print_report
    from scout.scoring.factory import ScorerConfigError

    session = open_session(args, quiet=args.json)
    try:
        try:
            reading = interpret(session.index.snapshot(), _question_input(args),
                                budget=session.settings.budget)
            if reading.status != "ok" or reading.question is None:
                return _question_problem(args, reading)
            question = reading.question
            session.scorers()
            result = session.ask(question)
        except (QuestionError, ExploreError, ScorerConfigError) as exc:
            raise CliError(str(exc)) from exc
        from scout.scoring.promotion import answering_note, pin_summary

        if note := answering_note(session.scorers()[0]):
            print(f"scout: answering: {note}", file=sys.stderr)
        if summary := pin_summary(result.scored):
            print(f"scout: note: {summary}", file=sys.stderr)
        if args.json:
            for reason in fallback_reasons(result):
                print(f"scout: note: the heuristics answered instead of the model: {reason}",
                      file=sys.stderr)
            print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
        else:
            print_report(result)
            sys.stdout.flush()
        # The answer is out; now wait for the log (and the teacher, when shadowing).
        outcome = result.wait_logged()
        if outcome.error:
            print(f"scout: warning: the answer was not logged: {outcome.error}",
                  file=sys.stderr)
        elif not args.json and (line := format_log_outcome(result)):
            print(line)
        if "pending" in (result.shadow.state, result.student.state):
            session.drain(timeout=session.settings.deadline)
        for role, state in (("teacher", result.shadow), ("student", result.student)):
            if state.state in ("failed", "skipped") and state.error:
                print(f"scout: warning: the {state.scorer} {role}: {state.error}",
                      file=sys.stderr)
    finally:
        session.close()
    return 0


def cmd_actions(args: argparse.Namespace) -> int:
    """The editor's code actions at FILE:LINE[:COL], as questions (and their structured form)."""
    from scout.explore.actions import questions_at

    path_text, line, col = _parse_place(args.place)
    session = open_session(args, quiet=args.json)
    try:
        root = session.root
        path = Path(path_text)
        path = (path if path.is_absolute() else Path.cwd() / path).resolve()
        try:
            rel = path.relative_to(root).as_posix()
        except ValueError:
            raise CliError(f"{args.place} is not inside the workspace {root}") from None
        snapshot = session.snapshot()
        lines = snapshot.source_lines(rel)
        if rel not in snapshot.summaries or not 1 <= line <= len(lines):
            raise CliError(f"{rel}:{line} is not a line of an indexed Haskell file")
        found = questions_at(snapshot, rel, lines[line - 1], line, col)
    finally:
        session.close()
    rows = [{"question": q.text, "target": q.target, "change": q.change.value} for q in found]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    elif not rows:
        print(f"nothing to ask at {rel}:{line}:{col}: put it on a type, constructor, field, "
              "function, class, method, type family, synonym or export entry")
    else:
        for row in rows:
            print(f"{row['question']}    (--target {row['target']} --change {row['change']})")
    return 0


def _parse_place(text: str) -> tuple[str, int, int]:
    parts = text.rsplit(":", 2)
    try:
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            return parts[0], int(parts[1]), int(parts[2]) - 1
        path, line = text.rsplit(":", 1)
        return path, int(line), 0
    except ValueError:
        raise CliError(f"{text!r}: give a place as FILE:LINE or FILE:LINE:COLUMN "
                       "(1-based)") from None


def _question_problem(args: argparse.Namespace, reading: Any) -> int:
    """A question that is ambiguous, not understood or malformed (an ``Interpretation``):
    with --json exactly one ``{"error": {...}}`` object on stdout, otherwise the message and
    any candidates on stderr; exit status 2 either way."""
    if args.json:
        print(json.dumps({"error": reading.error_json()}, ensure_ascii=False))
    else:
        lines = reading.text_lines()
        print(f"scout: error: {lines[0]}", file=sys.stderr)
        for line in lines[1:]:
            print(line, file=sys.stderr)
    return 2


def cmd_serve(args: argparse.Namespace) -> int:
    from scout.lsp.server import serve

    return serve(tcp=args.tcp)


def cmd_export(args: argparse.Namespace) -> int:
    from scout.export.cli import main as export_main

    return export_main(args.export_args)


def cmd_label(args: argparse.Namespace) -> int:
    from scout.label import label_with_haiku_batch, label_with_scorer
    from scout.store.db import Store, StoreError

    def say(message: str) -> None:
        print(message, file=sys.stderr)

    try:
        store = Store.open(args.db)
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    try:
        if args.teacher == "haiku" and args.batch:
            from scout.scoring.anthropic import AnthropicConfigError
            from scout.scoring.batch import BatchError, HaikuBatchLabeller

            try:
                labeller = HaikuBatchLabeller(model=args.anthropic_model)
                report = label_with_haiku_batch(store, labeller, limit=args.limit,
                                                submit=not args.collect_only, wait=args.wait,
                                                poll_seconds=args.poll_seconds, say=say)
            except (AnthropicConfigError, BatchError) as exc:
                raise CliError(str(exc)) from exc
        else:
            from scout.scoring.factory import ScorerConfigError, build_scorer
            from scout.scoring.heuristic import HeuristicScorer

            try:
                teacher = build_scorer(args.teacher, fallback=HeuristicScorer(),
                                       anthropic_model=args.anthropic_model)
            except ScorerConfigError as exc:
                raise CliError(str(exc)) from exc
            report = label_with_scorer(store, teacher, label_source=args.teacher,
                                       limit=args.limit, say=say)
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    finally:
        store.close()
    summary = {"labelled": report.labelled, "errors": report.errors,
               "submitted": report.submitted, "in_progress": report.in_progress}
    if args.json:
        print(json.dumps(summary))
    elif report.nothing_to_do:
        print(f"every logged node already has a {args.teacher} label")
    else:
        print(f"{report.labelled} label(s) stored, {report.errors} error(s); "
              f"{len(report.submitted)} batch(es) submitted, {len(report.in_progress)} still "
              "running" + (" (run the same command later to collect them)"
                           if report.in_progress or report.submitted and not args.wait else ""))
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

    p = sub.add_parser("query", help="what breaks if I change X?")
    p.add_argument("question", nargs="?", help='e.g. "What breaks if I add a variant to '
                   'LLMKind?"')
    _add_index_options(p)
    p.add_argument("--budget", help="nodes to keep: low (10), medium (20, default), high "
                   "(100) or a number (up to 10000)")
    p.add_argument("--target", help="structured form: the symbol (qualified or not)")
    p.add_argument("--change", help="structured form: the kind of change, e.g. "
                   "add_constructor")
    p.add_argument("--tags", help="tags, comma-separated (any case), e.g. "
                   "Exhaustive,PatternMatch")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object")
    p.add_argument("--db", type=Path, help="SQLite database to log to (default: $SCOUT_DB, "
                   "then the per-user database)")
    p.add_argument("--no-log", action="store_true", help="do not log this query")
    _add_scorer_options(p)
    from scout.scoring.promotion import add_promotion_options

    add_promotion_options(p)
    p.set_defaults(func=cmd_query)

    from scout.oracle.cli import add_eval_parser, add_oracle_parser, run_eval, run_oracle

    add_oracle_parser(sub).set_defaults(func=run_oracle)
    add_eval_parser(sub).set_defaults(func=run_eval)
    from scout.train.cli import add_train_parser

    add_train_parser(sub)

    from scout.training.cli import add_gen_training_parser

    add_gen_training_parser(sub)

    p = sub.add_parser("label", help="label logged nodes with a teacher (Haiku), resumable")
    p.add_argument("--teacher", choices=("haiku",), default="haiku")
    p.add_argument("--batch", action="store_true", help="use Message Batches (half price, "
                   "asynchronous): submits now, collects finished batches on the next run")
    p.add_argument("--wait", action="store_true", help="with --batch: poll until done")
    p.add_argument("--collect-only", action="store_true", help="with --batch: only collect")
    p.add_argument("--poll-seconds", type=float, default=60.0)
    p.add_argument("--limit", type=int, help="label at most this many nodes")
    p.add_argument("--anthropic-model", default="claude-haiku-4-5")
    p.add_argument("--db", type=Path, help="SQLite database (default: $SCOUT_DB, then the "
                   "per-user database)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_label)

    p = sub.add_parser("actions", help="the questions the editor offers at FILE:LINE[:COL]")
    p.add_argument("place", help="FILE:LINE or FILE:LINE:COLUMN (1-based)")
    _add_index_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON array")
    p.set_defaults(func=cmd_actions)

    p = sub.add_parser("serve", help="run the language server (stdio; editors start it)")
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead, for debugging")
    p.add_argument("--stdio", action="store_true", help="stdio (the default; accepted because "
                   "LSP clients often pass it)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("export", add_help=False,
                       help="export the log as fine-tuning datasets (same as scout-export)")
    p.add_argument("export_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["export"]:  # scout-export owns its options (argparse would eat --help)
        from scout.export.cli import main as export_main

        return export_main(argv[1:])
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
