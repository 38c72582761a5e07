"""Build a scorer from its name: heuristic | ollama | haiku | hybrid (the CLI and the editor's
"choose scorer" setting), optionally with a Haiku shadow."""

from __future__ import annotations

from scout.scoring.hybrid import ShadowCallback, ShadowScorer
from scout.scoring.model import Scorer
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


def _build(name: str, *, fallback: Scorer, ollama_host: str | None, ollama_model: str,
           ollama_mode: str, anthropic_model: str, timeout: float) -> Scorer:
    if name == "heuristic":
        return fallback
    if name in ("ollama", "hybrid"):
        from scout.scoring.ollama import OllamaScorer

        try:
            model = OllamaScorer(host=ollama_host, model=ollama_model, mode=ollama_mode,
                                 timeout=timeout)
        except ValueError as exc:
            raise ScorerConfigError(str(exc)) from exc
        if name == "ollama":
            return model
        from scout.scoring.hybrid import HybridScorer

        return HybridScorer(model, fallback)
    if name == "haiku":
        from scout.scoring.anthropic import AnthropicConfigError, HaikuScorer

        try:
            return HaikuScorer(model=anthropic_model, timeout=timeout)
        except AnthropicConfigError as exc:
            raise ScorerConfigError(str(exc)) from exc
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
               "anthropic_model": settings.anthropic_model, "timeout": settings.model_timeout}
    primary = _build(settings.scorer, **options)
    teacher = _build("haiku", **options) if settings.shadow else None
    return primary, teacher
