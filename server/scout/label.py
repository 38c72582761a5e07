"""Offline labelling of logged nodes by a teacher: Haiku (live or Message Batches), resumable.

The store knows which nodes still lack a label from a source and which batch jobs are still
running; this module only moves nodes between the store and a teacher. A batch is recorded in
the store the moment it is submitted, so an interrupted run resumes by collecting it later.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from scout.explore.model import Question
from scout.scoring.batch import MAX_REQUESTS, BatchError, BatchItem, HaikuBatchLabeller
from scout.scoring.model import Scorer
from scout.store.db import PendingNode, Store

Say = Callable[[str], None]


@dataclass(slots=True)
class LabelReport:
    submitted: list[str] = field(default_factory=list)  # batch ids created in this run
    in_progress: list[str] = field(default_factory=list)  # batch ids not finished yet
    labelled: int = 0  # labels stored in this run
    errors: int = 0  # items the teacher failed on (stored with their error)
    nothing_to_do: bool = False


def label_with_scorer(store: Store, scorer: Scorer, *, label_source: str,
                      limit: int | None = None, say: Say = lambda _: None) -> LabelReport:
    """Score every node still lacking a ``label_source`` label, one question at a time."""
    report = LabelReport()
    pending = store.nodes_without_label(label_source, limit)
    if not pending:
        report.nothing_to_do = True
        return report
    by_question: dict[Question, list[PendingNode]] = defaultdict(list)
    for p in pending:
        by_question[p.question].append(p)
    for question, group in by_question.items():
        results = scorer.score(question, [p.node for p in group])
        store.add_scored_many([(p.node_id, s) for p, s in zip(group, results, strict=True)])
        failed = [s for s in results if s.rubric is None]
        report.labelled += len(results) - len(failed)
        report.errors += len(failed)
        say(f"{question.text}: {len(results) - len(failed)} of {len(group)} node(s) labelled by "
            f"{scorer.name}" + (f", {len(failed)} failed: {failed[0].error}" if failed else ""))
    return report


def label_with_haiku_batch(store: Store, labeller: HaikuBatchLabeller, *,
                           limit: int | None = None, submit: bool = True, wait: bool = False,
                           poll_seconds: float = 60.0, say: Say = lambda _: None) -> LabelReport:
    """Collect finished batches, then submit the still-unlabelled nodes as new batches.

    Resumable: every submitted batch is stored with its node ids before anything else happens,
    and nodes in an unfinished batch are not submitted twice."""
    report = LabelReport()
    _collect_finished(store, labeller, report, wait=False, poll_seconds=poll_seconds, say=say)
    if submit:
        pending = store.nodes_without_label("haiku", limit)
        if not pending and not report.labelled and not report.in_progress:
            report.nothing_to_do = True
        for start in range(0, len(pending), MAX_REQUESTS):
            chunk = pending[start:start + MAX_REQUESTS]
            items = [BatchItem(str(p.node_id), p.question, p.node) for p in chunk]
            batch_id = labeller.submit(items)
            store.add_batch_job(batch_id, [p.node_id for p in chunk], backend="anthropic",
                                label_source="haiku", task=labeller.task.name,
                                model=labeller.model)
            report.submitted.append(batch_id)
            say(f"submitted batch {batch_id} with {len(chunk)} node(s)")
    if wait and (report.submitted or report.in_progress):
        report.in_progress = []
        _collect_finished(store, labeller, report, wait=True, poll_seconds=poll_seconds,
                          say=say)
    return report


def _collect_finished(store: Store, labeller: HaikuBatchLabeller, report: LabelReport, *,
                      wait: bool, poll_seconds: float, say: Say) -> None:
    for job in store.batch_jobs(pending_only=True):
        if job.backend != "anthropic":
            continue
        try:
            status = (labeller.wait(job.batch_id, poll_seconds=poll_seconds) if wait
                      else labeller.status(job.batch_id))
        except BatchError as exc:
            say(f"batch {job.batch_id}: {exc}")
            report.in_progress.append(job.batch_id)
            continue
        if not status.ended:
            report.in_progress.append(job.batch_id)
            say(f"batch {job.batch_id} is {status.processing_status}: "
                f"{status.succeeded} done, {status.processing} processing")
            continue
        results = labeller.collect(job.batch_id)
        rows = [(int(custom_id), scored) for custom_id, scored in results.items()
                if custom_id.isdigit() and int(custom_id) in job.node_ids]
        store.add_scored_many(rows)
        store.update_batch_job(job.batch_id, "collected")
        ok = sum(1 for _, s in rows if s.rubric is not None)
        report.labelled += ok
        report.errors += len(rows) - ok
        say(f"collected batch {job.batch_id}: {ok} label(s), {len(rows) - ok} error(s)")
