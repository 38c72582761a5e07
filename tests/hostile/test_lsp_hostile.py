"""The same hostile classes over the language server (`scout serve`, a raw JSON-RPC client
over stdio, as an editor would speak it): a workspace with a symlink loop, FIFOs and binary
files; a locked database; a question that is not valid UTF-8; a bad OLLAMA_HOST; a repository
config pointing the log outside itself; SIGTERM and SIGKILL while a parallel index runs."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from .conftest import EXAMPLE, QUESTION, descendants, refused_url, rows, running, wait_gone

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from lsp_client import RawClient  # noqa: E402  (the benchmark's client, shared)


@pytest.fixture
def server_env(tmp_path: Path) -> dict[str, str]:
    base = tmp_path / "home"
    base.mkdir()
    return {"HOME": str(base), "XDG_CACHE_HOME": str(base / "cache"),
            "XDG_CONFIG_HOME": str(base / "config"), "XDG_DATA_HOME": str(base / "data"),
            "SCOUT_DB": str(base / "scout.db"), "SCOUT_SCORER": "heuristic",
            "OLLAMA_HOST": refused_url(), "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


@pytest.fixture
def clients():
    started: list[RawClient] = []

    def start(env: dict[str, str], root: Path, **init: object) -> RawClient:
        client = RawClient(env, stderr=(Path(env["HOME"]) / "server.log").open("wb"))
        started.append(client)
        client.initialize(root, init_options=init or None)
        return client

    yield start
    for client in started:
        if client.proc.poll() is None:
            client.close()


def _ask(client: RawClient, question: str = QUESTION, timeout: float = 120) -> dict:
    answer = client.command("scout.ask", {"question": question}, timeout=timeout)
    assert answer["status"] == "ok", answer
    return answer["result"]


def _hostile(tmp_path: Path) -> Path:
    root = tmp_path / "L"
    shutil.copytree(EXAMPLE, root)
    os.symlink("Loop.hs", root / "src" / "Loop.hs")
    os.symlink("..", root / "src" / "up")
    os.mkfifo(root / ".gitignore")
    os.mkfifo(root / "src" / "Pipe.hs")
    (root / "src" / "Binary.hs").write_bytes(b"module Binary where\x00\x01")
    return root


def test_a_hostile_workspace_is_indexed_and_its_skips_are_reported(server_env, clients,
                                                                   tmp_path: Path) -> None:
    root = _hostile(tmp_path)
    client = clients(server_env, root)
    index = client.wait_indexed(timeout=120)
    skipped = {s["path"]: s["reason"] for s in index["skipped"]}
    assert set(skipped) == {".gitignore", "src/Loop.hs", "src/Pipe.hs", "src/Binary.hs"}
    result = _ask(client)
    assert {s["path"] for s in result["coverage"]["skipped"]} == set(skipped)
    assert result["summary"]["break"] > 0


def test_a_locked_database_never_holds_the_answer_back(server_env, clients,
                                                       tmp_path: Path) -> None:
    db = Path(server_env["SCOUT_DB"])
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        client = clients(server_env, EXAMPLE)
        client.wait_indexed()
        started = time.monotonic()
        result = _ask(client)
        assert time.monotonic() - started < 5  # the log waits for the lock; the answer not
        assert result["log"]["pending"] is True
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            latest = client.request("scout/results")["results"][-1]
            if not latest["log"]["pending"]:
                break
            time.sleep(0.5)
        assert "stayed locked" in (latest["log"]["error"] or ""), latest["log"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # the server is still healthy and logs again once the lock is gone
    assert _ask(client)["query"]["query"] == QUESTION


def test_questions_that_are_not_valid_utf8_are_answered_and_logged(server_env, clients) -> None:
    client = clients(server_env, EXAMPLE)
    client.wait_indexed()
    # a lone surrogate escape: valid JSON, not encodable as UTF-8
    result = _ask(client, "What breaks if I add a variant to LLMKind \udcff?")
    assert result["query"]["query"].endswith("\udcff?")
    # a raw byte that is not UTF-8 inside the message body: invalid JSON text
    client.send_raw(b'{"jsonrpc": "2.0", "id": "raw", "method": "workspace/executeCommand", '
                    b'"params": {"command": "scout.ask", "arguments": [{"question": '
                    b'"add a variant to LLMKind \xff"}]}}')
    answer = client.wait("raw", timeout=120)
    assert answer["result"]["status"] == "ok", answer
    assert answer["result"]["result"]["query"]["query"] == "add a variant to LLMKind \ufffd"
    client.close()
    assert sorted(rows(Path(server_env["SCOUT_DB"]), "SELECT text FROM queries")) == [
        ("What breaks if I add a variant to LLMKind \ufffd?",),
        ("add a variant to LLMKind \ufffd",)]


def test_a_bad_ollama_host_makes_the_heuristics_answer_and_say_why(server_env, clients) -> None:
    env = {**server_env, "SCOUT_SCORER": "hybrid", "OLLAMA_HOST": "http://[::1"}
    client = clients(env, EXAMPLE)
    client.wait_indexed()
    status = client.command("scout.status")["statusInfo"]
    assert status["answering"] == "heuristic" and "OLLAMA_HOST" in status["why"]
    result = _ask(client)
    nodes = [n for g in result["groups"] for f in g["files"] for n in f["nodes"]]
    assert nodes and all("OLLAMA_HOST" in n["fallback_reason"] for n in nodes)


def test_a_repository_config_pointing_outside_is_shown_and_refused(server_env, clients,
                                                                    tmp_path: Path) -> None:
    root = tmp_path / "L"
    shutil.copytree(EXAMPLE, root)
    (root / ".scout").mkdir()
    (root / ".scout" / "config.toml").write_text(f'database = "{tmp_path / "out" / "x.db"}"\n')
    env = {k: v for k, v in server_env.items() if k != "SCOUT_DB"}
    client = clients(env, root)
    client.wait_indexed()
    shown = [n["params"]["message"] for n in client.notifications
             if n.get("method") == "window/showMessage"]
    assert any("outside the workspace" in m for m in shown), shown
    _ask(client)  # answered on the defaults meanwhile, and logged there, not outside
    client.close()
    assert not (tmp_path / "out").exists()
    assert rows(Path(env["XDG_DATA_HOME"]) / "semantic-scout" / "scout.db",
                "SELECT count(*) FROM queries") == [(1,)]


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129),
                                          (signal.SIGKILL, -9)])
def test_a_killed_server_leaves_no_index_workers(server_env, clients, big: Path, signum: int,
                                                 code: int) -> None:
    client = clients(server_env, big, index={"workers": 2, "useCache": False})
    deadline = time.monotonic() + 120
    while len(descendants(client.proc.pid)) < 3:  # the fork server and two workers
        assert time.monotonic() < deadline, "no index workers appeared"
        assert client.proc.poll() is None
        time.sleep(0.05)
    time.sleep(0.5)
    everything = descendants(client.proc.pid)
    client.proc.send_signal(signum)
    try:
        assert client.proc.wait(timeout=15) == code
        assert not wait_gone(everything, 15), "index workers outlived the server"
    finally:
        for pid in running(everything):
            os.kill(pid, signal.SIGKILL)
