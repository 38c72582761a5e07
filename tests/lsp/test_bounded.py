"""What a server keeps stays bounded over a long session: one in-process server (so its state
can be inspected) receives hundreds of edits and questions."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from tests.lsp.conftest import copy_example, scratch_env

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from lsp_client import RawClient  # noqa: E402


def test_edits_and_questions_leave_nothing_behind(monkeypatch) -> None:
    base, env = scratch_env("bounded")
    for key, value in env.items():
        if key not in ("PATH", "HOME", "PYTHONPATH"):
            monkeypatch.setenv(key, value)
    root = copy_example(base)
    from scout.lsp.server import make_server

    server = make_server()
    to_server, from_client = os.pipe()
    to_client, from_server = os.pipe()
    serving = threading.Thread(target=server.start_io, daemon=True, args=(
        os.fdopen(to_server, "rb"), os.fdopen(from_server, "wb")))
    serving.start()
    client_out = os.fdopen(from_client, "wb")
    client = RawClient(streams=(client_out, os.fdopen(to_client, "rb")))
    try:
        _long_session(client, server, root)
    finally:
        # End of input ends the server: pygls reads stdin in a thread pool worker, which the
        # interpreter joins at exit (a pipe left open kept pytest from ever exiting).
        client_out.close()
        serving.join(timeout=30)
    assert not serving.is_alive()


def _long_session(client: RawClient, server, root: Path) -> None:
    client.initialize(root)
    client.wait_indexed()
    path = root / "src" / "LLM" / "Router.hs"
    uri, text = path.as_uri(), path.read_text()
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "haskell", "version": 1, "text": text}})
    for i in range(400):
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": i + 2},
            "contentChanges": [{"text": f"-- edit {i}\n" + text}]})
        if i % 40 == 39:
            client.command("scout.ask", {"question": "What breaks if I add a variant to "
                                         "LLMKind?"})
            client.request("textDocument/codeLens", {"textDocument": {"uri": uri}})
    client.command("scout.indexStatus")
    time.sleep(0.5)
    # pygls 2.1.1 kept one future per notification forever (503 after 500 edits)
    assert len(server.protocol._request_futures) < 5
    assert len(server.protocol.progress.tokens) < 5  # progress tokens are forgotten
    [folder] = server.folders.all()
    assert len(folder.session.results()) == 10
    assert len(folder.session.index._trees) <= folder.session.index.TREE_LIMIT
    assert len(server.debounce) <= 1
    client.request("shutdown")
