"""The rubric, a scorer's answer with its provenance, and the raw exchanges behind it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from scout.cancel import NEVER, CancelToken
from scout.explore.model import Node, Question


class LabelSource(StrEnum):
    HEURISTIC = "heuristic"
    MODEL = "model"  # the local student (FunctionGemma via Ollama)
    HAIKU = "haiku"  # the Anthropic teacher
    GHC = "ghc"  # the compiler teacher
    HUMAN = "human"


@dataclass(frozen=True, slots=True)
class Rubric:
    """relevance, risk, confidence: integers 1..5; reasoning: one or two sentences."""

    relevance: int
    risk: int
    confidence: int
    reasoning: str

    def __post_init__(self) -> None:
        for name in ("relevance", "risk", "confidence"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
                raise ValueError(f"rubric {name} must be an integer 1..5, got {value!r}")
        if not isinstance(self.reasoning, str) or not self.reasoning.strip():
            raise ValueError("rubric reasoning must be a non-empty sentence")

    def as_dict(self) -> dict[str, Any]:
        return {"relevance": self.relevance, "risk": self.risk,
                "confidence": self.confidence, "reasoning": self.reasoning}


@dataclass(slots=True)
class Exchange:
    """One raw model call, verbatim (minus secrets), so datasets can be re-converted offline."""

    backend: str  # "ollama" | "anthropic"
    endpoint: str  # "/api/generate", "/v1/messages", ...
    request: dict[str, Any]
    response: Any  # parsed JSON body, or text
    status: int | None
    error: str | None
    started_at: str  # ISO-8601 UTC
    seconds: float


@dataclass(slots=True)
class Scored:
    """A scorer's answer for one node. ``rubric`` is None only when ``error`` says why."""

    rubric: Rubric | None
    scorer: str  # "heuristic", "ollama", "haiku", "hybrid", "ghc"
    label_source: LabelSource
    model: str | None = None
    model_digest: str | None = None
    task: str = "score_node"
    task_version: str | None = None
    prompt_hash: str | None = None
    latency_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    cost_usd: float | None = None
    error: str | None = None
    fallback_reason: str | None = None  # set when another scorer answered instead, and why
    exchanges: list[Exchange] = field(default_factory=list)
    note: str | None = None  # why the answer differs from its scorer's own (e.g. the facts pin)
    # Other answers for the same node, recorded beside this one: the model's own rubric when the
    # facts pin raised it, the model's answer while it is shadow-logged (scoring/promotion.py).
    also: list[Scored] = field(default_factory=list)


class Scorer(Protocol):
    """Scores nodes for a question. Must return exactly one ``Scored`` per node, in order, and
    never raise for a per-node failure (it becomes ``Scored(rubric=None, error=...)``). Once
    ``cancel`` fires, nodes not yet sent to a model come back with ``error="not sent: ..."``."""

    name: str

    def score(self, question: Question, nodes: Sequence[Node], *,
              cancel: CancelToken = NEVER) -> list[Scored]: ...
