"""Redaction of secret-looking strings before anything is stored or exported.

Each rule keeps enough of the match to leave the code readable (``sk-ant-[REDACTED]``,
``password = "[REDACTED]"``) so a training example still shows *that* a secret was there.
Rules only run when a cheap substring trigger is present: most text (Haskell code) has none, and
the store redacts every string it writes, so the common case must cost a few substring checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

MARK = "[REDACTED]"

# Header and field names whose values are credentials whatever they look like.
SECRET_KEYS = frozenset({
    "authorization", "proxy-authorization", "x-api-key", "api-key", "api_key", "apikey",
    "anthropic-api-key", "x-goog-api-key", "cookie", "set-cookie", "password", "secret",
    "access_token", "refresh_token", "client_secret",
})


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    triggers: tuple[str, ...]  # lower-case substrings; the rule runs only if one occurs
    pattern: re.Pattern[str]
    replace: str | Callable[[re.Match[str]], str]


def _keep_prefix(prefix_group: int = 1) -> Callable[[re.Match[str]], str]:
    return lambda m: m.group(prefix_group) + MARK


def _assignment(m: re.Match[str]) -> str:
    quote = m.group("q") or ""
    return f"{m.group('key')}{m.group('sep')}{quote}{MARK}{quote}"


def _assignment_any(m: re.Match[str]) -> str:
    if m.group("sep") is not None:
        return _assignment(m)
    bare = m.group("bare")
    # `token: Text` is a Haskell/YAML type position, not a value: keep capitalised type-like words.
    if re.fullmatch(r"[A-Z][A-Za-z0-9_.]*", bare) or bare == MARK:
        return m.group(0)
    return f"{m.group('key')}{m.group('sep2')}{MARK}"


_RULES: tuple[_Rule, ...] = (
    _Rule("private key block", ("private key",),
          re.compile(r"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)[\s\S]*?"
                     r"(-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)"),
          lambda m: f"{m.group(1)}{MARK}{m.group(2)}"),
    # A 5-line snippet can start inside a key block: base64 lines right before an END marker.
    _Rule("private key tail", ("private key",),
          re.compile(r"(?m)(?:^[ \t]*[A-Za-z0-9+/=]{32,}[ \t]*\r?\n)+"
                     r"([ \t]*-----END [A-Z0-9 ]*PRIVATE KEY-----)"),
          lambda m: f"{MARK}\n{m.group(1)}"),
    _Rule("anthropic key", ("sk-ant-",),
          re.compile(r"(sk-ant-)[A-Za-z0-9_\-]{16,}"), _keep_prefix()),
    _Rule("openai-style key", ("sk-",),
          re.compile(r"(?<![A-Za-z0-9])(sk-(?:proj-|svcacct-)?)(?!ant-)[A-Za-z0-9_\-]{20,}"),
          _keep_prefix()),
    _Rule("stripe key", ("_live_", "_test_"),
          re.compile(r"\b((?:sk|rk|pk)_(?:live|test)_)[A-Za-z0-9]{16,}"), _keep_prefix()),
    _Rule("aws access key id", ("akia", "asia", "agpa", "aida", "aroa", "anpa", "anva", "aipa"),
          re.compile(r"\b((?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA))[A-Z0-9]{16}\b"),
          _keep_prefix()),
    _Rule("aws secret key", ("aws_secret", "secret_access_key", "secretaccesskey"),
          re.compile(r"(?i)((?:aws_)?secret_?access_?key[\"']?\s*[:=]\s*[\"']?)"
                     r"[A-Za-z0-9/+=]{40}"),
          _keep_prefix()),
    _Rule("github token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
          re.compile(r"\b((?:gh[pousr]_)|github_pat_)[A-Za-z0-9_]{20,}"), _keep_prefix()),
    _Rule("gitlab token", ("glpat-", "gldt-", "glrt-", "glptt-"),
          re.compile(r"\b((?:glpat|gldt|glrt|glptt)-)[A-Za-z0-9_\-]{20,}"), _keep_prefix()),
    _Rule("slack token", ("xox",),
          re.compile(r"\b(xox[abposr]-)[A-Za-z0-9\-]{10,}"), _keep_prefix()),
    _Rule("slack webhook", ("hooks.slack.com",),
          re.compile(r"(https://hooks\.slack\.com/services/)[A-Za-z0-9/_\-]+"), _keep_prefix()),
    _Rule("google api key", ("aiza",),
          re.compile(r"\b(AIza)[0-9A-Za-z_\-]{35}"), _keep_prefix()),
    _Rule("jwt", ("eyj",),
          re.compile(r"\beyJ[A-Za-z0-9_\-]{13,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
          "[REDACTED-JWT]"),
    _Rule("bearer/basic credentials", ("bearer", "basic "),
          re.compile(r"(?i)\b((?:bearer|basic)\s+)[A-Za-z0-9\-._~+/]{12,}=*"), _keep_prefix()),
    _Rule("url credentials", ("://",),
          re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@'\"]+:)[^\s@/'\"]{3,}(?=@)"),
          _keep_prefix()),
    # key = "value" (quoted, any spacing) or key=value / key: value (config and env style);
    # `password = mkPassword x` and `password :: Text` in Haskell are left alone.
    _Rule("secret assignment",
          ("pass", "pwd", "secret", "token", "api_key", "apikey", "api-key", "private_key"),
          re.compile(
              r"(?i)(?P<key>\b[\w.\-]*(?:password|passwd|passphrase|pwd|secret|token|"
              r"api[_\-]?key|private[_\-]?key)[\w\-]*[\"']?)"
              r"(?:(?P<sep>\s*(?<![:=])[:=](?![:=])\s*)(?P<q>[\"'])(?![^\"'\n]*\[REDACTED)[^\"'\n]{3,}(?P=q)"
              r"|(?P<sep2>=|:[ \t]*)(?P<bare>(?![\"'\[])[^\s\"',;)}]{4,}))"),
          _assignment_any),
)


_LONG_RUN = re.compile(r"[A-Za-z0-9+/=_\-]{16}")
_GATE_WORDS = ("pass", "pwd", "secret", "token", "apikey", "api_key", "api-key", "private",
               "://", "bearer", "basic", "xox")


def redact(text: str, extra_secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with secret-looking substrings replaced by ``[REDACTED]`` markers.

    ``extra_secrets`` are literal values known to be secret (the Anthropic key from the
    environment); each occurrence is replaced whatever it looks like.
    """
    for secret in extra_secrets:
        if secret and len(secret) >= 8 and secret in text:
            text = text.replace(secret, MARK)
    lowered = text.lower()
    # Gate: every rule needs either a long token-like run or one of a few words; ordinary code
    # has neither, and then no rule runs.
    if not _LONG_RUN.search(text):
        for word in _GATE_WORDS:  # substring checks beat an alternation regex several-fold
            if word in lowered:
                break
        else:
            return text
    for rule in _RULES:
        if any(t in lowered for t in rule.triggers):
            text = rule.pattern.sub(rule.replace, text)
    return text


class Redactor:
    """``redact`` with a memo for one batch of writes: hovers, reasoning templates and fact
    details repeat across a query's nodes, and each distinct string is checked once."""

    def __init__(self, extra_secrets: tuple[str, ...] = ()) -> None:
        self.extra_secrets = extra_secrets
        self._memo: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        done = self._memo.get(text)
        if done is None:
            done = self._memo[text] = redact(text, self.extra_secrets)
        return done


@cache
def _secret_key_pattern() -> re.Pattern[str]:
    return re.compile(r"(?i)^(?:x-)?(?:api[-_]?key|authorization|auth[-_]?token|[a-z_\-]*token|"
                      r"[a-z_\-]*secret|password|passwd|cookie)$")


def redact_value(value: Any, extra_secrets: tuple[str, ...] = ()) -> Any:
    """Redact every string inside a JSON-like value; values under credential keys (auth
    headers, ``x-api-key``...) are replaced whole."""
    if isinstance(value, str):
        return redact(value, extra_secrets)
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and (key.lower() in SECRET_KEYS
                                         or _secret_key_pattern().match(key)):
                # max_tokens / input_tokens are counts, not credentials
                out[key] = item if isinstance(item, (int, float)) or item is None else MARK
            else:
                out[key] = redact_value(item, extra_secrets)
        return out
    if isinstance(value, (list, tuple)):
        return [redact_value(item, extra_secrets) for item in value]
    return value
