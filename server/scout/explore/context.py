"""Node context shown to scorers and users: hover (enclosing declaration) and a 5-line snippet."""

from __future__ import annotations

from bisect import bisect_right

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
        self._by_start: dict[str, tuple[list[int], list[Definition]]] = {}

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

    def _enclosers(self, path: str) -> tuple[list[int], list[Definition]]:
        """The file's definitions that can enclose a node, sorted by start line."""
        found = self._by_start.get(path)
        if found is None:
            fi = self.index.summaries.get(path)
            defs = sorted((d for d in (fi.definitions if fi else ())
                           if d.kind in _ENCLOSING_KINDS and d.kind is not DefKind.MODULE
                           # a deriving clause's hover is its data declaration
                           and (d.kind is not DefKind.DERIVED_INSTANCE or d.standalone)),
                          key=lambda d: (d.span.start_line, -d.span.end_line))
            found = self._by_start[path] = ([d.span.start_line for d in defs], defs)
        return found

    def enclosing(self, path: str, line: int) -> Definition | None:
        """The innermost definition whose span covers ``line``. Definitions nest (a class and
        its associated families) or follow one another, so scanning back from the last one
        that starts at or before ``line`` meets the innermost cover first."""
        starts, defs = self._enclosers(path)
        best: Definition | None = None
        for i in range(bisect_right(starts, line) - 1, -1, -1):
            d = defs[i]
            if d.span.end_line >= line and (best is None or d.span.end_line - d.span.start_line
                                            < best.span.end_line - best.span.start_line):
                best = d
                if d.span.start_line < line:
                    break
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
