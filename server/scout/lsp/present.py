"""Answers as the editor sees them: the JSON shapes of docs/protocol.md and the lens titles.

Pure functions from library values (``QueryResult``, ``IndexSnapshot``, ``Settings``) to plain
dicts; no pygls here, so they are tested and reused without a server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scout.explore.model import Node
from scout.haskell.index import IndexSnapshot
from scout.lines import LineMap
from scout.scoring.model import Scored
from scout.session import QueryResult

LENS_TITLE_LIMIT = 90

# (path, line at answer time) -> current 1-based line or None (edited away)
LineMapper = Callable[[str, int], int | None]


def file_uri(root: Path, path: str) -> str:
    return (root / path).as_uri()


def summary(result: QueryResult) -> dict[str, Any]:
    """"7 break · 3 silent · 10 safe": break = risk 4 or more, silent = a behaviour change
    the compiler does not report, safe = the rest."""
    broken = silent = safe = 0
    for node, scored in result.ranked():
        risk = scored.rubric.risk if scored.rubric else 0
        if risk >= 4:
            broken += 1
        elif node.facts.silent:
            silent += 1
        else:
            safe += 1
    return {"break": broken, "silent": silent, "safe": safe,
            "text": f"{broken} break · {silent} silent · {safe} safe"}


def answered_by(result: QueryResult) -> tuple[str, str | None]:
    """Who answered (the label source of most nodes) and, on a fallback, why."""
    sources = [row[0].label_source.value for row in result.scored if row[0].rubric]
    who = max(set(sources), key=sources.count) if sources else "nobody"
    reasons = [row[0].fallback_reason for row in result.scored if row[0].fallback_reason]
    why = reasons[0].replace("not sent: ", "") if reasons else None
    return who, why


def lens_title(scored: Scored) -> str:
    if scored.rubric is None:
        return f"not scored · {scored.error or 'no answer'}"[:LENS_TITLE_LIMIT]
    text = f"risk {scored.rubric.risk} · {scored.rubric.reasoning}"
    if len(text) > LENS_TITLE_LIMIT:
        text = text[:LENS_TITLE_LIMIT - 1].rstrip() + "…"
    return text


def node_json(root: Path, node: Node, scored: Scored, current_line: int | None
              ) -> dict[str, Any]:
    return {
        "location": node.location, "path": node.path, "uri": file_uri(root, node.path),
        "line": None if current_line is None else current_line - 1,
        "hover": node.hover, "hover_source": node.hover_source, "snippet": node.snippet,
        "rubric": scored.rubric.as_dict() if scored.rubric else None,
        "scorer": scored.scorer, "label_source": scored.label_source.value,
        "fallback_reason": scored.fallback_reason, "error": scored.error,
        "facts": {"edge": node.facts.edge.value, "breaks": node.facts.breaks,
                  "silent": node.facts.silent, "detail": node.facts.detail},
        "lens": lens_title(scored),
    }


def result_json(result: QueryResult, root: Path, snapshot: IndexSnapshot | None,
                mapper: LineMapper) -> dict[str, Any]:
    """One answered question, grouped by risk (5 first) then file (protocol.md "Result")."""
    ex = result.exploration
    q = ex.question
    t = ex.target
    groups: dict[int, dict[str, list[dict[str, Any]]]] = {}
    stale = False
    for node, scored in result.ranked():
        current = mapper(node.path, node.line)
        stale = stale or current != node.line
        risk = scored.rubric.risk if scored.rubric else 0
        groups.setdefault(risk, {}).setdefault(node.path, []).append(
            node_json(root, node, scored, current))
    who, why = answered_by(result)
    cov = ex.coverage
    skipped = [{"path": s.path, "reason": s.reason}
               for s in (snapshot.skipped.values() if snapshot is not None else ())]
    return {
        "key": result.key,
        "query": {"query": q.text, "tags": [tag.value for tag in q.tags], "target": t.qualified,
                  "change": q.change.value, "budget": q.budget},
        "target": {"name": t.name, "qualified": t.qualified, "kind": t.kind,
                   "location": f"{t.path}:{t.line}", "uri": file_uri(root, t.path),
                   "line": _zero_based(mapper(t.path, t.line))},
        "summary": summary(result),
        "scorer": result.scored[0][0].scorer if result.scored else None,
        "answeredBy": who, "why": why,
        "coverage": {"files_indexed": cov.files_indexed,
                     "files_with_errors": cov.files_with_errors,
                     "nodes_found": cov.nodes_found, "nodes_kept": cov.nodes_kept,
                     "skipped": skipped, "partial": not result.index_complete},
        "shadow": {"state": result.shadow.state, "scorer": result.shadow.scorer,
                   "error": result.shadow.error},
        "student": {"state": result.student.state, "scorer": result.student.scorer,
                    "error": result.student.error},
        "log": {"queryId": result.log.query_id, "database": result.log.database,
                "error": result.log.error, "pending": result.log.pending},
        "groups": [{"risk": risk, "files": [
            {"path": path, "uri": file_uri(root, path), "nodes": nodes}
            for path, nodes in sorted(files.items())]}
            for risk, files in sorted(groups.items(), reverse=True)],
        "seconds": round(result.seconds, 4),
        "stale": stale,
    }


def _zero_based(line: int | None) -> int | None:
    return None if line is None else line - 1


def index_json(snapshot: IndexSnapshot | None, roots: Sequence[Path], *,
               indexing: bool) -> dict[str, Any]:
    if snapshot is None:
        return {"state": "indexing" if indexing else "not started", "files": 0, "indexed": 0,
                "filesWithErrors": 0, "skipped": [], "revision": 0,
                "roots": [str(r) for r in roots]}
    stats = snapshot.stats()
    state = "ready" if snapshot.complete else "indexing" if indexing else "partial"
    return {"state": state,
            "files": max(snapshot.expected_files, stats.files), "indexed": stats.files,
            "filesWithErrors": len(stats.files_with_errors),
            "skipped": [{"path": s.path, "reason": s.reason} for s in stats.skipped],
            "revision": snapshot.revision, "roots": [str(r) for r in roots]}


class LineTracker:
    """Current lines for an answer's places: the answer's text of each file against the
    file's text now (bounded memo: diffs are computed once per file version)."""

    LIMIT = 256

    def __init__(self) -> None:
        self._maps: dict[tuple[int, str, int], LineMap] = {}

    def mapper(self, result: QueryResult, current: Callable[[str], Sequence[str] | None]
               ) -> LineMapper:
        def map_line(path: str, line: int) -> int | None:
            old = result.texts.get(path)
            now = current(path)
            if old is None or now is None:
                return line
            key = (result.key, path, hash(tuple(now)))
            line_map = self._maps.get(key)
            if line_map is None:
                if len(self._maps) >= self.LIMIT:
                    self._maps.clear()
                line_map = self._maps[key] = LineMap(old, now)
            return line_map(line)
        return map_line
