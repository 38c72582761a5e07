"""Borrowing HLS's knowledge: a client that declares ``experimental.scoutHover`` is asked for
the hover at each node; its answers become the nodes' hover (recorded as from HLS), slow answers
are waited for no longer than the hover timeout, and cancelling a question stops the wait."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient
from tests.lsp.conftest import ScoutClient, config, copy_example, initialize_params, scratch_env

pytestmark = pytest.mark.asyncio(loop_scope="module")
BASE, ENV = scratch_env("hover")
ROOT = copy_example(BASE)
QUESTION = "What breaks if I add a variant to LLMKind?"


@pytest_lsp.fixture(config=config(ENV), scope="module")
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(initialize_params(
        ROOT, experimental={"scoutHover": True},
        init_options={"timeouts": {"hover": 3}, "budget": "low"}))
    async with asyncio.timeout(60):
        while (await ask(lsp_client, "scout.indexStatus"))["index"]["state"] != "ready":
            await asyncio.sleep(0.1)
    yield
    await lsp_client.shutdown_session()


async def ask(client: LanguageClient, name: str, *arguments) -> dict:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=name, arguments=list(arguments) or None))


async def test_hover_from_the_client_is_used_and_recorded(client: ScoutClient) -> None:
    def answer(params):
        line = params.position.line if hasattr(params, "position") else params["position"]["line"]
        return {"contents": f"inferred type at line {line}"}
    client.hover_answer = answer
    result = (await ask(client, "scout.ask", {"question": QUESTION}))["result"]
    nodes = [n for g in result["groups"] for f in g["files"] for n in f["nodes"]]
    assert client.hover_requests
    assert all(n["hover_source"] == "hls" and n["hover"].startswith("inferred type")
               for n in nodes)
    async with asyncio.timeout(30):
        while True:
            logged = (await ask(client, "scout.showResults", {"key": result["key"]}))
            if logged["results"][0]["log"]["queryId"]:
                break
            await asyncio.sleep(0.1)
    db = sqlite3.connect(ENV["SCOUT_DB"])
    assert {row[0] for row in db.execute("SELECT hover_source FROM nodes")} == {"hls"}


async def test_an_empty_hover_keeps_the_index_text(client: ScoutClient) -> None:
    client.hover_answer = lambda params: None
    result = (await ask(client, "scout.ask", {"question": QUESTION}))["result"]
    nodes = [n for g in result["groups"] for f in g["files"] for n in f["nodes"]]
    assert all(n["hover_source"] == "index" and n["hover"] for n in nodes)


async def test_slow_hovers_are_not_waited_for_beyond_the_timeout(client: ScoutClient) -> None:
    async def never(params):
        await asyncio.sleep(30)
    client.hover_answer = never
    started = time.monotonic()
    result = (await ask(client, "scout.ask", {"question": QUESTION}))["result"]
    assert time.monotonic() - started < 15  # hover timeout 3 s (+ the answer itself)
    nodes = [n for g in result["groups"] for f in g["files"] for n in f["nodes"]]
    assert all(n["hover_source"] == "index" for n in nodes)
    # and cancelling a question during the wait answers at once
    msg_id = "cancel-during-hover"
    future = asyncio.wrap_future(client.protocol.send_request(
        types.WORKSPACE_EXECUTE_COMMAND,
        types.ExecuteCommandParams(command="scout.ask", arguments=[{"question": QUESTION}]),
        msg_id=msg_id))
    await asyncio.sleep(0.5)
    assert not future.done()  # waiting for the hovers
    started = time.monotonic()
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    with pytest.raises(JsonRpcException) as err:
        await asyncio.wait_for(future, 10)
    assert err.value.code == types.LSPErrorCodes.RequestCancelled.value
    assert time.monotonic() - started < 2
