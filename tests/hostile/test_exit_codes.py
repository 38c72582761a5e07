"""One exit-status scheme for every command-line program (scout.exits, README "Exit
status"): each status is produced here by a real situation, for `scout` and `scout-export`."""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path

import pytest
from scoring_fakes import API_KEY, FakeAnthropic, anthropic_error, anthropic_message

from scout import exits

from .conftest import EXAMPLE, QUESTION, Home, checkpoint


def test_the_scheme_is_the_documented_one() -> None:
    assert (exits.OK, exits.EMPTY, exits.USAGE, exits.STORE, exits.PARTIAL,
            exits.UNAVAILABLE, exits.SOFTWARE, exits.BROKEN_PIPE) == (0, 1, 2, 3, 4, 5, 70, 141)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 4 |", "| 5 |", "| 70 |", "| 130 |",
                 "| 141 |", "| 143 |", "| 129 |"):
        assert code in readme, f"README's exit status table lacks {code}"


@pytest.fixture
def logged(home: Home) -> Home:
    run = home.run("query", "--target", "LLMKind", "--change", "add_constructor", "--root",
                   str(EXAMPLE), "--scorer", "heuristic", "--budget", "4")
    assert run.returncode == 0, run.stderr
    return home


def test_0_done(logged: Home, tmp_path: Path) -> None:
    assert logged.run("index", "--root", str(EXAMPLE)).returncode == 0
    assert logged.run("--format", "json", "--out", str(tmp_path / "d"),
                      prog="scout-export").returncode == 0


def test_1_nothing_matched(logged: Home, tmp_path: Path) -> None:
    run = logged.run("--format", "json", "--out", str(tmp_path / "d"), "--label-source", "ghc",
                     prog="scout-export")
    assert run.returncode == 1 and "no examples" in run.stderr


@pytest.mark.parametrize("args, prog", [
    (("query", "--no-such-flag"), "scout"),
    (("query", QUESTION, "--root", "/nonexistent/workspace"), "scout"),
    (("query", "What breaks if I add a variant to Nothing_Here?", "--root", str(EXAMPLE),
      "--scorer", "heuristic", "--no-log"), "scout"),
    (("label", "--limit", "-5"), "scout"),
    (("actions", "nowhere.hs:1", "--root", str(EXAMPLE)), "scout"),
    (("--format", "yaml", "--out", "x"), "scout-export"),
    (("--format", "json", "--out", "x", "--since", "yesterday"), "scout-export"),
])
def test_2_usage(home: Home, args: tuple[str, ...], prog: str) -> None:
    run = home.run(*args, prog=prog)
    assert run.returncode == 2, run.stderr
    run.no_traceback()
    assert run.stdout == ""


def test_3_the_database_a_command_needs_is_unusable(logged: Home, tmp_path: Path) -> None:
    run = logged.run("--format", "json", "--out", str(tmp_path / "d"), "--db",
                     str(tmp_path / "missing.db"), prog="scout-export")
    assert run.returncode == 3 and "no database" in run.stderr
    checkpoint(logged.db)
    logged.db.write_bytes(logged.db.read_bytes()[:5000])  # truncated
    for args, prog in ((("label",), "scout"),
                       (("--format", "json", "--out", str(tmp_path / "d")), "scout-export")):
        run = logged.run(*args, prog=prog, env={"ANTHROPIC_API_KEY": API_KEY})
        assert run.returncode == 3, (args, run.stderr)
        run.no_traceback()
        assert "damaged" in run.stderr


def test_4_partial_and_5_unavailable(logged: Home) -> None:
    calls = {"n": 0}

    def every_other(body):
        calls["n"] += 1
        if calls["n"] % 2:
            return anthropic_error(400, "invalid_request_error", "refused")
        return anthropic_message(body["model"], {"relevance": 3, "risk": 3, "confidence": 3,
                                                 "reasoning": "a use of LLMKind"})

    server = FakeAnthropic(every_other)
    try:
        env = {"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": server.url}
        run = logged.run("label", "--limit", "2", env=env)
        assert run.returncode == 4, run.stderr  # one labelled, one failed
        server.answer = lambda body: anthropic_error(400, "invalid_request_error", "refused")
        run = logged.run("label", env=env)
        assert run.returncode == 5, run.stderr  # every remaining label failed
    finally:
        server.close()


def test_70_an_unexpected_error_is_one_line(home: Home, tmp_path: Path) -> None:
    # A fault injected into the real program (a bug nobody anticipated): sitecustomize runs
    # at interpreter start and breaks the exploration.
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(
        "import scout.session\n"
        "def explore(*args, **kwargs):\n"
        "    raise RuntimeError('injected fault')\n"
        "scout.session.explore = explore\n")
    env = {"PYTHONPATH": f"{inject}{os.pathsep}{home.env['PYTHONPATH']}"}
    run = home.run("query", QUESTION, "--root", str(EXAMPLE), "--no-log", env=env)
    assert run.returncode == 70, run.stderr
    assert run.stderr == ("scout: error: internal error, please report it: RuntimeError: "
                          "injected fault (SCOUT_DEBUG=1 shows where)\n")
    debug = home.run("query", QUESTION, "--root", str(EXAMPLE), "--no-log",
                     env={**env, "SCOUT_DEBUG": "1"})
    assert debug.returncode == 70 and "Traceback" in debug.stderr


def test_the_wrapper_maps_every_way_out(capsys: pytest.CaptureFixture[str]) -> None:
    def raises(exc: BaseException):
        def body() -> int:
            raise exc
        return body

    assert exits.run("p", lambda: 4) == 4
    assert exits.run("p", raises(exits.UsageError("bad \x1b[2J thing"))) == 2
    assert exits.run("p", raises(KeyboardInterrupt())) == 130
    assert exits.run("p", raises(exits.Stopped(signal.SIGTERM))) == 143
    assert exits.run("p", raises(exits.Stopped(signal.SIGHUP))) == 129
    assert exits.run("p", raises(ZeroDivisionError("x"))) == 70
    err = capsys.readouterr().err.splitlines()
    assert err == ["p: error: bad \\x1b[2J thing", "p: interrupted", "p: stopped by SIGTERM",
                   "p: stopped by SIGHUP",
                   "p: error: internal error, please report it: ZeroDivisionError: x "
                   "(SCOUT_DEBUG=1 shows where)"]


def test_a_locked_database_is_a_warning_not_a_failure_of_the_answer(home: Home) -> None:
    db = home.base / "locked.db"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        run = home.run("query", QUESTION, "--root", str(EXAMPLE), "--scorer", "heuristic",
                       "--db", str(db), "--budget", "low")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert run.returncode == 0 and "not logged" in run.stderr
