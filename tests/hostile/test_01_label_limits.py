"""Item 1: paid calls beyond the limit. `scout label --limit -5` labelled every logged node (a
negative LIMIT is no limit in SQLite) and then claimed success for labels that all failed."""

from __future__ import annotations

import pytest
from scoring_fakes import API_KEY, FakeAnthropic, anthropic_error, anthropic_message

from scout.store import Store, StoreError

from .conftest import EXAMPLE, Home, rows


@pytest.fixture
def logged(home: Home) -> Home:
    run = home.run("query", "--target", "LLMKind", "--change", "add_constructor", "--root",
                   str(EXAMPLE), "--scorer", "heuristic", "--budget", "6")
    assert run.returncode == 0, run.stderr
    assert rows(home.db, "SELECT count(*) FROM nodes") == [(6,)]
    return home


@pytest.fixture
def anthropic():
    servers: list[FakeAnthropic] = []

    def start(answer=None) -> FakeAnthropic:
        servers.append(FakeAnthropic(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize("limit", ["-5", "0", "-1", "99999999999999999999", "1e3", "five",
                                   "nan"])
def test_a_limit_that_is_not_a_count_is_refused_before_anything_is_sent(
        logged: Home, anthropic, limit: str) -> None:
    server = anthropic()
    run = logged.run("label", "--limit", limit,
                     env={"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": server.url})
    assert run.returncode == 2, run.stderr
    run.no_traceback()
    assert "--limit" in run.stderr and "from 1 to" in run.stderr
    assert server.server.requests == []  # not one paid call
    assert rows(logged.db, "SELECT count(*) FROM rubrics WHERE label_source = 'haiku'") == [(0,)]


def test_the_limit_is_honoured(logged: Home, anthropic) -> None:
    server = anthropic(lambda body: anthropic_message(body["model"], {
        "relevance": 4, "risk": 4, "confidence": 3, "reasoning": "a case over LLMKind"}))
    run = logged.run("label", "--limit", "2",
                     env={"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": server.url})
    assert run.returncode == 0, run.stderr
    assert len(server.server.requests) == 2
    assert rows(logged.db, "SELECT count(*) FROM rubrics WHERE label_source = 'haiku' "
                           "AND relevance IS NOT NULL") == [(2,)]


def test_failed_labels_are_not_called_labelled(logged: Home, anthropic) -> None:
    server = anthropic(lambda body: anthropic_error(400, "invalid_request_error",
                                                    "prompt is too long"))
    run = logged.run("label", "--limit", "3",
                     env={"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": server.url})
    assert run.returncode == 5, (run.stdout, run.stderr)  # the service failed every label
    assert "0 of 3 node(s) labelled by haiku, 3 failed" in run.stderr
    assert "prompt is too long" in run.stderr
    assert "0 label(s) stored, 3 error(s)" in run.stdout
    assert API_KEY not in run.stderr + run.stdout


def test_the_store_refuses_a_limit_that_is_not_a_count(tmp_path) -> None:
    with Store.open(tmp_path / "s.db", environ={}) as store:
        for bad in (-5, 0, True, 2.5):
            with pytest.raises(StoreError, match="1 or more"):
                store.nodes_without_label("haiku", bad)  # type: ignore[arg-type]
