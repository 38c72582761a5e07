"""Question understanding: "What breaks if I add a variant to LLMKind?" -> ``Question``.

Two input forms (DESIGN.md section 4):

- text, read as a small pipeline: **tokenise** (words, names, operators, backticked code,
  Haskell syntax such as ``name :: Type``, ``A -> B``, ``[String]``, ``Maybe Day``) ->
  **tag** every token against a lexicon (the workspace's definitions with their kinds and
  modules when an index is given; the shape of the name otherwise), so that only names the
  workspace defines can be targets, while names from base, module names and English words are
  context -> **read**: cue words and phrases give evidence for an operation (add, remove,
  rename, retype, arity, unexport, superclass, generic change) and name the member involved
  (constructor, field, method, argument...); each candidate definition is scored by the
  change kind that operation means *for its kind of definition* (the target's kind decides
  between compatible readings: "change the type of x" is a field-type change when x is a
  field, a signature change when it is a function, a generic change for a data type), by its
  place in the sentence and by the names around it. The best reading wins; two definitions of
  one name that read equally well are an ambiguity, reported with candidates, never guessed.
  Text may end with directives ``tags: a, b`` and ``budget: high``.
- structured: ``{"target", "change", "tags", "budget", "subject", "variant", "query"|"text"}``;
  ``change`` takes the enum values (``add_constructor``), their names, or friendly aliases ("add
  variant", "unexport"); ``variant`` is the reading of add_method (``"required"``: no default,
  every instance must define it; ``"default"``: instances silently take a default). A mapping
  with only ``query`` text is parsed like text, then overridden by the other keys.

The reading of an added method is read from the text too ("without a default implementation",
"with a default"): ``Question.variant``, logged with the reading.

Target and subject: the target is the definition the change is made to. An *added* member goes
into a container: the type for a constructor or field, the class for a method or superclass
("add ctor Gemini to Vendor": target ``Vendor``, subject ``Gemini``, even though Gemini does
not exist yet). A member that is removed, renamed or retyped is itself the target, and the
type named with it is context ("remove the Circle constructor from Shape": target ``Circle``).
Names keep their qualification (``Types.LLMKind``).

Entry points: :func:`parse_question` (``index=`` reads against a workspace; without one, by
the shape of names), :func:`interpret` (the same, never raising for an ambiguity or a question
that is not understood: it returns what an editor shows), :func:`refine_for_target` (corrects
a structured question's change kind once its target's kind is known).

Tags: explicit tags replace the change kind's defaults (the asker says what to look for);
prefix one with ``+`` (``"+Module"``) to extend the defaults instead.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

from scout.explore.model import (
    DEFAULT_BUDGET,
    METHOD_DEFAULT,
    METHOD_REQUIRED,
    METHOD_VARIANTS,
    ChangeKind,
    Question,
    Reading,
    Tag,
)
from scout.explore.resolve import (
    TARGET_KINDS,
    AmbiguousTarget,
    ExploreError,
    UnknownSymbol,
    candidate_json,
    context_rank,
    parse_target_name,
    qualified_name,
    resolve_target,
    split_namespace,
)
from scout.haskell.model import Definition, DefKind

if TYPE_CHECKING:
    from scout.explore.resolve import Index

__all__ = [
    "DEFAULT_TAGS",
    "Interpretation",
    "Lexicon",
    "NotUnderstood",
    "QuestionError",
    "candidate_symbols",
    "default_tags",
    "interpret",
    "parse_budget",
    "parse_change",
    "parse_question",
    "parse_tags",
    "question_text",
    "refine_for_target",
]


class QuestionError(ValueError):
    """A question that cannot be understood; the message says how to ask instead."""

    def __init__(self, message: str, *, candidates: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.candidates = tuple(candidates)


class NotUnderstood(QuestionError):
    """Free text whose target could not be found. ``understood`` says which part was read
    (``{"change": ..., "names": [...], "unknown": [...]}``); ``suggestion`` is the closest
    structured reading (``{"target", "change", "flags"}``), or None."""

    def __init__(self, message: str, *, understood: Mapping[str, Any],
                 suggestion: Mapping[str, Any] | None) -> None:
        super().__init__(message)
        self.understood = dict(understood)
        self.suggestion = dict(suggestion) if suggestion is not None else None

    def to_json(self) -> dict[str, Any]:
        """``{"kind": "not_understood", "message", "understood", "suggestion"}``."""
        return {"kind": "not_understood", "message": str(self), "understood": self.understood,
                "suggestion": self.suggestion}


C = ChangeKind
DEFAULT_TAGS: dict[ChangeKind, tuple[Tag, ...]] = {
    C.ADD_CONSTRUCTOR: (Tag.EXHAUSTIVE, Tag.PATTERN_MATCH),
    C.REMOVE_CONSTRUCTOR: (Tag.PATTERN_MATCH, Tag.DATA_TYPE),
    C.RENAME_CONSTRUCTOR: (Tag.PATTERN_MATCH, Tag.DATA_TYPE),
    C.ADD_FIELD: (Tag.DATA_TYPE,),
    C.REMOVE_FIELD: (Tag.DATA_TYPE,),
    C.RENAME_FIELD: (Tag.DATA_TYPE,),
    C.CHANGE_FIELD_TYPE: (Tag.DATA_TYPE,),
    C.CHANGE_SIGNATURE: (Tag.FUNCTION,),
    C.CHANGE_ARITY: (Tag.FUNCTION,),
    C.ADD_METHOD: (Tag.CONSTRAINT,),
    C.ADD_SUPERCLASS: (Tag.CONSTRAINT,),
    C.CHANGE_TYPE_FAMILY: (Tag.TYPE_FAMILY,),
    C.CHANGE_TYPE_SYNONYM: (Tag.TYPE_ALIAS,),
    C.REMOVE_EXPORT: (Tag.MODULE,),
}

# Tags for a generic CHANGE, by the kind of definition the target turned out to be.
_TAGS_BY_DEF_KIND: dict[str, tuple[Tag, ...]] = {
    "data": (Tag.DATA_TYPE,), "newtype": (Tag.DATA_TYPE,), "constructor": (Tag.DATA_TYPE,),
    "field": (Tag.DATA_TYPE,), "type_synonym": (Tag.TYPE_ALIAS,),
    "type_family": (Tag.TYPE_FAMILY,), "data_family": (Tag.TYPE_FAMILY,),
    "type_instance": (Tag.TYPE_FAMILY,), "class": (Tag.CONSTRAINT,),
    "instance": (Tag.CONSTRAINT,), "derived_instance": (Tag.CONSTRAINT,),
    "method": (Tag.FUNCTION,), "function": (Tag.FUNCTION,), "module": (Tag.MODULE,),
    "pattern_synonym": (Tag.PATTERN_MATCH,),
}


def default_tags(change: ChangeKind, target: str | None = None) -> tuple[Tag, ...]:
    """The tags a change kind implies. A generic CHANGE guesses from the name's case (types
    and constructors are capitalised); ``refine_for_target`` replaces that guess."""
    if change in DEFAULT_TAGS:
        return DEFAULT_TAGS[change]
    bare = (target or "").rsplit(".", 1)[-1]
    return (Tag.DATA_TYPE,) if bare[:1].isupper() else (Tag.FUNCTION,)


# --- tags, budget, change kind --------------------------------------------------------------
def _key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text).lower()


_TAG_ALIASES: dict[str, Tag] = {_key(t.value): t for t in Tag} | {
    "exhaustiveness": Tag.EXHAUSTIVE, "patternmatching": Tag.PATTERN_MATCH,
    "patternmatches": Tag.PATTERN_MATCH, "patterns": Tag.PATTERN_MATCH,
    "typefamilies": Tag.TYPE_FAMILY, "constraints": Tag.CONSTRAINT,
    "typeclass": Tag.CONSTRAINT, "typeclasses": Tag.CONSTRAINT, "datatypes": Tag.DATA_TYPE,
    "typealiases": Tag.TYPE_ALIAS, "typesynonym": Tag.TYPE_ALIAS,
    "typesynonyms": Tag.TYPE_ALIAS, "functions": Tag.FUNCTION, "modules": Tag.MODULE,
    "exports": Tag.MODULE,
}
_VALID_TAGS = ", ".join(t.value for t in Tag)


def _split_tags(value: str | Sequence[str]) -> list[tuple[str, bool]]:
    """(tag text, extend?) pairs from a comma string or a list of (comma) strings."""
    if isinstance(value, str):
        items: list[Any] = [value]
    elif isinstance(value, Sequence):
        items = list(value)
    else:
        raise QuestionError(f"tags must be a string or a list of strings, got "
                            f"{type(value).__name__}: pass e.g. \"Exhaustive, PatternMatch\"")
    out: list[tuple[str, bool]] = []
    for item in items:
        if isinstance(item, Tag):
            out.append((item.value, False))
            continue
        if not isinstance(item, str):
            raise QuestionError(f"tag {item!r} is not a string: valid tags are {_VALID_TAGS}")
        for part in re.split(r"[,;]", item):
            part = part.strip()
            if not part:
                continue
            extend = part.startswith("+")
            part = part.lstrip("+").strip()
            if _key(part) in _TAG_ALIASES:
                out.append((part, extend))
            else:  # "exhaustive patternmatch": several tags separated by spaces
                out.extend((word.lstrip("+"), extend or word.startswith("+"))
                           for word in part.split())
    return out


def _tag(text: str) -> Tag:
    found = _TAG_ALIASES.get(_key(text))
    if found is None:
        raise QuestionError(f"unknown tag {text!r}: valid tags are {_VALID_TAGS} "
                            "(any case; a comma string works too)")
    return found


def parse_tags(value: str | Sequence[str]) -> tuple[Tag, ...]:
    """Tags from ``"exhaustive, PatternMatch"``, ``["Exhaustive", "pattern match"]`` …:
    any case, spaces/underscores/dashes ignored, duplicates dropped, order kept.
    A ``+`` prefix (used by ``parse_question`` to mean "add to the defaults") is accepted."""
    return tuple(dict.fromkeys(_tag(text) for text, _ in _split_tags(value)))


def _resolve_tags(value: str | Sequence[str] | None, defaults: tuple[Tag, ...]
                  ) -> tuple[tuple[Tag, ...], bool]:
    """The question's tags, and whether they were given explicitly."""
    if value is None:
        return defaults, False
    parts = _split_tags(value)
    if not parts:
        return defaults, False
    explicit = [_tag(text) for text, extend in parts if not extend]
    extra = [_tag(text) for text, extend in parts if extend]
    base = explicit if explicit else list(defaults)
    return tuple(dict.fromkeys(base + extra)), True


def parse_budget(value: int | str | None) -> int:
    """``low``/``medium``/``high`` (10/20/100), a number of nodes, or None for the default."""
    from scout.settings import SettingsError
    from scout.settings import parse_budget as parse_setting

    if value is None:
        return DEFAULT_BUDGET
    try:
        return parse_setting(value)
    except SettingsError as exc:
        raise QuestionError(str(exc)) from None


_CHANGE_ALIASES: dict[str, ChangeKind] = {
    **{_key(k.value): k for k in ChangeKind},
    **{_key(k.name): k for k in ChangeKind},
    **{_key(alias): kind for kind, aliases in {
        C.ADD_CONSTRUCTOR: ("add variant", "new constructor", "new variant", "add case",
                            "add alternative", "constructor", "variant"),
        C.REMOVE_CONSTRUCTOR: ("delete constructor", "drop constructor", "remove variant",
                               "delete variant"),
        C.RENAME_CONSTRUCTOR: ("rename variant",),
        C.ADD_FIELD: ("new field", "add record field", "field"),
        C.REMOVE_FIELD: ("delete field", "drop field"),
        C.CHANGE_FIELD_TYPE: ("field type", "change field", "retype field"),
        C.CHANGE_SIGNATURE: ("signature", "change type", "type change", "change function type",
                             "change function signature"),
        C.CHANGE_ARITY: ("arity", "add argument", "add parameter", "remove argument",
                         "remove parameter", "more arguments", "fewer arguments"),
        C.ADD_METHOD: ("new method", "add class method", "method"),
        C.ADD_SUPERCLASS: ("superclass", "new superclass", "add constraint to class"),
        C.CHANGE_TYPE_FAMILY: ("type family", "change family", "type instance",
                               "change type instance"),
        C.CHANGE_TYPE_SYNONYM: ("type synonym", "type alias", "change type alias",
                                "change alias", "alias", "synonym"),
        C.REMOVE_EXPORT: ("unexport", "stop exporting", "hide export", "remove from exports",
                          "export"),
        C.CHANGE: ("generic", "other", "modify", "any"),
    }.items() for alias in aliases},
}


def parse_change(value: str | ChangeKind) -> ChangeKind:
    """A change kind from its enum value, its name, or a friendly alias ("add variant")."""
    if isinstance(value, ChangeKind):
        return value
    if isinstance(value, str):
        found = _CHANGE_ALIASES.get(_key(value))
        if found is not None:
            return found
    raise QuestionError(f"unknown change {value!r}: use one of "
                        f"{', '.join(k.value for k in ChangeKind)}")



# --- the vocabulary: cue words and phrases -------------------------------------------------------
class Op(Enum):
    """What the question does to its target, before the target's kind is known."""

    ADD = "add"  # a member goes into the target (constructor, field, method, superclass...)
    REMOVE = "remove"
    RENAME = "rename"
    RETYPE = "retype"  # a new type: signature, field type, synonym's right-hand side
    ARITY = "arity"  # arguments added or removed
    UNEXPORT = "unexport"
    SUPER = "superclass"  # a class gains a superclass
    GENERIC = "change"


class Noun(Enum):
    """Kinds of thing a question names in words."""

    CON = "constructor"
    FIELD = "field"
    METHOD = "method"
    ARG = "argument"
    SUPER = "superclass"
    SUB = "subclass"
    INSTANCE = "instance"
    EXPORT = "export"
    FAMILY = "type_family"
    SYNONYM = "type_synonym"
    CLASS = "class"
    DATA = "data"
    FUNC = "function"
    MODULE = "module"
    MEMBER = "member"  # a member of unsaid kind: "a West member", "a new value"


# The definition kind a noun next to a name selects ("the Total constructor").
_NOUN_KIND: dict[Noun, frozenset[str]] = {
    Noun.CON: frozenset({"constructor", "pattern_synonym"}),
    Noun.FIELD: frozenset({"field"}),
    Noun.METHOD: frozenset({"method"}),
    Noun.FAMILY: frozenset({"type_family", "data_family"}),
    Noun.SYNONYM: frozenset({"type_synonym"}),
    Noun.CLASS: frozenset({"class"}),
    Noun.DATA: frozenset({"data", "newtype"}),
    Noun.FUNC: frozenset({"function", "method"}),
}
# Nouns naming a member that a change adds or removes.
_MEMBER_NOUNS = frozenset({Noun.CON, Noun.FIELD, Noun.METHOD, Noun.ARG, Noun.SUPER, Noun.SUB,
                           Noun.INSTANCE, Noun.MEMBER})

_IRREGULAR = {
    "took": "take", "taken": "take", "got": "get", "gotten": "get", "gave": "give",
    "given": "give", "lost": "lose", "went": "go", "gone": "go", "goes": "go", "had": "have",
    "has": "have", "made": "make", "kept": "keep", "was": "be", "were": "be", "is": "be",
    "are": "be", "been": "be", "being": "be", "am": "be", "became": "become", "grew": "grow",
    "grown": "grow", "hid": "hide", "hidden": "hide", "rewrote": "rewrite",
    "rewritten": "rewrite", "did": "do", "does": "do", "done": "do", "brought": "bring",
    "wrote": "write", "written": "write", "chose": "choose", "split": "split", "put": "put",
    "let": "let", "lets": "let", "args": "arg", "params": "param", "aliases": "alias",
    "families": "family", "classes": "class", "superclasses": "superclass",
    "subclasses": "subclass", "branches": "branch", "cases": "case", "ctors": "ctor",
    "children": "child", "won't": "not", "can't": "not", "cannot": "not", "don't": "not",
    "doesn't": "not", "didn't": "not", "isn't": "not", "aren't": "not", "wasn't": "not",
    "weren't": "not", "shouldn't": "not", "wouldn't": "not", "never": "not", "nope": "not",
    "generalize": "generalise", "specialize": "specialise", "generalized": "generalise",
    "specialized": "specialise", "anymore": "anymore", "needn't": "not",
}

# lemma -> ((Op, weight), ...). Weights: 3-5 a cue that names the operation, 1-2 one that
# supports it, below 1 a hint.
_VERB_CUES: dict[str, tuple[tuple[Op, float], ...]] = {
    "add": ((Op.ADD, 3),), "introduce": ((Op.ADD, 3),), "insert": ((Op.ADD, 3),),
    "append": ((Op.ADD, 3),), "include": ((Op.ADD, 2),), "attach": ((Op.ADD, 2),),
    "put": ((Op.ADD, 1.5),), "gain": ((Op.ADD, 2),), "grow": ((Op.ADD, 2),),
    "support": ((Op.ADD, 2),), "offer": ((Op.ADD, 1.5),), "provide": ((Op.ADD, 1.5),),
    "carry": ((Op.ADD, 2),), "store": ((Op.ADD, 1.5),), "track": ((Op.ADD, 1),),
    "record": ((Op.ADD, 1),), "hold": ((Op.ADD, 1),), "keep": ((Op.ADD, 0.5),),
    "extend": ((Op.ADD, 2), (Op.SUPER, 2)), "new": ((Op.ADD, 1.5),),
    "another": ((Op.ADD, 1.5),), "additional": ((Op.ADD, 1.5),), "extra": ((Op.ADD, 1.5),),
    "more": ((Op.ADD, 1),), "second": ((Op.ADD, 1),), "third": ((Op.ADD, 1),),
    "fourth": ((Op.ADD, 1),), "fifth": ((Op.ADD, 1),), "have": ((Op.ADD, 1),),
    "get": ((Op.ADD, 1),), "need": ((Op.ADD, 1), (Op.SUPER, 1)), "give": ((Op.ADD, 1),),
    "with": ((Op.ADD, 0.5),), "also": ((Op.ADD, 0.5), (Op.ARITY, 0.5)),
    "remove": ((Op.REMOVE, 3),), "delete": ((Op.REMOVE, 3),), "drop": ((Op.REMOVE, 3),),
    "eliminate": ((Op.REMOVE, 3),), "kill": ((Op.REMOVE, 2),), "lose": ((Op.REMOVE, 3),),
    "ditch": ((Op.REMOVE, 3),), "scrap": ((Op.REMOVE, 3),), "retire": ((Op.REMOVE, 2),),
    "deprecate": ((Op.REMOVE, 2),), "axe": ((Op.REMOVE, 3),), "strip": ((Op.REMOVE, 2),),
    "erase": ((Op.REMOVE, 3),), "without": ((Op.REMOVE, 2),), "removal": ((Op.REMOVE, 3),),
    "pointless": ((Op.REMOVE, 1),), "unused": ((Op.REMOVE, 1),), "obsolete": ((Op.REMOVE, 1),),
    "stop": ((Op.REMOVE, 2),), "cut": ((Op.REMOVE, 2),), "disappear": ((Op.REMOVE, 3),),
    "vanish": ((Op.REMOVE, 3),),
    "swap": ((Op.RETYPE, 3),), "reorder": ((Op.RETYPE, 3),), "flip": ((Op.RETYPE, 2),),
    "order": ((Op.RETYPE, 1),),
    "rename": ((Op.RENAME, 4),), "call": ((Op.RENAME, 2),),
    "retype": ((Op.RETYPE, 4),), "return": ((Op.RETYPE, 3),), "yield": ((Op.RETYPE, 2),),
    "produce": ((Op.RETYPE, 2),), "generalise": ((Op.RETYPE, 3),),
    "specialise": ((Op.RETYPE, 3),), "polymorphic": ((Op.RETYPE, 3),),
    "monomorphic": ((Op.RETYPE, 3),), "become": ((Op.RETYPE, 1.5),),
    "make": ((Op.RETYPE, 1),), "strict": ((Op.RETYPE, 2),), "lazy": ((Op.RETYPE, 2),),
    "optional": ((Op.RETYPE, 2),), "signature": ((Op.RETYPE, 3),), "use": ((Op.RETYPE, 0.5),),
    "arity": ((Op.ARITY, 4),), "take": ((Op.ARITY, 1.5),), "accept": ((Op.ARITY, 1.5),),
    "receive": ((Op.ARITY, 1.5),), "pass": ((Op.ARITY, 1.5),), "too": ((Op.ARITY, 0.5),),
    "unexport": ((Op.UNEXPORT, 5),), "private": ((Op.UNEXPORT, 4),),
    "internal": ((Op.UNEXPORT, 3),), "hide": ((Op.UNEXPORT, 3),),
    "superclass": ((Op.SUPER, 4),), "subclass": ((Op.SUPER, 4),),
    "constrain": ((Op.SUPER, 3),), "require": ((Op.SUPER, 3),), "imply": ((Op.SUPER, 3),),
    "constraint": ((Op.SUPER, 2), (Op.RETYPE, 2)),
    "change": ((Op.GENERIC, 1),), "modify": ((Op.GENERIC, 1),), "alter": ((Op.GENERIC, 1),),
    "edit": ((Op.GENERIC, 1),), "update": ((Op.GENERIC, 1),), "refactor": ((Op.GENERIC, 1.5),),
    "rework": ((Op.GENERIC, 1.5),), "rewrite": ((Op.GENERIC, 1.5),),
    "touch": ((Op.GENERIC, 1),), "tweak": ((Op.GENERIC, 1),), "mess": ((Op.GENERIC, 1),),
    "redefine": ((Op.GENERIC, 1), (Op.RETYPE, 1)), "impact": ((Op.GENERIC, 1),),
    "affect": ((Op.GENERIC, 1),), "depend": ((Op.GENERIC, 1),), "consequence": ((Op.GENERIC, 1),),
}

_NOUN_CUES: dict[str, Noun] = {
    **dict.fromkeys(("constructor", "ctor", "con", "variant", "case", "alternative", "alt",
                     "branch", "arm", "summand"), Noun.CON),
    **dict.fromkeys(("field", "selector", "accessor", "attribute", "property"), Noun.FIELD),
    **dict.fromkeys(("method", "operation"), Noun.METHOD),
    **dict.fromkeys(("argument", "arg", "parameter", "param", "input"), Noun.ARG),
    "superclass": Noun.SUPER, "subclass": Noun.SUB, "constraint": Noun.SUPER,
    **dict.fromkeys(("instance", "equation"), Noun.INSTANCE),
    **dict.fromkeys(("export", "exports"), Noun.EXPORT),
    "family": Noun.FAMILY, **dict.fromkeys(("synonym", "alias"), Noun.SYNONYM),
    **dict.fromkeys(("class", "typeclass"), Noun.CLASS),
    **dict.fromkeys(("type", "datatype", "record", "enum", "newtype", "adt"), Noun.DATA),
    **dict.fromkeys(("function", "helper", "combinator", "operator"), Noun.FUNC),
    "module": Noun.MODULE,
    **dict.fromkeys(("member", "value", "option", "entry", "kind"), Noun.MEMBER),
}

# Multi-word cues, as lemma sequences: ops, nouns, or both.
_PHRASES: tuple[tuple[tuple[str, ...], tuple[tuple[Op, float], ...], Noun | None], ...] = (
    (("get", "rid", "of"), ((Op.REMOVE, 3),), None),
    (("take", "out"), ((Op.REMOVE, 3),), None),
    (("out", "of"), ((Op.REMOVE, 1.5),), None),
    (("go", "away"), ((Op.REMOVE, 3),), None),
    (("can", "go"), ((Op.REMOVE, 2.5),), None),
    (("no", "longer", "need"), ((Op.REMOVE, 3),), None),
    (("no", "longer", "exist"), ((Op.REMOVE, 3),), None),
    (("no", "longer", "have"), ((Op.REMOVE, 3),), None),
    (("not", "exist"), ((Op.REMOVE, 3),), None),
    (("be", "go"), ((Op.REMOVE, 2.5),), None),
    (("need", "to"), (), None),  # "I need to change": not a request for a new member
    (("want", "to"), (), None),
    (("have", "to"), (), None),
    (("could", "use"), ((Op.ADD, 2),), None),
    (("depend", "on"), ((Op.SUPER, 2), (Op.GENERIC, 1)), None),
    (("better", "name"), ((Op.RENAME, 3),), None),
    (("different", "name"), ((Op.RENAME, 3),), None),
    (("clearer", "name"), ((Op.RENAME, 3),), None),
    (("not", "need"), ((Op.REMOVE, 2.5),), None),
    (("be", "call"), ((Op.RENAME, 4),), None),
    (("be", "name"), ((Op.RENAME, 4),), None),
    (("new", "name"), ((Op.RENAME, 3),), None),
    (("name", "of"), ((Op.RENAME, 1.5),), None),
    (("type", "of"), ((Op.RETYPE, 3),), None),
    (("change", "type"), ((Op.RETYPE, 3),), None),
    (("type", "signature"), ((Op.RETYPE, 3),), None),
    (("return", "type"), ((Op.RETYPE, 3),), None),
    (("result", "type"), ((Op.RETYPE, 3),), None),
    (("give", "back"), ((Op.RETYPE, 3),), None),
    (("instead", "of"), ((Op.RETYPE, 2),), None),
    (("rather", "than"), ((Op.RETYPE, 2),), None),
    (("turn", "into"), ((Op.RETYPE, 2),), None),
    (("map", "to"), ((Op.RETYPE, 1),), None),
    (("work", "on"), ((Op.RETYPE, 1),), None),
    (("as", "well"), ((Op.ARITY, 1), (Op.ADD, 0.5)), None),
    (("one", "more"), ((Op.ADD, 1.5),), None),
    (("one", "fewer"), ((Op.REMOVE, 1.5),), None),
    (("one", "less"), ((Op.REMOVE, 1.5),), None),
    (("type", "family"), (), Noun.FAMILY),
    (("data", "family"), (), Noun.FAMILY),
    (("associated", "type"), (), Noun.FAMILY),
    (("type", "instance"), (), Noun.INSTANCE),
    (("type", "synonym"), (), Noun.SYNONYM),
    (("type", "alias"), (), Noun.SYNONYM),
    (("type", "class"), (), Noun.CLASS),
    (("data", "type"), (), Noun.DATA),
    (("sum", "type"), (), Noun.DATA),
    (("record", "field"), (), Noun.FIELD),
    (("class", "method"), (), Noun.METHOD),
    (("member", "function"), (), Noun.METHOD),
    (("super", "class"), ((Op.SUPER, 4),), Noun.SUPER),
    (("parent", "class"), ((Op.SUPER, 4),), Noun.SUPER),
    (("export", "list"), (), Noun.EXPORT),
    (("blast", "radius"), ((Op.GENERIC, 1),), None),
    (("who", "use"), ((Op.GENERIC, 1),), None),
    (("in", "case"), (), None),  # "in case": not a constructor
)

# Words that are never names (unless quoted): function words and the question's frame.
_STOP = frozenset("""
a about after again all also am an and another any anything anyway are around as at be because
been before being both but by can could did do does doing each either else even ever every
everything few for from had has have having he her here hers him his how i if in into is it its
itself just least less let lets like likely many may maybe me might mine more most much must my
myself neither no nor not now of off often on once one only onto or other others otherwise our
ours out over own perhaps please quite rather really same she should since so some somehow
something still such than that the their them then there these they this those though through
thus to too under until up upon us very via was we well were what whatever when where whether
which while who whom whose why will with within without would yes yet you your yours
happen happens happened break breaks breaking broke broken fail fails failed failing need
needs needed want wants wanted like liked plan planning going think thinking try trying wonder
guess suppose supposing assume assuming say saying tell consider considering mean means
things thing stuff code project place places way ways fix fixed fixing needs need whole
currently later soon instead also still already first last next now today longer
data newtype
""".split())
_DETS = frozenset("""
a an the this that these those its their his her my our your some any each every one two three
four five several new extra another additional more second third fourth fifth first single
current existing old whole own all both same different separate optional mandatory
""".split())
_INTO = frozenset({"to", "into", "in", "inside", "within", "on", "onto", "for", "of"})
_FROM = frozenset({"from", "out"})
_OPENERS = frozenset({"if", "when", "whether", "suppose", "supposing", "assume", "assuming",
                      "that", "say", "and", "but", "so", "then", "what", "how", "why",
                      "once", "after", "before", "because", "now"})
_ADVERBS = frozenset({"also", "now", "still", "just", "ever", "really", "then", "only",
                      "actually", "additionally", "both", "all", "too", "instead", "always",
                      "never", "no", "longer", "not", "probably", "maybe", "eventually"})
_AUX = frozenset({"be", "do", "have", "will", "would", "should", "could", "can", "must",
                  "might", "may", "shall", "not", "need", "want", "to"})
_NEGATIONS = frozenset({"not", "no", "stop", "without", "hide", "unexport"})
_THIS = frozenset({"it", "this", "that", "them", "these", "those"})
# Words that may stand inside a phrase without breaking it.
_FILLERS = frozenset({"really", "actually", "just", "even", "now", "still", "simply", "it",
                      "them", "ever", "truly", "also", "then", "already", "finally"})
_KEYWORDS = frozenset({"data", "newtype", "type", "class", "instance", "where", "let", "in",
                       "case", "of", "deriving", "family", "module", "import", "forall", "if",
                       "then", "else", "do", "pattern", "infixl", "infixr", "infix"})
# Words for types in prose: "were a list of modifiers", "becomes a pair".
_TYPE_WORDS = frozenset({"list", "lists", "pair", "tuple", "triple", "set", "map", "maybe",
                         "vector", "array", "number", "string", "integer", "int", "double",
                         "float", "text", "bool", "boolean", "function", "newtype", "record",
                         "natural", "word", "char", "io", "either", "option"})
_PRONOUNS = frozenset({"i", "we", "you", "they", "he", "she", "one", "someone", "somebody"})
_ADDITIVE = frozenset({"new", "another", "extra", "additional", "fifth", "fourth", "third"})
_CAUSATIVE = frozenset({"want", "let", "make", "like", "need", "expect", "allow", "have",
                        "get", "prefer", "rather"})

# Names from base and the Prelude: context (types in signatures, classes to add), never
# targets unless the workspace itself defines them.
_BASE_CLASSES = frozenset("""
Show Read Eq Ord Enum Bounded Num Integral Fractional Floating Real RealFrac RealFloat Functor
Applicative Monad MonadFail MonadIO MonadPlus Alternative Foldable Traversable Semigroup Monoid
Generic NFData Hashable ToJSON FromJSON ToJSONKey FromJSONKey Typeable Data IsString IsList
Exception MonadState MonadReader MonadWriter MonadError MonadTrans MonadThrow MonadCatch
MonadMask MonadUnliftIO Category Arrow Bifunctor Contravariant Storable Binary Serialize Ix
Lift Default Eq1 Ord1 Show1 Coercible Bits FiniteBits PrintfArg HasField KnownNat KnownSymbol
""".split())
_BASE_TYPES = frozenset("""
Int Integer Double Float Bool Char String Text ByteString Maybe Either IO Map Set HashMap HashSet
Seq Vector Array IORef MVar TVar STRef Day UTCTime TimeOfDay LocalTime ZonedTime
NominalDiffTime DiffTime Word Word8 Word16 Word32 Word64 Int8 Int16 Int32 Int64 Natural
Rational Ratio Ordering FilePath Proxy Identity Const NonEmpty Endo Sum Product First Last Any
All Void Scientific Value Object Builder ShowS ReadS IntMap IntSet Complex Fixed Down Dual
Compose Kleisli ExceptT ReaderT StateT WriterT RWST MaybeT Reader Writer ST STM Async Chan
TChan TMVar Handle SomeException ExitCode Version Type Constraint Symbol Nat Either3 Lazy
True False Nothing Just Left Right LT EQ GT
""".split())


def _forms(verb: str) -> set[str]:
    forms = {verb, verb + "s", verb + "es", verb + "ed", verb + "d", verb + "ing"}
    if verb.endswith("e"):
        forms |= {verb[:-1] + "ing", verb[:-1] + "ion"}
    if verb.endswith("y"):
        forms |= {verb[:-1] + "ies", verb[:-1] + "ied"}
    if re.search(r"[^aeiou][aeiou][bdgmnprt]$", verb):
        forms |= {verb + verb[-1] + "ed", verb + verb[-1] + "ing"}
    return forms


def _lemma_table() -> dict[str, str]:
    table: dict[str, str] = {}
    words = (set(_VERB_CUES) | set(_NOUN_CUES) | {p for ph, _, _ in _PHRASES for p in ph}
             | {"name", "type", "want", "plan", "think", "need", "export", "store", "stop",
                "exist", "disappear", "vanish", "public", "visible", "use",
                "go", "keep", "turn", "map", "work", "depend", "call", "expose",
                "offer", "hide", "become"})
    for word in sorted(words):
        for form in _forms(word):
            table.setdefault(form, word)
    for form, lemma in _IRREGULAR.items():
        table[form] = lemma
    for word in words:
        table[word] = word
    return table


_LEMMAS = _lemma_table()


def _lemma(lower: str) -> str:
    found = _LEMMAS.get(lower)
    if found is not None:
        return found
    if "'" in lower:  # contractions: I'm, we'd, it's, what's
        head, _, tail = lower.partition("'")
        if tail in ("t",):
            return "not"
        return head
    return lower



# --- tokenise ------------------------------------------------------------------------------------
_OP_CHARS = r"!#$%&*+./<=>?@\\^|~:\-"
_TOKEN = re.compile(rf"""
    `(?P<code>[^`]+)`
  | (?<![\w'])['"](?P<quoted>[^'"\s]+)['"](?![\w])
  | (?P<qop>(?:[A-Z][\w']*\.)+\((?:[{_OP_CHARS}]+)\))
  | (?P<pop>\((?:[{_OP_CHARS}]+|,+)\))
  | (?P<name>(?:[A-Z][\w']*\.)*[A-Za-z_][\w']*)
  | (?P<op>[{_OP_CHARS}]+|[→⇒])
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<punct>[()\[\]{{}},;])
""", re.X)
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "—": " - ", "–": " - "})
_END_PUNCT = re.compile(r"[.?!]+|-{1,2}|/|\.\.\.")
_CONTRACTION_HEADS = frozenset({"i", "we", "you", "it", "that", "what", "there", "he", "she",
                                "they", "let", "who", "here", "where", "how"})


@dataclass(frozen=True, slots=True)
class _Sense:
    """One thing a name can mean: a definition of the workspace, or a guess from its shape
    (``definition`` None) when no workspace is given."""

    name: str
    kind: str  # DefKind value
    module: str | None
    parent: str | None
    definition: Definition | None = None
    shadowed: bool = False  # the constructor of a same-named type (`data Config = Config`)
    folded: bool = False  # matched a lower-case word of the question ("the job type": Job)


@dataclass(slots=True)
class _Tok:
    text: str
    kind: str  # name | op | num | punct | colon | dcolon | arrow | fatarrow | eq | end
    i: int = 0
    quoted: bool = False
    code: int = -1  # index of the backticked span it came from
    possessive: bool = False
    lower: str = ""
    lemma: str = ""
    sentence_start: bool = False
    # tagging
    senses: tuple[_Sense, ...] = ()
    module: str | None = None  # the module it names
    base: str | None = None  # "type" or "class" from base
    stop: bool = False  # an English word of the question's frame (never a name unless quoted)
    cue: bool = False  # carries evidence for an operation or names a kind of thing
    in_type: bool = False  # inside a Haskell type written in the question
    prose: bool = False  # inside a quoted phrase ("for 'refresh or not'"): words, not names
    member_name: bool = False  # the name of a member next to its noun ("a flush method")

    @property
    def code_shaped(self) -> bool:
        """Looks like code, not English: quoted, qualified, an operator, capitalised inside a
        sentence, or with inner capitals, digits, underscores or primes."""
        t = self.text
        return (self.quoted or self.kind == "op" or "." in t or bool(re.search(r"[A-Z_'\d]", t[1:]))
                or (t[:1].isupper() and not self.sentence_start))

    @property
    def upper(self) -> bool:
        bare = self.text.rsplit(".", 1)[-1] if self.kind == "name" else self.text
        return bare[:1].isupper() or bare.startswith(":")


def _classify_op(text: str) -> str:
    if text in ("::", "∷"):
        return "dcolon"
    if text == ":":
        return "colon"
    if text in ("->", "→"):
        return "arrow"
    if text in ("=>", "⇒"):
        return "fatarrow"
    if text == "=":
        return "eq"
    if _END_PUNCT.fullmatch(text):
        return "end"
    return "op"


_QUOTED_PROSE = re.compile(r"(?<![\w`])(['\"])[^'\"`]*\s[^'\"`]*\1(?![\w])")


def _tokenise(text: str, code: bool = False) -> list[_Tok]:
    text = text.translate(_QUOTES)
    toks: list[_Tok] = []
    code_id = 0
    prose = [m.span() for m in _QUOTED_PROSE.finditer(text)] if not code else []
    for m in _TOKEN.finditer(text):
        if prose and any(a < m.start() < b for a, b in prose) and m.group("name") is not None:
            toks.append(_Tok(m.group("name"), "name", prose=True))
            continue
        if m.group("code") is not None:
            inner = [t for t in _tokenise(m.group("code"), code=True) if t.kind != "end"]
            for t in inner:
                t.quoted, t.code = True, code_id
            code_id += 1
            toks.extend(inner)
            continue
        if m.group("quoted") is not None:
            value = m.group("quoted")
            op = value.strip("()")
            kind = "name" if re.fullmatch(r"(?:[A-Z][\w']*\.)*[A-Za-z_][\w']*", value) else (
                "op" if op and re.fullmatch(rf"[{_OP_CHARS}]+", op) else "")
            if not kind:
                continue
            toks.append(_Tok(op if kind == "op" else value, kind, quoted=True))
            continue
        if m.group("qop") is not None:
            module, _, op = m.group("qop").rpartition(".(")
            toks.append(_Tok(f"{module}.{op[:-1]}", "op", quoted=True))
            continue
        if m.group("pop") is not None:
            toks.append(_Tok(m.group("pop")[1:-1], "op", quoted=True))
            continue
        if m.group("name") is not None:
            toks.append(_Tok(m.group("name"), "name"))
            continue
        if m.group("op") is not None:
            op = m.group("op")
            kind = _classify_op(op)
            if kind == "op" and (len(op) < 2 or set(op) <= set("\\|-.?!/~")):
                kind = "end" if set(op) <= set(".?!") else "punct"
            if kind == "op" and len(op) > 1 and op[-1] in ".?!" and _classify_op(op[:-1]) != "op":
                toks.append(_Tok(op[:-1], _classify_op(op[:-1])))
                toks.append(_Tok(op[-1], "end"))
                continue
            toks.append(_Tok(op, kind))
            continue
        if m.group("num") is not None:
            toks.append(_Tok(m.group("num"), "num"))
            continue
        toks.append(_Tok(m.group("punct"), "punct"))
    for i, t in enumerate(toks):
        t.i = i
        t.sentence_start = i == 0 or toks[i - 1].kind == "end"
        if t.kind == "name" and not t.quoted and not code and "'" in t.text:
            _apostrophe(t)
        t.lower = t.text.lower()
        t.lemma = _lemma(t.lower) if t.kind == "name" and not t.quoted else t.lower
    return toks


def _apostrophe(t: _Tok) -> None:
    """Config's -> Config (possessive); I'm, don't, what's -> English words."""
    lower = t.text.lower()
    head, _, tail = lower.partition("'")
    if head in _CONTRACTION_HEADS or tail in ("t", "m", "re", "ve", "ll", "d") and not t.text[:1].isupper():
        return
    if t.text.endswith("'s") and len(t.text) > 2:
        t.text = t.text[:-2]
        t.possessive = True
    elif t.text.endswith("s'") and len(t.text) > 2:  # Jobs' -> Jobs
        t.text = t.text[:-1]
        t.possessive = True


# --- the lexicon ---------------------------------------------------------------------------------
_NOT_TARGET_KINDS = frozenset({DefKind.MODULE, DefKind.INSTANCE, DefKind.DERIVED_INSTANCE,
                               DefKind.TYPE_INSTANCE})
_TYPE_KINDS = frozenset({"data", "newtype"})
_SHAPE_UPPER = ("data", "constructor", "class", "type_family", "type_synonym")
_TYPE_LEVEL = frozenset({"data", "newtype", "class", "type_family", "data_family",
                         "type_synonym"})
_SHAPE_LOWER = ("function", "field", "method")


class Lexicon:
    """The names a question is read against: the workspace's definitions (name -> kinds,
    modules, parents) and its module names. Without an index, names are guessed from their
    shape (capitalised: a type, constructor, class, family or synonym; otherwise a function,
    field or method), and module names are never known."""

    def __init__(self, index: Index | None = None) -> None:
        self.index = index
        self._modules: frozenset[str] | None = None
        self._suffixes: dict[str, str] | None = None

    @property
    def guessing(self) -> bool:
        return self.index is None

    def _module_tables(self) -> tuple[frozenset[str], dict[str, str]]:
        if self._modules is None or self._suffixes is None:
            modules = frozenset(s.module for s in self.index.summaries.values()
                                if s.module) if self.index is not None else frozenset()
            suffixes: dict[str, str] = {}
            ambiguous: set[str] = set()
            for module in modules:
                parts = module.split(".")
                for i in range(1, len(parts)):
                    suffix = ".".join(parts[i:])
                    if suffix in suffixes and suffixes[suffix] != module:
                        ambiguous.add(suffix)
                    suffixes.setdefault(suffix, module)
            for suffix in ambiguous:
                suffixes.pop(suffix, None)
            self._modules, self._suffixes = modules, suffixes
        return self._modules, self._suffixes

    def module(self, name: str) -> str | None:
        """The workspace module ``name`` names (exactly, or as a unique dotted suffix)."""
        if self.index is None:
            return None
        modules, suffixes = self._module_tables()
        if name in modules:
            return name
        return suffixes.get(name)

    def is_module_prefix(self, name: str) -> bool:
        modules, suffixes = self._module_tables()
        return name in modules or name in suffixes

    def senses(self, name: str) -> tuple[_Sense, ...]:
        if self.index is None:
            return self._guess(name)
        module, bare = parse_target_name(name)
        defs = [d for d in self.index.definitions(bare) if d.kind not in _NOT_TARGET_KINDS]
        if module:
            inside = [d for d in defs if d.module == module or d.module.endswith("." + module)]
            if inside or self.is_module_prefix(module):
                defs = inside  # else an import alias (W.focus): the name alone counts
        best: dict[tuple[str, str], Definition] = {}
        for d in defs:
            key = (d.module, d.kind.value)
            kept = best.get(key)
            if kept is None or _detail(d) > _detail(kept):
                best[key] = d
        types = {(d.module, d.name) for d in best.values() if d.kind.value in _TYPE_KINDS}
        return tuple(_Sense(d.name, d.kind.value, d.module, d.parent, d,
                            shadowed=d.kind is DefKind.CONSTRUCTOR and d.parent == d.name
                            and (d.module, d.name) in types)
                     for d in sorted(best.values(), key=lambda d: (d.module, d.kind.value)))

    def constructors_of(self, d: Definition) -> list[Definition]:
        if self.index is None:
            return []
        return [c for name in d.constructors
                for c in self.index.definitions(name, (DefKind.CONSTRUCTOR,))
                if c.module == d.module]

    def folded(self, word: str) -> tuple[_Sense, ...]:
        """Capitalised definitions a lower-case word of prose may mean ("the job type" ->
        ``Job``); none without a workspace."""
        if self.index is None or not word.isalpha():
            return ()
        return tuple(replace(s, folded=True) for s in self.senses(word[:1].upper() + word[1:])
                     if s.kind in _TYPE_LEVEL)

    @staticmethod
    def _guess(name: str) -> tuple[_Sense, ...]:
        _, bare = parse_target_name(name)
        upper = bare[:1].isupper() or bare.startswith(":")
        if not bare[:1].isalpha() and bare[:1] != "_":  # an operator
            kinds: tuple[str, ...] = ("constructor",) if upper else ("function", "method")
        else:
            kinds = _SHAPE_UPPER if upper else _SHAPE_LOWER
        return tuple(_Sense(name, kind, None, None) for kind in kinds)

    def suggest(self, name: str, kinds: Sequence[str] | None = None, n: int = 3) -> list[str]:
        """Defined names close to ``name`` (of the given kinds), closest first."""
        if self.index is None:
            return []
        wanted = set(kinds) if kinds else None
        pool = {d.name for d in self.index.all_definitions()
                if d.kind not in _NOT_TARGET_KINDS and (wanted is None or d.kind.value in wanted)
                and abs(len(d.name) - len(name)) <= max(2, len(name) // 3)}
        return difflib.get_close_matches(name, sorted(pool), n=n, cutoff=0.75)


def _detail(d: Definition) -> tuple[int, int]:
    return (not d.path.endswith(".hs-boot"),
            len(d.constructors) + len(d.fields) + len(d.methods) + (d.signature is not None))



# --- tag ------------------------------------------------------------------------------------------
def _tag_tokens(toks: list[_Tok], lexicon: Lexicon) -> None:
    """Give every name token what it can be: workspace senses, a module, a base name, an
    English word of the frame, a cue."""
    for t in toks:
        if t.kind == "op" and t.quoted or t.kind == "op" and not _END_PUNCT.fullmatch(t.text):
            t.senses = lexicon.senses(t.text)
            continue
        if t.kind != "name":
            continue
        if t.code >= 0 and t.text in _KEYWORDS:
            t.stop = True  # `data T = ...`, `class C a where ...`: Haskell's keywords
            continue
        word = not t.quoted and (t.text.islower() or (t.sentence_start and t.text[1:].islower())
                                 or t.text == "I")
        if word:
            t.stop = t.lemma in _STOP or t.lower in _STOP or "'" in t.lower
            t.cue = t.lemma in _VERB_CUES or t.lemma in _NOUN_CUES
        module = lexicon.module(t.text) if t.text[:1].isupper() else None
        senses = lexicon.senses(t.text) if t.text[:1].isalpha() or t.text[:1] == "_" else ()
        if module is not None and (not senses or "." in t.text or _MODULE_WORD in (
                _noun_at(toks, t.i - 1), _noun_at(toks, t.i + 1))):
            # a module name: dotted, not also a definition, or called a module
            t.module = module
            continue
        if lexicon.guessing and (word and (t.stop or t.cue)):
            senses = ()
        if word and not (t.stop or t.cue) and t.text.isalpha() and t.text.islower():
            senses = senses + lexicon.folded(t.text)
        bare = t.text.rsplit(".", 1)[-1]
        if not senses and bare in _BASE_CLASSES:
            t.base = "class"
        elif not senses and bare in _BASE_TYPES:
            t.base = "type"
        elif lexicon.guessing and (bare in _BASE_CLASSES or bare in _BASE_TYPES):
            t.base = "class" if bare in _BASE_CLASSES else "type"
        t.senses = senses
    # "kill needs the window", "what if add also took...": a defined name opening a clause
    # and followed by a verb is that name, not a cue
    for t in toks:
        if t.kind == "name" and t.cue and not t.quoted and t.senses and _opens_clause(toks, t.i):
            k = t.i + 1
            while k < len(toks) and toks[k].lemma in _ADVERBS:
                k += 1
            if k < len(toks) and toks[k].kind == "name" and not toks[k].senses and (
                    toks[k].lemma in _AUX or toks[k].lemma in _VERB_CUES
                    and toks[k].lower != toks[k].lemma):
                t.cue = t.stop = False
    # "a flush method", "the Opus constructor": a word between a determiner and a member noun
    # names the member; it is not a cue ("delete" in "a delete operation").
    for t in toks:
        noun = _noun_at(toks, t.i + 1)
        if (t.kind == "name" and noun in _MEMBER_NOUNS | {Noun.CLASS, Noun.FAMILY, Noun.SYNONYM}
                and t.lemma not in _DETS and _NOUN_CUES.get(t.lemma) is None
                and t.i > 0 and toks[t.i - 1].lemma in _DETS):
            # "the ExtensionClass class" names the container itself, not a member
            t.member_name = noun in _MEMBER_NOUNS
            t.cue = False
            t.stop = False


_MODULE_WORD = Noun.MODULE


def _opens_clause(toks: list[_Tok], i: int) -> bool:
    j = i - 1
    while j >= 0 and toks[j].lemma in ("the", "a", "an"):
        j -= 1
    return j < 0 or toks[j].kind in ("end", "colon") or toks[j].kind == "punct" and \
        toks[j].text in ",;" or toks[j].lemma in _OPENERS


def _noun_at(toks: list[_Tok], i: int) -> Noun | None:
    if 0 <= i < len(toks) and toks[i].kind == "name" and not toks[i].quoted:
        return _NOUN_CUES.get(toks[i].lemma)
    return None


# --- Haskell written in the question ------------------------------------------------------------
@dataclass(slots=True)
class _Syntax:
    decls: list[tuple[int, tuple[int, int]]] = field(default_factory=list)  # name, type span
    equations: list[tuple[int, tuple[int, int]]] = field(default_factory=list)  # head, rhs
    class_heads: list[tuple[int, list[int]]] = field(default_factory=list)  # class, supers
    renames: list[tuple[int, int]] = field(default_factory=list)  # old name -> new name
    # `data T = C1 | C2 { f :: X }` written out: head, (constructors, fields)
    data_decls: list[tuple[int, tuple[tuple[str, ...], tuple[str, ...]]]] = field(
        default_factory=list)
    type_spans: list[tuple[int, int]] = field(default_factory=list)

    def new_type(self, toks: list[_Tok]) -> str | None:
        for _, (a, b) in self.decls:
            return _join(toks[a:b])
        for _, (a, b) in self.equations:
            return _join(toks[a:b])
        for a, b in self.type_spans:
            return _join(toks[a:b])
        return None


def _join(toks: Sequence[_Tok]) -> str:
    out = ""
    for t in toks:
        text = f"({t.text})" if t.kind == "op" and not t.text.startswith("(") else t.text
        if out and not (out.endswith(("(", "[")) or text in (")", "]", ",")):
            out += " "
        out += text
    return out


def _typeish(t: _Tok, loose: bool) -> bool:
    """Can ``t`` be part of a type? ``loose`` inside a declaration's type (any lower-case
    word that is not English is a type variable there)."""
    if t.kind in ("arrow", "fatarrow") or t.kind == "punct" and t.text in "()[],":
        return True
    if t.kind != "name":
        return False
    if t.text[:1].isupper():
        return not (t.sentence_start and t.stop)
    if loose:
        return not (t.stop or t.cue) or len(t.text) == 1
    return False


def _type_end(toks: list[_Tok], start: int, loose: bool, stop_at: int | None = None) -> int:
    """End of the type starting at ``start`` (brackets balanced)."""
    depth = 0
    j = start
    end = len(toks) if stop_at is None else stop_at
    while j < end:
        t = toks[j]
        if t.kind == "punct" and t.text in "([":
            depth += 1
        elif t.kind == "punct" and t.text in ")]":
            if depth == 0:
                break
            depth -= 1
        elif t.kind == "punct" and t.text == "," and depth == 0:
            break
        elif not (_typeish(t, loose) or depth > 0 and t.kind == "name"):
            break
        j += 1
    while j > start and toks[j - 1].kind == "punct" and toks[j - 1].text in "([,":
        j -= 1
    return j


def _syntax(toks: list[_Tok]) -> _Syntax:
    syn = _Syntax()
    n = len(toks)
    for t in toks:
        i = t.i
        if t.kind in ("dcolon", "colon") and i > 0 and i + 1 < n and not t.in_type:
            head = toks[i - 1]
            if head.kind not in ("name", "op") or head.stop or head.cue and not head.senses:
                continue
            if t.kind == "colon" and head.quoted is False and not head.senses and not head.code_shaped:
                continue
            end = _type_end(toks, i + 1, loose=t.kind == "dcolon" or t.code >= 0)
            if end == i + 1:
                continue
            if t.kind == "colon" and not _looks_like_type(toks[i + 1:end]):
                continue  # "JobResult: add Skipped" is a label, not a signature
            syn.decls.append((i - 1, (i + 1, end)))
            for k in range(i + 1, end):
                toks[k].in_type = True
        elif t.kind == "eq" and 0 < i < n - 1:
            start = _lhs_start(toks, i)
            if start == i:
                continue
            head = toks[start]
            data_decl = start > 0 and toks[start - 1].lemma in ("data", "newtype")
            end = _decl_end(toks, i + 1) if data_decl else _type_end(toks, i + 1, loose=True)
            syn.equations.append((start, (i + 1, end)))
            for k in (*range(start + 1, i), *range(i + 1, end)):
                toks[k].in_type = True
            if data_decl:
                syn.data_decls.append((head.i, _declared_members(toks[i + 1:end])))
        elif t.kind == "fatarrow" and not t.in_type:
            head = next((toks[k].i for k in range(i + 1, n) if toks[k].kind == "name"
                         and toks[k].upper), None)
            if head is None:
                continue
            supers = [toks[k].i for k in range(0, i) if toks[k].kind == "name" and toks[k].upper
                      and (toks[k].base == "class" or toks[k].senses)]
            syn.class_heads.append((head, supers))
            for k in supers:
                toks[k].in_type = True
        elif t.kind == "arrow" and not t.in_type and 0 < i < n - 1:
            old, new = toks[i - 1], toks[i + 1]
            if (old.kind == "name" and new.kind == "name" and old.senses and not new.senses
                    and not new.base and old.upper == new.upper
                    and any(s.kind in ("constructor", "field") for s in old.senses)):
                syn.renames.append((old.i, new.i))
    # a family applied to arguments ("Billed Usage", "Rate Order"): the arguments are types
    for t in toks:
        if t.kind == "name" and not t.in_type and any(
                s.kind in ("type_family", "data_family") for s in t.senses):
            end = _type_end(toks, t.i + 1, loose=False)
            for k in range(t.i + 1, end):
                toks[k].in_type = True
            if end > t.i + 1:
                syn.type_spans.append((t.i + 1, end))
    # free-standing types: [String], Maybe Day, Either String Inventory, a Set LLMKind
    i = 0
    while i < n:
        t = toks[i]
        if t.in_type or not (t.base == "type" or t.kind == "punct" and t.text == "["):
            i += 1
            continue
        end = _type_end(toks, i, loose=False)
        if end > i and (end - i > 1 or t.base == "type"):
            syn.type_spans.append((i, end))
            for k in range(i, end):
                toks[k].in_type = True
        i = max(end, i + 1)
    return syn


def _lhs_start(toks: list[_Tok], eq: int) -> int:
    """Start of an equation's left-hand side (``Rate Order``, ``Tokens (Seq a)``): type-like
    names and balanced brackets before ``=``; the first token is its head."""
    start, depth = eq, 0
    while start > 0:
        t = toks[start - 1]
        if t.kind == "punct" and t.text in ")]":
            depth += 1
        elif t.kind == "punct" and t.text in "([":
            if depth == 0:
                break
            depth -= 1
        elif not (t.kind == "name" and not t.cue and _typeish(t, loose=True)):
            break
        start -= 1
    while start < eq and toks[start].kind != "name":
        start += 1
    return start


def _decl_end(toks: list[_Tok], start: int) -> int:
    """End of a data declaration's right-hand side: the end of its code span or sentence."""
    code = toks[start].code if start < len(toks) else -1
    j = start
    while j < len(toks) and toks[j].kind != "end" and (code < 0 or toks[j].code == code):
        j += 1
    return j


def _declared_members(rhs: Sequence[_Tok]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Constructors and record fields of ``C1 .. | C2 { f :: T, .. }``."""
    cons: list[str] = []
    fields: list[str] = []
    depth = 0
    expect_con = True
    for k, t in enumerate(rhs):
        if t.kind == "punct" and t.text in "({[":
            depth += 1
        elif t.kind == "punct" and t.text in ")}]":
            depth -= 1
        elif t.kind == "punct" and t.text == "|" and depth == 0:
            expect_con = True
        elif t.kind == "name" and expect_con and depth == 0 and t.upper:
            cons.append(t.text)
            expect_con = False
        elif t.kind == "name" and depth == 1 and k + 1 < len(rhs) and rhs[k + 1].kind == "dcolon":
            fields.append(t.text)
    return tuple(cons), tuple(fields)


def _looks_like_type(toks: Sequence[_Tok]) -> bool:
    return any(t.base or t.kind == "arrow" or t.kind == "punct" and t.text == "[" for t in toks)


# --- evidence ------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Evidence:
    ops: dict[Op, float] = field(default_factory=dict)
    why: dict[Op, list[str]] = field(default_factory=dict)
    nouns: dict[Noun, list[int]] = field(default_factory=dict)
    negated: bool = False

    def add(self, op: Op, weight: float, word: str) -> None:
        self.ops[op] = min(6.0, self.ops.get(op, 0.0) + weight)
        self.why.setdefault(op, []).append(word)


def _evidence(toks: list[_Tok], syn: _Syntax, lexicon: Lexicon) -> _Evidence:
    ev = _Evidence()
    words = [t for t in toks if t.kind == "name" and not t.quoted and not t.member_name
             and not (t.senses and t.code_shaped)]
    lemmas = [t.lemma for t in words]
    # phrases match across fillers: "doesn't really need", "can it go", "is now called"
    core = [t for t in words if t.lemma not in _FILLERS]
    used: set[int] = set()  # token positions that are part of a phrase
    for k in range(len(core)):
        for phrase, effects, noun in _PHRASES:
            m = len(phrase)
            if tuple(t.lemma for t in core[k:k + m]) == phrase and all(
                    _only_fillers_between(toks, core[k + j].i, core[k + j + 1].i)
                    for j in range(m - 1)):
                for op, weight in effects:
                    ev.add(op, weight, " ".join(phrase))
                if noun is not None:
                    ev.nouns.setdefault(noun, []).append(core[k + m - 1].i)
                used.update(t.i for t in core[k:k + m])
    for k, t in enumerate(words):
        if t.i in used and t.lemma not in ("out",):
            if t.lemma in _NEGATIONS:
                ev.negated = True
            continue
        if t.lemma in _NEGATIONS:
            ev.negated = True
        if t.senses and not t.stop and not t.cue:
            continue
        if t.lemma == "case" and k > 0 and lemmas[k - 1] in ("in", "just"):
            continue
        if t.lemma == "without" and not _name_follows(toks, t.i):
            continue  # "a method without a default", "without breaking": not a removal
        for op, weight in _VERB_CUES.get(t.lemma, ()):
            ev.add(op, weight, t.lower)
        noun = _NOUN_CUES.get(t.lemma)
        if noun is not None and not (noun is Noun.DATA and t.lemma == "type"
                                     and _next_lemma(toks, t.i) == "of"):
            ev.nouns.setdefault(noun, []).append(t.i)
            if noun is Noun.ARG:
                ev.add(Op.ARITY, 3, t.lower)
    visible = [t.lower for t in words
               if t.lemma in ("export", "exports", "expose", "public", "visible")]
    if visible and (ev.negated or Op.REMOVE in ev.ops):
        ev.add(Op.UNEXPORT, 5, visible[0])  # "stop exporting", "shouldn't be public"
    if Noun.ARG in ev.nouns:
        for word in ("extra", "another", "additional", "more", "second", "third", "first",
                     "fewer", "less"):
            if word in lemmas:
                ev.add(Op.ARITY, 1, word)
    additive = {"also", "too", "extra", "another", "additional", "more", "new", "well", "add",
                "fewer", "less", "drop", "remove", "lose"}
    if any(lemma in ("take", "argument", "arg", "parameter", "param") for lemma in lemmas) \
            and any(lemma in ("first", "last", "order") for lemma in lemmas) \
            and not additive & set(lemmas):
        ev.add(Op.RETYPE, 2, "argument order")  # "take the count last": a reordering
    if any(t.kind == "num" for t in toks) and Noun.ARG in ev.nouns:
        ev.add(Op.ARITY, 1, "a number of arguments")
    if ev.ops.get(Op.ARITY, 0) and any(lemma in ("take", "accept", "pass", "receive")
                                       for lemma in lemmas) and (
            Op.RETYPE not in ev.ops or Noun.ARG in ev.nouns):
        if "as well" in " ".join(lemmas) or "too" in lemmas or "also" in lemmas:
            ev.add(Op.ARITY, 1, "as well")
    for k, t in enumerate(words[:-1]):  # "Discount could also be BuyOneGetOne": another case
        if t.lemma == "also" and words[k + 1].lemma == "be" and words[k + 1].i == t.i + 1:
            ev.add(Op.ADD, 2, "also be")
    for t in words:  # "X gets a ...", "X has an ...": possession of something new is an addition
        if t.lemma in ("get", "have", "need", "give", "gain", "grow", "want") and \
                _next_lemma(toks, t.i) in ("a", "an", "another", "new", "extra", "additional",
                                           "one", "more", "second", "third", "fourth"):
            ev.add(Op.ADD, 1, f"{t.lower} a")
    for t in toks:  # "cost's type", "render's signature"
        if t.possessive and _next_lemma(toks, t.i) in ("type", "signature"):
            ev.add(Op.RETYPE, 3, "'s type")
    for head, (cons, fields) in syn.data_decls:
        for sense in toks[head].senses:
            d = sense.definition
            if d is None or sense.kind not in _TYPE_KINDS:
                continue
            known_fields = {f for c in lexicon.constructors_of(d) for f in c.fields}
            if set(cons) - set(d.constructors):
                ev.add(Op.ADD, 4, "a new constructor written out")
            elif set(fields) - known_fields:
                ev.add(Op.ADD, 4, "a new field written out")
    for head, _span in syn.decls:
        if toks[head].senses:
            ev.add(Op.RETYPE, 3, "::")  # a new signature for an existing name
        else:
            ev.add(Op.ADD, 3, "::")  # a new member declared
    for _ in syn.equations:
        ev.add(Op.RETYPE, 3, "=")
    for _ in syn.class_heads:
        ev.add(Op.SUPER, 4, "=>")
    for _ in syn.renames:
        ev.add(Op.RENAME, 3, "->")
    if syn.type_spans and any(t.lemma in ("be", "become", "make", "change", "to", "as")
                              for t in toks if t.kind == "name"):
        ev.add(Op.RETYPE, 1, "a type")
    for t in toks:  # "TrivialError becomes SimpleError": a member's new name, not a new type
        if t.kind == "name" and t.lemma in ("be", "become") and t.i > 0 \
                and any(s.kind in ("constructor", "field") for s in toks[t.i - 1].senses):
            k = t.i + 1
            while k < len(toks) and toks[k].lemma in ("a", "an", "the", "now", "just"):
                k += 1
            if k < len(toks) and _new_name_like(toks[k], toks[t.i - 1]):
                ev.add(Op.RENAME, 3, f"{t.lower} <new name>")
    for t in toks:
        if t.kind == "name" and not t.quoted and t.lemma in ("be", "become", "make", "turn"):
            if _type_complement(toks, t.i + 1, skip_name=t.lemma == "make"):
                ev.add(Op.RETYPE, 1.5, f"{t.lower} <type>")
        elif t.kind == "name" and t.lemma == "from" and _type_complement(toks, t.i + 1, False) \
                and any(x.lemma in ("to", "into") and _type_complement(toks, x.i + 1, False)
                        for x in toks[t.i + 2:]):
            ev.add(Op.RETYPE, 2, "from <type> to <type>")
        elif t.kind == "name" and t.lemma == "change" and t.i + 2 < len(toks) \
                and toks[t.i + 2].lemma in ("to", "into") \
                and _type_complement(toks, t.i + 3, skip_name=False):
            ev.add(Op.RETYPE, 1.5, "change to <type>")  # "change coupon to [Discount]"
    if any(t.member_name and not t.senses and not t.stop for t in toks):
        ev.add(Op.ADD, 2, "a new member")  # "could use a describeMessage method"
    ev.add(Op.GENERIC, 0.5, "")
    return ev


def _new_name_like(t: _Tok, old: _Tok) -> bool:
    """An undefined name of the old name's case (not a type from base, not an English word)."""
    return (t.kind == "name" and not t.senses and not t.base and not t.module
            and not (t.stop or t.cue) and t.upper == old.upper
            and (t.upper or t.code_shaped))


def _type_complement(toks: list[_Tok], i: int, skip_name: bool) -> bool:
    """Does a type follow (``be a Rational``, ``make x an Int``, ``become [String]``)?"""
    if skip_name:
        if i < len(toks) and toks[i].kind in ("name", "op") and not toks[i].stop:
            i += 1
        else:
            return False
    while i < len(toks) and toks[i].lemma in ("a", "an", "the", "into", "just", "plain"):
        i += 1
    if i >= len(toks):
        return False
    t = toks[i]
    return (t.kind == "punct" and t.text in "([") or t.lemma in _TYPE_WORDS or (
        t.kind == "name" and t.upper and not (t.stop or t.cue) and not t.sentence_start)


def _name_follows(toks: list[_Tok], i: int) -> bool:
    k = i + 1
    while k < len(toks) and toks[k].lemma in _DETS:
        k += 1
    return k < len(toks) and bool(toks[k].senses) and not toks[k].stop


def _only_fillers_between(toks: list[_Tok], a: int, b: int) -> bool:
    return all(toks[k].kind == "name" and toks[k].lemma in _FILLERS for k in range(a + 1, b))


def _next_lemma(toks: list[_Tok], i: int) -> str:
    return toks[i + 1].lemma if i + 1 < len(toks) else ""


# --- where a name stands in the sentence ---------------------------------------------------------
def _role(toks: list[_Tok], i: int) -> tuple[str, str]:
    """(role, governing word) of the name at ``i``: "dest" after to/into/in/of/for/on,
    "source" after from/out of, "object" after a verb, "subject" when it opens a clause and a
    verb follows, "free" otherwise."""
    j = i - 1
    while j >= 0 and _skippable(toks[j]):
        j -= 1
    left = toks[j] if j >= 0 else None
    if left is None or left.kind in ("end", "colon") or left.kind == "punct" and left.text in ",;" \
            or left.kind == "name" and left.lemma in _OPENERS:
        k = i + 1
        while k < len(toks) and (toks[k].lemma in _ADVERBS or toks[k].kind == "punct"
                                 and toks[k].text in "()"):
            k += 1
        nxt = toks[k] if k < len(toks) else None
        if toks[i].possessive or nxt is not None and nxt.kind == "name" and (
                not nxt.senses or nxt.stop or nxt.cue) and (
                nxt.lemma in _AUX or nxt.lemma in _VERB_CUES or nxt.lemma in _STOP
                or nxt.lower.endswith(("s", "ed"))):
            return "subject", nxt.lemma if nxt is not None else ""
        return "free", ""
    if left.kind != "name" or left.lemma in _PRONOUNS:
        return "free", ""  # "if I add ...": a verb after its subject, not an object
    if left.lemma in _INTO:
        # "the type of x", "the arity of f", "the name of X": x is what the phrase is about
        k = j - 1
        while k >= 0 and toks[k].lemma in _DETS:
            k -= 1
        if left.lemma == "of" and k >= 0 and toks[k].lemma in (
                "type", "signature", "arity", "name", "argument", "arg", "parameter", "param"):
            return "object", toks[k].lemma
        return "dest", left.lemma
    if left.lemma in _FROM:
        return "source", left.lemma
    if left.lemma == "as":
        return "as", "as"
    if left.lemma in _VERB_CUES or left.lemma in _AUX or left.lemma in _STOP \
            or not left.senses and left.text.islower() and left.lower.endswith(("ing", "ed")):
        # "I want Stream to have ...", "let push take ...": the subject of what follows
        k = i + 1
        while k < len(toks) and toks[k].lemma in _ADVERBS:
            k += 1
        if left.lemma in _CAUSATIVE and k < len(toks) and (
                toks[k].lemma == "to" and k + 1 < len(toks) and (
                    toks[k + 1].lemma in _AUX or toks[k + 1].lemma in _VERB_CUES)
                or toks[k].lemma in _VERB_CUES and toks[k].lemma not in _DETS
                and toks[k].lemma != "make"):
            return "subject", toks[k].lemma
        return "object", left.lemma
    if not left.senses and not left.base and not left.stop and not left.cue and left.upper:
        return "dest", "new member"  # "a West warehouse", "a Hexagon shape"
    return "free", left.lemma


def _skippable(t: _Tok) -> bool:
    if t.kind == "punct" and t.text in "([":
        return True
    return t.kind == "name" and not t.quoted and not t.senses and (
        t.lemma in _DETS or (_NOUN_CUES.get(t.lemma) in _NOUN_KIND and t.lemma != "type")
        or t.lemma in ("type", "family", "synonym", "alias"))


def _kind_hint(toks: list[_Tok], i: int) -> Noun | None:
    """A kind named right next to a name: "the Total constructor", "type family Rate",
    "the class Pretty", "function render"."""
    after = _noun_at(toks, i + 1) if not toks[i].possessive else None
    if after is Noun.DATA and _next_lemma(toks, i + 1) == "family":
        return Noun.FAMILY
    if after in _NOUN_KIND:
        return after
    j = i - 1
    while j >= 0 and toks[j].lemma in _DETS:
        j -= 1
    before = _noun_at(toks, j)
    if before is Noun.FAMILY or before is Noun.SYNONYM or (
            j > 0 and toks[j].lemma in ("family", "synonym", "alias")):
        return Noun.FAMILY if toks[j].lemma == "family" else Noun.SYNONYM
    if before in _NOUN_KIND and toks[j].lemma not in ("type", "record"):
        return before
    return None


# --- readings ------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Reading:
    change: ChangeKind
    op: Op
    token: _Tok
    sense: _Sense
    score: float
    role: str
    governor: str = ""


def _record_type(sense: _Sense, lexicon: Lexicon) -> bool | None:
    """True for a record (one constructor with fields), False for a sum type or enumeration,
    None when unknown."""
    d = sense.definition
    if d is None or lexicon.index is None:
        return None
    if d.kind is DefKind.CONSTRUCTOR:
        return bool(d.fields)
    cons = lexicon.constructors_of(d)
    if len(d.constructors) > 1:
        return False
    return bool(cons and cons[0].fields)


@dataclass(slots=True)
class _NewThing:
    """What the question adds: a new member's name and shape."""

    name: str | None = None
    upper: bool | None = None
    is_class: bool = False  # names a class (base or workspace): a superclass
    decl: bool = False  # written as `name :: Type`
    classes: tuple[str, ...] = ()  # every class the question names (base or workspace)


def _change_for(op: Op, sense: _Sense, ev: _Evidence, new: _NewThing,
                lexicon: Lexicon) -> ChangeKind | None:
    """What ``op`` means for a definition of ``sense.kind``: the target's kind decides between
    the readings an operation has. None when the operation does not apply."""
    kind = sense.kind
    nouns = ev.nouns
    if sense.definition is None and not _guess_supported(kind, op, nouns):
        return None
    is_type = kind in _TYPE_KINDS
    is_fun = kind in ("function", "method")
    if op is Op.ADD:
        if Noun.CON in nouns and (is_type or kind == "constructor"):
            return C.ADD_CONSTRUCTOR
        if Noun.FIELD in nouns and (is_type or kind == "constructor"):
            return C.ADD_FIELD
        if Noun.METHOD in nouns and kind == "class":
            return C.ADD_METHOD
        if (Noun.SUPER in nouns or Noun.SUB in nouns) and kind == "class":
            return C.ADD_SUPERCLASS
        if Noun.SUPER in nouns and is_fun:
            return C.CHANGE_SIGNATURE  # "add a constraint to render"
        if Noun.ARG in nouns and is_fun:
            return C.CHANGE_ARITY
        if Noun.INSTANCE in nouns and kind in ("type_family", "data_family"):
            return C.CHANGE_TYPE_FAMILY
        if nouns.keys() & {Noun.CON, Noun.FIELD, Noun.METHOD, Noun.ARG, Noun.INSTANCE}:
            return None
        if is_type or kind == "constructor":
            if new.upper is True:
                return C.ADD_CONSTRUCTOR
            if new.upper is False:
                return C.ADD_FIELD
            record = _record_type(sense, lexicon)
            if record is None:
                return C.ADD_CONSTRUCTOR if kind != "constructor" else C.ADD_FIELD
            return C.ADD_FIELD if record else C.ADD_CONSTRUCTOR
        if kind == "class":
            if new.is_class or any(c != sense.name for c in new.classes):
                return C.ADD_SUPERCLASS  # "what if Taxable needed Eq", "X should extend Y"
            return C.ADD_METHOD
        if is_fun:
            return C.CHANGE_ARITY
        if kind in ("type_family", "data_family"):
            return C.CHANGE_TYPE_FAMILY
        return None
    if op is Op.REMOVE:
        if Noun.EXPORT in nouns:
            return None
        if kind in ("constructor", "pattern_synonym"):
            return C.REMOVE_CONSTRUCTOR
        if kind == "field":
            return C.REMOVE_FIELD
        if Noun.ARG in nouns and is_fun:
            return C.CHANGE_ARITY
        if kind in ("type_family", "data_family") and Noun.INSTANCE in nouns:
            return C.CHANGE_TYPE_FAMILY
        return C.CHANGE
    if op is Op.RENAME:
        if kind in ("constructor", "pattern_synonym"):
            return C.RENAME_CONSTRUCTOR
        if kind == "field":
            return C.RENAME_FIELD
        return C.CHANGE
    if op is Op.RETYPE:
        if kind == "field":
            return C.CHANGE_FIELD_TYPE
        if is_fun:
            return C.CHANGE_SIGNATURE
        if kind == "type_synonym":
            return C.CHANGE_TYPE_SYNONYM
        if kind in ("type_family", "data_family"):
            return C.CHANGE_TYPE_FAMILY
        return C.CHANGE
    if op is Op.ARITY:
        if is_fun:
            return C.CHANGE_ARITY
        if kind == "type_synonym":
            return C.CHANGE_TYPE_SYNONYM
        return None
    if op is Op.UNEXPORT:
        return C.REMOVE_EXPORT
    if op is Op.SUPER:
        if kind == "class":
            return C.ADD_SUPERCLASS
        if is_fun and Noun.SUPER in nouns:
            return C.CHANGE_SIGNATURE
        return None
    if kind in ("type_family", "data_family"):
        return C.CHANGE_TYPE_FAMILY
    if kind == "type_synonym":
        return C.CHANGE_TYPE_SYNONYM
    return C.CHANGE


def _guess_supported(kind: str, op: Op, nouns: Mapping[Noun, list[int]]) -> bool:
    """Without a workspace, a kind guessed from a name's shape counts only when the question
    supports it: a class is named as one or gets a method or superclass, a family or synonym
    is called so."""
    if kind == "class":
        return op is Op.SUPER or bool(nouns.keys() & {Noun.CLASS, Noun.METHOD, Noun.SUPER,
                                                      Noun.SUB})
    if kind in ("type_family", "data_family"):
        return bool(nouns.keys() & {Noun.FAMILY, Noun.INSTANCE})
    if kind == "type_synonym":
        return Noun.SYNONYM in nouns
    return True


_MEMBER_CHANGES = frozenset({ChangeKind.REMOVE_CONSTRUCTOR, ChangeKind.RENAME_CONSTRUCTOR,
                             ChangeKind.REMOVE_FIELD, ChangeKind.RENAME_FIELD,
                             ChangeKind.CHANGE_FIELD_TYPE})
_ADDED = frozenset({ChangeKind.ADD_CONSTRUCTOR, ChangeKind.ADD_FIELD, ChangeKind.ADD_METHOD,
                    ChangeKind.ADD_SUPERCLASS})


def _role_fit(op: Op, change: ChangeKind, role: str, governor: str, t: _Tok,
              ev: _Evidence, syn: _Syntax, toks: list[_Tok]) -> float:
    """How well a name's place in the sentence suits it as the target of ``change``."""
    if any(head == t.i for head, _ in syn.data_decls):
        return 3.0  # `data T = ...` written out: T is what changes
    if any(head == t.i for head, _ in syn.decls) or any(head == t.i for head, _ in syn.equations):
        return 3.0 if change not in _ADDED else -2.0
    if any(head == t.i for head, _ in syn.class_heads):
        return 3.0
    if any(old == t.i for old, _ in syn.renames):
        return 3.0
    if t.member_name:
        return -2.0 if change in _ADDED else 1.0
    if change in _ADDED and t.i > 0 and toks[t.i - 1].lemma in _ADDITIVE:
        return 2.0  # "a new StateExtension flavour": something new of this type
    if change in _ADDED:
        if Noun.SUB in ev.nouns and change is ChangeKind.ADD_SUPERCLASS:
            # "make X a subclass of Y": X is the class that gains Y
            return {"dest": -1.0, "subject": 2.0, "object": 2.0}.get(role, 0.0)
        if change is ChangeKind.ADD_SUPERCLASS and role == "object" and governor in (
                "require", "need", "imply", "extend", "want"):
            return -1.0
        return {"dest": 2.0, "subject": 2.0, "source": -0.5,
                "object": 1.5 if governor in ("extend", "give", "constrain", "make")
                else 0.0}.get(role, 0.0)
    if change is ChangeKind.CHANGE_ARITY:
        if role == "object" and governor in ("take", "accept", "pass", "receive", "need", "have",
                                             "want"):
            return -1.0
        return {"subject": 2.0, "object": 2.0, "dest": 1.5, "source": 1.5,
                "free": 0.5}.get(role, 0.0)
    if change is ChangeKind.REMOVE_EXPORT:
        return {"object": 2.0, "subject": 2.0, "dest": 0.0, "source": 0.0,
                "free": 1.0}.get(role, 0.0)
    return {"object": 2.0, "subject": 2.0, "dest": 1.0, "source": 0.5, "free": 1.0,
            "as": 0.0}.get(role, 0.0)


def _new_thing(toks: list[_Tok], syn: _Syntax, exclude: int, guessing: bool) -> _NewThing:
    """The member a question adds, when it names or declares one (any name but the target
    at ``exclude``), and the classes it names."""
    classes = tuple(dict.fromkeys(
        t.text.rsplit(".", 1)[-1] for t in toks if t.kind == "name" and t.upper
        and (t.base == "class" or any(s.kind == "class" and not s.folded for s in t.senses))))
    return replace(_first_new(toks, syn, exclude, guessing), classes=classes)


def _first_new(toks: list[_Tok], syn: _Syntax, exclude: int, guessing: bool) -> _NewThing:
    def unknown(t: _Tok) -> bool:
        return t.i != exclude and t.kind == "name" and not t.module and not (t.stop or t.cue) \
            and (guessing and not t.base or not any(not s.folded for s in t.senses))

    for head, _ in syn.decls:
        t = toks[head]
        if unknown(t) or t.member_name and t.i != exclude:
            return _NewThing(t.text, t.upper, decl=True)
    for _head, supers in syn.class_heads:
        if supers:
            return _NewThing(toks[supers[0]].text, True, is_class=True)
    slots: list[list[_Tok]] = [[], [], [], [], []]
    for t in toks:
        if t.kind != "name" or t.i == exclude or t.in_type and not t.member_name:
            continue
        prev = toks[t.i - 1] if t.i > 0 else None
        if t.member_name and unknown(t):
            slots[0].append(t)
        elif prev is not None and prev.lemma in ("call", "name") and unknown(t):
            slots[0].append(t)
        elif prev is not None and _NOUN_CUES.get(prev.lemma) in _MEMBER_NOUNS and unknown(t):
            slots[1].append(t)
        elif t.base == "class" and not t.senses:
            return _NewThing(t.text, True, is_class=True)
        elif unknown(t) and prev is not None and prev.lemma in ("add", "with", "include",
                                                                "insert", "introduce", "put"):
            slots[2].append(t)
        elif unknown(t) and t.code_shaped and not t.sentence_start:
            slots[3].append(t)
    for group in slots:
        if group:
            t = group[0]
            return _NewThing(t.text, t.upper, is_class=t.base == "class")
    return _NewThing()


def _candidates(toks: list[_Tok], loose: bool) -> list[_Tok]:
    """Names that can be the target. A second, looser pass (when the first finds none) also
    admits names inside written types and English words the workspace defines, but only
    where a name goes (after a verb or preposition), never as the question's own verb."""
    out = []
    for t in toks:
        if not t.senses or t.module:
            continue
        if (t.in_type or t.prose) and not loose:
            continue
        if (t.stop or t.cue) and not t.member_name:
            if not loose or _role(toks, t.i)[0] not in ("object", "dest", "source"):
                continue
        out.append(t)
    return out


def _read(toks: list[_Tok], lexicon: Lexicon, syn: _Syntax, ev: _Evidence,
          loose: bool) -> list[_Reading]:
    context = _context_names(toks)
    readings: list[_Reading] = []
    heads = {h for h, _ in syn.decls} | {h for h, _ in syn.equations} | {
        h for h, _ in syn.class_heads}
    for t in _candidates(toks, loose):
        role, governor = _role(toks, t.i)
        hint = _kind_hint(toks, t.i)
        weak = -1.0 if (t.text.isalpha() and t.text.islower() and not t.quoted) else 0.0
        if t.in_type and t.i not in heads:
            weak -= 2.0
        new = _new_thing(toks, syn, t.i, lexicon.guessing)
        type_level_head = t.upper and any(h == t.i for h, _ in syn.equations)
        for sense in t.senses:
            if type_level_head and sense.kind not in _TYPE_LEVEL:
                continue  # `Tokens (Seq a) = Seq a` speaks of a type, not a constructor
            for op, weight in ev.ops.items():
                change = _change_for(op, sense, ev, new, lexicon)
                if change is None:
                    continue
                if sense.definition is None and op is Op.GENERIC and not (
                        hint is not None and sense.kind in _NOUN_KIND[hint]):
                    change = ChangeKind.CHANGE  # a guessed kind alone says nothing
                if sense.shadowed and not (hint is Noun.CON and change in (
                        ChangeKind.REMOVE_CONSTRUCTOR, ChangeKind.RENAME_CONSTRUCTOR,
                        ChangeKind.REMOVE_EXPORT)):
                    continue  # `data Config = Config`: the name means the type
                score = weight + _role_fit(op, change, role, governor, t, ev, syn, toks) + weak
                if sense.folded:
                    score -= 1.5
                if change is not ChangeKind.CHANGE and op is not Op.GENERIC and weight >= 1.5:
                    score += 1.0  # the words asked for this change (not only the kind)
                if hint is not None:
                    score += 1.5 if sense.kind in _NOUN_KIND[hint] else -1.5
                if sense.definition is not None:
                    score += 0.75 * context_rank(sense.definition, context - {t.text})
                readings.append(_Reading(change, op, t, sense, score, role, governor))
    return readings


def _context_names(toks: list[_Tok]) -> frozenset[str]:
    out: set[str] = set()
    for t in toks:
        if t.kind in ("name", "op") and not t.stop:
            out.add(t.text)
            if t.module:
                out.add(t.module)
            if "." in t.text and t.kind == "name":
                out.update(t.text.split("."))
        elif t.kind == "name" and t.lemma not in _STOP:
            out.add(t.text)
    return frozenset(out)



# --- understanding text ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Understood:
    change: ChangeKind
    target: str
    subject: str | None
    reading: Reading
    kind: str | None  # the sense's kind (guessed without a workspace)


def _understand(text: str, asked: str, lexicon: Lexicon) -> _Understood:
    toks = _tokenise(text)
    _tag_tokens(toks, lexicon)
    syn = _syntax(toks)
    ev = _evidence(toks, syn, lexicon)
    readings = _read(toks, lexicon, syn, ev, loose=False) or _read(
        toks, lexicon, syn, ev, loose=True)
    if not readings:
        raise _not_understood(text, toks, ev, _new_thing(toks, syn, -1, lexicon.guessing),
                              lexicon)
    best_score = max(r.score for r in readings)
    top = [r for r in readings if r.score >= best_score - 1e-9]
    top.sort(key=lambda r: (r.token.i, r.token.senses.index(r.sense)))
    chosen = top[0]
    same_name = [r for r in top if r.token.text == chosen.token.text
                 and r.sense.definition is not None]
    distinct = {(r.sense.module, r.sense.kind): r for r in same_name}
    if len(distinct) > 1:
        defs = [r.sense.definition for r in distinct.values() if r.sense.definition is not None]
        raise AmbiguousTarget(chosen.token.text, defs)
    return _result(text, asked, toks, syn, ev, chosen, lexicon)


def _result(text: str, asked: str, toks: list[_Tok], syn: _Syntax, ev: _Evidence,
            chosen: _Reading, lexicon: Lexicon) -> _Understood:
    t, sense, change = chosen.token, chosen.sense, chosen.change
    new = _new_thing(toks, syn, t.i, lexicon.guessing)
    target = sense.name if sense.folded else t.text
    if sense.definition is not None and lexicon.index is not None and "." not in target \
            and len({d.module for d in lexicon.index.definitions(sense.name)
                     if d.kind not in _NOT_TARGET_KINDS}) > 1:
        target = f"{sense.module}.{_operator_name(sense.name)}"
    elif t.kind == "op" and not target.startswith("("):
        module, bare = parse_target_name(target)
        target = f"{module}.({bare})" if module else f"({bare})"
    subject: str | None = None
    new_name: str | None = None
    if change in _MEMBER_CHANGES:
        subject = target if t.kind == "name" else target
    if change in _ADDED:
        subject = new.name if new.name != t.text else None
        if change is ChangeKind.ADD_SUPERCLASS:
            others = [x.text for x in toks if x.kind == "name" and x.i != t.i and x.upper
                      and (x.base == "class" or any(s.kind == "class" for s in x.senses))]
            subject = others[0] if others else subject
        new_name = subject
    if change in (ChangeKind.RENAME_CONSTRUCTOR, ChangeKind.RENAME_FIELD):
        new_name = next((toks[b].text for a, b in syn.renames if a == t.i), None) or next(
            (x.text for x in toks[t.i + 1:] if x.kind == "name" and not x.stop and not x.cue
             and not x.senses and not x.base and x.text != t.text), None)
    context = tuple(dict.fromkeys(
        x.module or x.text for x in toks
        if x.i != t.i and (x.senses or x.module or x.base) and x.text != t.text))
    cues = ", ".join(f"'{w}'" for w in dict.fromkeys(w for w in ev.why.get(chosen.op, []) if w))
    where = f" in {sense.module}" if sense.module else ""
    guessed = ", kind guessed from its shape" if sense.definition is None else ""
    place = {"dest": f"after '{chosen.governor}'", "source": f"after '{chosen.governor}'",
             "object": f"object of '{chosen.governor}'", "subject": "subject",
             "as": "after 'as'"}.get(chosen.role, "named")
    how = (f"{chosen.op.value} ({cues or 'no cue words'}); target {t.text} ({sense.kind}{where}"
           f"{guessed}; {place}) -> {change.value}")
    reading = Reading(
        asked=asked, method="text" if lexicon.guessing else "text+lexicon", how=how,
        kind=sense.kind if sense.definition is not None else None,
        module=sense.module, context=context, new_name=new_name,
        new_type=syn.new_type(toks), lexicon=_excerpt(toks, lexicon),
        variant=method_variant(text, change))
    return _Understood(change, target, subject, reading, sense.kind)


def _operator_name(name: str) -> str:
    return name if name[:1].isalnum() or name[:1] == "_" else f"({name})"


def _excerpt(toks: list[_Tok], lexicon: Lexicon, limit: int = 16) -> tuple[str, ...]:
    """The lexicon lines for the names in the question, the input of ``parse_question``:
    ``LLM.Types.Opus: constructor of LLMKind``, ``Gemini: not defined``, ``String: type from
    base``, ``LLM.Types: module``."""
    lines: list[str] = []
    seen: set[str] = set()
    for t in toks:
        if t.kind not in ("name", "op") or t.text in seen or t.stop or t.cue:
            continue
        seen.add(t.text)
        if t.module:
            lines.append(f"{t.text}: module")
        elif t.senses and not lexicon.guessing:
            defs = [s.definition for s in t.senses if s.definition is not None]
            for s in t.senses[:4]:
                if s.definition is None:
                    continue
                parent = f" of {s.parent}" if s.parent and s.kind != "data" else ""
                lines.append(f"{qualified_name(s.definition, defs)}: {s.kind}{parent}")
        elif t.base:
            lines.append(f"{t.text}: {t.base} from base")
        elif not lexicon.guessing and (t.code_shaped or t.member_name):
            lines.append(f"{t.text}: not defined")
        if len(lines) >= limit:
            break
    return tuple(lines[:limit])


def _not_understood(text: str, toks: list[_Tok], ev: _Evidence, new: _NewThing,
                    lexicon: Lexicon) -> QuestionError:
    """What was understood, and the closest structured reading."""
    strongest = sorted(((w, op) for op, w in ev.ops.items() if op is not Op.GENERIC),
                       key=lambda x: -x[0])
    op = strongest[0][1] if strongest else Op.GENERIC
    change = _guess_change(op, ev, new)
    unknown = [t.text for t in toks if t.kind == "name" and not t.senses and not t.stop
               and not t.cue and not t.base and not t.module and (t.code_shaped or t.member_name)]
    if lexicon.guessing:
        return QuestionError(
            f"no symbol found in {text!r}: name the type, constructor, field, function or "
            "class, e.g. \"What breaks if I add a constructor to LLMKind?\" (quote it with "
            "backticks if it is an ordinary word)")
    kinds = [k.value for k in TARGET_KINDS.get(change, ())] or None
    suggestion = None
    for name in [n for n in unknown if n != new.name] + [n for n in unknown if n == new.name]:
        close = lexicon.suggest(name, kinds) or lexicon.suggest(name)
        if close:
            suggestion = {"target": close[0], "change": change.value,
                          "flags": f"--target {close[0]} --change {change.value}"}
            break
    understood: dict[str, Any] = {"change": change.value if change is not C.CHANGE else None,
                                  "names": [t.text for t in toks if t.base or t.module],
                                  "unknown": unknown}
    parts = []
    if change is not C.CHANGE:
        parts.append(f"understood the change as {change.value}")
    if unknown:
        parts.append(f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not defined "
                     "in the indexed workspace")
    else:
        parts.append("no name in the question is defined in the indexed workspace")
    what = {C.ADD_CONSTRUCTOR: "the type", C.ADD_FIELD: "the record type",
            C.ADD_METHOD: "the class", C.ADD_SUPERCLASS: "the class",
            C.REMOVE_CONSTRUCTOR: "the constructor", C.RENAME_CONSTRUCTOR: "the constructor",
            C.REMOVE_FIELD: "the field", C.RENAME_FIELD: "the field",
            C.CHANGE_FIELD_TYPE: "the field", C.CHANGE_SIGNATURE: "the function",
            C.CHANGE_ARITY: "the function", C.CHANGE_TYPE_FAMILY: "the type family",
            C.CHANGE_TYPE_SYNONYM: "the type synonym", C.REMOVE_EXPORT: "the exported name"}.get(
        change, "the type, constructor, field, function or class")
    message = f"could not tell what {text!r} is about: {'; '.join(parts)}. Name {what} to change"
    if suggestion:
        message += f". Did you mean: {suggestion['flags']}?"
    else:
        message += (f", e.g. --target NAME --change {change.value}" if change is not C.CHANGE
                    else ", e.g. \"What breaks if I add a constructor to Shape?\"")
    return NotUnderstood(message, understood=understood, suggestion=suggestion)


def _guess_change(op: Op, ev: _Evidence, new: _NewThing) -> ChangeKind:
    nouns = ev.nouns
    if op is Op.ADD:
        for noun, change in ((Noun.CON, C.ADD_CONSTRUCTOR), (Noun.FIELD, C.ADD_FIELD),
                             (Noun.METHOD, C.ADD_METHOD), (Noun.SUPER, C.ADD_SUPERCLASS),
                             (Noun.ARG, C.CHANGE_ARITY)):
            if noun in nouns:
                return change
        return C.ADD_CONSTRUCTOR if new.upper else C.ADD_FIELD if new.upper is False else C.CHANGE
    if op is Op.REMOVE:
        return C.REMOVE_FIELD if Noun.FIELD in nouns else C.REMOVE_CONSTRUCTOR if (
            Noun.CON in nouns) else C.CHANGE_ARITY if Noun.ARG in nouns else C.CHANGE
    if op is Op.RENAME:
        return C.RENAME_FIELD if Noun.FIELD in nouns else C.RENAME_CONSTRUCTOR if (
            Noun.CON in nouns) else C.CHANGE
    return {Op.RETYPE: C.CHANGE_SIGNATURE, Op.ARITY: C.CHANGE_ARITY,
            Op.UNEXPORT: C.REMOVE_EXPORT, Op.SUPER: C.ADD_SUPERCLASS}.get(op, C.CHANGE)


def candidate_symbols(text: str) -> list[str]:
    """Identifiers in the question, most likely symbol first: quoted names, then qualified
    names and operators, then code-shaped or capitalised words, then other non-English words.
    Duplicates removed; order of appearance breaks ties."""
    toks = _tokenise(text)
    _tag_tokens(toks, Lexicon())

    def score(t: _Tok) -> int:
        if t.kind not in ("name", "op") or t.kind == "op" and _END_PUNCT.fullmatch(t.text):
            return 0
        if t.quoted:
            return 100
        if "." in t.text or t.kind == "op":
            return 90
        if t.stop or (t.cue and not t.member_name) or t.text == "I":
            return 0
        if t.text[:1].isupper() or re.search(r"[a-z][A-Z]|_|'|\d", t.text):
            return 80
        return 40

    ranked = sorted((t for t in toks if score(t) > 0), key=lambda t: (-score(t), t.i))
    return list(dict.fromkeys(_operator_name(t.text) if t.kind == "op" else t.text
                              for t in ranked))


# "budget: high" / "tags: Exhaustive" at the end; "type Budget = Rational" and
# "`tag :: a -> Int`" are Haskell, not directives.
_DIRECTIVE_BUDGET = re.compile(r"[\s,;(\[]*\bbudget\s*(?:=|:(?!:))\s*(?P<v>low|medium|high|\d+)"
                               r"\s*[)\]]?\s*(?=$|[,;]|\btags?\s*(?:=|:(?!:)))", re.IGNORECASE)
_DIRECTIVE_TAGS = re.compile(r"[\s,;(\[]*\btags?\s*(?:=|:(?!:))\s*(?P<v>[^`]*?)\s*[)\]]?\s*$",
                             re.IGNORECASE)


def _directives(text: str) -> tuple[str, str | None, str | None]:
    """Strip trailing ``tags: …`` and ``budget: …`` directives from question text."""
    tags = budget = None
    m = _DIRECTIVE_BUDGET.search(text)
    if m:
        budget, text = m.group("v"), text[:m.start()] + text[m.end():]
    m = _DIRECTIVE_TAGS.search(text)
    if m:
        tags, text = m.group("v"), text[:m.start()] + text[m.end():]
    return text, tags, budget


def _tags_for(change: ChangeKind, target: str, kind: str | None) -> tuple[Tag, ...]:
    if change is C.CHANGE and kind is not None and kind in _TAGS_BY_DEF_KIND:
        return _TAGS_BY_DEF_KIND[kind]
    return default_tags(change, target)


def _parse_text(text: str, *, tags: str | Sequence[str] | None, budget: int | str | None,
                lexicon: Lexicon) -> Question:
    cleaned, text_tags, text_budget = _directives(text)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise QuestionError("the question text is missing: write the question first and put "
                            "\"tags: …\" / \"budget: …\" at its end")
    got = _understand(cleaned, text, lexicon)
    chosen_tags, _ = _resolve_tags(tags if tags is not None else text_tags,
                                   _tags_for(got.change, got.target, got.kind))
    return Question(cleaned, got.target, got.change, chosen_tags,
                    parse_budget(budget if budget is not None else text_budget),
                    got.subject, reading=got.reading, variant=got.reading.variant)


# The two readings of adding a method: "without a default (implementation)", "no default",
# "a required method" / "with a default", "an optional method". Checked in that order
# ("without a default" contains no "with a default").
_REQUIRED_METHOD = re.compile(r"\bwithout\s+(?:an?\s+|any\s+)?default|\bno\s+default"
                              r"|\b(?:required|mandatory)\s+method|\bmust\s+(?:be\s+)?(?:"
                              r"defined|implemented)", re.I)
_DEFAULT_METHOD = re.compile(r"\bwith\s+(?:an?\s+)?default|\b(?:has|having|gets)\s+an?\s+"
                             r"default|\b(?:optional|defaulted)\s+method", re.I)


def method_variant(text: str, change: ChangeKind) -> str | None:
    """The reading of an added method the text states: ``"required"`` ("without a default
    implementation"), ``"default"`` ("with a default"), or None (it does not say; the engine
    and the oracle then read it as required). None for other changes."""
    if change is not ChangeKind.ADD_METHOD:
        return None
    if _REQUIRED_METHOD.search(text):
        return METHOD_REQUIRED
    if _DEFAULT_METHOD.search(text):
        return METHOD_DEFAULT
    return None


_KEYS = ("target", "change", "tags", "budget", "subject", "variant", "query", "text")
_NAME_SHAPE = re.compile(rf"^(?:[A-Z][\w']*\.)*(?:[A-Za-z_][\w']*|\((?:[{_OP_CHARS}]+|,+)\)"
                         rf"|[{_OP_CHARS}]+)$")


def _clean(name: str | None) -> str | None:
    """A Haskell name (qualified, an operator), optionally with a namespace keyword as the
    ambiguity answers give them (``type M.Total``)."""
    if name is None:
        return None
    namespace, bare = split_namespace(name.strip("`"))
    bare = bare.strip("`")
    if not bare or not _NAME_SHAPE.match(bare):
        return None
    return f"{namespace} {bare}" if namespace else bare


def _structured(q: Mapping[str, Any], *, tags: str | Sequence[str] | None,
                budget: int | str | None, lexicon: Lexicon) -> Question:
    unknown = sorted(set(q) - set(_KEYS))
    if unknown:
        raise QuestionError(f"unknown question key(s) {', '.join(map(repr, unknown))}: "
                            f"accepted keys are {', '.join(_KEYS)}")
    text = q.get("query", q.get("text"))
    if text is not None and not isinstance(text, str):
        raise QuestionError("query must be a string")
    target_value = q.get("target")
    if target_value is not None and (not isinstance(target_value, str)
                                     or not _clean(target_value.strip())):
        raise QuestionError(f"target {target_value!r} is not a Haskell name: give e.g. "
                            "\"LLMKind\", \"Types.LLMKind\" or \"(<+>)\"")
    subject_value = q.get("subject")
    if subject_value is not None and (not isinstance(subject_value, str)
                                      or not _clean(subject_value.strip())):
        raise QuestionError(f"subject {subject_value!r} is not a Haskell name")
    explicit_tags = tags if tags is not None else q.get("tags")
    chosen_budget = parse_budget(budget if budget is not None else q.get("budget"))
    change_value = parse_change(q["change"]) if q.get("change") is not None else None
    parsed: _Understood | None = None
    asked = text if isinstance(text, str) else ""
    if text is not None and text.strip():
        cleaned = " ".join(_directives(text)[0].split())
        if target_value is None:
            parsed = _understand(cleaned, text, lexicon)
        elif change_value is None:
            try:
                parsed = _understand(cleaned, text, lexicon)
            except (QuestionError, ExploreError):
                parsed = None  # the given target stands; the text only lacked a reading
        text = cleaned
    elif target_value is None:
        raise QuestionError("a structured question needs a \"target\" (or a \"query\" text): "
                            "e.g. {\"target\": \"LLMKind\", \"change\": \"add_constructor\"}")
    change = change_value or (parsed.change if parsed else C.CHANGE)
    variant_value = q.get("variant")
    if variant_value is not None and (variant_value not in METHOD_VARIANTS
                                      or change is not C.ADD_METHOD):
        raise QuestionError(f"variant {variant_value!r}: the reading of add_method, one of "
                            f"{', '.join(map(repr, METHOD_VARIANTS))}")
    variant = variant_value or (parsed.reading.variant if parsed and change is parsed.change
                                else None) or method_variant(text or "", change)
    target = _clean(target_value.strip()) if target_value is not None else (
        parsed.target if parsed else None)
    if target is None:  # unreachable: a target or a parsable text was required above
        raise QuestionError("a structured question needs a \"target\"")
    same_target = parsed is not None and parsed.target == target
    subject = _clean(subject_value.strip()) if subject_value is not None else (
        parsed.subject if same_target and parsed else None)
    context: tuple[str, ...] = ()
    generated = question_text(change, target, subject, variant)
    if change in _MEMBER_CHANGES and subject and subject != target:
        # {"target": "LLMKind", "change": "remove_constructor", "subject": "Opus"}: the member
        # is what changes, its type is context
        target, context = subject, (target,)
    kind = parsed.kind if same_target and parsed and change is parsed.change else None
    chosen_tags, _ = _resolve_tags(explicit_tags, _tags_for(change, target, kind))
    if parsed is not None and target_value is None and change_value is None:
        reading = parsed.reading
    elif parsed is not None:
        reading = replace(parsed.reading, method="structured+text",
                          context=tuple(dict.fromkeys(context + parsed.reading.context)),
                          how=f"given {', '.join(k for k in ('target', 'change', 'subject') if q.get(k) is not None)}; "
                          f"text read as: {parsed.reading.how}",
                          kind=parsed.reading.kind if same_target else None,
                          module=parsed.reading.module if same_target else None)
    else:
        reading = Reading(asked=asked, method="structured",
                          how="given as target and change", context=context)
    if reading.variant != variant:
        reading = replace(reading, variant=variant)
    return Question(text or generated, target, change, chosen_tags, chosen_budget, subject,
                    reading=reading, variant=variant)


def parse_question(q: str | Mapping[str, Any], *, budget: int | str | None = None,
                   tags: str | Sequence[str] | None = None,
                   index: Index | Lexicon | None = None) -> Question:
    """Understand a question given as text or as a mapping (see the module docstring).

    With ``index`` (a workspace index, or a :class:`Lexicon` over one) the text is read against
    the workspace's names: only defined names can be targets, and a name with several
    definitions that the question does not tell apart raises :class:`AmbiguousTarget`.
    Without it, names are recognised by their shape. ``budget`` and ``tags`` given here (e.g.
    from command-line flags) win over those in the question. Raises :class:`NotUnderstood`
    (what was understood, and the closest structured reading) or ``QuestionError`` with a
    message that says how to ask instead.
    """
    lexicon = index if isinstance(index, Lexicon) else Lexicon(index)
    if isinstance(q, Mapping):
        return _structured(q, tags=tags, budget=budget, lexicon=lexicon)
    if not isinstance(q, str):
        raise QuestionError(f"a question is text or a mapping, not {type(q).__name__}")
    if not q.strip():
        raise QuestionError("empty question: ask e.g. \"What breaks if I add a constructor to "
                            "LLMKind?\"")
    return _parse_text(q, tags=tags, budget=budget, lexicon=lexicon)


@dataclass(frozen=True, slots=True)
class Interpretation:
    """A question read against a workspace, as an editor shows it. ``status`` is ``"ok"``
    (``question`` and the ``definition`` it changes), ``"ambiguous"`` (``name`` and
    ``candidates``: offer a pick list, re-ask with the chosen ``qualified`` name as target),
    ``"not_understood"`` (``understood`` and ``suggestion``, a structured reading to offer) or
    ``"error"`` (a malformed question: ``message`` says how to ask)."""

    status: str
    message: str = ""
    question: Question | None = None
    definition: Definition | None = None
    name: str | None = None
    candidates: tuple[Definition, ...] = ()
    understood: dict[str, Any] | None = None
    suggestion: dict[str, Any] | None = None

    def error_json(self) -> dict[str, Any]:
        """The CLI's ``--json`` error object: ``{"kind", "message", ...}``."""
        out: dict[str, Any] = {"kind": self.status, "message": self.message}
        if self.status == "ambiguous":
            out["name"] = self.name
            out["candidates"] = [candidate_json(d, self.candidates) for d in self.candidates]
        elif self.status == "not_understood":
            out["understood"] = self.understood
            out["suggestion"] = self.suggestion
        return out

    def to_protocol(self, root: Any = None) -> dict[str, Any]:
        """The language server's answer shape (docs/protocol.md): ``{"status": ...}``; with
        ``root`` (the workspace folder) each candidate gets its ``uri`` and a 0-based
        ``line``, as LSP positions are."""
        if self.status == "ok":
            assert self.question is not None and self.definition is not None
            q = self.question
            return {"status": "ok", "question": {
                "query": q.text, "target": q.target, "change": q.change.value,
                "tags": [t.value for t in q.tags], "budget": q.budget, "subject": q.subject,
                "variant": q.variant},
                "target": candidate_json(self.definition)}
        out: dict[str, Any] = {"status": self.status, **{
            k: v for k, v in self.error_json().items() if k != "kind"}}
        if self.status == "ambiguous" and root is not None:
            from pathlib import Path

            base = Path(root)
            for item in out["candidates"]:
                item["uri"] = (base / item["path"]).resolve().as_uri()
                item["line"] = item["line"] - 1
        return out

    def text_lines(self) -> list[str]:
        """What a person reads: the message, then one line per candidate."""
        lines = [self.message]
        if self.status == "ambiguous":
            lines.append("candidates (pass one with --target):")
            lines.extend(f"  {candidate_json(d, self.candidates)['qualified']:<40} "
                         f"{d.kind.value:<14} {d.path}:{d.name_span.start_line}"
                         for d in self.candidates)
        return lines


def interpret(index: Index, q: str | Mapping[str, Any] | Question, *,
              budget: int | str | None = None,
              tags: str | Sequence[str] | None = None) -> Interpretation:
    """Read a question against a workspace and resolve its target, never raising for the
    answers an editor must show: an ambiguity (with candidates) or a question that was not
    understood (with what was understood and the closest structured reading). The question
    in an ``ok`` answer is the one the engine explores (its change kind corrected for the
    target's kind)."""
    index = index.snapshot()  # one revision for every lookup below
    lexicon = Lexicon(index)
    try:
        question = q if isinstance(q, Question) else parse_question(
            q, budget=budget, tags=tags, index=lexicon)
        definition = resolve_target(index, question)
        refined = refine_for_target(question, definition.kind.value)
        if refined is not question:
            question = refined
            definition = resolve_target(index, question)
    except AmbiguousTarget as exc:
        return Interpretation("ambiguous", str(exc), name=exc.name,
                              candidates=tuple(exc.candidates))
    except NotUnderstood as exc:
        return Interpretation("not_understood", str(exc), understood=exc.understood,
                              suggestion=exc.suggestion)
    except UnknownSymbol as exc:
        change = question.change.value if "question" in locals() else None
        suggestion = ({"target": exc.suggestions[0], "change": change,
                       "flags": f"--target {exc.suggestions[0]}"
                       + (f" --change {change}" if change else "")}
                      if exc.suggestions else None)
        return Interpretation("not_understood", str(exc),
                              understood={"change": change, "names": [], "unknown": [exc.name]},
                              suggestion=suggestion)
    except QuestionError as exc:
        return Interpretation("error", str(exc))
    return Interpretation("ok", question=question, definition=definition)


_TEMPLATES: dict[ChangeKind, tuple[str, str]] = {
    # (without subject, with subject)
    C.ADD_CONSTRUCTOR: ("add a constructor to {t}", "add the constructor {s} to {t}"),
    C.REMOVE_CONSTRUCTOR: ("remove the constructor {t}", "remove the constructor {s} from {t}"),
    C.RENAME_CONSTRUCTOR: ("rename the constructor {t}", "rename the constructor {s} in {t}"),
    C.ADD_FIELD: ("add a field to {t}", "add the field {s} to {t}"),
    C.REMOVE_FIELD: ("remove the field {t}", "remove the field {s} from {t}"),
    C.RENAME_FIELD: ("rename the field {t}", "rename the field {s} in {t}"),
    C.CHANGE_FIELD_TYPE: ("change the type of the field {t}",
                          "change the type of the field {s} in {t}"),
    C.CHANGE_SIGNATURE: ("change the type of {t}", "change the type of {t}"),
    C.CHANGE_ARITY: ("{t} takes one more argument", "{t} takes one more argument"),
    C.ADD_METHOD: ("add a method to {t}", "add the method {s} to {t}"),
    C.ADD_SUPERCLASS: ("add a superclass to {t}", "add the superclass {s} to {t}"),
    C.CHANGE_TYPE_FAMILY: ("change the type family {t}", "change the type family {t}"),
    C.CHANGE_TYPE_SYNONYM: ("change the type synonym {t}", "change the type synonym {t}"),
    C.REMOVE_EXPORT: ("stop exporting {t}", "stop exporting {t}"),
    C.CHANGE: ("change {t}", "change {s} in {t}"),
}


_VARIANT_TEMPLATES = {
    METHOD_REQUIRED: ("add a method without a default implementation to {t}",
                      "add the method {s} without a default implementation to {t}"),
    METHOD_DEFAULT: ("add a method with a default implementation to {t}",
                     "add the method {s} with a default implementation to {t}"),
}


def question_text(change: ChangeKind, target: str, subject: str | None = None,
                  variant: str | None = None) -> str:
    """A natural question for a structured one (recorded as the query text in datasets);
    ``parse_question`` reads it back to the same change, target, subject and variant."""
    plain, with_subject = (_VARIANT_TEMPLATES[variant] if change is C.ADD_METHOD
                           and variant in _VARIANT_TEMPLATES else _TEMPLATES[change])
    if subject and subject != target:
        body = with_subject.format(t=f"`{target}`", s=f"`{subject}`")
    else:
        body = plain.format(t=f"`{target}`", s="")
    if change is C.CHANGE_ARITY:
        return f"What breaks if {body}?"
    return f"What breaks if I {body}?"




# Change kinds that read differently once the target's definition kind is known.
_REFINE: dict[str, dict[ChangeKind, ChangeKind]] = {
    "field": {C.REMOVE_CONSTRUCTOR: C.REMOVE_FIELD, C.RENAME_CONSTRUCTOR: C.RENAME_FIELD,
              C.CHANGE_SIGNATURE: C.CHANGE_FIELD_TYPE},
    "constructor": {C.REMOVE_FIELD: C.REMOVE_CONSTRUCTOR, C.RENAME_FIELD: C.RENAME_CONSTRUCTOR},
    "function": {C.CHANGE_FIELD_TYPE: C.CHANGE_SIGNATURE},
    "method": {C.CHANGE_FIELD_TYPE: C.CHANGE_SIGNATURE},
    "type_family": {C.CHANGE: C.CHANGE_TYPE_FAMILY, C.CHANGE_TYPE_SYNONYM: C.CHANGE_TYPE_FAMILY},
    "data_family": {C.CHANGE: C.CHANGE_TYPE_FAMILY, C.CHANGE_TYPE_SYNONYM: C.CHANGE_TYPE_FAMILY},
    "type_synonym": {C.CHANGE: C.CHANGE_TYPE_SYNONYM, C.CHANGE_TYPE_FAMILY: C.CHANGE_TYPE_SYNONYM},
}


_MEMBER_EDITS = {C.REMOVE_CONSTRUCTOR, C.RENAME_CONSTRUCTOR, C.REMOVE_FIELD, C.RENAME_FIELD}


def refine_for_target(question: Question, kind: str) -> Question:
    """The question with its change kind corrected for what the target resolved to (a
    ``haskell.model.DefKind`` value): "change the type of cost" is a field-type change when
    ``cost`` is a record field; "remove describe" is a generic change when ``describe`` is a
    function. Default tags follow the new kind; explicit tags are kept."""
    kind = str(kind)
    change = _REFINE.get(kind, {}).get(question.change, question.change)
    member_is_target = question.subject is None or question.subject == question.target
    if (change in _MEMBER_EDITS and member_is_target
            and kind not in ("constructor", "field", "pattern_synonym")):
        change = C.CHANGE  # removing/renaming a type, function or class: no specific rules
    old_defaults = default_tags(question.change, question.target)
    tags = question.tags
    if tags == old_defaults:
        tags = (_TAGS_BY_DEF_KIND.get(kind, old_defaults) if change is C.CHANGE
                else default_tags(change, question.target))
    if change is question.change and tags == question.tags:
        return question
    return replace(question, change=change, tags=tags)
