"""Train/validation/test splits that never put one group (a codebase, or a query) on two sides.

Groups are shuffled with a fixed seed, then each goes to the split furthest below its target
share of examples, so the shares come out close to the requested ratios even when groups differ
in size; when only as many groups remain as requested splits are still empty, each of those
splits gets one. Held-out codebases form the test split on their own.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from scout.export.select import Example, normalise_query

SPLITS = ("train", "validation", "test")
GROUP_BY = ("query", "codebase")


class SplitError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class SplitPlan:
    ratios: tuple[float, float, float]  # train, validation, test; sum to 1
    group_by: str = "query"
    holdout: tuple[str, ...] = ()  # codebase names that make up the test split
    seed: int = 13


def parse_ratios(text: str) -> tuple[float, float, float]:
    """``80/10/10`` or ``0.8,0.1,0.1``."""
    parts = [p for p in text.replace(",", "/").split("/") if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise SplitError(f"bad --split {text!r}: give three numbers like 80/10/10") from None
    if len(values) != 3 or any(v < 0 for v in values) or sum(values) <= 0:
        raise SplitError(f"bad --split {text!r}: give three non-negative numbers like 80/10/10")
    total = sum(values)
    if abs(total - 100) > 1e-6 and abs(total - 1) > 1e-6:
        raise SplitError(f"--split {text!r} must add up to 100 (or 1), got {total:g}")
    return (values[0] / total, values[1] / total, values[2] / total)


def group_key(example: Example, group_by: str) -> tuple[object, ...]:
    if group_by == "codebase":
        return (example.codebase_id,)
    # The same question asked twice in one codebase is one group: its nodes are near-duplicates.
    return (example.codebase_id, normalise_query(example.query))


def assign_splits(examples: Sequence[Example], plan: SplitPlan) -> list[Example]:
    if plan.group_by not in GROUP_BY:
        raise SplitError(f"--group-by must be one of {GROUP_BY}, got {plan.group_by!r}")
    held_out = set(plan.holdout)
    groups: dict[tuple[object, ...], list[int]] = {}
    split_of: list[str] = [""] * len(examples)
    for index, example in enumerate(examples):
        if example.codebase in held_out:
            split_of[index] = "test"
        else:
            groups.setdefault(group_key(example, plan.group_by), []).append(index)
    ratios = plan.ratios
    if held_out:  # the held-out codebases are the test split; the rest is train/validation
        kept = ratios[0] + ratios[1]
        ratios = (ratios[0] / kept, ratios[1] / kept, 0.0) if kept else (1.0, 0.0, 0.0)
    total = sum(len(members) for members in groups.values())
    targets = [ratio * total for ratio in ratios]
    filled = [0, 0, 0]
    keys = sorted(groups, key=repr)
    random.Random(plan.seed).shuffle(keys)
    wanted = [i for i in range(3) if ratios[i] > 0]
    for position, key in enumerate(keys):
        members = groups[key]
        still_empty = [i for i in wanted if filled[i] == 0]
        if still_empty and len(keys) - position <= len(still_empty):
            # Just enough groups left to give every requested split one: do that rather than
            # leave a split empty (3 codebases at 80/10/10 would otherwise all go to train).
            chosen = still_empty[0]
        else:
            deficits = [targets[i] - filled[i] if ratios[i] > 0 else float("-inf")
                        for i in range(3)]
            chosen = max(range(3), key=lambda i: (deficits[i], -i))
        filled[chosen] += len(members)
        for index in members:
            split_of[index] = SPLITS[chosen]
    for example, split in zip(examples, split_of, strict=True):
        example.split = split
    return list(examples)
