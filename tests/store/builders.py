"""Hand-built explorations and answers for store and export tests."""

from __future__ import annotations

from scout.explore.model import (
    ChangeKind,
    Coverage,
    EdgeKind,
    Exploration,
    Node,
    Question,
    SiteFacts,
    Tag,
    Target,
)
from scout.scoring.model import Exchange, LabelSource, Rubric, Scored

SNIPPET = "describe :: LLMKind -> Text\ndescribe k = case k of\n  Sonnet -> \"s\"\n  Opus -> \"o\"\n  _ -> \"other\""


def make_node(i: int, *, path: str = "src/Types.hs", snippet: str = SNIPPET,
              hover: str = "describe :: LLMKind -> Text") -> Node:
    return Node(path=path, line=10 + i, hover=hover, snippet=snippet,
                facts=SiteFacts(edge=EdgeKind.CATCH_ALL, breaks=False, silent=True,
                                detail=f"catch-all absorbs a new constructor ({i})",
                                symbol="LLMKind", missing=("Haiku",), hop=1),
                enclosing="describe", end_line=14 + i, col=2)


def make_exploration(n_nodes: int, *, text: str = "What breaks if I add a variant to LLMKind?",
                     tags: tuple[Tag, ...] = (Tag.EXHAUSTIVE, Tag.PATTERN_MATCH),
                     path: str = "src/Types.hs", snippet: str = SNIPPET,
                     hover: str = "describe :: LLMKind -> Text") -> Exploration:
    question = Question(text=text, target="LLMKind", change=ChangeKind.ADD_CONSTRUCTOR,
                        tags=tags, budget=20)
    target = Target(name="LLMKind", module="Types", kind="data", path="src/Types.hs", line=3)
    nodes = [make_node(i, path=path, snippet=snippet, hover=hover) for i in range(n_nodes)]
    return Exploration(question=question, target=target, nodes=nodes,
                       coverage=Coverage(files_indexed=4, files_with_errors=0,
                                         nodes_found=n_nodes + 2, nodes_kept=n_nodes))


def heuristic(risk: int = 4, relevance: int = 5, confidence: int = 3,
              reasoning: str = "Catch-all absorbs the new constructor silently.") -> Scored:
    return Scored(rubric=Rubric(relevance, risk, confidence, reasoning), scorer="heuristic",
                  label_source=LabelSource.HEURISTIC, task_version="1", latency_ms=0.1)


def haiku(risk: int = 5, *, api_key: str = "sk-ant-api03-TESTKEYtestkey1234567890abcdef",
          with_rubric: bool = True) -> Scored:
    args = {"relevance": 5, "risk": risk, "confidence": 4,
            "reasoning": "Wildcard hides the missing Haiku case."}
    exchange = Exchange(
        backend="anthropic", endpoint="/v1/messages",
        request={"headers": {"x-api-key": api_key, "anthropic-version": "2023-06-01"},
                 "body": {"model": "claude-haiku-4-5", "max_tokens": 512,
                          "messages": [{"role": "user", "content": "score this"}]}},
        response={"id": "msg_1", "type": "message", "role": "assistant",
                  "content": [{"type": "text", "text": "Looking at the match."},
                              {"type": "tool_use", "id": "toolu_1", "name": "score_node",
                               "input": args}],
                  "usage": {"input_tokens": 900, "output_tokens": 60}},
        status=200, error=None, started_at="2026-01-15T10:30:00Z", seconds=0.8)
    rubric = Rubric(args["relevance"], risk, args["confidence"], args["reasoning"]) \
        if with_rubric else None
    return Scored(rubric=rubric, scorer="haiku", label_source=LabelSource.HAIKU,
                  model="claude-haiku-4-5", model_digest=None, task_version="1",
                  prompt_hash="abc123", latency_ms=800.0, input_tokens=900, output_tokens=60,
                  cache_read_tokens=700, cache_write_tokens=0, cost_usd=0.0012,
                  error=None if with_rubric else "no tool_use block in the answer",
                  exchanges=[exchange])
