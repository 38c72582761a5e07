"""One rule for a name with several definitions, everywhere: a definition named by the
question's context wins; otherwise the answer is an ambiguity listing the candidates, in the
library, the engine, the CLI (text and JSON) and the language server's answer shape."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from suite import WORKSPACES

from scout.explore.engine import explore
from scout.explore.model import ChangeKind, Question
from scout.explore.question import interpret, parse_question
from scout.explore.resolve import AmbiguousTarget, candidates, resolve_name

SHOP = WORKSPACES["shop"]

# (workspace, question, expected candidates "qualified kind")
AMBIGUOUS = [
    ("shop", "what breaks if I change Total",
     {"type Shop.Reports.Total type_family", "data Shop.Reports.Total constructor"}),
    ("shop", "what if render took an extra argument",
     {"Shop.Reports.render function", "Shop.Invoice.render function"}),
    ("shop", "stop exporting Total",
     {"type Shop.Reports.Total type_family", "data Shop.Reports.Total constructor"}),
    ("megaparsec", "what happens if Tokens changes",
     {"Text.Megaparsec.Stream.Tokens type_family", "Text.Megaparsec.Error.Tokens constructor"}),
    ("xmonad", "change the type of borderWidth",
     {"XMonad.Core.borderWidth field", "XMonad.Config.borderWidth function"}),
    ("megaparsec", "what if space took one more argument",
     {"Text.Megaparsec.Char.space function", "Text.Megaparsec.Byte.space function",
      "Text.Megaparsec.Lexer.space function"}),
]

# The same names, told apart by the question's context.
RESOLVED = [
    ("shop", "remove the Total constructor", "Shop.Reports.Total", "constructor",
     ChangeKind.REMOVE_CONSTRUCTOR),
    ("shop", "change the Total type family", "Shop.Reports.Total", "type_family",
     ChangeKind.CHANGE_TYPE_FAMILY),
    ("shop", "what if render in Shop.Invoice took an extra argument", "Shop.Invoice.render",
     "function", ChangeKind.CHANGE_ARITY),
    ("shop", "render :: Report -> Text", "Shop.Reports.render", "function",
     ChangeKind.CHANGE_SIGNATURE),
    ("xmonad", "rename borderWidth in XConfig to frameWidth", "XMonad.Core.borderWidth", "field",
     ChangeKind.RENAME_FIELD),
    ("megaparsec", "remove the Tokens constructor from ErrorItem", "Text.Megaparsec.Error.Tokens",
     "constructor", ChangeKind.REMOVE_CONSTRUCTOR),
    ("megaparsec", "what if space in Text.Megaparsec.Byte took one more argument",
     "Text.Megaparsec.Byte.space", "function", ChangeKind.CHANGE_ARITY),
    ("megaparsec", "decimal in the Char lexer should return Integer",
     "Text.Megaparsec.Char.Lexer.decimal", "function", ChangeKind.CHANGE_SIGNATURE),
]


def _listed(answer) -> set[str]:
    return {f"{c['qualified']} {c['kind']}" for c in answer.error_json()["candidates"]}


@pytest.mark.parametrize(("ws", "text", "expected"), AMBIGUOUS)
def test_ambiguity_is_reported_with_candidates(workspace_index, ws, text, expected) -> None:
    index = workspace_index(ws)
    answer = interpret(index, text)
    assert answer.status == "ambiguous", answer
    assert _listed(answer) == expected
    for c in answer.error_json()["candidates"]:
        assert {"qualified", "kind", "path", "line", "location", "module", "name"} <= set(c)
        assert (index.root / c["path"]).is_file() and c["line"] >= 1
    with pytest.raises(AmbiguousTarget):  # the same answer from the raising API
        parse_question(text, index=index)


@pytest.mark.parametrize(("ws", "text", "expected"), AMBIGUOUS)
def test_every_candidate_can_be_asked_for_by_its_qualified_name(workspace_index, ws, text,
                                                                 expected) -> None:
    index = workspace_index(ws)
    answer = interpret(index, text)
    for c in answer.error_json()["candidates"]:
        chosen = interpret(index, {"target": c["qualified"]})
        assert chosen.status == "ok", (c, chosen)
        assert chosen.definition is not None
        assert (chosen.definition.module, chosen.definition.kind.value,
                chosen.definition.path) == (c["module"], c["kind"], c["path"])


@pytest.mark.parametrize(("ws", "text", "target", "kind", "change"), RESOLVED)
def test_context_names_the_definition(workspace_index, ws, text, target, kind, change) -> None:
    answer = interpret(workspace_index(ws), text)
    assert answer.status == "ok", answer.message
    d = answer.definition
    assert d is not None and answer.question is not None
    assert (f"{d.module}.{d.name}", d.kind.value, answer.question.change) == (target, kind, change)


def test_structured_targets_follow_the_same_rule(workspace_index) -> None:
    index = workspace_index("shop")
    assert interpret(index, {"target": "Total"}).status == "ambiguous"
    assert interpret(index, {"target": "render", "change": "change_arity"}).status == "ambiguous"
    ok = interpret(index, {"target": "Total", "change": "remove_constructor"})
    assert ok.status == "ok" and ok.definition is not None
    assert ok.definition.kind.value == "constructor"
    assert interpret(index, {"target": "Shop.Invoice.render"}).status == "ok"


def test_the_engine_and_the_resolver_agree(workspace_index) -> None:
    index = workspace_index("shop")
    with pytest.raises(AmbiguousTarget) as err:
        explore(index, Question("what about render?", "render", ChangeKind.CHANGE_ARITY, ()))
    assert {d.module for d in err.value.candidates} == {"Shop.Reports", "Shop.Invoice"}
    assert len(candidates(index, "Total")) == 2
    assert resolve_name(index, "Total", ChangeKind.CHANGE_TYPE_FAMILY).kind.value == "type_family"
    assert resolve_name(index, "render", ChangeKind.CHANGE_ARITY,
                        context=("Shop.Invoice",)).module == "Shop.Invoice"


def test_language_server_answer_shape(workspace_index) -> None:
    index = workspace_index("shop")
    answer = interpret(index, "what breaks if I change Total").to_protocol(root=index.root)
    assert answer["status"] == "ambiguous" and answer["name"] == "Total" and answer["message"]
    for c in answer["candidates"]:
        path = index.root / c["path"]
        assert c["uri"] == path.resolve().as_uri()
        line = path.read_text().splitlines()[c["line"]]  # 0-based, as LSP positions are
        assert "Total" in line
    missing = interpret(index, "add a variant to Priorty").to_protocol(root=index.root)
    assert missing["status"] == "not_understood"
    assert missing["suggestion"]["target"] == "Priority"
    assert missing["suggestion"]["change"] == "add_constructor"
    assert missing["understood"]["change"] == "add_constructor"
    ok = interpret(index, "add a variant to Priority").to_protocol(root=index.root)
    assert ok["status"] == "ok" and ok["target"]["qualified"] == "Shop.Types.Priority"


def scout(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scout.cli", *args], capture_output=True,
                          text=True, timeout=120)


def test_cli_text_lists_the_candidates_and_exits_2() -> None:
    proc = scout("query", "what breaks if I change Total", "--root", str(SHOP), "--no-cache",
                 "--scorer", "heuristic", "--no-log")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "ambiguous" in proc.stderr
    assert "type Shop.Reports.Total" in proc.stderr and "type_family" in proc.stderr
    assert "data Shop.Reports.Total" in proc.stderr and "src/Shop/Reports.hs:22" in proc.stderr
    assert (SHOP / "src/Shop/Reports.hs").read_text().splitlines()[21].startswith(
        "data Row = Line String Money | Total Money")


def test_cli_json_is_one_error_object_and_exits_2(workspace_index) -> None:
    proc = scout("query", "what if render took an extra argument", "--root", str(SHOP),
                 "--no-cache", "--scorer", "heuristic", "--no-log", "--json")
    assert proc.returncode == 2
    error = json.loads(proc.stdout)["error"]  # exactly one object: json.loads would fail else
    assert error["kind"] == "ambiguous" and error["message"]
    index = workspace_index("shop")
    assert {(c["qualified"], c["kind"], c["path"], c["line"]) for c in error["candidates"]} == {
        (f"{d.module}.render", "function", d.path, d.name_span.start_line)
        for d in index.definitions("render")}
    assert {c["path"] for c in error["candidates"]} == {"src/Shop/Reports.hs",
                                                      "src/Shop/Invoice.hs"}
    # re-asking with a candidate's qualified name answers
    proc = scout("query", "--target", error["candidates"][0]["qualified"], "--change",
                 "change_arity", "--root", str(SHOP), "--no-cache", "--scorer", "heuristic",
                 "--no-log", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["query"]["target"] == error["candidates"][0]["qualified"]


def test_cli_json_not_understood_has_the_closest_reading() -> None:
    proc = scout("query", "add ctor Gemini to Priorty", "--root", str(SHOP), "--no-cache",
                 "--scorer", "heuristic", "--no-log", "--json")
    assert proc.returncode == 2
    error = json.loads(proc.stdout)["error"]
    assert error["kind"] == "not_understood"
    assert error["understood"]["change"] == "add_constructor"
    assert "Priorty" in error["understood"]["unknown"]
    assert error["suggestion"] == {"target": "Priority", "change": "add_constructor",
                                   "flags": "--target Priority --change add_constructor"}
    assert "Did you mean: --target Priority --change add_constructor?" in error["message"]
