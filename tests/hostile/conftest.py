"""The hostile suite (issue 13): the CLI and the language server as a hostile user, a broken
disk and a flaky network would drive them. Real parts only: subprocesses with real signals,
real SQLite files damaged on disk, real FIFOs, symlink loops and sparse files, loopback servers
speaking the Ollama and Anthropic wire protocols (tests/scoring/scoring_fakes.py).

Every command runs in a scratch home (its own XDG directories and database), so nothing here
touches the user's files or another test's."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "llm-service"
sys.path.insert(0, str(REPO / "tests" / "scoring"))  # the loopback fakes, shared

QUESTION = "What breaks if I add a variant to LLMKind?"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def out(self) -> str:
        return self.stdout

    def no_traceback(self) -> None:
        assert "Traceback" not in self.stderr, self.stderr
        assert "Traceback" not in self.stdout, self.stdout


@dataclass
class Home:
    """A scratch user: XDG directories, a database, an environment without secrets."""

    base: Path
    env: dict[str, str]

    @property
    def db(self) -> Path:
        return self.base / "scout.db"

    def run(self, *args: str | bytes, env: dict[str, str] | None = None,
            timeout: float = 180, cwd: Path | None = None, prog: str = "scout",
            preexec: Callable[[], None] | None = None) -> Run:
        """Run ``scout`` (or ``scout-export``) to the end; output captured through files, so
        a process that leaves children behind cannot hold the test on an open pipe."""
        module = "scout.cli" if prog == "scout" else "scout.export.cli"
        out_path = self.base / f"out-{time.monotonic_ns()}"
        err_path = self.base / f"err-{time.monotonic_ns()}"
        started = time.monotonic()
        with out_path.open("wb") as out, err_path.open("wb") as err:
            proc = subprocess.Popen([sys.executable, "-m", module, *args], stdout=out,
                                    stderr=err, env={**self.env, **(env or {})}, cwd=cwd,
                                    preexec_fn=preexec)
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_tree(proc.pid)
                proc.wait()
                raise AssertionError(f"scout {args!r} did not finish in {timeout} s: "  # noqa: B904
                                     f"{err_path.read_text(errors='replace')[-2000:]}")
        seconds = time.monotonic() - started
        return Run(code, out_path.read_bytes().decode("utf-8", "replace"),
                   err_path.read_bytes().decode("utf-8", "replace"), seconds)

    def popen(self, *args: str, env: dict[str, str] | None = None,
              **kwargs: object) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "scout.cli", *args],
                                env={**self.env, **(env or {})}, **kwargs)  # type: ignore[call-overload]


@pytest.fixture
def home(tmp_path: Path) -> Home:
    base = tmp_path / "home"
    base.mkdir()
    keep = ("PATH", "LANG", "LC_ALL", "PYTHONHASHSEED", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update({
        "HOME": str(base), "XDG_CACHE_HOME": str(base / "cache"),
        "XDG_CONFIG_HOME": str(base / "config"), "XDG_DATA_HOME": str(base / "data"),
        "SCOUT_DB": str(base / "scout.db"),
        "OLLAMA_HOST": refused_url(),  # nothing listens: the hybrid falls back at once
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    })
    return Home(base, env)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A private copy of the example workspace, to be damaged at will."""
    dest = tmp_path / "L"
    shutil.copytree(EXAMPLE, dest)
    return dest


def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def write_big_workspace(root: Path) -> Path:
    """Enough files for a parallel index build (PARALLEL_THRESHOLD and more), big enough that
    the build takes a while: signals can arrive while its worker processes run."""
    from scout.haskell.index import PARALLEL_THRESHOLD

    (root / "src").mkdir(parents=True)
    for i in range(PARALLEL_THRESHOLD * 5):
        body = "\n".join(f"f{j} :: T -> Int\nf{j} x = case x of\n  A -> {j}\n  B -> {j + 1}\n"
                         f"  _ -> {j + 2}\n" for j in range(250))
        (root / "src" / f"M{i}.hs").write_text(
            f"module M{i} where\n\ndata T = A | B | C deriving (Show, Eq)\n\n{body}\n")
    return root


@pytest.fixture(scope="session")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_big_workspace(tmp_path_factory.mktemp("big"))


# -- processes -------------------------------------------------------------------------------

def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children of all its threads, recursively), from /proc."""
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                children = Path(f"/proc/{current}/task/{tid}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    frontier.append(child)
    return found


def running(pids: set[int]) -> set[int]:
    """The pids still running (zombies waiting for a reaper count as gone)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X"):
            alive.add(pid)
    return alive


def wait_gone(pids: set[int], timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not running(pids):
            return set()
        time.sleep(0.1)
    return running(pids)


def kill_tree(pid: int) -> None:
    for child in descendants(pid) | {pid}:
        try:
            os.kill(child, signal.SIGKILL)
        except OSError:
            pass


# -- databases ---------------------------------------------------------------------------------

def checkpoint(db: Path) -> None:
    """Move the WAL into the main file, so damage written to the file is what SQLite reads."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# -- a server that trickles --------------------------------------------------------------------

class Trickle:
    """An HTTP server that answers every request with a status line and then one byte a
    second, forever: no per-read timeout ever fires, only a deadline can stop the client."""

    def __init__(self, *, tags: dict | None = None) -> None:
        """``tags``: answer ``GET /api/tags`` with this at once (Ollama's model list), so a
        client that checks the model first gets as far as asking it."""
        self.tags = tags
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            request = conn.recv(65536)
            if self.tags is not None and request.startswith(b"GET /api/tags"):
                body = json.dumps(self.tags).encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
                             + body)
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000000\r\n\r\n")
            while not self._stop.wait(1.0):
                conn.sendall(b" ")
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


@pytest.fixture
def trickle() -> Iterator[Trickle]:
    server = Trickle()
    yield server
    server.close()
