"""Fixtures starting the loopback fakes of Ollama and Anthropic (see scoring_fakes.py)."""

from __future__ import annotations

import pytest
from scoring_fakes import API_KEY, QUESTION, FakeAnthropic, FakeOllama, make_node

from scout.explore.model import Node, Question


@pytest.fixture
def question() -> Question:
    return QUESTION


@pytest.fixture
def nodes() -> list[Node]:
    return [make_node(i, catch_all=(i % 3 == 2)) for i in range(6)]


@pytest.fixture
def fake_ollama():
    servers: list[FakeOllama] = []

    def start(answer=None, models=("functiongemma:latest",)) -> FakeOllama:
        server = FakeOllama(answer, models)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def fake_anthropic(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    servers: list[FakeAnthropic] = []

    def start(answer=None, batch_results=None, polls_before_end=1) -> FakeAnthropic:
        server = FakeAnthropic(answer, batch_results, polls_before_end)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
