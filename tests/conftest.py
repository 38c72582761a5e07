"""Shared fixtures: the bundled example workspace and small workspaces written per test."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "llm-service"


@pytest.fixture(scope="session")
def example_root() -> Path:
    return EXAMPLE


@pytest.fixture(scope="session")
def example_index():
    from scout.haskell.index import WorkspaceIndex

    return WorkspaceIndex.build(EXAMPLE, use_cache=False)


@pytest.fixture
def make_workspace(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    """Write {relative path: text} under a fresh directory and return its root."""

    def make(files: dict[str, str | bytes]) -> Path:
        root = tmp_path / "ws"
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return root

    return make


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "llm-service"
    shutil.copytree(EXAMPLE, dest)
    return dest


# -- a test run that cannot end -------------------------------------------------------------
# The interpreter joins every non-daemon thread at exit, thread-pool workers included: one
# left blocked (a server's stdin reader on a pipe nobody closes) keeps pytest from exiting
# after its summary, and CI waits until its budget is gone. Name such threads and fail.


_BLOCKED = pytest.StashKey[bool]()


def _blocking_threads() -> list[threading.Thread]:
    """Threads that would hold the interpreter's exit: non-daemon ones other than the main
    thread, except thread-pool workers idle on their queue (shut down at exit)."""
    frames = sys._current_frames()
    found = []
    for thread in threading.enumerate():
        if thread is threading.main_thread() or thread.daemon or not thread.is_alive():
            continue
        stack = traceback.extract_stack(frames[thread.ident]) if thread.ident in frames else []
        in_pool = any(f.name == "_worker" and "concurrent/futures" in f.filename for f in stack)
        if in_pool and not any(f.name == "run" and "concurrent/futures" in f.filename
                               for f in stack):
            continue  # an idle pool worker
        found.append(thread)
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    deadline = time.monotonic() + 10
    while (blocking := _blocking_threads()) and time.monotonic() < deadline:
        time.sleep(0.2)
    if not blocking:
        return
    frames = sys._current_frames()
    lines = ["", "tests left threads that would keep the interpreter from exiting:"]
    for thread in blocking:
        lines.append(f"--- {thread.name}")
        lines += traceback.format_stack(frames.get(thread.ident)) if thread.ident in frames else []
    sys.stderr.write("\n".join(lines) + "\n")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
    session.config.stash[_BLOCKED] = True


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_BLOCKED, False):  # the report is out: do not wait for them
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(pytest.ExitCode.TESTS_FAILED))
