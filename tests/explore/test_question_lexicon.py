"""Reading questions against the workspace's lexicon: what can be a target, what is context,
how Haskell written in the question is read, and what is recorded about the reading.

The workspace is tests/questions/workspaces/shop (written for these tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scout.explore.model import ChangeKind, Tag
from scout.explore.question import (
    Lexicon,
    NotUnderstood,
    QuestionError,
    interpret,
    parse_question,
)
from scout.haskell.index import WorkspaceIndex

C = ChangeKind
SHOP = Path(__file__).resolve().parents[1] / "questions" / "workspaces" / "shop"


@pytest.fixture(scope="module")
def shop() -> WorkspaceIndex:
    return WorkspaceIndex.build(SHOP, use_cache=False)


def read(index: WorkspaceIndex, text: str):
    answer = interpret(index, text)
    assert answer.status == "ok", answer.message
    assert answer.question is not None and answer.definition is not None
    return answer.question, answer.definition


@pytest.mark.parametrize(("text", "change", "target"), [
    # English words, contractions and the question's frame are never targets
    ("I'm reworking schedule, anything break?", C.CHANGE, "Shop.Jobs.schedule"),
    ("What'd happen if we changed jobLabel?", C.CHANGE, "Shop.Jobs.jobLabel"),
    # names from base are context: the workspace's class is the target
    ("make Ord a superclass of HasSku", C.ADD_SUPERCLASS, "Shop.Pricing.HasSku"),
    ("make inStock take a [Text] instead of a Sku", C.CHANGE_SIGNATURE, "Shop.Inventory.inStock"),
    # module names are context
    ("stop exporting lineTotal from Shop.Types", C.REMOVE_EXPORT, "Shop.Types.lineTotal"),
    ("keep restock private to Shop.Inventory", C.REMOVE_EXPORT, "Shop.Inventory.restock"),
    ("add something to Settings in the Jobs module", C.ADD_FIELD, "Shop.Jobs.Settings"),
    ("what if the Inventory module stopped exporting reserve", C.REMOVE_EXPORT,
     "Shop.Inventory.reserve"),
    ("add a field to Inventory", C.ADD_FIELD, "Shop.Inventory.Inventory"),
    # an added member goes into its container, though the new name is not defined
    ("add ctor Toys to Category", C.ADD_CONSTRUCTOR, "Shop.Types.Category"),
    ("add a `giftWrap :: Bool` field to OrderLine", C.ADD_FIELD, "Shop.Types.OrderLine"),
    ("give Backend a `flush :: Handle b -> IO ()`", C.ADD_METHOD, "Shop.Store.Backend"),
    # a removed/renamed member is the target; its type is context
    ("remove the Games constructor from Category", C.REMOVE_CONSTRUCTOR, "Shop.Types.Games"),
    ("rename Normal to Medium in Priority", C.RENAME_CONSTRUCTOR, "Shop.Types.Normal"),
    # the target's kind decides between compatible readings
    ("change the type of quantity", C.CHANGE_FIELD_TYPE, "Shop.Types.quantity"),
    ("change the type of lineTotal", C.CHANGE_SIGNATURE, "Shop.Types.lineTotal"),
    ("change the type of Money", C.CHANGE_TYPE_SYNONYM, "Shop.Types.Money"),
    ("change the type of Order", C.CHANGE, "Shop.Types.Order"),
    ("what if something else gets added to Priority", C.ADD_CONSTRUCTOR, "Shop.Types.Priority"),
    ("what if something else gets added to Settings", C.ADD_FIELD, "Shop.Jobs.Settings"),
    # a type named in prose, in lower case
    ("what if the warehouse enum gets a West member", C.ADD_CONSTRUCTOR,
     "Shop.Inventory.Warehouse"),
    # an English word the workspace defines, where a name goes
    ("what if add took a quantity as well", C.CHANGE_ARITY, "Shop.Cart.add"),
    ("change the arity of remove", C.CHANGE_ARITY, "Shop.Cart.remove"),
])
def test_reading(shop, text, change, target) -> None:
    q, d = read(shop, text)
    assert (q.change, f"{d.module}.{d.name}") == (change, target), q.reading


def test_haskell_in_the_question_is_the_new_type_or_member(shop) -> None:
    q, _ = read(shop, "add a `giftWrap :: Bool` field to OrderLine")
    assert q.subject == "giftWrap" and q.reading is not None
    assert (q.reading.new_name, q.reading.new_type) == ("giftWrap", "Bool")
    q, _ = read(shop, "dueDate :: Invoice -> Maybe Day")
    assert q.change is C.CHANGE_SIGNATURE and q.reading.new_type == "Invoice -> Maybe Day"
    q, _ = read(shop, "make inStock take a [Text] instead of a Sku")
    assert q.reading.new_type == "[Text]"
    q, _ = read(shop, "`data Priority = Low | Normal | High | Urgent | Blocker`")
    assert q.change is C.ADD_CONSTRUCTOR and q.target == "Priority"


def test_the_reading_is_recorded(shop) -> None:
    q, _ = read(shop, "  add ctor Toys to   Category? ")
    r = q.reading
    assert r is not None
    assert r.asked == "  add ctor Toys to   Category? " and q.text == "add ctor Toys to Category?"
    assert r.method == "text+lexicon"
    assert (r.kind, r.module, r.new_name) == ("data", "Shop.Types", "Toys")
    assert "ctor" in r.how and "data" in r.how and "add_constructor" in r.how
    assert r.lexicon == ("Toys: not defined", "Shop.Types.Category: data")
    assert q.tags == (Tag.EXHAUSTIVE, Tag.PATTERN_MATCH)


def test_generic_change_tags_follow_the_target_kind(shop) -> None:
    q, _ = read(shop, "I plan to modify Taxable")
    assert (q.change, q.tags) == (C.CHANGE, (Tag.CONSTRAINT,))
    q, _ = read(shop, "what about the Rounded family")
    assert (q.change, q.tags) == (C.CHANGE_TYPE_FAMILY, (Tag.TYPE_FAMILY,))


def test_not_understood_says_what_was_understood_and_suggests(shop) -> None:
    # the constructor is known: the misspelt type is only context
    q = parse_question("remove the Garden constructor from Categry", index=shop)
    assert (q.change, q.target) == (C.REMOVE_CONSTRUCTOR, "Garden")
    with pytest.raises(NotUnderstood) as err:
        parse_question("rename the Gardn constructor", index=shop)
    assert err.value.understood["change"] == "rename_constructor"
    assert err.value.understood["unknown"] == ["Gardn"]
    assert err.value.suggestion == {"target": "Garden", "change": "rename_constructor",
                                    "flags": "--target Garden --change rename_constructor"}
    with pytest.raises(NotUnderstood) as err:
        parse_question("what breaks if I add a field", index=shop)
    assert err.value.understood["change"] == "add_field" and err.value.suggestion is None
    assert "understood the change as add_field" in str(err.value)
    assert "--change add_field" in str(err.value)
    with pytest.raises(QuestionError):
        parse_question("   ", index=shop)


def test_without_a_workspace_names_are_read_by_their_shape() -> None:
    q = parse_question("add ctor Gemini to Vendor")
    assert (q.change, q.target, q.subject) == (C.ADD_CONSTRUCTOR, "Vendor", "Gemini")
    assert q.reading is not None and q.reading.method == "text" and q.reading.kind is None
    assert Lexicon().guessing and not Lexicon().senses("Vendor")[0].definition


def test_a_lexicon_can_be_reused(shop) -> None:
    lexicon = Lexicon(shop)
    first = parse_question("add a variant to Priority", index=lexicon)
    again = parse_question("add a variant to Priority", index=shop)
    assert (first.change, first.target) == (again.change, again.target)
    assert lexicon.module("Shop.Types") == "Shop.Types"
    assert lexicon.module("Types") == "Shop.Types"  # a unique last component
    assert lexicon.module("Core") is None
