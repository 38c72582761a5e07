"""Item 5: timeouts are not deadlines. `--timeout 3` against a server that sends one byte a
second held a query about 60 s, for Ollama and Haiku alike (the SDK's retries tripled it). A
question's model time has one deadline (`--deadline`); what did not arrive by then is answered
by the heuristics (hybrid), or reported unscored (a scorer without fallback), with the reason."""

from __future__ import annotations

import json

from scoring_fakes import API_KEY, ollama_tags

from .conftest import EXAMPLE, QUESTION, Home, Trickle


def test_a_trickling_ollama_cannot_hold_a_hybrid_answer(home: Home, trickle: Trickle) -> None:
    run = home.run("query", QUESTION, "--root", str(EXAMPLE), "--json", "--budget", "low",
                   "--ollama-host", trickle.url, "--timeout", "3", "--deadline", "4",
                   "--no-log")
    assert run.returncode == 0, run.stderr
    assert run.seconds < 40, run.seconds  # index + at most 3 + 4 s, never 10 x 3 s or more
    nodes = json.loads(run.stdout)["nodes"]
    assert len(nodes) == 10 and all(n["rubric"] for n in nodes)
    # the model list itself trickles: it is cut off, and that is the reason given
    assert all("did not answer /api/tags within 3s" in n["fallback_reason"] for n in nodes)
    assert trickle.connections >= 1  # the model really was asked
    assert "heuristics answered" in run.stderr


def test_a_trickling_ollama_answer_is_cut_at_the_deadline(home: Home) -> None:
    server = Trickle(tags=ollama_tags(["functiongemma:latest"]))  # listed; answers trickle
    try:
        run = home.run("query", QUESTION, "--root", str(EXAMPLE), "--json", "--budget", "low",
                       "--scorer", "ollama", "--ollama-host", server.url, "--timeout", "3",
                       "--deadline", "4", "--no-log")
    finally:
        server.close()
    assert run.returncode == 4, run.stderr  # partial: no node scored, and it says why
    assert run.seconds < 40, run.seconds
    nodes = json.loads(run.stdout)["nodes"]
    assert all(n["rubric"] is None and "deadline" in n["error"] for n in nodes)
    assert server.connections >= 2  # the model list, then the answers that never came


def test_a_trickling_anthropic_cannot_hold_a_haiku_answer(home: Home, trickle: Trickle) -> None:
    run = home.run("query", QUESTION, "--root", str(EXAMPLE), "--json", "--budget", "low",
                   "--scorer", "haiku", "--timeout", "3", "--deadline", "4", "--no-log",
                   env={"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": trickle.url})
    assert run.returncode == 4, run.stderr  # partial: no node scored, and it says why
    assert run.seconds < 40, run.seconds
    nodes = json.loads(run.stdout)["nodes"]
    assert all(n["rubric"] is None and "deadline" in n["error"] for n in nodes)
    assert "10 of 10 node(s) have no score" in run.stderr
    assert API_KEY not in run.stderr + run.stdout


def test_the_deadline_setting_is_validated(home: Home) -> None:
    for bad in ("nan", "inf", "-3", "soon", "1e9"):
        run = home.run("query", QUESTION, "--root", str(EXAMPLE), "--deadline", bad)
        assert run.returncode == 2, (bad, run.stderr)
        run.no_traceback()
        assert run.stderr.startswith("scout: error: deadline (command line)")
