"""One target resolver: from the name a question gives to the definition it changes.

Used by the engine (``scout query``), the oracle (``scout oracle``/``scout eval``) and the
language server, so all of them change the same definition for the same question. Ambiguity is
reported with its candidates, never guessed.
"""

from __future__ import annotations

import difflib
import re

from scout.explore.model import ChangeKind, Question
from scout.haskell.index import WorkspaceIndex
from scout.haskell.model import Definition, DefKind


class ExploreError(Exception):
    """A question the engine cannot answer; the message says what to do."""


class UnknownSymbol(ExploreError):
    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no symbol named {name!r} is defined in the indexed workspace.{hint} "
                         "Check the spelling, or pass --root at the project that defines it.")


class AmbiguousTarget(ExploreError):
    def __init__(self, name: str, candidates: list[Definition]) -> None:
        self.name = name
        self.candidates = candidates
        listed = ", ".join(f"{d.module}.{d.name} ({d.kind.value}, {d.path}:{d.name_span.start_line})"
                           for d in candidates)
        super().__init__(f"{name!r} is ambiguous: {listed}. Qualify it with its module, "
                         f"e.g. {candidates[0].module}.{name}.")


# Which definition kinds a change can target, most likely first.
_TARGET_KINDS: dict[ChangeKind, tuple[DefKind, ...]] = {
    ChangeKind.ADD_CONSTRUCTOR: (DefKind.DATA, DefKind.NEWTYPE, DefKind.CONSTRUCTOR),
    ChangeKind.REMOVE_CONSTRUCTOR: (DefKind.CONSTRUCTOR, DefKind.PATTERN_SYNONYM),
    ChangeKind.RENAME_CONSTRUCTOR: (DefKind.CONSTRUCTOR, DefKind.PATTERN_SYNONYM),
    ChangeKind.ADD_FIELD: (DefKind.DATA, DefKind.NEWTYPE, DefKind.CONSTRUCTOR),
    ChangeKind.REMOVE_FIELD: (DefKind.FIELD,),
    ChangeKind.RENAME_FIELD: (DefKind.FIELD,),
    ChangeKind.CHANGE_FIELD_TYPE: (DefKind.FIELD,),
    ChangeKind.CHANGE_SIGNATURE: (DefKind.FUNCTION, DefKind.METHOD),
    ChangeKind.CHANGE_ARITY: (DefKind.FUNCTION, DefKind.METHOD),
    ChangeKind.ADD_METHOD: (DefKind.CLASS,),
    ChangeKind.ADD_SUPERCLASS: (DefKind.CLASS,),
    ChangeKind.CHANGE_TYPE_FAMILY: (DefKind.TYPE_FAMILY, DefKind.DATA_FAMILY),
    ChangeKind.CHANGE_TYPE_SYNONYM: (DefKind.TYPE_SYNONYM,),
    ChangeKind.REMOVE_EXPORT: (DefKind.FUNCTION, DefKind.DATA, DefKind.NEWTYPE, DefKind.CLASS,
                               DefKind.TYPE_SYNONYM, DefKind.TYPE_FAMILY, DefKind.CONSTRUCTOR,
                               DefKind.METHOD, DefKind.FIELD, DefKind.PATTERN_SYNONYM),
}
_GENERIC_KINDS = (DefKind.DATA, DefKind.NEWTYPE, DefKind.CLASS, DefKind.FUNCTION,
                  DefKind.METHOD, DefKind.CONSTRUCTOR, DefKind.FIELD, DefKind.TYPE_SYNONYM,
                  DefKind.TYPE_FAMILY, DefKind.DATA_FAMILY, DefKind.PATTERN_SYNONYM)


def parse_target_name(name: str) -> tuple[str | None, str]:
    """``Types.LLMKind`` -> ("Types", "LLMKind"); operators keep their dots (``Map.!``)."""
    name = name.strip().strip("`'\"")
    if name.startswith("(") and name.endswith(")"):
        name = name[1:-1]
    parts = name.split(".")
    # a module prefix is a run of capitalised components followed by the name
    for i in range(len(parts) - 1, 0, -1):
        prefix, rest = parts[:i], ".".join(parts[i:])
        if rest and all(p[:1].isupper() for p in prefix):
            return ".".join(prefix), rest
    return None, name


def resolve_target(index: WorkspaceIndex, question: Question) -> Definition:
    module, name = parse_target_name(question.target)
    candidates = index.definitions(name)
    if module:
        candidates = [d for d in candidates
                      if d.module == module or d.module.endswith("." + module)]
    candidates = [d for d in candidates if d.kind not in (
        DefKind.MODULE, DefKind.INSTANCE, DefKind.DERIVED_INSTANCE, DefKind.TYPE_INSTANCE)]
    if not candidates:
        known = sorted({d.name for d in index.all_definitions()
                        if d.kind not in (DefKind.INSTANCE, DefKind.DERIVED_INSTANCE)})
        raise UnknownSymbol(question.target, difflib.get_close_matches(name, known, n=3))
    order = _TARGET_KINDS.get(question.change, _GENERIC_KINDS)
    ranked = [d for kind in order for d in candidates if d.kind is kind]
    if not ranked:
        ranked = [d for kind in _GENERIC_KINDS for d in candidates if d.kind is kind] or candidates
    best_kind = ranked[0].kind
    same = [d for d in ranked if d.kind is best_kind]
    # A type and its same-named constructor (`data Config = Config {..}`) are one target.
    if len({(d.module, d.name) for d in same}) > 1:
        same = _disambiguate(same, question)
        if len({(d.module, d.name) for d in same}) > 1:
            raise AmbiguousTarget(question.target, same)
    chosen = same[0]
    if chosen.kind is DefKind.CONSTRUCTOR and question.change in (ChangeKind.ADD_CONSTRUCTOR,
                                                                   ChangeKind.ADD_FIELD):
        parents = [d for d in index.definitions(chosen.parent or "", (DefKind.DATA,
                                                                       DefKind.NEWTYPE))
                   if d.module == chosen.module]
        if parents and question.change is ChangeKind.ADD_CONSTRUCTOR:
            return parents[0]
    return chosen


def _disambiguate(cands: list[Definition], question: Question) -> list[Definition]:
    """Resolve a name defined in several modules by context in the question: a module named
    in the text, or the subject (constructor/field) that only one candidate has."""
    text = question.text
    by_module = [d for d in cands if d.module and (d.module in text or
                                                   d.module.rsplit(".", 1)[-1] + "." in text)]
    if len({d.module for d in by_module}) == 1:
        return by_module
    by_parent = [d for d in cands if d.parent and re.search(
        rf"(?<![\w.']){re.escape(d.parent)}(?![\w'])", text)]
    if len({d.module for d in by_parent}) == 1:
        return by_parent
    if question.subject:
        having = [d for d in cands if question.subject in d.constructors + d.fields
                  + d.methods]
        if len({d.module for d in having}) == 1:
            return having
    return cands
