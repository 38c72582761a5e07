"""Question understanding: "What breaks if I add a variant to LLMKind?" -> ``Question``.

Two input forms (DESIGN.md section 4):

- text: a small set of phrase rules (verb + kind of thing + names around prepositions) picks the
  change kind, the target and, where the change is about a member, the subject. Phrasing no rule
  understands still works: the most likely symbol in the text becomes the target of a generic
  ``ChangeKind.CHANGE``. Text may end with directives ``tags: a, b`` and ``budget: high``.
- structured: ``{"target", "change", "tags", "budget", "subject", "query"|"text"}``; ``change``
  takes the enum values (``add_constructor``), their names, or friendly aliases ("add variant",
  "unexport"). A mapping with only ``query`` text is parsed like text, then overridden by the
  other keys.

Target and subject: for a change to a member (constructor, field, method, superclass) the
``target`` is the container when the question names one (``LLMKind``, ``Config``, ``Pretty``)
and ``subject`` is the member (``Opus``, ``name``); with no container the member is the target as
well ("remove the Opus constructor": target ``Opus``, subject ``Opus``). For added members the
subject is the new name, if given. For ``REMOVE_EXPORT`` the target is the symbol, qualified by
the module when one is named. Names keep their qualification (``Types.LLMKind``): resolving them
against the index, and asking back when a name is ambiguous, is the engine's job;
``candidate_symbols`` ranks every identifier of the question for that, and
``refine_for_target`` corrects a change kind once the target's definition kind is known.

Tags: explicit tags replace the change kind's defaults (the asker says what to look for);
prefix one with ``+`` (``"+Module"``) to extend the defaults instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from scout.explore.model import DEFAULT_BUDGET, ChangeKind, Question, Tag

__all__ = [
    "DEFAULT_TAGS",
    "QuestionError",
    "candidate_symbols",
    "default_tags",
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


# --- tokens and names ----------------------------------------------------------------------------
_OP_CHARS = r"!#$%&*+./<=>?@\\^|~:\-"
_TOKEN = re.compile(rf"""
    `(?P<bt>[^`]+)`                                            # `backticked`
  | (?<![\w'])['"‘“](?P<qv>[^'"‘’“”\s]+)['"’”](?![\w])          # 'quoted' "quoted"
  | (?P<word>(?:[A-Z][\w']*\.)*(?:[A-Za-z_][\w']*|\((?:[{_OP_CHARS}]+|,+)\)))
  | (?P<op>\((?:[{_OP_CHARS}]+|,+)\))
  | (?P<num>\d+)
""", re.X)
_NAME_SHAPE = re.compile(rf"^(?:[A-Z][\w']*\.)*(?:[A-Za-z_][\w']*|\((?:[{_OP_CHARS}]+|,+)\)"
                         rf"|[{_OP_CHARS}]+)$")

# Words of questions, never symbols (unless quoted).
_STOP = frozenset("""
a about accept accepts add added adding adds additional affect affected affects after all also
an and another any anything are arg args argument arguments arity as at be become becomes been
break breaks breaking broken but by called can case cases change changed changes changing
class classes code constraint constraint constraints constructor constructors could data
datatype delete deleted deletes deleting did different do does doesn't don't dont drop
dropped dropping each edit else every everything export exported exporting exports extend
extended extends extra family fewer field fields file for from function functions get gets
give go going had happen happens has have here hide how i if impact in input inputs insert
instance instances into introduce is it its just less list longer make makes me method methods
might modify module more my named need needed needs new no not now number of on one only
option or other our param parameter parameters params parent place places please record
remove removed removes removing rename renamed renames renaming replace require requires
return returns same second should show signature single so some something still stop stopped
stops super superclass superclasses synonym synonyms take takes tell than that the their them
then there these they thing things this those three to took two type types unexport unexported
update use used uses value values variant variants was we what what's whats when where which
who why will with within would you your
""".split())
# Capitalised, these are still English at the start of a sentence; other capitalised words
# ("Name", "Show", "Type") are taken as symbols.
_SENTENCE_WORDS = frozenset("""
a add after also an and assume but can change could delete do does drop extend find given how
i if in let list make now please remove rename say should so stop suppose tell the then
unexport we what when where which who why will would
""".split())


def _is_stop(word: str) -> bool:
    return word in _STOP or (word[:1].isupper() and word.lower() in _SENTENCE_WORDS
                             and (len(word) == 1 or word[1:].islower()))


_STOP_ALTERNATION = "|".join(sorted(
    (re.escape(w) for w in _STOP | {w.capitalize() for w in _SENTENCE_WORDS} | {"I"}),
    key=len, reverse=True))


@dataclass(frozen=True, slots=True)
class _Token:
    name: str  # cleaned text: quotes and possessive removed
    start: int  # offset in the normalised text
    quoted: bool
    position: int

    @property
    def score(self) -> int:
        """How likely the token is a symbol: quoted > qualified/operator > code-shaped or
        capitalised > plain lowercase word > English word (0)."""
        n = self.name
        if not _NAME_SHAPE.match(n) or n[:1].isdigit():
            return 0
        if self.quoted:
            return 100
        if "." in n.strip(".") or n.startswith("("):
            return 90
        if _is_stop(n):
            return 0
        if n[:1].isupper() or re.search(r"[a-z][A-Z]|_|'|\d", n):
            return 80
        return 40


def _tokens(text: str) -> tuple[str, list[_Token]]:
    """The question as a space-separated normal form (punctuation dropped, quoted names
    in backticks) and its tokens."""
    parts: list[str] = []
    tokens: list[_Token] = []
    offset = 0
    for m in _TOKEN.finditer(text):
        quoted = m.group("bt") is not None or m.group("qv") is not None
        raw = (m.group("bt") or m.group("qv") or m.group(0)).strip()
        if not raw:
            continue
        if not quoted and raw.endswith("'s") and len(raw) > 2:
            raw = raw[:-2]  # possessive: Config's
        shown = f"`{raw}`" if quoted else raw
        tokens.append(_Token(raw, offset, quoted, len(tokens)))
        parts.append(shown)
        offset += len(shown) + 1
    return " ".join(parts), tokens


def candidate_symbols(text: str) -> list[str]:
    """Identifiers in the question, most likely symbol first: quoted names, then qualified
    names and operators, then code-shaped or capitalised words, then other non-English words.
    Duplicates removed; order of appearance breaks ties."""
    _, tokens = _tokens(text)
    ranked = sorted((t for t in tokens if t.score > 0), key=lambda t: (-t.score, t.position))
    return list(dict.fromkeys(t.name for t in ranked))


# --- phrase rules ----------------------------------------------------------------------------
def _name(group: str) -> str:
    # Case-sensitive even inside the case-insensitive rules: "name" is English, "Name" a type.
    return rf"(?!(?-i:{_STOP_ALTERNATION})(?:\s|$))(?P<{group}>\S+)"


_DET = (r"(?:(?:a|an|the|one|two|three|\d+|another|some|new|more|extra|additional|fewer|less|"
        r"single|second|its|my|our|this|that|(?:a\s+)?different\s+number\s+of)\s+)*")
_CON_W = r"(?:data\s+)?(?:constructors?|variants?|alternatives?|cases?|branch(?:es)?|enum\s+values?)"
_FIELD_W = r"(?:record\s+)?(?:fields?|selectors?|accessors?|attributes?)"
_METHOD_W = r"(?:(?:type\s*)?class\s+)?methods?"
_SUPER_W = r"(?:super[\s-]?class(?:es)?|parent\s+class(?:es)?)"
_ARG_W = r"(?:arguments?|args?|parameters?|params?|inputs?)"
_TF_W = r"(?:(?:open|closed|associated|injective)\s+)?(?:type|data)\s+famil(?:y|ies)"
_TS_W = r"(?:type\s+(?:synonyms?|alias(?:es)?)|synonyms?|alias(?:es)?)"
_ADD = (r"(?:add(?:s|ed|ing)?|introduc(?:e|es|ed|ing)|insert(?:s|ed|ing)?|"
        r"append(?:s|ed|ing)?|includ(?:e|es|ed|ing)|put(?:s|ting)?|giv(?:e|es|ing))")
_REMOVE = (r"(?:remov(?:e|es|ed|ing)|delet(?:e|es|ed|ing)|drop(?:s|ped|ping)?|"
           r"eliminat(?:e|es|ed|ing)|get(?:ting)?\s+rid\s+of|kill(?:s|ed|ing)?)")
_RENAME = r"(?:renam(?:e|es|ed|ing))"
_CHANGE = (r"(?:chang(?:e|es|ed|ing)|modif(?:y|ies|ied|ying)|alter(?:s|ed|ing)?|"
           r"edit(?:s|ed|ing)?|updat(?:e|es|ed|ing)|generali[sz](?:e|es|ed|ing)|"
           r"speciali[sz](?:e|es|ed|ing)|refactor(?:s|ed|ing)?|rework(?:s|ed|ing)?|"
           r"replac(?:e|es|ed|ing)|redefin(?:e|es|ed|ing)|retyp(?:e|es|ed|ing))")
_GETS = r"(?:gets|got|gains|gained|has|had|needs|grows|receives)"
_TYPE_WORD = (r"(?:(?:the|a)\s+)?(?:(?:data\s+type|datatype|sum\s+type|record\s+type|record|"
              r"enum|type\s*class|class|data|newtype|type|module|function)\s+)?")
_INTO = r"(?:to|in|into|for|of|on|onto|inside|within)"
_OUT_OF = r"(?:from|in|of|out\s+of|inside|within)"
_NEW_NAME = rf"(?:\s+(?:called|named)\s+{_name('n')}|\s+`[^`]+`)?"


def _opt(pattern: str) -> str:
    return f"(?:{pattern})?"


@dataclass(frozen=True, slots=True)
class _Rule:
    change: ChangeKind
    regex: re.Pattern[str]
    subject_case: str | None = None  # "upper"/"lower": the subject's first letter must be so


def _rule(change: ChangeKind, pattern: str, subject_case: str | None = None) -> _Rule:
    return _Rule(change, re.compile(rf"(?:^|\s){pattern}(?=\s|$)", re.IGNORECASE), subject_case)


_S, _T, _F = _name("s"), _name("t"), _name("f")
_FROM_T = _opt(rf"\s+{_OUT_OF}\s+{_TYPE_WORD}{_T}")
_MEMBER = _opt(r"(?:called|named)\s+") + _S
_OPT_S = _opt(r"\s+" + _S)
_OPT_MEMBER = _opt(r"\s+" + _MEMBER)
_OPT_FROM_OWNER = _opt(r"\s+from\s+" + _TYPE_WORD + _T)
_OPT_OWNER_WORD = _opt(_T + r"\s+")
_OPT_OF_MODULE = _opt(r"\s+of\s+(?:the\s+)?(?:module\s+)?(?P<m>\S+)")

# Most specific first; the first rule whose names check out wins.
_RULES: tuple[_Rule, ...] = (
    # exports
    _rule(C.REMOVE_EXPORT, rf"(?:stop(?:s|ped|ping)?|no\s+longer|don'?t|do\s+not|not)\s+"
          rf"export(?:ing)?\s+{_DET}{_TYPE_WORD}{_S}{_OPT_FROM_OWNER}"),
    _rule(C.REMOVE_EXPORT, rf"unexport(?:s|ed|ing)?\s+{_DET}{_TYPE_WORD}{_S}"
          rf"{_OPT_FROM_OWNER}"),
    _rule(C.REMOVE_EXPORT, rf"(?:{_REMOVE}|hid(?:e|es|ing))\s+{_DET}{_TYPE_WORD}{_S}\s+"
          rf"(?:from|in)\s+(?:the\s+)?{_OPT_OWNER_WORD}export(?:s|\s+list)?"
          rf"{_OPT_OF_MODULE}"),
    _rule(C.REMOVE_EXPORT, rf"{_S}\s+(?:is\s+)?(?:no\s+longer|not)\s+exported"
          rf"{_OPT_FROM_OWNER}"),
    # type families and synonyms
    _rule(C.CHANGE_TYPE_FAMILY, rf"{_TF_W}\s+{_DET}{_T}"),
    _rule(C.CHANGE_TYPE_FAMILY, rf"{_T}\s+(?:type|data)\s+famil(?:y|ies)"),
    _rule(C.CHANGE_TYPE_FAMILY, rf"(?:type|data)\s+instances?\s+(?:of|for)\s+{_DET}{_T}"),
    _rule(C.CHANGE_TYPE_FAMILY, rf"{_ADD}\s+{_DET}(?:type\s+|data\s+)?(?:instance|equation)s?"
          rf"\s+(?:to|of|for)\s+{_DET}{_T}"),
    _rule(C.CHANGE_TYPE_SYNONYM, rf"{_TS_W}\s+{_DET}{_T}"),
    _rule(C.CHANGE_TYPE_SYNONYM, rf"{_T}\s+(?:type\s+)?(?:synonym|alias)"),
    # classes
    _rule(C.ADD_SUPERCLASS, rf"{_ADD}\s+{_DET}{_SUPER_W}{_OPT_S}\s+{_INTO}\s+"
          rf"{_TYPE_WORD}{_T}"),
    _rule(C.ADD_SUPERCLASS, rf"{_ADD}\s+{_S}\s+as\s+{_DET}{_SUPER_W}\s+(?:to|of|for|on)\s+"
          rf"{_TYPE_WORD}{_T}"),
    _rule(C.ADD_SUPERCLASS, rf"{_ADD}\s+{_DET}(?:class\s+)?constraints?{_OPT_S}\s+"
          rf"(?:to|on)\s+(?:the\s+)?(?:type\s*)?class\s+{_T}"),
    _rule(C.ADD_SUPERCLASS, rf"{_T}\s+{_GETS}\s+{_DET}{_SUPER_W}{_OPT_S}"),
    _rule(C.ADD_METHOD, rf"{_ADD}\s+{_DET}{_METHOD_W}{_OPT_MEMBER}\s+{_INTO}\s+"
          rf"{_TYPE_WORD}{_T}"),
    _rule(C.ADD_METHOD, rf"{_ADD}\s+{_S}\s+(?:as\s+{_DET}{_METHOD_W}\s+)?(?:to|in)\s+"
          rf"(?:the\s+)?(?:type\s*)?class\s+{_T}"),
    _rule(C.ADD_METHOD, rf"{_T}\s+{_GETS}\s+{_DET}{_METHOD_W}"),
    # record fields
    _rule(C.ADD_FIELD, rf"{_ADD}\s+{_DET}{_FIELD_W}{_OPT_MEMBER}\s+{_INTO}\s+"
          rf"{_TYPE_WORD}{_T}"),
    _rule(C.ADD_FIELD, rf"{_T}\s+{_GETS}\s+{_DET}{_FIELD_W}"),
    _rule(C.CHANGE_FIELD_TYPE, rf"{_CHANGE}\s+{_DET}type\s+of\s+{_DET}{_FIELD_W}\s+{_S}"
          rf"{_FROM_T}"),
    _rule(C.CHANGE_FIELD_TYPE, rf"{_CHANGE}\s+{_DET}{_FIELD_W}\s+{_S}\s+type{_FROM_T}"),
    _rule(C.CHANGE_FIELD_TYPE, rf"{_CHANGE}\s+{_DET}{_S}\s+{_FIELD_W}\s+type{_FROM_T}"),
    _rule(C.CHANGE_FIELD_TYPE, rf"{_CHANGE}\s+{_DET}type\s+of\s+{_DET}{_S}"
          rf"(?:\s+{_FIELD_W})?\s+{_OUT_OF}\s+{_TYPE_WORD}{_T}"),
    _rule(C.CHANGE_FIELD_TYPE, rf"{_CHANGE}\s+{_DET}{_FIELD_W}\s+{_S}{_FROM_T}"),
    _rule(C.CHANGE_FIELD_TYPE, rf"{_T}\s+{_FIELD_W}\s+{_S}\s+{_CHANGE}\s+(?:its\s+)?type"),
    _rule(C.CHANGE_FIELD_TYPE, rf"{_FIELD_W}\s+{_S}{_FROM_T}\s+{_CHANGE}\s+(?:its\s+)?type"),
    _rule(C.REMOVE_FIELD, rf"{_REMOVE}\s+{_DET}{_FIELD_W}\s+{_S}{_FROM_T}"),
    _rule(C.REMOVE_FIELD, rf"{_REMOVE}\s+{_DET}{_S}\s+{_FIELD_W}{_FROM_T}"),
    _rule(C.REMOVE_FIELD, rf"{_REMOVE}\s+{_DET}{_FIELD_W}\s+{_OUT_OF}\s+{_TYPE_WORD}{_T}"),
    _rule(C.RENAME_FIELD, rf"{_RENAME}\s+{_DET}{_FIELD_W}\s+{_S}{_FROM_T}"),
    _rule(C.RENAME_FIELD, rf"{_RENAME}\s+{_DET}{_S}\s+{_FIELD_W}{_FROM_T}"),
    _rule(C.RENAME_FIELD, rf"{_RENAME}\s+{_DET}{_FIELD_W}\s+{_OUT_OF}\s+{_TYPE_WORD}{_T}"),
    # constructors
    _rule(C.ADD_CONSTRUCTOR, rf"{_ADD}\s+{_DET}{_CON_W}{_OPT_MEMBER}\s+{_INTO}\s+"
          rf"{_TYPE_WORD}{_T}"),
    _rule(C.ADD_CONSTRUCTOR, rf"{_T}\s+{_GETS}\s+{_DET}{_CON_W}"),
    _rule(C.ADD_CONSTRUCTOR, rf"extend(?:s|ed|ing)?\s+{_DET}{_TYPE_WORD}{_T}\s+with\s+{_DET}"
          rf"(?:{_CON_W}|{_S})"),
    _rule(C.ADD_CONSTRUCTOR, rf"{_ADD}\s+{_DET}{_S}\s+(?:as\s+{_DET}{_CON_W}\s+)?(?:to|into)\s+"
          rf"{_TYPE_WORD}{_T}", subject_case="upper"),
    _rule(C.ADD_CONSTRUCTOR, rf"new\s+{_CON_W}\s+(?:to|in|for|of|on)\s+{_TYPE_WORD}{_T}"),
    _rule(C.REMOVE_CONSTRUCTOR, rf"{_REMOVE}\s+{_DET}{_CON_W}\s+{_S}{_FROM_T}"),
    _rule(C.REMOVE_CONSTRUCTOR, rf"{_REMOVE}\s+{_DET}{_S}\s+{_CON_W}{_FROM_T}"),
    _rule(C.REMOVE_CONSTRUCTOR, rf"{_REMOVE}\s+{_DET}{_CON_W}\s+{_OUT_OF}\s+{_TYPE_WORD}{_T}"),
    _rule(C.REMOVE_CONSTRUCTOR, rf"{_REMOVE}\s+{_DET}{_S}\s+{_OUT_OF}\s+{_TYPE_WORD}{_T}",
          subject_case="upper"),
    _rule(C.REMOVE_FIELD, rf"{_REMOVE}\s+{_DET}{_S}\s+{_OUT_OF}\s+{_TYPE_WORD}{_T}",
          subject_case="lower"),
    _rule(C.RENAME_CONSTRUCTOR, rf"{_RENAME}\s+{_DET}{_CON_W}\s+{_S}{_FROM_T}"),
    _rule(C.RENAME_CONSTRUCTOR, rf"{_RENAME}\s+{_DET}{_S}\s+{_CON_W}{_FROM_T}"),
    _rule(C.RENAME_CONSTRUCTOR, rf"{_RENAME}\s+{_DET}{_CON_W}\s+{_OUT_OF}\s+{_TYPE_WORD}{_T}"),
    _rule(C.RENAME_CONSTRUCTOR, rf"{_RENAME}\s+{_DET}{_S}\s+(?:in|of)\s+{_TYPE_WORD}{_T}",
          subject_case="upper"),
    _rule(C.RENAME_FIELD, rf"{_RENAME}\s+{_DET}{_S}\s+(?:in|of)\s+{_TYPE_WORD}{_T}",
          subject_case="lower"),
    # functions
    _rule(C.CHANGE_ARITY, rf"{_F}\s+(?:takes|took|take|gets|accepts|needs|requires|receives|"
          rf"has|expects)\s+{_DET}{_ARG_W}"),
    _rule(C.CHANGE_ARITY, rf"{_ADD}\s+{_DET}{_ARG_W}\s+(?:to|for|of)\s+{_TYPE_WORD}{_F}"),
    _rule(C.CHANGE_ARITY, rf"{_REMOVE}\s+{_DET}{_ARG_W}\s+(?:from|of)\s+{_TYPE_WORD}{_F}"),
    _rule(C.CHANGE_ARITY, rf"{_CHANGE}\s+{_DET}(?:arity|number\s+of\s+{_ARG_W})\s+of\s+"
          rf"{_TYPE_WORD}{_F}"),
    _rule(C.CHANGE_ARITY, rf"{_F}\s+arity"),
    _rule(C.CHANGE_SIGNATURE, rf"{_ADD}\s+{_DET}constraints?{_OPT_S}\s+to\s+"
          rf"{_TYPE_WORD}{_F}"),
    _rule(C.CHANGE_SIGNATURE, rf"{_CHANGE}\s+{_DET}(?:(?:type\s+)?signature|type|return\s+type|"
          rf"result\s+type)\s+of\s+{_TYPE_WORD}{_F}"),
    _rule(C.CHANGE_SIGNATURE, rf"{_CHANGE}\s+{_DET}{_F}\s+(?:(?:type\s+)?signature|type|"
          rf"return\s+type)"),
    _rule(C.CHANGE_SIGNATURE, rf"{_F}\s+(?:type\s+)?signature"),
    # a bare "remove X" / "rename X": read by the name's case; refine_for_target corrects it
    # (to CHANGE when X turns out to be neither a constructor nor a field)
    _rule(C.REMOVE_CONSTRUCTOR, rf"{_REMOVE}\s+{_DET}{_S}", subject_case="upper"),
    _rule(C.REMOVE_FIELD, rf"{_REMOVE}\s+{_DET}{_S}", subject_case="lower"),
    _rule(C.RENAME_CONSTRUCTOR, rf"{_RENAME}\s+{_DET}{_S}", subject_case="upper"),
    _rule(C.RENAME_FIELD, rf"{_RENAME}\s+{_DET}{_S}", subject_case="lower"),
)

_MEMBER_CHANGES = frozenset({C.ADD_CONSTRUCTOR, C.REMOVE_CONSTRUCTOR, C.RENAME_CONSTRUCTOR,
                             C.ADD_FIELD, C.REMOVE_FIELD, C.RENAME_FIELD, C.CHANGE_FIELD_TYPE,
                             C.ADD_METHOD, C.ADD_SUPERCLASS})
_ADDED_MEMBER = frozenset({C.ADD_CONSTRUCTOR, C.ADD_FIELD, C.ADD_METHOD})


@dataclass(frozen=True, slots=True)
class _Parsed:
    change: ChangeKind
    target: str
    subject: str | None


def _clean(name: str | None) -> str | None:
    if name is None:
        return None
    name = name.strip("`")
    return name if name and _NAME_SHAPE.match(name) else None


def _case_ok(name: str, case: str | None) -> bool:
    if case is None:
        return True
    bare = name.rsplit(".", 1)[-1] if not name.startswith("(") else name
    upper = bare[:1].isupper() or bare.startswith(":") or bare.startswith("(:")
    return upper if case == "upper" else not upper


def _apply_rule(rule: _Rule, norm: str, tokens: list[_Token]) -> _Parsed | None:
    by_start = {t.start: t for t in tokens}
    for m in rule.regex.finditer(norm):
        groups = {}
        for g in ("s", "t", "f", "m"):
            if g in rule.regex.groupindex and m.group(g) is not None:
                token = by_start.get(m.start(g))
                groups[g] = _clean(token.name if token else m.group(g))
        s, t, f, module = groups.get("s"), groups.get("t"), groups.get("f"), groups.get("m")
        if s is not None and not _case_ok(s, rule.subject_case):
            continue
        change = rule.change
        if change is C.REMOVE_EXPORT:
            if s is None:
                continue
            owner = t or module
            target = f"{owner}.{s}" if owner and "." not in s and owner[:1].isupper() else s
            return _Parsed(change, target, None)
        if f is not None:
            return _Parsed(change, f, None)
        if change in _MEMBER_CHANGES:
            if t is not None:
                return _Parsed(change, t, s)
            if s is not None and change not in _ADDED_MEMBER:
                return _Parsed(change, s, s)
            continue
        if t is not None:
            return _Parsed(change, t, s)
    return None


_DIRECTIVE_BUDGET = re.compile(r"[\s,;(\[]*\bbudget\s*[:=]\s*(?P<v>[\w-]+)\s*[)\]]?\s*"
                               r"(?=$|[,;]|\btags?\s*[:=])", re.IGNORECASE)
_DIRECTIVE_TAGS = re.compile(r"[\s,;(\[]*\btags?\s*[:=]\s*(?P<v>.*?)\s*[)\]]?\s*$",
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


def _understand(text: str) -> _Parsed:
    norm, tokens = _tokens(text)
    for rule in _RULES:
        parsed = _apply_rule(rule, norm, tokens)
        if parsed is not None:
            return parsed
    candidates = candidate_symbols(text)
    if not candidates:
        raise QuestionError(
            f"no symbol found in {text!r}: name the type, constructor, field, function or "
            "class, e.g. \"What breaks if I add a constructor to LLMKind?\" (quote it with "
            "backticks if it is an ordinary word)")
    return _Parsed(C.CHANGE, candidates[0], None)


def _parse_text(text: str, *, tags: str | Sequence[str] | None,
                budget: int | str | None) -> Question:
    cleaned, text_tags, text_budget = _directives(text)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise QuestionError("the question text is missing: write the question first and put "
                            "\"tags: …\" / \"budget: …\" at its end")
    parsed = _understand(cleaned)
    chosen_tags, _ = _resolve_tags(tags if tags is not None else text_tags,
                                   default_tags(parsed.change, parsed.target))
    return Question(cleaned, parsed.target, parsed.change, chosen_tags,
                    parse_budget(budget if budget is not None else text_budget),
                    parsed.subject)


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


def question_text(change: ChangeKind, target: str, subject: str | None = None) -> str:
    """A natural question for a structured one (recorded as the query text in datasets);
    ``parse_question`` reads it back to the same change, target and subject."""
    plain, with_subject = _TEMPLATES[change]
    if subject and subject != target:
        body = with_subject.format(t=f"`{target}`", s=f"`{subject}`")
    else:
        body = plain.format(t=f"`{target}`", s="")
    if change is C.CHANGE_ARITY:
        return f"What breaks if {body}?"
    return f"What breaks if I {body}?"


_KEYS = ("target", "change", "tags", "budget", "subject", "query", "text")


def _structured(q: Mapping[str, Any], *, tags: str | Sequence[str] | None,
                budget: int | str | None) -> Question:
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
    parsed: _Parsed | None = None
    if text is not None and text.strip():
        cleaned = " ".join(_directives(text)[0].split())
        if target_value is None or "change" not in q:
            parsed = _understand(cleaned)
        text = cleaned
    elif target_value is None:
        raise QuestionError("a structured question needs a \"target\" (or a \"query\" text): "
                            "e.g. {\"target\": \"LLMKind\", \"change\": \"add_constructor\"}")
    change = parse_change(q["change"]) if q.get("change") is not None else (
        parsed.change if parsed else C.CHANGE)
    target = _clean(target_value.strip()) if target_value is not None else (
        parsed.target if parsed else None)
    if target is None:  # unreachable: a target or a parsable text was required above
        raise QuestionError("a structured question needs a \"target\"")
    subject = _clean(subject_value.strip()) if subject_value is not None else (
        parsed.subject if parsed and parsed.target == target else None)
    chosen_tags, _ = _resolve_tags(explicit_tags, default_tags(change, target))
    return Question(text or question_text(change, target, subject), target, change,
                    chosen_tags, chosen_budget, subject)


def parse_question(q: str | Mapping[str, Any], *, budget: int | str | None = None,
                   tags: str | Sequence[str] | None = None) -> Question:
    """Understand a question given as text or as a mapping (see the module docstring).

    ``budget`` and ``tags`` given here (e.g. from command-line flags) win over those in the
    question. Raises ``QuestionError`` with a message that says how to ask instead.
    """
    if isinstance(q, Mapping):
        return _structured(q, tags=tags, budget=budget)
    if not isinstance(q, str):
        raise QuestionError(f"a question is text or a mapping, not {type(q).__name__}")
    if not q.strip():
        raise QuestionError("empty question: ask e.g. \"What breaks if I add a constructor to "
                            "LLMKind?\"")
    return _parse_text(q, tags=tags, budget=budget)


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
