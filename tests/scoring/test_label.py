"""`scout label`: logged nodes labelled by Haiku, live or through Message Batches, resumably,
against a loopback Anthropic and a real SQLite store."""

from __future__ import annotations

from pathlib import Path

from scoring_fakes import QUESTION, make_node

from scout.explore.model import Coverage, Exploration, Target
from scout.label import label_with_haiku_batch, label_with_scorer
from scout.scoring.anthropic import HaikuScorer
from scout.scoring.batch import HaikuBatchLabeller
from scout.scoring.heuristic import HeuristicScorer
from scout.store.db import Store


def logged_store(tmp_path: Path, n: int = 3) -> Store:
    store = Store.open(tmp_path / "scout.db")
    nodes = [make_node(i) for i in range(n)]
    exploration = Exploration(QUESTION, Target("LLMKind", "Types", "data", "src/Types.hs", 1),
                              nodes, Coverage(1, 0, n, n))
    store.record(exploration, [[s] for s in HeuristicScorer().score(QUESTION, nodes)],
                 root=tmp_path)
    return store


def test_batch_labelling_is_resumable_and_never_submits_twice(tmp_path, fake_anthropic):
    server = fake_anthropic(polls_before_end=2)
    store = logged_store(tmp_path)
    assert len(store.nodes_without_label("haiku")) == 3

    first = label_with_haiku_batch(store, HaikuBatchLabeller(base_url=server.url, timeout=5))
    assert len(first.submitted) == 1 and first.labelled == 0
    assert store.batch_jobs(pending_only=True)[0].batch_id == first.submitted[0]
    assert store.nodes_without_label("haiku") == []  # in a running batch: not offered again

    # a later run (another process) finds the batch still running, then collects it
    labeller = HaikuBatchLabeller(base_url=server.url, timeout=5)
    second = label_with_haiku_batch(store, labeller)
    assert second.submitted == [] and second.in_progress == first.submitted
    third = label_with_haiku_batch(store, labeller, wait=True, poll_seconds=0.01)
    assert third.labelled == 3 and third.errors == 0
    assert store.batch_jobs(pending_only=True) == []
    fourth = label_with_haiku_batch(store, labeller)
    assert fourth.nothing_to_do
    creates = [r for r in server.server.requests if r.path == "/v1/messages/batches"
               and r.method == "POST"]
    assert len(creates) == 1
    store.close()


def test_live_labelling_stores_one_haiku_label_per_node(tmp_path, fake_anthropic):
    server = fake_anthropic()
    store = logged_store(tmp_path, n=2)
    report = label_with_scorer(store, HaikuScorer(base_url=server.url, timeout=5),
                               label_source="haiku")
    assert (report.labelled, report.errors) == (2, 0)
    assert store.nodes_without_label("haiku") == []
    store.close()
