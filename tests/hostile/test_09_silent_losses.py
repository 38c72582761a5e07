"""Item 9: silent losses in the answer. Skipped files (binary, too big, unreadable, deeper than
PATH_MAX) were not mentioned in the answer's coverage, so a user could not tell that break
sites may be missing; a shadow teacher's failure was recorded but never shown. (The language
server's side is in test_lsp_hostile.py; PATH_MAX in test_02_walker.py.)"""

from __future__ import annotations

import json
import os
from pathlib import Path

from scoring_fakes import API_KEY, FakeAnthropic, anthropic_error

from .conftest import QUESTION, Home

BREAKS_TOO = b"module Extra where\nimport LLM.Types\nf :: LLMKind -> Int\nf Haiku = 1\n"


def _damage(ws: Path) -> dict[str, str]:
    (ws / "src" / "Binary.hs").write_bytes(BREAKS_TOO + b"\x00\x01\x02")
    with (ws / "src" / "Generated.hs").open("wb") as fh:
        fh.write(BREAKS_TOO)
        fh.truncate(5 * 1024 * 1024)
    os.symlink("nowhere/Gone.hs", ws / "src" / "Gone.hs")
    return {"src/Binary.hs": "binary", "src/Generated.hs": "larger than",
            "src/Gone.hs": "not a regular file"}


def test_skipped_files_are_in_the_json_coverage(home: Home, ws: Path) -> None:
    expected = _damage(ws)
    run = home.run("query", QUESTION, "--root", str(ws), "--scorer", "heuristic", "--json")
    assert run.returncode == 0, run.stderr
    skipped = {s["path"]: s["reason"] for s in json.loads(run.stdout)["coverage"]["skipped"]}
    assert set(skipped) == set(expected)
    for path, words in expected.items():
        assert words in skipped[path]


def test_skipped_files_are_in_the_text_report(home: Home, ws: Path) -> None:
    expected = _damage(ws)
    run = home.run("query", QUESTION, "--root", str(ws), "--scorer", "heuristic")
    assert run.returncode == 0, run.stderr
    assert "skipped 3 file(s) the index could not read" in run.stdout
    for path in expected:
        assert f"  {path}: " in run.stdout


def test_a_failing_shadow_teacher_is_shown(home: Home, ws: Path) -> None:
    server = FakeAnthropic(lambda body: anthropic_error(400, "invalid_request_error",
                                                        "model not available"))
    try:
        run = home.run("query", QUESTION, "--root", str(ws), "--scorer", "heuristic",
                       "--shadow", "haiku", "--budget", "low",
                       env={"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": server.url})
    finally:
        server.close()
    assert run.returncode == 0, run.stderr  # the answer is the heuristics', complete
    assert "scout: warning: the haiku teacher: 10 of 10 node(s) not scored by haiku" in \
        run.stderr
    assert "model not available" in run.stderr
