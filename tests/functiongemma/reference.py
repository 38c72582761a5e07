"""Google's FunctionGemma chat template (``shared/reference/functiongemma``), rendered the way
``transformers`` renders chat templates, for byte-conformance tests.

The reference lives in the team's ``shared/`` folder, beside the repository (CI gets a copy
there) or above a worktree; ``SCOUT_REFERENCE_DIR`` overrides. Tests that need it skip with the
place they looked when it is absent.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

TEMPLATE_SHA256 = "0dbaf70819c970c9bacd7125be8e9db46b7bc0e6ed3bc303d92bd58fb9dd604a"
_REPO = Path(__file__).resolve().parents[2]


def reference_dir() -> Path | None:
    configured = os.environ.get("SCOUT_REFERENCE_DIR")
    if configured:
        return Path(configured)
    for parent in [_REPO, *_REPO.parents]:
        candidate = parent / "shared" / "reference" / "functiongemma"
        if (candidate / "chat_template.jinja").is_file():
            return candidate
    return None


def template_source() -> str:
    folder = reference_dir()
    if folder is None or not (folder / "chat_template.jinja").is_file():
        pytest.skip(f"Google's FunctionGemma template not found (looked for "
                    f"shared/reference/functiongemma above {_REPO}; set SCOUT_REFERENCE_DIR)")
    source = (folder / "chat_template.jinja").read_bytes()
    digest = hashlib.sha256(source).hexdigest()
    assert digest == TEMPLATE_SHA256, f"the reference template changed: sha256 {digest}"
    return source.decode("utf-8")


@lru_cache(maxsize=1)
def _template() -> Any:
    jinja2 = pytest.importorskip("jinja2")
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise jinja2.TemplateError(message)

    # What transformers' apply_chat_template sets up.
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(template_source())


def render(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
           add_generation_prompt: bool) -> str:
    return _template().render(messages=messages, tools=tools, bos_token="<bos>",
                              add_generation_prompt=add_generation_prompt)
