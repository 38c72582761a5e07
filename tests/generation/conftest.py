"""A loopback server speaking Anthropic's wire protocol (the scoring tests' fake), for runs
with the paid teacher."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scoring"))
from scoring_fakes import API_KEY, FakeAnthropic, FakeOllama, anthropic_message  # noqa: E402

from scout.functiongemma import render_call  # noqa: E402


def answer(body: dict) -> dict:
    """A rubric derived from the node's line, so answers differ from node to node."""
    line = int(body["messages"][0]["content"].split("location: ", 1)[1].split("\n")[0]
               .rsplit(":", 1)[1])
    return anthropic_message(body["model"], {"relevance": 1 + line % 5, "risk": 1 + line % 5,
                                             "confidence": 3, "reasoning": f"Line {line}."})


@pytest.fixture
def haiku_server(monkeypatch):
    """A loopback Anthropic server, with the key set and the client pointed at it."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    server = FakeAnthropic(answer)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    yield server
    server.close()


@pytest.fixture
def fake_student():
    """A loopback Ollama serving a "student" that always answers risk 3."""
    server = FakeOllama(lambda body: render_call("score_node", {
        "relevance": 3, "risk": 3, "confidence": 2, "reasoning": "The student's guess."}))
    yield server
    server.close()
