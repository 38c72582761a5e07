"""One target resolver: from the name a question gives to the definition it changes.

Used by question understanding, the engine (``scout query``), the oracle (``scout oracle`` /
``scout eval``) and the language server, so all of them change the same definition for the same
question. The rule for a name with several definitions is the same everywhere:

1. keep the definitions the change can apply to (a constructor for ``remove_constructor``, a
   class for ``add_method``...; every kind for a generic ``change``); a type and its own
   same-named constructor (``data Config = Config {..}``) are one target;
2. a definition named by the question's context wins: its module, its parent type or class, or
   one of its members is named in the question (then, more weakly, a type its signature
   mentions); a kind named next to the name ("the Total constructor") selects that kind;
3. otherwise the answer is :class:`AmbiguousTarget`, listing the candidates with their
   qualified name, kind, path and line, never a guess.

Entry points: :func:`resolve_target` (a :class:`~scout.explore.model.Question`),
:func:`resolve_name` (a name and a change kind, for callers without a question, e.g. the
oracle), :func:`candidates` (the same rule without raising: what an editor offers as a pick
list).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable
from typing import Any

from scout.explore.model import ChangeKind, Question
from scout.haskell.index import IndexSnapshot, WorkspaceIndex
from scout.haskell.model import Definition, DefKind

__all__ = [
    "AmbiguousTarget",
    "NotApplicable",
    "ExploreError",
    "TARGET_KINDS",
    "UnknownSymbol",
    "candidate_json",
    "candidates",
    "qualified_name",
    "split_namespace",
    "context_rank",
    "parse_target_name",
    "resolve_name",
    "resolve_target",
]


class ExploreError(Exception):
    """A question the engine cannot answer; the message says what to do."""


class UnknownSymbol(ExploreError):
    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no symbol named {name!r} is defined in the indexed workspace.{hint} "
                         "Check the spelling, or pass --root at the project that defines it.")


class NotApplicable(ExploreError):
    """A name whose every definition is of a kind the change cannot apply to (a constructor
    added to a function): refused, as the compiler-backed oracle refuses it, never answered."""

    def __init__(self, name: str, change: ChangeKind, found: list[Definition]) -> None:
        self.name = name
        self.change = change
        kinds = sorted({d.kind.value.replace("_", " ") for d in found})
        allowed = " or ".join(k.value.replace("_", " ") for k in TARGET_KINDS[change])
        super().__init__(f"{name} is a {' and a '.join(kinds)}: '{change.value}' applies to a "
                         f"{allowed}, so there is nothing to answer. Name one of those, or ask "
                         "about another change.")


class AmbiguousTarget(ExploreError):
    """A name that means several definitions, and nothing in the question picks one."""

    def __init__(self, name: str, candidates: list[Definition]) -> None:
        self.name = name
        self.candidates = candidates
        listed = ", ".join(f"{qualified_name(d, candidates)} ({d.kind.value}, "
                           f"{d.path}:{d.name_span.start_line})" for d in candidates)
        first = qualified_name(candidates[0], candidates)
        super().__init__(f"{name!r} is ambiguous: {listed}. Say which one: pass its qualified "
                         f"name (e.g. --target '{first}') or name its kind, module or type in "
                         "the question.")

    def to_json(self) -> dict[str, Any]:
        """``{"kind": "ambiguous", "name", "message", "candidates": [...]}`` (the CLI's
        ``--json`` error object; the language server adds ``uri`` per candidate)."""
        return {"kind": "ambiguous", "name": self.name, "message": str(self),
                "candidates": [candidate_json(d, self.candidates) for d in self.candidates]}


_TYPE_NAMESPACE = frozenset({DefKind.DATA, DefKind.NEWTYPE, DefKind.TYPE_SYNONYM,
                             DefKind.TYPE_FAMILY, DefKind.DATA_FAMILY, DefKind.CLASS})


def _bare(d: Definition) -> str:
    return d.name if d.name[:1].isalnum() or d.name[:1] == "_" else f"({d.name})"


def qualified_name(d: Definition, among: Iterable[Definition] = ()) -> str:
    """``Module.name``, which names ``d`` unambiguously as a target. When a definition in
    ``among`` has the same module and name in the other namespace (``type family Total`` and
    the constructor ``Total``), Haskell's namespace keyword is prefixed: ``type M.Total`` for
    the type-level one, ``data M.Total`` for the constructor, function or field."""
    name = f"{d.module}.{_bare(d)}" if d.module else _bare(d)
    clash = any(o.module == d.module and o.name == d.name
                and (o.kind in _TYPE_NAMESPACE) != (d.kind in _TYPE_NAMESPACE) for o in among)
    if clash:
        return ("type " if d.kind in _TYPE_NAMESPACE else "data ") + name
    return name


def split_namespace(name: str) -> tuple[str | None, str]:
    """``type M.Total`` -> ("type", "M.Total"); ``data M.Total`` -> ("data", ...)."""
    head, _, rest = name.strip().partition(" ")
    if head in ("type", "data") and rest.strip():
        return head, rest.strip()
    return None, name.strip()


def candidate_json(d: Definition, among: Iterable[Definition] = ()) -> dict[str, Any]:
    """One candidate of an ambiguity: ``qualified`` is what to pass back as the target."""
    line = d.name_span.start_line
    return {"qualified": qualified_name(d, among), "name": d.name, "module": d.module,
            "kind": d.kind.value, "parent": d.parent, "path": d.path, "line": line,
            "location": f"{d.path}:{line}"}


# Which definition kinds a change can target, most likely first.
TARGET_KINDS: dict[ChangeKind, tuple[DefKind, ...]] = {
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
                               DefKind.TYPE_SYNONYM, DefKind.TYPE_FAMILY, DefKind.DATA_FAMILY,
                               DefKind.CONSTRUCTOR, DefKind.METHOD, DefKind.FIELD,
                               DefKind.PATTERN_SYNONYM),
}
_GENERIC_KINDS = (DefKind.DATA, DefKind.NEWTYPE, DefKind.CLASS, DefKind.FUNCTION,
                  DefKind.METHOD, DefKind.CONSTRUCTOR, DefKind.FIELD, DefKind.TYPE_SYNONYM,
                  DefKind.TYPE_FAMILY, DefKind.DATA_FAMILY, DefKind.PATTERN_SYNONYM)
_NOT_TARGETS = frozenset({DefKind.MODULE, DefKind.INSTANCE, DefKind.DERIVED_INSTANCE,
                          DefKind.TYPE_INSTANCE})
_TYPES = (DefKind.DATA, DefKind.NEWTYPE)
# Definitions a change may name instead of the member it is about, the member being the
# question's subject: "remove the constructor Circle from Shape" (the oracle's --subject).
_CONTAINERS: dict[ChangeKind, tuple[DefKind, ...]] = {
    ChangeKind.REMOVE_CONSTRUCTOR: _TYPES, ChangeKind.RENAME_CONSTRUCTOR: _TYPES,
    ChangeKind.REMOVE_FIELD: _TYPES, ChangeKind.RENAME_FIELD: _TYPES,
    ChangeKind.CHANGE_FIELD_TYPE: _TYPES,
    ChangeKind.CHANGE_SIGNATURE: (DefKind.CLASS,), ChangeKind.CHANGE_ARITY: (DefKind.CLASS,),
}
Index = WorkspaceIndex | IndexSnapshot  # a snapshot when several lookups must agree
_NEEDS_CONSTRUCTOR = frozenset({ChangeKind.REMOVE_CONSTRUCTOR, ChangeKind.RENAME_CONSTRUCTOR})


def parse_target_name(name: str) -> tuple[str | None, str]:
    """``Types.LLMKind`` -> ("Types", "LLMKind"); operators keep their dots (``Map.!``,
    ``Shop.Cart.(.+.)`` -> ("Shop.Cart", ".+.")."""
    name = _unquoted(name.strip())
    m = re.fullmatch(r"((?:[A-Z][\w']*\.)+)\((.+)\)", name)
    if m:
        return m.group(1)[:-1], m.group(2)
    if name.startswith("(") and name.endswith(")"):
        name = name[1:-1]
    parts = name.split(".")
    # a module prefix is a run of capitalised components followed by the name
    for i in range(len(parts) - 1, 0, -1):
        prefix, rest = parts[:i], ".".join(parts[i:])
        if rest and all(p[:1].isupper() for p in prefix):
            return ".".join(prefix), rest
    return None, name


_QUOTES = ("``", '""', "''")


def _unquoted(name: str) -> str:
    """``name`` without the quotes around it, only as matched pairs (`` `f` ``, ``"f"``,
    ``'f'``): a prime that ends a name (``symbol'``, ``foldl'``) or starts none is kept."""
    while len(name) > 2 and name[0] + name[-1] in _QUOTES:
        name = name[1:-1].strip()
    return name


def _in_module(d: Definition, module: str) -> bool:
    return d.module == module or d.module.endswith("." + module)


_NAME = re.compile(r"[A-Za-z_][\w']*(?:\.[A-Za-z_][\w']*)*")


def _text_context(text: str) -> frozenset[str]:
    """Names in free text (for callers that give no understood context): every identifier,
    dotted names as a whole and as their components."""
    out: set[str] = set()
    for m in _NAME.finditer(text):
        word = m.group(0)
        out.add(word)
        if "." in word:
            out.update(word.split("."))
    return frozenset(out)


def context_rank(d: Definition, context: Collection[str]) -> int:
    """How strongly the question's other names point at ``d``: 2 when they name its module,
    its parent (type or class) or one of its members; 1 when they name a type its signature
    mentions; 0 otherwise."""
    if not context:
        return 0
    module = d.module
    if module and (module in context or any(
            c[:1].isupper() and "." in c and module.endswith("." + c) for c in context)
            or _module_words_named(module, context)):
        return 2
    if d.parent and d.parent in context:
        return 2
    if any(m in context for m in (*d.constructors, *d.fields, *d.methods)):
        return 2
    if any(m in context for m in d.mentions):
        return 1
    return 0


def _module_words_named(module: str, context: Collection[str]) -> bool:
    """"the Char lexer" names Text.Megaparsec.Char.Lexer: the last two components, in any
    case, are words of the question."""
    parts = module.split(".")
    if len(parts) < 2:
        return False
    lowered = {c.lower() for c in context}
    return all(p.lower() in lowered for p in parts[-2:])


def _merge(defs: list[Definition], change: ChangeKind) -> list[Definition]:
    """One definition per thing: a type with its own same-named constructor is the type (the
    constructor when the change needs one); duplicates of one name, kind and module (an
    ``.hs-boot`` declaration, CPP branches, a function bound in a ``where``/``let`` beside the
    top-level one) are the top-level one with the most detail."""
    by_key: dict[tuple[str, DefKind], Definition] = {}
    for d in defs:
        key = (d.module, d.kind)
        kept = by_key.get(key)
        if kept is None or _detail(d) > _detail(kept):
            by_key[key] = d
    merged = list(by_key.values())
    types = {d.module for d in merged if d.kind in _TYPES}
    if change in _NEEDS_CONSTRUCTOR:
        return merged
    return [d for d in merged if not (d.kind is DefKind.CONSTRUCTOR and d.module in types
                                      and d.parent == d.name)]


def _detail(d: Definition) -> tuple[bool, bool, int]:
    top_level = d.kind is not DefKind.FUNCTION or d.parent is None  # not a where-bound local
    return (not d.path.endswith(".hs-boot"), top_level,
            len(d.constructors) + len(d.fields) + len(d.methods) + (d.signature is not None))


def candidates(index: Index, name: str, change: ChangeKind = ChangeKind.CHANGE, *,
               context: Collection[str] = (), kind: str | None = None) -> list[Definition]:
    """The definitions ``name`` can mean for ``change``, after the context rule (module
    docstring): one element when the question is clear, several for an ambiguity, none when
    the name is unknown. ``kind`` (a DefKind value) is a kind the question names next to the
    name; ``context`` the other names it mentions."""
    namespace, name = split_namespace(name)
    module, bare = parse_target_name(name)
    found = [d for d in index.definitions(bare) if d.kind not in _NOT_TARGETS
             and (namespace is None or (d.kind in _TYPE_NAMESPACE) == (namespace == "type"))]
    if module:
        qualified = [d for d in found if _in_module(d, module)]
        # An import alias (``W.focus``) names no module of the workspace: ignore it.
        if qualified or _module_exists(index, module):
            found = qualified
    if not found:
        return []
    context = {c for c in context if c not in (name, bare)}
    allowed = TARGET_KINDS.get(change, _GENERIC_KINDS)
    fitting = [d for d in found if d.kind in allowed] or found
    if kind is not None:
        named = [d for d in fitting if d.kind.value == kind
                 or (kind == "data" and d.kind is DefKind.NEWTYPE)]
        fitting = named or fitting
    merged = _merge(fitting, change)
    order = {k: i for i, k in enumerate(allowed)}
    merged.sort(key=lambda d: (order.get(d.kind, len(order)), d.module, d.path,
                               d.name_span.start_line))
    if len(merged) > 1 and context:
        ranks = [context_rank(d, context) for d in merged]
        best = max(ranks)
        if best > 0:
            merged = [d for d, r in zip(merged, ranks, strict=True) if r == best]
    return merged


def _module_exists(index: Index, module: str) -> bool:
    return any(s.module == module or s.module.endswith("." + module)
               for s in index.summaries.values())


def suggestions(index: Index, name: str,
                kinds: Iterable[DefKind] | None = None, n: int = 3) -> list[str]:
    """Defined names close to ``name`` (of the given kinds), closest first."""
    wanted = None if kinds is None else set(kinds)
    known = sorted({d.name for d in index.all_definitions()
                    if d.kind not in _NOT_TARGETS and (wanted is None or d.kind in wanted)})
    return difflib.get_close_matches(name, known, n=n)


def resolve_name(index: Index, name: str, change: ChangeKind = ChangeKind.CHANGE, *,
                 context: Collection[str] = (), kind: str | None = None) -> Definition:
    """The one definition ``name`` means for ``change`` (see the module docstring); raises
    :class:`UnknownSymbol` (with close names) or :class:`AmbiguousTarget` (with candidates).
    For ``add_constructor`` / ``add_field`` a constructor resolves to its type."""
    found = candidates(index, name, change, context=context, kind=kind)
    if not found:
        bare = parse_target_name(split_namespace(name)[1])[1]
        raise UnknownSymbol(name, suggestions(index, bare))
    allowed = TARGET_KINDS.get(change)
    if allowed is not None and not any(d.kind in allowed or d.kind in _CONTAINERS.get(change, ())
                                       for d in found):
        raise NotApplicable(name, change, found)
    if len(found) > 1:
        raise AmbiguousTarget(name, found)
    chosen = found[0]
    if chosen.kind is DefKind.CONSTRUCTOR and change in (ChangeKind.ADD_CONSTRUCTOR,
                                                         ChangeKind.ADD_FIELD):
        parents = [d for d in index.definitions(chosen.parent or "", _TYPES)
                   if d.module == chosen.module]
        if parents:
            return parents[0]
    return chosen


def resolve_target(index: Index, question: Question) -> Definition:
    """The definition a question changes. A question understood against this workspace
    carries its reading (the definition's module and kind, the names around it); other
    questions use the names in their text as context."""
    reading = question.reading
    if reading is not None:
        context: Collection[str] = reading.context
        if reading.module and reading.kind:
            exact = [d for d in candidates(index, question.target, question.change,
                                           kind=reading.kind)
                     if d.module == reading.module]
            if len(exact) == 1:
                return resolve_name(index, qualified_name(exact[0], [*exact, *index.definitions(
                    exact[0].name)]), question.change, kind=reading.kind)
        kind = reading.kind
    else:
        context, kind = _text_context(question.text), None
        if question.subject and question.subject != question.target:
            context = context | {question.subject}
    return resolve_name(index, question.target, question.change, context=context, kind=kind)
