"""How learnable is the dataset without understanding code? Label distributions, tag balance,
duplicates, and a keyword-overlap shortcut predictor.

The shortcut: the share of the question's words that also occur in the node's hover and
snippet, bucketed; each bucket predicts the most common label it had in the train split. If
that beats the majority-class baseline by a lot, a model can score well by keyword matching
(the systems this project learns from found 76% of their examples solvable that way).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from scout.explore.model import ChangeKind
from scout.export.formats import BOS, LineRenderer, bos_in_text
from scout.export.select import Example, SelectionReport
from scout.functiongemma.format import _CONTROL_NAMES
from scout.scoring.heuristic import guidance_rule
from scout.store.db import facts_from_json
from scout.tasks import TaskDefinition

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


@dataclass(slots=True)
class GuidanceCheck:
    """One label source's labels against the score_node guidance's rules (``scoring.heuristic``):
    the rule the node's facts and the question's change kind call for, and the label given."""

    source: str
    checked: int = 0
    risk_agrees: int = 0
    relevance_agrees: int = 0
    confidence_agrees: int = 0
    explained: int = 0  # ghc: the compiler saw a break the rules did not, or none they expected
    disagreements: Counter[str] = field(default_factory=Counter)  # "rule: risk X, given Y"
    unchecked: int = 0  # no facts or an unknown change kind stored

    @property
    def violations(self) -> int:
        return sum(self.disagreements.values())


@dataclass(slots=True)
class FormatCheck:
    """The rendered lines: BOS where the card says, no raw control-token string in content."""

    fmt: str
    bos_in_text: bool | None  # None: not a text format
    checked: int = 0
    bad_bos: int = 0
    raw_tokens: int = 0  # examples with a control-token string outside the format's structure
    first_bad: str | None = None


@dataclass(frozen=True, slots=True)
class Audit:
    per_tag: dict[str, dict[str, Counter[int]]]  # tag -> rubric field -> label counts
    tag_counts: Counter[str]
    tag_imbalance: float  # most common tag count / least common
    duplicate_rate: float
    duplicates: int
    shortcut: tuple[ShortcutResult, ...]
    guidance: tuple[GuidanceCheck, ...] = ()
    rendering: FormatCheck | None = None


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


def check_guidance(examples: Sequence[Example]) -> tuple[GuidanceCheck, ...]:
    checks: dict[str, GuidanceCheck] = {}
    for example in examples:
        check = checks.setdefault(example.label_source, GuidanceCheck(example.label_source))
        try:
            rule = guidance_rule(ChangeKind(example.change), facts_from_json(example.facts))
        except (ValueError, KeyError, TypeError):  # json errors are ValueErrors
            check.unchecked += 1
            continue
        rubric = example.rubric
        check.checked += 1
        check.relevance_agrees += rubric.relevance == rule.relevance
        check.confidence_agrees += rubric.confidence == rule.confidence
        if rubric.risk == rule.risk:
            check.risk_agrees += 1
        elif example.label_source == "ghc" and (
                (rubric.risk == 5 and rule.risk < 5) or (rubric.risk == 1 and rule.risk >= 4)):
            check.explained += 1  # GHC reported the place, or type-checks a predicted break
        else:
            check.disagreements[f"{rule.name}: risk {rule.risk} by the guidance, "
                                f"{rubric.risk} given"] += 1
    return tuple(checks[source] for source in sorted(checks))


_CONTROL = re.compile("<(?:" + "|".join(_CONTROL_NAMES) + ")>")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def check_rendering(fmt: str, task: TaskDefinition, examples: Sequence[Example]) -> FormatCheck:
    """Render every example as written and check it: a text format has exactly the control
    tokens of its structure (any extra one came from content that was not neutralised) and a
    leading ``<bos>`` exactly when the card says so; ``messages`` carry no control-token
    string anywhere (the chat template adds the structure, and ``<bos>``)."""
    in_text = bos_in_text(task) if fmt in ("functiongemma", "prompt-completion") else None
    check = FormatCheck(fmt, in_text)
    if fmt == "json" or not examples:
        return check
    render = LineRenderer(fmt, task)
    expected: Counter[str] | None = None
    for example in examples:
        row = json.loads(render(example))
        check.checked += 1
        if fmt == "messages":
            bad = any(_CONTROL.search(text) for text in _strings(row["messages"]))
            bad_bos = any(BOS in text for text in _strings(row["messages"]))
        else:
            text = row["text"] if fmt == "functiongemma" else row["prompt"] + row["completion"]
            tokens = Counter(_CONTROL.findall(text))
            bad_bos = text.startswith(BOS) != in_text or tokens[BOS] != int(bool(in_text))
            if expected is None:  # the structure: a probe whose content holds no '<'
                expected = Counter(_CONTROL.findall(_probe_text(fmt, task)))
            bad = tokens != expected
        check.bad_bos += bad_bos
        if bad:
            check.raw_tokens += 1
            check.first_bad = check.first_bad or example.location
    return check


def _probe_text(fmt: str, task: TaskDefinition) -> str:
    from scout.export.formats import _PROBE_INPUTS, _PROBE_OUTPUT
    from scout.functiongemma import render_example

    return render_example(task, _PROBE_INPUTS, _PROBE_OUTPUT)


def audit(examples: Sequence[Example], report: SelectionReport, *, fmt: str | None = None,
          task: TaskDefinition | None = None) -> Audit:
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
    rendering = check_rendering(fmt, task, examples) if fmt and task else None
    return Audit(per_tag=per_tag, tag_counts=tag_counts, tag_imbalance=imbalance,
                 duplicate_rate=report.duplicate_rate, duplicates=report.duplicates,
                 shortcut=shortcut, guidance=check_guidance(examples), rendering=rendering)


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
    if result.guidance:
        lines += ["", "### Labels against the guidance", "",
                  "Each label against the rule of the `score_node` guidance that the node's "
                  "facts and the question's change kind call for (`scoring/heuristic.py`). For "
                  "`ghc`, a break the compiler reports (risk 5) or a predicted break it "
                  "type-checks (risk 1) is compiler evidence, not a disagreement.", "",
                  "| label source | checked | risk as the guidance | relevance | confidence "
                  "| compiler evidence | disagreements |", "|---|---|---|---|---|---|---|"]
        for g in result.guidance:
            n = g.checked or 1
            lines.append(f"| {g.source} | {g.checked} | {100 * g.risk_agrees / n:.1f}% | "
                         f"{100 * g.relevance_agrees / n:.1f}% | "
                         f"{100 * g.confidence_agrees / n:.1f}% | {g.explained} | "
                         f"{g.violations} |")
        for g in result.guidance:
            for what, count in g.disagreements.most_common(8):
                lines.append(f"- {g.source}: {count} x {what}")
    if result.rendering is not None and result.rendering.checked:
        r = result.rendering
        where = "starts every text" if r.bos_in_text else (
            "is in no text (the tokenizer adds it)" if r.bos_in_text is False else
            "is in no message (the chat template adds it)")
        lines += ["", "### Rendering", "",
                  f"- `<bos>` {where}: {r.checked - r.bad_bos} of {r.checked} examples agree"
                  + (f", {r.bad_bos} do not" if r.bad_bos else ""),
                  f"- control-token strings outside the format's structure: {r.raw_tokens} "
                  "examples" + (f" (first: {r.first_bad})" if r.first_bad else "")]
    return "\n".join(lines) + "\n"
