"""One ``Settings`` value for a workspace, resolved once from every place a user can set it.

Sources, highest first: command-line flags, the editor's configuration (LSP
``workspace/configuration`` section ``semanticScout``, then ``initializationOptions``), the
environment (``SCOUT_DB``, ``OLLAMA_HOST``, ``SCOUT_SCORER``), the workspace's
``.scout/config.toml``, the user's ``$XDG_CONFIG_HOME/semantic-scout/config.toml``, defaults.
Every source uses the same nested shape (docs/protocol.md shows it); each leaf remembers where it
came from, so a user can always see why a value is what it is.

A repository is not trusted with paths: a workspace config may only name a database inside the
workspace (a cloned repository must not be able to point the log anywhere); the user's own
config, the environment and flags may name any path. API keys are never settings: they come
from the server process's environment only.

This module imports nothing from the project: every layer may read a ``Settings``.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SCORER_NAMES = ("heuristic", "ollama", "haiku", "hybrid")
DEFAULT_SCORER = "hybrid"  # works with no Ollama at all: the heuristics answer, with the reason
OLLAMA_MODES = ("raw", "chat")
BUDGET_PRESETS = {"low": 10, "medium": 20, "high": 100}
MAX_BUDGET = 10_000
WORKSPACE_CONFIG = Path(".scout") / "config.toml"
CONFIG_SECTION = "semanticScout"


class SettingsError(ValueError):
    """A setting with a bad value: one line naming the setting, its source and the fix."""


def user_config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "semantic-scout" / "config.toml"


def default_db_path(environ: Mapping[str, str] | None = None) -> Path:
    """One database per user, so a dataset spans every codebase: the XDG data directory."""
    env = os.environ if environ is None else environ
    data_home = env.get("XDG_DATA_HOME")
    base = Path(data_home) if data_home and Path(data_home).is_absolute() else (
        Path.home() / ".local" / "share")
    return base / "semantic-scout" / "scout.db"


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything the session builds from. Immutable: a change makes a new value."""

    scorer: str = DEFAULT_SCORER
    ollama_host: str | None = None  # None: the Ollama client's default (127.0.0.1:11434)
    ollama_model: str = "functiongemma"
    ollama_mode: str = "raw"
    shadow: bool = False  # Claude Haiku shadows the scorer (code leaves the machine)
    anthropic_model: str = "claude-haiku-4-5"
    budget: int = BUDGET_PRESETS["medium"]
    db: Path | None = None  # None: the per-user default database
    log: bool = True
    model_timeout: float = 30.0  # seconds per model call
    deadline: float | None = 60.0  # seconds of model time per question, all calls together
    hover_timeout: float = 1.0  # seconds to wait for the editor's (HLS's) hover
    cache_dir: Path | None = None
    use_cache: bool = True
    workers: int | None = None
    # What `scout eval` must measure for a model to answer first in hybrid mode (promotion).
    promote_min_agreement: float = 0.8  # agreement on risk >= 4 with the teacher
    promote_min_kappa: float = 0.6  # quadratic-weighted kappa on risk
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def source(self, name: str) -> str:
        return self.sources.get(name, "default")

    @property
    def db_path(self) -> Path:
        return self.db if self.db is not None else default_db_path()

    def describe(self) -> dict[str, Any]:
        """The settings as shown to a user (status, `scout config`): value and source."""
        out: dict[str, Any] = {}
        for name in _FIELDS:
            value = getattr(self, name)
            out[name] = {"value": str(value) if isinstance(value, Path) else value,
                         "source": self.source(name)}
        out["db"]["value"] = str(self.db_path)
        return out

    def with_changes(self, source: str, **changes: Any) -> Settings:
        """A copy with some values changed at run time (the editor's "choose scorer")."""
        checked = {name: _CHECKS[name](value, f"{name} ({source})")
                   for name, value in changes.items()}
        return replace(self, **checked, sources={**self.sources, **dict.fromkeys(changes,
                                                                                 source)})


# -- validation of one value ---------------------------------------------------------------

def _choice(options: tuple[str, ...]):
    def check(value: Any, where: str) -> str:
        if not isinstance(value, str) or value.strip().lower() not in options:
            raise SettingsError(f"{where}: {value!r} is not one of {', '.join(options)}")
        return value.strip().lower()
    return check


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 500:
        raise SettingsError(f"{where}: expected a non-empty name, got {value!r}")
    if any(ord(ch) < 32 for ch in value):
        raise SettingsError(f"{where}: control characters are not allowed in {value!r}")
    return value.strip()


def _host(value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SettingsError(f"{where}: expected a URL such as http://127.0.0.1:11434, got "
                            f"{value!r}")
    text = value.strip()
    probe = text if "://" in text else f"http://{text}"
    try:
        parts = urlsplit(probe)
        port = parts.port  # raises ValueError for a bad port
    except ValueError as exc:
        raise SettingsError(f"{where}: {value!r} is not a valid URL ({exc}); use e.g. "
                            "http://127.0.0.1:11434") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{where}: {value!r} is not an http(s) URL with a host; use e.g. "
                            "http://127.0.0.1:11434")
    del port
    return text


def _positive_seconds(limit: float):
    def check(value: Any, where: str) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{where}: expected seconds, got {value!r}") from None
        if isinstance(value, bool) or not math.isfinite(number) or not 0 < number <= limit:
            raise SettingsError(f"{where}: expected seconds between 0 and {limit:g}, got "
                                f"{value!r}")
        return number
    return check


def _optional_seconds(value: Any, where: str) -> float | None:
    if value is None or value == 0 or value == "" or value == "none":
        return None
    return _positive_seconds(24 * 3600)(value, where)


def parse_budget(value: Any, where: str = "budget") -> int:
    """``low`` / ``medium`` / ``high`` or a whole number of nodes, 1..10,000."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in BUDGET_PRESETS:
            return BUDGET_PRESETS[text]
        if text.isascii() and text.isdigit() and len(text) <= 6:
            value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BUDGET:
        raise SettingsError(f"{where} must be low (10), medium (20), high (100) or a number "
                            f"of nodes from 1 to {MAX_BUDGET}, got {value!r}")
    return value


def _flag(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes",
                                                            "no", "on", "off"):
        return value.strip().lower() in ("true", "1", "yes", "on")
    raise SettingsError(f"{where}: expected true or false, got {value!r}")


def _path(value: Any, where: str) -> Path | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str | Path) or "\0" in str(value):
        raise SettingsError(f"{where}: expected a path, got {value!r}")
    return Path(value).expanduser()


def _workers(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 256:
        raise SettingsError(f"{where}: expected a number of worker processes 1..256, got "
                            f"{value!r}")
    return value


def _between(low: float, high: float):
    def check(value: Any, where: str) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if isinstance(value, bool) or not low <= number <= high:
            raise SettingsError(f"{where}: expected a number from {low:g} to {high:g}, got "
                                f"{value!r}")
        return number
    return check


_CHECKS = {
    "scorer": _choice(SCORER_NAMES), "ollama_host": _host, "ollama_model": _text,
    "ollama_mode": _choice(OLLAMA_MODES), "shadow": _flag, "anthropic_model": _text,
    "budget": parse_budget, "db": _path, "log": _flag,
    "model_timeout": _positive_seconds(3600), "deadline": _optional_seconds,
    "hover_timeout": _positive_seconds(60), "cache_dir": _path, "use_cache": _flag,
    "workers": _workers,
    "promote_min_agreement": _between(0.0, 1.0), "promote_min_kappa": _between(-1.0, 1.0),
}
_FIELDS = tuple(_CHECKS)

# Where each setting lives in the nested shape shared by TOML files and the editor.
_NESTED: dict[tuple[str, ...], str] = {
    ("scorer",): "scorer",
    ("ollama", "host"): "ollama_host", ("ollama", "model"): "ollama_model",
    ("ollama", "mode"): "ollama_mode",
    ("shadow", "enabled"): "shadow", ("shadow",): "shadow",
    ("anthropic", "model"): "anthropic_model",
    ("budget",): "budget",
    ("database",): "db", ("db",): "db",
    ("log",): "log",
    ("timeouts", "model"): "model_timeout", ("timeouts", "deadline"): "deadline",
    ("timeouts", "hover"): "hover_timeout", ("timeout",): "model_timeout",
    ("deadline",): "deadline",
    ("index", "cacheDir"): "cache_dir", ("index", "cache_dir"): "cache_dir",
    ("index", "useCache"): "use_cache", ("index", "use_cache"): "use_cache",
    ("index", "workers"): "workers",
    ("promotion", "minAgreement"): "promote_min_agreement",
    ("promotion", "min_agreement"): "promote_min_agreement",
    ("promotion", "minKappa"): "promote_min_kappa",
    ("promotion", "min_kappa"): "promote_min_kappa",
}


def flatten(nested: Mapping[str, Any], source: str) -> tuple[dict[str, Any], list[str]]:
    """The nested editor/TOML shape -> {field: value}; unknown keys become warnings."""
    flat: dict[str, Any] = {}
    unknown: list[str] = []

    def walk(prefix: tuple[str, ...], obj: Mapping[str, Any]) -> None:
        for key, value in obj.items():
            path = (*prefix, str(key))
            name = _NESTED.get(path)
            if name is not None and not (isinstance(value, Mapping) and name == "shadow"):
                flat[name] = value
            elif isinstance(value, Mapping):
                walk(path, value)
            else:
                unknown.append(".".join(path))
    if not isinstance(nested, Mapping):
        raise SettingsError(f"{source}: expected an object of settings, got "
                            f"{type(nested).__name__}")
    walk((), nested)
    return flat, [f"{source}: unknown setting {key!r} ignored" for key in unknown]


def _read_toml(path: Path, source: str) -> dict[str, Any]:
    try:
        if not path.is_file():
            return {}
        if path.stat().st_size > 1_000_000:
            raise SettingsError(f"{path} ({source}) is larger than 1 MB: not a config file")
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path} ({source}) is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise SettingsError(f"{path} ({source}) cannot be read: {exc.strerror or exc}") from exc


_ENV = {"SCOUT_DB": "db", "OLLAMA_HOST": "ollama_host", "SCOUT_SCORER": "scorer"}


def resolve_settings(workspace: Path | None = None, *,
                     flags: Mapping[str, Any] | None = None,
                     editor: Mapping[str, Any] | None = None,
                     init_options: Mapping[str, Any] | None = None,
                     environ: Mapping[str, str] | None = None,
                     user_config: Path | None = None) -> Settings:
    """Resolve every setting once. ``flags`` are already flat (``{"scorer": "heuristic"}``,
    only what the user passed); ``editor`` and ``init_options`` use the nested shape."""
    env = os.environ if environ is None else environ
    warnings: list[str] = []
    layers: list[tuple[str, dict[str, Any]]] = []  # lowest precedence first
    user_file = user_config if user_config is not None else user_config_path(env)
    flat, unknown = flatten(_read_toml(user_file, "user config"), f"{user_file}")
    layers.append((f"user config {user_file}", flat))
    warnings += unknown
    workspace_file = workspace / WORKSPACE_CONFIG if workspace is not None else None
    if workspace_file is not None:
        flat, unknown = flatten(_read_toml(workspace_file, "workspace config"),
                                str(workspace_file))
        layers.append((f"workspace {WORKSPACE_CONFIG.as_posix()}", flat))
        warnings += unknown
    layers.append(("environment", {name: env[var] for var, name in _ENV.items()
                                   if env.get(var)}))
    for source, nested in (("initializationOptions", init_options),
                           ("editor configuration", editor)):
        if nested:
            flat, unknown = flatten(nested, source)
            layers.append((source, flat))
            warnings += unknown
    layers.append(("command line", {k: v for k, v in (flags or {}).items() if v is not None}))

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, flat in layers:
        for name, raw in flat.items():
            where = f"{name} ({source})"
            value = _CHECKS[name](raw, where)
            if name in ("db", "cache_dir") and value is not None:
                value = _place_path(value, source, workspace, where)
            values[name] = value
            sources[name] = source
    return Settings(**values, sources=sources, warnings=tuple(warnings))


def _place_path(path: Path, source: str, workspace: Path | None, where: str) -> Path:
    """Relative paths are relative to the workspace (config files) or the current directory
    (flags, environment). A workspace config may not leave its workspace."""
    if not source.startswith("workspace"):
        return path
    assert workspace is not None
    root = workspace.resolve()
    placed = (root / path).resolve() if not path.is_absolute() else path.resolve()
    if placed != root and root not in placed.parents:
        raise SettingsError(
            f"{where}: {path} is outside the workspace; a repository's config may only name "
            f"paths inside it. Set it in your own config ({user_config_path()}), with "
            "SCOUT_DB, or with --db")
    return placed
