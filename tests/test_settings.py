"""One Settings value: sources in order, validation with one clear line, repository paths
contained, and property-based checks that no input crashes the resolver."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scout.settings import (
    Settings,
    SettingsError,
    default_db_path,
    parse_budget,
    resolve_settings,
)


def _workspace(tmp_path: Path, toml: str | None = None) -> Path:
    ws = tmp_path / "ws"
    (ws / ".scout").mkdir(parents=True, exist_ok=True)
    config = ws / ".scout" / "config.toml"
    if toml is not None:
        config.write_text(toml)
    else:
        config.unlink(missing_ok=True)
    return ws


def test_defaults(tmp_path: Path) -> None:
    s = resolve_settings(tmp_path, environ={}, user_config=tmp_path / "none.toml")
    assert s == Settings()
    assert s.scorer == "hybrid" and s.budget == 20 and s.deadline == 60.0
    assert s.source("scorer") == "default"


def test_precedence_flags_editor_env_workspace_user(tmp_path: Path) -> None:
    user = tmp_path / "user.toml"
    user.write_text('scorer = "ollama"\nbudget = "high"\n[ollama]\nmodel = "mine"\n'
                    '[timeouts]\nmodel = 9\n')
    ws = _workspace(tmp_path, 'scorer = "haiku"\nbudget = 7\n[timeouts]\ndeadline = 11\n')
    env = {"SCOUT_SCORER": "heuristic", "OLLAMA_HOST": "http://10.0.0.2:1"}
    s = resolve_settings(ws, environ=env, user_config=user)
    assert (s.scorer, s.budget, s.ollama_model, s.model_timeout, s.deadline) == \
        ("heuristic", 7, "mine", 9.0, 11.0)
    assert s.source("scorer") == "environment"
    assert s.source("budget").startswith("workspace")
    assert s.source("ollama_model").startswith("user config")
    s = resolve_settings(ws, environ=env, user_config=user,
                         init_options={"scorer": "ollama", "shadow": {"enabled": True}},
                         editor={"budget": "low"}, flags={"scorer": "hybrid"})
    assert (s.scorer, s.budget, s.shadow) == ("hybrid", 10, True)
    assert s.source("budget") == "editor configuration"
    assert s.source("shadow") == "initializationOptions"
    assert s.source("scorer") == "command line"


@pytest.mark.parametrize(("key", "value", "words"), [
    ("scorer", "gpt", "not one of"),
    ("ollama_host", "http://[::1", "not a valid URL"),
    ("ollama_host", "ftp://x", "http(s) URL"),
    ("model_timeout", "nan", "seconds"),
    ("model_timeout", -1, "seconds"),
    ("budget", "9223372036854775808", "must be low"),
    ("budget", 0, "must be low"),
    ("shadow", "maybe", "true or false"),
    ("ollama_model", "a\x1b]0;x", "control characters"),
])
def test_bad_values_get_one_clear_line(tmp_path: Path, key: str, value: object,
                                       words: str) -> None:
    with pytest.raises(SettingsError, match=r".*") as err:
        resolve_settings(tmp_path, flags={key: value}, environ={},
                         user_config=tmp_path / "none.toml")
    message = str(err.value)
    assert words in message and "\n" not in message
    assert key in message and "command line" in message


def test_a_repository_cannot_point_the_log_outside_itself(tmp_path: Path) -> None:
    for path in ("/tmp/elsewhere.db", "../outside.db", "sub/../../outside.db"):
        ws = _workspace(tmp_path, f'db = "{path}"\n')
        with pytest.raises(SettingsError, match="outside the workspace"):
            resolve_settings(ws, environ={}, user_config=tmp_path / "none.toml")
    ws = _workspace(tmp_path, 'db = "logs/scout.db"\n')
    s = resolve_settings(ws, environ={}, user_config=tmp_path / "none.toml")
    assert s.db == (ws / "logs" / "scout.db").resolve()
    # the user's own choices may go anywhere
    user = tmp_path / "user.toml"
    user.write_text('database = "/tmp/mine.db"\n')
    assert resolve_settings(_workspace(tmp_path), environ={}, user_config=user).db == \
        Path("/tmp/mine.db")
    assert resolve_settings(ws, environ={"SCOUT_DB": "/tmp/env.db"},
                            user_config=tmp_path / "none.toml").db == Path("/tmp/env.db")


def test_broken_config_files_are_named(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, "scorer = \n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        resolve_settings(ws, environ={}, user_config=tmp_path / "none.toml")
    ws = _workspace(tmp_path, 'colour = "blue"\n[ollama]\nhots = "x"\n')
    s = resolve_settings(ws, environ={}, user_config=tmp_path / "none.toml")
    assert len(s.warnings) == 2 and "colour" in s.warnings[0] and "ollama.hots" in s.warnings[1]


def test_with_changes_validates_and_records_the_source() -> None:
    s = Settings().with_changes("editor command", scorer="heuristic")
    assert s.scorer == "heuristic" and s.source("scorer") == "editor command"
    with pytest.raises(SettingsError):
        Settings().with_changes("editor command", scorer="nope")


def test_default_database_follows_xdg(tmp_path: Path) -> None:
    assert default_db_path({"XDG_DATA_HOME": str(tmp_path)}) == \
        tmp_path / "semantic-scout" / "scout.db"
    assert default_db_path({"XDG_DATA_HOME": "relative"}).is_absolute()


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=10), children, max_size=3), max_leaves=10)


@settings(max_examples=300, deadline=None)
@given(editor=st.dictionaries(st.sampled_from(
    ["scorer", "budget", "ollama", "shadow", "database", "timeouts", "log", "index", "x"]),
    _json, max_size=5))
def test_any_editor_object_resolves_or_fails_with_a_settings_error(editor: dict) -> None:
    try:
        s = resolve_settings(None, editor=editor, environ={}, user_config=Path("/nonexistent"))
    except SettingsError as exc:
        assert "\n" not in str(exc)
        return
    assert 1 <= s.budget <= 10_000
    assert math.isfinite(s.model_timeout) and s.model_timeout > 0


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.booleans(),
                       st.none()))
def test_budget_parsing_never_crashes(value: object) -> None:
    try:
        budget = parse_budget(value)
    except SettingsError:
        return
    assert 1 <= budget <= 10_000
