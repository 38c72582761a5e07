"""A loopback server speaking Anthropic's wire protocol (the scoring tests' fake), for runs
with the paid teacher."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scoring"))
from scoring_fakes import API_KEY, FakeAnthropic, anthropic_message  # noqa: E402


def answer(body: dict) -> dict:
    """A rubric derived from the node's line, so answers differ from node to node."""
    line = int(body["messages"][0]["content"].split("location: ", 1)[1].split("\n")[0]
               .rsplit(":", 1)[1])
    return anthropic_message(body["model"], {"relevance": 1 + line % 5, "risk": 1 + line % 5,
                                             "confidence": 3, "reasoning": f"Line {line}."})


@pytest.fixture
def fake_anthropic(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    servers: list[FakeAnthropic] = []

    def start() -> FakeAnthropic:
        server = FakeAnthropic(answer)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
