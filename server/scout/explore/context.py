"""Node context shown to scorers and users: hover (enclosing declaration) and a 5-line snippet."""

from __future__ import annotations

from scout.haskell.index import WorkspaceIndex
from scout.haskell.model import Definition, DefKind

SNIPPET_LINES = 5

# Kinds that enclose code and can serve as the hover of a node inside them.
_ENCLOSING_KINDS = (DefKind.FUNCTION, DefKind.INSTANCE, DefKind.DATA, DefKind.NEWTYPE,
                    DefKind.CLASS, DefKind.TYPE_SYNONYM, DefKind.TYPE_FAMILY,
                    DefKind.TYPE_INSTANCE, DefKind.PATTERN_SYNONYM, DefKind.DERIVED_INSTANCE,
                    DefKind.MODULE)


class ContextReader:
    """Reads hover and snippets for nodes of one exploration; caches file lines."""

    def __init__(self, index: WorkspaceIndex) -> None:
        self.index = index
        self._lines: dict[str, list[str]] = {}

    def lines(self, path: str) -> list[str]:
        cached = self._lines.get(path)
        if cached is None:
            cached = self._lines[path] = self.index.source_lines(path)
        return cached

    def snippet(self, path: str, line: int) -> str:
        """Five lines centred on ``line`` (fewer at the file's edges), trailing blanks trimmed."""
        lines = self.lines(path)
        if not lines:
            return ""
        half = SNIPPET_LINES // 2
        start = max(1, line - half)
        end = min(len(lines), start + SNIPPET_LINES - 1)
        start = max(1, end - SNIPPET_LINES + 1)
        return "\n".join(lines[start - 1:end]).rstrip()

    def enclosing(self, path: str, line: int) -> Definition | None:
        """The innermost top-level definition whose span covers ``line``."""
        fi = self.index.summaries.get(path)
        if fi is None:
            return None
        best: Definition | None = None
        for d in fi.definitions:
            if d.kind not in _ENCLOSING_KINDS or d.kind is DefKind.MODULE:
                continue
            if d.kind is DefKind.DERIVED_INSTANCE and not d.standalone:
                continue  # a deriving clause's hover is its data declaration
            if d.span.start_line <= line <= d.span.end_line:
                if best is None or (d.span.end_line - d.span.start_line
                                    < best.span.end_line - best.span.start_line):
                    best = d
        return best

    def hover(self, path: str, line: int, enclosing_name: str | None = None) -> str:
        """The declaration or signature that encloses or defines the node."""
        d = self.enclosing(path, line)
        if d is not None and d.signature:
            return d.signature
        if d is not None:
            return self._first_line(d)
        if enclosing_name:
            fi = self.index.summaries.get(path)
            for cand in fi.definitions if fi else ():
                if cand.name == enclosing_name and cand.signature:
                    return cand.signature
        lines = self.lines(path)
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    def _first_line(self, d: Definition) -> str:
        lines = self.lines(d.path)
        if 0 < d.span.start_line <= len(lines):
            return lines[d.span.start_line - 1].strip()
        return d.name
