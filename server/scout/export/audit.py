"""How learnable is the dataset without understanding code? Label distributions, tag balance,
duplicates, and a keyword-overlap shortcut predictor.

The shortcut: the share of the question's words that also occur in the node's hover and
snippet, bucketed; each bucket predicts the most common label it had in the train split. If
that beats the majority-class baseline by a lot, a model can score well by keyword matching
(the systems this project learns from found 76% of their examples solvable that way).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from scout.export.select import Example, SelectionReport

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_']+")
_STOP = frozenset("""a an and are be breaks break by can do does for from has have how i if in is
it its of on or should that the this to was what when where which who will with would change
changes changed""".split())


@dataclass(frozen=True, slots=True)
class ShortcutResult:
    label: str  # "relevance", "risk", "risk>=4", "relevance>=4"
    accuracy: float
    majority_baseline: float
    evaluated_on: str  # which split
    examples: int


@dataclass(frozen=True, slots=True)
class Audit:
    per_tag: dict[str, dict[str, Counter[int]]]  # tag -> rubric field -> label counts
    tag_counts: Counter[str]
    tag_imbalance: float  # most common tag count / least common
    duplicate_rate: float
    duplicates: int
    shortcut: tuple[ShortcutResult, ...]


@lru_cache(maxsize=16384)
def _words(text: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP)


def overlap(example: Example) -> float:
    query = _words(example.query)
    if not query:
        return 0.0
    node = _words(example.hover) | _words(example.snippet)
    return len(query & node) / len(query)


def _bucket(value: float) -> int:
    return min(int(value * 4), 4)  # [0, .25), [.25, .5), [.5, .75), [.75, 1), exactly 1


def _shortcut(name: str, label: Callable[[Example], int], train: Sequence[Example],
              evaluate: Sequence[Example], evaluated_on: str) -> ShortcutResult:
    by_bucket: dict[int, Counter[int]] = {}
    overall: Counter[int] = Counter()
    for example in train:
        by_bucket.setdefault(_bucket(overlap(example)), Counter())[label(example)] += 1
        overall[label(example)] += 1
    majority = overall.most_common(1)[0][0]
    predictions = {b: counts.most_common(1)[0][0] for b, counts in by_bucket.items()}
    hits = baseline = 0
    for example in evaluate:
        truth = label(example)
        hits += predictions.get(_bucket(overlap(example)), majority) == truth
        baseline += majority == truth
    n = len(evaluate)
    return ShortcutResult(name, hits / n, baseline / n, evaluated_on, n)


def audit(examples: Sequence[Example], report: SelectionReport) -> Audit:
    per_tag: dict[str, dict[str, Counter[int]]] = {}
    tag_counts: Counter[str] = Counter()
    for example in examples:
        for tag in example.tags or ("(no tags)",):
            tag_counts[tag] += 1
            fields = per_tag.setdefault(tag, {"relevance": Counter(), "risk": Counter(),
                                              "confidence": Counter()})
            fields["relevance"][example.rubric.relevance] += 1
            fields["risk"][example.rubric.risk] += 1
            fields["confidence"][example.rubric.confidence] += 1
    imbalance = (max(tag_counts.values()) / min(tag_counts.values())) if tag_counts else 0.0
    train = [e for e in examples if e.split == "train"]
    test = [e for e in examples if e.split == "test"]
    if train and test:
        fit, evaluate, where = train, test, "test (fitted on train)"
    else:
        fit, evaluate, where = examples, examples, "all examples (fitted on the same: optimistic)"
    labels: tuple[tuple[str, Callable[[Example], int]], ...] = (
        ("relevance", lambda e: e.rubric.relevance), ("risk", lambda e: e.rubric.risk),
        ("relevance>=4", lambda e: int(e.rubric.relevance >= 4)),
        ("risk>=4", lambda e: int(e.rubric.risk >= 4)))
    shortcut = tuple(_shortcut(name, label, fit, evaluate, where) for name, label in labels) \
        if examples else ()
    return Audit(per_tag=per_tag, tag_counts=tag_counts, tag_imbalance=imbalance,
                 duplicate_rate=report.duplicate_rate, duplicates=report.duplicates,
                 shortcut=shortcut)


def histogram(counts: Counter[int]) -> str:
    total = sum(counts.values()) or 1
    return " ".join(f"{k}:{counts.get(k, 0)} ({100 * counts.get(k, 0) / total:.0f}%)"
                    for k in range(1, 6))


def audit_markdown(result: Audit) -> str:
    lines = ["## Audit", "",
             f"- duplicate rate: {100 * result.duplicate_rate:.1f}% "
             f"({result.duplicates} duplicates removed)",
             f"- tag imbalance (most / least common tag): {result.tag_imbalance:.2f}", "",
             "### Tag balance", "", "| tag | examples | share |", "|---|---|---|"]
    total = sum(result.tag_counts.values()) or 1
    for tag, count in result.tag_counts.most_common():
        lines.append(f"| {tag} | {count} | {100 * count / total:.1f}% |")
    lines += ["", "### Label distribution per tag", "",
              "| tag | relevance 1..5 | risk 1..5 | confidence 1..5 |", "|---|---|---|---|"]
    for tag in sorted(result.per_tag):
        fields = result.per_tag[tag]
        lines.append(f"| {tag} | {histogram(fields['relevance'])} | {histogram(fields['risk'])} "
                     f"| {histogram(fields['confidence'])} |")
    lines += ["", "### Keyword-overlap shortcut", "",
              "Share of the question's words found in the node's hover and snippet, in 5 "
              "buckets; each bucket predicts its most common train label. High accuracy over "
              "the baseline means the labels are learnable by keyword matching alone.", "",
              "| label | shortcut accuracy | majority baseline | evaluated on | examples |",
              "|---|---|---|---|---|"]
    for r in result.shortcut:
        lines.append(f"| {r.label} | {100 * r.accuracy:.1f}% | {100 * r.majority_baseline:.1f}% "
                     f"| {r.evaluated_on} | {r.examples} |")
    return "\n".join(lines) + "\n"
