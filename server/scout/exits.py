"""One exit-status scheme for every command-line program (``scout`` and its subcommands,
``scout-export``), and the wrapper that enforces it (README, "Exit status").

    0    done: the result is complete (warnings about logging or a teacher go to stderr)
    1    nothing to do or nothing matched (an export with no example)
    2    usage: bad arguments, a bad setting, a question not understood, no such workspace
    3    the database cannot be used, and the command needs it (export, label)
    4    partial: the answer is out, but some of it is missing (nodes no scorer answered,
         labels the teacher failed on)
    5    a service or tool the command needs failed (the Anthropic API for labels, GHC)
    70   a bug: an unexpected error (one line; SCOUT_DEBUG=1 prints the traceback)
    128+N  stopped by signal N: 129 SIGHUP, 130 Ctrl-C (SIGINT), 141 stdout closed (SIGPIPE,
         ``| head``), 143 SIGTERM; everything started is stopped and cleaned up first

Messages for people go to stderr, one line each, with terminal control characters made
visible (:func:`terminal_safe`): file names, questions and model text are not trusted.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

OK = 0
EMPTY = 1
USAGE = 2
STORE = 3
PARTIAL = 4
UNAVAILABLE = 5
SOFTWARE = 70
SIGNALLED = 128  # + the signal number
BROKEN_PIPE = SIGNALLED + signal.SIGPIPE

# C0 controls but tab and newline, DEL, C1 controls (ESC [ and CSI, OSC, ...), lone
# surrogates, and the bidirectional overrides and isolates that reorder what a reader sees.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f"
                     "\u202a-\u202e\u2066-\u2069]")
# In JSON, C0 is already escaped by json.dumps; the rest is escaped here (same value decoded).
_UNSAFE_JSON = re.compile("[\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u2028\u2029"
                          "\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with every character that could steer a terminal (``ESC ]0;`` retitles it,
    ``ESC [2J`` clears it, a bidi override reorders a line) shown as an escape instead."""
    return _UNSAFE.sub(_escape, text)


def json_safe(text: str) -> str:
    """A JSON document (from ``json.dumps(..., ensure_ascii=False)``) with the characters
    :func:`terminal_safe` distrusts written as ``\\uXXXX`` escapes: same JSON value, and safe
    to print. Valid because such characters can only occur inside JSON strings."""
    return _UNSAFE_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def repaired_argv(argv: list[str]) -> list[str]:
    """Arguments with undecodable bytes (which Python keeps as lone surrogates) replaced by
    U+FFFD, so a question with a stray byte is answered and logged, never a crash."""
    return [arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            if not arg.isascii() else arg for arg in argv]


class SafeParser(argparse.ArgumentParser):
    """argparse with its messages (which quote the arguments) made safe for a terminal."""

    def _print_message(self, message: str, file: Any = None) -> None:
        super()._print_message(terminal_safe(message) if message else message, file)


class UsageError(Exception):
    """A mistake the user can fix (exit 2); the message is one line."""


class Stopped(BaseException):
    """SIGTERM or SIGHUP arrived: unwind (cleanup runs) and exit with 128 + the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def say(prog: str, message: str, *, kind: str = "error") -> None:
    try:
        print(terminal_safe(f"{prog}: {kind}: {message}" if kind else f"{prog}: {message}"),
              file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass  # stderr is gone too: nothing left to tell


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP (a closed terminal) unwind like Ctrl-C, so ``finally`` blocks run:
    worker processes are stopped, scratch copies removed, the log written. Only the main
    thread can install handlers; elsewhere (a test calling ``main``) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise Stopped(signum)

    previous = {}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_IGN:
            continue  # `nohup scout ...`: the user asked for this signal to be ignored
        try:
            previous[signum] = signal.signal(signum, stop)
        except (ValueError, OSError):
            pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run(prog: str, body: Callable[[], int]) -> int:
    """Run a program's body under the scheme: its own status when it returns, else the status
    of what stopped it, with one line on stderr."""
    try:
        with _stop_on_signals():
            return int(body())
    except UsageError as exc:
        say(prog, str(exc))
        return USAGE
    except BrokenPipeError:
        # The reader went away (`scout query ... | head -1`): nothing more can be shown.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return BROKEN_PIPE
    except KeyboardInterrupt:
        say(prog, "interrupted", kind="")
        return SIGNALLED + signal.SIGINT
    except Stopped as exc:
        say(prog, f"stopped by {exc}", kind="")
        return SIGNALLED + exc.signum
    except Exception as exc:
        if os.environ.get("SCOUT_DEBUG"):
            traceback.print_exc()
        say(prog, f"internal error, please report it: {type(exc).__name__}: {exc} "
                  "(SCOUT_DEBUG=1 shows where)")
        return SOFTWARE
