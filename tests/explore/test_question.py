"""Question understanding: phrasing -> change kind, target, subject, tags and budget."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scout.explore.model import ChangeKind, Question, Tag
from scout.explore.question import (
    DEFAULT_TAGS,
    QuestionError,
    candidate_symbols,
    default_tags,
    parse_budget,
    parse_change,
    parse_question,
    parse_tags,
    question_text,
    refine_for_target,
)

C = ChangeKind
EXH, PM, TF, CON, DT, TA, FN, MOD = (Tag.EXHAUSTIVE, Tag.PATTERN_MATCH, Tag.TYPE_FAMILY,
                                     Tag.CONSTRAINT, Tag.DATA_TYPE, Tag.TYPE_ALIAS,
                                     Tag.FUNCTION, Tag.MODULE)


@pytest.mark.parametrize(("text", "change", "target", "subject"), [
    # add a constructor
    ("What breaks if I add a variant to LLMKind?", C.ADD_CONSTRUCTOR, "LLMKind", None),
    ("what breaks if i add a new constructor to the LLMKind type", C.ADD_CONSTRUCTOR,
     "LLMKind", None),
    ("Add a constructor called Gemini to LLMKind", C.ADD_CONSTRUCTOR, "LLMKind", "Gemini"),
    ("add Gemini to LLMKind", C.ADD_CONSTRUCTOR, "LLMKind", "Gemini"),
    ("LLMKind gets a new constructor", C.ADD_CONSTRUCTOR, "LLMKind", None),
    ("extend LLMKind with Gemini", C.ADD_CONSTRUCTOR, "LLMKind", "Gemini"),
    ("What breaks if I add a variant to Types.LLMKind?", C.ADD_CONSTRUCTOR, "Types.LLMKind",
     None),
    ("what breaks if I add a case to `LLMKind`?", C.ADD_CONSTRUCTOR, "LLMKind", None),
    ("what breaks if I add a variant to 'LLMKind'?", C.ADD_CONSTRUCTOR, "LLMKind", None),
    ("What breaks if I add a variant to “LLMKind”?", C.ADD_CONSTRUCTOR, "LLMKind", None),
    ("add a constructor to the data type Expr", C.ADD_CONSTRUCTOR, "Expr", None),
    # remove / rename a constructor
    ("remove the Opus constructor", C.REMOVE_CONSTRUCTOR, "Opus", "Opus"),
    ("What breaks if I remove the constructor Opus from LLMKind?", C.REMOVE_CONSTRUCTOR,
     "Opus", "Opus"),
    ("remove Opus from LLMKind", C.REMOVE_CONSTRUCTOR, "Opus", "Opus"),
    ("delete the `Opus` variant", C.REMOVE_CONSTRUCTOR, "Opus", "Opus"),
    ("remove Opus", C.REMOVE_CONSTRUCTOR, "Opus", "Opus"),
    ("rename the constructor Opus", C.RENAME_CONSTRUCTOR, "Opus", "Opus"),
    ("rename Opus to Opus4", C.RENAME_CONSTRUCTOR, "Opus", "Opus"),
    ("rename Opus in LLMKind to Opus4", C.RENAME_CONSTRUCTOR, "Opus", "Opus"),
    # fields
    ("if I add a field to Config", C.ADD_FIELD, "Config", None),
    ("add a record field timeout to Config", C.ADD_FIELD, "Config", "timeout"),
    ("Config gets a new field", C.ADD_FIELD, "Config", None),
    ("remove the field cost from Config", C.REMOVE_FIELD, "cost", "cost"),
    ("remove cost from Config", C.REMOVE_FIELD, "cost", "cost"),
    ("delete the field `name` from Config", C.REMOVE_FIELD, "name", "name"),
    ("remove the cost field", C.REMOVE_FIELD, "cost", "cost"),
    ("rename field name in Config", C.RENAME_FIELD, "name", "name"),
    ("rename the field name", C.RENAME_FIELD, "name", "name"),
    ("rename cost in Config to price", C.RENAME_FIELD, "cost", "cost"),
    ("change the type of the field cost in Config", C.CHANGE_FIELD_TYPE, "cost", "cost"),
    ("change field cost's type", C.CHANGE_FIELD_TYPE, "cost", "cost"),
    ("what if Config's field cost changes type", C.CHANGE_FIELD_TYPE, "cost", "cost"),
    # functions
    ("if render takes one more argument", C.CHANGE_ARITY, "render", None),
    ("What breaks if `render` takes 2 extra arguments?", C.CHANGE_ARITY, "render", None),
    ("what if describe took fewer parameters", C.CHANGE_ARITY, "describe", None),
    ("add an argument to render", C.CHANGE_ARITY, "render", None),
    ("remove a parameter from the function render", C.CHANGE_ARITY, "render", None),
    ("change the arity of render", C.CHANGE_ARITY, "render", None),
    ("change the type of cost", C.CHANGE_SIGNATURE, "cost", None),
    ("change the signature of (<+>)", C.CHANGE_SIGNATURE, "(<+>)", None),
    ("change the return type of Render.render", C.CHANGE_SIGNATURE, "Render.render", None),
    ("change render's type signature", C.CHANGE_SIGNATURE, "render", None),
    ("add a constraint to render", C.CHANGE_SIGNATURE, "render", None),
    # classes
    ("add a method to Pretty", C.ADD_METHOD, "Pretty", None),
    ("What breaks if I add a method prettyList to the class Pretty?", C.ADD_METHOD, "Pretty",
     "prettyList"),
    ("add prettyList to the type class Pretty", C.ADD_METHOD, "Pretty", "prettyList"),
    ("add a superclass to Pretty", C.ADD_SUPERCLASS, "Pretty", None),
    ("add Show as a superclass of Pretty", C.ADD_SUPERCLASS, "Pretty", "Show"),
    ("add a superclass Show to Pretty", C.ADD_SUPERCLASS, "Pretty", "Show"),
    ("add a constraint to the class Pretty", C.ADD_SUPERCLASS, "Pretty", None),
    # type families and synonyms
    ("change the type family Elem", C.CHANGE_TYPE_FAMILY, "Elem", None),
    ("What breaks if I change the Elem type family?", C.CHANGE_TYPE_FAMILY, "Elem", None),
    ("add a type instance to Elem", C.CHANGE_TYPE_FAMILY, "Elem", None),
    ("change the type synonym Name", C.CHANGE_TYPE_SYNONYM, "Name", None),
    ("what if the type alias `Name` changes", C.CHANGE_TYPE_SYNONYM, "Name", None),
    # exports
    ("stop exporting describe", C.REMOVE_EXPORT, "describe", None),
    ("What breaks if I no longer export describe from Types?", C.REMOVE_EXPORT,
     "describe", None),
    ("remove describe from the export list of Types", C.REMOVE_EXPORT, "describe", None),
    ("remove describe from the exports", C.REMOVE_EXPORT, "describe", None),
    ("unexport Types.describe", C.REMOVE_EXPORT, "Types.describe", None),
    ("what if describe is no longer exported", C.REMOVE_EXPORT, "describe", None),
    # unknown phrasing: the most likely symbol, generic change
    ("What happens to describe?", C.CHANGE, "describe", None),
    ("what about `LLMKind`", C.CHANGE, "LLMKind", None),
    ("mess with renderTable somehow", C.CHANGE, "renderTable", None),
])
def test_natural_language(text: str, change: ChangeKind, target: str,
                          subject: str | None) -> None:
    q = parse_question(text)
    assert (q.change, q.target, q.subject) == (change, target, subject)
    assert q.tags == default_tags(change, target)
    assert q.budget == 20
    assert q.text == " ".join(text.split())


def test_default_tags_per_change_kind() -> None:
    assert DEFAULT_TAGS[C.ADD_CONSTRUCTOR] == (EXH, PM)
    assert DEFAULT_TAGS[C.REMOVE_CONSTRUCTOR] == DEFAULT_TAGS[C.RENAME_CONSTRUCTOR] == (PM, DT)
    for kind in (C.ADD_FIELD, C.REMOVE_FIELD, C.RENAME_FIELD, C.CHANGE_FIELD_TYPE):
        assert DEFAULT_TAGS[kind] == (DT,)
    assert DEFAULT_TAGS[C.CHANGE_SIGNATURE] == DEFAULT_TAGS[C.CHANGE_ARITY] == (FN,)
    assert DEFAULT_TAGS[C.ADD_METHOD] == DEFAULT_TAGS[C.ADD_SUPERCLASS] == (CON,)
    assert DEFAULT_TAGS[C.CHANGE_TYPE_FAMILY] == (TF,)
    assert DEFAULT_TAGS[C.CHANGE_TYPE_SYNONYM] == (TA,)
    assert DEFAULT_TAGS[C.REMOVE_EXPORT] == (MOD,)
    assert set(DEFAULT_TAGS) | {C.CHANGE} == set(ChangeKind)
    assert default_tags(C.CHANGE, "Types.LLMKind") == (DT,)
    assert default_tags(C.CHANGE, "render") == (FN,)


# --- tags ------------------------------------------------------------------------------------
def test_parse_tags_any_case_and_comma_strings() -> None:
    assert parse_tags("exhaustive, patternmatch") == (EXH, PM)
    assert parse_tags("Exhaustive,PatternMatch") == (EXH, PM)
    assert parse_tags(["EXHAUSTIVE", "pattern match", "type_family", "Type-Alias"]) == (
        EXH, PM, TF, TA)
    assert parse_tags(["exhaustive, module", "Module"]) == (EXH, MOD)
    assert parse_tags("exhaustive patternmatch") == (EXH, PM)
    assert parse_tags([Tag.FUNCTION]) == (FN,)
    assert parse_tags("") == ()


def test_bad_tag_names_the_valid_ones() -> None:
    with pytest.raises(QuestionError, match=r"unknown tag 'Exhaustiv'.*Exhaustive, "
                                            r"PatternMatch, TypeFamily"):
        parse_tags("Exhaustiv")
    with pytest.raises(QuestionError, match="not a string"):
        parse_tags([3])  # type: ignore[list-item]
    with pytest.raises(QuestionError, match="tags must be a string or a list"):
        parse_tags(3)  # type: ignore[arg-type]


def test_explicit_tags_replace_defaults_and_plus_extends() -> None:
    text = "What breaks if I add a variant to LLMKind?"
    assert parse_question(text, tags="exhaustive").tags == (EXH,)
    assert parse_question(text, tags="+module").tags == (EXH, PM, MOD)
    assert parse_question(text, tags="function, +module").tags == (FN, MOD)
    assert parse_question(text, tags="").tags == (EXH, PM)
    assert parse_question(text + " tags: Module").tags == (MOD,)
    assert parse_question(text + " [tags: +Module]").tags == (EXH, PM, MOD)


def test_text_directives_are_stripped() -> None:
    q = parse_question("What breaks if I add a variant to LLMKind? budget: high; tags: "
                       "Exhaustive")
    assert (q.text, q.budget, q.tags) == ("What breaks if I add a variant to LLMKind?", 100,
                                          (EXH,))
    q = parse_question("remove the Opus constructor, budget=7")
    assert (q.text, q.budget) == ("remove the Opus constructor", 7)
    # flags given to parse_question win over directives in the text
    assert parse_question("change `render` budget: high", budget="low").budget == 10


def test_directives_without_a_question() -> None:
    with pytest.raises(QuestionError, match="question text is missing"):
        parse_question("tags: exhaustive")


# --- budget ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    (None, 20), ("low", 10), ("Medium", 20), (" HIGH ", 100), (7, 7), ("250", 250), (1, 1)])
def test_budget(value, expected: int) -> None:
    assert parse_budget(value) == expected
    assert parse_question("change `render`", budget=value).budget == expected


@pytest.mark.parametrize("value", [0, -3, "huge", "", "1.5", 2.0, True, "-4"])
def test_bad_budget(value) -> None:
    with pytest.raises(QuestionError, match="budget must be"):
        parse_budget(value)


# --- change kinds -------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    ("add_constructor", C.ADD_CONSTRUCTOR), ("ADD_CONSTRUCTOR", C.ADD_CONSTRUCTOR),
    ("add constructor", C.ADD_CONSTRUCTOR), ("add-variant", C.ADD_CONSTRUCTOR),
    ("Remove Constructor", C.REMOVE_CONSTRUCTOR), ("rename_constructor", C.RENAME_CONSTRUCTOR),
    ("add field", C.ADD_FIELD), ("drop field", C.REMOVE_FIELD), ("rename field", C.RENAME_FIELD),
    ("field type", C.CHANGE_FIELD_TYPE), ("signature", C.CHANGE_SIGNATURE),
    ("change type", C.CHANGE_SIGNATURE), ("add argument", C.CHANGE_ARITY),
    ("arity", C.CHANGE_ARITY), ("add method", C.ADD_METHOD), ("superclass", C.ADD_SUPERCLASS),
    ("type family", C.CHANGE_TYPE_FAMILY), ("type alias", C.CHANGE_TYPE_SYNONYM),
    ("type_synonym", C.CHANGE_TYPE_SYNONYM), ("unexport", C.REMOVE_EXPORT),
    ("stop exporting", C.REMOVE_EXPORT), ("change", C.CHANGE), ("generic", C.CHANGE),
    (C.ADD_METHOD, C.ADD_METHOD),
])
def test_parse_change(value, expected: ChangeKind) -> None:
    assert parse_change(value) == expected


def test_bad_change_lists_the_kinds() -> None:
    with pytest.raises(QuestionError, match="unknown change 'explode'.*add_constructor"):
        parse_change("explode")


# --- structured form ------------------------------------------------------------------------------
def test_structured_question() -> None:
    q = parse_question({"target": "LLMKind", "change": "add_constructor"})
    assert q == Question("What breaks if I add a constructor to `LLMKind`?", "LLMKind",
                         C.ADD_CONSTRUCTOR, (EXH, PM), 20, None)
    q = parse_question({"target": "Config", "change": "rename field", "subject": "name",
                        "tags": "datatype, +module", "budget": "high"})
    # the renamed field is what changes; its type is context the resolver uses
    assert (q.change, q.target, q.subject, q.tags, q.budget) == (
        C.RENAME_FIELD, "name", "name", (DT, MOD), 100)
    assert q.text == "What breaks if I rename the field `name` in `Config`?"
    assert q.reading is not None and q.reading.context == ("Config",)


def test_structured_target_only_is_a_generic_change() -> None:
    q = parse_question({"target": "Types.describe"})
    assert (q.change, q.target, q.tags) == (C.CHANGE, "Types.describe", (FN,))


def test_structured_query_object_from_a_training_example() -> None:
    q = parse_question({"query": "What breaks if I add a variant to LLMKind?",
                        "tags": ["Exhaustive", "PatternMatch"]})
    assert (q.change, q.target, q.tags, q.text) == (
        C.ADD_CONSTRUCTOR, "LLMKind", (EXH, PM), "What breaks if I add a variant to LLMKind?")


def test_structured_keys_override_the_text() -> None:
    q = parse_question({"query": "What breaks if I add a variant to LLMKind?",
                        "change": "remove_constructor", "subject": "Opus"})
    assert (q.change, q.target, q.subject, q.tags) == (C.REMOVE_CONSTRUCTOR, "Opus", "Opus",
                                                       (PM, DT))
    assert q.reading is not None and q.reading.context == ("LLMKind",)
    q = parse_question({"text": "something about LLMKind", "target": "Config",
                        "change": "add_field"})
    assert (q.change, q.target, q.text) == (C.ADD_FIELD, "Config", "something about LLMKind")


def test_keyword_budget_wins_over_the_mapping() -> None:
    assert parse_question({"target": "x", "budget": "high"}, budget=5).budget == 5


@pytest.mark.parametrize(("q", "message"), [
    ({}, "needs a \"target\""),
    ({"change": "add_constructor"}, "needs a \"target\""),
    ({"taget": "LLMKind"}, "unknown question key.*'taget'.*accepted keys are target"),
    ({"target": "not a name"}, "is not a Haskell name"),
    ({"target": 3}, "is not a Haskell name"),
    ({"target": "LLMKind", "change": "explode"}, "unknown change"),
    ({"target": "LLMKind", "tags": "nope"}, "unknown tag"),
    ({"target": "LLMKind", "budget": 0}, "budget must be"),
    ({"target": "LLMKind", "subject": "a b"}, "subject 'a b' is not a Haskell name"),
    ({"query": 3}, "query must be a string"),
])
def test_structured_errors(q, message: str) -> None:
    with pytest.raises(QuestionError, match=message):
        parse_question(q)


# --- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_question(text: str) -> None:
    with pytest.raises(QuestionError, match="empty question: ask e.g."):
        parse_question(text)


@pytest.mark.parametrize("text", ["what breaks?", "What would break if I change the type?",
                                  "what happens if I add a constructor"])
def test_no_identifiable_symbol(text: str) -> None:
    with pytest.raises(QuestionError, match="no symbol found.*name the type"):
        parse_question(text)


def test_not_a_question() -> None:
    with pytest.raises(QuestionError, match="text or a mapping"):
        parse_question(42)  # type: ignore[arg-type]


# --- candidates and refinement -------------------------------------------------------------------
def test_candidate_symbols_are_ranked() -> None:
    assert candidate_symbols("What breaks if I add a variant to LLMKind?") == ["LLMKind"]
    assert candidate_symbols("does cost in `Config` change when Types.LLMKind and render_x "
                             "move?") == ["Config", "Types.LLMKind", "render_x", "cost", "move"]
    assert candidate_symbols("What if Show gets a method") == ["Show"]
    assert candidate_symbols("what breaks?") == []
    assert candidate_symbols("change (<+>) or (:|)") == ["(<+>)", "(:|)"]


@pytest.mark.parametrize(("text", "kind", "change", "tags"), [
    ("change the type of cost", "field", C.CHANGE_FIELD_TYPE, (DT,)),
    ("change the type of cost", "function", C.CHANGE_SIGNATURE, (FN,)),
    ("remove the field name", "constructor", C.REMOVE_CONSTRUCTOR, (PM, DT)),
    ("rename Opus", "field", C.RENAME_FIELD, (DT,)),
    ("remove describe", "function", C.CHANGE, (FN,)),
    ("rename LLMKind", "data", C.CHANGE, (DT,)),
    ("What happens to Elem?", "type_family", C.CHANGE_TYPE_FAMILY, (TF,)),
    ("What happens to Name?", "type_synonym", C.CHANGE_TYPE_SYNONYM, (TA,)),
    ("What happens to Pretty?", "class", C.CHANGE, (CON,)),
    ("What happens to Types?", "module", C.CHANGE, (MOD,)),
    ("remove Opus from LLMKind", "constructor", C.REMOVE_CONSTRUCTOR, (PM, DT)),
])
def test_refine_for_target(text: str, kind: str, change: ChangeKind,
                           tags: tuple[Tag, ...]) -> None:
    refined = refine_for_target(parse_question(text), kind)
    assert (refined.change, refined.tags) == (change, tags)


def test_refine_keeps_explicit_tags() -> None:
    q = parse_question("change the type of cost", tags="Module")
    assert refine_for_target(q, "field") == Question(q.text, "cost", C.CHANGE_FIELD_TYPE,
                                                     (MOD,), 20, None)
    same = parse_question("add a variant to LLMKind")
    assert refine_for_target(same, "data") is same


# --- round trip -------------------------------------------------------------------------------
_TYPE_NAMES = st.from_regex(r"(?:[A-Z][a-z]{1,6}\.){0,2}[A-Z][a-z]{1,6}[A-Z0-9][a-z0-9]{0,4}",
                            fullmatch=True)
_TERM_NAMES = st.from_regex(r"(?:[A-Z][a-z]{1,6}\.)?[a-z]{2,6}[A-Z_][a-z0-9]{1,5}'?",
                            fullmatch=True)
_NEEDS_SUBJECT_CASE = {C.REMOVE_CONSTRUCTOR, C.RENAME_CONSTRUCTOR}


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.sampled_from(list(ChangeKind)), _TYPE_NAMES, _TERM_NAMES, st.booleans())
def test_round_trip_through_question_text(change: ChangeKind, type_name: str, term: str,
                                          with_subject: bool) -> None:
    function_like = change in (C.CHANGE_SIGNATURE, C.CHANGE_ARITY, C.REMOVE_EXPORT,
                               C.REMOVE_FIELD, C.RENAME_FIELD, C.CHANGE_FIELD_TYPE)
    target = term if function_like else type_name
    subject = None
    if with_subject and change in (C.ADD_CONSTRUCTOR, C.REMOVE_CONSTRUCTOR,
                                   C.RENAME_CONSTRUCTOR, C.ADD_SUPERCLASS):
        subject = type_name.rsplit(".", 1)[-1] + "X"
    elif with_subject and change in (C.ADD_FIELD, C.REMOVE_FIELD, C.RENAME_FIELD,
                                     C.CHANGE_FIELD_TYPE, C.ADD_METHOD):
        subject = term.rsplit(".", 1)[-1]
    q = parse_question({"target": target, "change": change.value,
                        **({"subject": subject} if subject else {})})
    member_edit = change in (C.REMOVE_CONSTRUCTOR, C.RENAME_CONSTRUCTOR, C.REMOVE_FIELD,
                             C.RENAME_FIELD, C.CHANGE_FIELD_TYPE)
    # a removed, renamed or retyped member is the target; its type is context
    assert q.target == (subject if member_edit and subject else target)
    again = parse_question(q.text)
    assert (again.change, again.target) == (change, q.target), q.text
    if change is not C.CHANGE:
        expected = subject if subject else (target if member_edit else None)
        assert again.subject == expected, q.text
    assert again.tags == q.tags


def test_question_text_reads_naturally() -> None:
    assert question_text(C.CHANGE_ARITY, "render") == (
        "What breaks if `render` takes one more argument?")
    assert question_text(C.REMOVE_CONSTRUCTOR, "LLMKind", "Opus") == (
        "What breaks if I remove the constructor `Opus` from `LLMKind`?")


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.text(max_size=80) | st.lists(st.sampled_from(
    ["add", "remove", "a", "the", "constructor", "field", "to", "from", "in", "of", "type",
     "family", "`X`", "Config", "cost", "takes", "more", "argument", "stop", "exporting",
     "tags:", "budget:", "high", "exhaustive", "'", "`", ",", "Types.Kind", "(<+>)"]),
    max_size=12).map(" ".join))
def test_any_text_gives_a_question_or_a_clear_error(text: str) -> None:
    try:
        q = parse_question(text)
    except QuestionError as err:
        assert str(err)
        return
    assert q.target and " " not in q.target
    bare = q.target[q.target.index("(") + 1:-1] if q.target.endswith(")") else q.target
    assert all(part in q.text for part in bare.split("."))  # nothing invented
    assert q.tags and q.budget > 0


# --- the reading of an added method (Question.variant) -----------------------------------------
@pytest.mark.parametrize(("text", "variant"), [
    ("What breaks if I add a method without a default implementation to Pretty?", "required"),
    ("add a method to Pretty without a default", "required"),
    ("add a method with no default to Pretty", "required"),
    ("what if Pretty gets a required method", "required"),
    ("What breaks if I add a method with a default implementation to Pretty?", "default"),
    ("add a method to Pretty with default", "default"),
    ("add an optional method to Pretty", "default"),
    ("add a method to Pretty", None),  # not said: read as required by the engine and oracle
])
def test_the_text_states_the_reading_of_an_added_method(text: str, variant: str | None) -> None:
    q = parse_question(text)
    assert (q.change, q.target, q.variant) == (C.ADD_METHOD, "Pretty", variant)
    assert q.reading is not None and q.reading.variant == variant
    assert q.reading.as_dict()["variant"] == variant  # logged with the reading


def test_variant_only_belongs_to_adding_a_method() -> None:
    assert parse_question("rename the field name in Config with a default value").variant is None


def test_structured_variant_is_carried_and_checked() -> None:
    q = parse_question({"target": "Pretty", "change": "add_method", "variant": "default"})
    assert (q.change, q.variant) == (C.ADD_METHOD, "default")
    assert q.text == "What breaks if I add a method with a default implementation to `Pretty`?"
    assert parse_question(q.text).variant == "default"  # the generated text reads back
    q = parse_question({"query": "add a method without a default to Pretty"})
    assert q.variant == "required"
    with pytest.raises(QuestionError, match="variant"):
        parse_question({"target": "Pretty", "change": "add_method", "variant": "sometimes"})
    with pytest.raises(QuestionError, match="variant"):
        parse_question({"target": "LLMKind", "change": "add_constructor", "variant": "default"})
