"""The dataset card (README.md) written next to the exported files."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from scout.export.audit import Audit, audit_markdown, histogram
from scout.export.formats import bos_statement, file_name
from scout.export.select import Example, Filters, SelectionReport
from scout.export.split import SPLITS, SplitPlan


@dataclass(frozen=True, slots=True)
class CardContext:
    fmt: str
    db_path: str
    generated_at: str
    task_name: str
    task_version: str
    filters: Filters
    plan: SplitPlan
    dedupe: bool
    balance: bool
    from_recordings: bool
    task: object | None = None  # the TaskDefinition, for the BOS statement


def _table(title: str, counts: dict[str, Counter[str]]) -> list[str]:
    lines = [f"| {title} | " + " | ".join(SPLITS) + " | total |",
             "|---|" + "---|" * (len(SPLITS) + 1)]
    for key in sorted(counts):
        row = counts[key]
        lines.append(f"| {key} | " + " | ".join(str(row.get(s, 0)) for s in SPLITS)
                     + f" | {sum(row.values())} |")
    return lines


def dataset_card(examples: Sequence[Example], report: SelectionReport, ctx: CardContext,
                 audit_result: Audit | None) -> str:
    # One pass over the examples: a card for 100k examples must not cost a second.
    triples = Counter((e.split, e.label_source, e.scorer, e.codebase) for e in examples)
    labels = Counter((e.split, e.rubric.relevance, e.rubric.risk, e.rubric.confidence)
                     for e in examples)
    per_split: Counter[str] = Counter()
    by: dict[str, dict[str, Counter[str]]] = {"label source": {}, "scorer": {}, "codebase": {}}
    for (split, source, scorer, codebase), n in triples.items():
        per_split[split] += n
        for name, key in (("label source", source), ("scorer", scorer), ("codebase", codebase)):
            by[name].setdefault(key, Counter())[split] += n
    ratios = "/".join(f"{100 * r:g}" for r in ctx.plan.ratios)
    lines = [
        f"# Semantic Scout dataset: {ctx.task_name} ({ctx.fmt})", "",
        f"Exported {ctx.generated_at} by `scout-export` from `{ctx.db_path}`. Task "
        f"`{ctx.task_name}` version {ctx.task_version}: inputs query, tags, location, hover, "
        "snippet; output one `score_node` call with relevance, risk, confidence (1..5) and "
        "reasoning.", "",
        "## Files", "", "| split | file | examples |", "|---|---|---|"]
    for split in SPLITS:
        lines.append(f"| {split} | `{file_name(ctx.fmt, split)}` | {per_split.get(split, 0)} |")
    lines += ["", f"Total: {len(examples)} examples.", "", "## How it was made", "",
              f"- splits: {ratios} (train/validation/test), grouped by {ctx.plan.group_by} "
              "(no group on two sides), seed " f"{ctx.plan.seed}"]
    if ctx.plan.holdout:
        lines.append(f"- held-out codebases (the whole test split): "
                     f"{', '.join(ctx.plan.holdout)}; the other codebases are split "
                     "train/validation in the same proportion as above")
    lines.append(f"- filters: {'; '.join(ctx.filters.describe()) or 'none'}")
    lines.append(f"- rows matching the filters: {report.selected}")
    if report.priority is not None:
        aside = ", ".join(f"{source} {n}" for source, n in report.set_aside.most_common())
        left = ", ".join(f"{source} {n}" for source, n in report.not_in_priority.most_common())
        lines.append(f"- one example per node: the label of the first source in "
                     f"{' > '.join(report.priority)} that labelled it (its latest label); "
                     f"labels set aside for a better source: {aside or 'none'}; labels of "
                     f"sources not listed: {left or 'none'}; repeated labels of one source: "
                     f"{report.duplicates}")
    elif ctx.dedupe:
        lines.append(f"- dedupe on (normalised query, node, label source), latest label kept: "
                     f"{report.duplicates} removed ({100 * report.duplicate_rate:.1f}%)")
    else:
        lines.append("- dedupe: off")
    if ctx.balance:
        lines.append(f"- tag balancing: {report.balanced_away} examples down-sampled away")
    if ctx.from_recordings:
        lines.append(f"- labels re-parsed from raw recordings: {report.reparsed}; stored labels "
                     f"without recordings kept: {report.kept_stored}; recordings that no longer "
                     f"parse (dropped): {sum(report.unparseable.values())}")
        for reason, count in report.unparseable.most_common():
            lines.append(f"  - {count} x {reason}")
    if ctx.task is not None:
        lines.append(f"- {bos_statement(ctx.fmt, ctx.task)}")  # type: ignore[arg-type]
    lines.append("- rows carry provenance: split, query_id, codebase, label_source, scorer"
                 if ctx.fmt != "json" else
                 "- the `json` format is exactly the seed array of DESIGN.md section 3 (no "
                 "provenance fields); one array per split")
    for title in ("label source", "scorer", "codebase"):
        lines += ["", f"## Examples per {title}", "", *_table(title, by[title])]
    lines += ["", "## Label distributions", "", "| split | relevance 1..5 | risk 1..5 | "
              "confidence 1..5 |", "|---|---|---|---|"]
    for split in (*SPLITS, "all"):
        fields: tuple[Counter[int], Counter[int], Counter[int]] = (Counter(), Counter(), Counter())
        for (where, *values), n in labels.items():
            if split in ("all", where):
                for counts, value in zip(fields, values, strict=True):
                    counts[value] += n
        lines.append(f"| {split} | {histogram(fields[0])} | {histogram(fields[1])} | "
                     f"{histogram(fields[2])} |")
    text = "\n".join(lines) + "\n"
    if audit_result is not None:
        text += "\n" + audit_markdown(audit_result)
    return text
