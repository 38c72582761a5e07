"""Child processes that die with their owner, and scratch directories that outlive theirs.

``python -m scout.supervise -- CMD ...`` runs CMD as the only child of a small supervisor that
leads its own process group (start it with ``start_new_session=True``). When the process that
started the supervisor ends, however it ends (SIGKILL leaves it no time to clean up), the
supervisor kills the whole group: CMD and everything CMD started (cabal's GHC, GHC's
compilers). Linux tells it at once (PR_SET_PDEATHSIG); elsewhere it notices within half a
second. Its exit status mirrors CMD's, so callers read it as CMD's own.

``claim(directory)`` records the current process as the owner of a scratch directory, and
``remove_stale(parent, prefix)`` removes the directories (and stops the processes working in
them) whose owner is no longer running: what a killed run left behind is cleaned up by the
next one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

OWNER_FILE = ".scout-owner"
STALE_WITHOUT_OWNER = 24 * 3600  # seconds: a directory whose owner was never recorded


def command(cmd: Sequence[str]) -> list[str]:
    """CMD wrapped in the supervisor (the interpreter running this code), owned by us."""
    return [sys.executable, "-m", "scout.supervise", "--owner", str(os.getpid()), "--", *cmd]


# -- the supervisor ------------------------------------------------------------------------

def _kill_group() -> None:
    with contextlib.suppress(OSError):
        os.killpg(0, signal.SIGKILL)  # the group: CMD, its children, and this supervisor
    os._exit(128 + signal.SIGKILL)


def _watch(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            _kill_group()


def main(argv: Sequence[str]) -> int:
    args = list(argv)
    owner = None
    if args[:1] == ["--owner"] and len(args) > 1 and args[1].isdigit():
        owner, args = int(args[1]), args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        print("usage: python -m scout.supervise [--owner PID] -- CMD ...", file=sys.stderr)
        return 2
    parent = os.getppid() if owner is None else owner
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, lambda *_: _kill_group())
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PDEATHSIG
    if os.getppid() != parent:
        _kill_group()  # the owner was gone before the death signal was armed
    threading.Thread(target=_watch, args=(parent,), daemon=True).start()
    try:
        child = subprocess.Popen(args)
    except OSError as exc:
        print(f"cannot run {args[0]!r}: {exc.strerror or exc}", file=sys.stderr)
        return 127
    code = child.wait()
    if code < 0:  # mirror a death by signal, so the caller sees CMD's own status
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


# -- scratch directories -------------------------------------------------------------------

def _start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot), to tell it from a later process
    that reuses its pid; None where /proc does not say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _clear(path: Path) -> bool:
    """Stops the processes working in ``path`` and removes it: is it gone?"""
    for pid in _processes_in(path):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(path, ignore_errors=True)
    return not path.exists()


def running(pid: int) -> bool:
    """Is process ``pid`` alive (one we may not signal counts as alive)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim(directory: Path) -> None:
    """Record this process as the owner of ``directory``."""
    pid = os.getpid()
    (directory / OWNER_FILE).write_text(f"{pid} {_start_time(pid) or '-'}\n")


def _owner_alive(directory: Path) -> bool | None:
    """True or False when the owner is recorded; None when it is not."""
    try:
        pid_text, started = (directory / OWNER_FILE).read_text().split()[:2]
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    if not running(pid):
        return False
    now = _start_time(pid)
    return started == "-" or now is None or now == started


def _processes_in(directory: Path) -> list[int]:
    """Processes whose working directory is inside ``directory`` (Linux /proc)."""
    found = []
    root = str(directory.resolve())
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                cwd = os.readlink(f"/proc/{entry.name}/cwd")
                if cwd == root or cwd.startswith(root + "/"):
                    found.append(int(entry.name))
    return found


def remove_stale(parent: Path, prefix: str) -> list[Path]:
    """Remove ``parent/prefix*`` directories whose owner is no longer running (or, with no
    owner recorded, that are older than a day), first killing any process still working in
    them. Returns what was removed."""
    removed = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for path in entries:
        if not path.name.startswith(prefix) or not path.is_dir() or path.is_symlink():
            continue
        alive = _owner_alive(path)
        if alive is None:
            with contextlib.suppress(OSError):
                if time.time() - path.stat().st_mtime < STALE_WITHOUT_OWNER:
                    continue
        elif alive:
            continue
        if _clear(path):
            removed.append(path)
    return removed


def remove_unlocked(parent: Path) -> list[Path]:
    """Remove stable scratch directories (``NAME`` beside its lock file ``NAME.lock``) whose
    lock nobody holds: a run holds the lock for as long as it uses the directory and removes
    the directory when done, so an unlocked one was left by a run killed outright."""
    import fcntl

    removed = []
    try:
        locks = [p for p in parent.iterdir() if p.name.endswith(".lock")]
    except OSError:
        return removed
    for lock in locks:
        work = lock.with_name(lock.name[:-len(".lock")])
        if not work.is_dir() or work.is_symlink():
            continue
        try:
            handle = lock.open("a")
        except OSError:
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # in use by a live run
            try:
                if _clear(work):
                    removed.append(work)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    return removed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
