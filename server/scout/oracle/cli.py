"""``scout oracle`` and ``scout eval``: thin shells over the oracle library.

``scout oracle --json`` prints exactly one object::

    {"sites": [{"location": "rel/path.hs:LINE", "span": [START_LINE, END_LINE], "reason": "..."}],
     "checked_modules": N, "skipped_modules": [{"module": "M", "reason": "..."}], "seconds": S}

``span`` is the first and last line (1-based, inclusive) of what GHC reported, in the original
file; ``reason`` is GHC's message; ``checked_modules`` counts the modules GHC type-checked;
``skipped_modules`` lists the modules it did not (not in a library component, or downstream of a
module that failed after the mutation) and why. Errors go to stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scout.cancel import Cancelled
from scout.explore.model import ChangeKind
from scout.oracle.mutate import METHOD_VARIANTS, SUPPORTED_CHANGES, MutationError
from scout.oracle.oracle import BUILD_MODES, Oracle, OracleError

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def _common(p: argparse.ArgumentParser, *, many_roots: bool) -> None:
    if many_roots:
        p.add_argument("--root", action="append", type=Path, dest="roots",
                       help="workspace root (repeat for several; default: current directory)")
    else:
        p.add_argument("--root", type=Path, default=Path("."),
                       help="workspace root (default: current directory)")
    p.add_argument("--typecheck-cmd", metavar="TEMPLATE",
                   help="type-check command template run in the scratch copy; placeholders "
                        "{root} {hidir} {flags} {files} (include {flags}: it carries -ddump-json "
                        "and the warnings the oracle reads)")
    p.add_argument("--cache-dir", type=Path,
                   help="baseline cache (default: $XDG_CACHE_HOME/semantic-scout/oracle)")
    p.add_argument("--build", choices=BUILD_MODES, default="auto",
                   help="how to type-check: cabal build --offline (Debian's packages), ghc --make, "
                        "or auto (cabal for .cabal libraries when cabal is installed, else ghc; "
                        "the reason is reported)")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object")


def add_oracle_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "oracle", help="mutate a target in a scratch copy and ask GHC what breaks",
        description="Apply a change to a scratch copy of the workspace, type-check it with GHC, "
                    "and list the places that break. Your files are never modified.")
    p.add_argument("question", nargs="?", help='e.g. "What breaks if I add a variant to Shape?"')
    p.add_argument("--target", help="the symbol to change (qualified or not)")
    p.add_argument("--change", help="one of: " + ", ".join(c.value for c in SUPPORTED_CHANGES))
    p.add_argument("--subject", help="the constructor or field a removal, rename or type change "
                                     "is about (default: the last one)")
    p.add_argument("--variant", choices=METHOD_VARIANTS,
                   help="for add_method: required (no default; joins the MINIMAL formula; the "
                        "default reading) or default (optional, with a default implementation)")
    _common(p, many_roots=False)
    p.set_defaults(func=run_oracle)
    return p


def add_eval_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "eval", help="measure a scorer against GHC on mutations of real code",
        description="For mutations given (--mutations) or sampled from the workspace, compare a "
                    "scorer's risk with what GHC reports: recall/precision of risk>=4, silent-"
                    "site recall, quadratic-weighted kappa, beside a grep baseline.")
    p.add_argument("--against", default="ghc", choices=["ghc"], help="the teacher (ghc)")
    p.add_argument("--scorer", default="heuristic",
                   help="scorer under test: heuristic (default), ollama, hybrid, haiku")
    p.add_argument("--mutations", type=Path, help="JSON file: [{target, change, subject?}] or "
                                                  "{\"mutations\": [...]}")
    p.add_argument("--per-kind", type=int, default=2, help="sampled mutations per change kind")
    p.add_argument("--seed", type=int, default=0, help="sampling seed")
    p.add_argument("--kinds", help="comma-separated change kinds to sample (default: all)")
    _common(p, many_roots=True)
    a = p.add_argument_group("label-source agreement (scout.agreement): no GHC run, reads --db")
    a.add_argument("--agreement", action="store_true",
                   help="compare every pair of label sources on the nodes both labelled")
    a.add_argument("--db", type=Path, help="database (default: $SCOUT_DB, then the per-user one)")
    a.add_argument("--field", choices=("risk", "relevance", "confidence"), default="risk")
    a.add_argument("--plot", type=Path, metavar="FILE", help="PNG of the confusion matrices")
    from scout.scoring.promotion import add_eval_model_options

    add_eval_model_options(p)  # which Ollama model; where the result is recorded (promotion)
    p.set_defaults(func=run_eval)
    return p


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so scratch copies are removed and GHC is killed. Under
    the `scout` command it already does (scout.exits: exit 143, SIGHUP too): left alone."""
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    if callable(signal.getsignal(signal.SIGTERM)):  # a Python handler is in charge already
        yield
        return
    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _fail(message: str) -> int:
    print(f"scout: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _change(value: str) -> ChangeKind:
    try:
        return ChangeKind(value.strip().lower().replace("-", "_"))
    except ValueError:
        raise MutationError(f"unknown change {value!r}: use one of "
                            f"{', '.join(c.value for c in SUPPORTED_CHANGES)}") from None


def _resolve_request(args: argparse.Namespace) -> tuple[str, ChangeKind, str | None, str | None]:
    """(target, change, subject, variant): from the flags, or read from the question (its
    ``variant`` is the add_method reading: "with a default" / "without a default")."""
    if args.target and args.change:
        return args.target, _change(args.change), args.subject, args.variant
    if args.question:
        try:
            from scout.explore.question import QuestionError, parse_question
        except ImportError as exc:
            raise MutationError("free-text questions need scout.explore.question; use "
                                "--target NAME --change KIND") from exc
        try:
            q = parse_question(args.question)
        except QuestionError as exc:
            raise MutationError(str(exc)) from exc
        return q.target, q.change, args.subject or q.subject, args.variant or q.variant
    raise MutationError("say what to change: a question (\"What breaks if I add a constructor "
                        "to Shape?\") or --target NAME --change KIND")


def run_oracle(args: argparse.Namespace) -> int:
    from scout.haskell.index import WorkspaceIndex
    from scout.oracle.targets import mutation_for

    root = Path(args.root).expanduser()
    if not root.is_dir():
        return _fail(f"workspace root {root} is not a directory: pass --root DIR")
    with _sigterm_as_interrupt():
        try:
            target, change, subject, variant = _resolve_request(args)
            index = WorkspaceIndex.build(root)
            mutation = mutation_for(index, target, change, subject, variant)
            oracle = Oracle(root, cache_dir=args.cache_dir, typecheck_cmd=args.typecheck_cmd,
                            index=index, build=args.build)
            result = oracle.check(mutation)
        except (MutationError, OracleError, Cancelled) as exc:  # incl. BaselineBroken, no GHC
            return _fail(str(exc))
        except KeyboardInterrupt:
            print("scout: interrupted; scratch copies removed", file=sys.stderr)
            return EXIT_INTERRUPTED
    if args.json:
        print(json.dumps(result.as_json()))
        return 0
    print(f"{result.summary}: {len(result.sites)} break site(s), {result.checked_modules} "
          f"modules checked in {result.seconds:.1f} s ({result.how})")
    for site in result.sites:
        first = site.reason.splitlines()[0] if site.reason else ""
        print(f"  {site.location}  {first.lstrip('• ').strip()}")
    outside = [s for s in result.skipped_modules if "not part of a library" in s.reason
               or "Main module" in s.reason]
    for skipped in result.skipped_modules:
        if skipped not in outside:
            print(f"  not checked: {skipped.module}: {skipped.reason}", file=sys.stderr)
    if outside:
        names = ", ".join(s.path or s.module for s in outside[:3])
        more = f" and {len(outside) - 3} more" if len(outside) > 3 else ""
        print(f"  not checked: {len(outside)} file(s) outside the library components "
              f"({names}{more}); use --typecheck-cmd to check them", file=sys.stderr)
    return 0


def run_eval(args: argparse.Namespace) -> int:
    if getattr(args, "agreement", False):
        from scout.agreement import run_agreement

        return run_agreement(args)
    from scout.oracle.evaluate import evaluate, load_mutations
    from scout.scoring.heuristic import HeuristicScorer

    roots = args.roots or [Path(".")]
    for root in roots:
        if not Path(root).is_dir():
            return _fail(f"workspace root {root} is not a directory: pass --root DIR")
    with _sigterm_as_interrupt():
        try:
            mutations = load_mutations(args.mutations) if args.mutations else None
            kinds = [_change(k) for k in args.kinds.split(",")] if args.kinds else None
            scorer = _scorer(args.scorer, HeuristicScorer(), args)
            from scout.scoring.promotion import EvalRecorder

            recorder = EvalRecorder(args, scorer)  # records a model's result for promotion
            report = evaluate(
                roots, recorder.scorer, mutations=mutations, per_kind=args.per_kind,
                seed=args.seed, cache_dir=args.cache_dir, typecheck_cmd=args.typecheck_cmd,
                build=args.build,
                **({"kinds": kinds} if kinds else {}),
                progress=lambda msg: print(f"scout eval: {msg}", file=sys.stderr))
        except (OSError, ValueError, MutationError, OracleError, Cancelled) as exc:
            return _fail(str(exc))
        except KeyboardInterrupt:
            print("scout: interrupted; scratch copies removed", file=sys.stderr)
            return EXIT_INTERRUPTED
    recorder.finish(report, roots, say=lambda msg: print(f"scout eval: {msg}", file=sys.stderr))
    if args.json:
        print(json.dumps(report.as_json()))
    else:
        print(report.table())
        for case in report.cases:
            if case.error:
                print(f"  error: {case.spec.change.value} {case.spec.target}: {case.error}",
                      file=sys.stderr)
    return 0


def _scorer(name: str, heuristic: Any, args: argparse.Namespace | None = None) -> Any:
    if name == "heuristic":
        return heuristic
    from scout.scoring.factory import ScorerConfigError, build_scorer

    try:
        return build_scorer(name, fallback=heuristic,
                            ollama_host=getattr(args, "ollama_host", None),
                            ollama_model=getattr(args, "ollama_model", None) or "functiongemma")
    except ScorerConfigError as exc:
        raise ValueError(str(exc)) from exc


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (tests, and until the ``scout`` CLI registers these commands)."""
    parser = argparse.ArgumentParser(prog="scout")
    sub = parser.add_subparsers(dest="command", required=True)
    add_oracle_parser(sub)
    add_eval_parser(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
