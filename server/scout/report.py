"""The human-readable answer to a query: ranked places, grouped by risk."""

from __future__ import annotations

from typing import TextIO

from scout.session import QueryResult

RISK_WORDS = {5: "breaks", 4: "major change", 3: "minor change", 2: "might need update",
              1: "no change needed"}


def format_report(result: QueryResult) -> str:
    ex = result.exploration
    q = ex.question
    lines = [
        f"{q.text}",
        f"  target  {ex.target.qualified} ({ex.target.kind}, {ex.target.path}:{ex.target.line})",
        f"  change  {q.change.value}   tags {', '.join(t.value for t in q.tags) or '-'}   "
        f"budget {q.budget}",
        "",
    ]
    reasons = fallback_reasons(result)
    if reasons:
        count = sum(1 for row in result.scored if row[0].fallback_reason)
        lines += [f"the heuristics answered for {count} node(s) because the model did not:",
                  *(f"  {r}" for r in reasons), ""]
    current_risk: int | None = None
    for node, scored in result.ranked():
        rubric = scored.rubric
        risk = rubric.risk if rubric else 0
        if risk != current_risk:
            current_risk = risk
            label = RISK_WORDS.get(risk, "not scored")
            lines.append(f"risk {risk} · {label}" if rubric else "not scored")
        if rubric:
            lines.append(f"  {node.location:<32} relevance {rubric.relevance} "
                         f"confidence {rubric.confidence}  [{scored.scorer}]")
            lines.append(f"      {rubric.reasoning}")
        else:
            lines.append(f"  {node.location:<32} error: {scored.error}")
    cov = ex.coverage
    lines += [
        "",
        f"coverage: {cov.files_indexed} files indexed, {cov.files_with_errors} with parse "
        f"errors; {cov.nodes_found} places found, {cov.nodes_kept} kept within the budget"
        + (" (raise --budget to see more)" if cov.nodes_found > cov.nodes_kept else ""),
    ]
    return "\n".join(lines)


def format_log_outcome(result: QueryResult) -> str | None:
    """One line on what happened to the record of the answer (once logging finished)."""
    if result.log.query_id is not None:
        return f"logged as query {result.log.query_id} in {result.log.database}"
    if result.log.error:
        return f"not logged: {result.log.error}"
    return None


def fallback_reasons(result: QueryResult) -> list[str]:
    """Distinct reasons the primary scorer fell back, once each ("not sent: X" is X)."""
    reasons = []
    for row in result.scored:
        reason = row[0].fallback_reason
        if reason:
            reason = reason.replace("not sent: ", "")
            if reason not in reasons:
                reasons.append(reason)
    return reasons


def print_report(result: QueryResult, out: TextIO | None = None) -> None:
    import sys

    print(format_report(result), file=out or sys.stdout)
