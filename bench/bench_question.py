"""How long understanding a question takes against a large workspace (issue 11: < 5 ms).

For a real project (default: xmonad + xmonad-contrib from Debian, see fetch_debian.py) the
index is built once, then questions are read against it the way a session does (one
``Lexicon`` over the index, reused): the suite's questions about xmonad plus questions made from
the workspace's own definitions with a spread of phrasings (every change kind, terse and in
sentences, with Haskell syntax, naming the container or not, English words that are also
names). Timed per question, in the same run:

- ``understand``: ``parse_question(text, index=lexicon)``: tokenise, tag against the lexicon,
  read (what issue 11 bounds);
- ``interpret``: understanding plus resolving the target (what ``scout query`` does before
  exploring);
- ``shape``: the same pipeline without the workspace (names read by their shape);
- ``lookup`` (the baseline): split the text into identifiers with a regex and look each up in
  the index: the least any lexicon-based reading must do.

Each question is timed ``--repeat`` times and its median kept; the report gives the median,
95th percentile and maximum of those per-question medians, ratios against the baseline, and
the one-off costs of a session's first question (the definitions map, the module table).

    python bench/bench_question.py [--packages xmonad xmonad-contrib] [--repeat 5] [--json]
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
from collections.abc import Callable
from pathlib import Path

from scout.explore.question import Lexicon, QuestionError, interpret, parse_question
from scout.explore.resolve import ExploreError
from scout.haskell.index import WorkspaceIndex
from scout.haskell.model import DefKind

CORPUS = Path(__file__).resolve().parent / ".cache" / "debian"
SUITE = Path(__file__).resolve().parents[1] / "tests" / "questions"
TARGET_MS = 5.0

TEMPLATES: dict[DefKind, tuple[str, ...]] = {
    DefKind.DATA: (
        "What breaks if I add a variant to {n}?", "add ctor Extra{n} to {n}",
        "what if {n} gets a new constructor", "I want to add a field to {n}",
        "add a `scoutNew :: Maybe Int` field to {n}", "I plan to modify the {n} type",
        "what depends on {n}?", "stop exporting {n}"),
    DefKind.CONSTRUCTOR: (
        "remove the {n} constructor", "rename {n} to {n}Two", "what if {n} goes away",
        "{n} should be called New{n} from now on"),
    DefKind.FIELD: (
        "remove the {n} field", "rename {n} to {n}2", "change the type of {n}",
        "what if {n} were a Maybe Int", "{n} :: [String]"),
    DefKind.FUNCTION: (
        "if {n} takes one more argument", "{n} needs an extra Bool argument",
        "make {n} return Text", "what if {n} took the X as its first argument",
        "I'm refactoring {n} - what could break?", "make {n} private",
        "change the signature of {n}"),
    DefKind.CLASS: (
        "add a method to {n}", "make Show a superclass of {n}",
        "add a method without a default implementation to {n}", "{n} should extend Eq"),
    DefKind.TYPE_SYNONYM: ("change the type synonym {n}", "what if {n} becomes an Integer",
                           "{n} = Rational"),
}


def questions(index: WorkspaceIndex, per_kind: int) -> list[str]:
    out: list[str] = []
    for kind, templates in TEMPLATES.items():
        names = sorted({d.name for d in index.definitions_of_kind(kind)
                        if d.name[:1].isalpha()})[:per_kind]
        for i, name in enumerate(names):
            out.append(templates[i % len(templates)].format(n=name))
    for path in (SUITE / "dev.jsonl", SUITE / "holdout.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["ws"] == "xmonad":
                out.append(row["q"])
    return out


_IDENT = re.compile(r"[A-Za-z_][\w'.]*")


def lookup_baseline(index: WorkspaceIndex) -> Callable[[str], int]:
    def run(text: str) -> int:
        return sum(len(index.definitions(word.rsplit(".", 1)[-1]))
                   for word in _IDENT.findall(text))
    return run


def time_each(fn: Callable[[str], object], texts: list[str], repeat: int) -> list[float]:
    """Per question, the median of ``repeat`` timings (ms): a question's own cost, without
    the scheduler's interruptions on a shared machine."""
    samples: list[list[float]] = [[] for _ in texts]
    for _ in range(repeat):
        for i, text in enumerate(texts):
            started = time.perf_counter()
            try:
                fn(text)
            except (QuestionError, ExploreError):
                pass  # not understood / ambiguous is an answer too, and timed as one
            samples[i].append((time.perf_counter() - started) * 1000)
    return [statistics.median(s) for s in samples]


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median_ms": statistics.median(ordered),
            "p95_ms": ordered[int(0.95 * (len(ordered) - 1))], "max_ms": ordered[-1]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packages", nargs="+", default=["xmonad", "xmonad-contrib"])
    ap.add_argument("--per-kind", type=int, default=40, help="generated questions per kind")
    ap.add_argument("--repeat", type=int, default=5, help="timed repetitions of the set")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    missing = [p for p in args.packages if not (CORPUS / p).is_dir()]
    if missing:
        print(f"missing sources for {missing}: run python bench/fetch_debian.py "
              f"{' '.join(missing)}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "workspace"
        for p in args.packages:
            shutil.copytree(CORPUS / p, root / p, symlinks=True)
        index = WorkspaceIndex.build(root, use_cache=False)
        stats = index.stats()
        started = time.perf_counter()
        index.definitions("XConfig")  # the index's definitions map, built on first use
        first_lookup_ms = (time.perf_counter() - started) * 1000
        lexicon = Lexicon(index)
        started = time.perf_counter()
        lexicon.module("XMonad.Core")  # the module table, built on a session's first question
        module_table_ms = (time.perf_counter() - started) * 1000
        texts = questions(index, args.per_kind)
        for text in texts[:20]:  # warm caches shared by every variant (regexes, lemmas)
            try:
                parse_question(text, index=lexicon)
            except (QuestionError, ExploreError):
                pass
        results = {
            "lookup": summary(time_each(lookup_baseline(index), texts, args.repeat)),
            "understand": summary(time_each(lambda t: parse_question(t, index=lexicon),
                                            texts, args.repeat)),
            "interpret": summary(time_each(lambda t: interpret(index, t), texts,
                                           args.repeat)),
            "shape": summary(time_each(parse_question, texts, args.repeat)),
        }
    base = results["lookup"]["median_ms"]
    for r in results.values():
        r["ratio_vs_lookup"] = r["median_ms"] / base if base else float("nan")
    verdict = results["understand"]["median_ms"] < TARGET_MS
    report = {"packages": args.packages, "files": stats.files, "lines": stats.lines,
              "definitions": stats.definitions, "questions": len(texts),
              "repeat": args.repeat, "first_lookup_ms": first_lookup_ms,
              "module_table_ms": module_table_ms, "results": results,
              "target_ms": TARGET_MS, "understand_under_target": verdict}
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"workspace: {' + '.join(args.packages)}: {stats.files} files, {stats.lines} lines, "
          f"{stats.definitions} definitions; {len(texts)} questions x {args.repeat}")
    print(f"once per session: definitions map {first_lookup_ms:.1f} ms, module table "
          f"{module_table_ms:.2f} ms")
    print(f"{'':12}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'x lookup':>10}")
    for name, r in results.items():
        print(f"{name:12}{r['median_ms']:11.3f}{r['p95_ms']:9.3f}{r['max_ms']:9.2f}"
              f"{r['ratio_vs_lookup']:10.1f}")
    print(f"target: understanding < {TARGET_MS:g} ms per question (median): "
          f"{'met' if verdict else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
