"""Fuzz: thousands of random and malformed messages over a raw stdio connection (no client
library smoothing anything over): random methods, params of the wrong shape, positions past the
end, documents that are binary or huge, interleaved edits. Every request must be answered, the
server must never die, and a well-formed request afterwards must still work."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

from tests.lsp.conftest import copy_example, scratch_env

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from lsp_client import RawClient  # noqa: E402  (the benchmark's client, shared)

REQUESTS = 2500


def _junk(rng: random.Random) -> Any:
    return rng.choice([None, 0, -1, 2**63, 1.5, float("1e308"), "", "x" * rng.randint(0, 50),
                       [], [1, "a"], {}, {"uri": 5}, True, "file:///nowhere.hs",
                       {"line": -3, "character": "a"}])


def _position(rng: random.Random) -> Any:
    if rng.random() < 0.2:
        return _junk(rng)
    return {"line": rng.choice([0, 5, 34, 99, 10**6, -1]),
            "character": rng.choice([0, 3, 6, 200, -5])}


def _message(rng: random.Random, uris: list[str], msg_id: int) -> dict[str, Any] | None:
    uri = rng.choice(uris + ["file:///nowhere/X.hs", "untitled:Untitled-1", "", "file://"])
    doc = {"uri": uri}
    kind = rng.randrange(12)
    if kind == 0:
        return {"id": msg_id, "method": "textDocument/codeAction", "params": rng.choice([
            {"textDocument": doc, "range": {"start": _position(rng), "end": _position(rng)},
             "context": {"diagnostics": []}}, _junk(rng)])}
    if kind == 1:
        return {"id": msg_id, "method": "textDocument/codeLens",
                "params": rng.choice([{"textDocument": doc}, _junk(rng)])}
    if kind in (2, 3):
        command = rng.choice(["scout.ask", "scout.scoutAt", "scout.showResults",
                              "scout.clearResults", "scout.selectScorer", "scout.toggleShadow",
                              "scout.indexStatus", "scout.status", "scout.export",
                              "scout.nope"])
        argument = rng.choice([
            {"question": rng.choice(["What breaks if I add a variant to LLMKind?",
                                     "remove the Opus constructor", "\x00\xff", "?" * 300,
                                     "add a field to Config", ""])},
            {"uri": uri, "position": _position(rng), "change": rng.choice(
                [None, "add_constructor", "remove_field", "bogus"])},
            {"scorer": rng.choice(["heuristic", "gpt", 3])}, {"enabled": _junk(rng)},
            {"format": "json", "folder": "/proc/forbidden"}, _junk(rng)])
        arguments = rng.choice([[argument], [], None, [argument, argument], "x"])
        return {"id": msg_id, "method": "workspace/executeCommand",
                "params": {"command": command, "arguments": arguments}}
    if kind == 4:
        return {"id": msg_id, "method": rng.choice(["scout/results", "scout/status"]),
                "params": rng.choice([None, {}, {"uri": uri}, _junk(rng)])}
    if kind == 5:
        return {"id": msg_id, "method": rng.choice(["textDocument/hover", "nope/nope",
                                                    "textDocument/completion"]),
                "params": {"textDocument": doc, "position": _position(rng)}}
    if kind in (6, 7):  # an edit: new text, sometimes binary or big or broken Haskell
        text = rng.choice(["module A where\nx = 1\n", "data T = A | B\nf A = 1\n",
                           "\x00\x01\x02" * 100, "module B where\n" + "g = 1\n" * 5000,
                           "case of of where ((((", ""])
        return {"method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": msg_id},
            "contentChanges": rng.choice([[{"text": text}], [], _junk(rng)])}}
    if kind == 8:
        return {"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "haskell", "version": 1,
            "text": rng.choice(["module C where\n", "\udcff" if False else "λ → ∀", ""])}}}
    if kind == 9:
        return {"method": rng.choice(["textDocument/didClose", "textDocument/didSave"]),
                "params": rng.choice([{"textDocument": doc}, _junk(rng)])}
    if kind == 10:
        return {"method": "$/cancelRequest", "params": {"id": rng.randrange(max(msg_id, 1))}}
    return {"method": "workspace/didChangeWatchedFiles", "params": {"changes": [
        {"uri": uri, "type": rng.choice([1, 2, 3, 9])}]}}


def test_random_and_malformed_requests_are_all_answered() -> None:
    base, env = scratch_env("fuzz")
    root = copy_example(base)
    uris = [p.as_uri() for p in sorted(Path(root).rglob("*.hs"))]
    client = RawClient(env)
    try:
        client.initialize(root)
        rng = random.Random(20261130)
        ids: set[Any] = set()
        for i in range(REQUESTS):
            message = _message(rng, uris, i)
            if message is None:
                continue
            if rng.random() < 0.01:  # not even JSON
                client.send_raw(rng.choice([b"{", b"[]", b'{"jsonrpc": "2.0"}', b"\xff\xfe"]))
                continue
            client.send(message)
            if "id" in message:
                ids.add(message["id"])
        missing = client.missing(ids, 180)
        assert not missing, f"{len(missing)} request(s) never answered, e.g. {sorted(missing)[:5]}"
        assert client.proc.poll() is None, "the server died"
        crashes = [r for r in client.responses.values()
                   if r.get("error", {}).get("code") == -32603]  # InternalError: a bug of ours
        assert crashes == [], crashes[:3]
        assert client.command("scout.indexStatus", timeout=30)["status"] == "ok"
        assert client.close() == 0
    finally:
        if client.proc.poll() is None:
            client.proc.kill()
