"""Item 4 (the index half): SIGTERM or SIGHUP during a parallel index left its worker
processes running for good. Workers now die with their owner however it ends: a signal the
CLI turns into an orderly stop (exit 128 + N), SIGKILL (the kernel's parent-death signal and a
watchdog), and in a threaded process (the language server) whose workers come from a fork
server."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from .conftest import Home, descendants, kill_tree, running, wait_gone


def _workers_of(proc: subprocess.Popen, count: int, timeout: float = 120) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the build ended before its workers were seen "
                                 f"(exit {proc.returncode})")
        found = descendants(proc.pid)
        if len(found) >= count:
            time.sleep(0.5)  # let them get to work
            return descendants(proc.pid)
        time.sleep(0.05)
    raise AssertionError("no worker processes appeared")


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129),
                                          (signal.SIGINT, 130)])
def test_a_signal_during_a_parallel_index_stops_every_worker(home: Home, big: Path,
                                                             signum: int, code: int) -> None:
    err = (home.base / "stderr").open("w+b")
    proc = home.popen("index", "--root", str(big), "--no-cache", "--workers", "2",
                      stdout=subprocess.DEVNULL, stderr=err)
    try:
        workers = _workers_of(proc, 2)
        proc.send_signal(signum)
        assert proc.wait(timeout=30) == code
        assert not wait_gone(workers, 10), "worker processes outlived the index"
        err.seek(0)
        stderr = err.read().decode()
        assert "Traceback" not in stderr, stderr
        assert stderr.strip() in ("scout: interrupted", f"scout: stopped by {signal.Signals(signum).name}")
    finally:
        kill_tree(proc.pid)
        err.close()


def test_sigkill_of_the_cli_takes_its_workers_along(home: Home, big: Path) -> None:
    proc = home.popen("index", "--root", str(big), "--no-cache", "--workers", "2",
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        workers = _workers_of(proc, 2)
        proc.kill()
        proc.wait(timeout=30)
        assert not wait_gone(workers, 10), "worker processes outlived a killed index"
    finally:
        for pid in running(workers):
            os.kill(pid, signal.SIGKILL)


_THREADED_BUILD = textwrap.dedent("""
    import sys, threading, time
    from pathlib import Path
    from scout.haskell.index import WorkspaceIndex

    if __name__ == "__main__":
        # another thread is running: the pool must use a fork server, as in the server
        threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
        WorkspaceIndex.build(Path(sys.argv[1]), use_cache=False, workers=2)
""")


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_workers_from_a_fork_server_die_with_a_threaded_owner(home: Home, big: Path,
                                                               signum: int) -> None:
    script = home.base / "threaded_build.py"
    script.write_text(_THREADED_BUILD)
    proc = subprocess.Popen([sys.executable, str(script), str(big)], env=home.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    everything: set[int] = set()
    try:
        everything = _workers_of(proc, 3)  # the fork server and the workers
        proc.send_signal(signum)
        proc.wait(timeout=30)
        assert not wait_gone(everything, 15), "fork server or workers outlived their owner"
    finally:
        kill_tree(proc.pid)
        for pid in running(everything):
            os.kill(pid, signal.SIGKILL)


def test_nohup_still_means_no_hangup(home: Home, big: Path) -> None:
    # the CLI turns SIGHUP into an orderly stop, but not when the user ran it under nohup
    proc = subprocess.Popen(["nohup", sys.executable, "-m", "scout.cli", "index", "--root",
                             str(big), "--no-cache", "--workers", "2"], env=home.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        workers = _workers_of(proc, 2)
        proc.send_signal(signal.SIGHUP)
        time.sleep(1)
        assert proc.poll() is None, "SIGHUP stopped a nohup'd index"
    finally:
        kill_tree(proc.pid)
        for pid in running(workers):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_at_any_moment_of_the_build_ends_it_cleanly(home: Home, big: Path,
                                                             signum: int) -> None:
    # A worker killed while writing its result once left half a message in the pool's pipe,
    # and the interpreter waited for the rest for ever at exit: every moment must be safe.
    rng = random.Random(13)
    for attempt in range(8):
        err = (home.base / f"stderr-{attempt}").open("w+b")
        proc = home.popen("index", "--root", str(big), "--no-cache", "--workers", "2",
                          stdout=subprocess.DEVNULL, stderr=err)
        workers: set[int] = set()
        try:
            workers = _workers_of(proc, 2)
            time.sleep(rng.random())
            proc.send_signal(signum)
            assert proc.wait(timeout=30) == 128 + signum
            assert not wait_gone(workers, 10)
            err.seek(0)
            assert "Traceback" not in err.read().decode()
        finally:
            kill_tree(proc.pid)
            for pid in running(workers):
                os.kill(pid, signal.SIGKILL)
            err.close()
