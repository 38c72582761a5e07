"""A second real LSP client: Debian's headless Neovim starts `scout serve`, asks for code
actions and lenses, and the answers are checked here. Neovim 0.7 advertises neither
workspace/configuration nor code-lens refresh: the server must work on its defaults."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.lsp.conftest import copy_example, scratch_env

PROBE = Path(__file__).with_name("nvim") / "probe.lua"
NVIM = shutil.which("nvim")


@pytest.mark.skipif(NVIM is None and not os.environ.get("CI"),
                    reason="Neovim is not installed (apt-get install neovim); CI installs it")
def test_neovim_gets_code_actions_and_lenses(tmp_path: Path) -> None:
    assert NVIM is not None, "CI must install neovim (apt-get install neovim)"
    base, env = scratch_env("nvim")
    root = copy_example(base)
    out = tmp_path / "report.json"
    env.update(SCOUT_PYTHON=sys.executable, SCOUT_ROOT=str(root), SCOUT_OUT=str(out))
    proc = subprocess.run([NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-n",
                           "-c", f"luafile {PROBE}"], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=180)
    assert out.exists(), proc.stderr
    report = json.loads(out.read_text())
    assert "error" not in report, report.get("error")
    assert report["capabilities"] == {"code_action": True, "code_lens": True, "hover": False}
    assert report["actions"] == ["Scout: what breaks if I add a constructor to LLMKind?"]
    assert report["answer_status"] == "ok" and report["nodes_kept"] > 0
    lines = {lens["line"] for lens in report["lenses"]}
    assert report["summary_line"] in lines
    assert any(" break · " in lens["title"] for lens in report["lenses"])
    assert any(lens["title"].startswith("risk ") for lens in report["lenses"])
