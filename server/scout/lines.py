"""Following lines through edits: where is the line an answer pointed at, now?

An answer names places by line in the text it saw; the user keeps typing. ``LineMap`` diffs the
old and the new lines once (difflib, on whole lines) and maps each old line to its new number,
or to None when the line itself was edited away. Used by the code lenses (a lens whose line
moved follows it; one whose line was changed or deleted is dropped) and the results view.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence


class LineMap:
    """Maps 1-based line numbers of ``old`` to 1-based line numbers of ``new``."""

    __slots__ = ("_moves", "_same")

    def __init__(self, old: Sequence[str], new: Sequence[str]) -> None:
        self._same = list(old) == list(new)
        self._moves: dict[int, int] = {}
        if self._same:
            return
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        for tag, i1, i2, j1, _j2 in matcher.get_opcodes():
            if tag == "equal":
                for offset in range(i2 - i1):
                    self._moves[i1 + offset + 1] = j1 + offset + 1

    @property
    def unchanged(self) -> bool:
        return self._same

    def __call__(self, line: int) -> int | None:
        """The line's number in the new text, or None if it was edited or deleted."""
        if self._same:
            return line
        return self._moves.get(line)
