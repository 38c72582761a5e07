"""Message Batches labelling against a loopback Anthropic, driven by the real SDK."""

from __future__ import annotations

import pytest
from scoring_fakes import API_KEY, QUESTION, FakeAnthropic, make_node

from scout.scoring.batch import BatchError, BatchItem, HaikuBatchLabeller


def _results(custom_id, params):
    if custom_id == "node-1":
        return {"type": "errored", "error": {"type": "error", "error": {
            "type": "invalid_request_error", "message": "max_tokens: must be positive"}}}
    if custom_id == "node-2":
        return {"type": "expired"}
    return FakeAnthropic.correct_batch_result(custom_id, params)


def test_submit_poll_collect_with_errored_items(fake_anthropic):
    server = fake_anthropic(batch_results=_results, polls_before_end=3)
    labeller = HaikuBatchLabeller(base_url=server.url, timeout=5)
    items = [BatchItem(f"node-{i}", QUESTION, make_node(i)) for i in range(4)]

    batch_id = labeller.submit(items)
    assert batch_id.startswith("msgbatch_")
    [create] = [r.json for r in server.server.requests if r.path == "/v1/messages/batches"]
    assert [r["custom_id"] for r in create["requests"]] == [f"node-{i}" for i in range(4)]
    assert create["requests"][0]["params"]["thinking"] == {"type": "disabled"}

    first = labeller.status(batch_id)
    assert not first.ended and first.processing == 4
    with pytest.raises(BatchError, match="still in_progress"):
        labeller.collect(batch_id)

    # resumable: a new labeller (e.g. another process) with only the persisted id
    later = HaikuBatchLabeller(base_url=server.url, timeout=5)
    status = later.wait(batch_id, poll_seconds=0.01, timeout_seconds=5)
    assert status.ended and (status.succeeded, status.errored, status.expired) == (2, 1, 1)
    scored = later.collect(batch_id, {item.custom_id: item for item in items})

    assert set(scored) == {"node-0", "node-1", "node-2", "node-3"}
    assert scored["node-0"].rubric is not None and scored["node-3"].rubric is not None
    assert scored["node-0"].cost_usd == pytest.approx((812 * 1.0 + 96 * 5.0) / 1e6 / 2)
    assert scored["node-1"].rubric is None
    assert "errored" in scored["node-1"].error and "max_tokens" in scored["node-1"].error
    assert scored["node-2"].rubric is None and "expired" in scored["node-2"].error
    assert scored["node-0"].exchanges[0].request["params"] == later.request_for(items[0])
    assert API_KEY not in repr(scored)


def test_custom_ids_are_checked_before_anything_is_sent(fake_anthropic):
    server = fake_anthropic()
    labeller = HaikuBatchLabeller(base_url=server.url, timeout=5)
    with pytest.raises(BatchError, match="1-64 characters"):
        labeller.submit([BatchItem("node 1", QUESTION, make_node(1))])
    with pytest.raises(BatchError, match="twice"):
        labeller.submit([BatchItem("a", QUESTION, make_node(1)),
                         BatchItem("a", QUESTION, make_node(2))])
    with pytest.raises(BatchError, match="empty"):
        labeller.submit([])
    assert server.server.requests == []
