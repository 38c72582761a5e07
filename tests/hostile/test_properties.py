"""Property-based tests of what users and repositories feed in: command-line arguments, config
files (any bytes, any TOML), the environment, and the text that reaches a terminal or the
store. Each input either works or is refused with one line; nothing else may happen."""

from __future__ import annotations

import argparse
import json
import math
import os
import string
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scout import exits
from scout.cli import CliError, make_parser, resolve_cli_settings
from scout.explore.model import (
    ChangeKind,
    Coverage,
    EdgeKind,
    Exploration,
    Node,
    Question,
    SiteFacts,
    Target,
)
from scout.settings import SettingsError, resolve_settings
from scout.store import Store
from scout.store.db import MAX_TEXT_CHARS

FLAG_VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["nan", "inf", "-inf", "-1", "0", "1e309", "9" * 40, "low", "HIGH",
                     "http://[::1", "http://127.0.0.1:11434", "\x00", "\udcff", "", " 3 ",
                     "1_000", "0x10", "\u0663"]))
OPTIONS = ["--budget", "--timeout", "--deadline", "--scorer", "--ollama-host",
           "--ollama-model", "--ollama-mode", "--workers", "--db", "--cache-dir",
           "--anthropic-model", "--tags", "--change", "--target"]


@settings(max_examples=400, deadline=None)
@given(pairs=st.lists(st.tuples(st.sampled_from(OPTIONS), FLAG_VALUES), max_size=4))
def test_query_options_resolve_or_are_refused_in_one_line(pairs: list[tuple[str, str]]) -> None:
    argv = ["query", "What breaks if I add a variant to LLMKind?"]
    for option, value in pairs:
        argv += [f"{option}={value}"]
    argv = exits.repaired_argv(argv)
    try:
        args = make_parser().parse_args(argv)
    except SystemExit as exc:  # argparse refused it (its own one-line message)
        assert exc.code == 2
        return
    with tempfile.TemporaryDirectory() as tmp, \
            mock.patch.dict(os.environ, {"XDG_CONFIG_HOME": tmp}, clear=True):
        try:
            settings_ = resolve_cli_settings(args, Path(tmp))
        except CliError as exc:
            assert "\n" not in str(exc) and str(exc)
            return
    assert 1 <= settings_.budget <= 10_000
    assert math.isfinite(settings_.model_timeout) and 0 < settings_.model_timeout <= 3600
    assert settings_.deadline is None or math.isfinite(settings_.deadline)


@settings(max_examples=300, deadline=None)
@given(value=FLAG_VALUES)
def test_label_limit_is_a_count_or_refused(value: str) -> None:
    parser = make_parser()
    try:
        args = parser.parse_args(["label", "--limit", exits.repaired_argv([value])[0]])
    except SystemExit as exc:
        assert exc.code == 2
        return
    assert isinstance(args.limit, int) and 1 <= args.limit <= 1_000_000


_SCALARS = st.one_of(st.booleans(), st.integers(min_value=-2**63, max_value=2**63 - 1),
                     st.floats(allow_nan=False, allow_infinity=False),
                     st.text(alphabet=string.printable + "é\u202e", max_size=20))
_KEYS = st.sampled_from(["scorer", "budget", "database", "db", "log", "ollama", "host",
                         "model", "mode", "shadow", "enabled", "timeouts", "deadline", "hover",
                         "index", "cacheDir", "workers", "anthropic", "unknown"])
_TABLES = st.dictionaries(_KEYS, st.one_of(_SCALARS, st.dictionaries(_KEYS, _SCALARS,
                                                                     max_size=3)), max_size=5)


def _toml(table: dict, prefix: str = "") -> str:
    """A TOML document for a nested dict of scalars (strings as JSON strings: valid TOML)."""
    lines, tables = [], []
    for key, value in table.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, str):
            lines.append(f"{key} = {json.dumps(value)}")
        else:
            lines.append(f"{key} = {value!r}")
    text = "\n".join(lines) + "\n"
    for key, sub in tables:
        text += f"[{prefix}{key}]\n" + _toml(sub, f"{prefix}{key}.")
    return text


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(workspace_config=_TABLES, user_config=_TABLES)
def test_any_config_file_resolves_or_fails_with_one_line(workspace_config: dict,
                                                         user_config: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        (root / ".scout").mkdir(parents=True)
        (root / ".scout" / "config.toml").write_text(_toml(workspace_config))
        user = Path(tmp) / "user.toml"
        user.write_text(_toml(user_config))
        try:
            resolved = resolve_settings(root, environ={}, user_config=user)
        except SettingsError as exc:
            assert "\n" not in str(exc) and str(exc)
            return
        if resolved.source("db").startswith("workspace") and resolved.db is not None:
            assert resolved.db.resolve().is_relative_to(root.resolve())  # never outside it


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300))
def test_a_config_file_of_any_bytes_is_read_or_named_in_one_line(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".scout").mkdir()
        (root / ".scout" / "config.toml").write_bytes(data)
        try:
            resolve_settings(root, environ={}, user_config=root / "none.toml")
        except SettingsError as exc:
            assert "\n" not in str(exc)


@settings(max_examples=200, deadline=None)
@given(env=st.fixed_dictionaries({}, optional={
    "SCOUT_DB": st.text(max_size=20), "OLLAMA_HOST": FLAG_VALUES,
    "SCOUT_SCORER": st.sampled_from(["hybrid", "heuristic", "HAIKU", "gpt", ""])}))
def test_the_environment_resolves_or_fails_with_one_line(env: dict[str, str]) -> None:
    env = {k: v for k, v in env.items() if "\x00" not in v}
    try:
        resolved = resolve_settings(None, environ=env, user_config=Path("/nonexistent"))
    except SettingsError as exc:
        assert "\n" not in str(exc)
        assert "OLLAMA_HOST" not in str(exc)  # a bad OLLAMA_HOST never stops resolution
        return
    if "ollama_host" in resolved.problems:
        assert resolved.ollama_host is None and "OLLAMA_HOST" in resolved.problems["ollama_host"]


UNSAFE = set(map(chr, [*range(0, 9), *range(11, 32), *range(0x7F, 0xA0)])) | {
    "\u202e", "\u2066", "\u200f"}


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet=st.characters(codec=None), max_size=60))
def test_terminal_safe_leaves_nothing_a_terminal_obeys(text: str) -> None:
    shown = exits.terminal_safe(text)
    assert not (set(shown) & UNSAFE)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in shown)
    shown.encode("utf-8")  # printable on a UTF-8 terminal
    if not any(c in UNSAFE or 0xD800 <= ord(c) <= 0xDFFF for c in text):
        assert shown == text


@settings(max_examples=500, deadline=None)
@given(value=st.recursive(st.none() | st.text(alphabet=st.characters(codec=None), max_size=20)
                          | st.integers(), lambda c: st.lists(c, max_size=3)
                          | st.dictionaries(st.text(max_size=5), c, max_size=3), max_leaves=8))
def test_json_safe_keeps_the_value_and_drops_raw_controls(value: object) -> None:
    text = exits.json_safe(json.dumps(value, ensure_ascii=False))
    assert json.loads(text) == value
    assert not (set(text) & UNSAFE)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=40))
def test_any_argument_bytes_become_valid_text(raw: bytes) -> None:
    arg = os.fsdecode(raw)  # what Python makes of the bytes in argv
    [repaired] = exits.repaired_argv([arg])
    repaired.encode("utf-8")
    if raw.decode("utf-8", "ignore").encode() == raw:  # valid UTF-8 stays exactly as it is
        assert repaired == arg


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    with Store.open(tmp_path_factory.mktemp("prop") / "p.db", environ={}) as opened:
        yield opened


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.characters(codec=None), min_size=1, max_size=200),
       path=st.text(alphabet=st.characters(codec=None), min_size=1, max_size=30),
       big=st.integers(min_value=0, max_value=3 * MAX_TEXT_CHARS))
def test_any_text_is_logged_and_read_back(store: Store, text: str, path: str,
                                          big: int) -> None:
    from scout.scoring.model import LabelSource, Rubric, Scored

    question = Question(text=text, target="T", change=ChangeKind.ADD_CONSTRUCTOR, tags=())
    node = Node(path=path, line=1, hover=text, snippet="x" * big + text,
                facts=SiteFacts(edge=EdgeKind.MATCH_SITE, breaks=True, detail=text, symbol=text))
    exploration = Exploration(question=question, target=Target("T", "M", "data", path, 1),
                              nodes=[node], coverage=Coverage(1, 0, 1, 1))
    scored = Scored(rubric=Rubric(3, 3, 3, text if text.strip() else "r"), scorer="heuristic",
                    label_source=LabelSource.HEURISTIC)
    query_id = store.record(exploration, [[scored]], root=Path(tempfile.gettempdir()))
    (stored_text,) = store.rows("SELECT text FROM queries WHERE id = ?", (query_id,))[0]
    (snippet,) = store.rows("SELECT snippet FROM nodes WHERE query_id = ?", (query_id,))[0]
    assert len(snippet) <= MAX_TEXT_CHARS + 100
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        assert stored_text == text or "[REDACTED" in stored_text  # kept, or a secret redacted


def test_property_inputs_cover_argparse_types() -> None:
    # the flag types the CLI adds must be argparse-type functions (errors as ArgumentTypeError)
    parser = make_parser()
    label = next(a for a in parser._subparsers._group_actions[0].choices["label"]._actions
                 if a.dest == "limit")
    with pytest.raises(argparse.ArgumentTypeError):
        label.type("-5")


@pytest.mark.parametrize("value", ["~0", "~nosuchuser/db", "~\u202e/x"])
def test_a_home_of_no_such_user_is_one_line(value: str, tmp_path: Path) -> None:
    # found by test_the_environment_resolves_or_fails_with_one_line: expanduser() raised
    with pytest.raises(SettingsError, match="no such user"):
        resolve_settings(None, environ={"SCOUT_DB": value}, user_config=tmp_path / "none")
    with pytest.raises(CliError, match="no such user"):
        from scout.cli import _root

        _root(value)
