"""Item 10: terminal safety and pipes. File names, model reasoning and questions with escape
sequences were printed raw (`ESC ]0;...` retitles the terminal), and `scout query ... | head -1`
ended in a BrokenPipe traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from scoring_fakes import FakeOllama

from scout.functiongemma import render_call

from .conftest import QUESTION, Home, rows

RETITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
CSI = "\x9b31m"  # the one-byte C1 form of ESC [
BIDI = "\u202e"  # right-to-left override: reorders what a reader sees
NASTY = (RETITLE, CLEAR, CSI, BIDI, "\r")


def _raw_controls(text: str) -> list[str]:
    return [c for c in NASTY if c in text] + (["ESC"] if "\x1b" in text else [])


def _evil_file(ws: Path) -> str:
    name = f"Evil{RETITLE}.hs"
    (ws / "src" / name).write_text("module Evil where\nimport LLM.Types\n\n"
                                   "evil :: LLMKind -> Int\nevil Haiku = 1\nevil _ = 2\n")
    return name


def test_escape_sequences_in_file_names_questions_and_reasoning_are_shown_not_obeyed(
        home: Home, ws: Path) -> None:
    _evil_file(ws)
    server = FakeOllama(lambda body: render_call("score_node", {
        "relevance": 4, "risk": 4, "confidence": 3,
        "reasoning": f"pattern match{RETITLE}{CLEAR}{CSI}{BIDI} breaks"}))
    try:
        run = home.run("query", f"add a variant to LLMKind {CLEAR}", "--root", str(ws),
                       "--scorer", "ollama", "--ollama-host", server.url, "--budget", "high")
    finally:
        server.close()
    assert run.returncode == 0, run.stderr
    assert _raw_controls(run.stdout) == [] and _raw_controls(run.stderr) == []
    assert "src/Evil\\x1b]0;pwned\\x07.hs" in run.stdout  # visible, harmless
    assert "\\x9b31m" in run.stdout and "\\u202e" in run.stdout
    # the record keeps the text as it was: only the terminal is protected
    assert any(RETITLE in r for (r,) in rows(home.db, "SELECT reasoning FROM rubrics"))


def test_json_output_escapes_them_and_keeps_the_values(home: Home, ws: Path) -> None:
    name = _evil_file(ws)
    run = home.run("query", f"add a variant to LLMKind {CSI}{BIDI}", "--root", str(ws),
                   "--scorer", "heuristic", "--json", "--budget", "high", "--no-log")
    assert run.returncode == 0, run.stderr
    assert _raw_controls(run.stdout) == []
    data = json.loads(run.stdout)
    assert data["query"]["query"].endswith(f"{CSI}{BIDI}")  # same value, decoded
    assert any(n["location"].startswith(f"src/{name}") for n in data["nodes"])


def test_index_output_is_safe_too(home: Home, ws: Path) -> None:
    (ws / "src" / f"Bad{CLEAR}.hs").write_bytes(b"\x00binary")
    run = home.run("index", "--root", str(ws), "--no-cache")
    assert run.returncode == 0, run.stderr
    assert _raw_controls(run.stdout) == [] and "Bad\\x1b[2J.hs" in run.stdout


def test_errors_quoting_the_arguments_are_safe(home: Home, ws: Path) -> None:
    run = home.run("query", "--root", str(ws / f"missing{RETITLE}"), QUESTION)
    assert run.returncode == 2 and _raw_controls(run.stderr) == []
    run = home.run("label", "--limit", RETITLE)
    assert run.returncode == 2 and _raw_controls(run.stderr) == []
    run = home.run("--format", "json", "--out", str(ws), "--since", RETITLE, prog="scout-export")
    assert run.returncode == 2 and _raw_controls(run.stderr) == []


def test_a_closed_pipe_ends_quietly_and_the_answer_is_still_logged(home: Home,
                                                                   ws: Path) -> None:
    err = (home.base / "stderr").open("w+b")
    proc = home.popen("query", QUESTION, "--root", str(ws), "--scorer", "heuristic",
                      stdout=subprocess.PIPE, stderr=err)
    proc.stdout.close()  # type: ignore[union-attr]  # `| head -0`: the reader is gone at once
    code = proc.wait(timeout=120)
    err.seek(0)
    stderr = err.read().decode()
    err.close()
    assert code == 141, stderr  # 128 + SIGPIPE, as a shell reports a process killed by it
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert rows(home.db, "SELECT count(*) FROM queries") == [(1,)]  # nothing lost


def test_head_in_a_real_shell_pipeline(home: Home, ws: Path) -> None:
    env = {**os.environ, **home.env}
    started = time.monotonic()
    proc = subprocess.run(["bash", "-o", "pipefail", "-c",
                           f'"{sys.executable}" -m scout.cli query "{QUESTION}" --root "{ws}" '
                           '--scorer heuristic --budget high | head -1'],
                          capture_output=True, text=True, env=env, timeout=120)
    assert time.monotonic() - started < 120
    assert proc.stdout == QUESTION + "\n"
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 141)  # 0 when the report fitted in the pipe before head left
