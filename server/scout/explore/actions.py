"""What can a user ask about the symbol under the cursor? The editor's code actions, as a
library call: the symbol at a position, the definitions it can name there, and one question per
change kind that applies to each (titled as the question, carrying the structured form).

The question is answered later through the one target resolver (``resolve.py``) with the
qualified name and change kind given here, so the action and the answer cannot disagree about
which definition is meant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scout.explore.model import ChangeKind, Question
from scout.explore.question import default_tags
from scout.explore.question import question_text as phrased
from scout.haskell.index import IndexSnapshot
from scout.haskell.model import Definition, DefKind

C = ChangeKind
# The change kinds worth offering per definition kind, most common first.
CHANGES_BY_KIND: dict[DefKind, tuple[ChangeKind, ...]] = {
    DefKind.DATA: (C.ADD_CONSTRUCTOR, C.ADD_FIELD),
    DefKind.NEWTYPE: (C.ADD_CONSTRUCTOR,),
    DefKind.CONSTRUCTOR: (C.REMOVE_CONSTRUCTOR, C.RENAME_CONSTRUCTOR, C.ADD_FIELD),
    DefKind.PATTERN_SYNONYM: (C.REMOVE_CONSTRUCTOR, C.RENAME_CONSTRUCTOR),
    DefKind.FIELD: (C.REMOVE_FIELD, C.RENAME_FIELD, C.CHANGE_FIELD_TYPE),
    DefKind.FUNCTION: (C.CHANGE_SIGNATURE, C.CHANGE_ARITY),
    DefKind.METHOD: (C.CHANGE_SIGNATURE, C.CHANGE_ARITY),
    DefKind.CLASS: (C.ADD_METHOD, C.ADD_SUPERCLASS),
    DefKind.TYPE_FAMILY: (C.CHANGE_TYPE_FAMILY,),
    DefKind.DATA_FAMILY: (C.CHANGE_TYPE_FAMILY,),
    DefKind.TYPE_SYNONYM: (C.CHANGE_TYPE_SYNONYM,),
}

_NOT_TARGETS = (DefKind.MODULE, DefKind.INSTANCE, DefKind.DERIVED_INSTANCE,
                DefKind.TYPE_INSTANCE)
# A (possibly qualified) Haskell name: Data.Map.insert, LLMKind, x', _helper
_NAME = re.compile(r"(?:[A-Z][\w']*\.)*[A-Za-z_][\w']*")


@dataclass(frozen=True, slots=True)
class SuggestedQuestion:
    """One code action: a question about ``definition`` with a ``change``."""

    definition: Definition
    change: ChangeKind
    text: str  # "What breaks if I add a constructor to LLMKind?"

    @property
    def target(self) -> str:
        d = self.definition
        return f"{d.module}.{d.name}" if d.module else d.name

    def question(self, budget: int) -> Question:
        return Question(self.text, self.target, self.change, default_tags(self.change),
                        budget)


def question_text(change: ChangeKind, name: str) -> str:
    """The question as a title (the one phrasing `parse_question` reads back), without the
    code quotes a dataset keeps."""
    return phrased(change, name).replace("`", "")


def name_at(line_text: str, character: int) -> str | None:
    """The (possibly qualified) name the cursor is on or just after; None on blanks."""
    for match in _NAME.finditer(line_text):
        if match.start() <= character <= match.end():
            return match.group(0)
    return None


def definitions_at(snapshot: IndexSnapshot, path: str, line_text: str, line: int,
                   character: int) -> list[Definition]:
    """Definitions the name under the cursor can refer to from ``path`` (1-based ``line``):
    the file's own first, then those of modules it imports, then any; never instances."""
    name = name_at(line_text, character)
    if not name:
        return []
    qualifier, _, bare = name.rpartition(".")
    candidates = [d for d in snapshot.definitions(bare) if d.kind not in _NOT_TARGETS]
    summary = snapshot.summaries.get(path)
    imports = summary.imports if summary else []
    if qualifier:
        modules = {imp.module for imp in imports if qualifier in (imp.alias, imp.module)}
        candidates = [d for d in candidates if d.module in modules or d.module == qualifier]
    # The definition the cursor stands on, when it does (`newtype Tokens = Tokens ..`: the
    # type or the constructor, by column).
    here = [d for d in candidates if d.path == path and d.name_span.start_line == line]
    exact = [d for d in here if d.name_span.start_col <= character <= d.name_span.end_col]
    if exact or here:
        return exact or here
    own = [d for d in candidates if d.path == path]
    if own:
        return own
    imported = {imp.module for imp in imports}
    visible = [d for d in candidates if d.module in imported]
    return visible or candidates


def questions_at(snapshot: IndexSnapshot, path: str, line_text: str, line: int,
                 character: int) -> list[SuggestedQuestion]:
    """Every question worth offering at the cursor, in a stable order; [] where none apply."""
    out: list[SuggestedQuestion] = []
    seen: set[tuple[str, str, ChangeKind]] = set()
    defs = definitions_at(snapshot, path, line_text, line, character)
    export_line = _on_export_entry(snapshot, path, line, name_at(line_text, character))
    several_modules = len({d.module for d in defs}) > 1
    for d in defs:
        changes = list(CHANGES_BY_KIND.get(d.kind, ()))
        if d.kind is DefKind.DATA and len(d.constructors) != 1:
            changes = [c for c in changes if c is not C.ADD_FIELD]
        if export_line:
            changes = [C.REMOVE_EXPORT]
        for change in changes:
            key = (d.module, d.name, change)
            if key in seen:
                continue
            seen.add(key)
            shown = f"{d.module}.{d.name}" if several_modules else d.name
            out.append(SuggestedQuestion(d, change, question_text(change, shown)))
    return out


def _on_export_entry(snapshot: IndexSnapshot, path: str, line: int, name: str | None) -> bool:
    summary = snapshot.summaries.get(path)
    if not name or summary is None or not summary.exports:
        return False
    bare = name.rpartition(".")[2]
    return any(ex.line == line and (ex.name == bare or bare in ex.children)
               for ex in summary.exports)
