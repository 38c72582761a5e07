"""Build a scorer from its name: heuristic | ollama | haiku | hybrid (the CLI and the editor's
"choose scorer" setting), optionally with a Haiku shadow."""

from __future__ import annotations

from collections.abc import Sequence

from scout.cancel import NEVER, CancelToken
from scout.explore.model import Node, Question
from scout.scoring.hybrid import ShadowCallback, ShadowScorer
from scout.scoring.model import LabelSource, Scored, Scorer
from scout.scoring.remote import not_sent
from scout.settings import DEFAULT_SCORER, SCORER_NAMES, Settings

__all__ = ["DEFAULT_SCORER", "SCORER_NAMES", "ScorerConfigError", "build_scorer",
           "build_scorers"]


class ScorerConfigError(ValueError):
    """Unknown scorer name, or a scorer that cannot be built here (e.g. Haiku without a key)."""


def build_scorer(name: str, *, fallback: Scorer, ollama_host: str | None = None,
                 ollama_model: str = "functiongemma", ollama_mode: str = "raw",
                 anthropic_model: str = "claude-haiku-4-5", timeout: float = 30.0,
                 shadow: str | None = None, on_shadow: ShadowCallback | None = None) -> Scorer:
    """``fallback`` is the heuristic scorer (it answers for ``heuristic`` and backs ``hybrid``).
    ``shadow="haiku"`` wraps the result in a :class:`ShadowScorer`."""
    scorer = _build(name, fallback=fallback, ollama_host=ollama_host, ollama_model=ollama_model,
                    ollama_mode=ollama_mode, anthropic_model=anthropic_model, timeout=timeout)
    if shadow is None:
        return scorer
    if shadow != "haiku":
        raise ScorerConfigError(f"unknown shadow scorer {shadow!r}: only 'haiku' can shadow")
    teacher = _build("haiku", fallback=fallback, ollama_host=ollama_host,
                     ollama_model=ollama_model, ollama_mode=ollama_mode,
                     anthropic_model=anthropic_model, timeout=timeout)
    return ShadowScorer(scorer, teacher, on_shadow)


class UnavailableScorer:
    """A model scorer that cannot be built here (OLLAMA_HOST is not a URL): every node comes
    back not sent, with the reason, so a hybrid answers with the heuristics and says why."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        self.digest_problem = reason  # what the promotion gate shows instead of a digest

    def model_digest(self) -> None:
        return None

    def score(self, question: Question, nodes: Sequence[Node], *,
              cancel: CancelToken = NEVER) -> list[Scored]:
        return [not_sent(self.name, LabelSource.MODEL, self.reason) for _ in nodes]


def _build(name: str, *, fallback: Scorer, ollama_host: str | None, ollama_model: str,
           ollama_mode: str, anthropic_model: str, timeout: float,
           ollama_problem: str | None = None) -> Scorer:
    if name == "heuristic":
        return fallback
    if name in ("ollama", "hybrid"):
        from scout.scoring.hybrid import HybridScorer
        from scout.scoring.ollama import OllamaScorer

        try:
            if ollama_problem:
                raise ValueError(ollama_problem)
            model: Scorer = OllamaScorer(host=ollama_host, model=ollama_model, mode=ollama_mode,
                                         timeout=timeout)
        except ValueError as exc:
            if name == "ollama":
                raise ScorerConfigError(str(exc)) from exc
            model = UnavailableScorer("ollama", str(exc))
        return model if name == "ollama" else HybridScorer(model, fallback)
    if name == "haiku":
        from scout.scoring.anthropic import AnthropicConfigError, HaikuScorer

        try:
            return HaikuScorer(model=anthropic_model, timeout=timeout)
        except AnthropicConfigError as exc:
            raise ScorerConfigError(str(exc)) from exc
        except Exception as exc:  # the SDK refuses its settings, e.g. ANTHROPIC_BASE_URL
            raise ScorerConfigError(f"the Anthropic client cannot be set up "
                                    f"({type(exc).__name__}: {exc}); check ANTHROPIC_BASE_URL"
                                    ) from exc
    raise ScorerConfigError(f"unknown scorer {name!r}: choose one of {', '.join(SCORER_NAMES)}")


def build_scorers(settings: Settings, *, fallback: Scorer | None = None
                  ) -> tuple[Scorer, Scorer | None]:
    """The primary scorer the settings choose and, when shadowing is on, the teacher that
    shadows it (run in the background by the session)."""
    if fallback is None:
        from scout.scoring.heuristic import HeuristicScorer

        fallback = HeuristicScorer()
    options = {"fallback": fallback, "ollama_host": settings.ollama_host,
               "ollama_model": settings.ollama_model, "ollama_mode": settings.ollama_mode,
               "anthropic_model": settings.anthropic_model, "timeout": settings.model_timeout,
               "ollama_problem": settings.problems.get("ollama_host")}
    primary = _build(settings.scorer, **options)
    teacher = _build("haiku", **options) if settings.shadow else None
    return primary, teacher
