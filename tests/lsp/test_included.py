"""Code a Haskell file `#include`s lives in a file with no Haskell extension: the server asks
the editor to watch it, and its changes (saved, or typed in an editor that sends them) reach
the index like a module's."""

from __future__ import annotations

import asyncio
import textwrap

import pytest
from lsprotocol import types
from tests.lsp.conftest import ScoutClient, module_client, scratch_env

pytestmark = pytest.mark.asyncio(loop_scope="module")
BASE, ENV = scratch_env("included")
ROOT = BASE / "w"
INCLUDED = "internal/instances"
PAIRS = "pairs :: (Int, Int) -> Int\npairs (a, b) = a + b\n"


def _write_workspace() -> None:
    (ROOT / "src").mkdir(parents=True, exist_ok=True)
    (ROOT / "internal").mkdir(exist_ok=True)
    (ROOT / "w.cabal").write_text("name: w\nlibrary\n  hs-source-dirs: src\n"
                                  "  include-dirs: internal\n")
    (ROOT / "src/Inst.hs").write_text(textwrap.dedent("""\
        {-# LANGUAGE CPP #-}
        module Inst (after) where
        #include "instances"
        after :: Int
        after = pairs (1, 2)
        """))
    (ROOT / INCLUDED).write_text(PAIRS)


_write_workspace()


client = module_client(ENV, ROOT)


async def ask(client: ScoutClient, question: str) -> dict:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="scout.ask", arguments=[{"question": question}]))


async def until_understood(client: ScoutClient, question: str, timeout: float = 30) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            answer = await ask(client, question)
            if answer["status"] == "ok":
                return answer
            await asyncio.sleep(0.1)


def watched_globs(client: ScoutClient) -> list[str]:
    globs = []
    for params in client.received("client/registerCapability"):
        for registration in params.registrations:
            if registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES:
                globs += [w["globPattern"] for w in registration.register_options["watchers"]]
    return globs


async def test_the_included_file_is_watched(client: ScoutClient) -> None:
    await client.wait_until(lambda: bool(client.received("scout/statusChanged")), timeout=60)
    await until_understood(client, "What breaks if I change the signature of pairs?")
    await client.wait_until(lambda: str(ROOT / INCLUDED) in watched_globs(client), timeout=30)


async def test_a_saved_change_reaches_the_index(client: ScoutClient) -> None:
    assert (await ask(client, "What breaks if I change the signature of triples?")
            )["status"] != "ok"
    triples = "triples :: (Int, Int, Int) -> Int\ntriples (a, b, c) = a + b + c\n"
    (ROOT / INCLUDED).write_text(PAIRS + triples)
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=(ROOT / INCLUDED).as_uri(), type=types.FileChangeType.Changed)]))
    answer = await until_understood(client, "What breaks if I change the signature of triples?")
    assert answer["result"]["query"]["target"].endswith("triples"), answer["result"]["query"]


async def test_an_editor_text_reaches_the_index(client: ScoutClient) -> None:
    assert (await ask(client, "What breaks if I change the signature of quads?")
            )["status"] != "ok"
    uri = (ROOT / INCLUDED).as_uri()
    text = PAIRS + "quads :: Int -> Int\nquads = (* 4)\n"
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="c", version=1,
                                             text=(ROOT / INCLUDED).read_text())))
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
    await until_understood(client, "What breaks if I change the signature of quads?")
    assert (ROOT / INCLUDED).read_text() != text  # from the editor's text, not the disk
