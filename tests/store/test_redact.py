"""Secret-looking strings never reach the database file, and code stays readable."""

from __future__ import annotations

from pathlib import Path

import pytest

from scout.explore.model import Node
from scout.store import Store
from scout.store.redact import redact, redact_value

from .builders import haiku, make_exploration

SECRETS = {
    "anthropic": ('key = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789"',
                  'key = "sk-ant-[REDACTED]"'),
    "openai": ("sk-proj-abcdefghijklmnopqrstuvwx12345", "sk-proj-[REDACTED]"),
    "aws id": ("AKIAIOSFODNN7EXAMPLE here", "AKIA[REDACTED] here"),
    "aws secret": ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                   "aws_secret_access_key = [REDACTED]"),
    "github": ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_[REDACTED]"),
    "github fine-grained": ("github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
                            "github_pat_[REDACTED]"),
    "gitlab": ("glpat-abcdefghij1234567890", "glpat-[REDACTED]"),
    "slack": ("xoxb-123456789012-abcdefghijkl", "xoxb-[REDACTED]"),
    "jwt": ("t = eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9",
            "t = [REDACTED-JWT]"),
    "private key": ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234567890abcdefghij\n"
                    "-----END RSA PRIVATE KEY-----",
                    "-----BEGIN RSA PRIVATE KEY-----[REDACTED]-----END RSA PRIVATE KEY-----"),
    "private key cut by a snippet": (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
        "-----BEGIN OPENSSH PRIVATE KEY-----[REDACTED]"),
    "private key tail": ("MIIEowIBAAKCAQEA1234567890abcdefghijklmnop\n-----END PRIVATE KEY-----",
                         "[REDACTED]\n-----END PRIVATE KEY-----"),
    "quoted password": ('cfg { password = "hunter22" }', 'cfg { password = "[REDACTED]" }'),
    "token in an assignment": ('token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"',
                               'token = "ghp_[REDACTED]"'),
    "env password": ("DB_PASSWORD=s3cr3tvalue", "DB_PASSWORD=[REDACTED]"),
    "yaml secret": ("client_secret: abc123def456", "client_secret: [REDACTED]"),
    "bearer": ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz",
               "Authorization: Bearer [REDACTED]"),
    "url credentials": ("https://user:pa55word@example.com/x.git",
                        "https://user:[REDACTED]@example.com/x.git"),
}

HASKELL_UNCHANGED = [
    "password :: Text",
    "password = mkPassword salt",
    "data Token = Token { tokenText :: Text, tokenExpiry :: UTCTime }",
    "lookupToken :: Token -> Maybe Secret",
    "token: Token",
    'apiKey <- getEnv "ANTHROPIC_API_KEY"',
    "case kind of\n  Sonnet -> 1\n  _ -> 2",
    "skipAll = sk-1",
    "let secretKey = lookup \"x\" env",
]


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_secret_is_redacted_readably(name: str) -> None:
    text, expected = SECRETS[name]
    assert redact(text) == expected


@pytest.mark.parametrize("code", HASKELL_UNCHANGED)
def test_ordinary_haskell_is_left_alone(code: str) -> None:
    assert redact(code) == code


def test_known_secret_values_are_removed_whatever_they_look_like() -> None:
    assert redact("x = plainvalue123 y", ["plainvalue123"]) == "x = [REDACTED] y"


def test_auth_headers_are_stripped_from_structures() -> None:
    value = {"headers": {"Authorization": "Bearer abc", "x-api-key": "k", "X-Goog-Api-Key": "g",
                         "content-type": "application/json"},
             "max_tokens": 100, "usage": {"input_tokens": 3},
             "messages": [{"content": "key sk-ant-api03-aaaaaaaaaaaaaaaaaaaaaaaaa"}]}
    assert redact_value(value) == {
        "headers": {"Authorization": "[REDACTED]", "x-api-key": "[REDACTED]",
                    "X-Goog-Api-Key": "[REDACTED]", "content-type": "application/json"},
        "max_tokens": 100, "usage": {"input_tokens": 3},
        "messages": [{"content": "key sk-ant-[REDACTED]"}]}


def test_no_secret_reaches_the_database_file(tmp_path: Path) -> None:
    env_key = "sk-ant-api03-ENVKEYenvkey0123456789abcdefghij"
    odd_token = "plain0ddTokenValue42"  # looks like nothing, but it is an env secret
    snippet = ('main = do\n  let key = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"\n'
               '  connect "postgres://admin:Sup3rS3cret@db/x"\n'
               f'  auth "{odd_token}"\n  pure ()')
    exploration = make_exploration(2, text="What breaks if I add a variant to LLMKind? "
                                           "AKIAIOSFODNN7EXAMPLE", snippet=snippet)
    exploration.nodes[1] = Node(**{**{f: getattr(exploration.nodes[1], f)
                                      for f in exploration.nodes[1].__slots__},
                                   "hover": f"token = \"{env_key}\""})
    teacher = haiku(api_key=env_key)
    teacher.exchanges[0].request["body"]["messages"][0]["content"] = snippet
    db = tmp_path / "scout.db"
    environ = {"ANTHROPIC_API_KEY": env_key, "GITHUB_TOKEN": odd_token}
    with Store.open(db, environ=environ) as store:
        store.record(exploration, [[teacher], []], root=tmp_path)
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("scout.db*"))
    for secret in (env_key, odd_token, "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                   "Sup3rS3cret", "AKIAIOSFODNN7EXAMPLE", env_key[len("sk-ant-"):][:20]):
        assert secret.encode() not in raw, secret
    assert b"sk-ant-[REDACTED]" in raw or b"[REDACTED]" in raw
    assert b"connect" in raw  # the code around the secret is kept
