"""The bundled example workspace is real Haskell: GHC type-checks it cleanly, and adding a
constructor to LLMKind gives exactly the warnings its README lists (the ground truth the scout's
answers are judged against)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.ghc

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "llm-service"
ROOTS = ["src/LLM/Service.hs", "src/LLM/Query.hs", "src/LLM/Report.hs"]
WARNINGS = ["-Wall", "-Wincomplete-patterns", "-Wincomplete-uni-patterns",
            "-Wincomplete-record-updates"]


def ghc_check(workspace: Path) -> subprocess.CompletedProcess[str]:
    ghc = shutil.which("ghc")
    if ghc is None:
        pytest.skip("ghc is not installed: `apt-get install ghc` (Debian ships GHC 9.0.2)")
    return subprocess.run([ghc, "--make", "-fno-code", "-fforce-recomp", "-isrc", *WARNINGS,
                           *ROOTS], cwd=workspace, capture_output=True, text=True,
                          timeout=300, check=False)


def test_every_module_is_listed_in_the_cabal_file_and_checked() -> None:
    cabal = (EXAMPLE / "llm-service.cabal").read_text()
    listed = set(re.findall(r"^\s+(LLM\.\w+)\s*$", cabal, re.MULTILINE))
    on_disk = {"LLM." + p.stem for p in (EXAMPLE / "src" / "LLM").glob("*.hs")}
    assert listed == on_disk


def test_example_type_checks_without_warnings() -> None:
    result = ghc_check(EXAMPLE)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stdout + result.stderr
    assert result.stdout.count("Compiling") == 7


def test_new_llmkind_constructor_warns_at_the_documented_sites(tmp_path: Path) -> None:
    workspace = tmp_path / "llm-service"
    shutil.copytree(EXAMPLE, workspace)
    types = workspace / "src" / "LLM" / "Types.hs"
    text = types.read_text()
    declaration = "data LLMKind = Sonnet | Opus | Haiku\n"
    assert declaration in text
    types.write_text(text.replace(declaration, "data LLMKind = Sonnet | Opus | Haiku | Gemini\n"))
    result = ghc_check(workspace)
    assert result.returncode == 0, result.stderr
    warnings = re.findall(r"^(src/LLM/\w+\.hs):\d+:\d+: warning: \[-Wincomplete-patterns\]"
                          r"\n.*\n\s+In (?:an equation for ‘(\w+)’|a case alternative)",
                          result.stderr, re.MULTILINE)
    assert all("Gemini" in block for block in result.stderr.split("warning:")[1:])
    assert sorted(warnings) == sorted([
        ("src/LLM/Types.hs", "modelName"),
        ("src/LLM/Types.hs", ""),  # tierOf's \case
        ("src/LLM/Pricing.hs", "inputPrice"),
        ("src/LLM/Pricing.hs", ""),  # the case in outputPrice
        ("src/LLM/Report.hs", ""),  # label
        ("src/LLM/Config.hs", "defaultLimits"),
        ("src/LLM/Router.hs", ""),  # fits, where-bound in route
    ])
