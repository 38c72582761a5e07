"""`scout actions`: the editor's code actions on the command line (everything the editor can
do, the CLI can do too), and `scout serve` as editors start it."""

from __future__ import annotations

import json

from tests.test_cli import EXAMPLE, scout

TYPES = EXAMPLE / "src" / "LLM" / "Types.hs"


def _line(needle: str) -> int:
    return next(i for i, line in enumerate(TYPES.read_text().splitlines(), 1) if needle in line)


def test_actions_at_a_type_and_a_field() -> None:
    proc = scout("actions", f"{TYPES}:{_line('data LLMKind')}:6", "--root", str(EXAMPLE),
                 "--json", "--no-cache")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [{"question": "What breaks if I add a constructor to "
                                        "LLMKind?", "target": "LLM.Types.LLMKind",
                                        "change": "add_constructor"}]
    line = _line("newtype Tokens")
    proc = scout("actions", f"{TYPES}:{line}:29", "--root", str(EXAMPLE), "--no-cache")
    assert proc.returncode == 0, proc.stderr
    assert "remove the field getTokens?" in proc.stdout
    assert "--target LLM.Types.getTokens --change remove_field" in proc.stdout


def test_actions_where_nothing_applies_and_bad_places() -> None:
    proc = scout("actions", f"{TYPES}:1", "--root", str(EXAMPLE), "--json", "--no-cache")
    assert proc.returncode == 0 and json.loads(proc.stdout) == []
    proc = scout("actions", "Nowhere.hs:3", "--root", str(EXAMPLE))
    assert proc.returncode == 2 and "not inside the workspace" in proc.stderr
    proc = scout("actions", f"{TYPES}:x", "--root", str(EXAMPLE))
    assert proc.returncode == 2 and "FILE:LINE" in proc.stderr
    proc = scout("actions", f"{TYPES}:100000", "--root", str(EXAMPLE))
    assert proc.returncode == 2 and "not a line" in proc.stderr


def test_serve_help_names_the_transport() -> None:
    proc = scout("serve", "--help")
    assert proc.returncode == 0 and "--tcp" in proc.stdout
