"""Item 4 (the oracle half) and item 11's swallowed Ctrl-C: `scout oracle` killed by SIGHUP (the
terminal closed) or SIGKILL left its scratch copy and GHC running, and no later run cleaned
them; about one Ctrl-C in 35 was swallowed. Now SIGHUP unwinds like Ctrl-C (GHC's group killed,
the copy removed, exit 129); GHC runs under a supervisor that kills its whole process group
when scout dies, even by SIGKILL; a copy left by a killed run is removed by the next run; and
Ctrl-C at any moment of the type-check ends the run with 130 and leaves nothing behind."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import EXAMPLE, descendants, kill_tree, running, wait_gone

pytestmark = [pytest.mark.ghc,
              pytest.mark.skipif(shutil.which("ghc") is None, reason="needs GHC (apt-get "
                                 "install ghc)")]

EXTRA_MODULES = 24  # each depends on the changed type: the type-check after the mutation lasts


def _workspace(dest: Path, *, cabal: bool) -> Path:
    shutil.copytree(EXAMPLE, dest)
    if not cabal:
        for file in dest.glob("*.cabal"):
            file.unlink()  # ghc --make in a temporary scratch copy
    modules = []
    for i in range(EXTRA_MODULES):
        body = "\n".join(f"f{j} :: LLMKind -> Int\nf{j} k = case k of\n  Haiku -> {j}\n"
                         f"  Sonnet -> {j + 1}\n  Opus -> {j + 2}\n" for j in range(120))
        (dest / "src" / "LLM" / f"Extra{i}.hs").write_text(
            f"module LLM.Extra{i} where\n\nimport LLM.Types\n\n{body}\n")
        modules.append(f"LLM.Extra{i}")
    for cabal_file in dest.glob("*.cabal"):
        text = cabal_file.read_text()
        text = text.replace("    LLM.Types\n", "    LLM.Types\n" + "".join(
            f"    {m}\n" for m in modules), 1)
        cabal_file.write_text(text)
    return dest


class Run:
    """One `scout oracle` with a private temporary directory and cache."""

    def __init__(self, root: Path, base: Path, env: dict[str, str]) -> None:
        self.tmp = base / "tmp"
        self.cache = base / "cache"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.env = {**env, "TMPDIR": str(self.tmp)}
        self.root = root
        self.stderr = (base / "stderr").open("w+b")

    def start(self) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "scout.cli", "oracle", "--target", "LLMKind", "--change",
             "add_constructor", "--root", str(self.root), "--cache-dir", str(self.cache)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=self.stderr,
            start_new_session=True)  # its own group: a "terminal" the test can signal

    def builders(self, pid: int) -> set[int]:
        """GHC, cabal and their supervisor working in a scratch copy of this run."""
        found = set()
        for child in descendants(pid):
            try:
                cwd = os.readlink(f"/proc/{child}/cwd")
            except OSError:
                continue
            if cwd.startswith((str(self.tmp), str(self.cache / "work"))):
                found.add(child)
        return found

    def wait_for_ghc(self, proc: subprocess.Popen, timeout: float = 300) -> set[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.builders(proc.pid)
            if found:
                return found
            assert proc.poll() is None, self.err()
            time.sleep(0.02)
        raise AssertionError("GHC never started")

    def scratch(self) -> list[str]:
        """Scratch copies present: temporary ones, and the stable one cabal builds in."""
        left = [p.name for p in self.tmp.iterdir()]
        work = self.cache / "work"
        if work.is_dir():
            left += [p.name for p in work.iterdir() if not p.name.endswith(".lock")]
        return left

    def err(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL")}
    return {**keep, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "xdg"),
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def _warm(run: Run) -> None:
    """The baseline type-check, cached, so each test's run is the mutation's type-check."""
    proc = run.start()
    assert proc.wait(timeout=600) == 0, run.err()
    assert run.scratch() == [], run.scratch()


@pytest.mark.parametrize("cabal", [True, False], ids=["cabal", "ghc-make"])
def test_sighup_kills_ghc_and_removes_the_copy(tmp_path: Path, env, cabal: bool) -> None:
    run = Run(_workspace(tmp_path / "ws", cabal=cabal), tmp_path, env)
    _warm(run)
    proc = run.start()
    try:
        ghc = run.wait_for_ghc(proc)
        time.sleep(0.3)
        ghc |= run.builders(proc.pid)
        os.killpg(proc.pid, signal.SIGHUP)  # the terminal closed
        assert proc.wait(timeout=60) == 129, run.err()
        assert not wait_gone(ghc, 10), "GHC outlived scout"
        assert run.scratch() == []
        assert "Traceback" not in run.err()
    finally:
        kill_tree(proc.pid)


@pytest.mark.parametrize("cabal", [True, False], ids=["cabal", "ghc-make"])
def test_the_next_run_removes_the_copy_a_killed_run_left(tmp_path: Path, env,
                                                         cabal: bool) -> None:
    run = Run(_workspace(tmp_path / "ws", cabal=cabal), tmp_path, env)
    _warm(run)
    proc = run.start()
    ghc: set[int] = set()
    try:
        ghc = run.wait_for_ghc(proc)
        proc.kill()  # no chance to clean up
        proc.wait(timeout=30)
        assert not wait_gone(ghc, 10), "GHC outlived a killed scout"
        assert run.scratch(), "nothing was left behind: the test did not kill it mid-run"
    finally:
        for pid in running(ghc):
            os.kill(pid, signal.SIGKILL)
    after = run.start()
    assert after.wait(timeout=600) == 0, run.err()
    assert run.scratch() == []  # the stale copy went with the next run


def test_a_type_check_dies_with_a_killed_scout(tmp_path: Path, env) -> None:
    # A type-check that takes long (a big project): here a command that sleeps, through the
    # documented --typecheck-cmd. Its process group must not outlive scout.
    run = Run(_workspace(tmp_path / "ws", cabal=False), tmp_path, env)
    slow = "sh -c 'sleep 300' scout {root} {hidir} {flags} {files}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "scout.cli", "oracle", "--target", "LLMKind", "--change",
         "add_constructor", "--root", str(run.root), "--cache-dir", str(run.cache),
         "--typecheck-cmd", slow], env=run.env, stdout=subprocess.DEVNULL,
        stderr=run.stderr, start_new_session=True)
    slept: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while not slept:
            assert time.monotonic() < deadline and proc.poll() is None, run.err()
            slept = {pid for pid in descendants(proc.pid)
                     if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep")}
            time.sleep(0.02)
        everything = descendants(proc.pid)
        proc.kill()
        proc.wait(timeout=30)
        assert not wait_gone(everything, 5), "the type-check outlived a killed scout"
    finally:
        for pid in running(slept | descendants(proc.pid)):
            os.kill(pid, signal.SIGKILL)


def test_ctrl_c_at_any_moment_of_the_type_check_is_never_swallowed(tmp_path: Path,
                                                                   env) -> None:
    run = Run(_workspace(tmp_path / "ws", cabal=True), tmp_path, env)
    _warm(run)
    rng = random.Random(35)
    for attempt in range(12):
        proc = run.start()
        ghc: set[int] = set()
        try:
            ghc = run.wait_for_ghc(proc)
            time.sleep(rng.random() * 0.6)
            ghc |= run.builders(proc.pid)
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the group
            code = proc.wait(timeout=60)
            assert code == 130, (attempt, code, run.err())
            assert not wait_gone(ghc, 10), (attempt, "GHC outlived Ctrl-C")
            assert run.scratch() == [], attempt
        finally:
            kill_tree(proc.pid)
            for pid in running(ghc):
                os.kill(pid, signal.SIGKILL)


def test_sigterm_is_the_scheme_s_143(tmp_path: Path, env) -> None:
    run = Run(_workspace(tmp_path / "ws", cabal=False), tmp_path, env)
    _warm(run)
    proc = run.start()
    ghc: set[int] = set()
    try:
        ghc = run.wait_for_ghc(proc)
        proc.terminate()
        assert proc.wait(timeout=60) == 143, run.err()
        assert not wait_gone(ghc, 10)
        assert run.scratch() == []
        assert "stopped by SIGTERM" in run.err()
    finally:
        kill_tree(proc.pid)
        for pid in running(ghc):
            os.kill(pid, signal.SIGKILL)
