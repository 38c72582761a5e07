"""End to end over stdio: the real server, VS Code's capabilities, spec checks on.

One server for the module (as esbonio's tests do): tests read its state in a fixed order where
they must (an answer, then lenses, then an edit)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient
from tests.lsp.conftest import (
    ScoutClient,
    config,
    copy_example,
    initialize_params,
    open_document,
    scratch_env,
    wait_indexed,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")
BASE, ENV = scratch_env("e2e")
ROOT = copy_example(BASE)
TYPES = "src/LLM/Types.hs"
PRICING = "src/LLM/Pricing.hs"


@pytest_lsp.fixture(config=config(ENV), scope="module")
async def client(lsp_client: LanguageClient):
    lsp_client.init_result = await lsp_client.initialize_session(initialize_params(ROOT))
    await wait_indexed(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def command(client: LanguageClient, name: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=name, arguments=list(arguments) if arguments else None))


async def actions_at(client: LanguageClient, uri: str, line: int, character: int
                     ) -> list[types.CodeAction]:
    position = types.Position(line=line, character=character)
    found = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=position, end=position),
        context=types.CodeActionContext(diagnostics=[])))
    return list(found or [])


async def lenses(client: LanguageClient, uri: str) -> list[types.CodeLens]:
    return list(await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri))) or [])


def line_of(rel: str, needle: str) -> int:
    """0-based line of the first line containing ``needle`` in the workspace copy."""
    for i, line in enumerate((ROOT / rel).read_text().splitlines()):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {rel}")


async def test_capabilities_offer_only_what_does_not_compete_with_hls(client: ScoutClient
                                                                      ) -> None:
    caps = client.init_result.capabilities
    assert list(caps.code_action_provider.code_action_kinds) == ["refactor.scout"]
    assert caps.code_lens_provider is not None
    assert set(caps.execute_command_provider.commands) >= {
        "scout.ask", "scout.scoutAt", "scout.showResults", "scout.clearResults",
        "scout.selectScorer", "scout.toggleShadow", "scout.export", "scout.agreement",
        "scout.indexStatus", "scout.status"}
    for competing in ("hover_provider", "completion_provider", "diagnostic_provider",
                      "document_formatting_provider", "definition_provider",
                      "references_provider", "rename_provider"):
        assert getattr(caps, competing) in (None, False), competing


async def test_indexing_reported_progress(client: ScoutClient) -> None:
    kinds = [type(v).__name__ for reports in client.progress_reports.values() for v in reports]
    assert "WorkDoneProgressBegin" in kinds and "WorkDoneProgressEnd" in kinds


@pytest.mark.parametrize(("rel", "needle", "offset", "expected"), [
    (TYPES, "data LLMKind = Sonnet", 6, ["I add a constructor to LLMKind"]),
    (TYPES, "data LLMKind = Sonnet", 25, ["I remove the constructor Opus",
                                           "I rename the constructor Opus",
                                           "I add a field to Opus"]),
    (TYPES, "newtype Tokens = Tokens", 28, ["I remove the field getTokens",
                                             "I rename the field getTokens",
                                             "I change the type of the field getTokens"]),
    (TYPES, "modelName :: LLMKind", 2, ["I change the type of modelName",
                                        "modelName takes one more argument"]),
    (PRICING, "class Show a => Priced a where", 17, ["I add a method to Priced",
                                                     "I add a superclass to Priced"]),
    (PRICING, "  inputPrice :: a -> Double", 4, ["I change the type of inputPrice",
                                                 "inputPrice takes one more argument"]),
    (PRICING, "type family Rate a", 13, ["I change the type family Rate"]),
    (TYPES, "type Budget = Double", 6, ["I change the type synonym Budget"]),
    (TYPES, "  , allKinds", 6, ["I stop exporting allKinds"]),
])
async def test_code_actions_at_each_symbol_kind(client: ScoutClient, rel: str, needle: str,
                                                offset: int, expected: list[str]) -> None:
    uri = open_document(client, ROOT, rel)
    found = await actions_at(client, uri, line_of(rel, needle), offset)
    assert [a.title for a in found] == [f"Scout: what breaks if {text}?" for text in expected]
    assert all(a.kind == "refactor.scout" and a.command.command == "scout.scoutAt"
               for a in found)


async def test_nothing_is_offered_where_nothing_applies(client: ScoutClient) -> None:
    uri = open_document(client, ROOT, TYPES)
    assert await actions_at(client, uri, line_of(TYPES, "-- | The Claude models"), 3) == []
    assert await actions_at(client, uri, line_of(TYPES, "data LLMKind"), 0) == []  # `data`
    assert await actions_at(client, uri, 10_000, 0) == []  # past the end


async def test_scouting_at_the_sum_type_puts_lenses_on_the_right_lines(client: ScoutClient
                                                                       ) -> None:
    uri = open_document(client, ROOT, TYPES)
    [action, *_] = await actions_at(client, uri, line_of(TYPES, "data LLMKind"), 6)
    answer = await command(client, action.command.command, *action.command.arguments)
    assert answer["status"] == "ok", answer
    result = answer["result"]
    assert result["query"]["change"] == "add_constructor"
    assert result["target"]["qualified"] == "LLM.Types.LLMKind"
    nodes = [n for g in result["groups"] for f in g["files"] for n in f["nodes"]]
    files = {n["path"] for n in nodes}
    assert len(files) >= 3  # several affected files
    assert [g["risk"] for g in result["groups"]] == sorted(
        (g["risk"] for g in result["groups"]), reverse=True)
    await client.wait_until(lambda: client.lens_refreshes > 0)
    assert client.received("scout/resultsChanged")
    for path in files:
        file_uri = (ROOT / path).as_uri()
        expected = {n["line"] for n in nodes if n["path"] == path}
        got = {lens.range.start.line for lens in await lenses(client, file_uri)}
        assert expected <= got, path
    titles = [lens.command.title for lens in await lenses(client, uri)]
    assert any(t.startswith("Scout: ") and " break · " in t for t in titles)  # the summary
    risky = [n for n in nodes if n["rubric"]["risk"] == 5]
    assert risky and all(n["lens"].startswith("risk 5 · ") for n in risky)


async def test_lenses_follow_edits_and_drop_edited_lines(client: ScoutClient) -> None:
    rel = "src/LLM/Router.hs"
    uri = open_document(client, ROOT, rel, version=1)
    before = {lens.range.start.line: lens.command.title for lens in await lenses(client, uri)}
    assert before, "the previous test's answer put lenses on the router"
    text = (ROOT / rel).read_text()
    refreshes = client.lens_refreshes
    # three new lines at the top: every lens moves down by three
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(
            text="-- one\n-- two\n-- three\n" + text)]))
    await client.wait_until(lambda: client.lens_refreshes > refreshes)
    moved = {lens.range.start.line: lens.command.title for lens in await lenses(client, uri)}
    assert moved == {line + 3: title for line, title in before.items()}
    # edit one lens's line: that lens goes, the others stay
    first = min(before)
    lines = ("-- one\n-- two\n-- three\n" + text).splitlines(keepends=True)
    lines[first + 3] = "-- edited away\n"
    refreshes = client.lens_refreshes
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text="".join(lines))]))
    await client.wait_until(lambda: client.lens_refreshes > refreshes)
    after = {lens.range.start.line for lens in await lenses(client, uri)}
    assert first + 3 not in after
    assert after == {line + 3 for line in before} - {first + 3}
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))


async def test_results_request_groups_by_risk_and_file(client: ScoutClient) -> None:
    answer = await client.protocol.send_request_async("scout/results", {})
    results = answer["results"] if isinstance(answer, dict) else answer.results
    assert results
    first = results[0]
    first = first if isinstance(first, dict) else first._asdict()
    assert {"key", "query", "summary", "groups", "coverage", "shadow"} <= set(first)


async def test_free_question_and_ambiguity(client: ScoutClient) -> None:
    answer = await command(client, "scout.ask",
                           {"question": "What breaks if I add a field to Request?"})
    assert answer["status"] == "ok"
    assert answer["result"]["query"]["change"] == "add_field"
    (ROOT / "src/Other.hs").write_text("module Other where\n\ndata Tier = Low | High\n")
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=(ROOT / "src/Other.hs").as_uri(), type=types.FileChangeType.Created)
    ]))
    async with asyncio.timeout(30):
        while True:
            answer = await command(client, "scout.ask",
                                   {"question": "What breaks if I add a variant to Tier?"})
            if answer["status"] != "ok":
                break
            await asyncio.sleep(0.1)
    assert answer["status"] == "ambiguous", answer
    assert sorted(c["qualified"] for c in answer["candidates"]) == ["LLM.Types.Tier",
                                                                    "Other.Tier"]
    answer = await command(client, "scout.ask", {"question": "What breaks if I add a variant "
                                                 "to Other.Tier?"})
    assert answer["status"] == "ok"
    answer = await command(client, "scout.ask", {"question": "what about Frobnicate?"})
    assert answer["status"] == "not_understood" and answer["message"]


async def test_configuration_changes_apply(client: ScoutClient) -> None:
    client.set_configuration({"semanticScout": {"budget": "low"}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={}))
    async with asyncio.timeout(20):
        while True:
            answer = await command(client, "scout.ask", {
                "question": "What breaks if I add a variant to LLM.Types.LLMKind?"})
            if answer["result"]["query"]["budget"] == 10:
                break
            await asyncio.sleep(0.1)
    assert answer["result"]["coverage"]["nodes_kept"] <= 10
    status = await command(client, "scout.selectScorer", {"scorer": "hybrid"})
    assert status["statusInfo"]["scorer"] == "hybrid"
    assert status["statusInfo"]["answering"] == "heuristic"  # no Ollama here, and it says why
    assert "Ollama" in status["statusInfo"]["why"]
    status = await command(client, "scout.selectScorer", {"scorer": "heuristic"})
    assert status["statusInfo"]["answering"] == "heuristic"


@pytest.mark.parametrize(("name", "arguments"), [
    ("scout.ask", ()),
    ("scout.ask", ({"question": 5},)),
    ("scout.ask", ("not an object",)),
    ("scout.scoutAt", ({"uri": "file:///x.hs", "position": {"line": -1, "character": 0}},)),
    ("scout.scoutAt", ({"uri": "file:///x.hs", "position": {"line": 0, "character": 0},
                        "change": "explode"},)),
    ("scout.selectScorer", ({"scorer": "gpt-9"},)),
    ("scout.export", ({"format": "csv", "folder": "/tmp/x"},)),
    ("scout.noSuchCommand", ()),
])
async def test_malformed_requests_get_errors(client: ScoutClient, name: str,
                                             arguments: tuple[Any, ...]) -> None:
    with pytest.raises(JsonRpcException):
        await command(client, name, *arguments)


async def test_unknown_documents_get_empty_answers(client: ScoutClient) -> None:
    assert await lenses(client, "file:///nowhere/X.hs") == []
    assert await actions_at(client, "file:///nowhere/X.hs", 0, 0) == []
    answer = await command(client, "scout.scoutAt", {"uri": "file:///nowhere/X.hs",
                                                     "position": {"line": 0, "character": 0}})
    assert answer["status"] == "error"


async def test_cancelled_request_is_answered(client: ScoutClient) -> None:
    msg_id = "cancel-me"
    future = asyncio.wrap_future(client.protocol.send_request(types.WORKSPACE_EXECUTE_COMMAND,
                                                types.ExecuteCommandParams(
                                                    command="scout.ask", arguments=[{
                                                        "question": "What breaks if I add a "
                                                        "variant to LLM.Types.LLMKind?",
                                                        "budget": "high"}]),
                                                msg_id=msg_id))
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    try:
        answer = await asyncio.wait_for(future, 30)
    except JsonRpcException as exc:  # cancelled in time: RequestCancelled
        assert exc.code == types.LSPErrorCodes.RequestCancelled.value
    else:  # it finished first: a normal answer
        assert answer["status"] == "ok"
    # the server is still answering
    assert (await command(client, "scout.indexStatus"))["index"]["state"] == "ready"


async def test_export_and_status(client: ScoutClient) -> None:
    out = BASE / "dataset"
    answer = await command(client, "scout.export", {"format": "json", "folder": str(out)})
    assert answer["status"] == "ok" and answer["examples"] > 0
    assert (out / "README.md").exists()
    status = await client.protocol.send_request_async("scout/status", None)
    status = status if isinstance(status, dict) else status._asdict()
    assert status["database"] == ENV["SCOUT_DB"]
    assert status["index"]["state"] == "ready" and status["index"]["files"] >= 7


async def test_clear_results_clears_lenses(client: ScoutClient) -> None:
    answer = await command(client, "scout.clearResults")
    assert answer["status"] == "ok" and answer["cleared"] >= 1
    uri = open_document(client, ROOT, TYPES)
    assert await lenses(client, uri) == []



async def test_agreement_report(client: ScoutClient) -> None:
    answer = await command(client, "scout.agreement", {})
    assert answer["status"] == "ok"
    report = answer["report"]
    assert report["field"] == "risk" and report["database"] == ENV["SCOUT_DB"]
    assert report["pairs"] == [] and "no two label sources" in report["text"]
    with pytest.raises(JsonRpcException):
        await command(client, "scout.agreement", {"field": "colour"})
